"""Behaviour unchanged by a refactor: the fixed-trial searches of
:mod:`fairautoml.testing.fixed_trials` (Adult, CPS 1988, bank wages: one per task, the
package's defaults, ``n_trials`` and a seed, no time budget) give the leaderboards committed
under ``tests/data/leaderboards/``, trial by trial, number for number.

Written at c919e1e, before the modules moved into packages (issue 57). Numbers are compared
to 1e-9 relative (another CPU's last bits of a floating-point sum), everything else exactly.
A change meant to alter the search rewrites them, and says so in its commit:
``python -m fairautoml.testing.fixed_trials tests/data/leaderboards``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairautoml.testing.fixed_trials import CASES, fixed_trial_leaderboard, path_of

HERE = Path(__file__).parent / "data" / "leaderboards"


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """A leaderboard as text, the way the committed CSV reads back."""
    return frame.astype(str).replace({"nan": "", "None": ""}).fillna("")


def differences(expected: pd.DataFrame, got: pd.DataFrame) -> list[str]:
    """Cells that differ: numbers beyond 1e-9 relative, any other text at all."""
    if list(expected.columns) != list(got.columns) or len(expected) != len(got):
        return [f"shape/columns {expected.shape} {list(expected.columns)} != {got.shape}"]
    out = []
    for column in expected.columns:
        a, b = expected[column], got[column]
        x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        numeric = x.notna() & y.notna()
        close = np.isclose(x[numeric], y[numeric], rtol=1e-9, atol=0, equal_nan=True)
        bad = list(a.index[numeric][~close]) + list(a.index[~numeric & (a != b)])
        out += [f"row {i} {column}: {a[i]!r} != {b[i]!r}" for i in sorted(bad)[:3]]
    return out


def test_the_comparison_sees_one_changed_number():
    board = pd.DataFrame({"trial": ["0", "1"], "accuracy": ["0.85", "0.8"], "x": ["a", ""]})
    assert differences(board, board.copy()) == []
    changed = board.assign(accuracy=["0.85", "0.8000001"])
    assert differences(board, changed) == ["row 1 accuracy: '0.8' != '0.8000001'"]
    assert differences(board, board.assign(x=["b", ""])) == ["row 0 x: 'a' != 'b'"]
    assert differences(board, board.head(1))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_fixed_trial_leaderboard_unchanged(name):
    expected = pd.read_csv(path_of(HERE, name), dtype=str, keep_default_na=False)
    got = _as_read(fixed_trial_leaderboard(name))
    assert not differences(_as_read(expected), got), differences(_as_read(expected), got)
