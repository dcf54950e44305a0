"""Several classes: a value measured on more rows than the claim is made for (a confirmed
point, a cross-validated search) is judged with the noise of a validation-sized sample."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairautoml import FairAutoML
from fairautoml.confirm import confirmation_context
from fairautoml.constraints import evaluate_intervals, parse_constraints
from fairautoml.search_builder import search_context
from fairautoml.tasks import get_task

TASK = get_task("multiclass")
FAST = FairAutoML(random_state=0, cv_folds=None).get_params()


def _fair_three_classes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decisions fair in truth: every group gets each class with the same chances."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(2, n, p=[0.85, 0.15])
    y = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    pred = np.where(rng.random(n) < 0.6, y, rng.choice(3, n))
    return y, pred, groups


def test_a_share_reads_as_a_sample_of_that_size():
    (c,) = TASK.bind_target(parse_constraints("demographic_parity_difference <= 0.1"),
                            np.arange(3), None)  # fmt: skip
    y, pred, g = _fair_three_classes(8000, 0)
    full = evaluate_intervals([c], y, pred, g, random_state=1)[c.key]
    quarter = evaluate_intervals([c], y, pred, g, random_state=1, claim_share=0.25)[c.key]
    # the same table's bootstrap on 2000 rows drawn from it: the share's target
    sub = np.random.default_rng(2).choice(8000, 2000, replace=False)
    small = evaluate_intervals([c], y[sub], pred[sub], g[sub], random_state=1)[c.key]
    width = {k: v[1] - v[0] for k, v in {"full": full, "quarter": quarter, "small": small}.items()}
    assert 1.6 < width["quarter"] / width["full"] < 2.5  # about √4
    assert 0.7 < width["quarter"] / width["small"] < 1.4
    # the largest of three gaps reads higher on fewer rows: the upper end moves up
    assert quarter[1] > full[1] + 0.5 * (full[1] - full[0])


def test_the_share_is_the_validation_split_over_the_measured_rows(german):
    X, _, s = german
    rng = np.random.default_rng(0)
    y3 = pd.Series(rng.choice(["a", "b", "c"], len(X)))
    params = {**FAST, "task": "multiclass"}
    ctx, _ = search_context(params, X, y3, s)
    assert ctx.task.name == "multiclass" and ctx.claim_rows == len(ctx.val_idx)
    assert ctx.claim_share == 1.0  # a holdout point is measured on the validation split
    confirmed = confirmation_context(ctx)
    assert confirmed is not None and len(confirmed.val_idx) == len(X)
    assert confirmed.claim_share == len(ctx.val_idx) / len(X)  # about a quarter
    cross, _ = search_context({**params, "cv_folds": 5}, X, y3, s)
    assert cross.claim_share == ctx.claim_share * len(ctx.val_idx) / len(X)
    binary, _ = search_context({**FAST, "task": "binary"}, X, german[1], s)
    assert confirmation_context(binary).claim_share == 1.0  # yes/no claims: every row
