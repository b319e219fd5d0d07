"""The actuary's own text for the valuation report: the optional ``Report text`` sheet of the input workbook.

The numbers of a report come from the valuation; what only the actuary can write does not: the purpose, scope and
legal basis of the valuation, the previous valuation, a summary of the legal provisions and their changes, the data's
sources and checks, why each assumption was chosen, the conclusions and recommendations, the limitations and
reliances, the actuarial opinion and the signature block (the content the ILO-ISSA Actuarial Guidelines expect of a
valuation report). The sheet has one row per section (:data:`SECTIONS`): the section's key in column A, the
actuary's text in column B (plain text; each line of the cell a paragraph, lines starting with "- " or "• " items
of a list), the chapter and what to write in columns C and D (guidance, not read). Row 1 is a title, row 2 the
headers, sections from row 3. The report places each text in its chapter; a section left blank is marked as a gap
of a draft report (:meth:`ReportText.missing`).

The text is read as hostile like every input: text only (a number, a date outside ``signature_date`` or a formula,
even one with a saved value, is refused), at most :data:`MAX_TEXT` characters a section (:data:`MAX_LINE` and one
line for the signature block), no control characters, an unknown or repeated section key refused, each error naming
``Sheet!Cell``, the value and what was expected. The report escapes it (it never becomes HTML or markup).

A case folder gives the same sections in ``report_text.csv`` (:func:`read_report_text_csv`: columns ``section,text``,
one line per section, the same checks, errors naming the file, line and column); :func:`write_report_text_csv` writes
one, ``Valuation.to_workbook(path, text=...)`` a workbook's sheet from it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

from ..validation import InputError
from .safety import FORMULA_START, PLAIN_NUMBER

SHEET = "Report text"
HEADERS = ("section", "text", "chapter", "what to write")
MAX_TEXT = 20_000        # characters of one section (some 3,000 words: a chapter's worth)
MAX_LINE = 200           # characters of a line of the signature block
MAX_ROWS = 100           # data rows of the sheet (each section once; blank rows and notes aside)
CSV_NAME = "report_text.csv"   # the report text in a case folder
_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    chapter: str          # the report chapter it is placed in (its title)
    asks: str             # what the actuary is to write: the guidance and the draft's gap mark
    line: bool = False    # a line of the signature block (one line, at most MAX_LINE characters)
    scheme_only: bool = False   # not asked of a social protection floor costing alone


SECTIONS = (
    Section("purpose_and_scope", "Purpose and scope", "Introduction",
            "purpose and scope of the valuation: who asked for it and why, what it covers (the scheme, its branches, "
            "the period projected)"),
    Section("legal_basis", "Legal basis", "Introduction",
            "legal basis of the valuation: the law or regulation that requires it (or the mandate under which it is "
            "made) and how often"),
    Section("previous_valuation", "Previous valuation", "Introduction",
            "the previous actuarial valuation: its date, who made it, its main results and recommendations and what "
            "followed from them (or that this is the first valuation)"),
    Section("provisions_summary", "Summary of the legal provisions", "Scheme provisions",
            "summary of the legal provisions: who is covered, how it is financed, the benefits and their conditions, "
            "adjustment of amounts; the law and its amendments"),
    Section("provision_changes", "Changes since the previous valuation", "Scheme provisions",
            "changes to the provisions since the previous valuation and reforms in preparation (or that there were "
            "none)"),
    Section("data_sources", "Data sources", "Data",
            "sources of the data: where each comes from (the institution's records, national statistics, ...), at "
            "what date and how it was extracted"),
    Section("data_checks", "Data checks and reconciliation", "Data",
            "checks made on the data and their reconciliation with the accounts and the previous valuation; how "
            "missing or doubtful data were treated"),
    Section("demographic_assumptions", "Demographic assumptions", "Assumptions",
            "justification of the demographic assumptions: why this mortality table and its improvement, this "
            "fertility and this migration (sources, experience, comparisons)"),
    Section("economic_assumptions", "Economic assumptions", "Assumptions",
            "justification of the economic assumptions: why this inflation, wage and productivity growth, return on "
            "investments (the discount rate) and unemployment (sources, history, consistency between them)"),
    Section("behavioural_assumptions", "Behavioural assumptions", "Assumptions",
            "justification of the behavioural assumptions: why these rates of participation, coverage, exit and "
            "retirement, these densities and this salary scale (the experience they come from)", scheme_only=True),
    Section("conclusions", "Conclusions", "Conclusions and recommendations",
            "conclusions: what the results say about the financial position and sustainability and how much they "
            "depend on the assumptions"),
    Section("recommendations", "Recommendations", "Conclusions and recommendations",
            "recommendations: on financing, provisions, data and the next valuation"),
    Section("limitations", "Limitations and reliances", "Actuarial opinion",
            "limitations and reliances: the limits of the data, model and assumptions, and the information relied "
            "upon and who provided it"),
    Section("opinion", "Statement of actuarial opinion", "Actuarial opinion",
            "statement of actuarial opinion: whether the data are sufficient and reliable, the assumptions "
            "reasonable and the methods appropriate, and the standards followed"),
    Section("actuary_name", "Name", "Actuarial opinion", "the actuary's name (and organisation)", line=True),
    Section("qualification", "Qualification", "Actuarial opinion",
            "the actuary's professional qualification (e.g. Fellow of an actuarial association)", line=True),
    Section("signature_date", "Date", "Actuarial opinion", "date of signature", line=True),
)
BY_KEY = {s.key: s for s in SECTIONS}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LIST_MARKER = re.compile(r"\s*[-•]?\s*")   # a line that is blank or a list marker alone ("-", "- ", "•")


@dataclass
class ReportText:
    """The actuary's texts by section key (only those given); ``source``: the file they were read from."""

    texts: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def __post_init__(self):
        checked = {}
        for key, text in self.texts.items():   # the same rules for text given from Python
            if key not in BY_KEY:
                raise InputError(f"report text: '{key}' is not a section; expected one of {', '.join(BY_KEY)}.")
            checked[key] = _checked(BY_KEY[key], text, f"report text '{key}'")
        self.texts = {key: text for key, text in checked.items() if text}   # a blank section is not written

    def get(self, key: str) -> str | None:
        return self.texts.get(key)

    def asked(self, has_scheme: bool) -> list[Section]:
        """The sections a report of this kind asks for (a floor costing alone: not the scheme's behaviour)."""
        return [s for s in SECTIONS if has_scheme or not s.scheme_only]

    def missing(self, has_scheme: bool) -> list[Section]:
        """The sections asked for and not written: the gaps of a draft report (none: the report is not a draft)."""
        return [s for s in self.asked(has_scheme) if s.key not in self.texts]


