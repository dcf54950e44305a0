"""What a model file may hold: every type, by its exact name and by how skops builds it.

A ``.skops`` file is a zip archive whose ``schema.json`` describes a tree of nodes; each
node names a *loader* (how skops builds it) and a type (``module.qualname``). Some loaders
only rebuild data (a dict, an array, an object through ``__new__`` and its state); others
call or return the object the file names (a function, a type, a partial, a constructor
called with stored arguments, a bound method). A file naming ``builtins.eval`` under a
calling loader runs code when it is built; skops refuses such names unless the caller
trusts them, and before this module fairautoml trusted whole module prefixes
(``builtins.``, ``pandas.``, ...), which let a crafted file run code on ``fairautoml.load``.

So the gate reads ``schema.json`` itself, before skops constructs or imports anything, and
accepts a file only if every (loader, type) pair in it is in :data:`ALLOWED`: the exact
pairs the models the search can return are made of (a test fits every learner, mitigator
and task, ensembles included, and checks each file against this table; ``python -m
fairautoml.testing.model_zoo`` lists them). Each pair whose loader calls or returns what it
names carries the reason it is there. Loaders this module does not know are refused.

The table was reviewed against skops 0.16's loaders (``pyproject.toml`` pins that minor
version; a test fails when another is installed, so that a new skops is reviewed first).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

REVIEWED_SKOPS = "0.16"  # the skops minor version whose loaders this table was checked on

# Loaders that build nothing from the name they carry: a JSON literal (``json.loads``), a
# reference to a node built earlier in the same file (itself gated where it stands).
INERT = frozenset({"JsonNode", "CachedNode"})
# Loaders that call, import or return the object the file names: every pair with one of
# them needs its reason in ALLOWED.
CALLING = frozenset(
    {
        "FunctionNode",
        "TypeNode",
        "PartialNode",
        "MethodNode",
        "OperatorFuncNode",
        "ConstructorFromReduceNode",
        "ReduceNode",
        "LossNode",
        "TreeNode",
        "RandomGeneratorNode.bit_generator",
    }
)

_DATA = ""  # the reason column of a data pair: built from stored state, nothing called

# (loader, type) -> why a model holds it (required for CALLING loaders).
ALLOWED: dict[tuple[str, str], str] = {
    ("ObjectNode", "fairautoml.estimators.automl.FairAutoML"): _DATA,
    ("ObjectNode", "fairautoml.estimators.automl.FairAutoMLRegressor"): _DATA,
    ("ObjectNode", "fairautoml.measures.constraints.Constraint"): _DATA,
    ("ObjectNode", "fairautoml.measures.constraints.Family"): _DATA,
    ("ObjectNode", "fairautoml.data.features.FeatureSchema"): _DATA,
    ("ObjectNode", "fairautoml.data.groups.GroupEncoder"): _DATA,
    ("ObjectNode", "fairautoml.search.ensemble.EnsembleScoring"): _DATA,
    ("ObjectNode", "fairautoml.learners._base.EncodedClassifier"): _DATA,
    ("ObjectNode", "fairautoml.learners._base.EncodedRegressor"): _DATA,
    ("ObjectNode", "fairautoml.learners.builtin.HistGradientBoosting"): _DATA,
    ("ObjectNode", "fairautoml.learners.builtin.HistGradientBoostingRegression"): _DATA,
    ("ObjectNode", "fairautoml.learners.builtin.ThreadLimitedClassifier"): _DATA,
    ("ObjectNode", "fairautoml.learners.builtin.ThreadLimitedRegressor"): _DATA,
    ("ObjectNode", "fairautoml.learners.early_stopping.EarlyStoppingLGBMClassifier"): _DATA,
    ("ObjectNode", "fairautoml.learners.early_stopping.EarlyStoppingLGBMRegressor"): _DATA,
    ("ObjectNode", "fairautoml.learners.early_stopping.EarlyStoppingXGBClassifier"): _DATA,
    ("ObjectNode", "fairautoml.learners.early_stopping.EarlyStoppingXGBRegressor"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._base.EstimatorScoringModel"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._base.FoldModels"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._base.GroupPredictingModel"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._bias_score_core.BiasScoreRule"): _DATA,
    (
        "ObjectNode",
        "fairautoml.mitigators._constrained_boosting_core.ConstrainedBoostingResult",
    ): _DATA,
    ("ObjectNode", "fairautoml.mitigators._multiclass_lp_core.MulticlassLPRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._multiclass_lp_core.ScoreCells"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._multicalibration_core.Multicalibration"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._recalibration_core.GroupRecalibration"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._reductions.AmountModel"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._reductions.EncodedModel"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._reductions.TargetScale"): _DATA,
    ("ObjectNode", "fairautoml.mitigators._transport_core.BarycenterTransport"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.barycenter_transport.TransportRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.bias_score.BiasScoreDecision"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.cut.CutRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.constrained_boosting.BoosterModel"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.correlation_remover.CorrelationRemovedModel"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.exponentiated_gradient.MixtureModel"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.gap_reweighing.ReweighedModel"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.group_recalibration.RecalibrationRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.group_thresholds.GroupThresholdRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.inferred_thresholds.InferredThresholdRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.multicalibration.MulticalibrationRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.trend_removal.TrendRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.relaxed_thresholds.RelaxedThresholdRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.threshold_optimizer.RandomizedThresholdRule"): _DATA,
    ("ObjectNode", "fairautoml.mitigators.threshold_optimizer._PrefitScores"): _DATA,
    ("ObjectNode", "fairautoml.model.fair_model.FairModel"): _DATA,
    ("ObjectNode", "fairautoml.tasks.binary.BinaryTask"): _DATA,
    ("ObjectNode", "fairautoml.tasks.multiclass.MulticlassTask"): _DATA,
    ("ObjectNode", "fairautoml.tasks.regression.RegressionTask"): _DATA,
    (
        "ObjectNode",
        "fairlearn.postprocessing._interpolated_thresholder.InterpolatedThresholder",
    ): _DATA,
    ("ObjectNode", "fairlearn.postprocessing._threshold_operation.ThresholdOperation"): _DATA,
    ("ObjectNode", "fairlearn.postprocessing._threshold_optimizer.ThresholdOptimizer"): _DATA,
    ("ObjectNode", "fairlearn.preprocessing._correlation_remover.CorrelationRemover"): _DATA,
    ("ObjectNode", "lightgbm.basic.Booster"): _DATA,
    ("ObjectNode", "sklearn._loss.link.IdentityLink"): _DATA,
    ("ObjectNode", "sklearn._loss.link.Interval"): _DATA,
    ("ObjectNode", "sklearn._loss.link.LogitLink"): _DATA,
    ("ObjectNode", "sklearn._loss.link.MultinomialLogit"): _DATA,
    ("ObjectNode", "sklearn._loss.loss.HalfBinomialLoss"): _DATA,
    ("ObjectNode", "sklearn._loss.loss.HalfMultinomialLoss"): _DATA,
    ("ObjectNode", "sklearn._loss.loss.HalfSquaredError"): _DATA,
    ("ObjectNode", "sklearn.compose._column_transformer.ColumnTransformer"): _DATA,
    ("ObjectNode", "sklearn.compose._column_transformer.make_column_selector"): _DATA,
    ("ObjectNode", "sklearn.ensemble._forest.ExtraTreesClassifier"): _DATA,
    ("ObjectNode", "sklearn.ensemble._forest.ExtraTreesRegressor"): _DATA,
    ("ObjectNode", "sklearn.ensemble._forest.RandomForestClassifier"): _DATA,
    ("ObjectNode", "sklearn.ensemble._forest.RandomForestRegressor"): _DATA,
    ("ObjectNode", "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper"): _DATA,
    (
        "ObjectNode",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    ): _DATA,
    (
        "ObjectNode",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    ): _DATA,
    ("ObjectNode", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"): _DATA,
    ("ObjectNode", "sklearn.impute._base.SimpleImputer"): _DATA,
    ("ObjectNode", "sklearn.linear_model._logistic.LogisticRegression"): _DATA,
    ("ObjectNode", "sklearn.linear_model._ridge.Ridge"): _DATA,
    ("ObjectNode", "sklearn.pipeline.Pipeline"): _DATA,
    ("ObjectNode", "sklearn.preprocessing._data.StandardScaler"): _DATA,
    ("ObjectNode", "sklearn.preprocessing._encoders.OneHotEncoder"): _DATA,
    ("ObjectNode", "sklearn.preprocessing._encoders.OrdinalEncoder"): _DATA,
    ("ObjectNode", "sklearn.preprocessing._function_transformer.FunctionTransformer"): _DATA,
    ("ObjectNode", "sklearn.preprocessing._label.LabelEncoder"): _DATA,
    ("ObjectNode", "sklearn.tree._classes.DecisionTreeClassifier"): _DATA,
    ("ObjectNode", "sklearn.tree._classes.DecisionTreeRegressor"): _DATA,
    ("ObjectNode", "sklearn.tree._classes.ExtraTreeClassifier"): _DATA,
    ("ObjectNode", "sklearn.tree._classes.ExtraTreeRegressor"): _DATA,
    ("ObjectNode", "xgboost.core.Booster"): _DATA,
    ("DictNode", "builtins.dict"): _DATA,
    ("DictNode", "collections.OrderedDict"): _DATA,  # the boosters' evals_result_
    ("DictNode", "sklearn.utils._bunch.Bunch"): _DATA,
    ("DefaultDictNode", "collections.defaultdict"): _DATA,
    ("ListNode", "builtins.list"): _DATA,
    ("TupleNode", "builtins.tuple"): _DATA,
    ("SliceNode", "builtins.slice"): _DATA,
    ("BytearrayNode", "builtins.bytearray"): _DATA,
    ("NdArrayNode", "numpy.float64"): _DATA,
    ("NdArrayNode", "numpy.int64"): _DATA,
    ("NdArrayNode", "numpy.ndarray"): _DATA,
    ("NdArrayNode", "numpy.uint64"): _DATA,
    ("DTypeNode", "numpy.dtype"): _DATA,
    ("RandomGeneratorNode", "numpy.random._generator.Generator"): _DATA,
    (
        "FunctionNode",
        "fairautoml.learners._base._object_categories",
    ): "the forests' and linear learners' column selector: picks the category columns by dtype",
    (
        "FunctionNode",
        "sklearn.utils.validation.check_array",
    ): "HistGradientBoosting's _preprocessor (partial(check_array, ...)): validates an array",
    (
        "LossNode",
        "sklearn._loss._loss.CyHalfBinomialLoss",
    ): "HistGradientBoosting's loss, yes/no: built from its stored parameters",
    (
        "LossNode",
        "sklearn._loss._loss.CyHalfMultinomialLoss",
    ): "HistGradientBoosting's loss, several classes: built from its stored parameters",
    (
        "LossNode",
        "sklearn._loss._loss.CyHalfSquaredError",
    ): "HistGradientBoosting's loss, amounts: built from its stored parameters",
    (
        "PartialNode",
        "functools.partial",
    ): "HistGradientBoosting's _preprocessor; its function is a node of its own, gated too",
    (
        "RandomGeneratorNode.bit_generator",
        "numpy.random.PCG64",
    ): "the bit generator of numpy's default_rng, kept by HistGradientBoosting",
    (
        "TreeNode",
        "sklearn.tree._tree.Tree",
    ): "a tree of the forests: its node arrays are checked after loading (check_loaded_trees)",
    ("TypeNode", "builtins.int"): "a dict's key type: called on the stored key",
    ("TypeNode", "builtins.str"): "a dict's key type: called on the stored key",
    ("TypeNode", "collections.OrderedDict"): "LightGBM's parameters: the type of an ordered dict",
    ("TypeNode", "numpy.float64"): "a dtype parameter (the encoders' dtype=np.float64)",
    ("TypeNode", "numpy.int64"): "a dtype parameter or a dict's key type (numpy integer keys)",
}


class DamagedModelFile(ValueError):
    """The file is not a complete skops archive (empty, truncated, or altered)."""


# Classes that moved (issue 57's packages): a file written before names a class by its old
# module; the gate reads it as today's (:func:`with_current_modules`), so an older file opens
# and is checked against today's allow-list. An entry stays while such files may exist;
# tests/test_model_file_compat.py holds one. By (old module, class); then by old module.
MOVED_CLASSES = {
    ("fairautoml.data", "FeatureSchema"): "fairautoml.data.features",
    ("fairautoml.data", "GroupEncoder"): "fairautoml.data.groups",
    ("fairautoml.data.prepare", "FeatureSchema"): "fairautoml.data.features",
    ("fairautoml.data.prepare", "GroupEncoder"): "fairautoml.data.groups",
}
MOVED_MODULES = {
    "fairautoml.automl": "fairautoml.estimators.automl",
    "fairautoml.constraints": "fairautoml.measures.constraints",
    "fairautoml.ensemble": "fairautoml.search.ensemble",
    "fairautoml.model": "fairautoml.model.fair_model",
}


def current_module(module: Any, name: Any) -> Any:
    """Where the class ``module.name`` of a file lives today (``module`` if it did not move)."""
    return MOVED_CLASSES.get((module, name)) or MOVED_MODULES.get(module, module)


def read_schema(source: str | Path | bytes) -> dict[str, Any]:
    """The node tree of a ``.skops`` file (a path, or its bytes), read as JSON: nothing is
    imported or built."""
    try:
        with zipfile.ZipFile(
            io.BytesIO(source) if isinstance(source, bytes) else source
        ) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise DamagedModelFile(f"{type(exc).__name__}: {exc}") from None
    if not isinstance(schema, dict) or "__loader__" not in schema:
        raise DamagedModelFile("schema.json holds no skops node tree")
    return schema


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every dict with a ``__loader__`` anywhere in ``tree``: each node skops would build,
    wherever a loader keeps its children."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__loader__" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _bit_generator(node: dict[str, Any]) -> str:
    """The numpy bit generator a ``RandomGeneratorNode`` calls: numpy keeps its class name
    as a plain string in the state, which skops turns into a class and calls."""
    try:
        return "numpy.random." + json.loads(
            node["content"]["bit_generator"]["content"]["bit_generator"]["content"]
        )
    except (KeyError, TypeError, ValueError):
        return "numpy.random.<unreadable>"


def types_in(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (loader, type) pair of a schema, with the names some loaders hide in their
    content: a bound method's name (``MethodNode``), a generator's bit generator."""
    found = set()
    for node in _nodes(schema):
        loader = str(node["__loader__"])
        name = f"{node.get('__module__')}.{node.get('__class__')}"
        if loader == "MethodNode":
            content = node.get("content")
            func = content.get("func") if isinstance(content, dict) else None
            name = f"{name}.{func}"
        if loader == "RandomGeneratorNode":
            found.add(("RandomGeneratorNode.bit_generator", _bit_generator(node)))
        found.add((loader, name))
    return found


