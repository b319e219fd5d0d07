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
from .kernels.scheme import award_annuity_kernel, finance_kernel, insured_kernel, pensions_kernel
from .lifetable import life_table_from_qx
from .reference.population import project_population_reference
from .reference.scheme import award_annuity_reference, finance_reference, insured_reference, pensions_reference
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


def population_kernel_inputs(inputs: Inputs, q_all: xr.DataArray) -> dict:
    """Arrays of the population kernel (METHODOLOGY §1) from the inputs and the mortality table."""
    demo = inputs.demography
    survival = life_table_from_qx(q_all)["Sx"]
    srb = demo["sex_ratio_at_birth"].values
    population = dict(
        base=_c(demo["population"].values), survival=_c(survival.values), fertility=_c(demo["fertility"].values),
        male_share=_c(srb / (1 + srb)), migration=_c(demo["net_migration"].values),
        even=inputs.settings["migration_timing"] == "even")
    if np.any(population["fertility"][:, 0] > 0):
        from .validation import InputError
        raise InputError("Input 'demography.fertility' at age=0: fertility at age 0 must be 0.")
    return population


def employment_share(inputs: Inputs) -> np.ndarray:
    """Employed / population by (year, sex, insured age): participation x (1 - unemployment)."""
    return inputs.behaviour["participation"].values * (1 - inputs.economy["unemployment_rate"].values)[:, None, None]


def build_kernel_inputs(inputs: Inputs) -> KernelInputs:
    st, sch, eco, beh, ini = inputs.settings, inputs.scheme, inputs.economy, inputs.behaviour, inputs.initial
    years = inputs.coords["year"]
    n_years = years.size
    ages = inputs.coords["scheme_age"]
    lo = st["min_age"]

    # 1. population
    q_all = mortality_table(inputs)
    population = population_kernel_inputs(inputs, q_all)

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
    residual = st["new_entrant_method"] == "residual"
    entrants = np.zeros((n_years, 2, ages.size))
    if not residual:
        growth = np.concatenate([[1.0], np.cumprod(1 + beh["entrant_growth"].values[1:])])
        entrants = beh["entrants"] * growth[:, None, None] * beh["entrant_distribution"].values[None]
    refund = sch["grant_type"] == "refund"
    refund_rate = sch["refund_contribution_rate"].values if refund else np.zeros(n_years)
    refund_interest = (sch["refund_interest"] if sch["refund_interest"] is not None else eco["nominal_return"]).values
    active0 = credit_past_service(ini["active"].values, sch["past_service_credit"])
    service = inputs.coords["service"]
    inactive0 = ini["inactive"].values

    def opening_balance(stock, given):
        """Refund balances at t0: given, or service x refund rate x insurable salary (no interest)."""
        if not refund:
            return np.zeros_like(stock)
        if given is not None:
            return given.values
        pay = insurable[0] * beh["contribution_density"].values[0]
        return stock * service[None, None, :] * refund_rate[0] * pay[:, :, None]

    balance0 = opening_balance(active0, ini["refund_balance"])
    inactive_balance0 = opening_balance(inactive0, ini["inactive_refund_balance"])
    survivors = dict(married=_c(beh["probability_married"].values),
                     difference=_c(beh["spouse_age_difference"].values),
                     orphans=_c(beh["orphans"].values), orphan_age=_c(beh["orphan_age"].values))
    shares = _c([sch["widow_share"], sch["orphan_share"], sch["survivor_share_cap"], sch["orphan_age_limit"]])
    insured = dict(
        active0=_c(active0), inactive0=_c(inactive0),
        balance_active0=_c(balance0), balance_inactive0=_c(inactive_balance0),
        target=None, entrants_in=_c(entrants), residual_method=residual, entrants_allowed=True, accrue=True,
        q_active=_c(q_active), q_inactive=_c(q_scheme),
        exit_rate=_c(beh["exit_rate"].values), retire_rate=_c(beh["retirement_rate"].values),
        invalidity_rate=_c(beh["invalidity_rate"].values), reentry_rate=_c(beh["reentry_rate"].values),
        credit_density=_c(beh["credit_density"].values), contribution_density=_c(beh["contribution_density"].values),
        salary=_c(insurable), reference=_c(reference),
        early_age=_c(sch["early_retirement_age"].values), normal_age=_c(sch["normal_retirement_age"].values),
        max_retirement_age=float(st["max_retirement_age"]), min_age=float(lo),
        accrual=_c(sch["accrual"].values), vesting=float(sch["vesting_years"]),
        invalidity_vesting=float(sch["invalidity_vesting_years"]),
        future_service_fraction=float(sch["invalidity_future_service"]),
        early_reduction=float(sch["early_retirement_reduction"]), late_increment=float(sch["late_retirement_increment"]),
        minimum=_c(minimum), maximum=_c(maximum), refund=refund, grant_multiple=float(sch["grant_multiple"]),
        refund_rate=_c(refund_rate), refund_interest=_c(refund_interest), shares=shares, **survivors)

    # 4. pensions (full age grid 0..max_age)
    q_full = q_all.values
    factors = [beh["pensioner_mortality_factor"], beh["invalid_mortality_factor"], beh["survivor_mortality_factor"],
               xr.ones_like(beh["pensioner_mortality_factor"])]
    q_pension = np.stack([np.clip(q_full * f.values[None], 0.0, 1.0) for f in factors], axis=1)
    q_pension[..., -1] = 1.0
    count0 = ini["pensioners"].values
    pensions = dict(count0=_c(count0), amount0=_c(count0 * ini["average_pension"].values),
                    q_pension=_c(q_pension), beta=_c(beta), remarriage=_c(beh["remarriage_rate"].values),
                    normal_age=_c(sch["normal_retirement_age"].values),
                    convert_invalidity=sch["invalidity_conversion"] == "convert", shares=shares, **survivors)
    funeral = series.indexed_amount(sch["funeral_grant"], sch["funeral_grant_indexation"], prices, wages, beta)

    # 5. finance
    finance = dict(contribution_rate=_c(sch["contribution_rate"].values), collection_rate=_c(sch["collection_rate"].values),
                   subsidy_benefits=_c(sch["subsidy_share_of_benefits"].values),
                   subsidy_wages=_c(sch["subsidy_share_of_wages"].values),
                   admin_benefits=float(sch["admin_share_of_benefits"]),
                   admin_contributions=float(sch["admin_share_of_contributions"]),
                   investment_return=_c(eco["nominal_return"].values), reserve0=float(ini["reserve"]),
                   payable=st["after_depletion"] == "payable")
    employed = employment_share(inputs)
    target_share = employed * beh["coverage"].values
    derived = dict(wages=wages, prices=prices, beta=beta, wage_growth=wage_growth, average_wage=average_wage,
                   funeral=funeral,
                   insurable=insurable, reference=reference, minimum=minimum, maximum=maximum,
                   employment_share=employed, target_share=target_share, mean_salary=mean_salary,
                   annuity=award_annuity_assumptions(inputs, q_pension, factors, pi, wage_growth, pensions, finance))
    return KernelInputs(population, insured, pensions, finance, derived)


