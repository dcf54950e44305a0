"""What a fit tells its user: the verdict card, the report page and its sections, the
evidence they rest on (the pick's out-of-fold or validation predictions), baselines,
what each decision-rule policy costs, plots, and a stored study as a terminal table.

May import ``audit``, ``estimators`` and below.
"""
