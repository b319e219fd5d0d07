"""The output workbooks as a person sees and prints them: line charts drawn in straight segments (no program smooths
a step schedule into dips and overshoots), the analysis-of-change workbook printed as the results workbook is
(landscape, fitted to pages wide, title rows repeated, headers frozen, each waterfall on a page of its own)."""

import math
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest

from actuary import Valuation, load_workbook
from actuary.valuation import PROJECT_ROOT

CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
SHORT = {"horizon": 20, "gap_horizons": (10, 20), "actuarial_balance_period": 20, "balance_sheet": "no"}


@pytest.fixture(scope="module")
def base():
    return Valuation.demo().replace(settings=SHORT)


@pytest.fixture(scope="module")
def floor():
    """Demoland with its floor, short (read once for the change and the results workbooks)."""
    return load_workbook(PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx").replace(settings=SHORT)


@pytest.fixture(scope="module")
def change_workbook(base, floor, tmp_path_factory):
    from actuary.change import analysis_of_change
    from actuary.io.change import write_change

    path = tmp_path_factory.mktemp("change") / "change.xlsx"
    write_change(analysis_of_change(base, floor), path)   # the floor arrives in the provisions step
    return path


@pytest.fixture(scope="module")
def workbooks(base, floor, change_workbook, tmp_path_factory):
    """The results (a case with a floor: its charts too), comparison, sensitivity, stochastic and change
    workbooks of short cases."""
    from actuary.batch import sensitivity, write_sensitivity
    from actuary.compare import comparison, write_comparison
    from actuary.io.results import write_results
    from actuary.stochastic import simulate, write_stochastic

    folder = tmp_path_factory.mktemp("outputs")
    write_results(floor.run(), floor, folder / "results.xlsx")
    write_comparison(comparison(base, {"higher ceiling": base.replace(scheme={"ceiling_multiple": 3.0})}),
                     folder / "comparison.xlsx")
    write_sensitivity(sensitivity(base), folder / "sensitivity.xlsx")
    write_stochastic(simulate(base, 20, seed=1), folder / "stochastic.xlsx")
    return {"results": folder / "results.xlsx", "comparison": folder / "comparison.xlsx",
            "sensitivity": folder / "sensitivity.xlsx", "stochastic": folder / "stochastic.xlsx",
            "change": change_workbook}


def _charts(path):
    """The chart parts of the workbook at ``path`` as parsed XML."""
    with zipfile.ZipFile(path) as archive:
        return [ElementTree.fromstring(archive.read(n)) for n in archive.namelist()
                if n.startswith("xl/charts/chart") and n.endswith(".xml")]


def test_every_line_series_is_drawn_in_straight_segments(workbooks):
    """<c:smooth val="0"/> on every series of every line chart, as saved: without it LibreOffice smooths the line,
    and a step contribution schedule dips and overshoots between the years."""
    for which, path in workbooks.items():
        charts = _charts(path)
        assert charts, which
        series = [ser for chart in charts for line in chart.iter(f"{CHART}lineChart") for ser in line.findall(
            f"{CHART}ser")]
        if which == "change":   # waterfalls: stacked bars only
            assert not series and all(chart.find(f".//{CHART}barChart") is not None for chart in charts)
            continue
        assert series, which
        for ser in series:
            smooth = ser.find(f"{CHART}smooth")
            assert smooth is not None and smooth.get("val") == "0", (which, ElementTree.tostring(ser)[:200])


def test_the_change_workbook_prints_as_the_results_workbook(change_workbook):
    """Every sheet landscape, fitted to pages wide (a table wider than a page at 75% on several, its first column
    repeated), as many pages tall as it needs, the case name in the header and the page in the footer; the tables'
    title and header rows repeated and frozen with the first column; the waterfalls on the Charts sheet, a page
    each (LibreOffice printed the workbook on 55 portrait pages, the columns and charts cut)."""
    wb = openpyxl.load_workbook(change_workbook)
    visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert [ws.title for ws in visible] == ["Reconciliation", "Charts", "Steps", "About this run"]
    for ws in visible:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and str(setup.paperSize) == ws.PAPERSIZE_A4, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToHeight == 0, ws.title
        assert ws.oddFooter.right.text == "Page &P of &N", ws.title
        if ws.title != "About this run":   # (as in every workbook: the run's record)
            assert ws.oddFooter.center.text == "&A" and "demoland" in ws.oddHeader.left.text.lower(), ws.title
        if setup.fitToWidth > 1:
            assert ws.print_title_cols.replace("$", "") == "A:A", ws.title
    titles = {"Reconciliation": ("1:3", "B4"), "Steps": ("1:2", "B3")}
    for name, (rows, frozen) in titles.items():
        ws = wb[name]
        assert ws.print_title_rows.replace("$", "") == rows and ws.freeze_panes == frozen, name
        header = 3 if name == "Reconciliation" else 2
        assert all(c.alignment.wrap_text for c in ws[header] if c.value), name   # headers wrap: narrow columns
    assert not wb["Reconciliation"]._charts
    charts = wb["Charts"]
    assert len(charts._charts) >= 3
    rows = sorted(chart.anchor._from.row for chart in charts._charts)
    breaks = sorted(b.id for b in charts.row_breaks.brk)
    assert len(breaks) == len(rows)
    for top, brk, following in zip(rows, breaks, rows[1:] + [math.inf]):
        assert top < brk < following   # a page break between every two charts
    # the notes under the reconciliation table in lines no longer than a page is wide
    notes = [c.value for c in wb["Reconciliation"]["A"][3:] if isinstance(c.value, str) and len(c.value) > 60]
    assert notes and all(len(line) <= 110 for line in notes)


def _word_heights(pdf) -> list[float]:
    """The heights (points) of the words printed on the first page of ``pdf`` (pdftotext's bounding boxes)."""
    import re
    import subprocess

    boxes = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                           text=True, timeout=60, check=True).stdout
    return [float(y1) - float(y0) for y0, y1 in re.findall(r'<word [^>]*yMin="([\d.]+)"[^>]*yMax="([\d.]+)"', boxes)]


