"""The one place fairautoml reaches into a dependency's private modules.

Each name here is private to its library and may move in any release; the test beside it
(``tests/test_compat.py``) pins the versions it was checked on, so an upgrade fails there
first, not in a user's model file.
"""

from __future__ import annotations


def sklearn_tree_types() -> tuple[type, type]:
    """scikit-learn's compiled tree (the forests') and HistGradientBoosting's tree: the
    model-file gate checks their node arrays after loading (neither is public)."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    return Tree, TreePredictor


__all__ = ["sklearn_tree_types"]
