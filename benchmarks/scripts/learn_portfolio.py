"""Learn the search's portfolio (``search_spaces/portfolio.yaml``) from a pool of
configurations trained on the bundled binary tables.

The pool: each learner's low-cost start (what every search tries first: the baseline the
portfolio must add to), its defaults, and ``--per-learner`` configurations sampled from its
search space with a fixed seed. Each is trained on the fit rows of every bundled binary
table (the benchmark's train + validation rows under split seed ``--split-seed``, one the
benchmarks do not use), under each constraint, as the search trains a candidate
(:func:`~fairautoml.search.evaluate.evaluate_with_posts` with every post-processor setting, in
the context :func:`~fairautoml.estimators.context.search_context` builds from the estimator's
defaults), and valued as the ``fair_tpe`` sampler values a trained model
(:func:`~fairautoml.search.optuna_controller.model_value`: its best point the pick could
take), under the pick policy raised by the best feasible point of the pool on that task.
A configuration whose time estimate from the smaller tables exceeds ``--max-seconds`` on
a larger one is not trained there (it scores nothing there).

The portfolio is then chosen greedily (:func:`~fairautoml.search.portfolio.greedy_portfolio`)
over the (table, constraint) tasks, values normalized per task
(:func:`~fairautoml.search.portfolio.normalized_values`), the low-cost starts' values as
the baseline, until ``--size`` configurations or a gain below ``--min-gain``.

    python -m benchmarks.scripts.learn_portfolio --out results/portfolio      # resumes
    python -m benchmarks.scripts.learn_portfolio --out results/portfolio --choose-only

``--big-tables``: the portfolio a search of a big table tries (one that trains on a sample
of its training rows; :func:`~fairautoml.search.portfolio.portfolio_for`), learned on
synthetic tables of :data:`BIG_TABLES` rows (generator seeds 1-3: the scale sweep's
table is seed 0, and no report's), written under its own key of the same file.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import yaml

from fairautoml import FairAutoML
from fairautoml.bench.rows import make_synthetic, split_rows
from fairautoml.datasets import load
from fairautoml.estimators.build import prefit_group_classifier
from fairautoml.estimators.context import search_context
from fairautoml.learners import available_learners, get_learner
from fairautoml.search.evaluate import evaluate_with_posts
from fairautoml.search.optuna_controller import model_value
from fairautoml.search.portfolio import (
    big_table_key,
    greedy_portfolio,
    normalized_values,
    portfolio_score,
    rows_fitted,
)
from fairautoml.search.post_settings import post_variants
from fairautoml.spaces import spaces_dir
from fairautoml.study.pick import policy_for
from fairautoml.study.trial import Candidate, TrialResult
from fairautoml.tasks import get_task

TABLES = ("german", "hmda", "arrests", "compas", "adult", "dutch")  # smallest first
CONSTRAINTS = ("demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.05")
TASK = "binary"
POOL_FILE = "pool.jsonl"
# Big tables: synthetic, 30 features, the generator of the scale sweep (its group bias)
# with other seeds and other amounts of interaction; 400,000 rows each, so a search with
# the defaults trains on a 100,000-row sample and validates on 100,000 rows, as on a
# million. Named synthetic:ROWS:SEED:INTERACTIONS:SIGNAL.
BIG_TABLES = (
    "synthetic:400000:1:2:1.0",
    "synthetic:400000:2:4:1.6",
    "synthetic:400000:3:8:1.2",
)
BIG_TABLE_LEARNERS = ("lightgbm", "xgboost", "hist_gradient_boosting")
# a big table's portfolio serves both kinds of search, group-free (the default) and
# group-aware: where no point of a task is pickable, its models are valued by how near
# they come, which alone would favour the weakest (results/portfolio_big/README.md)
BIG_TABLE_RULES = (None, "group_aware")
MADE_BY = "#   "  # the portfolio file's header line of one key: "#   KEY: COMMAND (at ...)"


def pool_configs(
    per_learner: int, seed: int, learners: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every learner's (``learners``; None: every one) low-cost start and defaults, then
    ``per_learner`` sampled configurations of each, interleaved by learner (a pool cut
    short stays balanced)."""
    learners = learners or available_learners(TASK)
    spaces = {name: get_learner(name).for_task(TASK).space for name in learners}
    configs = [
        {"role": "cheap_start", "learner": n, "params": spaces[n].low_cost()} for n in learners
    ]
    configs += [
        {"role": "defaults", "learner": n, "params": spaces[n].defaults()} for n in learners
    ]
    studies = {
        name: optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed + i))
        for i, name in enumerate(learners)
    }
    for _ in range(per_learner):
        for name in learners:
            params = spaces[name].suggest(studies[name].ask())
            configs.append({"role": "sampled", "learner": name, "params": params})
    for i, config in enumerate(configs):
        config["id"] = i
    return configs


