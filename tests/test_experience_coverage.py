"""Do the experience analysis's stated 95% intervals hold the true value about 95% of the time?

Each test draws many replications from known values (binomial events on given exposures, contribution months,
salary increases with a known mean and spread, a cross-section of earnings from a known smooth salary scale), runs
the experience computation of ``actuary.data.experience`` on them, and counts how often the interval holds the
true value, by group size. The replications are independent groups of one call (each its own ``sex`` label), so
the whole simulation runs in a few seconds.

Acceptance: the share within is a binomial count. With R = 2,000 replications of an interval that truly covers
95%, its standard deviation is 0.49%: below 93% (4 standard deviations) happens with probability 3e-5 per group
(``_false_failure`` computes it), so the lower bound 93% tests the method, not the seed. Exact (Clopper-Pearson)
and score intervals cover more than their level with few events (discreteness: 97-99% with 5 expected events), so
the upper bound, 99%, only guards against intervals too wide to reject anything; separate checks keep the power.
On the code before this test the contribution density's interval held the true density 67% of the time with 2
members a band, 83% with 5 and 92% with 20 (mean -/+ 1.96 sd / sqrt(n): width 0 when every member had 12 months),
the observed salary increase's 84% with 5 members and 91% with 20 (the normal quantile for a standard error
estimated from a few members), and the expected increase of a scale graduated from a 0.4%-like cross-section 74%
(7% in the youngest band: the graduation's smoothing bias was not in the interval)."""

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from actuary.data.aggregate import _earnings_by_age, graduated_scale
from actuary.data.experience import _cross_section_covariance, _mean_bands, _ratio_bands, rate_bands

LEVEL = 0.95
REPLICATIONS = 2_000
LOW, HIGH = 0.93, 0.99


def _false_failure(replications: int, coverage: float = LEVEL) -> float:
    """Probability that an interval covering exactly ``coverage`` shows less than LOW in ``replications``."""
    return float(stats.binom.cdf(math.ceil(LOW * replications) - 1, replications, coverage))


def test_acceptance_band_has_a_small_false_failure_rate():
    assert _false_failure(REPLICATIONS) < 1e-4
    assert _false_failure(REPLICATIONS, 0.94) < 0.05     # an interval a little short of its level still passes


def _coverage(within) -> float:
    within = np.asarray(within, dtype=bool)
    return float(within.mean())


@pytest.mark.parametrize("events", [5, 20, 100, 1000])
def test_rate_intervals_cover_their_level(events):
    """Deaths (or any decrement) of a five-year band binomial on initial exposures with rates rising across the band,
    the exposures giving ``events`` expected events: the exact interval of the band's rate and its A/E interval hold
    the exposure-weighted true rate (A/E 1) at 93-99%."""
    rng = np.random.default_rng(20200101 + events)
    q = np.linspace(0.01, 0.02, 5)
    exposure = np.full(5, round(events / q.mean() / 5))
    observed = rng.binomial(exposure, q, size=(REPLICATIONS, 5))
    ages = pd.DataFrame(dict(measure="death_active", sex=np.repeat([f"r{i}" for i in range(REPLICATIONS)], 5),
                             age=np.tile(np.arange(20, 25), REPLICATIONS), exposure=np.tile(exposure, REPLICATIONS),
                             observed=observed.ravel(), expected=np.tile(exposure * q, REPLICATIONS)))
    bands = rate_bands(ages, 15, LEVEL)
    assert len(bands) == REPLICATIONS
    coverage = _coverage(bands["within"])
    assert LOW <= coverage <= HIGH, coverage
    ae = _coverage((bands["ae_ci_low"] <= 1 + 1e-12) & (1 - 1e-12 <= bands["ae_ci_high"]))
    assert LOW <= ae <= HIGH, ae


