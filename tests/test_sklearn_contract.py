"""What scikit-learn's metrics expect of a classifier's input and output."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fairautoml import FairAutoML


def test_predictions_have_the_targets_dtype(biased):
    """Integer labels come back as integers, so sklearn's metrics take predict's output."""
    from sklearn.metrics import accuracy_score

    X, y, s = biased
    y_int = np.asarray(y).astype(np.int64)
    est = FairAutoML(time_budget=None, n_trials=1, learners=["logistic_regression"],
                     mitigators=[], random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pick's caveat: one trial, no mitigation
        est.fit(X, y_int, sensitive_features=s)
    pred = est.predict(X, sensitive_features=s)
    assert pred.dtype == y_int.dtype and est.classes_.dtype == y_int.dtype
    assert 0.5 < accuracy_score(y_int, pred) <= 1.0


def test_sparse_x_is_refused_with_the_fix(biased):
    import scipy.sparse

    from fairautoml.exceptions import InputError

    X, y, s = biased
    sparse = scipy.sparse.csr_matrix(X.select_dtypes("number").to_numpy())
    with pytest.raises(InputError, match=r"sparse input is not supported.*toarray"):
        FairAutoML(n_trials=1, time_budget=None).fit(sparse, y, sensitive_features=s)
