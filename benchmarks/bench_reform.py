"""The reform laboratory's targets (issue 13), each result checked before any time is printed:

- a contribution-rate solve on Demoland (reserve ratio >= 1 from 2025 to 2070): one projection (the rate moves
  the finance only; closed form) and the verifying rerun; target <= 0.2 s;
- a retirement-age solve (months per cohort for a GAP to 2094 of 30%): a search over whole months; target <= 2 s;
- ``actuary compare`` of the base and 3 options (a Reforms sheet) end to end in a fresh process with a warm
  Numba cache: reading, validating, the four valuations with their balance sheets and adequacy measures,
  the comparison workbook and netCDF; target <= 6 s.

Medians with their interquartile range (benchmarks/_timing.py); the load average is printed beside them.

    python benchmarks/bench_reform.py
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, measure, require  # noqa: E402

import openpyxl  # noqa: E402
import xarray as xr  # noqa: E402

from actuary import Valuation  # noqa: E402
from actuary.indicators import general_average_premium  # noqa: E402


def load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def solves():
    demo = Valuation.demo()
    rate = demo.solve("contribution_rate", "reserve_ratio>=1", start=2025, until=2070)
    ratio = rate.valuation.run().projection.reserve_ratio.sel(year=slice(2025, 2070))
    require(abs(float(ratio.min()) - 1.0) <= 1e-6, f"the solved rate binds (lowest ratio {float(ratio.min())})")
    timing = measure(lambda: demo.solve("contribution_rate", "reserve_ratio>=1", start=2025, until=2070),
                     rounds=7, min_total=0.0)
    print(f"contribution-rate solve (reserve_ratio>=1, 2025-2070, {rate.runs} runs): {timing}   target <= 0.2 s")
    age = demo.solve("retirement_age_pace", "gap<=0.3", start=2021, until=2094)
    gap = general_average_premium(age.valuation.run().projection, 75)
    require(gap <= 0.3, f"the solved pace meets the GAP target ({gap})")
    timing = measure(lambda: demo.solve("retirement_age_pace", "gap<=0.3", start=2021, until=2094), rounds=5,
                     min_total=0.0)
    print(f"retirement-age solve ({int(age.value)} months per cohort, {age.runs} runs): {timing}   target <= 2 s")


def compare_end_to_end():
    with tempfile.TemporaryDirectory() as folder:
        base = os.path.join(folder, "base.xlsx")
        Valuation.demo().to_workbook(base)
        wb = openpyxl.load_workbook(base)
        ws = wb.create_sheet("Reforms")
        ws.append(["Reform options"])
        ws.append(["option", "input", "operation", "value", "from_year", "to_year", "from_cohort", "to_cohort",
                   "notes"])
        ws.append(["higher rate", "scheme.contribution_rate", "shift", 0.03, 2025, None, None, None])
        ws.append(["lower accrual", "scheme.accrual", "scale", 0.8, 2025, None, None, None])
        ws.append(["prices", "scheme.indexation_price_weight", "set", 1.0, 2025, None, None, None])
        wb.save(base)
        out = os.path.join(folder, "out")
        command = [sys.executable, "-m", "actuary.cli", "compare", base, "--out", out]
        subprocess.run(command, check=True, capture_output=True)   # warm the Numba cache
        times, cpu = [], []
        for _ in range(5):
            start, used = time.perf_counter(), _children_cpu()
            subprocess.run(command, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
            cpu.append(_children_cpu() - used)
        with xr.open_dataset(os.path.join(out, "base-comparison.nc")) as ds:
            require(list(ds.option.values) == ["base", "higher rate", "lower accrual", "prices"], "the four options")
            expected = Valuation.demo().run().summary
            require(abs(float(ds.actuarial_balance.sel(option="base")) - float(expected.actuarial_balance)) <= 1e-12,
                    "the base's actuarial balance = an in-process run")
            require(float(abs(ds.reserve_difference.sel(option="base")).max()) == 0, "the base differs by nothing")
    q1, q3 = statistics.quantiles(times, n=4, method="inclusive")[::2]
    print(f"actuary compare, base + 3 options, fresh process: {statistics.median(times):.2f} s "
          f"(IQR {q1:.2f}-{q3:.2f}, 5 runs; CPU {statistics.median(cpu):.2f} s)   target <= 6 s")


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: the time a run costs whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    print(f"# bench_reform (load average {load()})")
    print(core_speeds())
    solves()
    compare_end_to_end()
    print(f"# load average after: {load()}")


if __name__ == "__main__":
    main()
