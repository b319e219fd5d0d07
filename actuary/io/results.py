"""The results workbook a board can read: labels in words with units in every header, money in the
unit chosen in Settings (``settings.money_unit``, millions by default), a number format on every
numeric cell, columns wide enough for their content, header rows frozen, print-ready pages
(landscape, one page wide, title rows repeated, header and footer with the case name, sheet and
page) and native charts with titles, axis titles and units, each on its own page of the Charts sheet.

Variables are looked up by name in :mod:`actuary.io.presentation` (labels, kinds, sheets); those a
results Dataset does not have are skipped. The helpers here (:class:`SheetWriter`,
:func:`print_setup`, :class:`ChartPages`) also serve the sensitivity and stochastic workbooks.
Text that comes from the inputs (case name, scenario names, notes) is always written as a text cell
(:func:`text_cell`), never as a formula.
"""

from __future__ import annotations

import math
import re
import textwrap
from copy import copy
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from . import presentation as pres
from .bulk import cycle_collection_paused
from .provenance import add_about_sheet, for_api
from .safety import text_cell as safe_text_cell
from .workbook import _atomic_save, table_pixels

TITLE_FONT = Font(bold=True, size=12)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
ROW_POINTS = 15.0
TITLE_POINTS = 16.5      # a line of the title font
TITLE_PIXELS = 9.0       # the width of a character of the title font (bold, 12 points) at 100%, generously
MAX_TEXT_WIDTH = 70
DATA_FORMATS = {"0%": "0.00%", "0.0%": "0.00%", "0.0": "0.00", "+0.0%;-0.0%;0.0%": "+0.00%;-0.00%;0.00%",
                "#,##0": "#,##0.00"}   # chart data keep two decimals in the chart's unit
CHART_UNITS = ((1e12, "trillions"), (1e9, "billions"), (1e6, "millions"), (1e3, "thousands"), (1.0, ""))


