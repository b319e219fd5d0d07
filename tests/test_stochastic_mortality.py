"""The stochastic mortality models (docs/methodology.md §8): how the cumulative shift S_t of log mortality spreads
with the years under each (closed forms checked on draw_paths output), that a path's mortality is the valuation's
with its shifted improvement rates in the batch kernel as in the life table, and that the draws are reproducible
(the improvement model's are those of earlier versions)."""

import math

import numpy as np
import openpyxl
import pytest

from actuary import InputError, Valuation
from actuary.kernels.batch import INDICATORS
from actuary.projection import mortality_table, values_in_order
from actuary.stochastic import (LIFE_EXPECTANCY_INDICATORS, MORTALITY_DEFAULTS, StochasticParameters, draw_paths,
                                indicator_names, pack, path_valuation, read_parameters, run_chunk)

N_PATHS = 4000
# the sample standard deviation of N normal values is off by a relative 1 / sqrt(2 (N - 1)) (one standard error):
# each check allows four (the draws are fixed by the seed, so a check that passes always passes)
TOLERANCE = 4 / math.sqrt(2 * (N_PATHS - 1))
YEARS = (1, 10, 44, 99)   # years after the valuation year (the demo projects 100 years)


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


def spread(demo, seed, **params):
    """Standard deviation across N_PATHS paths of S_t (the sum of the shifts u_1 .. u_t) for each t of YEARS, and
    the shifts themselves."""
    draws = draw_paths(demo.inputs, StochasticParameters(**params), seed, range(N_PATHS))
    shift = draws["improvement_shift"]
    cumulative = np.cumsum(shift, axis=1)   # index t: S_t (no shift in the valuation year, t = 0)
    return np.array([cumulative[:, t].std(ddof=1) for t in YEARS]), shift


def test_level_model_spreads_log_mortality_like_the_square_root_of_time(demo):
    """Level model without drift error: S_t a random walk, sd σ_m √t (0.2 after 100 years at σ_m = 0.02); the
    earlier model's t^{3/2} would be 29 times wider at t = 99."""
    sd, shift = spread(demo, 1, mortality_volatility=0.02, mortality_drift_volatility=0.0)
    expected = 0.02 * np.sqrt(YEARS)
    np.testing.assert_allclose(sd / expected, 1, atol=TOLERANCE)
    assert np.all(shift[:, 0] == 0)
    # deviations independent from year to year: no correlation between one year's shift and the next
    lag = np.corrcoef(shift[:, 1:-1].ravel(), shift[:, 2:].ravel())[0, 1]
    assert abs(lag) < 4 / math.sqrt(shift[:, 1:-1].size)


def test_improvement_model_spreads_log_mortality_like_time_to_the_three_halves(demo):
    """Improvement model: S_t an integrated random walk, Var S_t = σ_m² t(t+1)(2t+1)/6 (sd 1.16 after 100 years at
    its default 0.002)."""
    sd, _ = spread(demo, 2, mortality_model="improvement")
    t = np.array(YEARS)
    expected = 0.002 * np.sqrt(t * (t + 1) * (2 * t + 1) / 6)
    np.testing.assert_allclose(sd / expected, 1, atol=TOLERANCE)
    assert sd[-1] > 1.0 and sd[-1] / sd[1] > 25   # 29 from t = 10 to 99: the level model's would be 3.1


def test_drift_error_adds_a_variance_growing_with_the_square_of_time(demo):
    """Level model with drift error: Var S_t = σ_m² t + σ_d² t² (the two equal at t = 44 with the defaults, σ_m =
    0.02 and σ_d = 0.003); with σ_m = 0 each path's S_t is δ t, a straight line."""
    sd, _ = spread(demo, 3)
    t = np.array(YEARS)
    level = MORTALITY_DEFAULTS["level"]
    sigma, drift = level["mortality_volatility"], level["mortality_drift_volatility"]
    np.testing.assert_allclose(sd / np.sqrt(sigma ** 2 * t + drift ** 2 * t ** 2), 1, atol=TOLERANCE)
    assert not np.allclose(sd / (sigma * np.sqrt(t)), 1, atol=TOLERANCE)   # the drift term counts
    sd, shift = spread(demo, 4, mortality_volatility=0.0, mortality_drift_volatility=0.005)
    np.testing.assert_allclose(sd / (0.005 * t), 1, atol=TOLERANCE)
    np.testing.assert_array_equal(shift[:, 1:], np.broadcast_to(shift[:, 1:2], shift[:, 1:].shape))


