"""Which trained configurations get costly in-processing mitigation, and when.

After FairAutoML (Wu & Wang, "FairAutoML: Embracing Unfairness Mitigation in AutoML",
2021): mitigation is an action competing with plain tuning for the same budget, and it
is spent where it is expected to buy an improvement of the incumbent more cheaply than
tuning would. Two kinds of mitigation are treated differently:

* **Post-processing is always applied.** It only reads validation scores, so every
  trained model is scored raw and under every post-processor setting
  (:func:`~fairautoml.search.evaluate.evaluate_with_posts`); this is not the allocator's call.
* **In-processing (stage ``"in"``) is allocated.** Its cost is a multiple of a training
  run (reductions refit the learner many times). The controllers search only cheap
  training mitigators (stages ``none``/``pre``) themselves and ask the allocator, after
  every trained configuration, whether to spend an in-processing run, and on which
  configuration ``c`` with which mitigator ``m``.

The rule (:class:`Allocator`). A point is *fair* here when
the final pick could take it (:meth:`~fairautoml.study.pick.PickPolicy.pickable`: feasible
on validation, useful and, with FairAutoML's default ``confidence``, robust: within the
bound at the unfavourable end of its bootstrap interval). Write ``a_c`` for the raw
validation metric of ``c``, ``t_c`` for its training seconds, ``f*`` for the best metric
of a fair point so far (any controller, any stage), ``post_c`` for the best fair
metric post-processing reached on ``c``.

1. Eligible: configurations whose raw point is not fair, among each learner's
   ``pool_size`` of highest ``a_c``, not yet mitigated with ``m``. A configuration fair
   unmitigated is already a candidate pick; mitigating it can only cost accuracy.
   Fair means what the pick takes, not merely feasible: on small data post-processed
   points are often feasible on validation yet not robust, and the pick passes them over.
2. Expected gain, as the probability that mitigating ``c`` with ``m`` gives a new best
   fair point: ``P = p * Phi((a_c - d_m(c) - f*) / s_m)`` (``P = p`` while no point is
   fair). ``p`` is the chance that ``m`` on ``c``'s learner gives a fair point:
   ``(2 p_m + fair runs) / (2 + runs)`` over ``m``'s runs on that learner, shrunk
   towards ``p_m = (1 + fair runs) / (2 + runs)`` over all of ``m``'s runs (whether a
   reduction reaches the bound depends much on the learner);
   ``d_m(c)`` is the predicted price of fairness: the measured drops ``a_b - fair(b, m)``
   of earlier runs of ``m`` shrunk towards the prior ``a_c - post_c`` (what
   post-processing paid on this very configuration; 0.03 if it reached no fair
   point) with weight 2, and ``s_m`` the spread of those drops (prior 0.02).
3. Expected cost: ``C = r_m * t_c`` with ``r_m`` the geometric mean of measured cost ratios
   (mitigated seconds / raw training seconds), shrunk towards the mitigator's declared
   ``cost`` (``search_spaces/mitigator_<m>.yaml``) with weight 1.
4. Decision, FLAML's "estimated cost for improvement" (ECI) compared across the two
   actions: mitigate the eligible pair of least ``ECI_m = C / P`` when ``ECI_m <=
   ECI_tune``, where ``ECI_tune = max(plain seconds since the last improvement by plain
   tuning, plain seconds per such improvement)``, and the remaining budget holds twice
   ``C`` computed with the largest cost ratio seen (a run must not eat the budget), and
   that pessimistic ``C`` is within the per-trial time limit (a run stopped at the limit
   costs its seconds and yields nothing).
   Early on tuning improves often and mitigation waits; when tuning stalls, the most
   promising configurations that post-processing could not fix cheaply get mitigated.
5. First runs, FLAML's rule for a learner not yet tried (its ECI is its cost): a
   mitigator that has not run yet is first tried on the most accurate eligible
   configuration it works with, as soon as that run's expected cost ``C`` is at most
   ``ECI_tune``. Until one run is measured, step 2 prices in-processing at what
   post-processing paid on the same configuration, which is right where post-processing
   is as good as in-processing (the group known at predict time, or well inferred from
   the features) and too dear where it is not (a blind model, the group hard to infer):
   there in-processing reaches a fairer model for less accuracy, and only a measured run
   shows it. One cheap run (``constrained_boosting`` costs about one training) buys the
   measurement; a costly reduction waits until tuning has stalled for as long as it costs.

Without a time budget (``n_trials`` only) every trained model costs the budget one
trial, whatever its seconds, so costs are counted in trained models instead: ``C = 1``
and ``ECI_tune`` in plain trainings. That also makes the decisions independent of the
machine's speed, so a search with ``n_trials`` and no time budget is repeatable.

One rule, no setting. Two simpler policies were measured against it, paired run by run:
mitigating every trained configuration the budget allows ("always") and never mitigating
("never"), with the group at predict time (``experiments/controllers.yaml``) and without
it (``experiments/blind.yaml``, where in-processing should matter most). Without the
group, never mitigating was less accurate and less often within the bound; mitigating
everything was level with this rule within the noise, at the cost of an in-processing run
per model. Neither earned a setting (the numbers are in ``docs/search.md``): a user who
wants no in-processing leaves it out of ``mitigators``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from fairautoml.mitigators import get_mitigator
from fairautoml.study.pick import PickPolicy
from fairautoml.study.trial import Candidate, TrialResult

PRIOR_DROP = 0.03  # price of fairness assumed when post-processing reached no fair point
PRIOR_SPREAD = 0.02
PRIOR_WEIGHT = 2.0
SAFETY = 2.0  # a run starts only if twice its pessimistic cost (largest ratio) is left


@dataclass
class Outcome:
    """One trained model and the points it yielded: raw first, then post-processed."""

    candidate: Candidate  # the trained configuration (post "none")
    results: list[TrialResult]
    numbers: list[int] = field(default_factory=list)  # their trial numbers in the study
    seconds: float = 0.0  # wall clock of training and every post-processing
    mitigated_from: Outcome | None = None  # the plain configuration an in-processing run fixed
    policy: PickPolicy = field(default_factory=PickPolicy)  # fair: what the pick could take
    costly_seconds: float = 0.0  # of ``seconds``, on costly post-processing (search._points)

    @property
    def raw(self) -> TrialResult:
        return self.results[0]

    @property
    def ok(self) -> bool:
        return self.raw.status == "ok"

    @property
    def fair_metric(self) -> float | None:
        """Best validation metric among the points the final pick could take (None: none)."""
        return self.policy.best_pickable_metric(self.results)

    def best(self) -> TrialResult:
        """The point the pick would take among this model's (:meth:`PickPolicy.best`)."""
        best = self.policy.best(self.results)
        assert best is not None, "an outcome has at least its raw point"
        return best


