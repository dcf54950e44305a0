"""Benchmark data: load a dataset spec, make synthetic biased tables, split 60/20/20."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fairautoml import datasets
from fairautoml.bench.specs import DatasetSpec
from fairautoml.data.groups import GROUP_SEPARATOR
from fairautoml.exceptions import ConfigurationError
from fairautoml.tasks import Task as TargetTask
from fairautoml.tasks import get_task, infer_task

FRACTIONS = (0.6, 0.2, 0.2)  # train, validation, test


def make_synthetic(
    n_rows: int,
    n_features: int = 30,
    bias: float = 1.0,
    seed: int = 0,
    interactions: int = 0,
    signal: float = 1.0,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """A table with a known amount of group bias: ``(X, y, s)``.

    Two groups (30% in group "b"). Five features are proxies of the group (their mean
    shifts by 0.8 in group "b", their weights are positive), the rest are independent. The
    label is a logistic model of the features plus ``bias`` on the log-odds of group "b",
    so ``bias=0`` leaves only the proxies' indirect effect and larger values widen the
    base-rate gap. The sensitive
    attribute is not among the features.

    ``interactions`` > 0 adds that many terms ``1.5 * sign(x_a) * sign(x_b)`` of pairs of
    non-proxy features to the log-odds, and ``signal`` scales them all: a target no linear
    model reaches, where more rows and larger tree models keep paying (the big-table check
    of ``experiments/scale.yaml``, which says what a plain LightGBM reaches on it). The
    defaults leave the linear tables as they were.

    The label model (its weights) depends on ``seed`` and ``n_features`` only, so tables of
    different sizes are samples of one population: a larger table is more data of the same
    problem, and the best accuracy reachable is the same at every size.
    """
    if n_features < 6:
        raise ConfigurationError(f"synthetic data needs n_features >= 6; got {n_features}.")
    weights = np.random.default_rng([seed, 1]).normal(0.0, 1.0, n_features)
    weights[:5] = np.abs(weights[:5])  # the proxies favour group "b", as the bias does
    weights /= np.sqrt(n_features / 4)
    rng = np.random.default_rng(seed)
    group = (rng.random(n_rows) < 0.3).astype(np.int8)
    X = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    X[:, :5] += 0.8 * group[:, None]
    logits = X @ weights.astype(np.float32) + bias * group - 0.5
    if interactions:
        pairs = np.random.default_rng([seed, 2]).choice(
            np.arange(5, n_features), size=(interactions, 2)
        )
        for a, b in pairs:
            logits += 1.5 * np.sign(X[:, a]) * np.sign(X[:, b])
    logits *= signal
    y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logits))).astype(np.int8)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(n_features)])
    s = pd.Series(np.where(group == 1, "b", "a"), name="group")
    return frame, pd.Series(y, name="label"), s


def _csv(spec: DatasetSpec) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    frame = pd.read_csv(spec.csv)
    missing = [c for c in (spec.target, *spec.sensitive) if c not in frame.columns]
    if missing:
        raise ConfigurationError(
            f"Dataset {spec.name!r}: column(s) {missing} not in {spec.csv}. Columns: "
            f"{', '.join(map(str, frame.columns))}."
        )
    sens = frame[spec.sensitive[0]].astype(str)
    for name in spec.sensitive[1:]:  # column-wise: a row-wise join is slow on big tables
        sens = sens + GROUP_SEPARATOR + frame[name].astype(str)
    X = frame.drop(columns=[spec.target, *spec.sensitive])
    return X, frame[spec.target], sens.rename("+".join(spec.sensitive))


def dataset_task(spec: DatasetSpec, y: pd.Series | np.ndarray) -> TargetTask:
    """The dataset's task: a bundled table's declared ``task``, else inferred from ``y``."""
    if spec.bundled is not None:
        return get_task(datasets.DATASETS[spec.bundled].task)
    return infer_task(y)


@lru_cache(maxsize=4)
def load_dataset(spec: DatasetSpec) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """``(X, y, s)`` for a spec (cached per process; callers must not modify them)."""
    if spec.bundled is not None:
        X, y, s = datasets.load(spec.bundled, spec.sensitive[0] if spec.sensitive else None)
    elif spec.csv is not None:
        X, y, s = _csv(spec)
    else:
        X, y, s = make_synthetic(**dict(spec.synthetic or ()))
    missing = [c for c in spec.drop if c not in X.columns]
    if missing:
        raise ConfigurationError(
            f"Dataset {spec.name!r}: drop names column(s) {missing} it does not have. "
            f"Columns: {', '.join(map(str, X.columns))}."
        )
    X = X.drop(columns=list(spec.drop))
    if spec.max_rows is not None and len(X) > spec.max_rows:
        task = dataset_task(spec, y)
        codes = task.strata(task.prepare_target(y, len(y))[0])
        keep, _ = train_test_split(
            np.arange(len(X)), train_size=spec.max_rows, random_state=0, stratify=_strata(codes, s)
        )
        keep = np.sort(keep)
        X, y, s = X.iloc[keep], y.iloc[keep], s.iloc[keep]
    return X.reset_index(drop=True), y.reset_index(drop=True), s.reset_index(drop=True)


def _strata(y: pd.Series | np.ndarray, s: pd.Series | np.ndarray) -> np.ndarray:
    """Target x group labels; target alone when some stratum is too small to split.
    ``y``: the task's strata codes of the target (a class, or an amount's quantile bin)."""
    labels = pd.Series(np.asarray(y)).astype(str) + "|" + pd.Series(np.asarray(s)).astype(str)
    counts = labels.value_counts()
    return labels.to_numpy() if counts.min() >= 5 else np.asarray(y)


@dataclass(frozen=True)
class Split:
    """Row positions of the train, validation and test parts."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def split_rows(
    y: pd.Series | np.ndarray,
    s: pd.Series | np.ndarray,
    seed: int,
    task: TargetTask | str = "binary",
) -> Split:
    """Disjoint 60/20/20 train/validation/test rows, stratified on the target's strata (the
    ``task``'s: the class, or an amount's quantile bin) x group."""
    idx = np.arange(len(y))
    y_arr, s_arr = get_task(task).strata(np.asarray(y)), np.asarray(s)
    rest, test = train_test_split(
        idx, test_size=FRACTIONS[2], random_state=seed, stratify=_strata(y_arr, s_arr)
    )
    val_share = FRACTIONS[1] / (FRACTIONS[0] + FRACTIONS[1])
    train, val = train_test_split(
        rest,
        test_size=val_share,
        random_state=seed,
        stratify=_strata(y_arr[rest], s_arr[rest]),
    )
    return Split(np.sort(train), np.sort(val), np.sort(test))


