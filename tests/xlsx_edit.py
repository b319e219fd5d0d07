"""Edit .xlsx workbooks at the XML level, fast and exactly (no round trip through openpyxl): set or
clear cells, delete rows and columns, rewrite a sheet's <dimension>, replace or add raw parts.
Used to craft hostile and malformed workbooks for the tests."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from openpyxl.utils import column_index_from_string, get_column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
ET.register_namespace("", MAIN)
ET.register_namespace("r", REL)


def q(tag: str) -> str:
    return f"{{{MAIN}}}{tag}"


def sheet_parts(path) -> dict[str, str]:
    """Sheet name -> part name (e.g. 'Schedules' -> 'xl/worksheets/sheet7.xml')."""
    with zipfile.ZipFile(path) as z:
        workbook = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target").lstrip("/") for r in rels.iter(f"{{{PACKAGE_REL}}}Relationship")}
    out = {}
    for sheet in workbook.iter(q("sheet")):
        target = targets[sheet.get(f"{{{REL}}}id")]
        out[sheet.get("name")] = target if target.startswith("xl/") else "xl/" + target
    return out


def rewrite(source, target, parts: dict[str, bytes | None]) -> Path:
    """Copy the workbook ``source`` to ``target`` with ``parts`` replaced (None: removed; new names added)."""
    target = Path(target)
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            if info.filename in parts:
                continue
            out.writestr(info.filename, z.read(info.filename))
        for name, data in parts.items():
            if data is not None:
                out.writestr(name, data)
    return target


def _split(ref: str) -> tuple[int, int]:
    letters, digits = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
    return int(digits), column_index_from_string(letters)


def _cell_xml(ref: str, value) -> ET.Element:
    cell = ET.Element(q("c"), {"r": ref})
    if isinstance(value, bool):
        cell.set("t", "b")
        ET.SubElement(cell, q("v")).text = "1" if value else "0"
    elif isinstance(value, (int, float)):
        ET.SubElement(cell, q("v")).text = repr(value)
    elif isinstance(value, RawNumber):
        ET.SubElement(cell, q("v")).text = value.text
    else:
        cell.set("t", "inlineStr")
        ET.SubElement(ET.SubElement(cell, q("is")), q("t")).text = str(value)
    return cell


class RawNumber:
    """A numeric cell whose stored text is given as is (e.g. '1e999', which overflows to infinity)."""

    def __init__(self, text: str):
        self.text = text


class Sheet:
    """One worksheet's XML, editable: ``set``, ``delete_row``, ``delete_column``, ``dimension``."""

    def __init__(self, xml: bytes):
        self.root = ET.fromstring(xml)
        self.data = self.root.find(q("sheetData"))

    def rows(self) -> list[ET.Element]:
        return self.data.findall(q("row"))

    def _row(self, number: int, create: bool = True) -> ET.Element | None:
        for i, row in enumerate(self.rows()):
            r = int(row.get("r"))
            if r == number:
                return row
            if r > number:
                if not create:
                    return None
                new = ET.Element(q("row"), {"r": str(number)})
                self.data.insert(i, new)
                return new
        if not create:
            return None
        return ET.SubElement(self.data, q("row"), {"r": str(number)})

    def get(self, ref: str):
        row_number, _ = _split(ref)
        row = self._row(row_number, create=False)
        if row is None:
            return None
        for cell in row.findall(q("c")):
            if cell.get("r") == ref:
                text = cell.find(f"{q('is')}/{q('t')}")
                if text is not None:
                    return text.text
                value = cell.find(q("v"))
                return None if value is None else float(value.text)
        return None

    def set(self, ref: str, value) -> None:
        """Set (None: clear) one cell."""
        row_number, column = _split(ref)
        row = self._row(row_number)
        cells = row.findall(q("c"))
        for i, cell in enumerate(cells):
            c = _split(cell.get("r"))[1]
            if c == column:
                index = list(row).index(cell)
                row.remove(cell)
                if value is not None:
                    row.insert(index, _cell_xml(ref, value))
                return
            if c > column:
                if value is not None:
                    row.insert(list(row).index(cell), _cell_xml(ref, value))
                return
        if value is not None:
            row.append(_cell_xml(ref, value))

    def formula(self, ref: str, text: str) -> None:
        """Make a cell a formula with no saved value (as written by a program that does not calculate)."""
        self.set(ref, 0)
        row = self._row(_split(ref)[0])
        cell = next(c for c in row.findall(q("c")) if c.get("r") == ref)
        cell.remove(cell.find(q("v")))
        ET.SubElement(cell, q("f")).text = text

    def delete_row(self, number: int) -> None:
        """Delete a row; the rows below move up (as Excel does)."""
        for row in self.rows():
            r = int(row.get("r"))
            if r == number:
                self.data.remove(row)
            elif r > number:
                row.set("r", str(r - 1))
                for cell in row.findall(q("c")):
                    cell.set("r", f"{get_column_letter(_split(cell.get('r'))[1])}{r - 1}")

    def delete_column(self, column: int) -> None:
        """Delete a column; the columns to the right move left."""
        for row in self.rows():
            for cell in row.findall(q("c")):
                r, c = _split(cell.get("r"))
                if c == column:
                    row.remove(cell)
                elif c > column:
                    cell.set("r", f"{get_column_letter(c - 1)}{r}")

    def dimension(self, ref: str) -> None:
        self.root.find(q("dimension")).set("ref", ref)

    def last_row(self) -> int:
        return max(int(r.get("r")) for r in self.rows())

    def last_column(self) -> int:
        return max(_split(c.get("r"))[1] for r in self.rows() for c in r.findall(q("c")))

    def tobytes(self) -> bytes:
        return ET.tostring(self.root, xml_declaration=True, encoding="UTF-8")


