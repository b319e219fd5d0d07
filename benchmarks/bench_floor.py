"""Cost of the social protection floor in ``Valuation.run()`` on Demoland (target: at most +5%).

Demoland as it ships, and Demoland with the floor of ``valuations/demoland-floor`` (four benefits:
a pension-tested social pension, a pension-tested disability benefit with prevalence by age, a
targeted child benefit phased in, a maternity benefit). Before any time is printed: every variable of
Demoland's results is the same to the bit with the floor beside it, and the floor's kernel equals its
NumPy reference (1e-9). The two runs are timed in alternating rounds (so that both see the same load
on a shared machine), by the wall clock and by the process's CPU time (less sensitive to other
processes on a loaded machine); the overhead is the median over rounds of the per-round ratio, with
its interquartile range. The machine's load average is printed before and after.

    python benchmarks/bench_floor.py
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, _quartiles, fmt, max_relative_difference, require  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

from actuary import Valuation, load_workbook  # noqa: E402
from actuary.valuation import PROJECT_ROOT  # noqa: E402

CASE = PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx"


def alternating(functions, rounds=41, min_total=0.5):
    """Per-call wall and CPU times of each function, in alternating rounds of the same number of calls."""
    for function in functions:
        function()
    start = time.perf_counter()
    functions[0]()
    calls = max(1, int(min_total / max(time.perf_counter() - start, 1e-7)))
    wall = [[] for _ in functions]
    cpu = [[] for _ in functions]
    for _ in range(rounds):
        for i, function in enumerate(functions):
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(calls):
                function()
            wall[i].append((time.perf_counter() - start) / calls)
            cpu[i].append((time.process_time() - start_cpu) / calls)
    return wall, cpu, calls


def report(clock, plain, floor, calls):
    ratios = [b / a for a, b in zip(plain, floor)]
    q1, q3 = _quartiles(ratios)
    for name, values in (("without floor", plain), ("with floor   ", floor)):
        low, high = _quartiles(values)
        print(f"Valuation.run() {name} {clock} {fmt(statistics.median(values))} (IQR {fmt(low).strip()}-"
              f"{fmt(high).strip()}, {len(values)} rounds of {calls} calls)")
    overhead = statistics.median(ratios) - 1
    print(f"floor overhead ({clock}): median {100 * overhead:+.1f}% (IQR {100 * (q1 - 1):+.1f}% to "
          f"{100 * (q3 - 1):+.1f}% over rounds; target <= +5%)")


def main():
    base = Valuation.demo()
    floored = load_workbook(CASE)
    print(f"# bench_floor: Demoland {base.inputs.settings['horizon']} years, floor of {CASE.parent.name} "
          f"({floored.inputs.coords['floor_benefit'].size} benefits); numba {numba.__version__}, numpy "
          f"{np.__version__}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    print(core_speeds())
    without, with_floor = base.run(), floored.run()
    same = all(np.array_equal(without.projection[k].values, with_floor.projection[k].values, equal_nan=True)
               for k in without.projection.data_vars)
    same &= all(np.array_equal(without.summary[k].values, with_floor.summary[k].values, equal_nan=True)
                for k in without.summary.data_vars)
    require(same, "every variable of Demoland's results is the same to the bit with the floor beside it")
    reference = floored.run("reference").projection
    agree = max(max_relative_difference(with_floor.projection[k].values, reference[k].values)
                for k in ("floor_cost", "floor_beneficiaries", "fiscal_cost"))
    require(agree <= 1e-9, f"floor kernel = NumPy reference (max relative difference {agree:.1e})")

    wall, cpu, calls = alternating([base.run, floored.run])
    report("wall", *wall, calls)
    report("CPU ", *cpu, calls)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