def text_cell(ws, row: int, column: int, value):
    """Write ``value`` as literal text (never a formula: :func:`actuary.io.safety.text_cell`); a blank for None."""
    if value is None:
        return ws.cell(row=row, column=column, value=None)
    return safe_text_cell(ws, row, column, value)


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class SheetWriter:
    """Writes cells and remembers how wide each column's content is, so that :meth:`fit` can size
    every column to what Excel or LibreOffice will display (no ``###``) and give rows of wrapped text
    the height of their lines."""

    def __init__(self, ws, text_width: int = MAX_TEXT_WIDTH):
        """``text_width``: the characters of text a column shows on a line, longer text wrapping in its cell (a long
        table keeps its rows one line; a short one, whose rows can grow taller, may wrap narrower to print whole on
        one page wide, :func:`actuary.io.workbook.fit_pages_wide`)."""
        self.ws = ws
        self.text_width = text_width
        self.widths: dict[int, float] = {}
        self.header_words: dict[int, tuple[int, int]] = {}
        self.wrapped: dict[tuple[int, int], int] = {}
        self.styles: dict[tuple, StyleArray] = {}
        self.titles: list[int] = []

    def _style(self, cell, alignment: Alignment, number_format: str | None = None, font: Font | None = None):
        """Give ``cell`` an alignment, and a number format and font when given. Each combination (with the
        style the cell had) is registered in the workbook's style tables once, by openpyxl; later cells
        get a copy of the resulting style indices instead of registering the same objects again."""
        before = cell._style   # None until the cell has a style
        key = (None if before is None else tuple(before), id(alignment), number_format, id(font))
        style = self.styles.get(key)
        if style is not None:
            cell._style = copy(style)
            return
        cell.alignment = alignment
        if number_format is not None:
            cell.number_format = number_format
        if font is not None:
            cell.font = font
        self.styles[key] = copy(cell._style)

    def _note(self, column: int, length: float):
        self.widths[column] = max(self.widths.get(column, 0), length)

    def title(self, row: int, text: str):
        """A sheet's title: one line, or wrapped over the table's columns when longer than they are wide (:meth:`fit`)."""
        text_cell(self.ws, row, 1, text).font = TITLE_FONT
        self.titles.append(row)

    def note(self, row: int, text: str):
        """A line of text that runs over the empty cells to its right (sizes no column)."""
        text_cell(self.ws, row, 1, text)

    def notes(self, row: int, texts, width: int = 110) -> int:
        """Paragraphs of text from ``row`` down, each on lines of at most ``width`` characters (notes that run
        over the empty cells to their right and still print whole); returns the row after the last line."""
        for text in texts:
            for line in textwrap.wrap(text, width):
                self.note(row, line)
                row += 1
        return row

    def put(self, row: int, column: int, value, fmt: str | None = None, text: bool = False, bold: bool = False):
        value = _plain(value)
        font = BOLD if bold else None
        if text or isinstance(value, str):
            cell = text_cell(self.ws, row, column, value)
            length = len(str(value)) if value is not None else 0
            # a line of at most text_width characters, but no narrower than its longest word (which cannot wrap)
            line = max(self.text_width, min(MAX_TEXT_WIDTH, max(map(len, str(value).split()), default=0)))
            if length > line:
                self._style(cell, WRAP, font=font)
                self.wrapped[(row, column)] = length
            else:
                self._style(cell, TOP, font=font)
            self._note(column, min(length, line))
        else:
            cell = self.ws.cell(row=row, column=column, value=value)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number_format = fmt or ("0" if isinstance(value, int) else "#,##0.00")
                self._style(cell, TOP, number_format, font)
                self._note(column, len(pres.display(value, number_format)))
            else:
                self._style(cell, TOP, font=font)
        return cell

    def headers(self, row: int, headers, start: int = 1):
        """A bold header row whose cells wrap (on up to about three lines)."""
        for column, text in enumerate(headers, start=start):
            cell = text_cell(self.ws, row, column, text)
            self._style(cell, WRAP, font=BOLD)
            longest = max((len(w) for w in str(text).split()), default=0)
            before = self.header_words.get(column, (0, 0))
            self.header_words[column] = (max(before[0], longest), max(before[1], len(str(text))))
            self.wrapped[(row, column)] = len(str(text))

    def table(self, row: int, headers, rows, formats, start: int = 1) -> tuple[int, int]:
        """Headers at ``row`` and data below; returns (first, last) data rows."""
        self.headers(row, headers, start)
        for r, values in enumerate(rows, start=row + 1):
            for column, (value, fmt) in enumerate(zip(values, formats), start=start):
                self.put(r, column, value, fmt)
        return row + 1, row + len(rows)

    def fit(self, minimum: float = 8.0):
        """Column widths from the content (digits, separators and a margin); a header needs only its
        longest word and a third of its length, since it wraps; rows of wrapped text get the height
        of their lines (counted generously, as fonts differ between Excel and LibreOffice)."""
        widths = {}
        for column in set(self.widths) | set(self.header_words):
            longest, total = self.header_words.get(column, (0, 0))
            width = max(minimum, self.widths.get(column, 0) + 2.5, longest + 2.5, math.ceil(total / 3) + 2.5)
            widths[column] = min(width, max(self.text_width, self.widths.get(column, 0)) + 2)
            self.ws.column_dimensions[get_column_letter(column)].width = widths[column]
        lines: dict[int, int] = {}
        for (row, column), length in self.wrapped.items():
            per_line = max(widths.get(column, minimum) - 4, 1)
            lines[row] = max(lines.get(row, 1), math.ceil(1.15 * length / per_line))
        for row, n in lines.items():
            if n > 1:
                self.ws.row_dimensions[row].height = ROW_POINTS * n
        for row in self.titles:
            self._wrap_title(row)

    def _wrap_title(self, row: int):
        """A title longer than the table is wide, alone in its row, wrapped over the table's columns (merged): a
        line running over the empty cells to its right widens what a page printed one page wide must hold, and the
        whole sheet prints in a smaller font (the Balance sheet's title printed its two columns at a third)."""
        ws = self.ws
        text = str(ws.cell(row=row, column=1).value or "")
        last = ws.max_column
        if any(ws.cell(row=row, column=c).value is not None for c in range(2, last + 1)):
            return   # not alone in its row (a Charts sheet's data headers)
        lines = math.ceil(TITLE_PIXELS * len(text) / max(table_pixels(ws) - 10, 1))
        if lines <= 1:
            return
        if last > 1 and not any(r.min_row == row and r.min_col == 1 for r in ws.merged_cells.ranges):
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)   # (fit() may run twice)
        ws.cell(row=row, column=1).alignment = WRAP
        ws.row_dimensions[row].height = TITLE_POINTS * lines


def sheet_title(text: str) -> str:
    """A valid sheet name: at most 31 characters, none of \\ / ? * [ ] :."""
    return re.sub(r"[\\/?*\[\]:]", "-", str(text))[:31]


def short_sheet_title(label: str) -> str:
    """A sheet name for a variable's ``label`` (at most 31 characters): the label, without its parenthesis when
    that is too long (System dependency ratio (pensioners / contributors) -> System dependency ratio), cut at a
    word's end if still too long."""
    text = str(label)
    if len(text) > 31:
        text = re.sub(r"\s*\([^()]*\)", "", text).strip()
    if len(text) > 31:
        text = text[:32].rsplit(" ", 1)[0] if " " in text[:32] else text[:31]
    return sheet_title(text)


def _header_footer_text(text: str) -> str:
    return str(text).replace("&", "&&")[:80]