def _improvement(inputs):
    return values_in_order(inputs.demography["mortality_improvement"], "year", "sex", "age")


def test_a_paths_mortality_is_the_valuations_with_its_shifted_improvement(demo):
    """The kernel's convention (docs/methodology.md §2, §8): q_{x,t} = q_{x,t0} ∏ (1 - clip(AI_{x,τ} + u_τ)) with
    the rates held within -10% .. 10%, so that log mortality moves from the valuation's by about -S_t; the batch
    kernel gives a path what the full valuation with that mortality gives (a path whose rates pass the bounds,
    and whose pensioners differ from the base run's)."""
    params = StochasticParameters(mortality_volatility=0.04, mortality_drift_volatility=0.01)   # the largest
    draws = draw_paths(demo.inputs, params, 6, range(12))
    improvement = _improvement(demo.inputs)
    shifted = improvement[None] + draws["improvement_shift"][:, :, None, None]
    held = [i for i in range(12) if np.abs(shifted[i, 1:]).max() > 0.1]
    assert held, "no path passes the bounds: choose another seed"
    i = held[0]
    q0 = values_in_order(demo.inputs.demography["mortality"], "sex", "age")
    factor = np.cumprod(np.concatenate([np.ones((1,) + q0.shape), 1 - np.clip(shifted[i, 1:], -0.1, 0.1)]),
                        axis=0)
    expected = np.clip(q0[None] * factor, 0, 1)
    expected[..., -1] = 1.0
    np.testing.assert_allclose(mortality_table(path_valuation(demo, draws, i).inputs), expected, rtol=1e-12,
                               atol=0)
    values = run_chunk(pack(demo), params, 6, [i])
    reference = path_valuation(demo, draws, i).run().projection
    base = demo.run().projection
    for k, name in enumerate(INDICATORS):
        np.testing.assert_allclose(values[0, k], reference[name].values, rtol=1e-9,
                                   atol=1e-9 * np.abs(reference[name].values).max(), err_msg=name)
    k = INDICATORS.index("pensioners")
    assert abs(values[0, k, -1] / base.pensioners.values[-1] - 1) > 0.01


def test_log_mortality_moves_by_about_minus_the_sum_of_the_shifts(demo):
    """With the default level model (rates far from the bounds) log(q_path / q_valuation) = Σ log(1 - v_τ),
    v_τ = u_τ / (1 - AI_τ): -Σ v_τ - Σ v_τ² / 2 to within Σ |v_τ|³, and Σ v_τ is S_t to within 1% (AI of at most 1%
    here): σ_m is, to first order, the standard deviation of a year's change in log mortality."""
    draws = draw_paths(demo.inputs, StochasticParameters(), 8, range(3))
    q_base = mortality_table(demo.inputs)[:, :, :-1]
    improvement = _improvement(demo.inputs)[:, :, :-1]
    assert improvement.max() <= 0.01
    for i in range(3):
        u = draws["improvement_shift"][i]
        assert np.abs(improvement[1:] + u[1:, None, None]).max() < 0.1
        q = mortality_table(path_valuation(demo, draws, i).inputs)[:, :, :-1]
        inside = (q < 1) & (q_base < 1) & (q > 0)
        moved = np.log(q / np.where(inside, q_base, 1.0))
        v = u[:, None, None] / (1 - improvement)
        second_order = -np.cumsum(v, axis=0) - np.cumsum(v ** 2, axis=0) / 2
        error = np.cumsum(np.abs(v) ** 3, axis=0) + 1e-12
        assert np.all(np.abs(moved - second_order)[inside] <= error[inside])
        cumulative = np.cumsum(u)[:, None, None]
        assert np.all(np.abs(np.cumsum(v, axis=0) - cumulative) <= 0.0102 * np.cumsum(np.abs(u))[:, None, None])


