"""The estimator's parameters, checked once for every way a search is started: what
each numeric one must be, the constraints, the search domain they allow, and the record
a persistent study keeps of them."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from fairautoml import exceptions as E
from fairautoml.data.groups import MISSING_GROUPS, bins_record, check_bins_spec
from fairautoml.estimators.parameters import PARAMETERS
from fairautoml.exceptions import ConfigurationError
from fairautoml.learners import available_learners, get_learner, takes_sample_weight
from fairautoml.measures.constraints import Constraint, parse_constraints
from fairautoml.measures.metrics import METRICS, get_metric
from fairautoml.mitigators import (
    DECISION_RULES,
    DEPLOYS,
    GROUP_AWARE,
    GROUP_FREE,
    available_mitigators,
    get_mitigator,
)
from fairautoml.search import SearchDomain, available_controllers, get_controller
from fairautoml.study.pick import Advice, PickPolicy, policy_for
from fairautoml.tasks import Task, get_task
from fairautoml.values import plain

MISSING_GROUPS_AT_PREDICT = (
    "missing_groups={mode!r} searches models that decide without the group; "
    "decision_rule='group_aware' (sensitive_at_predict=True) asks for models that read it, "
    "which have no rule for a row whose group is unknown. Use decision_rule='group_free' "
    "(the default) or 'proxy', or drop the rows without a group and keep "
    "missing_groups='error'."
)
LEARNER_NO_WEIGHTS = (
    "Learner {name!r} cannot be trained with sample_weight: its estimator's fit has no "
    "sample_weight argument. Leave it out of learners for a weighted fit, or register it "
    "with an estimator whose fit(X, y, sample_weight=None) uses the weights."
)
MITIGATOR_WRONG_TASK = (
    "Mitigator {name!r} cannot be used for a {task} target: it supports {tasks}. "
    "Mitigators for {task}: {available}."
)
PARAMETER_VALUE = (
    "{name} must be {expected}; got {value!r}. Set FairAutoML({name}=...) accordingly."
)
DECISION_RULE_VALUE = (
    "decision_rule={given} is not a policy; use one of {rules}: 'group_free' (no group and "
    "no estimate of it enters a decision), 'proxy' (rules per group estimated from the "
    "features may), 'group_aware' (rules per true group may; the group is needed at "
    "predict time)."
)
DECISION_RULE_AT_PREDICT = (
    "sensitive_at_predict=True asks for models that read the group when they decide, but "
    "decision_rule={given!r} does not deploy them. Give one of the two: "
    "decision_rule='group_aware' alone (the same as sensitive_at_predict=True), or "
    "decision_rule={given!r} without sensitive_at_predict."
)
MITIGATOR_NOT_DEPLOYED = (
    "Mitigator {name!r} makes a {rule} decision rule, which decision_rule={policy!r} does "
    "not deploy (CLI: --decision-rule). Pass decision_rule={rule!r} to search it, or "
    "leave it out of mitigators."
)
MITIGATOR_TOO_MANY_GROUPS = (
    "Mitigator {name!r} decides for at most {most} groups; the sensitive features give {n} "
    "({labels}). Merge groups (e.g. a privileged group against the rest), constrain an "
    "attribute of {most} groups, or leave {name!r} out of mitigators."
)

logger = logging.getLogger("fairautoml")


def task_of(params: Mapping[str, Any]) -> Task:
    """The task a search is for (binary classification when the parameters do not say)."""
    return get_task(params.get("task") or "binary")


def metric_name(params: Mapping[str, Any]) -> str:
    """The metric ``params`` ask for: the task's default when None."""
    return params["metric"] or task_of(params).default_metric


def constraint_spec(params: Mapping[str, Any]) -> Any:
    """The constraints ``params`` ask for: the task's default when None."""
    given = params["constraints"]
    return task_of(params).default_constraint if given is None else given


def check_params(
    params: Mapping[str, Any], weighted: bool = False
) -> tuple[list[Constraint], SearchDomain]:
    """The constraints and the search domain ``params`` ask for (for a fit with
    ``sample_weight`` when ``weighted``); a clear error otherwise."""
    task = task_of(params)
    if params["time_budget"] is None and params["n_trials"] is None:
        raise ConfigurationError("Set time_budget (seconds) or n_trials; both are None.")
    for p in PARAMETERS:
        if p.check is not None and not p.check(params[p.name]):
            raise ConfigurationError(
                PARAMETER_VALUE.format(name=p.name, expected=p.expected, value=params[p.name])
            )
    metric = metric_name(params)
    for kind, value in (("metric", metric), ("controller", params["controller"])):
        if not isinstance(value, str):
            available = METRICS if kind == "metric" else available_controllers()
            raise E.unknown_name(kind, value, available)
    get_metric(metric)
    task.check_metric(metric)
    get_controller(params["controller"])
    check_bins_spec(params.get("sensitive_bins"))
    check_missing_groups_param(params)
    constraints = task.check_constraints(parse_constraints(constraint_spec(params)))
    if not task.has_favourable_label and params.get("pos_label") is not None:
        raise ConfigurationError(E.POS_LABEL_REGRESSION.format(label=params["pos_label"]))
    return constraints, search_domain(params, constraints, weighted)


