"""The messages of :mod:`fairautoml.report`'s errors and warnings, beside the code that raises
them (what was expected, what was given, how to fix it)."""

VERDICT_GROUP_PROBABILITIES = (
    "The groups were membership probabilities ({groups}), not known groups: every fairness "
    "value is estimated from them by regression, which holds only if they are calibrated "
    "and, given the true group, the decisions do not depend on what they are computed from "
    "(surname, address); the training mitigations read each row's most probable group."
)
PROBABILITIES_LINE = (
    "groups: membership probabilities of {attribute} ({groups}); the constraint values are "
    "the regression estimator's (decisions regressed on the probabilities), with bootstrap "
    "intervals; the plain probability-weighted value, which understates every gap under "
    "the same assumptions, beside it: {weighted}"
)
PROBABILITIES_ASSUMPTIONS = "the regression estimate is unbiased if: {assumptions}"
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
    "estimated at {shares}), and yes/no decisions' rates are corrected by the inference's "
    "error on the rows whose group is known; the claim assumes whether a group is missing "
    "depends on the group at most, not on the features beside it."
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
VERDICT_RANDOMIZED = (
    "The model's decisions are randomized near its cut-off: two applicants with the same "
    "score can get different decisions (each row's draw is keyed on its own values, so the "
    "same applicant gets the same decision every time, and identical applicants share "
    "it). Check that this is acceptable, and that adverse-action explanations can say so."
)
