"""The fitted fair model users get back (preparation, scoring model, decision rule) and its
files: the skops format, the exact allow-list a file is checked against before anything is
built, and joblib when trusted.

May import ``tasks``, ``learners``, ``mitigators``, ``measures``, ``data`` and the base.
"""
