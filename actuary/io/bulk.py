"""Bulk object work with Python's cycle collector paused: loading the package (the modules of NumPy,
pandas, xarray and Numba make hundreds of thousands of objects that live until the process ends),
reading and writing workbooks (tens of thousands of cells and XML elements, freed by reference counting).

Each full collection of the cycle collector walks every object the process holds; the allocations of
such steps trigger several that find nothing to free. Pausing the collector for a bounded step saves
those walks; it runs again as usual afterwards and collects any cycles left meanwhile."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused():
    """Pause the cycle collector for the ``with`` block, then restore its state (left disabled if it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
