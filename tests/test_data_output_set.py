"""`actuary data`, `actuary synth` and `actuary experience` write their outputs as one set (actuary.io.files.OutputSet),
like every command: a run that fails half-way leaves the output folder (and the workbook `data` fills) exactly as it
was; a file created under an output's name during the run is never replaced silently; a file of an output's name
that actuary did not write is refused naming it unless --force; a rerun over its own outputs replaces them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from actuary.cli import main
from actuary.io.files import MANIFEST, STAGING_PREFIX, read_manifest

from .test_hostile_inputs import refused, snapshot

DEMO = Path(__file__).resolve().parents[1] / "valuations" / "demoland" / "valuation.xlsx"
DISK_FULL = OSError(28, "No space left on device")


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    """2,000 synthetic members over two years with 2% planted errors (records hit by the checks): the folder and
    synth's manifest."""
    from actuary import Valuation
    from actuary.data.synth import synthesize

    folder = tmp_path_factory.mktemp("extract")
    return folder, synthesize(Valuation.demo(), 2000, 4, folder, errors=0.02, years=2)


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], terminal_width=400)


def _ok(*args) -> str:
    result = _run(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _data_args(extract, workbook, out, *more):
    folder, manifest = extract
    files = manifest["files"]
    return ["data", "--members", folder / files["insured"], "--pensioners", folder / files["pensioners"],
            "--valuation-date", "2020-01-01", "--weight", repr(manifest["weight"]), "--max-excluded", "0.5",
            "--into", workbook, "--out", out, *more]


def _experience_args(extract, out, *more):
    folder, manifest = extract
    files = manifest["files"]
    return ["experience", DEMO, "--members", folder / files["insured"], folder / files["insured_next"],
            "--pensioners", folder / files["pensioners"], folder / files["pensioners_next"], "--valuation-date",
            "2020-01-01", "--out", out, *more]


def _failing_after(function, error=DISK_FULL, calls: int = 1):
    """``function`` run ``calls`` times as it is (the first file written), then failing with ``error``."""
    done = []

    def wrapped(*args, **kwargs):
        if len(done) >= calls:
            raise error
        done.append(True)
        return function(*args, **kwargs)
    return wrapped


def _failing_once_written(function, error=DISK_FULL):
    """``function`` run as it is (its file written), then failing with ``error``."""
    def wrapped(*args, **kwargs):
        function(*args, **kwargs)
        raise error
    return wrapped


def _no_staging_left(folder: Path) -> None:
    assert not list(folder.glob(STAGING_PREFIX + "*"))


def test_synth_failing_after_its_first_file_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    """The insured extract written, the pensioners' fails (disk full): the earlier extracts, errors.csv, manifest.json
    and the folder's record are byte-identical (the insured file was replaced at once: the folder held a mixed
    set)."""
    from actuary.data import synth

    out = tmp_path / "extract"
    _ok("synth", DEMO, "--members", "300", "--seed", "1", "--out", out)
    monkeypatch.setattr(synth, "_write", _failing_after(synth._write))
    refused(["synth", DEMO, "--members", "300", "--seed", "2", "--out", out], r"could not write the outputs \(No space left on device\); the files in --out are unchanged\.", tmp_path, code=1)
    _no_staging_left(out)


def test_data_failing_after_its_records_csv_leaves_the_folder_and_workbook_as_they_were(extract, tmp_path,
                                                                                          monkeypatch):
    """More records hit than the sheet holds: the records CSV (DuckDB's COPY) is written first, then the checks
    workbook fails: no records CSV appears, the earlier checks workbook and the record are unchanged, the workbook
    of --into is not filled."""
    from actuary.data import intake

    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    out = tmp_path / "out"
    _ok(*_data_args(extract, workbook, out))
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "case-data-checks.xlsx"]
    monkeypatch.setattr(intake, "MAX_SHEET_ROWS", 3)
    monkeypatch.setattr(intake, "write_checks_workbook", _failing_after(intake.write_checks_workbook, calls=0))
    copied, copy_csv = [], intake.copy_csv

    def copy(con, query, path):
        copy_csv(con, query, path)
        copied.append(Path(path))

    monkeypatch.setattr(intake, "copy_csv", copy)
    refused(_data_args(extract, workbook, out), r"could not write the outputs \(No space left on device\); the files in --out are unchanged\.", tmp_path, code=1)
    assert [p.name for p in copied] == ["case-data-checks-records.csv"]   # it was written (in the staging folder)
    _no_staging_left(out)


def test_data_failing_as_it_fills_the_workbook_leaves_the_checks_unwritten(extract, tmp_path, monkeypatch):
    """The checks workbook written, the filled workbook fails to be prepared: nothing is moved into --out (the checks
    of this run would say the workbook was filled)."""
    from actuary.data import intake

    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    out = tmp_path / "out"
    _ok(*_data_args(extract, workbook, out))
    monkeypatch.setattr(intake, "_fill_salary_scale", _failing_after(intake._fill_salary_scale, calls=0))
    refused(_data_args(extract, workbook, out), r"could not write the outputs \(No space left on device\); the files in --out are unchanged\.", tmp_path, code=1)
    _no_staging_left(out)


