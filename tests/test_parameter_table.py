"""The parameter table (fairautoml.estimators.parameters) is the one record of the
estimator's parameters: the estimators' signatures, their docstring and the command line
agree with it."""

from __future__ import annotations

import argparse
import inspect
import re

import pytest

from fairautoml import FairAutoML, FairAutoMLRegressor
from fairautoml.cli.parser import build_parser
from fairautoml.estimators.base import FairSearchEstimator
from fairautoml.estimators.parameters import BY_NAME, FLAGGED, PARAMETERS, estimator_kwargs
from fairautoml.report.page import fit_command


def _fit_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["fit"]


@pytest.mark.parametrize("cls", [FairAutoML, FairAutoMLRegressor])
def test_the_signature_is_the_table(cls):
    signature = inspect.signature(cls.__init__).parameters
    names = [n for n in signature if n != "self"]
    assert sorted(names) == sorted(p.name for p in PARAMETERS)
    assert len(PARAMETERS) == len(BY_NAME)  # no name twice
    for name in names:
        assert signature[name].default == BY_NAME[name].default, name
        assert type(signature[name].default) is type(BY_NAME[name].default), name
    assert cls().get_params() == {p.name: p.default for p in PARAMETERS}


def test_every_parameter_is_documented():
    doc = inspect.getdoc(FairSearchEstimator) or ""
    documented = set()
    for line in doc.splitlines():
        match = re.match(r"^(\w+(?:, \w+)*) : ", line)
        if match:
            documented.update(match.group(1).split(", "))
    assert {p.name for p in PARAMETERS} <= documented


def test_every_flag_of_the_table_is_the_parsers():
    fit = _fit_parser()
    options = {o for action in fit._actions for o in action.option_strings}
    for p in FLAGGED:
        assert p.flag is not None and p.flag.name in options, p.name


def test_without_flags_the_command_line_passes_the_tables_defaults():
    args = _fit_parser().parse_args(["table.csv"])
    for name, value in estimator_kwargs(args).items():
        assert value == BY_NAME[name].cli_default, name
    assert args.study == BY_NAME["study_name"].cli_default


def test_each_flag_reads_its_parameter():
    args = _fit_parser().parse_args(
        ["t.csv", "--no-refit", "--seed", "3", "--confidence", "none", "--learners", "a,b",
         "--cv-folds", "4", "--constraint", "c<=1", "--sensitive-at-predict"]
    )  # fmt: skip
    kwargs = estimator_kwargs(args)
    assert kwargs["refit"] is False and kwargs["confirm"] is True
    assert kwargs["random_state"] == 3 and kwargs["confidence"] is None
    assert kwargs["learners"] == ["a", "b"] and kwargs["cv_folds"] == 4
    assert kwargs["constraints"] == ["c<=1"] and kwargs["sensitive_at_predict"] is True
    assert "pos_label" not in kwargs and "storage" not in kwargs  # the command reads those


def test_bad_flag_values_name_what_the_flag_takes(capsys):
    with pytest.raises(SystemExit):
        _fit_parser().parse_args(["t.csv", "--cv-folds", "many"])
    assert "expected int, auto, none; got 'many'" in capsys.readouterr().err


def test_the_reproducing_command_spells_several_favourable_classes_apart():
    automl = FairAutoML("demographic_parity_difference <= 0.1", pos_label=["a", "b c"])
    automl.constraints_ = []
    command, _ = fit_command(automl, {"dataset": "adult", "sensitive": None}, "out")
    assert "--positive-label a 'b c' " in command
