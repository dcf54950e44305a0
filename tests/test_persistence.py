"""Persistent studies: resume, settings checks, lost trials, shared budget, save and load."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import numpy as np
import optuna
import pytest

import fairautoml
from fairautoml import FairAutoML
from fairautoml.exceptions import ConfigurationError
from fairautoml.search.session import Session, SharedBudget, count_trials
from fairautoml.study import record
from fairautoml.study import storage as persistence
from fairautoml.study.storage import (
    STORAGE_FILE,
    STORAGE_LOGIN,
    get_storage,
    open_study,
)
from fairautoml.testing import make_biased

FAST = dict(
    constraints="demographic_parity_difference <= 0.3",  # met without mitigation
    time_budget=None,
    random_state=0,
    learners=["logistic_regression"],
    mitigators=[],  # one recorded point per trial, so trial numbers are predictable
)


@pytest.fixture(scope="module")
def data():
    return make_biased(n=700, seed=3)


def test_fit_resumes_a_stored_study(tmp_path, data):
    X, y, s = data
    url = f"journal:{tmp_path / 'study.log'}"  # SQLite is tested by the CLI tests
    first = FairAutoML(**FAST, n_trials=3, storage=url, study_name="run").fit(X, y, s)
    assert len(first.leaderboard_) == 3
    first_params = {t.number: t.params for t in first.study_.trials}
    second = FairAutoML(**FAST, n_trials=5, storage=url, study_name="run").fit(X, y, s)
    # n_trials is the study's total: two more trials, numbered after the first three
    assert sorted(second.leaderboard_["trial"]) == [0, 1, 2, 3, 4]
    # the resumed sampler proposes new configurations, not the first session's again
    assert all(t.params not in first_params.values() for t in second.study_.trials[3:])
    stored = optuna.load_study(study_name="run", storage=get_storage(url))
    assert {t.number: t.params for t in stored.trials[:3]} == first_params
    assert stored.user_attrs[persistence.CHOSEN_ATTR] == second.best_config_["trial"]
    # the chosen model may come from the first session: it is re-evaluated and works
    assert second.predict(X, sensitive_features=s).shape == (len(X),)


def test_resume_refuses_other_settings_or_data(tmp_path, data):
    X, y, s = data
    url = f"journal:{tmp_path / 'study.log'}"
    FairAutoML(**FAST, n_trials=2, storage=url, study_name="run").fit(X, y, s)
    other = {**FAST, "constraints": "equalized_odds_difference <= 0.1"}
    with pytest.raises(ConfigurationError, match="created with other settings: constraints"):
        FairAutoML(**other, n_trials=3, storage=url, study_name="run").fit(X, y, s)
    with pytest.raises(ConfigurationError, match="the data"):
        FairAutoML(**FAST, n_trials=3, storage=url, study_name="run").fit(
            X.iloc[::-1].reset_index(drop=True), y, s
        )
    # the default level is the task's number: a study made with it resumes either way
    FairAutoML(**FAST, n_trials=3, storage=url, study_name="run", confidence=0.8).fit(X, y, s)
    with pytest.raises(ConfigurationError, match=r"confidence=0.8 \(now 0.9\)"):
        FairAutoML(**FAST, n_trials=4, storage=url, study_name="run", confidence=0.9).fit(X, y, s)


def test_time_budget_is_the_study_total(tmp_path, data):
    X, y, s = data
    url = f"journal:{tmp_path / 'study.log'}"
    study = open_study(url, "run")
    study.set_user_attr(persistence.SPENT_ATTR, 1000.0)  # an earlier session used it all
    automl = FairAutoML(**{**FAST, "time_budget": 5}, storage=url, study_name="run")
    with pytest.raises(fairautoml.exceptions.SearchError, match="No trial succeeded"):
        automl.fit(X, y, s)  # nothing left to search, and no earlier trials to pick from


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _running(study, owner: str, machine: str):
    trial = study.ask()
    trial.set_user_attr("worker", owner)
    trial.set_user_attr("machine", machine)
    return trial


def test_trials_of_dead_processes_on_this_machine_are_failed_at_once(tmp_path):
    url = f"journal:{tmp_path / 'study.log'}"  # the journal storage has no heartbeat
    study = open_study(url, "s")
    host, here = socket.gethostname(), record.machine_id()
    dead_pid = _dead_pid()
    t_dead = _running(study, f"{host}:{dead_pid}", here)  # its process no longer exists
    t_live = _running(study, f"{host}:{os.getppid()}", here)  # a live process here
    t_remote = _running(study, f"{host}:{dead_pid}", "another machine")  # pids mean nothing
    t_mine = study.ask()  # this process's own, in flight
    assert t_mine.user_attrs == record.owner_attrs()
    assert count_trials(study) == 4  # running trials count against the budget
    assert study.fail_lost_trials() == [t_dead.number]
    states = {t.number: t.state for t in study.trials}
    assert states[t_dead.number] == optuna.trial.TrialState.FAIL
    for t in (t_live, t_remote, t_mine):
        assert states[t.number] == optuna.trial.TrialState.RUNNING
    assert count_trials(study) == 3  # lost trials are not counted as done
    from fairautoml.measures.metrics import get_metric
    from fairautoml.study.leaderboard import leaderboard_frame

    board = leaderboard_frame(study, fairautoml.parse_constraints(FAST["constraints"]),
                              get_metric("accuracy"))  # fmt: skip
    assert list(board["status"]) == ["lost"]
    assert board["error"].str.contains("stopped mid-trial").all()


def test_optuna_heartbeat_fails_silent_trials_of_any_machine(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(persistence, "HEARTBEAT_INTERVAL", 1)
    monkeypatch.setattr(persistence, "GRACE_PERIOD", 1)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study, other = open_study(url, "s"), open_study(url, "s")  # `other`: another process
    assert study._storage.get_heartbeat_interval() == 1
    silent = _running(other, "faraway:77", "another machine")  # beat once, then silent
    mine = study.ask()  # this process beats for it
    for _ in range(3):
        time.sleep(1.0)
        study.heartbeat()
    assert study.fail_lost_trials() == [silent.number]
    states = {t.number: t.state for t in study.trials}
    assert states[silent.number] == optuna.trial.TrialState.FAIL
    assert states[mine.number] == optuna.trial.TrialState.RUNNING
    assert "no heartbeat from its process (faraway:77)" in caplog.text
    assert count_trials(study) == 1
    study.tell(mine, [0.5, 0.0])
    study.heartbeat()  # a finished trial is no longer beaten for
    assert not study.in_flight


def test_shared_budget_counts_every_process_trials(tmp_path):
    url = f"journal:{tmp_path / 'study.log'}"
    a, b = open_study(url, "s"), open_study(url, "s")
    budget = SharedBudget(n_trials=3, study=a)
    for study in (a, b, b):
        trial = study.ask()
        trial.set_user_attr("status", "ok")
        study.tell(trial, [0.5, 0.0])
        # the other handle sees the same count
    assert count_trials(a) == count_trials(b) == 3
    assert budget.exhausted(0)
    assert not SharedBudget(n_trials=4, study=a).exhausted(0)


def test_storage_urls(tmp_path):
    journal = get_storage(f"journal:{tmp_path / 'j' / 'study.log'}")
    assert isinstance(journal, optuna.storages.JournalStorage)
    assert get_storage(None) is None
    with pytest.raises(ConfigurationError, match=r"not a URL\. Use an Optuna storage URL"):
        get_storage("results/study.db")
    with pytest.raises(ConfigurationError, match="No study 'nope'"):
        open_study(f"journal:{tmp_path / 'x.log'}", "nope", create=False)


def test_save_and_load_roundtrip(tmp_path, data):
    X, y, s = data
    url = f"sqlite:///{tmp_path / 'study.db'}"
    automl = FairAutoML(**FAST, n_trials=2, storage=url, study_name="run").fit(X, y, s)
    path = automl.save(tmp_path / "model.skops")
    loaded = fairautoml.load(path)
    assert not hasattr(loaded, "study_")  # the storage handle is not pickled
    assert loaded.leaderboard_.equals(automl.leaderboard_)
    assert loaded.best_config_ == automl.best_config_
    np.testing.assert_array_equal(loaded.predict_proba(X, s), automl.predict_proba(X, s))
    assert hasattr(automl, "study_")  # saving does not change the fitted estimator
    # other files, pickles and untrusted types: tests/test_model_file.py


def test_worker_id_is_this_process():
    assert record.worker_id().endswith(f":{os.getpid()}")


def test_waiting_for_other_workers_ends(tmp_path):
    study = open_study(f"journal:{tmp_path / 'study.log'}", "s")
    session = Session.coordinate(study, None, 5)
    session.wait_for_others(0.0)  # nothing running: returns at once
    trial = study.ask()  # in flight in this process: waited for, up to the timeout
    started = time.monotonic()
    session.wait_for_others(0.6)
    assert 0.5 < time.monotonic() - started < 5
    study.tell(trial, [0.5, 0.0])
    session.close()


def test_a_worker_stops_its_trials_after_the_deadline_it_follows(tmp_path):
    study = open_study(f"journal:{tmp_path / 'study.log'}", "s")
    study.set_user_attr(persistence.BUDGET_ATTR, {"deadline": time.time() + 100})
    budget = SharedBudget(study=study, follow=True)
    budget.remaining()
    budget.stop_after(5.0)
    assert budget.deadline - time.monotonic() == pytest.approx(100, abs=2)
    assert budget.hard_deadline == pytest.approx(budget.deadline + 5.0)
    study.set_user_attr(persistence.BUDGET_ATTR, {"deadline": time.time() + 200})  # resumed
    budget._read_at = 0.0  # (it re-reads the study every 2 s)
    budget.remaining()
    assert budget.deadline - time.monotonic() == pytest.approx(200, abs=2)
    assert budget.hard_deadline == pytest.approx(budget.deadline + 5.0)


SECRET = "s3cretPW"
SECRET_URL = f"postgresql://pguser:{SECRET}@db.example:5432/fa"


def _files_hold(paths, text: str) -> list[str]:
    """The files (and the members of zip archives: a .skops file) whose bytes hold
    ``text``."""
    import zipfile

    found = []
    for path in paths:
        if path.read_bytes().find(text.encode()) >= 0:
            found.append(str(path))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                found += [f"{path}:{m}" for m in archive.namelist()
                          if text.encode() in archive.read(m)]  # fmt: skip
    return found


def test_no_file_written_from_a_fit_holds_the_storage_password(tmp_path, data):
    """A fitted estimator whose ``storage`` holds a password (as a fit on PostgreSQL
    leaves it: tests/test_postgres.py runs one) writes no file that holds it: model.skops,
    a .joblib pickle, best_config, the report page; the estimator in memory keeps the URL,
    and the saved model still loads and predicts."""
    import copy
    import json
    import pickle

    from fairautoml.model.files import envelope, write_model
    from fairautoml.report.page import write_fit_report

    X, y, s = data
    automl = FairAutoML(**FAST, n_trials=1).fit(X, y, s)
    automl.set_params(storage=SECRET_URL, study_name="run")  # what the fit ran with
    skops = write_model(automl, tmp_path / "model.skops")
    joblib_file = automl.save(tmp_path / "model.joblib")
    (tmp_path / "best_config.json").write_text(json.dumps(automl.best_config_, default=str))
    automl.leaderboard_.to_csv(tmp_path / "leaderboard.csv")
    write_fit_report(automl, tmp_path / "report.html")  # from Python: the page shows repr
    assert _files_hold(sorted(tmp_path.iterdir()), SECRET) == []
    masked = "postgresql://pguser:***@db.example:5432/fa"
    assert envelope(automl)["estimator"].storage == masked
    assert SECRET not in repr(automl) and masked in repr(automl)
    assert SECRET not in str(automl._repr_mimebundle_())
    assert SECRET.encode() not in pickle.dumps(automl)
    assert copy.deepcopy(automl).storage == masked
    assert automl.storage == SECRET_URL and automl.get_params()["storage"] == SECRET_URL
    for path in (skops, joblib_file):
        loaded = fairautoml.load(path, trusted=path.suffix == ".joblib")
        assert loaded.storage == masked and loaded.best_config_ == automl.best_config_
        np.testing.assert_array_equal(loaded.predict_proba(X, s), automl.predict_proba(X, s))
    plain = FairAutoML(storage=f"sqlite:///{tmp_path / 'study.db'}")  # no password: as given
    assert copy.copy(plain).storage == plain.storage and "***" not in repr(plain)


def _closed_port() -> int:
    """A port on this machine that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _template(template: str):
    import re

    parts = re.split(r"\{[^{}]*\}", template)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.DOTALL)


