"""The messages of :mod:`fairautoml.explain`'s errors, beside the code that raises them (what
was expected, what was given, how to fix it)."""

BAD_K = (
    "k must be a whole number of reasons, at least 1; got {given}. Pass e.g. k=4 (the "
    "command line: --reasons 4)."
)
SEVERAL_CLASSES = (
    "Contributions and reasons explain a yes/no score or an amount; this model scores "
    "{n_classes} classes, for which no single score is lowered or raised. Explain one "
    "class against the rest with a model fitted for that yes/no question."
)
MISSING_COLUMNS = (
    "{table} lacks column(s) {missing} that the model was trained on ({model}). Pass a table "
    "with every training column (order does not matter)."
)
SMALL_REFERENCE = (
    "The {method} contributions are relative to the mean of reference rows, and {given} "
    "row(s) give no mean to compare with (every contribution would be 0). Pass "
    "reference= rows that stand for the usual applicant (a sample of the training table "
    "or of recent applicants), or explain several rows at once."
)
BAD_N_SAMPLES = "n_samples must be a whole number of at least 1; got {given}. Pass e.g. 32."
POS_LABEL_UNKNOWN = (
    "pos_label={given!r} is not one of the model's classes {classes}. Pass the class whose "
    "probability is the score (the favourable outcome)."
)
NO_PROBA = (
    "{model} has neither predict_proba (a classifier's score) nor predict (an amount): "
    "there is no score to explain. Pass a fitted scikit-learn compatible model."
)
UNKNOWN_GROUPS = (
    "between= names group(s) {missing} not among the rows' groups {known}. Name two of them, "
    "e.g. between=({example})."
)
FEW_GROUPS = (
    "A disparity compares two groups; the rows have {n} group(s) ({known}). Pass rows of at "
    "least two groups, or the right sensitive_features."
)
GROUPS_LENGTH = (
    "groups has {n_groups} value(s) but {n_rows} rows were explained. Pass one group per row "
    "(the same rows, in the same order)."
)
BAD_LEVEL = "level must be a number between 0 and 1 (e.g. 0.95); got {given}."
BAD_BOOT = "n_boot must be a whole number of at least 10; got {given}. Pass e.g. 200."
GROUPS_AND_PROBABILITIES = (
    "Pass either the groups (one per row) or group_probabilities (each row's probability of "
    "each group), not both: attribute once with each to compare."
)
