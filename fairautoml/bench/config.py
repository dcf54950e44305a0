"""The sweep file: ``experiments/NAME.yaml`` read into a validated :class:`SweepConfig`.

A sweep is datasets x constraint sets x budgets x seeds x methods; each combination is
one *cell*. Errors name the file, the entry and the fix. Example::

    name: smoke
    datasets:
      - german                                  # bundled (its default sensitive attribute)
      - {name: german_age, bundled: german, sensitive: age}
      - {name: adult_noproxy, bundled: adult, drop: [relationship, marital-status]}
      - {name: loans, csv: data/loans.csv, target: default, sensitive: [sex]}
      - {name: synth10k, synthetic: {n_rows: 10000, n_features: 30, bias: 1.0}}
    constraints:
      - demographic_parity_difference <= 0.05
      - [equalized_odds_difference <= 0.05, demographic_parity_difference <= 0.1]  # both
    budgets: [10]          # wall-clock seconds each method gets, per cell
    seeds: [0]
    methods:
      - fairautoml                              # the default controller
      - fairautoml:optuna
      - {method: fairautoml:optuna, label: fa_point, options: {confidence: null}}
      - {method: fairautoml, label: fa_200k, options: {max_fit_rows: 200000}}  # any method
      - unconstrained
    n_jobs: 1              # cells run in parallel
    threads: 1             # threads each method may use
    front_points: 12       # Pareto-front models scored on test per cell (0: none)

A sweep that is not one product lists ``blocks``, each its own product of datasets x
constraints x budgets x seeds run with every method (or with the ``methods`` it names, by
label, among the top-level ones); a block may leave out any of the four keys, which then
come from the top level (top-level ``datasets`` etc. are only such defaults when
``blocks`` is given). A cell in two blocks runs once. Example::

    budgets: [30]
    methods: [fairautoml, error_parity]
    blocks:
      - datasets: [adult, german]
        constraints: [demographic_parity_difference <= 0.05]
        seeds: [1, 2, 3, 4]
      - datasets: [adult]
        constraints: [demographic_parity_difference <= 0.02]
        seeds: [1, 2, 3, 4, 5, 6, 7, 8]
        methods: [fairautoml]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fairautoml.bench.plugins import METHODS
from fairautoml.bench.specs import (
    BENCH_OPTIONS,
    BLIND,
    MAX_FIT_ROWS,
    METHOD_FAMILIES,
    Block,
    DatasetSpec,
    MethodSpec,
    SweepConfig,
)
from fairautoml.datasets import DATASETS
from fairautoml.exceptions import ConfigurationError, FairAutoMLError
from fairautoml.measures.constraints import Constraint, parse_constraints

_TOP_KEYS = {
    "name",
    "datasets",
    "constraints",
    "budgets",
    "seeds",
    "methods",
    "n_jobs",
    "threads",
    "front_points",
    "blocks",
}
_BLOCK_KEYS = {"datasets", "constraints", "budgets", "seeds", "methods"}
_DATASET_KEYS = {
    "name", "bundled", "csv", "target", "sensitive", "synthetic", "max_rows", "drop",
    "hide_groups",
}  # fmt: skip
_HIDE_KEYS = {"share", "more_in", "factor"}
_SYNTHETIC_KEYS = {"n_rows", "n_features", "bias", "seed", "interactions", "signal"}
_METHOD_KEYS = {"method", "label", "options"}


def _fail(source: str, where: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{source}: {where}: {message}")


def _unknown_keys(given: dict, allowed: set[str], source: str, where: str) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise _fail(
            source, where, f"unknown key(s) {extra}. Allowed keys: {', '.join(sorted(allowed))}."
        )


def _as_list(value: Any, source: str, where: str) -> list[Any]:
    if value is None:
        raise _fail(source, where, "is missing; it must be a non-empty list.")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _fail(source, where, "is empty; give at least one entry.")
    return items


def _dataset(item: Any, i: int, source: str, base: Path, prefix: str = "") -> DatasetSpec:
    where = f"{prefix}datasets[{i}]"
    if isinstance(item, str):
        item = {"bundled": item}
    if not isinstance(item, dict):
        raise _fail(source, where, f"must be a bundled name or a mapping; got {item!r}.")
    _unknown_keys(item, _DATASET_KEYS, source, where)
    kinds = [k for k in ("bundled", "csv", "synthetic") if k in item]
    if len(kinds) != 1:
        raise _fail(
            source,
            where,
            "give exactly one of 'bundled' (one of "
            f"{', '.join(DATASETS)}), 'csv' (a path) or 'synthetic' (generator options); "
            f"got {kinds or 'none'}.",
        )
    sensitive = item.get("sensitive", [])
    sensitive = tuple([sensitive] if isinstance(sensitive, str) else sensitive)
    max_rows = item.get("max_rows")
    if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 100):
        raise _fail(source, where, f"max_rows must be an integer >= 100; got {max_rows!r}.")
    drop = item.get("drop", [])
    drop = [drop] if isinstance(drop, str) else drop
    if not isinstance(drop, list) or not all(isinstance(c, str) for c in drop):
        raise _fail(source, where, f"drop must be a column name or a list of them; got {drop!r}.")
    kind = kinds[0]
    if drop and kind == "synthetic":
        raise _fail(source, where, "drop applies to bundled and CSV datasets only.")
    hide = _hide_groups(item.get("hide_groups"), source, where)
    if kind == "bundled":
        bundled = item["bundled"]
        if bundled not in DATASETS:
            raise _fail(
                source,
                where,
                f"unknown bundled dataset {bundled!r}. Available: "
                f"{', '.join(DATASETS)}; or use 'csv: path' with 'target' and 'sensitive'.",
            )
        allowed = DATASETS[bundled].sensitive
        if len(sensitive) > 1 or (sensitive and sensitive[0] not in allowed):
            raise _fail(
                source,
                where,
                f"sensitive for {bundled} must be one of {', '.join(allowed)}; "
                f"got {list(sensitive)}.",
            )
        name = item.get("name", bundled if not sensitive else f"{bundled}_{sensitive[0]}")
        return DatasetSpec(
            name, bundled=bundled, sensitive=sensitive, max_rows=max_rows, drop=tuple(drop),
            hide_groups=hide,
        )  # fmt: skip
    if kind == "csv":
        if not item.get("target") or not sensitive:
            raise _fail(
                source,
                where,
                "a CSV dataset needs 'target' (the label column) and "
                "'sensitive' (a column name or a list of them).",
            )
        path = Path(item["csv"])
        if not path.is_absolute() and (base / path).exists():
            path = base / path  # relative to the sweep file, else to the working directory
        if not path.exists():
            raise _fail(source, where, f"CSV file {str(path)!r} does not exist.")
        name = item.get("name", path.name.split(".")[0])
        return DatasetSpec(
            name,
            csv=str(path),
            target=str(item["target"]),
            sensitive=sensitive,
            max_rows=max_rows,
            drop=tuple(drop),
            hide_groups=hide,
        )
    options = item["synthetic"] or {}
    if not isinstance(options, dict):
        raise _fail(source, where, f"synthetic must be a mapping; got {options!r}.")
    _unknown_keys(options, _SYNTHETIC_KEYS, source, f"{where}.synthetic")
    n_rows = options.get("n_rows")
    if not isinstance(n_rows, int) or n_rows < 200:
        raise _fail(source, where, f"synthetic.n_rows must be an integer >= 200; got {n_rows!r}.")
    name = item.get("name", f"synthetic{n_rows}")
    return DatasetSpec(
        name, synthetic=tuple(sorted(options.items())), max_rows=max_rows, hide_groups=hide
    )


def _hide_groups(value: Any, source: str, where: str) -> tuple[tuple[str, Any], ...] | None:
    """``hide_groups: {share: 0.3, more_in: Black, factor: 3}``: the share of training and
    validation rows whose group is hidden, optionally ``factor`` times as often in one group."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(source, where, f"hide_groups must be a mapping; got {value!r}.")
    _unknown_keys(value, _HIDE_KEYS, source, f"{where}.hide_groups")
    share, factor = value.get("share"), value.get("factor", 1.0)
    if not isinstance(share, (int, float)) or not 0 < share < 1:
        raise _fail(source, where, f"hide_groups.share must be in (0, 1); got {share!r}.")
    if not isinstance(factor, (int, float)) or factor < 1:
        raise _fail(source, where, f"hide_groups.factor must be >= 1; got {factor!r}.")
    more_in = value.get("more_in")
    if isinstance(more_in, bool):
        raise _fail(
            source, where,
            f"hide_groups.more_in is {more_in!r}: YAML reads an unquoted yes/no/true/false "
            f"as a boolean; quote the group's name (more_in: \"{'yes' if more_in else 'no'}\").",
        )  # fmt: skip
    if (more_in is None) != (factor == 1.0):
        raise _fail(source, where, "hide_groups: give more_in (a group) and a factor > 1 together.")
    hide = {"share": float(share), "more_in": more_in, "factor": float(factor)}
    return tuple(sorted(hide.items()))


