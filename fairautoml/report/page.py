"""The page a fit leaves behind: what was asked, what was found, in plain words.

``fairautoml fit --out DIR`` writes ``DIR/report.html`` beside the leaderboard and the
model: one self-contained file (the trade-off plot is embedded) that a reviewer can open
without Python. The page opens with the verdict card
(:mod:`fairautoml.report.card`), the same object the CLI prints; the details below read the
same fields as the CLI's summary (:func:`pick_summary`), and the caveat is the warning the
fit gave (:func:`~fairautoml.study.pick.pick_caveat`).
"""

from __future__ import annotations

import base64
import html
import shlex
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fairautoml.estimators.parameters import BY_NAME, FLAGGED
from fairautoml.estimators.params import advice_of
from fairautoml.estimators.summary import FitSummary
from fairautoml.exceptions import ConfigurationError
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import available_mitigators
from fairautoml.report.calibration import calibration_section
from fairautoml.report.card import compute_verdict, robust_shift_words, verdict_html
from fairautoml.report.evidence import context, data_name, data_section, groups_section
from fairautoml.report.messages import PROBABILITIES_ASSUMPTIONS, PROBABILITIES_LINE
from fairautoml.report.plots import plot_pareto
from fairautoml.report.policy_costs import POLICY_WORDS, best_by_policy
from fairautoml.search.confirm import ALL_TRAINING_ROWS, CROSS_VALIDATED, HOW
from fairautoml.study.pick import pick_caveat
from fairautoml.tasks import get_task

TIER_MEANING = {
    "robust": "meets every constraint on the validation rows, at the unfavourable end of "
    "its {level:.0%} interval too, and is useful (not near-constant)",
    "feasible": "meets every constraint on the validation rows, but not at the "
    "unfavourable end of its interval: the fairness claim is not confirmed with confidence",
    "weak": "meets the constraints but is near-constant: it barely tells rows apart",
    "constant": "predicts one class (or one amount) for everyone",
    "infeasible": "misses a constraint on the validation rows: no candidate met them all",
}
TOP_ROWS = 10
BOARD_COLUMNS = [
    "trial", "learner", "mitigator", "post", "decision_rule", "randomized", "confirmed", "tier",
]  # fmt: skip


def pick_summary(automl: Any) -> list[str]:
    """The chosen model in plain lines: model, metric, each constraint with its interval,
    its tier in words (shared by ``fairautoml fit`` and the report page)."""
    pick, metric = automl.fit_summary_, automl.metric_
    lines = [
        f"chosen model: {pick.model} (trial {pick.trial} of {len(automl.leaderboard_)})",
        f"validation {metric}: {pick.score:.4f}",
    ]
    for c in automl.constraints_:
        value = pick.constraint_values[c.key]
        status = "ok" if c.violation(value) <= 0 else "VIOLATED"
        low, high = pick.constraint_intervals.get(c.key, (float("nan"),) * 2)
        lines.append(
            f"validation {c.key}: {value:.4f} (bound {c.op} {c.bound:g}: {status}; "
            f"{pick.interval_level:.0%} interval [{low:.4f}, {high:.4f}])"
        )
    meaning = TIER_MEANING.get(pick.tier, "").format(level=pick.interval_level)
    lines.append(f"pick tier: {pick.tier}: {meaning}" if meaning else f"tier: {pick.tier}")
    lines.append(get_task(pick.task).diagnostics_line(automl.best_config_))
    if pick.confirmed:
        how = pick.confirmation or CROSS_VALIDATED
        lines.append(f"confirmed after the search: {HOW[how]}")
    needs = "needs" if pick.needs_group_at_predict else "does not need"
    lines.append(f"it {needs} the sensitive attribute at predict time")
    weight = pick.sample_weight
    if weight:
        column = f"column {weight['column']!r}" if weight.get("column") else "sample_weight"
        lines.append(
            f"weighted fit: each row counts its weight from {column} (total "
            f"{weight['total']:,.6g} over {weight['rows']:,} rows) in training, the metric, "
            "the constraint values, their intervals and post-processing; the per-group "
            "table and the other fairness gaps of the report count rows unweighted"
        )
    if pick.shift:
        lines.append(target_population_line(pick.shift))
    if pick.group_probabilities:
        lines += probabilities_lines(pick.group_probabilities)
    return lines


