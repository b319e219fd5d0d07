"""Reform provisions on one cohort, against hand calculations: retirement ages by cohort (a cohort born one
year later retires one month later), the bend-point formula, a flat-rate plus earnings-related pension, the
minimum-pension top-up paid by the state, provisions that change by year; and their workbook inputs."""

import numpy as np
import openpyxl
import pytest
import xarray as xr

from actuary import InputError, Valuation, accrual_schedule, load_workbook
from actuary.inputs import cohort_ages, phase_in

from .cohorts import ACCRUAL, MAX_SERVICE, RETURN, SALARY, T0, cohort_valuation, da
from .test_workbook import _edit

HEADS = 1000.0


def _old_age(p, year):
    awards = p.new_pensioners.sel(benefit="old_age", year=year)
    amounts = p.new_pension_amount.sel(benefit="old_age", year=year)
    return float(awards.sum()), float(amounts.sum())


# ------------------------------------------------------------------------ retirement ages by cohort

def test_phase_in_adds_a_month_per_cohort():
    ages = phase_in(60, 1966, 1, 65).sel(sex="male")
    assert float(ages.sel(cohort=1965)) == 60 and float(ages.sel(cohort=1966)) == 60 + 1 / 12
    assert float(ages.sel(cohort=1977)) == 61 and float(ages[-1]) == 65 and int(ages.cohort[-1]) == 2025


@pytest.mark.parametrize("age", [55, 56, 57])
def test_a_cohort_born_one_year_later_retires_one_month_later(age):
    """Normal (= early) retirement age 63 + (c - 1961)/12 for cohort c. The cohort aged x at 1 January 2020
    was born in c = 2019 - x and reaches 63 in 2020 + (62 - x); its birthdays are spread over the year, so a
    share m/12 (m = c - 1961 months) is still below its age at the end of that year and retires a year later,
    at the next age, with a year more of service (10.5 exact years at 1 January 2020, 0.5 in the year of
    award)."""
    table = phase_in(63, 1962, 1, 67)
    v = cohort_valuation(age=age, service=10, heads=HEADS, horizon=12,
                         scheme={"normal_retirement_age": None, "normal_retirement_age_by_cohort": table})
    p = v.run().projection
    born = T0 - 1 - age
    months = born - 1961
    first = T0 + (62 - age)
    service = 10.5 + (first - T0) + 0.5
    count, amount = _old_age(p, first)
    assert count == pytest.approx(HEADS * (1 - months / 12), rel=1e-12)
    assert amount == pytest.approx(HEADS * (1 - months / 12) * ACCRUAL * service * SALARY, rel=1e-12)
    later, later_amount = _old_age(p, first + 1)
    assert later == pytest.approx(HEADS * months / 12, rel=1e-12)
    assert later_amount == pytest.approx(HEADS * months / 12 * ACCRUAL * (service + 1) * SALARY, rel=1e-12)
    by_age = p.new_pensioners.sel(benefit="old_age").sum(("year", "sex"))
    assert float(by_age.sel(age=62)) == pytest.approx(HEADS * (1 - months / 12), rel=1e-12)  # age at 1 January
    assert float(by_age.sel(age=63)) == pytest.approx(HEADS * months / 12, rel=1e-12)


def test_cohort_ages_equal_year_ages_when_the_cohorts_share_one_age():
    """A table by cohort with one age for every cohort is the same valuation as that age by year."""
    by_year = cohort_valuation(age=50, heads=HEADS, horizon=20).run().projection
    table = xr.DataArray([[65.0, 65.0]], dims=("cohort", "sex"), coords={"cohort": [1950], "sex": ["male", "female"]})
    by_cohort = cohort_valuation(age=50, heads=HEADS, horizon=20, scheme={
        "normal_retirement_age": None, "normal_retirement_age_by_cohort": table}).run().projection
    for name in ("benefit_expenditure", "reserve", "new_pension_amount"):
        np.testing.assert_allclose(by_cohort[name], by_year[name], rtol=1e-13)


# ------------------------------------------------------------------------------- benefit formulas

