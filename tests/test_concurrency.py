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
from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

from actuary.cli import main
from actuary.io import files
from actuary.io.provenance import read_about_sheet

from .test_hostile_inputs import snapshot

CLI = [sys.executable, "-m", "actuary.cli"]


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
    assert sorted(p.name for p in out.iterdir()) == ["case0-results.nc", "case0-results.xlsx", "case1-results.nc",
                                                       "case1-results.xlsx"]
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


def _interrupt(out: Path, extra: list[str], after: float):
    """Start `actuary stochastic` in its own session, wait until it works, press Ctrl-C (SIGINT to the
    whole process group, as a terminal does)."""
    process = subprocess.Popen(CLI + ["stochastic", "--paths", "10000000", "--out", str(out), *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not glob.glob(str(out / ".actuary-staging-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(after)
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode, stdout, stderr


@pytest.mark.parametrize("extra,after", [([], 4.0), (["--workers", "2"], 12.0)], ids=["in process", "two workers"])
def test_ctrl_c_during_stochastic(extra, after, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("demoland-stochastic.xlsx", "demoland-stochastic.nc"):
        (out / name).write_bytes(b"earlier output " + name.encode())
    before = snapshot(out)
    code, stdout, stderr = _interrupt(out, extra, after)
    assert code == 130, (stdout, stderr)
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines == ["interrupted: stopped at Ctrl-C; nothing was written (earlier outputs are unchanged)."], stdout
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert snapshot(out) == before


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
        assert sorted(p.name for p in out.iterdir() if not p.name.startswith(files.STAGING_PREFIX)) == ["y.nc"]
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
