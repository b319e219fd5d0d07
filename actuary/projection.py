"""Labelled inputs -> kernel arrays -> labelled results Dataset (the results schema of ARCHITECTURE.md).

Steps of one valuation:
1. population: cohort-component projection of the national population (kernels.population);
2. series: wage and price indices, indexation, insurable salaries, reference earnings, bounds;
3. insured: actives and inactive insured by sex, age and service; awards and grants (kernels.scheme);
4. pensions in payment by benefit, sex and age (kernels.scheme);
5. finance: contributions, expenses, investment income, reserve (kernels.scheme).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import series
from .inputs import BENEFITS, Inputs
from .kernels.population import project_population_kernel
from .kernels.scheme import finance_kernel, insured_kernel, pensions_kernel
from .lifetable import life_table_from_qx
from .reference.population import project_population_reference
from .reference.scheme import finance_reference, insured_reference, pensions_reference
from .validation import SEXES


def _c(array) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(array, dtype=float))


@dataclass
class KernelInputs:
    """Everything the kernels need, as contiguous float arrays (built once per valuation)."""

    population: dict
    insured: dict
    pensions: dict
    finance: dict
    series: dict


def mortality_table(inputs: Inputs) -> xr.DataArray:
    """q_x by (year, sex, age 0..max_age): base table with improvement (METHODOLOGY §1)."""
    demo = inputs.demography
    years = inputs.coords["year"]
    improvement = demo["mortality_improvement"]
    factor = (1.0 - improvement.isel(year=slice(1, None))).cumprod("year")
    ones = xr.ones_like(improvement.isel(year=slice(0, 1)))
    factor = xr.concat([ones, factor], "year").assign_coords(year=years)
    q = (demo["mortality"] * factor).clip(0.0, 1.0)
    q.loc[dict(age=q.age.values[-1])] = 1.0
    return q.transpose("year", "sex", "age")


def build_kernel_inputs(inputs: Inputs) -> KernelInputs:
    st, sch, eco, demo, beh, ini = (inputs.settings, inputs.scheme, inputs.economy, inputs.demography,
                                    inputs.behaviour, inputs.initial)
    years = inputs.coords["year"]
    n_years = years.size
    ages = inputs.coords["scheme_age"]
    lo = st["min_age"]

    # 1. population
    q_all = mortality_table(inputs)
    survival = life_table_from_qx(q_all)["Sx"]
    srb = demo["sex_ratio_at_birth"].values
    population = dict(
        base=_c(demo["population"].values), survival=_c(survival.values), fertility=_c(demo["fertility"].values),
        male_share=_c(srb / (1 + srb)), migration=_c(demo["net_migration"].values),
        even=st["migration_timing"] == "even")
    fert = population["fertility"]
    if np.any(fert[:, 0] > 0):
        from .validation import InputError
        raise InputError("Input 'demography.fertility' at age=0: fertility at age 0 must be 0.")

    # 2. series
    pi = eco["inflation"].values
    wage_growth = series.nominal_wage_growth(pi, eco["real_wage_growth"].values)
    wages = series.wage_index(pi, eco["real_wage_growth"].values)
    prices = series.price_index(pi)
    beta = series.pension_indexation(pi, wage_growth, sch["indexation_price_weight"], sch["indexation_wage_weight"],
                                     sch["indexation_floor"], sch["indexation_cap"], sch["indexation_lag"])
    average_wage = eco["average_wage"] * wages
    mean_salary = beh["salary_scale"].values[None, :, :] * wages[:, None, None]
    insurable = series.insurable_share(mean_salary, (sch["floor_multiple"] * average_wage)[:, None, None],
                                       (sch["ceiling_multiple"] * average_wage)[:, None, None], sch["earnings_cv"])
    index, index_growth = {"wages": (wages, wage_growth[0]), "prices": (prices, pi[0]),
                           "none": (np.ones(n_years), 0.0)}[sch["revaluation"]]
    reference = series.reference_earnings(insurable, index, sch["reference_earnings_years"], wage_growth[0],
                                          index_growth)
    minimum = series.indexed_amount(sch["minimum_pension"], sch["minimum_pension_indexation"], prices, wages, beta)
    maximum = series.indexed_amount(sch["maximum_pension"], sch["maximum_pension_indexation"], prices, wages, beta)

    # 3. insured
    q_scheme = q_all.sel(age=ages).values
    q_active = np.clip(q_scheme * beh["active_mortality_factor"].values[None], 0.0, 1.0)
    q_pens = np.clip(q_scheme * beh["pensioner_mortality_factor"].values[None], 0.0, 1.0)
    q_pens[:, :, -1] = 1.0
    residual = st["new_entrant_method"] == "residual"
    entrants = np.zeros((n_years, 2, ages.size))
    if not residual:
        growth = np.concatenate([[1.0], np.cumprod(1 + beh["entrant_growth"].values[1:])])
        entrants = beh["entrants"] * growth[:, None, None] * beh["entrant_distribution"].values[None]
    insured = dict(
        active0=_c(ini["active"].values), inactive0=_c(ini["inactive"].values),
        target=None, entrants_in=_c(entrants), residual_method=residual,
        q_active=_c(q_active), q_inactive=_c(q_scheme),
        exit_rate=_c(beh["exit_rate"].values), retire_rate=_c(beh["retirement_rate"].values),
        invalidity_rate=np.zeros((n_years, 2, ages.size)),
        credit_density=_c(beh["credit_density"].values), contribution_density=_c(beh["contribution_density"].values),
        salary=_c(insurable), reference=_c(reference),
        early_age=_c(sch["early_retirement_age"].values), normal_age=_c(sch["normal_retirement_age"].values),
        max_retirement_age=float(st["max_retirement_age"]), min_age=float(lo),
        accrual=_c(sch["accrual"].values), vesting=float(sch["vesting_years"]),
        early_reduction=float(sch["early_retirement_reduction"]), late_increment=float(sch["late_retirement_increment"]),
        minimum=_c(minimum), maximum=_c(maximum), grant_multiple=float(sch["grant_multiple"]))

    # 4. pensions
    count0 = ini["pensioners"].values
    pensions = dict(count0=_c(count0), amount0=_c(count0 * ini["average_pension"].values),
                    q_pension=_c(np.broadcast_to(q_pens[:, None], (n_years, len(BENEFITS), 2, ages.size))),
                    beta=_c(beta))

    # 5. finance
    finance = dict(contribution_rate=_c(sch["contribution_rate"].values), collection_rate=_c(sch["collection_rate"].values),
                   subsidy_benefits=_c(sch["subsidy_share_of_benefits"].values),
                   subsidy_wages=_c(sch["subsidy_share_of_wages"].values),
                   admin_benefits=float(sch["admin_share_of_benefits"]),
                   admin_contributions=float(sch["admin_share_of_contributions"]),
                   investment_return=_c(eco["nominal_return"].values), reserve0=float(ini["reserve"]))
    employment_share = beh["participation"].values * (1 - eco["unemployment_rate"].values)[:, None, None]
    target_share = employment_share * beh["coverage"].values
    derived = dict(wages=wages, prices=prices, beta=beta, wage_growth=wage_growth, average_wage=average_wage,
                   insurable=insurable, reference=reference, minimum=minimum, maximum=maximum,
                   employment_share=employment_share, target_share=target_share, mean_salary=mean_salary)
    return KernelInputs(population, insured, pensions, finance, derived)


def _target(population: np.ndarray, kin: KernelInputs, lo: int) -> np.ndarray:
    """Target insured contributors at 1 January of t0..t0+H: population x participation x (1 - u) x coverage
    (the shares of year t apply at 1 January of t; the last stock uses the last year's shares)."""
    share = kin.series["target_share"]
    share = np.concatenate([share, share[-1:]], axis=0)
    return _c(population[:, :, lo:] * share)


def run_kernels(kin: KernelInputs, lo: int, engine: str = "kernel") -> dict:
    """Run the four steps; returns a flat dict of arrays (kernel output names)."""
    p = kin.population
    n_years, _, n_pop_ages = p["survival"].shape
    if engine == "kernel":
        population = np.empty((n_years + 1, 2, n_pop_ages))
        births = np.empty((n_years, 2))
        deaths = np.empty((n_years, 2))
        project_population_kernel(p["base"], p["survival"], p["fertility"], p["male_share"], p["migration"],
                                  p["even"], population, births, deaths)
    else:
        population, births, deaths = project_population_reference(**p)
    out = {"population": population, "births": births, "deaths": deaths}
    ins = dict(kin.insured)
    ins["target"] = _target(population, kin, lo)
    n_ages = ins["active0"].shape[1]
    if engine == "kernel":
        res = {"active_out": np.empty((n_years + 1, 2, n_ages)), "inactive_out": np.empty((n_years + 1, 2, n_ages)),
               "awards_count": np.zeros((n_years, 4, 2, n_ages)), "awards_amount": np.zeros((n_years, 4, 2, n_ages))}
        for name in ("new_entrants", "active_deaths", "retirements", "exits", "invalidity", "inactive_deaths",
                     "inactive_retirements"):
            res[name] = np.zeros((n_years, 2, n_ages))
        for name in ("wage_bill", "contributors", "grants", "grant_count"):
            res[name] = np.zeros(n_years)
        insured_kernel(**ins, **res)
    else:
        res = insured_reference(**ins)
    out.update(res)
    out["target"] = ins["target"]
    pen = kin.pensions
    if engine == "kernel":
        pres = {"count": np.empty((n_years + 1,) + pen["count0"].shape),
                "amount": np.empty((n_years + 1,) + pen["count0"].shape),
                "expenditure": np.empty((n_years, 4)), "deaths": np.empty((n_years,) + pen["count0"].shape)}
        pensions_kernel(count0=pen["count0"], amount0=pen["amount0"], awards_count=res["awards_count"],
                        awards_amount=res["awards_amount"], q_pension=pen["q_pension"], beta=pen["beta"], **pres)
    else:
        pres = pensions_reference(pen["count0"], pen["amount0"], res["awards_count"], res["awards_amount"],
                                  pen["q_pension"], pen["beta"])
    out.update({"pensioner_" + k: v for k, v in pres.items()})
    fin = dict(kin.finance)
    benefits = pres["expenditure"].sum(axis=1)
    if engine == "kernel":
        fres = {"contributions": np.empty(n_years), "subsidy": np.empty(n_years), "admin": np.empty(n_years),
                "expenditure": np.empty(n_years), "investment_income": np.empty(n_years),
                "reserve": np.empty(n_years + 1)}
        finance_kernel(wage_bill=res["wage_bill"], benefits=benefits, grants=res["grants"], **fin, **fres)
    else:
        fres = finance_reference(res["wage_bill"], benefits, res["grants"], **fin)
    out.update({"finance_" + k: v for k, v in fres.items()})
    out["benefits"] = benefits
    return out


def to_dataset(inputs: Inputs, kin: KernelInputs, out: dict) -> xr.Dataset:
    """Kernel outputs -> the results Dataset (stable names of ARCHITECTURE.md).

    Per-year variables: flows of the year, stocks at the END of the year; the valuation-date stocks
    are kept in ``*_at_valuation`` variables and ``reserve_at_valuation``.
    """
    coords = inputs.coords
    years = coords["year"]
    ages = coords["scheme_age"]
    lo = inputs.settings["min_age"]
    sexes = list(SEXES)
    benefits = list(BENEFITS)
    Y, S, A, B = "year", "sex", "age", "benefit"

    pension_count_end = out["pensioner_count"][1:]
    pension_amount_end = out["pensioner_amount"][1:]
    awards_count = out["awards_count"]
    awards_amount = out["awards_amount"]
    expenditure_by_benefit = out["pensioner_expenditure"]
    wage_bill = out["wage_bill"]
    total_expenditure = out["finance_expenditure"]
    reserve_end = out["finance_reserve"][1:]
    reserve_start = out["finance_reserve"][:-1]
    population_end = out["population"][1:]
    contributors = out["contributors"]

    # exposure to payment during the year (for average pensions): stock at start and awards at mid-year
    with np.errstate(divide="ignore", invalid="ignore"):
        average_pension = np.where(pension_count_end > 0, pension_amount_end / pension_count_end, 0.0)
        pensioners_total = pension_count_end.sum(axis=(2, 3))
        paygo = total_expenditure / wage_bill
        reserve_ratio = reserve_end / total_expenditure
        trust_fund_ratio = reserve_start / total_expenditure
        pop = out["population"][1:]
        working = pop[:, :, 15:65].sum(axis=(1, 2))
        old = pop[:, :, 65:].sum(axis=(1, 2))
        new_old_age = awards_count[:, 0].sum(axis=(1, 2))
        new_old_age_amount = awards_amount[:, 0].sum(axis=(1, 2))
        average_salary_all = wage_bill / np.where(contributors > 0, contributors, np.nan)
        replacement = (new_old_age_amount / new_old_age) / average_salary_all
        old_age_count_start = out["pensioner_count"][:-1, 0].sum(axis=(1, 2))
        old_age_amount_start = out["pensioner_amount"][:-1, 0].sum(axis=(1, 2)) * (1 + kin.series["beta"])
        benefit_ratio = (old_age_amount_start / old_age_count_start) / average_salary_all

    gdp = _gdp(inputs, kin, out)
    data = {
        "insurable_wage_bill": ((Y,), wage_bill, "currency", "insurable earnings x contribution density, all actives"),
        "contributions": ((Y,), out["finance_contributions"], "currency", "rate x collection rate x wage bill"),
        "state_subsidy": ((Y,), out["finance_subsidy"], "currency", ""),
        "benefit_expenditure": ((Y,), out["benefits"], "currency", "pensions paid, all benefits"),
        "benefit_expenditure_by_benefit": ((Y, B), expenditure_by_benefit, "currency", "pensions paid"),
        "grants": ((Y,), out["grants"], "currency", "lump sums to non-vested insured at retirement age"),
        "admin_expenses": ((Y,), out["finance_admin"], "currency", ""),
        "total_expenditure": ((Y,), total_expenditure, "currency", "benefits + grants + administrative expenses"),
        "investment_income": ((Y,), out["finance_investment_income"], "currency", "i V_{t-1} + ((1+i)^0.5-1)(C+subsidy-E)"),
        "reserve": ((Y,), reserve_end, "currency", "at the end of the year"),
        "paygo_cost_rate": ((Y,), paygo, "share", "total expenditure / insurable wage bill"),
        "reserve_ratio": ((Y,), reserve_ratio, "years", "reserve at the end of the year / expenditure"),
        "trust_fund_ratio": ((Y,), trust_fund_ratio, "years", "reserve at the start of the year / expenditure"),
        "gdp": ((Y,), gdp, "currency", ""),
        "expenditure_pct_gdp": ((Y,), 100 * out["benefits"] / gdp, "percent", "benefit expenditure / GDP"),
        "contributors": ((Y,), contributors, "persons", "actives exposed during the year (leavers count half)"),
        "pensioners": ((Y,), pensioners_total.sum(axis=1), "persons", "at the end of the year"),
        "pensioners_by_benefit": ((Y, B), pensioners_total, "persons", "at the end of the year"),
        "system_dependency_ratio": ((Y,), pensioners_total.sum(axis=1) / contributors, "ratio",
                                    "pensioners at the end of the year / contributors"),
        "demographic_dependency_ratio": ((Y,), old / working, "ratio", "population 65+ / 15-64, end of the year"),
        "replacement_rate": ((Y,), replacement, "share",
                             "average new old-age pension / average insurable salary of contributors"),
        "benefit_ratio": ((Y,), benefit_ratio, "share",
                          "average old-age pension in payment / average insurable salary of contributors"),
        "contribution_rate": ((Y,), kin.finance["contribution_rate"], "share", "statutory contribution rate"),
        "grant_recipients": ((Y,), out["grant_count"], "persons", ""),
        "population": ((Y, S, "population_age"), population_end, "persons", "national population, end of the year"),
        "births": ((Y, S), out["births"], "persons", ""),
        "deaths": ((Y, S), out["deaths"], "persons", "national deaths"),
        "target_insured": ((Y, S, A), out["target"][1:], "persons", "population x participation x (1-u) x coverage"),
        "active": ((Y, S, A), out["active_out"][1:], "persons", "active insured at the end of the year"),
        "inactive": ((Y, S, A), out["inactive_out"][1:], "persons", "inactive insured at the end of the year"),
        "new_entrants": ((Y, S, A), out["new_entrants"], "persons", "by age at the end of the year"),
        "active_deaths": ((Y, S, A), out["active_deaths"], "persons", "by age at the start of the year"),
        "retirements": ((Y, S, A), out["retirements"], "persons", "actives retiring or leaving at retirement age"),
        "exits": ((Y, S, A), out["exits"], "persons", "actives becoming inactive"),
        "inactive_deaths": ((Y, S, A), out["inactive_deaths"], "persons", ""),
        "inactive_retirements": ((Y, S, A), out["inactive_retirements"], "persons",
                                 "inactive insured reaching retirement age (deferred pension or grant)"),
        "average_insurable_salary": ((Y, S, A), kin.insured["salary"], "currency a year",
                                     "expected insurable earnings per active (ceiling/floor, lognormal)"),
        "reference_earnings": ((Y, S, A), kin.insured["reference"], "currency a year", "for an award in the year"),
        "pensioners_by_age": ((Y, B, S, A), pension_count_end, "persons", "at the end of the year"),
        "pension_amount_by_age": ((Y, B, S, A), pension_amount_end, "currency a year", "annual amount, end of year"),
        "average_pension": ((Y, B, S, A), average_pension, "currency a year", "in payment at the end of the year"),
        "new_pensioners": ((Y, B, S, A), awards_count, "persons", "awards in the year, by age at the start"),
        "new_pension_amount": ((Y, B, S, A), awards_amount, "currency a year", "annual amount of the awards"),
        "pensioner_deaths": ((Y, B, S, A), out["pensioner_deaths"], "persons", ""),
        "wage_index": ((Y,), kin.series["wages"], "index", "average wage, t0 = 1"),
        "price_index": ((Y,), kin.series["prices"], "index", "t0 = 1"),
        "pension_indexation": ((Y,), kin.series["beta"], "rate", "applied on 1 January"),
        "minimum_pension": ((Y,), kin.series["minimum"], "currency a year", ""),
        "maximum_pension": ((Y,), kin.series["maximum"], "currency a year", ""),
        "investment_return": ((Y,), kin.finance["investment_return"], "rate", ""),
        "collection_rate": ((Y,), kin.finance["collection_rate"], "share", ""),
        "subsidy_share_of_benefits": ((Y,), kin.finance["subsidy_benefits"], "share", ""),
        "subsidy_share_of_wages": ((Y,), kin.finance["subsidy_wages"], "share", ""),
    }
    variables = {name: (dims, np.asarray(values), {"units": units, "description": doc})
                 for name, (dims, values, units, doc) in data.items()}
    variables["active_at_valuation"] = ((S, A), out["active_out"][0], {"units": "persons"})
    variables["inactive_at_valuation"] = ((S, A), out["inactive_out"][0], {"units": "persons"})
    variables["pensioners_at_valuation"] = ((B, S, A), out["pensioner_count"][0], {"units": "persons"})
    variables["population_at_valuation"] = ((S, "population_age"), out["population"][0], {"units": "persons"})
    variables["reserve_at_valuation"] = ((), out["finance_reserve"][0], {"units": "currency"})
    ds = xr.Dataset(variables, coords={Y: years, S: sexes, A: ages, B: benefits,
                                       "population_age": coords["population_age"]})
    ds.attrs.update({
        "valuation_year": int(years[0]), "horizon": int(years.size), "min_age": int(lo),
        "admin_share_of_benefits": kin.finance["admin_benefits"],
        "admin_share_of_contributions": kin.finance["admin_contributions"],
        "conventions": "flows of each year; stocks at the end of the year (1 January of the next); "
                       "valuation-date stocks in *_at_valuation",
    })
    return ds


def _gdp(inputs: Inputs, kin: KernelInputs, out: dict) -> np.ndarray:
    """GDP_t = GDP_{t-1} x (employment_t / employment_{t-1}) x (1 + productivity_t) x (1 + π_t)."""
    eco = inputs.economy
    lo = inputs.settings["min_age"]
    employment = (out["population"][:-1, :, lo:] * kin.series["employment_share"]).sum(axis=(1, 2))
    growth = np.ones_like(employment)
    growth[1:] = (employment[1:] / employment[:-1]) * (1 + eco["productivity_growth"].values[1:]) \
        * (1 + eco["inflation"].values[1:])
    return eco["gdp"] * np.cumprod(growth)
