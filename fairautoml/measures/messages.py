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
