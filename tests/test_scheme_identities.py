"""Identities every projection must satisfy (people conserved, the reserve recursion, PAYG cost rate, scaling of
population and money) on random valid schemes (hypothesis), through the real Valuation.

The schemes are valued without the balance sheet (settings.balance_sheet "no"): every identity here is one of the
projection (and the GAP, worked out from it), which is the same with or without it, while the balance sheet's three
closed-group runs and award annuities past the horizon cost some ten times the projection itself (the reference
engine's: 0.33 s against 0.03 s an example). Valuations derived from an example's (scaled, mortality removed) are
its ``replace``: only the inputs changed are validated again."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from actuary.indicators import discount_factors

from .schemes import schemes, valuation

SETTINGS = settings(max_examples=25, deadline=None)
CASH_FLOWS = ("insurable_wage_bill", "contributions", "state_subsidy", "benefit_expenditure", "grants",
              "admin_expenses", "total_expenditure", "investment_income", "reserve", "gdp", "minimum_pension_top_up")
RATIOS = ("paygo_cost_rate", "reserve_ratio", "trust_fund_ratio", "replacement_rate", "benefit_ratio",
          "system_dependency_ratio", "system_dependency_ratio_stock", "expenditure_pct_gdp")


def _projection_only(groups: dict) -> dict:
    """The random scheme's inputs valued without the balance sheet (the projection is the same)."""
    groups["settings"]["balance_sheet"] = "no"
    return groups


def projected_schemes():
    return schemes().map(_projection_only)


def _close(a, b, rtol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.nanmax(np.abs(b)), 1.0) if b.size else 1.0
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale)


@SETTINGS
@given(projected_schemes())
def test_kernel_matches_reference(groups):
    v = valuation(groups)
    kernel, reference = v.run().projection, v.run("reference").projection
    for name, variable in kernel.data_vars.items():
        if variable.dtype.kind == "f":
            _close(variable.values, reference[name].values, rtol=1e-9)


@SETTINGS
@given(projected_schemes())
def test_people_are_conserved(groups):
    p = valuation(groups).run().projection
    start_active = np.concatenate([p.active_at_valuation.values[None], p.active.values[:-1]])
    start_inactive = np.concatenate([p.inactive_at_valuation.values[None], p.inactive.values[:-1]])
    # actives: survivors who neither retire, become invalid nor leave, one year older, plus re-entrants
    # and new entrants
    expected = np.zeros_like(p.active.values)
    expected[:, :, 1:] = (start_active - p.active_deaths.values - p.retirements.values - p.exits.values
                          - p.invalidity_retirements.values + p.reentries.values)[:, :, :-1]
    expected += p.new_entrants.values
    _close(p.active.values, expected)
    # inactive insured: survivors not reaching retirement age nor re-entering, plus exits from active service
    # that keep deferred rights (the others leave the scheme: withdrawals)
    expected = np.zeros_like(p.inactive.values)
    expected[:, :, 1:] = (start_inactive - p.inactive_deaths.values - p.inactive_retirements.values
                          - p.reentries.values + p.exits.values - p.withdrawals.values)[:, :, :-1]
    _close(p.inactive.values, expected)
    # invalidity awards are the actives becoming invalid
    _close(p.new_pensioners.sel(benefit="invalidity"), p.invalidity_retirements)
    # pensioners: survivors, new awards, conversions, one year older (the last age is an open group)
    start = np.concatenate([p.pensioners_at_valuation.values[None], p.pensioners_by_age.values[:-1]])
    flow = start + p.new_pensioners.values - p.pensioner_deaths.values - p.pensioner_exits.values
    flow[:, 0] += p.invalidity_conversions.values
    expected = np.zeros_like(flow)
    expected[..., 1:] = flow[..., :-1]
    expected[..., -1] += flow[..., -1]
    _close(p.pensioners_by_age.values, expected)


@SETTINGS
@given(projected_schemes())
def test_survivors_arise_only_from_deaths_that_carry_them_and_respect_the_limits(groups):
    v = valuation(groups)
    p = v.run().projection
    scheme = v.inputs.scheme
    limit = scheme["orphan_age_limit"]
    assert float(np.abs(p.pensioners_by_age.sel(benefit="orphan", age=slice(limit, None))).max()) <= 1e-9
    assert float(np.abs(p.new_pensioners.sel(benefit="orphan", age=slice(limit, None))).max()) <= 1e-9
    # with (almost) no mortality except the open age group's q = 1, every survivors' award comes from the
    # old-age and invalidity pensioners dying at the open age: (P(married) + orphans) per death
    quiet_valuation = v.replace(behaviour={factor: 1e-12 for factor in (
        "pensioner_mortality_factor", "invalid_mortality_factor", "active_mortality_factor")})
    quiet = quiet_valuation.run().projection
    behaviour = quiet_valuation.inputs.behaviour
    top = quiet.age.values[-1]
    per_death = (behaviour["probability_married"] + behaviour["orphans"]).sel(age=top)
    top_deaths = quiet.pensioner_deaths.sel(benefit=["old_age", "invalidity"], age=top).sum("benefit")
    expected = float((top_deaths * per_death).sum())
    awarded = float(quiet.new_pensioners.sel(benefit=["widow", "orphan"]).sum())
    assert abs(awarded - expected) <= 1e-6 * max(1.0, expected)


