"""Scheme kernels of the component method (METHODOLOGY §3-5): insured transitions, pensions in
payment, finance. Plain float64 arrays; index conventions:

    t       projection year 0..T-1 (stocks: 0..T, index t = 1 January of year t)
    s       sex, 0 male, 1 female
    a       scheme age index, age x = min_age + a (the last index is the open group)
    k       completed years of credited service 0..K-1 (the last is capped)
    b       benefit: 0 old_age, 1 invalidity, 2 widow, 3 orphan

Timing conventions (documented in the results):
- Decrements of actives during year t, by age x at 1 January t, in this order: death q; then
  retirement r among survivors (vested and reaching at least the early retirement age during
  the year, i.e. x + 1 >= ERA; r = 1 at max_retirement_age; non-vested actives reaching the
  normal retirement age leave with a grant); then invalidity i; then exit to inactivity w.
  Leavers contribute for half of the year; stayers for the whole year.
- Stayers move from service k to k+1 with probability d_x (credit density), keep k otherwise.
- New entrants join at mid-year with zero service and are tabulated by their age at the end of
  the year (the age at which they first appear in the stock).
- Pensions: indexation β_t on 1 January; deaths and new awards at mid-year (half a year of
  payment); the age of a flow is the age at 1 January of the year.
"""

import numba
import numpy as np

OLD_AGE, INVALIDITY, WIDOW, ORPHAN = 0, 1, 2, 3


@numba.njit(cache=True)
def old_age_pension(accrual, service, reference, age_reached, normal_age, early_reduction, late_increment,
                    minimum, maximum):
    """accrual(service) x reference earnings x (1 - reduction per year early | 1 + increment per year
    late), bounded by the minimum and maximum pension."""
    k = service if service < accrual.size else accrual.size - 1
    adjustment = 1.0
    if age_reached < normal_age:
        adjustment = 1.0 - early_reduction * (normal_age - age_reached)
        if adjustment < 0.0:
            adjustment = 0.0
    elif age_reached > normal_age:
        adjustment = 1.0 + late_increment * (age_reached - normal_age)
    pension = accrual[k] * reference * adjustment
    if pension < minimum:
        pension = minimum
    if pension > maximum:
        pension = maximum
    return pension


@numba.njit(cache=True)
def _service_bounds(act, ina, bound):
    """bound[s, a] = highest service index holding any active or inactive insured (-1 if none);
    returns the highest occupied age index (-1 if none)."""
    highest = -1
    for s in range(2):
        for a in range(act.shape[1]):
            bound[s, a] = -1
            for k in range(act.shape[2] - 1, -1, -1):
                if act[s, a, k] != 0.0 or ina[s, a, k] != 0.0:
                    bound[s, a] = k
                    break
            if bound[s, a] >= 0 and a > highest:
                highest = a
    return highest