def load_table(name: str) -> tuple[Any, Any, Any]:
    """A bundled table, or ``synthetic:ROWS:SEED:INTERACTIONS:SIGNAL`` (the scale sweep's
    generator and group bias)."""
    if not name.startswith("synthetic:"):
        return load(name)
    rows, seed, interactions, signal = name.split(":")[1:]
    return make_synthetic(
        int(rows), 30, bias=1.6, seed=int(seed), interactions=int(interactions),
        signal=float(signal),
    )  # fmt: skip


def task_contexts(
    split_seed: int, tables: tuple[str, ...], rules: tuple[str | None, ...] = (None,)
) -> dict[tuple[str, str], Any]:
    """Each (table, constraint)'s search context and post-processor settings, as a search
    with the estimator's defaults and ``random_state=split_seed`` builds them on the
    table's fit rows; once per decision rule of ``rules`` (None: the default, and the
    task's name is the constraint; else ``CONSTRAINT | RULE``)."""
    out = {}
    for table in tables:
        X, y, s = load_table(table)
        split = split_rows(y, s, split_seed)
        rows = np.concatenate([split.train, split.val])
        X_fit = X.iloc[rows].reset_index(drop=True)
        y_fit, s_fit = np.asarray(y)[rows], np.asarray(s)[rows]
        for constraint in CONSTRAINTS:
            for rule in rules:
                params = FairAutoML(
                    constraints=constraint, random_state=split_seed, decision_rule=rule
                ).get_params()
                ctx, domain = search_context(params, X_fit, y_fit, s_fit)
                prefit_group_classifier(ctx, domain)
                label = constraint if rule is None else f"{constraint} | {rule}"
                out[table, label] = (ctx, post_variants(domain.posts))
    return out


