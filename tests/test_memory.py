"""The allocator setting made at import (actuary.memory): a run reuses the pages of the one before."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

PROBE = """
import resource, statistics
import actuary
from actuary import Valuation, memory
v = Valuation.demo()
for _ in range(4):
    v.inputs.by_demography.clear(); v.run()
faults = []
for _ in range(11):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    v.inputs.by_demography.clear(); v.run()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(memory.TUNED, statistics.median(faults))
"""


def _probe(**env):
    """(whether import set the allocator, median page faults a run) in a fresh process whose malloc settings are
    ``env`` (none inherited: a local Dask cluster leaves MALLOC_TRIM_THRESHOLD_ in its parent's environment)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                            env={**inherited, **env})
    tuned, faults = result.stdout.split()
    return tuned == "True", float(faults)


GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator: the setting is made with glibc only")
def test_a_run_reuses_the_pages_of_the_run_before():
    """Demoland with its balance sheet (closed-group runs in a second thread): with the setting, a run after the
    first few takes few new pages from the system, measured against the same runs with glibc's defaults in the same
    test (MALLOC_CHECK_=0 changes nothing in the allocator but makes import leave it alone). Here: a median of 0-60
    page faults a run, or 450-600 when the closed-group thread's first allocations come from another heap, against
    about 3,000 with glibc's defaults."""
    tuned, faults = _probe()
    untouched, defaults = _probe(MALLOC_CHECK_="0")
    assert tuned and not untouched
    assert faults < defaults / 3, (faults, defaults)


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator: the setting is made with glibc only")
@pytest.mark.parametrize("setting", ["MALLOC_ARENA_MAX", "GLIBC_TUNABLES"])
def test_an_allocator_setting_of_the_process_is_kept(setting):
    """Any glibc malloc setting of the process (here one that is not a threshold) leaves the allocator alone."""
    tuned, _ = _probe(**{setting: "glibc.malloc.arena_max=4" if setting == "GLIBC_TUNABLES" else "4"})
    assert not tuned


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator: the setting is made with glibc only")
def test_the_process_own_allocator_settings_are_kept():
    """With a glibc setting of the user's (here a trim threshold of 128 KiB), import leaves the allocator alone, and
    the runs take new pages again (about 12,800 a run here): the test above is one the setting passes."""
    tuned, faults = _probe(MALLOC_TRIM_THRESHOLD_=str(128 * 1024))
    assert not tuned
    assert faults > 200, faults
