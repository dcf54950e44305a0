"""Which learners' defaults does the ``optuna`` controller train after the cheap starts?

    python experiments/learner_prior.py [--datasets dutch adult] [--seeds 5 8]
        [--constraint equalized_odds_difference] [--known]

The search first trains every learner at its low-cost values (``low_cost`` in
``search_spaces/*.yaml``), post-processes each, and then trains the defaults of the better
half of the learners, ranked by their cheap start's value
(:func:`~fairautoml.search.optuna_controller.promising_defaults`). Per dataset x seed,
exactly as a blind bench cell has it (the bench's split, 30 s, one thread; ``--known``:
the group available at predict time), runs the default search and prints a markdown row:
each learner's cheap start valued as the pick values a point (best *robust* metric;
``*``: none robust, ranked after those with one by how far it misses) and as
:func:`~fairautoml.search.optuna_controller.learner_prior` values it (best metric within
the constraints on validation, no interval), the learners whose defaults the search
trained, and the pick with its test accuracy.

The two rankings come from the same cheap starts (their values do not depend on the
ranking), so one run shows which learners each policy would have sent to their defaults.
Writes nothing; ``results/learner_prior.md`` holds a run.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BOUND = 0.05


def ranking(values: dict[str, tuple[float, float] | None]) -> list[str]:
    """Learners best first, as ``promising_defaults`` orders them; ``*``: no fair point."""
    ok = {z: v for z, v in values.items() if v is not None}
    order = sorted(ok, key=lambda z: (ok[z][1], -ok[z][0]))
    return [f"{z} {ok[z][0]:.3f}{'*' if ok[z][1] > 0 else ''}" for z in order]


def run(dataset: str, constraint: str, seed: int, known: bool) -> str:
    from fairautoml import record
    from fairautoml.automl import FairAutoML
    from fairautoml.bench.runner import cell_task
    from fairautoml.learners import get_learner
    from fairautoml.search.optuna_controller import learner_prior, model_value
    from fairautoml.selection import PickPolicy

    label = f"{constraint} <= {BOUND}"
    task, (X_test, y_test, s_test) = cell_task(dataset, label, seed, base=ROOT / "experiments")
    X, y, s = task.trainval
    est = FairAutoML(
        constraints=[label],
        time_budget=30,
        random_state=seed,
        n_jobs=1,
        sensitive_at_predict=known,
    ).fit(X, y, sensitive_features=s)
    trials = est.study_.trials
    points: dict[int, list] = {}
    for t in trials:
        if record.is_derived(t):
            points.setdefault(record.derived_from(t), []).append(t)
    trained = [t for t in trials if not record.is_derived(t) and t.state.is_finished()]

    def own(t, kind: str) -> bool:
        space = get_learner(t.params["learner"]).space
        values = space.low_cost() if kind == "cheap" else space.defaults()
        prefix = t.params["learner"] + "__"
        mine = {k[len(prefix) :]: v for k, v in t.params.items() if k.startswith(prefix)}
        return mine == values and t.params.get("mitigation", "none") == "none"

    cheap = {}
    for t in trained:
        if own(t, "cheap") and t.params["learner"] not in cheap:
            cheap[t.params["learner"]] = [
                record.decode(p, est.constraints_) for p in (t, *points.get(t.number, ()))
            ]
    pick = PickPolicy.for_confidence(est.confidence)  # the search's ctx.pick
    prior = learner_prior(pick)
    by_pick = ranking({z: model_value(r, pick) for z, r in cheap.items()})
    by_prior = ranking({z: model_value(r, prior) for z, r in cheap.items()})
    defaults = [t.params["learner"] for t in trained if own(t, "defaults")]
    pred = est.predict(X_test, sensitive_features=s_test if known else None)
    accuracy = float(np.mean(np.asarray(pred) == np.asarray(y_test)))
    return (
        f"| {dataset} | {seed} | {', '.join(by_pick)} | {', '.join(by_prior)} | "
        f"{', '.join(dict.fromkeys(defaults))} | {est.best_config_.get('model')} | "
        f"{accuracy:.4f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["dutch", "adult"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[5, 8])
    parser.add_argument("--constraint", default="equalized_odds_difference")
    parser.add_argument("--known", action="store_true", help="the group at predict time")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(ROOT))
    print(f"{args.constraint} <= {BOUND}, {'group known' if args.known else 'blind'}, 30 s\n")
    print(
        "| dataset | seed | cheap starts as the pick values them | as learner_prior values them"
        " | defaults trained | pick | test accuracy |"
    )
    print("|---|---|---|---|---|---|---|")
    for dataset in args.datasets:
        for seed in args.seeds:
            print(run(dataset, args.constraint, seed, args.known), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