def run_pool(
    out: Path,
    configs: list[dict[str, Any]],
    split_seed: int,
    max_seconds: float,
    tables: tuple[str, ...] = TABLES,
    rules: tuple[str | None, ...] = (None,),
) -> None:
    """Train every configuration on every task not yet in the pool file (appended as it goes)."""
    path = out / POOL_FILE
    done, rates = set(), {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            done.add((r["id"], r["table"], r["constraint"]))
            if r["status"] != "skipped":
                rates[r["id"]] = max(rates.get(r["id"], 0.0), 1000 * r["seconds"] / r["rows"])
    contexts = task_contexts(split_seed, tables, rules)
    started = time.monotonic()
    with path.open("a") as fh:
        for config in configs:
            rate = rates.get(config["id"], 0.0)  # its slowest seconds per 1,000 rows so far
            for (table, constraint), (ctx, posts) in contexts.items():
                rows = rows_fitted(ctx)
                record = {**config, "table": table, "constraint": constraint, "rows": rows}
                if (config["id"], table, constraint) in done:
                    continue
                if rate * rows / 1000 > max_seconds:
                    record.update(status="skipped", seconds=math.nan, points=[])
                else:
                    candidate = Candidate(config["learner"], config["params"])
                    tick = time.monotonic()
                    evaluations = evaluate_with_posts(candidate, ctx, posts)
                    seconds = time.monotonic() - tick
                    rate = max(rate, 1000 * seconds / rows)
                    record.update(
                        status=evaluations[0].result.status,
                        seconds=seconds,
                        points=[point_record(e.result) for e in evaluations],
                    )
                fh.write(json.dumps(record, default=float) + "\n")
                fh.flush()
                print(
                    f"[{time.monotonic() - started:6.0f}s] {config['id']:3d} {config['learner']}"
                    f" {table} {constraint.split('_')[0]} {record['status']}"
                    f" {record['seconds']:.2f}s",
                    flush=True,
                )


def point_record(result: TrialResult) -> dict[str, Any]:
    """What the pick reads of one point."""
    return {
        "post": result.candidate.post,
        "post_params": result.candidate.post_params,
        "status": result.status,
        "metric": result.metric,
        "violation": result.violation,
        "robust_violation": result.robust_violation,
        "diagnostics": result.diagnostics,
        "assurance": result.assurance,
        "error": (result.error or "").splitlines()[0] if result.error else None,
    }


def as_result(point: dict[str, Any], learner: str) -> TrialResult:
    candidate = Candidate(learner, post=point["post"], post_params=point["post_params"])
    fields = ("status", "metric", "violation", "robust_violation", "diagnostics", "assurance")
    return TrialResult(candidate, **{k: _num(point[k]) for k in fields})


def _num(value: Any) -> Any:
    return math.nan if value is None else value


def value_matrix(
    records: list[dict[str, Any]],
) -> tuple[list[dict], list[tuple], np.ndarray, np.ndarray]:
    """Configurations, tasks and each configuration's value on each task as the sampler
    values a trained model (:func:`model_value`), under the pick policy of a default
    search raised by the pool's best feasible point on that task: the metric of its best
    point the pick could take (NaN: none), and its miss (0 with such a point; infinite
    when it failed or was not trained)."""
    configs = {r["id"]: {k: r[k] for k in ("id", "role", "learner", "params")} for r in records}
    tasks = sorted({(r["table"], r["constraint"]) for r in records})
    ids = sorted(configs)
    values = np.full((len(ids), len(tasks)), np.nan)
    misses = np.full((len(ids), len(tasks)), np.inf)
    base_policy = policy_for(get_task(TASK), FairAutoML().confidence)
    for j, task in enumerate(tasks):
        here = [r for r in records if (r["table"], r["constraint"]) == task]
        points = {r["id"]: [as_result(p, r["learner"]) for p in r["points"]] for r in here}
        policy = base_policy.raised(p for ps in points.values() for p in ps)
        for r in here:
            value = model_value(points[r["id"]], policy)
            if value is None:
                continue
            misses[ids.index(r["id"]), j] = value[1]
            if value[1] == 0:
                values[ids.index(r["id"]), j] = value[0]
    return [configs[i] for i in ids], tasks, values, misses


def seconds_per_1k_rows(records: list[dict[str, Any]], config_id: int) -> float:
    """A configuration's trial seconds per 1,000 rows fitted, pooled over the tables it
    was trained on (the large tables weigh most, as they do in a search's time left)."""
    mine = [r for r in records if r["id"] == config_id and r["status"] != "skipped"]
    rows = sum(r["rows"] for r in mine)
    return 1000 * sum(r["seconds"] for r in mine) / rows if rows else math.inf


def choose(out: Path, size: int, min_gain: float, command: str, key: str = TASK) -> dict[str, Any]:
    """Choose the portfolio from the pool file; write it under ``key`` of
    ``search_spaces/portfolio.yaml`` (the other keys kept) and ``choice.json`` (the greedy
    steps) under ``out``."""
    records = [json.loads(line) for line in (out / POOL_FILE).read_text().splitlines()]
    configs, tasks, values, misses = value_matrix(records)
    scores = normalized_values(values, misses)
    cheap = [i for i, c in enumerate(configs) if c["role"] == "cheap_start"]
    pool = [i for i, c in enumerate(configs) if c["role"] != "cheap_start"]
    baseline = scores[cheap].max(axis=0) if cheap else np.zeros(len(tasks))
    cost = [seconds_per_1k_rows(records, configs[i]["id"]) for i in pool]
    order = [pool[k] for k in greedy_portfolio(scores[pool], size, baseline, cost, min_gain)]
    steps, before = [], portfolio_score(scores, [], baseline)
    for k, i in enumerate(order):
        after = portfolio_score(scores, order[: k + 1], baseline)
        steps.append({**configs[i], "gain": after - before, "score": after})
        before = after
    entries = [
        {
            "learner": configs[i]["learner"],
            "params": {k: _plain(v) for k, v in configs[i]["params"].items()},
            "seconds_per_1k_rows": float(f"{seconds_per_1k_rows(records, configs[i]['id']):.3g}"),
        }
        for i in order
    ]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    write_portfolio(spaces_dir() / "portfolio.yaml", key, entries, command, commit, out)
    summary = {
        "tasks": [list(t) for t in tasks],
        "baseline_score": float(baseline.mean()),
        "steps": steps,
        "best_in_pool_per_task": {
            f"{t[0]} | {t[1]}": configs[int(np.argmax(scores[:, j]))]["id"]
            for j, t in enumerate(tasks)
        },
        "pickable_in_pool_per_task": {
            f"{t[0]} | {t[1]}": int(np.isfinite(values[:, j]).sum()) for j, t in enumerate(tasks)
        },
        "values": {
            str(c["id"]): [None if math.isnan(v) else v for v in row]
            for c, row in zip(configs, values, strict=True)
        },
        "misses": {
            str(c["id"]): [None if math.isinf(v) else v for v in row]
            for c, row in zip(configs, misses, strict=True)
        },
        "configs": configs,
    }
    (out / "choice.json").write_text(json.dumps(summary, indent=1, default=_plain) + "\n")
    return summary


def write_portfolio(
    path: Path, key: str, entries: list[dict], command: str, commit: str, out: Path
) -> None:
    """Write ``entries`` under ``key`` of the portfolio file, keeping its other keys and
    the header line that says how each was learned."""
    data, made_by = {}, {}
    if path.exists():
        text = path.read_text()
        data = yaml.safe_load(text) or {}
        for line in text.splitlines():
            if line.startswith(MADE_BY):
                name, _, how = line[len(MADE_BY) :].partition(": ")
                made_by[name] = how
    data[key] = entries
    made_by[key] = f"{command} (at {commit or 'unknown'}; pool and choice: {out}/)"
    header = (
        "# The search's portfolio (fairautoml.search.portfolio): configurations tried in this\n"
        "# order after the cheap starts, by task. Learned, not written by hand, each key by:\n"
        + "".join(f"{MADE_BY}{name}: {made_by[name]}\n" for name in data if name in made_by)
    )
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, width=100))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/portfolio", help="pool file and summary")
    parser.add_argument("--per-learner", type=int, default=6, help="sampled configurations")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled configurations")
    parser.add_argument("--split-seed", type=int, default=1000, help="the tables' split seed")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="longest trial trained")
    parser.add_argument("--size", type=int, default=16, help="most configurations kept")
    parser.add_argument(
        "--min-gain",
        type=float,
        default=0.002,
        help="smallest gain of the mean normalized value that adds a configuration",
    )
    parser.add_argument("--choose-only", action="store_true", help="choose from the pool file")
    parser.add_argument(
        "--big-tables",
        action="store_true",
        help="learn the big tables' portfolio: BIG_TABLES and BIG_TABLE_LEARNERS",
    )
    parser.add_argument(
        "--tables", nargs="+", help="train the pool on these tables only (to split the work)"
    )
    parser.add_argument(
        "--ids",
        type=int,
        nargs="+",
        help="train these configurations of the pool only (to split the work, or to widen "
        "a pool already trained: a larger --per-learner keeps the earlier ids)",
    )
    args = parser.parse_args()
    tables, learners, key, rules = TABLES, None, TASK, (None,)
    if args.big_tables:
        tables, learners, key = BIG_TABLES, list(BIG_TABLE_LEARNERS), big_table_key(TASK)
        rules = BIG_TABLE_RULES
    tables = tuple(args.tables or tables)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not args.choose_only:
        configs = pool_configs(args.per_learner, args.seed, learners)
        if args.ids:
            wanted = set(args.ids)
            configs = [c for c in configs if c["id"] in wanted]
        run_pool(out, configs, args.split_seed, args.max_seconds, tables, rules)
        if args.ids or args.tables:  # a part of the pool: a choice from it would overwrite
            print(  # the portfolio in use with one learned on that part alone
                f"trained a part of the pool into {out / POOL_FILE}; once every part is in "
                "one pool file, choose with --choose-only"
            )
            return
    command = (
        f"python -m benchmarks.scripts.learn_portfolio --out {args.out} --per-learner "
        f"{args.per_learner} --seed {args.seed} --split-seed {args.split_seed} "
        f"--max-seconds {args.max_seconds:g} --size {args.size} --min-gain {args.min_gain:g}"
        + (" --big-tables" if args.big_tables else "")
    )
    summary = choose(out, args.size, args.min_gain, command, key)
    for step in summary["steps"]:
        print(
            f"{step['id']:3d} {step['learner']:24s} {step['role']:9s}"
            f" gain {step['gain']:.4f} -> {step['score']:.4f}"
        )


if __name__ == "__main__":
    main()
