"""The social protection floor in workbooks: the Floor, Floor take-up and Floor eligibility sheets
round trip losslessly and refuse bad cells naming Sheet!Cell; a floor costing alone from the template
runs from the command line and writes only what applies; the results workbook's floor sheet."""

import re
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

from actuary import InputError, Valuation, load_workbook
from actuary.cli import main
from actuary.inputs import FIELDS
from actuary.io import presentation as pres
from actuary.io.folder import read_valuation_folder
from actuary.valuation import PROJECT_ROOT
from tests.test_workbook import _edit

CASE = PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx"
ALONE = PROJECT_ROOT / "valuations" / "demoland-floor" / "floor-only.xlsx"
SCHEME_SHEETS = {"Insured", "Pensioners", "Financial projection", "Financing indicators", "Balance sheet"}


@pytest.fixture(scope="module")
def case():
    return load_workbook(CASE)


@pytest.fixture(scope="module")
def floor_only_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("floor") / "floor-only.xlsx"
    result = CliRunner().invoke(main, ["template", str(path), "--floor-only"])
    assert result.exit_code == 0, result.output
    return path


def assert_same_inputs(first, second):
    for group in FIELDS:
        a, b = getattr(first.inputs, group), getattr(second.inputs, group)
        assert a.keys() == b.keys(), group
        for key, value in a.items():
            if hasattr(value, "values"):
                assert b[key] is not None, (group, key)
                np.testing.assert_array_equal(value.values, b[key].values, err_msg=f"{group}.{key}")
                assert list(value.coords) == list(b[key].coords), (group, key)
            else:
                assert value == b[key], (group, key)


def test_floor_workbook_round_trip_is_lossless(case, tmp_path):
    assert case.inputs.has_floor and list(case.inputs.coords["floor_benefit"]) == [
        "social_pension", "disability_benefit", "child_benefit", "maternity_benefit"]
    take_up = case.inputs.floor["take_up"]
    assert float(take_up.sel(year=2020, floor_benefit="child_benefit")) == 0.3
    assert float(take_up.sel(year=2030, floor_benefit="child_benefit")) == 0.8
    assert float(case.inputs.floor["eligibility"].sel(floor_benefit="child_benefit", sex="female", age=3)) == 0.4
    path = tmp_path / "copy.xlsx"
    case.to_workbook(path)
    again = load_workbook(path)
    assert_same_inputs(case, again)
    sheets = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert {"Floor", "Floor take-up", "Floor eligibility"} <= set(sheets)


