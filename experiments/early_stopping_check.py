"""Does early stopping make the gradient-boosting learners cheaper without making them worse?

    python experiments/early_stopping_check.py            # the committed run (~5 min)
    python experiments/early_stopping_check.py --quick    # a smoke run (~1 min)

For the lightgbm and xgboost learners: the space's defaults plus random configurations of
its space (Optuna's RandomSampler, the same configurations on every dataset), each fitted
twice on the same rows, one thread, ``random_state=0``: as the space ships it (early
stopping on its held-back 10%) and with ``early_stopping_rounds: 0`` (every round on every
row). Data: Adult (prepared as the search prepares it: float64 numerics, pandas category
columns) and a synthetic 100,000-row table (``fairautoml.bench.rows.make_synthetic``, 30
features), each split 80/20 stratified on the target; scores are on the 20%.

Fit time is process CPU seconds (single-threaded fits, so robust to other jobs on a shared
machine); ratios are early-stopping / plain within this one run. Then, on Adult, the
configurations whose early-stopped fit used >= 90% of its ceiling are fitted again with the
ceiling raised 4x: is the ceiling what holds them back? Last, small tables (German,
COMPAS, Adult at 1,600 and 6,400 fit rows; 3 splits each) with the floor of held-back rows
per class lowered to 20 so that early stopping runs on all of them: below how many
held-back rows does it cost accuracy? Writes ``results/early_stopping.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import subprocess
import time
from pathlib import Path
from typing import Any
from unittest import mock

import lightgbm
import numpy as np
import optuna
import xgboost
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

import fairautoml
from fairautoml.bench.rows import make_synthetic
from fairautoml.data import prepare_fit_data
from fairautoml.learners import Learner, early_stopping, get_learner

OUT = Path(__file__).resolve().parent.parent / "results" / "early_stopping.md"
LEARNERS = ("lightgbm", "xgboost")
CEILING = 1024  # the upper end of n_estimators in both spaces


def load(name: str) -> tuple[Any, ...]:
    if name == "adult":
        X, y, s = fairautoml.datasets.load("adult")
    else:
        X, y, s = make_synthetic(100_000, n_features=30, seed=0)
    d = prepare_fit_data(X, y, s)
    train, test = train_test_split(np.arange(len(d.y)), test_size=0.2, random_state=0, stratify=d.y)
    return d.X.iloc[train], d.y[train], d.X.iloc[test], d.y[test]


def configs(learner: Learner, n: int) -> list[dict[str, Any]]:
    """The space's defaults, then ``n - 1`` random draws from it."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    draws = [learner.space.defaults()]
    for _ in range(n - 1):
        draws.append(learner.space.suggest(study.ask()))
    return draws


def without_early_stopping(learner: Learner) -> Learner:
    fixed = {**learner.space.fixed, "early_stopping_rounds": 0}
    return dataclasses.replace(learner, space=dataclasses.replace(learner.space, fixed=fixed))


def fit_score(learner: Learner, params: dict[str, Any], data: tuple[Any, ...]) -> dict[str, Any]:
    X, y, X_test, y_test = data
    model = learner.make(params, random_state=0, n_jobs=1)
    cpu, wall = time.process_time(), time.perf_counter()
    model.fit(X, y)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    proba = model.predict_proba(X_test)[:, 1]
    return {
        "cpu": cpu,
        "wall": wall,
        "log_loss": log_loss(y_test, proba, labels=[0, 1]),
        "accuracy": accuracy_score(y_test, (proba >= 0.5).astype(int)),
        "used": model.n_estimators_used_,
    }


# small tables: name -> (bundled dataset, fit rows; None: a stratified 70% of it)
SMALL = {
    "german": ("german", None),
    "adult, 1,600 rows": ("adult", 1600),
    "adult, 6,400 rows": ("adult", 6400),
    "compas": ("compas", None),
}


def small_data(dataset: str, n_fit: int | None, seed: int) -> tuple[Any, ...]:
    d = prepare_fit_data(*fairautoml.datasets.load(dataset))
    rows = np.arange(len(d.y))
    if n_fit is None:
        fit, test = train_test_split(rows, test_size=0.3, random_state=seed, stratify=d.y)
    else:
        rest, test = train_test_split(rows, test_size=10_000, random_state=seed, stratify=d.y)
        fit = np.random.default_rng(seed).choice(rest, n_fit, replace=False)
    return d.X.iloc[fit], d.y[fit], d.X.iloc[test], d.y[test]