def print_setup(ws, case_name: str, title_rows: str | None = "1:2", landscape: bool = True):
    """Landscape A4, one page wide, title rows repeated, header with the case name, footer with the
    sheet name and the page number."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddHeader.left.text = _header_footer_text(case_name)
    ws.oddHeader.right.text = "&A"
    ws.oddFooter.left.text = _header_footer_text(case_name)
    ws.oddFooter.center.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"


def chart_unit(values) -> tuple[float, str]:
    """A scale for a money axis that keeps tick labels short: the largest of trillions, billions,
    millions, thousands that leaves the largest absolute value at 1 or more."""
    values = np.asarray(values, dtype=float)
    top = float(np.nanmax(np.abs(values))) if values.size and np.any(np.isfinite(values)) else 0.0
    for scale, word in CHART_UNITS:
        if top >= scale:
            return scale, word
    return 1.0, ""


class ChartPages:
    """The Charts sheet: each chart on a page of its own (a block of rows followed by a page break),
    its data in columns to the right of the printed area."""

    BLOCK_ROWS = 30
    WIDTH_CM, HEIGHT_CM = 24.0, 14.0
    PRINT_COLUMNS = 14
    DATA_COLUMN = 17

    def __init__(self, wb, case_name: str, title: str = "Charts"):
        self.ws = wb.create_sheet(title)
        self.writer = SheetWriter(self.ws)
        self.case_name = case_name
        self.count = 0
        self.data_column = self.DATA_COLUMN

    def _data(self, headers, columns, formats) -> tuple[int, int, int]:
        """Write chart data (columns of equal length) to the right; returns (first column, first row, last row)."""
        first_column = self.data_column
        n = len(columns[0])
        self.writer.headers(1, headers, start=first_column)
        for k, (values, fmt) in enumerate(zip(columns, formats)):
            for i, value in enumerate(values):
                self.writer.put(2 + i, first_column + k, value, fmt)
        self.data_column += len(headers) + 1
        return first_column, 2, 1 + n

    def add(self, chart):
        """Place a chart drawn elsewhere (its data on a sheet of their own) on a page of its own."""
        self._place(chart)

    def _place(self, chart):
        top = 1 + self.count * self.BLOCK_ROWS
        chart.width, chart.height = self.WIDTH_CM, self.HEIGHT_CM
        self.ws.add_chart(chart, f"A{top + 1}")
        for r in range(top, top + self.BLOCK_ROWS):
            self.ws.row_dimensions[r].height = ROW_POINTS
        self.ws.row_breaks.append(Break(id=top + self.BLOCK_ROWS - 1))
        self.count += 1

    def _draw(self, chart, title: str, x_title: str, y_title: str, number_format: str, data: tuple[int, int, int],
              n_series: int):
        """Titles, visible axes with labels at the low edge (clear of bars that cross zero), the series
        of columns ``data`` = (category column, first row, last row), legend below; then place it."""
        column, first, last = data
        chart.title = title
        chart.x_axis.title = x_title
        chart.y_axis.title = y_title
        chart.y_axis.number_format = number_format
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.x_axis.tickLblPos = "low"
        chart.add_data(Reference(self.ws, min_col=column + 1, max_col=column + n_series, min_row=first - 1,
                                 max_row=last), titles_from_data=True)
        chart.set_categories(Reference(self.ws, min_col=column, min_row=first, max_row=last))
        chart.legend.position = "b"
        self._place(chart)

    @staticmethod
    def _bar_chart(gap: int):
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "clustered"
        chart.overlap = 100
        chart.gapWidth = gap
        return chart

    def line(self, title: str, y_title: str, years, series: dict[str, np.ndarray], number_format: str,
             x_title: str = "Year"):
        """A line chart of yearly series (already in the unit of ``y_title``), drawn in straight segments between
        the years (smoothing off)."""
        names = list(series)
        data_format = DATA_FORMATS.get(number_format, number_format)
        data = self._data(["Year"] + names, [list(map(int, years))] + [series[n] for n in names],
                          ["0"] + [data_format] * len(names))
        chart = LineChart()
        step = max(1, len(years) // 10)
        chart.x_axis.tickLblSkip = step
        chart.x_axis.tickMarkSkip = step
        self._draw(chart, title, x_title, y_title, number_format, data, len(names))
        for series in chart.series:   # straight segments: a program that smooths a series without <c:smooth val="0"/>
            series.smooth = False     # (LibreOffice) draws a step schedule dipping and overshooting between years

    def pyramid(self, title: str, ages, men, women):
        """Population pyramid: men to the left (negative values shown without sign), women to the right."""
        data = self._data(["Age", "Men", "Women"], [list(map(int, ages)), -np.asarray(men), np.asarray(women)],
                          ["0", "#,##0", "#,##0"])
        chart = self._bar_chart(gap=0)
        chart.x_axis.tickLblSkip = 10
        chart.x_axis.tickMarkSkip = 10
        self._draw(chart, title, "Age", "Persons (men left, women right)", "#,##0;#,##0", data, 2)

    def bars(self, title: str, x_title: str, labels, series: dict[str, np.ndarray], number_format: str):
        """Horizontal bars (a tornado): category labels at the left edge, clear of the bars."""
        names = list(series)
        data_format = DATA_FORMATS.get(number_format, number_format)
        data = self._data(["Assumption"] + names, [list(labels)] + [series[n] for n in names],
                          [None] + [data_format] * len(names))
        chart = self._bar_chart(gap=40)
        chart.x_axis.scaling.orientation = "maxMin"
        self._draw(chart, title, "Assumption", x_title, number_format, data, len(names))

    def stacked(self, title: str, y_title: str, years, series: dict[str, np.ndarray], number_format: str):
        """Stacked columns of yearly series (already in the unit of ``y_title``), e.g. a cost by benefit."""
        names = list(series)
        data_format = DATA_FORMATS.get(number_format, number_format)
        data = self._data(["Year"] + names, [list(map(int, years))] + [series[n] for n in names],
                          ["0"] + [data_format] * len(names))
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.gapWidth = 20
        step = max(1, len(years) // 10)
        chart.x_axis.tickLblSkip = step
        chart.x_axis.tickMarkSkip = step
        self._draw(chart, title, "Year", y_title, number_format, data, len(names))

    def finish(self, title: str = "Charts (one per page; their data are in the columns to the right)"):
        self.writer.title(1, title)
        self.writer.fit()
        for c in range(1, self.PRINT_COLUMNS + 1):
            self.ws.column_dimensions[get_column_letter(c)].width = 10.0
        print_setup(self.ws, self.case_name, title_rows=None)
        last = max(1, self.count * self.BLOCK_ROWS)
        self.ws.print_area = f"A1:{get_column_letter(self.PRINT_COLUMNS)}{last}"


# ----------------------------------------------------------------------------------- the results workbook

def _yearly_sheet(wb, sheet: str, title: str, p, columns: list[pres.Column], case_name: str, notes=()):
    """A sheet of yearly columns under ``title``, with ``notes`` (lines of text) below the table."""
    ws = wb.create_sheet(sheet[:31])
    writer = SheetWriter(ws)
    writer.title(1, title)
    headers = ["Year"] + [c.header for c in columns]
    formats = ["0"] + [c.format for c in columns]
    rows = [[int(y)] + [c.values[i] for c in columns] for i, y in enumerate(p.year.values)]
    first, last = writer.table(2, headers, rows, formats)
    if notes:
        writer.put(last + 2, 1, "Notes", text=True, bold=True)
        writer.notes(last + 3, notes)
    writer.fit()
    ws.freeze_panes = "B3"
    print_setup(ws, case_name)
    return ws


def write_results(results, valuation, path, provenance: dict | None = None) -> None:
    """The results workbook of one valuation (see the module docstring), ending with the sheet "About
    this run" (``provenance``, by default the valuation's source and this API call)."""
    from .floor import write_floor_only_results

    if not valuation.inputs.has_scheme:   # a social protection floor costing alone
        return write_floor_only_results(results, valuation, path, provenance)
    with cycle_collection_paused():
        _write_results(results, valuation, Path(path), provenance)


