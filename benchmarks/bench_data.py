"""`actuary data` on a large synthetic extract: N insured records (default 10,000,000, drawn from
Demoland by `actuary synth`, with Demoland's pensioners at the same sampling fraction: about 3
million more), checked and aggregated from Parquet and from CSV, each in a fresh process whose
wall time and peak resident memory (the child's ru_maxrss) are measured. The command includes
reading the valuation workbook, writing the checks workbook and filling and re-validating the
valuation workbook (a fixed cost of a few seconds); the in-process time of the checks and the
aggregation alone is printed too.

    python benchmarks/bench_data.py [--records 10000000] [--keep FOLDER]

Targets (issue 17): <= 60 s and <= 4 GB peak memory for 10,000,000 insured records.
"""

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from actuary import Valuation
from actuary.data import checks
from actuary.data.intake import check_and_aggregate, connection
from actuary.data.sources import Source
from actuary.data.synth import synthesize
from actuary.valuation import DEMOLAND


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed_child(arguments: list[str]) -> tuple[float, float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in GB, exit code and output of a child."""
    start = time.perf_counter()
    child = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024 ** 2, os.waitstatus_to_exitcode(status), output


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="Keep (and reuse) the generated extracts in this folder.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-data-"))
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / "manifest.json"
    start = time.perf_counter()
    if manifest_path.exists():
        import json

        manifest = json.loads(manifest_path.read_text())
        assert manifest["members"] == args.records, "the kept folder holds another extract size"
    else:
        manifest = synthesize(Valuation.demo(), args.records, 17, folder, fmt="parquet")
    files = manifest["files"]
    for name in ("insured", "pensioners"):
        csv = folder / files[name].replace(".parquet", ".csv")
        if not csv.exists():
            duckdb.sql(f"COPY (SELECT * FROM read_parquet('{folder / files[name]}')) TO '{csv}' (HEADER, "
                       "DATEFORMAT '%Y-%m-%d', TIMESTAMPFORMAT '%Y-%m-%d')")
    print(f"# bench_data: {manifest['members']:,} insured + {manifest['pensioners']:,} pensioner records from "
          f"Demoland (prepared in {time.perf_counter() - start:.0f} s); duckdb {duckdb.__version__}, "
          f"{os.cpu_count()} cores")
    for fmt in ("parquet", "csv"):
        members = folder / files["insured"].replace(".parquet", f".{fmt}")
        pensioners = folder / files["pensioners"].replace(".parquet", f".{fmt}")
        size = (members.stat().st_size + pensioners.stat().st_size) / 1024 ** 2
        workbook = folder / "case.xlsx"
        shutil.copy(DEMOLAND / "valuation.xlsx", workbook)
        before = load_average()
        wall, cpu, rss, code, output = timed_child(
            [sys.executable, "-m", "actuary.cli", "data", "--members", str(members), "--pensioners", str(pensioners),
             "--controls", str(folder / files["controls"]), "--valuation-date", manifest["valuation_date"],
             "--weight", repr(manifest["weight"]), "--into", str(workbook), "--out", str(folder / "out")])
        assert code == 0, output
        valuation = Valuation.demo()
        p = checks.Parameters.from_valuation(valuation, dt.date(2020, 1, 1), weight=manifest["weight"])
        start = time.perf_counter()
        with connection() as con:
            result, state = check_and_aggregate(con, Source(str(members)), Source(str(pensioners)), valuation, p)
        inside = time.perf_counter() - start
        print(f"{fmt:8s} ({size:,.0f} MB): actuary data end to end {wall:6.1f} s wall, {cpu:6.1f} s CPU, peak memory "
              f"{rss:.2f} GB (targets 60 s, 4 GB); checks + aggregation in process {inside:6.1f} s; "
              f"{result.hits_total} records hit; load average before {before}")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
