"""Analysis of change on Demoland: PREVIOUS = the embedded case (1 January 2020), CURRENT = it rolled forward
three years with several inputs changed in every group (data, demography, economy, behaviour, provisions,
methods). Times, each a median over rounds with its spread, wall and CPU time beside it (the machine is
shared: the CPU time is what the work needs, the wall time what it took under the load reported):

- the default 7 steps in process (rolling the previous case forward, 6 mixed cases built and validated,
  8 valuations with their balance sheets, the measures): target <= 2 s;
- every order of the 7 steps (--all-orders: the 128 subsets valued once each, the Shapley effect and the
  lowest and highest effect of every step over the 5,040 orders): target <= 60 s;
- ``actuary change`` end to end in a fresh process (warm Numba cache): reading both workbooks, the analysis,
  writing the change workbook and netCDF.

Results are checked before any time is printed: the effects add up to the total change (1e-12), the first
step is PREVIOUS's own summary and the last CURRENT's, the Shapley effects add up to the total and each lies
between its lowest and highest over the orders, and the command's netCDF equals the in-process analysis.

    python benchmarks/bench_change.py [--rounds N]    (default 7, 3 and 3 rounds)
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, require  # noqa: E402

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from actuary import Valuation, analysis_of_change  # noqa: E402


def later_valuation(previous):
    """PREVIOUS rolled forward 3 years with inputs of every group changed."""
    current = previous.roll_forward(3)
    i = current.inputs
    changed = current.replace(
        initial={"reserve": i.initial["reserve"] * 0.9, "active": i.initial["active"] * 1.02,
                 "pensioners": i.initial["pensioners"] * 1.01},
        demography={"fertility": i.demography["fertility"] * 0.95, "mortality": i.demography["mortality"] * 0.97},
        economy={"nominal_return": i.economy["nominal_return"] + 0.005, "inflation": i.economy["inflation"] + 0.002},
        behaviour={"exit_rate": i.behaviour["exit_rate"] * 1.1, "coverage": i.behaviour["coverage"] * 0.98},
        scheme={"contribution_rate": i.scheme["contribution_rate"] + 0.01, "widow_share": 0.55},
        settings={"gap_horizons": (10, 20, 50), "actuarial_balance_period": 60})
    changed.name = "demoland-2023"
    return changed


def measures(ds):
    return [n for n in ds.data_vars if f"effect_{n}" in ds]


def adds_up(ds, prefix):
    worst = 0.0
    for name in measures(ds):
        values = ds[name].values
        total = values[-1] - values[0]
        scale = np.maximum(np.abs(values).max(axis=0), 1e-300)
        worst = max(worst, float(np.max(np.abs(ds[prefix + name].values[1:].sum(axis=0) - total) / scale)))
    return worst


def timed(function, rounds):
    """Median wall and CPU seconds per call over ``rounds`` calls, with the wall range (the checks before the
    timings made the warm-up call)."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), min(walls), max(walls), statistics.median(cpus)


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else None
    print(f"# bench_change: Demoland 2020 -> modified 2023, 100 years, 7 steps, {os.cpu_count()} cores")
    print(core_speeds())
    previous = Valuation.demo()
    current = later_valuation(previous)
    ds = analysis_of_change(previous, current)
    require(adds_up(ds, "effect_") <= 1e-12, "the effects of the 7 steps add up to the total change (1e-12)")
    first, last = previous.run().summary, current.run().summary
    same = all(float(ds[n].sel(step="previous")) == float(first[n]) and float(ds[n].isel(step=-1)) == float(last[n])
               for n in ("actuarial_balance", "balance", "total_liabilities", "depletion_year"))
    require(same, "the first step is PREVIOUS's summary and the last CURRENT's (exactly)")
    every = analysis_of_change(previous, current, all_orders=True)
    require(every.attrs["cases_valued"] == 128, "all orders: 128 cases valued, each once")
    require(adds_up(every, "shapley_effect_") <= 1e-12, "the Shapley effects add up to the total change (1e-12)")
    inside = all(np.all(every[f"lowest_effect_{n}"].values[1:] <= every[f"shapley_effect_{n}"].values[1:] + 1e-15)
                 and np.all(every[f"shapley_effect_{n}"].values[1:] <= every[f"highest_effect_{n}"].values[1:] + 1e-15)
                 for n in measures(every) if n != "depletion_year")
    require(inside, "each Shapley effect lies between its lowest and highest over the 5,040 orders")
    require(np.array_equal(every.effect_balance.values[1:], ds.effect_balance.values[1:]),
            "the sequential effects of the all-orders run are those of the default run")

    with tempfile.TemporaryDirectory() as folder:
        previous.to_workbook(os.path.join(folder, "previous.xlsx"))
        current.to_workbook(os.path.join(folder, "current.xlsx"))
        command = [sys.executable, "-m", "actuary.cli", "change", os.path.join(folder, "previous.xlsx"),
                   os.path.join(folder, "current.xlsx"), "--out", folder]
        subprocess.run(command, check=True, capture_output=True)
        with xr.open_dataset(os.path.join(folder, "current-change.nc")) as written:   # named after CURRENT
            scale = float(np.abs(ds.actuarial_balance).max())
            gap = float(np.abs(written.effect_actuarial_balance.values[1:] - ds.effect_actuarial_balance.values[1:])
                        .max()) / scale
        require(gap <= 1e-12, f"the command's netCDF = the in-process analysis (actuarial balance effects {gap:.1e})")
        print(f"load average before: {load()}")
        n = rounds or 7
        wall, low, high, cpu = timed(lambda: analysis_of_change(previous, current), n)
        print(f"default 7 steps, in process      {wall:6.2f} s wall (range {low:.2f}-{high:.2f}, {n} rounds), "
              f"{cpu:6.2f} s CPU; target <= 2 s")
        n = rounds or 3
        wall, low, high, cpu = timed(lambda: analysis_of_change(previous, current, all_orders=True), n)
        print(f"all 5,040 orders (128 cases)     {wall:6.2f} s wall (range {low:.2f}-{high:.2f}, {n} rounds), "
              f"{cpu:6.2f} s CPU; target <= 60 s")
        walls, cpus = [], []
        for _ in range(rounds or 3):
            start = time.perf_counter()
            before = os.times()
            subprocess.run(command, check=True, capture_output=True)
            after = os.times()
            walls.append(time.perf_counter() - start)
            cpus.append(after.children_user + after.children_system - before.children_user - before.children_system)
        print(f"actuary change, fresh process    {statistics.median(walls):6.2f} s wall (range {min(walls):.2f}-"
              f"{max(walls):.2f}, {len(walls)} runs), {statistics.median(cpus):6.2f} s CPU (two workbooks read, change "
              "workbook and netCDF written)")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
