"""The cores report: a cut-off sweep resumes where it stopped, accuracy is paired by seed,
and the many-core projection is Amdahl's law read from the 2-core speed-up."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from benchmarks.scripts.core_scaling import _done, amdahl, busy_processes, report

DP = "demographic_parity_difference <= 0.05"


def record(
    seed: int, cores: int, accuracy: float, models: int, status: str = "ok", busy: int | None = None
) -> dict:
    out = {
        "dataset": "adult", "constraint_label": DP,
        "budget": 30.0, "seed": seed, "cores": cores, "status": status, "commit": "abc1234",
        "test_accuracy": accuracy, "satisfied": True, "wall_time": 31.0,
        "info": {"trained_models": models},
    }  # fmt: skip
    if busy is not None:  # records written before --busy have no such field
        out["busy"] = busy
    return out


def test_amdahl_by_hand():
    assert amdahl(2.0, 2, 16) == pytest.approx(16.0)  # all of it side by side
    assert amdahl(1.0, 2, 16) == pytest.approx(1.0)  # none of it
    assert amdahl(0.8, 2, 16) == pytest.approx(1.0)  # slower on 2: no share, not negative
    share = 2 * (1 - 1 / 1.5)  # 1.5x on 2 cores: two thirds side by side
    assert amdahl(1.5, 2, 8) == pytest.approx(1 / ((1 - share) + share / 8))


def test_a_rerun_skips_finished_cells_only(tmp_path):
    out = tmp_path / "cells.jsonl"
    rows = [record(1, 1, 0.85, 20), record(2, 1, 0.85, 20, status="error")]
    rows += [record(3, 1, 0.85, 20, busy=1)]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = _done(out)
    assert ("adult", DP, 30.0, 1, 1, 0) in done  # an old record: nothing busy beside it
    assert ("adult", DP, 30.0, 2, 1, 0) not in done
    assert ("adult", DP, 30.0, 1, 2, 0) not in done
    assert ("adult", DP, 30.0, 3, 1, 1) in done
    assert ("adult", DP, 30.0, 3, 1, 0) not in done  # run beside a busy process only
    assert _done(tmp_path / "none.jsonl") == set()


def test_the_report_pairs_accuracy_by_seed_and_projects(tmp_path):
    out = tmp_path / "cells.jsonl"
    rows = [record(1, 1, 0.850, 20), record(2, 1, 0.860, 20)]
    rows += [record(1, 2, 0.852, 30), record(2, 2, 0.866, 30)]  # +0.2 and +0.6 points
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = report([out])
    assert "| +0.40 ± 0.20 (n=2) |" in text
    assert "| 30 | 0 | 2 | 2 | 30 | 1.50x |" in text
    projected = f"{amdahl(1.5, 2, 8):.2f}x | {amdahl(1.5, 2, 16):.2f}x"
    assert f"| 30 | 1 | 1.50x (1.50-1.50) | {projected} |" in text


def test_busy_runs_are_compared_among_themselves_and_left_out_of_the_projection(tmp_path):
    out = tmp_path / "cells.jsonl"
    rows = [record(1, 1, 0.850, 20), record(2, 1, 0.860, 20)]
    rows += [record(1, 2, 0.852, 30), record(2, 2, 0.866, 30)]
    rows += [record(1, 1, 0.840, 10, busy=1), record(2, 1, 0.850, 10, busy=1)]
    rows += [record(1, 2, 0.842, 40, busy=1), record(2, 2, 0.846, 40, busy=1)]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = report([out])
    assert "| 30 | 1 | 2 | 2 | 40 | 4.00x | 0.844 ± 0.002 | -0.10 ± 0.30 (n=2) |" in text
    assert "| 30 | 0 | 2 | 2 | 30 | 1.50x |" in text
    projected = f"{amdahl(1.5, 2, 8):.2f}x | {amdahl(1.5, 2, 16):.2f}x"
    assert f"| 30 | 1 | 1.50x (1.50-1.50) | {projected} |" in text  # the quiet runs only


def test_busy_processes_spin_while_the_block_runs():
    before = len(multiprocessing.active_children())
    with busy_processes(2):
        spinning = [p for p in multiprocessing.active_children() if p.is_alive()]
        assert len(spinning) == before + 2
    assert len(multiprocessing.active_children()) == before