def _write_results(results, valuation, path: Path, provenance: dict | None) -> None:
    from .definitions import add_definitions_sheet
    from .floor import floor_benefits_sheet, floor_charts, floor_sheet

    p, s = results.projection, results.summary
    unit = valuation.inputs.settings["money_unit"]
    name = valuation.name
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    _summary(ws, results, valuation, unit)
    _provisions(wb, valuation)
    for sheet, title in ((pres.DEMOGRAPHY, "Demography: national population"),
                         (pres.INSURED, "Insured population"),
                         (pres.PENSIONERS, "Pensioners at the end of each year and new awards"),
                         (pres.FINANCE, f"Financial projection (nominal, {pres.MONEY_WORDS[unit]})"),
                         (pres.INDICATORS, "Financing indicators")):
        _yearly_sheet(wb, sheet, title, p, pres.yearly_columns(p, sheet, unit,
                                                               leave_out=pres.unused_outputs(valuation.inputs)),
                      name, notes=pres.sheet_notes(sheet, p, valuation.inputs))
    _population_by_age(wb, p, name)
    _balance_sheet(wb, p, s, unit, name)
    floor_sheet(wb, p, s, unit, name, valuation.inputs)
    floor_benefits_sheet(wb, p, valuation.inputs, name)
    _assumptions(wb, valuation, p, name)
    charts = ChartPages(wb, name)
    _charts(charts, p, valuation)
    floor_charts(charts, p)
    charts.finish()
    add_definitions_sheet(wb, results, valuation)
    add_about_sheet(wb, provenance or for_api(valuation, "io.results.write_results"))
    _atomic_save(wb, path)


