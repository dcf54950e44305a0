"""The bench hides groups of training and validation rows (``hide_groups``), never of test
rows, and drops those rows for methods that ask (``drop_unknown_groups``)."""

from __future__ import annotations

import numpy as np
import pytest

from fairautoml.bench import runner
from fairautoml.bench.config import parse_config
from fairautoml.bench.rows import hidden_group_rows
from fairautoml.exceptions import ConfigurationError

HIDE = {"name": "german_mnar", "bundled": "german", "hide_groups": {
    "share": 0.5, "more_in": "female", "factor": 3}}  # fmt: skip


def test_hide_groups_is_read_and_checked():
    cfg = parse_config(
        {"datasets": [HIDE], "constraints": ["demographic_parity_difference <= 0.05"],
         "budgets": [10], "seeds": [0], "methods": ["fairautoml"]}, "sweep.yaml",
    )  # fmt: skip
    assert dict(cfg.datasets[0].hide_groups) == {"share": 0.5, "more_in": "female", "factor": 3}
    for bad, said in (
        ({"share": 1.5}, "share must be in"),
        ({"share": 0.3, "factor": 2}, "together"),
        ({"share": 0.3, "more": "x"}, "more"),
        ({"share": 0.3, "more_in": True, "factor": 3}, 'quote the group.s name .more_in: "yes"'),
    ):
        with pytest.raises(ConfigurationError, match=said):
            parse_config(
                {"datasets": [{"bundled": "german", "hide_groups": bad}],
                 "constraints": ["demographic_parity_difference <= 0.05"], "budgets": [10],
                 "seeds": [0], "methods": ["fairautoml"]}, "sweep.yaml",
            )  # fmt: skip


def test_hidden_rows_share_and_skew():
    rng = np.random.default_rng(0)
    s = rng.choice(["a", "b"], size=20_000, p=[0.7, 0.3])
    rows = np.arange(0, 20_000, 2)  # the fit rows; the others are never touched
    at_random = hidden_group_rows(s, rows, (("factor", 1.0), ("more_in", None), ("share", 0.3)), 1)
    assert set(at_random) <= set(rows)
    assert len(at_random) / len(rows) == pytest.approx(0.3, abs=0.02)
    skewed = hidden_group_rows(s, rows, (("factor", 3.0), ("more_in", "b"), ("share", 0.3)), 1)
    share = {g: np.isin(rows[s[rows] == g], skewed).mean() for g in ("a", "b")}
    assert len(skewed) / len(rows) == pytest.approx(0.3, abs=0.02)
    assert share["b"] / share["a"] == pytest.approx(3.0, rel=0.1)
    with pytest.raises(ConfigurationError, match="not a group"):
        hidden_group_rows(s, rows, (("factor", 3.0), ("more_in", "c"), ("share", 0.3)), 1)


def test_cell_hides_fit_rows_only_and_drops_them_on_request():
    config = {"name": "one", "datasets": [HIDE], "budgets": [30], "seeds": [2], "threads": 1,
              "constraints": ["demographic_parity_difference <= 0.05"],
              "methods": [{"method": "fairautoml", "options": {"blind": True}},
                          {"method": "fairautoml", "label": "drop",
                           "options": {"blind": True, "drop_unknown_groups": True}}]}  # fmt: skip
    keep, drop = runner.make_cells(parse_config(config, "sweep.yaml"))
    task, (_, _, s_test) = runner._task(keep)
    s_fit = np.concatenate([task.s_train, task.s_val])
    missing = np.array([v is None for v in s_fit])
    assert 0.35 < missing.mean() < 0.65 and all(v is not None for v in s_test)
    dropped, _ = runner._task(drop)
    assert len(dropped.y_train) + len(dropped.y_val) == len(s_fit) - missing.sum()
    assert all(v is not None for v in np.concatenate([dropped.s_train, dropped.s_val]))
    assert "drop_unknown_groups" not in dropped.options  # the bench's, not the method's
