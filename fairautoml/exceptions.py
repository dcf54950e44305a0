"""Every error and warning fairautoml raises, with its message templates.

Messages say what was expected, what was given, and how to fix it. Tests import the
templates' leading words so a reworded message fails loudly rather than silently.
"""

from __future__ import annotations

from collections.abc import Iterable

from sklearn.exceptions import NotFittedError as SklearnNotFittedError


class FairAutoMLError(ValueError):
    """Base class of every fairautoml error (a ValueError, as scikit-learn expects)."""


class InputError(FairAutoMLError):
    """The data given to ``fit``/``predict`` cannot be used as it is."""


class ConstraintError(FairAutoMLError):
    """A fairness constraint is malformed, unknown or out of range."""


class UnknownNameError(FairAutoMLError, KeyError):
    """A learner, mitigator, metric, controller or dataset name is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ConfigurationError(FairAutoMLError):
    """A FairAutoML parameter has an invalid value."""


class UntrustedModelError(ConfigurationError):
    """A model file holds code or types fairautoml does not open without the user's word."""


class DamagedModelError(ConfigurationError):
    """A model file is empty, cut short or altered: no trust makes it a model."""


class SearchError(FairAutoMLError):
    """The search could not produce any usable model."""


class NotFittedError(FairAutoMLError, SklearnNotFittedError):
    """A fitted attribute or prediction was asked for before ``fit`` (scikit-learn's
    ``NotFittedError`` too, so code that catches that one catches this)."""


class FairAutoMLWarning(UserWarning):
    """Base class of fairautoml's warnings."""


class InfeasibleWarning(FairAutoMLWarning):
    """No model met every constraint; the least-violating one was returned."""


class UnconfirmedFairnessWarning(FairAutoMLWarning):
    """The pick meets the constraints on validation, but not at the pessimistic end of its
    interval: too few validation rows to be confident it holds on new data."""


class WeakModelWarning(FairAutoMLWarning):
    """Only a near-constant model met the constraints on validation; it was returned."""


class PositiveLabelWarning(FairAutoMLWarning):
    """A constraint depends on which outcome is favourable, and fairautoml had to assume it."""


class GroupInferenceWarning(FairAutoMLWarning):
    """Many rows have no group and their groups could hardly be inferred from the features
    (``missing_groups="infer"``): fairness is measured on the rows whose group is known."""


# --- message templates -------------------------------------------------------------------