def small_tables(n_configs: int, seeds: range) -> list[str]:
    """Early stopping on against off on small tables, with the per-class floor at 20 held-
    back rows, so that it is on everywhere: where does holding rows back cost accuracy?"""
    lines = []
    for label, (dataset, n_fit) in SMALL.items():
        for name in LEARNERS:
            learner = get_learner(name)
            plain = without_early_stopping(learner)
            held, mean_acc, best_acc, best_loss = [], [], [], []
            for seed in seeds:
                data = small_data(dataset, n_fit, seed)
                held.append(int(np.bincount(data[1]).min() * 0.1))
                with mock.patch.object(early_stopping, "MIN_VALIDATION_ROWS", 20):
                    fits = [
                        (fit_score(plain, p, data), fit_score(learner, p, data))
                        for p in configs(learner, n_configs)
                    ]
                mean_acc.append(np.mean([on["accuracy"] - off["accuracy"] for off, on in fits]))
                best_acc.append(
                    max(on["accuracy"] for _, on in fits) - max(off["accuracy"] for off, _ in fits)
                )
                best_loss.append(
                    min(on["log_loss"] for _, on in fits) - min(off["log_loss"] for off, _ in fits)
                )
            on = "yes" if np.mean(held) >= early_stopping.MIN_VALIDATION_ROWS else "no"
            lines.append(
                f"| {label} | {name} | {len(data[1]):,} | {np.mean(held):.0f} "
                f"| {np.mean(mean_acc):+.4f} | {np.mean(best_acc):+.4f} "
                f"| {np.mean(best_loss):+.4f} | {on} |"
            )
            print(lines[-1], flush=True)
    return lines


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summary_row(dataset: str, name: str, rows: list[dict[str, Any]]) -> str:
    ratios = [r["on"]["cpu"] / r["off"]["cpu"] for r in rows]
    dloss = [r["on"]["log_loss"] - r["off"]["log_loss"] for r in rows]
    dacc = [r["on"]["accuracy"] - r["off"]["accuracy"] for r in rows]
    used = [r["on"]["used"] / r["params"]["n_estimators"] for r in rows]
    total = sum(r["on"]["cpu"] for r in rows) / sum(r["off"]["cpu"] for r in rows)
    better = sum(d < 0 for d in dloss)
    best_loss = min(r["on"]["log_loss"] for r in rows) - min(r["off"]["log_loss"] for r in rows)
    best_acc = max(r["on"]["accuracy"] for r in rows) - max(r["off"]["accuracy"] for r in rows)
    return (
        f"| {dataset} | {name} | {len(rows)} | {total:.2f} | {geomean(ratios):.2f} "
        f"| {np.median(ratios):.2f} | {min(ratios):.2f}–{max(ratios):.2f} "
        f"| {np.median(used):.2f} | {np.median(dloss):+.4f} | {np.mean(dloss):+.4f} "
        f"| {max(dloss):+.4f} | {np.mean(dacc):+.4f} | {better}/{len(rows)} "
        f"| {best_loss:+.4f} | {best_acc:+.4f} |"
    )


