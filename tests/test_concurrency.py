"""Outputs as sets: concurrent runs into one output folder, a failure after the first file is written,
Ctrl-C during a stochastic run (in process and on a local Dask cluster). In every case each output name
holds the files of one single run, earlier outputs stay byte-identical and no temporary file remains."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import CancelledError
from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

from actuary.cli import main
from actuary.io import files
from actuary.io.provenance import read_about_sheet
from actuary.validation import InputError
from actuary.valuation import DEMOLAND

from .test_hostile_inputs import snapshot

CLI = [sys.executable, "-m", "actuary.cli"]
PROGRAM = [str(Path(sys.executable).with_name("actuary"))]   # the installed program (pip's console script)
DEMO_WORKBOOK = DEMOLAND / "valuation.xlsx"


def run_id(folder: Path, name: str, data: str = "results.nc") -> tuple[str, str]:
    """The run id in the workbook's About sheet and in the data file's attributes."""
    about = read_about_sheet(folder / f"{name}-{data.split('.')[0]}.xlsx")
    with xr.open_dataset(folder / f"{name}-{data}") as ds:
        return about["run_id"], ds.attrs["provenance_run_id"]


@pytest.fixture(scope="module")
def concurrent_runs(tmp_path_factory):
    """Eight `actuary valuate` processes started together into one --out: four for each of two names."""
    out = tmp_path_factory.mktemp("concurrent") / "out"
    processes = [subprocess.Popen(CLI + ["valuate", "--out", str(out), "--name", f"case{i % 2}"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(8)]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in processes]
    for p in processes:
        p.stdout.close()
        p.stderr.close()
    return out, results


def test_eight_concurrent_runs_leave_one_run_per_output_name(concurrent_runs):
    out, results = concurrent_runs
    assert all(code == 0 for code, _, _ in results), [(c, e[-500:]) for c, _, e in results]
    assert sorted(p.name for p in out.iterdir()) == [".actuary-outputs.json", "case0-results.nc", "case0-results.xlsx",
                                                       "case1-results.nc", "case1-results.xlsx"]
    written = ["case0-results.nc", "case0-results.xlsx", "case1-results.nc", "case1-results.xlsx"]
    assert sorted(files.read_manifest(out)[1]) == written   # each run's record kept (updated under the lock)
    assert files.replace_refusal(out, written) is None       # and each the record of the files in place
    for name in ("case0", "case1"):
        in_workbook, in_data = run_id(out, name)
        assert in_workbook == in_data, name


def test_run_records_its_command_line(concurrent_runs):
    out, _ = concurrent_runs
    about = read_about_sheet(out / "case0-results.xlsx")
    assert about["command"] == f"python -m actuary.cli valuate --out {out} --name case0"


def test_failure_writing_the_second_file_leaves_earlier_outputs(tmp_path, monkeypatch):
    """The results workbook is written, then the netCDF file fails (disk full): the earlier set stays."""
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["valuate", "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = snapshot(out)

    def disk_full(self, *args, **kwargs):
        assert (Path(args[0]).parent / "demoland-results.xlsx").exists()  # the first file is written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", disk_full)
    result = CliRunner().invoke(main, ["valuate", "--out", str(out)], terminal_width=300)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "could not write the outputs (No space left on device); earlier outputs are unchanged" in \
        " ".join(result.output.split())
    assert snapshot(out) == before


INTERRUPTED = "interrupted: stopped at Ctrl-C; nothing was written (earlier outputs are unchanged)."


def _said(stdout: str, stderr: str) -> list[str]:
    """The run's lines on standard error other than the interpreter's warnings, once it is checked that the
    interruption is not said on standard output (it goes to standard error, with the errors)."""
    assert "interrupted" not in stdout, stdout
    return [line for line in stderr.splitlines() if line.strip() and "Warning" not in line and not line.startswith(" ")]


def _worker_started(process: subprocess.Popen) -> bool:
    """Whether the run has started a process of its own (the first of its local Dask cluster)."""
    import psutil

    try:
        return bool(psutil.Process(process.pid).children())
    except psutil.NoSuchProcess:
        return False


def _handler_installed(process: subprocess.Popen) -> bool:
    """Whether the program has put its startup handler in place (:mod:`actuary.cli_startup`, the first thing
    ``import actuary`` does): SIGTERM is then caught (its bit in the ``SigCgt`` mask of /proc/PID/status), which
    Python itself never does. Before that moment the interpreter is still starting: a Ctrl-C then is Python's
    own (a KeyboardInterrupt traceback), a window of some tens of milliseconds that no program can close."""
    try:
        with open(f"/proc/{process.pid}/status") as status:
            caught = next(line.split()[1] for line in status if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(int(caught, 16) >> (signal.SIGTERM - 1) & 1)


def _ignoring_ctrl_c():
    """In the child before it runs the program: SIGINT ignored, as a shell without job control (a script) leaves
    it for the commands it starts in the background."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ctrl_c(args: list[str], after: float, reached=None, ignored: bool = False, program: list[str] = CLI,
            terminate: bool = False):
    """Start `actuary ARGS` (``program``: python -m actuary.cli, or PROGRAM) in its own session (``ignored``: with
    SIGINT ignored), wait until ``reached(process)`` (if given) and ``after`` seconds more, press Ctrl-C (SIGINT
    to the whole process group, as a terminal does; ``terminate``: SIGTERM to the program's process alone, as
    ``kill PID`` or ``timeout`` do); (exit status, stdout, stderr)."""
    process = subprocess.Popen(program + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=_ignoring_ctrl_c if ignored else None)
    try:
        deadline = time.monotonic() + 120
        while reached is not None and not reached(process) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(after)
        if terminate:
            os.kill(process.pid, signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        if terminate:   # the program's own processes (its Dask workers) end with it
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.killpg(process.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("processes of the stopped run are still alive 30 s after it ended")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode, stdout, stderr


def _interrupt(out: Path, extra: list[str], moment: str, after: float, program: list[str] = CLI,
               terminate: bool = False):
    """`actuary stochastic` stopped by Ctrl-C (``terminate``: SIGTERM) ``after`` seconds after ``moment``: its
    staging folder appears, or its first worker process starts."""
    reached = {"staging": lambda process: glob.glob(str(out / ".actuary-staging-*")), "worker": _worker_started}
    return _ctrl_c(["stochastic", "--paths", "10000000", "--out", str(out), *extra], after, reached[moment],
                   program=program, terminate=terminate)


def _written_by_actuary(out: Path, outputs: dict) -> None:
    """Files ``outputs`` (name -> bytes) in ``out`` as a run writes them (recorded in the folder's manifest, so that
    the next run may replace them)."""
    with files.OutputSet(out, list(outputs)) as written:
        for name, content in outputs.items():
            written.path(name).write_bytes(content)
        written.commit()


def _earlier_outputs(out: Path, kind: str = "stochastic") -> dict:
    """Outputs of an earlier run in ``out`` (their bytes stand for them) and a snapshot of the folder."""
    out.mkdir()
    _written_by_actuary(out, {name: b"earlier output " + name.encode()
                              for name in (f"demoland-{kind}.xlsx", f"demoland-{kind}.nc")})
    return snapshot(out)


# Ctrl-C at moments that find the run doing different things (which ones depends on the machine's load and on
# whether Numba's cache is warm): reading the workbook and compiling or loading the kernels, running paths; with
# two workers, starting the local Dask cluster and running paths on it. Whatever the moment, the run stops with
# the one line, exit 130, and leaves the earlier outputs as they were.
@pytest.mark.parametrize("extra,moment,after,program", [
    ([], "staging", 0.0, CLI), ([], "staging", 0.5, CLI), ([], "staging", 4.0, CLI),
    (["--workers", "2"], "worker", 0.3, CLI), (["--workers", "2"], "staging", 8.0, PROGRAM)],
    ids=["in process, at once", "in process, 0.5 s", "in process, paths running", "two workers, cluster starting",
         "two workers, paths running (the actuary program)"])
def test_ctrl_c_during_stochastic(extra, moment, after, program, tmp_path):
    """(The worker processes of the ``actuary`` program are started with its command line, sys.argv: they must not
    take themselves for it and say the line too.)"""
    if not Path(program[0]).exists():
        pytest.skip(f"no {program[0]}: actuary is not installed as a program in this environment")
    out = tmp_path / "out"
    before = _earlier_outputs(out)
    code, stdout, stderr = _interrupt(out, extra, moment, after, program)
    assert code == 130, (stdout, stderr)
    assert _said(stdout, stderr) == [INTERRUPTED], (stdout, stderr)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert snapshot(out) == before


@pytest.mark.parametrize("extra,moment,after", [
    ([], "staging", 4.0), (["--workers", "2"], "worker", 0.3), (["--workers", "2"], "staging", 8.0)],
    ids=["in process, paths running", "two workers, cluster starting", "two workers, paths running"])
def test_sigterm_ends_the_run_as_ctrl_c_does(extra, moment, after, tmp_path):
    """SIGTERM (kill PID, timeout, a batch system ending a job) to the program alone: the one line, exit 143
    (128 + SIGTERM), no staging folder left behind, the earlier outputs as they were and no process of the run
    left alive (its Dask workers end with it)."""
    out = tmp_path / "out"
    before = _earlier_outputs(out)
    code, stdout, stderr = _interrupt(out, extra, moment, after, terminate=True)
    assert code == 143, (stdout, stderr)
    assert _said(stdout, stderr) == ["interrupted: stopped by SIGTERM; nothing was written (earlier outputs are "
                                     "unchanged)."], (stdout, stderr)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert snapshot(out) == before


def _ctrl_c_then(error: BaseException, chained: bool):
    """A stand-in for a library call that Ctrl-C stops (the SIGINT is real) and that turns the KeyboardInterrupt
    into ``error``: raised while handling it (``chained``), or later after swallowing it, as Numba does when a
    Ctrl-C arrives during a compilation (the KeyboardInterrupt is dropped in an LLVM callback and the compilation
    then fails with a RuntimeError)."""
    def call(*args, **kwargs):
        stopped = False
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            if chained:
                raise error from None
            stopped = True
        assert stopped, "Ctrl-C did not stop the call"
        raise error
    return call


@pytest.mark.parametrize("error,chained", [
    (RuntimeError("no compiled object yet for <Library 'kernel'>"), False),
    (OSError(5, "Input/output error"), True),
    (CancelledError("run_chunk-1234"), True),
    (InputError("a message that is not the reason"), False)],
    ids=["swallowed, then RuntimeError", "OSError", "CancelledError", "InputError"])
def test_ctrl_c_reported_whatever_error_follows_it(error, chained, tmp_path, monkeypatch):
    """A Ctrl-C that a library turns into another error (during the netCDF write here: the results workbook is
    already staged) ends the run as interrupted: not exit 1 (could not write) or 2 (bad input)."""
    out = tmp_path / "out"
    before = _earlier_outputs(out, "results")
    monkeypatch.setattr(xr.Dataset, "to_netcdf", _ctrl_c_then(error, chained))
    result = CliRunner().invoke(main, ["valuate", "--out", str(out)], terminal_width=300)
    assert result.exit_code == 130, result.output
    assert result.output.strip() == INTERRUPTED
    assert snapshot(out) == before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # the command's handler is gone


def _replace_with_ctrl_c(real, folder: Path):
    """``os.replace`` that gets a real Ctrl-C (SIGINT to this process) as it moves the first file into ``folder``."""
    moved = []

    def replace(source, target):
        if not moved and Path(target).parent == folder:
            os.kill(os.getpid(), signal.SIGINT)
            moved.append(target)
        return real(source, target)
    return replace


def test_ctrl_c_while_a_set_is_moved_into_place_moves_it_whole(tmp_path, monkeypatch):
    """A Ctrl-C as the first output of a set is moved into place: the rest follow, then the KeyboardInterrupt (never
    half a set, some files new and some old)."""
    out = tmp_path / "out"
    out.mkdir()
    names = ["a.txt", "b.txt", "c.txt"]
    _written_by_actuary(out, {name: b"earlier" for name in names})
    monkeypatch.setattr(files.os, "replace", _replace_with_ctrl_c(os.replace, out))
    with pytest.raises(KeyboardInterrupt):
        with files.OutputSet(out, names) as outputs:
            for name in names:
                outputs.path(name).write_text(f"new {name}")
            outputs.commit()
    after = snapshot(out)
    assert sorted(files.read_manifest(out)[1]) == names   # the set is recorded whole too
    assert {n: c for n, c in after.items() if n != files.MANIFEST} == {name: f"new {name}".encode() for name in names}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_once_the_outputs_are_in_place_says_they_were_written(tmp_path, monkeypatch):
    """`actuary valuate` stopped by a Ctrl-C that arrives as its outputs are moved into place: exit 130, and the
    line says which outputs were written (all of them), not that nothing was."""
    out = tmp_path / "out"
    before = _earlier_outputs(out, "results")
    monkeypatch.setattr(files.os, "replace", _replace_with_ctrl_c(os.replace, out))
    result = CliRunner().invoke(main, ["valuate", "--out", str(out)], terminal_width=300)
    assert result.exit_code == 130, result.output
    assert result.output.strip() == (f"interrupted: stopped at Ctrl-C after the outputs were written: "
                                     f"{out / 'demoland-results.xlsx'}, {out / 'demoland-results.nc'}.")
    after = snapshot(out)
    assert set(after) == set(before) and all(after[name] != before[name] for name in before)


TERMINATED = "interrupted: stopped by SIGTERM; nothing was written (earlier outputs are unchanged)."


@pytest.mark.parametrize("after,terminate", [(0.05, False), (0.2, False), (0.4, False), (0.2, True), (0.4, True)],
                         ids=["Ctrl-C 0.05 s", "Ctrl-C 0.2 s", "Ctrl-C 0.4 s", "SIGTERM 0.2 s", "SIGTERM 0.4 s"])
def test_ctrl_c_while_the_program_starts(after, terminate, tmp_path):
    """A Ctrl-C (or SIGTERM) while the program loads its modules (before any command runs): exit 130 (143) and the
    one line, no traceback, nothing written. The time is counted from the moment the program's handler is in place
    (:func:`_handler_installed`), not from the start of the interpreter, whose own start takes longer than 0.05 s
    on a busy machine."""
    out = tmp_path / "out"
    before = _earlier_outputs(out, "results")
    code, stdout, stderr = _ctrl_c(["valuate", "--out", str(out)], after, _handler_installed, terminate=terminate)
    assert code == (143 if terminate else 130), (code, stdout, stderr)
    assert _said(stdout, stderr) == [TERMINATED if terminate else INTERRUPTED], (stdout, stderr)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert snapshot(out) == before


@pytest.mark.parametrize("command,after", [(["valuate"], 2.0),
                                           (["stochastic", "--paths", "2000", "--workers", "2"], 2.0)],
                         ids=["valuate", "stochastic on two workers"])
def test_a_command_started_with_ctrl_c_ignored_runs_to_its_end(command, after, tmp_path, stochastic_kernel_cached):
    """`actuary ... &` in a script: the shell starts it with SIGINT ignored, so that a Ctrl-C meant for the
    script's foreground leaves it running. It finishes, exit 0, its outputs written (the Dask workers too
    keep running)."""
    out = tmp_path / "out"
    code, stdout, stderr = _ctrl_c(command + ["--out", str(out)], after, ignored=True)
    assert code == 0, (code, stdout, stderr)
    assert "interrupted" not in stdout + stderr and "Traceback" not in stderr, (stdout, stderr)
    kind = "results" if command[0] == "valuate" else "stochastic"
    assert (out / f"demoland-{kind}.xlsx").stat().st_size > 10_000
    assert xr.open_dataset(out / f"demoland-{kind}.nc").load().sizes


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]], ids=["in process", "two workers"])
def test_sigterm_stops_a_command_started_with_ctrl_c_ignored(extra, tmp_path):
    """`actuary ... &` in a script then `kill $!`: the shell started it with SIGINT ignored, not SIGTERM, so the
    SIGTERM ends it as interrupted (the line, exit 143, no staging folder left, earlier outputs unchanged)."""
    out = tmp_path / "out"
    before = _earlier_outputs(out)
    staging = lambda process: glob.glob(str(out / ".actuary-staging-*"))   # noqa: E731
    code, stdout, stderr = _ctrl_c(["stochastic", "--paths", "10000000", "--out", str(out), *extra], 6.0, staging,
                                   ignored=True, terminate=True)
    assert code == 143, (code, stdout, stderr)
    assert _said(stdout, stderr) == [TERMINATED], (stdout, stderr)
    assert snapshot(out) == before


