"""The report page's sections that need the data: the per-group rates of the saved model
on the validation rows, and the data summary.

The estimator does not keep its data, so the page is given ``(X, y, sensitive_features)``
again and rebuilds the search's split with the search's own function
(:func:`~fairautoml.estimators.context.search_context`): the same rows, decided in one place.
"""

from __future__ import annotations

import html
import warnings
from typing import Any

import numpy as np
import pandas as pd

from fairautoml import datasets
from fairautoml.estimators.context import search_context
from fairautoml.exceptions import FairAutoMLError
from fairautoml.measures.group_tables import RATE_DENOMINATORS
from fairautoml.report.trend import ordered, shown_groups, trend_sections
from fairautoml.search.confirm import ALL_TRAINING_ROWS
from fairautoml.values import plain

PROBABILITIES_NO_GROUPS = (
    "the groups were membership probabilities, so no row has a known group to count in a "
    "table; each group's rates by the regression and the plain weighted estimator: "
    "automl.audit(X, y, group_probabilities=P) on rows the search never saw"
)


def context(automl: Any, data: tuple[Any, Any, Any] | None) -> tuple[Any, str]:
    """The search's prepared data and split, rebuilt from ``data``, or why there are none."""
    if data is None:
        return None, (
            "the data were not given to the page; pass write_fit_report(..., data=(X, y, s)), "
            "or run `fairautoml report DIR` on a CLI run, which reads its recorded source"
        )
    if automl.fit_summary_.group_probabilities:
        return None, PROBABILITIES_NO_GROUPS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx, _ = search_context(automl.search_params(), *data)
    except FairAutoMLError as exc:
        return None, f"the data do not fit the run's settings: {exc}"
    return ctx, ""


def _take(values: Any, rows: np.ndarray, columns: Any) -> Any:
    """``values`` (X, or the sensitive features as given to fit) at ``rows``."""
    if values is None or isinstance(values, str):
        return values
    if isinstance(values, (list, tuple)) and all(str(v) in columns for v in values):
        return values  # column names of X
    if isinstance(values, (pd.Series, pd.DataFrame)):
        return values.iloc[rows]
    return np.asarray(values)[rows]


def report_predictions(automl: Any, ctx: Any, data: Any) -> tuple[np.ndarray, ...]:
    """The pick's predictions on the rows its claim rests on, those whose group is known:
    the target and the predictions as the task prepares them (0/1 with 1 the positive
    class, class codes, or amounts) and each row's group label. They are the predictions
    the search measured (``automl.evidence_``: out of fold); for a model saved before it
    kept them, the saved model on the validation rows."""
    rows, y_true, predicted = predictions_on_evidence(automl, ctx, data)
    labels = np.asarray(ctx.data.group_encoder.labels, dtype=object)
    return y_true, predicted, labels[ctx.data.groups[rows]]


def predictions_on_evidence(automl: Any, ctx: Any, data: Any) -> tuple[np.ndarray, ...]:
    """:func:`report_predictions`' rows (positions in the prepared data), target and
    predictions: the rows let a caller read any other column of them (a group code, a
    numeric attribute's value)."""
    evidence = getattr(automl, "evidence_", None)
    if evidence is not None:
        rows, predicted = np.asarray(evidence["rows"]), np.asarray(evidence["predictions"])
        known = ctx.data.known[rows]
        return rows[known], np.asarray(ctx.data.y[rows[known]]), predicted[known]
    rows, X, s = ctx.val_idx[ctx.data.known[ctx.val_idx]], data[0], data[2]
    columns = set(map(str, getattr(X, "columns", [])))
    predicted = np.asarray(automl.predict(_take(X, rows, columns), _take(s, rows, columns)))
    if ctx.data.classes is not None:
        predicted = ctx.task.encode_labels(predicted, ctx.data.classes, len(predicted))
    return rows, np.asarray(ctx.data.y[rows]), predicted


