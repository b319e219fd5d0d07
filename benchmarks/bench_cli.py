"""`actuary valuate` end to end on Demoland in a fresh process with a warm Numba cache: reading
the workbook, validating, projecting (valuation + 3 closed-group runs), writing the results
workbook and netCDF. Also the same steps timed inside one process, to show where the time goes.

    python benchmarks/bench_cli.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))

from actuary import Valuation, load_workbook  # noqa: E402
from actuary.io.results import write_results  # noqa: E402
from actuary.valuation import DEMOLAND  # noqa: E402


def main():
    print("# bench_cli: actuary valuate (Demoland workbook -> results workbook + netCDF), fresh process, warm cache")
    Valuation.demo().run()  # warm the Numba cache
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "actuary.cli", "valuate", "--out", out], check=True,
                           capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"end to end: best {min(times):.2f} s, median {statistics.median(times):.2f} s over {len(times)} runs "
              f"(target <= 10 s)")
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