def detail_row(dataset: str, name: str, i: int, r: dict[str, Any]) -> str:
    p, on, off = r["params"], r["on"], r["off"]
    rate = p["learning_rate"]
    size = f"leaves {p['num_leaves']}" if "num_leaves" in p else f"depth {p['max_depth']}"
    return (
        f"| {dataset} | {name} | {i} | {p['n_estimators']} | {rate:.3f} | {size} "
        f"| {on['used']} | {off['cpu']:.2f} | {on['cpu']:.2f} | {on['cpu'] / off['cpu']:.2f} "
        f"| {off['log_loss']:.4f} | {on['log_loss']:.4f} | {off['accuracy']:.4f} "
        f"| {on['accuracy']:.4f} |"
    )


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_configs = {"adult": 4, "synthetic100k": 2} if args.quick else {
        "adult": 14, "synthetic100k": 6}  # fmt: skip
    n_ceiling = 1 if args.quick else 3
    n_small, small_seeds = (2, range(1)) if args.quick else (8, range(3))
    started = time.perf_counter()
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    data_cache = {}
    sizes: dict[str, tuple[int, int]] = {}
    for dataset, n in n_configs.items():
        data_cache[dataset] = data = load(dataset)
        sizes[dataset] = (len(data[1]), len(data[3]))
        for name in LEARNERS:
            learner = get_learner(name)
            plain = without_early_stopping(learner)
            rows = results[dataset, name] = []
            for i, params in enumerate(configs(learner, n)):
                row = {"params": params, "off": fit_score(plain, params, data)}
                row["on"] = fit_score(learner, params, data)
                rows.append(row)
                print(detail_row(dataset, name, i, row), flush=True)

    ceiling_rows = []
    for name in LEARNERS:
        learner = get_learner(name)
        slowest = sorted(results["adult", name], key=lambda r: r["params"]["learning_rate"])
        for r in slowest[:n_ceiling]:
            top = fit_score(learner, {**r["params"], "n_estimators": CEILING}, data_cache["adult"])
            raised = None
            if top["used"] >= 0.9 * CEILING:
                params = {**r["params"], "n_estimators": 4 * CEILING}
                raised = fit_score(learner, params, data_cache["adult"])
            ceiling_rows.append((name, r, top, raised))
            print(name, "ceiling:", top, "x4:", raised, flush=True)
    small = small_tables(n_small, small_seeds)
    elapsed = time.perf_counter() - started
    write(results, ceiling_rows, small, n_configs, sizes, elapsed)


