"""FLAML's searcher driven directly, as the ``flaml`` controller does with parallel trials."""

from __future__ import annotations

import copy

from flaml import tune

from fairautoml.search.flaml_cfo import as_reported, search_algorithm

SPACE = {
    "model": tune.choice(
        [{"learner": "a", "x": tune.loguniform(1, 100)}, {"learner": "b", "y": tune.uniform(0, 1)}]
    ),
    "mitigation": tune.choice([{"mitigator": "none"}]),
}
LOW_COST = {"model": [{"x": 1}, {}], "mitigation": [{}]}
STARTS = [
    {"model": {"learner": "a", "x": 1.0}, "mitigation": {"mitigator": "none"}},
    {"model": {"learner": "b", "y": 0.5}, "mitigation": {"mitigator": "none"}},
]


def test_start_points_completed_after_both_were_asked_let_the_search_go_on():
    """Both start points asked before either reports (two trials at once): when they
    complete, CFO restarts its local search from the best of them, reading its config from
    the result. The 1M-row scale search failed there (KeyError 'model')."""
    searcher = search_algorithm("CFO", SPACE, LOW_COST, copy.deepcopy(STARTS), seed=0)
    searcher.set_search_properties("loss", "min", SPACE)
    asked = [(f"t{i}", searcher.suggest(f"t{i}")) for i in range(2)]
    assert [config["model"]["learner"] for _, config in asked] == ["a", "b"]
    for loss, (trial_id, config) in zip((-0.5, -0.6), asked, strict=True):
        result = {"loss": loss, "violation": 0.0, "time_total_s": 1.0}
        searcher.on_trial_complete(trial_id, as_reported(result, config))
    following = searcher.suggest("t2")
    assert following is not None and following["model"]["learner"] in {"a", "b"}


def test_a_result_carries_its_config_as_tune_reports_it():
    config = STARTS[0]
    reported = as_reported({"loss": -0.5}, config)
    assert reported["config"] == config
    assert reported["config/model"] == config["model"]
    assert reported["config/mitigation"] == config["mitigation"]
