"""NumPy reference of :mod:`actuary.kernels.floor`: the same equations vectorised over years, sexes
and ages (loops over the benefits and over the subsets of pension groups a person may hold)."""

import itertools

import numpy as np

from ..kernels.floor import ADMIN, AMOUNT, BASIS, INDEXATION, MATERNITY, PENSION_GROUPS, TEST


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
        held, average = [], []          # per group of pensions: share of the cell holding one, mean amount
        for group in PENSION_GROUPS:
            keep = [k for k in group if tested[b, k] > 0]
            n = in_payment[:, keep].sum(axis=1)
            m = paid_amount[:, keep].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                held.append(np.where(resident > 0, np.minimum(n / resident, 1.0), 0.0))
                average.append(np.where(n > 0, m / n, 0.0))
        who = np.zeros_like(resident)
        what = np.zeros_like(resident)
        for subset in itertools.product((0, 1), repeat=len(PENSION_GROUPS)):
            probability = np.ones_like(resident)
            pension = np.zeros_like(resident)
            for g, inside in enumerate(subset):
                probability = probability * (held[g] if inside else 1.0 - held[g])
                pension = pension + (average[g] if inside else 0.0)
            if any(subset):
                if test == 1:
                    continue
                gap = level[:, b, None, None] - pension
                probability = np.where(gap > 0, probability, 0.0)
            else:
                gap = level[:, b, None, None] + 0.0 * pension
            who += probability
            what += probability * gap
        people[:, b] = (resident * who * share).sum(axis=(1, 2))
        paid[:, b] = (resident * what * share).sum(axis=(1, 2))
    beneficiaries = people * take_up
    cost = paid * take_up * (1.0 + rules[:, ADMIN])
    return level, beneficiaries, cost
