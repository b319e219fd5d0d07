"""NumPy reference of :mod:`actuary.kernels.scheme`: the same equations and timing conventions,
a loop over years vectorised over (sex, age, service). Returns dictionaries of arrays with the
same names as the kernels' outputs."""

import numpy as np

OLD_AGE = 0


def _old_age_pension(accrual, service, reference, reached, normal, reduction, increment, minimum, maximum):
    k = np.minimum(service, accrual.size - 1)
    adjustment = np.where(reached < normal, np.maximum(1.0 - reduction * (normal - reached), 0.0),
                          np.where(reached > normal, 1.0 + increment * (reached - normal), 1.0))
    return np.clip(accrual[k] * reference * adjustment, minimum, maximum)


def insured_reference(active0, inactive0, target, entrants_in, residual_method,
                      q_active, q_inactive, exit_rate, retire_rate, invalidity_rate,
                      credit_density, contribution_density, salary, reference,
                      early_age, normal_age, max_retirement_age, min_age,
                      accrual, vesting, early_reduction, late_increment, minimum, maximum, grant_multiple):
    n_years = q_active.shape[0]
    _, n_ages, n_service = active0.shape
    n_benefits = 4
    out = {
        "active_out": np.empty((n_years + 1, 2, n_ages)),
        "inactive_out": np.empty((n_years + 1, 2, n_ages)),
        "awards_count": np.zeros((n_years, n_benefits, 2, n_ages)),
        "awards_amount": np.zeros((n_years, n_benefits, 2, n_ages)),
    }
    for name in ("new_entrants", "active_deaths", "retirements", "exits", "invalidity", "inactive_deaths",
                 "inactive_retirements"):
        out[name] = np.zeros((n_years, 2, n_ages))
    for name in ("wage_bill", "contributors", "grants", "grant_count"):
        out[name] = np.zeros(n_years)
    act = active0.astype(float).copy()
    ina = inactive0.astype(float).copy()
    out["active_out"][0] = act.sum(-1)
    out["inactive_out"][0] = ina.sum(-1)
    service = np.arange(n_service)
    vested = (service >= vesting)[None, None, :]
    reached = (min_age + np.arange(n_ages) + 1.0)[None, :, None]
    for t in range(n_years):
        era = early_age[t][:, None, None]
        nra = normal_age[t][:, None, None]
        r = np.where(reached >= max_retirement_age, 1.0,
                     np.where(vested & (reached >= era), retire_rate[t][:, :, None],
                              np.where(~vested & (reached >= nra), 1.0, 0.0)))
        r = np.broadcast_to(r, act.shape)
        dead = act * q_active[t][:, :, None]
        alive = act - dead
        retired = alive * r
        rest = alive - retired
        invalid = rest * invalidity_rate[t][:, :, None]
        rest = rest - invalid
        left = rest * exit_rate[t][:, :, None]
        stay = rest - left
        exposure = act - 0.5 * (dead + retired + invalid + left)
        pay = (salary[t] * contribution_density[t])[:, :, None]
        bill = (exposure * pay).sum()
        heads = exposure.sum()
        ref = reference[t][:, :, None]
        pension = _old_age_pension(accrual, service[None, None, :], ref, reached, nra, early_reduction,
                                   late_increment, minimum[t], maximum[t])
        vested_b = np.broadcast_to(vested, act.shape)
        out["awards_count"][t, OLD_AGE] += np.where(vested_b, retired, 0.0).sum(-1)
        out["awards_amount"][t, OLD_AGE] += np.where(vested_b, retired * pension, 0.0).sum(-1)
        lump = np.where(vested_b, 0.0, retired * grant_multiple * ref * service).sum()
        lump_count = np.where(vested_b, 0.0, retired).sum()
        out["active_deaths"][t] = dead.sum(-1)
        out["retirements"][t] = retired.sum(-1)
        out["invalidity"][t] = invalid.sum(-1)
        out["exits"][t] = left.sum(-1)
        d = credit_density[t][:, :-1, None]
        act_next = np.zeros_like(act)
        ina_next = np.zeros_like(ina)
        act_next[:, 1:, :] += stay[:, :-1, :] * (1 - d)
        act_next[:, 1:, 1:] += stay[:, :-1, :-1] * d[:, :, :]
        act_next[:, 1:, -1] += stay[:, :-1, -1] * d[:, :, 0]
        ina_next[:, 1:, :] += left[:, :-1, :]
        # inactive
        qi = q_inactive[t][:, :, None]
        idead = ina * qi
        ialive = ina - idead
        out["inactive_deaths"][t] = idead.sum(-1)
        at_age = np.broadcast_to((reached >= nra) | (reached >= max_retirement_age), ina.shape)
        deferred_pension = _old_age_pension(accrual, service[None, None, :], ref, reached, reached, 0.0, 0.0,
                                            minimum[t], maximum[t])
        out["inactive_retirements"][t] = np.where(at_age, ialive, 0.0).sum(-1)
        deferred = at_age & vested_b
        out["awards_count"][t, OLD_AGE] += np.where(deferred, ialive, 0.0).sum(-1)
        out["awards_amount"][t, OLD_AGE] += np.where(deferred, ialive * deferred_pension, 0.0).sum(-1)
        lump += np.where(at_age & ~vested_b, ialive * grant_multiple * ref * service, 0.0).sum()
        lump_count += np.where(at_age & ~vested_b, ialive, 0.0).sum()
        ina_next[:, 1:, :] += np.where(at_age, 0.0, ialive)[:, :-1, :]
        # new entrants
        if residual_method:
            current = act_next.sum(-1)
            gap = target[t + 1] - current
            entering = np.maximum(gap, 0.0)
            shrink = (gap < 0) & (current > 0)
            keep = np.where(shrink, target[t + 1] / np.where(current > 0, current, 1.0), 1.0)
            moved = act_next * (1.0 - keep[:, :, None])
            act_next -= moved
            ina_next += moved
            out["exits"][t, :, :-1] += np.where(shrink, -gap, 0.0)[:, 1:]
        else:
            entering = entrants_in[t]
        out["new_entrants"][t] = entering
        act_next[:, :, 0] += entering
        bill += 0.5 * (entering * salary[t] * contribution_density[t]).sum()
        heads += 0.5 * entering.sum()
        out["wage_bill"][t] = bill
        out["contributors"][t] = heads
        out["grants"][t] = lump
        out["grant_count"][t] = lump_count
        act, ina = act_next, ina_next
        out["active_out"][t + 1] = act.sum(-1)
        out["inactive_out"][t + 1] = ina.sum(-1)
    return out


