"""The valuation workbook: round trips, and bad workbooks rejected with Sheet!Cell messages (exit 2,
no traceback, no output file)."""

import re
import shutil
import zipfile
from xml.etree import ElementTree as ET

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from actuary import InputError, Valuation, load_workbook
from actuary.cli import main
from actuary.inputs import FIELDS

from .xlsx_edit import Sheet, _cell_xml, edit, q, set_cells, sheet_parts


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def demo_workbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("wb") / "demo.xlsx"
    result = CliRunner().invoke(main, ["template", str(path), "--demo"])
    assert result.exit_code == 0, result.output
    return path


def test_template_demo_runs_like_the_embedded_case(demo, demo_workbook):
    expected = demo.run()
    loaded = load_workbook(demo_workbook).run()
    for name, variable in expected.projection.data_vars.items():
        if variable.dtype.kind == "f":
            np.testing.assert_allclose(loaded.projection[name], variable, rtol=1e-12, atol=0, err_msg=name)
    np.testing.assert_allclose(loaded.summary.gap, expected.summary.gap, rtol=1e-12)


def test_to_workbook_then_load_is_lossless(demo, tmp_path):
    path = tmp_path / "copy.xlsx"
    demo.to_workbook(path)
    again = load_workbook(path)
    assert again.name == demo.name
    for group in FIELDS:
        first, second = getattr(demo.inputs, group), getattr(again.inputs, group)
        assert first.keys() == second.keys()
        for key, value in first.items():
            other = second[key]
            if hasattr(value, "values"):
                np.testing.assert_array_equal(value.values, other.values, err_msg=f"{group}.{key}")
            else:
                assert value == other, (group, key)


def test_year_varying_rates_go_to_the_by_year_sheet(demo, tmp_path):
    coverage = demo.inputs.behaviour["coverage"].copy()
    coverage.loc[dict(year=slice(2040, None))] *= 0.9
    changed = demo.replace(behaviour={"coverage": coverage})
    path = tmp_path / "by_year.xlsx"
    changed.to_workbook(path)
    assert "Labour force by year" in openpyxl.load_workbook(path, read_only=True).sheetnames
    again = load_workbook(path)
    np.testing.assert_array_equal(again.inputs.behaviour["coverage"].values, coverage.values)


def test_accrual_by_year_goes_to_its_by_year_sheet(demo, tmp_path):
    """A change of the accrual schedule from 2030 is written to 'Accrual by year' and read back."""
    accrual = demo.inputs.scheme["accrual"].copy()
    accrual.loc[dict(year=slice(2030, None))] *= 0.75
    changed = demo.replace(scheme={"accrual": accrual})
    path = tmp_path / "accrual.xlsx"
    changed.to_workbook(path)
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert "Accrual by year" in names and "Accrual" in names
    again = load_workbook(path)
    np.testing.assert_allclose(again.inputs.scheme["accrual"].values, accrual.values, rtol=1e-15, atol=0)
    assert float(again.run().summary.accrued_liability) == pytest.approx(
        float(changed.run().summary.accrued_liability), rel=1e-13)


def test_blank_template_names_the_first_missing_input(tmp_path):
    path = tmp_path / "blank.xlsx"
    assert CliRunner().invoke(main, ["template", str(path)]).exit_code == 0
    with pytest.raises(InputError, match=r"^(Scheme|Schedules|Economy)!"):
        load_workbook(path)


# ------------------------------------------------------------------------------ bad workbooks

class _InXml:
    """A change of one sheet made in the workbook's XML (``change(xlsx_edit.Sheet)``), not through openpyxl: a load
    and save of Demoland's workbook by openpyxl takes seconds, and the bad workbooks are many."""

    def __init__(self, sheet, change):
        self.sheet, self.change = sheet, change


def _edit(source, target, change):
    if isinstance(change, _InXml):
        return edit(source, target, {change.sheet: change.change})
    wb = openpyxl.load_workbook(source)
    change(wb)
    wb.save(target)
    return target


def _find(ws, header):
    for cell in ws[2]:
        if cell.value == header:
            return cell.column
    raise KeyError(header)