FULL_CAREER = 35
PROGRESSIVE = dict(accrual=accrual_schedule([(0, 0.0), (FULL_CAREER, 1.0)], MAX_SERVICE),
                   bend_points=(6000.0, 25000.0), bend_point_rates=(0.90, 0.32, 0.15))


def _bend_formula(reference, bends=(6000.0, 25000.0), rates=(0.90, 0.32, 0.15)):
    """90% up to the first bend point, 32% to the second, 15% above (written out by hand)."""
    b1, b2 = bends
    return rates[0] * min(reference, b1) + rates[1] * max(min(reference, b2) - b1, 0) + rates[2] * max(reference - b2, 0)


def test_bend_point_formula_full_career():
    """Aged 64 with 34 completed years at 1 January 2020: 34.5 + 0.5 = 35 years at the award in 2020, a full
    career: 0.90 x 6000 + 0.32 x 19000 + 0.15 x 5000 = 12230 a year."""
    p = cohort_valuation(age=64, service=34, heads=HEADS, horizon=3, scheme=PROGRESSIVE).run().projection
    assert _bend_formula(SALARY) == pytest.approx(12230.0)
    count, amount = _old_age(p, T0)
    assert count == HEADS
    assert amount == pytest.approx(HEADS * 12230.0, rel=1e-12)


def test_bend_points_indexed_to_wages_and_scaled_by_service():
    """Wages grow 3% a year; the bend points follow them. Aged 60 with 19 completed years: the award in 2024
    is on 19.5 + 4 + 0.5 = 24 years (24/35 of the full-career formula) with reference earnings (last year)
    S 1.03^4: the pension is (24/35) x formula(S) x 1.03^4."""
    growth = 0.03
    v = cohort_valuation(age=60, service=19, heads=HEADS, horizon=6,
                         scheme=dict(PROGRESSIVE, vesting_years=10),
                         economy={"real_wage_growth": growth})
    count, amount = _old_age(v.run().projection, T0 + 4)
    assert count == HEADS
    assert amount == pytest.approx(HEADS * 24 / FULL_CAREER * _bend_formula(SALARY) * 1.03 ** 4, rel=1e-12)
    frozen = cohort_valuation(age=60, service=19, heads=HEADS, horizon=6,
                              scheme=dict(PROGRESSIVE, vesting_years=10, bend_point_indexation="none"),
                              economy={"real_wage_growth": growth})
    reference = SALARY * 1.03 ** 4
    assert _old_age(frozen.run().projection, T0 + 4)[1] == pytest.approx(
        HEADS * 24 / FULL_CAREER * _bend_formula(reference), rel=1e-12)


def test_flat_rate_plus_earnings_related():
    """A flat 3000 a year prorated over 40 years plus 2% a year of reference earnings, 35 years at the award:
    3000 x 35/40 + 0.02 x 35 x 30000 = 2625 + 21000; 5% less per year before the normal age at 65 for a
    retirement at 64 (both parts)."""
    scheme = {"flat_pension": 3000.0, "flat_pension_service": 40.0}
    p = cohort_valuation(age=64, service=34, heads=HEADS, horizon=3, scheme=scheme).run().projection
    assert _old_age(p, T0)[1] == pytest.approx(HEADS * (3000 * 35 / 40 + ACCRUAL * 35 * SALARY), rel=1e-12)
    early = dict(scheme, normal_retirement_age=66, early_retirement_age=65, early_retirement_reduction=0.05)
    p = cohort_valuation(age=64, service=34, heads=HEADS, horizon=3, scheme=early).run().projection
    assert _old_age(p, T0)[1] == pytest.approx(HEADS * 0.95 * (3000 * 35 / 40 + ACCRUAL * 35 * SALARY), rel=1e-12)


