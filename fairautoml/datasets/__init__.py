"""Bundled real fairness datasets: ``load(name) -> (X, y, s)``. See ``data/README.md``."""

from __future__ import annotations

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
    positive: str
    sensitive: tuple[str, ...]  # first is the default
    description: str
    features: tuple[str, ...] | None = None  # None: every other column
    categorical: tuple[str, ...] = ()  # integer-coded columns returned as pandas category


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


DATASETS: dict[str, DatasetInfo] = {
    "adult": DatasetInfo(
        "adult", "adult.csv.gz", "income", ">50K", ("sex", "race"),
        "UCI Adult census income, 48,842 rows: income >50K.",
    ),
    "compas": DatasetInfo(
        "compas", "compas.csv.gz", "two_year_recid", "1", ("race", "sex"),
        "ProPublica COMPAS, 7,214 rows: re-arrest within two years.",
        features=(
            "sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count",
            "juv_other_count", "priors_count", "c_charge_degree", "days_b_screening_arrest",
        ),
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
}  # fmt: skip

_DERIVED: dict[str, Callable[[pd.DataFrame], dict[str, pd.Series]]] = {
    "german": _german_sensitive,
    "compas": _compas_sensitive,
    "dutch": _dutch_sensitive,
}
_DROP = {"adult": ("split",), "german": ("personal_status_sex",)}


def read_raw(name: str) -> pd.DataFrame:
    """The bundled file as published (see the dataset card)."""
    info = _info(name)
    with resources.as_file(resources.files(__package__) / "data" / info.file) as path:
        return pd.read_csv(path)


def load(name: str, sensitive: str | None = None) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """``(X, y, s)``: features, 0/1 target (1 = the positive label), sensitive attribute.

    The sensitive attribute is not among the features. COMPAS's tiny race groups (Asian,
    Native American: 50 rows) are merged into 'Other'; German credit's sex is derived
    from ``personal_status_sex`` (which is then dropped, as it encodes sex). The Dutch
    census's sex codes become 'male' (1) / 'female' (2) and its integer-coded columns
    (all but ``age``) are returned as pandas ``category`` with the codes as categories.
    """
    info = _info(name)
    frame = read_raw(name)
    sensitive = sensitive or info.sensitive[0]
    if sensitive not in info.sensitive:
        raise unknown_name(f"sensitive attribute of {name}", sensitive, info.sensitive)
    derived = _DERIVED[name](frame) if name in _DERIVED else {}
    s = (derived[sensitive] if sensitive in derived else frame[sensitive]).rename(sensitive)
    y = (frame[info.target].astype(str) == info.positive).astype(np.int64).rename(info.target)
    columns = list(info.features) if info.features else list(frame.columns)
    drop = {info.target, sensitive, *_DROP.get(name, ())}
    X = frame[[c for c in columns if c not in drop]]
    coded = [c for c in info.categorical if c in X.columns]
    if coded:
        X = X.astype(dict.fromkeys(coded, "category"))
    return X, y, s


def available() -> list[DatasetInfo]:
    return list(DATASETS.values())


def _info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise unknown_name("dataset", name, DATASETS)
    return DATASETS[name]