def award_annuity_assumptions(inputs: Inputs, q_pension, mortality_factors, inflation, wage_growth, pensions,
                              finance) -> dict:
    """Assumptions of the capital values at award (:func:`kernels.scheme.award_annuity_kernel`) over the
    horizon and past it, until a pensioner awarded in the last year at age 0 would reach the last age:
    every assumption held at its value of the last projection year (mortality keeps improving at the
    last year's improvement rates; indexation follows the last year's inflation and wage growth)."""
    demo, sch = inputs.demography, inputs.scheme
    n_years, _, _, n_ages = q_pension.shape
    tail = n_ages
    improvement = demo["mortality_improvement"].transpose("year", "sex", "age").values
    # the improvement factor of mortality_table, continued year by year in the same order of operations
    steps = np.concatenate([1.0 - improvement[1:], np.repeat(1.0 - improvement[-1:], tail, axis=0)])
    factor = np.cumprod(steps, axis=0)[n_years - 1:]
    q = np.clip(demo["mortality"].transpose("sex", "age").values * factor, 0.0, 1.0)
    q[..., -1] = 1.0
    q_tail = np.stack([np.clip(q * f.transpose("sex", "age").values, 0.0, 1.0) for f in mortality_factors], axis=1)
    q_tail[..., -1] = 1.0

    def held(array):
        return np.concatenate([array, np.repeat(array[-1:], tail, axis=0)])

    beta = series.pension_indexation(held(inflation), held(wage_growth), sch["indexation_price_weight"],
                                     sch["indexation_wage_weight"], sch["indexation_floor"], sch["indexation_cap"],
                                     sch["indexation_lag"])
    return dict(q_pension=_c(np.concatenate([q_pension, q_tail])), beta=_c(beta),
                remarriage=_c(held(pensions["remarriage"])), normal_age=_c(held(pensions["normal_age"])),
                convert_invalidity=pensions["convert_invalidity"], orphan_limit=float(pensions["shares"][3]),
                investment_return=_c(held(finance["investment_return"])))


