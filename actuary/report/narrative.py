"""The actuary's own text in the report (:mod:`actuary.io.report_text`): each section placed in its chapter under
its heading, as paragraphs and lists of plain text (escaped when rendered: never HTML or markup), and a section not
written marked as a gap, "[To be written by the actuary: ...]", the report then a draft that says so on its first
page and in the footer of every page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..io.report_text import BY_KEY, ReportText, Section

_ITEM = re.compile(r"^(?:[-•–]\s+)")   # a line that is an item of a list: "- ", "• " or "– " in front


@dataclass
class Narrative:
    """One section as the report shows it: ``parts`` are ("p", paragraph) and ("ul", [items]); ``gap`` the text of
    the gap mark when the section is not written."""

    key: str
    title: str
    parts: list
    gap: str | None = None


def parts(text: str) -> list:
    """Paragraphs and lists of ``text``: each line a paragraph, consecutive lines starting with "- " or "• " the
    items of one list; blank lines only separate."""
    out: list = []
    for line in (line.strip() for line in text.split("\n")):
        if not line:
            continue
        item = _ITEM.match(line)
        if item:
            if out and out[-1][0] == "ul":
                out[-1][1].append(line[item.end():])
            else:
                out.append(("ul", [line[item.end():]]))
        else:
            out.append(("p", line))
    return out


class ReportWriter:
    """Places the sections of ``text`` (None: none written) in the chapters of a report of the kind ``has_scheme``
    and keeps the gaps: a section asked for and not written is marked (:meth:`place`), one not asked for of this
    kind of report (a floor costing alone: the scheme's behaviour) shown only when written."""

    def __init__(self, text: ReportText | None, has_scheme: bool):
        self.text = text or ReportText()
        self.asked = {s.key for s in self.text.asked(has_scheme)}
        self.placed: list[str] = []
        self.gaps: list[Section] = []

    def written(self, key: str) -> bool:
        return self.text.get(key) is not None

    def place(self, chapter, key: str, title: str | None = None) -> bool:
        """Add section ``key`` to ``chapter`` under its heading (``title``, default its own); whether anything was
        added."""
        section = BY_KEY[key]
        self.placed.append(key)
        given = self.text.get(key)
        if given is None and key not in self.asked:
            return False
        if given is None:
            self.gaps.append(section)
        chapter.blocks.append(("narrative", Narrative(key, title or section.title, parts(given) if given else [],
                                                      None if given else section.asks)))
        return True

    def statement(self, chapter) -> None:
        """The signature block: a line to sign, then the actuary's name, qualification and the date."""
        lines = []
        for key in ("actuary_name", "qualification", "signature_date"):
            self.placed.append(key)
            given = self.text.get(key)
            if given is None:
                self.gaps.append(BY_KEY[key])
            lines.append((key, BY_KEY[key].title, given, None if given else BY_KEY[key].asks))
        chapter.blocks.append(("signature", lines))
