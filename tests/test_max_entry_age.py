"""settings.max_entry_age: the residual method fills the target insured population with new entrants no older than
the limit (a positive gap above it is left, a negative gap still gives the extra exits); the growth method's
entrant_distribution may have no weight above it; blank is no limit, the results of before."""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actuary import InputError, Valuation

from .schemes import random_scheme, valuation

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from make_demoland_pinned import fingerprint  # noqa: E402

SETTINGS = settings(max_examples=15, deadline=None)
residual_cases = st.tuples(st.integers(0, 2**32 - 1), st.sampled_from(["end", "even"]))  # (seed, migration timing)


def _case(drawn) -> dict:
    """A random residual-method case (tests.schemes.random_scheme) from a drawn seed and migration timing (drawn
    as numbers, so that hypothesis shows them, not the arrays)."""
    seed, timing = drawn
    return random_scheme(seed, method="residual", timing=timing)


def _limited(groups: dict, limit) -> dict:
    return dict(groups, settings=dict(groups["settings"], max_entry_age=limit))


def _close(a, b, rtol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.nanmax(np.abs(b)), 1.0) if b.size else 1.0
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale)


@SETTINGS
@given(residual_cases, st.integers(15, 50))
def test_no_entrant_above_the_limit_and_kernel_equals_reference(drawn, limit):
    v = valuation(_limited(_case(drawn), limit))
    kernel, reference = v.run().projection, v.run("reference").projection
    for p in (kernel, reference):
        assert float(np.abs(p.new_entrants.sel(age=slice(limit + 1, None))).sum()) == 0.0
    for name, variable in kernel.data_vars.items():
        if variable.dtype.kind == "f":
            _close(variable.values, reference[name].values)


@SETTINGS
@given(residual_cases, st.integers(15, 45))
def test_actives_are_the_stayers_plus_entrants_and_the_gap_above_the_limit_is_left(drawn, limit):
    """By age: actives(t + 1) = survivors who stay (after the year's decrements and the residual method's extra
    exits, counted in ``exits``, plus re-entrants) + new entrants. At or below the limit the actives are the target
    (a gap filled, a surplus moved out); above it they are at most the target: a surplus still moved out, a gap
    left (no entrants there)."""
    p = valuation(_limited(_case(drawn), limit)).run().projection
    start_active = np.concatenate([p.active_at_valuation.values[None], p.active.values[:-1]])
    stayers = np.zeros_like(p.active.values)
    stayers[:, :, 1:] = (start_active - p.active_deaths.values - p.retirements.values - p.exits.values
                         - p.invalidity_retirements.values + p.reentries.values)[:, :, :-1]
    _close(p.active.values, stayers + p.new_entrants.values)
    target = p.target_insured.sel(age=p.active.age)
    below, above = dict(age=slice(None, limit)), dict(age=slice(limit + 1, None))
    _close(p.active.sel(below), target.sel(below))
    assert float(np.abs(p.new_entrants.sel(above)).sum()) == 0.0
    scale = float(target.max())
    assert float((p.active.sel(above) - target.sel(above)).max()) <= 1e-9 * scale


@SETTINGS
@given(residual_cases, st.integers(15, 50))
def test_the_first_year_s_entrants_at_or_below_the_limit_are_those_without_it(drawn, limit):
    """In the first year the actives before entry are those without the limit: the entrants at or below it are the
    same (each age and in total), none above it."""
    groups = _case(drawn)
    free = valuation(groups).run().projection.isel(year=0)
    limited = valuation(_limited(groups, limit)).run().projection.isel(year=0)
    assert float(np.abs(limited.new_entrants.sel(age=slice(limit + 1, None))).sum()) == 0.0
    _close(limited.new_entrants.sel(age=slice(None, limit)), free.new_entrants.sel(age=slice(None, limit)),
           rtol=1e-12)
    _close(limited.new_entrants.sel(age=slice(None, limit)).sum(), free.new_entrants.sel(age=slice(None, limit)).sum(),
           rtol=1e-12)


