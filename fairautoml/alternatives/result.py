"""What :func:`~fairautoml.alternatives.find_alternatives` returns: the best alternative,
every alternative compared, the incumbent's measures, the attribution of both models'
disparity, what was searched and the stopping statement; JSON-safe, and written as a
page and a JSON file by :meth:`AlternativesResult.save`."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.alternatives.feature_sets import groups_of
from fairautoml.alternatives.stopping import StoppingStatement
from fairautoml.explain import attribute_disparity
from fairautoml.measures.paired import LESS_DISCRIMINATORY, PairedComparison, Verdict
from fairautoml.values import json_safe

logger = logging.getLogger("fairautoml")

ATTRIBUTION_ROWS = 2000  # evidence rows the attribution reads at most (Shapley's cost)
NOTHING_TO_REDUCE = "nothing to reduce"


@dataclass
class Compared:
    """One alternative rebuilt and compared with the incumbent on the evidence rows."""

    row: pd.Series  # its leaderboard row (validation)
    evaluation: Any
    comparison: PairedComparison
    verdict: Verdict
    approval_rate: float
    feature_set: str = ""  # the features its search was given (feature_sets.ALL_ALLOWED, ...)
    # the cut-off set on its probabilities to approve the incumbent's share of the search's
    # rows (same_approval_rate=True; None: its own rule decides)
    cutoff: float | None = None

    @property
    def number(self) -> int:
        return int(self.row["trial"])

    def record(self, metric: str) -> dict[str, Any]:
        """Its row of ``alternatives_``."""
        c = self.comparison
        out: dict[str, Any] = {
            "trial": self.number,
            "feature_set": self.feature_set,
            "description": self.evaluation.result.candidate.describe(),
            "decision_rule": self.row.get("decision_rule"),
            f"validation_{metric}": float(self.row[metric]),
        }
        for d in c.disparities:
            out[f"validation_{d.name}"] = float(self.row[d.name])
        for d in (c.metric, *c.disparities):
            out[d.name] = d.alternative
            if d.name in c.plain_weighted:  # membership probabilities: shown, not decided on
                out[plain_weighted_key(d.name)] = c.plain_weighted[d.name]["alternative"]
            out[f"delta_{d.name}"] = d.difference
            out[f"delta_{d.name}_low"], out[f"delta_{d.name}_high"] = d.interval
        out["approval_rate"] = self.approval_rate
        out["cutoff"] = self.cutoff
        out["interval_level"] = c.level
        out["verdict"] = self.verdict.word
        out["reason"] = self.verdict.reason
        out["rows_needed"] = self.verdict.rows_needed
        return out


@dataclass
class AlternativesResult:
    """``best_``: the fitted alternative (a FairAutoML restricted to it: ``predict``,
    ``predict_proba``, ``save``), None when none is less discriminatory with confidence.
    ``verdict_``: "less discriminatory", "none found with confidence" or "nothing to
    reduce", with ``reason_``. ``alternatives_``: one row per alternative compared.
    ``incumbent_``: the incumbent on the evidence rows. ``attribution_``: each model's
    disparity by feature. ``search_``: what was searched (with ``feature_sets``: each
    search's features, the drivers it left out and its budget). ``stopping_``: the
    stopping statement. ``evidence_rows_``, ``search_rows_``: the positions of the rows
    each part used (disjoint). ``models_``: the model of each row of ``alternatives_``, as
    compared (a ``FairModel``; it reads its feature set's columns)."""

    best_: Any
    verdict_: str
    reason_: str
    alternatives_: pd.DataFrame
    incumbent_: dict[str, Any]
    attribution_: dict[str, Any]
    search_: dict[str, Any]
    stopping_: StoppingStatement | None
    evidence_rows_: np.ndarray
    search_rows_: np.ndarray
    settings_: dict[str, Any] = field(default_factory=dict)
    points_: pd.DataFrame | None = None  # validation points, for the plot
    models_: list[Any] = field(default_factory=list)

    @classmethod
    def nothing(
        cls, base: dict[str, Any], reason: str, incumbent: dict[str, Any]
    ) -> AlternativesResult:
        return cls(
            None, NOTHING_TO_REDUCE, reason, pd.DataFrame(), incumbent, {}, {}, None,
            base["evidence_rows"], base["search_rows"], _settings(base),
        )  # fmt: skip

    @classmethod
    def searched(
        cls, base: dict[str, Any], best: Any, compared: list[Compared],
        incumbent: dict[str, Any], attribution: dict[str, Any], searched: dict[str, Any],
        stopping: StoppingStatement, board: pd.DataFrame, eligible: pd.Series,
    ) -> AlternativesResult:  # fmt: skip
        table = pd.DataFrame([c.record(base["metric"]) for c in compared])
        found = next((c for c in compared if c.verdict.word == LESS_DISCRIMINATORY), None)
        if found is not None:
            word, reason = (
                LESS_DISCRIMINATORY,
                f"{found.row.get('learner')} on {found.feature_set}: {found.verdict.reason}",
            )
        elif compared:
            word = "none found with confidence"
            closest = compared[0]  # the least disparate on validation
            reason = (
                f"No alternative of the {len(compared)} compared was less discriminatory with "
                f"confidence (each one's reason is in the table). The least disparate on "
                f"validation, trial {closest.number} ({closest.feature_set}): "
                f"{closest.verdict.reason}"
            )
        else:
            from fairautoml.alternatives.messages import NO_CANDIDATES

            word = "none found with confidence"
            reason = NO_CANDIDATES.format(metric=base["metric"], floor=searched["metric_floor"])
        keys = [k.split(" ")[0] for k in base["constraints"]]
        columns = ["trial", "feature_set", "learner", "mitigator", "post", base["metric"], *keys]
        points = board.loc[board["status"] == "ok", [c for c in columns if c in board]].copy()
        points["eligible"] = eligible[board["status"] == "ok"].to_numpy()
        return cls(
            best, word, reason, table, incumbent, attribution, searched, stopping,
            base["evidence_rows"], base["search_rows"], _settings(base), points,
            [c.evaluation.model for c in compared],
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Everything above, JSON-safe (the model itself as its description)."""
        best = None
        if self.best_ is not None:
            cfg = self.best_.best_config_
            best = {
                "trial": cfg.get("trial"), "model": cfg.get("model"),
                "features": [str(c) for c in self.best_.feature_names_in_],
            }  # fmt: skip
            table = self.alternatives_
            if "feature_set" in table:
                found = table.loc[table["verdict"] == LESS_DISCRIMINATORY, "feature_set"]
                best["feature_set"] = found.iloc[0] if len(found) else None
            if "cutoff" in table:
                cut = table.loc[table["verdict"] == LESS_DISCRIMINATORY, "cutoff"]
                best["cutoff"] = cut.iloc[0] if len(cut) else None
        return _to_json({
            "verdict": self.verdict_, "reason": self.reason_, "best": best,
            "settings": self.settings_, "incumbent": self.incumbent_,
            "alternatives": self.alternatives_.to_dict(orient="records"),
            "attribution": self.attribution_, "search": self.search_,
            "stopping": None if self.stopping_ is None else self.stopping_.to_dict(),
            "rows": {"evidence": len(self.evidence_rows_), "search": len(self.search_rows_)},
        })  # fmt: skip

    def save(self, directory: str | Path) -> Path:
        """Write ``alternatives.json`` and ``alternatives.html`` (and ``alternative.skops``,
        the best alternative, when there is one) to ``directory``; return it."""
        from fairautoml.alternatives.page import write_page

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "alternatives.json").write_text(json.dumps(self.to_dict(), indent=2))
        write_page(self, out / "alternatives.html")
        if self.best_ is not None:
            self.best_.save(out / "alternative.skops")
        return out


def _settings(base: dict[str, Any]) -> dict[str, Any]:
    keep = ("level", "tolerance", "metric", "positive", "constraints", "group_probabilities")
    return {k: base[k] for k in keep if k in base}


def plain_weighted_key(key: str) -> str:
    """Where a measure's plain weighted value is kept beside the regression's (membership
    probabilities): in ``incumbent_`` and ``alternatives_``."""
    return f"{key} (plain weighted)"


def explain_both(
    held: Any, best: Any, frame: pd.DataFrame, X_evidence: pd.DataFrame,
    evidence_rows: np.ndarray, sens: pd.DataFrame | None, random_state: Any,
    probabilities: pd.DataFrame | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The disparity attribution of the incumbent (a model only) and of the best
    alternative on (at most :data:`ATTRIBUTION_ROWS` of) the evidence rows, by the groups
    ``sens`` or by each row's membership ``probabilities``."""
    rng = np.random.default_rng(0 if random_state is None else random_state)
    at = np.sort(rng.permutation(len(evidence_rows))[:ATTRIBUTION_ROWS])
    groups = groups_of(sens, probabilities, evidence_rows[at])
    out: dict[str, Any] = {}
    models = {"incumbent": held.model, "alternative": best}
    for name, model in models.items():
        if model is None:
            out[name] = (
                None
                if name == "alternative" or held.kind == "model"
                else {"note": "the incumbent was given as scores: there is no model to explain"}
            )
            continue
        rows = frame.iloc[evidence_rows[at]].reset_index(drop=True)
        if name == "alternative":
            rows = X_evidence.iloc[at].reset_index(drop=True)
        elif getattr(model, "feature_names_in_", None) is not None and not hasattr(
            model, "best_config_"
        ):
            rows = rows[[str(c) for c in model.feature_names_in_]]
        try:
            found = attribute_disparity(model, rows, **groups, random_state=0)
            out[name] = found.to_dict()
        except Exception as exc:  # an add-on: the verdict stands without it
            logger.warning("disparity attribution of the %s failed: %s", name, exc)
            out[name] = {"note": f"not computed ({type(exc).__name__}: {exc})"}
    return out


def _to_json(value: Any) -> Any:
    """``value`` for JSON, anything else (a path, a type) as its text."""
    return json_safe(value, str)
