"""How little a cell of the insured kernel can cost on this machine: the kernel's flows pass alone, over the kernel's
own occupied cells, against the whole kernel, in one process, alternating, pinned to each core.

The flows pass is the least work any cell-by-cell projection of actives and inactive insured by (sex, age, service)
does: read a cell's eight planes (heads, refund balance, exact service, accrued units of actives and of inactive
insured), clear them, and write next year's cell from this cell and the one below it (credited stayers move up a
year of service) with the decrements' shares: 8 loads, 8 clears, 8 stores and some 40 floating-point operations a
cell, no awards, no accrual. ``flows_only`` below does exactly that, branch-free, compiled as the kernel is
(``fastmath`` without finite-math assumptions, ``error_model="numpy"``), over the rows and service spans the
open-group run of Demoland occupies year by year (read from the kernel's own stocks). Its time per occupied
cell-year is a floor for the kernel's: a target below it cannot be met by restructuring the kernel's loops, only by
doing a cell's work for several cells at once (SIMD), which LLVM does not do for these loops (the eight planes of one
array cannot be told apart at compile time; with each plane an array of its own it needs more run-time alias checks
than its limits allow).

    .venv/bin/python benchmarks/bench_cell_bound.py [--calls 40]
"""

import argparse
import os
import statistics
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, require  # noqa: E402
from bench_ab import captured_calls, copied  # noqa: E402

from actuary import Valuation  # noqa: E402
from actuary.kernels import scheme  # noqa: E402
from actuary.kernels.scheme import (ACTIVE, BALANCE, INACTIVE, INACTIVE_BALANCE, INACTIVE_SERVICE,  # noqa: E402
                                    INACTIVE_UNITS, NEXT, SERVICE, UNITS)

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
SHARES = np.array([0.88, 0.05, 0.03, 0.90, 0.04, 1.03, 0.01, 0.5])  # credited, uncredited, leaving, stay out, back in,
# growth, mid-year contribution, half a year's credit


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH)
def flows_only(work, rows, year_start, shares):
    """The flows pass over ``rows[i] = (sex, age, last occupied service)`` of each year (``year_start[t]``: the
    first row of year t), stocks (2, 2, ages, service, NEXT) in ``work`` as the kernel keeps them; returns the heads
    read over the run."""
    n_ages = work.shape[2]
    n_service = work.shape[3]
    top = n_service - 1
    stocks = work
    credited, uncredited, leaving, out_i, in_i, growth, mid, half = (shares[0], shares[1], shares[2], shares[3],
                                                                     shares[4], shares[5], shares[6], shares[7])
    here, there = 0, 1
    read = 0.0
    for t in range(year_start.size - 1):
        for i in range(year_start[t], year_start[t + 1]):
            s = rows[i, 0]
            a = rows[i, 1]
            last = rows[i, 2]
            to_age = a + 1 if a + 1 < n_ages else a
            carry_n = 0.0
            carry_service = 0.0
            carry_units = 0.0
            carry_balance = 0.0
            heads = 0.0
            for k in range(last + 1):
                ku = np.uint64(k)
                n = stocks[here, s, a, ku, ACTIVE]
                held = stocks[here, s, a, ku, BALANCE]
                served = stocks[here, s, a, ku, SERVICE]
                earned = stocks[here, s, a, ku, UNITS]
                m = stocks[here, s, a, ku, INACTIVE]
                m_held = stocks[here, s, a, ku, INACTIVE_BALANCE]
                m_served = stocks[here, s, a, ku, INACTIVE_SERVICE]
                m_earned = stocks[here, s, a, ku, INACTIVE_UNITS]
                for plane in range(NEXT):
                    stocks[here, s, a, ku, plane] = 0.0
                carried = held * growth
                stocks[there, s, to_age, ku, ACTIVE] = carry_n + n * uncredited + m * in_i
                stocks[there, s, to_age, ku, SERVICE] = carry_service + uncredited * served + in_i * m_served
                stocks[there, s, to_age, ku, UNITS] = carry_units + uncredited * earned + in_i * m_earned
                stocks[there, s, to_age, ku, BALANCE] = (carry_balance + uncredited * (carried + n * mid)
                                                         + in_i * m_held * growth)
                stocks[there, s, to_age, ku, INACTIVE] = n * leaving + m * out_i
                stocks[there, s, to_age, ku, INACTIVE_SERVICE] = leaving * (served + n * half) + out_i * m_served
                stocks[there, s, to_age, ku, INACTIVE_UNITS] = leaving * earned + out_i * m_earned
                stocks[there, s, to_age, ku, INACTIVE_BALANCE] = leaving * carried + out_i * m_held * growth
                carry_n = n * credited
                carry_service = credited * (served + n)
                carry_units = credited * earned
                carry_balance = credited * (carried + n * mid)
                heads += n + m
            if last < top:
                stocks[there, s, to_age, last + 1, ACTIVE] = carry_n
                stocks[there, s, to_age, last + 1, SERVICE] = carry_service
                stocks[there, s, to_age, last + 1, UNITS] = carry_units
                stocks[there, s, to_age, last + 1, BALANCE] = carry_balance
            else:
                stocks[there, s, to_age, top, ACTIVE] += carry_n
            read += heads
        here, there = there, here
    return read


