"""The streamed sheet reader (actuary.io.sheet_rows) gives exactly what openpyxl's read-only reading gave: the same
rows, values (types included) and formulas for every sheet of the workbooks the project reads and writes, for
sheets generated at random, and for hand-written XML (fed in chunks of a few bytes); where it stops, the reading
falls back to openpyxl's, and a damaged value fails with the same error as before."""

from __future__ import annotations

import datetime
import io
import zipfile
from itertools import repeat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook, load_workbook as openpyxl_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

import actuary.io.workbook as workbook_module
from actuary import InputError, Valuation
from actuary.io.sheet_rows import Unsupported, sheet_rows
from actuary.io.workbook import WorkbookReader, write_workbook

ROOT = Path(__file__).resolve().parents[1]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _shown(value):
    """A value or formula as compared: its type with it (1 == 1.0 == True otherwise), formulas' objects by their
    attributes."""
    if isinstance(value, (ArrayFormula, DataTableFormula)):
        return type(value).__name__, sorted(vars(value).items())
    if isinstance(value, float) and value == 0:
        return "float", str(value)   # -0.0 and 0.0
    return type(value).__name__, value


def _pairs(rows) -> list:
    return [(type(values).__name__, [_shown(v) for v in values], type(formulas).__name__,
             [_shown(f) for f in formulas]) for values, formulas in rows]


def _by_openpyxl(data: bytes, name: str, formulas: bool, books=None, values=None) -> list:
    """``values``: the sheet's rows of values as openpyxl read them already (read once for both readings)."""
    values_book, formulas_book = books or (openpyxl_workbook(io.BytesIO(data), data_only=True, read_only=True),
                                           openpyxl_workbook(io.BytesIO(data), data_only=False, read_only=True))
    if values is None:
        values = _openpyxl_values(values_book, name)
    formula_rows = repeat(())
    if formulas:
        formulas_ws = formulas_book[name]
        formulas_ws.reset_dimensions()
        formula_rows = formulas_ws.iter_rows(values_only=True)
    return _pairs(zip(values, formula_rows))


def _openpyxl_values(values_book, name: str):
    values_ws = values_book[name]
    values_ws.reset_dimensions()
    return values_ws.iter_rows(values_only=True)


def _by_stream(data: bytes, name: str, formulas: bool, chunk_size: int = 256 * 1024, book=None) -> list:
    book = book or openpyxl_workbook(io.BytesIO(data), data_only=True, read_only=True)
    ws = book[name]
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(ws._worksheet_path.lstrip("/")) as stream:
        return _pairs(sheet_rows(stream, ws._shared_strings, book.epoch, book._date_formats, book._timedelta_formats,
                                 formulas, chunk_size))


def _same_as_openpyxl(data: bytes, chunk_size: int = 256 * 1024, formulas=(False, True)) -> int:
    """Assert both readers give the same rows for every sheet (read for values, and for values and formulas);
    returns the number of sheets."""
    books = (openpyxl_workbook(io.BytesIO(data), data_only=True, read_only=True),
             openpyxl_workbook(io.BytesIO(data), data_only=False, read_only=True))
    for name in books[0].sheetnames:
        values = list(_openpyxl_values(books[0], name))   # parsed once, not once a reading
        for with_formulas in formulas:
            expected = _by_openpyxl(data, name, with_formulas, books, values)
            got = _by_stream(data, name, with_formulas, chunk_size, books[0])
            assert got == expected, (name, with_formulas)
    return len(books[0].sheetnames)


# ------------------------------------------------------------------- the workbooks the project reads and writes

def _project_workbooks(tmp_path) -> list[Path]:
    paths = sorted(ROOT.glob("valuations/*/*.xlsx"))
    demo = Valuation.demo()
    for blank in (False, True):   # a case written back, and the blank template (actuary template)
        path = tmp_path / f"written-{blank}.xlsx"
        write_workbook(demo, path, blank=blank)
        paths.append(path)
    return paths


def test_project_workbooks_read_the_same(tmp_path):
    paths = _project_workbooks(tmp_path)
    assert len(paths) >= 5
    sheets = sum(_same_as_openpyxl(path.read_bytes()) for path in paths)
    assert sheets > 60


