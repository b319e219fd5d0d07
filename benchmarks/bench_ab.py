"""The insured kernel of a git revision against the checkout's, in one process: Demoland's open-group, closed-group
and accrued-to-date calls (the arguments captured from the runs), the two kernels called alternately, pinned to one
core, then ``Valuation.run()`` with either kernel, alternately. Prints each median, their ratio (revision / checkout:
above 1, the checkout is faster) and the median of the call-by-call ratios.

Why alternately: this machine's speed moves by up to 1.8x within a minute (``bench_machine.py``); a figure
measured before a change and one measured after it compare the machine's two states as much as the code. Calls
alternating within the same seconds see the same machine.

    .venv/bin/python benchmarks/bench_ab.py REVISION [--calls 60]
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import max_relative_difference, require  # noqa: E402

from actuary import Valuation, projection  # noqa: E402
from actuary.kernels import scheme  # noqa: E402
from actuary.projection import build_kernel_inputs, run_kernels  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("active_out", "inactive_out", "new_entrants", "active_deaths", "retirements", "exits", "withdrawals",
           "invalidity", "inactive_deaths", "inactive_retirements", "reentries", "awards_count", "awards_amount",
           "awards_top_up", "wage_bill", "contributors", "grants", "grant_count", "exit_refunds")


def kernels_at(revision: str):
    """actuary/kernels/scheme.py at ``revision``, imported as a module of its own (in a folder named after the
    commit, so that Numba's cache of it is reused by the next run)."""
    commit = subprocess.run(["git", "rev-parse", "--short", revision], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    source = subprocess.run(["git", "show", f"{commit}:actuary/kernels/scheme.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    path = Path(tempfile.gettempdir()) / "actuary-bench-ab" / commit / f"scheme_{commit}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != source:
        path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return commit, module


def captured_calls(valuation) -> dict:
    """The insured kernel's arguments (copies taken before it writes) in the open, closed and accrued runs."""
    kin = build_kernel_inputs(valuation.inputs)
    calls = {}
    for mode in ("open", "closed", "accrued"):
        def capture(**arguments):
            calls[mode] = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in arguments.items()}
            scheme.insured_kernel(**arguments)
        projection.insured_kernel = capture
        try:
            run_kernels(kin, valuation.inputs.settings["min_age"], "kernel", mode=mode)
        finally:
            projection.insured_kernel = scheme.insured_kernel
    return calls


def copied(arguments: dict) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in arguments.items()}


def alternate(first, second, calls: int) -> tuple[float, float, float]:
    """Median seconds of ``first()`` and ``second()`` called alternately (which goes first alternating too), and
    the median of the call-by-call ratios first / second."""
    times = ([], [])
    for i in range(calls):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            (first, second)[which]()
            times[which].append(time.perf_counter() - start)
    return (statistics.median(times[0]), statistics.median(times[1]),
            statistics.median(a / b for a, b in zip(*times)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision")
    parser.add_argument("--calls", type=int, default=60)
    options = parser.parse_args()
    commit, old = kernels_at(options.revision)
    valuation = Valuation.demo()
    calls = captured_calls(valuation)
    for mode, arguments in calls.items():
        before, after = copied(arguments), copied(arguments)
        old.insured_kernel(**before)
        scheme.insured_kernel(**after)
        difference = max(max_relative_difference(after[name], before[name]) for name in OUTPUTS)
        require(difference <= 1e-12, f"{mode} run: the checkout's insured kernel = {commit}'s on every output "
                                     f"(max relative difference {difference:.1e})")
    print(f"# bench_ab: insured kernel at {commit} / the checkout's, {options.calls} calls each, alternating")
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else [None]
    allowed = cores
    for core in cores:
        if core is not None:
            os.sched_setaffinity(0, {core})
        for mode, arguments in calls.items():
            before, after = copied(arguments), copied(arguments)
            a, b, pairwise = alternate(lambda: old.insured_kernel(**before), lambda: scheme.insured_kernel(**after),
                                       options.calls)
            print(f"core {core}, {mode:8s} {commit} {a * 1e3:7.3f} ms   checkout {b * 1e3:7.3f} ms   ratio {a / b:.3f}"
                  f"   call by call {pairwise:.3f}")
    if cores[0] is not None:
        os.sched_setaffinity(0, set(allowed))

    def run_with(kernel):
        projection.insured_kernel = kernel
        try:
            return valuation.run()
        finally:
            projection.insured_kernel = scheme.insured_kernel

    a, b = run_with(old.insured_kernel).summary, run_with(scheme.insured_kernel).summary
    difference = max(max_relative_difference(b[name].values, a[name].values) for name in a.data_vars
                     if a[name].dtype.kind == "f")
    require(difference <= 1e-12, f"run() summary with the checkout's insured kernel = with {commit}'s "
                                 f"(max relative difference {difference:.1e})")
    a, b, pairwise = alternate(lambda: run_with(old.insured_kernel), lambda: run_with(scheme.insured_kernel),
                               options.calls)
    print(f"Valuation.run() (2 threads)  {commit} {a * 1e3:7.3f} ms   checkout {b * 1e3:7.3f} ms   ratio {a / b:.3f}"
          f"   call by call {pairwise:.3f}")


if __name__ == "__main__":
    main()
