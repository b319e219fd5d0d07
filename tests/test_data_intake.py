"""Member data -> checks -> initial state (actuary data, actuary synth).

The references are independent of the intake: the initial state and assumptions of Demoland the
synthetic extracts are drawn from, the multinomial sampling error of a sample of n records (a cell
holding D persons of a scheme of T is expected to hold D within sqrt(w D (1 - D/T)) persons after
expansion by the weight w = T / n), and the manifest of planted errors.
"""

import datetime as dt
import shutil

import numpy as np
import pytest
from openpyxl import load_workbook as open_workbook
from scipy import stats

from actuary import load_workbook
from actuary.data import checks
from actuary.data.intake import run_intake
from actuary.data.sources import Source
from actuary.data.synth import synthesize
from actuary.valuation import DEMOLAND

from .xlsx_edit import add_sheet, set_cells

@pytest.fixture(scope="session")
def rebuilt(tmp_path_factory, member_case):
    """Issue 17's round trip: 1,000,000 members drawn from Demoland (no errors) -> actuary data into
    Demoland's workbook (with a Scenarios sheet and a note of the user's)."""
    folder = tmp_path_factory.mktemp("million")
    manifest = synthesize(member_case, 1_000_000, 1, folder, fmt="parquet")
    work = tmp_path_factory.mktemp("rebuilt")
    workbook = work / "case.xlsx"
    # edited in its XML (an openpyxl load and save of the whole workbook cost more than the edit)
    add_sheet(DEMOLAND / "valuation.xlsx", work / "with-scenarios.xlsx", "Scenarios",
              [["the user's own scenarios sheet"]])
    set_cells(work / "with-scenarios.xlsx", workbook, {"Scheme": {"D3": "a note of the user's"}})
    files = manifest["files"]
    result = run_intake(Source(str(folder / files["insured"])), Source(str(folder / files["pensioners"])),
                        dt.date(2020, 1, 1), workbook, Source(str(folder / files["controls"])),
                        work / "out", weight=manifest["weight"])
    return workbook, result, manifest


def _z_scores(rebuilt_counts, demoland_counts, weight):
    """(rebuilt - expected) / sampling standard error of each cell expected to hold at least 5 records
    (the cells expected to hold fewer are pooled into one, where the normal approximation holds), and
    the rebuilt counts of the cells empty in Demoland."""
    d = np.asarray(demoland_counts, dtype=float).ravel()
    r = np.asarray(rebuilt_counts, dtype=float).ravel()
    total = d.sum()
    big = d / weight >= 5
    small = (d > 0) & ~big
    pooled = [d[small].sum()] if small.any() else []
    d_cells = np.append(d[big], pooled)
    r_cells = np.append(r[big], [r[small].sum()] if small.any() else [])
    d = d_cells
    se = np.sqrt(weight * d * (1 - d / total))
    return (r_cells - d) / se, r[~big & ~small]


@pytest.mark.parametrize("stock", ["active", "inactive"])
def test_round_trip_insured_within_sampling_error(rebuilt, member_case, stock):
    """Insured by sex and age, and by sex and completed service, within sampling error: every cell
    within 5 standard errors and the chi-square of all cells not significant at 0.1%."""
    _, result, manifest = rebuilt
    state = getattr(result.state, stock)
    expected = member_case.inputs.initial[stock]
    for dims in (("service",), ("age",)):
        z, outside = _z_scores(state.sum(dims).values, expected.sum(dims).values, manifest["weight"])
        assert not outside.any(), "persons in cells where Demoland has none"
        assert np.abs(z).max() < 5
        assert stats.chi2.sf(np.sum(z ** 2), z.size) > 1e-3
    total = float(expected.sum())
    assert abs(float(state.sum()) - total) < 5 * np.sqrt(manifest["weight"] * total)


def test_round_trip_pensioners_within_sampling_error(rebuilt, member_case):
    _, result, manifest = rebuilt
    ini = member_case.inputs.initial
    z, outside = _z_scores(result.state.pensioners.values, ini["pensioners"].values, manifest["weight"])
    assert not outside.any()
    assert np.abs(z).max() < 5 and stats.chi2.sf(np.sum(z ** 2), z.size) > 1e-3
    # average pension by benefit and sex: synth draws each pension as the cell average x lognormal (cv 0.2)
    count = result.state.pensioners
    for benefit in ("old_age", "invalidity", "widow", "orphan"):
        for sex in ("male", "female"):
            n = float(count.sel(benefit=benefit, sex=sex).sum())
            average = float((count * result.state.average_pension).sel(benefit=benefit, sex=sex).sum()) / n
            truth = float((ini["pensioners"] * ini["average_pension"]).sel(benefit=benefit, sex=sex).sum()
                          / ini["pensioners"].sel(benefit=benefit, sex=sex).sum())
            records = n / manifest["weight"]
            assert abs(average / truth - 1) < 5 * 0.3 / np.sqrt(records)


