"""The docs say what the code does today.

A page must not call a shipped feature missing, planned or in progress. :data:`FEATURES`
is the table: for each feature, the words that name it on a page and the proof from the
public API that it shipped (``fairautoml.__all__``, the command line's subcommands and
options, the estimators' signatures). :func:`stale_statements` flags, in a page's text,

* a sentence that names a shipped feature and says it is missing ("not yet", "planned",
  "in progress", "takes none", ...: :data:`MISSING`);
* any sentence naming one under a heading or a box whose title says the page lists what
  is missing ("What it does not do (yet)": :data:`LIMITS_TITLE`);
* a sentence that denies a shipped feature outright ("It must have two values" of a target,
  when several classes are fitted) or states a fact the code contradicts
  (:data:`FALSE_CLAIMS`).

The checker is a function of a text, so it is tested on the box that
``docs/regulated_decisions.md`` held before these features shipped (:data:`OLD_LIMITS`):
it must flag every one of them there, and nothing on the pages today. Every constraint a
page cites must also be one ``parse_constraint`` accepts.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import fairautoml
from fairautoml import FairAutoML, FairAutoMLRegressor, available_mitigators, parse_constraint
from fairautoml.cli.parser import build_parser
from fairautoml.exceptions import ConstraintError
from fairautoml.measures.constraints import SUPPORTED_METRICS
from fairautoml.mitigators import get_mitigator

REPO = Path(__file__).resolve().parents[1]
# The changelog and the decision records are history: what was missing then stays written.
HISTORY = {"changelog.md", "decisions.md"}
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CURRENT_PAGES = [p for p in PAGES if p.name not in HISTORY]


# --- what the public API proves shipped ---------------------------------------------------


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _options(command: str) -> dict[str, argparse.Action]:
    return {o: a for a in _subcommands()[command]._actions for o in a.option_strings}


def _init_params() -> set[str]:
    return set(inspect.signature(FairAutoML.__init__).parameters)


def _fit_params(estimator: type) -> set[str]:
    return set(inspect.signature(estimator.fit).parameters)


def _serves(mitigator: str, task: str) -> bool:
    return mitigator in available_mitigators() and task in get_mitigator(mitigator).tasks


@dataclass(frozen=True)
class Feature:
    """A shipped feature: ``topic`` names it in a sentence, ``shipped`` proves it from the
    public API, ``denial`` (optional) is a sentence that says it does not exist without
    any word of :data:`MISSING`."""

    name: str
    topic: str
    shipped: Callable[[], bool]
    denial: str | None = None


FEATURES = (
    Feature(
        "fair regression (FairAutoMLRegressor)",
        r"(?<!logistic )(?<!linear )\bregression\b|\bFairAutoMLRegressor\b|\bcontinuous target",
        lambda: (
            "FairAutoMLRegressor" in fairautoml.__all__
            and "regression" in _options("fit")["--task"].choices
        ),
        denial=r"\bfits binary classification\b|\bbinary classification (?:only|today)\b",
    ),
    Feature(
        "targets of several classes (multiclass)",
        r"\bmulti-?class\b|\bseveral classes\b|\bmore than two (?:classes|values|labels)\b",
        lambda: (
            "multiclass" in _options("fit")["--task"].choices
            and _serves("multiclass_lp", "multiclass")
        ),
        denial=r"\bmust have (?:exactly )?two (?:values|classes|labels)\b|\(two values\)"
        r"|\bthe two labels\b|\ba binary target\b|\bbinary targets? only\b"
        r"|\bonly (?:binary|two-class|yes/no) targets?\b",
    ),
    Feature(
        "rows without a group (missing_groups=)",
        r"\bmissing[_ ]groups?\b|\bmissing group values?\b|\bunknown group\b|\bwithout a group\b"
        r"|\bgroups? (?:is |are )?(?:missing|unknown|known for only some)\b",
        lambda: "missing_groups" in _init_params() and "--missing-groups" in _options("fit"),
        denial=r"\bevery row must have a value of (?:each|the) sensitive attribute\b",
    ),
    Feature(
        "continuous sensitive attributes (sensitive_bins=)",
        r"\bcontinuous sensitive attributes?\b|\bsensitive_bins\b|\bbin(?:s|ned|ning)?\b",
        lambda: "sensitive_bins" in _init_params(),
    ),
    Feature(
        "row weights (sample_weight, --weight)",
        r"\bsample[_ ]weights?\b|\b(?:survey|case|row|frequency) weights\b|--weight\b",
        lambda: (
            all("sample_weight" in _fit_params(e) for e in (FairAutoML, FairAutoMLRegressor))
            and "--weight" in _options("fit")
        ),
        denial=r"`?fit`? takes none\b|\bweights are not used in the search\b",
    ),
    Feature(
        "the audit from the command line (fairautoml audit)",
        r"\bfairautoml audit\b|\baudit\w*\b[^.]{0,60}\bcommand[- ]line\b"
        r"|\bcommand[- ]line\b[^.]{0,60}\baudit",
        lambda: "audit" in _subcommands() and callable(FairAutoML.audit),
    ),
    Feature(
        "constraints per attribute (metric[race] <= bound)",
        r"\beach attribute\b|\bper[- ]attribute\b|\battributes? (?:on its own|separately)\b",
        lambda: (
            parse_constraint("demographic_parity_difference[race] <= 0.05").attributes == ("race",)
        ),
        denial=r"\bon their intersections? only\b|\bintersections? only\b",
    ),
    Feature(
        "in-processing for amounts (reductions, reweighing)",
        r"\bin-processing\b[^.]*\bregression\b|\bregression\b[^.]*\bin-processing\b",
        lambda: all(
            _serves(m, "regression")
            for m in ("exponentiated_gradient", "grid_search", "reweighing")
        ),
    ),
)

# A sentence that says something is missing or to come.
MISSING = re.compile(
    r"\bnot\s+yet\b|\(yet\)|\bplanned\b|\bin\s+progress\b|\bnot\s+released\b"
    r"|\bbeing\s+(?:added|built|worked\s+on)\b|\bcoming\s+soon\b|\bfuture\s+release\b"
    r"|\bnot\s+(?:currently\s+)?supported\b|\bunsupported\b|\bnot\s+built\b"
    r"|\btakes?\s+none\b|\bwill\s+(?:soon\s+)?be\s+(?:added|supported|available)\b"
    r"|\bnot\s+implemented\b",
    re.I,
)
# A heading or box that lists what is missing: each sentence under it is read as such.
LIMITS_TITLE = re.compile(
    r"\b(?:does|do)\s+not\s+do\b|\bnot\s+yet\b|\(yet\)|\bplanned\b|\broadmap\b"
    r"|\bin\s+progress\b|\bmissing\s+features?\b",
    re.I,
)


@dataclass(frozen=True)
class FalseClaim:
    """A statement the code contradicts: ``pattern`` finds it, ``wrong`` proves it wrong."""

    name: str
    pattern: str
    wrong: Callable[[], bool]


def _refused(text: str) -> bool:
    try:
        parse_constraint(text)
    except ConstraintError:
        return True
    return False


def _skops_is_not_a_pickle() -> bool:
    from fairautoml.model import files as model_format

    return model_format.SKOPS_SUFFIX == ".skops" and ".skops" not in model_format.PICKLE_SUFFIXES


FALSE_CLAIMS = (
    FalseClaim(
        "save('model.skops') writes a pickle (it writes skops; joblib only for .joblib/.pkl)",
        r"\.skops\W{0,4}\s*(?:\([^)]*\)\s*)?writes\s+a\s+pickle",
        _skops_is_not_a_pickle,
    ),
    FalseClaim(
        "any metric of fairlearn.metrics is a constraint (only SUPPORTED_METRICS are)",
        r"\bany\s+(?:metric|function)\s+(?:of|from|in)\s+`?fairlearn\.metrics`?",
        lambda: (
            _refused("true_positive_rate_ratio >= 0.8")
            and _refused("accuracy_score_difference <= 0.05")
        ),
    ),
)


# --- the checker --------------------------------------------------------------------------

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
BOX = re.compile(r'^(\s*)(?:!!!|\?\?\?\+?)\s*\w+(?:\s+"([^"]*)")?')
ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*`(\[])")


@dataclass(frozen=True)
class Statement:
    """A flagged sentence: where, what it says, and which feature or fact it gets wrong."""

    line: int
    text: str
    wrong_about: str
    why: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.wrong_about} ({self.why}): {self.text!r}"


def _blocks(text: str) -> list[tuple[int, str, bool]]:
    """The page's prose as (first line, text, under a limits title) blocks: paragraphs,
    list items and table rows, code fences left out; a box's or a heading's title counts
    for its body."""
    blocks: list[tuple[int, str, bool]] = []
    current: list[str] = []
    start = 0
    in_fence = False
    heading_limits: dict[int, bool] = {}  # heading level -> its title lists limits
    box_indent: int | None = None
    box_limits = False

    def flush() -> None:
        nonlocal current
        if current:
            limits = any(heading_limits.values()) or box_limits
            blocks.append((start, " ".join(s.strip() for s in current), limits))
        current = []

    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        indent = len(line) - len(line.lstrip())
        if box_indent is not None and line.strip() and indent <= box_indent:
            flush()
            box_indent, box_limits = None, False
        heading = HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            heading_limits = {k: v for k, v in heading_limits.items() if k < level}
            heading_limits[level] = bool(LIMITS_TITLE.search(heading.group(2)))
            blocks.append((number, heading.group(2), heading_limits[level]))
            continue
        box = BOX.match(line)
        if box:
            flush()
            box_indent = len(box.group(1))
            box_limits = bool(LIMITS_TITLE.search(box.group(2) or ""))
            continue
        if not line.strip():
            flush()
            continue
        if ITEM.match(line) or line.lstrip().startswith("|"):  # a list item, a table row
            flush()
        if not current:
            start = number
        current.append(line)
    flush()
    return blocks


def stale_statements(text: str, features: tuple[Feature, ...] = FEATURES) -> list[Statement]:
    """The sentences of ``text`` that call one of ``features`` missing (or deny it), or
    state one of :data:`FALSE_CLAIMS`. Checks the text only: whether each feature shipped
    is :func:`test_every_feature_of_the_table_shipped`'s question."""
    found = []
    for line, block, under_limits in _blocks(text):
        for sentence in SENTENCE_END.split(block):
            says_missing = bool(MISSING.search(sentence))
            for feature in features:
                denied = feature.denial and re.search(feature.denial, sentence, re.I)
                named = re.search(feature.topic, sentence, re.I)
                if denied:
                    why = f"denies it: {denied.group(0)!r}"
                elif named and says_missing:
                    why = f"says it is missing: {MISSING.search(sentence).group(0)!r}"
                elif named and under_limits:
                    why = "listed under a title that says what is missing"
                else:
                    continue
                found.append(Statement(line, sentence, feature.name, why))
            for claim in FALSE_CLAIMS:
                if re.search(claim.pattern, sentence, re.I):
                    found.append(Statement(line, sentence, claim.name, "the code says otherwise"))
    return found


