"""The "Definitions" sheet of a results workbook: for every column of every table sheet (and every item of the
Summary, Balance sheet and floor tables) its heading as shown, its units and its definition, so that a reader
without the repository's documentation can explain each number.

Definitions come from where the numbers come from: a results variable's ``description`` attribute (the one the
netCDF file carries, :attr:`Results.projection[var].attrs`), an input field's documentation
(:data:`actuary.inputs.FIELDS`) and, for the few headings made here (Year, Age, the Floor benefits sheet), the
texts of :data:`FIXED`. The sheet is written last, from the headings of the sheets as written, so it cannot miss
one.
"""

from __future__ import annotations

import re

from . import presentation as pres

SHEET = "Definitions"
SKIPPED = ("Charts", "About this run", SHEET)
ITEM_SHEETS = ("Summary", "Balance sheet")            # tables of items (Indicator | Value): each item defined
ITEM_HEADINGS = ("Indicator", "Item", "Value")
FIXED = {
    "Year": ("year", "calendar year: flows are those of the year, stocks at its end (31 December), unless the "
                     "heading says otherwise"),
    "Age": ("years", "age in completed years at 1 January of the year (the last age an open group)"),
    "Group": ("", "settings, scheme provisions or economy"),
    "Value": ("", "the input's value in words, as the valuation used it"),
    "Total fertility rate": ("births per woman", "sum over ages of the year's fertility rates (input "
                                                 "demography.fertility)"),
    "Provision": ("", "the input, in words"),
    "Notes": ("", "what the input means and its default"),
    "Projection horizon": ("years", "number of years projected from the valuation date (1 January of the "
                                    "valuation year)"),
    "Level contribution rate from": ("% of insurable earnings",
                                     "lowest constant contribution rate from the valuation year keeping the reserve "
                                     "ratio (reserve at the end of the year / expenditure of the year) at or above 1 "
                                     "in each year of the period said ('none': no rate does); "
                                     + pres.basis_text("summary_level_contribution_rate")),
    "Benefit": ("", "the benefit of the social protection floor, named as in the inputs (underscores as spaces)"),
    "Identifier (inputs and netCDF file)": ("", "the benefit's name in the inputs and the floor_benefit "
                                                "coordinate of the netCDF file"),
    "Risk": ("", "kind of the benefit (floor.kind): old age, disability, children, maternity or other"),
    "Eligible (sex and age)": ("", "who may receive it: sex and ages (floor.sex, floor.min_age, floor.max_age); "
                                   "maternity counts births by the mother's age"),
    "Share eligible": ("", "all, or a share of the population by sex and age (floor.eligibility: targeting or "
                           "disability prevalence)"),
    "Amount and basis": ("", "benefit level (floor.amount) on its basis (floor.basis): currency at the valuation "
                             "year, or a share of GDP per capita, of the national average wage or of the poverty "
                             "line, each year"),
    "Benefit a year per beneficiary in": ("currency a year", "the benefit a year per beneficiary in the valuation "
                                                             "year (results variable floor_benefit_amount)"),
    "Indexation": ("", "how a currency amount moves over the years (floor.indexation); other bases move with "
                       "their basis"),
    "Test": ("", "universal; pension-tested: only persons without a scheme pension; top-up: scheme pensioners "
                 "receive the difference up to the amount (floor.test)"),
    "Take-up": ("% of the eligible", "share of the eligible who receive the benefit, year by year (floor.take_up)"),
    "Take-up in": ("% of the eligible", "share of the eligible who receive the benefit in the valuation year"),
    "Administration": ("% of benefits", "administration cost of the benefit, a share of the benefit paid "
                                        "(floor.admin_share)"),
    "Men, 1 January": ("persons", "national population of that age, men, at 1 January of the year (the valuation "
                                  "date, then the projection's stocks at the end of the year before)"),
    "Women, 1 January": ("persons", "national population of that age, women, at 1 January of the year (the "
                                    "valuation date, then the projection's stocks at the end of the year before)"),
}


def _units(heading: str) -> str:
    """The units a heading states in its last parenthesis: "Contributions (millions)" -> "millions"."""
    found = re.search(r"\(([^()]*)\)\s*$", heading)
    return found.group(1) if found else ""


