"""Rows whose group is unknown: which rows fairness is measured on, and the inferred
memberships of the others (``missing_groups="exclude"`` and ``"infer"``).

Every model trains on every row. Whatever needs a row's group to *fit* (a training
mitigation and a post-processor's rule under ``exclude``, the search's group classifier
in both modes) gets the rows whose group is known; under ``infer`` a training mitigation
gets every row, those without a group in one drawn from its membership
(:func:`drawn_groups`; ``fairautoml.estimators.context.DRAW_UNKNOWN_GROUPS``). Measuring
fairness (the constraints' values and intervals) differs:

* ``exclude``: the rows whose group is known, as if the others were not there;
* ``infer``: those rows, and each other row counted in every group ``g`` with weight
  ``P(g | x, y)`` from a classifier of the group trained on the rows whose group is known
  (Zhu et al., ICML 2023, measure fairness through such proxies). For a model that
  decides without the group, a rate computed this way has the expectation of the rate
  under the true groups when the memberships are the rows' true posteriors (the rows'
  decisions depend on ``x`` only). The classifier learns the groups' shares among the
  known rows; when one group hides its attribute more often, its share among the other
  rows is larger, and memberships with the known rows' shares pull every group's rate
  towards the known rows' majority. So the memberships are re-weighted to the groups'
  shares among the unknown rows, estimated by EM (Saerens, Latinne & Decaestecker,
  2002): exact when whether a group is missing depends on the group alone, and a no-op
  in expectation when it is missing at random. Memberships still average over the rows
  the classifier cannot tell apart, which pulls the rates together; the constraints are
  measured by the rectified estimate (:func:`rectified_weights`), which adds on the known
  rows the error the memberships make, and whose signed weights the bootstrap draws row
  by row (``fairautoml.measures.row_copies``). Measures that take no signed weight
  (several classes, amounts) read the memberships alone; drawn in their Poisson
  bootstrap, a row counted with weight ``p`` in a group is a Poisson(p) count there: the
  draw of the row *and* of its group, so the intervals widen with the memberships'
  uncertainty.

  When the groups can hardly be inferred (:func:`poorly_inferred`), ``infer`` measures
  as ``exclude`` does. Memberships from a weak classifier average over rows it cannot
  tell apart, and a rate weighted by them is pulled towards the overall rate: the gap is
  understated whatever the model does. Under the assumption the share correction makes
  (whether a group is missing depends on the group alone) the known rows' rates are
  unbiased, only from fewer rows.

The target is one of the classifier's features: the measurement rows have it, and
P(g | x, y) is the membership that keeps conditional rates (equalized odds, error
parity) unbiased. Under ``infer`` a post-processor that takes ``sample_weight`` is also
fitted on these rows (:func:`fairautoml.search.post_rows.fitting_rows`), so its rule meets the
constraints as they are measured, on far more rows than the known ones. At predict
time nothing here is used: the searched models decide without the group.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.metrics import balanced_accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold

from fairautoml import exceptions as E
from fairautoml.data.groups import UNKNOWN_GROUP

GROUP_INFERENCE_POOR = (
    "{share:.0%} of the rows have no group, and a classifier of the group from the features "
    "and target reaches only {balanced:.2f} balanced accuracy on the rows whose group is "
    "known: the memberships it infers are close to the groups' shares, and fairness "
    "measured with them would lean towards parity whatever the model does. Fairness is "
    "measured on the rows whose group is known instead (as missing_groups='exclude' "
    "does); collecting the attribute for more rows makes the claim stronger."
)

INFERENCE_FOLDS = 3  # the fold models also infer the unknown rows (each row by one)
# the inferred groups support the claim poorly: rows without a group are at least this
# share, and the classifier recovers less than this share of the way from chance to
# perfect balanced accuracy
POOR_SHARE, POOR_SKILL = 0.1, 0.3
TARGET_FEATURE = "__fairautoml_target__"  # the target as the group classifier's feature


@dataclass(frozen=True)
class FairnessRows:
    """The rows fairness is measured on: positions into the rows given, their groups,
    and their weights (None: one each); with ``probabilities`` (each row's probability of
    each group, given instead of groups: ``groups`` is then the most probable one), the
    measures are estimated from those (:mod:`fairautoml.measures.membership`)."""

    index: np.ndarray
    groups: np.ndarray
    weight: np.ndarray | None
    probabilities: np.ndarray | None = None
    # the rectified estimate's memberships alone (zero on its rectifier's entries): what a
    # measure that takes no signed weight reads; None where ``weight`` is no rectified one
    plain: np.ndarray | None = None

    def take(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values)[self.index]


def fairness_rows(
    groups: np.ndarray,
    membership: np.ndarray | None = None,
    probabilities: np.ndarray | None = None,
    held_out: np.ndarray | None = None,
) -> FairnessRows:
    """Every row with a known group; with ``membership`` (P(group) per row, shape
    (n, n_groups)), also every other row once per group it may belong to, weighted by
    that probability; with ``held_out`` too (each known row's P(group) from a model that
    did not train on it), the rectified estimate (:func:`rectified_weights`). With
    ``probabilities`` (given by the user instead of groups), every row, measured by
    them."""
    groups = np.asarray(groups)
    if probabilities is not None:
        return FairnessRows(np.arange(len(groups)), groups, None, np.asarray(probabilities))
    known = groups != UNKNOWN_GROUP
    if known.all():
        return FairnessRows(np.arange(len(groups)), groups, None)
    kept = np.flatnonzero(known)
    if membership is None:
        return FairnessRows(kept, groups[kept], None)
    membership = np.asarray(membership, dtype=np.float64)
    plain = np.zeros_like(membership)
    plain[~known] = membership[~known]
    plain[kept, groups[kept]] = 1.0
    weight = plain if held_out is None else rectified_weights(groups, plain, held_out)
    rows, entry_groups = np.nonzero((weight != 0) | (plain != 0))  # by row, then group
    return FairnessRows(
        rows,
        entry_groups,
        weight[rows, entry_groups],
        plain=None if held_out is None else plain[rows, entry_groups],
    )


def rectified_weights(
    groups: np.ndarray, membership: np.ndarray, held_out: np.ndarray
) -> np.ndarray:
    """Each row's weight in each group (rows x groups) for the rectified estimate of the
    groups' rates: the memberships, plus on each known row of group ``h`` the rectifier
    ``c_h (1[h = g] - q_g)`` in every group ``g`` (``q`` its ``held_out`` membership;
    ``c_h`` the unknown rows' estimated count of ``h``, the sum of their memberships, over
    the known rows of ``h``).

    Memberships read a model's rate in a group as the membership-weighted mean over the
    unknown rows, biased towards the overall rate wherever the classifier cannot tell the
    groups apart; on the known rows the same classifier's error can be seen, and the
    rectifier subtracts it, scaled to the unknown rows' group shares: prediction-powered
    inference (Angelopoulos et al., Science 2023). Where whether a group is missing depends
    on the group alone (the assumption the share correction makes), the unknown rows of
    ``h`` are like its known rows, and each group's weighted count and rate are unbiased
    whatever the classifier's quality (the shares' estimate aside); a weak classifier
    widens the interval instead of pulling the rates together.
    ``results/inferred_group_estimators/`` measures both on fixed models."""
    known = groups != UNKNOWN_GROUP
    n_groups = membership.shape[1]
    known_counts = np.bincount(groups[known], minlength=n_groups).astype(np.float64)
    unknown_counts = membership[~known].sum(axis=0)
    scale = np.divide(unknown_counts, known_counts, out=np.zeros(n_groups), where=known_counts > 0)
    own = np.eye(n_groups)[groups[known]]
    weight = membership.copy()
    weight[known] += scale[groups[known]][:, None] * (own - held_out[known])
    return weight


def drawn_groups(
    groups: np.ndarray, membership: np.ndarray, random_state: int | None
) -> np.ndarray:
    """Each row's group for training a mitigation: its own where known; for a row without
    one, a group drawn from its membership (seeded by ``random_state``).

    A mitigation fits to the groups (gap reweighing's cell weights, constrained boosting's
    per-group gradients, reweighing). Given the known rows alone it trains on a fraction of
    the table, and on rows that hiding not at random made unlike the others. Over the
    draws a row falls in each group with its membership, so every row trains and each
    group's training rows are, in expectation, the rows the memberships count it by. One
    draw rather than every row once per group weighted by its membership (what the
    post-processors are fitted on, :func:`fairness_rows`): a row's copies on both sides of
    a learner's early-stopping split would have it watch its loss on rows it trains on,
    and the copies add rows to every fit."""
    groups = np.asarray(groups)
    out = groups.copy()
    unknown = np.flatnonzero(groups == UNKNOWN_GROUP)
    if len(unknown) == 0:
        return out
    cumulative = np.cumsum(np.asarray(membership, dtype=np.float64)[unknown], axis=1)
    draws = np.random.default_rng(random_state).random(len(unknown)) * cumulative[:, -1]
    picked = (draws[:, None] >= cumulative).sum(axis=1)
    out[unknown] = np.minimum(picked, cumulative.shape[1] - 1)
    return out


def known_rows(groups: np.ndarray) -> np.ndarray:
    """Positions of the rows whose group is known."""
    return np.flatnonzero(np.asarray(groups) != UNKNOWN_GROUP)


def _with_target(X: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    out = X.copy(deep=False)
    out[TARGET_FEATURE] = np.asarray(y, dtype=np.float64)
    return out


def infer_membership(
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    make_classifier: Any,
    random_state: int | None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """P(group | x, y) for every row whose group is unknown (rows with a known group get
    their own group with probability 1), calibrated (:func:`fitted_calibration`) and
    moved to the groups' shares among those rows (:func:`shifted_to_unknown_shares`);
    the same with each known row's P(group | x, y) from the fold model that did not train
    on it, moved by the same ratio of shares (the rectifier's, :func:`fairness_rows`);
    and how well the groups could be inferred: the classifier's balanced accuracy and log
    loss on the rows whose group is known, each predicted by a model that did not train on
    it, against always predicting the groups' shares; the groups' shares among the known
    rows and, as estimated, among the others. The fold models also infer the unknown rows
    (no model trained on every known row: one fit fewer, inside the search's budget).
    ``make_classifier()`` gives an unfitted scikit-learn classifier."""
    groups = np.asarray(groups)
    known = groups != UNKNOWN_GROUP
    features = _with_target(X, y)
    membership = np.zeros((len(groups), n_groups))
    membership[np.flatnonzero(known), groups[known]] = 1.0
    X_known, g_known = features[known], groups[known]
    held_out = np.zeros((len(g_known), n_groups))
    folds = StratifiedKFold(
        min(INFERENCE_FOLDS, int(np.bincount(g_known).min())), shuffle=True,
        random_state=random_state,
    )  # fmt: skip
    X_unknown = features[~known]
    unknown = np.zeros((len(X_unknown), n_groups))
    # each unknown row is inferred by one fold model, in turn: its probabilities are then
    # as sharp as the held-out ones the calibration is fitted on (a mean of the fold
    # models' would be softer, and re-weighting soft probabilities overshoots the shares)
    turn = np.arange(len(X_unknown)) % folds.get_n_splits()
    for fold, (fit, scored) in enumerate(folds.split(np.zeros(len(g_known)), g_known)):
        model = make_classifier().fit(X_known.iloc[fit], g_known[fit])
        held_out[scored] = _proba(model, X_known.iloc[scored], n_groups)
        mine = turn == fold
        if mine.any():
            unknown[mine] = _proba(model, X_unknown[mine], n_groups)
    temperature, bias = fitted_calibration(held_out, g_known)
    held_out = calibrated(held_out, temperature, bias)
    unknown = calibrated(unknown, temperature, bias)
    shares = np.bincount(g_known, minlength=n_groups) / len(g_known)
    membership[~known], unknown_shares = shifted_to_unknown_shares(unknown, shares)
    # the known rows' held-out memberships moved to the same shares, as the unknown rows'
    # were: what the rectifier of :func:`fairness_rows` compares with the known groups
    held_out_membership = membership.copy()
    held_out_membership[known] = moved_to_shares(held_out, shares, unknown_shares)
    labels = np.arange(n_groups)
    # each row to the group most likely relative to its share: the rule that maximizes
    # balanced accuracy, so a small group is not scored as never inferred
    balanced_choice = (held_out / np.where(shares > 0, shares, 1.0)).argmax(axis=1)
    balanced = float(balanced_accuracy_score(g_known, balanced_choice))
    chance = 1.0 / n_groups
    quality = {
        "unknown_share": float(np.mean(~known)),
        "temperature": temperature,
        "bias": bias.tolist(),
        "known_shares": shares.tolist(),
        "unknown_shares": unknown_shares.tolist(),
        "balanced_accuracy": balanced,
        "skill": (balanced - chance) / (1.0 - chance),
        "log_loss": float(log_loss(g_known, held_out, labels=labels)),
        "log_loss_of_shares": float(
            log_loss(g_known, np.tile(shares, (len(g_known), 1)), labels=labels)
        ),
    }
    return membership, held_out_membership, quality


def fitted_calibration(proba: np.ndarray, groups: np.ndarray) -> tuple[float, np.ndarray]:
    """A temperature and a bias per group that make held-out probabilities of the groups
    calibrated: least log loss, bias-corrected temperature scaling (Alexandari et al.,
    2020, "Maximum Likelihood with Bias-Corrected Calibration is Hard-To-Beat at Label
    Shift Adaptation"). Boosted trees are over-confident on a small or rare group, and
    re-weighting to new shares (:func:`shifted_to_unknown_shares`) is only as right as the
    probabilities it re-weights; the biases keep the calibrated probabilities' mean at the
    groups' shares, which a temperature alone flattens and the re-weighting divides by."""
    logp = np.log(np.clip(proba, 1e-12, 1.0))
    rows = np.arange(len(groups))

    def loss(theta: np.ndarray) -> float:
        z = logp / np.exp(theta[0]) + theta[1:]
        return float(-log_softmax(z, axis=1)[rows, groups].mean())

    start = np.zeros(proba.shape[1] + 1)
    bounds = [(-3.0, 3.0)] + [(-20.0, 20.0)] * proba.shape[1]
    fit = minimize(loss, start, method="L-BFGS-B", bounds=bounds)
    return float(np.exp(fit.x[0])), fit.x[1:] - fit.x[1:].mean()


def calibrated(proba: np.ndarray, temperature: float, bias: np.ndarray) -> np.ndarray:
    """``proba`` with its log-probabilities divided by ``temperature`` and shifted by
    ``bias``, renormalized (a group at probability 0 stays there)."""
    if len(proba) == 0:
        return proba
    with np.errstate(divide="ignore"):
        logp = np.log(proba)
    return np.exp(log_softmax(logp / temperature + bias, axis=1))


def shifted_to_unknown_shares(
    proba: np.ndarray, known_shares: np.ndarray, tol: float = 1e-7, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """``proba`` (P(group | x, y) learnt on rows with the groups' ``known_shares``) moved to
    the groups' shares among these rows, and those shares: the EM of Saerens, Latinne &
    Decaestecker (2002, "Adjusting the outputs of a classifier to new a priori
    probabilities"), which alternates re-weighting each row's probabilities by the ratio of
    shares and taking the new shares as their mean. A group absent from the known rows
    stays at 0."""
    proba = np.asarray(proba, dtype=np.float64)
    if len(proba) == 0:
        return proba, np.asarray(known_shares, dtype=np.float64)
    shares = np.asarray(known_shares, dtype=np.float64)
    adjusted = proba
    for _ in range(max_iter):
        adjusted = moved_to_shares(proba, known_shares, shares)
        new = adjusted.mean(axis=0)
        if np.abs(new - shares).max() < tol:
            break
        shares = new
    return adjusted, adjusted.mean(axis=0)


def moved_to_shares(
    proba: np.ndarray, from_shares: np.ndarray, to_shares: np.ndarray
) -> np.ndarray:
    """``proba`` (learnt where the groups had ``from_shares``) re-weighted by the ratio of
    shares and renormalized: the posteriors where the groups have ``to_shares`` (a row whose
    probabilities all vanish keeps its own)."""
    adjusted = proba * (to_shares / np.where(from_shares > 0, from_shares, 1.0))
    total = adjusted.sum(axis=1, keepdims=True)
    return np.divide(adjusted, total, out=proba.copy(), where=total > 0)


def _proba(model: Any, X: pd.DataFrame, n_groups: int) -> np.ndarray:
    """P(group) of every group code (a fold may lack a small group: probability 0)."""
    out = np.zeros((len(X), n_groups))
    out[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(X)
    return out


def poorly_inferred(quality: dict[str, Any]) -> bool:
    """Whether many rows have no group and their groups could hardly be inferred: fairness
    measured with their memberships would lean towards parity whatever the model does."""
    return quality["unknown_share"] >= POOR_SHARE and quality["skill"] < POOR_SKILL


def warn_if_poor(quality: dict[str, Any]) -> None:
    """A :class:`~fairautoml.exceptions.GroupInferenceWarning` when the groups were too
    poorly inferred to measure fairness with (:func:`poorly_inferred`)."""
    if poorly_inferred(quality):
        warnings.warn(
            GROUP_INFERENCE_POOR.format(
                share=quality["unknown_share"], balanced=quality["balanced_accuracy"]
            ),
            E.GroupInferenceWarning,
            stacklevel=3,
        )
