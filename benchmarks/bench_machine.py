"""How far this machine's speed moves on its own: the open-group insured kernel of Demoland (its arguments captured
from one run) timed pinned to each core in turn, alone and while a second process runs the same kernel in a loop
pinned to the other core, for a few rounds in a row.

What it measures: the spread of one fixed computation's time on one core over seconds, and whether the other core's
load moves it (two kernels sharing caches or memory bandwidth). What it does not: anything about the code (the same
code runs in every line); it is there so that a reader of the other benchmarks' absolute figures knows how far the
machine moves them. Needs a platform that can pin a process to a core (Linux) and two cores.

    .venv/bin/python benchmarks/bench_machine.py [--rounds 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _timing import max_relative_difference, require  # noqa: E402

from actuary import Valuation  # noqa: E402
from actuary.kernels.scheme import insured_kernel  # noqa: E402
from actuary.projection import build_kernel_inputs  # noqa: E402
from bench_projection import open_group_insured_call  # noqa: E402


def captured_arguments() -> dict:
    """The open-group insured kernel's arguments in Demoland's run, checked to give that run's actives."""
    valuation = Valuation.demo()
    kin = build_kernel_inputs(valuation.inputs)
    arguments = open_group_insured_call(kin, valuation.inputs.settings["min_age"])
    insured_kernel(**arguments)
    difference = max_relative_difference(arguments["active_out"], open_group_insured_call.outputs["active_out"])
    require(difference == 0.0, f"the captured kernel call gives the run's actives (max relative difference "
                               f"{difference:.1e})")
    return arguments


def median_ms(arguments, calls: int = 30) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        insured_kernel(**arguments)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def spin(core: int, seconds: float) -> None:
    os.sched_setaffinity(0, {core})
    arguments = captured_arguments()
    end = time.time() + seconds
    while time.time() < end:
        insured_kernel(**arguments)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spin", nargs=2, type=float, help=argparse.SUPPRESS)   # core, seconds: the loop process
    options = parser.parse_args()
    if options.spin:
        spin(int(options.spin[0]), options.spin[1])
        return
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        sys.exit("bench_machine needs two cores it can pin a process to")
    cores = sorted(os.sched_getaffinity(0))[:2]
    arguments = captured_arguments()
    print(f"# bench_machine: Demoland's open-group insured kernel, median of 30 calls pinned to one core, alone and "
          f"with the same kernel looping on the other core; {options.rounds} rounds")
    alone_all, busy_all = [], []
    for _ in range(options.rounds):
        for core in cores:
            other = cores[1] if core == cores[0] else cores[0]
            os.sched_setaffinity(0, {core})
            alone = median_ms(arguments)
            loop = subprocess.Popen([sys.executable, __file__, "--spin", str(other), "8"], stdout=subprocess.DEVNULL)
            time.sleep(4.0)   # the loop process has imported, captured its arguments and is running
            busy = median_ms(arguments)
            loop.wait()
            alone_all.append(alone)
            busy_all.append(busy)
            print(f"core {core}: alone {alone:6.2f} ms, other core running the kernel {busy:6.2f} ms")
    print(f"alone: {min(alone_all):.2f} to {max(alone_all):.2f} ms (max / min {max(alone_all) / min(alone_all):.2f}); "
          f"with the other core busy: {min(busy_all):.2f} to {max(busy_all):.2f} ms; median busy / alone "
          f"{statistics.median(busy_all) / statistics.median(alone_all):.2f}")


if __name__ == "__main__":
    main()