@numba.njit(cache=True)
def insured_kernel(active0, inactive0, target, entrants_in, residual_method,
                   q_active, q_inactive, exit_rate, retire_rate, invalidity_rate,
                   credit_density, contribution_density, salary, reference,
                   early_age, normal_age, max_retirement_age, min_age,
                   accrual, vesting, early_reduction, late_increment, minimum, maximum, grant_multiple,
                   active_out, inactive_out, new_entrants, active_deaths, retirements, exits, invalidity,
                   inactive_deaths, inactive_retirements, awards_count, awards_amount, wage_bill, contributors, grants,
                   grant_count):
    n_years = q_active.shape[0]
    n_ages = active0.shape[1]
    n_service = active0.shape[2]
    top = n_service - 1
    # two buffers swapped each year; both are zero above the highest occupied age
    act = active0.copy()
    ina = inactive0.copy()
    act_next = np.zeros_like(act)
    ina_next = np.zeros_like(ina)
    # highest occupied service by sex and age (loops stop there), for this year and the next
    bound = np.empty((2, n_ages), dtype=np.int64)
    bound_next = np.empty((2, n_ages), dtype=np.int64)
    occupied = _service_bounds(act, ina, bound)
    for s in range(2):
        for a in range(n_ages):
            tot_a = 0.0
            tot_i = 0.0
            for k in range(n_service):
                tot_a += act[s, a, k]
                tot_i += ina[s, a, k]
            active_out[0, s, a] = tot_a
            inactive_out[0, s, a] = tot_i
    for t in range(n_years):
        bill = 0.0
        heads = 0.0
        lump = 0.0
        lump_count = 0.0
        bound_next[:] = -1
        for s in range(2):
            era = early_age[t, s]
            nra = normal_age[t, s]
            for a in range(occupied + 1):
                reached = min_age + a + 1.0
                q = q_active[t, s, a]
                i_rate = invalidity_rate[t, s, a]
                w = exit_rate[t, s, a]
                d = credit_density[t, s, a]
                pay = salary[t, s, a] * contribution_density[t, s, a]
                ref = reference[t, s, a]
                if reached >= max_retirement_age:
                    r_vested = 1.0
                    r_other = 1.0
                else:
                    r_vested = retire_rate[t, s, a] if reached >= era else 0.0
                    r_other = 1.0 if reached >= nra else 0.0
                at_retirement_age = reached >= nra or reached >= max_retirement_age
                last = bound[s, a]
                written = -1  # highest service written at age a + 1 next year
                dead_sum = 0.0
                ret_sum = 0.0
                inv_sum = 0.0
                exit_sum = 0.0
                award_n = 0.0
                award_m = 0.0
                for k in range(last + 1):
                    n = act[s, a, k]
                    if n == 0.0:
                        continue
                    vested = k >= vesting
                    r = r_vested if vested else r_other
                    dead = n * q
                    alive = n - dead
                    retired = alive * r
                    rest = alive - retired
                    invalid = rest * i_rate
                    rest -= invalid
                    left = rest * w
                    stay = rest - left
                    exposure = n - 0.5 * (dead + retired + invalid + left)
                    bill += exposure * pay
                    heads += exposure
                    dead_sum += dead
                    ret_sum += retired
                    inv_sum += invalid
                    exit_sum += left
                    if retired > 0.0:
                        if vested:
                            pension = old_age_pension(accrual, k, ref, reached, nra, early_reduction,
                                                      late_increment, minimum[t], maximum[t])
                            award_n += retired
                            award_m += retired * pension
                        else:
                            lump += retired * grant_multiple * ref * k
                            lump_count += retired
                    if a + 1 < n_ages and (stay > 0.0 or left > 0.0):
                        up = k + 1 if k < top else top
                        act_next[s, a + 1, up] += stay * d
                        act_next[s, a + 1, k] += stay * (1.0 - d)
                        ina_next[s, a + 1, k] += left
                        written = up if stay * d > 0.0 else k
                active_deaths[t, s, a] = dead_sum
                retirements[t, s, a] = ret_sum
                invalidity[t, s, a] = inv_sum
                exits[t, s, a] = exit_sum
                # inactive insured: mortality; deferred pension or grant on reaching retirement age
                qi = q_inactive[t, s, a]
                dead_sum = 0.0
                ret_sum = 0.0
                for k in range(last + 1):
                    n = ina[s, a, k]
                    if n == 0.0:
                        continue
                    dead = n * qi
                    alive = n - dead
                    dead_sum += dead
                    if at_retirement_age:
                        ret_sum += alive
                        if k >= vesting:
                            pension = old_age_pension(accrual, k, ref, reached, reached, 0.0, 0.0,
                                                      minimum[t], maximum[t])
                            award_n += alive
                            award_m += alive * pension
                        else:
                            lump += alive * grant_multiple * ref * k
                            lump_count += alive
                    elif a + 1 < n_ages and alive > 0.0:
                        ina_next[s, a + 1, k] += alive
                        if k > written:
                            written = k
                if written >= 0 and written > bound_next[s, a + 1]:
                    bound_next[s, a + 1] = written
                inactive_deaths[t, s, a] = dead_sum
                inactive_retirements[t, s, a] = ret_sum
                awards_count[t, OLD_AGE, s, a] += award_n
                awards_amount[t, OLD_AGE, s, a] += award_m
            for a in range(occupied + 1, n_ages):
                active_deaths[t, s, a] = 0.0
                retirements[t, s, a] = 0.0
                invalidity[t, s, a] = 0.0
                exits[t, s, a] = 0.0
                inactive_deaths[t, s, a] = 0.0
                inactive_retirements[t, s, a] = 0.0
            # new entrants (mid-year, zero service), by age at the end of the year
            for a in range(n_ages):
                if residual_method:
                    current = 0.0
                    for k in range(bound_next[s, a] + 1):
                        current += act_next[s, a, k]
                    gap = target[t + 1, s, a] - current
                    if gap > 0.0:
                        entering = gap
                    else:
                        entering = 0.0
                        if current > 0.0 and gap < 0.0:
                            keep = target[t + 1, s, a] / current
                            for k in range(bound_next[s, a] + 1):
                                moved = act_next[s, a, k] * (1.0 - keep)
                                act_next[s, a, k] -= moved
                                ina_next[s, a, k] += moved
                            if a > 0:
                                exits[t, s, a - 1] += -gap
                else:
                    entering = entrants_in[t, s, a]
                new_entrants[t, s, a] = entering
                if entering > 0.0:
                    act_next[s, a, 0] += entering
                    if bound_next[s, a] < 0:
                        bound_next[s, a] = 0
                    bill += 0.5 * entering * salary[t, s, a] * contribution_density[t, s, a]
                    heads += 0.5 * entering
        wage_bill[t] = bill
        contributors[t] = heads
        grants[t] = lump
        grant_count[t] = lump_count
        # swap buffers: the old start-of-year stock is cleared to become next year's empty buffer
        for s in range(2):
            for a in range(occupied + 1):
                for k in range(bound[s, a] + 1):
                    act[s, a, k] = 0.0
                    ina[s, a, k] = 0.0
        act, act_next = act_next, act
        ina, ina_next = ina_next, ina
        bound, bound_next = bound_next, bound
        occupied = -1
        for s in range(2):
            for a in range(n_ages):
                tot_a = 0.0
                tot_i = 0.0
                for k in range(bound[s, a] + 1):
                    tot_a += act[s, a, k]
                    tot_i += ina[s, a, k]
                active_out[t + 1, s, a] = tot_a
                inactive_out[t + 1, s, a] = tot_i
                if bound[s, a] >= 0 and a > occupied:
                    occupied = a


