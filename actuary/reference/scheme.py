"""NumPy reference of :mod:`actuary.kernels.scheme`: the same equations and timing conventions,
a loop over years vectorised over (sex, age, service). Returns dictionaries of arrays with the
same names as the kernels' outputs."""

import numpy as np

OLD_AGE, INVALIDITY, WIDOW, ORPHAN = 0, 1, 2, 3
EXIT_DEFERRED, EXIT_REFUND, EXIT_NONE = 0, 1, 2


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


def _reaching(reached, age):
    """Share of a cell aged x (reached = x + 1) who are at least ``age`` by the end of the year."""
    return np.clip(reached + 1.0 - age, 0.0, 1.0)


def _award(units, service, reference, adjustment, flat, flat_service, bends, rates, minimum, maximum):
    """Pension at award and its minimum-pension top-up: adjustment x (flat x prorated share + units x
    progressive earnings), bounded by the minimum and maximum (NumPy, cell by cell)."""
    edges = np.concatenate([[0.0], np.asarray(bends, dtype=float), [np.inf]])
    rates = np.asarray(rates, dtype=float) if len(bends) else np.ones(1)
    base = sum(r * np.clip(reference - low, 0.0, high - low) for r, low, high in zip(rates, edges[:-1], edges[1:]))
    share = np.minimum(service / flat_service, 1.0) if flat_service > 0 else 1.0
    formula = adjustment * (flat * share + units * base)
    pension = np.minimum(np.maximum(formula, minimum), maximum)
    return pension, np.maximum(pension - formula, 0.0)