def _checked(section: Section, value: str, where: str) -> str:
    """``value`` as a section's text: line ends made "\\n", spaces at the end of lines and blank lines and spaces at
    either end removed; an error naming ``where`` for control characters, a text too long, a signature line of several
    lines."""
    text = "\n".join(line.rstrip() for line in str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = text.strip()
    if all(_LIST_MARKER.fullmatch(line) for line in text.split("\n")):   # nothing but list markers: left blank
        return ""
    bad = _CONTROL.search(text)
    if bad:
        raise InputError(f"{where}: the text contains the control character U+{ord(bad.group()):04X} (at character "
                         f"{bad.start() + 1:,}); expected plain text (letters, punctuation, line breaks).")
    limit = MAX_LINE if section.line else MAX_TEXT
    if len(text) > limit:
        raise InputError(f"{where}: the text has {len(text):,} characters; at most {limit:,} are read for "
                         f"'{section.key}' ({section.title}). "
                         + ("Shorten it to one line of the signature block." if section.line else
                            "Shorten it, or move the detail to an annex of the report and refer to it here."))
    if section.line and "\n" in text:
        raise InputError(f"{where}: '{section.key}' ({section.title}) is one line of the signature block; expected "
                         "text without line breaks.")
    return text


def where_given(text: "ReportText | None", source: dict | None) -> str:
    """Where the actuary's text of a report is given, for a draft's note: the ``Report text`` sheet of the workbook
    it was read from (``text.source``, else the valuation's ``source`` record), the ``report_text.csv`` of the case
    folder it was read from, else (a valuation built in Python) either."""
    name = (text.source if text is not None else None) or (source or {}).get("input_file")
    if name and str(name).lower().endswith(".xlsx"):
        return f"the '{SHEET}' sheet of {name}"
    if name and str(name).lower().endswith(CSV_NAME):
        return f"{name} (columns section,text: one line per section)"
    return f"the '{SHEET}' sheet of a valuation workbook, or {CSV_NAME} in a case folder"


def _shown(value) -> str:
    """A cell's value as the user sees it in an error: a date as 2017-01-01 (with its time when it has one), text
    quoted, anything else as Python writes it."""
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d}" if value.time() == dt.time() else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return repr(value)