EMPTY_INPUT = (
    "X is empty ({n_rows} rows, {n_cols} columns): {method} needs at least one row and one "
    "feature column. Pass a table with rows."
)
X_NOT_2D = (
    "X must be a table (a DataFrame, a 2-D array or a list of rows); got {given}. "
    "Pass one row per sample and one column per feature."
)
Y_COLUMN_VECTOR = (  # scikit-learn's words, which its estimator checks look for
    "A column-vector y was passed when a 1d array was expected (shape ({n}, 1)); it is "
    "read as one label per row. Pass a 1-D array or a Series (e.g. y.ravel())."
)
Y_NOT_1D = (
    "y must hold one label per row of X (a Series, a list or a 1-D array); got {given}. "
    "Pass the target values, e.g. y = df['label']."
)
INDEX_MISMATCH = (
    "The index of {name} differs from the index of X (first differing position {position}: "
    "X has {x_label!r}, {name} has {other_label!r}). Rows are matched by position, so this "
    "usually means the rows are not aligned (e.g. one of them was sorted or filtered). Align "
    "them with {name}.reindex(X.index), or pass {name}.to_numpy() if the positions already "
    "match."
)
LENGTH_MISMATCH = (
    "Inconsistent lengths: X has {n_x} rows but {name} has {n_other}. Pass one value per row of X."
)
Y_NONE = (
    "fit requires y to be passed, but the target y is None. Pass one label per row of X, "
    "e.g. fit(X, y=df['label'], sensitive_features=...)."
)
X_SPARSE = (
    "X is {given}: sparse input is not supported (the learners get a dense table with "
    "categorical columns). Pass X.toarray() or a DataFrame."
)
TARGET_CONTINUOUS = (
    "The target looks continuous ({n} distinct values, not all whole numbers), but a "
    "classifier was asked for. Fit a FairAutoMLRegressor (CLI: --task regression), or "
    "recode y to two classes, e.g. y = (y > threshold)."
)
TARGET_NOT_BINARY = (
    "The target must have exactly two classes; it has {n} ({classes}). FairAutoML makes "
    "yes/no decisions: recode y to two classes, or, for amounts, fit a "
    "FairAutoMLRegressor (CLI: --task regression)."
)
TARGET_CLASSES_OVER_LIMIT = (
    "The target has {n} classes ({classes}); FairAutoML takes 2 classes (yes/no decisions) "
    "or 3 to {limit} (several classes: multiclass), not more. Merge classes down to at "
    "most {limit} (e.g. rare ones into 'other'), or, for an amount or a score, fit a "
    "FairAutoMLRegressor (CLI: --task regression)."
)
TARGET_HAS_NAN = (
    "The target has {n} missing value(s) (NaN/None/inf). Drop those rows or impute the "
    "target before fit."
)
TARGET_MIXED_TYPES = (
    "The target mixes value types ({types}), so equal-looking labels such as 1 and '1' would be "
    "different classes. Convert y to one type, e.g. y.astype(str)."
)
POS_LABEL_UNKNOWN = (
    "pos_label={label!r} is not a class of y; the classes are {classes}. Pass the label of "
    "the favourable outcome (the one a constraint's selection and true-positive rates count)."
)
POS_LABEL_ASSUMED = (
    "{constraints} depend(s) on which outcome is favourable, and y's labels {classes} do not "
    "say: {positive!r} (the label that sorts last) was taken as the favourable (positive) "
    "one. If that is wrong, every such constraint limits the unfavourable outcome: pass "
    "pos_label= (CLI: --positive-label)."
)
UNKNOWN_LABELS = (
    "y has label(s) {labels} not seen in fit; the classes are {classes}. Pass labels of those "
    "classes."
)
SENSITIVE_HAS_NAN = (
    "The sensitive attribute '{name}' has {n} missing or infinite value(s). Fairness cannot be "
    "measured directly for rows without a group. Pass missing_groups='exclude' (CLI "
    "--missing-groups exclude: models train on every row, fairness is measured on the rows "
    "whose group is known) or missing_groups='infer' (the group of the other rows is "
    "inferred from their features, and fairness is measured with those soft memberships); "
    "or drop those rows yourself."
)
MISSING_GROUPS_MODE = (
    "missing_groups must be one of {modes}; got {given}. 'error' refuses rows whose group is "
    "unknown; 'exclude' measures fairness without them; 'infer' infers their group."
)
MISSING_GROUPS_AT_PREDICT = (
    "missing_groups={mode!r} searches models that decide without the group; "
    "decision_rule='group_aware' (sensitive_at_predict=True) asks for models that read it, "
    "which have no rule for a row whose group is unknown. Use decision_rule='group_free' "
    "(the default) or 'proxy', or drop the rows without a group and keep "
    "missing_groups='error'."
)
GROUP_INFERENCE_POOR = (
    "{share:.0%} of the rows have no group, and a classifier of the group from the features "
    "and target reaches only {balanced:.2f} balanced accuracy on the rows whose group is "
    "known: the memberships it infers are close to the groups' shares, and fairness "
    "measured with them would lean towards parity whatever the model does. Fairness is "
    "measured on the rows whose group is known instead (as missing_groups='exclude' "
    "does); collecting the attribute for more rows makes the claim stronger."
)
VERDICT_GROUPS_EXCLUDED = (
    "{n} rows had no group (missing_groups='exclude'): the fairness claim is measured on the "
    "rows whose group is known, and holds for the others only if they are like them."
)
VERDICT_GROUPS_POORLY_INFERRED = (
    "{n} rows had no group (missing_groups='infer'), and their groups could hardly be "
    "inferred from their features and target (balanced accuracy {balanced:.2f} on the rows "
    "whose group is known): the fairness claim is measured on the rows whose group is "
    "known, and holds for the others only if whether a group is missing depends on the "
    "group at most."
)
VERDICT_GROUPS_INFERRED = (
    "{n} rows had no group (missing_groups='infer'): they count in the fairness claim "
    "through groups inferred from their features and target (balanced accuracy "
    "{balanced:.2f} on the rows whose group is known; the groups' shares among them "
    "estimated at {shares}); the claim assumes whether a group is missing depends on the "
    "group at most, not on the features beside it."
)
MISSING_GROUPS_ALL = (
    "Every one of the {n} rows has a missing value of the sensitive attribute(s) {names}, "
    "so no group is known and fairness cannot be measured or inferred "
    "(missing_groups={mode!r}). Pass the attribute for at least some rows of every group."
)
SINGLE_GROUP = (
    "The sensitive attribute has a single group ({group!r}); fairness compares groups, so it "
    "needs at least two. Check that the right column was passed."
)
GROUP_TOO_SMALL = (
    "Group {group!r} has {n} row(s) ({n_pos} positive, {n_neg} negative); at least {min_size} "
    "rows, with two or more of each class, are needed to estimate its rates. Merge small "
    "groups (e.g. into 'other') or lower min_group_size."
)
SENSITIVE_NOT_ROWS = (
    "sensitive_features must give the group of each row (a Series, a list, a 1-D or 2-D array, a "
    "DataFrame or a dict of columns) or name column(s) of X; got {given}. Pass e.g. "
    "sensitive_features=df['sex'] or sensitive_features='sex'."
)
SENSITIVE_MISSING = (
    "sensitive_features is required: pass the group of each row (Series, array, DataFrame) or "
    "the name(s) of the sensitive column(s) of X."
)
SENSITIVE_COLUMN_MISSING = (
    "Sensitive column(s) {missing} not in X. Columns of X are: {columns}. Pass existing column "
    "names or the sensitive values themselves."
)
DUPLICATE_COLUMNS = (
    "{table} has duplicate column names: {names} (names are compared as strings). Rename them "
    "so each column has a unique name."
)
DATETIME_COLUMN = (
    "Column {name!r} has dtype {dtype}; convert dates to numbers (e.g. days since an origin) or "
    "strings before fit."
)
MIXED_TYPE_COLUMN = (
    "Column {name!r} mixes value types ({types}). Convert it to one type, e.g. "
    "X[{name!r}] = X[{name!r}].astype(str) for a categorical."
)
NO_FEATURES = (
    "No feature columns are left once the sensitive column(s) {names} are removed from X. "
    "Pass keep_sensitive_as_feature=True or add features."
)
NON_FINITE_FEATURES = (
    "Column {name!r} contains {n} infinite value(s). Replace them (e.g. with NaN, which every "
    "learner handles) before fit or predict."
)
UNSUPPORTED_COLUMN = (
    "Column {name!r} holds {kind} values, which no learner can use. Convert it to numbers or "
    "strings (or drop it) before fit."
)
NON_NUMERIC_VALUES = (
    "Column {name!r} was numeric in fit but holds {n} value(s) that are not numbers here (e.g. "
    "{examples}). Pass numbers, with NaN for missing values."
)
BOOLS_FOR_NUMBERS = (
    "Column {name!r} held numbers in fit (dtype {fitted}) but holds True/False here (dtype "
    "{given}). Read as 1/0 they would be numbers the model was never given (the fit's may "
    "be 1 and 2, or counts). Pass the column as the numbers it held in fit (in a CSV: the "
    "numbers, not True/False; e.g. X[{name!r}] = X[{name!r}].map({{False: 0, True: 1}}) "
    "if 0 and 1 are what the fit's values meant)."
)
WEIGHTS_NOT_NUMERIC = (
    "sample_weight must hold one number per row; got {given}. Pass non-negative numbers "
    "(survey or frequency weights), e.g. sample_weight=df['weight'].to_numpy(dtype=float)."
)
WEIGHTS_NEGATIVE = (
    "sample_weight has {n} negative value(s) (e.g. {examples}). Weights count how many people "
    "a row stands for: pass values >= 0 (0 leaves a row out)."
)
WEIGHTS_NOT_FINITE = (
    "sample_weight has {n} missing or infinite value(s). Every row needs a finite weight: "
    "drop those rows or give them a weight."
)
WEIGHTS_ALL_ZERO = (
    "sample_weight is zero for every row, so nothing would be learned or measured. Pass "
    "positive weights for the rows that count."
)
WEIGHTS_EMPTY_CELL = (
    "Group {group!r} has zero total sample_weight{among}, so its rates cannot be measured. "
    "Give those rows positive weights, or leave the group out."
)
WEIGHTS_CLI_COLUMN = "--weight {column!r} is not a column of {path}. Columns: {columns}."
WEIGHTS_CLI_NOT_NUMERIC = (
    "--weight column {column!r} holds {n} value(s) that are not numbers (e.g. {examples}). "
    "Give a column of non-negative numbers, one weight per row."
)
WEIGHTS_CLI_CLASH = (
    "--weight {column!r} is also the {role} column: the weight column must be another "
    "column (it is neither a feature nor the target)."
)
MITIGATOR_NO_WEIGHTS = (
    "Mitigator {name!r} cannot take sample_weight: it would fit or measure the rows "
    "unweighted. Leave it out of mitigators for a weighted fit (weighted: {weighted})."
)
LEARNER_NO_WEIGHTS = (
    "Learner {name!r} cannot be trained with sample_weight: its estimator's fit has no "
    "sample_weight argument. Leave it out of learners for a weighted fit, or register it "
    "with an estimator whose fit(X, y, sample_weight=None) uses the weights."
)
TOO_FEW_ROWS = (
    "Too few rows for a validation split: {n_rows} rows with validation_fraction={fraction} "
    "give {n_val} validation rows, but {reason}. Add rows, raise validation_fraction, or merge "
    "small groups."
)
PREDICT_COLUMNS = (
    "X at predict time does not have the columns seen in fit. Missing: {missing}; unexpected: "
    "{extra}. Pass a table with the training columns (order does not matter)."
)
PREDICT_NEEDS_SENSITIVE = (
    "The chosen model ({model}) uses the sensitive attribute at predict time: pass "
    "sensitive_features= to {method}, or refit with sensitive_at_predict=False to get a model "
    "that does not need it."
)
UNSEEN_GROUP = (
    "Group(s) {groups} were not seen during fit; known groups: {known}. The model has no "
    "decision rule for them: map them to a known group, or refit with rows of every group."
)
CONSTRAINT_TYPE = (
    "A constraint must be a string like 'demographic_parity_difference <= 0.05' or a "
    "Constraint; got {given}. Pass one such string, or a list of them."
)
CONSTRAINT_SYNTAX = (
    "Cannot parse constraint {text!r}. Expected 'metric <= bound' or 'metric >= bound', "
    "e.g. 'demographic_parity_difference <= 0.05'. Metrics: {metrics}."
)
CONSTRAINT_OPERATOR = (
    "Operator '{op}' in {text!r} is not supported: use '<=' or '>=' (for {metric}: '{want}')."
)
CONSTRAINT_METRIC = "Unknown fairness metric {metric!r}. Supported: {metrics}."
CONSTRAINT_DIRECTION = (
    "{metric} must be constrained with '{want}' (a {meaning}); got '{op}'. Write e.g. "
    "'{metric} {want} {bound}'."
)
CONSTRAINT_BOUND = (
    "The bound of {metric} must be in (0, 1]; got {bound!r}. A difference of 0 or a "
    "ratio above 1 cannot be met by any classifier: pick e.g. 0.05 for a difference or 0.8 for "
    "a ratio."
)
CONSTRAINT_DUPLICATE = (
    "Duplicate constraints {first!r} and {second!r}: both bound {key} on the same groups. "
    "Give each metric once per set of attributes (keep the bound you need)."
)
CONSTRAINT_ATTRIBUTES = (
    "Cannot read the attributes of {text!r}: got {given}. Name each sensitive attribute "
    "once, separated by commas, e.g. 'demographic_parity_difference[race] <= 0.05' or "
    "'demographic_parity_difference[sex, race] <= 0.05'."
)
CONSTRAINT_UNKNOWN_ATTRIBUTE = (
    "Constraint {constraint!r} names the attribute(s) {unknown}, which are not sensitive "
    "attributes; the sensitive attributes are {known}. Name one of them in the brackets, or "
    "add the column to sensitive_features."
)
CONSTRAINT_CELLS = (
    "Cannot tell the values of the sensitive attributes {names} apart in this model's "
    "groups: a value holds the separator {separator!r}. Refit the model with this version "
    "of fairautoml, or constrain the intersection of all attributes (no brackets)."
)
CONSTRAINT_UNBOUND = (
    "Constraint {constraint!r} compares the groups of some sensitive attributes, but it was "
    "given group codes without the attributes they come from. Measure it through a fitted "
    "model (its constraints_ know the attributes), or bind it first: "
    "constraint.bind(model.best_estimator_.group_encoder)."
)
# --- continuous sensitive attributes (sensitive_bins) -------------------------------------
BINS_HOW = (
    'sensitive_bins={{"{name}": [25, 40, 60]}} (cut points: groups <25, [25, 40), [40, 60), '
    '>=60) or sensitive_bins={{"{name}": "quantiles:4"}} (CLI: --sensitive {name}:25,40,60 or '
    "--sensitive {name}:q4)"
)
SENSITIVE_CONTINUOUS = (
    "The sensitive attribute '{name}' is numeric with {n} distinct values (more than {limit}): "
    "each value would be its own group, too small to measure. Bin it: " + BINS_HOW + "."
)
BINS_NOT_MAPPING = (
    "sensitive_bins must be a dict {{attribute name: cut points or 'quantiles:K'}} or None; "
    'got {given}. Pass e.g. sensitive_bins={{"age": [25, 40, 60]}}.'
)
BINS_BAD_EDGES = (
    "sensitive_bins[{name!r}] must be a list of increasing numbers (cut points) or "
    "'quantiles:K' with K >= 2; got {given!r}. Pass e.g. [25, 40, 60] or 'quantiles:4'."
)
BINS_UNKNOWN_ATTRIBUTE = (
    "sensitive_bins names {name!r}, which is not a sensitive attribute; the sensitive "
    "attributes are {known}. Name one of them, or add the column to sensitive_features."
)
BINS_NOT_NUMERIC = (
    "sensitive_bins bins the sensitive attribute '{name}', but it is not numeric (e.g. "
    "{example!r}). Bins cut numbers (an age, an income); drop '{name}' from sensitive_bins "
    "to use its values as groups."
)
BINS_SMALL_GROUP = (
    "{error} {names} {verb} binned: fewer cut points or quantiles give larger groups."
)
BINS_CLI = (
    "--sensitive {given!r}: the bins after ':' must be increasing cut points (age:25,40,60) "
    "or quantiles (age:q4, at least q2)."
)


