"""fairautoml's variants against its default, in the report section ``benchmarks`` adds."""

from __future__ import annotations

import json
import math

from fairautoml.bench.cells_file import RESULTS_FILE
from fairautoml.bench.report import write_report


def _record(method, family, seed, acc, value, status="ok"):
    return {
        "key": f"d|c|10|{seed}|{method}", "dataset": "d", "budget": 10.0, "seed": seed,
        "constraints": ["demographic_parity_difference <= 0.05"],
        "constraint_label": "demographic_parity_difference <= 0.05",
        "method": method, "family": family, "status": status, "test_accuracy": acc,
        "test_balanced_accuracy": acc, "test_values": {"demographic_parity_difference": value},
        "test_violation": value - 0.05, "satisfied": value - 0.05 <= 0.01, "trials": 5,
        "wall_time": 10.0, "time_to_first_feasible": 1.0, "hypervolume": math.nan,
        "peak_memory_mb": 100.0, "n_train": 60, "n_val": 20,
    }  # fmt: skip


def test_report_compares_fairautoml_variants(tmp_path):
    admm = {**_record("fairautoml:admm", "fairautoml", 0, 0.85, 0.04), "options": {}}
    always = _record("fairautoml_always", "fairautoml", 0, 0.90, 0.09)  # not satisfied
    records = [
        {**_record("fairautoml", "fairautoml", 0, 0.80, 0.03), "options": {}},
        admm,
        {**always, "options": {"allocator": "always"}},
        _record("eg_lightgbm", "eg_lightgbm", 0, 0.95, 0.04),  # an anchor: not a variant
    ]
    (tmp_path / RESULTS_FILE).write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = write_report(tmp_path).read_text()
    assert "## fairautoml's variants" in report
    assert "- fairautoml **behind** fairautoml:admm (0.800 vs 0.850)" in report
    assert "- fairautoml ahead of fairautoml_always (0.800 vs –)" in report
    assert "- fairautoml vs fairautoml:admm: ahead in 0, tied in 0, behind in 1 of 1" in report
    assert (
        "- vs fairautoml:admm (1 runs): satisfied in 1 vs 1; where both were (1), test "
        "accuracy -0.0500 (mean difference ± standard error); only fairautoml satisfied: 0, "
        "only fairautoml:admm: 0"
    ) in report
    assert "- vs fairautoml_always (1 runs): satisfied in 1 vs 0; where both were (0), " in report
    section = report.split("## fairautoml's variants")[1].split("\n## ")[0]
    assert "eg_lightgbm" not in section
    row = next(x for x in section.splitlines() if x.startswith("| fairautoml_always"))
    assert "| 0.040 |" in row and "| 0.00 |" in row  # mean violation; none satisfied
    pooled = section.split("All runs pooled")[1].split("\n\n")[1]
    assert "| fairautoml | 1/1 | 0.800 | -0.020 | 1.00 | 0.800 | -0.0500 |" in pooled
    assert "| fairautoml:admm | 1/1 | 0.850 | -0.010 | 1.00 | 0.850 | +0.0000 |" in pooled
    assert "| fairautoml_always | 1/1 | 0.900 | 0.040 | 0.00 | – | – |" in pooled


def test_variants_pair_only_with_the_default_run_at_their_own_code(tmp_path):
    """A variant swept once beside an older default is not paired with a later default's
    runs: the paired line says which commits ran, and runs of one commit still pair."""
    records = []
    for seed in (0, 1, 2):
        default = _record("fairautoml", "fairautoml", seed, 0.80, 0.03)
        always = _record("fairautoml_always", "fairautoml", seed, 0.78, 0.03)
        default["commit"] = "new" if seed else "old"  # seed 0 still at the variant's code
        records += [{**default, "options": {}},
                    {**always, "options": {"allocator": "always"}, "commit": "old"}]  # fmt: skip
    (tmp_path / RESULTS_FILE).write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = write_report(tmp_path).read_text()
    assert "- vs fairautoml_always (1 runs): satisfied in 1 vs 1; where both were (1)" in report
    # the cell's means mix code, so no verdict on them; the pooled rows name their code
    assert (
        "- fairautoml not compared with fairautoml_always: 2 of 3 paired runs are other code "
        "(fairautoml at new, old, fairautoml_always at old)"
    ) in report
    assert "behind in 0 of 1 dataset × constraint cells (1 not compared: other code)" in report
    pooled = report.split("All runs pooled")[1].split("\n\n")[1]
    assert pooled.splitlines()[2].endswith("| new, old |")
    assert pooled.splitlines()[3].endswith("| old |")
    for r in records:
        if r["method"] == "fairautoml":
            r["commit"] = "new"
    (tmp_path / RESULTS_FILE).write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = write_report(tmp_path).read_text()
    assert (
        "- vs fairautoml_always: not paired, no run at the same code (fairautoml at new, "
        "fairautoml_always at old;"
    ) in report
