"""The actuary's own text in the report: the Report text sheet read as hostile input (text only, known sections
once each, length limits, no formula even with a saved value), placed in its chapters, escaped in the HTML and the
PDF, and the draft's marks: each section not written marked, the first page and every page saying the report is a
draft, none of it when every section is written."""

import datetime as dt
import re
from pathlib import Path
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st
from markupsafe import escape

from actuary import InputError, Valuation, load_workbook
from actuary.cli import main
from actuary.io.report_text import BY_KEY, MAX_LINE, MAX_TEXT, SECTIONS, SHEET, ReportText, read_report_text, \
    write_report_text_sheet
from actuary.report import build, write_report
from actuary.report.pdf import find_chromium
from actuary.valuation import DEMOLAND, DEMOLAND_FLOOR_ONLY, PROJECT_ROOT

from .xlsx_edit import rewrite, sheet_parts

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> **bold** [link](javascript:alert(3)) &amp; # Title"
# every section written; each text names its section, so that its place in the report can be found
FULL = {s.key: (f"Text of {s.key}." if not s.line else f"Line of {s.key}") for s in SECTIONS}
GAP = "class=\"gap\">[To be written by the actuary:"   # a mark (the first page quotes it too)
# chapter of the report (its id) -> the sections placed in it, in order
PLACES = {"introduction": ["purpose_and_scope", "legal_basis", "previous_valuation"],
          "provisions": ["provisions_summary", "provision_changes"], "data": ["data_sources", "data_checks"],
          "assumptions": ["demographic_assumptions", "economic_assumptions", "behavioural_assumptions"],
          "conclusions": ["conclusions", "recommendations"],
          "statement": ["limitations", "opinion", "actuary_name", "qualification", "signature_date"]}


