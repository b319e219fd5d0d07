"""NumPy reference of :mod:`actuary.kernels.floor`: the same equations vectorised over years, sexes
and ages (a loop over the benefits)."""

import numpy as np

from ..kernels.floor import ADMIN, AMOUNT, BASIS, INDEXATION, MATERNITY, TEST


def floor_reference(population, count, amount, beta, fertility, migration, start_share, prices, wages, gdp,
                    average_wage0, poverty_line, eligible, take_up, rules, tested):
    """Returns (level, beneficiaries, cost), each [year, benefit]."""
    n_years = gdp.shape[0]
    resident = 0.5 * (population[:-1] + population[1:])                                # [t, s, x]
    gdp_per_capita = gdp / resident.sum(axis=(1, 2))
    mothers = 0.5 * (population[:-1, 1] + start_share * migration[:, 1] + population[1:, 1]
                     - (1.0 - start_share) * migration[:, 1])
    births = fertility * mothers
    births[:, 0] = 0.0
    in_payment = 0.5 * (count[:-1] + count[1:])                                        # [t, k, s, x]
    paid_amount = 0.5 * (amount[:-1] * (1.0 + beta)[:, None, None, None] + amount[1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(in_payment > 0, paid_amount / in_payment, np.inf)
    n_benefits = rules.shape[0]
    level = np.empty((n_years, n_benefits))
    people = np.empty((n_years, n_benefits))
    paid = np.empty((n_years, n_benefits))
    indices = {0: prices, 1: wages, 3: np.ones(n_years)}
    for b in range(n_benefits):
        rule = rules[b]
        basis = int(rule[BASIS])
        if basis == 0:
            level[:, b] = rule[AMOUNT] * indices[int(rule[INDEXATION])]
        elif basis == 1:
            level[:, b] = rule[AMOUNT] * gdp_per_capita
        elif basis == 2:
            level[:, b] = rule[AMOUNT] * average_wage0 * wages
        else:
            level[:, b] = rule[AMOUNT] * poverty_line
        share = eligible[b]
        if rule[MATERNITY] > 0:
            people[:, b] = (births * share[1]).sum(axis=1)
            paid[:, b] = people[:, b] * level[:, b]
            continue
        test = int(rule[TEST])
        if test == 0:
            people[:, b] = (resident * share).sum(axis=(1, 2))
            paid[:, b] = people[:, b] * level[:, b]
            continue
        mask = tested[b][None, :, None, None] > 0
        pensioners = np.where(mask, in_payment, 0.0).sum(axis=1)
        others = np.maximum(resident - pensioners, 0.0)
        cost_others = others * level[:, b, None, None]
        if test == 2:
            gap = np.maximum(level[:, b, None, None, None] - average, 0.0)
            topped = np.where(mask & (gap > 0), in_payment, 0.0).sum(axis=1)
            top_up = np.where(mask, in_payment * gap, 0.0).sum(axis=1)
        else:
            topped = top_up = 0.0
        people[:, b] = ((others + topped) * share).sum(axis=(1, 2))
        paid[:, b] = ((cost_others + top_up) * share).sum(axis=(1, 2))
    beneficiaries = people * take_up
    cost = paid * take_up * (1.0 + rules[:, ADMIN])
    return level, beneficiaries, cost
