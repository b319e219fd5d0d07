"""NumPy reference of :mod:`actuary.kernels.scheme`: the same equations and timing conventions,
a loop over years vectorised over (sex, age, service). Returns dictionaries of arrays with the
same names as the kernels' outputs."""

import numpy as np

OLD_AGE, INVALIDITY, WIDOW, ORPHAN = 0, 1, 2, 3


def _accrued(accrual, service):
    return np.interp(service, np.arange(accrual.size), accrual)


def _spread(count_target, amount_target, b, sex, age, count, amount):
    """Add arrays of counts/amounts at fractional ages (arrays broadcast together) to [b, sex, age]."""
    n_ages = count_target.shape[-1]
    age = np.clip(age, 0.0, n_ages - 1.0)
    low = np.floor(age).astype(np.int64)
    weight = age - low
    high = np.minimum(low + 1, n_ages - 1)
    sex, low, high, weight, count, amount = np.broadcast_arrays(sex, low, high, weight, count, amount)
    np.add.at(count_target[b], (sex, low), count * (1 - weight))
    np.add.at(amount_target[b], (sex, low), amount * (1 - weight))
    np.add.at(count_target[b], (sex, high), count * weight)
    np.add.at(amount_target[b], (sex, high), amount * weight)


def _survivors(count_target, amount_target, deaths, pensions, married, difference, orphans, orphan_age, shares):
    """Survivors' awards for deaths[s, x] whose pensions add up to pensions[s, x] (full age grid)."""
    total = married * shares[0] + orphans * shares[1]
    factor = np.where((total > shares[2]) & (total > 0), shares[2] / np.where(total > 0, total, 1.0), 1.0)
    live = (deaths > 0) & (pensions > 0)
    deaths = np.where(live, deaths, 0.0)
    pension = np.where(live, pensions, 0.0)
    n_ages = deaths.shape[1]
    ages = np.arange(n_ages)[None, :]
    sexes = np.array([[0], [1]])
    _spread(count_target, amount_target, WIDOW, 1 - sexes, ages + difference, deaths * married,
            pension * married * shares[0] * factor)
    age = np.minimum(orphan_age, shares[3] - 1.0)
    for sex in range(2):
        _spread(count_target, amount_target, ORPHAN, np.full_like(sexes, sex), age, 0.5 * deaths * orphans,
                0.5 * pension * orphans * shares[1] * factor)