def _suggestion(given: str) -> list[str]:
    """The section key meant by ``given``: a title or a key with other case or spaces, a key beginning with it, else
    the closest key ([] for none)."""
    typed = re.sub(r"[\s-]+", "_", given.strip().lower())
    by_title = {re.sub(r"\s+", "_", s.title.lower()): s.key for s in SECTIONS}
    if typed in BY_KEY or typed in by_title:
        return [BY_KEY[typed].key if typed in BY_KEY else by_title[typed]]
    return [k for k in BY_KEY if typed and k.startswith(typed)][:1] or get_close_matches(typed, list(BY_KEY), n=1)


def read_report_text(path) -> ReportText:
    """The ``Report text`` sheet of a valuation workbook (an empty :class:`ReportText` without it); errors name
    ``Sheet!Cell``, the value and what was expected (see the module's docstring)."""
    from .workbook import WorkbookReader

    with WorkbookReader(Path(path)) as reader:
        return report_text_of(reader)


def report_text_of(reader) -> ReportText:
    """The ``Report text`` sheet of the workbook open in ``reader`` (a :class:`actuary.io.workbook.WorkbookReader`):
    the workbook's reading takes it with the inputs (``Valuation.report_text``)."""
    from .workbook import _formula_text, _ref

    if SHEET not in reader.sheetnames:
        return ReportText(source=reader.name)
    cells = reader.sheet(SHEET, 3, MAX_ROWS, " (one per section)", width=len(HEADERS))
    last = max(cells.cells, default=0)
    formula = None
    with reader.guard():   # a formula is refused even with a saved value: the text is the actuary's own
        ws = reader.values[SHEET]
        scan = reader._scan(ws)
        if last and (scan is None or scan.formulas or scan.malformed):
            formulas = reader._formulas_sheet(SHEET)
            formulas.reset_dimensions()
            for row, values in enumerate(formulas.iter_rows(max_row=last, values_only=True), start=1):
                column = next((c for c, v in enumerate(values[:2], start=1) if _formula_text(v)), None)
                if column is not None:
                    formula = (row, column, _formula_text(values[column - 1]))
                    break
    if formula is not None:
        row, column, text = formula
        raise InputError(f"{_ref(SHEET, row, column)}: formula {text}; expected the text itself (the report text is "
                         "typed, never computed: replace the formula with its text).")
    for column, expected in enumerate(HEADERS[:2], start=1):
        header = cells.get(2, column)
        if str(header if header is not None else "").strip().lower() != expected:
            raise InputError(f"{_ref(SHEET, 2, column)}: header '{header if header is not None else ''}'; expected "
                             f"'{expected}' (columns: {', '.join(HEADERS)}). Row 1 of the sheet is its title, the "
                             "headers go in row 2 and the sections from row 3 ('actuary template' writes the sheet).")
    rows = ((r, cells.get(r, 1), cells.get(r, 2)) for r in cells.data_rows)
    texts = _texts(rows, lambda r, c: _ref(SHEET, r, c), "row")
    return ReportText(texts, source=reader.name)