def write(results, ceiling_rows, small, n_configs, sizes, elapsed) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    lines = [
        "# Early stopping of the gradient-boosting learners",
        "",
        f"Generated by `experiments/early_stopping_check.py` at commit {commit} "
        f"(lightgbm {lightgbm.__version__}, xgboost {xgboost.__version__}) in "
        f"{elapsed / 60:.1f} min wall, on a 2-core machine shared with another job.",
        "",
        "Each configuration is fitted twice on the same rows with one thread: *on* is the "
        "learner as its space ships (`early_stopping_rounds: 20`, `validation_fraction: "
        "0.1`: 10% of the fit rows held back, best round kept, nothing refitted), *off* "
        "fits every one of `n_estimators` rounds on every row. Configurations: the space's "
        "defaults, then random draws (Optuna RandomSampler, seed 0; the same ones on both "
        f"datasets: {n_configs['adult']} on Adult, the first {n_configs['synthetic100k']} of "
        f"them on the synthetic table). Fit / test rows: Adult {sizes['adult'][0]:,} / "
        f"{sizes['adult'][1]:,}; synthetic (`make_synthetic(100_000, 30)`) "
        f"{sizes['synthetic100k'][0]:,} / {sizes['synthetic100k'][1]:,}. "
        "Time is process CPU seconds; "
        "`cpu on/off` ratios are within this run. Δ = on − off on the test rows "
        "(log-loss: negative is better); *best*: the best configuration on against the best "
        "one off (on the test rows, for both), what a search would keep.",
        "",
        "| dataset | learner | configs | total cpu on/off | geo-mean cpu on/off "
        "| median cpu on/off | range | median rounds used / ceiling | median Δ log-loss "
        "| mean Δ log-loss | worst Δ log-loss | mean Δ accuracy | on better (log-loss) "
        "| Δ best log-loss | Δ best accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, name), rows in results.items():
        lines.append(summary_row(dataset, name, rows))
    lines += ["", "## Reading", ""]
    lines += reading(results, ceiling_rows)
    lines += [
        "",
        "## The ceiling (Adult)",
        "",
        f"The Adult configurations with the smallest learning rates (where more rounds pay) "
        f"fitted with early stopping and `n_estimators` at the space's upper end, {CEILING}; "
        f"when that fit used >= 90% of it, again with {4 * CEILING}.",
        "",
        "| learner | learning_rate | size | n_estimators drawn: used, cpu, log-loss "
        f"| {CEILING}: used | cpu | log-loss | {4 * CEILING}: used | cpu | log-loss |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r, top, raised in ceiling_rows:
        p, on = r["params"], r["on"]
        size = f"leaves {p['num_leaves']}" if "num_leaves" in p else f"depth {p['max_depth']}"
        more = "| – | – | – |"
        if raised is not None:
            more = f"| {raised['used']} | {raised['cpu']:.2f} | {raised['log_loss']:.4f} |"
        lines.append(
            f"| {name} | {p['learning_rate']:.3f} | {size} | {p['n_estimators']}: "
            f"{on['used']}, {on['cpu']:.2f} s, {on['log_loss']:.4f} | {top['used']} "
            f"| {top['cpu']:.2f} | {top['log_loss']:.4f} {more}"
        )
    lines += [
        "",
        "## Small tables",
        "",
        "Early stopping on against off with the floor of held-back rows per class lowered "
        f"from {early_stopping.MIN_VALIDATION_ROWS} to 20, so that it runs everywhere: the "
        "first configurations of the main table on each split, averaged over the splits. "
        "*best*: the best configuration on against the best one off (on the test rows, "
        "for both), what a search would keep. Fit rows: German and COMPAS a stratified "
        "70%, the rest test; Adult a random sample, 10,000 other rows test.",
        "",
        "| table | learner | fit rows | held-back rows of the smaller class | mean Δ accuracy "
        "| Δ best accuracy | Δ best log-loss | on with the shipped floor |",
        "|---|---|---|---|---|---|---|---|",
        *small,
    ]
    lines += [
        "",
        "## Every configuration",
        "",
        "| dataset | learner | # | n_estimators | learning_rate | size | rounds used (on) "
        "| cpu off | cpu on | on/off | log-loss off | log-loss on | accuracy off "
        "| accuracy on |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, name), rows in results.items():
        lines += [detail_row(dataset, name, i, r) for i, r in enumerate(rows)]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


def reading(results, ceiling_rows) -> list[str]:
    """Plain statements computed from the numbers (so a rerun cannot contradict them)."""
    every = [r for rows in results.values() for r in rows]
    total = sum(r["on"]["cpu"] for r in every) / sum(r["off"]["cpu"] for r in every)
    saved = sum(max(r["off"]["cpu"] - r["on"]["cpu"], 0) for r in every)
    slower = [r for r in every if r["on"]["cpu"] > r["off"]["cpu"]]
    extra = [r["on"]["cpu"] - r["off"]["cpu"] for r in slower]
    full = sum(r["on"]["used"] >= 0.9 * r["params"]["n_estimators"] for r in slower)
    out = [
        f"- Over all {len(every)} configurations early stopping took {total:.2f}× the CPU "
        f"time of the plain fits, saving {saved:.1f} s where it was faster. {len(slower)} "
        f"were slower with it ({full} of them kept >= 90% of their rounds, so nothing was "
        f"cut), by {sum(extra):.1f} s in all and at most {max(extra, default=0):.2f} s.",
    ]
    dloss = np.array([r["on"]["log_loss"] - r["off"]["log_loss"] for r in every])
    worse, better = int((dloss > 0.005).sum()), int((dloss < -0.005).sum())
    out.append(
        f"- Test log-loss: better by more than 0.005 in {better} configurations, worse by "
        f"more than 0.005 in {worse}, within 0.005 in {len(every) - better - worse}; "
        f"median change {np.median(dloss):+.4f}, worst {dloss.max():+.4f}."
    )
    for name in LEARNERS:
        raised = [(r, top, up) for n, r, top, up in ceiling_rows if n == name and up]
        if not raised:
            continue
        best = min(results["adult", name], key=lambda r: r["on"]["log_loss"])
        gain = max(top["log_loss"] - up["log_loss"] for _, top, up in raised)
        cost = max(up["cpu"] / top["cpu"] for _, top, up in raised)
        beaten = sum(up["log_loss"] < best["on"]["log_loss"] for _, _, up in raised)
        out.append(
            f"- {name} on Adult: {len(raised)} of the slowest-learning configurations used "
            f">= 90% of a ceiling of {CEILING}; {4 * CEILING} lowered their log-loss by up to "
            f"{gain:.4f} at up to {cost:.1f}× the CPU time, and {beaten} of them beat the "
            f"best early-stopped draw of the main table ({best['on']['log_loss']:.4f}, "
            f"learning rate {best['params']['learning_rate']:.3f}, "
            f"{best['on']['used']} rounds)."
        )
    return out


if __name__ == "__main__":
    main()
