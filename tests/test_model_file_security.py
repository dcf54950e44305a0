"""Crafted model files: every kind of skops node that calls, imports or returns what the
file names, with names that run or load code, is refused by ``fairautoml.load`` and
``fairautoml predict`` before anything is built; the marker file each payload writes is
never created. Each payload is first shown to be live: skops, trusting the file, runs it.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import itertools
import json
import pickle
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fairautoml
from fairautoml import cli
from fairautoml.exceptions import DamagedModelError, UntrustedModelError
from fairautoml.model.allowlist import ALLOWED, CALLING, INERT, REVIEWED_SKOPS, types_in
from fairautoml.model.files import read_model, write_model
from fairautoml.testing import make_biased

_ids = itertools.count(1)


def node(loader: str, qualname: str, **fields) -> dict:
    module, _, name = qualname.rpartition(".")
    return {"__class__": name, "__module__": module, "__loader__": loader,
            "__id__": next(_ids), **fields}  # fmt: skip


def json_node(value) -> dict:
    return node("JsonNode", "builtins.str", content=json.dumps(value), is_json=True)


def tuple_node(*items) -> dict:
    return node("TupleNode", "builtins.tuple", content=list(items))


def dict_node(content: dict, key_type: dict | None = None) -> dict:
    keys = [key_type or node("TypeNode", "builtins.str") for _ in content]
    return node("DictNode", "builtins.dict", content=content,
                key_types=node("ListNode", "builtins.list", content=keys))  # fmt: skip


def write_skops(path: Path, root: dict, files: dict[str, bytes] | None = None) -> Path:
    schema = {**root, "protocol": 2, "_skops_version": "0.16.0"}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return path


def as_model(payload: dict) -> dict:
    """The payload inside the envelope of a model file, where a crafted file would put it."""
    return dict_node({"format": json_node("fairautoml-model"), "version": json_node(1),
                      "estimator": payload, "tables": dict_node({})})  # fmt: skip


def write_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('ran')"


def predict_command(path: Path, tmp: Path) -> int:
    """``fairautoml predict`` on the file, with a CSV of rows to decide."""
    X, _, s = make_biased(n=20, seed=2)
    X.assign(group=s.to_numpy()).to_csv(tmp / "rows.csv", index=False)
    args = ["predict", str(path), str(tmp / "rows.csv"), "--out", str(tmp / "p.csv")]
    return cli.main(args)


class Payload:
    """A crafted file: ``build(marker, tmp)`` gives its schema (and extra archive members);
    ``runs_on_load``: skops, trusting it, runs the code while loading (else the loaded
    object holds the callable, run when the model is used)."""

    def __init__(self, name, build, runs_on_load=True):
        self.name, self.build, self.runs_on_load = name, build, runs_on_load

    def __repr__(self) -> str:
        return self.name


def _reduce(qualname: str, *args) -> dict:
    return node("ConstructorFromReduceNode", qualname, content=tuple_node(*args))


def _pickle_file(marker: Path, tmp: Path) -> Path:
    class Writes:
        def __reduce__(self):
            return (exec, (write_code(marker),))

    path = tmp / "payload.pkl"
    path.write_bytes(pickle.dumps(Writes()))
    return path


def _npy_pickle(marker: Path, tmp: Path) -> Path:
    class Writes:
        def __reduce__(self):
            return (exec, (write_code(marker),))

    path = tmp / "payload.npy"
    np.save(path, np.array([Writes()], dtype=object), allow_pickle=True)
    return path


PAYLOADS = [
    # the defect as found: eval called with a stored string
    Payload("eval (reduce)", lambda m, t: _reduce("builtins.eval", json_node(write_code(m)))),
    Payload("exec (reduce)", lambda m, t: _reduce("builtins.exec", json_node(write_code(m)))),
    Payload(
        "open (reduce)", lambda m, t: _reduce("builtins.open", json_node(str(m)), json_node("w"))
    ),
    Payload("os.system (reduce)", lambda m, t: _reduce("os.system", json_node(f"touch {m}"))),
    Payload(
        "subprocess.Popen (reduce)",
        lambda m, t: _reduce(
            "subprocess.Popen",
            node("ListNode", "builtins.list", content=[json_node("touch"), json_node(str(m))]),
        ),
    ),
    Payload(
        "pandas.read_pickle (reduce)",
        lambda m, t: _reduce("pandas.read_pickle", json_node(str(_pickle_file(m, t)))),
    ),
    Payload(
        "numpy.load with pickles (reduce)",
        lambda m, t: _reduce(
            "numpy.load", json_node(str(_npy_pickle(m, t))), json_node(None), json_node(True)
        ),
    ),
    Payload(
        "importlib.import_module (reduce)",
        lambda m, t: _reduce("importlib.import_module", json_node("this")),
        runs_on_load=False,
    ),
    Payload(
        "__import__ (reduce)",
        lambda m, t: _reduce("builtins.__import__", json_node("antigravity")),
        False,
    ),
    Payload(
        "getattr (reduce)",
        lambda m, t: _reduce("builtins.getattr", node("TypeNode", "os.path"), json_node("exists")),
        False,
    ),
    # a dict's key type is called on each key
    Payload(
        "eval as a dict's key type",
        lambda m, t: dict_node(
            {write_code(m): json_node(1)}, key_type=node("TypeNode", "builtins.eval")
        ),
    ),
    # the loss constructor is called with the stored arguments
    Payload(
        "eval as a loss (LossNode)",
        lambda m, t: node(
            "LossNode",
            "builtins.eval",
            content=dict_node({}),
            __reduce__={"args": tuple_node(json_node(write_code(m)))},
        ),
    ),
    # a function, a partial, a method or an operator returned, run when the model is used
    Payload("eval (function)", lambda m, t: node("FunctionNode", "builtins.eval"), False),
    Payload("os.system (function)", lambda m, t: node("FunctionNode", "os.system"), False),
    Payload(
        "partial around exec",
        lambda m, t: node(
            "PartialNode",
            "functools.partial",
            content={
                "func": node("FunctionNode", "builtins.exec"),
                "args": tuple_node(json_node(write_code(m))),
                "kwds": dict_node({}),
                "namespace": json_node(None),
            },
        ),
        False,
    ),
    Payload(
        "partial around os.system",
        lambda m, t: node(
            "PartialNode",
            "functools.partial",
            content={
                "func": node("FunctionNode", "os.system"),
                "args": tuple_node(json_node("true")),
                "kwds": dict_node({}),
                "namespace": json_node(None),
            },
        ),
        False,
    ),
    Payload(
        "operator.methodcaller",
        lambda m, t: node(
            "OperatorFuncNode",
            "operator.methodcaller",
            attrs=tuple_node(json_node("system"), json_node("true")),
        ),
        False,
    ),
    Payload(
        "operator.attrgetter",
        lambda m, t: node(
            "OperatorFuncNode", "operator.attrgetter", attrs=tuple_node(json_node("system"))
        ),
        False,
    ),
    Payload(
        "a method of an allowed type",
        lambda m, t: node(
            "MethodNode",
            "fairautoml.model.fair_model.FairModel",
            content={
                "func": "predict",
                "obj": node("ObjectNode", "fairautoml.model.fair_model.FairModel"),
            },
        ),
        False,
    ),
    Payload(
        "subprocess.Popen (object)",
        lambda m, t: node("ObjectNode", "subprocess.Popen", content=dict_node({})),
        False,
    ),
    Payload("exec (type)", lambda m, t: node("TypeNode", "builtins.exec"), False),
    Payload(
        "a loader fairautoml does not know",
        lambda m, t: node("SomeFutureNode", "builtins.dict"),
        False,
    ),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_a_crafted_file_is_refused_and_runs_nothing(tmp_path, payload, capsys):
    marker = tmp_path / "marker"
    path = write_skops(tmp_path / "model.skops", as_model(payload.build(marker, tmp_path)))
    with pytest.raises(UntrustedModelError, match="holds types that no fairautoml model"):
        fairautoml.load(path)
    assert predict_command(path, tmp_path) == 2
    assert "holds types that no fairautoml model" in capsys.readouterr().err
    assert not marker.exists()
    if payload.runs_on_load:  # the payload is live: skops, told to trust it, runs it
        # the payload's return value may not fit where it stands; it has run by then
        with contextlib.suppress(Exception):
            sio.load(path, trusted=sio.get_untrusted_types(file=path))
        for _ in range(50):  # a process started by the payload may take a moment
            if marker.exists():
                break
            time.sleep(0.1)
        assert marker.exists(), "the crafted payload did not run when trusted: not a test"


def test_each_kind_of_calling_node_is_crafted(tmp_path):
    """Every loader that calls or returns what it names has a crafted case above."""
    crafted = {loader for p in PAYLOADS for loader, _ in types_in(p.build(tmp_path, tmp_path))}
    assert {c for c in CALLING if "." not in c} - {"ReduceNode", "TreeNode"} <= crafted
    assert {"SomeFutureNode", "ObjectNode"} <= crafted


def test_the_gate_refuses_before_skops_builds_or_imports(tmp_path, monkeypatch):
    """A refused file never reaches skops: neither its audit nor its loader is called."""
    called = []
    monkeypatch.setattr(sio, "load", lambda *a, **k: called.append("load"))
    monkeypatch.setattr(sio, "loads", lambda *a, **k: called.append("loads"))
    monkeypatch.setattr(sio, "get_untrusted_types", lambda *a, **k: called.append("audit"))
    sys.modules.pop("antigravity", None)
    path = write_skops(
        tmp_path / "m.skops", as_model(_reduce("builtins.__import__", json_node("antigravity")))
    )
    with pytest.raises(UntrustedModelError, match=r"builtins\.__import__"):
        read_model(path)
    assert called == [] and "antigravity" not in sys.modules


def _module_names() -> list[str]:
    """Type and function names drawn from the modules a model file could name."""
    names = []
    modules = ["builtins", "os", "subprocess", "importlib", "functools", "operator", "pickle",
               "shutil", "numpy", "pandas", "scipy", "sklearn.utils", "lightgbm", "xgboost",
               "fairlearn", "fairautoml", "fairautoml.model.fair_model"]  # fmt: skip
    for module in modules:
        mod = importlib.import_module(module)
        names += [f"{module}.{n}" for n in dir(mod) if not n.startswith("__")]
    return sorted(set(names))


NAMES = _module_names()
LOADERS = sorted({loader for loader, _ in ALLOWED} | {"MethodNode", "OperatorFuncNode",
                                                     "ConstructorFromReduceNode"})  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), loader=st.sampled_from(LOADERS))
def test_any_name_is_refused_unless_allow_listed(tmp_path_factory, name, loader):
    path = write_skops(tmp_path_factory.mktemp("p") / "m.skops", as_model(node(loader, name)))
    if (loader, name) in ALLOWED:
        return
    with pytest.raises(UntrustedModelError, match=name.replace(".", r"\.")):
        read_model(path)


def test_every_calling_pair_says_why_it_is_allowed():
    for (loader, name), reason in ALLOWED.items():
        if loader in CALLING:
            assert reason, f"{name} ({loader}) is allowed without a reason"
        assert loader not in INERT


def test_names_the_issue_lists_are_never_allowed():
    dangerous = {"builtins.eval", "builtins.exec", "builtins.getattr", "builtins.__import__",
                 "builtins.open", "os.system", "subprocess.Popen", "pandas.read_pickle",
                 "numpy.load", "operator.attrgetter", "operator.methodcaller",
                 "importlib.import_module", "builtins.compile", "pickle.loads"}  # fmt: skip
    assert not dangerous & {name for _, name in ALLOWED}


def test_skops_is_the_reviewed_version():
    """The loaders' semantics were reviewed on this skops: review a new one first."""
    assert sio.__name__ and skops_version().startswith(REVIEWED_SKOPS + "."), skops_version()


