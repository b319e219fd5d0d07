"""Numba kernel of the social protection floor (:mod:`actuary.floor`): beneficiaries and cost of each
non-contributory benefit in one projection year, shared by ``Valuation.run()`` and the stochastic
batch kernel (one implementation; the NumPy reference in :mod:`actuary.reference.floor` checks it).

Array layout (ages 0..ω on the last axis; sex 0 = male, 1 = female):
    population[year + 1, sex, age]          national population at 1 January (kernel output)
    count, amount[year + 1, k, sex, age]    scheme pensions in payment at 1 January by scheme benefit k
                                            (number, total annual amount before the year's indexation)
    beta[year]                              pension indexation applied on 1 January
    fertility[year, age], migration[year, sex, age], start_share (0 or 1/2): births by the mother's age
    prices[year], wages[year]               indices, 1 at the valuation year
    poverty_line[year]                      currency a year (zeros when not given)
    eligible[b, sex, age]                   eligibility share x sex and age limits (0..1)
    take_up[year, b]
    rules[b]                                amount, basis, indexation, test, maternity (0/1), admin share
    tested[b, k]                            1 where scheme benefit k is tested (pension_tested, top_up);
                                            tested pensions are grouped into persons (see floor_year)
Outputs [year, b]: level (benefit a year per beneficiary), beneficiaries, cost (with administration).

Timing: beneficiaries of year t are the mean of the stocks at its start and end (person-years,
the population and the scheme pensions alike); maternity counts the year's births. Amounts in
payment during year t are those after the 1 January indexation (the start stock's amount x (1 + β_t),
the end stock's amount as it stands).
"""

import numba

BASIS_CODES = {"currency": 0, "gdp_per_capita": 1, "average_wage": 2, "poverty_line": 3}
TEST_CODES = {"universal": 0, "pension_tested": 1, "top_up": 2}
AMOUNT, BASIS, INDEXATION, TEST, MATERNITY, ADMIN = range(6)
# scheme benefits (old_age, invalidity, widow, orphan) -> groups of pensions a person holds independently:
# own pensions (old age or invalidity, exclusive), widow(er)s', orphans'
PENSION_GROUPS = ((0, 1), (2,), (3,))


@numba.njit(cache=True, nogil=True)
def benefit_level(t, rule, prices, wages, gdp_per_capita, average_wage0, poverty_line):
    """Benefit a year per beneficiary in year t: a currency amount at t0 indexed by prices (0), wages (1)
    or not (3), or a share of GDP per capita, of the average wage or of the poverty line."""
    amount = rule[AMOUNT]
    basis = int(rule[BASIS])
    if basis == 0:
        indexation = int(rule[INDEXATION])
        if indexation == 0:
            return amount * prices[t]
        if indexation == 1:
            return amount * wages[t]
        return amount
    if basis == 1:
        return amount * gdp_per_capita
    if basis == 2:
        return amount * average_wage0 * wages[t]
    return amount * poverty_line[t]


