"""CLI over persistent studies: leaderboard, predict, kill-and-resume, two workers."""

from __future__ import annotations

import signal
import subprocess
import time

import numpy as np
import optuna
import pandas as pd
import pytest

import fairautoml
from fairautoml import cli
from fairautoml.report.study_table import read_study
from fairautoml.study import record
from fairautoml.study import storage as persistence
from fairautoml.study.pick import VERDICT_EXITS
from fairautoml.testing import start_cli


def _trials(url: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="fairautoml", storage=url).trials


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = cli.main([
        "fit", "--dataset", "german", "--constraint", "demographic_parity_difference<=0.1",
        "--n-trials", "4", "--out", str(out), "-q",
        "--time-budget", "600",  # n_trials ends it, not the default 60 s on a loaded machine
    ])  # fmt: skip
    assert code == 0
    return out


def test_fit_out_writes_a_sqlite_study(run_dir):
    assert (run_dir / "study.db").exists()
    trials = _trials(persistence.sqlite_url(run_dir))
    trained = [t for t in trials if "derived_from" not in t.user_attrs]
    assert len(trained) == 4  # n_trials counts trained models; each also yields
    assert len(trials) > 4  # post-processed points, recorded as trials of their own


def test_leaderboard_prints_table_and_plots(run_dir, capsys):
    png, html = run_dir / "pareto.png", run_dir / "pareto.html"
    assert cli.main(["leaderboard", str(run_dir), "--top", "3", "--plot", str(png),
                     "--plot", str(html)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    n_trials = len(_trials(persistence.sqlite_url(run_dir)))
    assert f"{n_trials} trials finished" in out and "chosen model (*)" in out
    assert "Top 3 trials" in out and "Pareto front" in out and "hypervolume" in out
    assert png.stat().st_size > 10_000 and html.stat().st_size > 1_000_000


def test_leaderboard_without_a_study_says_what_to_give(tmp_path, capsys):
    assert cli.main(["leaderboard", str(tmp_path)]) == 2
    assert "No study.db" in capsys.readouterr().err


def test_predict_writes_predictions(run_dir, tmp_path, capsys):
    X, y, s = fairautoml.datasets.load("german")
    data = tmp_path / "new.csv"
    X.head(50).assign(sex=s.head(50).to_numpy(), credit_risk=y.head(50).to_numpy()).to_csv(
        data, index=False
    )
    preds = tmp_path / "preds.csv"
    code = cli.main(["predict", str(run_dir / "model.skops"), str(data), "--out", str(preds),
                     "--sensitive", "sex"])  # fmt: skip
    assert code == 0
    assert "ignoring columns not seen in fit: credit_risk" in capsys.readouterr().err
    got = pd.read_csv(preds, dtype={"prediction": str})
    model = fairautoml.load(run_dir / "model.skops")  # fitted on the table's own labels
    expected = model.predict(X.head(50), s.head(50)).astype(str)
    np.testing.assert_array_equal(got["prediction"], expected)
    assert got.filter(like="proba_").shape == (50, 1)


def test_worker_needs_an_existing_study(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'none.db'}"
    assert cli.main(["worker", "--storage", url, "--study", "nope"]) == 2
    assert "No SQLite file at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def _wait_for(predicate, timeout: float, proc: subprocess.Popen) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"process ended early: {proc.communicate()}")
        time.sleep(0.3)
    raise AssertionError("timed out")


@pytest.mark.slow
@pytest.mark.exclusive
def test_kill_and_resume(tmp_path):
    """SIGKILL mid-search loses only the trial in flight; rerunning resumes the study."""
    out = tmp_path / "run"
    url = persistence.sqlite_url(out)
    args = ["fit", "--dataset", "german", "--n-trials", "14", "--time-budget", "300",
            "--out", str(out), "-q"]  # fmt: skip
    proc = start_cli(*args)

    def mid_trial() -> bool:
        if not (out / "study.db").exists():
            return False
        try:
            trials = _trials(url)
        except Exception:  # the study is being created
            return False
        done = sum(t.state.is_finished() for t in trials)
        return done >= 4 and trials[-1].state == optuna.trial.TrialState.RUNNING

    _wait_for(mid_trial, 120, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _trials(url)
    done_before = [t for t in before if t.state.is_finished()]
    # usually one trial is in flight at the kill (it may also just have finished)
    in_flight = [t for t in before if t.state == optuna.trial.TrialState.RUNNING]
    assert len(done_before) >= 4 and len(in_flight) <= 1
    assert not (out / "model.skops").exists()  # killed before the end
    # the leaderboard and the best model so far are readable from storage
    view = read_study(url, "fairautoml")
    assert len(view.board) == len(done_before) and view.chosen is not None and not view.final
    # the same command again resumes
    again = start_cli(*args)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode in VERDICT_EXITS, stderr
    assert "resuming study 'fairautoml'" in stdout
    after = _trials(url)
    by_number = {t.number: t for t in after}
    for t in done_before:  # finished trials are kept as they were
        assert by_number[t.number].params == t.params and by_number[t.number].state == t.state
    for t in in_flight:  # the kill may land after part of its record was written
        lost = by_number[t.number]
        assert lost.state == optuna.trial.TrialState.FAIL and record.status(lost) == "lost"
    recorded = [t for t in after if record.recorded(t)]
    trained = record.trained_models(after)
    assert len(trained) == 14  # a lost trial is neither counted nor re-run twice
    assert not any(t.state == optuna.trial.TrialState.RUNNING for t in after)
    board = pd.read_csv(out / "leaderboard.csv")
    assert (board["status"] == "lost").sum() == len(in_flight)
    assert len(board) == len(recorded) + len(in_flight)  # every recorded point, and the lost
    assert fairautoml.load(out / "model.skops").best_config_["trial"] in set(board["trial"])


@pytest.mark.slow
@pytest.mark.exclusive
def test_two_workers_share_the_budget_and_the_leaderboard(tmp_path):
    out = tmp_path / "run"
    url = persistence.sqlite_url(out)
    out.mkdir()
    # the worker is launched first and waits for the study (as on a cluster)
    worker = start_cli("worker", "--storage", url, "--study", "fairautoml", "--wait", "120", "-q")
    coordinator = start_cli("fit", "--dataset", "german", "--n-trials", "24",
                            "--time-budget", "300", "--out", str(out), "-q")  # fmt: skip
    w_out, w_err = worker.communicate(timeout=300)
    _, c_err = coordinator.communicate(timeout=300)
    assert worker.returncode == 0, w_err
    assert coordinator.returncode in VERDICT_EXITS, c_err
    trials = _trials(url)
    # every chosen configuration is created as a running trial (no shared queue of waiting
    # trials to pop twice), and no process died: nothing was run twice or replaced
    assert not record.replaced_trials(trials)
    recorded = [t for t in trials if "status" in t.user_attrs]
    workers = {t.user_attrs["worker"] for t in recorded}
    assert len(workers) == 2  # both processes ran trials
    trained = [t for t in recorded if "derived_from" not in t.user_attrs]
    assert 24 <= len(trained) <= 25  # one shared budget (a race may add one trial)
    n_worker = int(w_out.split(": ")[1].split()[0])
    assert n_worker >= 1
    n_other = sum(t.user_attrs["worker"] != min(workers) for t in recorded)
    assert n_worker in (n_other, len(recorded) - n_other)  # the worker reported every result
    board = pd.read_csv(out / "leaderboard.csv")  # the coordinator's board has both
    assert set(board["worker"]) == workers and len(board) == len(recorded)


def test_worker_checks_the_data_and_the_budget(tmp_path, capsys):
    X, y, s = fairautoml.datasets.load("german")
    csv, other = tmp_path / "data.csv", tmp_path / "other.csv"
    X.assign(sex=s, good=y).to_csv(csv, index=False)
    X.assign(sex=s, good=y).iloc[::-1].to_csv(other, index=False)
    url = f"journal:{tmp_path / 'study.log'}"
    assert cli.main(["fit", str(csv), "--target", "good", "--sensitive", "sex",
                     "--n-trials", "2", "--storage", url, "-q"]) == 0  # fmt: skip
    capsys.readouterr()
    assert cli.main(["worker", "--storage", url, "--data", str(other), "-q"]) == 2
    assert "differ from the data study 'fairautoml' was started with" in capsys.readouterr().err
    # the same data: the worker rebuilds the search, sees the budget is spent, runs nothing
    assert cli.main(["worker", "--storage", url, "--data", str(csv), "-q"]) == 0
    assert ": 0 trials on study 'fairautoml'" in capsys.readouterr().out


def test_worker_runs_the_search_fit_started(tmp_path, monkeypatch):
    """A worker builds its search where fit does: the study's controller, per-trial
    time limit, not the constructor defaults."""
    from fairautoml.estimators import base, worker
    from fairautoml.estimators import build as search_builder
    from fairautoml.estimators.automl import FairAutoML
    from fairautoml.estimators.worker import run_worker

    built = []

    def spy(*args, **kwargs):
        search = search_builder.build_search(*args, **kwargs)
        built.append(search)
        return search

    monkeypatch.setattr(base, "build_search", spy)
    monkeypatch.setattr(worker, "build_search", spy)
    X, y, s = fairautoml.datasets.load("german")
    url = f"journal:{tmp_path / 'study.log'}"
    FairAutoML(
        trial_time_limit=7.0, time_budget=None, n_trials=2,
        learners=["logistic_regression"], mitigators=[], controller="admm",
        storage=url, study_name="s",
    ).fit(X, y, s)  # fmt: skip
    study = persistence.open_study(url, "s")
    study.set_user_attr(persistence.SOURCE_ATTR, {"dataset": "german"})
    # as an earlier version recorded it, with a setting this one retired: joined all the same
    config = study.user_attrs[persistence.CONFIG_ATTR]
    study.set_user_attr(persistence.CONFIG_ATTR, {**config, "allocator": "never"})
    assert run_worker(url, "s", verbose=0) == 0  # the budget is spent: built, nothing run
    fitted, joined = built
    assert fitted.started is not None and joined.started is None
    assert type(joined.controller) is type(fitted.controller)
    assert joined.controller.name == "admm"
    assert joined.budget.trial_time_limit == fitted.budget.trial_time_limit == 7.0
    assert type(joined.controller.runner) is type(fitted.controller.runner)
    assert joined.controller.budget is joined.budget and joined.budget.follow
    assert joined.domain == fitted.domain
    assert list(joined.ctx.train_idx) == list(fitted.ctx.train_idx)


def test_dashboard_serves_the_study_over_http(run_dir):
    import json
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_cli("dashboard", str(run_dir), "--port", str(port))
    base = f"http://127.0.0.1:{port}/api/studies"
    try:
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base, timeout=5) as reply:
                    studies = json.load(reply)["study_summaries"]
                break
            except OSError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < end, "the dashboard did not answer"
                time.sleep(0.3)
        (study,) = [s for s in studies if s["study_name"] == "fairautoml"]
        with urllib.request.urlopen(f"{base}/{study['study_id']}?after=0", timeout=30) as reply:
            detail = json.load(reply)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert detail["objective_names"] == ["accuracy", "worst constraint violation"]
    trials = detail["trials"]
    assert len(trials) == len(_trials(persistence.sqlite_url(run_dir)))
    recorded = next(t for t in trials if t["state"] == "Complete")
    params = {p["name"]: p["param_external_value"] for p in recorded["params"]}
    attrs = {a["key"]: a["value"] for a in recorded["user_attrs"]}
    assert {"learner", "mitigator"} <= set(params)
    assert "demographic_parity_difference" in attrs["constraint_values"]
    assert {"metric", "status", "worker"} <= set(attrs)
