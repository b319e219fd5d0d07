"""The first run on a machine (or of a new version) compiles the kernels, about a minute with nothing else on screen:
the command says so before it starts, and says nothing once the compiled code is in Numba's cache. Whether a
kernel will compile is read from Numba's cache index (actuary.kernels.uncompiled): these tests give it a kernel of
their own, compiled or not, cached or not, its source changed or not."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import actuary.cli as cli
from actuary import kernels
from actuary.cli import main
from actuary.kernels.batch import simulate_paths
from actuary.kernels.scheme import insured_kernel

SOURCE = '''
import numba

@numba.njit(cache=True)
def twice(x):
    return 2.0 * x
'''


def _module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_kernel_is_pending_until_compiled_then_cached_until_its_source_changes(tmp_path):
    path = tmp_path / "kernel_first.py"
    path.write_text(SOURCE)
    first = _module(path, "kernel_first").twice
    assert kernels.uncompiled(first) == [first]          # no cache yet
    assert first(1.5) == 3.0
    assert kernels.uncompiled(first) == []               # compiled in this process
    again = _module(path, "kernel_first_again").twice    # a new process would see this: the cache holds its code
    assert not again.overloads
    assert kernels.uncompiled(again) == []
    assert kernels.cache_folder(again) == again._cache.cache_path != ""
    path.write_text(SOURCE + "\n# a new version of the source\n")
    changed = _module(path, "kernel_first_changed").twice
    assert kernels.uncompiled(changed) == [changed]      # the cache holds only the earlier version's code


def test_a_fresh_cache_makes_every_kernel_pending(tmp_path):
    """In a process whose Numba cache is empty, the projection and stochastic kernels are pending; nothing is
    compiled by asking."""
    code = ("from actuary.kernels import uncompiled; from actuary.kernels.scheme import insured_kernel; "
            "from actuary.kernels.batch import simulate_paths; "
            "print(len(uncompiled(insured_kernel, simulate_paths)), insured_kernel.overloads == {})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    assert done.stdout.split() == ["2", "True"]


@pytest.fixture
def said(monkeypatch):
    """The note's once-a-process flag cleared, and which kernels are pending chosen by the test."""
    monkeypatch.setattr(cli, "_COMPILE_SAID", [])

    def pending(*which):
        monkeypatch.setattr(kernels, "uncompiled", lambda *asked: [k for k in asked if k in which])
    return pending


def test_valuate_says_it_compiles_on_a_first_run_only(tmp_path, said):
    said(insured_kernel)
    result = CliRunner().invoke(main, ["valuate", "--out", str(tmp_path / "a")], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "first run on this machine (or of this version): compiling the projection kernels (about a minute); " \
           "later runs start in seconds" in result.stderr
    assert "stochastic" not in result.stderr
    cli._COMPILE_SAID.clear()
    said()
    result = CliRunner().invoke(main, ["valuate", "--out", str(tmp_path / "b")], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "compiling" not in result.stderr


def test_stochastic_names_the_paths_kernel_when_only_it_is_pending(tmp_path, said):
    said(simulate_paths)
    result = CliRunner().invoke(main, ["stochastic", "--paths", "4", "--out", str(tmp_path)], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "compiling the stochastic paths kernel (about half a minute)" in result.stderr
    assert "projection kernels" not in result.stderr
    assert result.stderr.count("first run on this machine") == 1
