"""The optimistic and pessimistic scenarios keep every move of the one-at-a-time sensitivities they combine: moves of
the same input compose (applied one after the other), where they used to replace one another (the inflation move
shifted the nominal return over the real return's move, so the combined scenarios lost their real-return move)."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings, strategies as st

from actuary import Valuation, load_workbook
from actuary.batch import (ClippedScale, ClippedShift, Scale, Scenario, Sequence, Set, Shift, _describe,
                           combined_scenarios, compose, sensitivity, standard_sensitivities)
from actuary.valuation import PROJECT_ROOT

DEMOLAND = PROJECT_ROOT / "valuations" / "demoland" / "valuation.xlsx"
FLOOR_ONLY = PROJECT_ROOT / "valuations" / "demoland-floor" / "floor-only.xlsx"
YEARS = np.arange(2020, 2030)


# ------------------------------------------------------------------------------------ composing two overrides

def _years():
    """Year bounds within YEARS (inclusive; None: open), or None (every year)."""
    bound = st.one_of(st.none(), st.integers(2020, 2029))
    return st.one_of(st.none(), st.tuples(bound, bound).filter(
        lambda b: b != (None, None) and (None in b or b[0] <= b[1])))


def _overrides():
    value = st.floats(-2, 2, allow_nan=False, allow_subnormal=False)
    kinds = st.sampled_from([Set, Scale, Shift, ClippedShift, ClippedScale])
    return st.builds(lambda kind, v, years: kind(v, years=years), kinds, value, _years())


@settings(max_examples=300, deadline=None)
@given(first=_overrides(), second=_overrides(),
       values=st.lists(st.floats(0, 1, allow_nan=False), min_size=len(YEARS), max_size=len(YEARS)))
def test_a_composed_override_applies_both_in_turn(first, second, values):
    """compose(a, b) gives every cell what a then b give it (two shifts add, a scale after a shift scales the shifted
    value, a set after anything sets, ...), whether or not it merges them into one operation."""
    current = xr.DataArray(np.array(values), coords={"year": YEARS}, dims=("year",))
    expected = second.apply(first.apply(current))
    np.testing.assert_allclose(compose(first, second).apply(current), expected, rtol=1e-12, atol=1e-14)
    clipped = (ClippedShift, ClippedScale)   # (moves of tables alone)
    if first.years is None and second.years is None and not isinstance(first, clipped) and \
            not isinstance(second, clipped):   # a single value: the same
        assert compose(first, second).apply(0.3) == pytest.approx(second.apply(first.apply(0.3)), rel=1e-12,
                                                                  abs=1e-14)


def test_moves_of_the_same_cells_merge_into_their_net_move():
    assert compose(Shift(0.01), Shift(-0.01)) == Shift(0.0)
    assert compose(Shift(0.01), Shift(0.02)) == Shift(0.03)
    assert compose(Scale(0.8), Scale(1.5)) == Scale(pytest.approx(1.2))
    assert compose(Set(0.2), Shift(0.01)) == Set(pytest.approx(0.21))
    assert compose(Set(0.2), Scale(2.0)) == Set(0.4)
    assert compose(Shift(0.01), Set(0.2)) == Set(0.2)
    assert compose(Shift(0.01, years=(2025, None)), Shift(0.01, years=(2025, None))) == \
        Shift(0.02, years=(2025, None))
    # a shift then a scale is no single operation; nor are moves of other cells, or moves held within [0, 1]
    for first, second in ((Shift(0.01), Scale(0.8)), (Scale(0.8), Shift(0.01)),
                          (Shift(0.01, years=(2025, None)), Shift(0.01)), (ClippedShift(0.05), ClippedShift(-0.05))):
        composed = compose(first, second)
        assert isinstance(composed, Sequence) and composed.parts == (first, second)
    # three moves: the first two merge, the third follows
    assert compose(compose(Shift(0.01), Shift(0.01)), Scale(2.0)).parts == (Shift(0.02), Scale(2.0))


def test_the_words_of_a_composed_move_say_its_net_move():
    def words(override):
        return _describe(Scenario("s", {"economy.nominal_return": override}))

    assert words(compose(Shift(0.01), Shift(-0.01))) == "Nominal investment return unchanged"
    assert words(compose(Shift(-0.01), Shift(-0.01))) == "Nominal investment return -2.00 percentage points"
    assert words(compose(Shift(0.01), Scale(0.8))) == "Nominal investment return +1.00 percentage points then x 0.8"


# ------------------------------------------------------------------------------------ the combined scenarios

def _sides(ds):
    """Each standard sensitivity's optimistic and pessimistic side, read here from the run's full-horizon measure
    (the GAP; a floor costing alone: the floor's level cost): the lower value is the optimistic side."""
    measure = ds.gap if "gap" in ds else ds.floor_cost_level_pct_gdp
    sides = {}
    for name, down, up in standard_sensitivities(ds.attrs["national_population"] == "yes", ds.attrs["scheme"] == "yes"):
        low, high = (float(measure.sel(scenario=s.name).isel(horizon=-1)) for s in (down, up))
        sides[name] = ((up, down) if high <= low else (down, up))
    return sides


def _in_sequence(base, scenarios):
    """``base`` with each one-at-a-time scenario applied on the last's result, one after the other."""
    valuation = base
    for scenario in scenarios:
        valuation = scenario.apply(valuation)
    return valuation


def _assert_same_inputs(first, second):
    for group in ("economy", "demography", "behaviour", "scheme"):
        a, b = getattr(first.inputs, group), getattr(second.inputs, group)
        for key in a:
            if isinstance(a[key], (xr.DataArray, float, int, np.ndarray)) and not isinstance(a[key], bool):
                np.testing.assert_allclose(np.asarray(a[key], dtype=float), np.asarray(b[key], dtype=float),
                                           rtol=1e-14, atol=1e-16, err_msg=f"{group}.{key}")


def _assert_moves_in_turn(base, scenario, sides, k):
    """``scenario`` (side k of each sensitivity: 0 optimistic, 1 pessimistic) has the inputs of the one-at-a-time
    moves applied in turn; its nominal return moves by the real return's and inflation's shifts (+-1 point each,
    from the sides' names alone), its inflation by its own."""
    economy = base.inputs.economy
    applied = scenario.apply(base)
    _assert_same_inputs(applied, _in_sequence(base, [pair[k] for pair in sides.values()]))
    real, inflation = (+0.01 if sides[a][k].name.endswith(" up") else -0.01 for a in ("real return", "inflation"))
    np.testing.assert_allclose(applied.inputs.economy["nominal_return"], economy["nominal_return"] + real + inflation,
                               rtol=0, atol=1e-15)
    np.testing.assert_allclose(applied.inputs.economy["inflation"], economy["inflation"] + inflation, rtol=0,
                               atol=1e-15)


@pytest.fixture(scope="module")
def demo():
    return load_workbook(DEMOLAND)


@pytest.fixture(scope="module")
def demo_sensitivities(demo):
    return sensitivity(demo)


def test_each_combined_scenario_is_its_moves_applied_in_turn(demo, demo_sensitivities):
    """The optimistic (pessimistic) scenario gives every input what the one-at-a-time scenarios of its sides give
    when applied one after the other; the nominal return, which the real return and inflation both shift, moves by
    both shifts (derived here from the sides alone: +-1 point each), inflation by its own."""
    sides = _sides(demo_sensitivities)
    combined = dict(zip(("optimistic", "pessimistic"), combined_scenarios(demo_sensitivities)))
    for k, name in enumerate(("optimistic", "pessimistic")):
        _assert_moves_in_turn(demo, combined[name], sides, k)
    # in Demoland a higher real return and a lower inflation lower the GAP: the optimistic scenario leaves the nominal
    # return as it is and lowers inflation, so that the real return rises by about a point
    assert [s.name for s in sides["real return"]] == ["real return up", "real return down"]
    assert [s.name for s in sides["inflation"]] == ["inflation down", "inflation up"]


def test_the_combined_scenarios_general_average_premium_and_moves(demo, demo_sensitivities):
    """With both moves of the nominal return the 100-year GAP is 24.60% (optimistic) and 52.46% (pessimistic),
    not the 25.52% and 49.59% of the scenarios that lost the real-return move; it is the GAP of the one-at-a-time
    moves applied in turn, and each scenario's words say the net move."""
    gap = demo_sensitivities.gap.isel(horizon=-1)
    assert int(demo_sensitivities.horizon[-1]) == 100
    assert round(100 * float(gap.sel(scenario="optimistic")), 2) == 24.60
    assert round(100 * float(gap.sel(scenario="pessimistic")), 2) == 52.46
    sides = _sides(demo_sensitivities)
    for k, name in enumerate(("optimistic", "pessimistic")):
        direct = _in_sequence(demo.replace(settings={"balance_sheet": "no"}), [pair[k] for pair in sides.values()])
        assert float(direct.run().summary.gap.isel(horizon=-1)) == pytest.approx(float(gap.sel(scenario=name)),
                                                                                rel=1e-9)
    move = {str(n): str(m) for n, m in zip(demo_sensitivities.scenario.values, demo_sensitivities.move.values)}
    assert "Nominal investment return unchanged, Inflation -1.00 percentage points" in move["optimistic"]
    assert "Nominal investment return unchanged, Inflation +1.00 percentage points" in move["pessimistic"]
    for name in ("optimistic", "pessimistic"):
        assert move[name].count("Nominal investment return") == 1


def test_a_floor_costing_alone_keeps_its_real_return_move():
    """The floor costing alone takes the real return down to its optimistic side (its level cost is lower) and
    inflation up: the optimistic nominal return moves by -1 + 1 = 0 points, inflation by +1, so that the real return
    falls by about a point; each combined scenario is its moves applied in turn."""
    alone = load_workbook(FLOOR_ONLY)
    ds = sensitivity(alone)
    sides = _sides(ds)
    assert sides["real return"][0].name == "real return down"
    combined = combined_scenarios(ds)
    for k, scenario in enumerate(combined):
        _assert_moves_in_turn(alone, scenario, sides, k)
        level = float(ds.floor_cost_level_pct_gdp.sel(scenario=scenario.name).isel(horizon=-1))
        direct = _in_sequence(alone, [pair[k] for pair in sides.values()]).run()
        assert float(direct.summary.floor_cost_level_pct_gdp.isel(horizon=-1)) == pytest.approx(level, rel=1e-9)