def test_a_long_title_is_wrapped_over_the_table_and_the_balance_sheet_prints_readably(tmp_path):
    """The Balance sheet's title (some 230 characters) ran over the empty cells to the right of its two columns, and
    LibreOffice, printing the sheet one page wide, fitted the whole line: the table came out at a third of its size.
    The title now wraps over the table's columns (merged, its row as tall as its lines); printed by LibreOffice, the
    figures are in a readable font."""
    import shutil
    import subprocess

    from actuary.io.results import write_results

    case = Valuation.demo().replace(settings={"horizon": 20, "gap_horizons": (10, 20), "actuarial_balance_period": 20})
    path = tmp_path / "results.xlsx"
    write_results(case.run(), case, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Balance sheet"]
    assert len(ws["A1"].value) > 150 and [str(r) for r in ws.merged_cells.ranges] == ["A1:B1"]
    assert ws["A1"].alignment.wrap_text and ws.row_dimensions[1].height >= 2 * 15
    for sheet in wb.worksheets:   # a short title stays one line, unmerged
        if sheet.title in ("Summary", "Financial projection"):
            assert not sheet.merged_cells.ranges and not sheet["A1"].alignment.wrap_text, sheet.title
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice and pdftotext print the sheet")
    for sheet in wb.sheetnames:
        if sheet != "Balance sheet":
            del wb[sheet]
    wb.save(tmp_path / "balance.xlsx")
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(tmp_path / "balance.xlsx")], capture_output=True,
                   timeout=300, check=True)
    heights = sorted(_word_heights(tmp_path / "balance.pdf"))
    assert heights and heights[len(heights) // 2] >= 9, heights   # 11-point text at 100% (a third: 4 points)