def netcdf_dataset(results, attributes: dict) -> xr.Dataset:
    """The Dataset of a valuation's netCDF file: the yearly projection, the summary's variables prefixed
    ``summary_`` and, for a scheme, ``summary_level_contribution_rate`` (the level contribution rate from the
    valuation year keeping the reserve ratio at or above 1 for 50 years, as the results workbook and the
    report give it; NaN when no rate does), with the provenance ``attributes``."""
    from ..report.findings import level_rate_for_reserve_ratio

    dataset = results.projection.merge(
        results.summary.rename({k: f"summary_{k}" for k in results.summary.data_vars}), compat="override")
    if "contribution_rate" in results.projection:   # not for a floor costing alone
        level = level_rate_for_reserve_ratio(results.projection)
        dataset["summary_level_contribution_rate"] = ((), np.nan if level.rate is None else level.rate, {
            "description": f"lowest level contribution rate from the valuation year keeping the reserve ratio at "
                           f"or above {level.ratio:g} in each of the first {level.years} years (NaN: no rate does)",
            "units": "share of insurable earnings", "years": level.years, "reserve_ratio": level.ratio})
    for name, (units, description) in COORDINATES.items():
        if name in dataset.coords:
            dataset[name].attrs.update(units=units, description=description)
    dataset.attrs.update(attributes)
    dataset.attrs["money"] = "currency units, not scaled (settings.money_unit is the unit the workbooks show)"
    return dataset


# units and meaning of the coordinates of a valuation's netCDF file
COORDINATES = {
    "year": ("year", "calendar year: flows of the year, stocks at its end (1 January of the next year)"),
    "sex": ("text", "male or female"),
    "age": ("years", "age in completed years at 1 January of the year (the last an open group)"),
    "benefit": ("text", "pension in payment: old_age, invalidity, widow (widow(er)s), orphan"),
    "floor_benefit": ("text", "benefit of the social protection floor (the rows of the Floor sheet)"),
    "horizon": ("years", "years from the valuation year over which a summary measure is taken"),
    "period": ("year", "first year of a period of the scaled premium"),
    "period_end": ("year", "last year of a period of the scaled premium"),
}


def _summary(ws, results, valuation, unit):
    from ..report.findings import level_rate_for_reserve_ratio

    p, s = results.projection, results.summary
    t0, last = int(p.year.values[0]), int(p.year.values[-1])
    writer = SheetWriter(ws)
    writer.title(1, f"{valuation.name}: actuarial valuation at 1 January {t0}")
    money = pres.MONEY_WORDS[unit]
    rows = [
        ("Projection horizon (years)", p.sizes["year"], "0"),
        (f"Contribution rate in {t0} (% of insurable earnings)", float(p.contribution_rate.values[0]), "0.00%"),
        (f"PAYG cost rate in {t0} (% of insurable earnings)", float(p.paygo_cost_rate.values[0]), "0.00%"),
        (f"PAYG cost rate in {last} (% of insurable earnings)", float(p.paygo_cost_rate.values[-1]), "0.00%"),
        (f"Reserve at the valuation date ({money})", float(pres.shown(p.reserve_at_valuation.values, "money", unit)),
         "#,##0"),
        (f"Reserve ratio at the end of {t0} (years of expenditure)", float(p.reserve_ratio.values[0]), "0.00"),
    ]
    for key, label, value, fmt in pres.summary_items(s, "Summary", unit):
        if key == "depletion_year":
            rows.append((label, "none within the horizon" if math.isnan(value) else int(value), "0"))
        else:
            rows.append((label, value, fmt))
    if "scaled_premium" in s:
        for start, end, rate in zip(s.period.values, s.period_end.values, s.scaled_premium.values):
            rows.append((f"Scaled premium {int(start)}-{int(end)} (% of insurable earnings)", float(rate), "0.00%"))
    level = level_rate_for_reserve_ratio(p)
    rows.append((f"Level contribution rate from {t0} keeping the reserve ratio at or above 1 for {level.years} "
                 "years (% of insurable earnings)", "none" if level.rate is None else level.rate, "0.00%"))
    for key in ("balance", "funded_ratio"):
        if key in s:
            variable = pres.SUMMARY[key]
            rows.append((pres.header(variable.label, pres.unit_text(variable, unit)),
                         float(pres.shown(s[key].values, variable.kind, unit)), pres.number_format(variable.kind)))
    writer.headers(2, ["Indicator", "Value"])
    for r, (label, value, fmt) in enumerate(rows, start=3):
        writer.put(r, 1, label, text=True)
        writer.put(r, 2, value, fmt)
    note = 3 + len(rows) + 1
    writer.note(note, f"Money amounts in {pres.money_phrase(unit)}; rates as percentages; every heading's units and "
                      "definition in the Definitions sheet; conventions also in docs/methodology.md and the report.")
    writer.notes(note + 1, pres.depletion_notes(p, valuation.inputs), width=100)
    writer.fit()
    ws.freeze_panes = "A3"
    print_setup(ws, valuation.name)