def probabilities_lines(record: Mapping[str, Any]) -> list[str]:
    """What a fit given membership probabilities says of its numbers: how they were
    estimated, the plain weighted value beside each, and the estimator's assumptions."""
    weighted = record.get("weighted") or {}
    intervals = record.get("weighted_intervals") or {}
    beside = "; ".join(
        f"{key} {value:.4f} [{intervals[key][0]:.4f}, {intervals[key][1]:.4f}]"
        if key in intervals else f"{key} {value:.4f}"
        for key, value in weighted.items()
    ) or "not computed (" + str(record.get("weighted_error", "no evidence rows")) + ")"  # fmt: skip
    assumptions = " ".join(
        f"({i}) {a}" for i, a in enumerate(record.get("assumptions", []), start=1)
    )
    return [
        PROBABILITIES_LINE.format(
            attribute=record.get("attribute", "the group"),
            groups=", ".join(map(str, record.get("groups", []))),
            weighted=beside,
        ),
        PROBABILITIES_ASSUMPTIONS.format(assumptions=assumptions),
    ]


def target_population_line(shift: dict[str, Any]) -> str:
    """What a fit aimed at ``target_X`` claims for: the reweighted population, and what
    the reweighted rows are worth."""
    weak = shift.get("poor_overlap")
    warned = "; the populations overlap poorly: read the claim as weak" if weak else ""
    return (
        f"the claim is for the target population ({shift['target_rows']:,} unlabeled rows "
        "given as target_X): the fit's rows count by their importance weights in training, "
        "the metric, the constraint values, their intervals and post-processing; effective "
        f"sample size {shift['effective_rows']:,.0f} of {shift['rows']:,} rows "
        f"({shift['effective_share']:.0%}), domain classifier AUC {shift['domain_auc']:.3f}, "
        f"{shift['capped_rows']:,} rows at the weight cap of {shift['weight_cap']:g}{warned}"
        f"{robust_shift_words(shift)}; it assumes the outcome given the features is the same "
        "there"
    )


