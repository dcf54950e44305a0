"""The report section this repository adds to every sweep's ``report.md``: the issues'
targets (the default fairautoml method against every anchor, ``targets.py``; a scale
sweep's own, ``scale_targets.py``; a regression sweep's, ``regression_targets.py``; a
missing-groups sweep's, ``missing_groups_targets.py``; a multiclass sweep's,
``multiclass_targets.py``; the budgets sweep's, ``budget_targets.py``) and
fairautoml's variants against its default (``variants.py``). Registered by
``benchmarks/__init__.py`` through :func:`fairautoml.bench.plugins.register_section`.
"""

from __future__ import annotations

import pandas as pd

from benchmarks.acceptance.budget_targets import budget_targets, is_budgets_sweep
from benchmarks.acceptance.missing_groups_targets import (
    is_missing_groups_sweep,
    missing_groups_targets,
)
from benchmarks.acceptance.multiclass_targets import is_multiclass_sweep, multiclass_targets
from benchmarks.acceptance.regression_targets import is_regression_sweep, regression_targets
from benchmarks.acceptance.scale_targets import is_scale_sweep, scale_targets
from benchmarks.acceptance.targets import target_section
from benchmarks.acceptance.variants import default_method, variant_comparison


def targets_section(frame: pd.DataFrame) -> list[str]:
    """The targets and the variants, or nothing when the sweep has no fairautoml method."""
    default = default_method(frame)
    if default is None:
        return []
    lines = [f"## Targets ({default} vs. every anchor)", ""]
    if is_regression_sweep(frame):
        return lines + regression_targets(frame, default)
    if is_multiclass_sweep(frame):
        return ["## Targets (issue 42: several outcomes)", "",
                *multiclass_targets(frame, default)]  # fmt: skip
    if is_missing_groups_sweep(frame):
        return ["## Targets (issue 40: groups known for only some rows)", "",
                *missing_groups_targets(frame)]  # fmt: skip
    if is_budgets_sweep(frame):
        return ["## Targets (issue 43: the same budget as AutoGluon + OxonFair)", "",
                *budget_targets(frame, default)]  # fmt: skip
    if is_scale_sweep(frame):
        lines += scale_targets(frame, default)
    lines += target_section(frame, default)
    comparison = variant_comparison(frame, default)
    if comparison:
        lines += [
            "## fairautoml's variants: controllers and the allocator ablation",
            "",
            "*ahead*: higher mean test accuracy among the runs satisfied on test (a variant "
            "with satisfied runs is ahead of one without).",
            "",
            *comparison,
        ]
    return lines
