from __future__ import annotations

import pytest

from fairautoml.bench.config import load_config, parse_config
from fairautoml.bench.specs import ANCHORS
from fairautoml.exceptions import ConfigurationError

BASE = {
    "datasets": ["german"],
    "constraints": ["demographic_parity_difference <= 0.05"],
    "budgets": [10],
    "seeds": [0, 1],
    "methods": ["fairautoml", "fairautoml:optuna", *ANCHORS],
}


def config(**changes):
    return parse_config({**BASE, **changes}, "sweep.yaml")


def test_valid_config_expands_names_and_defaults():
    cfg = config(
        datasets=["german", {"name": "g_age", "bundled": "german", "sensitive": "age"}],
        constraints=[
            "demographic_parity_difference <= 0.05",
            ["equalized_odds_difference <= 0.1", "demographic_parity_ratio >= 0.8"],
        ],
        methods=[
            "fairautoml",
            {"method": "fairautoml:optuna", "label": "fa_point", "options": {"confidence": None}},
        ],
    )
    assert [d.name for d in cfg.datasets] == ["german", "g_age"]
    assert cfg.datasets[1].sensitive == ("age",)
    assert [len(s) for s in cfg.constraint_sets] == [1, 2]
    assert cfg.seeds == (0, 1) and cfg.budgets == (10.0,)
    assert cfg.methods[0].controller is None
    assert cfg.methods[1].label == "fa_point" and cfg.methods[1].controller == "optuna"
    assert cfg.methods[1].options == {"confidence": None}
    assert cfg.n_jobs == 1 and cfg.threads == 1 and cfg.front_points == 12


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"budget": [10]},
            r"top level: unknown key\(s\) \['budget'\]. Allowed keys: blocks, budgets",
        ),
        ({"methods": ["flaml"]}, r"methods\[0\]: unknown method 'flaml'. Available: fairautoml"),
        ({"methods": ["eg_lightgbm:admm"]}, r"only fairautoml takes a ':<controller>'"),
        ({"constraints": ["dp <= 0.05"]}, r"constraints\[0\]: Unknown fairness metric 'dp'"),
        ({"constraints": ["demographic_parity_difference < 0.05"]}, r"Operator '<'"),
        ({"datasets": ["mnist"]}, r"datasets\[0\]: unknown bundled dataset 'mnist'. Available"),
        ({"datasets": [{"csv": "x.csv"}]}, r"needs 'target'"),
        ({"datasets": [{"bundled": "german", "synthetic": {"n_rows": 500}}]}, "exactly one of"),
        ({"datasets": [{"synthetic": {"n_rows": 500, "rows": 2}}]}, r"unknown key\(s\) \['rows'\]"),
        ({"datasets": [{"bundled": "german", "sensitive": "race"}]}, "must be one of sex, age"),
        ({"budgets": [0]}, "number of seconds > 0"),
        ({"budgets": []}, "budgets: is empty"),
        ({"seeds": [1.5]}, "each seed must be an integer"),
        (
            {"methods": ["fairautoml", "fairautoml"]},
            r"duplicate method label\(s\) \['fairautoml'\]",
        ),
        (
            {"methods": [{"method": "fairautoml", "options": {"time_budget": 5}}]},
            r"options \['time_budget'\] are set by the sweep",
        ),
        (
            {"methods": [{"method": "oxonfair", "options": {"blind": "yes"}}]},
            r"methods\[0\]: options.blind must be true or false; got 'yes'",
        ),
        (
            {"methods": [{"method": "fairautoml", "options": {"sensitive_at_predict": False}}]},
            r"options \['sensitive_at_predict'\] are set by the sweep .*blind",
        ),
        (
            {"methods": [{"method": "fairautoml", "options": {"allocator": "never"}}]},
            r"methods\[0\]: FairAutoML has no setting 'allocator'. Options: .*confidence",
        ),
        ({"n_jobs": 0}, "n_jobs: must be an integer >= 1"),
        ({"front_points": -1}, "front_points: must be an integer >= 0"),
    ],
)
def test_invalid_configs_name_the_entry_and_the_fix(changes, message):
    with pytest.raises(ConfigurationError, match=message) as info:
        config(**changes)
    assert str(info.value).startswith("sweep.yaml: ")


def test_missing_section_and_file_errors(tmp_path):
    with pytest.raises(ConfigurationError, match="methods: is missing"):
        parse_config({k: v for k, v in BASE.items() if k != "methods"}, "s.yaml")
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets: [german\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_config(bad)


def test_csv_path_is_resolved_next_to_the_sweep_file(tmp_path):
    (tmp_path / "d.csv").write_text("a,y,g\n1,0,x\n")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        "datasets: [{csv: d.csv, target: y, sensitive: g}]\n"
        "constraints: ['demographic_parity_difference <= 0.1']\nbudgets: [1]\n"
        "methods: [optuna_hpo]\n"
    )
    cfg = load_config(sweep)
    assert cfg.datasets[0].csv == str(tmp_path / "d.csv")
    assert cfg.datasets[0].name == "d" and cfg.name == "s"


def test_a_repository_anchor_without_its_plugin_names_the_fix():
    """The installed bench does not know the pinned-environment anchors: the error says
    where they run."""
    raw = {"name": "s", "datasets": ["german"], "budgets": [1], "seeds": [0],
           "constraints": ["equalized_odds_difference <= 0.05"],
           "methods": ["fairgbm"]}  # fmt: skip
    with pytest.raises(ConfigurationError, match=r"'fairgbm'.*python -m benchmarks"):
        parse_config(raw, "s.yaml")


