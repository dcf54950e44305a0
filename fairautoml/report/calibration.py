"""The report's section on calibration within groups: whether the pick's scores mean the
same in every group, with intervals and reliability curves per group.

It reads the pick's probabilities on the rows its claim rests on where the fit kept them
(``evidence_["scores"]``: a pick without a decision rule, or one whose rule calibrates);
otherwise, given the data, the scoring model's scores before its decision rule on the
validation rows (a threshold rule's output is a decision, not a probability)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from fairautoml.audit.calibration import calibration_html
from fairautoml.measures.calibration import group_calibration
from fairautoml.report.trend import shown_groups


def calibration_section(automl: Any, ctx: Any, why: str) -> str:
    model, pick = automl.best_estimator_, automl.fit_summary_
    if not model.task.cut_off:
        return "<p>(Not shown: calibration is measured for yes/no targets.)</p>"
    labels = list(model.group_encoder.labels)
    evidence = getattr(automl, "evidence_", None) or {}
    if "scores" in evidence:
        g = np.asarray(evidence["groups"], dtype=np.int64)
        g, labels = _display_groups(model.group_encoder, g, labels)
        cal = group_calibration(
            np.asarray(evidence["labels"]), np.asarray(evidence["scores"], np.float64), g,
            labels, level=pick.interval_level, random_state=automl.random_state,
            sample_weight=evidence.get("weight"),
        )  # fmt: skip
        said = f"the {int((g >= 0).sum()):,} rows the claim rests on (the pick's probabilities)"
        return calibration_html(cal, said)
    if ctx is None:
        return f"<p>(Not shown: {html.escape(why)}.)</p>"
    X_val, y_val, g_val = ctx.val
    known = g_val >= 0
    scores = model.scoring.predict_proba(X_val, g_val if model.scoring.needs_group else None)
    shown, labels = _display_groups(model.group_encoder, g_val[known], labels)
    cal = group_calibration(
        y_val[known], np.asarray(scores)[known], shown, labels,
        level=pick.interval_level, random_state=automl.random_state,
        sample_weight=None if ctx.val_weight is None else ctx.val_weight[known],
    )  # fmt: skip
    said = (
        f"the {int(known.sum()):,} validation rows (the scoring model's scores, before its "
        "decision rule)"
    )
    return calibration_html(cal, said)


def _display_groups(
    encoder: Any, codes: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, list[str]]:
    """The rows' groups as the per-group table shows them: a numeric attribute read without
    bins in its display bins (:func:`fairautoml.report.trend.shown_groups`), not one group
    per value; rows without a group stay -1."""
    known = codes >= 0
    if not encoder.fitted_levels or not known.any():
        return codes, labels
    shown, order = shown_groups(encoder, codes[known])
    assert order is not None
    index = {label: i for i, label in enumerate(order)}
    out = np.full(codes.shape, -1, dtype=np.int64)
    out[known] = [index[label] for label in shown]
    return out, order