def decision_rule_policy(params: Mapping[str, Any]) -> str:
    """The decision rules the user may deploy (``decision_rule``; without it,
    ``sensitive_at_predict=True`` means group-aware, else the default group-free)."""
    given, at_predict = params.get("decision_rule"), bool(params.get("sensitive_at_predict"))
    if given is None:
        return GROUP_AWARE if at_predict else GROUP_FREE
    if given not in DECISION_RULES:
        raise ConfigurationError(
            DECISION_RULE_VALUE.format(given=repr(given), rules=", ".join(DECISION_RULES))
        )
    if at_predict and given != GROUP_AWARE:
        raise ConfigurationError(DECISION_RULE_AT_PREDICT.format(given=given))
    return given


def pick_policy_of(params: Mapping[str, Any]) -> PickPolicy:
    """The pick's policy: the task's, at ``confidence``, deploying what ``decision_rule``
    deploys (``deterministic``: no randomized rule)."""
    deploys = DEPLOYS[decision_rule_policy(params)]
    deterministic = bool(params.get("deterministic", False))
    return policy_for(task_of(params), params.get("confidence"), deploys, deterministic)


def advice_of(params: Mapping[str, Any], cv_folds: int) -> Advice:
    """What a fit with ``params``, validated over ``cv_folds`` folds (0: a holdout), has
    not tried yet, for the pick's warnings."""
    return Advice(
        mitigators_restricted=params.get("mitigators") is not None,
        holdout=not cv_folds,
        policy=decision_rule_policy(params),
        deterministic=bool(params.get("deterministic", False)),
    )


def check_missing_groups_param(params: Mapping[str, Any]) -> None:
    """``missing_groups`` is a mode, and not one with models that read the group."""
    mode = params.get("missing_groups", "error")
    if mode not in MISSING_GROUPS:
        raise ConfigurationError(
            E.MISSING_GROUPS_MODE.format(given=repr(mode), modes=", ".join(MISSING_GROUPS))
        )
    if mode != "error" and decision_rule_policy(params) == GROUP_AWARE:
        raise ConfigurationError(MISSING_GROUPS_AT_PREDICT.format(mode=mode))


def search_domain(
    params: Mapping[str, Any], constraints: list[Constraint], weighted: bool = False
) -> SearchDomain:
    """The learners and the training / post-processing mitigations the search may combine.

    A mitigator named explicitly that cannot serve the constraints, or whose decision rule
    the ``decision_rule`` policy does not deploy, is an error; one left to the default
    list is skipped, its post-processors kept as ``compare_posts``: measured after the
    search on its most accurate models, for the report's comparison of policies (the pick
    never takes them: ``PickPolicy.deploys``). A training mitigator that declares
    ``blind_default`` is searched by default only when the true group is not at hand at
    predict time.

    A weighted search (``weighted``) keeps only the learners whose estimator takes
    ``sample_weight`` and the mitigators that declare ``accepts_sample_weight``: one named
    explicitly that does not is an error, one left to the default list is skipped (logged).
    """
    task = task_of(params)
    learners = _names("learner", params["learners"], available_learners(task.name))
    for name in learners:
        get_learner(name).for_task(task.name)
    if weighted:
        learners = _weighted_learners(learners, task.name, params["learners"] is not None)
    explicit = params["mitigators"] is not None
    policy = decision_rule_policy(params)
    deploys = DEPLOYS[policy]
    compare = not explicit  # other policies' rules, for the comparison (not when named)
    training, posts, compared = ["none"], ["none"], []
    for name in _names("mitigator", params["mitigators"], available_mitigators()):
        m = get_mitigator(name)
        if task.name not in m.tasks:
            if explicit:
                raise ConfigurationError(
                    MITIGATOR_WRONG_TASK.format(
                        name=name,
                        task=task.name,
                        tasks=", ".join(sorted(m.tasks)),
                        available=", ".join(mitigators_for(task.name)),
                    )
                )
            continue
        if not m.supports(constraints):
            if explicit:
                raise ConfigurationError(
                    f"Mitigator {name!r} cannot be used here: it does not support "
                    + ", ".join(str(c) for c in constraints)
                    + "."
                )
            continue
        deployable = m.decision_rule in deploys
        if not deployable and explicit:
            raise ConfigurationError(
                MITIGATOR_NOT_DEPLOYED.format(name=name, rule=m.decision_rule, policy=policy)
            )
        if weighted and not m.accepts_sample_weight:
            if explicit:
                raise ConfigurationError(
                    E.MITIGATOR_NO_WEIGHTS.format(name=name, weighted=", ".join(_weighted()))
                )
            logger.info("sample_weight: mitigator %r takes no weights; not searched", name)
            continue
        if m.stage == "post":
            if deployable:
                posts.append(name)
            elif compare:
                compared.append(name)
        elif deployable and not (policy == GROUP_AWARE and m.blind_default and not explicit):
            training.append(name)  # a blind_default one only where no true group is at hand
    if not learners:
        raise ConfigurationError("learners is empty; name at least one learner.")
    return SearchDomain(tuple(learners), tuple(training), tuple(posts), task.name, tuple(compared))