def insured_reference(active0, inactive0, balance_active0, balance_inactive0, target, entrants_in, residual_method,
                      entrants_allowed, accrue,
                      q_active, q_inactive, exit_rate, retire_rate, invalidity_rate, reentry_rate,
                      credit_density, contribution_density, salary, reference,
                      early_age, normal_age, max_retirement_age, min_age,
                      accrual, vesting, invalidity_vesting, future_service_fraction,
                      early_reduction, late_increment, minimum, maximum,
                      refund, grant_multiple, refund_rate, refund_interest, married, difference, orphans, orphan_age,
                      shares, n_full_ages):
    n_years = q_active.shape[0]
    _, n_ages, n_service = active0.shape
    lo = int(min_age)
    out = {
        "active_out": np.empty((n_years + 1, 2, n_ages)),
        "inactive_out": np.empty((n_years + 1, 2, n_ages)),
        "awards_count": np.zeros((n_years, 4, 2, n_full_ages)),
        "awards_amount": np.zeros((n_years, 4, 2, n_full_ages)),
    }
    for name in ("new_entrants", "active_deaths", "retirements", "exits", "invalidity", "inactive_deaths",
                 "inactive_retirements", "reentries"):
        out[name] = np.zeros((n_years, 2, n_ages))
    for name in ("wage_bill", "contributors", "grants", "grant_count"):
        out[name] = np.zeros(n_years)
    act = active0.astype(float).copy()
    ina = inactive0.astype(float).copy()
    bal = balance_active0.astype(float).copy()
    ibal = balance_inactive0.astype(float).copy()
    out["active_out"][0] = act.sum(-1)
    out["inactive_out"][0] = ina.sum(-1)
    service = np.arange(n_service)
    vested = np.broadcast_to((service >= vesting)[None, None, :], act.shape)
    inv_vested = np.broadcast_to((service >= invalidity_vesting)[None, None, :], act.shape)
    reached = (min_age + np.arange(n_ages) + 1.0)[None, :, None]
    for t in range(n_years):
        era = early_age[t][:, None, None]
        nra = normal_age[t][:, None, None]
        growth = 1.0 + refund_interest[t]
        half = growth ** 0.5
        r = np.where(reached >= max_retirement_age, 1.0,
                     np.where(vested, np.where(reached >= era, retire_rate[t][:, :, None], 0.0),
                              np.where(reached >= nra, 1.0, 0.0)))
        dead = act * q_active[t][:, :, None]
        alive = act - dead
        retired = alive * r
        rest = alive - retired
        invalid = np.where(inv_vested, rest * invalidity_rate[t][:, :, None], 0.0)
        rest = rest - invalid
        left = rest * exit_rate[t][:, :, None]
        stay = rest - left
        exposure = act - 0.5 * (dead + retired + invalid + left)
        pay = (salary[t] * contribution_density[t])[:, :, None]
        premium = refund_rate[t] * pay
        bill = (exposure * pay).sum()
        heads = exposure.sum()
        ref = reference[t][:, :, None]
        adjustment = np.where(reached < nra, np.maximum(1 - early_reduction * (nra - reached), 0.0),
                              1 + late_increment * (reached - nra))
        pension = np.clip(_accrued(accrual, np.broadcast_to(service, act.shape).astype(float)) * ref * adjustment,
                          minimum[t], maximum[t])
        future = np.maximum(nra - reached, 0.0) * future_service_fraction
        disability = np.clip(_accrued(accrual, service[None, None, :] + future) * ref, minimum[t], maximum[t])
        disability = np.broadcast_to(disability, act.shape)
        full = slice(lo, lo + n_ages)
        out["awards_count"][t, OLD_AGE, :, full] += np.where(vested, retired, 0.0).sum(-1)
        out["awards_amount"][t, OLD_AGE, :, full] += np.where(vested, retired * pension, 0.0).sum(-1)
        out["awards_count"][t, INVALIDITY, :, full] += np.where(inv_vested, invalid, 0.0).sum(-1)
        out["awards_amount"][t, INVALIDITY, :, full] += np.where(inv_vested, invalid * disability, 0.0).sum(-1)
        # survivors of vested active deaths (linear in deaths and pensions: aggregated over service)
        deaths_full = np.zeros((2, n_full_ages))
        pensions_full = np.zeros((2, n_full_ages))
        deaths_full[:, full] = np.where(inv_vested, dead, 0.0).sum(-1)
        pensions_full[:, full] = np.where(inv_vested, dead * disability, 0.0).sum(-1)
        _survivors(out["awards_count"][t], out["awards_amount"][t], deaths_full, pensions_full, married,
                   difference, orphans, orphan_age, shares)
        per_head = np.where(act > 0, bal / np.where(act > 0, act, 1.0), 0.0)
        mid = per_head * half + 0.5 * premium if refund else np.zeros_like(act)
        lump_each = mid if refund else grant_multiple * ref * service
        lump = np.where(vested, 0.0, retired * lump_each).sum()
        lump_count = np.where(vested, 0.0, retired).sum()
        out["active_deaths"][t] = dead.sum(-1)
        out["retirements"][t] = retired.sum(-1)
        out["invalidity"][t] = invalid.sum(-1)
        out["exits"][t] = left.sum(-1)
        d = credit_density[t][:, :-1, None] if accrue else np.zeros((2, n_ages - 1, 1))
        act_next = np.zeros_like(act)
        ina_next = np.zeros_like(ina)
        bal_next = np.zeros_like(bal)
        ibal_next = np.zeros_like(ibal)
        act_next[:, 1:, :] += stay[:, :-1, :] * (1 - d)
        act_next[:, 1:, 1:] += stay[:, :-1, :-1] * d
        act_next[:, 1:, -1] += stay[:, :-1, -1] * d[:, :, 0]
        ina_next[:, 1:, :] += left[:, :-1, :]
        if refund:
            end = mid * half + 0.5 * premium
            bal_next[:, 1:, :] += (stay * end)[:, :-1, :] * (1 - d)
            bal_next[:, 1:, 1:] += (stay * end)[:, :-1, :-1] * d
            bal_next[:, 1:, -1] += (stay * end)[:, :-1, -1] * d[:, :, 0]
            ibal_next[:, 1:, :] += (left * mid * half)[:, :-1, :]
        # inactive
        idead = ina * q_inactive[t][:, :, None]
        ialive = ina - idead
        out["inactive_deaths"][t] = idead.sum(-1)
        at_age = np.broadcast_to((reached >= nra) | (reached >= max_retirement_age), ina.shape)
        deferred_pension = np.clip(_accrued(accrual, np.broadcast_to(service, ina.shape).astype(float)) * ref,
                                   minimum[t], maximum[t])
        deferred = at_age & vested
        out["inactive_retirements"][t] = np.where(at_age, ialive, 0.0).sum(-1)
        out["awards_count"][t, OLD_AGE, :, full] += np.where(deferred, ialive, 0.0).sum(-1)
        out["awards_amount"][t, OLD_AGE, :, full] += np.where(deferred, ialive * deferred_pension, 0.0).sum(-1)
        iper_head = np.where(ina > 0, ibal / np.where(ina > 0, ina, 1.0), 0.0)
        ilump_each = iper_head * half if refund else grant_multiple * ref * service
        lump += np.where(at_age & ~vested, ialive * ilump_each, 0.0).sum()
        lump_count += np.where(at_age & ~vested, ialive, 0.0).sum()
        staying = np.where(at_age, 0.0, ialive)
        back = staying * reentry_rate[t][:, :, None]
        out["reentries"][t] = back.sum(-1)
        ina_next[:, 1:, :] += (staying - back)[:, :-1, :]
        act_next[:, 1:, :] += back[:, :-1, :]
        if refund:
            ibal_next[:, 1:, :] += ((staying - back) * iper_head * growth)[:, :-1, :]
            bal_next[:, 1:, :] += (back * iper_head * growth)[:, :-1, :]
        # new entrants
        entering = np.zeros((2, n_ages))
        if entrants_allowed and residual_method:
            current = act_next.sum(-1)
            gap = target[t + 1] - current
            entering = np.maximum(gap, 0.0)
            shrink = (gap < 0) & (current > 0)
            keep = np.where(shrink, target[t + 1] / np.where(current > 0, current, 1.0), 1.0)[:, :, None]
            moved = act_next * (1.0 - keep)
            act_next -= moved
            ina_next += moved
            moved_balance = bal_next * (1.0 - keep)
            bal_next -= moved_balance
            ibal_next += moved_balance
            out["exits"][t, :, :-1] += np.where(shrink, -gap, 0.0)[:, 1:]
        elif entrants_allowed:
            entering = entrants_in[t]
        out["new_entrants"][t] = entering
        act_next[:, :, 0] += entering
        entrant_pay = salary[t] * contribution_density[t]
        bill += 0.5 * (entering * entrant_pay).sum()
        heads += 0.5 * entering.sum()
        if refund:
            bal_next[:, :, 0] += entering * 0.5 * refund_rate[t] * entrant_pay * half
        out["wage_bill"][t] = bill
        out["contributors"][t] = heads
        out["grants"][t] = lump
        out["grant_count"][t] = lump_count
        act, ina, bal, ibal = act_next, ina_next, bal_next, ibal_next
        out["active_out"][t + 1] = act.sum(-1)
        out["inactive_out"][t + 1] = ina.sum(-1)
    return out