# --- the old text: what the checker must catch ----------------------------------------------

# docs/regulated_decisions.md before regression, several classes, missing groups, bins,
# weights, the command-line audit and per-attribute rules shipped: its box and the end of
# its section on intersections, verbatim (`git show 2823772:docs/regulated_decisions.md`).
OLD_LIMITS = """\
# Regulated decisions

!!! warning "What it does not do (yet)"
    - **Regression and multiclass targets**: fairautoml fits binary classification
      today. Fair regression (a continuous target such as a wage or a limit) and
      multiclass targets are in progress, not released.
    - **Missing group values**: every row must have a value of each sensitive attribute.
      Rows with an unknown group must be dropped or given an explicit "unknown" group
      (then held to the constraints like any other group) before fitting.
    - **Continuous sensitive attributes**: age as a number is read as one group per
      distinct value (and refused where those groups are under `min_group_size` rows).
      Bin it first (e.g. under 25 / 25 and over) and state the bins.
    - **Sample weights**: `fit` takes none; survey or case weights are not used in the
      search or in the fairness numbers.
    - **Auditing a saved model on new data from the command line** is in progress. From
      Python, `automl.fairness_report(X_new, y_new, sensitive_features=s_new)` measures a
      fitted model's per-group rates on any labelled rows today.
    - **Constraints on each attribute on its own**: several attributes are constrained
      on their intersections only (below).

## Intersections, or each attribute on its own

keeps a larger margin (less accuracy) or cannot show the rule holds at all. Groups under
`min_group_size` rows (20) are refused; merge them first and say so. Constraints on each
attribute separately (race parity and sex parity, not race × sex) are planned.
"""