def award_annuity_factors(kin: KernelInputs, engine: str = "kernel") -> np.ndarray:
    """Capital value at award per unit of annual pension, by (award year, benefit, sex, age at 1 January)."""
    a = kin.series["annuity"]
    n_years = kin.finance["investment_return"].size
    if engine == "reference":
        return award_annuity_reference(**a, n_awards=n_years)
    factors = np.empty((n_years,) + a["q_pension"].shape[1:])
    award_annuity_kernel(**a, factors=factors)
    return factors


def credit_past_service(active: np.ndarray, share: float) -> np.ndarray:
    """Initial actives with only ``share`` of their service credited (a new scheme: 0 no past-service
    credit, 1 full credit): service k becomes share x k, split between the neighbouring whole years."""
    if share == 1.0:
        return np.asarray(active, dtype=float)
    out = np.zeros_like(active, dtype=float)
    top = active.shape[-1] - 1
    for k in range(active.shape[-1]):
        credited = share * k
        low = int(np.floor(credited))
        weight = credited - low
        out[..., low] += active[..., k] * (1 - weight)
        out[..., min(low + 1, top)] += active[..., k] * weight
    return out


RUN_MODES = {
    # mode: (initial insured kept, new entrants, future accrual)
    "open": (True, True, True),
    "closed": (True, False, True),
    "accrued": (True, False, False),
    "pensioners": (False, False, False),
}


def _target(population: np.ndarray, kin: KernelInputs, lo: int) -> np.ndarray:
    """Target insured contributors at 1 January of t0..t0+H: population x participation x (1 - u) x coverage
    (the shares of year t apply at 1 January of t; the last stock uses the last year's shares)."""
    share = kin.series["target_share"]
    share = np.concatenate([share, share[-1:]], axis=0)
    return _c(population[:, :, lo:] * share)


def run_kernels(kin: KernelInputs, lo: int, engine: str = "kernel", mode: str = "open") -> dict:
    """Run the four steps; returns a flat dict of arrays (kernel output names).

    ``mode``: "open" (the valuation), "closed" (no new entrants), "accrued" (no new entrants and no
    future accrual: benefits on service at the valuation date), "pensioners" (current pensioners and
    their survivors only). The closed-group modes serve the balance sheet."""
    keep_insured, entrants_allowed, accrue = RUN_MODES[mode]
    n_years, _, n_full = kin.population["survival"].shape
    out = run_population(kin.population, engine)
    population = out["population"]
    ins = dict(kin.insured)
    ins["target"] = _target(population, kin, lo)
    ins["entrants_allowed"] = entrants_allowed
    ins["accrue"] = accrue
    if not keep_insured:
        for key in ("active0", "inactive0", "balance_active0", "balance_inactive0"):
            ins[key] = np.zeros_like(ins[key])
    n_ages = ins["active0"].shape[1]
    if engine == "kernel":
        res = {"active_out": np.empty((n_years + 1, 2, n_ages)), "inactive_out": np.empty((n_years + 1, 2, n_ages))}
        for name in ("new_entrants", "active_deaths", "retirements", "exits", "invalidity", "inactive_deaths",
                     "inactive_retirements", "reentries"):
            res[name] = np.zeros((n_years, 2, n_ages))
        res["awards_count"] = np.zeros((n_years, 4, 2, n_full))
        res["awards_amount"] = np.zeros((n_years, 4, 2, n_full))
        for name in ("wage_bill", "contributors", "grants", "grant_count"):
            res[name] = np.zeros(n_years)
        insured_kernel(**ins, **res, work=np.empty((8,) + ins["active0"].shape))
    else:
        res = insured_reference(**ins, n_full_ages=n_full)
    out.update(res)
    out["target"] = ins["target"]
    pen = dict(kin.pensions)
    if engine == "kernel":
        shape = pen["count0"].shape
        pres = {"count": np.empty((n_years + 1,) + shape), "amount": np.empty((n_years + 1,) + shape),
                "expenditure": np.empty((n_years, 4)), "deaths": np.empty((n_years,) + shape),
                "exits": np.zeros((n_years,) + shape), "conversions": np.zeros((n_years, 2, n_full))}
        awards_count, awards_amount = res["awards_count"].copy(), res["awards_amount"].copy()
        pensions_kernel(awards_count=awards_count, awards_amount=awards_amount, **pen, **pres)
        pres["awards_count"], pres["awards_amount"] = awards_count, awards_amount
    else:
        pres = pensions_reference(awards_count=res["awards_count"], awards_amount=res["awards_amount"], **pen)
    out.update({"pensioner_" + k: v for k, v in pres.items()})
    fin = dict(kin.finance)
    benefits = pres["expenditure"].sum(axis=1)
    pensioner_deaths = pres["deaths"][:, :3].sum(axis=(1, 2, 3))
    funeral = kin.series["funeral"] * (res["active_deaths"].sum(axis=(1, 2)) + pensioner_deaths)
    grants = res["grants"] + funeral
    if engine == "kernel":
        fres = {"contributions": np.empty(n_years), "subsidy": np.empty(n_years), "admin": np.empty(n_years),
                "expenditure": np.empty(n_years), "investment_income": np.empty(n_years),
                "reserve": np.empty(n_years + 1), "payable_share": np.empty(n_years)}
        finance_kernel(wage_bill=res["wage_bill"], benefits=benefits, grants=grants, **fin, **fres)
    else:
        fres = finance_reference(res["wage_bill"], benefits, grants, **fin)
    out.update({"finance_" + k: v for k, v in fres.items()})
    out["benefits"] = benefits
    out["funeral_grants"] = funeral
    out["withdrawal_grants"] = res["grants"]
    out["all_grants"] = grants
    if mode == "open":
        out["award_annuity_factors"] = award_annuity_factors(kin, engine)
        out["award_capital_value"] = (pres["awards_amount"] * out["award_annuity_factors"]).sum(axis=(1, 2, 3))
    return out


