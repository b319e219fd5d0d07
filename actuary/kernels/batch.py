"""Batch kernel for stochastic paths: each path has its own economic series (inflation, real wage
growth, productivity, nominal return), mortality (a shift of the improvement rates by year) and
fertility (a factor by year); everything else is the base valuation's. Paths run in parallel: the
caller runs the kernel's slots on threads of its own (the kernel releases the GIL; see
:func:`actuary.stochastic.run_chunk`); per path the derived series are recomputed exactly as in
:mod:`actuary.series` and :mod:`actuary.lifetable` and the four kernels run as for one valuation.

Not ``parallel=True`` with a ``prange`` over the slots: Numba's parallel lowering moves the loop's body into
a function of its own, compiled and optimised by LLVM, then links it, with the scheme kernels it calls, into
the kernel and optimises the whole again. The first call compiled for about 75 s of its own (the scheme kernels
apart) instead of about 22 s; the paths run as fast on threads.
"""


import numba
import numpy as np

from ..lifetable import RADIX, _survival_ratios_rows
from .floor import floor_year
from .population import project_population_kernel
from .scheme import WORK_PLANES, finance_kernel, insured_kernel, pensions_kernel
from .series import indexed, reference_earnings_path

# yearly indicators returned per path (order of the second axis of ``indicators``)
INDICATORS = ("insurable_wage_bill", "contributions", "benefit_expenditure", "total_expenditure", "reserve",
              "paygo_cost_rate", "reserve_ratio", "contributors", "pensioners", "expenditure_pct_gdp",
              "investment_income", "wage_index", "state_subsidy", "grants", "admin_expenses", "trust_fund_ratio",
              "gdp", "system_dependency_ratio", "demographic_dependency_ratio", "replacement_rate", "benefit_ratio",
              "payable_share", "payable_benefits")
# after INDICATORS when the case has a social protection floor (floor arrays with at least one benefit); the last,
# the fiscal cost including the scheme's borrowing once its reserve is exhausted (actuary.floor.own_deficit: the
# year's own deficit financed by borrowing, max(D_t - (1 + i_t) D_t-1, 0) at mid-year with D = max(-reserve, 0) of the
# path's finance recursion, without the interest on the debt; 0 under payable)
FLOOR_INDICATORS = ("floor_cost_pct_gdp", "fiscal_cost_pct_gdp", "fiscal_cost_with_borrowing_pct_gdp")
FLOOR_ROW = len(INDICATORS)
# a path's mortality improvement rates (the valuation's plus the path's shift, stochastic.draw_paths) are held within the bounds of
# the input demography.mortality_improvement (a test checks they are the same)
IMPROVEMENT_LOW, IMPROVEMENT_HIGH = -0.1, 0.1


