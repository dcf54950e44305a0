"""The page a fit leaves behind says what was found, in words, and stands alone."""

from __future__ import annotations

import base64
import io
import re
import sys
import warnings

import pytest

from fairautoml import FairAutoML
from fairautoml.fit_report import TIER_MEANING, pick_summary, write_fit_report
from fairautoml.testing import make_biased


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
    page = write_fit_report(automl, tmp_path / "report.html", source="600 test rows").read_text()
    cfg = automl.best_config_
    assert f"fairautoml: {cfg['model']}</h1>" in page
    assert "demographic_parity_difference &lt;= 0.1, on 600 test rows" in page
    for line in pick_summary(automl):  # the CLI's lines, the same words
        assert line.replace("<=", "&lt;=") in page
    meaning = TIER_MEANING[cfg["tier"]].format(level=cfg["interval_level"])
    assert meaning in page
    assert not re.search(r'(src|href)="https?:', page)  # nothing to fetch: it stands alone
    (encoded,) = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    image = matplotlib.image.imread(io.BytesIO(base64.b64decode(encoded)), format="png")
    assert image.shape[0] > 300 and image.shape[1] > 500
    first_rows = re.findall(r"<tr[^>]*>\s*<td>(\d+)</td>", page)
    assert int(first_rows[0]) == cfg["trial"]  # the leaderboard in the pick's order


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