def pensions_reference(count0, amount0, awards_count, awards_amount, q_pension, beta, remarriage, normal_age,
                       convert_invalidity, married, difference, orphans, orphan_age, shares):
    n_years = beta.shape[0]
    n_benefits, _, n_ages = count0.shape
    awards_count = awards_count.copy()
    awards_amount = awards_amount.copy()
    count = np.empty((n_years + 1,) + count0.shape)
    amount = np.empty_like(count)
    expenditure = np.empty((n_years, n_benefits))
    deaths = np.empty((n_years,) + count0.shape)
    exits = np.zeros((n_years,) + count0.shape)
    conversions = np.zeros((n_years, 2, n_ages))
    count[0], amount[0] = count0, amount0
    ages = np.arange(n_ages)
    older = np.minimum(ages + 1, n_ages - 1)
    for t in range(n_years):
        count[t + 1] = 0.0
        amount[t + 1] = 0.0
        for b in range(n_benefits):
            q = q_pension[t, b]
            m = amount[t, b] * (1 + beta[t])
            new_n, new_m = awards_count[t, b], awards_amount[t, b]
            dead_n = count[t, b] * q + new_n * 0.5 * q
            deaths[t, b] = dead_n
            expenditure[t, b] = (m * (1 - 0.5 * q) + 0.5 * new_m).sum()
            if b <= INVALIDITY:
                _survivors(awards_count[t], awards_amount[t], dead_n, m * q + new_m * 0.5 * q, married, difference,
                           orphans, orphan_age, shares)
            alive_n = count[t, b] * (1 - q) + new_n * (1 - 0.5 * q)
            alive_m = m * (1 - q) + new_m * (1 - 0.5 * q)
            leave = np.zeros((2, n_ages))
            if b == WIDOW:
                leave = remarriage[t]
            if b == ORPHAN:
                leave = np.broadcast_to(np.where(older >= shares[3], 1.0, 0.0), (2, n_ages))
            exits[t, b] = alive_n * leave
            alive_n = alive_n * (1 - leave)
            alive_m = alive_m * (1 - leave)
            destination = np.full((2, n_ages), b)
            if b == INVALIDITY and convert_invalidity:
                converting = (ages[None, :] + 1.0) >= normal_age[t][:, None]
                destination = np.where(converting, OLD_AGE, b)
                exits[t, b] += np.where(converting, alive_n, 0.0)
                conversions[t] = np.where(converting, alive_n, 0.0)
            sexes = np.broadcast_to(np.array([[0], [1]]), (2, n_ages))
            np.add.at(count[t + 1], (destination, sexes, np.broadcast_to(older, (2, n_ages))), alive_n)
            np.add.at(amount[t + 1], (destination, sexes, np.broadcast_to(older, (2, n_ages))), alive_m)
    return {"count": count, "amount": amount, "expenditure": expenditure, "deaths": deaths, "exits": exits,
            "conversions": conversions, "awards_count": awards_count, "awards_amount": awards_amount}