def test_ctrl_c_stops_a_report_whose_stochastic_paths_are_still_running(tmp_path, stochastic_kernel_cached):
    """`actuary report --with-stochastic N` runs the paths on a thread beside the sensitivity scenarios; a Ctrl-C
    while they run ends the run at once (exit 130, the one line, nothing written), not after the paths (here
    more than the test waits for). The kernels are compiled first (stochastic_kernel_cached: what a short
    stochastic run compiles, in this process): on a cold Numba cache the Ctrl-C would otherwise fall in the
    stochastic kernel's first compilation, which swallows it (that case is
    test_a_swallowed_ctrl_c_stops_a_long_run_at_its_next_chunk's) and can outlast the test's wait on a busy machine."""
    out = tmp_path / "out"
    before = _earlier_outputs(out, "report")
    code, stdout, stderr = _ctrl_c(["report", "--with-stochastic", "100000000", "--with-sensitivity", "--out",
                                    str(out)], 3.0, lambda process: glob.glob(str(out / ".actuary-staging-*")))
    assert code == 130, (code, stdout, stderr)
    assert INTERRUPTED in stderr and "Traceback" not in stderr, (stdout, stderr)
    assert snapshot(out) == before


def _swallowed_ctrl_c(real):
    """A call that gets a real Ctrl-C and swallows it (as Python does with a KeyboardInterrupt raised in a
    ``__del__``, e.g. while a zip file is closed), then does its work."""
    def call(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            pass
        return real(*args, **kwargs)
    return call


def test_a_swallowed_ctrl_c_still_stops_the_run_before_anything_is_written(tmp_path, monkeypatch):
    """A Ctrl-C that a library swallows (the run goes on and would write its outputs): the outputs are not moved
    into place; exit 130 and the one line, earlier outputs unchanged."""
    out = tmp_path / "out"
    before = _earlier_outputs(out, "results")
    monkeypatch.setattr(xr.Dataset, "to_netcdf", _swallowed_ctrl_c(xr.Dataset.to_netcdf))
    result = CliRunner().invoke(main, ["valuate", "--out", str(out)], terminal_width=300)
    assert result.exit_code == 130, result.output
    assert result.output.strip() == INTERRUPTED
    assert snapshot(out) == before


def test_a_swallowed_ctrl_c_stops_a_long_run_at_its_next_chunk(tmp_path, monkeypatch):
    """A Ctrl-C swallowed during the first chunk of paths (as during a Numba compilation of a cold cache): the run
    stops when that chunk is in, not after all its chunks (millions of paths would take hours); exit 130."""
    import actuary.stochastic as stochastic

    calls = []
    real = stochastic.run_chunk
    swallowing = _swallowed_ctrl_c(real)

    def run_chunk(*args, **kwargs):
        calls.append(1)
        return (swallowing if len(calls) == 1 else real)(*args, **kwargs)

    monkeypatch.setattr(stochastic, "run_chunk", run_chunk)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["stochastic", "--paths", "2000", "--chunk-size", "250", "--out", str(out)],
                                terminal_width=300)
    assert result.exit_code == 130, result.output
    assert result.output.strip() == INTERRUPTED
    assert len(calls) == 1, f"{len(calls)} chunks ran after the Ctrl-C"