def test_minimum_pension_top_up_paid_by_the_state():
    """Pension 0.02 x 35 x 30000 = 21000, minimum 25000: the state pays 4000 of each pension. Benefits =
    scheme-financed + state top-up in every year; the top-up is 4000/25000 of the pensions (no indexation,
    no survivors); the reserve rolls forward with the top-up as income; the break-even rate excludes it."""
    v = cohort_valuation(age=64, service=34, heads=HEADS, horizon=10,
                         scheme={"minimum_pension": 25000.0, "minimum_pension_financing": "state"},
                         initial={"reserve": 1e8})
    p = v.run().projection
    assert _old_age(p, T0)[1] == pytest.approx(HEADS * 25000.0, rel=1e-12)
    top_up, benefits = p.minimum_pension_top_up.values, p.benefit_expenditure.values
    assert top_up[0] == pytest.approx(0.5 * HEADS * 4000.0, rel=1e-12)   # half a year in the award year
    np.testing.assert_allclose(top_up, benefits * 4000 / 25000, rtol=1e-12)
    np.testing.assert_allclose(p.scheme_financed_benefits + p.minimum_pension_top_up, p.benefit_expenditure,
                               rtol=1e-14)
    assert float(p.state_subsidy.sum()) == 0.0
    reserve = 1e8
    contributions = p.contributions.values   # half a year in 2020, then none: the scheme pays 21000/25000
    for t in range(10):
        reserve = reserve * (1 + RETURN) + (1 + RETURN) ** 0.5 * (contributions[t] + top_up[t] - benefits[t])
        assert float(p.reserve[t]) == pytest.approx(reserve, rel=1e-12)
    scheme_paid = cohort_valuation(age=64, service=34, heads=HEADS, horizon=10,
                                   scheme={"minimum_pension": 25000.0}, initial={"reserve": 1e8}).run().projection
    assert "minimum_pension_top_up" not in scheme_paid
    np.testing.assert_allclose(scheme_paid.benefit_expenditure, benefits, rtol=1e-13)


def test_fiscal_cost_counts_the_state_top_up_of_the_projection():
    """Demoland with a universal floor and its minimum pension raised and paid by the state: the fiscal cost
    is the floor's cost + the state subsidy + the projection's own minimum-pension top-up, year by year; the
    top-up is positive (the minimum binds) and is the difference between benefits and scheme-financed benefits."""
    from actuary.floor import floor_benefits

    rows = [{"benefit": "pension", "kind": "old_age", "min_age": 65, "amount": 3000.0}]
    v = Valuation.demo().replace(settings={"balance_sheet": "no"}, floor=floor_benefits(rows),
                                 scheme={"minimum_pension": 20000.0, "minimum_pension_financing": "state"})
    p = v.run().projection
    top_up = p.benefit_expenditure.values - p.scheme_financed_benefits.values
    assert np.all(top_up[1:] > 0)
    np.testing.assert_allclose(p.minimum_pension_top_up.values, top_up, rtol=1e-9)
    expected = p.floor_cost.sum("floor_benefit").values + p.state_subsidy.values + top_up
    np.testing.assert_allclose(p.fiscal_cost.values, expected, rtol=1e-9)


# ----------------------------------------------------------------------- provisions that change by year

def _from(year, before, after, years=np.arange(T0, T0 + 12)):
    return da(np.where(years < year, before, after), year=years)


def test_vesting_and_ceiling_by_year():
    """Vesting 30 years until 2023, 40 from 2024: the cohort aged 60 with 29 years (34 at the award in 2024)
    gets a grant instead of a pension; the same cohort aged 61 (awarded in 2023 on 33 years) is vested. A
    ceiling of 2 x the average wage until 2025 and 0.5 from 2026 halves the insurable salary from 2026."""
    vesting = _from(2024, 30.0, 40.0)
    vested = cohort_valuation(age=61, service=29, heads=HEADS, horizon=12, scheme={"vesting_years": vesting})
    assert _old_age(vested.run().projection, T0 + 3)[0] == HEADS
    not_vested = cohort_valuation(age=60, service=29, heads=HEADS, horizon=12, scheme={"vesting_years": vesting})
    p = not_vested.run().projection
    assert _old_age(p, T0 + 4)[0] == 0 and float(p.grant_recipients.sel(year=T0 + 4)) == HEADS
    ceiling = cohort_valuation(age=40, heads=HEADS, horizon=12, scheme={"ceiling_multiple": _from(2026, 2.0, 0.5)})
    salary = ceiling.run().projection.average_insurable_salary.sel(sex="male")
    assert float(salary.sel(year=2025, age=45)) == SALARY and float(salary.sel(year=2026, age=46)) == 0.5 * SALARY


