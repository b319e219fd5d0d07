"""Demoland valuation over 100 years (2 sexes, ages 15-120, service 0-50): warm time per valuation
of the kernels alone and of Valuation.run(), the same for the NumPy reference, and their ratios,
measured in the same run. Also the first call in a fresh process (Numba cache warm).

    python benchmarks/bench_projection.py
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import best_time, fmt  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

from actuary import Valuation  # noqa: E402
from actuary.projection import build_kernel_inputs, run_kernels  # noqa: E402

FRESH = ("import time; t = time.perf_counter(); from actuary import Valuation; v = Valuation.demo(); r = v.run(); "
         "print(time.perf_counter() - t)")


def main():
    valuation = Valuation.demo()
    s = valuation.inputs.settings
    print(f"# bench_projection: Demoland, {s['horizon']} years, ages {s['min_age']}-{s['max_age']}, service "
          f"0-{s['max_service']}; numba {numba.__version__}, numpy {np.__version__}")
    kin = build_kernel_inputs(valuation.inputs)
    lo = s["min_age"]
    kernels = best_time(lambda: run_kernels(kin, lo, "kernel"))
    reference = best_time(lambda: run_kernels(kin, lo, "reference"), repeats=3)
    run_kernel = best_time(lambda: valuation.run())
    run_reference = best_time(lambda: valuation.run("reference"), repeats=3)
    a, b = run_kernels(kin, lo, "kernel"), run_kernels(kin, lo, "reference")
    agree = max(float(np.max(np.abs(a[k] - b[k]) / np.maximum(np.abs(b[k]), 1e-300))) for k in a
                if isinstance(a[k], np.ndarray) and a[k].size)
    print(f"kernels alone      kernel {fmt(kernels)}   reference {fmt(reference)}   ratio {reference / kernels:6.1f}x")
    print(f"Valuation.run()    kernel {fmt(run_kernel)}   reference {fmt(run_reference)}   "
          f"ratio {run_reference / run_kernel:6.1f}x")
    print(f"max relative difference kernel vs reference: {agree:.1e}")
    fresh = []
    for _ in range(3):
        start = time.perf_counter()
        inner = float(subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, check=True).stdout)
        fresh.append((time.perf_counter() - start, inner))
    best = min(fresh)
    print(f"fresh process (Numba cache warm): import + Demoland load + first run {best[1]:.2f} s "
          f"(whole interpreter {best[0]:.2f} s)")


if __name__ == "__main__":
    main()