def domain_for_groups(
    domain: SearchDomain, labels: Sequence[str], params: Mapping[str, Any], every_known: bool
) -> SearchDomain:
    """``domain`` without the mitigators that cannot decide for this many groups (the
    intersection cells ``labels``): one named explicitly is an error, one left to the
    default list is skipped (logged). Without ``every_known`` (some rows have no group),
    also without the group-aware rules, which have no rule for them."""
    explicit = params["mitigators"] is not None
    if not every_known:  # the comparison's group-aware rules have no rule for those rows
        domain = replace(domain, compare_posts=tuple(
            p for p in domain.compare_posts if get_mitigator(p).decision_rule != GROUP_AWARE
        ))  # fmt: skip

    def fits(name: str) -> bool:
        if most_fits(name, len(labels)):
            return True
        most = get_mitigator(name).max_groups
        if explicit:
            shown = ", ".join(map(str, labels[:6])) + (", ..." if len(labels) > 6 else "")
            raise ConfigurationError(
                MITIGATOR_TOO_MANY_GROUPS.format(name=name, most=most, n=len(labels), labels=shown)
            )
        logger.info("%d groups: mitigator %r decides for at most %d; not searched",
                    len(labels), name, most)  # fmt: skip
        return False

    return replace(
        domain,
        mitigators=tuple(m for m in domain.mitigators if fits(m)),
        posts=tuple(p for p in domain.posts if fits(p)),
        compare_posts=tuple(p for p in domain.compare_posts if most_fits(p, len(labels))),
    )


def most_fits(name: str, n_groups: int) -> bool:
    """Whether a mitigator decides for ``n_groups`` groups."""
    most = get_mitigator(name).max_groups
    return most is None or n_groups <= most


def _weighted() -> list[str]:
    """The registered mitigators that take ``sample_weight``."""
    return [n for n in available_mitigators() if get_mitigator(n).accepts_sample_weight]


def _weighted_learners(names: list[str], task: str, explicit: bool) -> list[str]:
    """The learners of a weighted search: those whose estimator's ``fit`` takes
    ``sample_weight`` (a named one that does not is an error)."""
    kept = []
    for name in names:
        if takes_sample_weight(get_learner(name).for_task(task)):
            kept.append(name)
        elif explicit:
            raise ConfigurationError(LEARNER_NO_WEIGHTS.format(name=name))
        else:
            logger.warning("sample_weight: learner %r takes no weights; not searched", name)
    if not kept:
        raise ConfigurationError(LEARNER_NO_WEIGHTS.format(name=", ".join(names)))
    return kept


def mitigators_for(task: str) -> list[str]:
    """The registered mitigators that serve ``task``."""
    return [n for n in available_mitigators() if task in get_mitigator(n).tasks]


def _names(kind: str, value: Any, default: list[str]) -> list[str]:
    """A list of registered names; one string is one name, None is every registered one."""
    if value is None:
        return list(default)
    names = [value] if isinstance(value, str) else list(value)
    for name in names:
        if not isinstance(name, str):
            raise E.unknown_name(kind, name, default)
    return names


def study_config(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a persistent study records, so workers and resumes can rebuild it."""
    config = {k: v for k, v in params.items() if k not in ("storage", "study_name")}
    config["constraints"] = [str(c) for c in parse_constraints(constraint_spec(params))]
    config["metric"] = metric_name(params)
    config["task"] = task_of(params).name
    # the level itself: "auto" and the task's number are one setting
    config["confidence"] = task_of(params).confidence(params["confidence"])
    for key in ("learners", "mitigators"):
        config[key] = None if params[key] is None else list(params[key])
    config["pos_label"] = plain(params["pos_label"])
    config["sensitive_bins"] = bins_record(params.get("sensitive_bins"))
    return config


__all__ = [
    "check_params", "constraint_spec", "metric_name", "search_domain", "study_config", "task_of",
]  # fmt: skip
