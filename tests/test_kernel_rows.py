"""The insured kernel's rows without anyone: skipped (zero flows written, their assumptions never read), so that a
run pays the per-row work only for the rows that hold actives or inactive insured."""

import numpy as np

from actuary import Valuation, projection
from actuary.kernels.scheme import insured_kernel
from actuary.projection import build_kernel_inputs, run_kernels

FLOWS = ("active_deaths", "retirements", "invalidity", "exits", "withdrawals", "inactive_deaths",
         "inactive_retirements", "reentries")
STOCKS = ("active0", "inactive0", "balance_active0", "balance_inactive0", "service_active0", "service_inactive0",
          "units_active0", "units_inactive0")


def _open_group_call(monkeypatch) -> dict:
    """The arguments of Demoland's open-group insured kernel call (copies, taken before the kernel writes)."""
    valuation = Valuation.demo()
    calls = []

    def capture(**arguments):
        calls.append({k: v.copy() if isinstance(v, np.ndarray) else v for k, v in arguments.items()})
        insured_kernel(**arguments)

    monkeypatch.setattr(projection, "insured_kernel", capture)
    run_kernels(build_kernel_inputs(valuation.inputs), valuation.inputs.settings["min_age"], "kernel")
    return calls[0]


def _run(arguments: dict) -> dict:
    arguments = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in arguments.items()}
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
        arguments[name][0, a] = 0.0
    poisoned = dict(arguments)
    for name in ("q_active", "q_inactive", "exit_rate", "retire_rate", "invalidity_rate", "reentry_rate", "reference",
                 "early_age", "normal_age"):   # (not those of the year's entrants at that age)
        poisoned[name] = arguments[name].copy()
        poisoned[name][0, 0, a] = np.nan
    clean, skipped = _run(arguments), _run(poisoned)
    for name in FLOWS:
        assert skipped[name][0, 0, a] == 0.0, name
    for name in ("wage_bill", "contributors", "grants", "grant_count", "exit_refunds"):
        assert np.isfinite(skipped[name][0]), name
        assert skipped[name][0] == clean[name][0], name
    for name in ("awards_count", "awards_amount"):
        assert np.array_equal(skipped[name][0], clean[name][0]), name