def groups_section(automl: Any, ctx: Any, data: Any, why: str) -> str:
    if ctx is None:
        return f"<p>(Not shown: {html.escape(why)}.)</p>"
    rows, pick = ctx.val_idx, automl.fit_summary_
    level = pick.interval_level
    at, y_true, predicted = predictions_on_evidence(automl, ctx, data)
    labels, order = shown_groups(ctx.data.group_encoder, ctx.data.groups[at])
    table = ordered(ctx.task.group_table(y_true, predicted, labels, level), order)
    names = ctx.task.report_columns
    if getattr(automl, "evidence_", None) is not None:
        which = evidence_rows(automl, ctx) + "."
    elif ctx.cv_folds:
        which = (
            f"all {len(rows)} rows: the search cross-validated, so none was held out, and the "
            "saved model was trained on them; these rates may look better than on new rows."
        )
    elif pick.confirmation == ALL_TRAINING_ROWS:
        which = (
            f"the {len(rows)} validation rows of the search's split, on which the saved "
            "model's rule was fitted (its model was trained on "
            + (
                "every other row)."
                if pick.candidate.train_rows is None
                else f"{pick.candidate.train_rows:,} of the other rows)."
            )
        )
    elif pick.confirmed:
        which = (
            f"the {len(rows)} validation rows of the search's split; the pick was confirmed "
            "by cross-validation over every row, so the saved fold models trained on most of "
            "these rows and these rates may look better than on new rows."
        )
    elif pick.refitted:
        which = (
            f"the {len(rows)} validation rows of the search's split; the saved model was "
            "retrained on them after the pick, so these rates may look better than on new rows."
        )
    else:
        which = (
            f"the {len(rows)} validation rows of the search's split (rebuilt from the data "
            "and the seed: the rows every trial was scored on), which its learner did not "
            "train on."
        )
        post = pick.candidate.post
        if post != "none":
            which += (
                f" Its post-processing ({post}) was fitted on them, while the search's "
                "numbers above are cross-fitted (each fold decided by a rule fitted on the "
                "others), so the two can differ a little."
            )
    unknown = int((~ctx.data.known[rows]).sum())
    if unknown:
        which += (
            f" The table counts the rows whose group is known; {unknown} of them have none "
            f"(missing_groups={ctx.data.missing_groups!r})."
        )
    count = "rows" if "rows" in table.columns else "count"
    per_class = isinstance(table.index, pd.MultiIndex)  # one row per (group, class)
    heads = ("group", "class", "rows", "class rows") if per_class else ("group", "rows")
    head = "".join(f"<th>{h}</th>" for h in (*heads, *names.values()))
    body = "".join(
        _row_head(key, row, count, ctx.data.classes if per_class else None)
        + "".join(_rate_cell(row, column, per_class) for column in names)
        + "</tr>"
        for key, row in table.iterrows()
    )
    if per_class:
        how = (
            f"Each one-vs-rest rate of a class in a group with its {level:.0%} interval "
            "(Wilson): the share of the group's rows predicted that class, the recall of "
            "the class (of its rows, those predicted it) and its false positive rate (of "
            "the other rows, those predicted it). The 'largest gap' rows give, per class, "
            "the largest difference between groups (for the selection rate: the class's "
            "part of the demographic parity difference)."
        )
        return (
            f"<p>{_whose(automl)} on {html.escape(which)} {how}</p>"
            f'<table class="groups"><tr>{head}</tr>{body}</table>'
        )
    how = (
        f"Each rate with its {level:.0%} interval (Wilson); in brackets the rows it is a "
        "share of (all, the positives, the negatives). The last row is the largest "
        "difference between groups (for the selection rate: the demographic parity "
        "difference)."
        if ctx.data.classes is not None
        else f"Each mean with its {level:.0%} interval (normal approximation)."
    )
    if order is not None:
        how += (
            " A numeric attribute read without bins is shown in display bins (quantiles of "
            "these rows), for reading only: its constraint reads the values themselves "
            "(below)."
        )
    return (
        f"<p>{_whose(automl)} on {html.escape(which)} {how}</p>"
        f'<table class="groups"><tr>{head}</tr>{body}</table>'
        + "".join(trend_sections(automl, ctx, at, y_true, predicted))
    )


def _whose(automl: Any) -> str:
    if getattr(automl, "evidence_", None) is not None:
        return "The pick's predictions as the search measured them"
    return "The saved model's predictions"


def evidence_rows(automl: Any, ctx: Any) -> str:
    """Which rows the pick's evidence is on, in words (the card, the table, the gaps)."""
    n = len(automl.evidence_["rows"])
    if n == len(ctx.data.y):
        return (
            f"all {n:,} rows, each predicted by a model that did not train on it "
            "(cross-validation): the rows the fairness claim rests on"
        )
    post = (
        "; its post-processing cross-fitted (each fold decided by a rule fitted on the others)"
        if automl.fit_summary_.candidate.post != "none"
        else ""
    )
    return (
        f"the {n:,} validation rows held out from training{post}: the rows the fairness "
        "claim rests on"
    )


def _row_head(key: Any, row: pd.Series, count: str, classes: np.ndarray | None) -> str:
    """A table row's first cells: the group (and the class), and its row counts."""
    if classes is None:
        cells = f"<tr><th>{html.escape(str(key))}</th>"
        return cells + (f"<td>{int(row[count])}</td>" if key != "largest gap" else "<td></td>")
    group, code = key
    label = html.escape(str(plain(classes[int(code)])))
    cells = f"<tr><th>{html.escape(str(group))}</th><th>{label}</th>"
    if group == "largest gap":
        return cells + "<td></td><td></td>"
    return cells + f"<td>{int(row['rows'])}</td><td>{int(row['class_rows'])}</td>"