def _provisions(wb, valuation):
    ws = wb.create_sheet("Provisions")
    groups = {"settings": "Settings", "scheme": "Scheme provisions", "economy": "Economy"}
    rows = [(groups[g], label, text, note) for g, label, text, note in pres.provisions(valuation.inputs)]
    text_sheet(ws, "Scheme provisions, valuation settings and economic inputs, in words",
               ["Group", "Provision", "Value", "Notes"], rows, valuation.name)


def text_sheet(ws, title: str, headers: list[str], rows, case_name: str) -> None:
    """A sheet of text: title, headers, the rows as literal text (no cell read as a formula), columns fitted,
    headers frozen, printed as every sheet is."""
    writer = SheetWriter(ws)
    writer.title(1, title)
    writer.headers(2, headers)
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=1):
            writer.put(r, c, value, text=True)
    writer.fit()
    ws.freeze_panes = "A3"
    print_setup(ws, case_name)


def _population_by_age(wb, p, case_name):
    years = pyramid_years(p)
    if not years:
        return
    ws = wb.create_sheet("Population by age")
    writer = SheetWriter(ws)
    writer.title(1, "Population by age and sex at the valuation date and at the end of later years (persons)")
    headers = ["Age"]
    columns = []
    for year, stock in years:
        for sex in ("male", "female"):
            headers.append(f"{pres.SEX_LABELS[sex].capitalize()}, {year}")
            columns.append(stock.sel(sex=sex).values)
    rows = [[int(a)] + [c[i] for c in columns] for i, a in enumerate(p.age.values)]
    writer.table(2, headers, rows, ["0"] + ["#,##0"] * len(columns))
    writer.fit()
    ws.freeze_panes = "B3"
    print_setup(ws, case_name)


def pyramid_years(p) -> list[tuple[str, object]]:
    """(label, population by sex and age) at the valuation date and after 30 and 80 years (those within
    the horizon): the stocks at 1 January t0, t0 + 30 and t0 + 80; none for a case without a national
    population."""
    if "population" not in p or "population_at_valuation" not in p:
        return []
    t0, n = int(p.year.values[0]), p.sizes["year"]
    out = [(f"1 January {t0}", p.population_at_valuation)]
    for ahead in (30, 80):
        if ahead <= n:
            out.append((f"1 January {t0 + ahead}", p.population.sel(year=t0 + ahead - 1)))
    return out


def _balance_sheet(wb, p, s, unit, case_name):
    items = pres.summary_items(s, "Balance sheet", unit)
    if not items:
        return
    ws = wb.create_sheet("Balance sheet")
    writer = SheetWriter(ws)
    t0 = int(p.year.values[0])
    writer.title(1, f"Open-group balance sheet and closed-group accrued liability (present values at 1 January {t0}: "
                    f"current insured and pensioners until the last has left, future entrants, administrative "
                    f"expenses and subsidy over the {p.sizes['year']}-year horizon)")
    writer.headers(2, ["Item", "Value"])
    row = 3
    for section, prefix in (("Liabilities", ("liability_", "total_liabilities")),
                            ("Assets", ("asset_", "total_assets")),
                            ("Result", ("balance", "accrued_liability", "funded_ratio")),
                            ("Present values by group (average premiums)", ("pv_",))):
        chosen = [i for i in items if i[0].startswith(prefix)]
        if not chosen:
            continue
        writer.put(row, 1, section, text=True, bold=True)
        row += 1
        for _, label, value, fmt in chosen:
            writer.put(row, 1, label, text=True)
            writer.put(row, 2, value, fmt)
            row += 1
    writer.fit()
    ws.freeze_panes = "A3"
    print_setup(ws, case_name)


# ----------------------------------------------------------------------------------- assumptions

DEMOGRAPHIC_BY_AGE = ("mortality", "mortality_improvement", "fertility", "net_migration", "pensioner_mortality_factor",
                      "invalid_mortality_factor", "survivor_mortality_factor", "remarriage_rate",
                      "probability_married", "spouse_age_difference", "orphans", "orphan_age")


