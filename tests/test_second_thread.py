"""The second thread's task count (which decides whether a valuation hands it the interpreter at once): every
closed-group run queued there is counted until it is done or taken back, whichever thread's valuation queued
it, so the thread is idle again after valuations run side by side, with the results of one run alone; the award
annuity factors, which a valuation with the balance sheet has the second thread work out first, are those the
valuation works out itself without it."""

import threading

import numpy as np

from actuary import Valuation
from actuary.valuation import _second_thread_idle


def test_the_second_thread_is_idle_again_after_concurrent_valuations():
    demo = Valuation.demo()
    alone = demo.run().summary
    summaries, factors, errors = [], [], []

    def value():
        try:
            for _ in range(2):
                results = demo.replace().run()
                summaries.append(results.summary)
                factors.append(results.projection["annuity_factor_at_award"].values)
        except Exception as error:  # reported below: an assertion in a thread would be lost
            errors.append(error)

    threads = [threading.Thread(target=value) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(summaries) == 6
    for summary in summaries:
        for name in ("gap", "balance", "total_liabilities", "average_premium_current"):
            assert np.array_equal(summary[name].values, alone[name].values), name
    assert _second_thread_idle()
    own = demo.project()[0]["annuity_factor_at_award"].values   # no closed-group runs: worked out in this thread
    assert np.isfinite(own).all() and own.max() > 1.0
    for worked_out in factors:
        assert np.array_equal(worked_out, own)