def insured_reference(active0, inactive0, balance_active0, balance_inactive0, service_active0, service_inactive0,
                      units_active0, units_inactive0, target, entrants_in, residual_method, max_entry_age,
                      entrants_allowed, accrue, q_active, q_inactive, exit_rate, retire_rate, invalidity_rate,
                      reentry_rate,
                      credit_density, contribution_density, salary, reference,
                      early_age, normal_age, max_retirement_age, min_age,
                      accrual, vesting, invalidity_vesting, future_service_fraction,
                      early_reduction, late_increment, minimum, maximum, flat, flat_service, bends, bend_rates,
                      refund, grant_multiple, refund_rate, refund_interest, exit_benefit, exit_vesting,
                      married, difference, orphans, orphan_age, shares, n_full_ages, state_top_up=False):
    n_years = q_active.shape[0]
    _, n_ages, n_service = active0.shape
    lo = int(min_age)
    out = {
        "active_out": np.empty((n_years + 1, 2, n_ages)),
        "inactive_out": np.empty((n_years + 1, 2, n_ages)),
        "awards_count": np.zeros((n_years, 4, 2, n_full_ages)),
        "awards_amount": np.zeros((n_years, 4, 2, n_full_ages)),
        "awards_top_up": np.zeros((n_years if state_top_up else 0, 4, 2, n_full_ages)),
    }
    top_up_counts = np.zeros((n_years, 4, 2, n_full_ages))
    for name in ("new_entrants", "active_deaths", "retirements", "exits", "withdrawals", "invalidity",
                 "inactive_deaths", "inactive_retirements", "reentries"):
        out[name] = np.zeros((n_years, 2, n_ages))
    for name in ("wage_bill", "contributors", "grants", "grant_count", "exit_refunds"):
        out[name] = np.zeros(n_years)
    act, ina = active0.astype(float).copy(), inactive0.astype(float).copy()
    bal, ibal = balance_active0.astype(float).copy(), balance_inactive0.astype(float).copy()
    svc, isvc = service_active0.astype(float).copy(), service_inactive0.astype(float).copy()
    unt, iunt = units_active0.astype(float).copy(), units_inactive0.astype(float).copy()
    track = refund or exit_benefit == EXIT_REFUND
    out["active_out"][0] = act.sum(-1)
    out["inactive_out"][0] = ina.sum(-1)
    service = np.arange(n_service)
    reached = (min_age + np.arange(n_ages) + 1.0)[None, :, None]
    for t in range(n_years):
        schedule = accrual[t]
        vested = np.broadcast_to((service >= vesting[t])[None, None, :], act.shape)
        inv_vested = np.broadcast_to((service >= invalidity_vesting[t])[None, None, :], act.shape)
        keeps_rights = np.broadcast_to(((service >= exit_vesting[t]) | (exit_benefit == EXIT_DEFERRED))[None, None, :],
                                       act.shape)
        era = early_age[t][:, :, None]
        nra = normal_age[t][:, :, None]
        growth = 1.0 + refund_interest[t]
        half_growth = growth ** 0.5
        r = np.where(reached >= max_retirement_age, 1.0,
                     np.where(vested, retire_rate[t][:, :, None] * _reaching(reached, era), _reaching(reached, nra)))
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
        premium = (refund_rate[t] if accrue else 0.0) * pay
        bill = (exposure * pay).sum()
        heads = exposure.sum()
        ref = reference[t][:, :, None]
        d = credit_density[t][:, :, None]
        # mean exact service and units per head; half a year credited to those leaving at mid-year
        per_service = np.where(act > 0, svc / np.where(act > 0, act, 1.0), 0.0)
        per_units = np.where(act > 0, unt / np.where(act > 0, act, 1.0), 0.0)
        half = 0.5 * d * accrue
        gain_half = (_accrued(schedule, per_service + half) - _accrued(schedule, per_service)) * accrue
        gain_year = (_accrued(schedule, per_service + 1.0) - _accrued(schedule, per_service)) * accrue
        units_mid = per_units + gain_half
        service_mid = per_service + half
        adjustment = np.where(reached < nra, np.maximum(1 - early_reduction[t] * (nra - reached), 0.0),
                              1 + late_increment[t] * (reached - nra))
        provisions = (flat[t], flat_service, bends[t], bend_rates, minimum[t], maximum[t])
        pension, pension_top_up = _award(units_mid, service_mid, ref, adjustment, *provisions)
        future = np.maximum(nra - reached, 0.0) * future_service_fraction[t] * accrue
        disabled_units = units_mid + _accrued(schedule, service_mid + future) - _accrued(schedule, service_mid)
        disability, disability_top_up = _award(disabled_units, service_mid + future, ref, 1.0, *provisions)
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
        if state_top_up:
            top_ups = out["awards_top_up"][t]
            top_ups[OLD_AGE, :, full] += np.where(vested, retired * pension_top_up, 0.0).sum(-1)
            top_ups[INVALIDITY, :, full] += np.where(inv_vested, invalid * disability_top_up, 0.0).sum(-1)
            top_up_full = np.zeros((2, n_full_ages))
            top_up_full[:, full] = np.where(inv_vested, dead * disability_top_up, 0.0).sum(-1)
            _survivors(top_up_counts[t], top_ups, deaths_full, top_up_full, married, difference, orphans,
                       orphan_age, shares)
        per_balance = np.where(act > 0, bal / np.where(act > 0, act, 1.0), 0.0)
        mid_balance = per_balance * half_growth + 0.5 * premium  # at mid-year
        lump_each = mid_balance if refund else grant_multiple[t] * ref * service_mid
        lump = np.where(vested, 0.0, retired * lump_each).sum()
        lump_count = np.where(vested, 0.0, retired).sum()
        withdrawn = np.where(keeps_rights, 0.0, left)
        deferred = left - withdrawn
        refunded = 0.0
        if exit_benefit == EXIT_REFUND:
            refunded = (withdrawn * mid_balance).sum()
            lump_count += withdrawn.sum()
        out["active_deaths"][t] = dead.sum(-1)
        out["retirements"][t] = retired.sum(-1)
        out["invalidity"][t] = invalid.sum(-1)
        out["exits"][t] = left.sum(-1)
        out["withdrawals"][t] = withdrawn.sum(-1)
        act_next, ina_next = np.zeros_like(act), np.zeros_like(ina)
        bal_next, ibal_next = np.zeros_like(bal), np.zeros_like(ibal)
        svc_next, isvc_next = np.zeros_like(svc), np.zeros_like(isvc)
        unt_next, iunt_next = np.zeros_like(unt), np.zeros_like(iunt)
        credited, uncredited = (stay * d)[:, :-1], (stay * (1 - d))[:, :-1]
        end_balance = mid_balance * half_growth + 0.5 * premium

        def advance(target_array, per_head_credited, per_head_uncredited):
            """Stayers one year older: credited ones one service year up (the last is capped)."""
            target_array[:, 1:, :] += uncredited * per_head_uncredited[:, :-1]
            target_array[:, 1:, 1:] += (credited * per_head_credited[:, :-1])[:, :, :-1]
            target_array[:, 1:, -1] += (credited * per_head_credited[:, :-1])[:, :, -1]

        ones = np.ones_like(act)
        advance(act_next, ones, ones)
        advance(svc_next, per_service + 1.0 * accrue, per_service)
        advance(unt_next, per_units + gain_year, per_units)
        ina_next[:, 1:] += deferred[:, :-1]
        isvc_next[:, 1:] += (deferred * service_mid)[:, :-1]
        iunt_next[:, 1:] += (deferred * units_mid)[:, :-1]
        if track:
            advance(bal_next, end_balance, end_balance)
            ibal_next[:, 1:] += (deferred * mid_balance * half_growth)[:, :-1]
        # inactive
        idead = ina * q_inactive[t][:, :, None]
        ialive = ina - idead
        out["inactive_deaths"][t] = idead.sum(-1)
        at_age = np.broadcast_to(np.where(reached >= max_retirement_age, 1.0, _reaching(reached, nra)), ina.shape)
        iper_service = np.where(ina > 0, isvc / np.where(ina > 0, ina, 1.0), 0.0)
        iper_units = np.where(ina > 0, iunt / np.where(ina > 0, ina, 1.0), 0.0)
        iper_balance = np.where(ina > 0, ibal / np.where(ina > 0, ina, 1.0), 0.0)
        deferred_pension, deferred_top_up = _award(iper_units, iper_service, ref, 1.0, *provisions)
        iretiring = ialive * at_age
        out["inactive_retirements"][t] = iretiring.sum(-1)
        out["awards_count"][t, OLD_AGE, :, full] += np.where(vested, iretiring, 0.0).sum(-1)
        out["awards_amount"][t, OLD_AGE, :, full] += np.where(vested, iretiring * deferred_pension, 0.0).sum(-1)
        if state_top_up:
            out["awards_top_up"][t, OLD_AGE, :, full] += np.where(vested, iretiring * deferred_top_up, 0.0).sum(-1)
        ilump_each = iper_balance * half_growth if refund else grant_multiple[t] * ref * iper_service
        lump += np.where(~vested, iretiring * ilump_each, 0.0).sum()
        lump_count += np.where(~vested, iretiring, 0.0).sum()
        staying = ialive - iretiring
        back = staying * reentry_rate[t][:, :, None]
        out["reentries"][t] = back.sum(-1)
        out_still = staying - back
        for stock, stock_next, per_head in ((ina, ina_next, 1.0), (isvc, isvc_next, iper_service),
                                            (iunt, iunt_next, iper_units)):
            stock_next[:, 1:] += (out_still * per_head)[:, :-1]
        act_next[:, 1:] += back[:, :-1]
        svc_next[:, 1:] += (back * iper_service)[:, :-1]
        unt_next[:, 1:] += (back * iper_units)[:, :-1]
        if track:
            ibal_next[:, 1:] += (out_still * iper_balance * growth)[:, :-1]
            bal_next[:, 1:] += (back * iper_balance * growth)[:, :-1]
        # new entrants
        entering = np.zeros((2, n_ages))
        if entrants_allowed and residual_method:
            current = act_next.sum(-1)
            gap = target[t + 1] - current
            entering = np.where(min_age + np.arange(n_ages) <= max_entry_age, np.maximum(gap, 0.0), 0.0)
            shrink = (gap < 0) & (current > 0)
            keep = np.where(shrink, target[t + 1] / np.where(current > 0, current, 1.0), 1.0)[:, :, None]
            rights = keeps_rights.astype(float)
            moved = {}
            for name, stock in (("heads", act_next), ("service", svc_next), ("units", unt_next),
                                ("balance", bal_next)):
                moved[name] = stock * (1.0 - keep)
                stock -= moved[name]
            ina_next += moved["heads"] * rights
            isvc_next += moved["service"] * rights
            iunt_next += moved["units"] * rights
            ibal_next += moved["balance"] * rights
            forced = moved["heads"] * (1 - rights)
            if exit_benefit == EXIT_REFUND:
                refunded += (moved["balance"] * (1 - rights)).sum()
                lump_count += forced.sum()
            out["exits"][t, :, :-1] += np.where(shrink, -gap, 0.0)[:, 1:]
            out["withdrawals"][t, :, :-1] += forced.sum(-1)[:, 1:]
        elif entrants_allowed:
            entering = entrants_in[t]
        out["new_entrants"][t] = entering
        act_next[:, :, 0] += entering
        credit = 0.5 * credit_density[t] * accrue
        svc_next[:, :, 0] += entering * credit
        unt_next[:, :, 0] += entering * _accrued(schedule, credit) * accrue
        entrant_pay = salary[t] * contribution_density[t]
        bill += 0.5 * (entering * entrant_pay).sum()
        heads += 0.5 * entering.sum()
        if track:
            bal_next[:, :, 0] += entering * 0.5 * (refund_rate[t] if accrue else 0.0) * entrant_pay * half_growth
        out["wage_bill"][t] = bill
        out["contributors"][t] = heads
        out["grants"][t] = lump + refunded
        out["grant_count"][t] = lump_count
        out["exit_refunds"][t] = refunded
        act, ina, bal, ibal = act_next, ina_next, bal_next, ibal_next
        svc, isvc, unt, iunt = svc_next, isvc_next, unt_next, iunt_next
        out["active_out"][t + 1] = act.sum(-1)
        out["inactive_out"][t + 1] = ina.sum(-1)
    out["state"] = {"active0": act, "inactive0": ina, "balance_active0": bal, "balance_inactive0": ibal,
                    "service_active0": svc, "service_inactive0": isvc, "units_active0": unt, "units_inactive0": iunt}
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
            if b == WIDOW:  # widow(er)s in payment remarrying at mid-year: half a year paid
                expenditure[t, b] -= (0.5 * remarriage[t] * m * (1 - q)).sum()
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
            converting = np.zeros((2, n_ages))
            if b == INVALIDITY and convert_invalidity:
                converting = _reaching(ages[None, :] + 1.0, normal_age[t])
                exits[t, b] += alive_n * converting
                conversions[t] = alive_n * converting
            sexes = np.broadcast_to(np.array([[0], [1]]), (2, n_ages))
            for destination, part in ((b, 1 - converting), (OLD_AGE, converting)):
                np.add.at(count[t + 1], (destination, sexes, np.broadcast_to(older, (2, n_ages))), alive_n * part)
                np.add.at(amount[t + 1], (destination, sexes, np.broadcast_to(older, (2, n_ages))), alive_m * part)
    return {"count": count, "amount": amount, "expenditure": expenditure, "deaths": deaths, "exits": exits,
            "conversions": conversions, "awards_count": awards_count, "awards_amount": awards_amount}


