"""The record of a search: what a trial is (candidate, result), how it is written into the
Optuna study and read back, the pick policy and its verdict words, the leaderboard and
Pareto front, studies on storage (SQLite, PostgreSQL) and optuna-dashboard over them.

Knows nothing of how trials are run (that is ``search``). May import ``model`` and below.
"""
