"""Bundled real fairness datasets: ``load(name) -> (X, y, s)``. See ``data/README.md``.

Each dataset declares its task: ``"binary"`` (the target becomes 0/1, 1 = the favourable
label), ``"regression"`` (a float target) or ``"multiclass"`` (the labels as published).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from fairautoml.exceptions import unknown_name


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    file: str
    target: str
    positive: str | None  # the favourable label; None for regression and multiclass
    sensitive: tuple[str, ...]  # first is the default
    description: str
    features: tuple[str, ...] | None = None  # None: every other column
    categorical: tuple[str, ...] = ()  # integer-coded columns returned as pandas category
    task: str = "binary"  # one of TASKS


TASKS = ("binary", "regression", "multiclass")
TARGET_ROWS_DROPPED = (
    "{name}: the target '{target}' is missing in {n:,} of {total:,} rows; load() drops "
    "those rows and returns the {kept:,} with a target (read_raw('{name}') has them all)."
)


def _german_sensitive(frame: pd.DataFrame) -> dict[str, pd.Series]:
    female = frame["personal_status_sex"].isin(["A92", "A95"])
    return {
        "sex": pd.Series(np.where(female, "female", "male"), name="sex"),
        "age": pd.Series(np.where(frame["age"] <= 25, "<=25", ">25"), name="age"),
    }


def _compas_sensitive(frame: pd.DataFrame) -> dict[str, pd.Series]:
    race = frame["race"].replace({"Asian": "Other", "Native American": "Other"})
    return {"race": race.rename("race"), "sex": frame["sex"].rename("sex")}


def _dutch_sensitive(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {"sex": pd.Series(np.where(frame["sex"] == 2, "female", "male"), name="sex")}


# the inputs of the COMPAS screening a model may use (not its scores, not the outcomes)
_COMPAS_FEATURES = (
    "sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count",
    "juv_other_count", "priors_count", "c_charge_degree", "days_b_screening_arrest",
)  # fmt: skip

DATASETS: dict[str, DatasetInfo] = {
    "adult": DatasetInfo(
        "adult", "adult.csv.gz", "income", ">50K", ("sex", "race"),
        "UCI Adult census income, 48,842 rows: income >50K.",
    ),
    "compas": DatasetInfo(
        "compas", "compas.csv.gz", "two_year_recid", "1", ("race", "sex"),
        "ProPublica COMPAS, 7,214 rows: re-arrest within two years.",
        features=_COMPAS_FEATURES,
    ),
    "compas_tiers": DatasetInfo(
        "compas_tiers", "compas.csv.gz", "score_text", None, ("race", "sex"),
        "ProPublica COMPAS, 7,214 rows: the risk tool's tier (Low, Medium, High).",
        features=_COMPAS_FEATURES,
        task="multiclass",
    ),
    "dutch": DatasetInfo(
        "dutch", "dutch.csv.gz", "occupation", "2_1", ("sex",),
        "Dutch census 2001 (CBS / IPUMS-I), 60,420 rows: high-level occupation.",
        categorical=(
            "household_position", "household_size", "prev_residence_place", "citizenship",
            "country_birth", "edu_level", "economic_status", "cur_eco_activity",
            "Marital_status",
        ),  # age (an ordered 5-year age-group code) stays numeric
    ),
    "german": DatasetInfo(
        "german", "german.csv.gz", "credit_risk", "1", ("sex", "age"),
        "UCI Statlog German credit, 1,000 rows: good credit risk.",
    ),
    "hmda": DatasetInfo(
        "hmda", "hmda.csv.gz", "deny", "no", ("afam",),
        "Boston HMDA 1990 (Munnell et al.), 2,380 rows: mortgage granted (deny = no).",
    ),
    "arrests": DatasetInfo(
        "arrests", "arrests.csv.gz", "released", "Yes", ("colour", "sex"),
        "Toronto marijuana possession arrests 1997-2002, 5,226 rows: released with a summons.",
    ),
    "cps1988": DatasetInfo(
        "cps1988", "cps1988.csv.gz", "wage", None, ("ethnicity",),
        "US CPS March 1988 (Bierens & Ginther), 28,155 men: weekly wage in dollars.",
        task="regression",
    ),
    "slid": DatasetInfo(
        "slid", "slid.csv.gz", "wages", None, ("sex", "language"),
        "Ontario SLID 1994, 4,147 rows with a wage (of 7,425): hourly wage in dollars.",
        task="regression",
    ),
    "cps1988_bands": DatasetInfo(
        "cps1988_bands", "cps1988.csv.gz", "wage", None, ("ethnicity",),
        "US CPS March 1988, 28,155 men: pay band (low < $400, middle, high >= $700 a week).",
        task="multiclass",
    ),
    "slid_bands": DatasetInfo(
        "slid_bands", "slid.csv.gz", "wages", None, ("sex", "language"),
        "Ontario SLID 1994, 4,147 rows with a wage: pay band (low < $10, middle, high >= $18 "
        "an hour).",
        task="multiclass",
    ),
    "bankwages": DatasetInfo(
        "bankwages", "bankwages.csv.gz", "job", None, ("gender", "minority"),
        "US bank employees (1970s), 474 rows: job category (admin, custodial, manage).",
        task="multiclass",
    ),
}  # fmt: skip

_DERIVED: dict[str, Callable[[pd.DataFrame], dict[str, pd.Series]]] = {
    "german": _german_sensitive,
    "compas": _compas_sensitive,
    "compas_tiers": _compas_sensitive,
    "dutch": _dutch_sensitive,
}
# a multiclass target made from a published amount: the band edges, lower edge inclusive
PAY_BANDS: dict[str, tuple[float, float]] = {
    "cps1988_bands": (400.0, 700.0),
    "slid_bands": (10.0, 18.0),
}
PAY_BAND_LABELS = ("low", "middle", "high")
_DROP = {"adult": ("split",), "german": ("personal_status_sex",)}


def read_raw(name: str) -> pd.DataFrame:
    """The bundled file as published (see the dataset card)."""
    info = _info(name)
    with resources.as_file(resources.files(__package__) / "data" / info.file) as path:
        return pd.read_csv(path)


def load(
    name: str, sensitive: str | None = None, *, labels: str = "codes"
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """``(X, y, s)``: features, target, sensitive attribute.

    The target follows the dataset's ``task``: binary targets become 0/1 (1 = the
    positive label, e.g. HMDA's ``deny == "no"``: the mortgage granted), or with
    ``labels="original"`` keep the file's labels (``'>50K'``, ``'no'``: the CLI fits on
    them, so that its model predicts and audits in the labels a user's own copy of the
    table holds; the favourable one is the dataset's ``positive``), regression
    targets are float, multiclass targets keep their labels (the pay-band tables,
    ``cps1988_bands`` and ``slid_bands``, cut the published wage at :data:`PAY_BANDS`).
    Rows without a target (SLID's wages) cannot be learned from or scored, so they are
    dropped with a ``UserWarning`` that gives the count; missing feature values are kept,
    for the search's imputation (SLID's ``language``, as a sensitive attribute, has missing values
    that fit rejects: drop those rows first).

    The sensitive attribute is not among the features. COMPAS's tiny race groups (Asian,
    Native American: 50 rows) are merged into 'Other'; German credit's sex is derived
    from ``personal_status_sex`` (which is then dropped, as it encodes sex). The Dutch
    census's sex codes become 'male' (1) / 'female' (2) and its integer-coded columns
    (all but ``age``) are returned as pandas ``category`` with the codes as categories.
    """
    info = _info(name)
    frame = _rows_with_target(read_raw(name), info)
    sensitive = sensitive or info.sensitive[0]
    if sensitive not in info.sensitive:
        raise unknown_name(f"sensitive attribute of {name}", sensitive, info.sensitive)
    derived = _DERIVED[name](frame) if name in _DERIVED else {}
    s = (derived[sensitive] if sensitive in derived else frame[sensitive]).rename(sensitive)
    if labels not in ("codes", "original"):
        raise unknown_name("labels", labels, ["codes", "original"])
    y = _target(frame, info) if labels == "codes" else _original_target(frame, info)
    columns = list(info.features) if info.features else list(frame.columns)
    drop = {info.target, sensitive, *_DROP.get(name, ())}
    X = frame[[c for c in columns if c not in drop]]
    coded = [c for c in info.categorical if c in X.columns]
    if coded:
        X = X.astype(dict.fromkeys(coded, "category"))
    return X, y, s


def _rows_with_target(frame: pd.DataFrame, info: DatasetInfo) -> pd.DataFrame:
    missing = frame[info.target].isna()
    if not missing.any():
        return frame
    n, total = int(missing.sum()), len(frame)
    message = TARGET_ROWS_DROPPED.format(
        name=info.name, target=info.target, n=n, total=total, kept=total - n
    )
    warnings.warn(message, UserWarning, stacklevel=3)
    return frame.loc[~missing].reset_index(drop=True)


# the dtype of a target by its card's task (amounts are floats); others as the file has them
TARGET_DTYPES = {"regression": np.float64}


def _target(frame: pd.DataFrame, info: DatasetInfo) -> pd.Series:
    target = frame[info.target]
    if info.name in PAY_BANDS:
        return _pay_band(target, PAY_BANDS[info.name])
    if info.positive is not None:  # a yes/no target: 1 for the favourable label
        return (target.astype(str) == info.positive).astype(np.int64).rename(info.target)
    return target.astype(TARGET_DTYPES[info.task]) if info.task in TARGET_DTYPES else target


def _original_target(frame: pd.DataFrame, info: DatasetInfo) -> pd.Series:
    """The target with the labels of the file (a binary target's as text)."""
    if info.positive is not None:
        return frame[info.target].astype(str).rename(info.target)
    return _target(frame, info)


def positive_label(name: str) -> str | None:
    """The favourable label of a bundled dataset's binary target (None otherwise)."""
    return _info(name).positive


def _pay_band(amount: pd.Series, edges: tuple[float, float]) -> pd.Series:
    """Pay bands as a user's grading rule would assign them: below the first edge low,
    from the second edge on high."""
    band = np.searchsorted(np.asarray(edges), amount.to_numpy(dtype=float), side="right")
    return pd.Series(np.asarray(PAY_BAND_LABELS, dtype=object)[band], name=amount.name)


def available() -> list[DatasetInfo]:
    return list(DATASETS.values())


def _info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise unknown_name("dataset", name, DATASETS)
    return DATASETS[name]