def _texts(rows, ref, unit: str, iso_dates: bool = False) -> dict[str, str]:
    """The texts by section key of ``rows`` ((row, key, value): a sheet's rows or a CSV file's lines), checked (see the
    module); ``ref(row, column)`` names a cell in an error, ``unit`` what a row is called ("row", "line");
    ``iso_dates``: a ``signature_date`` written 2026-12-07 is a date (a CSV file has no date cells)."""
    from .workbook import _blank

    texts, seen = {}, {}
    for r, key, value in rows:
        if _blank(key):
            if not _blank(value):
                raise InputError(f"{ref(r, 1)}: the cell is blank beside a text; expected the section's key "
                                 f"(one of {', '.join(BY_KEY)}).")
            continue
        if not isinstance(key, str) or key.strip() not in BY_KEY:
            close = _suggestion(str(key))
            raise InputError(f"{ref(r, 1)}: '{str(key)[:60]}' is not a section of the report text"
                             f"{f' (did you mean {close[0]}?)' if close else ''}; expected one of "
                             f"{', '.join(BY_KEY)}.")
        section = BY_KEY[key.strip()]
        if section.key in seen:
            raise InputError(f"{ref(r, 1)}: section '{section.key}' is listed twice (also in {unit} "
                             f"{seen[section.key]}); give each section once.")
        seen[section.key] = r
        if _blank(value):
            continue
        if iso_dates and isinstance(value, str) and section.key == "signature_date" and _ISO_DATE.fullmatch(value.strip()):
            try:   # a date written as in a CSV file (2026-12-07): shown as a date cell of the sheet is
                value = dt.date.fromisoformat("-".join(p.zfill(2) for p in value.strip().split("-")))
            except ValueError:
                raise InputError(f"{ref(r, 2)}: value '{value.strip()}' is not a date; expected the date of "
                                 "signature as year-month-day (2026-12-07) or as text.") from None
        if isinstance(value, (dt.datetime, dt.date)) and section.key == "signature_date":
            value = f"{value.day} {value:%B %Y}"
        elif not isinstance(value, str):
            kind = "a date" if isinstance(value, (dt.datetime, dt.date, dt.time)) else \
                "TRUE/FALSE" if isinstance(value, bool) else "a number" if isinstance(value, (int, float)) else \
                type(value).__name__
            raise InputError(f"{ref(r, 2)}: value {_shown(value)} is {kind}; expected text for '{section.key}' "
                             f"({section.title})" + (" or a date" if section.key == "signature_date" else "")
                             + " (format the cell as text if the program turned it into something else).")
        texts[section.key] = _checked(section, value, ref(r, 2))
        if not texts[section.key]:
            del texts[section.key]
    return texts


def read_report_text_csv(data: bytes, name: str = CSV_NAME, source: str | None = None) -> ReportText:
    """The report text of a case folder's ``report_text.csv`` (its bytes ``data``): a header line ``section,text``
    (the sheet's columns ``chapter`` and ``what to write`` may follow; they are not read), then one line per section,
    its key and its text (in double quotes when it holds commas, quotes or line breaks: each line a paragraph).
    Checked as the sheet is (see the module); ``signature_date`` may be written as a date, 2026-12-07; the apostrophe
    :func:`to_csv_field` puts before a text a spreadsheet would evaluate is taken off. Errors name
    ``name``, the line (the header is line 1) and the column."""
    from openpyxl.utils import get_column_letter

    from .folder import read_csv_text

    header, frame, lines = read_csv_text(data, name)
    wanted = [h.lower() for h in header]
    for column, title in enumerate(wanted, start=1):
        if column > len(HEADERS) or title != HEADERS[column - 1]:
            expected = f"'{HEADERS[column - 1]}'" if column <= len(HEADERS) else "no further column"
            raise InputError(f"{name}, line 1, column {get_column_letter(column)}: header '{header[column - 1][:60]}'; "
                             f"expected {expected} (columns: section, text, and optionally the sheet's chapter and "
                             "what to write, which are not read).")
    if len(header) < 2:
        raise InputError(f"{name}, line 1: the header has {len(header)} column(s); expected section,text (one line "
                         "per section: its key and its text).")
    if len(frame) > MAX_ROWS:
        raise InputError(f"{name}, line {lines[MAX_ROWS]}: more than {MAX_ROWS} sections; expected one line per "
                         f"section ({len(SECTIONS)} sections).")
    rows = zip(lines, frame.iloc[:, 0], (from_csv_field(v) if isinstance(v, str) else v for v in frame.iloc[:, 1]))
    texts = _texts(rows, lambda r, c: f"{name}, line {r}, column {get_column_letter(c)} ({HEADERS[c - 1]})", "line",
                   iso_dates=True)
    return ReportText(texts, source=source or name)


