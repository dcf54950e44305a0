"""Search spaces as data: what a space file may declare, and what it may not."""

from __future__ import annotations

import pytest
from optuna.distributions import FloatDistribution

from fairautoml.confirm import REFINED_TOLERANCES, refinable
from fairautoml.exceptions import ConfigurationError
from fairautoml.mitigators import get_mitigator
from fairautoml.spaces import SearchSpace


def test_levels_are_read_as_the_values_tried_while_the_range_is_what_a_record_holds():
    space = SearchSpace.from_dict(
        {"params": {"t": {"type": "float", "low": 0.3, "high": 1.0, "levels": [1.0, 0.5]}}}
    )
    (param,) = space.params
    assert param.levels == (1.0, 0.5)
    assert space.distributions()["t"] == FloatDistribution(0.3, 1.0)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "float", "low": 0.3, "high": 1.0, "levels": [1.2]},  # outside the range
        {"type": "categorical", "choices": [1, 2], "levels": [1]},  # levels are numeric
    ],
)
def test_bad_levels_are_a_clear_error(spec):
    with pytest.raises(ConfigurationError, match="levels are for numeric parameters"):
        SearchSpace.from_dict({"params": {"t": spec}})


@pytest.mark.parametrize("post", ["relaxed_thresholds", "inferred_thresholds"])
def test_a_tolerance_rule_records_any_tolerance_in_its_range(post):
    (tolerance,) = get_mitigator(post).space.params
    assert refinable(post) and not refinable("group_thresholds") and not refinable("none")
    assert tolerance.type == "float" and tolerance.levels
    assert all(tolerance.low <= t <= tolerance.high for t in REFINED_TOLERANCES)
