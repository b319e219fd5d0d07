"""The report's methodology appendix: docs/methodology.md as part of a report (sections numbered A.1, A.2 ...,
references renumbered, sections of chapters the report does not have left out, nothing about the repository).
Fast: no valuation is run."""

import re

import pytest

from actuary.report import METHODOLOGY, methodology_html, methodology_markdown

SOURCE = METHODOLOGY.read_text(encoding="utf-8")
TITLES = dict((int(n), t) for n, t in re.findall(r"^## (\d+)\. (.+)$", SOURCE, flags=re.M))


def _number(title: str) -> int:
    return next(n for n, t in TITLES.items() if t.startswith(title))


def _headings(text: str) -> list[str]:
    return re.findall(r"^## (.+)$", text, flags=re.M)


@pytest.mark.parametrize("chapters, left_out", [
    (set(), {"Social protection floor", "Rolling forward", "Reform options"}),
    ({"floor"}, {"Rolling forward", "Reform options"}),
    ({"change"}, {"Social protection floor", "Reform options"}),
    ({"comparison"}, {"Social protection floor", "Rolling forward"}),
    ({"floor", "change", "comparison"}, set()),
])
def test_sections_of_chapters_the_report_has_only(chapters, left_out):
    text = methodology_markdown(SOURCE, chapters)
    shown = [t for n, t in sorted(TITLES.items()) if not t.startswith(tuple(left_out))]
    assert _headings(text) == [f"A.{k} {t}" for k, t in enumerate(shown, 1)]


def test_references_renumbered_and_to_sections_left_out_dropped():
    text = methodology_markdown(SOURCE, {"floor", "change", "comparison"})
    assert "§" not in text and not re.search(r"\bsections? \d", text)
    floor = f"A.{_number('Social protection floor')}"
    assert f"price index (section {floor})" in text and "as in sections A.2 and A.3" in text
    change = f"A.{_number('Rolling forward')}"
    assert f"analysis of change (section {change})" in text
    alone = methodology_markdown(SOURCE, set())
    assert "§" not in alone and not re.search(r"\bsections? \d", alone)
    # the sentences that pointed to the floor's section go with it, and the floor's simplification
    assert "moves with each path's price index" not in alone and "A floor costing alone (section" not in alone
    assert "- Social protection floor:" not in alone
    assert "Path k draws from its own generator" in alone     # the rest of that paragraph stays
    # the floor without the analysis of change: the floor's sentence about it goes
    floor_only = methodology_markdown(SOURCE, {"floor"})
    assert "So does a case of the analysis of change" not in floor_only
    assert "The poverty line is given in each year's money" in floor_only


def test_nothing_about_the_repository():
    for chapters in (set(), {"floor", "change", "comparison"}):
        text = methodology_markdown(SOURCE, chapters)
        for words in ("README", "this file", ".md", "actuary/", "actuary.", ".py", "`award_amount`", "kernel`",
                      "from the code", "Valuation.roll_forward"):
            assert words not in text, (chapters, words)
        assert "# Methodology\n" not in text
        assert text.startswith("What the engine computes")
        assert "ILO component method" in text      # the preamble's sentences about the method stay


def test_inputs_named_by_their_labels():
    text = methodology_markdown(SOURCE, set())
    assert "H = the input *Projection horizon*." in text   # read as an input ("the unit of the input *Unit of ...*")
    assert "show money in the unit of the input *" in " ".join(text.split())
    assert "`settings." not in text and "`scheme." not in text
    assert "UN World Population Prospects.\n" in text       # its code path in brackets gone, the sentence kept


def test_html_headings_one_level_down():
    html = methodology_html(chapters={"floor"})
    assert "<h3>A.1 Conventions</h3>" in html and "<h4>Exits</h4>" in html
    assert "<h2>" not in html and "<h3>1. Conventions</h3>" not in html
