"""docs/workbook.md, generated from the input field specs (:data:`actuary.inputs.FIELDS`) and the
workbook layout (:func:`actuary.io.workbook.layout`), so that it cannot drift from the code:

    python -m actuary.io.workbook_doc            # rewrite docs/workbook.md
    python -m actuary.io.workbook_doc --check    # exit 1 if it is stale (a test does the same)
"""

from __future__ import annotations

import math
import sys
from dataclasses import fields as dataclass_fields
from pathlib import Path

from ..inputs import FIELDS, REQUIRED
from .presentation import field_label
from .workbook import CONTENTS, FLOOR_SHEETS, GROUP_OF, SCALAR_SHEETS, layout

PATH = Path(__file__).resolve().parents[2] / "docs" / "workbook.md"
# how the commands of a page in docs/ are reached (the README's quick start installs into .venv, unactivated)
VENV_NOTE = ("> Commands on this page are written as they run with the project's virtual environment active "
             "(`source .venv/bin/activate` in the project folder, after the [README](../README.md)'s quick start); "
             "without activating it, type `.venv/bin/actuary` for `actuary` and `.venv/bin/python` for `python`.")

ALLOWED = {
    "count": "a number of persons >= 0",
    "amount": "a number >= 0",
    "probability": "a share from 0 to 1",
    "positive": "a number > 0",
    "number": "a number",
    "age": "an age in years",
    "int": "a whole number",
}


def _default(field) -> str:
    value = field.default
    if value is REQUIRED:
        return "required"
    if value is None:
        return "none (see notes)"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and math.isinf(value):
        return "none (no limit)"
    return str(value)


def _allowed(field) -> str:
    if field.kind == "choice":
        return "one of " + ", ".join(f"`{c}`" for c in field.choices)
    if field.kind == "rate":   # the plausible values of the kind, or the field's own
        text = f"an annual rate {field.limits.describe()} (0.02 = 2%)"
    elif field.bounds is not None and field.kind != "int":
        text = f"a number {field.limits.describe()}"
    else:
        text = ALLOWED[field.kind]
    if field.dims == ("horizon",):
        text = "whole numbers separated by commas"
    return text


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _group(sheet, name: str) -> str:
    """The group whose field ``name`` a sheet holds: a scalar sheet's own group, ``floor`` for the Floor sheets,
    else the field's group. Not GROUP_OF alone: a name may be in two groups (the Floor sheet's ``min_age`` and
    ``max_age`` are the eligible ages of a benefit, not the Settings' insured ages)."""
    if sheet.name in FLOOR_SHEETS:
        return "floor"
    scalar = {sheet_name: group for group, sheet_name in SCALAR_SHEETS.items()}
    return scalar.get(sheet.name) or GROUP_OF[name]


def _field_rows(sheet) -> list[str]:
    rows = ["| input | meaning | units | allowed values | default | notes |", "|---|---|---|---|---|---|"]
    for name in sheet.fields:
        group = _group(sheet, name)
        field = FIELDS[group][name]
        notes = field.doc
        if field.fill is not None:
            notes = (notes + "; " if notes else "") + f"cells not listed take {field.fill:g}"
        dims = ", ".join(field.dims)
        rows.append(f"| `{name}` | {_cell(field_label(name, group=group))} | {_cell(field.units)} | {_cell(_allowed(field))} | "
                    f"{_cell(_default(field))} | {_cell(notes)}{f' (by {dims})' if dims else ''} |")
    return rows


