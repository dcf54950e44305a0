"""What is measured: the constraint language and its fairness measures (rates of yes/no
decisions, several classes, amounts), their intervals, per-group tables, performance
metrics, and the counts that tell later whether a population drifted.

Pure functions of labels, predictions and groups. May import ``data`` and the base modules.
"""
