"""The messages of :mod:`fairautoml.alternatives`: each names the problem and its fix."""

from __future__ import annotations

NO_INCUMBENT = (
    "find_alternatives needs the incumbent: a fitted model with predict_proba, or its "
    "scores (incumbent_scores=) with cutoff= or approval_rate=."
)
BOTH_INCUMBENTS = (
    "Give the incumbent once: a model, or incumbent_scores= with cutoff= or approval_rate=, "
    "not both."
)
NO_PREDICT_PROBA = (
    "The incumbent ({kind}) has no predict_proba: the search compares decisions and scores. "
    "Pass a fitted classifier with predict_proba (a scikit-learn model, a fitted FairAutoML), "
    "or its scores: incumbent_scores=<one score per row> with cutoff= or approval_rate=."
)
NOT_FITTED = (
    "The incumbent ({kind}) could not score the rows ({error}). Pass the model as it is "
    "deployed: fitted, on the table's columns."
)
MISSING_COLUMNS = (
    "The incumbent was trained on columns the table lacks: {missing}. Add them to X (the "
    "table's columns: {columns})."
)
SCORES_LENGTH = (
    "incumbent_scores has {given} values but X has {rows} rows: give one score per row of X, "
    "in X's order."
)
SCORES_MISSING = (
    "incumbent_scores has {count} missing or non-numeric values (first at rows {rows}): "
    "score every row, or drop the rows without a score from X, y and the sensitive features."
)
SCORES_COLUMN = "incumbent_scores names column {name!r}, which X lacks; X's columns: {columns}."
CUTOFF_NEEDED = (
    "incumbent_scores needs the rule that turns them into decisions: cutoff= (approve a "
    "row whose score is at least the cutoff) or approval_rate= (approve that share of the "
    "rows, the highest scores first); give one of them."
)
CUTOFF_BOTH = "Give cutoff= or approval_rate=, not both: either one fixes the decisions."
CUTOFF_WITH_MODEL = (
    "cutoff= and approval_rate= apply to incumbent_scores; a model decides by its own "
    "predict. Leave them out, or pass the model's scores as incumbent_scores=."
)
APPROVAL_RATE = (
    "approval_rate must be a number in (0, 1), the share of rows approved; got {given!r}."
)
CUTOFF_VALUE = "cutoff must be a finite number; got {given!r}."
TOLERANCE = (
    "tolerance must be a number in [0, 1]: how much of the metric ({metric}) an alternative "
    "may lose against the incumbent, e.g. 0.005 for half a point of accuracy; got {given!r}."
)
EVIDENCE_SHARE = (
    "evidence_share must be a number in (0, 0.8]: the share of rows kept back, never seen by "
    "the search, on which the incumbent and each alternative are compared (e.g. 0.3); got "
    "{given!r}."
)
TWO_CLASSES = (
    "find_alternatives compares yes/no decisions: the target needs two labels; it has "
    "{count} ({labels})."
)
ROWS = "X has {rows} rows but y has {y_rows}: give one target value per row of X."
SEARCH_OPTION = (
    "{name}= is set by find_alternatives itself ({why}); leave it out of the search options."
)
TOO_FEW_COMPARED = (
    "n_compare must be an integer >= 1 (alternatives rebuilt and compared); got {given!r}."
)

NOTHING_TO_REDUCE = (
    "Nothing to reduce: the incumbent already meets every bound given ({values}), so no "
    "search was run. Give a measure without a bound (e.g. 'demographic_parity_difference') to "
    "search for an alternative that is less disparate still."
)
ZERO_DISPARITY = (
    "Nothing to reduce: the incumbent's {key} on the search rows is already {value:.4f}, the "
    "value of no disparity."
)
FEW_DIFFERING_ROWS = (
    " Not called less discriminatory: the two models decide differently on only {rows} "
    "evidence rows (fewer than {minimum}), too few for the bootstrap interval to be trusted."
)
NO_CANDIDATES = (
    "None found: no model the search trained reached the incumbent's validation {metric} "
    "({floor:.4f} after the tolerance) while deployable under the decision rule asked for."
)

SKOPS_USER_MODEL = (
    "{path} is a skops file of a model fairautoml's safe gate does not accept ({error}). "
    "Opening it would build types outside fairautoml's allow-list, which could run code. "
    "Pass its scores instead (--incumbent-scores COLUMN with --cutoff or --approval-rate), "
    "or load it yourself with skops where you trust the file and call find_alternatives."
)

FEATURE_NAMES = "{option}= takes column names (a string or a list of strings); got {given!r}."
REQUIRED_AND_FORBIDDEN = (
    "{names} are both required and forbidden: a feature every alternative must keep cannot "
    "also be one no alternative may use. Remove each from required_features= or from "
    "forbidden_features=."
)
FEATURES_NOT_IN_TABLE = (
    "{option}= names columns the table lacks: {missing}. Name columns of X (its columns: "
    "{columns})."
)
REQUIRED_SENSITIVE = (
    "required_features= names the sensitive column(s) {names}, which the search does not use "
    "as features: leave them out, or pass keep_sensitive_as_feature=True where using them "
    "is lawful."
)
FORBIDDEN_SENSITIVE = (
    "forbidden_features= names the sensitive column(s) {names}, which "
    "keep_sensitive_as_feature=True makes features: leave keep_sensitive_as_feature out, "
    "and no alternative reads them."
)
NO_FEATURE_LEFT = (
    "forbidden_features= ({forbidden}) leaves no feature to search with: forbid fewer columns."
)
DROP_DRIVERS = (
    "drop_drivers must be an integer >= 0 (0: no feature-set searches; K: searches without "
    "the 1 .. K features driving the incumbent's disparity); got {given!r}."
)
NO_DRIVERS_FROM_SCORES = (
    "The incumbent was given as scores: there is no model whose disparity attribution "
    "could name the features driving it, so only every allowed feature was searched."
)
NO_DRIVERS_FAILED = (
    "The incumbent's disparity attribution failed ({error}), so only every allowed feature "
    "was searched."
)
NO_DRIVERS_FOUND = (
    "No allowed, not required feature widens the incumbent's gap in score on the search "
    "rows, so only every allowed feature was searched."
)

NO_CUT_CLASSES = "it decides among several classes, where one cut-off does not apply"
NO_CUT_RANDOMIZED = "its rule is randomized: its probabilities are draws, not scores to cut"
NO_CUT_RULE = (
    "its rule ({rule}) turns the scores into decisions: its probabilities are not scores to cut"
)
NO_CUT_HELD_OUT = (
    "the search kept none of its probabilities on rows it was not trained on to choose a "
    "cut-off from"
)
NO_CUT_TIES = (
    "ties in its probabilities let no cut-off approve the incumbent's {target:.1%} of the "
    "search's rows (the nearest approves {approval:.1%})"
)
APPROVAL_LEFT_OUT = (
    "Left out: it approves {approval:.1%} of the evidence rows, the incumbent {incumbent:.1%} "
    "(same_approval_rate=True), and it takes no cut-off that would approve the incumbent's "
    "share: {why}."
)
SEARCH_LEFT_OUT = (
    "Left out: no trial of this search was done in its share of the time budget ({error}); "
    "the other searches' alternatives stand. Raise time_budget to search this feature set."
)
NO_GROUPS = (
    "find_alternatives needs the groups: sensitive_features= (each row's group, or the "
    "name(s) of X's sensitive column(s)), or group_probabilities= (each row's probability "
    "of each group, e.g. BISG)."
)
