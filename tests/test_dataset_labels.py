"""A fit on a bundled table keeps the table's own labels: its model predicts and is audited
in them (a user's copy of Adult says '>50K', not 1)."""

from __future__ import annotations

import pandas as pd

from fairautoml import cli, datasets
from fairautoml.study.pick import VERDICT_EXITS


def test_a_bundled_fit_is_audited_on_the_tables_own_labels(tmp_path, capsys):
    run = tmp_path / "run"
    code = cli.main([
        "fit", "--dataset", "german", "--n-trials", "2", "--time-budget", "60", "--seed", "0",
        "--out", str(run), "-q",
    ])  # fmt: skip
    assert code in VERDICT_EXITS
    info = next(d for d in datasets.available() if d.name == "german")
    X, y, s = datasets.load("german", labels="original")
    raw = datasets.read_raw("german")[info.target].astype(str)
    assert set(y) == set(raw) and info.positive in set(y)  # the file's labels, as text
    frame = X.assign(**{info.target: y, s.name: s})
    frame.to_csv(tmp_path / "german.csv", index=False)
    capsys.readouterr()
    audit = ["audit", str(run), str(tmp_path / "german.csv"), "--target", info.target,
             "--sensitive", str(s.name), "--out", str(tmp_path / "audit")]  # fmt: skip
    assert cli.main(audit) in (0, 1), capsys.readouterr().err  # 2 would be an error
    assert cli.main([*audit, "--positive-label", info.positive]) in (0, 1)
    out = tmp_path / "pred.csv"
    assert cli.main(["predict", str(run), str(tmp_path / "german.csv"), "--out", str(out)]) == 0
    assert set(pd.read_csv(out, dtype=str)["prediction"]) <= set(raw)