# Other stale sentences the pages held (docs/regression.md, glossary.md, quickstart.md,
# api.md, user_guide.md, index.md), each with the feature or fact it gets wrong.
OLD_SENTENCES = [
    (
        "Sample weights, groups missing for some rows and continuous sensitive attributes are "
        "planned for both tasks; in-processing (fairlearn's reductions with bounded group loss, "
        "reweighing) for regression is being added.",
        {"row weights", "rows without a group", "continuous sensitive", "in-processing"},
    ),
    (
        "Constraints on each attribute on its own are planned, not built.",
        {"constraints per attribute"},
    ),
    ("- `--target deny`: the column to predict. It must have two values.", {"several classes"}),
    (
        "| `classes_` | the two labels; `classes_[1]` is the favourable label. |",
        {"several classes"},
    ),
    (
        "Fair AutoML: give it a table, a binary target, the sensitive attribute.",
        {"several classes"},
    ),
    ('`automl.save("model.skops")` writes a pickle, which `fairautoml.load` opens.', {"skops"}),
    (
        "Any metric of `fairlearn.metrics` works (`equal_opportunity_difference`, ...).",
        {"any metric"},
    ),
]


def _flagged(text: str) -> set[str]:
    return {s.wrong_about for s in stale_statements(text)}


def test_every_feature_of_the_table_shipped():
    """The table is the public API's: a feature it lists is there (if one is removed, a
    page may say so again, and its row goes)."""
    missing = [f.name for f in FEATURES if not f.shipped()]
    assert not missing, f"not in the public API (any more?): {missing}"
    assert all(claim.wrong() for claim in FALSE_CLAIMS)


