"""A run never replaces a file in --out that actuary did not write there, or that changed since it wrote it (the
user's own file under an output's name, a results workbook edited after the run), unless --force: it is refused
before anything is read or computed, with one message naming the file, and the folder is left byte-identical.
actuary's own unchanged outputs are replaced without --force (the everyday rerun). What actuary wrote is recorded
in the folder's manifest (actuary.io.files.MANIFEST), read as hostile."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from actuary import cli
from actuary.cli import main
from actuary.io import files
from actuary.io.files import OutputSet
from actuary.validation import InputError
from actuary.valuation import Valuation

from .test_hostile_inputs import refused, snapshot

DEMO = Path(__file__).resolve().parents[1] / "valuations" / "demoland" / "valuation.xlsx"
MANIFEST = ".actuary-outputs.json"   # the name docs/outputs.md gives it
NO_RECORD = (r"The folder has no record of the outputs actuary wrote there \(\.actuary-outputs\.json; earlier "
             r"versions of actuary kept none\): if this file is an output of actuary that you have not changed, "
             r"--force replaces it once and later runs need no --force\.")


def _ok(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], terminal_width=300)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture
def not_computed(monkeypatch):
    """Reading a case or projecting anything fails the test: a refusal must come before both."""
    def computed(*args, **kwargs):
        raise AssertionError("read or computed before the refusal")

    import actuary.data.synth
    import actuary.demography

    monkeypatch.setattr(cli, "_load_case", computed)
    monkeypatch.setattr(actuary.demography, "project_population", computed)
    monkeypatch.setattr(actuary.data.synth, "synthesize", computed)


@pytest.fixture(scope="module")
def short_case(tmp_path_factory) -> Path:
    """Demoland over five years (quick to value), as a workbook named short.xlsx."""
    path = tmp_path_factory.mktemp("case") / "short.xlsx"
    Valuation.demo().replace(settings={"horizon": 5, "gap_horizons": (5,), "balance_sheet": "no"}).to_workbook(path)
    return path


MISSING = "missing.csv"   # extracts that do not exist: the member-data commands refuse before reading them
COMMANDS = {
    "valuate": (["valuate"], "demoland-results.xlsx"),
    "sensitivity": (["sensitivity"], "demoland-sensitivity.nc"),
    "stochastic": (["stochastic", "--paths", "10"], "demoland-stochastic.xlsx"),
    "solve": (["solve", "--lever", "contribution_rate", "--target", "reserve_ratio>=1"], "demoland-solved.xlsx"),
    "roll-forward": (["roll-forward", "--to", "2023"], "demoland-rolled-2023.xlsx"),
    "compare": (["compare", DEMO], "valuation-comparison.xlsx"),
    "change": (["change", DEMO, DEMO], "valuation-change.nc"),
    "report": (["report"], "demoland-report.html"),
    "population": (["population"], "wpp2019_canada-population.nc"),
    "synth": (["synth", DEMO, "--members", "10"], "errors.csv"),
    "data": (["data", "--members", MISSING, "--pensioners", MISSING, "--valuation-date", "2020-01-01", "--into",
              DEMO], "valuation-data-checks.xlsx"),
    "experience": (["experience", DEMO, "--members", MISSING, MISSING, "--pensioners", MISSING, MISSING,
                    "--valuation-date", "2020-01-01"], "valuation-experience.xlsx"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_users_own_file_is_refused_before_anything_is_computed(command, tmp_path, not_computed):
    """The user's own file under one of the run's output names (an earlier folder's workbook they edited, a file
    of theirs): exit 2, one message naming it and the two ways out, the folder byte-identical (no staging folder
    left, no manifest written), nothing read or computed."""
    args, name = COMMANDS[command]
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_bytes(b"the user's own file")
    (out / "notes.txt").write_text("theirs too")
    text = refused([*args, "--out", out], rf"--out {out}: this run would replace '{re.escape(name)}' \(no record "
                   rf"that actuary wrote it\); nothing was computed or written\. {NO_RECORD} Choose another --out, or give "
                   r"--force to replace it\.", out)
    assert "Traceback" not in text
    assert (out / name).read_bytes() == b"the user's own file"
    assert sorted(p.name for p in out.iterdir()) == sorted([name, "notes.txt"])


def test_every_command_that_writes_into_out_has_force():
    """One option, --force, on every command with an --out, saying what it does in its --help."""
    writing = [name for name, command in main.commands.items() if any(p.name == "out" for p in command.params)]
    assert set(writing) == set(COMMANDS)
    for name in writing:
        force = [p for p in main.commands[name].params if p.name == "force"]
        assert force and force[0].opts == ["--force"] and force[0].is_flag, name
        assert "did not write" in force[0].help and "changed since" in force[0].help, name
        help_text = CliRunner().invoke(main, [name, "--help"], terminal_width=200).output
        assert "--force" in help_text, name
    documented = (Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text(encoding="utf-8")
    section = documented.split("\n## The output folder\n", 1)[1].split("\n## ", 1)[0]
    assert all(re.search(rf"\b{name}\b", section.split(")")[0]) for name in writing), section


def test_rerun_replaces_its_own_outputs_refuses_an_edited_one_and_force_replaces_it(short_case, tmp_path):
    import openpyxl

    out = tmp_path / "out"
    _ok("valuate", short_case, "--out", out)
    first = snapshot(out)
    _ok("valuate", short_case, "--out", out)   # the everyday rerun: actuary's own outputs, unchanged
    second = snapshot(out)
    assert set(second) == set(first) == {MANIFEST, "short-results.xlsx", "short-results.nc"}
    assert second["short-results.nc"] != first["short-results.nc"]   # replaced (another run id)

    workbook = openpyxl.load_workbook(out / "short-results.xlsx")   # the actuary edits the results workbook
    workbook.worksheets[0]["A1"] = "my edit"
    workbook.save(out / "short-results.xlsx")
    refused(["valuate", short_case, "--out", out], r"this run would replace 'short-results\.xlsx' \(changed since "
            r"actuary wrote it on \d{4}-\d\d-\d\d \d\d:\d\d UTC\); nothing was computed or written\. Choose another "
            r"--out, or give --force to replace it\.", out)

    _ok("valuate", short_case, "--out", out, "--force")
    assert openpyxl.load_workbook(out / "short-results.xlsx").worksheets[0]["A1"].value != "my edit"
    _ok("valuate", short_case, "--out", out)   # recorded again: no --force needed any more


def test_force_also_replaces_the_outputs_of_another_file_of_the_same_name(short_case, tmp_path):
    other = tmp_path / "elsewhere" / short_case.name
    other.parent.mkdir()
    shutil.copy(short_case, other)
    out = tmp_path / "out"
    _ok("valuate", short_case, "--out", out)
    refused(["valuate", other, "--out", out], r"holds the results of another input file named 'short\.xlsx' .* or "
            r"give --force to replace them\.", out)
    _ok("valuate", other, "--out", out, "--force")


def test_member_data_outputs_are_recorded_and_replaced_on_a_rerun(tmp_path):
    """synth writes its files as one set: they are recorded, so that the same command run again replaces them
    without --force, and an edited one is refused."""
    out = tmp_path / "extract"
    _ok("synth", DEMO, "--members", "50", "--out", out)
    recorded = files.read_manifest(out)[1]
    assert set(recorded) == {"insured-2020.csv", "pensioners-2020.csv", "controls.csv", "errors.csv",
                             "manifest.json"}
    _ok("synth", DEMO, "--members", "50", "--seed", "1", "--out", out)
    with open(out / "controls.csv", "a") as controls:
        controls.write("my own control,,1,0.02,yes\n")
    refused(["synth", DEMO, "--members", "50", "--out", out], r"'controls\.csv' \(changed since actuary wrote it",
            out)
    _ok("synth", DEMO, "--members", "50", "--out", out, "--force")


def test_member_data_outputs_whose_record_cannot_be_updated_are_said(tmp_path):
    """synth's files are written, but the record of them cannot be (the manifest is a folder): the command says so
    and that the next run will need --force (exit 1, as every command), instead of saying nothing."""
    out = tmp_path / "extract"
    (out / MANIFEST).mkdir(parents=True)
    result = CliRunner().invoke(main, ["synth", str(DEMO), "--members", "50", "--out", str(out)],
                                terminal_width=400)
    text = " ".join(result.output.split())
    assert result.exit_code == 1, (text, result.exception)
    assert (out / "controls.csv").is_file()
    assert re.search(rf"error: --out {re.escape(str(out))}: the outputs were written \(.*controls\.csv.*; any earlier "
                     rf"ones of these names are replaced\), but the folder's record of them "
                     rf"\({re.escape(str(out / MANIFEST))}\) could not be updated \(.*\)\. The next run into this "
                     r"folder will not know them as actuary's and will refuse to replace them unless given --force",
                     text), text


# The output set and its manifest, directly.

def _write(folder: Path, outputs: dict, stores=(), force=False) -> None:
    """An output set of ``outputs`` (name -> bytes; a store: name -> {file: bytes}) committed into ``folder``."""
    with OutputSet(folder, list(outputs), stores=stores, force=force) as written:
        for name, content in outputs.items():
            if isinstance(content, dict):
                for part, data in content.items():
                    (written.path(name) / part).parent.mkdir(parents=True, exist_ok=True)
                    (written.path(name) / part).write_bytes(data)
            else:
                written.path(name).write_bytes(content)
        written.commit()


def _refusal(folder: Path, names, stores=()) -> str:
    with pytest.raises(InputError) as error:
        OutputSet(folder, names, stores=stores).__enter__()
    assert not list(folder.glob(files.STAGING_PREFIX + "*"))
    return str(error.value)


def test_an_output_touched_or_copied_unchanged_is_still_actuarys(tmp_path):
    """A new modification time (touch) or a copy of the folder (new inodes) alone is no change: the content is
    compared (SHA-256). An edit that keeps the size is a change."""
    out = tmp_path / "out"
    _write(out, {"a.nc": b"A" * 1000, "b.xlsx": b"B" * 1000})
    os.utime(out / "a.nc", (1, 1))
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for folder in (out, copy):
        _write(folder, {"a.nc": b"new", "b.xlsx": b"new"})
    (out / "b.xlsx").write_bytes(b"edi")   # same size, other bytes
    assert "'b.xlsx' (changed since actuary wrote it" in _refusal(out, ["a.nc", "b.xlsx"])
    _write(out, {"a.nc": b"new", "b.xlsx": b"forced"}, force=True)
    assert (out / "b.xlsx").read_bytes() == b"forced"


def test_a_store_folder_is_recorded_and_a_file_added_in_it_is_a_change(tmp_path):
    out = tmp_path / "out"
    store = {"x.zarr": {".zmetadata": b"{}", "v/0.0": b"123"}}
    _write(out, store, stores=["x.zarr"])
    _write(out, store, stores=["x.zarr"])   # replaced: unchanged
    (out / "x.zarr" / "v" / "mine").write_bytes(b"")
    assert "'x.zarr' (changed since actuary wrote it" in _refusal(out, ["x.zarr"], stores=["x.zarr"])


def test_a_link_under_an_output_name_is_not_actuarys_and_force_replaces_the_link_only(tmp_path):
    out = tmp_path / "out"
    _write(out, {"a.nc": b"actuary's"})
    target = tmp_path / "precious.txt"
    target.write_bytes(b"precious")
    (out / "b.nc").symlink_to(target)
    assert "'b.nc' (not written by actuary)" in _refusal(out, ["b.nc"])   # the folder's manifest does not list it
    _write(out, {"b.nc": b"new"}, force=True)
    assert not (out / "b.nc").is_symlink() and target.read_bytes() == b"precious"


@pytest.mark.parametrize("manifest", ["not json", "folder", "link", "too large", "wrong format", "bad records"])
def test_a_hostile_manifest_is_read_safely_and_replaces_nothing(manifest, tmp_path):
    out = tmp_path / "out"
    _write(out, {"a.nc": b"actuary's"})
    path = out / MANIFEST
    good = path.read_text()
    path.unlink()
    if manifest == "not json":
        path.write_bytes(b"\xff{[" * 100)
    elif manifest == "folder":
        path.mkdir()
    elif manifest == "link":
        (tmp_path / "elsewhere.json").write_text(good)
        path.symlink_to(tmp_path / "elsewhere.json")
    elif manifest == "too large":
        with open(path, "wb") as handle:
            handle.truncate(files.MANIFEST_LIMIT + 1)
    elif manifest == "wrong format":
        path.write_text(json.dumps({"format": 99, "outputs": json.loads(good)["outputs"]}))
    else:
        document = json.loads(good)
        record = document["outputs"]["a.nc"]
        document["outputs"] = {"a.nc": {**record, "size": "9"}, "../x": record, "b.nc": [1]}
        path.write_text(json.dumps(document))
    text = _refusal(out, ["a.nc"])
    if manifest in ("not json", "folder", "link", "too large", "wrong format"):   # no record of what actuary wrote
        assert "'a.nc' (no record that actuary wrote it)" in text and "not written by actuary" not in text
    else:   # a record that does not list it (its entry is not well-formed)
        assert "'a.nc' (not written by actuary)" in text
    if manifest in ("not json", "folder", "link", "too large", "wrong format"):
        assert f"The folder's record of the outputs actuary wrote there ({MANIFEST}) cannot be read." in text
    if manifest != "folder":
        _write(out, {"a.nc": b"forced"}, force=True)   # the manifest written anew
        assert set(files.read_manifest(out)[1]) == {"a.nc"} and not path.is_symlink()


def test_a_manifest_that_cannot_be_updated_is_said_with_the_outputs_in_place(tmp_path):
    """The outputs are moved into place before the manifest: when it cannot be replaced (here a folder of its name;
    also a file made immutable) the error says the outputs were written, names them and the record, and that the
    next run will need --force; it does not say the earlier outputs are unchanged (they are not)."""
    out = tmp_path / "out"
    (out / MANIFEST).mkdir(parents=True)
    with pytest.raises(files.RecordNotUpdated) as error:
        _write(out, {"a.nc": b"new a", "b.nc": b"new b"})
    text = str(error.value)
    assert not isinstance(error.value, OSError)
    assert (out / "a.nc").read_bytes() == b"new a" and (out / "b.nc").read_bytes() == b"new b"
    assert f"the outputs were written ({out / 'a.nc'}, {out / 'b.nc'};" in text
    assert f"the folder's record of them ({out / MANIFEST}) could not be updated (" in text
    assert "will refuse to replace them unless given --force" in text and "unchanged" not in text
    assert not list(out.glob(files.STAGING_PREFIX + "*")) and not list(out.glob(MANIFEST + ".*"))
    assert [p.name for p in files.outputs_moved()[-2:]] == ["a.nc", "b.nc"]


def test_the_command_line_says_the_outputs_are_written_when_their_record_is_not(short_case, tmp_path):
    out = tmp_path / "out"
    (out / MANIFEST).mkdir(parents=True)
    result = CliRunner().invoke(main, ["valuate", str(short_case), "--out", str(out)], terminal_width=400)
    text = " ".join(result.output.split())
    assert result.exit_code == 1, (text, result.exception)
    assert f"error: --out {out}: the outputs were written ({out / 'short-results.xlsx'}" in text
    assert "earlier outputs are unchanged" not in text and "Traceback" not in text
    assert "Wrote" not in text   # the error names what was written, once
    assert (out / "short-results.xlsx").is_file()


def test_the_manifest_forgets_outputs_that_are_gone_and_keeps_the_others(tmp_path):
    out = tmp_path / "out"
    _write(out, {"a.nc": b"a"})
    _write(out, {"b.nc": b"b"})
    (out / "a.nc").unlink()
    _write(out, {"c.nc": b"c"})
    assert sorted(files.read_manifest(out)[1]) == ["b.nc", "c.nc"]


def test_a_file_that_appears_while_the_run_computes_is_refused_at_the_commit(tmp_path):
    """Checked again under the folder's lock as the set is moved into place: a file the user saved there during the
    run stops the commit (nothing moved, the staging folder removed)."""
    out = tmp_path / "out"
    _write(out, {"a.nc": b"a"})
    with pytest.raises(InputError, match=r"while this run was computing, 'b\.nc' \(not written by actuary\) "
                                         r"appeared or changed there; the run's outputs were not written"):
        with OutputSet(out, ["a.nc", "b.nc"]) as outputs:
            outputs.path("a.nc").write_bytes(b"new a")
            outputs.path("b.nc").write_bytes(b"new b")
            (out / "b.nc").write_bytes(b"saved by the user meanwhile")
            outputs.commit()
    assert snapshot(out) == {MANIFEST: (out / MANIFEST).read_bytes(), "a.nc": b"a",
                             "b.nc": b"saved by the user meanwhile"}


def test_outputs_are_hashed_no_further_than_the_recorded_size(tmp_path, monkeypatch):
    """A file grown far beyond what actuary wrote is a change known from its size: its content is not read."""
    out = tmp_path / "out"
    _write(out, {"a.nc": b"a" * 10})
    with open(out / "a.nc", "ab") as handle:
        handle.truncate(1 << 30)

    def never(*args, **kwargs):
        raise AssertionError("read")

    monkeypatch.setattr(files, "_file_sha256", never)
    assert "'a.nc' (changed since actuary wrote it" in _refusal(out, ["a.nc"])


def test_an_optional_output_left_unwritten_takes_an_earlier_one_of_actuarys_away_only(tmp_path):
    """An optional output (actuary data's records CSV) that a run does not write: the earlier run's, actuary's and
    unchanged, goes with its set (and its record); one changed since, or the user's own, stays; a required output
    left unwritten is a programming error, nothing moved."""
    out = tmp_path / "out"

    def run(outputs: dict, force=False):
        with OutputSet(out, ["a.xlsx", "b.csv"], optional=["b.csv"], force=force) as written:
            for name, content in outputs.items():
                written.path(name).write_bytes(content)
            return written.commit()

    assert run({"a.xlsx": b"1", "b.csv": b"1"}) == [out / "a.xlsx", out / "b.csv"]
    assert run({"a.xlsx": b"2"}) == [out / "a.xlsx"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.xlsx"]
    assert set(files.read_manifest(out)[1]) == {"a.xlsx"}
    run({"a.xlsx": b"3", "b.csv": b"3"})
    (out / "b.csv").write_bytes(b"edited")
    run({"a.xlsx": b"4"}, force=True)
    assert (out / "b.csv").read_bytes() == b"edited" and (out / "a.xlsx").read_bytes() == b"4"
    with pytest.raises(RuntimeError, match="outputs not written"):
        run({"b.csv": b"5"}, force=True)
    assert (out / "a.xlsx").read_bytes() == b"4"


@pytest.mark.parametrize("where", ["_try_lock", "remove_orphan_staging"])
def test_a_ctrl_c_while_the_output_set_opens_leaves_no_staging_folder(tmp_path, monkeypatch, where):
    """A Ctrl-C after the staging folder is made but before the output set is open (its lock being taken, the
    orphans of killed runs being swept): the with statement does not call __exit__ then, so the opening cleans up
    itself. Seen on a clean run: `actuary stochastic` interrupted at once left .actuary-staging-*/.lock behind."""
    original = getattr(files, where)

    def interrupted(*args, **kwargs):
        original(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(files, where, interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with OutputSet(out, ["a.txt"]):
            pass
    # no staging folder; and the folder the run created, left empty, is removed too
    assert not out.exists(), sorted(str(p.relative_to(out)) for p in out.rglob("*"))
