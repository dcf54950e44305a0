"""The files an audit leaves behind: ``audit.html`` for people (one self-contained page,
the verdict first) and ``audit.json`` for machines (:meth:`Audit.to_dict`)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from fairautoml.audit.calibration import calibration_html
from fairautoml.audit.constraint_verdicts import CANNOT_TELL, HOLDS, VIOLATED
from fairautoml.audit.verdicts import Audit

VERDICT_WORDS = {
    HOLDS: "Every constraint holds on these rows, at the unfavourable end of its interval.",
    VIOLATED: "A constraint is violated on these rows, with confidence: even the favourable "
    "end of its interval is outside the bound.",
    CANNOT_TELL: "No constraint is violated with confidence, but not every one can be shown "
    "to hold: the rows are too few, or the labels are missing (see each constraint).",
}
COLOURS = {HOLDS: "#eef5ee", VIOLATED: "#f8d7da", CANNOT_TELL: "#fff3cd"}


def write_audit(result: Audit, out: str | Path) -> tuple[Path, Path]:
    """Write ``out/audit.html`` and ``out/audit.json``; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    page, data = out / "audit.html", out / "audit.json"
    data.write_text(json.dumps(result.to_dict(), indent=2))
    page.write_text(audit_html(result))
    return page, data


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _interval(interval: Any) -> str:
    if not interval:
        return "&ndash;"
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def _constraints_section(result: Audit) -> list[str]:
    rows = []
    for c in result.constraints:
        detail = c.get("reason") or (
            f"about {c['rows_to_tell']:,} rows would tell" if c.get("rows_to_tell") else ""
        )
        rows.append(
            f"<tr><th>{html.escape(c['constraint'])}</th><td>{_number(c['value'])}</td>"
            f"<td>{_interval(c['interval'])}</td><td>{_number(c['claimed'])} "
            f"{_interval(c.get('claimed_interval'))}</td>"
            f"<td style='background:{COLOURS[c['verdict']]}'>{c['verdict']}</td>"
            f"<td class='left'>{html.escape(detail)}</td></tr>"
        )
    return [
        "<h2>Constraints</h2>",
        f"<table><tr><th>constraint</th><th>on these rows</th><th>{result.level:.0%} interval"
        "</th><th>claimed on validation</th><th>verdict</th><th></th></tr>",
        *rows,
        "</table>",
    ]


HEADINGS = {  # a column of the groups table -> its heading (else its name in words)
    "group": "category",
    "count": "rows",
    "class_rows": "rows of the class",
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
}
FLAG = "below_four_fifths"  # shades the impact ratio; not a column of its own


def _heading(column: str) -> str:
    return HEADINGS.get(column, column.replace("_", " "))


def _groups_section(result: Audit) -> list[str]:
    """Any task's table: the index (group, and class for several classes), the counts, each
    value with its interval (``<column>_low`` / ``_high``), then the impact ratio if any."""
    table = result.groups
    columns = list(table.columns)
    ranged = [c for c in columns if f"{c}_low" in columns and f"{c}_high" in columns]
    bounds = {f"{c}_{end}" for c in ranged for end in ("low", "high")}
    counts = [c for c in columns if c not in ranged and c not in bounds and c != FLAG]
    ratio = [c for c in counts if c == "impact_ratio"]
    counts = [c for c in counts if c != "impact_ratio"]
    keys = [name or "group" for name in table.index.names]
    head = "".join(f"<th>{html.escape(_heading(k))}</th>" for k in keys)
    head += "".join(f"<th>{html.escape(_heading(c))}</th>" for c in counts)
    head += "".join(f"<th>{html.escape(_heading(r))}</th>" for r in [*ranged, *ratio])
    rows = []
    for key, row in table.iterrows():
        index = key if isinstance(key, tuple) else (key,)
        label = "".join(f"<th>{html.escape(str(k))}</th>" for k in index)
        cells = "".join(f"<td>{_count(row[c])}</td>" for c in counts)
        cells += "".join(
            f"<td>{row[r]:.3f} <span class='ci'>[{row[r + '_low']:.3f}, "
            f"{row[r + '_high']:.3f}]</span></td>"
            for r in ranged
        )
        if ratio:
            flag = " style='background:#f8d7da'" if row.get(FLAG, False) else ""
            cells += f"<td{flag}>{row['impact_ratio']:.3f}</td>"
        rows.append(f"<tr>{label}{cells}</tr>")
    return [
        "<h2>Groups</h2>",
        f"<p>{result.groups_caption}</p>",
        f"<table><tr>{head}</tr>",
        *rows,
        "</table>",
    ]


