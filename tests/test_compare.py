"""Reform options side by side: differences add up, the base against itself differs by zero, options from the
Reforms sheet (with year and cohort bounds) equal the changes made by hand, the command line; adequacy of
stylized careers against hand calculations."""

import numpy as np
import openpyxl
import pytest
import xarray as xr
from click.testing import CliRunner

from actuary import InputError, Valuation, accrual_schedule
from actuary.adequacy import stylized_careers
from actuary.cli import main
from actuary.compare import comparison, read_reforms
from actuary.inputs import phase_in

from .cohorts import MAX_SERVICE, T0, cohort_valuation


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def compared(demo):
    rates = demo.inputs.scheme["contribution_rate"]
    higher = demo.replace(scheme={"contribution_rate": xr.where(rates.year >= 2025, rates + 0.03, rates)})
    accrual = demo.inputs.scheme["accrual"]
    lower = demo.replace(scheme={"accrual": xr.where(accrual.year >= 2025, 0.8 * accrual, accrual)
                                 .transpose("year", "service")})
    return comparison(demo, {"higher rate": higher, "lower accrual": lower, "same": demo})


def test_the_base_against_itself_differs_by_nothing(compared):
    for name, variable in compared.data_vars.items():
        if name.endswith("_difference"):
            same = variable.sel(option="same").values
            assert np.all((same == 0) | np.isnan(same)), name
            assert np.all((variable.sel(option="base").values == 0) | np.isnan(variable.sel(option="base").values))


def test_differences_add_up(compared):
    """Each difference is option - base; the balance-sheet differences add up to the difference of the balance;
    a higher contribution rate from 2025 moves the contribution rate by 0.03 from 2025 and nothing else in the
    benefits or the adequacy of the careers."""
    d = compared.sel(option="higher rate")
    for name in ("reserve", "gap", "actuarial_balance", "replacement_rate"):
        np.testing.assert_allclose(d[f"{name}_difference"], d[name] - compared[name].sel(option="base"), rtol=0,
                                   atol=0)
    assets = sum(d[f"{k}_difference"] for k in compared.data_vars if k.startswith("asset_")
                 and not k.endswith("_difference"))
    liabilities = sum(d[f"{k}_difference"] for k in compared.data_vars if k.startswith("liability_")
                      and not k.endswith("_difference"))
    assert float(assets - liabilities) == pytest.approx(float(d.balance_difference), rel=1e-9, abs=1.0)
    rate = d.contribution_rate_difference
    assert np.all(rate.sel(year=slice(None, 2024)) == 0)
    np.testing.assert_allclose(rate.sel(year=slice(2025, None)), 0.03, rtol=1e-12)
    assert float(np.abs(d.benefit_expenditure_difference).max()) == 0
    assert float(np.abs(d.replacement_rate_difference).max()) == 0
    assert float(d.reserve_difference.sel(year=2030)) > 0 and float(d.actuarial_balance_difference) > 0
    lower = compared.sel(option="lower accrual")
    # service earned before 2025 keeps its accrual: those retiring in the first years hardly change
    assert float(lower.replacement_rate_difference.isel(career=1, sex=0).sel(year=2060)) < -0.05


