"""Why a model scores as it does: per-row, per-column contributions to its score on the
margin (:mod:`.contributions`, by the methods of :mod:`.methods`), the gap in score
between groups split by feature (:mod:`.attribution`), and the reasons for each decision
(:mod:`.reasons`).

Works on a fair model (``FairModel.contributions`` and ``FairModel.reasons`` call it) and
on any fitted scikit-learn model with ``predict_proba`` (a lender's own model).

May import ``mitigators``, ``learners``, ``tasks``, ``measures``, ``data`` and the base.
"""

from __future__ import annotations

from fairautoml.explain.attribution import (
    DisparityAttribution,
    attribute_disparity,
    disparity_attribution,
)
from fairautoml.explain.contributions import (
    Contributions,
    contributions,
    estimator_contributions,
    fair_model_contributions,
)
from fairautoml.explain.reasons import check_k, phrase, reasons, reasons_long, reasons_table

__all__ = [
    "Contributions",
    "DisparityAttribution",
    "attribute_disparity",
    "check_k",
    "contributions",
    "disparity_attribution",
    "estimator_contributions",
    "fair_model_contributions",
    "phrase",
    "reasons",
    "reasons_long",
    "reasons_table",
]
