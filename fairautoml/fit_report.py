"""The page a fit leaves behind: what was asked, what was found, in plain words.

``fairautoml fit --out DIR`` writes ``DIR/report.html`` beside the leaderboard and the
model: one self-contained file (the trade-off plot is embedded) that a reviewer can open
without Python. The verdict reads the same fields as the CLI's summary
(:func:`pick_summary`), and its caveat is the warning the fit gave
(:func:`~fairautoml.selection.pick_caveat`).
"""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path
from typing import Any

from fairautoml.exceptions import ConfigurationError
from fairautoml.metrics import get_metric
from fairautoml.plots import plot_pareto
from fairautoml.selection import pick_caveat

TIER_MEANING = {
    "robust": "meets every constraint on the validation rows, at the unfavourable end of "
    "its {level:.0%} bootstrap interval too, and tells the classes apart usefully",
    "feasible": "meets every constraint on the validation rows, but not at the "
    "unfavourable end of its interval: the fairness claim is not confirmed with confidence",
    "weak": "meets the constraints but barely tells the classes apart",
    "constant": "predicts (nearly) one class for everyone",
    "infeasible": "misses a constraint on the validation rows: no candidate met them all",
}
TOP_ROWS = 10
BOARD_COLUMNS = ["trial", "learner", "mitigator", "post", "tier"]


def pick_summary(automl: Any) -> list[str]:
    """The chosen model in plain lines: model, metric, each constraint with its interval,
    its tier in words (shared by ``fairautoml fit`` and the report page)."""
    cfg, metric = automl.best_config_, automl.metric
    lines = [
        f"chosen model: {cfg['model']} (trial {cfg['trial']} of {len(automl.leaderboard_)})",
        f"validation {metric}: {cfg[metric]:.4f}",
    ]
    for c in automl.constraints_:
        value = cfg["constraint_values"][c.metric]
        status = "ok" if c.violation(value) <= 0 else "VIOLATED"
        low, high = cfg["constraint_intervals"].get(c.metric, (float("nan"),) * 2)
        lines.append(
            f"validation {c.metric}: {value:.4f} (bound {c.op} {c.bound:g}: {status}; "
            f"{cfg['interval_level']:.0%} interval [{low:.4f}, {high:.4f}])"
        )
    meaning = TIER_MEANING.get(cfg["tier"], "").format(level=cfg["interval_level"])
    lines.append(f"pick tier: {cfg['tier']}: {meaning}" if meaning else f"tier: {cfg['tier']}")
    positive = cfg.get("positive_label")
    lines.append(
        f"balanced accuracy {cfg['balanced_accuracy']:.3f}, "
        f"selection rate {cfg['selection_rate']:.3f} (validation"
        + (
            ""
            if positive is None
            else f"; the share predicted {positive!r}, the favourable outcome"
        )
        + ")"
    )
    needs = "needs" if cfg["needs_group_at_predict"] else "does not need"
    lines.append(f"it {needs} the sensitive attribute at predict time")
    return lines


def write_fit_report(automl: Any, path: str | Path, *, source: str | None = None) -> Path:
    """Write the fit's report page to ``path`` (HTML, self-contained)."""
    path = Path(path)
    board = automl.leaderboard_
    chosen = board[board["chosen"]].iloc[0]
    caveat = pick_caveat(chosen, automl.constraints_)
    trained = int((board["post"] == "none").sum())
    failed = board[board["status"] != "ok"]
    asked = ", ".join(map(str, automl.constraints_)) or "no constraint"
    budget = (
        f"{automl.time_budget:g} s" if automl.time_budget is not None else "no time limit"
    ) + (f", at most {automl.n_trials} trained models" if automl.n_trials else "")
    parts = [
        f"<h1>fairautoml: {html.escape(str(automl.best_config_['model']))}</h1>",
        "<h2>What was asked</h2>",
        f"<p>The model with the best validation {html.escape(automl.metric)} that meets "
        f"{html.escape(asked)}"
        + (f", on {html.escape(source)}" if source else "")
        + f"; {budget}; controller {html.escape(str(automl.controller))}.</p>",
        "<h2>What was found</h2>",
        "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in pick_summary(automl)) + "</ul>",
    ]
    if caveat is not None:
        category, message = caveat
        parts.append(f'<p class="caveat"><b>{category.__name__}</b>: {html.escape(message)}</p>')
    parts += [
        "<p>Every number here is measured on validation rows the models were not trained "
        "on; the interval is how much it may move on new rows of the same population.</p>",
        "<h2>The trade-off</h2>",
        _plot(automl),
        "<h2>The search</h2>",
        f"<p>{trained} models trained, {len(board)} points scored (each model raw and "
        f"post-processed), {len(failed)} failed, in {automl.fit_time_:.1f} s; "
        f"hypervolume of the Pareto front {automl.hypervolume_:.4f}.</p>",
    ]
    if not failed.empty:
        errors = failed["error"].dropna().astype(str).value_counts().head(3)
        parts.append(
            "<p>Most frequent errors:</p><ul>"
            + "".join(f"<li>{n} &times; {html.escape(e)}</li>" for e, n in errors.items())
            + "</ul>"
        )
    columns = [*BOARD_COLUMNS, automl.metric, *(c.metric for c in automl.constraints_)]
    top = board.head(TOP_ROWS)[[c for c in columns if c in board.columns]]
    parts += [
        f"<h2>Leaderboard: the first {len(top)} rows, in the pick's order</h2>",
        top.to_html(index=False, float_format=lambda v: f"{v:.4f}", border=0),
        "<p>All rows: <code>leaderboard.csv</code>; the model: <code>model.joblib</code> "
        "(<code>fairautoml predict model.joblib DATA.csv --out predictions.csv</code>).</p>",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_PAGE.format(title="fairautoml report", body="\n".join(parts)))
    return path


def _plot(automl: Any) -> str:
    """The trade-off plot as an embedded PNG, or a line saying why there is none."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            png = plot_pareto(
                automl.leaderboard_,
                automl.constraints_,
                get_metric(automl.metric),
                Path(tmp) / "pareto.png",
            )
        except ConfigurationError as exc:
            return f"<p>(no plot: {html.escape(str(exc))})</p>"
        data = base64.b64encode(png.read_bytes()).decode()
    return f'<img alt="accuracy against each constraint" src="data:image/png;base64,{data}">'


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; line-height: 1.4; }}
.caveat {{ background: #fff3cd; padding: 0.6em; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 0.2em 0.6em; text-align: right; }}
img {{ max-width: 100%; }}
</style></head>
<body>
{body}
</body></html>
"""

__all__ = ["pick_summary", "write_fit_report"]
