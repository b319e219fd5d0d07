"""The insured kernel's rows without anyone: skipped (zero flows written, their assumptions never read), so that a
run pays the per-row work only for the rows that hold actives or inactive insured."""

import numba
import numpy as np

from actuary import Valuation, projection
from actuary.kernels.scheme import insured_kernel
from actuary.projection import build_kernel_inputs, run_kernels

FLOWS = ("active_deaths", "retirements", "invalidity", "exits", "withdrawals", "inactive_deaths",
         "inactive_retirements", "reentries")
STOCKS = ("active0", "inactive0", "balance_active0", "balance_inactive0", "service_active0", "service_inactive0",
          "units_active0", "units_inactive0")


def _copy(value):
    """A copy of a kernel argument of the same Numba type (layout, read-only flag), so that the test's calls reuse
    the run's compiled kernel instead of compiling one for C-contiguous, writable copies (about 20 s)."""
    if not isinstance(value, np.ndarray):
        return value
    if numba.typeof(value).layout == "A":  # a strided view in the run: a strided copy
        copy = np.empty(value.shape[:-1] + (value.shape[-1] + 1,))[..., :value.shape[-1]]
        copy[...] = value
    else:
        copy = value.copy(order="K")
    copy.setflags(write=value.flags.writeable)
    assert numba.typeof(copy) == numba.typeof(value)
    return copy


def _edited(value: np.ndarray, index, new) -> np.ndarray:
    """:func:`_copy` of ``value`` with ``copy[index] = new``."""
    copy = _copy(value)
    copy.setflags(write=True)
    copy[index] = new
    copy.setflags(write=value.flags.writeable)
    return copy


def _open_group_call(monkeypatch) -> dict:
    """The arguments of Demoland's open-group insured kernel call (copies, taken before the kernel writes)."""
    valuation = Valuation.demo()
    calls = []

    def capture(**arguments):
        calls.append({k: _copy(v) for k, v in arguments.items()})
        insured_kernel(**arguments)

    monkeypatch.setattr(projection, "insured_kernel", capture)
    run_kernels(build_kernel_inputs(valuation.inputs), valuation.inputs.settings["min_age"], "kernel")
    return calls[0]


def _run(arguments: dict) -> dict:
    arguments = {k: _copy(v) for k, v in arguments.items()}
    insured_kernel(**arguments)
    return arguments


def test_an_empty_row_below_occupied_ones_is_skipped(monkeypatch):
    """Men aged 30 emptied at the valuation date (ages above them still occupied): in the first year their row's
    flows are zero and the year's totals those of the run with the row's assumptions intact, even when those
    assumptions are not numbers (a row without anyone is not computed: 0 x NaN would be NaN)."""
    arguments = _open_group_call(monkeypatch)
    lo = int(arguments["min_age"])
    a = 30 - lo
    assert (arguments["active0"][0, a + 1:] > 0.0).any()
    for name in STOCKS:
        arguments[name] = _edited(arguments[name], (0, a), 0.0)
    poisoned = dict(arguments)
    for name in ("q_active", "q_inactive", "exit_rate", "retire_rate", "invalidity_rate", "reentry_rate", "reference",
                 "early_age", "normal_age"):   # (not those of the year's entrants at that age)
        poisoned[name] = _edited(arguments[name], (0, 0, a), np.nan)
    clean, skipped = _run(arguments), _run(poisoned)
    for name in FLOWS:
        assert skipped[name][0, 0, a] == 0.0, name
    for name in ("wage_bill", "contributors", "grants", "grant_count", "exit_refunds"):
        assert np.isfinite(skipped[name][0]), name
        assert skipped[name][0] == clean[name][0], name
    for name in ("awards_count", "awards_amount"):
        assert np.array_equal(skipped[name][0], clean[name][0]), name
