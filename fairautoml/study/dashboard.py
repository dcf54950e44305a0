"""``fairautoml dashboard``: Optuna's own viewer, optuna-dashboard, on a fairautoml study.

Every trial shows its learner and mitigator as parameters (``learner``, ``mitigator``,
a post-processor's ``post``, and their ``NAME__param`` hyperparameters), and as user
attributes its validation ``metric``, its ``constraint_values`` and their intervals, its
``status``, ``fit_time`` and ``worker``; the two objectives are named after the metric and
the worst constraint violation.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna

from fairautoml.exceptions import ConfigurationError
from fairautoml.study.storage import CONFIG_ATTR, get_storage, sqlite_url


def storage_of(target: str) -> str:
    """The storage URL of ``target``: a storage URL, or the ``--out`` directory of a fit."""
    if "://" in target or target.startswith("journal:"):
        return target
    if (Path(target) / "study.db").exists():
        return sqlite_url(target)
    raise ConfigurationError(
        f"No study.db in {target}: give the --out directory of a `fairautoml fit` run, or a "
        "storage URL (sqlite:///path/study.db, postgresql://..., journal:path/study.log)."
    )


def serve(target: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve optuna-dashboard on ``host:port`` for the studies of ``target`` (blocks)."""
    try:
        import optuna_dashboard
    except ImportError as exc:
        raise ConfigurationError(
            'optuna-dashboard is not installed: pip install "fairautoml[dashboard]"'
        ) from exc
    storage = get_storage(storage_of(target))
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        config = summary.user_attrs.get(CONFIG_ATTR)
        if config is None or len(summary.directions) != 2:
            continue  # not a fairautoml study
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        if study.metric_names is None:  # shown by the dashboard instead of "Objective 0/1"
            with warnings.catch_warnings():  # "experimental" in Optuna
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names([str(config["metric"]), "worst constraint violation"])
    optuna_dashboard.run_server(storage, host=host, port=port)
