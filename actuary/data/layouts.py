"""Record layouts of the member data a valuation starts from, declared once as column specs.

Every reader, check, template CSV and the documentation (``docs/data.md``) follow these specs:

- ``INSURED``: one row per insured person (active or inactive) at the valuation date;
- ``PENSIONERS``: one row per pension in payment at the valuation date (a person drawing two
  pensions, e.g. old age and widow's, has two rows with the same id);
- ``CONTROLS``: optional control totals from the financial statements, each with a tolerance.

Column kinds: ``id`` (text, the member's identifier), ``code`` (text, one of ``codes``), ``date``
(ISO ``YYYY-MM-DD`` text, or a date type in Parquet, xlsx and SQL sources) and ``number``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Column:
    name: str
    kind: str                 # id | code | date | number
    doc: str
    units: str = ""
    codes: tuple = ()
    example: str = ""


@dataclass(frozen=True)
class Layout:
    name: str                 # insured | pensioners | controls
    title: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


SEX_CODES = ("M", "F")
STATUS_CODES = ("active", "inactive")
BENEFIT_CODES = ("old_age", "invalidity", "widow", "orphan")
CONTROL_ITEMS = ("contributors", "contributions", "pensioners", "benefits_paid")

INSURED = Layout("insured", "Insured persons (active and inactive) at the valuation date", (
    Column("id", "id", "member identifier, unique in the file", example="100234"),
    Column("sex", "code", "M (male) or F (female)", codes=SEX_CODES, example="F"),
    Column("birth_date", "date", "date of birth", "YYYY-MM-DD", example="1981-07-14"),
    Column("affiliation_date", "date", "date of first affiliation to the scheme", "YYYY-MM-DD", example="2004-03-01"),
    Column("status", "code", "active (contributing at the valuation date) or inactive (insured, not contributing, "
                             "credits kept)", codes=STATUS_CODES, example="active"),
    Column("credited_service", "number", "credited service at the valuation date (decimals allowed)", "years",
           example="14.58"),
    Column("contribution_months", "number", "months with contributions in the year before the valuation date, "
                                            "0-12", "months", example="12"),
    Column("earnings", "number", "insurable earnings of the year before the valuation date (all its months)",
           "currency of that year", example="48210.55"),
))

PENSIONERS = Layout("pensioners", "Pensions in payment at the valuation date", (
    Column("id", "id", "pensioner identifier (the member's id for old-age and invalidity pensions)",
           example="100234"),
    Column("sex", "code", "M (male) or F (female)", codes=SEX_CODES, example="M"),
    Column("birth_date", "date", "pensioner's date of birth", "YYYY-MM-DD", example="1952-11-02"),
    Column("benefit", "code", "old_age, invalidity, widow (widow or widower) or orphan", codes=BENEFIT_CODES,
           example="old_age"),
    Column("award_date", "date", "date the pension started", "YYYY-MM-DD", example="2017-12-01"),
    Column("annual_amount", "number", "annual pension in payment at the valuation date", "currency a year",
           example="18240.00"),
))

CONTROLS = Layout("controls", "Control totals from the financial statements (optional)", (
    Column("item", "code", "contributors: number of insured with contributions in the year before the valuation "
                           "date; contributions: contributions collected in that year; pensioners: number of "
                           "pensions in payment at the valuation date; benefits_paid: annual amount of the pensions "
                           "in payment at the valuation date", codes=CONTROL_ITEMS, example="contributors"),
    Column("benefit", "code", "for pensioners and benefits_paid: one benefit, or blank for all benefits",
           codes=BENEFIT_CODES, example=""),
    Column("value", "number", "the total in the financial statements", "persons or currency", example="15004000"),
    Column("tolerance", "number", "largest acceptable relative difference between the records and the total "
                                  "(0.02 = 2%)", "share", example="0.02"),
    Column("fatal", "code", "yes: a difference beyond the tolerance stops the intake (exit 2); no: a warning "
                            "(blank: yes)", codes=("yes", "no"), example="yes"),
))

LAYOUTS = {layout.name: layout for layout in (INSURED, PENSIONERS, CONTROLS)}


def template_csv(layout: Layout) -> str:
    """The template CSV of a layout: its header and one example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(layout.names)
    writer.writerow([c.example for c in layout.columns])
    return buffer.getvalue()


def write_templates(folder, force: bool = False) -> list[Path]:
    """Write the templates ``insured.csv``, ``pensioners.csv`` and ``controls.csv`` into ``folder`` as one set of
    outputs (:class:`actuary.io.files.OutputSet`), like every command's: a file of those names there that actuary
    did not write, or that changed since it wrote it (the user's own records), is refused before anything is
    written (InputError) unless ``force``; the folder's manifest records the templates written."""
    from ..io.files import OutputSet

    names = {layout.name: f"{layout.name}.csv" for layout in LAYOUTS.values()}
    with OutputSet(folder, list(names.values()), force=force) as outputs:
        for layout in LAYOUTS.values():
            outputs.path(names[layout.name]).write_text(template_csv(layout), encoding="utf-8")
        return outputs.commit()
