"""The scikit-learn estimators users fit (``FairAutoML``, ``FairAutoMLRegressor``), their
parameter table, ``load`` for a saved estimator and the worker that joins a running search.

May import ``search`` and below; ``audit`` and ``report`` sit above and read what it fits.
"""
