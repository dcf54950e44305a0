"""Studies on a real PostgreSQL server: resume, masked URLs, fit plus workers with one
killed (the last also on SQLite and on a journal file, one machine).

The server's URL comes from ``FAIRAUTOML_TEST_POSTGRES_URL`` (``postgresql://user:password@
127.0.0.1:PORT/db``; ``.ci/run`` starts a throwaway server and sets it). Without a
reachable server these tests skip locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import datetime
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import fairautoml
from fairautoml import FairAutoML
from fairautoml.report.study_table import read_study
from fairautoml.search import session
from fairautoml.study import record
from fairautoml.study import storage as persistence
from fairautoml.study.pick import VERDICT_EXITS
from fairautoml.testing import start_cli

ROOT = Path(__file__).resolve().parent.parent
URL_VARIABLE = "FAIRAUTOML_TEST_POSTGRES_URL"


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@pytest.fixture(scope="module")
def pg_url() -> str:
    """The test server's URL; skip (locally) or fail (in CI) when there is none."""
    url = os.environ.get(URL_VARIABLE)
    problem = None
    if not url:
        problem = f"{URL_VARIABLE} is not set"
    else:
        try:
            import psycopg

            psycopg.connect(url, connect_timeout=5).close()
        except Exception as exc:
            problem = f"cannot connect to {_masked(url)}: {type(exc).__name__}: {exc}"
    if problem is None:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs a PostgreSQL server ({problem}); .ci/run starts one.")
    pytest.skip(
        f"no PostgreSQL server ({problem}): set {URL_VARIABLE}=postgresql://USER:PASSWORD@"
        "127.0.0.1:PORT/DB to run these tests (.ci/run does)."
    )


def _study_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"  # reruns on one server never collide


def _trials(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=persistence.get_storage(url)).trials


def test_postgresql_urls_use_psycopg_3(pg_url):
    storage = persistence.get_storage(pg_url)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.engine.dialect.driver == "psycopg"
    rendered = storage.engine.url.render_as_string(hide_password=False)
    assert rendered == pg_url.replace("postgresql://", "postgresql+psycopg://", 1)


def test_fit_records_in_postgresql_and_resumes(pg_url):
    X, y, s = fairautoml.datasets.load("german")
    name = _study_name("resume")
    options = dict(
        constraints="demographic_parity_difference <= 0.2", time_budget=None, random_state=0,
        learners=["logistic_regression"], mitigators=[], cv_folds=None,
        storage=pg_url, study_name=name,
    )  # fmt: skip
    first = FairAutoML(**options, n_trials=3).fit(X, y, s)
    stored = _trials(pg_url, name)
    assert len(record.trained_models(stored)) == 3 and len(first.leaderboard_) == len(stored)
    second = FairAutoML(**options, n_trials=5).fit(X, y, s)  # the study's total: 2 more
    again = _trials(pg_url, name)
    assert len(record.trained_models(again)) == 5
    assert [(t.number, t.params) for t in again[: len(stored)]] == [
        (t.number, t.params) for t in stored
    ]  # the first session's trials are kept as they were
    assert not any(t.state == TrialState.RUNNING for t in again)
    assert set(first.leaderboard_["trial"]) < set(second.leaderboard_["trial"])


def test_no_output_shows_the_password(pg_url, capsys, caplog, monkeypatch):
    """fit, worker and leaderboard print and log the storage URL with its password masked;
    the URL can come from $FAIRAUTOML_STORAGE instead of the command line."""
    from sqlalchemy.engine import make_url

    from fairautoml import cli

    password = make_url(pg_url).password
    assert password
    name = _study_name("secret")
    caplog.set_level(logging.DEBUG)
    fit = ["fit", "--dataset", "german", "--n-trials", "2", "--time-budget", "9",
           "--study", name, "-v"]  # fmt: skip
    assert cli.main([*fit, "--storage", pg_url]) in VERDICT_EXITS
    assert cli.main(["worker", "--storage", pg_url, "--study", name, "-v"]) == 0
    assert cli.main(["leaderboard", "--storage", pg_url, "--study", name]) == 0
    assert cli.main(["leaderboard", "--storage", pg_url, "--study", "none"]) == 2
    monkeypatch.setenv(persistence.STORAGE_ENV, pg_url)
    assert cli.main([*fit, "--n-trials", "3"]) in VERDICT_EXITS  # resumed, via the variable
    assert cli.main(["leaderboard", "--study", name]) == 0
    out, err = capsys.readouterr()
    assert f"study {name!r} in {persistence.masked(pg_url)}" in out
    assert f"resuming study {name!r} in {persistence.masked(pg_url)}" in out  # the variable's
    assert "***" in persistence.masked(pg_url) and "No study 'none' in " in err
    for text in (out, err, caplog.text):
        assert password not in text