@numba.njit(cache=True)
def pensions_kernel(count0, amount0, awards_count, awards_amount, q_pension, beta,
                    count, amount, expenditure, deaths):
    """Pensions in payment by (benefit, sex, age): count and total annual amount at 1 January.

    Year t: amounts indexed by β_t; deaths q at mid-year (half a year paid); new awards paid for half
    a year and exposed to half a year's mortality before 1 January t+1; everyone ages by one year
    (the last age is an open group).
    """
    n_years = beta.shape[0]
    n_benefits, _, n_ages = count0.shape
    count[0] = count0
    amount[0] = amount0
    for t in range(n_years):
        count[t + 1] = 0.0
        amount[t + 1] = 0.0
        factor = 1.0 + beta[t]
        for b in range(n_benefits):
            spent = 0.0
            for s in range(2):
                for a in range(n_ages):
                    q = q_pension[t, b, s, a]
                    n = count[t, b, s, a]
                    m = amount[t, b, s, a] * factor
                    new_n = awards_count[t, b, s, a]
                    new_m = awards_amount[t, b, s, a]
                    spent += m * (1.0 - 0.5 * q) + 0.5 * new_m
                    older = a + 1 if a + 1 < n_ages else n_ages - 1
                    count[t + 1, b, s, older] += n * (1.0 - q) + new_n * (1.0 - 0.5 * q)
                    amount[t + 1, b, s, older] += m * (1.0 - q) + new_m * (1.0 - 0.5 * q)
                    deaths[t, b, s, a] = n * q + new_n * 0.5 * q
            expenditure[t, b] = spent


@numba.njit(cache=True)
def finance_kernel(wage_bill, benefits, grants, contribution_rate, collection_rate, subsidy_benefits,
                   subsidy_wages, admin_benefits, admin_contributions, investment_return, reserve0,
                   contributions, subsidy, admin, expenditure, investment_income, reserve):
    """C = rate x collection x S; subsidy = s_b B + s_w S; admin = a_b (B + G) + a_c C;
    E = B + G + admin; I = i V_{t-1} + ((1+i)^(1/2) - 1)(C + subsidy - E); V_t = V_{t-1} + C + subsidy + I - E."""
    reserve[0] = reserve0
    for t in range(wage_bill.shape[0]):
        c = contribution_rate[t] * collection_rate[t] * wage_bill[t]
        sub = subsidy_benefits[t] * benefits[t] + subsidy_wages[t] * wage_bill[t]
        adm = admin_benefits * (benefits[t] + grants[t]) + admin_contributions * c
        e = benefits[t] + grants[t] + adm
        i = investment_return[t]
        inc = i * reserve[t] + ((1.0 + i) ** 0.5 - 1.0) * (c + sub - e)
        contributions[t] = c
        subsidy[t] = sub
        admin[t] = adm
        expenditure[t] = e
        investment_income[t] = inc
        reserve[t + 1] = reserve[t] + c + sub + inc - e