def _constraint_set(item: Any, i: int, source: str, prefix: str = "") -> tuple[Constraint, ...]:
    where = f"{prefix}constraints[{i}]"
    try:
        constraints = parse_constraints(item)
    except FairAutoMLError as exc:
        raise _fail(source, where, str(exc)) from None
    if not constraints:
        raise _fail(source, where, "is empty; give 'metric <= bound'.")
    return tuple(constraints)


def _method(item: Any, i: int, source: str) -> MethodSpec:
    where = f"methods[{i}]"
    if isinstance(item, str):
        item = {"method": item}
    if not isinstance(item, dict) or "method" not in item:
        raise _fail(
            source, where, f"must be a method name or a mapping with 'method'; got {item!r}."
        )
    _unknown_keys(item, _METHOD_KEYS, source, where)
    text = str(item["method"])
    family, _, controller = text.partition(":")
    known_families = (*METHOD_FAMILIES, *METHODS)
    if family not in known_families:
        raise _fail(
            source,
            where,
            f"unknown method {text!r}. Available: {', '.join(known_families)} "
            "(and fairautoml:<controller>; the repository's pinned-environment anchors, "
            "error_parity and fairgbm, run with `python -m benchmarks` from a checkout).",
        )
    if controller and family != "fairautoml":
        raise _fail(source, where, f"only fairautoml takes a ':<controller>'; got {text!r}.")
    options = item.get("options") or {}
    if not isinstance(options, dict):
        raise _fail(source, where, f"options must be a mapping; got {options!r}.")
    rows = options.get(MAX_FIT_ROWS)
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 100):
        raise _fail(source, where, f"options.max_fit_rows must be an integer >= 100; got {rows!r}.")
    blind = options.get(BLIND, False)
    if not isinstance(blind, bool):
        raise _fail(source, where, f"options.blind must be true or false; got {blind!r}.")
    if family == "fairautoml":
        reserved = {
            "constraints", "time_budget", "random_state", "n_jobs", "sensitive_at_predict"
        } & set(options)  # fmt: skip
        if reserved:
            raise _fail(
                source,
                where,
                f"options {sorted(reserved)} are set by the sweep (constraints, "
                "budgets, seeds, threads, blind); remove them.",
            )
        from fairautoml.estimators.automl import FairAutoML

        known = set(FairAutoML._get_param_names()) | set(BENCH_OPTIONS)
        unknown = sorted(set(options) - known)
        if unknown:
            raise _fail(
                source,
                where,
                f"FairAutoML has no setting {', '.join(map(repr, unknown))}. "
                f"Options: {', '.join(sorted(known))}.",
            )
        if "controller" in options:
            controller = controller or str(options.pop("controller"))
    return MethodSpec(str(item.get("label", text)), family, controller or None, options)