def _column_in_xml(sheet, header):
    """The column number of ``header`` in row 2 of a sheet's XML."""
    for column in range(1, sheet.last_column() + 1):
        if sheet.get(f"{get_column_letter(column)}2") == header:
            return column
    raise KeyError(header)


def _set(sheet, header, row, value):
    def change(s):
        ref = f"{get_column_letter(_column_in_xml(s, header))}{row}"
        if isinstance(value, str) and value.startswith("="):
            s.formula(ref, value[1:])   # a formula without a saved value (as openpyxl writes it)
        else:
            s.set(ref, value)           # None: the cell blank
    return _InXml(sheet, change)


def _fit_dimension(s):
    """The sheet's <dimension> after rows or columns were deleted or added (as openpyxl writes it)."""
    s.dimension(f"A1:{get_column_letter(s.last_column())}{s.last_row()}")


def _delete_rows(sheet, first, count):
    def change(s):
        for _ in range(count):
            s.delete_row(first)
        _fit_dimension(s)
    return _InXml(sheet, change)


def _whole(value):
    """A number read from the XML (a float) as openpyxl gives a whole number: an int."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _extra_rows(s):
    for row in range(s.last_row() + 1, 10_004 + 1):   # appended in order (Sheet.set looks for each row)
        element = ET.SubElement(s.data, q("row"), {"r": str(row)})
        element.append(_cell_xml(f"A{row}", row))
        element.append(_cell_xml(f"B{row}", 0.0))
    _fit_dimension(s)


def _swap_ages(s):
    s.set("A34", 31)
    s.set("A35", 30)


def _duplicate_row(s):
    s.set("A6", _whole(s.get("A4")))
    s.set("B6", _whole(s.get("B4")))


def _remove_column(sheet, header):
    def change(s):
        s.delete_column(_column_in_xml(s, header))
        _fit_dimension(s)
    return _InXml(sheet, change)


def _add_column(s):
    column = get_column_letter(s.last_column() + 1)
    s.set(f"{column}2", "inflation_rate")
    for row in range(4, 104):
        s.set(f"{column}{row}", 0.02)
    _fit_dimension(s)


def _set_scalar(sheet, name, value):
    """Set the value of the input ``name`` in a scalar sheet (field | value | units | notes)."""
    def change(s):
        row = next(r for r in range(3, s.last_row() + 1) if s.get(f"A{r}") == name)
        s.set(f"B{row}", value)
    return _InXml(sheet, change)


BAD = {
    # name: (how to make it, expected message pattern)
    "missing_sheet": (lambda wb: wb.remove(wb["Decrements"]), r"sheet 'Decrements' is missing"),
    "missing_column": (_remove_column("Schedules", "inflation"), r"Schedules!\w+2: column 'inflation' is missing"),
    "text_in_number": (_set("Schedules", "nominal_return", 10, "four percent"),
                       r"Schedules!\w+10: value 'four percent' is not a number; expected a number"),
    "blank_required": (_set("Schedules", "inflation", 12, None),
                       r"Schedules!\w+12: the cell is blank; 'inflation' needs a value in every row"),
    "negative_count": (_set("Population", "population", 7, -5),
                       r"Population!C7: Input 'demography.population' at sex=male, age=3: value -5.0 is negative"),
    "rate_above_one": (_set("Decrements", "exit_rate", 9, 1.5),
                       r"Decrements!C9: Input 'behaviour.exit_rate' at year=2020, sex=male, age=20: value 1.5 is "
                       r"outside \[0, 1\]"),
    "age_gap": (_delete_rows("Fertility", 30, 1), r"Fertility!A30: age 27 after age 25 leaves a gap"),
    "ages_out_of_order": (_InXml("Fertility", _swap_ages), r"Fertility!A35: age 30 after age 31 is out of order"),
    "duplicate_row": (_InXml("Retirement ages", _duplicate_row), r"Retirement ages!A6: duplicate row for year=2020, sex=male"),
    "years_short": (_delete_rows("Schedules", 94, 10),
                    r"Schedules!A94: the table's years end in 2109; the projection runs to 2119 \(Settings: "
                    r"valuation_year 2020, horizon 100 years\): add rows for 2110-2119, or shorten the horizon\."),
    "years_late": (_delete_rows("Schedules", 4, 1),
                   r"Schedules!A4: the table's years start in 2021; the projection starts in 2020 \(Settings: "
                   r"valuation_year 2020, horizon 100 years\): add rows for 2020\."),
    "unknown_sex": (_set("Population", "sex", 5, "m"), r"Population!A5: sex 'm' is not a sex code"),
    "negative_age": (_set("Population", "age", 10, -5), r"Population!B10: age -5 is negative; expected a whole number"),
    "unknown_benefit": (_set("Pensioners", "benefit", 4, "retirement"),
                        r"Pensioners!A4: benefit 'retirement' is not a benefit code"),
    "unknown_column": (_InXml("Schedules", _add_column), r"Schedules!\w+2: column 'inflation_rate' is not an input of this sheet"),
    "unknown_sheet": (lambda wb: wb.create_sheet("My notes"), r"sheet 'My notes' is not part of a valuation workbook"),
    "formula_without_value": (_set("Schedules", "inflation", 8, "=0.01*2"),
                              r"Schedules!\w+8: formula =0.01\*2 has no calculated value saved"),
    "ten_thousand_rows": (_InXml("Fertility", _extra_rows),
                          r"Fertility!A125: the table has more than 121 data rows \(this is one too many: rows from 4\); "
                          r"expected at most 121"),
    "unknown_exit_benefit": (_set_scalar("Scheme", "exit_benefit", "sometimes"),
                             r"Scheme!B\d+: value 'sometimes' is not an option for exit_benefit; expected one of "
                             r"deferred, refund, none"),
    "exit_vesting_unused": (_set_scalar("Scheme", "exit_vesting_years", 5),
                            r"Scheme!B\d+: Input 'scheme.exit_vesting_years' is only used when scheme.exit_benefit "
                            r"is 'refund' or 'none'"),
    "salary_ages_unknown": (_set_scalar("Behaviour", "salary_scale_ages", "birthday"),
                            r"Behaviour!B\d+: value 'birthday' is not an option for salary_scale_ages"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_workbook_exits_2_with_sheet_and_cell(case, demo_workbook, tmp_path):
    change, pattern = BAD[case]
    bad = _edit(demo_workbook, tmp_path / f"{case}.xlsx", change)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["valuate", str(bad), "--out", str(out)], terminal_width=400)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in text
    import re
    assert re.search(pattern, text), text
    assert not out.exists() or not any(out.iterdir())


def test_blank_cells_of_a_table_are_named_together(demo_workbook, tmp_path):
    """Blank cells in a table's columns are named in one error (not one a run): the first, column by column in sheet
    order and down each column, leads the message with its Sheet!Cell; the others follow. Past ten cells the rest
    are counted, with their columns: never a message of thousands of cells."""
    with zipfile.ZipFile(demo_workbook) as z:   # the cells cleared in the workbook's XML (no openpyxl load and save)
        schedules = Sheet(z.read(sheet_parts(demo_workbook)["Schedules"]))
    i, n, u = (get_column_letter(_column_in_xml(schedules, h)) for h in ("inflation", "nominal_return",
                                                                          "unemployment_rate"))
    set_cells(demo_workbook, tmp_path / "three.xlsx", {"Schedules": {f"{i}20": None, f"{i}12": None, f"{n}9": None}})
    expected = (f"Schedules!{i}12: the cell is blank; 'inflation' needs a value in every row; also blank: "
                f"Schedules!{i}20 ('inflation'), Schedules!{n}9 ('nominal_return').")
    with pytest.raises(InputError) as error:
        load_workbook(tmp_path / "three.xlsx")
    assert str(error.value) == expected
    result = CliRunner().invoke(main, ["valuate", str(tmp_path / "three.xlsx"), "--out", str(tmp_path / "out")],
                                terminal_width=400)
    assert result.exit_code == 2 and result.output == f"error: {expected}\n", result.output
    # 50 more in a third column
    set_cells(tmp_path / "three.xlsx", tmp_path / "many.xlsx",
              {"Schedules": {f"{n}10": None, **{f"{u}{row}": None for row in range(30, 80)}}})
    with pytest.raises(InputError) as error:
        load_workbook(tmp_path / "many.xlsx")
    text = str(error.value)
    assert text.startswith(f"Schedules!{i}12: the cell is blank; 'inflation' needs a value in every row; also blank: "
                           f"Schedules!{i}20 ('inflation'), Schedules!{n}9 ('nominal_return'), Schedules!{n}10 "
                           "('nominal_return'), "), text
    assert text.count("Schedules!") == 10 and "\n" not in text
    assert text.endswith(" and 44 more blank cells (in column 'unemployment_rate'; 54 in all)."), text


def test_not_an_xlsx_file(tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("year,rate\n2020,0.18\n")
    result = CliRunner().invoke(main, ["valuate", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "not an Excel workbook (.xlsx)" in " ".join(result.output.split())


def test_empty_workbook(tmp_path):
    bad = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(bad)
    result = CliRunner().invoke(main, ["valuate", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "sheet 'Sheet' is not part of a valuation workbook" in " ".join(result.output.split())


def test_macro_enabled_workbook_is_refused(demo_workbook, tmp_path):
    bad = tmp_path / "valuation.xlsm"
    shutil.copy(demo_workbook, bad)
    result = CliRunner().invoke(main, ["valuate", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "never runs macros" in " ".join(result.output.split())


def _without_row(workbook, sheet: str, name: str, path):
    """A copy of ``workbook`` at ``path`` without the row of input ``name`` on scalar sheet ``sheet``."""
    def change(s):   # in the workbook's XML (an openpyxl load and save takes seconds)
        s.delete_row(next(r for r in range(3, s.last_row() + 1) if s.get(f"A{r}") == name))
        _fit_dimension(s)
    return edit(workbook, path, {sheet: change})


def test_the_second_workbooks_deleted_rows_are_recorded_too(demo_workbook, tmp_path):
    """compare's option workbooks and change's previous valuation: their missing rows are said and recorded in
    the outputs' About this run beside the main workbook's (which has a row for every input here)."""
    from actuary.io.provenance import read_about_sheet

    option = _without_row(demo_workbook, "Scheme", "indexation_cap", tmp_path / "capless.xlsx")
    result = CliRunner().invoke(main, ["compare", str(demo_workbook), str(option), "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "note: capless.xlsx has no row for Scheme: indexation_cap" in " ".join(result.output.split())
    about = read_about_sheet(tmp_path / "c" / f"{demo_workbook.stem}-comparison.xlsx")
    assert about["option_capless_inputs_without_a_row"] == "Scheme: indexation_cap"
    from actuary.io.provenance import label

    assert label("option_capless_inputs_without_a_row") == ("option capless: optional inputs with no row in its "
                                                            "workbook (their defaults were used)")
    assert "inputs_without_a_row" not in about
    result = CliRunner().invoke(main, ["change", str(option), str(demo_workbook), "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    about = read_about_sheet(tmp_path / "a" / f"{demo_workbook.stem}-change.xlsx")
    assert about["previous_inputs_without_a_row"] == "Scheme: indexation_cap"
    assert "inputs_without_a_row" not in about


def test_an_error_in_one_of_several_workbooks_names_the_file(demo_workbook, tmp_path):
    """compare, change and report --compare read several workbooks: an error names the file at fault before its
    cell (a command reading one workbook names only the cell)."""
    wb = openpyxl.load_workbook(demo_workbook)
    wb["Schedules"]["B5"] = "18%"
    wb.save(tmp_path / "typo.xlsx")
    for command in (["compare", str(demo_workbook), str(tmp_path / "typo.xlsx")],
                    ["change", str(tmp_path / "typo.xlsx"), str(demo_workbook)],
                    ["report", str(demo_workbook), "--compare", str(tmp_path / "typo.xlsx")]):
        result = CliRunner().invoke(main, command + ["--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert "error: typo.xlsx: Schedules!B5: value '18%' is not a number" in " ".join(result.output.split())
    alone = CliRunner().invoke(main, ["valuate", str(tmp_path / "typo.xlsx"), "--out", str(tmp_path / "out")])
    assert alone.exit_code == 2 and "error: Schedules!B5:" in alone.output


def test_an_actuarial_balance_period_beyond_the_horizon_is_said(demo, tmp_path):
    """A period given beyond the horizon is capped at it (documented), and the run says so; a period left to its
    default says nothing."""
    demo.replace(settings={"horizon": 40, "actuarial_balance_period": 60, "balance_sheet": "no"}).to_workbook(
        tmp_path / "long.xlsx")
    result = CliRunner().invoke(main, ["valuate", str(tmp_path / "long.xlsx"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "note: long.xlsx: actuarial_balance_period 60 is beyond the 40-year horizon; the actuarial balance is " \
           "taken over the 40 years." in said and "Actuarial balance over 40 years" in said
    demo.replace(settings={"horizon": 40, "balance_sheet": "no"}).to_workbook(tmp_path / "default.xlsx")
    quiet = CliRunner().invoke(main, ["valuate", str(tmp_path / "default.xlsx"), "--out", str(tmp_path / "out2")])
    assert quiet.exit_code == 0 and "actuarial_balance_period" not in quiet.output


def test_a_blank_template_names_everything_it_still_needs_at_once(tmp_path):
    """Filling a blank template: the required cells left blank are named together, then the required columns still
    empty together (not one error a run); the first place leads the message, as in every error."""
    blank = tmp_path / "blank.xlsx"
    assert CliRunner().invoke(main, ["template", str(blank)]).exit_code == 0
    wb = openpyxl.load_workbook(blank)
    ws = wb["Settings"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == "valuation_year")
    ws.cell(row=row, column=2).value = None
    wb.save(tmp_path / "two.xlsx")
    with pytest.raises(InputError, match=rf"^Settings!B{row}: the cell is blank; 'valuation_year' is required "
                                         r"\(year\); also blank and required: Economy!B4 'average_wage' "):
        load_workbook(tmp_path / "two.xlsx")
    wb["Settings"].cell(row=row, column=2).value = 2020
    wb["Economy"]["B4"] = 30000
    wb.save(tmp_path / "columns.xlsx")
    with pytest.raises(InputError) as error:
        load_workbook(tmp_path / "columns.xlsx")
    text = str(error.value)
    # the template has the columns, empty: their first cells, not a place past the notes column
    assert re.match(r"^Schedules!B4: column 'contribution_rate' is empty; the sheet 'Schedules' needs it", text)
    for column, sheet in (("accrual", "Accrual"), ("population", "Population"), ("active", "Insured")):
        assert f"'{column}' in '{sheet}' (is empty" in text


def test_a_deleted_optional_row_is_said_and_recorded_not_silent(demo_workbook, tmp_path):
    """An optional input whose row was deleted from a scalar sheet takes its default, but the run says so (one
    note line) and the outputs' About this run records it; the shipped workbooks and the template have a row for
    every input (no note on the quick start)."""
    from actuary.io.provenance import read_about_sheet
    from actuary.valuation import DEMOLAND

    shipped = [DEMOLAND / "valuation.xlsx", DEMOLAND.parent / "demoland-floor" / "valuation.xlsx",
               DEMOLAND.parent / "demoland-floor" / "floor-only.xlsx", demo_workbook]
    assert [load_workbook(p).source.get("rows_absent") for p in shipped] == [None] * len(shipped)
    edited = _without_row(demo_workbook, "Scheme", "indexation_cap", tmp_path / "edited.xlsx")
    loaded = load_workbook(edited)
    assert loaded.source["rows_absent"] == ["Scheme: indexation_cap"]
    assert loaded.inputs.scheme["indexation_cap"] == FIELDS["scheme"]["indexation_cap"].default
    result = CliRunner().invoke(main, ["valuate", str(edited), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "note: edited.xlsx has no row for Scheme: indexation_cap (default no limit); its default is used." in \
        " ".join(result.output.split())
    about = read_about_sheet(tmp_path / "out" / "edited-results.xlsx")
    assert about["inputs_without_a_row"] == "Scheme: indexation_cap"
    quiet = CliRunner().invoke(main, ["valuate", str(demo_workbook), "--out", str(tmp_path / "out2")])
    assert quiet.exit_code == 0 and "note:" not in quiet.output and "has no row" not in quiet.output


def test_an_error_after_a_missing_row_names_the_row(demo, tmp_path):
    """A missing row whose default makes the read fail (Settings horizon 75 against tables of 50 years): the
    error says which rows were missing and their defaults."""
    demo.replace(settings={"horizon": 50}).to_workbook(tmp_path / "fifty.xlsx")
    edited = _without_row(tmp_path / "fifty.xlsx", "Settings", "horizon", tmp_path / "short.xlsx")
    with pytest.raises(InputError, match=r"!A54: the table's years end in 2069; the projection runs to 2094 \(Settings: "
                                         r"valuation_year 2020, horizon 75 years\): add rows for 2070-2094, or shorten "
                                         r"the horizon\. \(Note: the workbook has no row for Settings: horizon "
                                         r"\(default 75\)\.\)"):
        load_workbook(edited)


def test_a_horizon_shortened_in_settings_leaves_the_later_rows_unused_and_says_so(demo, demo_workbook, tmp_path):
    """Settings horizon 100 -> 40 in a workbook whose by-year tables run 100 years: the valuation projects 40
    years, every one as the first 40 of the 100-year projection (a year's flows depend only on the assumptions of
    that year and before), and the run says which rows were not used (note, About this run); a table starting
    before the valuation year is said the same way."""
    from actuary.io.provenance import read_about_sheet

    wb = openpyxl.load_workbook(demo_workbook)
    ws = wb["Settings"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == "horizon")
    ws.cell(row=row, column=2).value = 40
    schedules = wb["Schedules"]
    assert schedules.cell(row=4, column=1).value == 2020
    schedules.insert_rows(4)   # a row for 2019, the year before the valuation year
    for column in range(1, schedules.max_column + 1):
        schedules.cell(row=4, column=column).value = schedules.cell(row=5, column=column).value
    schedules.cell(row=4, column=1).value = 2019
    edited = tmp_path / "forty.xlsx"
    wb.save(edited)
    short = load_workbook(edited)
    assert short.source["years_outside"] == ["Schedules: 2019, 2060-2119", "Retirement ages: 2060-2119"]
    ds, full = short.project()[0], demo.project()[0]
    assert ds.sizes["year"] == 40
    for name in ("reserve", "contributions", "benefit_expenditure", "contributors"):
        np.testing.assert_allclose(ds[name].values, full[name].values[:40], rtol=1e-12, err_msg=name)
    result = CliRunner().invoke(main, ["valuate", str(edited), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "note: forty.xlsx has by-year rows for years the projection (2020-2059) does not cover: Schedules: " \
           "2019, 2060-2119; Retirement ages: 2060-2119; they are not used." in said
    about = read_about_sheet(tmp_path / "out" / "forty-results.xlsx")
    assert about["table_years_not_used"] == "Schedules: 2019, 2060-2119; Retirement ages: 2060-2119"
    assert "years_outside" not in (load_workbook(demo_workbook).source or {})



@pytest.fixture(scope="module")
def templates(demo, tmp_path_factory):
    """Demoland's workbook written blank (a template) and with its inputs: blank -> path, written once for the
    parametrized test below (each writing takes seconds)."""
    folder = tmp_path_factory.mktemp("templates")
    paths = {blank: folder / f"template-{blank}.xlsx" for blank in (True, False)}
    for blank, path in paths.items():
        demo.to_workbook(path, blank=blank)
    return paths


@pytest.mark.parametrize("name,units", [("subsidy_share_of_benefits", "share of benefit expenditure"),
                                        ("subsidy_share_of_wages", "share of the insurable wage bill"),
                                        ("unemployment_rate", "share of the labour force")])
def test_the_units_row_says_what_a_share_or_rate_is_of(templates, name, units):
    """The Schedules sheet's units row (row 3) said "probability" for the state subsidy's shares and the unemployment
    rate: the template and every workbook written from a case say what each is a share of."""
    for blank in (True, False):
        ws = openpyxl.load_workbook(templates[blank], read_only=True)["Schedules"]
        headers, row3 = list(ws.iter_rows(min_row=2, max_row=3, values_only=True))
        assert row3[headers.index(name)] == units, blank