def test_demoland_is_read_without_openpyxl_rows(monkeypatch):
    """The streamed reader does read the embedded case (it does not fall back), and gives the same case."""
    used = []
    monkeypatch.setattr(workbook_module, "_openpyxl_rows", lambda *a: used.append(a[0].title))
    path = ROOT / "valuations" / "demoland" / "valuation.xlsx"
    fast = workbook_module.load_workbook(path)
    assert used == []
    monkeypatch.undo()
    monkeypatch.setattr(WorkbookReader, "_rows", _refused)
    slow = workbook_module.load_workbook(path)
    assert fast.raw.keys() == slow.raw.keys()
    for group in fast.raw:
        assert fast.raw[group].keys() == slow.raw[group].keys()
        for name, value in fast.raw[group].items():
            other = slow.raw[group][name]
            assert type(value) is type(other)
            assert (value.identical(other) if hasattr(value, "identical") else value == other), (group, name)


def _refused(self, ws, scan):
    raise Unsupported("read with openpyxl (test)")


# ------------------------------------------------------------------- sheets generated at random

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(list("<>&\"' \t\n")),
                max_size=12)
_NUMBER = st.one_of(st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([-0.0, 0.0, 1e300, 1e-300, 5e-324, 2.0 ** 53 + 2, 1.5e15, 123456789012345678]))
_DATE_FORMATS = ("yyyy-mm-dd", "h:mm:ss", "[h]:mm:ss", "d/m/yyyy h:mm", "0.00", "General")
_FORMULA = st.sampled_from(["=A1+1", "=SUM(B1:B3)", '="x"&"<y>"', "=1/0", "=NOW()"])


@st.composite
def _cell(draw):
    kind = draw(st.sampled_from(["number", "text", "rich", "bool", "error", "date", "time", "datetime", "duration",
                                 "formula", "array", "formatted"]))
    if kind == "number":
        return draw(_NUMBER), None
    if kind == "text":   # (text starting with "=" is a formula)
        text = draw(_TEXT.map(lambda t: t if not t.startswith("=") else " " + t))
        return (f"  {text} " if draw(st.booleans()) else text), None
    if kind == "rich":
        return CellRichText([draw(_TEXT) or "a", TextBlock(InlineFont(b=draw(st.booleans())), draw(_TEXT) or "b")]), \
            None
    if kind == "bool":
        return draw(st.booleans()), None
    if kind == "error":
        return draw(st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!", "#REF!"])), None
    if kind == "date":
        return draw(st.dates(datetime.date(1905, 1, 1), datetime.date(2200, 12, 31))), None
    if kind == "time":
        return draw(st.times()), None
    if kind == "datetime":
        return draw(st.datetimes(datetime.datetime(1905, 1, 1), datetime.datetime(2200, 1, 1))), None
    if kind == "duration":
        return draw(st.timedeltas(datetime.timedelta(0), datetime.timedelta(days=400))), None
    if kind == "formula":
        return draw(_FORMULA), None
    if kind == "array":
        return "array", None
    return draw(_NUMBER), draw(st.sampled_from(_DATE_FORMATS))   # a number shown as a date, time or duration


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")   # numbers beyond dates: both readers warn
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.dictionaries(st.tuples(st.integers(1, 30), st.integers(1, 12)), _cell(), max_size=40),
       mac=st.booleans())
def test_generated_sheets_read_the_same(cells, mac):
    wb = Workbook()
    if mac:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Generated"
    for (row, column), (value, number_format) in sorted(cells.items()):
        cell = ws.cell(row=row, column=column)
        if value == "array":
            ref = cell.coordinate
            ws[ref] = ArrayFormula(ref, f"=SUM(A1:A{row})")
            continue
        cell.value = value
        if number_format is not None:
            cell.number_format = number_format
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    _same_as_openpyxl(data)
    _same_as_openpyxl(data, chunk_size=5, formulas=(True,))


# ------------------------------------------------------------------- hand-written XML