@SETTINGS
@given(projected_schemes())
def test_reserve_identity_and_paygo(groups):
    p = valuation(groups).run().projection
    start = np.concatenate([[float(p.reserve_at_valuation)], p.reserve.values[:-1]])
    paid = p.minimum_pension_top_up_paid if "minimum_pension_top_up_paid" in p else 0.0   # the state's, income
    _close(p.reserve - start, p.contributions + p.state_subsidy + paid + p.investment_income - p.total_expenditure,
           1e-12)
    _close(p.net_cash_flow, p.reserve - start, 1e-12)
    _close(p.total_income, p.contributions + p.state_subsidy + paid + p.investment_income, 1e-14)
    _close(p.benefit_expenditure, (p.scheme_financed_benefits + p.minimum_pension_top_up)
           if "minimum_pension_top_up" in p else p.benefit_expenditure, 1e-14)
    _close(p.paygo_cost_rate, p.total_expenditure / p.insurable_wage_bill, 1e-14)
    _close(p.total_expenditure, p.benefit_expenditure + p.grants + p.admin_expenses, 1e-14)
    _close(p.benefit_expenditure, p.benefit_expenditure_by_benefit.sum("benefit"), 1e-14)
    _close(p.grants, p.withdrawal_grants + p.funeral_grants, 1e-14)


@SETTINGS
@given(projected_schemes())
def test_zero_contributions_reserve_falls_by_discounted_expenditure(groups):
    groups["scheme"].update(contribution_rate=0.0, subsidy_share_of_benefits=0.0, subsidy_share_of_wages=0.0,
                            minimum_pension_financing="scheme")
    p = valuation(groups).run().projection
    v_mid, v_end = discount_factors(p)
    _close(p.reserve.values * v_end,
           float(p.reserve_at_valuation) - np.cumsum(v_mid * p.total_expenditure.values), 1e-10)


def _scaled(v, k, fields):
    """``v`` with the given fields (those it has) multiplied by ``k``."""
    changes = {}
    for group, name in fields:
        if v.raw[group].get(name) is not None:
            value = v.raw[group][name]
            changes.setdefault(group, {})[name] = tuple(x * k for x in value) if isinstance(value, tuple) \
                else value * k
    return v.replace(**changes)


POPULATION_FIELDS = [("demography", "population"), ("demography", "net_migration"), ("initial", "active"),
                     ("initial", "inactive"), ("initial", "pensioners"), ("initial", "reserve"),
                     ("behaviour", "entrants"), ("economy", "gdp"), ("initial", "refund_balance"),
                     ("initial", "inactive_refund_balance")]
MONEY_FIELDS = [("scheme", "minimum_pension"), ("scheme", "maximum_pension"), ("economy", "gdp"),
                ("economy", "average_wage"), ("behaviour", "salary_scale"), ("initial", "average_pension"),
                ("initial", "reserve"), ("scheme", "funeral_grant"), ("initial", "refund_balance"),
                ("initial", "inactive_refund_balance"), ("scheme", "flat_pension"), ("scheme", "bend_points")]


@SETTINGS
@given(projected_schemes(), st.floats(0.1, 10.0))
def test_population_scaling(groups, k):
    v = valuation(groups)
    base, scaled = v.run(), _scaled(v, k, POPULATION_FIELDS).run()
    for name in _present(base, CASH_FLOWS + ("contributors", "pensioners")):
        _close(scaled.projection[name], k * base.projection[name], 1e-9)
    for name in _present(base, RATIOS):
        _close(scaled.projection[name], base.projection[name], 1e-9)
    _close(scaled.summary.gap, base.summary.gap, 1e-9)


def _present(results, names):
    """The names the projection holds (a scheme-only valuation has no GDP)."""
    return [n for n in names if n in results.projection]


@SETTINGS
@given(projected_schemes(), st.floats(0.1, 10.0))
def test_money_scaling(groups, k):
    v = valuation(groups)
    base, scaled = v.run(), _scaled(v, k, MONEY_FIELDS).run()
    for name in _present(base, CASH_FLOWS):
        _close(scaled.projection[name], k * base.projection[name], 1e-9)
    for name in _present(base, RATIOS + ("contributors", "pensioners")):
        _close(scaled.projection[name], base.projection[name], 1e-9)
    _close(scaled.summary.gap, base.summary.gap, 1e-9)
