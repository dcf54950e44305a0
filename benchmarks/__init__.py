"""The benchmark harness only this repository needs; not part of the installed package.

Three kinds of code, one subpackage each:

- ``anchors/``: the anchors whose libraries pin versions fairautoml cannot install
  (``error_parity``, ``fairgbm``, ``autogluon`` and ``autogluon_oxonfair``) or keeps out
  of its own (``equipy``), each run in its own virtual environment (``anchors/envs/``).
- ``acceptance/``: the issues' acceptance targets and fairautoml's variants against its
  default, as the section every sweep's ``report.md`` gets (``budget_targets.py`` also
  draws the budgets sweep's anytime plot).
- ``scripts/``: one-off measurements that use fairautoml's internals, each regenerating a
  page of ``results/`` (``python -m benchmarks.scripts.NAME``; ``experiments/README.md``
  lists them).

Importing this package registers the anchors, the report section and the plot with
``fairautoml bench`` (:mod:`fairautoml.bench.plugins`); ``python -m benchmarks SWEEP.yaml``
is ``fairautoml bench SWEEP.yaml`` with them, run from the repository's root. The package
``fairautoml`` never imports this one.
"""

from __future__ import annotations

from benchmarks.acceptance.budget_targets import anytime_plot
from benchmarks.acceptance.report import targets_section
from benchmarks.anchors.env_anchors import (
    fit_autogluon,
    fit_autogluon_oxonfair,
    fit_equipy,
    fit_error_parity,
    fit_fairgbm,
    prepare_autogluon,
    prepare_autogluon_oxonfair,
    prepare_equipy,
    prepare_error_parity,
    prepare_fairgbm,
)
from fairautoml.bench import register_method, register_plot, register_section


def register() -> None:
    """Add the anchors and the report section to ``fairautoml bench`` (done on import)."""
    register_method("error_parity", fit_error_parity, prepare=prepare_error_parity)
    register_method("fairgbm", fit_fairgbm, prepare=prepare_fairgbm)
    register_method("equipy", fit_equipy, prepare=prepare_equipy, tasks=("regression",))
    register_method("autogluon", fit_autogluon, prepare=prepare_autogluon, tasks=("binary",))
    register_method(
        "autogluon_oxonfair",
        fit_autogluon_oxonfair,
        prepare=prepare_autogluon_oxonfair,
        tasks=("binary",),
    )
    register_section(targets_section)
    register_plot(anytime_plot)


register()