# --- tasks: what differs between binary classification and regression
CONSTRAINT_BOUND_POSITIVE = (
    "The bound of {metric} must be a positive number in the target's units; got {bound!r}. "
    "Pick e.g. the largest gap in error between groups you accept."
)
CONSTRAINT_WRONG_TASK = (
    "Constraint {constraint!r} is for {other} targets, but this target is {task}. "
    "Constraints for {task}: {metrics}."
)
METRIC_WRONG_TASK = (
    "Metric {metric!r} measures {other} models, but this target is {task}. "
    "Metrics for {task}: {metrics}."
)
POS_LABEL_REGRESSION = (
    "pos_label={label!r} was given, but a regression target has no favourable label. "
    "Leave pos_label=None."
)
DATASET_TASK_UNSUPPORTED = (
    "The bundled dataset {name!r} is a {task} table, which fairautoml does not fit yet "
    "(classification and regression only). Pick another dataset: fairautoml datasets."
)
TASK_UNKNOWN = "Unknown task {task!r}. Available: {tasks}."
TARGET_NOT_NUMERIC = (
    "A regression target must be numeric; got {n} value(s) that are not numbers, e.g. "
    "{examples}. Convert the column to numbers, or fit a classifier (task='classification')."
)
TARGET_CONSTANT = (
    "The regression target has a single value ({value!r}) in every row: there is nothing "
    "to predict. Check the target column."
)
GROUP_TOO_SMALL_REGRESSION = (
    "Group {group!r} has {n} rows; at least {min_size} are needed to measure its errors "
    "and prediction distribution. Merge it with another group, or lower min_group_size "
    "(the fairness claim on it will be noisy)."
)
# --- regression in-processing
REDUCTION_ONE_GROUP_LOSS = (
    "fairlearn's reductions bound one group loss for a regressor (every group's mean absolute "
    "or squared error); {constraints} cannot be expressed that way. Constrain "
    "mean_absolute_error_* or (root_)mean_squared_error_*, not both, or use "
    "barycenter_transport for demographic_parity_ks."
)
MITIGATOR_WRONG_TASK = (
    "Mitigator {name!r} cannot be used for a {task} target: it supports {tasks}. "
    "Mitigators for {task}: {available}."
)
UNKNOWN_NAME = "Unknown {kind} {name!r}. Available: {available}."
PARAMETER_VALUE = (
    "{name} must be {expected}; got {value!r}. Set FairAutoML({name}=...) accordingly."
)
EARLY_STOPPING_SETTING = (
    "{name} must be {expected}; got {value!r}. Set it in the learner's search space, e.g. "
    "fixed: {{early_stopping_rounds: 20, validation_fraction: 0.1}} (early_stopping_rounds: 0 "
    "switches early stopping off)."
)
INFEASIBLE = (
    "No trial met {constraints} on validation; returning the least-violating model (violation "
    "{violation:.4f}), with best_config_['feasible'] == False. {advice}"
)
UNCONFIRMED = (
    "No model met {constraints} with confidence on validation (at the pessimistic end of "
    "its bootstrap interval): the validation groups are too small to tell. Returning the "
    "most accurate model among those that meet them with the most confidence there; its "
    "values with their intervals: {intervals} (also in best_config_['constraint_intervals']); "
    "by its sampling noise it holds on new data with one-sided confidence {confidence:.0%}. "
    "Check it on rows the search never saw (automl.audit(X_new, y_new, s_new)). {advice}"
)
WEAK_PICK = (
    "Only near-constant models met {constraints} on validation: the pick has balanced "
    "accuracy {balanced_accuracy:.3f} and selects {selection_rate:.1%} of rows, so it "
    "barely tells the classes apart. {advice}"
)
WEAK_PICK_REGRESSION = (
    "Only near-constant models met {constraints} on validation: the pick has R² {r2:.3f} "
    "and its predictions spread {spread:.2f} times as wide as the target's, so it barely "
    "tells rows apart. {advice}"
)
# --- front door: the verdict card's warnings (fairautoml.report.card) and the CLI's fit --------
VERDICT_READS_GROUP = (
    "The model reads the sensitive attribute when it decides (decision_rule='group_aware'). "
    "Deciding with the group is disparate treatment in much of lending and hiring law: "
    "deploy it only where using the group is lawful, or refit with "
    "decision_rule='group_free' (the default)."
)
VERDICT_SIDE_EFFECT = (
    "Meeting {asked} left the {metric} at {value:.2f} on {rows}: it misses {rule}, and it "
    "is not constrained. Add it as a constraint if it matters here."
)
DECISION_RULE_VALUE = (
    "decision_rule={given} is not a policy; use one of {rules}: 'group_free' (no group and "
    "no estimate of it enters a decision), 'proxy' (rules per group estimated from the "
    "features may), 'group_aware' (rules per true group may; the group is needed at "
    "predict time)."
)
DECISION_RULE_AT_PREDICT = (
    "sensitive_at_predict=True asks for models that read the group when they decide, but "
    "decision_rule={given!r} does not deploy them. Give one of the two: "
    "decision_rule='group_aware' alone (the same as sensitive_at_predict=True), or "
    "decision_rule={given!r} without sensitive_at_predict."
)
MITIGATOR_NOT_DEPLOYED = (
    "Mitigator {name!r} makes a {rule} decision rule, which decision_rule={policy!r} does "
    "not deploy (CLI: --decision-rule). Pass decision_rule={rule!r} to search it, or "
    "leave it out of mitigators."
)
FIT_EXIT = (
    "exit status {status}: the verdict is {word} (0 only when every constraint holds at the "
    "unfavourable end of its interval; see `fairautoml fit --help`)."
)
VERDICT_RANDOMIZED = (
    "The model's decisions are randomized near its cut-off: two applicants with the same "
    "score can get different decisions (each row's draw is keyed on its own values, so the "
    "same applicant gets the same decision every time, and identical applicants share "
    "it). Check that this is acceptable, and that adverse-action explanations can say so."
)
POS_LABEL_TAKEN = (
    "favourable label: {positive!r} (the label that sorts last, of {classes}); "
    "{constraints} compare{s} its rate. Give --positive-label if that is not the "
    "favourable outcome."
)
POS_LABEL_LOOKS_UNFAVOURABLE = (
    "{positive!r} looks like an unfavourable outcome (a denial, a default, a failure): "
    "give --positive-label with the favourable one."
)

