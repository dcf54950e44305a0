"""Calibration within groups on a page: each group's calibration error with its interval,
and the reliability curves per group (mean score against the share of positives, per
score bin), for the audit's page and the fit's report alike
(:mod:`fairautoml.measures.calibration` measures)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np

from fairautoml.measures.calibration import GroupCalibration, group_calibration

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
MOST_CURVES = 12  # more groups than this: the table alone (a plot of them is unreadable)


def calibration_of(
    y: np.ndarray, proba: np.ndarray, names: np.ndarray, level: float, random_state: int | None
) -> GroupCalibration:
    """:func:`group_calibration` of 0/1 labels ``y`` and positive-class probabilities
    ``proba``, grouped by each row's group label ``names``."""
    labels, codes = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    return group_calibration(y, proba, codes, list(labels), level=level, random_state=random_state)


PLOT_MISSING = "(no reliability curves: matplotlib is not installed; pip install fairautoml[plot])"


def reliability_png(cal: GroupCalibration) -> bytes:
    """The reliability curves, one per group, beside the diagonal of perfect calibration
    (ImportError without matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4.2), dpi=100)
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1, label="calibrated")
    for i, (group, curve) in enumerate(cal.curves.groupby("group", sort=False)):
        ax.plot(curve["mean_score"], curve["observed"], marker="o", markersize=3,
                color=PALETTE[i % len(PALETTE)], label=str(group))  # fmt: skip
    ax.set_xlabel("mean score in the bin")
    ax.set_ylabel("share of positives in the bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def calibration_html(cal: GroupCalibration, rows_said: str) -> str:
    """The table (each group's error and interval, the largest) and the curves; ``rows_said``:
    which rows, in words."""
    body = "".join(
        f"<tr><th>{html.escape(str(group))}</th><td>{_rows(row['rows'])}</td>"
        f"<td>{row['error']:.3f} <span class='ci'>[{row['low']:.3f}, {row['high']:.3f}]</span>"
        "</td></tr>"
        for group, row in cal.table.iterrows()
    )
    said = (
        f"<p>Calibration within groups on {html.escape(rows_said)}: each group's expected "
        f"calibration error over {cal.n_bins} equal-width score bins (the rows' mean "
        "|share of positives - mean score| per bin, weighted by the bin's rows), with its "
        f"{cal.level:.0%} bootstrap interval; 'largest' is calibration_within_groups. A "
        "calibrated score's error is above 0 by its noise, more in small groups; the "
        "interval is for the error without that noise (a basic bootstrap interval, which "
        "takes the noise's upward push off), so it can sit below the measured value.</p>"
    )
    table = f"<table><tr><th>group</th><th>rows</th><th>calibration error</th></tr>{body}</table>"
    if cal.curves["group"].nunique() > MOST_CURVES:
        return said + table
    try:
        png = base64.b64encode(reliability_png(cal)).decode()
    except ImportError:
        return said + table + f"<p>{html.escape(PLOT_MISSING)}</p>"
    image = f'<img alt="reliability curves per group" src="data:image/png;base64,{png}">'
    return said + table + image


def _rows(count: float) -> str:
    return "" if np.isnan(count) else f"{count:,.0f}"


def calibration_record(cal: GroupCalibration | None) -> dict[str, Any] | None:
    """Plain values for a JSON file: the table's rows, the bins, the level."""
    if cal is None:
        return None
    table = cal.table.reset_index()
    return {
        "n_bins": cal.n_bins,
        "level": cal.level,
        "groups": [
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in table.astype(object).to_dict(orient="records")
        ],
    }
