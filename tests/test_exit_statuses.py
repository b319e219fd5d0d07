"""One rule of exit statuses for every command (README, "Exit codes"): bad or unreadable INPUT -> 2, an output that
could not be WRITTEN -> 1, interrupted -> 130 (143 after SIGTERM; tests/test_concurrency.py). An input that cannot be
read (here a read that fails with EIO, or a reader's OSError) is said as the input's error, never as "could not
write the outputs"; a write that fails is exit 1 for the member-data commands, convert and template as for valuate.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from actuary.cli import main

from .test_hostile_inputs import refused

DEMO = Path(__file__).resolve().parents[1] / "valuations" / "demoland" / "valuation.xlsx"
DISK_FULL = OSError(28, "No space left on device")
# a file whose every read fails with EIO (Linux): what a damaged disk or a vanished network share gives
UNREADABLE = Path("/proc/self/mem")
needs_eio = pytest.mark.skipif(not UNREADABLE.exists(), reason="needs /proc/self/mem (Linux)")


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], terminal_width=400)


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    """300 synthetic members over two years: the folder and synth's manifest."""
    from actuary import Valuation
    from actuary.data.synth import synthesize

    folder = tmp_path_factory.mktemp("extract")
    return folder, synthesize(Valuation.demo(), 300, 4, folder, years=2)


def _data_args(extract, workbook, out, members=None):
    folder, manifest = extract
    files = manifest["files"]
    return ["data", "--members", members or folder / files["insured"], "--pensioners", folder / files["pensioners"],
            "--valuation-date", "2020-01-01", "--weight", repr(manifest["weight"]), "--max-excluded", "0.5",
            "--into", workbook, "--out", out]


def _unreadable_link(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / name
    os.symlink(UNREADABLE, link)   # (a path given on the command line may be a link: what it points at is read)
    return link


# ------------------------------------------------------------------------------------------ reading: exit 2

@needs_eio
@pytest.mark.parametrize("command", [["valuate"], ["sensitivity"], ["solve", "--lever", "contribution_rate",
                                                                    "--target", "actuarial_balance=0"],
                                     ["convert", "{out}/case"], ["synth", "--members", "10"]])
def test_an_input_that_cannot_be_read_is_a_bad_input_not_an_output_not_written(command, tmp_path):
    """Reading the workbook fails (EIO): exit 2 naming it, not exit 1 'could not write the outputs'."""
    workbook = _unreadable_link(tmp_path / "in", "case.xlsx")
    out = tmp_path / "out"
    args = [command[0], workbook, *(a.replace("{out}", str(out)) for a in command[1:])]
    if command[0] != "convert":
        args += ["--out", out]
    text = refused(args, r"case\.xlsx: cannot be read \(Input/output error\)\.", out)
    assert "could not write" not in text


@needs_eio
def test_an_input_hashed_for_the_provenance_that_cannot_be_read_is_its_error(tmp_path):
    from actuary.io.provenance import file_sha256
    from actuary.validation import InputError

    with pytest.raises(InputError, match=r"mem: cannot be read \(Input/output error\)\."):
        file_sha256(UNREADABLE)


def test_member_records_that_cannot_be_read_are_a_bad_input(extract, tmp_path, monkeypatch):
    """An OSError while the records are read (permissions, a disk error) is the input's error, exit 2, naming the
    file: it was reported as one of the outputs (and would now be exit 1)."""
    from actuary.data import sources

    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    before = workbook.read_bytes()

    def denied(source, path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(sources, "_csv_header", denied)
    folder, manifest = extract
    text = refused(_data_args(extract, workbook, tmp_path / "out"), rf"{manifest['files']['insured']}: cannot be "
                                                                     r"read \(Permission denied\)\.", tmp_path)
    assert "could not write" not in text and workbook.read_bytes() == before
    files = manifest["files"]
    refused(["experience", DEMO, "--members", folder / files["insured"], folder / files["insured_next"],
             "--pensioners", folder / files["pensioners"], folder / files["pensioners_next"], "--valuation-date",
             "2020-01-01", "--out", tmp_path / "out"], r"cannot be read \(Permission denied\)\.", tmp_path)


@needs_eio
def test_a_workbook_to_fill_that_cannot_be_read_is_a_bad_input(extract, tmp_path):
    into = _unreadable_link(tmp_path / "in", "case.xlsx")
    text = refused(_data_args(extract, into, tmp_path / "out"), r"case\.xlsx: cannot be read \(Input/output "
                                                                r"error\)\.", tmp_path / "out")
    assert "could not write" not in text


# ------------------------------------------------------------------------------------------ writing: exit 1

def test_data_commands_exit_1_when_their_outputs_cannot_be_written(extract, tmp_path, monkeypatch):
    """data, synth, experience: an output not written is exit 1, as every command's (it was 2, bad input)."""
    from actuary.data import experience, intake, synth

    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    before = workbook.read_bytes()

    def full(*args, **kwargs):
        raise DISK_FULL

    monkeypatch.setattr(intake, "write_checks_workbook", full)
    refused(_data_args(extract, workbook, tmp_path / "out"), r"could not write the outputs \(No space left on "
                                                              r"device\); the files in --out are unchanged\.",
            tmp_path, code=1)
    assert workbook.read_bytes() == before
    monkeypatch.setattr(synth, "_write", full)
    refused(["synth", DEMO, "--members", "20", "--out", tmp_path / "out"], r"No space left on device", tmp_path,
            code=1)
    monkeypatch.setattr(experience, "write_experience_workbook", full)
    folder, manifest = extract
    files = manifest["files"]
    refused(["experience", DEMO, "--members", folder / files["insured"], folder / files["insured_next"],
             "--pensioners", folder / files["pensioners"], folder / files["pensioners_next"], "--valuation-date",
             "2020-01-01", "--out", tmp_path / "out"], r"No space left on device", tmp_path, code=1)


def test_data_templates_exit_1_when_they_cannot_be_written(tmp_path, monkeypatch):
    from actuary.data import layouts

    def full(*args, **kwargs):
        raise DISK_FULL

    monkeypatch.setattr(layouts, "write_templates", full)
    refused(["data", "--templates", tmp_path / "templates"], r"could not write the templates \(No space left on "
                                                              r"device\)", tmp_path, code=1)


def test_template_exits_1_when_the_workbook_cannot_be_written(tmp_path, monkeypatch):
    """actuary template: a workbook not written is exit 1 (it was 2, bad input)."""
    from actuary.valuation import Valuation

    def full(self, *args, **kwargs):
        raise DISK_FULL

    monkeypatch.setattr(Valuation, "to_workbook", full)
    refused(["template", tmp_path / "new.xlsx"], r"new\.xlsx: cannot be written \(No space left on device\)\.",
            tmp_path, code=1)