_STYLES = f"""<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="[h]:mm:ss"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill
patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>
<right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>
<xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="21" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


DATE1904 = ' date1904="1"'


def _xlsx(sheet: str, strings=("zero", " one ", "a &amp; b"), date1904: bool = False) -> bytes:
    """A workbook of one sheet 'S' with the worksheet XML ``sheet`` (without its root element when it does not start
    with '<?' or '<w'), shared strings and styles (s=1 a date, s=2 a duration, s=3 a time)."""
    if not sheet.startswith(("<?", "<w", "<x:")):
        sheet = f'<worksheet xmlns="{MAIN}">{sheet}</worksheet>'
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.styles+xml"/></Types>',
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships"><workbookPr{DATE1904 if date1904 else ""}/><sheets><sheet name="S" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"'
        ' Target="styles.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">' + "".join(f'<si><t xml:space="preserve">{s}</t></si>'
                                                                  for s in strings) + "</sst>",
        "xl/styles.xml": _STYLES,
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


CASES = {
    "no references": '<sheetData><row><c><v>1</v></c><c t="s"><v>1</v></c><c/><c><v>2.5</v></c></row><row/>'
                     '<row><c t="b"><v>1</v></c></row></sheetData>',
    "rows and cells in any order": '<sheetData><row r="3"><c r="C3"><v>3</v></c><c r="A3"><v>1</v></c></row>'
                                   '<row r="2"><c r="B2"><v>9</v></c></row><row r="7"><c r="B7"><v>7</v></c>'
                                   '<c><v>8</v></c><c r="B7"><v>10</v></c></row><row><c r="E8"/></row>'
                                   '<row r="10.0"><c r="a10"><v>1e3</v></c></row></sheetData>',
    "numbers": '<sheetData><row r="1"><c r="A1"><v>123456789012345678901234567890</v></c><c r="B1"><v>-0</v></c>'
               '<c r="C1"><v>-0.0</v></c><c r="D1"><v>1E-5</v></c><c r="E1"><v> 42 </v></c><c r="F1"><v></v></c>'
               '<c r="G1" t="n"><v>1e999</v></c><c r="H1"><v>\n7\n</v></c></row></sheetData>',
    "strings": '<sheetData><row r="1"><c r="A1" t="s"><v>2</v></c><c r="B1" t="inlineStr"><is><t xml:space="preserve">'
               ' &lt;a&gt; &amp; </t></is></c><c r="C1" t="inlineStr"><is><r><t>rich </t></r><r><rPr><b/></rPr>'
               '<t>text</t></r></is></c><c r="D1" t="inlineStr"><is><t>one</t><t>two</t></is></c>'
               '<c r="E1" t="inlineStr"><is/></c><c r="F1" t="inlineStr"><is><t/></is></c>'
               '<c r="G1" t="inlineStr"><v>ignored</v></c><c r="H1" t="str"><v> formula text </v></c>'
               '<c r="I1" t="inlineStr"><is><t>a<![CDATA[<b>]]>&#233;</t><rPh sb="0" eb="1"><t>x</t></rPh></is></c>'
               '<c r="J1" t="s"><v>-1</v></c><c r="K1" t="inlineStr"><is>\n<t>spaced</t>\n</is></c></row>'
               '</sheetData>',
    "booleans, errors and dates": '<sheetData><row r="1"><c r="A1" t="b"><v>0</v></c><c r="B1" t="e"><v>#N/A</v></c>'
                                  '<c r="C1" s="1"><v>45000</v></c><c r="D1" s="2"><v>1.5</v></c><c r="E1" s="3">'
                                  '<v>0.25</v></c><c r="F1" s="1"><v>59.5</v></c><c r="G1" t="d"><v>2024-02-29</v>'
                                  '</c><c r="H1" t="d"><v>2024-02-29T12:30:00</v></c><c r="I1" s="1"><v>1e10</v></c>'
                                  '<c r="J1" s="1" t="s"><v>0</v></c><c r="K1" s=""><v>3</v></c></row></sheetData>',
    "formulas": '<sheetData><row r="1"><c r="A1"><f>B1*2</f><v>4</v></c><c r="B1"><f>1+1</f></c>'
                '<c r="C1"><f t="shared" ref="C1:C3" si="0">A1+B1</f></c></row><row r="2"><c r="C2"><f t="shared" '
                'si="0"/></c><c r="D2"><f t="array" ref="D2:D3">SUM(A1:A2)</f><v>1</v></c><c r="E2"><f t="array" '
                'ref="E2"/></c></row><row r="3"><c r="C3"><f t="shared" si="0"/><v>5</v></c><c r="D3"><f t="dataTable" '
                'ref="D3:E4" dt2D="1" dtr="1" r1="A1" r2="B1"/></c><c r="E3" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'
                '</row></sheetData>',
    "prefixed, with properties around the rows": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                                 f'<x:worksheet xmlns:x="{MAIN}" xmlns:o="urn:other"><x:sheetPr>'
                                                 '<x:pageSetUpPr fitToPage="1"/></x:sheetPr><x:dimension ref="A1:A1"/>'
                                                 '<x:cols><x:col min="1" max="2" width="20" customWidth="1"/></x:cols>'
                                                 '<x:sheetData><x:row r="2" o:x="1"><x:c r="B2" o:t="s"><x:v>0</x:v>'
                                                 '</x:c></x:row></x:sheetData><x:mergeCells count="1"><x:mergeCell '
                                                 'ref="D5:E5"/></x:mergeCells><x:pageMargins left="0.7" right="0.7" '
                                                 'top="0.75" bottom="0.75" header="0.3" footer="0.3"/></x:worksheet>',
    "no rows": '<sheetData/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
    "no rows, spelt out": '<sheetData >  </sheetData  ><pageMargins left="1" right="1" top="1" bottom="1" '
                          'header="0.3" footer="0.3"/>',
    "an inline string with attributes": '<sheetData><row r="1"><c r="A1" t="inlineStr"><is xml:space="preserve">'
                                        '<t>kept</t></is></c><c r="B1" t="inlineStr"><is><t o:x="1" xmlns:o="urn:o">'
                                        'a</t></is></c></row></sheetData>',
    "whitespace and comments": '<sheetData>\n  <row r="1">\n    <c r="A1"><!-- c --><v>1</v></c><c r="B1"><v>1<!-- c -->2<?pi x?>3</v></c>'
                               '<c r="C1"><v><![CDATA[4]]>&#53;</v></c>\n  </row>\n<?pi x?>'
                               '</sheetData>',
}


@pytest.mark.filterwarnings("ignore:Cell I1 is marked as a date")   # 1e10 days: both readers warn
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("chunk_size", [1, 3, 7, 256 * 1024])
def test_written_xml_reads_the_same(case, chunk_size):
    """Each case read as openpyxl reads it, the XML fed a byte or a few at a time (a value split between chunks)."""
    _same_as_openpyxl(_xlsx(CASES[case]), chunk_size)


def test_1904_dates_read_the_same():
    data = _xlsx('<sheetData><row r="1"><c r="A1" s="1"><v>45000</v></c><c r="B1" s="3"><v>1.25</v></c></row>'
                 '</sheetData>', date1904=True)
    _same_as_openpyxl(data)
    assert _by_stream(data, "S", False)[0][1][0] == ("datetime", datetime.datetime(2027, 3, 16))   # 1900: 2023-03-15


UNSUPPORTED = {
    "an element in a row": '<sheetData><row r="1"><c r="A1"><v>1</v></c><extLst/></row></sheetData>',
    "an element in a cell": '<sheetData><row r="1"><c r="A1"><v>1</v><extLst/></c></row></sheetData>',
    "two values": '<sheetData><row r="1"><c r="A1"><v>1</v><v>2</v></c></row></sheetData>',
    "an element in a value": '<sheetData><row r="1"><c r="A1"><v>1<x/></v></c></row></sheetData>',
    "a row outside the data": '<sheetData/><extLst><row r="1"><c r="A1"><v>1</v></c></row></extLst>',
    "an element between rows": '<sheetData><row r="1"/><col min="1" max="1"/></sheetData>',
    "a dispatched element in an inline string": '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><r><rPr>'
                                                '<extLst/></rPr><t>x</t></r></is></c></row></sheetData>',
    "no sheetData": '<dimension ref="A1"/>',
    "UTF-16": None,
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_unsupported_xml_falls_back_to_openpyxl(case, tmp_path, monkeypatch):
    """What the streamed reader does not read as openpyxl does raises Unsupported; the reader then reads the
    sheet with openpyxl (the same rows as before)."""
    if case == "UTF-16":
        sheet = ('<?xml version="1.0" encoding="UTF-16"?>' f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1">'
                 '<v>1</v></c></row></sheetData></worksheet>').encode("utf-16")
        data = _xlsx("<sheetData/>")
        data = _replace_part(data, "xl/worksheets/sheet1.xml", sheet)
    else:
        data = _xlsx(UNSUPPORTED[case])
    with pytest.raises(Unsupported):
        _by_stream(data, "S", True)
    path = tmp_path / "case.xlsx"
    path.write_bytes(data)
    used = []
    rows = workbook_module._openpyxl_rows
    monkeypatch.setattr(workbook_module, "_openpyxl_rows", lambda *a: used.append(a) or rows(*a))
    with WorkbookReader(path) as reader:
        cells = reader.sheet("S", 4, 10)
    assert len(used) == 1
    monkeypatch.setattr(WorkbookReader, "_rows", _refused)
    with WorkbookReader(path) as reader:
        expected = reader.sheet("S", 4, 10)
    assert (cells.cells, cells.formulas, cells.data_rows) == (expected.cells, expected.formulas, expected.data_rows)


def _replace_part(data: bytes, name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename, content if info.filename == name else source.read(info.filename))
    return buffer.getvalue()


DAMAGED = {
    "a shared string out of range": '<sheetData><row r="1"><c r="A1" t="s"><v>3</v></c></row></sheetData>',
    "a shared string index that is not one": '<sheetData><row r="1"><c r="A1" t="s"><v>x</v></c></row></sheetData>',
    "a number that is not one": '<sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="B2"><v>1,5</v>'
                                '</c></row></sheetData>',
    "a boolean that is not one": '<sheetData><row r="1"><c r="A1" t="b"><v>yes</v></c></row></sheetData>',
    "a style that is not a number": '<sheetData><row r="1"><c r="A1" s="x"><v>1</v></c></row></sheetData>',
    "a reference that is not one": '<sheetData><row r="1"><c r="1A"><v>1</v></c></row></sheetData>',
    "a column beyond ZZZ": '<sheetData><row r="1"><c r="ZZZZ1"><v>1</v></c></row></sheetData>',
    "a row number that is not one": '<sheetData><row r="1.5"><c r="A1"><v>1</v></c></row></sheetData>',
    "an ISO date that is not one": '<sheetData><row r="1"><c r="A1" t="d"><v>tomorrow</v></c></row></sheetData>',
    "bad before the rows": '<sheetFormatPr defaultRowHeight="high"/><sheetData><row r="1"><c r="A1"><v>1</v></c>'
                           '</row></sheetData>',
    "bad after the rows": '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData><pageMargins left="wide"/>',
    "a bad shared formula": '<sheetData><row r="1"><c r="A1"><f t="shared" si="0" ref="A1:A2">"open</f></c></row>'
                            '<row r="2"><c><f t="shared" si="0"/></c></row></sheetData>',
    "a bad data table": '<sheetData><row r="1"><c r="A1"><f t="dataTable" odd="1"/></c></row></sheetData>',
    "a bad rich text": '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><r><rPr><sz val="big"/></rPr><t>x</t></r>'
                       '</is></c></row></sheetData>',
    "an inline string with an unknown attribute": '<sheetData><row r="1"><c r="A1" t="inlineStr"><is odd="1"><t>x</t>'
                                                  '</is></c></row></sheetData>',
    "a bad value after an error in the data": '<sheetData><row r="4"><c r="A4"><v>1</v></c><c r="Z4"><v>2</v></c>'
                                              '</row><row r="5"><c r="A5"><v>x</v></c></row></sheetData>',
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_damaged_sheets_fail_as_before(case, tmp_path, monkeypatch):
    """A value, element or formula that openpyxl cannot read fails with the same InputError as when openpyxl
    read the sheet (naming the cell where the container check can tell it)."""
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(_xlsx(DAMAGED[case]))

    def error():
        with pytest.raises(InputError) as raised, WorkbookReader(path) as reader:
            reader.sheet("S", 4, 10, width=2)
        return str(raised.value)

    fast = error()
    monkeypatch.setattr(WorkbookReader, "_rows", _refused)
    assert fast == error()
    if case == "a shared string out of range":
        assert "S!A1: the stored value '3' cannot be read; expected the index of a shared string (0..2)" in fast


@pytest.mark.parametrize("after", [b"", b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                                        b'footer="0.3"/>'])
@pytest.mark.parametrize("empty", [b"<sheetData/>", b"<sheetData></sheetData>", b"<x:sheetData/>"])
def test_a_sheet_without_rows_reads_as_no_rows(empty, after):
    """A sheet whose data is an empty element with nothing after it but the root's end tag (a minimal sheet another
    program writes) was refused: the root's </worksheet> was taken for the end of its sheetData."""
    ns = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    root = b'<x:worksheet xmlns:x="' + ns + b'">' if empty.startswith(b"<x:") else b'<worksheet xmlns="' + ns + b'">'
    end = b"</x:worksheet>" if empty.startswith(b"<x:") else b"</worksheet>"
    assert list(sheet_rows(io.BytesIO(root + empty + after + end), [], None, set(), set(), False)) == []