def _field_format(field, by_age: bool = False) -> tuple[str, str]:
    """(number format, unit text) of an input field in the results workbook; probabilities by age get
    three decimals (a q_x of 0.0005 reads 0.050%); an input given in percent (35 = 35%) is written as a
    fraction (``_field_values``) under a percent format."""
    kind = pres.field_kind(field)
    units = (field.units or "").split(" (")[0]
    if kind == "percent_points":
        return "0.00%", "% " + units[len("percent "):]
    if kind == "percent":
        of = pres._percent_units(units)
        return ("0.000%" if by_age and field.kind == "probability" else "0.00%"), ("% " + of).strip()
    if kind == "money":
        return "#,##0", units.split(",")[0]
    if field.kind == "count" or units.startswith("persons"):
        return "#,##0", "persons"
    if kind == "age":
        return "0.0", "years"
    return "0.0000", units


def _field_values(field, values) -> np.ndarray:
    """The values of an input field as the results workbook's cells hold them (under ``_field_format``)."""
    values = np.asarray(values)
    return values / 100.0 if pres.field_kind(field) == "percent_points" else values


def assumption_columns(valuation, p) -> list[pres.Column]:
    """Every year-dependent input as yearly columns (one per sex for inputs by sex; totals for net
    migration and the total fertility rate for inputs by age), then the series derived from them."""
    from ..inputs import FIELDS, PROVISIONS_BY_YEAR

    inputs = valuation.inputs
    out = []
    for group in ("scheme", "economy", "demography", "behaviour"):
        for name, field in FIELDS[group].items():
            value = getattr(inputs, group).get(name)
            if not hasattr(value, "dims") or "year" not in value.dims or not pres._applies(name, inputs):
                continue
            if name in PROVISIONS_BY_YEAR and bool(np.all(value.values == value.values[0])):
                continue   # a provision that could change by year but does not: in the Provisions sheet
            fmt, unit = _field_format(pres.field_as_used(name, field, inputs))
            label = pres.field_label(name, inputs)
            if value.dims == ("year",):
                out.append(pres.Column(name, pres.header(label, unit), _field_values(field, value.values), fmt,
                                       "input"))
            elif value.dims == ("year", "sex"):
                for sex in value.sex.values:
                    out.append(pres.Column(f"{name}/{sex}", pres.header(f"{label}, {pres.SEX_LABELS[sex]}", unit),
                                           _field_values(field, value.sel(sex=sex).values), fmt, "input"))
            elif name == "fertility":
                out.append(pres.Column("total_fertility_rate", "Total fertility rate (births per woman)",
                                       value.sum("age").values, "0.000", "input"))
            elif name == "net_migration":
                for sex in value.sex.values:
                    out.append(pres.Column(f"{name}/{sex}", f"Net migration, {pres.SEX_LABELS[sex]} (persons)",
                                           value.sel(sex=sex).sum("age").values, "#,##0", "input"))
    unit = inputs.settings["money_unit"]
    out += pres.yearly_columns(p, pres.ASSUMPTIONS, unit)
    return out


def _assumptions(wb, valuation, p, case_name):
    from ..inputs import FIELDS

    columns = assumption_columns(valuation, p)
    _yearly_sheet(wb, pres.ASSUMPTIONS, "Assumptions year by year (inputs, then the series derived from them)", p,
                  columns, case_name)
    inputs = valuation.inputs
    t0 = int(inputs.coords["year"][0])
    by_age = {"Demographic assumptions by age": [], "Labour assumptions by age": []}
    varying = []
    for group in ("demography", "behaviour"):
        for name, field in FIELDS[group].items():
            value = getattr(inputs, group).get(name)
            if not hasattr(value, "dims") or "age" not in value.dims or name == "population":
                continue
            sheet = "Demographic assumptions by age" if name in DEMOGRAPHIC_BY_AGE else "Labour assumptions by age"
            if "year" in value.dims:
                values = value.transpose("year", ...).values
                if np.any(values != values[:1]):
                    varying.append((name, field, value))
                value = value.sel(year=t0, drop=True)
            by_age[sheet].append((name, field, value, "year" in getattr(inputs, group)[name].dims))
    ages = inputs.coords["population_age"]
    for title, fields in by_age.items():
        if not fields:
            continue
        ws = wb.create_sheet(title)
        writer = SheetWriter(ws)
        writer.title(1, f"{title} ({t0} values of year-dependent inputs; sex-independent inputs in both columns)")
        headers, cols, formats = ["Age"], [], ["0"]
        for name, field, value, by_year in fields:
            fmt, unit = _field_format(field, by_age=True)
            for sex in ("male", "female"):
                da = value.sel(sex=sex) if "sex" in value.dims else value
                series = da.reindex(age=ages).values
                label = pres.field_label(name) + (f", {pres.SEX_LABELS[sex]}" if "sex" in value.dims else "") \
                    + (f", {t0}" if by_year else "")
                headers.append(pres.header(label, unit))
                cols.append(series)
                formats.append(fmt)
                if "sex" not in value.dims:
                    break
        rows = [[int(a)] + [c[i] for c in cols] for i, a in enumerate(ages)]
        writer.table(2, headers, rows, formats)
        writer.fit()
        ws.freeze_panes = "B3"
        print_setup(ws, case_name)
    for name, field, value in varying:  # year by year and age, where an age profile changes over the years
        ws = wb.create_sheet(sheet_title(f"{pres.field_label(name).split(':')[0][:22]} by year"))
        writer = SheetWriter(ws)
        fmt, unit = _field_format(field)
        writer.title(1, f"{pres.header(pres.field_label(name), unit)} by year (rows) and sex and age (columns)")
        value = value.transpose("year", ...)
        sexes = list(value.sex.values) if "sex" in value.dims else [None]
        headers = ["Year"] + [f"{pres.SEX_LABELS[s] + ' ' if s else ''}{int(a)}" for s in sexes for a in value.age.values]
        rows = []
        for year in value.year.values:
            row = [int(year)]
            for sex in sexes:
                row += list((value.sel(year=year, sex=sex) if sex else value.sel(year=year)).values)
            rows.append(row)
        writer.table(2, headers, rows, ["0"] + [fmt] * (len(headers) - 1))
        writer.fit()
        ws.freeze_panes = "B3"
        print_setup(ws, case_name)


