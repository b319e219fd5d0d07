"""The process's memory allocator, set for a valuation's way of using memory.

A run allocates and frees hundreds of arrays of 0.1-10 MB (kernel outputs, results). With glibc's defaults the
larger ones are mapped afresh from the system each time and the freed top of each thread's heap is handed back
at once, so the next run touches new pages: about 3,000 page faults a run of Demoland with its balance sheet
(the closed-group runs work in a second thread), 20-25% of its time on this project's reference machine. Importing
:mod:`actuary` therefore asks glibc (``mallopt``) to serve allocations up to 32 MiB from its heaps and to keep up
to 128 MiB freed before handing memory back: then a run reuses the pages of the one before (no page faults
after the first few runs) and Demoland's run() takes about 20% less time. Peak memory is unchanged for a run; a
process may keep up to 128 MiB per thread heap that it no longer uses.

Not done if the process sets glibc's allocator itself (any ``MALLOC_*`` environment variable, e.g.
``MALLOC_ARENA_MAX``, or ``malloc.*`` in ``GLIBC_TUNABLES``: set one to keep the system's choice), nor with a C
library other than glibc (macOS, Windows, musl). Dask's worker processes keep the setting Dask gives them
(``MALLOC_TRIM_THRESHOLD_``, so that their memory use is reported as it falls).
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 * 2**20    # bytes: allocations below this come from the heaps (glibc's largest allowed value)
TRIM_THRESHOLD = 128 * 2**20   # bytes of free memory a heap keeps before handing memory back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # glibc's mallopt parameters (malloc.h)


def keep_freed_memory() -> bool:
    """Set glibc's allocator as the module docstring says; returns whether it was set."""
    if not sys.platform.startswith("linux"):
        return False
    if any(name.startswith("MALLOC_") for name in os.environ) or "malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version   # glibc's own symbol: another C library's mallopt may mean something else
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = keep_freed_memory()
