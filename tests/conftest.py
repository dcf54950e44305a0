from __future__ import annotations

import pandas as pd
import pytest

import fairautoml
from fairautoml.testing import make_biased


@pytest.fixture(scope="session")
def german() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    return fairautoml.datasets.load("german")


@pytest.fixture
def biased():
    return make_biased()