def write_fit_report(
    automl: Any,
    path: str | Path,
    *,
    data: tuple[Any, Any, Any] | None = None,
    source: dict[str, Any] | None = None,
) -> Path:
    """Write the fit's report page to ``path`` (HTML, self-contained).

    ``data`` is ``(X, y, sensitive_features)`` as given to ``fit``: the page then rebuilds
    the search's own split (:func:`~fairautoml.estimators.context.search_context`) to show
    the per-group rates on the validation rows and the data summary. ``source`` is the
    CLI's data source record (the study's ``SOURCE_ATTR``): the page then gives the
    ``fairautoml fit`` command that reproduces the run.
    """
    path = Path(path)
    ctx, why = context(automl, data)
    asked = ", ".join(map(str, automl.constraints_)) or "no constraint"
    budget = (
        f"{automl.time_budget:g} s" if automl.time_budget is not None else "no time limit"
    ) + (f", at most {automl.n_trials} trained models" if automl.n_trials else "")
    on = data_name(source) + (f" ({len(ctx.data.y)} rows)" if ctx is not None else "")
    parts = [
        f"<h1>fairautoml: {html.escape(automl.fit_summary_.model)}</h1>",
        verdict_html(compute_verdict(automl, data, ctx=ctx)),
        f"<p>Asked for: the model with the best validation {html.escape(automl.metric_)} "
        f"that meets {html.escape(asked)}, on {html.escape(on)}; {budget}; controller "
        f"{html.escape(str(automl.controller))}.</p>",
        *_found(automl),
        "<h2>The chosen pipeline</h2>",
        pipeline_table(automl.fit_summary_),
        "<h2>What each decision rule costs</h2>",
        policies_table(automl),
        "<h2>Per group, with intervals</h2>",
        groups_section(automl, ctx, data, why),
        "<h2>Calibration within groups</h2>",
        calibration_section(automl, ctx, why),
        "<h2>The trade-off</h2>",
        "<p>Every trained model (each raw and post-processed); the chosen one is the star, "
        "with its interval; the feasible region is shaded.</p>",
        _plot(automl),
        *_search(automl),
        "<h2>The data</h2>",
        data_section(automl, ctx, why, source),
        "<h2>To reproduce</h2>",
        _reproduce(automl, source, path.parent),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    title = f"fairautoml report: {automl.fit_summary_.model}"
    path.write_text(_PAGE.format(title=html.escape(title), body="\n".join(parts)))
    return path


def policies_table(automl: Any) -> str:
    """The model each decision-rule policy would have picked in this search, side by
    side (:func:`~fairautoml.report.policy_costs.best_by_policy`)."""
    rows = []
    for b in best_by_policy(automl):
        score = "" if b.trial is None else f"{b.score:.4f}"
        mark = " (the pick)" if b.chosen else ""
        rows.append(
            f"<tr><td>{b.policy}{mark}</td><td>{'yes' if b.deterministic else 'no'}</td>"
            f"<td>{html.escape(b.model)}</td><td>{score}</td><td>{b.word}</td>"
            f"<td>{'yes' if b.confirmed else 'no'}</td></tr>"
        )
    metric = html.escape(automl.metric_)
    return (
        "<p>What the decision reads of the group: <b>group_free</b> "
        f"({POLICY_WORDS['group_free']}), <b>proxy</b> ({POLICY_WORDS['proxy']}), "
        f"<b>group_aware</b> ({POLICY_WORDS['group_aware']}). Each row is the model that "
        "policy's pick would take from this search (randomized rules allowed, or left out), "
        f"with its validation {metric} and the word its evidence earns. The search measured "
        "every policy's post-processing on the same trained models, but only the chosen "
        "policy steered it: the others' numbers are what it found for them, not their "
        "best.</p><table><tr><th>decision_rule</th><th>deterministic only</th><th>model</th>"
        f"<th>{metric}</th><th>fairness</th><th>confirmed</th></tr>" + "".join(rows) + "</table>"
    )


def _confirmed_rows(pick: FitSummary) -> str:
    """Which training rows a pick confirmed on more of them than the search's sample saw."""
    rows = pick.candidate.train_rows
    if rows is None:
        return "every training row (at most a stratified million)"
    return f"a stratified sample of {rows:,} training rows (what the time left allowed)"


def pipeline_table(pick: FitSummary | Mapping[str, Any]) -> str:
    """Learner, mitigator and post-processing with their parameters, as an HTML table
    (of a fit's summary, or its ``best_config_``)."""
    if not isinstance(pick, FitSummary):
        pick = FitSummary.from_dict(pick)
    rows = []
    stages = (
        ("learner", pick.candidate.learner, pick.candidate.learner_params),
        ("mitigator", pick.candidate.mitigator, pick.candidate.mitigator_params),
        ("post", pick.candidate.post, pick.candidate.post_params),
    )
    for stage, name, given in stages:
        params = given or {}
        text = ", ".join(f"{k}={_short(v)}" for k, v in params.items()) or "&ndash;"
        rows.append(
            f"<tr><th>{stage}</th><td>{html.escape(str(name))}</td>"
            f"<td class='params'>{html.escape(text) if params else text}</td></tr>"
        )
    refit = (
        "retrained on training + validation rows after the pick"
        if pick.refitted
        else f"trained on {_confirmed_rows(pick)}, with the rule fitted on the validation rows"
        if pick.confirmation == ALL_TRAINING_ROWS
        else "the cross-validation's fold models, each new row scored by one of them, with "
        "the rule fitted on all their held-out scores"
        if pick.confirmed
        else "the model the search validated (not retrained)"
    )
    return (
        '<table class="pipeline"><tr><th>stage</th><th>name</th><th>parameters</th></tr>'
        + "".join(rows)
        + f"</table><p>The saved model is {refit}.</p>"
    )


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _found(automl: Any) -> list[str]:
    board = automl.leaderboard_
    chosen = board[board["chosen"]].iloc[0]
    parts = ["<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in pick_summary(automl)) + "</ul>"]
    advice = advice_of(automl.get_params(), automl.fit_summary_.cv_folds or 0)
    caveat = pick_caveat(chosen, automl.constraints_, advice)
    if caveat is not None:
        category, message = caveat
        parts.append(f'<p class="caveat"><b>{category.__name__}</b>: {html.escape(message)}</p>')
    parts.append(
        "<p>Every number above is measured on validation rows the models were not trained "
        "on; the interval is how much it may move on new rows of the same population.</p>"
    )
    return parts


def _search(automl: Any) -> list[str]:
    board = automl.leaderboard_
    trained = int((board["post"] == "none").sum())
    failed = board[board["status"] != "ok"]
    parts = [
        "<h2>The search</h2>",
        f"<p>{trained} models trained, {len(board)} points scored (each model raw and "
        f"post-processed), {len(failed)} failed, in {automl.fit_time_:.1f} s; "
        f"hypervolume of the Pareto front {automl.hypervolume_:.4f}.</p>",
    ]
    not_run = listed_in_processing_not_run(automl)
    if not_run:
        parts.append(
            f"<p>In-processing listed but not run: {html.escape(', '.join(not_run))}. The "
            "search spends a costly mitigator only on a trained model whose own point the "
            "pick could not take, and only when the run is expected to gain more than "
            "tuning would in the same seconds (<code>fairautoml/search/allocator.py</code>); in "
            "this search that never happened. Where plain models already meet the "
            "constraints it never will; otherwise a larger <code>time_budget</code> gives "
            "it more chances.</p>"
        )
    if not failed.empty:
        errors = failed["error"].dropna().astype(str).value_counts().head(3)
        parts.append(
            "<p>Most frequent errors:</p><ul>"
            + "".join(f"<li>{n} &times; {html.escape(e)}</li>" for e, n in errors.items())
            + "</ul>"
        )
    columns = [*BOARD_COLUMNS, automl.metric_, *(c.key for c in automl.constraints_)]
    top = board.head(TOP_ROWS)[[c for c in columns if c in board.columns]]
    parts += [
        f"<h2>Leaderboard: the first {len(top)} rows, in the pick's order</h2>",
        top.to_html(index=False, float_format=lambda v: f"{v:.4f}", border=0),
        "<p>All rows: <code>leaderboard.csv</code>; the model: <code>model.skops</code> "
        "(<code>fairautoml predict model.skops DATA.csv --out predictions.csv</code>).</p>",
    ]
    return parts


def listed_in_processing_not_run(automl: Any) -> list[str]:
    """The in-processing mitigators the user named in ``mitigators`` that no trial ran
    (the allocator decides whether they run; a user who named one may expect it)."""
    in_processing = set(available_mitigators(stage="in"))
    ran = set(automl.leaderboard_["mitigator"])
    return [m for m in automl.mitigators or [] if m in in_processing and m not in ran]


def fit_command(automl: Any, source: dict[str, Any], out: str | Path) -> tuple[str, list[str]]:
    """The ``fairautoml fit`` command of a run from its data ``source`` record and the
    estimator's parameters, and the settings that differ from the defaults but have no
    command-line flag."""
    params, defaults = automl.get_params(), type(automl)().get_params()
    q = shlex.quote
    if source.get("dataset"):
        words = ["fairautoml fit --dataset", q(source["dataset"])]
        given = [source["sensitive"]] if source.get("sensitive") else []
    else:
        words = ["fairautoml fit", q(str(source.get("csv"))), "--target", q(source["target"])]
        given = list(source.get("sensitive") or [])
    bins = dict(params.get("sensitive_bins") or {})
    words += [f"--sensitive {q(_sensitive_flag(c, bins.pop(c, None)))}" for c in given]
    words += [f"--constraint {q(str(c).replace(' ', ''))}" for c in automl.constraints_]
    if source.get("weight"):
        words.append(f"--weight {q(str(source['weight']))}")
    task = get_task(automl.search_params()["task"])
    if source.get("csv") and not task.inferred_from_target:
        words.append(f"--task {task.name}")  # whole-number amounts read as classes otherwise
    for p in FLAGGED:  # each flag the command line reads as its parameter's value
        flag, value = p.flag, params[p.name]
        if flag is None or not flag.declared or p.name == "constraints":  # written apart
            continue
        if flag.switch:  # given when the setting is not its default
            if value != p.default:
                words.append(flag.name)
        elif (value is not None) if flag.shown else value != p.cli_default:
            words.append(f"{flag.name} {_flag_words(value, flag.nargs, q)}")
    if params.get("study_name") not in (None, BY_NAME["study_name"].cli_default):
        words.append(f"--study {q(params['study_name'])}")
    words.append(f"--out {q(str(out))}")
    handled = {p.name for p in FLAGGED}  # with a flag: written above, or the run's own
    if not bins:  # every binned attribute is on the command line
        handled.add("sensitive_bins")
    other = [f"{k}={v!r}" for k, v in params.items() if k not in handled and v != defaults.get(k)]
    if params["time_budget"] is None:
        default = _short(BY_NAME["time_budget"].cli_default)
        other.append(f"time_budget=None (the command line always has one; default {default} s)")
    if params["random_state"] is None:
        seed = BY_NAME["random_state"].cli_default
        other.append(f"random_state=None (the command line always seeds; default {seed})")
    return " ".join(words), other


def _sensitive_flag(column: str, bins: Any) -> str:
    """``--sensitive``'s value: the column, with its bins (age:25,40,60 or age:q4)."""
    if bins is None:
        return column
    if isinstance(bins, str):
        return f"{column}:q{bins.split(':', 1)[1]}"
    return f"{column}:{','.join(f'{e:g}' for e in bins)}"


def _flag_words(value: Any, nargs: str | None, q: Any) -> str:
    """A setting as the command line spells it, quoted: words apart for a flag that takes
    several (``--positive-label a b``), else :func:`_flag_value`."""
    if nargs == "+":
        return " ".join(q(str(v)) for v in (value if isinstance(value, list) else [value]))
    return q(_flag_value(value))


def _flag_value(value: Any) -> str:
    """A setting as the command line spells it: lists comma-separated, None as "none"."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return _short(value)


def _reproduce(automl: Any, source: dict[str, Any] | None, out: Path) -> str:
    if not source:
        return (
            "<p>Fitted from Python (no data source was recorded): the estimator, with the "
            "settings that differ from the defaults:</p>"
            f"<pre>{html.escape(repr(automl))}.fit(X, y, sensitive_features=s)</pre>"
        )
    command, other = fit_command(automl, source, out)
    text = f"<pre>{html.escape(command)}</pre>"
    if other:
        text += "<p>Set from Python, with no flag: " + html.escape(", ".join(other)) + ".</p>"
    clock = (
        " The search stops on the clock, so a rerun on a slower or busier machine trains "
        "fewer models and may pick another; <code>--n-trials N</code> without a time limit "
        "is the repeatable form."
        if automl.time_budget is not None
        else ""
    )
    return text + (
        "<p>Into an empty directory: the same <code>--out</code> resumes the recorded study "
        f"instead of starting again.{clock} <code>fairautoml report DIR</code> rewrites this "
        "page from a run's directory.</p>"
    )


def _plot(automl: Any) -> str:
    """The trade-off plot as an embedded PNG, or a line saying why there is none."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            png = plot_pareto(
                automl.leaderboard_,
                automl.constraints_,
                get_metric(automl.metric_),
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
.card {{ border: 2px solid #2e7d32; border-radius: 6px; padding: 0.2em 1em; }}
.card.unfair {{ border-color: #c62828; }}
.card.unsure {{ border-color: #ef8f00; }}
table.verdict th, table.verdict td {{ text-align: left; vertical-align: top; border: 0; }}
table.verdict th {{ white-space: nowrap; padding-right: 1em; }}
table.verdict tr:first-child td, table.verdict tr:first-child th {{ font-size: 1.1em; }}
table.verdict tr:first-child td {{ font-weight: bold; }}
.warnings {{ background: #fff3cd; border-left: 6px solid #e0a800; padding: 0.4em 0.8em; }}
.warnings ul {{ margin: 0.3em 0; }}
.footer {{ color: #666; font-size: 0.85em; }}
.caveat {{ background: #fff3cd; padding: 0.6em; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
td, th {{ padding: 0.2em 0.6em; text-align: right; border-bottom: 1px solid #ddd; }}
.pipeline td, .pipeline th {{ text-align: left; }}
td.params {{ text-align: left; font-family: monospace; font-size: 0.9em; }}
.ci {{ color: #666; font-size: 0.9em; }}
pre {{ background: #f4f4f4; padding: 0.6em; white-space: pre-wrap; }}
img {{ max-width: 100%; }}
</style></head>
<body>
{body}
</body></html>
"""

__all__ = ["fit_command", "pick_summary", "pipeline_table", "write_fit_report"]
