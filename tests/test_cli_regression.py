"""The command line on amounts: the task read off the target and said, the report, the
leaderboard, predictions, a worker joining the study, and the audit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairautoml import cli
from fairautoml.audit.verdicts import AUDIT_NO_RATE_DRIFT
from fairautoml.study.pick import VERDICT_EXITS


@pytest.fixture(scope="module")
def wages_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 800
    group = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "years": x + group, "region": rng.choice(["n", "s"], n),
        "sex": np.where(group, "f", "m"), "wage": 10 + 3 * x + 2 * group + rng.normal(size=n),
    })  # fmt: skip
    path = tmp_path_factory.mktemp("data") / "wages.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run_dir(wages_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = cli.main([
        "fit", str(wages_csv), "--target", "wage", "--sensitive", "sex", "--learners", "ridge",
        "--constraint", "demographic_parity_ks<=0.3", "--n-trials", "2", "--out", str(out),
        "-q",
    ])  # fmt: skip
    assert code in VERDICT_EXITS
    return out


def test_fit_reads_the_task_off_the_target_and_writes_the_run(wages_csv, run_dir, capsys):
    out = run_dir
    for name in ("report.html", "leaderboard.csv", "model.skops", "study.db"):
        assert (out / name).is_file()
    page = (out / "report.html").read_text()
    assert "mean absolute error" in page and "--task regression" in page
    board = pd.read_csv(out / "leaderboard.csv")
    assert {"r2", "prediction_spread", "demographic_parity_ks"} <= set(board.columns)
    # a whole-number target would read as classes: --task says what it is
    code = cli.main([
        "fit", str(wages_csv), "--target", "wage", "--sensitive", "sex", "--learners", "ridge",
        "--task", "regression", "--n-trials", "1", "--constraint", "demographic_parity_ks<=0.5",
        "-q",
    ])  # fmt: skip
    assert code in VERDICT_EXITS
    printed = capsys.readouterr().out
    assert "task: " not in printed  # given, so not said
    assert "R² " in printed and "validation r2" in printed


def test_the_task_read_off_the_target_is_said(wages_csv, capsys):
    code = cli.main([
        "fit", str(wages_csv), "--target", "wage", "--sensitive", "sex", "--learners", "ridge",
        "--n-trials", "1", "--constraint", "demographic_parity_ks<=0.5", "-q",
    ])  # fmt: skip
    assert code in VERDICT_EXITS
    assert "task: amounts: regression (read off the target" in capsys.readouterr().out


def test_leaderboard_predict_report_and_worker(wages_csv, run_dir, tmp_path, capsys):
    assert cli.main(["leaderboard", str(run_dir), "--top", "3"]) == 0
    assert "r2" in capsys.readouterr().out
    preds = tmp_path / "preds.csv"
    new = pd.read_csv(wages_csv).drop(columns=["wage"])
    new.to_csv(tmp_path / "new.csv", index=False)
    assert cli.main(["predict", str(run_dir), str(tmp_path / "new.csv"), "--out", str(preds)]) == 0
    predicted = pd.read_csv(preds)
    assert list(predicted.columns) == ["prediction"] and len(predicted) == len(new)
    assert predicted["prediction"].dtype == float
    assert cli.main(["report", str(run_dir)]) == 0
    url = f"sqlite:///{run_dir / 'study.db'}"
    assert cli.main(["worker", "--storage", url, "--data", str(wages_csv), "-q"]) == 0
    assert ": 0 trials on study 'fairautoml'" in capsys.readouterr().out  # its budget is spent


def test_audit_of_amounts(wages_csv, run_dir, tmp_path, capsys):
    args = ["audit", str(run_dir), str(wages_csv), "--target", "wage", "--out", str(tmp_path)]
    assert cli.main(args) in (0, 1)  # 2: an error
    printed = capsys.readouterr()
    assert "demographic_parity_ks <= 0.3: 0." in printed.out
    assert AUDIT_NO_RATE_DRIFT in printed.err
    doc = json.loads((tmp_path / "audit.json").read_text())
    assert {g["group"] for g in doc["groups"]} == {"f", "m"} and "mae" in doc["groups"][0]