def test_lognormal_insurable_salary_with_floor_and_ceiling_by_year():
    """Expected insurable salary W_t E[min(max(X, F_t), C_t)] (X lognormal, mean the scale x W_t), with the floor
    and ceiling multiples changing by year (no floor then a floor, no ceiling then ceilings, a pair recurring
    after another): each year's value integrated numerically here in money of that year."""
    from scipy import stats

    from actuary.series import insurable_salary

    scale = np.array([[0.0, 20_000.0, 45_000.0], [9_000.0, 30_000.0, 80_000.0]])
    wages = np.array([1.0, 1.03, 1.07, 1.1, 1.12, 1.2])
    average_wage, cv = 40_000.0, 0.6
    floor = average_wage * np.array([0.0, 0.0, 0.3, 0.3, 0.0, 0.3])
    ceiling = average_wage * np.array([np.inf, 2.0, 2.0, 1.5, np.inf, 2.0])
    got = insurable_salary(scale, wages, floor, ceiling, cv)
    sigma = np.sqrt(np.log1p(cv * cv))
    for t, w in enumerate(wages):
        low, high = floor[t] * w, ceiling[t] * w
        for (s, x), mean in np.ndenumerate(scale * w):
            if mean == 0:
                assert got[t, s, x] == 0
                continue
            mu = np.log(mean) - sigma * sigma / 2   # X = exp(mu + sigma Z), Z standard normal
            kinks = [(np.log(k) - mu) / sigma for k in (low, high) if 0 < k < np.inf]
            expected = stats.norm.expect(lambda z: min(max(np.exp(mu + sigma * z), low), high), lb=-40, ub=40,
                                         points=kinks, epsabs=0, epsrel=1e-13, limit=500)
            assert got[t, s, x] == pytest.approx(expected, rel=1e-10)


def test_minimum_pension_by_year_in_money_of_t0():
    """A minimum of 10000 until 2024 and 12000 from 2025, in money of 2020, indexed by prices (2% a year):
    12000 x 1.02^5 in 2025."""
    v = cohort_valuation(age=40, heads=HEADS, horizon=12, economy={"inflation": 0.02},
                         scheme={"minimum_pension": _from(2025, 10000.0, 12000.0)})
    minimum = v.run().projection.minimum_pension
    assert float(minimum.sel(year=2024)) == pytest.approx(10000 * 1.02 ** 4, rel=1e-14)
    assert float(minimum.sel(year=2025)) == pytest.approx(12000 * 1.02 ** 5, rel=1e-14)


# ---------------------------------------------------------------------------------------- inputs

@pytest.fixture(scope="module")
def reformed():
    demo = Valuation.demo()
    years = demo.inputs.coords["year"]
    return demo.replace(scheme=dict(
        normal_retirement_age=None, early_retirement_age=None,
        normal_retirement_age_by_cohort=phase_in(62, 1962, 2, 67),
        early_retirement_age_by_cohort=phase_in(60, 1962, 2, 63),
        bend_points=(12000.0, 70000.0), bend_point_rates=(0.9, 0.32, 0.15), bend_point_indexation="prices",
        flat_pension=2000.0, flat_pension_service=40.0, minimum_pension_financing="state",
        vesting_years=xr.DataArray(np.where(years < 2030, 15.0, 20.0), dims="year", coords={"year": years})))


def test_reform_inputs_round_trip_through_the_workbook(reformed, tmp_path):
    path = tmp_path / "reformed.xlsx"
    reformed.to_workbook(path)
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert "Provisions by year" in names and "Retirement ages by cohort" in names
    again = load_workbook(path)
    for key in ("bend_points", "bend_point_rates", "bend_point_indexation", "flat_pension_service",
                "minimum_pension_financing"):
        assert again.inputs.scheme[key] == reformed.inputs.scheme[key], key
    born = np.arange(1930, 2030)   # the tables are written on the union of their cohorts: the same ages
    for key in ("normal_retirement_age_by_cohort", "early_retirement_age_by_cohort"):
        np.testing.assert_allclose(cohort_ages(again.inputs.scheme[key], born),
                                   cohort_ages(reformed.inputs.scheme[key], born), rtol=1e-15, err_msg=key)
    for key in ("vesting_years", "flat_pension"):
        np.testing.assert_array_equal(again.inputs.scheme[key].values, reformed.inputs.scheme[key].values, key)
    assert again.inputs.scheme["normal_retirement_age"] is None
    np.testing.assert_allclose(again.run().projection.reserve, reformed.run().projection.reserve, rtol=1e-12)


