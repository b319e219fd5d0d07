"""Batch runs on Demoland over 100 years, measured in the same run:

- stochastic paths per second in process on 1 and 2 threads and on a 2-worker Dask LocalCluster
  (cluster start and shutdown included; the 2-thread and Dask runs alternate, three times each, and
  their ratio is the median of the run-by-run ratios), after checking that the three give the same percentiles
  (to 1e-12) and that sampled paths of the batch kernel equal full ``Valuation.run()`` projections;
- the like-for-like baseline: ``Valuation.run()`` in a Python loop on path valuations validated
  beforehand (validation is not timed; the balance sheet is off, as in the batch), and the same loop
  including validation, labelled as such;
- deterministic scenarios per second (each overriding one input of the base) through
  ``run_scenarios``;
- peak resident memory of a fresh process running 1,000 and N stochastic paths (measured by the
  operating system, not computed from array sizes).

    python benchmarks/bench_batch.py [--paths 10000] [--rss-paths 100000] [--scenarios 40] [--repeats 3]
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, max_relative_difference, peak_rss, require  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

from actuary import Valuation  # noqa: E402
from actuary.batch import Scenario, Shift, run_scenarios  # noqa: E402
from actuary.kernels.batch import INDICATORS  # noqa: E402
from actuary.stochastic import StochasticParameters, draw_paths, pack, path_valuation, run_chunk, simulate  # noqa: E402


def rate(n, seconds, unit="paths"):
    return f"{n / seconds:8.1f} {unit}/s ({seconds:7.2f} s for {n:,} {unit})"


def timed(function, repeats=1):
    """(result of the last call, median wall time over ``repeats`` calls)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def percentiles_difference(a, b) -> float:
    return max(max_relative_difference(a[k].values, b[k].values, 1e-12) for k in a.data_vars)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--rss-paths", type=int, default=100_000)
    parser.add_argument("--scenarios", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="alternating in-process and Dask runs")
    args = parser.parse_args()
    n = args.paths
    base = Valuation.demo()
    threads = numba.config.NUMBA_NUM_THREADS
    print(f"# bench_batch: Demoland, {base.inputs.settings['horizon']} years, {n:,} stochastic paths, "
          f"{os.cpu_count()} cores, numba {numba.__version__}")
    print(core_speeds())
    simulate(base, 50, seed=1)  # compile / load the cache

    # checks first: batch kernel paths = full valuations, and the three executions agree
    params = StochasticParameters()
    sample = list(range(0, 1000, 250))
    draws = draw_paths(base.inputs, params, 1, sample)
    batch = run_chunk(pack(base), params, 1, sample)
    quick = base.replace(settings={"balance_sheet": "no"})
    worst = 0.0
    for i in range(len(sample)):
        p = path_valuation(quick, draws, i).run().projection
        for k, name in enumerate(INDICATORS):
            worst = max(worst, max_relative_difference(batch[i, k], p[name].values, 1e-6))
    require(worst <= 1e-9, f"batch kernel = Valuation.run() on sampled paths {sample} (max relative difference "
                           f"{worst:.1e} over {len(INDICATORS)} indicators)")

    results, timings = {}, {}
    numba.set_num_threads(1)
    results["in process, 1 thread"], timings["in process, 1 thread"] = timed(lambda: simulate(base, n, seed=1))
    numba.set_num_threads(threads)
    # the 2-thread and Dask runs alternate, args.repeats times each: the machine's speed drifts from minute to
    # minute by more than the difference measured, so each Dask run is compared with the run beside it
    label = f"in process, {threads} threads"
    pairs = []
    for _ in range(args.repeats):
        results[label], in_process = timed(lambda: simulate(base, n, seed=1))
        results["dask"], dask_time = timed(lambda: simulate(base, n, seed=1, workers=2))
        pairs.append((in_process, dask_time))
    timings[label] = statistics.median(p[0] for p in pairs)
    timings["dask"] = statistics.median(p[1] for p in pairs)
    labels = list(results)
    worst = max(percentiles_difference(results[labels[0]], results[x]) for x in labels[1:])
    require(worst <= 1e-12, f"1 thread = {threads} threads = Dask: percentiles and P(depletion) of {n:,} paths "
                            f"(max relative difference {worst:.1e})")
    for label in labels[:2]:
        print(f"{label:34s} {rate(n, timings[label])}{'' if label.endswith('1 thread') else f' (median of {args.repeats})'}")
    print(f"{'Dask LocalCluster, 2 workers':34s} {rate(n, timings['dask'])} (median of {args.repeats}; cluster start "
          "and shutdown included)")
    ratios = sorted(d / p for p, d in pairs)
    print(f"Dask / in process, run by run (each Dask run against the in-process run before it): "
          f"{', '.join(f'{r:.3f}' for r in ratios)}; median {statistics.median(ratios):.3f}")

    loop_n = 40
    loop_draws = draw_paths(base.inputs, params, 1, range(loop_n))
    start = time.perf_counter()
    valuations = [path_valuation(quick, loop_draws, i) for i in range(loop_n)]
    validation = time.perf_counter() - start
    start = time.perf_counter()
    for valuation in valuations:
        valuation.run()
    loop = time.perf_counter() - start
    print(f"{'Valuation.run() loop, validated':34s} {rate(loop_n, loop)} (validation beforehand, not timed)")
    print(f"{'the same including validation':34s} {rate(loop_n, loop + validation)} (validation "
          f"{1e3 * validation / loop_n:.0f} ms a path)")
    best = timings[f"in process, {threads} threads"]
    print(f"ratios: batch {threads} threads / validated Python loop {(n / best) / (loop_n / loop):6.1f}x; "
          f"{threads} threads / 1 thread {timings['in process, 1 thread'] / best:4.2f}x; "
          f"Dask / in process {statistics.median(ratios):4.2f} (time, median of the run-by-run ratios; target <= 1.15)")
    print(f"stochastic target: >= 700 paths/s on {threads} threads in process (measured "
          f"{n / best:.0f})")

    scenarios = [Scenario(f"return {k}", {"economy.nominal_return": Shift(0.0005 * (k + 1))})
                 for k in range(args.scenarios)]
    out = run_scenarios(base, scenarios[:2])  # warm
    out, seconds = timed(lambda: run_scenarios(base, scenarios))
    require(not out.attrs["failed"], "every scenario ran")
    check = scenarios[len(scenarios) // 2].apply(base.replace(settings={"balance_sheet": "no"})).run()
    diff = max_relative_difference(out.gap.sel(scenario=scenarios[len(scenarios) // 2].name).values,
                                   check.summary.gap.values)
    require(diff <= 1e-12, f"a scenario of the batch = its own Valuation.run() (GAP, {diff:.1e})")
    print(f"{'deterministic scenarios, 1 input':34s} {rate(len(scenarios), seconds, 'scenarios')} "
          f"(target >= 40 scenarios/s)")

    code = ("from actuary import Valuation\nfrom actuary.stochastic import simulate\n"
            "simulate(Valuation.demo(), {n}, seed=1)\n")
    small = peak_rss(code.format(n=1000))
    large = peak_rss(code.format(n=args.rss_paths))
    print(f"peak RSS of a fresh process: {small / 1e6:7.1f} MB for 1,000 paths, {large / 1e6:7.1f} MB for "
          f"{args.rss_paths:,} paths (ratio {large / small:4.2f}; target: flat)")


if __name__ == "__main__":
    main()
