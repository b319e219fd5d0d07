"""Reform options side by side: differences add up, the base against itself differs by zero, options from the
Reforms sheet (with year and cohort bounds) equal the changes made by hand, the command line; adequacy of
stylized careers against hand calculations."""

import re
import shutil

import numpy as np
import openpyxl
import pytest
import xarray as xr
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from actuary import InputError, Valuation, accrual_schedule, load_workbook
from actuary.adequacy import stylized_careers
from actuary.cli import main
from actuary.batch import Scenario, Set
from actuary.compare import (_array_difference, comparison, input_differences, other_inputs_sentence, read_reforms,
                             write_comparison)
from actuary.inputs import phase_in
from actuary.valuation import PROJECT_ROOT

from .cohorts import MAX_SERVICE, T0, cohort_valuation
from .test_floor_report import borrowing_from_the_finance_table, own_deficit_from_the_finance_table
from .xlsx_edit import add_sheet, edit


FLOOR_CASE = PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx"


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


@pytest.fixture(scope="module")
def with_reforms(workbook_copy):
    """``with_reforms(valuation, folder, rows)``: the valuation's workbook, folder/base.xlsx, with a Reforms sheet of
    ``rows`` (the workbook a copy of the one written for the valuation once in the module: see workbook_copy)."""
    def write(valuation, folder, rows):
        plain = workbook_copy(valuation, folder / "plain-base.xlsx")
        header = ["option", "input", "operation", "value", "from_year", "to_year", "from_cohort", "to_cohort", "notes"]
        # the sheet added in the workbook's XML (an openpyxl load and save of Demoland's workbook takes seconds)
        path = add_sheet(plain, folder / "base.xlsx", "Reforms",
                         [["Reform options: changes to the base"], header, *rows])
        plain.unlink()
        return path
    return write


@pytest.fixture(scope="module")
def small40(demo):
    """Demoland over 40 years (2020-2059) without its balance sheet."""
    return demo.replace(settings={"balance_sheet": "no", "horizon": 40})


