"""``alternatives.html``: one self-contained page (no script, no external file) of an
:class:`~fairautoml.alternatives.result.AlternativesResult`: the verdict, the incumbent and
the alternatives on a metric-vs-disparity plot (inline SVG), the alternatives with their
paired intervals, the attribution, what was searched, the stopping statement, and what
the search does and does not prove."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from fairautoml.report.messages import PROBABILITIES_ASSUMPTIONS

WHAT_IT_PROVES = (
    "What this shows: each alternative listed was trained and chosen without the evidence "
    "rows, and its differences from the incumbent on those rows carry paired bootstrap "
    "intervals at the level stated (corrected for the number of alternatives compared). "
    "An alternative called less discriminatory improves every fairness measure with that "
    "confidence and loses at most the tolerance on the metric."
)
WHAT_IT_DOES_NOT = (
    "What it does not prove: that no better alternative exists (the search covered the "
    "learners, mitigations, feature sets and time listed, nothing more); that the "
    "alternative serves every business need (only the metric, the required and forbidden "
    "features and, if asked, the approval rate were held); "
    "that the differences hold on future applicants whose mix differs from these rows; or "
    "anything legal. If the incumbent was trained on these rows, its measures here are "
    "optimistic, which makes the comparison harder for the alternatives, not easier."
)
PROBABILITIES_COMPARED = (
    "The groups ({groups}) were given as each row's probability of each group. Every "
    "disparity, of the incumbent and of each alternative, is the regression estimate (the "
    "decisions regressed on the probabilities; both models on the same resampled evidence "
    "rows), which decides; the columns marked (plain weighted) are shown beside it. The "
    "attribution by feature reads each group's mean contribution by the same regression."
)
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em "
    ".5em;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}"
    ".verdict{font-size:1.3em;font-weight:bold}"
)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _n(value: Any, digits: int = 4) -> str:
    """A number as a reader wants it: a count without decimals, a rate with ``digits``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return _e(value)
    if math.isnan(x):
        return ""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    return f"{x:.{digits}f}"


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='l'>{_e(r.get(c, ''))}</td>" if isinstance(r.get(c), str)
            else f"<td>{_n(r.get(c))}</td>" for c in columns
        ) + "</tr>"
        for r in rows
    )  # fmt: skip
    return f"<table><tr>{head}</tr>{body}</table>"


def plot_svg(result: Any, width: int = 640, height: int = 400) -> str:
    """Validation points (grey; at the floor: blue), the incumbent on the search rows (red)
    and the alternatives compared on the evidence rows (green: less discriminatory)."""
    metric = result.settings_["metric"]
    key = result.settings_["constraints"][0].split(" ")[0]
    points = result.points_
    if points is None or points.empty:
        return ""
    marks: list[tuple[float, float, str, str]] = [
        (float(r[key]), float(r[metric]), "#4a7bd0" if r["eligible"] else "#bbb", "validation")
        for _, r in points.iterrows()
    ]
    inc = result.search_.get("incumbent_search_values", {})
    if key in inc:
        marks.append((inc[key], result.search_["incumbent_validation_metric"], "#d33",
                      "incumbent (search rows)"))  # fmt: skip
    if key in result.incumbent_:
        marks.append((result.incumbent_[key], result.incumbent_[metric], "#800",
                      "incumbent (evidence rows)"))  # fmt: skip
    for r in result.alternatives_.to_dict(orient="records"):
        colour = "#2a2" if r["verdict"] == "less discriminatory" else "#e90"
        marks.append((r[key], r[metric], colour, f"trial {r['trial']} (evidence rows)"))
    marks = [m for m in marks if math.isfinite(m[0]) and math.isfinite(m[1])]
    xs, ys = [m[0] for m in marks], [m[1] for m in marks]
    x0, x1 = min(xs), max(xs) + 1e-9
    y0, y1 = min(ys), max(ys) + 1e-9
    pad = 50

    def at(x: float, y: float) -> tuple[float, float]:
        return (pad + (x - x0) / (x1 - x0) * (width - 2 * pad),
                height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad))  # fmt: skip

    dots = []
    for x, y, colour, label in marks:
        px, py = at(x, y)
        size = 3 if label == "validation" else 6
        dots.append(
            f"<circle cx='{px:.1f}' cy='{py:.1f}' r='{size}' fill='{colour}'>"
            f"<title>{_e(label)}: {key} {x:.4f}, {metric} {y:.4f}</title></circle>"
        )
    axes = (
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' "
        f"stroke='#444'/><line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='#444'/>"
        f"<text x='{width / 2}' y='{height - 10}' text-anchor='middle'>{_e(key)} "
        f"({_n(x0)} to {_n(x1)})</text><text x='12' y='{height / 2}' "
        f"transform='rotate(-90 12 {height / 2})' text-anchor='middle'>{_e(metric)} "
        f"({_n(y0)} to {_n(y1)})</text>"
    )
    legend = (
        "<p>Grey: validation points of the search; blue: those at the metric floor; red: the "
        "incumbent on the search rows; dark red: the incumbent on the evidence rows; green / "
        "orange: alternatives compared on the evidence rows (less discriminatory / not "
        "shown to be). Hover a point for its values.</p>"
    )
    return (f"<svg width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"
            f"{axes}{''.join(dots)}</svg>{legend}")  # fmt: skip