def finance_reference(wage_bill, benefits, grants, contribution_rate, collection_rate, subsidy_benefits,
                      subsidy_wages, admin_benefits, admin_contributions, investment_return, reserve0, payable):
    contributions = contribution_rate * collection_rate * wage_bill
    outgo = benefits + grants
    due = (1 + admin_benefits) * outgo - subsidy_benefits * benefits
    income = (1 - admin_contributions) * contributions + subsidy_wages * wage_bill
    root = np.sqrt(1 + investment_return)
    n = wage_bill.size
    reserve = np.empty(n + 1)
    share = np.ones(n)
    paid = np.ones(n)
    reserve[0] = reserve0
    for t in range(n):
        available = income[t] + max(reserve[t], 0.0) * root[t]
        if due[t] > 0 and available < due[t]:
            share[t] = max(available, 0.0) / due[t]
        if payable:
            paid[t] = share[t]
        net = (contributions[t] + subsidy_benefits[t] * benefits[t] * paid[t] + subsidy_wages[t] * wage_bill[t]
               - (1 + admin_benefits) * outgo[t] * paid[t] - admin_contributions * contributions[t])
        reserve[t + 1] = 0.0 if payable and share[t] < 1 else reserve[t] * (1 + investment_return[t]) + root[t] * net
    subsidy = subsidy_benefits * benefits * paid + subsidy_wages * wage_bill
    admin = admin_benefits * outgo * paid + admin_contributions * contributions
    expenditure = outgo * paid + admin
    income_from_investment = reserve[1:] - reserve[:-1] - contributions - subsidy + expenditure
    return {"contributions": contributions, "subsidy": subsidy, "admin": admin, "expenditure": expenditure,
            "investment_income": income_from_investment, "reserve": reserve, "payable_share": share}


def award_annuity_reference(q_pension, beta, remarriage, normal_age, convert_invalidity, orphan_limit,
                            investment_return, n_awards):
    """NumPy version of :func:`actuary.kernels.scheme.award_annuity_kernel` (returns the factors)."""
    n_years, n_benefits, _, n_ages = q_pension.shape
    older = np.minimum(np.arange(n_ages) + 1, n_ages - 1)
    factors = np.empty((n_awards, n_benefits, 2, n_ages))
    following = np.zeros((n_benefits, 2, n_ages))
    root = np.sqrt(1 + investment_return)
    for u in range(n_years - 1, -1, -1):
        v = 1 / (root[u] * root[u + 1]) if u + 1 < n_years else 0.0
        q = q_pension[u]
        ahead = following[:, :, older].copy()  # A_{u+1}(b, s, x + 1)
        ahead[WIDOW] *= 1 - remarriage[u]
        ahead[ORPHAN] *= np.where(older >= orphan_limit, 0.0, 1.0)
        if convert_invalidity:
            converting = (np.arange(n_ages)[None, :] + 1.0) >= normal_age[u][:, None]
            ahead[INVALIDITY] = np.where(converting, following[OLD_AGE][:, older], ahead[INVALIDITY])
        later = v * ahead
        if u < n_awards:
            factors[u] = 0.5 + (1 - 0.5 * q) * later
        following = (1 + beta[u]) * ((1 - 0.5 * q) + (1 - q) * later)
    return factors
