"""What the card compares the pick with, on the rows its claim rests on: the trivial model
(approve everyone, the majority class, the mean amount) and each attribute's impact ratio.

A score means little without the trivial model's beside it (where most applicants are
approved, approving everyone already scores high), and the four-fifths rule (the lowest
group's selection rate over the highest's, flagged below 0.8) is the first number a US
lending or hiring reviewer asks for, whatever the constraint was. Both read the pick's evidence
(:func:`~fairautoml.report.evidence.report_predictions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fairautoml.measures.group_tables import FOUR_FIFTHS
from fairautoml.report.evidence import report_predictions


@dataclass(frozen=True)
class ImpactRatio:
    """One attribute's lowest over highest group selection rate of the favourable
    outcome, on the evidence rows."""

    attribute: str
    ratio: float
    lowest: tuple[str, float]  # group, selection rate
    highest: tuple[str, float]

    @property
    def below_four_fifths(self) -> bool:
        return bool(self.ratio < FOUR_FIFTHS)


def trivial_baselines(automl: Any, ctx: Any, data: Any) -> list[tuple[str, float]]:
    """(what, the metric's value) of the trivial models on the evidence rows: for
    decisions, approving everyone (the favourable outcome for all) and the majority class;
    for amounts, the mean of the target."""
    y_true, _, _ = report_predictions(automl, ctx, data)
    metric, n = ctx.metric, len(y_true)
    if n == 0:
        return []
    if ctx.data.classes is None:  # amounts: the mean, as a constant prediction
        constant = np.full(n, float(np.mean(y_true)))
        return [("predicting the mean amount", float(metric.measure(y_true, constant, constant)))]
    k = len(ctx.data.classes)
    out = []
    counts = np.bincount(y_true.astype(np.int64), minlength=k)
    favourable = _favourable_codes(automl, ctx)
    if k == 2 and favourable:
        everyone = np.full(n, favourable[0], dtype=np.int64)
        proba = np.full(n, 1.0) if favourable[0] == 1 else np.zeros(n)
        label = ctx.data.classes[favourable[0]]
        out.append(
            (f"deciding {label!s} for everyone", _measure(metric, y_true, everyone, proba, k))
        )
    majority = int(np.argmax(counts))
    pred = np.full(n, majority, dtype=np.int64)
    proba = _constant_proba(majority, n, k)
    label = ctx.data.classes[majority]
    out.append(
        (f"the majority class ({label!s}) for everyone", _measure(metric, y_true, pred, proba, k))
    )
    return out


def _constant_proba(code: int, n: int, k: int) -> np.ndarray:
    if k == 2:
        return np.full(n, float(code))
    proba = np.zeros((n, k))
    proba[:, code] = 1.0
    return proba


def _measure(metric: Any, y: np.ndarray, pred: np.ndarray, proba: np.ndarray, k: int) -> float:
    try:
        return float(metric.measure(y, pred, proba))
    except Exception:  # a metric a constant cannot be scored on (e.g. an AUC)
        return float("nan")


def _favourable_codes(automl: Any, ctx: Any) -> list[int]:
    """The class codes of the favourable outcome(s) (the fit's positive label)."""
    positive = automl.fit_summary_.positive_label
    wanted = positive if isinstance(positive, list) else [positive]
    classes = [str(c) for c in ctx.data.classes]
    return [classes.index(str(w)) for w in wanted if str(w) in classes]


def impact_ratios(automl: Any, ctx: Any, data: Any) -> list[ImpactRatio]:
    """Each sensitive attribute's impact ratio of the favourable outcome on the evidence
    rows (several attributes: each attribute's groups pooled over the others); none for
    amounts."""
    if ctx.data.classes is None:
        return []
    favourable = _favourable_codes(automl, ctx)
    if not favourable:
        return []
    _, pred, labels = report_predictions(automl, ctx, data)
    encoder = ctx.data.group_encoder
    code_of = {label: code for code, label in enumerate(encoder.labels)}
    cells = np.array([code_of[label] for label in labels], dtype=np.int64)
    selected = np.isin(pred, favourable)
    out = []
    for attribute in encoder.names:
        project, names = encoder.projection([attribute])
        groups = project[cells]
        rates = {names[g]: float(selected[groups == g].mean()) for g in np.unique(groups)}
        if len(rates) < 2:
            continue
        low = min(rates, key=rates.__getitem__)
        high = max(rates, key=rates.__getitem__)
        ratio = rates[low] / rates[high] if rates[high] > 0 else float("nan")
        out.append(ImpactRatio(attribute, ratio, (low, rates[low]), (high, rates[high])))
    return out