NOT_FITTED = "This {cls} instance is not fitted yet: call fit(X, y, sensitive_features=...) first."

# learners: tasks
UNKNOWN_TASK = "Unknown task {task!r}. Tasks: {tasks}."
LEARNER_TASK = (
    "Learner {name!r} does not support the {task!r} task (it supports: {supported}). "
    "Learners that do: {available}. Pick one of those, or register {name!r} again "
    "(replace=True) with an estimator for {task!r}."
)


CSV_NO_ROWS = (
    "{path} has no rows ({found}): fairautoml reads a CSV with a header line of column "
    "names and at least one row of data below it. Give the file with its rows (an export "
    "that failed or was cut short leaves it empty)."
)
# --- storages (persistence.get_storage): the URL always masked, never its password -------------
STORAGE_URL_INVALID = "Cannot read the storage URL {url!r} ({error}). {help}"
STORAGE_SCHEME = (
    "Cannot open the storage {url!r}: {scheme!r} is not a database fairautoml can open "
    "({error}). {help}"
)
STORAGE_LOGIN = (
    "Cannot log in to the storage {url!r}: the server refused the user or the password "
    "({reason}). Check the user and the password in the URL (a password with @, : or / "
    "must be percent-encoded, e.g. @ as %40); give the URL in ${env} to keep the password "
    "off the command line."
)
STORAGE_UNREACHABLE = (
    "Cannot connect to the storage {url!r} ({reason}). Check that the database server is "
    "running and accepts connections from this machine at that host and port, and that "
    "the database exists (PostgreSQL: createdb NAME); or use a file on this machine: "
    "sqlite:///path/study.db."
)
STORAGE_FILE = (
    "Cannot open the storage file of {url!r} ({reason}). Give a path in a directory this "
    "process may write to, e.g. sqlite:///path/study.db (or fit --out DIR)."
)
STORAGE_REFUSED = (
    "The storage {url!r} refused to keep Optuna's tables ({reason}). Give a user who may "
    "create and write tables in that database, or another database."
)


