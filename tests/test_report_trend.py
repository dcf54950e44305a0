"""A numeric sensitive attribute on the report page (issue 60, item 4): the decision rate
along it in display bins, the fitted line the constraint reads, and its value with an
interval that matches a hand computation on the same rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from fairautoml import FairAutoML, datasets
from fairautoml.data.groups import GroupEncoder
from fairautoml.report.evidence import context, predictions_on_evidence
from fairautoml.report.page import write_fit_report
from fairautoml.report.trend import DISPLAY_BINS, display_bins, ordered, shown_groups

GEDI = "generalized_disparate_impact"


def test_display_bins_keep_equal_values_together_and_cover_every_value():
    values = np.array([18, 18, 18, 18, 19, 20, 20, 35, 50, 70, 70, 96], dtype=float)
    index, labels = display_bins(values)
    assert len(labels) <= DISPLAY_BINS
    for v in np.unique(values):
        assert len(set(index[values == v])) == 1  # one value, one bin
    assert index.min() == 0 and index.max() == len(labels) - 1
    assert labels[0].startswith("[18,") and labels[-1].endswith("96]")
    for i, label in enumerate(labels):  # each value inside its bin's label
        low, high = (float(x) for x in re.findall(r"[\d.]+", label))
        inside = values[index == i]
        assert inside.min() >= low and inside.max() <= high
    one_value, labels = display_bins(np.full(5, 3.0))
    assert labels == ["3"] and set(one_value) == {0}


def test_the_table_groups_a_numeric_attribute_in_display_bins_beside_the_other_attribute():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"age": rng.integers(18, 80, 600).astype(float), "sex": rng.choice(["F", "M"], 600)}
    )
    encoder = GroupEncoder.fit(frame, continuous={"age": f"{GEDI}[age] <= 0.1"})
    codes = encoder.encode(frame)

    labels, order = shown_groups(encoder, codes)
    assert order is not None and len(order) == len(set(labels)) <= 2 * DISPLAY_BINS
    assert all(label.endswith((" & F", " & M")) for label in labels)
    firsts = [float(re.findall(r"[\d.]+", label)[0]) for label in order]
    assert firsts == sorted(firsts)  # bins in the order of age
    table = pd.DataFrame({"rows": 1}, index=[*reversed(order), "largest gap"])
    assert list(ordered(table, order).index) == [*order, "largest gap"]
    plain = GroupEncoder.fit(frame[["sex"]])
    labels, order = shown_groups(plain, plain.encode(frame[["sex"]]))
    assert order is None and set(labels) == {"F", "M"}


def test_the_page_shows_the_measure_along_age_as_measured_by_hand(tmp_path):
    X, y, _ = datasets.load("compas")
    X, y = X.iloc[:1500].reset_index(drop=True), y.iloc[:1500].reset_index(drop=True)
    automl = FairAutoML(
        constraints=f"{GEDI}[age] <= 0.5", n_trials=2, learners=["logistic_regression"],
        mitigators=["none"], random_state=0,
    ).fit(X, y, sensitive_features="age")  # fmt: skip
    ctx, _ = context(automl, (X, y, "age"))
    rows, _, predicted = predictions_on_evidence(automl, ctx, (X, y, "age"))
    assert len(rows) == len(X)  # cross-validated: every row, in the table's order
    text = write_fit_report(automl, tmp_path / "report.html", data=(X, y, "age")).read_text()
    assert "<h2>Along age</h2>" in text and 'alt="decisions along age"' in text
    shown = float(re.search(r"generalized disparate impact \[age\] = ([\d.]+)", text).group(1))
    age = X["age"].to_numpy(dtype=float)[rows]
    u = (age - age.min()) / (age.max() - age.min())  # the fit's lowest and highest age
    slope = np.polyfit(u, predicted.astype(float), 1)[0]
    assert abs(shown - abs(slope)) < 5e-4
    assert f"[{age.min():g}," in text  # the per-group table is in display bins, not one row per age
    # no table on the page (groups, calibration, data) has a row per age
    assert re.findall(r"<tr><th>(\d+(?:\.\d+)?)</th>", text) == []