def test_blank_is_no_limit_the_results_of_before():
    """A blank limit (None, as a blank cell reads) is no limit: every summary value equals the run with the limit at
    the oldest age (no entrant can be older) to 1e-12, and Demoland without its limit (59) gives the figures it gave
    before the limit existed (README, "Changes to published figures": GAP 33.85% at 100 years, 1,115,139 new
    entrants in 2030, 486,655 of them aged 60 or over)."""
    demo = Valuation.demo()
    assert demo.inputs.settings["max_entry_age"] == 59
    blank = demo.replace(settings={"max_entry_age": None}).run()
    oldest = demo.replace(settings={"max_entry_age": int(demo.inputs.settings["max_age"])}).run()
    now, top = fingerprint(blank), fingerprint(oldest)
    names = [name for name in now.data_vars if name.startswith("s__")]
    assert names
    for name in names:
        np.testing.assert_allclose(now[name].values, top[name].values, rtol=1e-12, atol=0.0, equal_nan=True,
                                   err_msg=name)
    assert round(100 * float(blank.summary["gap"].sel(horizon=100)), 2) == 33.85
    entrants = blank.projection.new_entrants.sel(year=2030)
    assert round(float(entrants.sum())) == 1_115_139
    assert round(float(entrants.sel(age=slice(60, None)).sum())) == 486_655


def test_the_stochastic_batch_keeps_the_limit():
    """A path of the batch kernel is Valuation.run() on the path's inputs, with the limit (Demoland at 55: without
    it, its entrants at 60-69 would raise the contributors)."""
    from actuary.kernels.batch import INDICATORS
    from actuary.stochastic import StochasticParameters, draw_paths, pack, path_valuation, run_chunk

    case = Valuation.demo().replace(settings={"max_entry_age": 55, "horizon": 30, "balance_sheet": "no",
                                              "gap_horizons": [10, 25]})
    params = StochasticParameters(wage_volatility=0.02, mortality_volatility=0.004)
    values = run_chunk(pack(case), params, 5, [3])
    expected = path_valuation(case, draw_paths(case.inputs, params, 5, [3]), 0).run().projection
    assert float(expected.new_entrants.sel(age=slice(56, None)).sum()) == 0.0
    for k, name in enumerate(INDICATORS):
        reference = expected[name].values
        np.testing.assert_allclose(values[0, k], reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max(),
                                   err_msg=name)
    free = case.replace(settings={"max_entry_age": None})
    assert float(free.run().projection.contributors.sel(year=2030)) > float(expected.contributors.sel(year=2030))


def test_growth_method_refuses_entrants_above_the_limit():
    groups = random_scheme(7, method="growth")
    shares = groups["behaviour"]["entrant_distribution"]
    oldest = int(shares.age[(shares > 0).any("sex").values].max())
    valuation(_limited(groups, oldest))   # every share at or below the limit: accepted
    with pytest.raises(InputError) as error:
        valuation(_limited(groups, oldest - 1))
    text = str(error.value)
    assert error.value.field == "behaviour.entrant_distribution"
    assert f"age={oldest}" in text and f"settings.max_entry_age {oldest - 1}" in text, text


@pytest.mark.parametrize("limit", [14, 51])
def test_a_limit_outside_the_ages_is_refused(limit):
    with pytest.raises(InputError) as error:
        valuation(_limited(random_scheme(3), limit))
    assert error.value.field == "settings.max_entry_age"
    assert f"value {limit} is outside 15..50" in str(error.value)


def test_a_fractional_limit_is_refused():
    with pytest.raises(InputError, match="settings.max_entry_age.*whole number"):
        valuation(_limited(random_scheme(3), 40.5))


def test_workbook_and_case_folder_carry_the_limit_and_a_blank(tmp_path):
    """The Settings sheet's max_entry_age row: a whole number is read back as written; a blank cell is no limit.
    The case folder's JSON the same."""
    from actuary import load_workbook
    from actuary.io.folder import read_valuation_folder, write_valuation_folder

    free = Valuation.demo().replace(settings={"max_entry_age": None})   # Demoland's 59 blanked
    case = free.replace(settings={"max_entry_age": 55})
    case.to_workbook(tmp_path / "limited.xlsx")
    assert load_workbook(tmp_path / "limited.xlsx").inputs.settings["max_entry_age"] == 55
    free.to_workbook(tmp_path / "free.xlsx")
    loaded = load_workbook(tmp_path / "free.xlsx")
    assert loaded.inputs.settings["max_entry_age"] is None and loaded.source.get("rows_absent") is None
    for name, one in (("limited", case), ("free", free)):
        write_valuation_folder(one, tmp_path / name)
        assert read_valuation_folder(tmp_path / name).inputs.settings["max_entry_age"] == \
            one.inputs.settings["max_entry_age"]