def _positive_int(value: Any, source: str, key: str, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _fail(source, key, f"must be an integer >= {minimum}; got {value!r}.")
    return value


def _budgets(value: Any, source: str, where: str) -> list[float]:
    budgets = _as_list(value, source, where)
    for b in budgets:
        if not isinstance(b, (int, float)) or isinstance(b, bool) or b <= 0:
            raise _fail(source, where, f"each budget must be a number of seconds > 0; got {b!r}.")
    return [float(b) for b in budgets]


def _seeds(value: Any, source: str, where: str) -> list[int]:
    seeds = _as_list(value, source, where)
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool):
            raise _fail(source, where, f"each seed must be an integer; got {s!r}.")
    return [int(s) for s in seeds]


def _no_duplicates(names: list[str], kind: str, source: str, where: str) -> None:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise _fail(source, where, f"duplicate {kind}(s) {dup}; give each a unique name.")


def _product(
    raw: dict, top: dict, source: str, base: Path, prefix: str
) -> tuple[list[DatasetSpec], Block]:
    """One product: each key from ``raw`` (``prefix + key`` in errors), else from ``top``."""

    def pick(key: str, default: Any = None) -> tuple[Any, str]:
        if key in raw:
            return raw[key], prefix
        if key in top or default is not None or not prefix:
            return top.get(key, default), ""
        raise _fail(source, prefix + key, "is missing, and there is no top-level one.")

    value, at = pick("datasets")
    datasets = [
        _dataset(d, i, source, base, at)
        for i, d in enumerate(_as_list(value, source, at + "datasets"))
    ]
    _no_duplicates([d.name for d in datasets], "dataset", source, at + "datasets")
    value, at = pick("constraints")
    sets = [
        _constraint_set(c, i, source, at)
        for i, c in enumerate(_as_list(value, source, at + "constraints"))
    ]
    (budgets, at_b), (seeds, at_s) = pick("budgets"), pick("seeds", [0])
    block = Block(
        tuple(d.name for d in datasets),
        tuple(sets),
        tuple(_budgets(budgets, source, at_b + "budgets")),
        tuple(_seeds(seeds, source, at_s + "seeds")),
        _block_methods(raw.get("methods"), source, prefix) if prefix else None,
    )
    return datasets, block


