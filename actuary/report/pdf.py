"""Print the report's HTML to PDF with a real browser engine: headless Chromium where the system has
it, else WeasyPrint where it is installed. Neither reaches the network: the HTML is self-contained."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfUnavailable(RuntimeError):
    """No engine to print the PDF with."""


class PdfFailed(RuntimeError):
    """The engine ran but produced no PDF (its message says why)."""


def find_chromium() -> str | None:
    """The Chromium executable: $ACTUARY_CHROMIUM, else the first of the usual names on the PATH."""
    given = os.environ.get("ACTUARY_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def chromium_pdf(chromium: str, html: Path, pdf: Path, timeout: float = 180) -> None:
    """Headless Chromium prints ``html`` to ``pdf`` (the page's own @page rules set size and margins)."""
    with tempfile.TemporaryDirectory(prefix="actuary-chromium-") as profile:
        # a fresh profile, nothing fetched, no sandbox (root in containers), no page header or footer
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--disable-extensions", "--no-default-browser-check", f"--user-data-dir={profile}",
                   "--no-pdf-header-footer", f"--print-to-pdf={pdf}", Path(html).resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            raise PdfFailed(f"Chromium did not print the PDF within {timeout:.0f} s") from None
        except OSError as error:
            raise PdfFailed(f"Chromium could not be started ({chromium}: {error.strerror})") from None
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size < 1000 or pdf.read_bytes()[:5] != b"%PDF-":
        raise PdfFailed(f"Chromium could not print the PDF (exit {done.returncode}): {done.stderr.strip()[-400:]}")


def weasyprint_pdf(html: Path, pdf: Path) -> None:
    from weasyprint import HTML

    try:
        HTML(filename=str(html)).write_pdf(str(pdf))
    except Exception as error:  # WeasyPrint raises many types (fonts, layout, files)
        raise PdfFailed(f"WeasyPrint could not print the PDF ({type(error).__name__}: {error})") from None


def engine() -> str | None:
    """"chromium", "weasyprint" or None."""
    if find_chromium():
        return "chromium"
    try:
        importlib.import_module("weasyprint")
    except (ImportError, OSError):  # not installed, or its system libraries (Pango) are missing
        return None
    return "weasyprint"


def print_pdf(html: Path, pdf: Path) -> str:
    """Print ``html`` to ``pdf`` (written whole or not at all); returns the engine used."""
    from ..io.files import atomic_path

    chosen = engine()
    if chosen is None:
        raise PdfUnavailable("no PDF engine: install Chromium (Debian package 'chromium') or WeasyPrint")
    with atomic_path(pdf) as temporary:
        if chosen == "chromium":
            chromium_pdf(find_chromium(), html, temporary)
        else:
            weasyprint_pdf(html, temporary)
    return chosen


def installed_characters() -> list[tuple[int, int]] | None:
    """The code points some installed font has, as sorted (first, last) ranges: the union of every font's
    character set as fontconfig (``fc-list``, which Chromium's font fallback uses too) lists them. None when
    fontconfig is not there to ask."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listed = subprocess.run([fc_list, "--format=%{charset}\\n"], capture_output=True, text=True, timeout=30,
                                check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    ranges = []
    for word in listed.split():
        first, _, last = word.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for first, last in ranges:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def characters_without_font(text: str, ranges: list[tuple[int, int]] | None = None) -> list[str]:
    """The distinct characters of ``text`` (in their order of first appearance) that no installed font has, which a
    PDF printed here shows as empty boxes; [] when fontconfig cannot be asked. Spaces and controls aside."""
    ranges = installed_characters() if ranges is None else ranges
    if not ranges:
        return []
    from bisect import bisect_right

    starts = [first for first, _ in ranges]
    missing = []
    for character in dict.fromkeys(text):
        code = ord(character)
        if code < 0x80 or character.isspace() or not character.isprintable():
            continue
        at = bisect_right(starts, code) - 1
        if at < 0 or code > ranges[at][1]:
            missing.append(character)
    return missing


# words of a character's Unicode name that follow its script's name (ARABIC LETTER ALEF, CJK UNIFIED IDEOGRAPH-65E5)
_AFTER_SCRIPT = ("LETTER", "SYLLABLE", "CHARACTER", "UNIFIED", "COMPATIBILITY", "IDEOGRAPH", "DIGIT", "SIGN", "VOWEL",
                 "LIGATURE", "MARK", "NUMBER", "FRACTION", "CONSONANT", "SYMBOL", "PUNCTUATION", "ITERATION", "SMALL",
                 "CAPITAL", "TONE", "STOP", "COMMA", "FULL", "RADICAL", "STROKE", "INDEPENDENT")


def script_of(character: str) -> str:
    """The script a character belongs to, as its Unicode name says it (Arabic, CJK, Devanagari, Hangul, Thai, ...);
    "symbols" for a character whose name names no script (an emoji, an arrow)."""
    import unicodedata

    words = unicodedata.name(character, "").split()
    cut = next((i for i, w in enumerate(words) if w.split("-")[0] in _AFTER_SCRIPT), None)
    if not cut:
        return "symbols"
    script = " ".join(words[:cut])
    return "CJK" if script in ("CJK", "IDEOGRAPHIC") else script.title()   # 。 IDEOGRAPHIC FULL STOP: CJK text


def characters_without_font_by_script(html: str, ranges: list[tuple[int, int]] | None = None) -> list[tuple]:
    """(script, its characters no installed font has, the chapter where the first of them is) for the report's HTML
    ``html``, scripts in their order of first appearance; the chapter is the text of the last ``<h2>`` heading before
    it (None before the first chapter: the title page). [] when every character has a font or fontconfig cannot be
    asked."""
    import re
    from html import unescape

    missing = characters_without_font(html, ranges)
    headings = [(m.start(), re.sub(r"<[^>]+>", "", unescape(m.group(1))).strip())
                for m in re.finditer(r"<h2[^>]*>(.*?)</h2>", html, flags=re.S)]
    groups: dict[str, tuple[list[str], str | None]] = {}
    for character in missing:
        script = script_of(character)
        if script not in groups:
            at = html.find(character)
            chapter = next((text for start, text in reversed(headings) if start < at), None)
            groups[script] = ([], chapter)
        groups[script][0].append(character)
    return [(script, characters, chapter) for script, (characters, chapter) in groups.items()]