def skops_version() -> str:
    from importlib.metadata import version

    return version("skops")


# --- damaged files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("model.skops", b""),
        ("model.skops", b"not a zip at all"),
        ("model.skops", None),  # a real model file cut in half
        ("model.joblib", b""),
        ("model.skops", b"PK\x03\x04" + b"\0" * 40),  # a zip header and nothing after
    ],
)
def test_a_damaged_file_is_called_damaged_never_trust_it(tmp_path, name, content, capsys):
    path = tmp_path / name
    if content is None:
        X, y, s = make_biased(n=200, seed=1)
        est = fairautoml.FairAutoML(
            constraints="demographic_parity_difference <= 0.5", n_trials=1, time_budget=None,
            confirm=False, cv_folds=None,
        )  # fmt: skip
        whole = write_model(est.fit(X, y, s), tmp_path / "whole.skops").read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    with pytest.raises(DamagedModelError, match="is damaged") as err:
        fairautoml.load(path)
    assert "trusted" not in str(err.value) and "pickle" not in str(err.value)
    assert predict_command(path, tmp_path) == 2
    message = capsys.readouterr().err
    assert "is damaged" in message and "--trusted" not in message


def test_a_forged_tree_is_refused_after_loading(tmp_path):
    """A forest whose tree points past its nodes would crash the process on predict."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = np.random.default_rng(0).random((60, 3)), np.arange(60) % 2
    forest = RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y)
    tree = forest.estimators_[0].tree_
    state = tree.__getstate__()
    state["nodes"] = state["nodes"].copy()
    state["nodes"]["left_child"][0] = 10**6
    tree.__setstate__(state)  # as a crafted file would rebuild it
    path = tmp_path / "forest.skops"
    sio.dump(forest, path)
    with pytest.raises(DamagedModelError, match="outside the tree"):
        read_model(path, trusted=[])


def test_builtins_are_not_trusted_by_prefix():
    """The old gate trusted every ``builtins.`` name; the new one names each."""
    allowed_builtins = {name for _, name in ALLOWED if name.startswith("builtins.")}
    assert allowed_builtins <= {f"builtins.{t}" for t in ("dict", "list", "tuple", "slice",
                                                            "bytearray", "int", "str")}  # fmt: skip
    assert all(hasattr(builtins, n.split(".")[1]) for n in allowed_builtins)


@pytest.mark.parametrize("command", ["audit", "report"])
def test_audit_and_report_refuse_the_crafted_file_too(tmp_path, command, capsys):
    marker = tmp_path / "marker"
    run = tmp_path / "run"
    run.mkdir()
    path = write_skops(run / "model.skops", as_model(PAYLOADS[0].build(marker, tmp_path)))
    predict_command(path, tmp_path)  # writes rows.csv
    if command == "audit":
        args = ["audit", str(path), str(tmp_path / "rows.csv"), "--sensitive", "group",
                "--out", str(tmp_path / "audit")]  # fmt: skip
    else:
        args = ["report", str(run)]
    capsys.readouterr()
    assert cli.main(args) == 2
    assert "builtins.eval" in capsys.readouterr().err
    assert not marker.exists()


def test_every_model_file_is_opened_through_the_gate():
    """skops and joblib files are read in model.files.read_model alone (fairautoml.load,
    predict, audit and report all come through it)."""
    package = Path(fairautoml.__file__).parent
    readers = []
    for source in package.rglob("*.py"):
        text = source.read_text()
        calls = ("sio.load(", "sio.loads(", "skops.io.load(", "skops.io.loads(", "joblib.load(")
        if any(call in text for call in calls):
            readers.append(source.relative_to(package).as_posix())
    assert readers == ["model/files.py"]
