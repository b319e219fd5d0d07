"""Labelled inputs -> kernel arrays -> labelled results Dataset (the results schema of ARCHITECTURE.md).

Steps of one valuation:
1. population: cohort-component projection of the national population (kernels.population);
2. series: wage and price indices, indexation, insurable salaries, reference earnings, bounds;
3. insured: actives and inactive insured by sex, age and service; awards and grants (kernels.scheme);
4. pensions in payment by benefit, sex and age (kernels.scheme);
5. finance: contributions, expenses, investment income, reserve (kernels.scheme).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numba
import numpy as np
import xarray as xr

from . import series
from .datasets import labelled_dataset, values_in_order, variable
from .inputs import BENEFITS, FB, Inputs, coordinates, retirement_age_grid
from .kernels.population import project_population_kernel
from .kernels.scheme import (ACTIVE, BALANCE, EXIT_CODES, INACTIVE, INACTIVE_BALANCE, INACTIVE_SERVICE,
                             INACTIVE_UNITS, SERVICE, UNITS, WORK_PLANES, award_annuity_kernel, finance_kernel,
                             insured_kernel, insured_stock, pensions_kernel)
from .lifetable import improved_mortality, life_expectancy, scaled_mortality, survival_ratios
from .reference.population import project_population_reference
from .reference.scheme import award_annuity_reference, finance_reference, insured_reference, pensions_reference
from .validation import SEXES


def _c(array) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(array, dtype=float))


@dataclass
class KernelInputs:
    """Everything the kernels need, as contiguous float arrays (built once per valuation).

    ``population`` is None in a scheme-only valuation (no national population). ``inputs`` are the
    validated inputs the arrays come from; ``run_off`` caches the kernel inputs of the closed-group
    runs, extended past the horizon (see :func:`run_off_kernel_inputs`); ``lifetime``: the pensioners'
    mortality and normal retirement ages over the horizon and one lifetime past it, for the award annuities
    (:func:`add_open_run_inputs`; the pensions' arrays are their first years); ``annuity_factors``: None, or a
    function returning the award annuity factors worked out elsewhere (:func:`award_annuity_factors`)."""

    population: dict | None
    insured: dict
    pensions: dict
    finance: dict
    series: dict
    inputs: Inputs | None = None
    run_off: "KernelInputs | None" = field(default=None, repr=False)
    lifetime: dict | None = field(default=None, repr=False)
    annuity_factors: "Callable[[], np.ndarray] | None" = field(default=None, repr=False)


def mortality_table(inputs: Inputs, tail: int = 0) -> np.ndarray:
    """q_x by (year, sex, age 0..max_age), sexes in the order of the inputs: base table with improvement
    (docs/methodology.md §2); ``tail`` years more after the horizon, mortality improving at the last year's rates
    (the horizon's years are the same with or without them)."""
    demo = inputs.demography
    return improved_mortality(values_in_order(demo["mortality"], "sex", "age"),
                              values_in_order(demo["mortality_improvement"], "year", "sex", "age"), tail)


def survival_table(inputs: Inputs, q: np.ndarray) -> np.ndarray:
    """The survival ratios S_x of the period life tables (:func:`actuary.lifetable.survival_ratios`) of the
    mortality table ``q`` (:func:`mortality_table`) by (year, sex, age)."""
    male = np.array([label == "male" for label in inputs.demography["mortality"].get_index("sex")])
    return survival_ratios(q, np.broadcast_to(male, q.shape[:-1]))


def population_kernel_inputs(inputs: Inputs, q_all: np.ndarray) -> dict:
    """Arrays of the population kernel (docs/methodology.md §2) from the inputs and the mortality table."""
    demo = inputs.demography
    survival = survival_table(inputs, q_all)
    srb = demo["sex_ratio_at_birth"].values
    population = dict(
        base=_c(demo["population"].values), survival=_c(survival), fertility=_c(demo["fertility"].values),
        male_share=_c(srb / (1 + srb)), migration=_c(demo["net_migration"].values),
        even=inputs.settings["migration_timing"] == "even")
    if np.any(population["fertility"][:, 0] > 0):
        from .validation import InputError
        raise InputError("Input 'demography.fertility' at age=0: fertility at age 0 must be 0.")
    return population


def by_demography(inputs: Inputs, name, compute):
    """``compute()``, once for all the inputs that share their demography and settings (a scenario changing
    neither reuses its base's; :attr:`Inputs.by_demography`), by name and horizon; the arrays are not to be
    written to."""
    key = (name, inputs.coords["year"].size)
    shared = inputs.by_demography
    if key not in shared:
        shared[key] = compute()
    return shared[key]


def employment_share(inputs: Inputs) -> np.ndarray:
    """Employed / population by (year, sex, insured age): participation x (1 - unemployment)."""
    return inputs.behaviour["participation"].values * (1 - inputs.economy["unemployment_rate"].values)[:, None, None]


def build_kernel_inputs(inputs: Inputs, population: bool = True) -> KernelInputs:
    """The kernels' arrays for ``inputs``; ``population`` False skips the national population projection's
    inputs (the closed-group runs do not need them; a scheme-only valuation has none)."""
    kin = scheme_kernel_inputs(inputs)
    add_open_run_inputs(kin, population)
    return kin


def scheme_kernel_inputs(inputs: Inputs) -> KernelInputs:
    """The kernels' arrays for ``inputs`` that every run needs (:func:`build_kernel_inputs` without those
    that only the open-group run uses, which :func:`add_open_run_inputs` adds)."""
    st, sch, eco, beh, ini = inputs.settings, inputs.scheme, inputs.economy, inputs.behaviour, inputs.initial
    national = inputs.national
    years = inputs.coords["year"]
    n_years = years.size
    ages = inputs.coords["scheme_age"]
    lo = st["min_age"]

    # 1. mortality (the national population's inputs: add_open_run_inputs), over the horizon and one lifetime
    # past it (the award annuities' years: a pensioner awarded in the last year at age 0 reaches the last age)
    lifetime = inputs.coords["population_age"].size
    q_lifetime = by_demography(inputs, "mortality", lambda: mortality_table(inputs, lifetime))
    q_all = q_lifetime[:n_years]

    # 2. series
    pi = eco["inflation"].values
    wage_growth = series.nominal_wage_growth(pi, eco["real_wage_growth"].values)
    wages = series.wage_index(pi, eco["real_wage_growth"].values)
    prices = series.price_index(pi)
    history = economic_history(inputs, max(ages.size, sch["indexation_lag"]) + 1)
    beta = series.pension_indexation(pi, wage_growth, sch["indexation_price_weight"].values,
                                     sch["indexation_wage_weight"].values,
                                     sch["indexation_floor"], sch["indexation_cap"], sch["indexation_lag"],
                                     history["inflation"], history["wage_growth"])
    average_wage = eco["average_wage"] * wages
    scale = beh["salary_scale"].values
    if beh["salary_scale_ages"] == "exact":
        scale = series.salary_scale_by_cell(scale)
    mean_salary = scale[None, :, :] * wages[:, None, None]
    insurable = series.insurable_salary(scale, wages, sch["floor_multiple"].values * eco["average_wage"],
                                        sch["ceiling_multiple"].values * eco["average_wage"], sch["earnings_cv"])
    past_wages = series.past_index(wage_growth[0], history["wage_growth"])
    index, past_revaluation = {"wages": (wages, past_wages),
                               "prices": (prices, series.past_index(pi[0], history["inflation"])),
                               "none": (np.ones(n_years), np.ones(past_wages.size))}[sch["revaluation"]]
    reference = series.reference_earnings(insurable, index, sch["reference_earnings_years"].values, past_wages,
                                          past_revaluation)
    minimum = series.indexed_amount(sch["minimum_pension"].values, sch["minimum_pension_indexation"], prices, wages,
                                    beta)
    maximum = series.indexed_amount(sch["maximum_pension"].values, sch["maximum_pension_indexation"], prices, wages,
                                    beta)
    flat = series.indexed_amount(sch["flat_pension"].values, sch["flat_pension_indexation"], prices, wages, beta)
    bends, bend_rates = np.zeros((n_years, 0)), np.ones(1)
    if sch["bend_points"] is not None:
        bend_index = series.indexed_amount(1.0, sch["bend_point_indexation"], prices, wages, beta)
        bends = bend_index[:, None] * np.asarray(sch["bend_points"])[None, :]
        bend_rates = np.asarray(sch["bend_point_rates"], dtype=float)

    # 3. insured
    q_scheme = q_all[..., lo:lo + ages.size]
    q_active = np.clip(q_scheme * beh["active_mortality_factor"].values[None], 0.0, 1.0)
    residual = st["new_entrant_method"] == "residual"
    entrants = np.zeros((n_years, 2, ages.size))
    if not residual:
        growth = np.concatenate([[1.0], np.cumprod(1 + beh["entrant_growth"].values[1:])])
        entrants = beh["entrants"] * growth[:, None, None] * beh["entrant_distribution"].values[None]
    refund = sch["grant_type"] == "refund"
    exit_benefit = EXIT_CODES[sch["exit_benefit"]]
    balances = refund or sch["exit_benefit"] == "refund"
    refund_rate = sch["refund_contribution_rate"].values if balances else np.zeros(n_years)
    refund_interest = (sch["refund_interest"] if sch["refund_interest"] is not None else eco["nominal_return"]).values
    accrual = _c(values_in_order(sch["accrual"], "year", "service"))
    def recorded(key):
        return None if ini[key] is None else ini[key].values

    active0, service_active0, units_active0 = initial_service(ini["active"].values, sch["past_service_credit"],
                                                              accrual[0], recorded("credited_service"),
                                                              recorded("accrued_units"))
    inactive0, service_inactive0, units_inactive0 = initial_service(ini["inactive"].values, 1.0, accrual[0],
                                                                    recorded("inactive_credited_service"),
                                                                    recorded("inactive_accrued_units"))

    def opening_balance(stock, service_sum, given):
        """Refund balances at t0: given, or exact service x refund rate x insurable salary (no interest)."""
        if not balances:
            return np.zeros_like(stock)
        if given is not None:
            return given.values
        pay = insurable[0] * beh["contribution_density"].values[0]
        return service_sum * refund_rate[0] * pay[:, :, None]

    balance0 = opening_balance(active0, service_active0, ini["refund_balance"])
    inactive_balance0 = opening_balance(inactive0, service_inactive0, ini["inactive_refund_balance"])
    survivors = dict(married=_c(beh["probability_married"].values),
                     difference=_c(beh["spouse_age_difference"].values),
                     orphans=_c(beh["orphans"].values), orphan_age=_c(beh["orphan_age"].values))
    shares = _c([sch["widow_share"], sch["orphan_share"], sch["survivor_share_cap"], sch["orphan_age_limit"]])

    def by_year(value):
        """A provision as an array by year (scalars repeated: the kernels take provisions by year), a writeable copy
        whether ``value`` is one number or an array by year (a read-only view of an array would be another type to
        Numba, the insured kernel compiled once more: the stochastic batch kernel passes writeable rows)."""
        return np.array(np.broadcast_to(np.asarray(value, dtype=float), (n_years,)))

    exit_vesting = sch["exit_vesting_years"] if sch["exit_vesting_years"] is not None else math.inf
    insured = dict(
        active0=_c(active0), inactive0=_c(inactive0),
        balance_active0=_c(balance0), balance_inactive0=_c(inactive_balance0),
        service_active0=_c(service_active0), service_inactive0=_c(service_inactive0),
        units_active0=_c(units_active0), units_inactive0=_c(units_inactive0),
        target=None, entrants_in=_c(entrants), residual_method=residual,
        max_entry_age=math.inf if st["max_entry_age"] is None else float(st["max_entry_age"]),
        entrants_allowed=True, accrue=True,
        q_active=_c(q_active), q_inactive=_c(q_scheme),
        exit_rate=_c(beh["exit_rate"].values), retire_rate=_c(beh["retirement_rate"].values),
        invalidity_rate=_c(beh["invalidity_rate"].values), reentry_rate=_c(beh["reentry_rate"].values),
        credit_density=_c(beh["credit_density"].values), contribution_density=_c(beh["contribution_density"].values),
        salary=_c(insurable), reference=_c(reference),
        early_age=_c(retirement_age_grid(sch, "early", years, ages, st["max_retirement_age"])),
        normal_age=_c(retirement_age_grid(sch, "normal", years, ages, st["max_retirement_age"])),
        max_retirement_age=float(st["max_retirement_age"]), min_age=float(lo),
        accrual=accrual, vesting=by_year(sch["vesting_years"].values),
        invalidity_vesting=by_year(sch["invalidity_vesting_years"].values),
        future_service_fraction=by_year(sch["invalidity_future_service"]),
        early_reduction=by_year(sch["early_retirement_reduction"].values),
        late_increment=by_year(sch["late_retirement_increment"].values),
        minimum=_c(minimum), maximum=_c(maximum), flat=_c(flat), flat_service=float(sch["flat_pension_service"]),
        bends=_c(bends), bend_rates=_c(bend_rates), state_top_up=sch["minimum_pension_financing"] == "state",
        refund=refund, grant_multiple=by_year(sch["grant_multiple"]),
        refund_rate=_c(refund_rate), refund_interest=_c(refund_interest), exit_benefit=exit_benefit,
        exit_vesting=by_year(exit_vesting), shares=shares, **survivors)

    # 4. pensions (full age grid 0..max_age), their mortality and normal ages also one lifetime past the horizon
    q_pension = pension_mortality(q_lifetime, pensioner_mortality_factors(inputs))
    normal_age = _c(retirement_age_grid(sch, "normal", years[0] + np.arange(n_years + lifetime),
                                        inputs.coords["population_age"], st["max_retirement_age"]))
    count0 = ini["pensioners"].values
    pensions = dict(count0=_c(count0), amount0=_c(count0 * ini["average_pension"].values),
                    q_pension=q_pension[:n_years], beta=_c(beta), remarriage=_c(beh["remarriage_rate"].values),
                    normal_age=normal_age[:n_years],
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
    derived = dict(wages=wages, prices=prices, beta=beta, wage_growth=wage_growth, average_wage=average_wage,
                   history=history,
                   funeral=funeral, insurable=insurable, reference=reference, minimum=minimum, maximum=maximum,
                   flat=flat, bends=bends,
                   mean_salary=mean_salary, mortality=q_all)
    if national:
        employed = employment_share(inputs)
        derived.update(employment_share=employed, target_share=employed * beh["coverage"].values)
    return KernelInputs(None, insured, pensions, finance, derived, inputs,
                        lifetime=dict(q_pension=q_pension, normal_age=normal_age))


def pension_mortality(q: np.ndarray, factors: list[np.ndarray]) -> np.ndarray:
    """q_x of the pensioners by (year, benefit, sex, age): the population's ``q`` by (year, sex, age) times each
    benefit's factor by (sex, age) (:func:`pensioner_mortality_factors`), at most 1, and 1 at the last age."""
    return scaled_mortality(q, np.stack(factors))


def add_open_run_inputs(kin: KernelInputs, population: bool = True) -> None:
    """Add to ``kin`` (:func:`scheme_kernel_inputs`) the arrays that only the open-group run uses: the national
    population projection's (``population``; none in a scheme-only valuation) and the award annuities'
    assumptions (``series["annuity"]``)."""
    inputs, series = kin.inputs, kin.series
    if inputs.national and population:
        kin.population = by_demography(inputs, "population inputs",
                                       lambda: population_kernel_inputs(inputs, series["mortality"]))
    if "annuity" not in series:
        add_annuity_inputs(kin)


def add_annuity_inputs(kin: KernelInputs) -> None:
    """Add to ``kin`` the award annuities' assumptions (``series["annuity"]``, open-group run only)."""
    inputs, series = kin.inputs, kin.series
    series["annuity"] = award_annuity_assumptions(inputs, kin.lifetime, inputs.economy["inflation"].values,
                                                  series["wage_growth"], kin.pensions, kin.finance, series["history"])


def pensioner_mortality_factors(inputs: Inputs) -> list[np.ndarray]:
    """Factors on the population's q_x by (sex, age) of old-age, invalidity, survivors' and orphans' pensioners
    (orphans: 1, the population's mortality)."""
    beh = inputs.behaviour
    factors = [values_in_order(beh[key], "sex", "age") for key in ("pensioner_mortality_factor",
                                                                    "invalid_mortality_factor",
                                                                    "survivor_mortality_factor")]
    return factors + [np.ones_like(factors[0])]


def economic_history(inputs: Inputs, n: int) -> dict[str, np.ndarray]:
    """Inflation, real and nominal wage growth of the n years before the valuation year, most recent first
    (``economy.past_inflation`` and ``past_real_wage_growth``, the years before the first given held at its
    value; without a history, the valuation year's rates: see :func:`actuary.series.past_rates`)."""
    eco = inputs.economy

    def given(key):
        return None if eco[key] is None else eco[key].values

    inflation = series.past_rates(given("past_inflation"), eco["inflation"].values[0], n)
    real = series.past_rates(given("past_real_wage_growth"), eco["real_wage_growth"].values[0], n)
    return dict(inflation=inflation, real_wage_growth=real, wage_growth=series.nominal_wage_growth(inflation, real))


def award_annuity_assumptions(inputs: Inputs, lifetime: dict, inflation, wage_growth, pensions, finance,
                              history) -> dict:
    """Assumptions of the capital values at award (:func:`kernels.scheme.award_annuity_kernel`) over the
    horizon and past it, until a pensioner awarded in the last year at age 0 would reach the last age:
    every assumption held at its value of the last projection year (mortality keeps improving at the
    last year's improvement rates; indexation follows the last year's inflation and wage growth);
    ``lifetime``: the pensioners' mortality and normal retirement ages over those years
    (:attr:`KernelInputs.lifetime`)."""
    sch = inputs.scheme
    n_years = pensions["beta"].size
    tail = lifetime["q_pension"].shape[0] - n_years

    def held(array):
        return np.concatenate([array, np.repeat(array[-1:], tail, axis=0)])

    beta = series.pension_indexation(held(inflation), held(wage_growth), held(sch["indexation_price_weight"].values),
                                     held(sch["indexation_wage_weight"].values), sch["indexation_floor"],
                                     sch["indexation_cap"], sch["indexation_lag"], history["inflation"],
                                     history["wage_growth"])
    return dict(q_pension=lifetime["q_pension"], beta=_c(beta),
                remarriage=_c(held(pensions["remarriage"])), normal_age=lifetime["normal_age"],
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
    return initial_service(active, share, np.zeros(active.shape[-1]))[0]


def initial_service(stock: np.ndarray, share: float, accrual: np.ndarray, service: np.ndarray | None = None,
                    units: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial insured by completed credited service, with the sums over heads of their exact credited
    service and of their accrued units.

    A member with k completed years at 1 January t0 has served k + 1/2 years (uniform within the
    year); ``share`` of it is credited (past-service credit): share x (k + 1/2) exact years, valued at
    ``accrual`` (the valuation year's schedule) for the units. The completed years that decide
    eligibility, share x k, are split between the neighbouring whole years (people conserved;
    share = 1 leaves every cell as it is). ``service`` and ``units``: the cells' mean exact credited
    service and accrued units when they are known (recorded in the data, or carried by a valuation
    rolled forward), which replace the k + 1/2 convention and the schedule (``share`` is then 1).
    Returns (heads, service, units) arrays shaped like ``stock``."""
    stock = np.asarray(stock, dtype=float)
    n_service = stock.shape[-1]
    if service is not None or units is not None:
        exact = np.arange(n_service) + 0.5 if service is None else np.asarray(service, dtype=float)
        if units is None:
            units = np.interp(exact, np.arange(accrual.size), accrual)
        return stock.copy(), stock * exact, stock * np.asarray(units, dtype=float)
    service = share * (np.arange(n_service) + 0.5)
    units = np.interp(service, np.arange(accrual.size), accrual)
    if share == 1.0:
        return stock.copy(), stock * service, stock * units
    heads = np.zeros_like(stock)
    service_sum = np.zeros_like(stock)
    units_sum = np.zeros_like(stock)
    top = n_service - 1
    for k in range(n_service):
        credited = share * k
        low = int(np.floor(credited))
        weight = credited - low
        for cell, part in ((low, 1 - weight), (min(low + 1, top), weight)):
            heads[..., cell] += stock[..., k] * part
            service_sum[..., cell] += stock[..., k] * part * service[k]
            units_sum[..., cell] += stock[..., k] * part * units[k]
    return heads, service_sum, units_sum


RUN_MODES = {
    # mode: (initial insured kept, new entrants, future accrual)
    "open": (True, True, True),
    "closed": (True, False, True),
    "accrued": (True, False, False),
    "pensioners": (False, False, False),
}


def _target(population: np.ndarray, kin: KernelInputs, lo: int) -> np.ndarray:
    """Target insured contributors at 1 January of t0..t0+H: population x participation x (1 - u) x coverage
    (the shares of year t apply at 1 January of t; the stock after the last year uses the last year's shares).
    ``population`` may cover fewer years than the valuation (a run of its first years)."""
    share = kin.series["target_share"]
    share = np.concatenate([share, share[-1:]], axis=0)[:population.shape[0]]
    return _c(population[:, :, lo:] * share)


GDP_DESCRIPTION = ("gross domestic product: GDP at t0 x employment growth x (1 + productivity growth) x "
                   "(1 + inflation)")


def held_past_horizon(inputs: Inputs, years: int) -> Inputs:
    """The inputs of a projection ``years`` longer than ``inputs``' horizon, every year-dependent input held
    at its value of the last year (rates, improvement rates, economic rates, provisions); the series
    derived from them (wage and price indices, mortality, indexation, indexed amounts) continue from the
    held rates (mortality keeps improving at the last year's rates)."""
    extended = copy.copy(inputs)
    extended.settings = dict(inputs.settings, horizon=inputs.settings["horizon"] + years)
    extended.coords = coordinates(extended.settings, inputs.coords["past_year"].size)
    if FB in inputs.coords:  # the social protection floor's benefits
        extended.coords[FB] = inputs.coords[FB]
    all_years = tuple(extended.coords["year"].tolist())
    year_template = _labelled_template(("year",), (all_years,))
    year_coordinate, year_index = year_template._coords["year"], year_template._indexes["year"]

    def held(da: xr.DataArray) -> xr.DataArray:
        source = da.variable
        dims = source.dims
        axis = dims.index("year")
        given = source.values
        n = given.shape[axis]
        values = np.empty(given.shape[:axis] + (n + years,) + given.shape[axis + 1:], dtype=given.dtype)
        before = (slice(None),) * axis
        values[before + (slice(0, n),)] = given
        values[before + (slice(n, None),)] = given[before + (slice(n - 1, n),)]   # the last year's, held
        held_variable = variable(dims, values, source.attrs)
        own_indexes = da._indexes
        if all(d in own_indexes for d in dims):
            # the array's own coordinates and indexes but the year's, one per dimension: building coordinates
            # and indexes is what costs
            own_coords = da._coords
            return da._replace(variable=held_variable, name=da.name,
                               coords={d: year_coordinate if d == "year" else own_coords[d] for d in dims},
                               indexes={d: year_index if d == "year" else own_indexes[d] for d in dims})
        template = _labelled_template(dims, tuple(all_years if d == "year" else tuple(da.coords[d].values.tolist())
                                                  for d in dims))
        return template._replace(variable=held_variable, name=da.name, coords=dict(template._coords),
                                 indexes=dict(template._indexes))

    for group in ("scheme", "economy", "demography", "behaviour", "initial", "floor"):
        setattr(extended, group, {k: held(v) if isinstance(v, xr.DataArray) and "year" in v.dims else v
                                  for k, v in getattr(inputs, group).items()})
    return extended


@lru_cache(maxsize=64)
def _labelled_template(dims: tuple, labels: tuple) -> xr.DataArray:
    """A labelled array with these dimensions and coordinate labels (values not to be used)."""
    shape = tuple(len(v) for v in labels)
    return xr.DataArray(np.broadcast_to(0.0, shape), dims=dims, coords=dict(zip(dims, map(np.array, labels))))


def run_off_years(inputs: Inputs) -> int:
    """Years from the valuation date within which the closed group and every survivor it can leave have
    left the scheme (or the horizon, if longer).

    Members die at the latest in the year in which they are max_age (q = 1 there): a member aged y at
    t0 dies at age x in year x - y at the latest, leaving widow(er)s aged x + spouse age difference
    (who die by max_age) and orphans at their mean age (paid to the orphan age limit). With y the
    youngest member (insured, old-age, invalidity or survivor pensioner), the bound is the latest of
    max_age - y + 1, and over the ages x where deaths leave survivors, (x - y) + (max_age - widow age
    + 2) and (x - y) + (limit - orphan age + 2) (the 2 years cover the split of fractional ages and
    the awards' half-year exposure); initial orphans leave within the limit."""
    ini, beh = inputs.initial, inputs.behaviour
    lo = int(inputs.settings["min_age"])
    count0 = ini["pensioners"].values
    max_age = count0.shape[-1] - 1
    limit = int(inputs.scheme["orphan_age_limit"])
    needed = limit + 2
    ages = []
    insured = (ini["active"].values + ini["inactive"].values).sum(axis=(0, 2))
    if np.any(insured > 0):
        ages.append(lo + int(np.flatnonzero(insured > 0)[0]))
    members = count0[:3].sum(axis=(0, 1))   # old age, invalidity, widow(er)s
    if np.any(members > 0):
        ages.append(int(np.flatnonzero(members > 0)[0]))
    if ages:
        youngest = min(ages)
        needed = max(needed, max_age - youngest + 1)
        age = np.arange(max_age + 1)[None, :]
        widow_age = np.clip(np.floor(age + beh["spouse_age_difference"].values), 0, max_age)
        widows = np.where(beh["probability_married"].values > 0, (age - youngest) + (max_age - widow_age) + 2, 0)
        orphan_age = np.clip(np.floor(np.minimum(beh["orphan_age"].values, limit - 1)), 0, limit)
        orphans = np.where(beh["orphans"].values > 0, (age - youngest) + (limit - orphan_age) + 2, 0)
        needed = max(needed, int(widows.max()), int(orphans.max()))
    return max(inputs.coords["year"].size, needed)


def run_off_kernel_inputs(kin: KernelInputs) -> KernelInputs:
    """The kernel inputs of the closed-group runs (closed, accrued, pensioners): the valuation's, extended
    past the horizon to :func:`run_off_years` with every year-dependent input held at its last value
    (computed once per valuation and cached on ``kin``; :func:`valuation_kernel_inputs` builds both at once)."""
    if kin.run_off is None:
        n_years = run_off_years(kin.inputs)
        if n_years == kin.pensions["beta"].size:
            kin.run_off = kin
        else:
            extra = n_years - kin.inputs.coords["year"].size
            kin.run_off = build_kernel_inputs(held_past_horizon(kin.inputs, extra), population=False)
    return kin.run_off


def valuation_kernel_inputs(inputs: Inputs, run_off: bool = True, alongside=None) -> KernelInputs:
    """The kernel inputs of a valuation and (``run_off``) of its closed-group runs, built once: over the
    horizon and the run-off past it (:func:`run_off_years`, inputs held at their last values), the
    valuation's being the first years of the same arrays (every year's arrays depend only on the inputs of
    that year and the years before it; the award annuities' assumptions past the horizon are those held).

    ``alongside(kin)`` is called as soon as the closed-group runs' inputs (``kin.run_off``) and the award
    annuities' assumptions are complete, before the other inputs only the open-group run needs are added
    (:func:`add_open_run_inputs`): it may start the closed-group runs and the award annuity factors on another
    thread (setting ``kin.annuity_factors``)."""
    horizon = inputs.coords["year"].size
    n_years = run_off_years(inputs) if run_off else horizon
    if n_years == horizon:
        kin = scheme_kernel_inputs(inputs)
        kin.run_off = kin if run_off else None
        add_annuity_inputs(kin)
        if alongside is not None:
            alongside(kin)
        add_open_run_inputs(kin)
        return kin
    longer = scheme_kernel_inputs(held_past_horizon(inputs, n_years - horizon))
    add_annuity_inputs(longer)
    kin = first_years(longer, horizon, inputs)
    kin.run_off = longer
    if alongside is not None:
        alongside(kin)
    add_open_run_inputs(longer)
    _open_run_heads(kin, longer, horizon)
    return kin


# kernel inputs not by year (valuation-date stocks, provisions and assumptions by sex and age)
AT_VALUATION = frozenset({"base", "active0", "inactive0", "balance_active0", "balance_inactive0", "service_active0",
                          "service_inactive0", "units_active0", "units_inactive0", "count0", "amount0", "shares",
                          "married", "difference", "orphans", "orphan_age", "bend_rates"})


def first_years(kin: KernelInputs, n_years: int, inputs: Inputs) -> KernelInputs:
    """The kernel inputs of the first ``n_years`` years of ``kin`` (views, no copies), for ``inputs``; the
    award annuities' assumptions keep their tail of one lifetime past the last year."""
    total = kin.pensions["beta"].size
    short = KernelInputs(None, _head(kin.insured, total, n_years), _head(kin.pensions, total, n_years),
                         _head(kin.finance, total, n_years), _head(kin.series, total, n_years), inputs)
    _open_run_heads(short, kin, n_years)
    return short


def _head(arrays: dict | None, length: int, keep: int) -> dict | None:
    """The arrays by year (first axis ``length`` long) cut to their first ``keep`` years (views)."""
    if arrays is None:
        return None
    return {k: v[:keep] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == length
            and k not in AT_VALUATION else v for k, v in arrays.items()}


def _open_run_heads(short: KernelInputs, kin: KernelInputs, n_years: int) -> None:
    """Give ``short`` (the first ``n_years`` years of ``kin``) the first years of ``kin``'s open-run inputs
    (:func:`add_open_run_inputs`), those it has."""
    total = kin.pensions["beta"].size
    short.population = _head(kin.population, total, n_years)
    if "annuity" in kin.series:
        annuity = kin.series["annuity"]
        tail = annuity["q_pension"].shape[0] - total
        short.series["annuity"] = _head(annuity, total + tail, n_years + tail)



# the insured kernel's state planes, by the name of the initial-state argument they become when a
# valuation is rolled forward (see run_kernels' ``years``)
STATE_PLANES = {"active0": ACTIVE, "inactive0": INACTIVE, "balance_active0": BALANCE,
                "balance_inactive0": INACTIVE_BALANCE, "service_active0": SERVICE,
                "service_inactive0": INACTIVE_SERVICE, "units_active0": UNITS, "units_inactive0": INACTIVE_UNITS}


def run_kernels(kin: KernelInputs, lo: int, engine: str = "kernel", mode: str = "open",
                years: int | None = None, cash_flows_only: bool = False) -> dict:
    """Run the four steps; returns a flat dict of arrays (kernel output names) and ``year`` (the years
    projected); with the kernels, ``full_age`` holds the insured's stocks and flows by age on the full age grid
    (those arrays are views of them).

    ``mode``: "open" (the valuation), "closed" (no new entrants), "accrued" (no new entrants and no
    service after the valuation date: the accrued-to-date run), "pensioners" (current pensioners and
    their survivors only). The closed-group modes serve the balance sheet: they run past the horizon
    until the group has left the scheme (:func:`run_off_kernel_inputs`), without the national
    population.

    ``years`` (open mode): project only the first ``years`` years (each kernel runs as many years as its
    clock array has: survival, q_active, beta and the wage bill; the other year arrays are only read up to
    them) and return the insured kernel's state at 1 January t0 + years in ``out["state"]`` (heads, refund
    balances, exact service and accrued units of actives and inactive insured by sex, age and service, keyed
    by the initial-state arguments they become); the pensioners at that date are ``pensioner_count[-1]`` and
    ``pensioner_amount[-1]`` (before that year's indexation), the reserve ``finance_reserve[-1]``.

    ``cash_flows_only``: the run's cash flows are all that is wanted (:func:`cash_flow_arrays`): the insured
    kernel's awards go to the pensions kernel without a copy, and ``awards_count`` and ``awards_amount`` (the
    insured's awards without the survivors' the pensions kernel adds) are not returned."""
    keep_insured, entrants_allowed, accrue = RUN_MODES[mode]
    if mode != "open" and kin.inputs is not None:
        kin = run_off_kernel_inputs(kin)
    if years is not None and (mode != "open" or not 0 < years <= kin.pensions["beta"].size):
        raise ValueError(f"years={years}: an open-group run of 1..{kin.pensions['beta'].size} years")
    p = kin.population
    n_years = kin.pensions["beta"].size if years is None else years
    n_full = kin.pensions["count0"].shape[-1]
    t0 = int(kin.inputs.coords["year"][0]) if kin.inputs is not None else 0
    out = {"year": np.arange(t0, t0 + n_years)}
    ins = dict(kin.insured)
    ins["q_active"] = ins["q_active"][:n_years]   # the insured kernel's clock
    if mode == "open" and p is not None:
        if years is None:
            projected = by_demography(kin.inputs, ("population", engine), lambda: run_population(p, engine)) \
                if kin.inputs is not None else run_population(p, engine)
            out.update({k: v.copy() for k, v in projected.items()})
        else:
            p = dict(p, survival=p["survival"][:n_years])  # the population kernel's clock
            out.update(run_population(p, engine))
        ins["target"] = _target(out["population"], kin, lo)
    else:  # no target insured population: entrants by the growth method, or none
        ins["target"] = np.zeros((n_years + 1,) + ins["active0"].shape[:2])
    ins["entrants_allowed"] = entrants_allowed
    ins["accrue"] = accrue
    if not keep_insured:
        for key in ("active0", "inactive0", "balance_active0", "balance_inactive0", "service_active0",
                    "service_inactive0", "units_active0", "units_inactive0"):
            ins[key] = np.zeros_like(ins[key])
    n_ages = ins["active0"].shape[1]
    if engine == "kernel":
        # the insured's stocks and flows by age on the full age grid, zero below the insured ages: the kernel
        # writes the insured ages (views), the results Dataset takes the whole arrays (out["full_age"])
        full_age = {"active_out": np.zeros((n_years + 1, 2, lo + n_ages)),
                    "inactive_out": np.zeros((n_years + 1, 2, lo + n_ages))}
        for name in ("new_entrants", "active_deaths", "retirements", "exits", "withdrawals", "invalidity",
                     "inactive_deaths", "inactive_retirements", "reentries"):
            full_age[name] = np.zeros((n_years, 2, lo + n_ages))
        res = {name: values[..., lo:] for name, values in full_age.items()}
        out["full_age"] = full_age
        res["awards_count"] = np.zeros((n_years, 4, 2, n_full))
        res["awards_amount"] = np.zeros((n_years, 4, 2, n_full))
        for name in ("wage_bill", "contributors", "grants", "grant_count", "exit_refunds"):
            res[name] = np.zeros(n_years)
        res["awards_top_up"] = np.zeros((n_years if ins["state_top_up"] else 0, 4, 2, n_full))
        if keep_insured or entrants_allowed:  # (else the pensioners-only run: every insured flow and stock is zero)
            kernel_args = {k: v for k, v in ins.items() if k != "state_top_up"}
            work = np.empty((WORK_PLANES,) + ins["active0"].shape)
            insured_kernel(**kernel_args, **res, work=work)
            if years is not None:  # this year's stocks, after the last year's swap of buffers
                stock = insured_stock(work, n_years)
                res["state"] = {name: stock[..., plane].copy() for name, plane in STATE_PLANES.items()}
    else:
        res = insured_reference(**ins, n_full_ages=n_full)
    out.update(res)
    out["target"] = ins["target"]
    pen = dict(kin.pensions)
    pen["beta"] = pen["beta"][:n_years]   # the pensions kernel's clock
    if engine == "kernel":
        shape = pen["count0"].shape
        pres = {"count": np.empty((n_years + 1,) + shape), "amount": np.empty((n_years + 1,) + shape),
                "expenditure": np.empty((n_years, 4)), "deaths": np.empty((n_years,) + shape),
                "exits": np.zeros((n_years,) + shape), "conversions": np.zeros((n_years, 2, n_full))}
        if cash_flows_only and not ins["state_top_up"]:   # the top-ups in payment need the insured's awards
            awards_count, awards_amount = out.pop("awards_count"), out.pop("awards_amount")
        else:
            awards_count, awards_amount = res["awards_count"].copy(), res["awards_amount"].copy()
        pensions_kernel(awards_count=awards_count, awards_amount=awards_amount, **pen, **pres)
        pres["awards_count"], pres["awards_amount"] = awards_count, awards_amount
    else:
        pres = pensions_reference(awards_count=res["awards_count"], awards_amount=res["awards_amount"], **pen)
    out.update({"pensioner_" + k: v for k, v in pres.items()})
    top_up = np.zeros(n_years)
    if ins["state_top_up"]:
        # the top-ups in payment: the pensions kernel is linear in amounts, so a run with the awards' top-ups
        # (and none in payment at the valuation date) gives the part of the pensions that the state pays
        top_up = minimum_top_up_in_payment(pen, res["awards_count"], res["awards_top_up"], engine)
        out["minimum_pension_top_up"] = top_up
    fin = {k: v[:n_years] if isinstance(v, np.ndarray) else v for k, v in kin.finance.items()}  # all by year
    benefits = pres["expenditure"].sum(axis=1)
    pensioner_deaths = pres["deaths"][:, :3].sum(axis=(1, 2, 3))
    funeral = kin.series["funeral"][:n_years] * (res["active_deaths"].sum(axis=(1, 2)) + pensioner_deaths)
    grants = res["grants"] + funeral
    if engine == "kernel":
        fres = {"contributions": np.empty(n_years), "subsidy": np.empty(n_years), "admin": np.empty(n_years),
                "expenditure": np.empty(n_years), "investment_income": np.empty(n_years),
                "reserve": np.empty(n_years + 1), "payable_share": np.empty(n_years)}
        finance_kernel(wage_bill=res["wage_bill"], benefits=benefits, grants=grants, top_up=top_up, **fin, **fres)
    else:
        fres = finance_reference(res["wage_bill"], benefits, grants, top_up, **fin)
    out.update({"finance_" + k: v for k, v in fres.items()})
    out["benefits"] = benefits
    out["funeral_grants"] = funeral
    out["withdrawal_grants"] = res["grants"]
    out["all_grants"] = grants
    out["investment_return"] = fin["investment_return"][:n_years]
    if mode == "open" and years is None:
        # worked out elsewhere when kin.annuity_factors is set (see valuation_kernel_inputs)
        out["award_annuity_factors"] = (award_annuity_factors(kin, engine) if kin.annuity_factors is None
                                        else kin.annuity_factors())
        out["award_capital_value"] = (pres["awards_amount"] * out["award_annuity_factors"]).sum(axis=(1, 2, 3))
    return out


def top_up_paid(top_up: np.ndarray, payable_share: np.ndarray, payable: bool) -> np.ndarray:
    """The minimum-pension top-up the state pays to the scheme each year (currency), as the finance kernel
    credits it to the reserve: p_t T_t under settings.after_depletion payable (the state tops up the share p_t of
    the pensions that the scheme pays after depletion), T_t under borrow (benefits paid in full)."""
    return top_up * payable_share if payable else np.asarray(top_up, dtype=float).copy()


def minimum_top_up_in_payment(pen: dict, awards_count, awards_top_up, engine: str = "kernel") -> np.ndarray:
    """The minimum-pension top-ups paid each year (currency): the pensions in payment of the top-ups awarded
    (old age, invalidity, deferred, and the survivors' shares of them), with the mortality, exits and
    indexation of the pensions they belong to; top-ups of the pensions in payment at the valuation date are
    not known and count as scheme-financed."""
    pen = dict(pen, amount0=np.zeros_like(pen["count0"]))
    if engine == "kernel":
        shape = pen["count0"].shape
        n_years = awards_count.shape[0]
        pres = {"count": np.empty((n_years + 1,) + shape), "amount": np.empty((n_years + 1,) + shape),
                "expenditure": np.empty((n_years, 4)), "deaths": np.empty((n_years,) + shape),
                "exits": np.zeros((n_years,) + shape), "conversions": np.zeros((n_years, 2, shape[-1]))}
        pensions_kernel(awards_count=awards_count.copy(), awards_amount=awards_top_up.copy(), **pen, **pres)
    else:
        pres = pensions_reference(awards_count=awards_count, awards_amount=awards_top_up, **pen)
    return pres["expenditure"].sum(axis=1)
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
    """The yearly cash flows a closed-group run contributes to the balance sheet (:func:`cash_flow_arrays`)
    as a Dataset."""
    flows = cash_flow_arrays(inputs, out)
    year = flows.pop("year")
    return xr.Dataset({k: ("year", v) for k, v in flows.items()}, coords={"year": year})


def cash_flow_arrays(inputs: Inputs, out: dict) -> dict[str, np.ndarray]:
    """The yearly cash flows a closed-group run contributes to the balance sheet (names as in the
    results Dataset): contributions, benefit expenditure, grants, the insurable wage bill and the
    investment return to discount them with, and their ``year``, without building the whole Dataset.

    The years cover the horizon and, for the closed-group runs, the run-off after it (assumptions held
    at their last values), to the last year with a flow: the flows after it are exactly zero, so the
    result does not depend on how far the run-off was taken."""
    flows = {"contributions": out["finance_contributions"], "benefit_expenditure": out["benefits"],
             "grants": out["all_grants"], "insurable_wage_bill": out["wage_bill"]}
    if "minimum_pension_top_up" in out:
        flows["minimum_pension_top_up"] = out["minimum_pension_top_up"]
    horizon = inputs.coords["year"].size
    moving = np.flatnonzero(np.any([v != 0 for v in flows.values()], axis=0))
    n_years = max(horizon, int(moving[-1]) + 1 if moving.size else 0)
    flows["investment_return"] = out["investment_return"]
    flows = {k: v[:n_years] for k, v in flows.items()}
    flows["year"] = out["year"][:n_years]
    return flows


def ratio_where_positive(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where the denominator is > 0, else 0 (``np.where(d > 0, n / d, 0.0)`` in one
    pass), elementwise over arrays of the same shape."""
    numerator = np.ascontiguousarray(numerator, dtype=float)
    denominator = np.ascontiguousarray(denominator, dtype=float)
    if numerator.shape != denominator.shape:
        raise ValueError(f"shapes {numerator.shape} and {denominator.shape} differ")
    out = np.empty(numerator.shape)
    _ratio_where_positive(numerator.reshape(-1), denominator.reshape(-1), out.reshape(-1))
    return out


@numba.njit(cache=True, error_model="numpy")
def _ratio_where_positive(numerator, denominator, out):
    for i in range(out.size):
        out[i] = numerator[i] / denominator[i] if denominator[i] > 0 else 0.0


def _full_ages(array: np.ndarray, lo: int) -> np.ndarray:
    """Pad an insured-age array (last axis min_age..max_age) with zeros for ages 0..min_age-1."""
    full = np.empty(array.shape[:-1] + (lo + array.shape[-1],))
    full[..., :lo] = 0.0
    full[..., lo:] = array
    return full


def to_dataset(inputs: Inputs, kin: KernelInputs, out: dict, extend=None, horizon: int | None = None):
    """Kernel outputs -> the results Dataset (stable names of ARCHITECTURE.md).

    Per-year variables: flows of the year, stocks at the END of the year; the valuation-date stocks
    are kept in ``*_at_valuation`` variables. One ``age`` coordinate 0..max_age for every variable
    (insured variables are zero below the minimum insured age). A scheme-only valuation has no
    national population: the variables that need it (population, births, deaths, target insured,
    GDP, expenditure as percent of GDP, demographic dependency ratio) are absent.

    ``extend``: a function of the variables (name -> (dims, values, attrs)) returning more variables and
    coordinates (the social protection floor, :func:`actuary.floor.floor_extension`), added before the
    Dataset is built once.

    ``horizon``: fewer years than ``inputs`` project (a projection run one year past the horizon for the
    actuarial balance): returns (the Dataset of the first ``horizon`` years, its attribute ``horizon`` that
    number, and the Dataset of the years after them), each built from the same arrays (views).
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
    top_up = out.get("minimum_pension_top_up", 0.0)
    net_cost = (1 + fin["admin_benefits"]) * outgo - (fin["subsidy_benefits"] * out["benefits"]
                                                      + fin["subsidy_wages"] * wage_bill + top_up)
    contribution_base = fin["collection_rate"] * (1 - fin["admin_contributions"]) * wage_bill
    reserve_end = out["finance_reserve"][1:]
    reserve_start = out["finance_reserve"][:-1]
    contributors = out["contributors"]
    actives_end = out["active_out"][1:].sum(axis=(1, 2))

    with np.errstate(divide="ignore", invalid="ignore"):
        average_pension = ratio_where_positive(pension_amount_end, pension_count_end)
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
        system_dependency_stock = pensioners_total.sum(axis=1) / actives_end

    def full(name):
        return out["full_age"][name] if name in out.get("full_age", ()) else _full_ages(out[name], lo)

    data = {
        "insurable_wage_bill": ((Y,), wage_bill, "currency", "insurable earnings x contribution density, all actives"),
        "contributions": ((Y,), out["finance_contributions"], "currency", "rate x collection rate x wage bill"),
        "state_subsidy": ((Y,), out["finance_subsidy"], "currency",
                          "state subsidy: subsidy_share_of_benefits x benefits + subsidy_share_of_wages x wage bill"),
        "benefit_expenditure": ((Y,), out["benefits"], "currency",
                                "pensions due, all benefits (paid in full unless the reserve is depleted and "
                                "benefits are cut: payable_benefits)"),
        "benefit_expenditure_by_benefit": ((Y, B), out["pensioner_expenditure"], "currency", "pensions due"),
        "grants": ((Y,), out["all_grants"], "currency", "withdrawal grants + funeral grants"),
        "withdrawal_grants": ((Y,), out["withdrawal_grants"], "currency",
                              "lump sums to insured reaching retirement age without the vesting service, and "
                              "refunds at exit (exit_refunds)"),
        "exit_refunds": ((Y,), out["exit_refunds"], "currency",
                         "refunds of contributions to leavers without deferred rights (scheme.exit_benefit refund)"),
        "funeral_grants": ((Y,), out["funeral_grants"], "currency", "per death of an active or a pensioner"),
        "admin_expenses": ((Y,), out["finance_admin"], "currency",
                           "administrative expenses: scheme.admin_share_of_benefits x benefits and grants + "
                           "admin_share_of_contributions x contributions"),
        "total_expenditure": ((Y,), total_expenditure, "currency",
                              "benefits + grants + administrative expenses paid (after depletion with "
                              "settings.after_depletion 'payable': payable_benefits + administrative expenses)"),
        "investment_income": ((Y,), out["finance_investment_income"], "currency",
                              "i V_{t-1} + ((1+i)^0.5-1)(C+subsidy-E)"),
        "reserve": ((Y,), reserve_end, "currency", "at the end of the year"),
        "paygo_cost_rate": ((Y,), paygo, "share",
                            "total expenditure due (benefits, grants, administration) / insurable wage bill "
                            "(gross basis: before collection losses and the state subsidy)"),
        "reserve_ratio": ((Y,), reserve_ratio, "years", "reserve at the end of the year / expenditure due"),
        "trust_fund_ratio": ((Y,), trust_fund_ratio, "years", "reserve at the start of the year / expenditure due"),
        "contributors": ((Y,), contributors, "persons", "actives exposed during the year (leavers count half)"),
        "pensioners": ((Y,), pensioners_total.sum(axis=1), "persons", "at the end of the year"),
        "pensioners_by_benefit": ((Y, B), pensioners_total, "persons", "at the end of the year"),
        "system_dependency_ratio": ((Y,), system_dependency, "ratio",
                                    "pensioners at the end of the year / contributors (actives exposed during "
                                    "the year)"),
        "system_dependency_ratio_stock": ((Y,), system_dependency_stock, "ratio",
                                          "pensioners / active insured, both at the end of the year (31 December)"),
        "replacement_rate": ((Y,), replacement, "share",
                             "average new old-age pension (awards to actives and to deferred members) / average "
                             "insurable salary of contributors"),
        "benefit_ratio": ((Y,), benefit_ratio, "share",
                          "average old-age pension in payment / average insurable salary of contributors"),
        "contribution_rate": ((Y,), kin.finance["contribution_rate"], "share", "statutory contribution rate"),
        "grant_recipients": ((Y,), out["grant_count"], "persons", "withdrawal grants and refunds at exit"),
        "active": ((Y, S, A), full("active_out")[1:], "persons", "active insured at the end of the year"),
        "inactive": ((Y, S, A), full("inactive_out")[1:], "persons", "inactive insured at the end of the year"),
        "new_entrants": ((Y, S, A), full("new_entrants"), "persons", "by age at the end of the year"),
        "active_deaths": ((Y, S, A), full("active_deaths"), "persons", "by age at the start of the year"),
        "retirements": ((Y, S, A), full("retirements"), "persons",
                        "actives retiring with an old-age pension, or leaving at retirement age with the grant "
                        "(without the service for a pension)"),
        "invalidity_retirements": ((Y, S, A), full("invalidity"), "persons", "actives becoming invalid"),
        "exits": ((Y, S, A), full("exits"), "persons",
                  "actives leaving active service by exit (becoming inactive, or leaving the scheme: withdrawals)"),
        "withdrawals": ((Y, S, A), full("withdrawals"), "persons",
                        "leavers without deferred rights, leaving the scheme with a refund or nothing "
                        "(scheme.exit_benefit)"),
        "inactive_deaths": ((Y, S, A), full("inactive_deaths"), "persons",
                            "deaths of inactive insured, by age at 1 January"),
        "inactive_retirements": ((Y, S, A), full("inactive_retirements"), "persons",
                                 "inactive insured reaching normal retirement age (deferred pension if vested, "
                                 "else the grant); in the first year also every initial inactive insured already "
                                 "at or past it"),
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
        "pensioner_deaths": ((Y, B, S, A), out["pensioner_deaths"], "persons",
                             "deaths of pensioners, by benefit and age at 1 January"),
        "pensioner_exits": ((Y, B, S, A), out["pensioner_exits"], "persons",
                            "remarriage (widow), age limit (orphan), conversion to old age (invalidity)"),
        "invalidity_conversions": ((Y, S, A), out["pensioner_conversions"], "persons",
                                   "invalidity pensioners moving to old age at normal retirement age"),
        "wage_index": ((Y,), kin.series["wages"], "index", "average wage, t0 = 1"),
        "price_index": ((Y,), kin.series["prices"], "index", "t0 = 1"),
        "pension_indexation": ((Y,), kin.series["beta"], "rate", "applied on 1 January"),
        "minimum_pension": ((Y,), kin.series["minimum"], "currency a year",
                            "minimum pension of the year, indexed as scheme.minimum_pension_indexation says"),
        "maximum_pension": ((Y,), kin.series["maximum"], "currency a year",
                            "maximum pension of the year, indexed as scheme.maximum_pension_indexation says"),
        "investment_return": ((Y,), kin.finance["investment_return"], "rate",
                              "nominal return on the reserve (economy.nominal_return)"),
        "collection_rate": ((Y,), kin.finance["collection_rate"], "share",
                            "share of contributions due that are collected"),
        "subsidy_share_of_benefits": ((Y,), kin.finance["subsidy_benefits"], "share",
                                      "state subsidy as a share of benefit expenditure"),
        "subsidy_share_of_wages": ((Y,), kin.finance["subsidy_wages"], "share",
                                   "state subsidy as a share of the insurable wage bill"),
        "payable_share": ((Y,), out["finance_payable_share"], "share",
                          "share of the year's benefits and grants that its income and the reserve left at its start "
                          "can pay (1 before depletion)"),
        "payable_benefits": ((Y,), out["finance_payable_share"] * outgo, "currency",
                             "benefits and grants payable: payable_share x (benefit_expenditure + grants)"),
        "breakeven_contribution_rate": ((Y,), breakeven, "share of insurable earnings",
                                        "statutory contribution rate at which the year's income equals its "
                                        "expenditure: ((1 + a_b)(benefits + grants) - state subsidy - minimum "
                                        "pension top-up) / "
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
    if "minimum_pension_top_up" in out:  # paid by the state (scheme.minimum_pension_financing state)
        data.update({
            "minimum_pension_top_up": ((Y,), out["minimum_pension_top_up"], "currency",
                                       "the part of benefit_expenditure (due) that tops pensions up to the minimum, "
                                       "financed by the state (a financing item of its own, not in state_subsidy; "
                                       "what it pays is minimum_pension_top_up_paid): the top-ups awarded with "
                                       "pensions since the valuation date, indexed with them"),
            "scheme_financed_benefits": ((Y,), out["benefits"] - out["minimum_pension_top_up"], "currency",
                                         "benefit_expenditure - minimum_pension_top_up"),
            "minimum_pension_top_up_paid": ((Y,), top_up_paid(out["minimum_pension_top_up"],
                                                              out["finance_payable_share"], fin["payable"]),
                                            "currency",
                                            "the minimum-pension top-up the state pays to the scheme: "
                                            "minimum_pension_top_up x payable_share under settings.after_depletion "
                                            "payable (the state tops up the pensions the scheme pays), in full under "
                                            "borrow; income of the scheme (in total_income) and the state's flow in "
                                            "fiscal_cost"),
        })
    if "population" in out:  # a national population
        pop = out["population"][1:]
        gdp = gross_domestic_product(inputs, out["population"], kin.series["employment_share"])
        data.update({
            "gdp": ((Y,), gdp, "currency", GDP_DESCRIPTION),
            "expenditure_pct_gdp": ((Y,), 100 * out["benefits"] / gdp, "percent", "benefit expenditure / GDP"),
            "demographic_dependency_ratio": ((Y,), demographic_dependency_ratio(pop), "ratio",
                                             "population 65+ / 15-64, end of the year"),
            "population": ((Y, S, A), pop, "persons", "national population, end of the year"),
            "births": ((Y, S), out["births"], "persons", "live births of the year, by sex of the child"),
            "deaths": ((Y, S), out["deaths"], "persons", "national deaths"),
            "target_insured": ((Y, S, A), full("target")[1:], "persons",
                               "population x participation x (1-u) x coverage"),
        })
    variables = {name: (dims, np.asarray(values), {"units": units, "description": doc})
                 for name, (dims, values, units, doc) in data.items()}
    at_valuation = "at 1 January of the valuation year"
    variables["active_at_valuation"] = ((S, A), full("active_out")[0], {
        "units": "persons", "description": f"actives {at_valuation}, by sex and age"})
    variables["inactive_at_valuation"] = ((S, A), full("inactive_out")[0], {
        "units": "persons", "description": f"inactive insured {at_valuation}, by sex and age"})
    variables["pensioners_at_valuation"] = ((B, S, A), out["pensioner_count"][0], {
        "units": "persons", "description": f"pensions in payment {at_valuation}, by benefit, sex and age"})
    if "population" in out:
        variables["population_at_valuation"] = ((S, A), out["population"][0], {
            "units": "persons", "description": f"national population {at_valuation}"})
    variables["reserve_at_valuation"] = ((), out["finance_reserve"][0], {
        "units": "currency", "description": f"reserve {at_valuation}"})
    labels = {Y: years, S: list(SEXES), A: coords["population_age"], B: list(BENEFITS)}
    if extend is not None:
        more, more_labels = extend(variables)
        variables.update(more)
        labels.update(more_labels)
    variables.update(report_variables(variables, inputs, kin.series.get("mortality")))
    attrs = {
        "valuation_year": int(years[0]), "horizon": int(years.size), "min_age": int(lo),
        "national_population": inputs.settings["national_population"],
        "admin_share_of_benefits": kin.finance["admin_benefits"],
        "admin_share_of_contributions": kin.finance["admin_contributions"],
        "conventions": "flows of each year; stocks at the end of the year (1 January of the next); "
                       "valuation-date stocks in *_at_valuation",
    }
    if horizon is None:
        return labelled_dataset(variables, labels, attrs)
    head, tail = slice(0, horizon), slice(horizon, None)
    return (labelled_dataset(*years_of(variables, labels, head), dict(attrs, horizon=horizon)),
            labelled_dataset(*years_of(variables, labels, tail), attrs))


def years_of(variables: dict, labels: dict, years: slice) -> tuple[dict, dict]:
    """The variables (name -> (dims, values, attrs)) and labels of ``years`` (a slice of the year axis), as
    views."""
    Y = "year"

    def part(dims, values):
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        return values[(slice(None),) * dims.index(Y) + (years,)] if Y in dims else values

    return ({name: (dims, part(dims, values), attrs) for name, (dims, values, attrs) in variables.items()},
            dict(labels, **{Y: np.asarray(labels[Y])[years]}))


def demographic_dependency_ratio(population: np.ndarray) -> np.ndarray:
    """Population 65+ / population 15-64 (population [year, sex, age 0..ω])."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return population[:, :, 65:].sum(axis=(1, 2)) / population[:, :, 15:65].sum(axis=(1, 2))


def gross_domestic_product(inputs: Inputs, population: np.ndarray, employment_share: np.ndarray) -> np.ndarray:
    """GDP_t = GDP_{t-1} x (employment_t / employment_{t-1}) x (1 + productivity_t) x (1 + π_t), GDP_{t0} = the
    input, with employment at 1 January of t (population [year + 1, sex, age] x employment share); the years
    are those of ``population`` less one (a run of the valuation's first years gives theirs)."""
    eco = inputs.economy
    lo = inputs.settings["min_age"]
    n = population.shape[0] - 1
    employment = (population[:-1, :, lo:] * employment_share[:n]).sum(axis=(1, 2))
    growth = np.ones_like(employment)
    growth[1:] = (employment[1:] / employment[:-1]) * (1 + eco["productivity_growth"].values[1:n]) \
        * (1 + eco["inflation"].values[1:n])
    return eco["gdp"] * np.cumprod(growth)


def add_report_variables(ds: xr.Dataset, inputs: Inputs) -> xr.Dataset:
    """``ds`` with the valuation report's derived variables (:func:`report_variables`)."""
    return ds.assign(report_variables({name: ds.variables[name] for name in ds.data_vars}, inputs))


def report_variables(variables: dict, inputs: Inputs, mortality: np.ndarray | None = None) -> dict:
    """The valuation report's derived variables, from the others (each only where its sources exist):

    total_income_t              = C_t + subsidy_t + p T_t + I_t                  (currency)
    net_cash_flow_t             = total_income_t - E_t  (= V_t - V_{t-1})        (currency)
    reserve_real_t              = V_t / P_t, P the price index (P_{t0} = 1)      (currency of t0)
    average_insurable_earnings_t = S_t / contributors_t                          (currency a year)
    life_expectancy_65[t, sex]  = e_65 of the period life table of q_x(t)        (years)
    income_pct_gdp_t            = 100 total_income_t / GDP_t                     (percent)
    total_expenditure_pct_gdp_t = 100 E_t / GDP_t                                (percent)

    with p T_t the minimum-pension top-up the state pays to the scheme (``minimum_pension_top_up_paid``, when
    scheme.minimum_pension_financing is state; 0 otherwise), which the finance kernel credits to the reserve.

    ``variables``: name -> an object with ``dims`` and ``values`` (an xarray Variable) or a tuple (dims,
    values, attrs); ``mortality``: the mortality table q_x (:func:`mortality_table`) if already computed.
    Returns name -> (dims, values, attrs)."""
    def parts(v):
        return (v[0], v[1]) if isinstance(v, tuple) else (v.dims, v.values)

    have = set(variables)
    value = {}
    for name, v in variables.items():
        dims, values = parts(v)
        if tuple(dims) == ("year",):
            value[name] = values
    data = {}
    if {"contributions", "state_subsidy", "investment_income", "total_expenditure"} <= have:
        income = value["contributions"] + value["state_subsidy"] + value["investment_income"]
        sources = "contributions + state subsidy + investment income"
        if "minimum_pension_top_up_paid" in value:  # the state's top-up is income of the scheme, as in the kernel
            income = income + value["minimum_pension_top_up_paid"]
            sources = "contributions + state subsidy + minimum-pension top-up paid by the state + investment income"
        data["total_income"] = (income, "currency", sources)
        data["net_cash_flow"] = (income - value["total_expenditure"], "currency",
                                 "total income - total expenditure (the change in the reserve over the year)")
    if {"reserve", "price_index"} <= have:
        data["reserve_real"] = (value["reserve"] / value["price_index"],
                                "currency at constant prices of the valuation year",
                                "reserve at the end of the year / price index of the year (valuation year = 1)")
    if {"insurable_wage_bill", "contributors"} <= have:
        contributors = np.where(value["contributors"] > 0, value["contributors"], np.nan)
        data["average_insurable_earnings"] = (value["insurable_wage_bill"] / contributors, "currency a year",
                                              "insurable wage bill / contributors")
    if "gdp" in have:
        if "total_income" in data:
            data["income_pct_gdp"] = (100 * data["total_income"][0] / value["gdp"], "percent",
                                      f"total income ({data['total_income'][2]}) / GDP")
        if "total_expenditure" in have:
            data["total_expenditure_pct_gdp"] = (100 * value["total_expenditure"] / value["gdp"], "percent",
                                                 "total expenditure (benefits + grants + administrative expenses) / GDP")
    out = {name: ("year", values, {"units": units, "description": description})
           for name, (values, units, description) in data.items()}
    if inputs.demography.get("mortality") is not None and inputs.settings["max_age"] > 65:
        q = mortality_table(inputs) if mortality is None else mortality
        out["life_expectancy_65"] = (("year", "sex"), life_expectancy(q, 65),
                                     {"units": "years", "description": "period life expectancy at 65 from "
                                                                       "the year's mortality rates q_x"})
    return out
