"""Small timing helpers shared by the benchmarks (best of several repeats, wall clock)."""

import time


def best_time(function, repeats=5, min_total=0.2):
    """Best wall time of one call, over ``repeats`` rounds of enough calls to last ``min_total`` s."""
    function()
    start = time.perf_counter()
    function()
    single = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(min_total / single))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def fmt(seconds):
    return f"{seconds * 1e3:9.3f} ms" if seconds < 10 else f"{seconds:9.2f} s"