def _workbook(path, rows=None, text=None):
    """A workbook with only the Report text sheet: the template's rows with ``text`` (or ``rows``: {cell: value})."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    ws = write_report_text_sheet(wb, text)
    for ref, value in (rows or {}).items():
        ws[ref] = value
    wb.save(path)
    return path


def _row(key: str) -> int:
    return 3 + [s.key for s in SECTIONS].index(key)


@pytest.fixture(scope="module")
def short():
    return Valuation.demo().replace(settings={"horizon": 10, "gap_horizons": (10,), "balance_sheet": "no"})


@pytest.fixture(scope="module")
def short_results(short):
    return short.run()


def _chapter(html: str, key: str) -> str:
    start = html.index(f'<section class="chapter {key}" id="{key}">')
    return html[start:html.index("</section>", start)]


# ------------------------------------------------------------------------------------------------ reading

def test_template_and_demoland_ship_the_sheet_with_every_section_blank(tmp_path):
    """actuary template (blank and --demo) and the shipped Demoland workbooks have the sheet: every section's key,
    its chapter and what to write, the text blank (Demoland is fictional: no text written as if by its actuary)."""
    for flag in ([], ["--demo"]):
        path = tmp_path / f"template{len(flag)}.xlsx"
        done = CliRunner().invoke(main, ["template", str(path), *flag])
        assert done.exit_code == 0, done.output
        book = openpyxl.load_workbook(path)
        ws = book[SHEET]
        assert [ws.cell(2, c).value for c in (1, 2)] == ["section", "text"]
        assert [ws.cell(r, 1).value for r in range(3, 3 + len(SECTIONS))] == [s.key for s in SECTIONS]
        assert all(ws.cell(r, 2).value is None for r in range(3, 3 + len(SECTIONS)))
        assert ws.cell(_row("opinion"), 3).value == "Actuarial opinion: Statement of actuarial opinion"
        assert SHEET in [c.value for c in book["Contents"]["A"]]
    for case in (DEMOLAND / "valuation.xlsx", PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx",
                 DEMOLAND_FLOOR_ONLY):
        assert SHEET in openpyxl.load_workbook(case, read_only=True).sheetnames, case
        assert read_report_text(case).texts == {}, case
        load_workbook(case)   # the sheet is one a valuation workbook may have


def test_reading_the_sections_as_written(tmp_path):
    """Text with line breaks (CRLF too) and list items, a date cell for signature_date, a blank text (a gap), a row
    of guidance alone (column D); trailing spaces and blank lines at either end removed."""
    path = _workbook(tmp_path / "text.xlsx", {
        f"B{_row('purpose_and_scope')}": "The Ministry of Labour asked for it.\r\n\r\n- first\n- second   \n\n",
        f"B{_row('opinion')}": "In my opinion ...",
        f"B{_row('signature_date')}": dt.datetime(2027, 3, 15),
        f"B{_row('actuary_name')}": "  Jane Doe, FSA  ",
        f"B{_row('legal_basis')}": "   ",
        "D25": "a note of the user's own"})
    text = read_report_text(path)
    assert text.texts == {"purpose_and_scope": "The Ministry of Labour asked for it.\n\n- first\n- second",
                          "opinion": "In my opinion ...", "signature_date": "15 March 2027",
                          "actuary_name": "Jane Doe, FSA"}
    assert [s.key for s in text.missing(True)] == [s.key for s in SECTIONS if s.key not in text.texts]
    # the floor costing alone is not asked for the scheme's behavioural assumptions
    assert "behavioural_assumptions" not in [s.key for s in text.missing(False)]
    assert read_report_text(_workbook(tmp_path / "none.xlsx")).texts == {}


def _with_formula(source, target, ref: str, formula: str, cached: str | None):
    """``source`` with the cell ``ref`` of the Report text sheet a formula (with a saved value when ``cached``)."""
    part = sheet_parts(source)[SHEET]
    with zipfile.ZipFile(source) as z:
        xml = z.read(part).decode()
    cell = f'<c r="{ref}" t="str"><f>{formula}</f>' + (f"<v>{cached}</v>" if cached is not None else "") + "</c>"
    xml, n = re.subn(rf'<c r="{ref}"[^>]*/>|<c r="{ref}"[^>]*>.*?</c>', cell, xml)
    assert n == 1
    return rewrite(source, target, {part: xml.encode()})


@pytest.mark.parametrize("cached", ["Ministry of Labour", None])
def test_a_formula_is_refused_even_with_a_saved_value(tmp_path, cached):
    row = _row("purpose_and_scope")
    path = _with_formula(_workbook(tmp_path / "base.xlsx"), tmp_path / "formula.xlsx", f"B{row}",
                         "CONCATENATE(&quot;Ministry&quot;,&quot; of Labour&quot;)", cached)
    with pytest.raises(InputError) as error:
        read_report_text(path)
    message = str(error.value)
    assert message.startswith(f"{SHEET}!B{row}: formula =CONCATENATE(")
    assert "expected the text itself" in message


@pytest.mark.parametrize("cells, where, words", [
    ({"A5": "purpose"}, "A5", ["'purpose' is not a section", "did you mean purpose_and_scope?", "expected one of"]),
    ({"A6": "purpose_and_scope"}, "A6", ["'purpose_and_scope' is listed twice (also in row 3)"]),
    ({f"B{_row('opinion')}": "x" * (MAX_TEXT + 1)}, f"B{_row('opinion')}",
     [f"the text has {MAX_TEXT + 1:,} characters; at most {MAX_TEXT:,} are read for 'opinion'",
      "Shorten it, or move the detail to an annex of the report and refer to it here."]),
    ({f"B{_row('actuary_name')}": "y" * (MAX_LINE + 1)}, f"B{_row('actuary_name')}",
     [f"at most {MAX_LINE:,} are read for 'actuary_name'"]),
    ({f"B{_row('qualification')}": "Fellow\nof the Institute"}, f"B{_row('qualification')}",
     ["one line of the signature block; expected text without line breaks"]),
    ({f"B{_row('conclusions')}": 2024}, f"B{_row('conclusions')}", ["value 2024 is a number; expected text"]),
    ({f"B{_row('conclusions')}": dt.datetime(2027, 1, 1)}, f"B{_row('conclusions')}",
     ["value 2027-01-01 is a date; expected text"]),
    ({"A40": None, "B40": "orphan text"}, "A40", ["the cell is blank beside a text"]),
    ({"A2": "key"}, "A2", ["header 'key'; expected 'section'"]),
    ({"E4": "beyond"}, "E4", ["outside the table"]),
])
def test_a_bad_cell_is_refused_naming_it(tmp_path, cells, where, words):
    path = _workbook(tmp_path / "bad.xlsx", cells)
    with pytest.raises(InputError) as error:
        read_report_text(path)
    message = str(error.value)
    assert message.startswith(f"{SHEET}!{where}: "), message
    for text in words:
        assert text in message, message


def test_text_given_from_python_follows_the_same_rules():
    with pytest.raises(InputError, match="'purpose' is not a section"):
        ReportText({"purpose": "x"})
    with pytest.raises(InputError, match="control character U\\+0007"):
        ReportText({"opinion": "bell \x07"})
    assert ReportText({"opinion": "a\r\nb  \n"}).texts == {"opinion": "a\nb"}


@pytest.mark.parametrize("markers", ["-", "- ", "•", "• \n-\n  ", "  \n"])
def test_a_section_holding_only_list_markers_is_not_written(tmp_path, markers):
    """A list begun and left empty ("- " typed, nothing after) is a gap of the draft, not a written section."""
    given = ReportText({"conclusions": markers})
    assert "conclusions" not in given.texts and BY_KEY["conclusions"] in given.missing(True)
    read = read_report_text(_workbook(tmp_path / "markers.xlsx", {f"B{_row('conclusions')}": markers}))
    assert "conclusions" not in read.texts
    assert ReportText({"conclusions": "- one item"}).texts == {"conclusions": "- one item"}   # a list is written


# ------------------------------------------------------------------------------------------------ the report

def test_every_section_is_placed_in_its_chapter_and_a_complete_report_is_no_draft(short, short_results):
    html = build(short, short_results, text=ReportText(dict(FULL)))
    headings = re.findall(r'<h2>\d+\. ([^<]+)</h2>', html)
    assert headings[1] == "Introduction" and headings[-3:] == ["Conclusions and recommendations",
                                                               "Actuarial opinion", "Run provenance"]
    for chapter, keys in PLACES.items():
        part = _chapter(html, chapter)
        positions = [part.find(FULL[key]) for key in keys]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), (chapter, positions)
    placed = [key for keys in PLACES.values() for key in keys]
    assert sorted(placed) == sorted(BY_KEY)                        # every section has a place
    assert all(html.count(text) == 1 for text in FULL.values())   # and only one
    assert GAP not in html and "DRAFT" not in html and 'class="draft"' not in html and 'class="gap"' not in html
    # the justification of the assumptions comes before the tables it is about
    part = _chapter(html, "assumptions")
    assert part.find(FULL["demographic_assumptions"]) < part.find("Demographic assumptions</caption>") \
        < part.find(FULL["economic_assumptions"]) < part.find("<caption>Economic assumptions")
    assert part.find(FULL["behavioural_assumptions"]) < part.find("<caption>Behavioural assumptions")
    # the signature block: a line to sign, then the name, qualification and date
    block = _chapter(html, "statement")
    assert block.find(FULL["opinion"]) < block.find('class="line"') < block.find(FULL["actuary_name"]) \
        < block.find(FULL["qualification"]) < block.find(FULL["signature_date"])


def test_a_draft_marks_each_gap_and_says_so_on_its_first_page(short, short_results):
    html = build(short, short_results)                     # no text at all
    assert html.count(GAP) == len(SECTIONS)
    first = html[:html.index("<section")]
    assert f"This report is a draft: {len(SECTIONS)} sections that only the actuary can write" \
        in " ".join(first.split())
    assert "<title>DRAFT: " in first and f'content: "DRAFT: {len(SECTIONS)} sections to be written' in first
    for section in SECTIONS:   # each gap linked from the first page, and marked where the text belongs
        assert f'href="#text-{section.key}"' in first
        assert re.search(rf'id="text-{section.key}"[^>]*>\s*(<h3>[^<]*</h3>\s*)?(<p|<span) class="gap">'
                         rf"\[To be written by the actuary: {re.escape(str(escape(section.asks)))}\]", html), \
            section.key
    # one section left: it alone is marked, and the first page says so in the singular
    one = build(short, short_results, text=ReportText({k: v for k, v in FULL.items() if k != "data_checks"}))
    assert one.count(GAP) == 1 and 'id="text-data_checks"' in _chapter(one, "data")
    assert "This report is a draft: 1 section that only the actuary can write is still" in " ".join(one.split())
    assert 'content: "DRAFT: 1 section to be written' in one


def test_the_draft_says_where_the_text_is_given(short, short_results):
    """The first page's note names the workbook the text comes from, or the case folder's report_text.csv; for a
    valuation built in Python (no source file) it says either. The signature block's gaps are titled like the others
    (capitalised)."""
    import copy

    text = ReportText({k: v for k, v in FULL.items() if k not in ("conclusions", "actuary_name")}, source="mine.xlsx")
    first = " ".join(build(short, short_results, text=text).split())
    first = first[:first.index("<section")]
    assert "They are given in the &#39;Report text&#39; sheet of mine.xlsx." in first
    assert ">Conclusions</a>" in first and ">Signature: name</a>" in first and "signature: " not in first
    folder = copy.copy(short)
    folder.source = folder.report_text = None   # as built in Python: no file, no text read with it
    first = " ".join(build(folder, short_results, text=ReportText(source="case/report_text.csv")).split())
    first = first[:first.index("<section")]
    assert "sheet of the input workbook" not in first and "They are given in case/report_text.csv (columns " \
        "section,text: one line per section)." in first
    first = " ".join(build(folder, short_results).split())
    first = first[:first.index("<section")]
    assert "They are given in the &#39;Report text&#39; sheet of a valuation workbook, or report_text.csv in a case " \
        "folder." in first


def test_the_floor_costing_alone_places_the_text_in_its_chapters():
    """No chapters of scheme provisions and data: the data sections go with the assumptions, the provisions to the
    floor's chapter; behavioural assumptions are not asked (no gap), but shown when written."""
    valuation = load_workbook(DEMOLAND_FLOOR_ONLY).replace(settings={"horizon": 10, "gap_horizons": (10,)})
    results = valuation.run()
    draft = build(valuation, results)
    assert draft.count(GAP) == len(SECTIONS) - 1 and 'id="text-behavioural_assumptions"' not in draft
    html = build(valuation, results, text=ReportText(dict(FULL)))
    assert GAP not in html and "DRAFT" not in html
    assert all(html.count(text) == 1 for text in FULL.values())
    assert FULL["data_sources"] in _chapter(html, "assumptions")
    assert FULL["provisions_summary"] in _chapter(html, "floor")
    assert FULL["purpose_and_scope"] in _chapter(html, "introduction")