def test_reforms_sheet_options_equal_the_changes_made_by_hand(demo, tmp_path, with_reforms):
    base = demo.replace(scheme={"normal_retirement_age": None, "early_retirement_age": None,
                                "normal_retirement_age_by_cohort": phase_in(63, 1962, 2, 67)})
    path = with_reforms(base, tmp_path, [
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


def test_bad_reforms_row_names_the_cell(demo, tmp_path, with_reforms):
    path = with_reforms(demo, tmp_path, [["x", "scheme.contribution_rate", "double", 2, None, None, None, None,
                                           None]])
    result = CliRunner().invoke(main, ["compare", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "Reforms!C3: operation 'double'" in result.output
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="no options"):
        comparison(demo, {})


@pytest.mark.parametrize("key,value", [("settings.horizon", 50), ("settings.gap_horizons", "10, 20"),
                                       ("settings.national_population", "no")])
def test_a_reforms_row_on_a_setting_the_options_share_is_refused_at_its_cells(demo, tmp_path, key, value, with_reforms):
    """An option is set beside the base year by year and over its GAP horizons, with its results: a Reforms row on
    the horizon, the GAP horizons or the national population is refused naming its cells, as a Scenarios row is
    (the horizon was refused with advice for Python users and no cell, gap_horizons ran with NaN GAPs, the
    national population failed on an input the user never typed)."""
    path = with_reforms(demo, tmp_path, [["x", key, "set", value, None, None, None, None, None]])
    result = CliRunner().invoke(main, ["compare", str(path), "--out", str(tmp_path / "out")], terminal_width=400)
    said = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"Reforms!B3:D3: option 'x' would set {key}" in said and "the options are compared with the base" in said
    assert "valuation.replace" not in said and not (tmp_path / "out").exists()


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
    # money in currency units whatever money_unit (millions) says the workbooks show
    assert ds.attrs["money_unit"] == "millions" and ds.attrs["money"].startswith("currency units, not scaled")
    expected = demo.replace(settings={"balance_sheet": "no"}).run().projection.reserve.values
    np.testing.assert_allclose(ds.reserve.sel(option="base").values, expected, rtol=1e-12)
    wb = openpyxl.load_workbook(out / "base-comparison.xlsx")
    ws = wb["Reserve ratio"]
    assert [c.value for c in ws[3]] == ["Year", "base", "prices", "prices - base"]
    assert ws.cell(row=4 + 10, column=1).value == int(ds.year[10])
    for column, value in ((2, ds.reserve_ratio.sel(option="base")), (3, ds.reserve_ratio.sel(option="prices")),
                          (4, ds.reserve_ratio_difference.sel(option="prices"))):
        assert ws.cell(row=4 + 10, column=column).value == pytest.approx(float(value[10]), rel=1e-12)
    assert ws.cell(row=4, column=2).number_format == "0.00"
    assert len(wb["Charts"]._charts) == 5
    ceiling = np.unique(demo.inputs.scheme["ceiling_multiple"].values)   # the base's: one value in every year
    assert ceiling.size == 1
    assert [r for r in wb["Options"].iter_rows(min_row=3, values_only=True)] == [
        ("base", "the base valuation", None),
        ("prices", f"the valuation workbook prices.xlsx: scheme.ceiling_multiple {ceiling[0]:g} -> 3",
         "no: provisions only")]
    assert "also changes" not in result.output
    summary = {row[0]: row[1:] for row in wb["Summary"].iter_rows(min_row=4, values_only=True) if row[0]}
    gap = summary[f"General average premium over {int(ds.horizon[-1])} years (% of insurable earnings)"]
    # a difference of two rates in percentage points: the cell holds 100 x the difference of the fractions the
    # netCDF keeps (units share), under a "pp" format, not a percent format that would read as a relative change
    assert gap[2] == pytest.approx(100 * float(ds.gap_difference.sel(option="prices")[-1]), rel=1e-12)
    cells = {row[0].value: row for row in wb["Summary"].iter_rows(min_row=4) if row[0].value}
    gap_cells = cells[f"General average premium over {int(ds.horizon[-1])} years (% of insurable earnings)"]
    assert gap_cells[1].number_format == "0.00%" and gap_cells[3].number_format == '+0.00" pp";-0.00" pp";0.00" pp"'
    assert ds.gap_difference.attrs["units"] == ds.gap.attrs["units"]
    assert "0.01 is 1 percentage point" in ds.gap_difference.attrs["description"]
    ratio = wb["Reserve ratio"]   # a difference of ratios (years of expenditure) keeps the ratio's format
    assert ratio.cell(row=4, column=4).number_format == "0.00"


def test_an_option_workbook_of_another_horizon_is_refused_first(small40, workbook_copy, tmp_path):
    """An option workbook whose horizon (in Settings) is not the base's is refused as soon as it is read, in one
    paragraph naming the file, both horizons and what to set: nothing is said of it before (neither its differences
    from the base nor its by-year rows past its horizon) and nothing is run or written."""
    small = small40   # Demoland over 40 years without its balance sheet
    base, wide, option = tmp_path / "base.xlsx", tmp_path / "wide.xlsx", tmp_path / "short.xlsx"
    workbook_copy(small, base)
    small.replace(scheme={"ceiling_multiple": 3.0}).to_workbook(wide)

    def horizon_30(sheet):   # in the workbook's XML (an openpyxl load and save of it takes seconds)
        sheet.set(f"B{next(r for r in range(3, sheet.last_row() + 1) if sheet.get(f'A{r}') == 'horizon')}", 30)
    edit(wide, option, {"Settings": horizon_30})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compare", str(base), str(option), "--out", str(out)], terminal_width=400)
    assert result.exit_code == 2
    assert result.output == (
        "error: short.xlsx: the option projects 2020-2049 (valuation_year 2020, horizon 30 years) and the base "
        "base.xlsx 2020-2059 (valuation_year 2020, horizon 40 years); an option is compared with the base year by "
        "year: set horizon 40 in the Settings of short.xlsx (or horizon 30 in the base's) so that both project the "
        "same years.\n"), result.output
    assert not out.exists() or not any(out.iterdir())


def test_comparison_refuses_other_years_before_running_anything(demo, monkeypatch):
    """comparison() itself (the library's entry) refuses an option of other years before projecting the base or any
    option."""
    import actuary.compare

    def never(*args):
        raise AssertionError("a projection was run")

    monkeypatch.setattr(actuary.compare, "_measures", never)
    with pytest.raises(InputError, match=r"option 'short' projects 2020..2059 \(valuation_year 2020, horizon 40\); "
                                         r"the base 2020..2119 \(valuation_year 2020, horizon 100\): an option is "
                                         r"compared with the base year by year; give it horizon 100 "):
        comparison(demo, {"short": demo.replace(settings={"horizon": 40})})


def test_an_option_workbook_that_changes_assumptions_and_data_says_so(demo, tmp_path):
    """An option workbook with another investment return and initial reserve besides two provisions: its
    definition lists every input in which it differs, with the base's and the option's values, the assumptions
    and data set apart (in the definition, the Dataset, the Options sheet's column and note, a note on standard
    error); nothing claims the base's assumptions for it. A workbook identical to the base is said to be."""
    small = demo.replace(settings={"balance_sheet": "no", "horizon": 40, "gap_horizons": (10, 25)})
    years = small.inputs.coords["year"]
    rates = small.inputs.scheme["contribution_rate"]
    vesting = np.unique(small.inputs.scheme["vesting_years"].values)
    returns = small.inputs.economy["nominal_return"].values
    reserve = float(small.inputs.initial["reserve"])
    later = np.unique(rates.sel(year=slice(2030, None)).values)
    assert vesting.size == 1 and later.size == 1 and returns.min() < returns.max()
    small.to_workbook(tmp_path / "base.xlsx")
    shutil.copyfile(tmp_path / "base.xlsx", tmp_path / "same.xlsx")   # the same workbook (writing it takes seconds)
    small.replace(scheme={"vesting_years": vesting[0] + 5, "contribution_rate": xr.where(rates.year >= 2030,
                                                                                        rates + 0.02, rates)},
                  economy={"nominal_return": 0.07}, initial={"reserve": 2 * reserve}).to_workbook(tmp_path / "ret.xlsx")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "base.xlsx"), str(tmp_path / "ret.xlsx"),
                                       str(tmp_path / "same.xlsx"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(out / "base-comparison.nc")
    definition = str(ds.definition.sel(option="ret").values)
    provisions = [f"scheme.contribution_rate {later[0]:g} -> {later[0] + 0.02:g} in 2030-{years[-1]}",
                  f"scheme.vesting_years {vesting[0]:g} -> {vesting[0] + 5:g}"]
    others = [f"economy.nominal_return {returns.min():g}..{returns.max():g} -> 0.07",
              f"initial.reserve {reserve:,.0f} -> {2 * reserve:,.0f}"]
    assert definition == ("the valuation workbook ret.xlsx: " + "; ".join(provisions)
                          + "; also changes assumptions, data or methods: " + "; ".join(others)), definition
    assert str(ds.definition.sel(option="same").values) == \
        "the valuation workbook same.xlsx: identical to the base (no input differs)"
    assert list(ds.changes_beyond_provisions.values) == ["", "economy.nominal_return, initial.reserve", ""]
    assert "option 'ret' also changes assumptions, data or methods, not only provisions: economy.nominal_return, " \
           "initial.reserve" in result.output and "option 'same'" not in result.output
    sheet = openpyxl.load_workbook(out / "base-comparison.xlsx")["Options"]
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True) if any(r)]
    assert rows[1][2] == "economy.nominal_return, initial.reserve" and rows[2][2] == "no: provisions only"
    sentence = rows[3][0]
    assert "Option 'same' is projected with the same assumptions, data and methods as the base" in sentence
    assert "Option 'ret' also changes assumptions, data or methods (economy.nominal_return, initial.reserve)" \
        in sentence and "Each option" not in sentence


def test_a_reforms_option_that_changes_an_assumption_is_set_apart(demo, tmp_path, with_reforms):
    """A Reforms row may change any input: an option changing the investment return is not said to keep the
    base's assumptions; one changing a provision only is."""
    small = demo.replace(settings={"balance_sheet": "no", "horizon": 20, "gap_horizons": (10,)})
    path = with_reforms(small, tmp_path, [
        ["rate", "scheme.contribution_rate", "shift", 0.01, 2025, None, None, None, None],
        ["return", "economy.nominal_return", "shift", 0.01, None, None, None, None, None]])
    definitions = {}
    ds = comparison(small, read_reforms(path, small, definitions), definitions)
    assert list(ds.changes_beyond_provisions.values) == ["", "", "economy.nominal_return"]
    assert other_inputs_sentence(ds) == (
        "Option 'rate' is projected with the same assumptions, data and methods as the base; only provisions "
        "differ. Option 'return' also changes assumptions, data or methods (economy.nominal_return): its "
        "differences from the base are not the effect of its provisions alone.")


def test_a_reforms_option_of_other_inflation_lists_no_poverty_line_change_of_its_own(tmp_path, with_reforms):
    """Under a poverty line, a Reforms row of other inflation moves the line with its prices (the engine does, the
    user did not): the option's changes are the inflation, which says so; an option that gives its own line
    changes both."""
    case = load_workbook(FLOOR_CASE)
    small = case.replace(settings={"balance_sheet": "no", "horizon": 20, "gap_horizons": (10,)})
    path = with_reforms(small, tmp_path, [
        ["prices", "economy.inflation", "shift", 0.01, None, None, None, None, None],
        ["own line", "economy.inflation", "shift", 0.01, None, None, None, None, None],
        ["own line", "economy.poverty_line", "scale", 1.1, None, None, None, None, None]])
    definitions = {}
    options = read_reforms(path, small, definitions)
    assert definitions == {"prices": "Inflation + 0.01 (the poverty line moved with prices)",
                           "own line": "Inflation + 0.01; Poverty line x 1.1"}
    moved = input_differences(small, options["prices"])
    assert list(moved) == ["economy.inflation"] and moved["economy.inflation"].endswith(
        " -> 0.03..0.035 (the poverty line moved with prices)")
    assert list(input_differences(small, options["own line"])) == ["economy.inflation", "economy.poverty_line"]
    ds = comparison(small, options, definitions)
    assert list(ds.changes_beyond_provisions.values) == ["", "economy.inflation",
                                                         "economy.inflation, economy.poverty_line"]


@pytest.mark.parametrize("years, cells, said", [
    ((2070, None), "Reforms!E3", "years from 2070 lie outside"),
    ((2070, 2080), "Reforms!E3:F3", "years 2070 .. 2080 lie outside"),
    ((None, 2010), "Reforms!F3", "years up to 2010 lie outside"),
    ((2030, 2100), "Reforms!E3:F3", "years 2030 .. 2100 lie partly outside"),
    ((2040, 2030), "Reforms!E3:F3", "years from 2040 to 2030: the first is after the last")])
def test_a_reforms_row_outside_the_projection_is_refused(small40, with_reforms, tmp_path, years, cells, said):
    """A 40-year projection from 2020 (2020-2059): a row for years it does not have would change nothing (the
    option's results would be the base's) or only part of what it says: refused naming the cells, the years
    and the projection's years; exit 2, nothing written."""
    small = small40
    first, last = small.inputs.coords["year"][[0, -1]]
    assert (first, last) == (2020, 2059)
    path = with_reforms(small, tmp_path, [["late", "scheme.contribution_rate", "shift", 0.05, *years, None, None,
                                            None]])
    result = CliRunner().invoke(main, ["compare", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{cells}: option 'late', scheme.contribution_rate: {said}" in result.output
    assert "the first is after the last" in said or "the projection's years 2020-2059" in result.output
    assert not (tmp_path / "out").exists()


def test_a_reforms_row_limited_to_cohorts_names_the_option_and_its_cells(demo, tmp_path, with_reforms):
    """Cohort bounds on an input by year are an option's row in the Reforms sheet: the message names the cells
    and the option (not a "scenario") and points to the input by cohort; cohorts the table does not list are
    refused too."""
    path = with_reforms(demo, tmp_path, [["old cohorts", "scheme.normal_retirement_age", "shift", 1, None, None,
                                           1950, 1960, None]])
    with pytest.raises(InputError) as error:
        read_reforms(path, demo)
    message = str(error.value)
    assert message.startswith("Reforms!G3:H3: option 'old cohorts' limits scheme.normal_retirement_age to cohorts, "
                              "but scheme.normal_retirement_age has no cohort dimension") and "scenario" not in message
    assert "scheme.normal_retirement_age_by_cohort" in message
    base = demo.replace(scheme={"normal_retirement_age": None, "early_retirement_age": None,
                                "normal_retirement_age_by_cohort": phase_in(63, 1962, 2, 67)})
    listed = base.inputs.scheme["normal_retirement_age_by_cohort"].cohort.values
    path = with_reforms(base, tmp_path, [["unborn", "scheme.normal_retirement_age_by_cohort", "shift", 1, None,
                                           None, int(listed[-1]) + 10, None, None]])
    with pytest.raises(InputError, match=rf"^Reforms!G3: option 'unborn', scheme.normal_retirement_age_by_cohort: "
                                         rf"cohorts from {listed[-1] + 10} select none of the cohorts the table lists"):
        read_reforms(path, base)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=12, max_size=12), st.integers(0, 1), st.booleans())
def test_the_years_and_values_said_are_those_that_differ(changed, sex, everywhere):
    """A by-year-and-sex input changed in some years (for one sex or both): the difference names exactly the runs of
    consecutive years changed (counted here by hand), the sex when only one, and the one value before and after."""
    years = np.arange(2020, 2032)
    base = xr.DataArray(np.full((12, 2), 0.2), coords={"year": years, "sex": ["male", "female"]},
                        dims=("year", "sex"))
    option = base.copy()
    rows = np.array(changed)
    option[rows, :] = 0.25
    if not everywhere:
        option[rows, sex] = 0.2
    said = _array_difference("scheme.x", base, option)
    if not rows.any():
        assert said is None
        return
    runs, start = [], None
    for i, flag in enumerate([*changed, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append(f"{years[start]}" if i - 1 == start else f"{years[start]}-{years[i - 1]}")
            start = None
    where = "" if rows.all() else " in " + ", ".join(runs)
    where += "" if everywhere else f" for {['men', 'women'][1 - sex]}"
    assert said == f"scheme.x 0.2 -> 0.25{where}"


def test_an_override_of_years_outside_the_projection_is_refused_in_the_api(demo):
    small = demo.replace(settings={"horizon": 40})
    with pytest.raises(InputError, match=r"^scenario 'x', scheme.contribution_rate: years from 2070 lie outside "
                                         r"the projection's years 2020-2059"):
        Scenario("x", {"scheme.contribution_rate": Set(0.25, years=(2070, None))}).apply(small)


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


def test_a_difference_in_money_amounts_reads_with_thousands_separators():
    """A schedule of money (a poverty line of 12,000 growing with prices) reads 12,000..13,524 in an option's
    difference, as the workbooks' money cells do, not 12000..13523.7; rates keep their digits."""
    case = load_workbook(FLOOR_CASE).replace(settings={"balance_sheet": "no", "horizon": 20, "gap_horizons": (10,)})
    line = case.inputs.economy["poverty_line"]
    option = case.replace(economy={"poverty_line": line * 1.1})
    text = input_differences(case, option)["economy.poverty_line"]
    low, high = float(line.min()), float(line.max())
    assert text == (f"economy.poverty_line {low:,.0f}..{high:,.0f} -> {1.1 * low:,.0f}..{1.1 * high:,.0f}")
    assert "," in f"{high:,.0f}" and f"{high:.6g}" not in text


def test_the_compare_command_prints_the_replacement_rate_the_report_compares(demo, tmp_path):
    """The printed summary's replacement rate was the first year's (66.60% for every option, a reform phased in over
    cohorts included): it is now the report's, a 1x career of men retiring in the report's year (20 years on), where
    an accrual cut from 2025 shows."""
    from actuary.compare import adequacy_year
    from actuary.io.presentation import show

    small = demo.replace(settings={"balance_sheet": "no", "horizon": 30, "gap_horizons": (10,)})
    accrual = small.inputs.scheme["accrual"]
    base, option = tmp_path / "base.xlsx", tmp_path / "cut.xlsx"
    small.to_workbook(base)
    small.replace(scheme={"accrual": xr.where(accrual.year >= 2025, 0.8 * accrual, accrual)
                          .transpose("year", "service")}).to_workbook(option)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compare", str(base), str(option), "--out", str(out)], terminal_width=400)
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(out / "base-comparison.nc")
    year, career = adequacy_year(ds), str(ds.career.values[1])
    assert year == 2040 and career.startswith("1x")
    lines = result.output.splitlines()
    header = lines[lines.index(next(line for line in lines if line.startswith("┏"))) + 1:
                   lines.index(next(line for line in lines if line.startswith("┡")))]
    columns = [" ".join(" ".join(cells).split()) for cells in zip(*(line.strip("┃").split("┃") for line in header))]
    # (and, the reserve running out in 2031, the scheme's borrowing: there is no floor)
    assert columns == ["option", "GAP (full horizon, statutory)", "actuarial balance (gross)", "depletion year",
                       f"replacement rate at award, {career}, men retiring in {year}",
                       "scheme's deficits financed by borrowing, level over 30 years (% of GDP)"]
    rates = {o: show(float(ds.replacement_rate.sel(option=o, career=career, sex="male", year=year)), "share")
             for o in ("base", "cut")}
    assert rates["base"] != rates["cut"]   # the options differ where the report compares them
    first = {o: float(ds.replacement_rate.sel(option=o, career=career, sex="male").isel(year=0))
             for o in ("base", "cut")}
    assert first["base"] == first["cut"]   # and not in the first year
    for option, rate in rates.items():
        row = next(line for line in result.output.splitlines() if f" {option} " in line)
        assert rate in row, (option, row)
        level = float(ds.scheme_borrowing_level_pct_gdp.sel(option=option, horizon=30))
        assert level > 0 and row.endswith(f" {level:.2f}% │"), (option, row)


@pytest.fixture(scope="module")
def floor_compared(tmp_path_factory):
    """The floor case (a floor beside the scheme: a pension-tested social pension, a state-financed minimum-pension
    top-up) compared with an option of bend points; each valuation's own results beside."""
    case = load_workbook(FLOOR_CASE).replace(settings={"balance_sheet": "no", "horizon": 50,
                                                       "gap_horizons": (10, 25, 50)})
    option = case.replace(scheme={"bend_points": (30000.0, 80000.0), "bend_point_rates": (1.0, 0.6, 0.3)})
    ds = comparison(case, {"progressive": option})
    path = tmp_path_factory.mktemp("floor") / "floor-comparison.xlsx"
    write_comparison(ds, path)
    return ds, {"base": case.run(), "progressive": option.run()}, openpyxl.load_workbook(path)


def test_a_comparison_with_a_floor_carries_the_floor_and_the_fiscal_cost(floor_compared):
    """With a floor beside the scheme the comparison holds the floor's and the fiscal cost, by year in % of GDP and by
    horizon (present value, level share of GDP), each equal to the option's own valuation result, and their
    differences (option - base) in percentage points; the workbook's Summary and the yearly sheets show them."""
    ds, own, wb = floor_compared
    base, option = own["base"], own["progressive"]
    for name in ("floor_cost_pct_gdp", "fiscal_cost_pct_gdp"):
        for key, results in own.items():
            np.testing.assert_array_equal(ds[name].sel(option=key).values, results.projection[name].values)
        assert ds[f"{name}_difference"].attrs["units"] == "percentage points"
    for name in ("floor_cost_level_pct_gdp", "fiscal_cost_level_pct_gdp", "floor_cost_present_value",
                 "fiscal_cost_present_value"):
        for key, results in own.items():
            np.testing.assert_array_equal(ds[name].sel(option=key).values, results.summary[name].values)
    level = ds.fiscal_cost_level_pct_gdp_difference.sel(option="progressive", horizon=50)
    assert float(level) == float(option.summary.fiscal_cost_level_pct_gdp.sel(horizon=50)
                                 - base.summary.fiscal_cost_level_pct_gdp.sel(horizon=50))
    assert float(level) < 0   # as the reviewer found: the option lowers the fiscal cost
    summary = {row[0]: row[1:] for row in wb["Summary"].iter_rows(min_row=4, values_only=True) if row[0]}
    cells = summary["Fiscal cost over 50 years, level share of GDP (% of GDP)"]
    assert cells[0] == pytest.approx(float(base.summary.fiscal_cost_level_pct_gdp.sel(horizon=50)) / 100, rel=1e-12)
    assert cells[1] == pytest.approx(float(option.summary.fiscal_cost_level_pct_gdp.sel(horizon=50)) / 100,
                                     rel=1e-12)
    assert cells[2] == pytest.approx(float(level), rel=1e-12)   # percentage points
    assert "Cost of the floor over 10 years, level share of GDP (% of GDP)" in summary
    sheet = wb["Fiscal cost"]
    assert sheet.cell(row=4 + 10, column=1).value == 2030
    assert sheet.cell(row=4 + 10, column=3).value == pytest.approx(
        float(option.projection.fiscal_cost_pct_gdp.sel(year=2030)) / 100, rel=1e-12)


def test_a_comparison_without_a_floor_has_no_floor_measures(compared):
    assert not [name for name in compared.data_vars if "floor" in name or "fiscal" in name]


def test_the_report_chapter_shows_the_floor_and_the_fiscal_cost(floor_compared):
    """The report's comparison chapter, with a floor: the fiscal cost's level over the longest horizon for the base
    and the option with its difference in pp (formatted here with plain f-strings), the yearly tables of the floor's
    and the fiscal cost in % of GDP, and the key measures' rows by horizon."""
    from actuary.report import Chapter
    from actuary.report.comparison import comparison_chapter

    ds, own, _ = floor_compared
    chapter = Chapter("comparison", "Reform options")
    comparison_chapter(chapter, ds, lambda key, caption, svg: (key, caption, svg), "millions")
    base, option = (float(own[k].summary.fiscal_cost_level_pct_gdp.sel(horizon=50)) for k in ("base", "progressive"))
    said = " ".join(block for kind, block in chapter.blocks if kind == "p")
    assert (f"Over 50 years the fiscal cost's level share of GDP is {base:.2f}% in the base and {option:.2f}% in "
            f"'progressive' ({option - base:+.2f} pp)") in said
    tables = {block.caption: block for kind, block in chapter.blocks if kind == "table"}
    fiscal = tables["Fiscal cost (% of GDP)"]
    row = next(r for r in fiscal.rows if r[0] == "2030")
    value = float(own["progressive"].projection.fiscal_cost_pct_gdp.sel(year=2030))
    difference = value - float(own["base"].projection.fiscal_cost_pct_gdp.sel(year=2030))
    assert row[2] == f"{value:.2f}%" and row[3] == f"{difference:+.2f} pp"
    assert "Cost of the floor (% of GDP)" in tables
    differences = tables["Differences from the base (option - base)"]
    level = next(r for r in differences.rows if r[0] == "Fiscal cost over 50 years, level share of GDP (% of GDP)")
    assert level[1] == f"{option - base:+.2f} pp"


def test_the_comparisons_descriptions_say_what_the_data_are(floor_compared):
    """The average old-age pension is the end of the year's (the amount of the old-age pensions in payment at 31
    December over their number, as the pensioners counted then), not the start's; the pensions are those due (the
    methodology's B_t), not those paid after a cut."""
    ds, own, _ = floor_compared
    p = own["progressive"].projection
    amount = p.pension_amount_by_age.sel(benefit="old_age").sum(("sex", "age"))
    count = p.pensioners_by_age.sel(benefit="old_age").sum(("sex", "age"))
    np.testing.assert_allclose(ds.average_old_age_pension.sel(option="progressive"), amount / count, rtol=1e-12)
    assert "at the end of the year" in ds.average_old_age_pension.attrs["description"]
    assert "start" not in ds.average_old_age_pension.attrs["description"]
    assert ds.pensioners.attrs["description"] == "at the end of the year"
    assert ds.benefit_expenditure.attrs["description"].startswith("pensions due")
    assert "fiscal cost" in ds.horizon.attrs["description"]   # its measures by horizon: the GAP's and the floor's


def test_an_option_whose_ages_move_to_by_cohort_is_described_in_values(demo):
    """An option workbook that gives the normal retirement age by cohort instead of by year says both schedules in
    values under one input (not "given -> none" and "none -> given"); an input given in one valuation only says
    its values; the report names the input by its label."""
    from actuary.compare import describe_differences
    from actuary.report.comparison import in_words

    option = demo.replace(scheme={"normal_retirement_age": None, "early_retirement_age": None,
                                  "normal_retirement_age_by_cohort": phase_in(65, 1970, 12, 67)})
    ages = demo.inputs.scheme["normal_retirement_age"]
    assert float(ages.sel(year=2020, sex="male")) == 65 and float(ages.sel(year=2020, sex="female")) == 63
    assert float(ages.sel(year=2036, sex="female")) == 67 and float(ages.sel(year=2035, sex="female")) == 65
    differences = input_differences(demo, option)
    assert "scheme.normal_retirement_age_by_cohort" not in differences
    text = differences["scheme.normal_retirement_age"]
    assert text.startswith("scheme.normal_retirement_age: by year, men: 65 in 2020-2029, 66 in 2030-2035 and 67 "
                           "from 2036 / women: 63 in 2020-2025, ")
    assert text.endswith("-> by cohort, men and women: 65 for cohorts born up to 1969, 66 for those born in 1970 "
                         "and 67 for those born from 1971")
    assert differences["scheme.early_retirement_age"] == \
        "scheme.early_retirement_age: by year, men and women: 60 in every year -> none"
    assert "given" not in describe_differences(differences)
    assert in_words(describe_differences(differences)).startswith("Normal retirement age: by year, men: 65 in ")


def test_rows_of_one_input_in_other_years_form_a_phased_reform(demo, tmp_path, with_reforms):
    """Two Reforms rows on one input of one option, in years that do not overlap, are a schedule (each row applied
    to its years); rows whose years overlap are refused naming both rows' cells and what to do."""
    path = with_reforms(demo, tmp_path, [
        ["age67", "scheme.normal_retirement_age", "set", 66, 2030, 2034, None, None, None],
        ["age67", "scheme.normal_retirement_age", "set", 67, 2035, None, None, None, None]])
    definitions = {}
    ages = read_reforms(path, demo, definitions)["age67"].inputs.scheme["normal_retirement_age"]
    was = demo.inputs.scheme["normal_retirement_age"]
    assert (ages.sel(year=slice(None, 2029)) == was.sel(year=slice(None, 2029))).all()
    assert (ages.sel(year=slice(2030, 2034)) == 66).all() and (ages.sel(year=slice(2035, None)) == 67).all()
    assert definitions["age67"] == "Normal retirement age set to 66 in 2030-2034; Normal retirement age set to 67 " \
                                   "from 2035"
    path = with_reforms(demo, tmp_path, [
        ["age67", "scheme.normal_retirement_age", "set", 66, 2030, 2036, None, None, None],
        ["age67", "scheme.normal_retirement_age", "set", 67, 2035, None, None, None, None]])
    with pytest.raises(InputError, match=r"^Reforms!B4: option 'age67' changes scheme.normal_retirement_age where its "
                                         r"row at Reforms!B3 does too .*give each row its years"):
        read_reforms(path, demo)


def test_a_by_cohort_row_on_a_base_of_ages_by_year_names_its_cell_and_what_to_do(demo, tmp_path, with_reforms):
    for bounds in ((1970, None), (None, None)):
        path = with_reforms(demo, tmp_path, [
            ["c", "scheme.normal_retirement_age_by_cohort", "set", 67, None, None, *bounds, None]])
        with pytest.raises(InputError) as error:
            read_reforms(path, demo)
        said = str(error.value)
        assert said.startswith("Reforms!B3: option 'c' changes scheme.normal_retirement_age_by_cohort, which the base "
                               "valuation does not give (it gives scheme.normal_retirement_age instead)")
        assert "change scheme.normal_retirement_age" in said and "as a valuation of its own" in said
        assert "only a 'set'" not in said


def test_a_reforms_value_out_of_bounds_names_its_value_cell(demo, tmp_path, with_reforms):
    path = with_reforms(demo, tmp_path, [
        ["r", "scheme.contribution_rate", "shift", 0.01, 2025, 2029, None, None, None],
        ["r", "scheme.contribution_rate", "set", 25, 2030, None, None, None, None]])
    with pytest.raises(InputError, match=r"^Reforms!D4: option 'r': .*scheme.contribution_rate.*2030.*25"):
        read_reforms(path, demo)


def test_the_compare_command_prints_the_fiscal_cost_with_a_floor(tmp_path):
    """With a floor beside the scheme the printed summary has the fiscal cost's level share of GDP over the longest
    horizon for each option, as the comparison Dataset holds it."""
    case = load_workbook(FLOOR_CASE).replace(settings={"balance_sheet": "no", "horizon": 20, "gap_horizons": (10,)})
    base, option = tmp_path / "base.xlsx", tmp_path / "progressive.xlsx"
    case.to_workbook(base)
    case.replace(scheme={"bend_points": (30000.0, 80000.0), "bend_point_rates": (1.0, 0.6, 0.3)}).to_workbook(option)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compare", str(base), str(option), "--out", str(out)], terminal_width=400)
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(out / "base-comparison.nc")
    header = " ".join(re.sub(r"[┃│]", " ", result.output).split())   # the headers wrap over lines
    assert "fiscal cost," in header and "level over 20" in header and "years (% of" in header
    assert "borrowing," in header   # the fiscal cost with borrowing: the reserve runs out in 2031
    for name in ("base", "progressive"):
        level = float(ds.fiscal_cost_level_pct_gdp.sel(option=name, horizon=20))
        total = float(ds.fiscal_cost_with_borrowing_level_pct_gdp.sel(option=name, horizon=20))
        assert total > level
        assert re.search(rf"│ +{name} │.* {level:.2f}% │ +{total:.2f}% │$", result.output, re.M), result.output


# ------------------------------------------------------------------ the scheme's borrowing beside the fiscal cost

def deficits_present_value(p, n: int) -> float:
    """The present value over n years of the deficits financed by borrowing, each once: with a debt never repaid,
    the debt at the end of year n discounted at the investment returns (methodology §9)."""
    debt = np.maximum(-p.reserve.values, 0.0)
    assert np.all(np.diff(debt) >= 0)   # never repaid: the formula holds
    return float(np.cumprod(1 / (1 + p.investment_return.values))[n - 1] * debt[n - 1])


def gdp_present_value(p, n: int) -> float:
    returns = p.investment_return.values[:n]
    v = np.cumprod(np.r_[1.0, 1 / (1 + returns[:-1])]) / np.sqrt(1 + returns)   # mid-year, as the GAP
    return float(np.sum(v * p.gdp.values[:n]))


def test_a_comparison_with_a_floor_carries_the_scheme_borrowing_and_the_fiscal_cost_with_it(floor_compared):
    """The floor case borrows once its reserve runs out (2031); the option of bend points delays that (2035) and so
    cuts the borrowing. Each option's scheme borrowing and fiscal cost including it, by year in % of GDP and by
    horizon (present value, level share of GDP), are those derived from its own finance table; the differences are
    option - base (percentage points); the workbook has a sheet for each and their rows in the Summary."""
    ds, own, wb = floor_compared
    for key, results in own.items():
        p, s = results.projection, results.summary
        borrowing = borrowing_from_the_finance_table(p, float(s.depletion_year))
        expected = 100 * borrowing / p.gdp.values
        assert expected.sum() > 0, key
        np.testing.assert_allclose(ds.scheme_borrowing_pct_gdp.sel(option=key).values, expected, rtol=1e-9,
                                   atol=1e-12, err_msg=key)
        own_deficit = 100 * own_deficit_from_the_finance_table(p, borrowing) / p.gdp.values   # the interest left out
        np.testing.assert_allclose(ds.fiscal_cost_with_borrowing_pct_gdp.sel(option=key).values,
                                   p.fiscal_cost_pct_gdp.values + own_deficit, rtol=1e-9, atol=1e-12, err_msg=key)
        for h in ds.horizon.values:
            n = int(h)
            deficits = deficits_present_value(p, n)
            with_borrowing = float(s.fiscal_cost_present_value.sel(horizon=h)) + deficits
            at = ds.sel(option=key, horizon=h)
            assert float(at.scheme_borrowing_present_value) == pytest.approx(deficits, rel=1e-9, abs=1e-3)
            assert float(at.fiscal_cost_with_borrowing_present_value) == pytest.approx(with_borrowing, rel=1e-9)
            assert float(at.fiscal_cost_with_borrowing_level_pct_gdp) == pytest.approx(
                100 * with_borrowing / gdp_present_value(p, n), rel=1e-9)
            assert float(at.scheme_borrowing_level_pct_gdp) == pytest.approx(
                100 * deficits / gdp_present_value(p, n), rel=1e-9, abs=1e-12)
    assert list(ds.depletion_year.values) == [2031, 2035]
    level = ds.fiscal_cost_with_borrowing_level_pct_gdp
    difference = float(ds.fiscal_cost_with_borrowing_level_pct_gdp_difference.sel(option="progressive", horizon=50))
    assert difference == float(level.sel(option="progressive", horizon=50) - level.sel(option="base", horizon=50))
    assert difference < 0   # an option that delays depletion cuts the borrowing
    for name in ("scheme_borrowing_pct_gdp", "fiscal_cost_with_borrowing_pct_gdp", "scheme_borrowing_level_pct_gdp"):
        assert ds[f"{name}_difference"].attrs["units"] == "percentage points"
    summary = {row[0]: row[1:] for row in wb["Summary"].iter_rows(min_row=4, values_only=True) if row[0]}
    cells = summary["Fiscal cost including the scheme's borrowing over 50 years, level share of GDP (% of GDP)"]
    assert cells[:3] == pytest.approx([float(level.sel(option="base", horizon=50)) / 100,
                                       float(level.sel(option="progressive", horizon=50)) / 100, difference], rel=1e-12)
    assert "Scheme's deficits financed by borrowing over 10 years, level share of GDP (% of GDP)" in summary
    for sheet, name in (("Scheme borrowing", "scheme_borrowing_pct_gdp"),
                        ("Fiscal cost with borrowing", "fiscal_cost_with_borrowing_pct_gdp")):
        ws = wb[sheet]
        assert ws.cell(row=4 + 20, column=1).value == 2040
        assert ws.cell(row=4 + 20, column=3).value == pytest.approx(
            float(ds[name].sel(option="progressive", year=2040)) / 100, rel=1e-12)


@pytest.fixture(scope="module")
def borrowing_compared(demo):
    """Demoland (no floor; its reserve runs out in 2031) over 50 years, and an option of 3 points more contributions,
    with each one's own results."""
    base = demo.replace(settings={"balance_sheet": "no", "horizon": 50, "gap_horizons": (25,)})
    option = base.replace(scheme={"contribution_rate": base.inputs.scheme["contribution_rate"] + 0.03})
    return comparison(base, {"higher rate": option}), {"base": base.run(), "higher rate": option.run()}


def test_a_comparison_without_a_floor_shows_the_borrowing_of_a_reserve_that_runs_out(borrowing_compared):
    """Without a floor the valuation's results give no borrowing, but the scheme borrows all the same once its reserve
    runs out: the comparison shows each option's scheme borrowing (by year in % of GDP, by horizon) as derived from
    its own finance table, and no fiscal cost (there is no floor)."""
    ds, own = borrowing_compared
    assert not [name for name in ds.data_vars if "floor" in name or "fiscal" in name]
    for key, results in own.items():
        p, s = results.projection, results.summary
        assert "scheme_borrowing" not in p
        expected = 100 * borrowing_from_the_finance_table(p, float(s.depletion_year)) / p.gdp.values
        assert expected.sum() > 0, key
        np.testing.assert_allclose(ds.scheme_borrowing_pct_gdp.sel(option=key).values, expected, rtol=1e-9,
                                   atol=1e-12, err_msg=key)
        for h in ds.horizon.values:
            deficits = deficits_present_value(p, int(h))
            at = ds.sel(option=key, horizon=h)
            assert float(at.scheme_borrowing_present_value) == pytest.approx(deficits, rel=1e-9, abs=1e-3)
            assert float(at.scheme_borrowing_level_pct_gdp) == pytest.approx(
                100 * deficits / gdp_present_value(p, int(h)), rel=1e-9, abs=1e-12)
    assert list(ds.depletion_year.values) == [2031, 2035]
    assert float(ds.scheme_borrowing_level_pct_gdp_difference.sel(option="higher rate", horizon=50)) < 0
    assert ds.scheme_borrowing_pct_gdp.attrs["units"] == "percent"
    assert ds.scheme_borrowing_present_value.attrs["units"] == "currency at the valuation date"


def test_a_comparison_whose_reserves_last_or_cut_benefits_shows_no_borrowing(demo):
    """Without a floor the borrowing is shown only when some option's reserve runs out while the scheme borrows: not
    when the reserves last the projection, nor when benefits are cut instead (settings.after_depletion payable)."""
    short = demo.replace(settings={"balance_sheet": "no", "horizon": 5, "gap_horizons": (5,)})
    assert not [name for name in comparison(short, {"same": short}).data_vars if "borrowing" in name]
    payable = demo.replace(settings={"balance_sheet": "no", "horizon": 50, "gap_horizons": (25,),
                                     "after_depletion": "payable"})
    ds = comparison(payable, {"same": payable})
    assert float(ds.depletion_year.sel(option="base")) == 2031
    assert not [name for name in ds.data_vars if "borrowing" in name]


def test_the_report_chapter_shows_the_borrowing_of_each_option(floor_compared, borrowing_compared):
    """The comparison chapter says the level share of GDP of the fiscal cost including the scheme's borrowing over the
    longest horizon (with a floor; without one, of the scheme's deficits financed by borrowing) for the base and each
    option, with the difference in pp (formatted here with plain f-strings), and shows the yearly tables."""
    from actuary.report import Chapter
    from actuary.report.comparison import comparison_chapter

    for (ds, own), name, words in (
            (floor_compared[:2], "fiscal_cost_with_borrowing_level_pct_gdp",
             "the fiscal cost including the scheme's borrowing"),
            (borrowing_compared, "scheme_borrowing_level_pct_gdp",
             "the scheme's deficits financed by borrowing")):
        chapter = Chapter("comparison", "Reform options")
        comparison_chapter(chapter, ds, lambda key, caption, svg: (key, caption, svg), "millions")
        option = str(ds.option.values[1])
        base, other = (100 * deficits_present_value(own[k].projection, 50) / gdp_present_value(own[k].projection, 50)
                       + (float(own[k].summary.fiscal_cost_level_pct_gdp.sel(horizon=50)) if "fiscal" in name else 0)
                       for k in ("base", option))
        said = " ".join(block for kind, block in chapter.blocks if kind == "p")
        assert (f"Over 50 years the level share of GDP of {words} is {base:.2f}% in the base and {other:.2f}% in "
                f"'{option}' ({other - base:+.2f} pp)") in said
        assert "the reserve runs out in 2031 in the base, in 2035 in 'progressive'" in said or option != "progressive"
        tables = {block.caption: block for kind, block in chapter.blocks if kind == "table"}
        borrowing = tables["Scheme borrowing (% of GDP)"]
        row = next(r for r in borrowing.rows if r[0] == "2040")
        value = float(ds.scheme_borrowing_pct_gdp.sel(option=option, year=2040))
        assert row[2] == f"{value:.2f}%"
        assert ("Fiscal cost including the scheme's borrowing (% of GDP)" in tables) == ("fiscal" in name)
        levels = {r[0]: r for r in tables["Key measures of the base and each option"].rows}
        assert "Scheme's deficits financed by borrowing over 50 years, level share of GDP (% of GDP)" in levels


def test_with_a_floor_and_reserves_that_last_the_chapter_says_none_borrows():
    """With a floor the comparison carries the borrowing (the valuations' own results) even when no reserve runs out
    (the floor case over 10 years: it runs out in 2031): all 0, the fiscal cost including it equals the fiscal
    cost, and the chapter says so in a sentence instead of tables."""
    from actuary.report import Chapter
    from actuary.report.comparison import comparison_chapter

    case = load_workbook(FLOOR_CASE).replace(settings={"balance_sheet": "no", "horizon": 10, "gap_horizons": (10,)})
    ds = comparison(case, {"same": case})
    assert (ds.scheme_borrowing_pct_gdp.values == 0).all()
    np.testing.assert_array_equal(ds.fiscal_cost_with_borrowing_pct_gdp.values, ds.fiscal_cost_pct_gdp.values)
    chapter = Chapter("comparison", "Reform options")
    comparison_chapter(chapter, ds, lambda key, caption, svg: (key, caption, svg), "millions")
    said = " ".join(block for kind, block in chapter.blocks if kind == "p")
    assert "No option's reserve runs out within the projection while the scheme borrows" in said
    assert "Scheme borrowing (% of GDP)" not in {block.caption for kind, block in chapter.blocks if kind == "table"}