def run_population(p: dict, engine: str = "kernel") -> dict:
    """The population kernel (or its NumPy reference): population [year + 1, sex, age], births and deaths."""
    if engine != "kernel":
        population, births, deaths = project_population_reference(**p)
        return {"population": population, "births": births, "deaths": deaths}
    n_years, _, n_full = p["survival"].shape
    population = np.empty((n_years + 1, 2, n_full))
    births = np.empty((n_years, 2))
    deaths = np.empty((n_years, 2))
    project_population_kernel(p["base"], p["survival"], p["fertility"], p["male_share"], p["migration"],
                              p["even"], population, births, deaths)
    return {"population": population, "births": births, "deaths": deaths}


def cash_flows(inputs: Inputs, out: dict) -> xr.Dataset:
    """The yearly cash flows a closed-group run contributes to the balance sheet (contributions,
    benefit expenditure, grants; names as in the results Dataset), without building the whole Dataset."""
    year = inputs.coords["year"]
    return xr.Dataset({"contributions": ("year", out["finance_contributions"]),
                       "benefit_expenditure": ("year", out["benefits"]),
                       "grants": ("year", out["all_grants"]),
                       "insurable_wage_bill": ("year", out["wage_bill"]),
                       "investment_return": ("year", inputs.economy["nominal_return"].values)},
                      coords={"year": year})


def _full_ages(array: np.ndarray, lo: int) -> np.ndarray:
    """Pad an insured-age array (last axis min_age..max_age) with zeros for ages 0..min_age-1."""
    pad = [(0, 0)] * (array.ndim - 1) + [(lo, 0)]
    return np.pad(array, pad)