@numba.njit(cache=True, nogil=True)
def simulate_paths(inflation, real_wage, productivity, nominal_return, improvement_shift, fertility_factor,
                   # base, shared by all paths
                   base, q_base, improvement, fertility, male_share, migration, even, lo, target_share,
                   employment_share, insurable_real, rules, scalars, provisions, gdp0,
                   active0, inactive0, balance_active0, balance_inactive0, service_active0, service_inactive0,
                   units_active0, units_inactive0, entrants_in, residual_method,
                   active_factor, pension_factors, exit_rate, retire_rate, invalidity_rate, reentry_rate,
                   credit_density, contribution_density, early_age, normal_age, pension_normal_age, accrual,
                   flat_base, bend_base, bend_rates, refund_rate,
                   refund_interest, refund_interest_is_return, contribution_rate, collection_rate, subsidy_benefits,
                   subsidy_wages, count0, amount0, remarriage, married, difference, orphans, orphan_age, shares,
                   funeral_base, history, floor_eligible, floor_take_up, floor_rules, floor_tested, poverty_line,
                   average_wage0, indicators, n_slots, slot):
    """Run the paths of one slot; ``indicators[path, k, year]`` receives the INDICATORS (and the FLOOR_INDICATORS
    when ``floor_rules`` has a benefit: the floor of :mod:`actuary.kernels.floor`). Paths are dealt out to
    ``n_slots`` slots, run in parallel by the caller (one per thread): a call runs slot ``slot``, the paths
    slot, slot + n_slots, ... It allocates its working arrays once (a fresh set per path costs page faults,
    doubly so under allocators tuned to return memory eagerly, as on Dask workers).

    ``provisions[k, year]``: the provisions by year (vesting, invalidity vesting, invalidity
    future-service fraction, early-retirement reduction, late-retirement increment, grant multiple,
    exit vesting, indexation price weight, indexation wage weight, reference-earnings years, minimum
    and maximum pensions in money of t0). ``insurable_real[year, sex, age]``: insurable earnings
    divided by the wage index (the ceiling and floor are multiples of the average wage, so this is the
    same on every path). ``normal_age``/``early_age[year, sex, insured age]`` and
    ``pension_normal_age[year, sex, full age]``: retirement ages by cell. ``flat_base[year]`` and
    ``bend_base[i]``: the flat-rate pension and the bend points in money of t0, indexed on each path by
    ``rules[4]`` and ``rules[5]``; with ``scalars`` state top-up 1, the minimum-pension top-ups are paid
    by the state (a second pensions run, as in :func:`actuary.projection.minimum_top_up_in_payment`); ``scalars``
    max entry age: the residual method's oldest entrant (inf: no limit; see the insured kernel).
    ``history[0 | 1, j]``: inflation and real wage growth of the year t0 - 1 - j (the economic history, see
    :func:`actuary.series.past_rates`), NaN where the path's own t0 rate is held (no history given). Without
    a national population (``scalars`` national 0) the population
    arrays are not used and GDP, expenditure % GDP and the demographic dependency ratio are 0 (the
    caller drops them). ``poverty_line[year]``: the floor's poverty line over the valuation's price index (a
    path's line is that times the path's own: the line moves with prices, see :mod:`actuary.floor`)."""
    n_paths = inflation.shape[0]
    n_years = inflation.shape[1]
    n_full = q_base.shape[1]
    n_ages = active0.shape[1]
    n_benefits = count0.shape[0]
    (floor, cap, lag, max_retirement_age, admin_b, admin_c, reserve0, refund, convert, exit_benefit, national,
     payable, flat_service, state_top_up, max_entry_age) = (
        scalars[0], scalars[1], int(scalars[2]), scalars[3], scalars[4], scalars[5], scalars[6], scalars[7] > 0,
        scalars[8] > 0, int(scalars[9]), scalars[10] > 0, scalars[11] > 0, scalars[12], scalars[13] > 0,
        scalars[14])
    n_bends = bend_base.size
    vesting, invalidity_vesting, future_fraction = provisions[0], provisions[1], provisions[2]
    early_reduction, late_increment, grant_multiple, exit_vesting = (provisions[3], provisions[4], provisions[5],
                                                                     provisions[6])
    price_weight, wage_weight, ref_years, minimum0, maximum0 = (provisions[7], provisions[8], provisions[9],
                                                                provisions[10], provisions[11])
    n_floor = floor_rules.shape[0]
    start_share = 0.5 if even else 0.0
    # The insured kernel is called with the argument types of Valuation.run()'s call (run_kernels), so that a
    # process running both compiles it once: entrants allowed and accrual as a bool value (the constant True is
    # typed Literal[bool]) and the stocks and flows by age as arrays of any layout (Valuation.run() passes views
    # of arrays on the full age grid).
    open_group = np.bool_(True)
    floor_level = np.empty((n_years, n_floor))
    floor_people = np.empty((n_years, n_floor))
    floor_cost = np.empty((n_years, n_floor))
    poverty = np.empty(n_years)   # the poverty line at the path's prices
    growth = np.empty(n_years)
    wages = np.empty(n_years)
    prices = np.empty(n_years)
    beta = np.empty(n_years)
    insurable = np.empty((n_years, 2, n_ages))
    reference = np.empty((n_years, 2, n_ages))
    minimum = np.empty(n_years)
    maximum = np.empty(n_years)
    funeral = np.empty(n_years)
    flat = np.empty(n_years)
    bend_index = np.empty(n_years)
    bends = np.empty((n_years, n_bends))
    awards_top_up = np.empty((n_years if state_top_up else 0, n_benefits, 2, n_full))
    counts_copy = np.empty(awards_top_up.shape)
    top_up = np.zeros(n_years)   # the minimum-pension top-ups due (part of the benefits)
    zeros_n = np.zeros(count0.shape)
    q = np.empty((n_years, 2, n_full))
    survival = np.empty((n_years, 2, n_full))
    fert = np.empty((n_years, n_full))
    population = np.empty((n_years + 1, 2, n_full))
    births = np.empty((n_years, 2))
    deaths = np.empty((n_years, 2))
    target = np.empty((n_years + 1, 2, n_ages))
    q_active = np.empty((n_years, 2, n_ages))
    q_inactive = np.empty((n_years, 2, n_ages))
    q_pension = np.empty((n_years, n_benefits, 2, n_full))
    active_out = np.empty((n_years + 1, 2, n_ages))
    inactive_out = np.empty((n_years + 1, 2, n_ages))
    flows = np.empty((9, n_years, 2, n_ages))
    awards_count = np.empty((n_years, n_benefits, 2, n_full))
    awards_amount = np.empty((n_years, n_benefits, 2, n_full))
    wage_bill = np.empty(n_years)
    contributors = np.empty(n_years)
    grants = np.empty(n_years)
    grant_count = np.empty(n_years)
    exit_refunds = np.empty(n_years)
    count = np.empty((n_years + 1, n_benefits, 2, n_full))
    amount = np.empty((n_years + 1, n_benefits, 2, n_full))
    expenditure = np.empty((n_years, n_benefits))
    pension_deaths = np.empty((n_years, n_benefits, 2, n_full))
    exits = np.empty((n_years, n_benefits, 2, n_full))
    conversions = np.empty((n_years, 2, n_full))
    benefits = np.empty(n_years)
    all_grants = np.empty(n_years)
    contributions = np.empty(n_years)
    subsidy = np.empty(n_years)
    admin = np.empty(n_years)
    total_expenditure = np.empty(n_years)
    income = np.empty(n_years)
    reserve = np.empty(n_years + 1)
    payable_share = np.empty(n_years)
    ones = np.ones(n_years)
    male_rows = np.empty(n_years * 2, dtype=np.bool_)  # rows (year, sex) of the survival tables
    for row in range(n_years * 2):
        male_rows[row] = row % 2 == 0
    work = np.empty((WORK_PLANES,) + active0.shape)
    n_past = history.shape[1]
    past_pi = np.empty(n_past)
    past_growth = np.empty(n_past)
    past_wages = np.empty(n_past)
    past_prices = np.empty(n_past)
    past_ones = np.ones(n_past)
    for p in range(slot, n_paths, n_slots):
        pi = inflation[p]
        # economy
        for t in range(n_years):
            growth[t] = (1.0 + pi[t]) * (1.0 + real_wage[p, t]) - 1.0
        wages[0] = 1.0
        prices[0] = 1.0
        for t in range(1, n_years):
            wages[t] = wages[t - 1] * (1.0 + growth[t])
            prices[t] = prices[t - 1] * (1.0 + pi[t])
        # the years before t0: the history, or the path's t0 rates
        level_w = 1.0
        level_p = 1.0
        for j in range(n_past):
            rate = pi[0] if np.isnan(history[0, j]) else history[0, j]
            real = real_wage[p, 0] if np.isnan(history[1, j]) else history[1, j]
            past_pi[j] = rate
            past_growth[j] = (1.0 + rate) * (1.0 + real) - 1.0
            level_w *= 1.0 + (growth[0] if j == 0 else past_growth[j - 1])
            level_p *= 1.0 + (pi[0] if j == 0 else past_pi[j - 1])
            past_wages[j] = 1.0 / level_w
            past_prices[j] = 1.0 / level_p
        for t in range(n_years):
            poverty[t] = poverty_line[t] * prices[t]
        for t in range(n_years):
            source = t - lag
            if source > n_years - 1:
                source = n_years - 1
            if source < 0:
                b = price_weight[t] * past_pi[-source - 1] + wage_weight[t] * past_growth[-source - 1]
            else:
                b = price_weight[t] * pi[source] + wage_weight[t] * growth[source]
            b = min(max(b, floor), cap)
            beta[t] = b if t > 0 else 0.0
        for t in range(n_years):
            for s in range(2):
                for a in range(n_ages):
                    insurable[t, s, a] = insurable_real[t, s, a] * wages[t]
        rule_revaluation = rules[0]
        if rule_revaluation == 1:
            index = wages
            past_index = past_wages
        elif rule_revaluation == 0:
            index = prices
            past_index = past_prices
        else:
            index = ones
            past_index = past_ones
        reference_earnings_path(insurable, index, ref_years, past_wages, past_index, reference)
        indexed(minimum0, rules[1], prices, wages, beta, minimum)
        indexed(maximum0, rules[2], prices, wages, beta, maximum)
        indexed(funeral_base, rules[3], prices, wages, beta, funeral)
        indexed(flat_base, rules[4], prices, wages, beta, flat)
        indexed(ones, rules[5], prices, wages, beta, bend_index)
        for t in range(n_years):
            for i in range(n_bends):
                bends[t, i] = bend_index[t] * bend_base[i]
        # mortality and population
        for s in range(2):
            for x in range(n_full):
                factor = 1.0
                for t in range(n_years):
                    if t > 0:
                        rate = improvement[t, s, x] + improvement_shift[p, t]
                        factor *= 1.0 - min(max(rate, IMPROVEMENT_LOW), IMPROVEMENT_HIGH)
                    value = q_base[s, x] * factor
                    q[t, s, x] = min(max(value, 0.0), 1.0)
                q[:, s, n_full - 1] = 1.0
        _survival_ratios_rows(q.reshape(n_years * 2, n_full), male_rows, RADIX,
                              survival.reshape(n_years * 2, n_full))  # the life table's own
        for t in range(n_years):
            for x in range(n_full):
                fert[t, x] = fertility[t, x] * fertility_factor[p, t]
        if national:
            project_population_kernel(base, survival, fert, male_share, migration, even, population, births,
                                      deaths)
            for t in range(n_years + 1):
                share_t = t if t < n_years else n_years - 1
                for s in range(2):
                    for a in range(n_ages):
                        target[t, s, a] = population[t, s, lo + a] * target_share[share_t, s, a]
        else:
            target[:] = 0.0
        for t in range(n_years):
            for s in range(2):
                for a in range(n_ages):
                    q_inactive[t, s, a] = q[t, s, lo + a]
                    q_active[t, s, a] = min(max(q[t, s, lo + a] * active_factor[s, a], 0.0), 1.0)
        for t in range(n_years):
            for b in range(n_benefits):
                for s in range(2):
                    for x in range(n_full):
                        q_pension[t, b, s, x] = min(max(q[t, s, x] * pension_factors[b, s, x], 0.0), 1.0)
                    q_pension[t, b, s, n_full - 1] = 1.0
        interest = nominal_return[p] if refund_interest_is_return else refund_interest
        # insured
        flows[:] = 0.0
        awards_count[:] = 0.0
        awards_amount[:] = 0.0
        awards_top_up[:] = 0.0
        wage_bill[:] = 0.0
        contributors[:] = 0.0
        grants[:] = 0.0
        grant_count[:] = 0.0
        exit_refunds[:] = 0.0
        insured_kernel(active0, inactive0, balance_active0, balance_inactive0, service_active0, service_inactive0,
                       units_active0, units_inactive0, target, entrants_in, residual_method, max_entry_age,
                       open_group, open_group,
                       q_active, q_inactive, exit_rate, retire_rate, invalidity_rate, reentry_rate,
                       credit_density, contribution_density, insurable, reference, early_age, normal_age,
                       max_retirement_age, float(lo), accrual, vesting, invalidity_vesting, future_fraction,
                       early_reduction, late_increment, minimum, maximum, flat, flat_service, bends, bend_rates,
                       refund, grant_multiple, refund_rate,
                       interest, exit_benefit, exit_vesting, married, difference, orphans, orphan_age, shares,
                       active_out[:, :, :], inactive_out[:, :, :], flows[0, :, :, :], flows[1, :, :, :],
                       flows[2, :, :, :], flows[3, :, :, :], flows[4, :, :, :], flows[5, :, :, :], flows[6, :, :, :],
                       flows[7, :, :, :], flows[8, :, :, :], awards_count, awards_amount, awards_top_up, wage_bill,
                       contributors, grants, grant_count, exit_refunds, work)
        if state_top_up:  # the top-ups in payment (the awards' counts are read, not kept)
            exits[:] = 0.0
            conversions[:] = 0.0
            counts_copy[:] = awards_count
            pensions_kernel(count0, zeros_n, counts_copy, awards_top_up, q_pension, beta, remarriage,
                            pension_normal_age, convert, married, difference, orphans, orphan_age, shares,
                            count, amount, expenditure, pension_deaths, exits, conversions)
            for t in range(n_years):
                top_up[t] = expenditure[t].sum()
        exits[:] = 0.0
        conversions[:] = 0.0
        pensions_kernel(count0, amount0, awards_count, awards_amount, q_pension, beta, remarriage,
                        pension_normal_age, convert, married, difference, orphans, orphan_age, shares,
                        count, amount, expenditure, pension_deaths, exits, conversions)
        for t in range(n_years):
            total = 0.0
            for b in range(n_benefits):
                total += expenditure[t, b]
            benefits[t] = total
            dead = 0.0
            for s in range(2):
                for a in range(n_ages):
                    dead += flows[1, t, s, a]
                for b in range(3):
                    for x in range(n_full):
                        dead += pension_deaths[t, b, s, x]
            all_grants[t] = grants[t] + funeral[t] * dead
        finance_kernel(wage_bill, benefits, all_grants, top_up, contribution_rate, collection_rate, subsidy_benefits,
                       subsidy_wages, admin_b, admin_c, nominal_return[p], reserve0, payable,
                       contributions, subsidy, admin, total_expenditure, income, reserve, payable_share)
        # GDP: employment growth x (1 + productivity) x (1 + inflation)
        gdp = gdp0
        previous_employment = 0.0
        for t in range(n_years):
            if national:
                employment = 0.0
                for s in range(2):
                    for a in range(n_ages):
                        employment += population[t, s, lo + a] * employment_share[t, s, a]
                if t > 0:
                    gdp *= (employment / previous_employment) * (1.0 + productivity[p, t]) * (1.0 + pi[t])
                previous_employment = employment
            pensioners = 0.0
            for b in range(n_benefits):
                for s in range(2):
                    for x in range(n_full):
                        pensioners += count[t + 1, b, s, x]
            out = indicators[p]
            outgo = benefits[t] + all_grants[t]
            due = outgo + (admin_b * outgo + admin_c * contributions[t])  # expenditure due (benefits in full)
            out[0, t] = wage_bill[t]
            out[1, t] = contributions[t]
            out[2, t] = benefits[t]
            out[3, t] = total_expenditure[t]
            out[4, t] = reserve[t + 1]
            out[5, t] = due / wage_bill[t]
            out[6, t] = reserve[t + 1] / due
            out[7, t] = contributors[t]
            out[8, t] = pensioners
            out[9, t] = 100.0 * benefits[t] / gdp if national else 0.0
            out[10, t] = income[t]
            out[11, t] = wages[t]
            out[12, t] = subsidy[t]
            out[13, t] = all_grants[t]
            out[14, t] = admin[t]
            out[15, t] = reserve[t] / due
            out[16, t] = gdp if national else 0.0
            if n_floor > 0:
                floor_year(t, population, count, amount, beta, fert, migration, start_share, prices, wages, gdp,
                           average_wage0, poverty, floor_eligible, floor_take_up, floor_rules, floor_tested,
                           floor_level, floor_people, floor_cost)
                floor_total = 0.0
                for b in range(n_floor):
                    floor_total += floor_cost[t, b]
                # the top-up the state pays: p T under settings payable, T under borrow (as the finance kernel's)
                top_up_paid = top_up[t] * (payable_share[t] if payable else 1.0)
                out[FLOOR_ROW, t] = 100.0 * floor_total / gdp
                out[FLOOR_ROW + 1, t] = 100.0 * (floor_total + subsidy[t] + top_up_paid) / gdp
                # the year's own deficit financed by borrowing, at mid-year (actuary.floor.own_deficit):
                # max(D_t - (1 + i_t) D_t-1, 0) / (1 + i_t)^1/2, right in a year of negative return too
                debt_before = max(-reserve[t], 0.0)
                debt_rate = nominal_return[p, t]
                deficit = max((max(-reserve[t + 1], 0.0) - debt_before) - debt_rate * debt_before, 0.0) \
                    / (1.0 + debt_rate) ** 0.5
                out[FLOOR_ROW + 2, t] = 100.0 * (floor_total + subsidy[t] + top_up_paid + deficit) / gdp
            out[17, t] = pensioners / contributors[t]
            working = 0.0
            old = 0.0
            if national:
                for s in range(2):
                    for x in range(n_full):
                        if 15 <= x < 65:
                            working += population[t + 1, s, x]
                        elif x >= 65:
                            old += population[t + 1, s, x]
            out[18, t] = old / working if national else 0.0
            average_salary = wage_bill[t] / contributors[t]
            new_n = 0.0
            new_m = 0.0
            start_n = 0.0
            start_m = 0.0
            for s in range(2):
                for x in range(n_full):
                    new_n += awards_count[t, 0, s, x]
                    new_m += awards_amount[t, 0, s, x]
                    start_n += count[t, 0, s, x]
                    start_m += amount[t, 0, s, x]
            out[19, t] = (new_m / new_n) / average_salary if new_n > 0 else np.nan
            out[20, t] = (start_m * (1.0 + beta[t]) / start_n) / average_salary if start_n > 0 else np.nan
            out[21, t] = payable_share[t]
            out[22, t] = payable_share[t] * outgo


@numba.njit(cache=True)
def histogram_add(values, low, high, counts, only):
    """Histogram of values[path, cell] per cell: ``bins = counts.shape[1] - 2`` equal bins between
    low[cell] and high[cell] in columns 1..bins, below the range (and non-finite values) in column 0,
    at or above it in column bins + 1; ``only`` (the shape of ``counts``) keeps the value of each column while
    every value it has received is that one (a point mass), NaN once it has received two different values or a
    NaN (read only where the column has a count)."""
    bins = counts.shape[1] - 2
    for p in range(values.shape[0]):
        for cell in range(values.shape[1]):
            value = values[p, cell]
            scaled = (value - low[cell]) / (high[cell] - low[cell]) * bins
            column = 0
            if np.isfinite(scaled):
                position = np.floor(scaled)
                if position < -1.0:
                    position = -1.0
                if position > bins:
                    position = float(bins)
                column = int(position) + 1
            if counts[cell, column] == 0:
                only[cell, column] = value
            elif only[cell, column] != value:   # (NaN differs from every value, itself included)
                only[cell, column] = np.nan
            counts[cell, column] += 1