def test_experience_failing_once_its_workbook_is_written_leaves_the_folder_as_it_was(extract, tmp_path,
                                                                                      monkeypatch):
    from actuary.data import experience

    out = tmp_path / "out"
    _ok(*_experience_args(extract, out))
    monkeypatch.setattr(experience, "write_experience_workbook",
                        _failing_once_written(experience.write_experience_workbook))
    refused(_experience_args(extract, out), r"could not write the outputs \(No space left on device\); the files in --out are unchanged\.", tmp_path, code=1)
    _no_staging_left(out)


def test_a_file_created_under_an_outputs_name_during_the_run_is_not_replaced(tmp_path, monkeypatch):
    """Someone saves errors.csv into --out while synth draws: the run is refused at its commit, naming it; their
    file is as they wrote it and nothing of the run is there."""
    from actuary.data import synth

    out = tmp_path / "extract"
    out.mkdir()
    original = synth._write

    def meanwhile(*args, **kwargs):
        if not (out / "errors.csv").exists():
            (out / "errors.csv").write_text("their own\n")
        return original(*args, **kwargs)

    monkeypatch.setattr(synth, "_write", meanwhile)
    result = _run("synth", DEMO, "--members", "300", "--out", out)
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert (f"--out {out}: while this run was computing, 'errors.csv' (no record that actuary wrote it) appeared or changed "
            "there; the run's outputs were not written and the files there are unchanged." in text), text
    assert sorted(p.name for p in out.iterdir()) == ["errors.csv"]
    assert (out / "errors.csv").read_text() == "their own\n"


@pytest.mark.parametrize("command", ["data", "experience", "synth"])
def test_a_foreign_file_is_refused_naming_it_and_replaced_with_force_and_a_rerun_replaces_its_own(
        command, extract, tmp_path):
    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    out = tmp_path / "out"
    args, name = {"data": (_data_args(extract, workbook, out), "case-data-checks.xlsx"),
                  "experience": (_experience_args(extract, out), "valuation-experience.xlsx"),
                  "synth": (["synth", DEMO, "--members", "300", "--out", out], "manifest.json")}[command]
    out.mkdir()
    (out / name).write_bytes(b"mine")
    refused(args, rf"this run would replace '{name}' \(no record that actuary wrote it\); nothing was computed or "
                  r"written\..* give --force to replace it\.", tmp_path)
    _ok(*args, "--force")
    assert (out / name).read_bytes() != b"mine"
    written = snapshot(out)
    assert set(read_manifest(out)[1]) == {n for n in written if n != MANIFEST}
    _ok(*args)   # its own outputs, unchanged: replaced without --force
    assert set(snapshot(out)) == set(written)
    _no_staging_left(out)


def test_an_earlier_records_csv_goes_with_its_set(extract, tmp_path, monkeypatch):
    """The records CSV is written only beyond the sheet's limit: a rerun that writes none removes the earlier run's
    (actuary's, unchanged: it listed records no longer hit), but never a user's file of that name."""
    from actuary.data import intake

    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr(intake, "MAX_SHEET_ROWS", 3)
        _ok(*_data_args(extract, workbook, out))
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "case-data-checks-records.csv",
                                                     "case-data-checks.xlsx"]
    _ok(*_data_args(extract, workbook, out))
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "case-data-checks.xlsx"]
    assert set(read_manifest(out)[1]) == {"case-data-checks.xlsx"}
    (out / "case-data-checks-records.csv").write_text("my notes\n")
    _ok(*_data_args(extract, workbook, out, "--force"))
    assert (out / "case-data-checks-records.csv").read_text() == "my notes\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_a_full_disk_under_duckdbs_copy_is_said_and_leaves_the_folder_as_it_was(extract, tmp_path, monkeypatch):
    """DuckDB's COPY of the records CSV meets a full disk: the message names the output where it was going (not the
    staging folder) and says that --out is unchanged (DuckDB's IOException was a traceback), exit 2."""
    import contextlib

    from actuary.data import csvout, intake

    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    out = tmp_path / "out"
    _ok(*_data_args(extract, workbook, out))

    @contextlib.contextmanager
    def full(path):
        yield Path("/dev/full")

    monkeypatch.setattr(intake, "MAX_SHEET_ROWS", 3)
    monkeypatch.setattr(csvout, "atomic_path", full)
    refused(_data_args(extract, workbook, out), rf"error: {re.escape(str(out / 'case-data-checks-records.csv'))}: No "
                                                r"space left on device; the outputs were not written and the files in "
                                                r"--out are unchanged\.", tmp_path, code=1)
    _no_staging_left(out)


def test_ctrl_c_after_synths_first_file_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    """Ctrl-C once the insured extract is written: exit 130, the earlier set byte-identical, no staging folder."""
    from actuary.data import synth

    out = tmp_path / "extract"
    _ok("synth", DEMO, "--members", "300", "--seed", "1", "--out", out)
    before = snapshot(tmp_path)
    monkeypatch.setattr(synth, "_write", _failing_after(synth._write, KeyboardInterrupt()))
    result = _run("synth", DEMO, "--members", "300", "--seed", "2", "--out", out)
    assert result.exit_code == 130, (result.output, result.exception)
    assert snapshot(tmp_path) == before
