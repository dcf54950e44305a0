"""One-off measurement scripts: each answers one question with fairautoml's internals and
regenerates its committed page under ``results/`` (the page's "made by" line and
``results/README.md`` give the command). Run one from the repository's root as
``python -m benchmarks.scripts.NAME [arguments]`` (its docstring says what it measures and
which arguments it takes). They are not imported by ``python -m benchmarks`` and register
nothing; ``interval_coverage.py`` holds the table code the two interval-coverage scripts
share. Scripts that use only the public API live in ``experiments/`` instead.
"""