def to_dataset(inputs: Inputs, kin: KernelInputs, out: dict, extend=None) -> xr.Dataset:
    """Kernel outputs -> the results Dataset (stable names of ARCHITECTURE.md).

    ``extend``: a function of the variables (name -> (dims, values, attrs)) returning more variables and
    coordinates (the social protection floor, :func:`actuary.floor.floor_extension`), added before the
    Dataset is built once.

    Per-year variables: flows of the year, stocks at the END of the year; the valuation-date stocks
    are kept in ``*_at_valuation`` variables. One ``age`` coordinate 0..max_age for every variable
    (insured variables are zero below the minimum insured age).
    """
    coords = inputs.coords
    years = coords["year"]
    lo = inputs.settings["min_age"]
    Y, S, A, B = "year", "sex", "age", "benefit"

    pension_count_end = out["pensioner_count"][1:]
    pension_amount_end = out["pensioner_amount"][1:]
    awards_count = out["pensioner_awards_count"]
    awards_amount = out["pensioner_awards_amount"]
    wage_bill = out["wage_bill"]
    total_expenditure = out["finance_expenditure"]
    fin = kin.finance
    outgo = out["benefits"] + out["all_grants"]
    # expenditure due (benefits and grants in full, whatever was payable after depletion) and the
    # break-even rate: the statutory rate at which the year's income equals that expenditure
    due = outgo + (fin["admin_benefits"] * outgo + fin["admin_contributions"] * out["finance_contributions"])
    net_cost = (1 + fin["admin_benefits"]) * outgo - (fin["subsidy_benefits"] * out["benefits"]
                                                      + fin["subsidy_wages"] * wage_bill)
    contribution_base = fin["collection_rate"] * (1 - fin["admin_contributions"]) * wage_bill
    reserve_end = out["finance_reserve"][1:]
    reserve_start = out["finance_reserve"][:-1]
    contributors = out["contributors"]
    pop = out["population"][1:]

    with np.errstate(divide="ignore", invalid="ignore"):
        average_pension = np.where(pension_count_end > 0, pension_amount_end / pension_count_end, 0.0)
        pensioners_total = pension_count_end.sum(axis=(2, 3))
        paygo = due / wage_bill
        reserve_ratio = reserve_end / due
        trust_fund_ratio = reserve_start / due
        breakeven = net_cost / contribution_base
        terminal_funding = out["award_capital_value"] / wage_bill
        new_old_age = out["awards_count"][:, 0].sum(axis=(1, 2))
        new_old_age_amount = out["awards_amount"][:, 0].sum(axis=(1, 2))
        average_salary_all = wage_bill / np.where(contributors > 0, contributors, np.nan)
        replacement = (new_old_age_amount / new_old_age) / average_salary_all
        old_age_count_start = out["pensioner_count"][:-1, 0].sum(axis=(1, 2))
        old_age_amount_start = out["pensioner_amount"][:-1, 0].sum(axis=(1, 2)) * (1 + kin.series["beta"])
        benefit_ratio = (old_age_amount_start / old_age_count_start) / average_salary_all
        system_dependency = pensioners_total.sum(axis=1) / contributors

    def full(name):
        return _full_ages(out[name], lo)

    gdp = gross_domestic_product(inputs, out["population"], kin.series["employment_share"])
    data = {
        "insurable_wage_bill": ((Y,), wage_bill, "currency", "insurable earnings x contribution density, all actives"),
        "contributions": ((Y,), out["finance_contributions"], "currency", "rate x collection rate x wage bill"),
        "state_subsidy": ((Y,), out["finance_subsidy"], "currency", ""),
        "benefit_expenditure": ((Y,), out["benefits"], "currency", "pensions paid, all benefits"),
        "benefit_expenditure_by_benefit": ((Y, B), out["pensioner_expenditure"], "currency", "pensions paid"),
        "grants": ((Y,), out["all_grants"], "currency", "withdrawal grants + funeral grants"),
        "withdrawal_grants": ((Y,), out["withdrawal_grants"], "currency",
                              "lump sums to insured reaching retirement age without the vesting service"),
        "funeral_grants": ((Y,), out["funeral_grants"], "currency", "per death of an active or a pensioner"),
        "admin_expenses": ((Y,), out["finance_admin"], "currency", ""),
        "total_expenditure": ((Y,), total_expenditure, "currency",
                              "benefits + grants + administrative expenses paid (after depletion with "
                              "settings.after_depletion 'payable': payable_benefits + administrative expenses)"),
        "investment_income": ((Y,), out["finance_investment_income"], "currency",
                              "i V_{t-1} + ((1+i)^0.5-1)(C+subsidy-E)"),
        "reserve": ((Y,), reserve_end, "currency", "at the end of the year"),
        "paygo_cost_rate": ((Y,), paygo, "share",
                            "total expenditure due (benefits, grants, administration) / insurable wage bill"),
        "reserve_ratio": ((Y,), reserve_ratio, "years", "reserve at the end of the year / expenditure due"),
        "trust_fund_ratio": ((Y,), trust_fund_ratio, "years", "reserve at the start of the year / expenditure due"),
        "gdp": ((Y,), gdp, "currency", ""),
        "expenditure_pct_gdp": ((Y,), 100 * out["benefits"] / gdp, "percent", "benefit expenditure / GDP"),
        "contributors": ((Y,), contributors, "persons", "actives exposed during the year (leavers count half)"),
        "pensioners": ((Y,), pensioners_total.sum(axis=1), "persons", "at the end of the year"),
        "pensioners_by_benefit": ((Y, B), pensioners_total, "persons", "at the end of the year"),
        "system_dependency_ratio": ((Y,), system_dependency, "ratio",
                                    "pensioners at the end of the year / contributors"),
        "demographic_dependency_ratio": ((Y,), demographic_dependency_ratio(pop), "ratio",
                                         "population 65+ / 15-64, end of the year"),
        "replacement_rate": ((Y,), replacement, "share",
                             "average new old-age pension of actives / average insurable salary of contributors"),
        "benefit_ratio": ((Y,), benefit_ratio, "share",
                          "average old-age pension in payment / average insurable salary of contributors"),
        "contribution_rate": ((Y,), kin.finance["contribution_rate"], "share", "statutory contribution rate"),
        "grant_recipients": ((Y,), out["grant_count"], "persons", "withdrawal grants"),
        "population": ((Y, S, A), pop, "persons", "national population, end of the year"),
        "births": ((Y, S), out["births"], "persons", ""),
        "deaths": ((Y, S), out["deaths"], "persons", "national deaths"),
        "target_insured": ((Y, S, A), full("target")[1:], "persons", "population x participation x (1-u) x coverage"),
        "active": ((Y, S, A), full("active_out")[1:], "persons", "active insured at the end of the year"),
        "inactive": ((Y, S, A), full("inactive_out")[1:], "persons", "inactive insured at the end of the year"),
        "new_entrants": ((Y, S, A), full("new_entrants"), "persons", "by age at the end of the year"),
        "active_deaths": ((Y, S, A), full("active_deaths"), "persons", "by age at the start of the year"),
        "retirements": ((Y, S, A), full("retirements"), "persons", "actives retiring or leaving at retirement age"),
        "invalidity_retirements": ((Y, S, A), full("invalidity"), "persons", "actives becoming invalid"),
        "exits": ((Y, S, A), full("exits"), "persons", "actives becoming inactive"),
        "inactive_deaths": ((Y, S, A), full("inactive_deaths"), "persons", ""),
        "inactive_retirements": ((Y, S, A), full("inactive_retirements"), "persons",
                                 "inactive insured reaching retirement age (deferred pension or grant)"),
        "reentries": ((Y, S, A), full("reentries"), "persons", "inactive insured returning to active service"),
        "average_insurable_salary": ((Y, S, A), _full_ages(kin.insured["salary"], lo), "currency a year",
                                     "expected insurable earnings per active (ceiling/floor, lognormal)"),
        "reference_earnings": ((Y, S, A), _full_ages(kin.insured["reference"], lo), "currency a year",
                               "for an award in the year"),
        "pensioners_by_age": ((Y, B, S, A), pension_count_end, "persons", "at the end of the year"),
        "pension_amount_by_age": ((Y, B, S, A), pension_amount_end, "currency a year", "annual amount, end of year"),
        "average_pension": ((Y, B, S, A), average_pension, "currency a year", "in payment at the end of the year"),
        "new_pensioners": ((Y, B, S, A), awards_count, "persons", "awards in the year, by age at the start"),
        "new_pension_amount": ((Y, B, S, A), awards_amount, "currency a year", "annual amount of the awards"),
        "pensioner_deaths": ((Y, B, S, A), out["pensioner_deaths"], "persons", ""),
        "pensioner_exits": ((Y, B, S, A), out["pensioner_exits"], "persons",
                            "remarriage (widow), age limit (orphan), conversion to old age (invalidity)"),
        "invalidity_conversions": ((Y, S, A), out["pensioner_conversions"], "persons",
                                   "invalidity pensioners moving to old age at normal retirement age"),
        "wage_index": ((Y,), kin.series["wages"], "index", "average wage, t0 = 1"),
        "price_index": ((Y,), kin.series["prices"], "index", "t0 = 1"),
        "pension_indexation": ((Y,), kin.series["beta"], "rate", "applied on 1 January"),
        "minimum_pension": ((Y,), kin.series["minimum"], "currency a year", ""),
        "maximum_pension": ((Y,), kin.series["maximum"], "currency a year", ""),
        "investment_return": ((Y,), kin.finance["investment_return"], "rate", ""),
        "collection_rate": ((Y,), kin.finance["collection_rate"], "share", ""),
        "subsidy_share_of_benefits": ((Y,), kin.finance["subsidy_benefits"], "share", ""),
        "subsidy_share_of_wages": ((Y,), kin.finance["subsidy_wages"], "share", ""),
        "payable_share": ((Y,), out["finance_payable_share"], "share",
                          "share of the year's benefits and grants that its income and the reserve left at its start "
                          "can pay (1 before depletion)"),
        "payable_benefits": ((Y,), out["finance_payable_share"] * outgo, "currency",
                             "benefits and grants payable: payable_share x (benefit_expenditure + grants)"),
        "breakeven_contribution_rate": ((Y,), breakeven, "share of insurable earnings",
                                        "statutory contribution rate at which the year's income equals its "
                                        "expenditure: ((1 + a_b)(benefits + grants) - state subsidy) / "
                                        "(collection rate x (1 - a_c) x insurable wage bill), a_b and a_c the "
                                        "administrative expenses charged on benefits and on contributions"),
        "capital_value_of_awards": ((Y,), out["award_capital_value"], "currency",
                                    "capital value at award (mid-year) of the pensions awarded in the year, all "
                                    "benefit types, with the projection's mortality by benefit type, exits, "
                                    "indexation and investment return (held at the last year's values past the "
                                    "horizon); survivors' pensions count in the year of their own award"),
        "annuity_factor_at_award": ((Y, B, S, A), out["award_annuity_factors"], "currency per unit of annual pension",
                                    "capital value at award (mid-year) of a pension of 1 a year awarded in the year "
                                    "at the age at 1 January (see capital_value_of_awards)"),
        "terminal_funding_rate": ((Y,), terminal_funding, "share of insurable earnings",
                                  "capital value of the pensions awarded in the year / insurable wage bill "
                                  "(grants and administration excluded)"),
    }
    variables = {name: (dims, np.asarray(values), {"units": units, "description": doc})
                 for name, (dims, values, units, doc) in data.items()}
    variables["active_at_valuation"] = ((S, A), _full_ages(out["active_out"][0], lo), {"units": "persons"})
    variables["inactive_at_valuation"] = ((S, A), _full_ages(out["inactive_out"][0], lo), {"units": "persons"})
    variables["pensioners_at_valuation"] = ((B, S, A), out["pensioner_count"][0], {"units": "persons"})
    variables["population_at_valuation"] = ((S, A), out["population"][0], {"units": "persons"})
    variables["reserve_at_valuation"] = ((), out["finance_reserve"][0], {"units": "currency"})
    labels = {Y: years, S: list(SEXES), A: coords["population_age"], B: list(BENEFITS)}
    if extend is not None:
        more, more_labels = extend(variables)
        variables.update(more)
        labels.update(more_labels)
    ds = xr.Dataset(variables, coords=labels)
    ds.attrs.update({
        "valuation_year": int(years[0]), "horizon": int(years.size), "min_age": int(lo),
        "admin_share_of_benefits": kin.finance["admin_benefits"],
        "admin_share_of_contributions": kin.finance["admin_contributions"],
        "conventions": "flows of each year; stocks at the end of the year (1 January of the next); "
                       "valuation-date stocks in *_at_valuation",
    })
    return ds


def demographic_dependency_ratio(population: np.ndarray) -> np.ndarray:
    """Population 65+ / population 15-64 (population [year, sex, age 0..ω])."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return population[:, :, 65:].sum(axis=(1, 2)) / population[:, :, 15:65].sum(axis=(1, 2))


def gross_domestic_product(inputs: Inputs, population: np.ndarray, employment_share: np.ndarray) -> np.ndarray:
    """GDP_t = GDP_{t-1} x (employment_t / employment_{t-1}) x (1 + productivity_t) x (1 + π_t), with
    employment at 1 January of t (population [year + 1, sex, age] x employment share)."""
    eco = inputs.economy
    lo = inputs.settings["min_age"]
    employment = (population[:-1, :, lo:] * employment_share).sum(axis=(1, 2))
    growth = np.ones_like(employment)
    growth[1:] = (employment[1:] / employment[:-1]) * (1 + eco["productivity_growth"].values[1:]) \
        * (1 + eco["inflation"].values[1:])
    return eco["gdp"] * np.cumprod(growth)