def markdown() -> str:
    """The text of docs/workbook.md."""
    from ..batch import SCENARIO_COLUMNS, SCENARIO_FIXED_SETTINGS
    from ..change import DEFAULT_STEPS, MAX_STEP_NAME, MAX_STEPS_BYTES
    from ..stochastic import (MAX_MORTALITY_DRIFT_VOLATILITY, MAX_MORTALITY_VOLATILITY, MORTALITY_DEFAULTS,
                              PARAMETER_MEANINGS, StochasticParameters)
    from . import report_text

    sheets = layout()
    out = [
        "# The valuation workbook",
        "",
        VENV_NOTE,
        "",
        "Every sheet and input of a valuation workbook (`actuary template my-scheme.xlsx --demo` writes one filled",
        "with Demoland), with units and meaning. This file is generated from the input field specs",
        "(`actuary/inputs.py`) by `python -m actuary.io.workbook_doc`; a test fails when it is out of date.",
        "The equations that use the inputs are in [methodology.md](methodology.md).",
        "",
        "## Conventions",
        "",
        "- Yellow cells are inputs. Rates are annual and effective; shares are fractions (0.18 = 18%); money is",
        "  in the scheme's currency at the valuation date. Ages are completed ages at 1 January; the last age is",
        "  an open group. Blank optional inputs take their defaults.",
        "- Scalar sheets have the columns field | value | units | notes, one row per input. An optional input",
        "  whose row is missing (deleted, or a workbook from before the input existed) takes its default, and the",
        "  run says so (a note naming the rows and their defaults; the results of a valuation run from the",
        "  workbook record them in their About this run sheet). A read that fails names them too.",
        "- Table sheets have a title in row 1, the column headers in row 2 (index columns such as year, sex,",
        "  age, then one column per input, then notes), the units in row 3 and data from row 4. Sexes are",
        "  `male` and `female`; benefits `old_age`, `invalidity`, `widow`, `orphan`.",
        "- A table whose inputs change from year to year goes to its `... by year` sheet, which has a year",
        "  column in front; an input is given in one sheet only. Its rows must cover every year of the",
        "  projection (valuation_year .. valuation_year + horizon - 1); rows for other years (after a horizon",
        "  shortened in Settings, say) are read but not used, and the run says which (a note, and the results'",
        "  About this run sheet).",
        "- Anything wrong stops the run with one message naming the sheet and cell, the value and what was",
        "  expected. Cells left blank where a value is needed are named together, not one a run: the",
        "  required inputs left blank in Settings, Scheme, Economy, Behaviour and Initial state in one message,",
        "  the blank cells of a table sheet in one (the first ten, and how many more), the required columns",
        "  still empty in one. Formulas are read through their saved values; macro-enabled workbooks are",
        "  refused.",
        "- A sheet hidden from the sheet tabs (Hide; Unhide shows it again) is read as if it were visible: hiding",
        "  a sheet of inputs changes nothing in the valuation. A very hidden sheet (a state Excel's menus cannot",
        "  show or undo, set by a macro or in the file's XML) is refused, naming it: its inputs would be read",
        "  unseen by whoever reviews the workbook. Unhide it with a macro or save its values in a visible copy.",
        "- A workbook whose XML Excel could not have written (from another program, or damaged) is refused with",
        "  one message naming the sheet, the reference and what was expected: a cell reference beyond column",
        "  XFD, not a reference (`4B`), or in another row than the row holding it; a row numbered 0, below 1 or",
        "  not a number; a merged range or the sheet's dimension that is not a range of cells of a sheet (a",
        "  merged range also with its top-left cell first); a sheet's state other than visible, hidden or",
        "  veryHidden; a defined name without a name or belonging to a sheet the workbook does not have. A",
        "  dimension that is a range but not the sheet's (too small, say) is a hint only: every row is read.",
        "  Open the workbook in Excel or LibreOffice and save it again, or start from `actuary template`.",
        "",
        "## Sheets",
        "",
        "| sheet | contents |",
        "|---|---|",
        f"| {CONTENTS} | the case name (cell B3) and the list of sheets |",
    ]
    out += [f"| {s.name} | {_cell(s.description)} |" for s in sheets]
    out += ["| Scenarios | optional: scenarios of the sensitivity runs (below) |",
            "| Stochastic | optional: parameters of the stochastic projections (below) |",
            "| Reforms | optional: reform options as changes to the case, for `actuary compare` and `actuary report` "
            "(below, with Scenarios) |",
            "| Analysis of change | optional: the steps of `actuary change` (below) |",
            f"| {report_text.SHEET} | optional: the actuary's own text in the report (below) |",
            "| Notes... | optional: sheets of your own, any name starting with `Notes` (not read) |", "",
            "The optional sheets go with the case into the workbooks written from it (`actuary solve`'s",
            "`NAME-solved.xlsx`, `actuary convert` to a workbook, `Valuation.to_workbook` after `replace()`,",
            "`solve()` or `roll_forward()`), so that the commands run on such a workbook use the same scenarios,",
            "stochastic parameters, reform options and steps: Scenarios, Stochastic, Reforms, Analysis of change",
            "and the Notes sheets as their values at the same cells (a formula as its saved value; text always",
            "as text, never a live formula; formats, formulas and comments are not copied), Report text as read",
            "(below). A formula without a saved value in Scenarios, Stochastic, Reforms or Analysis of change",
            "stops the writing, naming its cell (its value is unknown: open and save the workbook in Excel or",
            "LibreOffice); in a Notes sheet its text is written as text. A case folder holds none of these",
            "sheets but the report text (`actuary convert` to a folder names those it leaves behind).",
            "Rolled forward (`actuary roll-forward`, `roll_forward()`), the Scenarios and Reforms rows keep their",
            "calendar years, except those now before the new valuation year: a row whose years ended before it is",
            "dropped (the rows below it move up: the kept rows stay contiguous and in their order; the title and",
            "the headers stay where they were), one that started before it starts in",
            "it (over a shorter --horizon, a row that starts after the projection's last year is dropped, one that",
            "ends after it ends in it); each change is listed in the rolled workbook's sheet \"Notes -",
            "roll-forward\", a section per roll (its years and run date), the latest first: a rolled workbook",
            "rolled again keeps the earlier rolls' records there.", ""]
    scalar_names = set(SCALAR_SHEETS.values())
    for sheet in sheets:
        out += [f"## {sheet.name}", "", sheet.description + ("." if not sheet.description.endswith(".") else ""), ""]
        if sheet.name in scalar_names:
            out += ["Columns: field | value | units | notes.", ""]
        else:
            index = ", ".join(f"`{d}`" for d in sheet.index)
            ages = "0 .. max_age" if sheet.population_ages else "min_age .. max_age"
            out += [f"Index columns: {index}" + (f" (ages {ages})" if "age" in sheet.index else "") + ".", ""]
        out += _field_rows(sheet) + [""]
    out += ["## Scenarios", "",
            "Optional, in the valuation workbook or a workbook of its own (`actuary sensitivity --scenarios FILE`):",
            "one row per change of one input, columns " + " | ".join(f"`{c}`" for c in SCENARIO_COLUMNS) + ".",
            "`input` is `group.field` (e.g. `economy.nominal_return`); `operation` is `set`, `scale` or `shift`;",
            "`from_year`/`to_year` and `from_age`/`to_age` limit the change (inclusive, blank: all). A bound must",
            "be one of the projection's years (blank `to_year`: to its end), so that a row never changes only part",
            "of what it says (`2030` .. `2100` in a projection ending in 2059 is refused), and age or cohort bounds",
            "must select some of the input's ages or cohorts (bounds past its oldest age reach it: the last age is an",
            "open group), on an input with that dimension; rows that break these rules are refused naming their",
            "cells. A row setting an input to the value it already has is accepted. Several rows of one input in",
            "one scenario form a schedule, applied in the sheet's order, when their cells do not overlap (other",
            "years, or other ages or cohorts): a phased reform, e.g. `scheme.normal_retirement_age` set to 66",
            "from 2030 to 2034 and to 67 from 2035; rows whose years (and ages or cohorts) overlap are refused",
            "naming both. A row changes an input the base valuation gives: a by-cohort input on a base that gives",
            "its by-year form (or none) is refused naming its cell; change the by-year input, or give the option as",
            "a valuation workbook of its own. A value the input does not allow (25 for a share) is refused naming",
            "its `value` cell. The base workbook's",
            "`Reforms` sheet (`actuary compare`) has the same rules, with `option` and `from_cohort`/`to_cohort`.",
            "The scenarios (and options) are compared with the base year by year and horizon by horizon, so a",
            "Scenarios (or Reforms) row on",
            ", ".join(f"`{key}`" for key in list(SCENARIO_FIXED_SETTINGS)[:-1])
            + f" or `{list(SCENARIO_FIXED_SETTINGS)[-1]}`",
            "is refused naming its cells: run such a change as a valuation of its own (GAP horizons that every",
            "scenario shares are set in the Settings sheet). A scenario name in both the valuation workbook and",
            "`--scenarios FILE` is refused. `actuary report --with-sensitivity` shows each scenario of the sheet in",
            "its sensitivity chapter: what it changes, in words, and its key measures beside the base's.", "",
            "## Stochastic", "",
            "Optional: parameter | value | notes (row 1 the title, the headers in row 2), one row per parameter from",
            "row 3 (those not listed take their defaults). Per path and year, real wage growth, inflation and the real",
            "return each move by a deviation x_t = φ x_{t−1} + σ ε_t (ε correlated standard normal), the mortality",
            "improvement rates of every age and sex by u_t, fertility rates by a factor exp(f_t), f_t = φ_f f_{t−1} +",
            "σ_f ζ_t. With `mortality_model` `level` (the default) u_t = δ + σ_m η_t: deviations independent",
            "from year to year, whose sum is a random walk on the level of log mortality as in the Lee-Carter model,",
            "plus a drift error δ ~ N(0, σ_d²) drawn once per path; with `improvement` (the model of earlier",
            "versions, for comparison with their runs) u_t = u_{t−1} + σ_m η_t, a random walk on the improvement rates",
            "([methodology.md, section 8](methodology.md#8-sensitivities-and-stochastic-projections);",
            "`actuary.stochastic.StochasticParameters`).", "",
            "| parameter | meaning | units | default |", "|---|---|---|---|"]

    def default(name, value):
        if name in MORTALITY_DEFAULTS["level"]:   # by model
            return " / ".join(f"{MORTALITY_DEFAULTS[model][name]:g} ({model})" for model in MORTALITY_DEFAULTS)
        return value

    out += [f"| `{f.name}` | {_cell(PARAMETER_MEANINGS[f.name][0])} | {_cell(PARAMETER_MEANINGS[f.name][1])} | "
            f"{default(f.name, f.default)} |" for f in dataclass_fields(StochasticParameters)]
    level, improvement = MAX_MORTALITY_VOLATILITY["level"], MAX_MORTALITY_VOLATILITY["improvement"]
    out += ["", "Volatilities are standard deviations of yearly deviations, 0 to 0.5. `mortality_volatility` is at most",
            f"{level:g} with the level model (a year's change in log mortality of standard deviation {level:g}, "
            "above the 0.01 to 0.03",
            "of national data at pension ages, already takes a path's improvement rate past its bounds in about one",
            f"year in fifty) and at most {improvement:g} with the improvement model (its random walk's standard "
            "deviation after 100",
            f"years is ten times it: {1000 * improvement:g} percentage points at {improvement:g}). "
            f"`mortality_drift_volatility` is at most {MAX_MORTALITY_DRIFT_VOLATILITY:g} (log",
            f"mortality moved by {100 * MAX_MORTALITY_DRIFT_VOLATILITY:g} in 100 years on one path in six) and must "
            "be 0 with the improvement model, which has no",
            "drift error. A path's improvement rates are held within their bounds, -10% .. 10% a year.",
            "A sheet that gives `mortality_volatility` must give `mortality_model` too (what the value means depends",
            "on the model, and workbooks written before the level model became the default, in December 2026, meant",
            "the improvement model)."]
    out += ["", "## Analysis of change", "",
            "Optional, in the current valuation workbook or a file of its own (`actuary change PREVIOUS CURRENT "
            "--steps FILE`, .xlsx or .csv): the steps of the analysis of change, one row per input, columns `step` | "
            "`input` | `notes` (headers in row 2 of the sheet, the first line of a CSV). `input` is a group (e.g. "
            "`economy`: its inputs not named in another step) or `group.field` (e.g. `scheme.contribution_rate`); "
            "the steps are taken in the order they first appear. A step's name is one line of at most "
            f"{MAX_STEP_NAME} characters, without control characters (it labels a row of the reconciliation table, a "
            "bar of the waterfall charts and a cell of the change workbook); a .csv steps file is read only if it is "
            f"a regular file (or a link to one) of at most {MAX_STEPS_BYTES // 1024 ** 2} MB. Default steps: "
            + "; ".join(f"{name} ({', '.join(f'`{i}`' for i in inputs)})" for name, inputs in DEFAULT_STEPS) + "."]
    out += ["", f"## {report_text.SHEET}", "",
            "Optional: what only the actuary can write, which `actuary report` places in the report's chapters (the",
            "content the ILO-ISSA Actuarial Guidelines expect of a valuation report beside the numbers). Columns",
            " | ".join(f"`{h}`" for h in report_text.HEADERS) + " (row 1 the title, the headers in row 2, one row per",
            "section from row 3; `actuary template` writes every section's row, blank). Column A is the section's key,",
            "column B the text: plain text, each line of the cell a paragraph (Alt+Enter in Excel), lines",
            "starting with `- ` or `• ` the items of a list; it is shown as written (never read as HTML or",
            "Markdown). Columns C and D say where the text goes and what to write; they are not read. A section's",
            f"text has at most {report_text.MAX_TEXT:,} characters, a line of the signature block one line of at most "
            f"{report_text.MAX_LINE};",
            "`signature_date` may be a date cell.",
            "A formula (even with a saved value), a number, an unknown or repeated key or a control character is",
            "refused, naming the cell. The sheet is read with the case by every command, as the inputs are: the",
            "text goes with it into the workbooks written from it (`actuary solve`'s `NAME-solved.xlsx`, `actuary",
            "roll-forward`'s `NAME-rolled-YEAR.xlsx`, `actuary convert`).", "",
            "A section left blank, or holding only list markers (`-`, `•`), or the sheet left out, makes the report a",
            "draft: the section is marked \"[To be",
            "written by the actuary: ...]\", the first page says how many sections are still to be written and",
            "every page's top says DRAFT; the command names them. A report with every section written has no such",
            "marks. A floor costing alone has no chapters of scheme provisions and data: its report places the",
            "data sections in its Assumptions chapter and the provisions in the floor's chapter, and does not ask",
            "for `behavioural_assumptions` (shown if written). Demoland's workbooks have the sheet with every",
            "section blank: Demoland is fictional, and text written as if by its actuary would make its report",
            "look like a signed opinion and could be carried, unnoticed, into a real case started from it; its",
            "report is a draft that shows every gap.", "",
            "In a case folder the text goes in `report_text.csv` ([below](#a-case-folder-instead-of-a-workbook)).", "",
            "| section | chapter | what to write |", "|---|---|---|"]
    out += [f"| `{s.key}` | {_cell(s.chapter)}: {_cell(s.title)} | {_cell(s.asks[:1].upper() + s.asks[1:])}" + " |"
            for s in report_text.SECTIONS]
    out += _case_folder()
    return "\n".join(out) + "\n"


