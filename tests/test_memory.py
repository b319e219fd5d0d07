"""The allocator setting made at import (actuary.memory): a run reuses the pages of the one before."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import actuary
from actuary import Valuation, memory
v = Valuation.demo()
for _ in range(6):
    v.inputs.by_demography.clear(); v.run()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    v.inputs.by_demography.clear(); v.run()
print(memory.TUNED, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _probe(**env):
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                            env={**os.environ, **env})
    tuned, faults = result.stdout.split()
    return tuned == "True", float(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator: Linux only")
def test_a_run_reuses_the_pages_of_the_run_before():
    """Demoland with its balance sheet (closed-group runs in a second thread): with the setting, a run after the
    first few takes almost no new pages from the system (0-1 page faults a run here, against about 1,000 with
    glibc's defaults)."""
    tuned, faults = _probe()
    if not tuned:
        pytest.skip("the C library is not glibc: the setting is not made")
    assert faults < 100, faults


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator: Linux only")
def test_the_process_own_allocator_settings_are_kept():
    """With a glibc setting of the user's (here a trim threshold of 128 KiB), import leaves the allocator alone, and
    the runs take new pages again (about 12,800 a run here): the test above is one the setting passes."""
    tuned, faults = _probe(MALLOC_TRIM_THRESHOLD_=str(128 * 1024))
    assert not tuned
    assert faults > 200, faults