def _density_bands(rng, members: int, months_of) -> pd.DataFrame:
    label = np.repeat([f"r{i}" for i in range(REPLICATIONS)], members)
    share = months_of(rng, label.size) / 12
    frame = pd.DataFrame(dict(sex=label, age=20 + rng.integers(0, 5, label.size), share=share, square=share * share))
    cells = frame.groupby(["sex", "age"], as_index=False).agg(members=("share", "size"), s1=("share", "sum"),
                                                              s2=("square", "sum"))   # (no Python call a cell)
    cells["expected"] = 0.9 * cells["members"]
    return _mean_bands(cells, 15, LEVEL)


@pytest.mark.parametrize("members", [2, 5, 20, 100, 1000])
def test_density_interval_covers_its_level(members):
    """Contribution months of the members of a band binomial(12, 0.9), as ``actuary synth`` draws them: the interval
    of the band's mean density holds 0.9 at 93-99%. Before: 67% with 2 members, 83% with 5, 92% with 20."""
    rng = np.random.default_rng(7 + members)
    bands = _density_bands(rng, members, lambda r, size: r.binomial(12, 0.9, size))
    assert len(bands) == REPLICATIONS
    coverage = _coverage((bands["ci_low"] <= 0.9 + 1e-12) & (0.9 - 1e-12 <= bands["ci_high"]))
    assert LOW <= coverage <= HIGH, coverage
    assert np.array_equal(bands["within"], (bands["ci_low"] <= 0.9 + 1e-12) & (0.9 - 1e-12 <= bands["ci_high"]))


def test_density_interval_with_months_alike_within_a_member():
    """Months of one member are alike (beta-binomial: a member's own density drawn around 0.9, intra-member
    correlation 0.3): with 100 members a band the interval (design effect estimated from the members' spread) still
    holds 0.9 at 93-99%; and it is narrow enough to see a density of 0.8 in nearly every band."""
    rng = np.random.default_rng(11)
    bands = _density_bands(rng, 100, lambda r, size: r.binomial(12, r.beta(0.9 / 0.3 - 0.9, 0.1 / 0.3 - 0.1, size)))
    coverage = _coverage((bands["ci_low"] <= 0.9) & (0.9 <= bands["ci_high"]))
    assert LOW <= coverage <= HIGH, coverage
    assert _coverage(bands["ci_low"] > 0.8) > 0.99


@pytest.mark.parametrize("members", [5, 20, 100, 1000])
def test_observed_salary_increase_interval_covers_its_level(members):
    """Members' pay of year t0 - 1 lognormal (cv 0.55, as Demoland's earnings_cv), of year t0 that x 1.04 x a
    lognormal individual increase (mean 1, sd 10%): the interval of the band's observed increase (the ratio of
    their total pay) holds the true 4% at 93-99%. Before (z instead of Student's t): 84% with 5 members, 91% with
    20."""
    rng = np.random.default_rng(3 + members)
    sigma, spread = math.sqrt(math.log1p(0.55 ** 2)), 0.1
    label = np.repeat([f"r{i}" for i in range(REPLICATIONS)], members)
    x = 20_000 * rng.lognormal(-sigma ** 2 / 2, sigma, label.size)
    y = x * 1.04 * rng.lognormal(-spread ** 2 / 2, spread, label.size)
    pay = pd.DataFrame(dict(sex=label, age=20 + rng.integers(0, 5, label.size), members=1, x=x, y=y, xx=x * x,
                            yy=y * y, xy=x * y))
    pay = pay.groupby(["sex", "age"], as_index=False).sum()
    pay["ratio_expected"] = 1.04
    bands = _ratio_bands(pay, 15, LEVEL)
    assert len(bands) == REPLICATIONS
    coverage = _coverage((bands["ci_low"] <= 0.04 + 1e-12) & (0.04 - 1e-12 <= bands["ci_high"]))
    assert LOW <= coverage <= HIGH, coverage


def _smooth_scale(age):
    """The smooth salary scale of tests/test_data_experience.py: steep at young ages, ever less."""
    return 19_250.0 * (1 + 2.6 * (1 - np.exp(-(age - 15) / 12)))


