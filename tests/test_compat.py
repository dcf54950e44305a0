"""The private names fairautoml reads (``fairautoml._compat``), pinned to the versions they
were checked on: an upgrade that moves one fails here first."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from fairautoml._compat import sklearn_tree_types

REVIEWED_SKLEARN = ("1.6", "1.7", "1.8", "1.9")


def test_scikit_learn_is_a_reviewed_version():
    assert version("scikit-learn").rsplit(".", 1)[0] in REVIEWED_SKLEARN, version("scikit-learn")


def test_the_tree_types_hold_what_the_gate_reads():
    Tree, TreePredictor = sklearn_tree_types()
    X, y = np.random.default_rng(0).random((80, 3)), np.arange(80) % 2
    tree = RandomForestClassifier(n_estimators=1, random_state=0).fit(X, y).estimators_[0].tree_
    assert isinstance(tree, Tree)
    for name in ("node_count", "children_left", "children_right", "feature", "n_features", "value"):
        assert hasattr(tree, name), name
    hgb = HistGradientBoostingClassifier(max_iter=2, categorical_features=[0]).fit(
        np.c_[np.arange(80) % 3, X[:, 1:]], y
    )
    predictors = [p for stage in hgb._predictors for p in stage]
    assert predictors and all(isinstance(p, TreePredictor) for p in predictors)
    fields = {"left", "right", "is_leaf", "feature_idx", "is_categorical", "bitset_idx"}
    assert fields <= set(predictors[0].nodes.dtype.names)
    assert hasattr(predictors[0], "raw_left_cat_bitsets")
    assert hasattr(predictors[0], "binned_left_cat_bitsets")
