"""A numeric sensitive attribute on the page: the decision rate (or mean amount) along it,
for the constraints that read it without bins (``generalized_disparate_impact[age]``).

The constraint fits a line (or polynomial) of the decisions on the attribute's values; the
page draws that fitted curve over the rates of display bins, so a reader sees what the
bound limits. The display bins (quantiles of the shown rows, at most
:data:`DISPLAY_BINS`) are for reading only: no claim rests on them, and the per-group
table uses them in place of one row per distinct value.
"""

from __future__ import annotations

import base64
import html
import itertools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data.groups import GROUP_SEPARATOR
from fairautoml.measures.constraints import evaluate_constraints, evaluate_intervals
from fairautoml.measures.dependence import DEPENDENCE_METRICS, is_dependence, kernel, scaled
from fairautoml.measures.group_tables import wilson_interval

DISPLAY_BINS = 8  # at most this many display bins per numeric attribute
N_BOOT = 1000  # bootstrap resamples of the interval the page shows


def numeric_constraints(ctx: Any) -> list[Any]:
    """The fit's bound constraints that read an attribute as numbers (one per attribute)."""
    out: dict[str, Any] = {}
    for c in ctx.constraints:
        if is_dependence(c.metric) and c.levels is not None:
            out.setdefault(c.attributes[0], c)
    return list(out.values())


def display_bins(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each value's display bin and the bins' labels (``[18, 23)``; the last closed):
    quantile edges taken among ``values`` (so no bin is empty), equal values in one bin."""
    values = np.asarray(values, dtype=np.float64)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, DISPLAY_BINS + 1), method="lower"))
    if len(edges) < 2:
        return np.zeros(len(values), dtype=np.int64), [f"{edges[0]:g}"]
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    labels = [
        f"[{low:g}, {high:g}{']' if i == len(edges) - 2 else ')'}"
        for i, (low, high) in enumerate(itertools.pairwise(edges))
    ]
    return index.astype(np.int64), labels


def shown_groups(encoder: Any, codes: np.ndarray) -> tuple[np.ndarray, list[str] | None]:
    """Each row's group label for a per-group table (``encoder``: the fit's group encoder,
    ``codes``: the rows' cell codes, all known), with every numeric attribute's value
    replaced by its display bin, and the labels' order (None: no numeric attribute, the
    encoder's own labels and order)."""
    numeric = set(encoder.fitted_levels)
    codes = np.asarray(codes, dtype=np.int64)
    if not numeric:
        return np.asarray(encoder.labels, dtype=object)[codes], None
    parts, orders = [], []
    for name in encoder.names:
        own, labels = encoder.grouping(codes, [name])
        if name in numeric:  # its labels are its values (level_labels)
            values = np.asarray([float(label) for label in labels], dtype=np.float64)
            own, labels = display_bins(values[own])
        parts.append(np.asarray(labels, dtype=object)[own])
        orders.append(own)
    shown = np.array([GROUP_SEPARATOR.join(row) for row in zip(*parts, strict=True)], dtype=object)
    order = sorted(range(len(shown)), key=lambda i: tuple(o[i] for o in orders))
    return shown, list(dict.fromkeys(shown[order]))


def ordered(table: pd.DataFrame, order: list[str] | None) -> pd.DataFrame:
    """The per-group table in ``order``, its summary rows (a largest gap) last."""
    if order is None:
        return table
    first = [label for label in order if label in table.index]
    return table.loc[first + [label for label in table.index if label not in set(first)]]


def trend_sections(
    automl: Any, ctx: Any, rows: np.ndarray, y_true: np.ndarray, predicted: np.ndarray
) -> list[str]:
    """One section per numeric attribute a constraint reads: the measure with its interval,
    the picture and what it shows, on the same rows as the per-group table."""
    out = []
    level = automl.fit_summary_.interval_level
    amounts = ctx.data.classes is None
    for c in numeric_constraints(ctx):
        codes = ctx.data.groups[rows]
        own, _ = ctx.data.group_encoder.grouping(codes, list(c.attributes))
        values = np.asarray(c.levels, dtype=np.float64)[own]
        value = evaluate_constraints([c], y_true, predicted, codes)[c.key]
        low, high = evaluate_intervals(
            [c], y_true, predicted, codes, level=level, random_state=automl.random_state,
            n_boot=N_BOOT,
        )[c.key]  # fmt: skip
        outcome = np.asarray(predicted, dtype=np.float64)
        image = _picture(values, outcome, c, amounts, level)
        name = html.escape(c.attributes[0])
        what = "mean predicted amount" if amounts else "share of favourable decisions"
        out.append(
            f"<h2>Along {name}</h2><p>{html.escape(c.label)} = {value:.3f} "
            f"<span class='ci'>[{low:.3f}, {high:.3f}]</span> ({level:.0%} interval, "
            f"{len(rows):,} rows), bound {html.escape(c.op)} {c.bound:g}. The line is the "
            f"least-squares fit of degree {DEPENDENCE_METRICS[c.metric]} the measure reads: "
            f"the {what} along {name} without bins"
            + (" (amounts in target standard deviations in the measure)" if amounts else "")
            + f"; the points are display bins of {name} (quantiles of these rows) with their "
            f"{level:.0%} intervals, for reading only.</p>{image}"
        )
    return out


def _picture(values: np.ndarray, outcome: np.ndarray, c: Any, amounts: bool, level: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    index, labels = display_bins(values)
    centres, means, lows, highs = [], [], [], []
    for b in range(len(labels)):
        at = index == b
        if not at.any():
            continue
        centres.append(values[at].mean())
        means.append(outcome[at].mean())
        if amounts:
            half = 1.96 * outcome[at].std(ddof=1) / np.sqrt(at.sum()) if at.sum() > 1 else 0.0
            lows.append(means[-1] - half)
            highs.append(means[-1] + half)
        else:
            lo, hi = wilson_interval(outcome[at].sum(), at.sum(), level)
            lows.append(float(lo))
            highs.append(float(hi))
    grid = np.linspace(*c.span, 200)
    degree = DEPENDENCE_METRICS[c.metric]
    beta = np.linalg.lstsq(kernel(scaled(values, c.span), degree), outcome, rcond=None)[0]
    fitted = kernel(scaled(grid, c.span), degree) @ beta
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    means_a = np.asarray(means)
    ax.errorbar(
        centres, means_a, yerr=[means_a - np.asarray(lows), np.asarray(highs) - means_a],
        fmt="o", color="#444", capsize=3, label="display bins",
    )  # fmt: skip
    ax.plot(grid, fitted, color="#c0392b", label=f"fit of degree {degree}")
    ax.set_xlabel(c.attributes[0])
    ax.set_ylabel("mean predicted amount" if amounts else "favourable decisions")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "trend.png"
        fig.savefig(png, dpi=96)
        plt.close(fig)
        data = base64.b64encode(png.read_bytes()).decode()
    alt = f"decisions along {html.escape(c.attributes[0])}"
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'