SCALE_REPLICATIONS = 100
LOW_BAND = 0.88       # per band: 100 draws; a band truly at 95% falls below 88 with probability 0.0015 (11 bands: 1.6%)


def test_expected_salary_increase_of_a_graduated_scale_covers_its_level():
    """The expected increase of a salary scale graduated from one extract's cross-section (as ``actuary data``
    builds it: earnings of a 0.4%-like sample, ~400 earners at age 40, fewer at the ends, lognormal cv 0.55 around
    a known smooth scale) has an interval (columns ``expected_ci_low/high``) that holds the true scale's increase
    (1 + wage growth) x s(a) / s(a - 1), pay-weighted over the band, in 93-99.5% of the 11 bands x 100 replications
    (the bands of one replication share its graduation: the count's error is that of about 100-1,100 independent
    draws, at most 2.2%), and in each band at least 88% (a band's count is binomial on 100 draws, sd 2.2%: the
    per-band check tells an interval at 85% from one at 95%, not 93% from 95%; over 600 replications of another
    seed every band holds it in 93.7-97.3%, 95.1% in all). Before: 74%, and 7% in the youngest band (the
    graduation's smoothing bias, largest where the scale bends, was not in the interval); then 99% but 85% in the
    youngest band (15-19: the maximum-marginal-likelihood graduation the interval was built on, pulled towards a
    line at the end of the range, had its own bias there, 1.4% low on average; 98-100% in the middle bands);
    now the interval is that of the graduation with its bias estimated from its residuals
    (:func:`actuary.data.graduation.bias_corrected_graduation`), stretched to the expected increase. The interval
    still sees a 1 percentage point error in the increase in most bands of 1,500 earners or more (ages 30-49 here:
    95% of them)."""
    rng = np.random.default_rng(2020)
    sigma = math.sqrt(math.log1p(0.55 ** 2))
    ages = np.arange(16, 66)                                   # age at 1 January t0 - 1
    counts = np.maximum((400 * np.exp(-((ages - 40) / 18) ** 2)).astype(int), 2)
    at_t0 = ages[1:]                                           # members aged a at t0 were a - 1 in t0 - 1
    x = _smooth_scale(at_t0 - 1) * counts[:-1]
    true_ratio = 1.03 * _smooth_scale(at_t0) / _smooth_scale(at_t0 - 1)
    within, rejected, big, widths = [], [], [], []
    for _ in range(SCALE_REPLICATIONS):
        pay = np.concatenate([_smooth_scale(a) * rng.lognormal(-sigma ** 2 / 2, sigma, k)
                              for a, k in zip(ages, counts)])
        extract = pd.DataFrame(dict(status="active", sex="M", age=np.repeat(ages + 1, counts), annualised=pay))
        squares = extract.assign(square=pay * pay)
        con = duckdb.connect()
        con.register("i1", extract)
        cross_section = _cross_section_covariance(con)
        con.close()
        # the workbook's scale: the one actuary data graduates from this extract
        cells = squares.groupby(["sex", "age"], as_index=False).agg(earners=("annualised", "size"),
                                                                    s1=("annualised", "sum"), s2=("square", "sum"))
        span, _, smooth, _ = graduated_scale(_earnings_by_age(cells), "M")
        fitted = 1.03 * np.interp(at_t0, span, smooth) / np.interp(at_t0 - 1, span, smooth)
        frame = pd.DataFrame(dict(sex="M", age=at_t0, members=counts[:-1], x=x, y=x * true_ratio,
                                  xx=x * x / counts[:-1], ratio_expected=fitted))
        frame["yy"], frame["xy"] = frame["y"] ** 2 / counts[:-1], frame["x"] * frame["y"] / counts[:-1]
        bands = _ratio_bands(frame, 15, LEVEL, cross_section)
        truth = bands["observed_increase"].to_numpy()          # no individual spread: observed = true increase
        within.append(((bands["expected_ci_low"] <= truth) & (truth <= bands["expected_ci_high"])).to_numpy())
        widths.append((bands["expected_ci_high"] - bands["expected_ci_low"]).to_numpy())
        half = (bands["expected_ci_high"] - bands["expected_ci_low"]).to_numpy() / 2
        rejected.append(np.abs(bands["expected_increase"].to_numpy() + 0.01 - truth) > half)
        big.append(bands["members"].to_numpy() >= 1500)
    within, rejected, big = np.array(within), np.array(rejected), np.array(big)
    coverage = _coverage(within)
    assert LOW <= coverage <= 0.995, (coverage, within.mean(axis=0).round(2))
    by_band = within.mean(axis=0)
    assert np.all(by_band >= LOW_BAND), (by_band.round(2), np.median(widths, axis=0).round(4))
    assert big.any() and _coverage(rejected[big]) > 0.8, _coverage(rejected[big])


