"""scikit-learn's own estimator checks over ``FairAutoMLRegressor``.

As for the classifier (``tests/test_sklearn_checks.py``): the checks fit without groups,
so rows alternate between two made-up groups; the smallest search (one ridge regression,
no mitigation, a holdout). The checks it fails are in ``EXPECTED_FAILURES`` with reasons.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse
from sklearn.utils.estimator_checks import parametrize_with_checks

from fairautoml import FairAutoMLRegressor
from fairautoml.exceptions import FairAutoMLWarning


class AlternatingGroupsRegressor(FairAutoMLRegressor):
    """FairAutoMLRegressor whose rows alternate between groups "a" and "b" when none are
    given."""

    def fit(self, X, y, sensitive_features=None):
        if sensitive_features is None:
            n_rows = X.shape[0] if scipy.sparse.issparse(X) else len(np.asarray(X))
            sensitive_features = np.where(np.arange(n_rows) % 2 == 0, "a", "b")
        with warnings.catch_warnings():  # the pick's caveats on a one-trial search
            warnings.simplefilter("ignore", FairAutoMLWarning)
            return super().fit(X, y, sensitive_features=sensitive_features)


SMALLEST = dict(
    time_budget=None,
    n_trials=1,
    learners=["ridge"],
    mitigators=[],
    cv_folds=None,
    validation_fraction=0.5,
    confirm=False,
    min_group_size=1,
    random_state=0,
)

OUR_WORDS = (
    "fit or predict refuses the input, but says why in its own words (InputError, a "
    "ValueError), which do not contain the phrase the check looks for"
)
EXPECTED_FAILURES: dict[str, str] = {
    "check_n_features_in_after_fitting": OUR_WORDS + " ('does not have the columns seen in fit')",
    "check_fit2d_predict1d": OUR_WORDS + " ('does not have the columns seen in fit')",
    "check_complex_data": OUR_WORDS + " ('holds complex values, which no learner can use')",
    "check_estimators_empty_data_messages": OUR_WORDS + " ('X is empty (12 rows, 0 columns)')",
    "check_fit2d_1sample": OUR_WORDS + " (one row: 'a single value in every row')",
    "check_fit1d": "a 1-D X is read as one feature column (as_frame), kept on purpose",
}


@parametrize_with_checks(
    [AlternatingGroupsRegressor(**SMALLEST)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
