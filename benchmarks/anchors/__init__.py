"""Anchors run in pinned environments: the published methods a sweep compares fairautoml
with whose libraries pin versions fairautoml cannot install alongside its own (error-parity,
FairGBM, AutoGluon with OxonFair) or keeps out of its dependencies (EquiPy).
``env_anchors.py`` has each anchor's fit and preparation, as ``benchmarks/__init__.py``
registers them with ``fairautoml bench``; ``envs/`` has each environment's pinned
requirements (``NAME.txt``), the code that builds an environment on first use, and
``run_anchor.py``, which runs inside it and talks to the bench through files. The
anchors a user can install run from the package itself (:mod:`fairautoml.bench.anchors`).
"""