def write_report_text_csv(path, text: ReportText | None = None) -> None:
    """Write ``report_text.csv`` for a case folder: the header ``section,text``, one line per section (the texts of
    ``text``, blank without), so that the actuary fills it and keeps it with the case."""
    import csv

    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADERS[:2])
        for section in SECTIONS:
            writer.writerow([section.key, to_csv_field((text.get(section.key) if text else None) or "")])


# A text starting with one of these (after any apostrophes) is one a spreadsheet opening the CSV file would evaluate
# as a formula (=, +, -, @; Excel also a tab or a carriage return): "=HYPERLINK(...)" planted in a workbook's
# report text, or a list's first "- " item, would become a live formula or #NAME? in report_text.csv
_FORMULA_LIKE = re.compile("'*[" + re.escape("".join(FORMULA_START)) + "]")
_CSV_NUMBER = re.compile(PLAIN_NUMBER)   # a number, never a formula


def to_csv_field(text: str) -> str:
    """``text`` as a field of report_text.csv no spreadsheet evaluates: with a leading apostrophe when it starts (after
    any apostrophes) with =, +, -, @, a tab or a carriage return and is not a plain number, as OWASP's advice on CSV
    injection and :mod:`actuary.data.csvout` do (``- the reserve ...`` is written ``'- the reserve ...``; the
    spreadsheet shows it as text). :func:`from_csv_field` reads it back: from_csv_field(to_csv_field(t)) == t for
    every text."""
    if _FORMULA_LIKE.match(text) and not _CSV_NUMBER.fullmatch(text):
        return "'" + text
    return text


def from_csv_field(text: str) -> str:
    """A field of report_text.csv as its text: the apostrophe :func:`to_csv_field` put before a text starting with
    =, +, -, @, a tab or a carriage return taken off (as Excel shows '=1+1 typed in a cell: =1+1); any other text as
    it is."""
    if text.startswith("'") and _FORMULA_LIKE.match(text):
        return text[1:]
    return text


def write_report_text_sheet(wb, text: ReportText | None = None):
    """The ``Report text`` sheet of the workbook ``wb``: one row per section, the texts of ``text`` (blank without),
    the chapter and what to write beside them. Returns the sheet."""
    from openpyxl.styles import Alignment

    from .safety import text_cell
    from .workbook import HEADER_FONT, INPUT_FILL, TITLE_FONT

    ws = wb.create_sheet(SHEET)
    ws.cell(row=1, column=1, value=DESCRIPTION).font = TITLE_FONT
    for column, header in enumerate(HEADERS, start=1):
        ws.cell(row=2, column=column, value=header).font = HEADER_FONT
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, section in enumerate(SECTIONS, start=3):
        ws.cell(row=row, column=1, value=section.key).alignment = wrap
        given = text.get(section.key) if text else None
        cell = text_cell(ws, row, 2, given) if given else ws.cell(row=row, column=2)
        cell.fill, cell.alignment = INPUT_FILL, wrap
        ws.cell(row=row, column=3, value=f"{section.chapter}: {section.title}").alignment = wrap
        guidance = section.asks[:1].upper() + section.asks[1:] + "." \
            + (" Not asked of a floor costing alone." if section.scheme_only else "")
        ws.cell(row=row, column=4, value=guidance).alignment = wrap
        # rows tall enough for the guidance and for a few lines of text (programs do not fit them when opening)
        lines = max(2 if section.line else 4, -(-len(guidance) // 45), (given or "").count("\n") + 1)
        ws.row_dimensions[row].height = 15 * min(lines, 20)
    for letter, width in zip("ABCD", (24, 80, 30, 50)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "B3"
    ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", ws.PAPERSIZE_A4   # printed one page wide
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:2"
    return ws


DESCRIPTION = ("Report text (optional): what only the actuary can write, placed in the report's chapters; each line "
               "of a cell a paragraph, lines starting with '- ' items of a list. A blank section is marked as a gap "
               "of a draft report")