def types_in_file(source: str | Path | bytes) -> set[tuple[str, str]]:
    return types_in(read_schema(source))


def with_current_modules(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """The skops file ``data`` with every class that moved (:data:`MOVED_CLASSES`,
    :data:`MOVED_MODULES`) named by its module today (unchanged when it names none), and
    its schema as read: the gate checks that schema, not a second reading."""
    schema = read_schema(data)
    moved = [
        (node, today)
        for node in _nodes(schema)
        if (today := current_module(node.get("__module__"), node.get("__class__")))
        != node.get("__module__")
    ]
    if not moved:
        return data, schema
    for node, today in moved:
        node["__module__"] = today
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            body = json.dumps(schema) if item.filename == "schema.json" else old.read(item)
            new.writestr(item, body)
    return out.getvalue(), schema


def refused(found: Iterable[tuple[str, str]], extra: Iterable[str] = ()) -> list[str]:
    """The pairs of ``found`` outside :data:`ALLOWED` (and not named in ``extra``, the
    caller's own trusted types), as ``type (loader)``."""
    extra = set(extra)
    return sorted(
        f"{name} ({loader})"
        for loader, name in found
        if loader not in INERT and (loader, name) not in ALLOWED and name not in extra
    )


def allowed_names(found: Iterable[tuple[str, str]]) -> set[str]:
    return {name for _, name in found}


# --- after loading: the trees' node arrays ---------------------------------------------------
# scikit-learn's trees index their node arrays in compiled code without bounds checks (a
# crafted Tree crashes the process on its first prediction; skops leaves Tree untrusted by
# default for that reason). A fairautoml model may hold them (the forests, HistGradient-
# Boosting), so after loading, every tree's children and features are checked to lie in
# range before the model is handed back.


def check_loaded_trees(obj: Any) -> None:
    """Raise :class:`DamagedModelFile` if a tree anywhere in ``obj`` points outside its
    own nodes or past the features its estimator was fitted on."""
    from fairautoml._compat import sklearn_tree_types

    Tree, TreePredictor = sklearn_tree_types()
    seen: set[int] = set()
    stack: list[tuple[Any, int | None]] = [(obj, None)]
    while stack:
        item, n_features = stack.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int, float, np.ndarray)):
            continue
        seen.add(id(item))
        if isinstance(item, Tree):
            _check_tree(item)
            continue
        if isinstance(item, TreePredictor):
            _check_predictor(item, n_features)
            continue
        if isinstance(item, dict):
            stack.extend((v, n_features) for v in item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend((v, n_features) for v in item)
        elif hasattr(item, "__dict__"):
            own = getattr(item, "n_features_in_", None)
            n = int(own) if isinstance(own, (int, np.integer)) else n_features
            stack.extend((v, n) for v in vars(item).values())


def _check_children(left: np.ndarray, right: np.ndarray, leaf: np.ndarray, what: str) -> None:
    """Each inner node's children come after it (both builders number nodes that way, so
    no walk can loop) and lie among the nodes."""
    n = len(left)
    inner = np.flatnonzero(~leaf)
    for child in (left[inner], right[inner]):
        if np.any(child <= inner) or np.any(child >= n):
            raise DamagedModelFile(f"{what}: a node's child lies outside the tree")


def _check_tree(tree: Any) -> None:
    n = int(tree.node_count)
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    feature = np.asarray(tree.feature)
    if not (len(left) == len(right) == len(feature) == n == len(tree.value)):
        raise DamagedModelFile("a tree's node arrays disagree on its size")
    leaf = (left == -1) & (right == -1)
    _check_children(left, right, leaf, "a tree")
    if np.any((feature[~leaf] < 0) | (feature[~leaf] >= int(tree.n_features))):
        raise DamagedModelFile("a tree splits on a feature it does not have")


def _check_predictor(predictor: Any, n_features: int | None) -> None:
    nodes = predictor.nodes
    leaf = nodes["is_leaf"].astype(bool)
    _check_children(nodes["left"].astype(np.int64), nodes["right"].astype(np.int64), leaf, "a tree")
    inner = nodes[~leaf]
    if (
        n_features is None
        or np.any(inner["feature_idx"] < 0)
        or np.any(inner["feature_idx"] >= n_features)
    ):
        raise DamagedModelFile("a boosted tree splits on a feature its model does not have")
    bitsets = (predictor.raw_left_cat_bitsets, predictor.binned_left_cat_bitsets)
    categorical = inner[inner["is_categorical"].astype(bool)]
    if len(categorical) and any(np.any(categorical["bitset_idx"] >= len(b)) for b in bitsets):
        raise DamagedModelFile("a boosted tree's category split lies outside its table")
