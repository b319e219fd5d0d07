"""Reference earnings (actuary.series.reference_earnings) against the definition written out cell by cell: the
mean over the last n years of the cohort's insurable salary, revalued to the award year, the years before the
valuation date from the t0 salary scaled by the wage history, ages below the grid not counted."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from actuary.series import reference_earnings


def by_definition(insurable, index, years, past_wages, past_index):
    n_years, n_sexes, n_ages = insurable.shape
    out = np.empty_like(insurable)
    for t in range(n_years):
        n = int(years[t]) if years[t] > 0 else n_ages
        for s in range(n_sexes):
            for a in range(n_ages):
                terms = []
                for k in range(min(n, a + 1)):   # the year t - k, when the cohort was k years younger
                    if t - k >= 0:
                        terms.append(insurable[t - k, s, a - k] * index[t] / index[t - k])
                    else:                        # j = k - t years before the valuation date
                        j = k - t
                        salary = insurable[0, s, a - k] * past_wages[j - 1]
                        terms.append(salary * index[t] / (index[0] * past_index[j - 1]))
                out[t, s, a] = sum(terms) / len(terms)
    return out


@settings(max_examples=60, deadline=None)
@given(n_years=st.integers(1, 12), n_ages=st.integers(1, 15), seed=st.integers(0, 2**32 - 1),
       whole_career=st.booleans())
def test_reference_earnings_are_the_revalued_mean_of_the_last_years(n_years, n_ages, seed, whole_career):
    rng = np.random.default_rng(seed)
    insurable = rng.uniform(100.0, 1000.0, (n_years, 2, n_ages))
    index = np.cumprod(1.0 + rng.uniform(0.0, 0.08, n_years))
    years = np.zeros(n_years) if whole_career else rng.integers(1, n_ages + 3, n_years).astype(float)
    past_wages = np.cumprod(1.0 / (1.0 + rng.uniform(0.0, 0.05, n_ages)))
    past_index = np.cumprod(1.0 / (1.0 + rng.uniform(0.0, 0.05, n_ages)))
    got = reference_earnings(insurable, index, years, past_wages, past_index)
    np.testing.assert_allclose(got, by_definition(insurable, index, years, past_wages, past_index), rtol=1e-13)
