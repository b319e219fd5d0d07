"""``actuary convert SOURCE TARGET``: a valuation workbook as a case folder and back, the actuary's report text with
it (the command's options are declared in :mod:`actuary.cli`).

SOURCE is read as every command reads a case (checked whole: a case that would not run is not converted). TARGET is
a workbook when its name ends in .xlsx, otherwise a case folder. A folder is written whole or not at all: into a
hidden staging folder beside it, renamed into place at the end; it must not exist or be empty (nothing of a folder
is ever replaced). A workbook is written to a temporary file and renamed; an existing file is replaced only with
``--force``, as ``actuary template`` does."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .validation import InputError


NOT_IN_A_FOLDER = {"Scenarios": "actuary sensitivity runs without its scenarios",
                   "Stochastic": "actuary stochastic runs on the default parameters",
                   "Reforms": "actuary compare and report run without its options",
                   "Analysis of change": "actuary change runs its default steps"}


def sheets_left_behind(valuation) -> list[str]:
    """The sheets of the workbook ``valuation`` was read from (as the reader recorded them) that a case folder does
    not hold: those of :data:`NOT_IN_A_FOLDER` (read by other commands) and the user's own Notes sheets."""
    from .io.workbook import NOTES_PREFIX

    present = (valuation.source or {}).get("sheets", [])
    return [s for s in present if s in NOT_IN_A_FOLDER or s.startswith(NOTES_PREFIX)]


def _write_folder(valuation, text, target: Path) -> int:
    """``valuation`` and ``text`` as the case folder ``target`` (new or empty), written whole or not at all; returns
    the number of files."""
    if target.exists() and (not target.is_dir() or target.is_symlink() or any(target.iterdir())):
        raise InputError(f"{target}: exists and is not an empty folder; a case folder is written only as a new or "
                         "empty folder (nothing of a folder is replaced). Give another path, or empty it first.")
    parent = target.parent
    if not parent.is_dir():
        raise InputError(f"{target}: its folder {parent} does not exist.")
    staging = Path(tempfile.mkdtemp(prefix=".actuary-convert-", dir=parent))
    try:
        from .io.folder import write_valuation_folder

        written = write_valuation_folder(valuation, staging / "case", text=text)
        if target.exists():
            target.rmdir()   # empty (checked above): replaced by the staged folder
        os.replace(staging / "case", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(written)


def run_convert(source: Path, target: Path, force: bool) -> None:
    """``actuary convert`` (:func:`actuary.cli.convert_command`)."""
    from .cli import _load_case, _wrote

    from .io.files import same_file

    to_workbook = target.suffix.lower() == ".xlsx"
    if same_file(target, source):   # the same file under another name too (a hard link): it would be replaced
        alias = "" if os.path.abspath(target) == os.path.abspath(source) else " (the same file under another name)"
        raise InputError(f"{target}: is SOURCE {source} itself{alias}; convert would replace the case it reads. "
                         "Give another TARGET.")
    if to_workbook:
        if target.is_dir():
            raise InputError(f"{target}: is a folder; give the path of the workbook to write (ending in .xlsx).")
        if os.path.lexists(target) and not force:
            raise InputError(f"{target}: exists; convert never replaces a file silently. Give another path, or "
                             "--force to replace it.")
    elif target.suffix:
        raise InputError(f"{target}: expected a workbook (a name ending in .xlsx) or a case folder (a name without "
                         f"an extension); '{target.suffix}' is neither.")
    _, valuation = _load_case(source)
    text = valuation.report_text   # read with the case (the workbook's Report text sheet, the folder's CSV)
    try:
        if to_workbook:
            from rich.markup import escape

            from .io.carried import kept_text

            valuation.to_workbook(target, text=text)
            _wrote(target, "the case as a valuation workbook, its report text in the Report text sheet"
                   + escape(kept_text(valuation.carried_sheets)))
        else:
            behind = [] if source.is_dir() else sheets_left_behind(valuation)
            files = _write_folder(valuation, text, target)
            _wrote(target, f"the case as a case folder: valuation.json, {files - 2} CSV tables and report_text.csv")
            if behind:
                from rich.markup import escape

                from .cli import note

                said = "; ".join(f"{sheet} ({NOT_IN_A_FOLDER[sheet]} on the folder)" if sheet in NOT_IN_A_FOLDER
                                 else sheet for sheet in behind)
                note(f"[bold yellow]note:[/] a case folder holds the valuation's inputs and the report text, not the "
                     f"sheets {escape(said)} of {escape(source.name)}: keep the workbook for them.")
    except OSError as error:   # an output not written: exit 1, as every command's (2 is for bad input)
        from .cli import WRITE_FAILED, fail

        fail(f"{target}: cannot be written ({error.strerror or error}).", WRITE_FAILED)