def finance_reference(wage_bill, benefits, grants, top_up, contribution_rate, collection_rate, subsidy_benefits,
                      subsidy_wages, admin_benefits, admin_contributions, investment_return, reserve0, payable):
    contributions = contribution_rate * collection_rate * wage_bill
    outgo = benefits + grants
    due = (1 + admin_benefits) * outgo - subsidy_benefits * benefits - top_up
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
        net = (contributions[t] + (subsidy_benefits[t] * benefits[t] + top_up[t]) * paid[t]
               + subsidy_wages[t] * wage_bill[t]
               - (1 + admin_benefits) * outgo[t] * paid[t] - admin_contributions * contributions[t])
        reserve[t + 1] = 0.0 if payable and share[t] < 1 else reserve[t] * (1 + investment_return[t]) + root[t] * net
    subsidy = subsidy_benefits * benefits * paid + subsidy_wages * wage_bill
    admin = admin_benefits * outgo * paid + admin_contributions * contributions
    expenditure = outgo * paid + admin
    income_from_investment = reserve[1:] - reserve[:-1] - contributions - subsidy - top_up * paid + expenditure
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
            converting = _reaching(np.arange(n_ages)[None, :] + 1.0, normal_age[u])
            ahead[INVALIDITY] = converting * following[OLD_AGE][:, older] + (1 - converting) * ahead[INVALIDITY]
        later = v * ahead
        if u < n_awards:
            factors[u] = 0.5 + (1 - 0.5 * q) * later
        paid = 1 - 0.5 * q
        paid[WIDOW] -= 0.5 * remarriage[u] * (1 - q[WIDOW])   # remarrying at mid-year: half a year paid
        following = (1 + beta[u]) * (paid + (1 - q) * later)
    return factors