# ----------------------------------------------------------------------------------- charts

def _money_series(p, names, unit_scale: float, deflate: bool = False):
    prices = p.price_index.values if deflate else 1.0
    return {pres.VARIABLES[n].label: p[n].values / prices / unit_scale for n in names if n in p}


def _charts(charts: ChartPages, p, valuation):
    years = p.year.values
    t0 = int(years[0])
    flows = [n for n in ("contributions", "total_income", "total_expenditure") if n in p]
    if flows and "price_index" in p:
        scale, word = chart_unit(np.concatenate([p[n].values / p.price_index.values for n in flows]))
        charts.line(f"Income and expenditure at {t0} prices", f"{word} of currency, {t0} prices".strip(),
                    years, _money_series(p, flows, scale, deflate=True), "#,##0")
    debt = valuation.inputs.settings["after_depletion"] == "borrow" and "reserve" in p and bool((p.reserve < 0).any())
    if "reserve_real" in p:
        scale, word = chart_unit(p.reserve_real.values)
        charts.line(f"Reserve at the end of the year, at {t0} prices" + (" (below zero: debt, borrowing to pay "
                                                                           "benefits in full)" if debt else ""),
                    f"{word} of currency, {t0} prices".strip(),
                    years, {"Reserve in real terms": p.reserve_real.values / scale}, "#,##0")
    rates = {pres.VARIABLES[n].label: p[n].values for n in ("contribution_rate", "breakeven_contribution_rate",
                                                             "paygo_cost_rate") if n in p}
    charts.line("Contribution rate, break-even rate and PAYG cost rate", "% of insurable earnings", years, rates, "0%")
    charts.line("Reserve ratio (reserve at the end of the year / expenditure of the year)", "years of expenditure",
                years, {"Reserve ratio": p.reserve_ratio.values}, "0.0")
    shares = {pres.VARIABLES[n].label: p[n].values / 100 for n in
              ("expenditure_pct_gdp", "total_expenditure_pct_gdp", "income_pct_gdp") if n in p}
    if shares:
        charts.line("Income and expenditure as a share of GDP" + (" (after depletion, income net of the interest "
                                                                  "on the debt)" if debt else ""),
                    "% of GDP", years, shares, "0.0%")
    people = {"Contributors": p.contributors.values}
    people.update({f"{pres.BENEFIT_LABELS[b].capitalize()} pensioners": p.pensioners_by_benefit.sel(benefit=b).values
                   for b in p.benefit.values})
    scale, word = chart_unit(np.concatenate(list(people.values())))
    charts.line("Contributors and pensioners by benefit", f"{word} of persons"
                if word else "persons", years, {k: v / scale for k, v in people.items()}, "#,##0")
    ratios = {pres.VARIABLES[n].label: p[n].values for n in ("demographic_dependency_ratio", "system_dependency_ratio")
              if n in p}
    if ratios:
        charts.line("Dependency ratios", "ratio", years, ratios, "0.00")
    eco = valuation.inputs.economy
    charts.line("Main economic assumptions", "% a year", years,
                {pres.field_label(n): eco[n].values for n in ("inflation", "real_wage_growth", "nominal_return",
                                                               "unemployment_rate")}, "0.0%")
    for label, stock in pyramid_years(p):
        charts.pyramid(f"Population pyramid, {label}", p.age.values, stock.sel(sex="male").values,
                       stock.sel(sex="female").values)