def _rate_cell(row: pd.Series, rate: str, per_class: bool = False) -> str:
    if pd.isna(row.get(f"{rate}_low")):  # the largest-gap row
        return f"<td>{row[rate]:.3f}</td>"
    shown = rate in RATE_DENOMINATORS and not per_class  # per class: the counts beside it
    n = f" ({int(row[RATE_DENOMINATORS[rate]])})" if shown else ""
    return (
        f"<td>{row[rate]:.3f} <span class='ci'>[{row[f'{rate}_low']:.3f}, "
        f"{row[f'{rate}_high']:.3f}]{n}</span></td>"
    )


def data_section(automl: Any, ctx: Any, why: str, source: dict[str, Any] | None) -> str:
    positive = automl.fit_summary_.positive_label
    info = {d.name: d for d in datasets.available()}.get((source or {}).get("dataset") or "")
    meaning = f" ({info.target} {info.positive})" if info is not None and info.positive else ""
    head = f"<p>Data: {html.escape(data_name(source))}"
    if isinstance(positive, list):  # several classes: the favourable ones named
        head += f"; favourable classes {html.escape(', '.join(map(repr, positive)))}"
    elif positive is not None:
        head += f"; positive label {html.escape(repr(positive))}" + html.escape(meaning)
    binned = bins_line(automl.fit_summary_.sensitive_bins)
    if ctx is None:
        return head + f". (No summary: {html.escape(why)}.)</p>" + binned
    data, n = ctx.data, len(ctx.data.y)
    split = (
        f"{len(ctx.cv_folds)}-fold cross-validation over all rows"
        if ctx.cv_folds
        else f"{len(ctx.train_idx)} training and {len(ctx.val_idx)} validation rows"
    )
    head += (
        f". {n} rows, {data.X.shape[1]} feature columns, {ctx.task.target_summary} "
        f"{html.escape(_summary(ctx, data.y))}; sensitive attribute "
        f"{', '.join(data.group_encoder.names)}; "
        f"{html.escape(split)}.</p>"
    )
    in_val = np.zeros(n, dtype=bool)
    in_val[ctx.val_idx] = True
    known = data.groups >= 0  # rows without a group (code -1) counted apart
    shown = np.full(n, None, dtype=object)
    shown[known], order = shown_groups(data.group_encoder, data.groups[known])
    rows = "".join(
        f"<tr><th>{html.escape(str(label))}</th><td>{int(at.sum())}</td>"
        f"<td>{at.mean():.3f}</td>"
        f"<td>{html.escape(_summary(ctx, data.y[at]))}</td>"
        f"<td>{int((at & in_val).sum())}</td></tr>"
        for label in (order or data.group_encoder.labels)
        if (at := shown == label).any() or order is None
    )
    unknown = ~data.known
    if unknown.any():
        rows += (
            f"<tr><th>(group unknown: {html.escape(data.missing_groups)})</th>"
            f"<td>{int(unknown.sum())}</td><td>{unknown.mean():.3f}</td>"
            f"<td>{html.escape(_summary(ctx, data.y[unknown]))}</td>"
            f"<td>{int(unknown[ctx.val_idx].sum())}</td></tr>"
        )
    return (
        head + binned + '<table class="groups"><tr><th>group</th><th>rows</th><th>share</th>'
        f"<th>{html.escape(ctx.task.target_summary.split(' (')[0])}</th>"
        f"<th>validation rows</th></tr>{rows}</table>"
    )


def _summary(ctx: Any, y: np.ndarray) -> str:
    """The target of some rows in a few characters: its mean (the share of the positive
    label, or the mean amount), or for several classes each class's share."""
    classes = ctx.data.classes
    if classes is None or len(classes) <= 2:
        return f"{np.mean(y):.3f}"
    shares = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(classes)) / max(len(y), 1)
    return ", ".join(f"{plain(c)} {share:.3f}" for c, share in zip(classes, shares, strict=True))


def bins_line(bins: dict[str, list[float]] | None) -> str:
    """The cut points of binned sensitive attributes: "age binned at [25, 40, 60]"."""
    if not bins:
        return ""
    said = "; ".join(
        f"{name} binned at [{', '.join(f'{e:g}' for e in edges)}]" for name, edges in bins.items()
    )
    return f"<p>{html.escape(said)}</p>"


def data_name(source: dict[str, Any] | None) -> str:
    if not source:
        return "the data given to fit"
    if source.get("dataset"):
        return f"the bundled {source['dataset']} dataset"
    return f"{source.get('csv')} (target {source.get('target')})"