def test_template_documents_the_new_inputs(tmp_path):
    path = tmp_path / "blank.xlsx"
    Valuation.demo().to_workbook(path, blank=True)
    wb = openpyxl.load_workbook(path)
    rows = {ws.cell(row=r, column=1).value: r for ws in [wb["Scheme"]] for r in range(3, ws.max_row + 1)}
    for name in ("bend_points", "bend_point_rates", "flat_pension", "minimum_pension_financing", "vesting_years"):
        assert wb["Scheme"].cell(row=rows[name], column=3).value, name     # units
        assert wb["Scheme"].cell(row=rows[name], column=4).value, name     # notes
    headers = [c.value for c in wb["Retirement ages by cohort"][2]]
    assert headers[:4] == ["cohort", "sex", "normal_retirement_age_by_cohort", "early_retirement_age_by_cohort"]


def _scheme_row(wb, name):
    ws = wb["Scheme"]
    return next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == name)


def _set(name, value):
    def change(wb):
        wb["Scheme"].cell(row=_scheme_row(wb, name), column=2, value=value)
    return change


def _cohort_age(wb):
    ws = wb["Retirement ages by cohort"]
    ws.cell(row=6, column=3, value=75)


def _provision(wb):
    wb["Provisions by year"].cell(row=6, column=2, value=-1)


def _entry_age(wb):
    ws = wb["Settings"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == "adequacy_entry_age")
    ws.cell(row=row, column=2, value=80)


BAD_INPUTS = {
    "provision_by_year": (_provision, r"Provisions by year!B6: Input 'scheme.vesting_years' at year=2022: value -1.0 "
                                      r"is negative"),
    "entry_age": (_entry_age, r"Settings!B\d+: Input 'settings.adequacy_entry_age': value 80 is outside 15..69"),
    "rates_count": (_set("bend_point_rates", "0.9, 0.32"), r"Scheme!B(\d+): Input 'scheme.bend_point_rates': 2 "
                                                            r"rates for 2 bend points; expected 3"),
    "bend_text": (_set("bend_points", "12000, lots"), r"Scheme!B\d+: value '12000, lots' is not a list of numbers"),
    "bends_decreasing": (_set("bend_points", "70000, 12000"), r"Scheme!B\d+: Input 'scheme.bend_points': values "
                                                               r"\[70000.0, 12000.0\] must be positive"),
    "cohort_age": (_cohort_age, r"Retirement ages by cohort!C6: Input 'scheme.normal_retirement_age_by_cohort' at "
                                r"cohort=\d+, sex=\w+: value 75.0 is outside 16..70"),
    "financing": (_set("minimum_pension_financing", "charity"), r"Scheme!B\d+: value 'charity' is not an option"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_reform_inputs_name_the_cell(case, reformed, tmp_path):
    source = tmp_path / "good.xlsx"
    reformed.to_workbook(source)
    change, pattern = BAD_INPUTS[case]
    bad = _edit(source, tmp_path / "bad.xlsx", change)
    with pytest.raises(InputError, match=pattern):
        load_workbook(bad)


def test_both_bases_of_an_age_refused():
    with pytest.raises(InputError, match="replaces scheme.normal_retirement_age"):
        cohort_valuation(scheme={"normal_retirement_age_by_cohort": phase_in(63, 1962, 1, 67)})
    with pytest.raises(InputError, match="only used with scheme.bend_points"):
        cohort_valuation(scheme={"bend_point_indexation": "prices"})
    with pytest.raises(InputError, match="only used with a flat-rate pension"):
        cohort_valuation(scheme={"flat_pension_service": 40.0})