class Definitions:
    """Heading -> (units, definition), from the results variables, the summary and the input fields."""

    def __init__(self, results, valuation):
        from ..inputs import FIELDS

        self.p, self.s = results.projection, results.summary
        self.inputs = valuation.inputs
        self.money_unit = self.inputs.settings["money_unit"]
        self.exact: dict[tuple[str, str], tuple[str, str]] = {}   # (sheet, heading) -> (units, definition)
        self.prefixes: list[tuple[str, tuple[str, str]]] = []
        for label, (units, text) in FIXED.items():
            self.prefixes.append((label, (units, text)))
        for name, variable in list(pres.VARIABLES.items()) + list(pres.SUMMARY.items()):
            source = self._variable(variable.source or name)
            if source is None:
                continue
            start = variable.label.split("{}")[0].strip()
            if len(start) >= 3:
                self.prefixes.append((start, (None, self._described(variable.source or name, source))))
        for group, fields in FIELDS.items():
            for name, field in fields.items():
                label = pres.field_label(name, self.inputs, group)
                doc = field.doc or ""
                text = f"input {group}.{name}" + (f": {doc}" if doc else "")
                self.prefixes.append((label, (field.units or "", text)))
        self.prefixes.sort(key=lambda item: -len(item[0]))

    def _variable(self, name):
        if name in self.p:
            return self.p[name]
        if name in self.s:
            return self.s[name]
        return None

    @staticmethod
    def _described(name: str, da) -> str:
        """The variable's description, its name and, for a rate of insurable earnings, its basis (statutory or
        gross) with the relation between the two (:func:`actuary.io.presentation.basis_text`)."""
        text = da.attrs.get("description") or pres.VARIABLES.get(name, pres.SUMMARY.get(name)).label
        basis = pres.basis_text(name)
        return f"{text} (results variable {name})" + (f"; {basis}" if basis else "")

    def units(self, heading: str, kind: str) -> str:
        """The units of a heading as shown: money in the workbook's unit of currency, else its parenthesis."""
        return pres.money_phrase(self.money_unit) if kind == "money" else _units(heading)

    def add_columns(self, sheet: str, columns: list[pres.Column]) -> None:
        """The yearly columns of a sheet: each heading gets its variable's description (a heading is defined for its
        sheet: the Financial projection's yearly state subsidy is not the Balance sheet's present value of it)."""
        from ..inputs import FIELDS

        for column in columns:
            name = column.name.split("/")[0]
            if column.kind == "input":
                group = next((g for g, f in FIELDS.items() if name in f), None)
                field = FIELDS[group][name] if group else None
                if field is None:   # the totals made of inputs by age (total fertility rate)
                    continue
                doc = field.doc or ""
                self.exact[sheet, column.header] = (_units(column.header),
                                                    f"input {group}.{name}" + (f": {doc}" if doc else ""))
                continue
            variable = pres.VARIABLES.get(name)
            da = self._variable((variable.source if variable else None) or name)
            if da is not None:
                text = self._described(variable.source or name, da)
                if "/" in column.name or (variable is not None and variable.source):
                    # a part of the variable (an age group, a benefit): the column says which
                    part = re.sub(r"\s*\([^()]*\)\s*$", "", column.header)
                    text = f"{text}; this column: {part}"
                self.exact[sheet, column.header] = (self.units(column.header, column.kind), text)

    def add_items(self, sheet: str, items) -> None:
        """Summary items (name, heading, value, format): each heading gets its summary variable's description."""
        for key, heading, _, _ in items:
            name = key.split("/")[0]
            if name in self.s:
                self.exact[sheet, heading] = (self.units(heading, pres.SUMMARY[name].kind),
                                              self._described(name, self.s[name]))

    def find(self, sheet: str, heading: str) -> tuple[str, str] | None:
        """(units, definition) of a heading of a sheet, or None: the sheet's own, else the same heading's on another
        sheet (the first defined), else the longest label it starts with."""
        if (sheet, heading) in self.exact:
            return self.exact[sheet, heading]
        elsewhere = next((v for (_, h), v in self.exact.items() if h == heading), None)
        if elsewhere is not None:
            return elsewhere
        for start, (units, text) in self.prefixes:
            if heading.startswith(start):
                return _units(heading) or units or "", text
        return None


def _headings(ws, sheet: str) -> list[str]:
    """The headings a sheet's table shows: its header row (row 2), or the items of an item table."""
    headers = [c.value for c in ws[2] if isinstance(c.value, str)]
    if sheet in ITEM_SHEETS or headers[:2] == ["Item", "Value"]:
        items = [r[0] for r in ws.iter_rows(min_row=3, values_only=True)
                 if isinstance(r[0], str) and len(r) > 1 and r[1] is not None]
        return [h for h in headers if h not in ITEM_HEADINGS] + items
    if sheet == "Social protection floor":   # its yearly table, then the table of present values
        for row in ws.iter_rows(min_row=3):
            if row[0].value == "Item" and len(row) > 1 and row[1].value == "Value":
                items = [r[0] for r in ws.iter_rows(min_row=row[0].row + 1, values_only=True)
                         if isinstance(r[0], str)]
                return headers + items
    return headers


def add_definitions_sheet(wb, results, valuation) -> None:
    """Append the Definitions sheet: one row per heading of every table sheet already in ``wb`` (sheet, heading,
    units, definition)."""
    from .results import assumption_columns, text_sheet

    p, s = results.projection, results.summary
    unit = valuation.inputs.settings["money_unit"]
    definitions = Definitions(results, valuation)
    for sheet in (pres.DEMOGRAPHY, pres.INSURED, pres.PENSIONERS, pres.FINANCE, pres.INDICATORS, pres.FLOOR):
        definitions.add_columns(sheet, pres.yearly_columns(p, sheet, unit))
    definitions.add_columns("Assumptions", assumption_columns(valuation, p))
    for sheet in ("Summary", "Balance sheet", pres.FLOOR):
        definitions.add_items(sheet, pres.summary_items(s, sheet, unit))
    rows = []
    for ws in wb.worksheets:
        if ws.title in SKIPPED:
            continue
        seen = set()
        for heading in _headings(ws, ws.title):
            if heading in seen:
                continue
            seen.add(heading)
            if re.fullmatch(r"(men |women )?\d+", heading):   # an age column of a sheet by year and age
                continue
            found = definitions.find(ws.title, heading)
            units, text = found if found else (_units(heading), "see the sheet's title")
            rows.append((ws.title, heading, units, text))
    text_sheet(wb.create_sheet(SHEET), "Definitions: every column of the table sheets (and every item of the Summary, "
               "Balance sheet and floor tables), its units and what it is", ["Sheet", "Heading", "Units", "Definition"],
               rows, valuation.name)