def test_draws_are_reproducible_and_the_improvement_model_keeps_earlier_versions_paths(demo):
    """Path k draws from default_rng([seed, k]), in the order economic shocks, η, fertility shocks, then δ: the
    same seed gives the same draws whatever the chunking, the level model's u_t = σ_m η_t + σ_d δ, and the
    improvement model's u_t = σ_m (η_1 + ... + η_t) is earlier versions' walk from the same numbers."""
    n_years = demo.inputs.coords["year"].size
    level = StochasticParameters()
    whole = draw_paths(demo.inputs, level, 9, range(30))
    again = draw_paths(demo.inputs, level, 9, range(30))
    apart = draw_paths(demo.inputs, level, 9, [21, 7])
    for name in whole:
        np.testing.assert_array_equal(again[name], whole[name], err_msg=name)
        np.testing.assert_array_equal(apart[name], whole[name][[21, 7]], err_msg=name)
    other = draw_paths(demo.inputs, level, 10, range(30))
    assert not np.allclose(other["improvement_shift"], whole["improvement_shift"])
    improvement = StochasticParameters(mortality_model="improvement", mortality_volatility=0.003)
    walk = draw_paths(demo.inputs, improvement, 9, [7])["improvement_shift"][0]
    rng = np.random.default_rng([9, 7])
    rng.standard_normal((n_years, 3))
    eta = rng.standard_normal(n_years)
    rng.standard_normal(n_years)
    delta = rng.standard_normal()
    np.testing.assert_allclose(whole["improvement_shift"][7, 1:], 0.02 * eta[1:] + 0.003 * delta, rtol=1e-14)
    np.testing.assert_array_equal(walk[1:], np.cumsum(0.003 * eta[1:]))
    assert walk[0] == 0 and whole["improvement_shift"][7, 0] == 0


def test_each_model_takes_its_own_defaults_and_refuses_what_it_would_not_use():
    level = StochasticParameters()
    assert (level.mortality_model, level.mortality_volatility, level.mortality_drift_volatility) == ("level", 0.02,
                                                                                                     0.003)
    earlier = StochasticParameters(mortality_model="improvement")
    assert (earlier.mortality_volatility, earlier.mortality_drift_volatility) == (0.002, 0.0)
    from dataclasses import asdict

    assert StochasticParameters(**asdict(earlier)) == earlier   # a run's recorded parameters give it again
    with pytest.raises(InputError, match="'mortality_drift_volatility': value 0.003 is given with mortality_model "
                                         "'improvement'") as error:
        StochasticParameters(mortality_model="improvement", mortality_drift_volatility=0.003)
    assert error.value.field == "mortality_drift_volatility"
    with pytest.raises(InputError, match=r"'mortality_volatility': value 0.006 is above 0.005; with mortality_model "
                                         r"'improvement'"):
        StochasticParameters(mortality_model="improvement", mortality_volatility=0.006)
    assert StochasticParameters(mortality_volatility=0.006).mortality_volatility == 0.006   # level: up to 0.04
    with pytest.raises(InputError, match=r"'mortality_volatility': value 0.041 is above 0.04; with mortality_model "
                                         r"'level'"):
        StochasticParameters(mortality_volatility=0.041)
    with pytest.raises(InputError, match="'mortality_model': value 'Lee-Carter' is not a mortality model"):
        StochasticParameters(mortality_model="Lee-Carter")
    with pytest.raises(InputError, match="'mortality_model': value 1 is not a mortality model"):
        StochasticParameters(mortality_model=1)


def test_the_stochastic_sheet_sets_the_mortality_model(tmp_path):
    """The sheet's text value names the model; its volatilities then default to that model's."""
    path = tmp_path / "case.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Stochastic"
    for row in (["Stochastic parameters"], ["parameter", "value", "notes"], ["mortality_model", "Improvement ",
                                                                               "as in the 2025 valuation"]):
        sheet.append(row)
    workbook.save(path)
    params = read_parameters(path)
    assert (params.mortality_model, params.mortality_volatility, params.mortality_drift_volatility) == \
        ("improvement", 0.002, 0.0)


def test_a_paths_life_expectancy_at_65_is_that_of_its_full_valuation(demo):
    """Each path carries the period life expectancy at 65 by sex, taken beside the batch kernel from the path's
    mortality (shifted rates held within their bounds): the full valuation of the path gives the same; the paths
    differ from each other."""
    params = StochasticParameters(mortality_volatility=0.04, mortality_drift_volatility=0.01)
    packed = pack(demo)
    names = indicator_names(packed)
    assert names[-2:] == LIFE_EXPECTANCY_INDICATORS
    draws = draw_paths(demo.inputs, params, 6, range(3))
    values = run_chunk(packed, params, 6, range(3))
    for i in range(3):
        reference = path_valuation(demo, draws, i).run().projection.life_expectancy_65
        for sex in ("male", "female"):
            np.testing.assert_allclose(values[i, names.index(f"life_expectancy_65_{sex}")],
                                       reference.sel(sex=sex).values, rtol=1e-12, err_msg=f"path {i}, {sex}")
    last = values[:, names.index("life_expectancy_65_female"), -1]
    assert np.ptp(last) > 0.5   # years: the paths' mortality differs