def test_a_swallowed_ctrl_c_stops_a_report_while_its_paths_run(tmp_path, monkeypatch):
    """`actuary report --with-stochastic N --with-sensitivity`: a Ctrl-C swallowed during the sensitivity scenarios
    (as during a Numba compilation) stops the run at the stochastic paths' next chunk, not after the last of them
    (the report waited for them all: the CI run where a Ctrl-C fell in a compilation outlasted its test's wait)."""
    import actuary.batch as batch
    import actuary.stochastic as stochastic

    calls = []
    real = stochastic.run_chunk

    def run_chunk(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stochastic, "run_chunk", run_chunk)
    monkeypatch.setattr(batch, "sensitivity", _swallowed_ctrl_c(batch.sensitivity))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", "--with-stochastic", "25000", "--with-sensitivity", "--out",
                                       str(out)], terminal_width=300)
    assert result.exit_code == 130, result.output
    assert result.output.strip() == INTERRUPTED
    assert len(calls) < 100, f"all {len(calls)} chunks of paths ran after the Ctrl-C"
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize("after,stop", [(0.0, signal.SIGINT), (0.05, signal.SIGINT), (0.15, signal.SIGINT),
                                        (0.05, signal.SIGTERM), (0.3, signal.SIGTERM)],
                         ids=["Ctrl-C 0 s", "Ctrl-C 0.05 s", "Ctrl-C 0.15 s", "SIGTERM 0.05 s", "SIGTERM 0.3 s"])
