"""`actuary report --with-sensitivity --with-stochastic 1000` on Demoland end to end in fresh processes
(warm Numba cache): reading the workbook, the valuation, 21 sensitivity scenarios, 1,000 stochastic
paths, the figures, the HTML and the PDF printed by headless Chromium. Target: <= 15 s.

The report's headline numbers are checked against an in-process run before any time is printed; times
are medians over runs with their range, with the machine's load average beside them (the figures are
wall-clock times on whatever else the machine is doing), and the CPU time the command and Chromium
used. The same steps are then timed one after the other inside one process to show where the time
goes (the command itself runs the stochastic paths beside the sensitivity scenarios).

    python benchmarks/bench_report.py [RUNS]
"""

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, require  # noqa: E402

from actuary import Valuation  # noqa: E402
from actuary.report.findings import headline  # noqa: E402
from actuary.report.pdf import engine  # noqa: E402

COMMAND = ["report", "--with-sensitivity", "--with-stochastic", "1000"]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print(f"# bench_report: actuary {' '.join(COMMAND)} (Demoland), fresh process, warm cache; PDF by {engine()}")
    print(core_speeds())
    expected = headline(Valuation.demo().run())   # also warms the Numba cache
    times, cpu, loads = [], [], [load()]
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "actuary.cli", *COMMAND, "--out", out], check=True,
                           capture_output=True)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            loads.append(load())
        html = (Path(out) / "demoland-report.html").read_text()
        shown = dict(re.findall(r'data-headline="([^"]+)">([^<]*)<', html))
        wrong = {k: (shown.get(k), v) for k, v in expected.items() if shown.get(k) != v and k != "gap_full"}
        require(not wrong, f"the report's headline numbers = an in-process run ({wrong or 'all equal'})")
        require(engine() is None or (Path(out) / "demoland-report.pdf").stat().st_size > 100_000,
                "the PDF was printed")
    print(f"end to end: median {statistics.median(times):.2f} s (range {min(times):.2f}-{max(times):.2f} s over "
          f"{len(times)} runs; target <= 15 s); CPU time of the command and Chromium: median "
          f"{statistics.median(cpu):.2f} s (on up to {os.cpu_count()} cores)")
    print("machine: " + "; ".join(dict.fromkeys(loads)))
    phases()


def phases():
    """The same steps in one process, timed one by one."""
    from actuary.batch import sensitivity
    from actuary.cli import _load_case
    from actuary.report import build
    from actuary.report.pdf import print_pdf
    from actuary.stochastic import simulate

    laps = []
    start = time.perf_counter()

    def lap(name):
        nonlocal start
        now = time.perf_counter()
        laps.append(f"{name} {now - start:.2f} s")
        start = now

    _, valuation = _load_case(None)
    lap("read + validate")
    results = valuation.run()
    lap("valuation")
    scenarios = sensitivity(valuation)
    lap("sensitivity (23 runs)")
    paths = simulate(valuation, 1000)
    lap("stochastic (1,000 paths)")
    html = build(valuation, results, scenarios, paths)
    lap("figures + HTML")
    with tempfile.TemporaryDirectory() as out:
        page = Path(out) / "r.html"
        page.write_text(html)
        if engine():
            print_pdf(page, Path(out) / "r.pdf")
            lap("PDF")
    print("in one process: " + ", ".join(laps) + f" ({load()})")


if __name__ == "__main__":
    main()