def test_marginal_likelihood_graduation_smooths_what_is_smooth_and_follows_what_bends():
    """The pilot graduation of the expected increase's interval: observations on a straight line (any noise-free
    line) get the grid's largest lambda and are kept; a curve that bends, observed with small variances, gets a small
    lambda and is followed closely; noise around a straight line is smoothed away (the graduation is nearer the line
    than the observations)."""
    from actuary.data.graduation import LAMBDAS, marginal_likelihood_graduation

    ages = np.arange(20, 60, dtype=float)
    line = 1000 + 25 * ages
    z, lam = marginal_likelihood_graduation(line, np.full(ages.size, 1.0))
    assert lam == LAMBDAS[-1] and np.allclose(z, line)
    bend = 1000 * np.sin(ages / 4)
    z, lam = marginal_likelihood_graduation(bend, np.full(ages.size, 1e4))
    assert lam < 1 and np.max(np.abs(z - bend)) < 1
    noisy = line + np.random.default_rng(1).normal(0, 10, ages.size)
    z, _ = marginal_likelihood_graduation(noisy, np.full(ages.size, 1 / 100))
    assert np.sqrt(np.mean((z - line) ** 2)) < 0.5 * np.sqrt(np.mean((noisy - line) ** 2))


def test_bias_corrected_graduation_follows_the_bend_at_the_end():
    """The graduation the expected increase's interval is built on: on a scale that bends most at the youngest
    ages, observed with the sampling variances of a 0.4% sample (no noise: the bias alone), the graduation of
    maximum marginal likelihood with its bias estimated from its residuals and taken off is nearer the scale at the
    youngest ages than the one without (which pulls the end towards a line); a straight line is kept exactly; its
    covariance is a covariance (symmetric, positive semi-definite) and zero for the ages without earners."""
    from actuary.data.graduation import bias_corrected_graduation, marginal_likelihood_graduation

    ages = np.arange(16, 66)
    scale = _smooth_scale(ages)
    counts = np.maximum((400 * np.exp(-((ages - 40) / 18) ** 2)).astype(int), 2)
    weight = counts / (0.55 * scale) ** 2
    plain, _ = marginal_likelihood_graduation(scale, weight)
    corrected, covariance = bias_corrected_graduation(scale, weight)
    young = slice(0, 5)
    rms = lambda z: float(np.sqrt(np.mean((z - scale)[young] ** 2)))  # noqa: E731
    assert rms(corrected) < 0.5 * rms(plain), (rms(corrected), rms(plain))     # 131 and 540 here
    line = 1000 + 25 * ages
    assert np.allclose(bias_corrected_graduation(line, weight)[0], line)
    assert np.allclose(covariance, covariance.T) and np.linalg.eigvalsh(covariance).min() > -1e-9 * covariance.max()
    gap = weight.copy()
    gap[10] = 0.0
    _, covariance = bias_corrected_graduation(np.where(gap > 0, scale, 0.0), gap)
    assert covariance[10, 10] > 0 and np.allclose(np.linalg.eigvalsh(covariance).min(), 0, atol=1e-6 * covariance.max())