def test_hostile_text_is_shown_as_text_in_the_html_and_the_pdf(short, short_results, tmp_path):
    """HTML, Markdown and CSS-looking text stay the characters typed: nothing runs, nothing is formatted."""
    text = ReportText({"purpose_and_scope": HOSTILE + "\n- <b>item</b>", "actuary_name": "</td></tr><script>x()",
                       "opinion": '"; } body { display: none } /*'})
    html_path, pdf_path = write_report(short, short_results, tmp_path, text=text, name="hostile",
                                       pdf=find_chromium() is not None)
    html = html_path.read_text()
    assert "<script" not in html and "<img" not in html and "<b>item" not in html and "javascript:" not in \
        re.findall(r'href="([^"]*)"', html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt; **bold** " \
           "[link](javascript:alert(3)) &amp;amp; # Title" in html
    assert "<li>&lt;b&gt;item&lt;/b&gt;</li>" in html and "&lt;/td&gt;&lt;/tr&gt;&lt;script&gt;x()" in html
    assert "<strong>bold" not in html and "<h1># Title" not in html
    if pdf_path is None:
        pytest.skip("Chromium is not installed: no PDF to check")
    from pypdf import PdfReader

    pages = [" ".join((page.extract_text() or "").split()) for page in PdfReader(pdf_path).pages]
    # a draft: its first page says so, and every page's top
    left = len(SECTIONS) - 3
    assert "DRAFT" in pages[0] and f"This report is a draft: {left} sections that only the actuary can write" in pages[0]
    assert all(f"DRAFT: {left} sections to be written by the actuary" in page for page in pages)
    # (the words as printed: lines may wrap anywhere)
    pdf = re.sub(r"\s", "", "".join(pages))
    for typed in (HOSTILE, '"; } body { display: none } /*', "</td></tr><script>x()"):
        assert re.sub(r"\s", "", typed) in pdf, typed


def test_the_command_reads_the_sheet_and_refuses_a_bad_one(short, tmp_path):
    """actuary report on a workbook whose Report text sheet is written: the texts in the report, no draft and no
    note of one; a formula in the sheet stops the command (exit 2) naming its cell, before anything is written."""
    from .xlsx_edit import set_cells

    base = tmp_path / "base.xlsx"
    short.to_workbook(base)
    written = set_cells(base, tmp_path / "case.xlsx",
                        {SHEET: {f"B{_row(key)}": text for key, text in FULL.items()}})
    done = CliRunner().invoke(main, ["report", str(written), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert "Draft" not in done.output   # standard output and standard error
    html = (tmp_path / "out" / "case-report.html").read_text()
    assert all(html.count(text) == 1 for text in FULL.values()) and GAP not in html and "DRAFT" not in html
    bad = _with_formula(written, tmp_path / "formula.xlsx", f"B{_row('opinion')}", "1+1", "2")
    done = CliRunner().invoke(main, ["report", str(bad), "--out", str(tmp_path / "bad")], terminal_width=200)
    assert done.exit_code == 2 and isinstance(done.exception, SystemExit), done.output
    assert f"{SHEET}!B{_row('opinion')}: formula =1+1; expected the text itself" in " ".join(done.stderr.split())
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_the_embedded_demoland_draft_says_how_to_get_a_workbook_to_write_in(monkeypatch):
    """The embedded Demoland's workbook is inside the package: the draft message says how to get a copy to write
    the text in, not 'the sheet of valuation.xlsx' (which the user has no copy of)."""
    from types import SimpleNamespace

    from actuary import cli
    from actuary.report.command import _say_draft
    from actuary.valuation import DEMOLAND

    said = []
    monkeypatch.setattr(cli.errors, "print", lambda text, **kw: said.append(text))   # a note: on standard error
    monkeypatch.setattr(cli.console, "print", lambda text, **kw: said.append(f"on standard output: {text}"))
    valuation = SimpleNamespace(inputs=SimpleNamespace(has_scheme=True), source=None)
    _say_draft(None, valuation, DEMOLAND / "valuation.xlsx")
    assert "actuary template --demo valuation.xlsx" in said[0] and "sheet of valuation.xlsx" not in said[0]
    said.clear()
    _say_draft(None, valuation, Path("/somewhere/case.xlsx"))   # a valuation without a source record
    assert "the 'Report text' sheet of a valuation workbook, or report_text.csv in a case folder" in said[0]
    assert len(said) == 1


@given(st.text(alphabet=st.sampled_from("'=+-@\t\r 0123456789.eE,aZ\n\""), max_size=12))
def test_a_report_text_field_reads_back_as_written_and_is_never_a_formula(text):
    """report_text.csv fields (written by convert and Valuation.to_folder): a text a spreadsheet would evaluate
    gets an apostrophe, which reading takes off, so every text reads back unchanged."""
    from actuary.io.report_text import from_csv_field, to_csv_field

    field = to_csv_field(text)
    assert from_csv_field(field) == text
    number = re.fullmatch(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?", field)
    assert field[:1] not in ("=", "+", "-", "@", "\t", "\r") or number
