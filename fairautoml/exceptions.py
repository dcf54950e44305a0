"""Every error and warning fairautoml raises, with its message templates.

Messages say what was expected, what was given, and how to fix it. Tests import the
templates' leading words so a reworded message fails loudly rather than silently.
"""

from __future__ import annotations

from collections.abc import Iterable


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


class SearchError(FairAutoMLError):
    """The search could not produce any usable model."""


class NotFittedError(FairAutoMLError, AttributeError):
    """A fitted attribute or prediction was asked for before ``fit``."""


class FairAutoMLWarning(UserWarning):
    """Base class of fairautoml's warnings."""


class InfeasibleWarning(FairAutoMLWarning):
    """No model met every constraint; the least-violating one was returned."""


# --- message templates -------------------------------------------------------------------

EMPTY_INPUT = "X is empty ({n_rows} rows, {n_cols} columns): fit needs at least one row and column."
LENGTH_MISMATCH = (
    "Inconsistent lengths: X has {n_x} rows but {name} has {n_other}. Pass one value per row of X."
)
TARGET_NOT_BINARY = (
    "The target must have exactly two classes; it has {n} ({classes}). "
    "fairautoml solves binary classification: recode y to two classes."
)
TARGET_HAS_NAN = (
    "The target has {n} missing value(s) (NaN/None/inf). Drop those rows or impute the "
    "target before fit."
)
SENSITIVE_HAS_NAN = (
    "The sensitive attribute '{name}' has {n} missing value(s). Fairness cannot be measured "
    "for rows without a group: drop them or map missing to an explicit group such as 'unknown'."
)
SINGLE_GROUP = (
    "The sensitive attribute has a single group ({group!r}); fairness compares groups, so it "
    "needs at least two. Check that the right column was passed."
)
GROUP_TOO_SMALL = (
    "Group {group!r} has {n} row(s) ({n_pos} positive, {n_neg} negative); at least {min_size} "
    "rows with both classes are needed to estimate its rates. Merge small groups (e.g. into "
    "'other') or lower min_group_size."
)
SENSITIVE_COLUMN_MISSING = (
    "Sensitive column(s) {missing} not in X. Columns of X are: {columns}. Pass existing column "
    "names or the sensitive values themselves."
)
DUPLICATE_COLUMNS = (
    "X has duplicate column names: {names}. Rename them so each column has a unique name."
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
    "Column {name!r} contains infinite values. Replace them (e.g. with NaN, which every learner "
    "handles) before fit."
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
    "decision rule for them."
)
NOT_FITTED = "This {cls} instance is not fitted yet: call fit(X, y, sensitive_features=...) first."


def unknown_name(kind: str, name: object, available: Iterable[str]) -> UnknownNameError:
    """Build the error for an unregistered name, listing what is available."""
    names = ", ".join(sorted(available))
    return UnknownNameError(f"Unknown {kind} {name!r}. Available: {names}.")