def _with_reforms(valuation, folder, rows):
    """The valuation's workbook with a Reforms sheet of ``rows``."""
    path = folder / "base.xlsx"
    valuation.to_workbook(path)
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("Reforms")
    ws.append(["Reform options: changes to the base"])
    ws.append(["option", "input", "operation", "value", "from_year", "to_year", "from_cohort", "to_cohort", "notes"])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_reforms_sheet_options_equal_the_changes_made_by_hand(demo, tmp_path):
    base = demo.replace(scheme={"normal_retirement_age": None, "early_retirement_age": None,
                                "normal_retirement_age_by_cohort": phase_in(63, 1962, 2, 67)})
    path = _with_reforms(base, tmp_path, [
        ["rate", "scheme.contribution_rate", "shift", 0.03, 2025, None, None, None, None],
        ["ages", "scheme.normal_retirement_age_by_cohort", "shift", 1, None, None, 1970, None, "one year more"],
        ["progressive", "scheme.bend_points", "set", "30000, 80000", None, None, None, None, None],
        ["progressive", "scheme.bend_point_rates", "set", "1.0, 0.6, 0.3", None, None, None, None, None]])
    definitions = {}
    options = read_reforms(path, base, definitions)
    assert list(options) == ["rate", "ages", "progressive"]
    assert definitions == {"rate": "Contribution rate + 0.03 from 2025",
                           "ages": "Normal retirement age by cohort + 1 for cohorts born from 1970",
                           "progressive": "Bend points set to 30000, 80000; Bend point rates set to 1, 0.6, 0.3"}
    ages = options["ages"].inputs.scheme["normal_retirement_age_by_cohort"]
    table = base.inputs.scheme["normal_retirement_age_by_cohort"]
    np.testing.assert_array_equal(ages.sel(cohort=slice(None, 1969)), table.sel(cohort=slice(None, 1969)))
    np.testing.assert_array_equal(ages.sel(cohort=slice(1970, None)), table.sel(cohort=slice(1970, None)) + 1)
    assert options["progressive"].inputs.scheme["bend_points"] == (30000.0, 80000.0)
    rates = options["rate"].inputs.scheme["contribution_rate"] - base.inputs.scheme["contribution_rate"]
    assert float(rates.sel(year=2024)) == 0 and float(rates.sel(year=2025)) == pytest.approx(0.03)


