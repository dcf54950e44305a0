"""The messages of :mod:`fairautoml.data`'s errors and warnings, beside the code that raises
them (what was expected, what was given, how to fix it)."""

SENSITIVE_HAS_NAN = (
    "The sensitive attribute '{name}' has {n} missing or infinite value(s). Fairness cannot be "
    "measured directly for rows without a group. Pass missing_groups='exclude' (CLI "
    "--missing-groups exclude: models train on every row, fairness is measured on the rows "
    "whose group is known) or missing_groups='infer' (the group of the other rows is "
    "inferred from their features, and fairness is measured with those soft memberships); "
    "or drop those rows yourself."
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
UNSEEN_GROUP = (
    "Group(s) {groups} were not seen during fit; known groups: {known}. The model has no "
    "decision rule for them: map them to a known group, or refit with rows of every group."
)
CONSTRAINT_CELLS = (
    "Cannot tell the values of the sensitive attributes {names} apart in this model's "
    "groups: a value holds the separator {separator!r}. Refit the model with this version "
    "of fairautoml, or constrain the intersection of all attributes (no brackets)."
)
BINS_HOW = (
    'sensitive_bins={{"{name}": [25, 40, 60]}} (cut points: groups <25, [25, 40), [40, 60), '
    '>=60) or sensitive_bins={{"{name}": "quantiles:4"}} (CLI: --sensitive {name}:25,40,60 or '
    "--sensitive {name}:q4)"
)
SENSITIVE_CONTINUOUS = (
    "The sensitive attribute '{name}' is numeric with {n} distinct values (more than {limit}): "
    "each value would be its own group, too small to measure. Bin it: " + BINS_HOW + "; "
    "or measure the decisions' dependence on it without bins: "
    "'generalized_disparate_impact[{name}] <= 0.05' (docs/sensitive_attributes.md)."
)
CONTINUOUS_HAS_NAN = (
    "The sensitive attribute '{name}' has {n} missing or infinite value(s), and "
    "{constraint} reads it as numbers (no groups, so missing_groups cannot set those rows "
    "apart). Drop those rows or fill in the values; or bin it (" + BINS_HOW + ") and pass "
    "missing_groups='exclude' with a group constraint instead."
)
CONTINUOUS_NOT_NUMERIC = (
    "{constraint} reads the sensitive attribute '{name}' as numbers, but it is not numeric "
    "(e.g. {example!r}). Pass its numeric values, or compare its groups with a group "
    "measure (e.g. 'demographic_parity_difference[{name}] <= 0.05')."
)
CONTINUOUS_BINNED = (
    "{constraint} reads the sensitive attribute '{name}' as numbers without bins, but "
    "sensitive_bins bins it. Drop '{name}' from sensitive_bins, or constrain its bins with a "
    "group measure (e.g. 'demographic_parity_difference[{name}] <= 0.05')."
)
CONTINUOUS_ONE_VALUE = (
    "{constraint} reads the sensitive attribute '{name}' as numbers, but every row has the "
    "same value ({value!r}): a dependence on it cannot be measured."
)
CONTINUOUS_IN_INTERSECTION = (
    "Constraint '{constraint}' compares the intersection of every sensitive attribute, "
    "including '{name}', which {dependence} reads as numbers (each value is no group). Name "
    "the attributes it compares in brackets, e.g. '{example}'."
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
INTERSECTION_TOO_SMALL = (
    "{error} It is a cell of the intersection {attributes}, which {constraints} compare(s). To "
    "compare each attribute's groups on its own, constrain them one by one, e.g. {example}: "
    "the intersection's cells are then neither checked for size nor compared."
)
GROUP_OF_ATTRIBUTE = "{error} It is a group of '{attribute}', which {constraints} compare(s)."