# --- audit and model files ------------------------------------------------------------------
MODEL_FILE_MISSING = "No model file at {path}. Write one with automl.save(path)."
MODEL_SUFFIX = (
    "Cannot tell which format to write {path} in: name it model.skops (safe to share: loading "
    "runs no code) or give a pickle suffix ({pickles}) to write joblib."
)
AUDIT_NO_GROUPS = (
    "An audit compares groups: give sensitive_features (the column name(s) of X, or one "
    "value per row; CLI: --sensitive COLUMN)."
)
AUDIT_ONE_GROUP = (
    "The {n} row(s) audited hold one group ({group!r} of {attributes}): fairness compares "
    "groups, so "
    "it cannot be measured on them (cannot tell, not holds). Audit rows of at least two "
    "groups (CLI: a CSV of such rows; --sensitive names the column)."
)
AUDIT_CSV_COLUMNS = "The CSV has no column {missing}; its columns: {columns}."
AUDIT_LABELS = (
    "The labels {labels} are not the model's classes {classes}: give the target the fit "
    "was trained on (CLI: --target COLUMN; --positive-label for the favourable one)."
)
AUDIT_NO_LABELS = (
    "Without labels only selection rates, impact ratios and input drift can be measured: "
    "true and false positive rates, accuracy and the constraints that compare them cannot "
    "be checked (give the outcomes with y, or --target COLUMN)."
)
AUDIT_NO_LABELS_CLASSES = (
    "Without labels only the selection rate of each class per group, impact ratios and "
    "input drift can be measured: recall (true positive rates), false positive rates and "
    "the constraints that compare them cannot be checked (give the classes with y, or "
    "--target COLUMN)."
)
AUDIT_NO_LABELS_AMOUNTS = (
    "Without the true amounts only mean predictions, the constraints on the predictions' "
    "distribution (demographic_parity_ks) and input drift can be measured: errors per group "
    "and the constraints on group losses cannot be checked (give the amounts with y, or "
    "--target COLUMN)."
)
AUDIT_AMOUNTS = (
    "The new rows' target must hold numbers (the amounts the model predicts); {n} value(s) "
    "are missing or not numbers, e.g. {examples}. Give the column the fit was trained on "
    "(CLI: --target COLUMN), without missing values, or leave it out to audit without it."
)
AUDIT_NEEDS_LABELS = "needs the true outcomes (labels) of the new rows"
AUDIT_UNDEFINED = (
    "undefined on these rows: a rate it compares has no rows behind it in some group (e.g. "
    "no row of a class in a group, for a true positive rate); audit more rows of that group"
)
AUDIT_NO_RATE_DRIFT = (
    "Fairness drift is not tested for this model: it compares the group rates of decisions "
    "with the fit's validation rows, and a model of amounts has none. Its input drift is "
    "tested, and its constraints are measured on these rows (above)."
)
AUDIT_NO_IMPACT = (
    "Impact ratios compare selection rates of decisions; a model of amounts has none. Read "
    "the per-group table (.groups) and the constraints (.constraints)."
)
AUDIT_NO_REFERENCE = (
    "The model file keeps no fit-time reference (audit_reference_), so drift cannot be "
    "checked: refit the model with this version of fairautoml."
)
AUDIT_UNSEEN_GROUPS = "Groups the fit never saw, reported as their own rows: {groups}."
AUDIT_UNSEEN_UNSCORED = (
    "The model reads the group at predict time and the fit never saw {groups}: their {n} "
    "rows cannot be scored and are left out of every number below."
)
AUDIT_NOTHING_SCORED = (
    "Every row belongs to a group the fit never saw ({groups}) and the model reads the "
    "group at predict time: nothing can be scored. Check the --sensitive column."
)
AUDIT_SMALL_GROUPS = (
    "Groups with fewer than {n} rows, too few to measure reliably (their intervals are "
    "wide): {groups}."
)
NO_RUN_MODEL = (
    "No model.skops (or model.joblib) in {out}: give the --out directory of a `fairautoml "
    "fit` run (it holds model.skops, study.db, leaderboard.csv)."
)
NOT_A_MODEL = (
    "{path} holds a {kind}, not a fitted FairAutoML or FairAutoMLRegressor; write it with "
    "automl.save(path)."
)
NOT_A_MODEL_FILE = (
    "{path} is not a model file fairautoml can read ({error}); write one with "
    "automl.save('model.skops')."
)
PICKLE_NOT_TRUSTED = (
    "{path} is a pickle (joblib) file: opening it runs whatever code it holds, so fairautoml "
    "opens it only if you trust where it came from: fairautoml.load(path, trusted=True) (CLI: "
    "--trusted). Save models as .skops to share them safely."
)
SKOPS_UNTRUSTED = (
    "{path} holds types that no fairautoml model is made of: {types}. Building them could "
    "run code, so nothing in the file was built. A model written by fairautoml.save holds "
    "none of them: the file was made by other code or altered. If it holds types of your "
    "own and you trust where it came from, load it with fairautoml.load(path, "
    "trusted=[<those type names>]) or trusted=True (CLI: --trusted)."
)
MODEL_FILE_DAMAGED = (
    "{path} is damaged ({why}): it is not a whole model file (empty, cut short in a copy "
    "or download, or altered after it was written), so it was not opened. Get the file "
    "again from its source, or write it again with automl.save(path)."
)


def unknown_name(kind: str, name: object, available: Iterable[str]) -> UnknownNameError:
    """Build the error for an unregistered name, listing what is available."""
    names = ", ".join(sorted(available))
    return UnknownNameError(UNKNOWN_NAME.format(kind=kind, name=name, available=names))


MITIGATOR_TOO_MANY_GROUPS = (
    "Mitigator {name!r} decides for at most {most} groups; the sensitive features give {n} "
    "({labels}). Merge groups (e.g. a privileged group against the rest), constrain an "
    "attribute of {most} groups, or leave {name!r} out of mitigators."
)