TABLES = ("feature_sets", "drivers", "feature_set_note")  # search_ keys with tables of their own


def _feature_sets(searched: dict[str, Any]) -> list[str]:
    """The feature sets searched (each with the drivers it left out and its share of the
    budget) and the incumbent's drivers they were chosen from."""
    sets = [
        {**s, "dropped": ", ".join(s["dropped"]) or "(none)", "features": len(s["features"])}
        for s in searched.get("feature_sets", [])
    ]
    if not sets:
        return []
    columns = ["name", "dropped", "features", "points", "trials_ok", "time_budget",
               "n_trials", "seconds"]  # fmt: skip
    if any(s.get("note") for s in sets):  # a search left out with no trial done
        columns.append("note")
    parts = ["<h3>Feature sets searched</h3>", _table(sets, columns)]
    required = ", ".join(searched.get("required_features", [])) or "(none)"
    forbidden = ", ".join(searched.get("forbidden_features", [])) or "(none)"
    parts.append(f"<p>Required features (in every set): {_e(required)}; forbidden features "
                 f"(in none): {_e(forbidden)}.</p>")  # fmt: skip
    if searched.get("drivers"):
        parts.append(
            "<p>The incumbent's features that widen its gap in score, on the search rows "
            "(the feature sets leave out the first, then the first two, never a required "
            "one):</p>"
        )
        parts.append(_table(searched["drivers"], ["feature", "gap", "low", "high", "share"]))
    if searched.get("feature_set_note"):
        parts.append(f"<p>{_e(searched['feature_set_note'])}</p>")
    return parts


def _probabilities(record: dict[str, Any] | None) -> list[str]:
    """What the disparities rest on when the groups were membership probabilities: the
    estimator, its assumptions, the plain weighted values shown beside it."""
    if not record:
        return []
    assumptions = " ".join(
        f"({i}) {a}" for i, a in enumerate(record["assumptions"], start=1)
    )  # fmt: skip
    return [
        "<h2>Groups as membership probabilities</h2>",
        f"<p>{_e(PROBABILITIES_COMPARED.format(groups=', '.join(record['groups'])))}</p>",
        f"<p>{_e(PROBABILITIES_ASSUMPTIONS.format(assumptions=assumptions))}</p>",
        f"<p>{_e(record['weighted_note'])}</p>",
    ]


def render(result: Any) -> str:
    """The page's HTML."""
    s = result.settings_
    parts = [
        f"<h1>Less discriminatory alternatives</h1><p class='verdict'>{_e(result.verdict_)}</p>",
        f"<p>{_e(result.reason_)}</p>",
        f"<p>Metric: {_e(s['metric'])}; tolerance {_e(s['tolerance'])}; fairness measures: "
        f"{_e(', '.join(s['constraints']))}; intervals at {_e(s['level'])} overall; "
        f"{len(result.evidence_rows_)} evidence rows, never seen by the search; "
        f"{len(result.search_rows_)} search rows.</p>",
        *_probabilities(s.get("group_probabilities")),
        "<h2>The incumbent and the alternatives</h2>",
        plot_svg(result),
        "<h2>The incumbent on the evidence rows</h2>",
        _table([result.incumbent_], list(result.incumbent_)),
        "<h2>Alternatives compared (paired differences, alternative minus incumbent)</h2>",
    ]
    rows = result.alternatives_.to_dict(orient="records")
    columns = [c for c in result.alternatives_.columns if c != "reason"]
    parts.append(_table(rows, columns))
    parts.extend(
        f"<p>Trial {_e(r['trial'])} ({_e(r.get('feature_set', ''))}): {_e(r['reason'])}</p>"
        for r in rows
    )
    parts.append("<h2>Why the models are disparate: attribution by feature</h2>")
    for name, found in (result.attribution_ or {}).items():
        parts.append(f"<h3>{_e(name)}</h3>")
        if not found or "features" not in found:
            parts.append(f"<p>{_e((found or {}).get('note', 'not computed'))}</p>")
            continue
        parts.append(
            f"<p>Gap in mean score between {_e(' and '.join(found['groups']))}: "
            f"{_n(found['gap'])} [{_n(found['gap_interval'][0])}, "
            f"{_n(found['gap_interval'][1])}] ({_e(found['scale'])}).</p>"
        )
        parts.append(_table(found["features"][:15], ["feature", "gap", "low", "high", "share"]))
    parts.append("<h2>What was searched</h2>")
    shown = {k: v for k, v in result.search_.items() if k not in TABLES and not isinstance(v, dict)}
    shown = {k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in shown.items()}
    parts.append(_table([shown], list(shown)))
    parts.extend(_feature_sets(result.search_))
    parts.append("<h2>Stopping statement</h2>")
    stop = result.stopping_
    parts.append(f"<p>{_e(stop.statement if stop else 'No search was run.')}</p>")
    parts.append("<h2>What the search does and does not prove</h2>")
    parts.append(f"<p>{_e(WHAT_IT_PROVES)}</p><p>{_e(WHAT_IT_DOES_NOT)}</p>")
    body = "\n".join(parts)
    head = "<meta charset='utf-8'><title>Less discriminatory alternatives</title>"
    return (
        f"<!doctype html><html><head>{head}<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def write_page(result: Any, path: Path) -> Path:
    path.write_text(render(result))
    return path
