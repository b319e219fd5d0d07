"""Stochastic Demoland paths over 100 years: paths per second in process on 1 and 2 threads, on a
2-worker Dask LocalCluster, and running Valuation.run() in a Python loop, measured in the same run;
and the memory of the streamed percentile summary for two numbers of paths.

    python benchmarks/bench_batch.py [--paths 10000]
"""

import argparse
import os
import time

import numba

from actuary import Valuation
from actuary.stochastic import (StochasticParameters, StreamedPercentiles, draw_paths, pack, path_valuation,
                                run_chunk, simulate)


def rate(n, seconds):
    return f"{n / seconds:8.1f} paths/s ({seconds:6.2f} s for {n:,} paths)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", type=int, default=10_000)
    args = parser.parse_args()
    n = args.paths
    base = Valuation.demo()
    threads = numba.config.NUMBA_NUM_THREADS
    print(f"# bench_batch: Demoland, {base.inputs.settings['horizon']} years, {n:,} stochastic paths, "
          f"{os.cpu_count()} cores, numba {numba.__version__}")
    simulate(base, 50, seed=1)  # compile / load the cache
    timings = {}
    for label, kwargs in (("in process, 1 thread", {"threads": 1}), (f"in process, {threads} threads", {})):
        numba.set_num_threads(kwargs.get("threads", threads))
        start = time.perf_counter()
        simulate(base, n, seed=1)
        timings[label] = time.perf_counter() - start
        print(f"{label:32s} {rate(n, timings[label])}")
    numba.set_num_threads(threads)
    start = time.perf_counter()
    simulate(base, n, seed=1, workers=2)
    timings["dask"] = time.perf_counter() - start
    print(f"{'Dask LocalCluster, 2 workers':32s} {rate(n, timings['dask'])} (cluster start included)")
    loop_n = 40
    params = StochasticParameters()
    draws = draw_paths(base.inputs, params, 1, range(loop_n))
    quick = base.replace(settings={"balance_sheet": "no"})
    start = time.perf_counter()
    for i in range(loop_n):
        path_valuation(quick, draws, i).run()
    loop = time.perf_counter() - start
    print(f"{'Valuation.run() in a Python loop':32s} {rate(loop_n, loop)}")
    best = timings[f"in process, {threads} threads"]
    print(f"ratios: batch {threads} threads / Python loop {(n / best) / (loop_n / loop):6.1f}x; "
          f"{threads} threads / 1 thread {timings['in process, 1 thread'] / best:4.2f}x; "
          f"Dask / in process {timings['dask'] / best:4.2f} (time)")
    packed = pack(base)
    sizes = []
    for count in (1_000, n):
        reducer = StreamedPercentiles(run_chunk(packed, params, 1, range(20)))
        sizes.append(reducer.counts.nbytes + reducer.low.nbytes * 4)
    print(f"percentile summary memory: {sizes[0] / 1e6:.1f} MB for 1,000 paths, {sizes[1] / 1e6:.1f} MB for "
          f"{n:,} paths (fixed histograms; paths themselves are not kept)")


if __name__ == "__main__":
    main()
