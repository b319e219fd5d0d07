"""Cohort-component projection: Numba kernel vs the NumPy reference, measured in the same run.

150 projection years, 2 sexes, ages 0-120 (120+ open). One scenario, then 1,000 scenarios with
varied fertility and mortality: the batch kernel (numba.prange over scenarios, all cores) vs the
NumPy reference vectorised over scenarios (one loop over years), and the batch kernel on 1 thread.

    python benchmarks/bench_population.py [--scenarios 1000]
"""

import argparse
import os
import platform
import sys

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import core_speeds, fmt, max_relative_difference, measure, require  # noqa: E402

from actuary.kernels.population import project_population_batch, project_population_kernel  # noqa: E402
from actuary.reference.population import project_population_reference  # noqa: E402

YEARS, AGES = 150, 121


def inputs(n, seed=1):
    rng = np.random.default_rng(seed)
    ages = np.arange(AGES)
    q = np.clip(0.0002 * np.exp(0.085 * ages), 0, 1)
    q[-1] = 1.0
    survival = np.broadcast_to(1 - q, (n, YEARS, 2, AGES)) * rng.uniform(0.995, 1.0, (n, 1, 1, 1))
    survival = np.ascontiguousarray(survival)
    asfr = np.where((ages >= 15) & (ages <= 49), 0.06 * np.exp(-((ages - 30) / 7.0) ** 2), 0.0)
    fertility = np.ascontiguousarray(np.broadcast_to(asfr, (n, YEARS, AGES)) * rng.uniform(0.7, 1.3, (n, 1, 1)))
    base = np.ascontiguousarray(np.broadcast_to(np.linspace(4e5, 1e3, AGES), (n, 2, AGES)))
    male_share = np.full((n, YEARS), 1.05 / 2.05)
    migration = np.ascontiguousarray(np.broadcast_to(np.where(ages < 40, 500.0, 0.0), (n, YEARS, 2, AGES)))
    return base, survival, fertility, male_share, migration


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=1000)
    args = parser.parse_args()
    n = args.scenarios
    print(f"# bench_population: {YEARS} years x 2 sexes x {AGES} ages; numba {numba.__version__}, "
          f"numpy {np.__version__}, {platform.processor() or platform.machine()}, "
          f"{numba.config.NUMBA_NUM_THREADS} threads")
    print(core_speeds())

    base, survival, fertility, male_share, migration = inputs(1)
    pop = np.empty((YEARS + 1, 2, AGES)); births = np.empty((YEARS, 2)); deaths = np.empty((YEARS, 2))
    project_population_kernel(base[0], survival[0], fertility[0], male_share[0], migration[0], False, pop, births,
                              deaths)
    ref = project_population_reference(base[0], survival[0], fertility[0], male_share[0], migration[0], False)
    agree = max(max_relative_difference(x, y, 1.0) for x, y in zip((pop, births, deaths), ref))
    require(agree <= 1e-12, f"one scenario: kernel = reference (population, births, deaths; {agree:.1e})")
    single_kernel = measure(lambda: project_population_kernel(base[0], survival[0], fertility[0], male_share[0],
                                                              migration[0], False, pop, births, deaths))
    single_ref = measure(lambda: project_population_reference(base[0], survival[0], fertility[0], male_share[0],
                                                              migration[0], False))
    print(f"one scenario   kernel {single_kernel}   reference {single_ref}   "
          f"ratio {single_ref.median / single_kernel.median:7.1f}x")

    base, survival, fertility, male_share, migration = inputs(n)
    popb = np.empty((n, YEARS + 1, 2, AGES)); birthsb = np.empty((n, YEARS, 2)); deathsb = np.empty((n, YEARS, 2))

    def batch():
        project_population_batch(base, survival, fertility, male_share, migration, False, popb, birthsb, deathsb)

    threads = numba.config.NUMBA_NUM_THREADS
    batch()
    ref_pop, _, _ = project_population_reference(base, survival, fertility, male_share, migration)
    agree = max_relative_difference(popb, ref_pop, 1.0)
    require(agree <= 1e-12, f"{n} scenarios: batch kernel = reference vectorised over scenarios ({agree:.1e})")
    batch_all = measure(batch, rounds=5)
    numba.set_num_threads(1)
    batch_one = measure(batch, rounds=5)
    numba.set_num_threads(threads)
    batch_ref = measure(lambda: project_population_reference(base, survival, fertility, male_share, migration),
                        rounds=3, min_total=0)
    print(f"{n} scenarios  kernel {threads} threads {batch_all}")
    print(f"{n} scenarios  kernel 1 thread {batch_one}")
    print(f"{n} scenarios  reference (vectorised over scenarios) {batch_ref}")
    print(f"{n} scenarios  ratio reference/kernel({threads} threads) {batch_ref.median / batch_all.median:7.1f}x   "
          f"ratio 1 thread/{threads} threads {batch_one.median / batch_all.median:5.2f}x   "
          f"scenarios per second {n / batch_all.median:,.0f}")


if __name__ == "__main__":
    main()