def pensions_reference(count0, amount0, awards_count, awards_amount, q_pension, beta):
    n_years = beta.shape[0]
    count = np.empty((n_years + 1,) + count0.shape)
    amount = np.empty_like(count)
    expenditure = np.empty((n_years, count0.shape[0]))
    deaths = np.empty((n_years,) + count0.shape)
    count[0], amount[0] = count0, amount0
    for t in range(n_years):
        q = q_pension[t]
        m = amount[t] * (1 + beta[t])
        expenditure[t] = (m * (1 - 0.5 * q) + 0.5 * awards_amount[t]).sum(axis=(1, 2))
        survivors_n = count[t] * (1 - q) + awards_count[t] * (1 - 0.5 * q)
        survivors_m = m * (1 - q) + awards_amount[t] * (1 - 0.5 * q)
        deaths[t] = count[t] * q + awards_count[t] * 0.5 * q
        count[t + 1] = 0.0
        amount[t + 1] = 0.0
        count[t + 1, :, :, 1:] = survivors_n[:, :, :-1]
        amount[t + 1, :, :, 1:] = survivors_m[:, :, :-1]
        count[t + 1, :, :, -1] += survivors_n[:, :, -1]
        amount[t + 1, :, :, -1] += survivors_m[:, :, -1]
    return {"count": count, "amount": amount, "expenditure": expenditure, "deaths": deaths}


def finance_reference(wage_bill, benefits, grants, contribution_rate, collection_rate, subsidy_benefits,
                      subsidy_wages, admin_benefits, admin_contributions, investment_return, reserve0):
    contributions = contribution_rate * collection_rate * wage_bill
    subsidy = subsidy_benefits * benefits + subsidy_wages * wage_bill
    admin = admin_benefits * (benefits + grants) + admin_contributions * contributions
    expenditure = benefits + grants + admin
    net = contributions + subsidy - expenditure
    half = np.sqrt(1 + investment_return) - 1
    reserve = np.empty(wage_bill.size + 1)
    income = np.empty(wage_bill.size)
    reserve[0] = reserve0
    for t in range(wage_bill.size):
        income[t] = investment_return[t] * reserve[t] + half[t] * net[t]
        reserve[t + 1] = reserve[t] + net[t] + income[t]
    return {"contributions": contributions, "subsidy": subsidy, "admin": admin, "expenditure": expenditure,
            "investment_income": income, "reserve": reserve}
