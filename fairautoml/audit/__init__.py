"""An audit of a fitted model on new rows: each constraint's verdict with its interval, the
per-group table, fairness and input drift (:mod:`.verdicts`), and the page and JSON it
leaves behind (:mod:`.page`).

May import ``estimators`` and below.
"""