@numba.njit(cache=True, nogil=True)
def floor_year(t, population, count, amount, beta, fertility, migration, start_share, prices, wages, gdp,
               average_wage0, poverty_line, eligible, take_up, rules, tested, level, beneficiaries, cost):
    """Floor of year t (writes level, beneficiaries and cost [t, b] for every benefit b).

    Pension tests work on persons: the tested scheme pensions of a cell fall into groups held
    independently of each other (PENSION_GROUPS: own pensions, old-age or invalidity, which exclude
    each other; widow(er)s'; orphans'), each group's share of the population capped at 1. A share
    prod_g (1 - s_g) of the cell has no tested pension; under top_up, the persons holding the groups
    of a subset G (probability prod_{g in G} s_g prod_{g not in G} (1 - s_g)) receive
    max(A - sum_{g in G} average_g, 0)."""
    n_benefits = eligible.shape[0]
    n_ages = population.shape[2]
    n_pensions = count.shape[1]
    total = 0.0
    for s in range(2):
        for x in range(n_ages):
            total += population[t, s, x] + population[t + 1, s, x]
    gdp_per_capita = gdp / (0.5 * total)
    factor = 1.0 + beta[t]
    for b in range(n_benefits):
        rule = rules[b]
        paid_level = benefit_level(t, rule, prices, wages, gdp_per_capita, average_wage0, poverty_line)
        test = int(rule[TEST])
        people = 0.0
        paid = 0.0
        if rule[MATERNITY] > 0:
            for x in range(1, n_ages):  # births by the mother's age, as in the population kernel
                exposure = 0.5 * (population[t, 1, x] + start_share * migration[t, 1, x] + population[t + 1, 1, x]
                                  - (1.0 - start_share) * migration[t, 1, x])
                people += fertility[t, x] * exposure * eligible[b, 1, x]
            paid = people * paid_level
        else:
            for s in range(2):
                for x in range(n_ages):
                    share = eligible[b, s, x]
                    resident = 0.5 * (population[t, s, x] + population[t + 1, s, x])
                    if share <= 0.0 or resident <= 0.0:
                        continue
                    if test == 0:
                        people += resident * share
                        paid += resident * share * paid_level
                        continue
                    # persons (share of the cell) and average pension per group: own, widow(er), orphan
                    own = widow = orphan = 0.0
                    own_amount = widow_amount = orphan_amount = 0.0
                    for k in range(n_pensions):
                        if tested[b, k] <= 0.0:
                            continue
                        n = 0.5 * (count[t, k, s, x] + count[t + 1, k, s, x])
                        m = 0.5 * (amount[t, k, s, x] * factor + amount[t + 1, k, s, x])
                        if k <= 1:
                            own += n
                            own_amount += m
                        elif k == 2:
                            widow += n
                            widow_amount += m
                        else:
                            orphan += n
                            orphan_amount += m
                    s0 = min(own / resident, 1.0)
                    s1 = min(widow / resident, 1.0)
                    s2 = min(orphan / resident, 1.0)
                    none = (1.0 - s0) * (1.0 - s1) * (1.0 - s2)
                    people += resident * share * none
                    paid += resident * share * none * paid_level
                    if test == 1:
                        continue
                    a0 = own_amount / own if own > 0.0 else 0.0
                    a1 = widow_amount / widow if widow > 0.0 else 0.0
                    a2 = orphan_amount / orphan if orphan > 0.0 else 0.0
                    for subset in range(1, 8):
                        if (subset & 1 and s0 <= 0.0) or (subset & 2 and s1 <= 0.0) or (subset & 4 and s2 <= 0.0):
                            continue
                        probability = (s0 if subset & 1 else 1.0 - s0) * (s1 if subset & 2 else 1.0 - s1) \
                            * (s2 if subset & 4 else 1.0 - s2)
                        pension = (a0 if subset & 1 else 0.0) + (a1 if subset & 2 else 0.0) \
                            + (a2 if subset & 4 else 0.0)
                        if probability > 0.0 and pension < paid_level:
                            people += resident * share * probability
                            paid += resident * share * probability * (paid_level - pension)
        level[t, b] = paid_level
        beneficiaries[t, b] = people * take_up[t, b]
        cost[t, b] = paid * take_up[t, b] * (1.0 + rule[ADMIN])


@numba.njit(cache=True, nogil=True)  # releases the GIL: run on a second thread beside the results' Python
def floor_kernel(population, count, amount, beta, fertility, migration, start_share, prices, wages, gdp,
                 average_wage0, poverty_line, eligible, take_up, rules, tested, level, beneficiaries, cost):
    """Every projection year of the floor (gdp[year] given)."""
    for t in range(gdp.shape[0]):
        floor_year(t, population, count, amount, beta, fertility, migration, start_share, prices, wages, gdp[t],
                   average_wage0, poverty_line, eligible, take_up, rules, tested, level, beneficiaries, cost)