BLOCKS = {
    "budgets": [30],
    "methods": ["fairautoml", "eg_lightgbm"],
    "blocks": [
        {
            "datasets": ["german", "compas"],
            "constraints": ["demographic_parity_difference <= 0.05"],
            "seeds": [1, 2],
        },
        {
            "datasets": ["german"],
            "constraints": [
                "demographic_parity_difference <= 0.05",
                "equalized_odds_difference <= 0.02",
            ],
            "seeds": [1, 3],
            "budgets": [10],
        },
    ],
}


def test_blocks_are_products_with_top_level_defaults():
    from fairautoml.bench.cli import _only
    from fairautoml.bench.runner import make_cells

    cfg = parse_config(BLOCKS, "sweep.yaml")
    assert [d.name for d in cfg.datasets] == ["german", "compas"]
    assert [str(s[0]) for s in cfg.constraint_sets] == [
        "demographic_parity_difference <= 0.05",
        "equalized_odds_difference <= 0.02",
    ]
    assert cfg.seeds == (1, 2, 3) and cfg.budgets == (30.0, 10.0)
    assert len(cfg.blocks) == 2 and cfg.blocks[0].budgets == (30.0,)  # from the top level
    cells = make_cells(cfg)
    # 2 datasets x 2 seeds, then german x 2 constraint sets x 2 seeds at 10 s; x 2 methods
    assert len(cells) == (4 + 4) * 2
    assert len({c.key for c in cells}) == len(cells)
    keys = {(c.dataset.name, c.constraint_label[:3], c.budget, c.seed) for c in cells}
    assert ("compas", "equ", 10.0, 1) not in keys and ("german", "equ", 10.0, 3) in keys
    # the CLI's filters narrow every block
    only = make_cells(_only(cfg, ["german"], ["eg_lightgbm"], [1]))
    assert {(c.dataset.name, c.budget, c.seed) for c in only} == {
        ("german", 30.0, 1), ("german", 10.0, 1),
    }  # fmt: skip
    assert {c.method.label for c in only} == {"eg_lightgbm"}


def test_a_block_runs_the_methods_it_names():
    from fairautoml.bench.runner import make_cells

    blocks = [
        {"datasets": ["german"], "seeds": [1, 2]},
        {"datasets": ["compas"], "seeds": [1, 2, 3], "methods": ["fairautoml"]},
    ]
    for block in blocks:
        block["constraints"] = ["demographic_parity_difference <= 0.05"]
    cfg = parse_config({**BLOCKS, "blocks": blocks}, "sweep.yaml")
    assert cfg.blocks[0].methods is None and cfg.blocks[1].methods == ("fairautoml",)
    cells = {(c.dataset.name, c.seed, c.method.label) for c in make_cells(cfg)}
    assert cells == {
        *{("german", seed, m) for seed in (1, 2) for m in ("fairautoml", "eg_lightgbm")},
        *{("compas", seed, "fairautoml") for seed in (1, 2, 3)},
    }


def test_a_repeated_cell_runs_once():
    from fairautoml.bench.runner import make_cells

    block = {"datasets": ["german"], "constraints": ["demographic_parity_difference <= 0.05"]}
    cfg = parse_config({**BASE, "blocks": [block, block]}, "s.yaml")
    assert len(make_cells(cfg)) == len(BASE["seeds"]) * len(BASE["methods"])


@pytest.mark.parametrize(
    ("blocks", "drop", "message"),
    [
        ([], (), r"blocks: must be a non-empty list of mappings"),
        (["german"], (), r"blocks\[0\]: must be a mapping with"),
        ([{"datasets": ["german"], "seed": [1]}], (), r"blocks\[0\]: unknown key\(s\) \['seed'\]"),
        ([{"constraints": ["demographic_parity_difference <= 0.1"]}], ("datasets",),
         r"blocks\[0\].datasets: is missing, and there is no top-level one"),
        ([{"datasets": ["mnist"]}], (), r"blocks\[0\].datasets\[0\]: unknown bundled dataset"),
        ([{"datasets": ["german"], "constraints": ["dp <= 1"]}], (),
         r"blocks\[0\].constraints\[0\]: Unknown fairness metric 'dp'"),
        ([{"datasets": ["german"], "seeds": [0.5]}], (),
         r"blocks\[0\].seeds: each seed must be an integer"),
        ([{"datasets": ["german"], "budgets": [-1]}], (), r"blocks\[0\].budgets: each budget"),
        ([{"datasets": ["german"]}, {"datasets": [{"name": "german", "bundled": "compas"}]}], (),
         r"blocks\[1\]: dataset 'german' differs from the one of that name in blocks\[0\]"),
        ([{"datasets": ["german"], "methods": ["fa_typo"]}], (),
         r"blocks\[0\].methods: names \['fa_typo'\], not labels of the top-level methods"),
        ([{"datasets": ["german"], "methods": []}], (), r"blocks\[0\].methods: is empty"),
    ],
)  # fmt: skip
def test_invalid_blocks_name_the_block_and_the_fix(blocks, drop, message):
    raw = {k: v for k, v in BASE.items() if k not in drop}
    with pytest.raises(ConfigurationError, match=message):
        parse_config({**raw, "blocks": blocks}, "sweep.yaml")
