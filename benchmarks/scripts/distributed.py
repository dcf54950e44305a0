"""Trained models per minute: worker processes on one PostgreSQL study against one process
training ``n_jobs`` models at once (issue "Many machines on a real database").

For k in 1, 2, 4, on German credit (small, so the database's share shows) and Adult:

* ``n_jobs=k``: one ``fairautoml fit --n-jobs k`` process, its study in a SQLite file;
* ``workers=k``: one ``fairautoml fit`` on a PostgreSQL study plus k - 1
  ``fairautoml worker`` processes on it, each training one model at a time.

Every run has the same time budget and seed, all in one invocation (a noisy machine:
compare ratios). A trained model is a finished trial that is not a post-processed copy.
Then one PostgreSQL run of ``fit`` alone under cProfile shows where the database's time
goes: seconds inside Optuna's RDB storage, SQLAlchemy and psycopg, against the whole.

    source .ci/postgres.sh   # or export FAIRAUTOML_TEST_POSTGRES_URL=postgresql://...
    python -m benchmarks.scripts.distributed 40 > results/distributed/report.md
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna

from fairautoml.study import record
from fairautoml.study import storage as persistence
from fairautoml.testing import start_cli

URL = os.environ.get("FAIRAUTOML_TEST_POSTGRES_URL")
COUNTS = (1, 2, 4)
DATABASE_CODE = ("optuna/storages", "sqlalchemy", "psycopg")


def trained(storage: str, name: str) -> int:
    study = optuna.load_study(study_name=name, storage=persistence.get_storage(storage))
    return len(record.trained_models(study.get_trials(deepcopy=False)))


def run(dataset: str, budget: float, k: int, shared: bool, tmp: Path) -> tuple[int, float]:
    """(trained models, wall seconds of the fit process) of one configuration."""
    name = f"dist-{uuid.uuid4().hex[:8]}"
    storage = URL if shared else f"sqlite:///{tmp / (name + '.db')}"
    jobs = "1" if shared else str(k)
    started = time.monotonic()
    fit = start_cli("fit", "--dataset", dataset, "--time-budget", str(budget), "--seed", "0",
              "--n-jobs", jobs, "--storage", storage, "--study", name, "-q")  # fmt: skip
    workers = [
        start_cli("worker", "--storage", storage, "--study", name, "--wait", "120", "-q")
        for _ in range(k - 1 if shared else 0)
    ]
    _, err = fit.communicate(timeout=budget * 3 + 120)
    seconds = time.monotonic() - started
    if fit.returncode != 0:
        raise RuntimeError(err[-2000:])
    for w in workers:
        w.communicate(timeout=300)
    return trained(storage, name), seconds


def database_share(dataset: str, budget: float) -> tuple[float, float, list[tuple[str, float]]]:
    """(seconds in database code, profiled seconds, the top database functions) of one
    ``fit`` on PostgreSQL, profiled in this process."""
    from fairautoml import FairAutoML, datasets

    X, y, s = datasets.load(dataset)
    automl = FairAutoML(
        time_budget=budget, random_state=0, storage=URL, study_name=f"prof-{uuid.uuid4().hex}"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    automl.fit(X, y, sensitive_features=s)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # tottime: no double counting
    database = [
        (f"{Path(file).name}:{func}", row[2])
        for (file, _, func), row in stats.stats.items()
        if any(part in file.replace("\\", "/") for part in DATABASE_CODE)
    ]
    top = sorted(database, key=lambda item: -item[1])[:5]
    return sum(t for _, t in database), total, top


def main(budget: float) -> None:
    if not URL:
        sys.exit("Set FAIRAUTOML_TEST_POSTGRES_URL (source .ci/postgres.sh starts a server).")
    print("# Trained models per minute: PostgreSQL workers against n_jobs in one process\n")
    print(__doc__.split("\n\n", 1)[1].split("\n\n    source", 1)[0], "\n")
    print(f"Budget {budget:g} s per run, 2 cores, seed 0.\n")
    print(
        "| dataset | processes or jobs | one process, n_jobs (models/min) "
        "| PostgreSQL workers (models/min) | workers / n_jobs | fit's wall (s), workers |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in ("german", "adult"):
            for k in COUNTS:
                local, _ = run(dataset, budget, k, shared=False, tmp=Path(tmp))
                shared, wall = run(dataset, budget, k, shared=True, tmp=Path(tmp))
                per_min = 60.0 / budget
                print(
                    f"| {dataset} | {k} | {local * per_min:.0f} | {shared * per_min:.0f} "
                    f"| {shared / max(local, 1):.2f} | {wall:.1f} |",
                    flush=True,
                )
    print()
    for dataset in ("german", "adult"):
        db, total, top = database_share(dataset, budget)
        print(
            f"{dataset}: one `fit` on PostgreSQL, profiled: {db:.1f} s of {total:.1f} s "
            f"({db / total:.0%}) inside Optuna's RDB storage, SQLAlchemy and psycopg; most in "
            + ", ".join(f"`{name}` {seconds:.1f} s" for name, seconds in top)
            + ".\n"
        )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 40.0)
