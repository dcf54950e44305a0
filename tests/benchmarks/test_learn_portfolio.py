"""The portfolio learner's file handling: one key rewritten, the others and how each was
made kept; the big tables' synthetic names; a widened pool keeps the earlier ids."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks.scripts.learn_portfolio import (
    BIG_TABLE_LEARNERS,
    BIG_TABLES,
    load_table,
    pool_configs,
    write_portfolio,
)
from fairautoml.search.portfolio import big_table_key, read_portfolio

ENTRY = {"learner": "lightgbm", "params": {"num_leaves": 5}, "seconds_per_1k_rows": 0.1}


def test_writing_one_key_keeps_the_others_and_how_each_was_made(tmp_path):
    path = tmp_path / "portfolio.yaml"
    write_portfolio(path, "binary", [ENTRY], "learn small", "aaa", Path("results/small"))
    big = {**ENTRY, "params": {"num_leaves": 7}}
    write_portfolio(path, big_table_key("binary"), [big], "learn big", "bbb", Path("r/big"))
    write_portfolio(path, "binary", [ENTRY, big], "learn small again", "ccc", Path("r/s"))
    text = path.read_text()
    portfolios = read_portfolio(yaml.safe_load(text))
    assert [e.params for e in portfolios["binary"]] == [{"num_leaves": 5}, {"num_leaves": 7}]
    assert [e.params for e in portfolios[big_table_key("binary")]] == [{"num_leaves": 7}]
    assert "binary: learn small again (at ccc" in text and "learn small (" not in text
    assert f"{big_table_key('binary')}: learn big (at bbb" in text


def test_the_big_tables_are_not_the_scale_sweeps_table():
    """The scale sweep reports on generator seed 0: the big tables' portfolio is learned on
    others."""
    assert all(name.split(":")[2] != "0" for name in BIG_TABLES)
    X, y, s = load_table("synthetic:2000:1:2:1.0")
    assert X.shape == (2000, 30) and len(y) == len(s) == 2000


def test_a_wider_pool_keeps_the_configurations_and_ids_of_the_narrower():
    """``--ids`` trains part of a pool drawn with a larger ``--per-learner``: the records
    already in a pool file must keep meaning the same configurations."""
    narrow = pool_configs(2, 0, list(BIG_TABLE_LEARNERS))
    wide = pool_configs(5, 0, list(BIG_TABLE_LEARNERS))
    assert wide[: len(narrow)] == narrow
    added = wide[len(narrow) :]
    assert len(added) == 3 * len(BIG_TABLE_LEARNERS)
    assert {c["id"] for c in added}.isdisjoint(c["id"] for c in narrow)
    assert all(c["params"] not in [n["params"] for n in narrow] for c in added)


def test_a_part_of_the_pool_writes_no_choice(tmp_path, monkeypatch):
    """``--ids`` or ``--tables`` train a part of the pool: choosing from that part would
    write a portfolio learned on it alone into the file in use; only the whole run, or
    ``--choose-only``, chooses."""
    import sys

    from benchmarks.scripts import learn_portfolio

    chosen = []
    monkeypatch.setattr(learn_portfolio, "run_pool", lambda *args, **kwargs: None)
    monkeypatch.setattr(
        learn_portfolio, "choose", lambda *args, **kwargs: chosen.append(args) or {"steps": []}
    )
    base = ["learn_portfolio", "--out", str(tmp_path), "--big-tables"]
    for part in (["--ids", "36", "39"], ["--tables", BIG_TABLES[0]]):
        monkeypatch.setattr(sys, "argv", [*base, *part])
        learn_portfolio.main()
    assert chosen == []
    for whole in ([], ["--choose-only"]):
        monkeypatch.setattr(sys, "argv", [*base, *whole])
        learn_portfolio.main()
    assert len(chosen) == 2