def test_bad_reforms_row_names_the_cell(demo, tmp_path):
    path = _with_reforms(demo, tmp_path, [["x", "scheme.contribution_rate", "double", 2, None, None, None, None,
                                           None]])
    result = CliRunner().invoke(main, ["compare", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "Reforms!C3: operation 'double'" in result.output
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="no options"):
        comparison(demo, {})


def test_compare_command_with_option_workbooks(demo, tmp_path):
    base, option = tmp_path / "base.xlsx", tmp_path / "prices.xlsx"
    demo.replace(settings={"balance_sheet": "no"}).to_workbook(base)
    demo.replace(settings={"balance_sheet": "no"}, scheme={"ceiling_multiple": 3.0}).to_workbook(option)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compare", str(base), str(option), "--out", str(out)])
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(out / "base-comparison.nc")
    assert list(ds.option.values) == ["base", "prices"]
    assert float(ds.reserve_difference.sel(option="base").max()) == 0
    wb = openpyxl.load_workbook(out / "base-comparison.xlsx")
    ws = wb["Reserve ratio"]
    assert [c.value for c in ws[3]] == ["Year", "base", "prices", "prices - base"]
    assert ws.cell(row=4 + 10, column=1).value == int(ds.year[10])
    for column, value in ((2, ds.reserve_ratio.sel(option="base")), (3, ds.reserve_ratio.sel(option="prices")),
                          (4, ds.reserve_ratio_difference.sel(option="prices"))):
        assert ws.cell(row=4 + 10, column=column).value == pytest.approx(float(value[10]), rel=1e-12)
    assert ws.cell(row=4, column=2).number_format == "0.00"
    assert len(wb["Charts"]._charts) == 5
    assert [r for r in wb["Options"].iter_rows(min_row=3, values_only=True)] == [
        ("base", "the base valuation"), ("prices", "the valuation workbook prices.xlsx")]
    summary = {row[0]: row[1:] for row in wb["Summary"].iter_rows(min_row=4, values_only=True) if row[0]}
    gap = summary[f"General average premium over {int(ds.horizon[-1])} years (% of insurable earnings)"]
    assert gap[2] == pytest.approx(float(ds.gap_difference.sel(option="prices")[-1]), rel=1e-12)


# ----------------------------------------------------------------------------------- adequacy by hand

def _careers(**groups):
    groups.setdefault("settings", {}).update(horizon=40)
    groups["settings"].update(max_retirement_age=70)
    v = cohort_valuation(**groups)
    raw = {g: dict(x) for g, x in v.raw.items()}
    raw["settings"]["horizon"] = 40
    return stylized_careers(type(v)(**raw))


def test_full_careers_and_gaps_by_hand():
    """Entry at 25, retirement at 65: 0.5 + 39 + 0.5 = 40 years, 2% a year: a replacement rate of 80% at every
    earnings level (reference earnings are the last year's, no ceiling); the career at density 0.6: 24 years,
    48%. A ceiling of 1.5 x the average wage caps the 2x career at 0.8 x 1.5 / 2 = 60%; a minimum pension of
    15000 lifts the 0.5x career (0.8 x 15000 = 12000) to 15000 / 15000 = 100%."""
    a = _careers(settings={})
    rates = a.replacement_rate.sel(sex="male", year=T0)
    np.testing.assert_allclose(rates.values, [0.8, 0.8, 0.8, 0.48], rtol=1e-12)
    np.testing.assert_allclose(a.service.sel(sex="male", year=T0), [40, 40, 40, 24], rtol=1e-12)
    bounded = _careers(settings={}, scheme={"ceiling_multiple": 1.5, "minimum_pension": 15000.0})
    rates = bounded.replacement_rate.sel(sex="male", year=T0)
    assert float(rates[2]) == pytest.approx(0.6, rel=1e-12) and float(rates[0]) == pytest.approx(1.0, rel=1e-12)


def test_accrual_for_future_service_only_in_the_careers():
    """2% a year until 2029, 1% from 2030: the worker retiring in 2040 (entered in mid-2000) has 29.5 years at
    2% and 10.5 at 1%: 0.695; the one retiring in 2030 has 39.5 years at 2% and half a year at 1%."""
    years = np.arange(T0, T0 + 40)
    two, one = (accrual_schedule([(0, 0.0), (MAX_SERVICE, MAX_SERVICE * r)], MAX_SERVICE) for r in (0.02, 0.01))
    accrual = xr.concat([two if y < 2030 else one for y in years], dim="year").assign_coords(year=years)
    a = _careers(settings={}, scheme={"accrual": accrual.transpose("year", "service")})
    rates = a.replacement_rate.sel(sex="male", career="1x average wage")
    assert float(rates.sel(year=2040)) == pytest.approx(29.5 * 0.02 + 10.5 * 0.01, rel=1e-12)
    assert float(rates.sel(year=2030)) == pytest.approx(39.5 * 0.02 + 0.5 * 0.01, rel=1e-12)


def test_benefit_ratios_after_10_and_20_years():
    """Inflation 2%, real wages +1%, price indexation (lag 1): the pension grows 2% a year from the January after
    the award, the average wage 1.02 x 1.01: after k years the ratio is 0.8 x (1.02 / 1.0302)^k; the years past
    the horizon hold the last year's rates."""
    a = _careers(settings={}, economy={"inflation": 0.02, "real_wage_growth": 0.01})
    for k in (10, 20):
        ratio = a[f"benefit_ratio_{k}"].sel(sex="male", career="1x average wage")
        np.testing.assert_allclose(ratio.sel(year=[2025, 2055]), 0.8 * (1.02 / 1.0302) ** k, rtol=1e-12)


def test_bend_points_in_the_careers():
    """A full career (35 years from 30) under 90/32/15% with bend points 6000 and 25000: the 1x career
    (30000) gets 12230, the 0.5x career 0.9 x 6000 + 0.32 x 9000 = 8280."""
    a = _careers(settings={"adequacy_entry_age": 30},
                 scheme={"accrual": accrual_schedule([(0, 0.0), (35, 1.0)], MAX_SERVICE),
                         "bend_points": (6000.0, 25000.0), "bend_point_rates": (0.9, 0.32, 0.15)})
    pension = a.pension_at_award.sel(sex="male", year=T0)
    assert float(pension[1]) == pytest.approx(12230.0, rel=1e-12)
    assert float(pension[0]) == pytest.approx(8280.0, rel=1e-12)