def _case_folder() -> list[str]:
    """The section on case folders: what is read, the limits, what is refused, the report text."""
    from . import folder

    mb = 1024 ** 2
    return [
        "", "## A case folder instead of a workbook", "",
        "Every command that takes a valuation workbook also takes a *case folder* (inputs kept under version control",
        "or written by a program). It holds:", "",
        "- `valuation.json`: the case's `name` (and an optional `description`) and its scalar inputs by group, with",
        "  the field names of this page: `{\"name\": \"mycase\", \"settings\": {\"valuation_year\": 2020, \"horizon\": 75},",
        "  \"scheme\": {\"vesting_years\": 15}}`; a list input (`gap_horizons`) as a JSON list of numbers.",
        "- CSV tables (`*.csv`, the ending in any case: `Population.CSV` is read): index columns named after their",
        "  dimensions (`year`, `sex`, `age`, `service`, `benefit`, `floor_benefit`) and value columns named",
        "  `group.field` (`demography.population`). A table may depend on fewer dimensions than its input (it is",
        "  broadcast); a blank value cell is left out (a sparse table's absent cells take the input's fill). The",
        "  floor's per-benefit inputs are one table indexed by `floor_benefit` (columns `floor.kind`, `floor.amount`,",
        "  ...; the benefits in the order of its rows), as in the Floor sheet; blank `floor.max_age` is no upper",
        "  limit (or the word `none`).",
        "- Optionally `report_text.csv`: the actuary's text of the report, as the Report text sheet: a header line",
        "  `section,text` (the sheet's columns `chapter` and `what to write` may follow and are not read; any other",
        "  column is refused), then one line per section, its key and its text; a text holding commas, quotes or",
        "  line breaks in double quotes (each line a paragraph, `- ` items of a list), `signature_date` as text or",
        "  as a date, `2026-12-07`. It is checked as the sheet is (unknown or repeated keys, control characters,",
        "  lengths) and `actuary report CASE` places it in the same chapters, a draft marking what is left.",
        "  `Valuation.to_folder` writes one with every section's line (below). A text starting with `=`, `+`, `-`,",
        "  `@`, a tab or a carriage return (a list's first `- ` item, say) is written with a leading apostrophe,",
        "  `'- item`, so that a spreadsheet opening the file shows it as text instead of evaluating it; reading",
        "  takes that apostrophe off (as Excel shows `'=1+1` typed in a cell: `=1+1`).",
        "- Anything else (README.md, notes, `.git`, files whose names start with `.`, the owner files `~$...` Excel keeps beside an open file) is not read.", "",
        "The folder is read as hostile, like a workbook:", "",
        "- only the folder's own regular files: a symbolic link, a FIFO, a device or a subfolder named like a",
        "  table or `valuation.json` is refused, never followed or opened;",
        f"- limits: `valuation.json` at most {folder.MAX_SPEC_BYTES / mb:g} MB, each CSV at most "
        f"{folder.MAX_TABLE_BYTES / mb:g} MB, all files together at most {folder.MAX_FOLDER_BYTES / mb:g} MB, at most",
        f"  {folder.MAX_TABLES} CSV files (Demoland's, written by `to_folder`, is 0.4 MB in 43 files);",
        "- a file that looks like a table in another format (" + ", ".join(f"`{s}`" for s in folder.OTHER_TABLES)
        + ")",
        "  is refused, not skipped, so that a case is never read without it: save it as CSV or move it out;",
        "  `Valuation.json` in other capitals is refused naming the expected name;",
        "- `valuation.json`: UTF-8 JSON; a key given twice in one object, `NaN` or `Infinity`, a group that is not",
        "  an object, or a value of the wrong type (text where a number is expected) is refused naming the key",
        "  (`scheme.vesting_years`);",
        "- CSV: UTF-8 (a byte-order mark, as Excel's \"CSV UTF-8\" writes, is accepted), comma separated, lines",
        "  ending in LF or CRLF; every line as many fields as the header (a blank line skipped), a column named",
        "  once; numbers written plainly as in a workbook's text cell (`0.05`, `-1.5e3`, `1,234,567` in quotes): a",
        "  decimal comma (`1,5`), a percent sign (`12%`), a formula (`=1+1`), `inf` or `nan` is refused; years,",
        "  ages and service whole numbers; two rows for the same labels refused;",
        "- each error is one paragraph naming the file, the line (the header is line 1) and the column (A, B, ...",
        "  as a spreadsheet shows the file), the value and what was expected: `economy.csv, line 18, column B",
        "  (economy.inflation): value '2%' is not a number; expected an annual rate ...`. A value outside its",
        "  input's bounds is named by its file and line too.", "",
        "To turn a workbook into a case folder (a new or empty folder, written whole or not at all; the floor's",
        "per-benefit inputs in one `floor.csv`, its report text in `report_text.csv`) and back:", "",
        "```bash",
        "actuary convert CASE.xlsx CASE            # the workbook's case as the folder CASE",
        "actuary convert CASE CASE.xlsx            # and back (an existing workbook replaced only with --force)",
        "```", "",
        "The case is checked first as every command checks it (a case that would not run is not converted). From",
        "Python: `Valuation.to_folder(path)` and `Valuation.to_workbook(path)`. A case read from a workbook or a",
        "folder carries its report text (`valuation.report_text`) through `replace()`, `solve()` and",
        "`roll_forward()`, and every workbook or folder written from it keeps the text (`actuary solve`'s",
        "`NAME-solved.xlsx` and `actuary roll-forward`'s `NAME-rolled-YEAR.xlsx` too); `text=...` writes another",
        "(`ReportText()`: the sections blank). A case read from a workbook carries its Scenarios, Stochastic, Reforms,",
        "Analysis of change and Notes sheets (`valuation.carried_sheets`) the same way into the workbooks written from",
        "it ([Sheets](#sheets))."]


def write_or_check(path, text: str, module: str, argv=None) -> int:
    """The command of a generated document: write ``text`` to ``path``, or with ``--check`` in ``argv`` (default:
    the command line) say whether the file is up to date (exit status 1 if not, naming ``module`` to run)."""
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m {module}")
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"Wrote {path}")
    return 0


def main(argv=None) -> int:
    return write_or_check(PATH, markdown(), "actuary.io.workbook_doc", argv)


if __name__ == "__main__":
    raise SystemExit(main())
