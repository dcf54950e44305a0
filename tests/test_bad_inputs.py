"""The command line's bad inputs: each is one ``error:`` line on stderr that names the
problem and the fix, exit status 2, and no traceback; nothing the user gave is silently
changed. (The estimator's catalogue of bad inputs: tests/reliability/test_bad_inputs.py;
storage URLs: tests/test_persistence.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fairautoml
from fairautoml import cli
from fairautoml.data.features import BOOLS_FOR_NUMBERS
from fairautoml.data.labels import TARGET_CLASSES_OVER_LIMIT
from fairautoml.estimators.worker import CSV_NO_ROWS
from fairautoml.study.pick import VERDICT_EXITS
from fairautoml.testing import make_biased


def template_regex(template: str) -> re.Pattern[str]:
    """A pattern matching exactly the messages a template can produce."""
    parts = re.split(r"\{[^{}]*\}", template)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.DOTALL)


def one_error(capsys: pytest.CaptureFixture[str], template: str) -> str:
    """The one ``error:`` line the command printed, checked against ``template``."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    message = lines[0].removeprefix("error: ")
    assert template_regex(template).fullmatch(message), message
    return message


def table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """make_biased's table with its group and label as columns, and a whole-number
    column (1 or 2 children) the label depends on."""
    X, y, s = make_biased(n=n, seed=seed)
    rng = np.random.default_rng(seed)
    children = np.where(rng.random(n) < 0.5, 1, 2)
    label = np.where(rng.random(n) < 0.3, 2 - children, y)  # children=1 leans to 1
    return X.assign(children=children, group=s.to_numpy(), label=label)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``fit --out`` directory of a tiny model on :func:`table`."""
    here = tmp_path_factory.mktemp("bad_inputs")
    csv = here / "train.csv"
    table().to_csv(csv, index=False)
    out = here / "run"
    assert cli.main([
        "fit", str(csv), "--target", "label", "--sensitive", "group", "--n-trials", "1",
        "--learners", "logistic_regression", "--mitigators", "none", "--cv-folds", "none",
        "--no-confirm", "--no-ensemble", "--out", str(out), "-q",
    ]) in VERDICT_EXITS  # fmt: skip
    return out


EMPTY = {"empty": lambda path: path.write_text(""),
         "header only": lambda path: table().head(0).to_csv(path, index=False)}  # fmt: skip


@pytest.mark.parametrize("command", ["fit", "predict", "audit"])
@pytest.mark.parametrize("kind", list(EMPTY))
def test_a_csv_without_rows_is_a_clear_error(command, kind, run, tmp_path, capsys):
    """A 0-byte CSV (pandas' EmptyDataError) and a header line without rows: the file
    and what it lacks, for fit, predict and audit alike."""
    csv = tmp_path / "new.csv"
    EMPTY[kind](csv)
    argv = {
        "fit": ["fit", str(csv), "--target", "label", "--sensitive", "group", "-q"],
        "predict": ["predict", str(run), str(csv), "--out", str(tmp_path / "p.csv")],
        "audit": ["audit", str(run), str(csv), "--target", "label"],
    }[command]
    capsys.readouterr()
    assert cli.main(argv) == 2
    message = one_error(capsys, CSV_NO_ROWS)
    assert str(csv) in message
    assert ("the file is empty" if kind == "empty" else "only a header line") in message
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("rows", ["one row", "one group"])
def test_an_audit_of_one_group_cannot_tell(rows, run, tmp_path, capsys):
    """One row (fairlearn's "Feature array has too many dimensions" before), or many rows
    of one group (a verdict of ``holds`` before, though no group was compared): fairness
    cannot be measured, so the verdict is CANNOT TELL, with the reason, and the rest of
    the audit (the group's rates, drift) is still written."""
    new = table(n=200, seed=5).query("group == 'a'")
    new = new.head(1) if rows == "one row" else new
    csv = tmp_path / "new.csv"
    new.to_csv(csv, index=False)
    capsys.readouterr()
    assert cli.main(["audit", str(run), str(csv), "--target", "label", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"verdict: cannot tell, CANNOT TELL ({len(new)} rows)" in out
    assert f"The {len(new)} row(s) audited hold one group ('a' of the sensitive" in out
    assert "-> holds" not in out
    saved = json.loads((tmp_path / "audit.json").read_text())
    assert [c["verdict"] for c in saved["constraints"]] == ["cannot tell"]
    automl = fairautoml.load(run / "model.skops")
    result = automl.audit(new.drop(columns="label"), new["label"])
    assert (result.verdict, result.word) == ("cannot tell", "CANNOT TELL")
    assert list(result.groups.index) == ["a"]
    assert result.groups["impact_ratio"].isna().all()  # no ratio to another group
    assert not result.groups["below_four_fifths"].any()


def test_two_groups_are_still_audited(run, tmp_path, capsys):
    new = table(n=200, seed=5).head(4)
    assert new["group"].nunique() == 2
    csv = tmp_path / "new.csv"
    new.to_csv(csv, index=False)
    assert cli.main(["audit", str(run), str(csv), "--target", "label"]) in (0, 1)
    assert "verdict: " in capsys.readouterr().out


def test_true_false_where_numbers_were_fitted_is_a_clear_error(run, tmp_path, capsys):
    """A CSV whose whole-number column (1 or 2 children in fit) comes as True/False:
    read as 1/0, it silently changed decisions; now an error that names the column,
    its dtype in fit and here, and the fix. The same numbers still predict."""
    new = table(n=200, seed=5)
    as_bools = new.assign(children=new["children"] == 2)
    bools_csv, numbers_csv = tmp_path / "bools.csv", tmp_path / "numbers.csv"
    as_bools.to_csv(bools_csv, index=False)
    new.to_csv(numbers_csv, index=False)
    assert pd.read_csv(bools_csv)["children"].dtype == bool  # as pandas reads True/False
    automl = fairautoml.load(run / "model.skops")
    features = new.drop(columns=["label"])
    read_as_ones = features.assign(children=(new["children"] == 2).astype(int))
    assert (automl.predict(read_as_ones) != automl.predict(features)).any()  # it mattered
    out = tmp_path / "p.csv"
    capsys.readouterr()
    assert cli.main(["predict", str(run), str(bools_csv), "--out", str(out)]) == 2
    message = one_error(capsys, BOOLS_FOR_NUMBERS)
    assert "Column 'children' held numbers in fit (dtype int64)" in message
    assert "holds True/False here (dtype bool)" in message
    assert not out.exists()
    assert cli.main(["audit", str(run), str(bools_csv), "--target", "label"]) == 2
    one_error(capsys, BOOLS_FOR_NUMBERS)
    assert cli.main(["predict", str(run), str(numbers_csv), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == len(new)


def test_a_target_of_25_classes_states_the_real_limit(tmp_path, capsys):
    """Not "must have exactly two classes ... yes/no decisions": 2, or 3 to 20."""
    frame = table(n=500).assign(label=np.arange(500) % 25)
    csv = tmp_path / "classes.csv"
    frame.to_csv(csv, index=False)
    argv = ["fit", str(csv), "--target", "label", "--sensitive", "group", "--n-trials", "1", "-q"]
    assert cli.main(argv) == 2
    message = one_error(capsys, TARGET_CLASSES_OVER_LIMIT)
    assert "The target has 25 classes (0, 1, 2, 3, 4, ...)" in message
    assert "2 classes (yes/no decisions) or 3 to 20" in message
    assert "--task regression" in message and "exactly two" not in message