@pytest.mark.parametrize(
    "url, template",
    [
        ("foo://bar", "STORAGE_SCHEME"),
        (f"postgresql+nodriver://u:{SECRET}@host/db", "STORAGE_SCHEME"),
        (f"postgresql://u:{SECRET}@127.0.0.1:notaport/db", "STORAGE_URL_INVALID"),
        (f"postgresql://u:{SECRET}@127.0.0.1:{{port}}/fa", "STORAGE_UNREACHABLE"),
    ],
)
def test_a_storage_that_cannot_be_opened_is_one_clear_error(url, template, capsys):
    """An unknown kind of database, a URL SQLAlchemy cannot read, a server that is not
    there: one message naming the problem and the fix, the URL masked, and from the CLI
    one line and exit status 2 (not SQLAlchemy's traceback of 30 to 130 lines)."""
    from fairautoml import cli

    if "postgresql://" in url:
        pytest.importorskip("psycopg")
    url = url.replace("{port}", str(_closed_port()))
    with pytest.raises(ConfigurationError) as info:
        get_storage(url)
    message = str(info.value)
    assert _template(getattr(persistence, template)).fullmatch(message), message
    assert SECRET not in message and info.value.__cause__ is None
    assert persistence.masked(url) in message
    fit = ["fit", "--dataset", "german", "--n-trials", "1", "--storage", url, "--study", "s", "-q"]
    assert cli.main(fit) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and SECRET not in err
    assert "Traceback" not in err


def test_storage_error_kinds_name_their_fix():
    """The server refused the login (wrong password): the login message, never the
    password; a SQLite file that cannot be opened: the file message."""
    from sqlalchemy.exc import OperationalError

    refused = OperationalError(
        "connect", {}, Exception(f'FATAL:  password authentication failed for user "u" {SECRET}')
    )
    login = str(persistence.storage_error(SECRET_URL, refused))
    assert _template(STORAGE_LOGIN).fullmatch(login), login
    assert SECRET not in login and "pguser:***@db.example" in login
    assert "$FAIRAUTOML_STORAGE" in login
    locked = OperationalError("connect", {}, Exception("unable to open database file"))
    message = str(persistence.storage_error("sqlite:////nowhere/study.db", locked))
    assert _template(STORAGE_FILE).fullmatch(message), message