def _block_methods(value: Any, source: str, prefix: str) -> tuple[str, ...] | None:
    """A block's ``methods``: labels of top-level methods (checked by the caller)."""
    if value is None:
        return None
    labels = _as_list(value, source, prefix + "methods")
    if not labels or not all(isinstance(x, str) for x in labels):
        raise _fail(source, prefix + "methods", f"must be a list of method labels; got {value!r}.")
    return tuple(labels)


def _blocks(raw: dict, source: str, base: Path) -> tuple[list[DatasetSpec], list[Block]]:
    items = raw.get("blocks")
    if "blocks" not in raw:
        datasets, block = _product(raw, {}, source, base, "")
        return datasets, [block]
    if not isinstance(items, list) or not items:
        raise _fail(source, "blocks", f"must be a non-empty list of mappings; got {items!r}.")
    specs: dict[str, tuple[DatasetSpec, str]] = {}
    blocks = []
    for i, item in enumerate(items):
        where = f"blocks[{i}]"
        if not isinstance(item, dict):
            raise _fail(source, where, f"must be a mapping with {sorted(_BLOCK_KEYS)}.")
        _unknown_keys(item, _BLOCK_KEYS, source, where)
        datasets, block = _product(item, raw, source, base, where + ".")
        for d in datasets:
            known, first = specs.setdefault(d.name, (d, where))
            if known != d:
                raise _fail(
                    source,
                    where,
                    f"dataset {d.name!r} differs from the one of that name in {first}; "
                    "give one of them another name.",
                )
        blocks.append(block)
    return [spec for spec, _ in specs.values()], blocks


def _union(items: Any) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(x for group in items for x in group))


def parse_config(raw: Any, source: str = "<dict>", base: Path | None = None) -> SweepConfig:
    """Validate a parsed YAML mapping; relative CSV paths are resolved against ``base``."""
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{source}: the sweep file must be a YAML mapping.")
    _unknown_keys(raw, _TOP_KEYS, source, "top level")
    datasets, blocks = _blocks(raw, source, base or Path.cwd())
    methods = [
        _method(m, i, source) for i, m in enumerate(_as_list(raw.get("methods"), source, "methods"))
    ]
    labels = [m.label for m in methods]
    _no_duplicates(labels, "method label", source, "method labels")
    for i, block in enumerate(blocks):
        unknown = sorted(set(block.methods or ()) - set(labels))
        if unknown:
            raise _fail(
                source,
                f"blocks[{i}].methods",
                f"names {unknown}, not labels of the top-level methods ({', '.join(labels)}).",
            )
    return SweepConfig(
        name=str(raw.get("name", Path(source).stem)),
        datasets=tuple(datasets),
        constraint_sets=_union(b.constraint_sets for b in blocks),
        budgets=_union(b.budgets for b in blocks),
        seeds=_union(b.seeds for b in blocks),
        methods=tuple(methods),
        n_jobs=_positive_int(raw.get("n_jobs", 1), source, "n_jobs"),
        threads=_positive_int(raw.get("threads", 1), source, "threads"),
        front_points=_positive_int(raw.get("front_points", 12), source, "front_points", 0),
        source=source,
        blocks=tuple(blocks) if "blocks" in raw else (),
    )


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a sweep file."""
    path = Path(path)
    if not path.exists():
        raise ConfigurationError(f"Sweep file {str(path)!r} does not exist.")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(raw, str(path), path.parent)