def test_round_trip_salary_scale(rebuilt, member_case):
    """The salary scale rebuilt from insurable earnings (capped at the ceiling, floored) matches
    Demoland's mean salary within sampling error at every age 20-64: tolerance 4 standard errors of
    the age's mean earnings plus 1% for graduating Demoland's piecewise-linear scale across its kinks."""
    _, result, _ = rebuilt
    earnings = result.state.earnings
    truth = member_case.inputs.behaviour["salary_scale"]
    for code, sex in (("M", "male"), ("F", "female")):
        observed = earnings[earnings["sex"] == code].set_index("age")
        ages = np.arange(20, 65)
        relative_se = (observed["se"] / observed["mean"]).reindex(ages).to_numpy()
        ratio = result.state.salary_scale.sel(sex=sex, age=ages).values / truth.sel(sex=sex, age=ages).values
        assert np.all(np.abs(ratio - 1) < 4 * relative_se + 0.01), np.round(ratio - 1, 4)
    assert float(result.state.salary_scale.min()) > 0


def test_round_trip_gap_and_workbook_kept(rebuilt, member_case):
    """The rebuilt workbook loads, keeps the user's sheet, note and the reserve, and its 75-year GAP is
    within 0.3 percentage points of Demoland's."""
    workbook, result, _ = rebuilt
    assert result.workbook == workbook and not result.checks.fatal
    wb, demoland = (open_workbook(path, read_only=True) for path in (workbook, DEMOLAND / "valuation.xlsx"))
    assert wb["Scenarios"]["A1"].value == "the user's own scenarios sheet"
    assert wb["Scheme"]["D3"].value == "a note of the user's"
    assert wb.sheetnames.index("Insured") == demoland.sheetnames.index("Insured")
    wb.close(), demoland.close()
    valuation = load_workbook(workbook)
    assert valuation.inputs.initial["reserve"] == member_case.inputs.initial["reserve"]
    gap = valuation.run().summary.gap.sel(horizon=75)
    gap0 = member_case.run().summary.gap.sel(horizon=75)
    assert abs(float(gap) - float(gap0)) < 0.003


def test_clean_extract_hits_nothing(rebuilt):
    _, result, _ = rebuilt
    assert result.checks.hits_total == 0
    assert result.checks.summary["records"].sum() == 0
    assert (result.checks.controls["status"] == "within").all()


@pytest.fixture(scope="session")
def planted(tmp_path_factory, member_case):
    folder = tmp_path_factory.mktemp("planted")
    manifest = synthesize(member_case, 60_000, 7, folder, errors=0.01)
    workbook = folder / "case.xlsx"
    shutil.copy(DEMOLAND / "valuation.xlsx", workbook)
    files = manifest["files"]
    result = run_intake(Source(str(folder / files["insured"])), Source(str(folder / files["pensioners"])),
                        dt.date(2020, 1, 1), workbook, Source(str(folder / files["controls"])),
                        folder / "out", weight=manifest["weight"])
    return folder, manifest, result


def test_planted_errors_found_by_their_rule_and_nothing_else(planted):
    """Every planted error is hit by its rule, at its row, and nothing else is hit: exact counts."""
    import pandas as pd

    folder, manifest, result = planted
    expected = pd.read_csv(folder / "errors.csv")
    hits = pd.read_excel(result.checks_path, sheet_name="Records", header=2)
    found = set(zip(hits["rule"], hits["file"], hits["line"].astype(int)))   # CSV files: the line an editor shows
    wanted = set(zip(expected["rule"], expected["file"], expected["row"].astype(int)))
    assert found == wanted
    counts = result.checks.summary.set_index("rule")["records"]
    for rule, n in manifest["planted_errors"].items():
        assert counts[rule] == n, rule
    assert counts.sum() == len(expected)
    planted_classes = {checks.RULES[r].check for r in manifest["planted_errors"]}
    assert planted_classes == {"completeness", "validity", "consistency", "duplicates", "outliers", "reconciliation"}
    assert set(manifest["planted_errors"]) == {c for c in checks.RULES if c[0] in "MP"} | {"R03"}


def test_planted_errors_treatments(planted):
    """Treatments as documented: exclusions counted, imputed service, capped service, workbook filled."""
    folder, manifest, result = planted
    summary = result.checks.summary.set_index("rule")
    excluded = summary.loc[summary["file"] == "insured", "excluded"].sum()
    assert excluded == result.checks.excluded["insured"]
    assert summary.loc["M106", "imputed"] == manifest["planted_errors"]["M106"]
    assert summary.loc["M502", "capped"] == manifest["planted_errors"]["M502"]
    assert summary.loc["P501", "imputed"] == manifest["planted_errors"]["P501"]
    assert result.workbook is not None       # R03 was planted as not fatal: the intake went on
    assert not result.checks.fatal and any(w.startswith("R03") for w in result.checks.warnings)

