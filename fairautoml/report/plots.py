"""Plots of the accuracy–fairness trade-off: metric against violation, one colour per learner.

``plot_pareto(board, constraints, metric, "pareto.png")`` draws with matplotlib;
``"pareto.html"`` with plotly, interactive (hovering a point shows its trial's
configuration) and self-contained: plotly.js is inlined, so the page works offline.

With one constraint the x axis is its value and the feasible region is shaded up to the
bound (down to it for a ratio); with several it is the worst signed violation
(``value - bound``, ``bound - value`` for ratios) and the region x <= 0 is shaded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fairautoml.exceptions import ConfigurationError
from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.study.leaderboard import interval_columns, pareto_front

FEASIBLE_COLOUR = "#2ca02c"
PALETTE = ["#1f77b4", "#ff7f0e", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#17becf"]


def _axis(
    ok: pd.DataFrame, constraints: Sequence[Constraint]
) -> tuple[np.ndarray, np.ndarray | None, str, tuple[float, float]]:
    """x values, their interval (2, n) or None, the axis label and the feasible x range."""
    if len(constraints) == 1:
        c = constraints[0]
        x = ok[c.key].to_numpy(dtype=float)
        low, high = interval_columns(c)
        err = np.vstack([x - ok[low].to_numpy(float), ok[high].to_numpy(float) - x])
        region = (c.bound, np.inf) if c.is_ratio else (-np.inf, c.bound)
        return x, np.clip(err, 0, None), f"{c.key} on validation (bound {c.bound:g})", region
    signed = [
        (c.bound - ok[c.key] if c.is_ratio else ok[c.key] - c.bound).to_numpy(float)
        for c in constraints
    ]
    label = "worst signed violation on validation (" + ", ".join(map(str, constraints)) + ")"
    return np.max(signed, axis=0), None, label, (-np.inf, 0.0)


def _xlim(x: np.ndarray, region: tuple[float, float]) -> tuple[float, float]:
    """All points, 0 and the bound in view."""
    edge = region[1] if np.isfinite(region[1]) else region[0]
    left, right = min(x.min(), 0.0, edge), max(x.max(), edge)
    span = max(right - left, 1e-3)
    return left - 0.04 * span, right + 0.06 * span


def _colours(learners: Sequence[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(learners)))}


def _model(row: pd.Series) -> str:
    parts = [row["learner"]]
    parts += [row[k] for k in ("mitigator", "post") if row[k] != "none"]
    return " + ".join(parts)


def _front_xy(ok: pd.DataFrame, x: np.ndarray, front: pd.DataFrame, metric: Metric):
    on = ok["trial"].isin(front["trial"]).to_numpy()
    order = np.argsort(x[on], kind="stable")
    return x[on][order], ok[metric.name].to_numpy(float)[on][order]


def _ylim(y: np.ndarray) -> tuple[float, float]:
    """Show the interesting band: trivial models far below would squash the front."""
    top, floor = float(np.max(y)), float(np.quantile(y, 0.1))
    span = max(top - floor, 1e-3)
    low = float(np.min(y[y >= floor - 0.5 * span]))  # points near the band are all shown
    pad = max(0.06 * (top - low), 1e-3)
    return low - pad, top + pad


def plot_pareto(
    board: pd.DataFrame,
    constraints: Sequence[Constraint],
    metric: Metric,
    path: str | Path,
    *,
    title: str | None = None,
) -> Path:
    """Write the trade-off plot of a leaderboard (with its ``chosen`` column) to ``path``."""
    path = Path(path)
    ok = board[board["status"] == "ok"].reset_index(drop=True)
    if ok.empty:
        raise ConfigurationError("No successful trial to plot: the leaderboard has none.")
    if not constraints:
        raise ConfigurationError("Plotting the trade-off needs at least one constraint.")
    front = pareto_front(ok, constraints, metric)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    needed = "plotly" if suffix == ".html" else "matplotlib"
    try:
        __import__(needed)
    except ImportError:
        raise ConfigurationError(
            f"Plotting to {path.name} needs {needed}: pip install 'fairautoml[plot]'."
        ) from None
    if suffix == ".html":
        _plotly(ok, front, constraints, metric, path, title)
    elif suffix in (".png", ".svg", ".pdf"):
        _matplotlib(ok, front, constraints, metric, path, title)
    else:
        raise ConfigurationError(
            f"Cannot plot to {path.name}: use a .png, .svg or .pdf file (matplotlib) or .html "
            "(plotly, interactive)."
        )
    return path


def _matplotlib(ok, front, constraints, metric, path, title) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, err, xlabel, region = _axis(ok, constraints)
    y = ok[metric.name].to_numpy(float)
    ylim = _ylim(y)
    below = y < ylim[0]  # drawn as triangles on the bottom edge
    y_shown = np.where(below, ylim[0] + 0.015 * (ylim[1] - ylim[0]), y)
    colours = _colours(ok["learner"])
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    xlim = _xlim(x, region)
    lo, hi = max(region[0], xlim[0] - 1), min(region[1], xlim[1] + 1)
    ax.axvspan(lo, hi, color=FEASIBLE_COLOUR, alpha=0.12, lw=0, label="feasible region")
    edge = region[1] if np.isfinite(region[1]) else region[0]
    ax.axvline(edge, color=FEASIBLE_COLOUR, ls=":", lw=1.2)
    for name, colour in colours.items():
        rows = (ok["learner"] == name).to_numpy()
        feasible = ok["feasible"].to_numpy() & rows
        for mask, marker in ((~below, "o"), (below, "v")):
            full, hollow = feasible & mask, rows & ~feasible & mask
            ax.scatter(x[full], y_shown[full], s=28, color=colour, alpha=0.85, marker=marker,
                       label=name if marker == "o" else None)  # fmt: skip
            ax.scatter(x[hollow], y_shown[hollow], s=28, facecolors="none", marker=marker,
                       edgecolors=colour, alpha=0.85)  # fmt: skip
    fx, fy = _front_xy(ok, x, front, metric)
    ax.plot(fx, fy, drawstyle="steps-post", color="0.2", ls="--", lw=1, label="Pareto front")
    chosen = ok["chosen"].to_numpy() if "chosen" in ok else np.zeros(len(ok), bool)
    if chosen.any():
        i = int(np.flatnonzero(chosen)[0])
        if err is not None:
            ax.errorbar(x[i], y[i], xerr=err[:, [i]], color="#b22222", capsize=4, lw=1.5,
                        label="its bootstrap interval", zorder=4)  # fmt: skip
        ax.scatter(x[i], y[i], s=260, marker="*", color="gold", edgecolors="black", zorder=5,
                   label=f"chosen: trial {int(ok['trial'][i])}")  # fmt: skip
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"validation {metric.name}")
    ax.set_title(title or f"{metric.name} vs fairness: {len(ok)} trials")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    note = "hollow: infeasible on validation"
    if below.any():
        note += (f"\n\u25bc on the bottom edge: {int(below.sum())} trial(s) below "
                 f"{ylim[0]:.3f} (lowest {y.min():.3f})")  # fmt: skip
    ax.text(0.01, 0.985, note, transform=ax.transAxes, fontsize=7, color="0.35", va="top")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _hover(row: pd.Series, constraints: Sequence[Constraint], metric: Metric) -> str:
    lines = [f"<b>trial {int(row['trial'])}</b>: {_model(row)}",
             f"{metric.name} {row[metric.name]:.4f}"]  # fmt: skip
    for c in constraints:
        low, high = interval_columns(c)
        lines.append(f"{c.key} {row[c.key]:.4f} [{row[low]:.3f}, {row[high]:.3f}]")
    lines.append(f"feasible {bool(row['feasible'])}, robust {bool(row['robust'])}")
    lines.append(f"fit time {row['fit_time']:.2f} s")
    for key, value in json.loads(row["params"]).items():
        lines.append(f"{key} = {value:.4g}" if isinstance(value, float) else f"{key} = {value}")
    return "<br>".join(lines)


def _plotly(ok, front, constraints, metric, path, title) -> None:
    import plotly.graph_objects as go

    x, err, xlabel, region = _axis(ok, constraints)
    y = ok[metric.name].to_numpy(float)
    hover = np.array([_hover(row, constraints, metric) for _, row in ok.iterrows()])
    fig = go.Figure()
    for name, colour in _colours(ok["learner"]).items():
        rows = (ok["learner"] == name).to_numpy()
        fig.add_trace(go.Scatter(
            x=x[rows], y=y[rows], mode="markers", name=name, hovertext=hover[rows],
            hoverinfo="text",
            marker={"color": colour, "size": 9, "opacity": 0.85,
                    "symbol": np.where(ok["feasible"].to_numpy()[rows], "circle", "circle-open")},
        ))  # fmt: skip
    fx, fy = _front_xy(ok, x, front, metric)
    fig.add_trace(go.Scatter(x=fx, y=fy, mode="lines",
                             line={"shape": "hv", "color": "#333", "dash": "dash", "width": 1},
                             name="Pareto front", hoverinfo="skip"))  # fmt: skip
    chosen = ok["chosen"].to_numpy() if "chosen" in ok else np.zeros(len(ok), bool)
    if chosen.any():
        i = int(np.flatnonzero(chosen)[0])
        error_x = None
        if err is not None:
            error_x = {"type": "data", "symmetric": False, "array": [err[1, i]],
                       "arrayminus": [err[0, i]], "color": "#b22222"}  # fmt: skip
        fig.add_trace(go.Scatter(
            x=[x[i]], y=[y[i]], mode="markers", name=f"chosen: trial {int(ok['trial'][i])}",
            hovertext=[hover[i]], hoverinfo="text", error_x=error_x,
            marker={"symbol": "star", "size": 20, "color": "gold",
                    "line": {"color": "black", "width": 1}},
        ))  # fmt: skip
    xlim = _xlim(x, region)
    x0, x1 = max(region[0], xlim[0] - 1), min(region[1], xlim[1] + 1)
    fig.add_shape(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1, layer="below",
                  fillcolor=FEASIBLE_COLOUR, opacity=0.12, line_width=0)  # fmt: skip
    fig.update_layout(
        title=title or f"{metric.name} vs fairness: {len(ok)} trials",
        xaxis_title=xlabel, yaxis_title=f"validation {metric.name}", template="plotly_white",
        xaxis_range=list(xlim),
        yaxis_range=list(_ylim(y)), legend_title="learner (open: infeasible)",
    )  # fmt: skip
    n_below = int((y < _ylim(y)[0]).sum())
    if n_below:
        fig.add_annotation(
            text=f"{n_below} trial(s) below the view: double-click to show all",
            xref="paper",
            yref="paper",
            x=0.01,
            y=0.99,
            showarrow=False,
            font={"size": 11},
        )
    fig.write_html(path, include_plotlyjs=True, full_html=True)