def test_the_old_limits_box_is_caught_feature_by_feature():
    flagged = _flagged(OLD_LIMITS)
    assert flagged >= {f.name for f in FEATURES if "in-processing" not in f.name}, (
        f"not flagged: {sorted({f.name for f in FEATURES} - flagged)}"
    )
    # every bullet of the box, each on its own
    bullets = [b for b in OLD_LIMITS.split("    - ")[1:]]
    assert len(bullets) == 6
    for bullet in bullets:
        box = '!!! warning "What it does not do (yet)"\n    - ' + bullet
        assert stale_statements(box), bullet
    # and the per-attribute sentence outside the box, by its own words
    assert _flagged(OLD_LIMITS.split("## Intersections, or each attribute")[1]) == {
        "constraints per attribute (metric[race] <= bound)"
    }


@pytest.mark.parametrize(
    "sentence, expected",
    OLD_SENTENCES,
    ids=lambda v: str(sorted(v) if isinstance(v, set) else v)[:40],
)
def test_old_stale_sentences_are_caught(sentence, expected):
    flagged = _flagged(sentence)
    for part in expected:
        assert any(part in name for name in flagged), (part, flagged)


@pytest.mark.parametrize(
    "sentence",
    [
        "By default the model never reads the group: `predict(X)` does not need it.",
        "fairautoml is not on PyPI yet: install it from a checkout.",
        "Not yet where we want it: level with error-parity within that noise.",
        "The audit tests the drift of a regressor's inputs, not of its group errors.",
        "Every row needs a group unless `missing_groups` says what to do with the others.",
        "Amounts have no selection rate, so no impact ratio.",
        '`automl.save("model.joblib")` writes a pickle, opened only with `trusted=True`.',
        "A `logistic regression` baseline is planned for the benchmarks.",
    ],
)
def test_true_statements_are_not_flagged(sentence):
    assert not stale_statements(sentence), stale_statements(sentence)