MAX_HIDDEN_CHANCE = 0.98  # a group keeps at least about 2% of its rows' groups


def hidden_group_rows(
    s: np.ndarray, rows: np.ndarray, hide: tuple[tuple[str, object], ...], seed: int
) -> np.ndarray:
    """Which of ``rows`` (train and validation) lose their group under the dataset's
    ``hide_groups``: each independently, with probability ``share`` (missing at random), or
    ``factor`` times as likely in the group ``more_in`` with the same expected share
    overall (missing more often in one group), each row's chance capped at
    :data:`MAX_HIDDEN_CHANCE`. Where the cap binds, the group keeps about 2% of its groups
    at every share that reaches it, and the overall share falls short of ``share``
    (``results/missing_groups/README.md`` says by how much on its tables). Test rows always
    keep theirs."""
    options = dict(hide)
    share, more_in, factor = options["share"], options["more_in"], options["factor"]
    labels = np.asarray(s)[rows].astype(str)
    if more_in is not None and str(more_in) not in set(labels):
        raise ConfigurationError(
            f"hide_groups.more_in names {more_in!r}, which is not a group of these rows: "
            f"{', '.join(sorted(set(labels)))}."
        )
    odds = np.where(labels == str(more_in), factor, 1.0) if more_in is not None else 1.0
    chance = np.clip(share * odds / np.mean(odds), 0.0, MAX_HIDDEN_CHANCE)
    rng = np.random.default_rng([seed, 40])
    return rows[rng.random(len(rows)) < chance]


def subsample_fit_rows(
    split: Split,
    y: np.ndarray,
    s: np.ndarray,
    n: int,
    seed: int,
    task: TargetTask | str = "binary",
) -> Split:
    """Keep at most ``n`` train + validation rows (stratified, same 3:1 ratio); test intact.

    A method given this option searches *and* refits on the subsample: the cheapest
    fidelity, for tables too large to search on in the budget.
    """
    if n >= len(split.train) + len(split.val):
        return split
    y = get_task(task).strata(np.asarray(y))

    def keep(rows: np.ndarray, k: int) -> np.ndarray:
        if k >= len(rows):
            return rows
        kept, _ = train_test_split(
            rows, train_size=k, random_state=seed, stratify=_strata(y[rows], s[rows])
        )
        return np.sort(kept)

    n_val = round(n * FRACTIONS[1] / (FRACTIONS[0] + FRACTIONS[1]))
    return Split(keep(split.train, n - n_val), keep(split.val, n_val), split.test)