def test_floor_only_template_runs_from_the_command_line(floor_only_template, tmp_path):
    alone = load_workbook(floor_only_template)
    assert_same_inputs(alone, load_workbook(ALONE))
    sheets = openpyxl.load_workbook(floor_only_template, read_only=True).sheetnames
    assert sheets == ["Contents", "Settings", "Economy", "Schedules", "Population", "Demographic rates", "Fertility",
                      "Labour force", "Floor", "Floor take-up", "Floor eligibility", "Report text"]
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["valuate", str(floor_only_template), "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "social protection floor" in result.output and "Level cost" in result.output
    written = openpyxl.load_workbook(out / f"{floor_only_template.stem}-results.xlsx")  # named after the input
    assert set(written.sheetnames) == {"Summary", "Demography", "Population by age", "Social protection floor",
                                       "Floor benefits", "Assumptions", "Definitions",
                                       "Demographic assumptions by age", "Labour assumptions by age",
                                       "Charts", "About this run"}
    # the assumptions it was costed on, as a valuation's results show them
    headers = [c.value for c in written["Assumptions"][2]]
    inflation = [row[headers.index("Inflation (% a year)")] for row in written["Assumptions"].iter_rows(
        min_row=3, max_row=2 + alone.inputs.coords["year"].size, values_only=True)]
    np.testing.assert_allclose(inflation, alone.inputs.economy["inflation"].values, rtol=1e-12)
    assert "Poverty line (currency a year per person)" in headers
    # no reserve without a scheme: the nominal return only discounts the floor's cost, and is named so
    assert "Nominal discount rate (% a year, of the floor's present values)" in headers
    assert not [h for h in headers if "reserve" in h or "investment" in h], headers
    # government expenditure and revenue are shares of GDP: in % as every share is, not four decimals of 40
    for name, label in (("government_expenditure_pct_gdp", "Government expenditure (% of GDP)"),
                        ("government_revenue_pct_gdp", "Government revenue (% of GDP)")):
        cells = [row[headers.index(label)] for row in written["Assumptions"].iter_rows(min_row=3, max_row=4)]
        assert {c.number_format for c in cells} == {"0.00%"}, label
        np.testing.assert_allclose([c.value for c in cells], alone.inputs.economy[name].values[:2] / 100, rtol=1e-12)
    provisions = {label: text for _, label, text, _ in pres.provisions(alone.inputs, ("economy",))}
    assert provisions["Government expenditure"] == "40.00% in every year (of GDP)"
    expected = alone.run().projection
    with xr.open_dataset(out / f"{floor_only_template.stem}-results.nc") as stored:
        assert "reserve" not in stored and "summary_gap" not in stored
        np.testing.assert_allclose(stored.floor_cost.values, expected.floor_cost.values, rtol=1e-12)
        np.testing.assert_allclose(stored.summary_floor_cost_level_pct_gdp.values,
                                   alone.run().summary.floor_cost_level_pct_gdp.values, rtol=1e-12)


def test_results_workbook_has_the_floor_sheet_and_its_stacked_chart(case, tmp_path):
    result = CliRunner().invoke(main, ["valuate", str(CASE), "--out", str(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Social protection floor:" in result.output
    written = openpyxl.load_workbook(tmp_path / f"{CASE.stem}-results.xlsx")
    assert SCHEME_SHEETS <= set(written.sheetnames)
    ws = written["Social protection floor"]
    headers = [c.value for c in ws[2]]
    p = case.run().projection
    rows = list(ws.iter_rows(min_row=3, max_row=2 + p.sizes["year"], values_only=True))
    column = headers.index("Cost of the floor (% of GDP)")
    np.testing.assert_allclose([r[column] for r in rows], p.floor_cost_pct_gdp.values / 100, rtol=1e-12)
    column = headers.index("Fiscal cost: floor, state subsidy to the scheme and minimum-pension top-up (millions)")
    np.testing.assert_allclose([r[column] for r in rows], p.fiscal_cost.values / 1e6, rtol=1e-12)   # in millions
    stacked = [c for c in written["Charts"]._charts if c.grouping == "stacked"]
    assert len(stacked) == 1 and len(stacked[0].series) == 4


# ------------------------------------------------------------------------------ bad floor sheets

def _cell(sheet, ref, value):
    def change(wb):
        wb[sheet][ref].value = value
    return change


def _both(*changes):
    def change(wb):
        for c in changes:
            c(wb)
    return change


BAD = {
    # Floor: rows 4 social_pension, 5 disability_benefit, 6 child_benefit (take-up phased), 7 maternity_benefit;
    # columns A benefit, B kind, C sex, D min_age, E max_age, F amount, G basis, H indexation, I take_up, J test,
    # K admin_share
    "unknown_kind": (_cell("Floor", "B4", "pension"), r"Floor!B4: value 'pension' is not an option for kind"),
    "blank_amount": (_cell("Floor", "F5", None), r"Floor!F5: the cell is blank; 'amount' is required for every benefit"),
    "text_amount": (_cell("Floor", "F6", "a lot"), r"Floor!F6: value 'a lot' is not a number"),
    "unknown_sex": (_cell("Floor", "C4", "men"), r"Floor!C4: value 'men' is not an option for sex"),
    "age_beyond_the_table": (_cell("Floor", "D4", 200),
                             r"Floor!D4: Input 'floor.min_age' at floor_benefit=social_pension: value 200 is not a "
                             r"whole age in 0..120"),
    "take_up_above_one": (_cell("Floor", "I7", 1.5),
                          r"Floor!I7: Input 'floor.take_up' at year=2020, floor_benefit=maternity_benefit: value 1.5 "
                          r"is outside \[0, 1\]"),
    "take_up_twice": (_cell("Floor", "I6", 0.5),
                      r"Floor!I6: take_up of 'child_benefit' is also given year by year in the 'Floor take-up' sheet"),
    "phased_take_up_above_one": (_cell("Floor take-up", "C10", 1.2),
                                 r"Floor take-up!C10: Input 'floor.take_up' at year=2026, "
                                 r"floor_benefit=child_benefit: value 1.2 is outside \[0, 1\]"),
    "phase_in_of_an_unknown_benefit": (_cell("Floor take-up", "B4", "pension"),
                                       r"Floor take-up!B4: benefit 'pension' is not a benefit of the Floor sheet"),
    "benefit_named_twice": (_cell("Floor", "A5", "social_pension"),
                            r"Floor!A5: benefit 'social_pension' is listed twice \(also in row 4\)"),
    "formula_as_a_name": (_cell("Floor", "A5", "'=1+1"), r"Floor!A5: name ''=1\+1' is not allowed"),
    "eligibility_above_one": (_cell("Floor eligibility", "D4", 2),
                              r"Floor eligibility!D4: Input 'floor.eligibility' at floor_benefit=disability_benefit, "
                              r"sex=male, age=18: value 2.0 is outside \[0, 1\]"),
    "unknown_column": (_cell("Floor", "M2", "amount_usd"), r"Floor!M2: column 'amount_usd' is not an input of this sheet"),
    "indexation_of_a_share": (_cell("Floor", "H4", "wages"),
                              r"Floor!H4: Input 'floor.indexation' at floor_benefit=social_pension: value 'wages' for "
                              r"an amount on the poverty_line basis"),
    "share_given_as_currency": (_cell("Floor", "F7", 5500),
                                r"Floor!F7: Input 'floor.amount' at floor_benefit=maternity_benefit: value 5500 is a "
                                r"share of the average_wage"),
    "phase_in_without_floor": (lambda wb: wb.remove(wb["Floor"]), r"sheet 'Floor take-up' needs the Floor sheet"),
    "floor_alone_with_scheme_inputs": (_cell("Settings", "B26", "no"),
                                       r"Settings!B\d+: Input 'settings\.\w+' belongs to the contributory scheme, but "
                                       r"settings.scheme is 'no'"),
}

BAD_ALONE = {
    "pension_test_without_a_scheme": (_cell("Floor", "J4", "pension_tested"),
                                      r"Floor!J4: Input 'floor.test' at floor_benefit=social_pension: value "
                                      r"'pension_tested' needs the scheme's pensioners"),
    "no_floor_sheet": (_both(lambda wb: wb.remove(wb["Floor"]), lambda wb: wb.remove(wb["Floor take-up"]),
                             lambda wb: wb.remove(wb["Floor eligibility"])), r"sheet 'Floor' is missing"),
    "poverty_line_missing": (lambda wb: wb["Schedules"].delete_cols(_column(wb["Schedules"], "poverty_line")),
                             r"Floor!G4: Input 'floor.basis' at floor_benefit=social_pension: value 'poverty_line', "
                             r"but economy.poverty_line is not given"),
}


def _column(ws, header):
    return next(c.column for c in ws[2] if c.value == header)


@pytest.mark.parametrize("source,case", [(CASE, c) for c in sorted(BAD)] + [(ALONE, c) for c in sorted(BAD_ALONE)])
def test_bad_floor_sheets_exit_2_naming_the_cell(source, case, tmp_path):
    change, pattern = {**BAD, **BAD_ALONE}[case]
    if case == "floor_alone_with_scheme_inputs":
        ws = openpyxl.load_workbook(source)["Settings"]
        assert ws["A26"].value == "scheme", "the Settings row of settings.scheme moved"
    bad = _edit(source, tmp_path / f"{case}.xlsx", change)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["valuate", str(bad), "--out", str(out)], terminal_width=400)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in text
    assert re.search(pattern, text), text
    assert not out.exists() or not any(out.iterdir())


def test_phase_in_without_benefits_is_refused(tmp_path):
    path = tmp_path / "no-benefits.xlsx"
    wb = openpyxl.load_workbook(CASE)
    wb["Floor"].delete_rows(4, 10)
    wb.save(path)
    with pytest.raises(InputError, match=r"Floor take-up!A4: the table has more than 0 data rows \(this is one "
                                         r"too many: rows from 4\); expected at most 0 "
                                         r"\(one per year x benefit: the Floor sheet names no benefit\)"):
        load_workbook(path)


def test_floor_sheets_are_optional_and_empty_ones_mean_no_floor(tmp_path):
    path = tmp_path / "blank-floor.xlsx"
    shutil.copy(CASE, path)
    wb = openpyxl.load_workbook(path)
    for name in ("Floor", "Floor take-up", "Floor eligibility"):
        ws = wb[name]
        ws.delete_rows(4, ws.max_row)
    for column in ("poverty_line", "government_expenditure_pct_gdp", "government_revenue_pct_gdp"):
        wb["Schedules"].delete_cols(_column(wb["Schedules"], column))
    wb.save(path)
    valuation = load_workbook(path)
    assert not valuation.inputs.has_floor
    assert "floor_cost" not in valuation.run().projection


def write_case_folder(valuation, folder):
    """A case folder of ``valuation``'s inputs: scalars in valuation.json, each table in a CSV of its own
    (index columns named after its dimensions; infinite ages written as blanks)."""
    import json

    folder.mkdir()
    spec = {"name": valuation.name}
    for group, values in valuation.raw.items():
        for key, value in values.items():
            if isinstance(value, xr.DataArray):
                frame = value.rename(f"{group}.{key}").to_dataframe().reset_index()
                frame = frame.replace([np.inf], np.nan)
                frame.to_csv(folder / f"{group}.{key}.csv", index=False)
            else:
                spec.setdefault(group, {})[key] = list(value) if isinstance(value, tuple) else value
    (folder / "valuation.json").write_text(json.dumps(spec))


def test_floor_costing_alone_from_a_case_folder_equals_the_workbook(tmp_path):
    workbook = load_workbook(ALONE)
    write_case_folder(workbook, tmp_path / "case")
    # the per-benefit columns in one table, as the Floor sheet has them
    frames = [pd.read_csv(path) for path in sorted((tmp_path / "case").glob("floor.*.csv"))
              if list(pd.read_csv(path).columns[:-1]) == ["floor_benefit"]]
    for path in (tmp_path / "case").glob("floor.*.csv"):
        if list(pd.read_csv(path).columns[:-1]) == ["floor_benefit"]:
            path.unlink()
    order = [str(b) for b in workbook.inputs.coords["floor_benefit"]]   # not alphabetical: kept by the reader
    table = pd.concat([f.set_index("floor_benefit") for f in frames], axis=1).reindex(order)
    table.reset_index().to_csv(tmp_path / "case" / "floor.csv", index=False)
    folder = read_valuation_folder(tmp_path / "case")
    assert list(folder.inputs.coords["floor_benefit"]) == list(workbook.inputs.coords["floor_benefit"])
    assert_same_inputs(workbook, folder)
    result = CliRunner().invoke(main, ["valuate", str(tmp_path / "case"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(folder.run().projection.floor_cost.values, workbook.run().projection.floor_cost.values)


def test_a_case_folder_refuses_an_unknown_floor_column(tmp_path):
    write_case_folder(load_workbook(ALONE), tmp_path / "case")
    pd.DataFrame({"floor_benefit": ["social_pension"], "floor.amount_typo": [1.0]}).to_csv(
        tmp_path / "case" / "extra.csv", index=False)
    with pytest.raises(InputError, match=r"extra.csv: column 'floor.amount_typo' is not a known input"):
        read_valuation_folder(tmp_path / "case")


def test_a_case_folder_with_a_shortened_horizon_says_which_rows_are_not_used(tmp_path):
    """valuation.json's horizon 100 -> 40 with tables of 100 years: the rows after 2059 are not used, and the
    valuation's source says which files have them (the CLI's note and About this run read it); the projection's
    years are the first 40 of the 100-year projection."""
    import json

    demo = Valuation.demo()
    write_case_folder(demo, tmp_path / "case")
    spec = json.loads((tmp_path / "case" / "valuation.json").read_text())
    spec["settings"]["horizon"] = 40
    (tmp_path / "case" / "valuation.json").write_text(json.dumps(spec))
    short = read_valuation_folder(tmp_path / "case")
    with_years = sorted(p.name for p in (tmp_path / "case").glob("*.csv") if "year" in pd.read_csv(p, nrows=0).columns)
    assert with_years and sorted(short.source["years_outside"]) == [f"{name}: 2060-2119" for name in with_years]
    np.testing.assert_allclose(short.project()[0].reserve.values, demo.project()[0].reserve.values[:40], rtol=1e-12)
    result = CliRunner().invoke(main, ["valuate", str(tmp_path / "case"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "does not cover: " in result.output and "they are not used." in " ".join(result.output.split())


def test_an_error_in_a_floor_costing_alone_names_no_missing_scheme_rows(floor_only_template, tmp_path):
    """A floor costing alone has no rows for the scheme's settings (max_service, after_depletion, ...): an error in
    it is said without a note that lists them as missing (a scheme workbook's error still lists its missing rows)."""
    def bad_age(wb):
        wb["Floor"].cell(4, 4).value = "abc"

    with pytest.raises(InputError) as error:
        load_workbook(_edit(floor_only_template, tmp_path / "bad.xlsx", bad_age))
    assert str(error.value) == "Floor!D4: value 'abc' is not a number; expected a number (years)."

    def no_row_and_bad_age(wb):
        ws = wb["Settings"]
        for row in range(3, ws.max_row + 1):
            if ws.cell(row, 1).value == "money_unit":   # an optional input the floor costing has
                ws.delete_rows(row)
                break
        bad_age(wb)

    with pytest.raises(InputError) as error:
        load_workbook(_edit(floor_only_template, tmp_path / "bad2.xlsx", no_row_and_bad_age))
    assert str(error.value).endswith("(Note: the workbook has no row for Settings: money_unit (default millions).)")


# ------------------------------------------------------------------------------ the results workbook's floor sheets

@pytest.fixture(scope="module")
def floor_results(case, tmp_path_factory):
    """The floor case's results and its results workbook (written once for the tests below)."""
    from actuary.io.results import write_results

    results = case.run()
    path = tmp_path_factory.mktemp("floor-results") / "valuation-results.xlsx"
    write_results(results, case, path)
    return results, openpyxl.load_workbook(path)


def test_the_floor_benefits_sheet_describes_each_benefit_in_words_and_figures(case, floor_results):
    """A "Floor benefits" sheet beside the floor's sheet: one row per benefit, from the floor inputs, with kind,
    ages, sex, amount and basis, test, take-up, indexation and administration share in words and figures."""
    results, written = floor_results
    names = written.sheetnames
    assert names.index("Floor benefits") == names.index("Social protection floor") + 1
    ws = written["Floor benefits"]
    headers = [c.value for c in ws[2]]
    rows = {r[0]: dict(zip(headers, r)) for r in ws.iter_rows(min_row=3, max_row=6, values_only=True)}
    assert list(rows) == ["Social pension", "Disability benefit", "Child benefit", "Maternity benefit"]
    pension, child, maternity = rows["Social pension"], rows["Child benefit"], rows["Maternity benefit"]
    assert pension["Identifier (inputs and netCDF file)"] == "social_pension"
    assert pension["Risk"] == "old age" and pension["Eligible (sex and age)"] == "everyone aged 65 and over"
    assert pension["Amount and basis"] == "100.0% of the poverty line a year"
    assert pension["Test"].startswith("pension-tested")
    assert pension["Indexation"] == "moves with the poverty line each year"
    assert pension["Take-up in 2020 (% of the eligible)"] == pytest.approx(0.9)
    assert pension["Administration (% of benefits)"] == pytest.approx(0.03)
    assert child["Amount and basis"] == "1,200 a year at 2020 levels, indexed to prices"
    assert child["Take-up"].startswith("30% in 2020") and child["Test"] == "universal"
    assert maternity["Eligible (sex and age)"] == "births to mothers aged 15-49"
    amounts = results.projection.floor_benefit_amount.sel(year=2020)
    for name, row in rows.items():
        assert row["Benefit a year per beneficiary in 2020 (currency a year)"] == pytest.approx(
            float(amounts.sel(floor_benefit=row["Identifier (inputs and netCDF file)"])))


def test_the_floor_benefits_sheet_prints_whole_on_one_page_wide(floor_results):
    """The Floor benefits sheet, a short table of twelve columns (four benefits), prints landscape on one page wide
    at 60% or more, its rows whole on that page (its long text wrapped in narrower columns, the rows taller), not
    three pages wide with each benefit's row cut into three: the page setup read back from the file, the scale
    from its column widths and row heights (a column of w characters is 7 w + 5 pixels; A4 landscape within the
    default margins 986 pixels wide and 451 points tall)."""
    from tests.test_results_workbook import _printed_scale, _rows_points

    ws = floor_results[1]["Floor benefits"]
    setup = ws.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and not ws.print_title_cols
    scale = _printed_scale(ws)
    assert 0.6 <= scale and scale * _rows_points(ws) <= 451, (scale, _rows_points(ws))
    test = [c.value for c in ws[2]].index("Test") + 1
    assert ws.cell(3, test).alignment.wrap_text   # "pension-tested: only persons without a scheme pension"
    assert ws.row_dimensions[3].height >= 45


def test_floor_benefit_names_read_as_people_write_them(floor_results):
    """Headers name benefits as people write them ("Social pension beneficiaries", "Cost of the child benefit"),
    never the identifier with underscores; the netCDF's floor_benefit labels are the identifiers, unchanged."""
    results, written = floor_results
    headers = [c.value for c in written["Social protection floor"][2]]
    assert "Social pension beneficiaries, mean of the year (persons)" in headers
    assert "Cost of the child benefit (% of GDP)" in headers
    assert "Cost of the child benefit, administration included (millions)" in headers
    assert not [h for h in headers if h and "_" in h] and not [h for h in headers if h and "benefit benefit" in h]
    stacked = [c for c in written["Charts"]._charts if c.grouping == "stacked"][0]
    titles = [written["Charts"].cell(1, c).value for c in range(1, written["Charts"].max_column + 1)]
    assert "Social pension" in titles and "social_pension" not in titles and len(stacked.series) == 4
    assert list(results.projection.floor_benefit.values)[0] == "social_pension"


def test_the_definitions_sheet_defines_the_floor_sheets(floor_results):
    """The floor's yearly columns, its present values and the Floor benefits columns are in the Definitions sheet."""
    results, written = floor_results
    defined = {(r[0], r[1]): r[3] for r in written["Definitions"].iter_rows(min_row=3, values_only=True)}
    description = results.projection.floor_cost.attrs["description"]
    assert defined[("Social protection floor", "Cost of the child benefit, administration included (millions)")] \
        == f"{description} (results variable floor_cost); this column: Cost of the child benefit, administration " \
           "included"
    assert defined[("Social protection floor", "Cost of the floor over 10 years, level share of GDP (% of GDP)")]
    for heading in (c.value for c in written["Floor benefits"][2]):
        assert defined[("Floor benefits", heading)] not in (None, "see the sheet's title"), heading