class Allocator:
    """Sees every trained configuration; proposes in-processing runs where the expected cost
    per improvement beats plain tuning's (module docstring)."""

    def __init__(self, in_mitigators: Sequence[str], pool_size: int = 5) -> None:
        self.in_mitigators = tuple(in_mitigators)
        self.pool_size = pool_size
        self.plain: list[Outcome] = []
        self.runs: dict[str, list[Outcome]] = {m: [] for m in self.in_mitigators}
        self.tried: set[tuple[int, str]] = set()
        self.best: float | None = None
        self.timed = True  # costs in seconds; False: in trained models (no time budget)
        self.plain_seconds = 0.0  # spent on plain tuning (trained models when not timed)
        self.improved_at: list[float] = []  # plain seconds when plain tuning improved ``best``

    def observe(self, outcome: Outcome) -> None:
        fair = outcome.fair_metric
        improved = fair is not None and (self.best is None or fair > self.best)
        if improved:
            self.best = fair
        if outcome.mitigated_from is None:
            self.plain_seconds += outcome.seconds if self.timed else 1.0
            if improved:
                self.improved_at.append(self.plain_seconds)
            if outcome.ok:
                self.plain.append(outcome)
        elif outcome.candidate.mitigator in self.runs:
            self.runs[outcome.candidate.mitigator].append(outcome)

    def _take(self, base: Outcome, mitigator: str) -> tuple[Outcome, str]:
        self.tried.add((id(base), mitigator))
        return base, mitigator

    # --- estimates (module docstring, steps 2-4) ------------------------------------------

    def cost(self, base: Outcome, m: str, *, pessimistic: bool = False) -> float:
        """Expected seconds of ``m`` on ``base`` (step 3); ``pessimistic``: with the
        largest ratio seen instead of the mean, for the budget check. Not timed: one
        trained model."""
        if not self.timed:
            return 1.0
        logs = [
            math.log(max(r.seconds, 1e-3) / max(r.mitigated_from.raw.fit_time, 1e-3))
            for r in self.runs[m]
            if r.mitigated_from is not None
        ]
        prior = math.log(max(get_mitigator(m).cost, 1e-3))
        log_ratio = max([prior, *logs]) if pessimistic else (prior + sum(logs)) / (1 + len(logs))
        return math.exp(log_ratio) * max(base.raw.fit_time, 1e-3)

    def p_improve(self, base: Outcome, m: str) -> float:
        runs = self.runs[m]
        p_m = (1 + sum(r.fair_metric is not None for r in runs)) / (2 + len(runs))
        same = [r for r in runs if r.candidate.learner == base.candidate.learner]
        p_fair = (2 * p_m + sum(r.fair_metric is not None for r in same)) / (2 + len(same))
        if self.best is None:
            return p_fair
        post = base.fair_metric
        prior = base.raw.metric - post if post is not None else PRIOR_DROP
        drops = [
            r.mitigated_from.raw.metric - r.fair_metric
            for r in runs
            if r.fair_metric is not None and r.mitigated_from is not None
        ]
        drop = (PRIOR_WEIGHT * prior + sum(drops)) / (PRIOR_WEIGHT + len(drops))
        spread = math.sqrt(
            (PRIOR_WEIGHT * PRIOR_SPREAD**2 + sum((d - drop) ** 2 for d in drops))
            / (PRIOR_WEIGHT + len(drops))
        )
        z = (base.raw.metric - drop - self.best) / max(spread, 1e-6)
        return p_fair * 0.5 * math.erfc(-z / math.sqrt(2))

    def eci_mitigate(self, base: Outcome, m: str) -> float:
        return self.cost(base, m) / max(self.p_improve(base, m), 1e-12)

    def eci_tune(self) -> float:
        last = self.improved_at[-1] if self.improved_at else 0.0
        per_improvement = self.plain_seconds / max(len(self.improved_at), 1)
        return max(self.plain_seconds - last, per_improvement)

    def affordable(self, base: Outcome, m: str, remaining: float, limit: float) -> bool:
        """Whether ``m`` may run on ``base`` (step 4): twice its pessimistic cost is left,
        and that cost is within the per-trial limit (``limit``: ``inf`` for none)."""
        pessimistic = self.cost(base, m, pessimistic=True)
        return SAFETY * pessimistic <= remaining and (not self.timed or pessimistic <= limit)

    def _cheapest(
        self, bases: Sequence[Outcome], remaining: float, limit: float
    ) -> tuple[float, Outcome, str]:
        options = [
            (self.eci_mitigate(b, m), b, m)
            for b in bases
            for m in self.in_mitigators
            if (id(b), m) not in self.tried
            and get_mitigator(m).works_with(b.candidate.learner)
            and self.affordable(b, m, remaining, limit)
        ]
        return min(options, key=lambda o: o[0], default=(math.inf, None, ""))  # type: ignore[arg-type]

    def pick(self, remaining: float, limit: float = math.inf) -> tuple[Outcome, str] | None:
        """The (configuration, in-processing mitigator) to run next, or None; ``remaining``:
        seconds left of the budget, ``limit``: the seconds one trial may take."""
        pool: list[Outcome] = []
        for learner in dict.fromkeys(o.candidate.learner for o in self.plain):
            over = [
                o
                for o in self.plain
                if o.candidate.learner == learner and not o.policy.pickable(o.raw)
            ]
            pool += sorted(over, key=lambda o: -o.raw.metric)[: self.pool_size]
        eci_tune = self.eci_tune()
        first = self._first_run(pool, remaining, limit)
        if first is not None and first[0] <= eci_tune:
            return self._take(first[1], first[2])
        eci, base, m = self._cheapest(pool, remaining, limit)
        if base is None or eci > eci_tune:
            return None
        return self._take(base, m)

    def _first_run(
        self, pool: Sequence[Outcome], remaining: float, limit: float
    ) -> tuple[float, Outcome, str] | None:
        """Step 5: the cheapest first run of a mitigator not run (or running) yet, on the
        most accurate configuration of ``pool`` it works with, priced at its cost."""
        started = {m for _, m in self.tried} | {m for m, runs in self.runs.items() if runs}
        options = []
        for m in self.in_mitigators:
            if m in started:
                continue
            fits = [
                b
                for b in pool
                if get_mitigator(m).works_with(b.candidate.learner)
                and self.affordable(b, m, remaining, limit)
            ]
            if fits:
                base = max(fits, key=lambda b: b.raw.metric)
                options.append((self.cost(base, m), base, m))
        return min(options, key=lambda o: o[0], default=None)


__all__ = ["Allocator", "Outcome"]
