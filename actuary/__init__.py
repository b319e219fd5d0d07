"""actuary: actuarial valuation engine for social insurance pension schemes.

``from actuary import Valuation`` loads what a valuation needs; the rest of the public API (the workbook
reader, the analysis of change, the table helpers) is imported on first use (PEP 562), so that a
valuation started from Python does not pay for what it does not call.
"""

import sys as _sys
from importlib import import_module as _import_module

from .cli_startup import watch_startup as _watch_startup

_watch_startup()   # the command line: a Ctrl-C while modules load ends the run with one line (actuary.cli_startup)

from . import memory as _memory  # noqa: F401  (glibc's allocator set for a valuation's arrays: see actuary.memory)
from .io.bulk import cycle_collection_paused as _cycle_collection_paused


def _defer_dask_detection() -> None:
    """Keep xarray from importing dask.array (about 0.2 s) when the process has not imported it.

    xarray asks, for every array it wraps, whether the data is a dask array, and imports dask.array to
    ask (xarray.namedarray.pycompat.array_type("dask")). An object can only be a dask array once
    dask.array has been imported, so until then the answer is "no type"; from then on xarray's own
    answer is used (its cache entry is replaced). Does nothing if xarray's internals differ."""
    try:
        from xarray.namedarray import pycompat
    except ImportError:  # pragma: no cover - xarray is a dependency
        return
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    module_class = getattr(pycompat, "DuckArrayModule", None)
    if not isinstance(cache, dict) or module_class is None or "dask" in cache:
        return

    class DaskUntilImported(module_class):
        def __init__(self):  # the real entry is built when dask.array is there
            pass

        def _real(self):
            real = module_class("dask")
            cache["dask"] = real
            return real

        @property
        def type(self):
            array = _sys.modules.get("dask.array")
            if array is None or not hasattr(array, "Array"):
                return ()
            return self._real().type

        def __getattr__(self, name):  # module, version, available: ask dask itself
            return getattr(self._real(), name)

    cache["dask"] = DaskUntilImported()


with _cycle_collection_paused():   # the modules' objects live on: collections while NumPy, pandas, xarray
    _defer_dask_detection()       # and Numba load would walk them for nothing
    from .validation import InputError  # noqa: E402
    from .valuation import Results, Valuation  # noqa: E402

__version__ = "0.1.0"

_LAZY = {"accrual_schedule": "inputs", "analysis_of_change": "change", "load_workbook": "io.workbook",
         "single_ages": "tables", "stable_actives": "tables"}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(_import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["InputError", "Results", "Valuation", "accrual_schedule", "analysis_of_change", "load_workbook",
           "single_ages", "stable_actives", "__version__"]