def occupied_rows(arguments: dict) -> tuple[np.ndarray, np.ndarray, int]:
    """The (sex, age, last occupied service) rows of each year of the kernel's run, read from its stocks at 1 January
    of each year (the kernel run for t years leaves them in its working space), and the occupied cell-years."""
    n_years = arguments["q_active"].shape[0]
    rows, starts, cells = [], [0], 0
    for t in range(n_years):
        call = copied(arguments)
        call["q_active"] = call["q_active"][:max(t, 1)]
        if t > 0:
            scheme.insured_kernel(**call)
            stock = scheme.insured_stock(call["work"], t)
        else:
            stock = np.stack([arguments[name] for name in ("active0", "inactive0")], axis=-1)
        heads = stock[..., ACTIVE] + stock[..., INACTIVE] if t > 0 else stock[..., 0] + stock[..., 1]
        for s in range(2):
            for a in range(heads.shape[1]):
                held = np.nonzero(heads[s, a])[0]
                if held.size:
                    rows.append((s, a, held.max()))
                    cells += int(held.size)
        starts.append(len(rows))
    return np.array(rows, dtype=np.int64), np.array(starts, dtype=np.int64), cells


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40)
    options = parser.parse_args()
    valuation = Valuation.demo()
    arguments = captured_calls(valuation)["open"]
    rows, starts, cells = occupied_rows(arguments)
    n_years = starts.size - 1
    print(f"# bench_cell_bound: Demoland's open-group insured kernel, {n_years} years, {cells:,} occupied cell-years "
          f"in {rows.shape[0]:,} rows; numba {numba.__version__}")
    print(core_speeds())
    initial = np.zeros_like(arguments["work"]).reshape(2, 2, *arguments["active0"].shape[1:], NEXT)
    for plane, name in ((ACTIVE, "active0"), (INACTIVE, "inactive0"), (BALANCE, "balance_active0"),
                        (INACTIVE_BALANCE, "balance_inactive0"), (SERVICE, "service_active0"),
                        (INACTIVE_SERVICE, "service_inactive0"), (UNITS, "units_active0"),
                        (INACTIVE_UNITS, "units_inactive0")):
        initial[0, ..., plane] = arguments[name]
    # check: one year of the flows pass moves every head it reads to next year's stocks by the shares (conservation,
    # derived here without the kernel: heads x (credited + uncredited + leaving) + inactive x (stay out + back in))
    one = initial.copy()
    read = flows_only(one, rows, starts[:2], SHARES)
    first = rows[:starts[1]]
    expected = sum(initial[0, s, a, :last + 1, ACTIVE].sum() * SHARES[:3].sum()
                   + initial[0, s, a, :last + 1, INACTIVE].sum() * SHARES[3:5].sum() for s, a, last in first)
    moved = one[1, ..., ACTIVE].sum() + one[1, ..., INACTIVE].sum()
    held = sum(initial[0, s, a, :last + 1, ACTIVE].sum() + initial[0, s, a, :last + 1, INACTIVE].sum()
               for s, a, last in first)
    difference = max(abs(moved - expected) / expected, abs(read - held) / held)
    require(difference <= 1e-12, f"the flows pass conserves heads over a year (next year's = this year's x the "
                                 f"shares; max relative difference {difference:.1e})")

    call = copied(arguments)
    stocks = initial.copy()

    def kernel() -> float:
        start = time.perf_counter()
        scheme.insured_kernel(**call)
        return time.perf_counter() - start

    def bound() -> float:
        stocks[:] = initial   # the stocks at 1 January of the first year (not timed)
        start = time.perf_counter()
        flows_only(stocks, rows, starts, SHARES)
        return time.perf_counter() - start

    kernel()
    bound()
    cores = sorted(os.sched_getaffinity(0))
    for core in cores:
        os.sched_setaffinity(0, {core})
        times = ([], [])
        for i in range(options.calls):
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                times[which].append((kernel, bound)[which]())
        whole, floor = (statistics.median(x) for x in times)
        ratio = statistics.median(a / b for a, b in zip(*times))
        print(f"core {core}: insured kernel {whole * 1e3:6.3f} ms = {whole / cells * 1e9:5.1f} ns per occupied "
              f"cell-year; flows pass alone {floor * 1e3:6.3f} ms = {floor / cells * 1e9:5.1f} ns; kernel / flows "
              f"pass {ratio:.2f} (call by call)")
    os.sched_setaffinity(0, set(cores))


if __name__ == "__main__":
    main()
