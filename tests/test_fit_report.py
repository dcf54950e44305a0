"""The page a fit leaves behind says what was found, in words, and stands alone;
``fairautoml report DIR`` rewrites it; headless Chromium renders it offline."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest

from fairautoml import FairAutoML, cli
from fairautoml.measures.group_tables import group_rates
from fairautoml.report.card import (
    compute_verdict,
    side_effect_gaps,
    verdict_lines,
)
from fairautoml.report.evidence import context
from fairautoml.report.messages import VERDICT_READS_GROUP
from fairautoml.report.page import (
    TIER_MEANING,
    fit_command,
    listed_in_processing_not_run,
    pick_summary,
    write_fit_report,
)
from fairautoml.study.pick import VERDICT_EXITS
from fairautoml.testing import make_biased

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def data():
    return make_biased(n=600, seed=2)


def _fit(data, constraint):
    X, y, s = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FairAutoML(constraint, n_trials=3, time_budget=None, random_state=0).fit(
            X, y, sensitive_features=s
        )


def test_page_states_the_pick_and_embeds_its_plot(data, tmp_path):
    import matplotlib.image

    automl = _fit(data, "demographic_parity_difference <= 0.1")
    page = write_fit_report(automl, tmp_path / "report.html").read_text()
    cfg = automl.best_config_
    assert f"fairautoml: {cfg['model']}</h1>" in page
    assert "demographic_parity_difference &lt;= 0.1, on the data given to fit" in page
    for line in pick_summary(automl):  # the CLI's lines, the same words
        assert line.replace("<=", "&lt;=") in page
    meaning = TIER_MEANING[cfg["tier"]].format(level=cfg["interval_level"])
    assert meaning in page
    assert not re.search(r'(src|href)="https?:', page)  # nothing to fetch: it stands alone
    (encoded,) = re.findall(
        r'alt="accuracy against each constraint" src="data:image/png;base64,([^"]+)"', page
    )
    image = matplotlib.image.imread(io.BytesIO(base64.b64decode(encoded)), format="png")
    assert image.shape[0] > 300 and image.shape[1] > 500
    first_rows = re.findall(r"<tr[^>]*>\s*<td>(\d+)</td>", page)
    assert int(first_rows[0]) == cfg["trial"]  # the leaderboard in the pick's order


def _box(page: str) -> str | None:
    found = re.search(r'<div class="warnings">(.*?)</div>', page, re.S)
    return None if found is None else html.unescape(found.group(1))


def test_card_warns_in_a_box_when_the_model_reads_the_group(data, tmp_path):
    X, y, s = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aware = FairAutoML(
            "demographic_parity_difference <= 0.05", n_trials=2, time_budget=None,
            random_state=0, learners=["logistic_regression"], mitigators=["group_thresholds"],
            sensitive_at_predict=True, confidence=None,
        ).fit(X, y, sensitive_features=s)  # fmt: skip
    assert aware.best_config_["needs_group_at_predict"]
    page = write_fit_report(aware, tmp_path / "aware.html", data=data).read_text()
    assert page.index('class="card') < page.index("<h2>")  # the card comes first
    assert VERDICT_READS_GROUP in _box(page)
    blind = _fit(data, "demographic_parity_difference <= 0.1")  # the default: blind
    assert not blind.best_config_["needs_group_at_predict"]
    page = write_fit_report(blind, tmp_path / "blind.html", data=data).read_text()
    assert VERDICT_READS_GROUP not in html.unescape(page)
    card = compute_verdict(blind, data)
    assert (_box(page) is None) == (not card.warnings)


def test_card_flags_a_large_gap_on_an_unconstrained_metric(data, tmp_path):
    automl = _fit(data, "equal_opportunity_difference <= 0.1")
    ctx, _ = context(automl, data)
    gaps = side_effect_gaps(automl, ctx, data)
    # the true-positive rates are constrained; the selection and false-positive rates not
    assert set(gaps) == {"demographic_parity_difference", "equalized_odds_difference"}
    card = compute_verdict(automl, data)
    for name, value in gaps.items():
        flagged = [w for w in card.warnings if f"left the {name.replace('_', ' ')}" in w]
        assert bool(flagged) == (value > 0.1)  # the binary side effects: each difference <= 0.1
    assert card.footer.startswith("fairautoml ") and "data fingerprint" in card.footer
    (line,) = [x for x in verdict_lines(card) if x.startswith("Other fairness gaps: ")]
    assert "; a warning when one misses demographic_parity_difference <= 0.1" in line
    blind = compute_verdict(automl)  # without the data: said, not guessed
    assert blind.footer.endswith("(the data were not given)") and blind.other_gaps is None


def test_page_carries_the_warning_of_a_pick_it_cannot_vouch_for(data, tmp_path):
    automl = _fit(data, "equalized_odds_difference <= 0.0001")
    assert automl.best_config_["tier"] != "robust"
    page = write_fit_report(automl, tmp_path / "report.html").read_text()
    assert 'class="caveat"' in page
    warning = {"feasible": "UnconfirmedFairnessWarning", "infeasible": "InfeasibleWarning"}
    assert warning.get(automl.best_config_["tier"], "WeakModelWarning") in page


def test_page_without_matplotlib_says_how_to_get_the_plot(data, tmp_path, monkeypatch):
    automl = _fit(data, "demographic_parity_difference <= 0.1")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `pip install fairautoml` alone
    page = write_fit_report(automl, tmp_path / "report.html").read_text()
    assert "data:image/png" not in page and "fairautoml[plot]" in page
    assert automl.best_config_["model"] in page


def _sections(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]+)</h2>", page)


def test_page_has_every_section_the_issue_asks_for(data, tmp_path):
    X, y, s = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = FairAutoML(
            "demographic_parity_difference <= 0.1", n_trials=3, time_budget=None,
            cv_folds=None, random_state=0,
        ).fit(X, y, sensitive_features=s)  # fmt: skip
    page = write_fit_report(automl, tmp_path / "report.html", data=data).read_text()
    assert _sections(page) == [
        "The chosen pipeline", "What each decision rule costs", "Per group, with intervals",
        "Calibration within groups", "The trade-off",
        "The search", "Leaderboard: the first 10 rows, in the pick's order", "The data",
        "To reproduce",
    ]  # fmt: skip
    card = html.unescape(page.split('<p class="footer">')[0])
    assert re.search(
        r"on (the 150 validation rows \(held out from training\)|all 600 rows "
        r"\(cross-validated after the search\)): meets demographic parity "
        r"difference <= 0.1: \d\.\d{3} \(80% interval \[\d\.\d{3}, \d\.\d{3}\]\)",
        card,
    )
    assert re.search(r"<td>0\.\d{4} \(80% interval \[0\.\d{3}, 0\.\d{3}\]\), on the same", card)
    assert "<th>Cost of fairness</th><td>" in card and "data fingerprint " in page
    cfg = automl.best_config_
    assert f"<td>{cfg['learner']}</td>" in page and f"<td>{cfg['post']}</td>" in page
    # per-group rates on the holdout validation rows: 25% of 600, every group, with intervals
    assert "the 150 validation rows held out from training" in html.unescape(page)
    for group in sorted(s.unique()):
        assert re.search(rf"<tr><th>{group}</th><td>\d+</td><td>0\.\d{{3}} <span class='ci'>"
                         r"\[0\.\d{3}, 0\.\d{3}\] \(\d+\)</span>", page)  # fmt: skip
    assert "<th>largest gap</th>" in page
    # the data summary: all rows, each group's count and base rate
    assert "600 rows" in page and "positive label 1" in page
    for group, n in s.value_counts().items():
        base = y[s == group].mean()
        assert f"<tr><th>{group}</th><td>{n}</td>" in page and f"<td>{base:.3f}</td>" in page
    assert "FairAutoML(" in page and ".fit(X, y, sensitive_features=s)" in page  # from Python


def test_page_says_which_named_in_processing_never_ran(data, tmp_path):
    automl = _fit(data, "demographic_parity_difference <= 0.1")
    ran = set(automl.leaderboard_["mitigator"])
    named = ["none", "group_thresholds", "exponentiated_gradient", "constrained_boosting"]
    automl.set_params(mitigators=named)  # as if the user had named them (the board is kept)
    expected = [m for m in ["exponentiated_gradient", "constrained_boosting"] if m not in ran]
    assert expected, "the default search of three trials ran no in-processing"
    assert listed_in_processing_not_run(automl) == expected
    page = write_fit_report(automl, tmp_path / "report.html").read_text()
    assert f"In-processing listed but not run: {', '.join(expected)}." in page
    automl.set_params(mitigators=None)  # the defaults: nothing was named, nothing to say
    assert listed_in_processing_not_run(automl) == []
    page = write_fit_report(automl, tmp_path / "report.html").read_text()
    assert "listed but not run" not in page


def test_page_says_why_without_the_data(data, tmp_path):
    automl = _fit(data, "demographic_parity_difference <= 0.1")
    page = write_fit_report(automl, tmp_path / "report.html").read_text()
    assert page.count("(Not shown: the data were not given") == 1
    assert "(No summary: the data were not given" in page


def test_group_rates_have_wilson_intervals():
    y_true = np.array([1] * 10 + [0] * 10 + [1] * 4 + [0] * 4)
    y_pred = np.array([1] * 5 + [0] * 5 + [1] * 2 + [0] * 8 + [1, 1, 0, 0, 0, 0, 0, 0])
    groups = np.array(["a"] * 20 + ["b"] * 8)
    table = group_rates(y_true, y_pred, groups, level=0.95)
    a = table.loc["a"]
    assert (a["rows"], a["positives"], a["negatives"]) == (20, 10, 10)
    assert a["true_positive_rate"] == 0.5  # 5 of 10: the textbook Wilson 95% interval
    assert a["true_positive_rate_low"] == pytest.approx(0.2366, abs=1e-4)
    assert a["true_positive_rate_high"] == pytest.approx(0.7634, abs=1e-4)
    assert table.loc["b", "false_positive_rate"] == 0.0
    assert table.loc["b", "false_positive_rate_low"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["largest gap", "selection_rate"] == pytest.approx(7 / 20 - 2 / 8)


def test_fit_command_rebuilds_the_cli_call(data):
    automl = _fit(data, "demographic_parity_difference <= 0.1")
    source = {"csv": "/data/my table.csv", "target": "label", "sensitive": ["group"]}
    command, other = fit_command(automl, source, "runs/a")
    assert command == (
        "fairautoml fit '/data/my table.csv' --target label --sensitive group "
        "--constraint 'demographic_parity_difference<=0.1' --n-trials 3 --seed 0 --out runs/a"
    )
    assert any(o.startswith("time_budget=None") for o in other)
    source = {"dataset": "adult", "sensitive": None}
    assert fit_command(automl, source, "x")[0].startswith("fairautoml fit --dataset adult --c")


# --- `fairautoml report DIR` and the page in a browser -------------------------------------


@pytest.fixture(scope="module")
def run_dir(data, tmp_path_factory):
    X, y, s = data
    root = tmp_path_factory.mktemp("report")
    csv = root / "biased.csv"
    X.assign(group=s, label=y).to_csv(csv, index=False)
    out = root / "run"
    code = cli.main([
        "fit", str(csv), "--target", "label", "--sensitive", "group", "--n-trials", "2",
        "--constraint", "demographic_parity_difference<=0.1", "--out", str(out), "-q",
    ])  # fmt: skip
    assert code in VERDICT_EXITS
    return out


def test_report_command_rewrites_the_page_of_a_run(run_dir, capsys):
    page = run_dir / "report.html"
    written = page.read_text()
    page.unlink()
    assert cli.main(["report", str(run_dir)]) == 0
    assert f"wrote {page}" in capsys.readouterr().out
    text = page.read_text()
    assert _sections(text) == _sections(written) and "To reproduce" in _sections(text)
    csv = run_dir.parent / "biased.csv"
    assert f"fairautoml fit {csv} --target label --sensitive group" in text
    assert "all 600 rows, each predicted by a model that did not train on it" in text  # 600: CV
    csv.rename(csv.with_suffix(".moved"))
    try:  # the data moved: the page still comes, and says what it cannot show
        assert cli.main(["report", str(run_dir)]) == 0
        assert "does not exist" in capsys.readouterr().err
        assert "(Not shown: the data were not given" in page.read_text()
    finally:
        csv.with_suffix(".moved").rename(csv)
        cli.main(["report", str(run_dir)])  # the full page again, for the tests that follow


def test_report_command_on_a_directory_that_is_no_run(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert (
        f"No model.skops (or model.joblib) in {tmp_path}: give the --out directory"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "report.html").exists()


def _chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}",
             "--proxy-server=http://127.0.0.1:9",  # any network request would fail
             "--virtual-time-budget=5000", *args],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_page_renders_offline_in_headless_chromium(run_dir, tmp_path):
    import matplotlib.image

    url = (run_dir / "report.html").resolve().as_uri()
    png = tmp_path / "report.png"
    _chromium("--window-size=1000,3000", f"--screenshot={png}", url)
    image = matplotlib.image.imread(png)[..., :3]
    assert image.shape[:2] == (3000, 1000)
    assert np.std(image) > 0.05  # not a blank page
    assert (image.min(axis=2) < 0.5).mean() > 0.01  # text and tables: dark pixels
    colourful = image.max(axis=2) - image.min(axis=2) > 0.3  # the plot's coloured points
    assert colourful.sum() > 500
    dom = _chromium("--dump-dom", url).stdout
    assert re.search(r'<img alt="accuracy against each constraint" src="data:image/png', dom)
    tables = re.findall(r'<table class="groups">(.*?)</table>', dom, re.S)  # parsed: <tbody>
    assert len(tables) == 2  # the rates per group and the data summary
    n_rows = [len(re.findall(r"<tr><th>", table)) for table in tables]
    assert n_rows == [1 + 2 + 1, 1 + 2]  # header, groups a and b (, the largest gap)
    assert "meets demographic parity difference" in dom or "misses" in dom
