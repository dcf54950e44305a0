"""The messages of :mod:`fairautoml.measures`'s errors and warnings, beside the code that raises
them (what was expected, what was given, how to fix it)."""

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
CONSTRAINT_NEEDS_SCORES = (
    "Constraint(s) {constraints} measure the calibration of the scores (positive-class "
    "probabilities), and only decisions were given here. Pass scores= (predict_proba's "
    "positive-class column) with the decisions."
)
CONSTRAINT_UNBOUND = (
    "Constraint {constraint!r} compares the groups of some sensitive attributes, but it was "
    "given group codes without the attributes they come from. Measure it through a fitted "
    "model (its constraints_ know the attributes), or bind it first: "
    "constraint.bind(model.best_estimator_.group_encoder)."
)
# --- tasks: what differs between binary classification and regression
CONSTRAINT_BOUND_POSITIVE = (
    "The bound of {metric} must be a positive number in the target's units; got {bound!r}. "
    "Pick e.g. the largest gap in error between groups you accept."
)
# --- paired evidence: an incumbent and an alternative measured on the same rows
PAIRED_LENGTHS = (
    "A paired comparison needs one value per held-out row in every input; got {lengths}. "
    "Pass y_true, both models' predictions, the groups (and sample_weight) for the same "
    "rows in the same order."
)
PAIRED_MISSING = (
    "{what} has {count} missing value(s) (the first at row {row}). Both models must be "
    "measured on every held-out row: predict those rows again, or drop them from every input."
)
PAIRED_NOT_BINARY = (
    "{what} must hold yes/no values coded 0/1 (1: the favourable outcome); got {values}. "
    "Pass e.g. (model.predict(X) == positive_label).astype(int)."
)
PAIRED_NO_SCORES = (
    "The metric {metric!r} ranks scores, but the {model} gave decisions only. Pass "
    "Predictions(decisions, scores=model.predict_proba(X)[:, 1]) for each model, or "
    "compare under a metric of decisions (accuracy, balanced_accuracy)."
)
PAIRED_SCORES_SHAPE = (
    "The {model}'s scores must be one number per row; got {given}. Pass the probability "
    "of the favourable outcome, e.g. model.predict_proba(X)[:, 1]."
)
PAIRED_TOLERANCE = (
    "tolerance must be a number in [0, 1]: how much {metric} the alternative may lose "
    "against the incumbent (e.g. 0.005 for half a point); got {given!r}."
)
PAIRED_LEVEL = (
    "level must be a number strictly between 0 and 1 (e.g. 0.95 for 95% intervals); got {given!r}."
)
PAIRED_N_BOOT = "n_boot must be a whole number of at least 10 resamples (e.g. 1000); got {given!r}."
PAIRED_NO_CONSTRAINTS = (
    "A paired comparison needs at least one fairness measure to compare; got none. Pass "
    "e.g. constraints='demographic_parity_difference <= 0.05'."
)
PAIRED_ONE_GROUP = (
    "{constraint} compares groups, but the held-out rows hold {count} group(s) ({groups}). "
    "Measure the two models on rows of at least two groups: pass each row's group code."
)
PAIRED_GROUPS_AND_PROBABILITIES = (
    "A paired comparison reads either each row's group (groups) or each row's probability "
    "of each group (group_probabilities), not both: pass groups=None with the probabilities."
)
# --- membership probabilities (BISG): each row's probability of each group
MEMBERSHIP_NOT_BINARY = (
    "{what} must be yes/no values coded 0/1 (1: the favourable outcome); got {values}. "
    "Pass e.g. (model.predict(X) == positive_label).astype(int)."
)
MEMBERSHIP_NEEDS_LABELS = (
    "{constraint} compares true or false positive rates, which need the true outcomes: "
    "pass y (0/1 labels of the same rows), or measure a demographic parity constraint."
)
MEMBERSHIP_NOT_DECISIONS = (
    "{constraint} is not a measure of yes/no decisions between groups; with membership "
    "probabilities only these are estimated: {metrics}."
)
MEMBERSHIP_ATTRIBUTES = (
    "{constraint} compares the groups of {attributes}, but the probabilities describe one "
    "attribute{named}. Name that attribute (or none) in the brackets: one probability "
    "table per attribute."
)
MEMBERSHIP_NOT_IDENTIFIED = (
    "The rate of group(s) {groups} cannot be told apart from the others' on these rows: "
    "the regression estimator's effective size is {sizes} row(s) (the rows of known group "
    "that would measure it as precisely), below min_effective_rows={minimum} (condition "
    "number of the probabilities' Gram matrix: {condition:.3g}). The probabilities of "
    "these groups move together or carry little mass. Merge groups whose probabilities "
    "move together (one column: their sum), measure on more rows, or lower "
    "min_effective_rows if wide intervals are acceptable."
)
MEMBERSHIP_NO_POSITIVES = (
    "{constraint} needs group {group!r}'s rows of outcome {outcome}, and the regression "
    "estimate of their share in that group is {share:.3g}: fewer than one row's worth. "
    "Measure on more rows, or merge that group with another."
)
MEMBERSHIP_SETTING = "{name} must be {want}; got {given!r}."
MEMBERSHIP_TRUE_GROUPS = (
    "The true groups hold {unknown}, which are not among the probabilities' groups "
    "{groups}: name the true groups as the probabilities' columns."
)
