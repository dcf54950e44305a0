"""A model file written by an earlier version still opens, without ``trusted``, and decides
as it did. ``tests/data/model_2026-11-27.skops.gz`` was written on 2026-11-27 (before the
package's modules were regrouped, issue "The house as packages") by::

    X, y, s = fairautoml.datasets.load("german")
    FairAutoML(learners=["logistic_regression"], n_trials=1, time_budget=None,
               random_state=0, ensemble=False, confirm=False, cv_folds=None,
               decision_rule="group_aware", mitigators=["group_thresholds"]
               ).fit(X, y, s).save("model.skops")

with its predictions on every 25th row in ``model_2026-11-27.json``. A move of a class the
file names (``fairautoml.model.FairModel`` when it was written, now
``fairautoml.model.fair_model.FairModel``)
must keep this test green: map the old name to the new class in the model-file gate, or
say in the changelog that older files no longer open."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

import fairautoml

DATA = Path(__file__).parent / "data"


def test_a_model_file_of_2026_11_27_opens_and_decides_as_it_did(tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(gzip.decompress((DATA / "model_2026-11-27.skops.gz").read_bytes()))
    expected = json.loads((DATA / "model_2026-11-27.json").read_text())
    model = fairautoml.load(path)  # no trusted: every type it holds is allow-listed
    X, _, s = fairautoml.datasets.load("german")
    rows = expected["rows"]
    assert model.best_config_["model"] == expected["model"]
    assert model.predict(X.iloc[rows], s.iloc[rows]).tolist() == expected["predictions"]
    proba = model.predict_proba(X.iloc[rows], s.iloc[rows])[:, 1]
    np.testing.assert_allclose(proba, expected["proba"], atol=1e-9)
