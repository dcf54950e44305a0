"""Every error and warning class fairautoml raises, and the message templates several
packages share.

A message used by one module lives beside the code that raises it (or in its package's
``messages.py``). Messages say what was expected, what was given, and how to fix it.
Tests import the templates so a reworded message fails loudly rather than silently.
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


class ShiftOverlapWarning(FairAutoMLWarning):
    """The rows from where the model will be used (``target_X``) overlap the fit's rows
    poorly: the reweighted evidence for the claim there is worth few rows."""


class UpdateWarning(FairAutoMLWarning):
    """``update``'s claim is about something other than the fit's: the update's own rows
    instead of the fit's target population, or each new row once where the fit's rows
    had weights."""


# --- message templates -------------------------------------------------------------------

EMPTY_INPUT = (
    "X is empty ({n_rows} rows, {n_cols} columns): {method} needs at least one row and one "
    "feature column. Pass a table with rows."
)
LENGTH_MISMATCH = (
    "Inconsistent lengths: X has {n_x} rows but {name} has {n_other}. Pass one value per row of X."
)
UNKNOWN_LABELS = (
    "y has label(s) {labels} not seen in fit; the classes are {classes}. Pass labels of those "
    "classes."
)
MISSING_GROUPS_MODE = (
    "missing_groups must be one of {modes}; got {given}. 'error' refuses rows whose group is "
    "unknown; 'exclude' measures fairness without them; 'infer' infers their group."
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
DUPLICATE_COLUMNS = (
    "{table} has duplicate column names: {names} (names are compared as strings). Rename them "
    "so each column has a unique name."
)
MITIGATOR_NO_WEIGHTS = (
    "Mitigator {name!r} cannot take sample_weight: it would fit or measure the rows "
    "unweighted. Leave it out of mitigators for a weighted fit (weighted: {weighted})."
)
CONSTRAINT_UNKNOWN_ATTRIBUTE = (
    "Constraint {constraint!r} names the attribute(s) {unknown}, which are not sensitive "
    "attributes; the sensitive attributes are {known}. Name one of them in the brackets, or "
    "add the column to sensitive_features."
)
# --- continuous sensitive attributes (sensitive_bins) -------------------------------------


POS_LABEL_REGRESSION = (
    "pos_label={label!r} was given, but a regression target has no favourable label. "
    "Leave pos_label=None."
)
UNKNOWN_NAME = "Unknown {kind} {name!r}. Available: {available}."


def unknown_name(kind: str, name: object, available: Iterable[str]) -> UnknownNameError:
    """Build the error for an unregistered name, listing what is available."""
    names = ", ".join(sorted(available))
    return UnknownNameError(UNKNOWN_NAME.format(kind=kind, name=name, available=names))
