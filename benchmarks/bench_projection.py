"""Demoland valuation (2 sexes, ages 15-120, service 0-50): time per valuation of the kernels alone
and of ``Valuation.run()`` (valuation + closed-group runs for the balance sheet + indicators),
the same for the NumPy reference, their ratios, the cost at 100 and 300 years, and the first call
in a fresh process (Numba cache warm); all measured in the same run.

Before any time is printed the kernel results are checked against the NumPy reference (1e-9 relative
on every output array) and the two ``run()`` summaries against each other; the benchmark stops with
exit status 1 if they differ. Times are medians over rounds with their interquartile range; "cold"
is a single call after freed memory was returned to the operating system and the caches were
flushed (page faults of fresh output arrays included), "loop" a tight loop of calls.

    python benchmarks/bench_projection.py
"""

import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, cold_call, fmt, max_relative_difference, measure, require  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from actuary import Valuation  # noqa: E402
from actuary import projection  # noqa: E402
from actuary.kernels.scheme import insured_kernel  # noqa: E402
from actuary.projection import build_kernel_inputs, run_kernels  # noqa: E402

FRESH = ("import time; t = time.perf_counter(); from actuary import Valuation; v = Valuation.demo(); r = v.run(); "
         "print(time.perf_counter() - t)")


def extended(valuation: Valuation, horizon: int) -> Valuation:
    """The valuation over ``horizon`` years, year-dependent inputs held at their last values."""
    t0 = valuation.inputs.settings["valuation_year"]
    years = np.arange(t0, t0 + horizon)
    groups = {}
    for group, fields in valuation.raw.items():
        groups[group] = {}
        for name, value in fields.items():
            if isinstance(value, xr.DataArray) and "year" in value.dims:
                value = value.reindex(year=years, method="ffill")
            groups[group][name] = value
    groups["settings"]["horizon"] = horizon
    return Valuation(**groups, name=valuation.name)


def run_afresh(valuation: Valuation, engine: str = "kernel"):
    """``valuation.run(engine)`` computing everything: the values a valuation keeps from its earlier runs (its
    mortality table and national population, :attr:`actuary.inputs.Inputs.by_demography`) are dropped first."""
    valuation.inputs.by_demography.clear()
    return valuation.run(engine)


def summary_difference(a, b) -> float:
    return max(max_relative_difference(a.summary[k].values, b.summary[k].values, 1e-12)
               for k in a.summary.data_vars)


def main():
    valuation = Valuation.demo()
    s = valuation.inputs.settings
    print(f"# bench_projection: Demoland, {s['horizon']} years, ages {s['min_age']}-{s['max_age']}, service "
          f"0-{s['max_service']}; numba {numba.__version__}, numpy {np.__version__}, {os.cpu_count()} cores")
    print(core_speeds())
    kin = build_kernel_inputs(valuation.inputs)
    lo = s["min_age"]
    a, b = run_kernels(kin, lo, "kernel"), run_kernels(kin, lo, "reference")
    agree = max(max_relative_difference(a[k], b[k]) for k in a if isinstance(a[k], np.ndarray) and a[k].size)
    require(agree <= 1e-9, f"kernels = NumPy reference on every output array (max relative difference {agree:.1e})")
    run_k, run_r = valuation.run(), valuation.run("reference")
    agree_run = summary_difference(run_k, run_r)
    require(agree_run <= 1e-9, f"run() summary, kernel = reference (max relative difference {agree_run:.1e})")

    kernels = measure(lambda: run_kernels(kin, lo, "kernel"))
    kernels_cold = cold_call(lambda: run_kernels(kin, lo, "kernel"))
    reference = measure(lambda: run_kernels(kin, lo, "reference"), rounds=3)
    run_loop = measure(lambda: run_afresh(valuation))
    run_cold = cold_call(lambda: run_afresh(valuation))
    run_reference = measure(lambda: run_afresh(valuation, "reference"), rounds=3)
    print(f"kernels alone      loop {kernels}   cold {kernels_cold}")
    print(f"                   reference {reference}   ratio {reference.median / kernels.median:6.1f}x")
    print(f"Valuation.run()    loop {run_loop}   cold {run_cold}")
    print(f"                   reference {run_reference}   ratio {run_reference.median / run_loop.median:6.1f}x "
          f"(target >= 30x)")
    print(f"Valuation.run() median {fmt(run_loop.median).strip()} (target <= 12 ms)")

    insured_kernel_lines(kin, lo)

    long = extended(valuation, 300)
    hundred = extended(valuation, 100)
    require(summary_difference(hundred.run(), run_k) <= 1e-12, "100-year copy of Demoland = Demoland")
    t100 = measure(lambda: run_afresh(hundred))
    t300 = measure(lambda: run_afresh(long))
    print(f"run() at 100 years {t100}   at 300 years {t300}   ratio {t300.median / t100.median:4.2f}x "
          f"(target <= 3.3x: cost linear in the horizon)")

    fresh = []
    for _ in range(5):
        start = time.perf_counter()
        inner = float(subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, check=True).stdout)
        fresh.append((time.perf_counter() - start, inner))
    print(f"fresh process (Numba cache warm): import + Demoland load + first run median "
          f"{statistics.median(f[1] for f in fresh):.2f} s (whole interpreter median "
          f"{statistics.median(f[0] for f in fresh):.2f} s, {len(fresh)} processes; target <= 2 s)")


def open_group_insured_call(kin, lo) -> dict:
    """The arguments of the open-group run's insured kernel call (copies, taken before the kernel writes its
    outputs), and that run's outputs."""
    calls = []

    def capture(**arguments):
        calls.append({k: v.copy() if isinstance(v, np.ndarray) else v for k, v in arguments.items()})
        insured_kernel(**arguments)

    projection.insured_kernel = capture
    try:
        out = run_kernels(kin, lo, "kernel")
    finally:
        projection.insured_kernel = insured_kernel
    open_group_insured_call.outputs = out
    return calls[0]


def insured_kernel_lines(kin, lo):
    """The open-group insured kernel alone: time per call and per occupied cell-year (a (sex, age, service) cell
    holding actives or inactive insured at 1 January of a projection year, counted from the kernel's own stocks
    year by year)."""
    arguments = open_group_insured_call(kin, lo)
    n_years = arguments["q_active"].shape[0]
    occupied = int(np.count_nonzero((arguments["active0"] != 0) | (arguments["inactive0"] != 0)))
    for t in range(1, n_years):
        state = run_kernels(kin, lo, "kernel", years=t)["state"]
        occupied += int(np.count_nonzero((state["active0"] != 0) | (state["inactive0"] != 0)))
    single = measure(lambda: insured_kernel(**arguments))
    print(f"insured kernel (open group, {n_years} years, {occupied:,} occupied cell-years): {single}  "
          f"{single.median / occupied * 1e9:5.1f} ns per occupied cell-year (target <= 5 ns)")
    if hasattr(os, "sched_setaffinity"):   # the same on each core: the cores of a shared machine differ
        allowed = os.sched_getaffinity(0)
        try:
            for core in sorted(allowed):
                os.sched_setaffinity(0, {core})
                pinned = measure(lambda: insured_kernel(**arguments))
                print(f"    pinned to core {core}: {pinned}  {pinned.median / occupied * 1e9:5.1f} ns per occupied "
                      "cell-year")
        finally:
            os.sched_setaffinity(0, allowed)


if __name__ == "__main__":
    main()
