"""The benchmark harness only this repository needs; not part of the installed package.

- ``envs/`` and ``env_anchors.py``: the anchors whose libraries pin versions fairautoml
  cannot install (``error_parity``, ``fairgbm``, ``autogluon`` and
  ``autogluon_oxonfair``) or keep out of its own (``equipy``), each run in its own
  virtual environment.
- ``targets.py``, ``scale_targets.py``, ``variants.py`` and ``report.py``: the issues'
  acceptance targets and fairautoml's variants against its default, as a report section
  (``budget_targets.py`` also draws the budgets sweep's anytime plot).
- scripts that use fairautoml's internals, each regenerating a page of ``results/``
  (``python benchmarks/NAME.py``; ``experiments/README.md`` lists them).

Importing this package registers those anchors and the report section with
``fairautoml bench`` (:mod:`fairautoml.bench.plugins`); ``python -m benchmarks SWEEP.yaml``
is ``fairautoml bench SWEEP.yaml`` with them, run from the repository's root.
"""

from __future__ import annotations

from benchmarks.budget_targets import anytime_plot
from benchmarks.env_anchors import (
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
from benchmarks.report import targets_section
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
