"""One search, built from an estimator's parameters and the data: for ``FairAutoML.fit``,
``fairautoml worker``, the bench and the experiments alike.

:func:`build_search` checks the parameters (:mod:`fairautoml.estimators.params`), prepares the data
and the validation split, opens the study (a persistent one is coordinated with its other
processes), sets the budget and builds the controller with its per-trial time
limit and runner. A worker joining a study gets the search its coordinator runs, because
both are built here from the parameters the study records. The data it runs on is
:mod:`fairautoml.estimators.context`'s; the built search, running, with its budget policy
(the share kept for the final refit, the final steps' slack), is
:mod:`fairautoml.estimators.running`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import optuna

from fairautoml.audit.verdicts import fit_features
from fairautoml.estimators.context import min_rung_rows, search_context
from fairautoml.estimators.params import (
    study_config,
)
from fairautoml.estimators.running import (
    BOOKKEEPING,
    ISOLATE_FROM,
    REFIT_RESERVE,
    Search,
    kept_back,
)
from fairautoml.exceptions import ConfigurationError
from fairautoml.mitigators import available_mitigators, get_mitigator
from fairautoml.search import (
    Budget,
    SearchDomain,
    get_controller,
)
from fairautoml.search.cores import plan_cores
from fairautoml.search.ensemble import (
    EnsembleBuilder,
)
from fairautoml.search.portfolio import is_big_table, portfolio_for
from fairautoml.search.post_settings import post_variants
from fairautoml.search.runner import make_runner
from fairautoml.search.session import Session, SharedBudget, session_seed
from fairautoml.study.record import worker_id
from fairautoml.study.storage import (
    CONFIRMED_FIRST_ATTR,
    FINGERPRINT_ATTR,
    check_config,
    data_fingerprint,
    open_study,
)
from fairautoml.study.trial import SearchContext

logger = logging.getLogger("fairautoml")


# --- data and split ------------------------------------------------------------------------


# --- the search ----------------------------------------------------------------------------


def build_search(
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    sensitive_features: Any,
    *,
    started: float | None = None,
    study: optuna.Study | None = None,
    sample_weight: Any = None,
    target_X: Any = None,
    group_probabilities: Any = None,
    shift_robust: bool = False,
) -> Search:
    """The search ``params`` (a ``FairAutoML``'s ``get_params()``) describe on this data.

    ``started`` (``time.monotonic()`` when the fit began): the process that starts or
    resumes the search; its budget counts from then. Without it, a worker joining
    ``study`` (a persistent study a ``fit`` started): the data must be the study's
    (same fingerprint, which covers ``sample_weight``), and the budget is the study's
    shared one. ``target_X``: rows from where the model will be used
    (:func:`~fairautoml.estimators.context.search_context`), and ``shift_robust``: the
    claim for the worst case over reweightings toward them. ``group_probabilities``:
    each row's probability of each group, instead of ``sensitive_features``.
    """
    ctx, domain = search_context(
        params, X, y, sensitive_features, sample_weight, target_X,
        group_probabilities=group_probabilities, shift_robust=shift_robust,
    )  # fmt: skip
    if started is not None and ctx.data.shift is not None:  # the search gets its whole budget
        started += ctx.data.shift["seconds"]
    # a robust shift claim's reweightings (the central weights among them) enter it too
    weight = ctx.data.weight if ctx.data.weight_set is None else ctx.data.weight_set
    fingerprint = data_fingerprint(ctx.data.X, ctx.data.y, ctx.data.groups, weight)
    seed = params["random_state"]
    search_seconds = None
    session: Session | None = None
    if started is None:  # a worker
        if study is None:
            raise ValueError("build_search: a worker (started=None) joins a given study")
        if fingerprint != study.user_attrs.get(FINGERPRINT_ATTR):
            raise ConfigurationError(
                f"The data given differ from the data study {study.study_name!r} was "
                "started with. Give the worker the same file (--data PATH)."
            )
        session = Session.join(study)
        budget: Budget = session.budget
        seed = session_seed(seed, "worker " + worker_id())
    else:
        study = open_study(params["storage"], params["study_name"])
        n_before = len(study.trials)
        if n_before:  # another sampler seed, or the resumed sampler re-proposes old trials
            logger.info("resuming study %r: %d trials recorded", study.study_name, n_before)
            seed = session_seed(seed, f"resume{n_before}")
        if params["time_budget"] is not None:
            search_seconds = float(params["time_budget"]) * (1 - REFIT_RESERVE)
        if params["storage"] is not None:
            check_config(study, study_config(params), fingerprint)
            study.set_user_attr(CONFIRMED_FIRST_ATTR, ctx.pick.confirmed_first)
            session = Session.coordinate(study, search_seconds, params["n_trials"])
            budget = session.budget
        else:
            deadline = None
            if search_seconds is not None:
                search_seconds = float(params["time_budget"]) * (1 - BOOKKEEPING)
                deadline = started + search_seconds
            budget = Budget(deadline=deadline, n_trials=params["n_trials"])
    controller = get_controller(params["controller"])(domain, seed)
    controller.min_rung_rows = min_rung_rows(params["min_rung_rows"], ctx)
    if params.get("portfolio", True):
        controller.portfolio = portfolio_for(domain.task, big_table=is_big_table(ctx))
    study.sampler = controller.sampler() or study.sampler
    limit_trials(params, budget, started)
    ctx.deadline = budget.deadline  # costly mitigators fail fast rather than overrun it
    controller.budget = budget
    budget_s = params["time_budget"]
    side_by_side = budget_s is not None and float(budget_s) >= ISOLATE_FROM
    cores = plan_cores(params["n_jobs"], side_by_side=side_by_side, trial_bytes=trial_bytes(ctx))
    logger.info("cores: %s", cores.describe())
    # a trial's threads, the group classifier's too: every trial worker calls it at once,
    # and on every core each they would oversubscribe the machine
    ctx.n_jobs = cores.threads
    prefit_group_classifier(ctx, domain)
    controller.runner = make_runner(ctx, cores.trials, budget.trial_time_limit is not None)
    if started is None and budget.deadline is not None:
        search_seconds = budget.remaining()
    search = Search(params, study, ctx, domain, budget, controller, started, session)
    search.cores = cores
    search.search_seconds = search_seconds
    if params.get("ensemble", True) and started is not None:  # workers keep no library
        search.ensembles = EnsembleBuilder(ctx, post_variants(domain.posts))
    if session is None and params["time_budget"] is not None:
        budget.reserve = partial(kept_back, search, float(params["time_budget"]))
    if started is not None:  # the fit's rows, not its pick: counted in the search's time
        search.fit_features = fit_features(ctx)
    return search


def trial_bytes(ctx: SearchContext) -> int:
    """Bytes of the rows a trial worker is sent (:meth:`SearchContext.for_trials`), from
    the features' shallow size: what bounds the trials run at once by memory."""
    rows = len(np.union1d(ctx.train_idx, ctx.val_idx))
    whole = int(ctx.data.X.memory_usage(index=False, deep=False).sum())
    return whole * rows // max(len(ctx.data.y), 1)


def prefit_group_classifier(ctx: SearchContext, domain: SearchDomain) -> None:
    """Fit the search's group classifier (every fold's under cross-validation) before the
    trials, when a searched post-processor reads P(group | x): trials then share it, also
    in worker processes, and none pays for it under its own time limit (with many groups
    it can take longer than a trial may). A failure is left to the trials that need it."""
    known = set(available_mitigators())
    if not any(
        p in known and getattr(get_mitigator(p), "needs_group_proba", False) for p in domain.posts
    ):
        return
    try:
        for fold in range(len(ctx.cv_folds)) if ctx.cv_folds else [None]:
            ctx.group_estimator(fold)
    except Exception as exc:  # the trials that need it fail and say why
        logger.warning("the group classifier could not be fitted before the search: %s", exc)


def limit_trials(params: Mapping[str, Any], budget: Budget, started: float | None) -> None:
    """Set the per-trial limit and the moment running trials are stopped."""
    limit = params["trial_time_limit"]
    if params["time_budget"] is None:
        budget.trial_time_limit = None if limit == "auto" else limit
        return
    total = float(params["time_budget"])
    if limit == "auto":  # below ISOLATE_FROM, starting worker processes costs too much
        limit = total / 3 if total >= ISOLATE_FROM else None
        budget.limit_after_success = True
    budget.trial_time_limit = limit
    if isinstance(budget, SharedBudget) and started is not None:
        budget.hard_deadline = started + total * (1 - REFIT_RESERVE / 2)
    elif started is not None:  # less the reserve, asked afresh (Budget.reserve)
        budget.hard_deadline = started + total * (1 - BOOKKEEPING / 2)
    elif isinstance(budget, SharedBudget):  # as long after the deadline as fit's
        budget.stop_after(total * REFIT_RESERVE / 2)


__all__ = ["build_search", "limit_trials", "prefit_group_classifier"]