def test_a_limits_title_ends_with_its_section():
    text = (
        "## What it does not do yet\n\nRegression is planned.\n\n"
        "## Weights\n\nRow weights: `sample_weight`.\n"
    )
    flagged = stale_statements(text)
    assert [s.line for s in flagged] == [3]


@pytest.mark.parametrize("page", CURRENT_PAGES, ids=lambda p: p.name)
def test_no_page_calls_a_shipped_feature_missing(page):
    found = stale_statements(page.read_text())
    assert not found, f"{page.name}:\n" + "\n".join(map(str, found))


# --- constraint names ---------------------------------------------------------------------

CONSTRAINT_NAME = re.compile(r"\b([a-z][a-z_]*_(?:difference|ratio|ks|group_max))\b")
CONSTRAINT_TEXT = re.compile(
    r"\b([a-z][a-z_]*_(?:difference|ratio|ks|group_max)(?:\[[^\]]*\])?\s*(?:<=|>=|<|>|==?)\s*"
    r"[0-9][0-9.]*)"
)
NOT_CONSTRAINTS = {"impact_ratio"}  # an output column of the audit, not a constraint


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_constraint_a_page_cites_is_accepted(page):
    text = page.read_text()
    unknown = sorted(set(CONSTRAINT_NAME.findall(text)) - set(SUPPORTED_METRICS) - NOT_CONSTRAINTS)
    assert not unknown, f"{page.name} cites constraint names fairautoml refuses: {unknown}"
    for written in CONSTRAINT_TEXT.findall(text):
        parse_constraint(written)  # raises ConstraintError, naming what is wrong


def test_the_choosing_page_cites_every_family():
    """The page that helps choose a rule names the constraints of every task."""
    text = (REPO / "docs" / "choosing_a_rule.md").read_text()
    cited = set(CONSTRAINT_NAME.findall(text))
    for name in (
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equal_opportunity_difference",
        "equalized_odds_difference",
        "false_positive_rate_difference",
        "demographic_parity_ks",
        "mean_absolute_error_ratio",
        "mean_squared_error_group_max",
    ):
        assert name in cited, name
    nav = (REPO / "mkdocs.yml").read_text()
    assert "choosing_a_rule.md" in nav


def test_the_architecture_page_matches_the_tree():
    """docs/architecture.md names every package and root module, and every module it names
    in a package's row exists there (a move that forgets the page fails here)."""
    package = Path(fairautoml.__file__).parent
    text = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text()
    packages = sorted(p.parent.name for p in package.glob("*/__init__.py"))
    roots = sorted(p.name for p in package.glob("*.py") if p.name != "__init__.py")
    assert [p for p in packages if f"`{p}/`" not in text] == []
    assert [m for m in roots if f"`{m}`" not in text] == []
    for row in re.findall(r"^\| `(\w+)/` \|(.*)\|$", text, re.M):
        named = re.findall(r"`(\w+\.py)`", row[1])
        assert named, row[0]
        missing = [m for m in named if not (package / row[0] / m).exists()]
        assert not missing, f"{row[0]}/: {missing}"
