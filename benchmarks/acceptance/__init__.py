"""Acceptance targets: whether each issue's measurable target is met, read from a sweep's
cells and written as the "Targets" section of its ``report.md`` (``report.py`` picks the
section by the kind of sweep and is what ``benchmarks/__init__.py`` registers). One module
per question: ``targets.py`` the default against every anchor at the bound and without the
group (and the pairing helpers the others share), ``budget_targets.py`` the budgets sweep
(issue 43, with its anytime plot), ``scale_targets.py`` big tables,
``regression_targets.py`` fair regression (issue 38), ``multiclass_targets.py`` several
classes (issue 42), ``missing_groups_targets.py`` groups known for only some rows (issue
40); ``variants.py`` compares fairautoml's own variants with its default. Nothing here
runs a model: change a target here and ``python -m benchmarks SWEEP.yaml --report-only``
rewrites the report from the committed cells.
"""