def test_ctrl_c_as_the_command_ends(after, stop, tmp_path):
    """A Ctrl-C (or SIGTERM) as `actuary valuate` prints its last line or a moment later (its outputs in place, the
    interpreter ending): exit 0 (the command was done) or 130 (143) with the line naming the outputs, never a death
    by the signal without a word; the outputs are the whole set."""
    out = tmp_path / "out"
    process = subprocess.Popen(CLI + ["valuate", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in process.stdout:
            if line.startswith("Wrote") and ".nc" in line:
                time.sleep(after)
                try:
                    if stop == signal.SIGINT:
                        os.killpg(process.pid, signal.SIGINT)
                    else:   # kill PID: the program alone
                        os.kill(process.pid, signal.SIGTERM)
                except ProcessLookupError:   # already gone: nothing to interrupt
                    pass
                break
        rest, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    status = 130 if stop == signal.SIGINT else 143
    assert process.returncode in (0, status), (process.returncode, stderr)
    if process.returncode == status:
        said = "stopped at Ctrl-C" if stop == signal.SIGINT else "stopped by SIGTERM"
        assert f"interrupted: {said} after the outputs were written" in stderr, stderr
    assert "Traceback" not in stderr, stderr
    assert sorted(path.name for path in out.iterdir()) == [".actuary-outputs.json", "demoland-results.nc",
                                                             "demoland-results.xlsx"]


def test_ctrl_c_in_a_command_declared_elsewhere(tmp_path, monkeypatch):
    """`actuary synth` (a member-data command) interrupted while it writes: exit 130 and the one line, not its
    own message for an unwritable file (exit 1)."""
    from actuary.data import synth

    monkeypatch.setattr(synth, "synthesize", _ctrl_c_then(OSError(28, "No space left on device"), True))
    result = CliRunner().invoke(main, ["synth", str(DEMO_WORKBOOK), "--members", "10", "--out", str(tmp_path / "x")])
    assert result.exit_code == 130, result.output
    assert result.output.strip() == INTERRUPTED


def _hold_staging(out: Path) -> subprocess.Popen:
    """A process that opens an output set in ``out`` and waits (as a long run would)."""
    code = ("import sys, time; from pathlib import Path; from actuary.io.files import OutputSet\n"
            "o = OutputSet(Path(sys.argv[1]), ['x.nc']).__enter__(); print(o.staging, flush=True); time.sleep(600)")
    process = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    process.staging = Path(process.stdout.readline().strip())
    return process


def _age(folder: Path, seconds: float):
    then = time.time() - seconds
    os.utime(folder, (then, then))


def test_staging_of_a_killed_run_is_removed_by_the_next_run(tmp_path):
    """kill -9 leaves a staging folder; the next run into the folder removes it, but never the
    staging folder of a run still alive, however old."""
    out = tmp_path / "out"
    killed, alive = _hold_staging(out), _hold_staging(out)
    try:
        killed.kill()
        killed.wait()
        assert killed.staging.is_dir() and alive.staging.is_dir()
        for process in (killed, alive):
            _age(process.staging, 2 * files.SETTLE_AGE)
        young = Path(tempfile.mkdtemp(dir=out, prefix=files.STAGING_PREFIX))   # lockless, just made
        with files.OutputSet(out, ["y.nc"]) as outputs:
            outputs.path("y.nc").write_bytes(b"y")
            outputs.commit()
        assert not killed.staging.exists()
        assert alive.staging.is_dir() and young.is_dir()
        _age(young, 2 * files.ORPHAN_AGE)
        files.remove_orphan_staging(out)
        assert not young.exists() and alive.staging.is_dir()
        assert sorted(p.name for p in out.iterdir() if not p.name.startswith(files.STAGING_PREFIX)) == [files.MANIFEST,
                                                                                                    "y.nc"]
    finally:
        for process in (killed, alive):
            process.kill()
            process.wait()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is not available on this platform")
def test_a_forked_child_values_with_its_own_closed_group_thread():
    """The closed-group runs go to a worker thread started once per process; a child forked after the parent
    used it (as multiprocessing's fork start does) has no such thread, and the thread's lock may have been
    held at the fork (here held on purpose): the child starts its own and gets the parent's results instead
    of waiting forever (an alarm ends a child that hangs)."""
    from actuary import Valuation, valuation

    parent = Valuation.demo().run().summary["actuarial_balance"].values
    with valuation._SECOND_LOCK:   # another thread of the parent asking for the worker at the fork
        pid = os.fork()
        if pid == 0:  # the child: exit status 0 if its balance sheet (closed-group runs) matches the parent's
            try:
                signal.alarm(60)
                child = Valuation.demo().run().summary["actuarial_balance"].values
                os._exit(0 if (child == parent).all() else 3)
            except BaseException:
                os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
