"""Characters of the report that no installed font has are printed as empty boxes in the PDF (Chromium and
WeasyPrint take glyphs from the fonts fontconfig lists): the report command names them and the font package to
install, instead of a PDF whose text in that script silently reads as boxes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from actuary import Valuation
from actuary.cli import main
from actuary.io.report_text import SHEET, SECTIONS
from actuary.report import pdf
from actuary.report.pdf import characters_without_font, find_chromium

from .xlsx_edit import set_cells

LATIN = [(0x20, 0x7E), (0xA0, 0x17F), (0x2010, 0x2027)]


def test_the_characters_outside_every_font_in_order_of_appearance():
    text = "Taux de cotisation — 18 % ; 日本 年金 été ไทย 日 \n\t\u200b"
    assert characters_without_font(text, LATIN) == ["日", "本", "年", "金", "ไ", "ท", "ย"]   # not the spaces
    assert characters_without_font("plain ASCII, é and — only", LATIN) == []
    assert characters_without_font("日本", []) == []          # nothing known of the fonts: nothing said


def test_the_missing_characters_are_named_by_script_and_chapter():
    """A board member's PDF with boxes: the note says which script needs a font and where in the report it is."""
    from actuary.report.pdf import characters_without_font_by_script, script_of

    assert [script_of(c) for c in "本はไاक가😀。"] == ["CJK", "Hiragana", "Thai", "Arabic", "Devanagari", "Hangul",
                                                        "symbols", "CJK"]
    html = ("<title>Régime 本</title><h1>Case</h1><h2>1. Introduction</h2><p>本報 ok</p>"
            "<h2>2. <em>Scheme</em> &amp; rules</h2><p>ไทย 本 は</p>")
    assert characters_without_font_by_script(html, LATIN) == [("CJK", ["本", "報"], None),
                                                              ("Thai", ["ไ", "ท", "ย"], "2. Scheme & rules"),
                                                              ("Hiragana", ["は"], "2. Scheme & rules")]
    assert characters_without_font_by_script(html, [(0x20, 0x10FFFF)]) == []


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig (fc-list) is not installed")
def test_the_union_of_the_fonts_agrees_with_fontconfig_asked_character_by_character():
    """installed_characters parses every font's character set; fontconfig asked for the fonts having one
    character (``fc-list :charset=HEX``) must agree, whichever fonts this machine has."""
    ranges = pdf.installed_characters()
    assert ranges and all(a <= b for a, b in ranges) and all(b + 1 < c for (_, b), (c, _) in zip(ranges, ranges[1:]))
    for character in "é—∑€日本ไ\U0001e900\U00013000ᚠ":
        fonts = subprocess.run(["fc-list", f":charset={ord(character):x}"], capture_output=True, text=True,
                               check=True).stdout.strip()
        assert (characters_without_font(character, ranges) == []) == bool(fonts), character


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed: the command writes no PDF")
def test_the_report_command_names_the_characters_and_the_font_to_install(tmp_path, monkeypatch):
    short = Valuation.demo().replace(settings={"horizon": 10, "gap_horizons": (10,), "balance_sheet": "no"})
    short.to_workbook(tmp_path / "base.xlsx")
    row = 3 + [s.key for s in SECTIONS].index("purpose_and_scope")
    case = set_cells(tmp_path / "base.xlsx", tmp_path / "case.xlsx",
                     {SHEET: {f"B{row}": "本報告は年金制度の保険数理的評価である。"}})
    monkeypatch.setattr(pdf, "installed_characters", lambda: [(0x20, 0x2FFF), (0xA000, 0x10FFFF)])  # no CJK
    result = CliRunner().invoke(main, ["report", str(case), "--out", str(tmp_path / "out")], terminal_width=400)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    found = re.search(r"CJK: .*?, first in chapter '([^']*)'", said)
    assert found, said
    chapter = found.group(1)   # the chapter where purpose_and_scope is placed
    assert chapter[:1].isdigit(), said
    assert (f"note: no font on this machine has 20 of the report's characters (CJK: 本 報 告 年 金 制 度 保 ..., "
            f"first in chapter '{chapter}'; Hiragana: は の で あ る, first in chapter '{chapter}'): the PDF shows "
            "them as empty boxes. Install a font that has them (Debian: fonts-noto-cjk") in said
    assert (tmp_path / "out" / "case-report.pdf").exists()
    monkeypatch.setattr(pdf, "installed_characters", lambda: [(0x20, 0x10FFFF)])
    result = CliRunner().invoke(main, ["report", str(case), "--out", str(tmp_path / "out")], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "no font on this machine" not in result.stderr