@pytest.mark.slow
@pytest.mark.exclusive
@pytest.mark.parametrize("kind", ["postgresql", "sqlite", "journal"])
def test_fit_and_two_workers_one_killed(kind, request, tmp_path):
    """Three processes on one study; SIGKILL one worker mid-trial: only its trial in
    flight is lost (failed, not counted), the others go on to the end of the budget.
    On PostgreSQL, and on one machine's SQLite file and journal file."""
    local = {"sqlite": f"sqlite:///{tmp_path / 'study.db'}", "journal": f"journal:{tmp_path}/j.log"}
    url = local[kind] if kind in local else request.getfixturevalue("pg_url")
    name = _study_name("workers")
    budget = 45.0
    started = time.monotonic()
    fit = start_cli("fit", "--dataset", "german", "--time-budget", str(budget),
               "--storage", url, "--study", name, "-q")  # fmt: skip
    workers = [
        start_cli("worker", "--storage", url, "--study", name, "--wait", "120", "-q")
        for _ in range(2)
    ]
    victim = workers[0]
    victim_id = f"{socket.gethostname()}:{victim.pid}"

    def victim_mid_trial() -> bool:
        try:
            trials = _trials(url, name)
        except Exception:  # the study is not created yet
            return False
        return any(
            t.user_attrs.get("worker") == victim_id
            and t.state == TrialState.RUNNING
            and "status" not in t.user_attrs  # in flight, its result not being recorded yet
            for t in trials
        )

    while not victim_mid_trial():
        for proc in (fit, *workers):
            assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < started + 120, "the victim never ran a trial"
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = datetime.datetime.now()
    _, fit_err = fit.communicate(timeout=300)
    fit_seconds = time.monotonic() - started
    assert fit.returncode in VERDICT_EXITS, fit_err
    w_out, w_err = workers[1].communicate(timeout=300)
    assert workers[1].returncode == 0, w_err
    # the whole fit (search, waiting for the worker, refit) within its budget + 10%, plus
    # the seconds a fresh interpreter takes to import the libraries and load the data
    assert fit_seconds < budget * 1.1 + 15

    trials = _trials(url, name)
    assert not any(t.state == TrialState.RUNNING for t in trials)
    in_flight = [
        t
        for t in trials
        if t.user_attrs.get("worker") == victim_id and "status" not in t.user_attrs
    ]
    assert len(in_flight) == 1  # killed mid-trial: exactly its one trial in flight is lost
    assert in_flight[0].state == TrialState.FAIL
    assert not record.replaced_trials(trials)  # no live trial was taken for lost and run twice
    trained = record.trained_models(trials)
    after_kill = {t.user_attrs["worker"] for t in trained if t.datetime_complete > killed_at}
    assert len(after_kill) == 2 and victim_id not in after_kill  # the others went on
    assert int(w_out.split(": ")[1].split()[0]) >= 1
    assert session.count_trials(optuna.load_study(
        study_name=name, storage=persistence.get_storage(url))) == len(trained)  # fmt: skip
    board = subprocess.run(
        [sys.executable, "-m", "fairautoml.cli", "leaderboard", "--storage", url,
         "--study", name, "--top", "3"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert board.returncode == 0, board.stderr
    assert f"{len(trials)} trials finished" in board.stdout and "chosen model (*)" in board.stdout
    view = read_study(url, name)
    assert (view.board["status"] == "lost").sum() == 1
    assert view.chosen is not None and view.final


@pytest.mark.slow
def test_a_regression_search_shares_its_study_with_a_worker(pg_url):
    """fit on amounts (the bundled SLID wages) and a worker joining it on PostgreSQL: the
    worker rebuilds the regressor's search from the recorded settings and records
    regression trials into the same study."""
    name = _study_name("regression")
    fit = start_cli("fit", "--dataset", "slid", "--time-budget", "20", "--learners",
                    "ridge,lightgbm", "--storage", pg_url, "--study", name, "-q")  # fmt: skip
    worker = start_cli("worker", "--storage", pg_url, "--study", name, "--wait", "60", "-q")
    assert fit.wait(timeout=120) in VERDICT_EXITS and worker.wait(timeout=120) == 0
    trials = _trials(pg_url, name)
    workers = {record.worker(t) for t in trials if record.STATUS in t.user_attrs}
    assert len(workers) == 2  # both processes recorded trials
    ok = [t for t in trials if t.user_attrs.get(record.STATUS) == "ok"]
    assert ok and all("r2" in t.user_attrs["diagnostics"] for t in ok)
    view = read_study(pg_url, name)
    assert "demographic_parity_ks" in view.board.columns and view.config["task"] == "regression"


def test_no_file_of_a_fit_holds_the_password(pg_url, tmp_path):
    """``fit --storage postgresql://user:PASSWORD@... --out DIR``: no file in DIR holds the
    password (model.skops and its archive's members, best_config.json, report.html, the
    CSVs), the model there loads and predicts, and a wrong password is one clear error
    that does not show it either."""
    import zipfile

    from sqlalchemy.engine import make_url

    from fairautoml import cli
    from fairautoml.study.storage import STORAGE_LOGIN

    password = make_url(pg_url).password
    assert password
    out = tmp_path / "pg_out"
    fit = ["fit", "--dataset", "german", "--n-trials", "2", "--learners", "logistic_regression",
           "--study", _study_name("files"), "-q"]  # fmt: skip
    assert cli.main([*fit, "--storage", pg_url, "--out", str(out)]) in VERDICT_EXITS
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert {"model.skops", "best_config.json", "report.html", "leaderboard.csv"} <= {
        p.name for p in files
    }
    holding = []
    for path in files:
        if password.encode() in path.read_bytes():
            holding.append(str(path))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                holding += [f"{path}:{m}" for m in archive.namelist()
                            if password.encode() in archive.read(m)]  # fmt: skip
    assert holding == []
    loaded = fairautoml.load(out / "model.skops")
    assert loaded.storage == _masked(pg_url)
    X, _, s = fairautoml.datasets.load("german")
    assert len(loaded.predict(X, s)) == len(X)

    wrong = make_url(pg_url).set(password="not-" + password)
    wrong_url = wrong.render_as_string(hide_password=False)
    with pytest.raises(fairautoml.exceptions.ConfigurationError) as info:
        persistence.get_storage(wrong_url)
    message = str(info.value)
    assert message.startswith(STORAGE_LOGIN.split("{")[0]) and _masked(wrong_url) in message
    assert password not in message and "not-" not in message