def _calibration_section(result: Audit) -> list[str]:
    if result.calibration is None:
        return []
    rows = f"the {result.n_rows:,} audited rows (the model's probabilities)"
    return ["<h2>Calibration within groups</h2>", calibration_html(result.calibration, rows)]


def _count(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else _number(number)


RATES_UNCHECKED = "The model's group rates were not compared with validation (see the notes)."


def _drift_section(result: Audit) -> list[str]:
    drift = result.drift
    if "alpha" not in drift:  # no reference kept at fit time: nothing was tested
        return ["<h2>Drift</h2>", "<p>Not checked (see the notes).</p>"]
    changed = drift["fairness_changed"]
    moved = drift.get("features_moved", [])
    parts = [
        "<h2>Drift since the fit</h2>",
        "<p>"
        + (
            RATES_UNCHECKED
            if changed is None
            else "The model's group rates changed beyond noise since validation."
            if changed
            else "The model's group rates did not change beyond noise since validation."
        )
        + f" Two-sample tests; * marks a change beyond noise at a {drift['alpha']:.0%} false "
        "alarm rate over all the tests of its table.</p>",
        "<p>"
        + (
            f"Features whose distribution moved: {html.escape(', '.join(moved))}."
            if moved
            else "No feature's distribution moved beyond noise."
        )
        + "</p>",
    ]
    if changed is not None:
        parts += _rates_table(drift["rates"])
    parts.append(
        "<h3>Feature distributions, fit rows against these (chi-square test; PSI: population "
        "stability index), the most changed first</h3>"
        "<table><tr><th>feature</th><th>group</th><th>PSI</th><th>p-value</th></tr>"
        + "".join(
            f"<tr><td>{html.escape(f['feature'])}</td><td>{html.escape(f['group'])}</td>"
            f"<td>{f['statistic']:.3f}</td><td>{f['p_value']:.3g}"
            f"{' *' if f['changed'] else ''}</td></tr>"
            for f in sorted(drift["features"], key=lambda f: f["p_value"])
        )
        + "</table>"
    )
    return parts


def _rates_table(rates: list[dict[str, Any]]) -> list[str]:
    """The rate tests; a class column when the rates are per class."""
    per_class = any("class" in r for r in rates)
    parts = [
        "<h3>The group rates the constraints compare (Fisher's exact test)</h3>",
        "<table><tr><th>rate</th><th>group</th>"
        + ("<th>class</th>" if per_class else "")
        + "<th>validation</th><th>these rows</th><th>p-value</th></tr>",
    ]
    for r in rates:
        cls = f"<td>{html.escape(str(r.get('class', '')))}</td>" if per_class else ""
        parts.append(
            f"<tr><td>{r['rate']}</td><td>{html.escape(r['group'])}</td>{cls}"
            f"<td>{r['fit']:.3f}</td><td>{r['new']:.3f}</td>"
            f"<td>{r['p_value']:.3g}{' *' if r['changed'] else ''}</td></tr>"
        )
    parts.append("</table>")
    return parts


def audit_html(result: Audit) -> str:
    """The page: verdict, constraints, groups, drift, notes."""
    body = [
        "<h1>Audit of a fairautoml model</h1>",
        f"<p class='verdict' style='background:{COLOURS[result.verdict]}'>"
        f"<b>{result.verdict}</b> ({html.escape(result.word)}, in the fit's words): "
        f"{VERDICT_WORDS[result.verdict]}</p>",
        f"<p>Model: {html.escape(result.model)}; {result.n_rows:,} rows"
        f"{'' if result.has_labels else ', without labels'}.</p>",
        *_constraints_section(result),
        *_groups_section(result),
        *_calibration_section(result),
        *_drift_section(result),
    ]
    if result.notes:
        body += ["<h2>Notes</h2><ul>", *(f"<li>{html.escape(n)}</li>" for n in result.notes)]
        body.append("</ul>")
    return PAGE.format(body="\n".join(body))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>fairautoml audit</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; line-height: 1.4; }}
.verdict {{ font-size: 1.15em; padding: 0.6em; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
td, th {{ padding: 0.2em 0.6em; text-align: right; border-bottom: 1px solid #ddd; }}
td.left {{ text-align: left; }}
.ci {{ color: #666; font-size: 0.9em; }}
</style></head>
<body>
{body}
</body></html>
"""