def edit(source, target, changes: dict) -> Path:
    """Copy ``source`` to ``target`` applying ``changes``: sheet name -> function(Sheet)."""
    parts = sheet_parts(source)
    new = {}
    with zipfile.ZipFile(source) as z:
        for sheet_name, change in changes.items():
            sheet = Sheet(z.read(parts[sheet_name]))
            change(sheet)
            new[parts[sheet_name]] = sheet.tobytes()
    return rewrite(source, target, new)


def set_cells(source, target, cells: dict[str, dict[str, object]]) -> Path:
    """Copy ``source`` to ``target`` with cells set: {sheet: {ref: value}}."""
    def setter(values):
        def change(sheet):
            for ref, value in values.items():
                sheet.set(ref, value)
        return change
    return edit(source, target, {name: setter(values) for name, values in cells.items()})


def add_sheet(source, target, name: str, rows: list[list]) -> Path:
    """Copy ``source`` to ``target`` with a new sheet ``name`` holding ``rows`` (from A1)."""
    with zipfile.ZipFile(source) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
        existing = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    number = len(existing) + 1
    part = f"xl/worksheets/sheet{number}.xml"
    sheet_id = 1000 + number
    workbook = workbook.replace("</sheets>", f'<sheet name="{name}" sheetId="{sheet_id}" state="visible" '
                                             f'r:id="rIdX{number}" /></sheets>')
    rels = rels.replace("</Relationships>", f'<Relationship Type="{REL}/worksheet" Target="/{part}" '
                                            f'Id="rIdX{number}" /></Relationships>')
    types = types.replace("</Types>", f'<Override PartName="/{part}" ContentType="application/'
                                      'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml" /></Types>')
    sheet = Sheet(f'<worksheet xmlns="{MAIN}"><sheetData /></worksheet>'.encode())
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.set(f"{get_column_letter(c)}{r}", value)
    return rewrite(source, target, {"xl/workbook.xml": workbook.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
                                    "[Content_Types].xml": types.encode(), part: sheet.tobytes()})


def one_sheet_workbook(sheet_data: str, parts: dict | None = None) -> bytes:
    """The bytes of the least workbook the container check reads: one sheet S (xl/worksheets/sheet1.xml) whose
    <sheetData> holds ``sheet_data``, and the other ``parts`` (name -> XML text) beside it."""
    import io

    book = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" '
                           'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE_REL}"><Relationship Id="rId1" '
                                      'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>',
        **(parts or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in book.items():
            archive.writestr(name, text)
    return buffer.getvalue()
