"""Timing, checking and memory helpers shared by the benchmarks.

- :func:`measure` times a call over several rounds and reports the median per-call time with its
  spread (quartiles over rounds), never the best: a best-of-N hides the noise that a user sees.
- :func:`cold_call` times single calls that cannot reuse the memory of the previous call (freed
  memory is handed back to the operating system and the caches are flushed before each call), so
  page faults of fresh output arrays are counted: the time of a call in a new scenario, not of a
  tight loop.
- :func:`require` stops a benchmark loudly (exit 1) when its results are wrong: no time is printed
  for a result that was not checked.
- :func:`peak_rss` runs Python code in a fresh subprocess and returns the peak resident set size
  that the operating system measured for it (not an estimate from array sizes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Per-call wall times over rounds: median, first and third quartiles, number of rounds."""

    median: float
    q1: float
    q3: float
    rounds: int
    calls_per_round: int

    def __str__(self):
        return f"{fmt(self.median)} (IQR {fmt(self.q1).strip()}-{fmt(self.q3).strip()}, {self.rounds} rounds)"


def _quartiles(values):
    values = sorted(values)
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def measure(function, rounds: int = 7, min_total: float = 0.2) -> Timing:
    """Median per-call wall time of ``function`` over ``rounds`` rounds, each of enough calls to last
    about ``min_total`` seconds (one warm-up call first)."""
    function()
    start = time.perf_counter()
    function()
    single = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(min_total / single))
    per_call = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        per_call.append((time.perf_counter() - start) / calls)
    q1, q3 = _quartiles(per_call)
    return Timing(statistics.median(per_call), q1, q3, rounds, calls)


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_EVICT = np.zeros(64 * 1024 * 1024 // 8)   # 64 MB: larger than this machine's caches


def _forget_memory():
    """Return freed heap memory to the operating system and flush the CPU caches."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
    np.add(_EVICT, 1.0, out=_EVICT)


def cold_call(function, rounds: int = 7) -> Timing:
    """Median wall time of single calls, each after the memory of the previous call was returned to
    the operating system and the caches flushed (page faults and cache misses included)."""
    function()
    per_call = []
    for _ in range(rounds):
        _forget_memory()
        start = time.perf_counter()
        function()
        per_call.append(time.perf_counter() - start)
    q1, q3 = _quartiles(per_call)
    return Timing(statistics.median(per_call), q1, q3, rounds, 1)


def require(condition: bool, what: str) -> None:
    """Stop the benchmark (exit status 1) if a result check fails."""
    if not condition:
        print(f"BENCHMARK CHECK FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)
    print(f"check: {what}")


def max_relative_difference(a, b, floor: float = 1e-300) -> float:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    both_nan = np.isnan(a) & np.isnan(b)
    diff = np.where(both_nan, 0.0, np.abs(a - b) / np.maximum(np.abs(b), floor))
    return float(np.max(diff)) if diff.size else 0.0


def peak_rss(code: str) -> float:
    """Peak resident set size (bytes) of a fresh Python process running ``code``, as measured by the
    operating system (``getrusage`` of that process at its end)."""
    wrapper = code + "\nimport resource, sys\nsys.stdout.write('\\nPEAK_RSS_KB=%d\\n' % " \
                     "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    result = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"peak_rss subprocess failed:\n{result.stderr[-2000:]}")
    line = [x for x in result.stdout.splitlines() if x.startswith("PEAK_RSS_KB=")][-1]
    return int(line.split("=")[1]) * 1024.0


def fmt(seconds):
    return f"{seconds * 1e3:9.3f} ms" if seconds < 10 else f"{seconds:9.2f} s"


def _loop_time(n: int = 1_000_000) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - start


def core_speeds() -> str:
    """A line saying how fast each core of the machine runs pure Python now: a fixed loop (a million additions,
    median of 5) timed with this process pinned to each core in turn. On a shared virtual machine the cores need
    not run at one speed, nor keep it: a figure measured on two threads goes at the pace of the slower. The loop
    is a probe of the interpreter's speed only (seen here: the insured kernel ran 1.7 times slower on one core
    than on the other for minutes, then the other way round, while this loop ran at one speed on both; see
    bench_projection's kernel timed on each core)."""
    import os

    if not hasattr(os, "sched_setaffinity"):
        return "# cores: (this platform cannot pin a process to a core)"
    allowed = os.sched_getaffinity(0)
    speeds = []
    try:
        for core in sorted(allowed):
            os.sched_setaffinity(0, {core})
            speeds.append((core, statistics.median(_loop_time() for _ in range(5))))
    finally:
        os.sched_setaffinity(0, allowed)
    return ("# cores now (a fixed Python loop pinned to each): "
            + ", ".join(f"core {core} {1e3 * seconds:.0f} ms" for core, seconds in speeds))
