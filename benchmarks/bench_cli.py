"""`actuary valuate` end to end on Demoland in a fresh process with a warm Numba cache: reading
the workbook, validating, projecting (valuation + 3 closed-group runs), writing the results
workbook and netCDF. Also the same steps timed inside one process, to show where the time goes.
The command's netCDF output is checked against an in-process run before any time is printed;
times are medians over runs with their range.

    python benchmarks/bench_cli.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, max_relative_difference, require  # noqa: E402

import xarray as xr  # noqa: E402

from actuary import Valuation, load_workbook  # noqa: E402
from actuary.io.results import write_results  # noqa: E402
from actuary.valuation import DEMOLAND  # noqa: E402


def main():
    print("# bench_cli: actuary valuate (Demoland workbook -> results workbook + netCDF), fresh process, warm cache")
    print(core_speeds())
    expected = Valuation.demo().run()  # also warms the Numba cache
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "actuary.cli", "valuate", "--out", out], check=True,
                           capture_output=True)
            times.append(time.perf_counter() - start)
        with xr.open_dataset(os.path.join(out, "demoland-results.nc")) as written:
            diff = max_relative_difference(written["summary_gap"].values, expected.summary.gap.values)
            reserve = max_relative_difference(written["reserve"].values, expected.projection.reserve.values)
        require(max(diff, reserve) <= 1e-12, f"the command's netCDF = an in-process run (GAP {diff:.1e}, reserve "
                                             f"{reserve:.1e})")
        print(f"end to end: median {statistics.median(times):.2f} s (range {min(times):.2f}-{max(times):.2f} s over "
              f"{len(times)} runs; target <= 10 s)")
        start = time.perf_counter()
        valuation = load_workbook(DEMOLAND / "valuation.xlsx")
        read = time.perf_counter() - start
        start = time.perf_counter()
        results = valuation.run()
        run = time.perf_counter() - start
        start = time.perf_counter()
        write_results(results, valuation, os.path.join(out, "r.xlsx"))
        write_xlsx = time.perf_counter() - start
        start = time.perf_counter()
        results.projection.to_netcdf(os.path.join(out, "r.nc"))
        write_nc = time.perf_counter() - start
    print(f"in one process: read + validate workbook {read:.2f} s, run (4 projections + indicators) {run:.2f} s, "
          f"results workbook {write_xlsx:.2f} s, netCDF {write_nc:.2f} s")


if __name__ == "__main__":
    main()
