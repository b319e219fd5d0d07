"""Scheme kernels of the component method (docs/methodology.md §4-6): insured transitions, pensions in
payment, finance. Plain float64 arrays; index conventions:

    t       projection year 0..T-1 (stocks: 0..T, index t = 1 January of year t)
    s       sex, 0 male, 1 female
    a       insured age index, age x = min_age + a (insured arrays)
    x       full age index 0..max_age (pensions, survivors; the last is an open group)
    k       completed years of credited service 0..K-1 (the last is capped)
    b       benefit: 0 old_age, 1 invalidity, 2 widow, 3 orphan

State of the insured, per cell (sex, age, completed service k), for actives and inactive insured:
the head count, the refund balances (contributions to refund with interest), the sum over heads of
the exact credited service (years) and the sum over heads of the accrued pension units (shares of
reference earnings). k is the eligibility clock (vesting, invalidity and exit vesting compare the
completed service at 1 January of the year with the requirement of the year); benefits use the
cell's mean units and exact service.

Service and accrual conventions:
- Initial insured with k completed years at 1 January t0 have k + 1/2 exact years (uniform within
  the year), times the past-service credit; their units are accrual_t0(service) (unless the inputs
  record each cell's service and units: ``initial.credited_service``, a valuation rolled forward).
- Service credited in year t earns accrual_t(s + credit) - accrual_t(s) units at the schedule in
  force that year (accrual by year of accrual): a change of the schedule applies to service earned
  from its year on, service already earned keeps its rate. The increment of a cell is taken at the
  cell's mean exact service.
- Stayers move from service k to k+1 with probability d_x (credit density: the whole year is
  credited, exact service + 1) and keep k otherwise (no service that year).
- Mid-year convention: new entrants join at mid-year and are credited half a year at the credit
  density (0.5 d); actives leaving during the year (death, retirement, invalidity, exit) leave at
  mid-year and are credited the half year they worked (0.5 d). A person entering at 20 and retiring
  at 65 with full density has 45 years of service. Benefits at an award (old age, invalidity, the
  survivors of an active, grants) use the units and exact service at the award; deferred pensions
  and grants of inactive insured those at exit.
- Invalidity pensions add the future service to the normal retirement age times
  ``future_service_fraction``, valued at the schedule of the award year.
- Accrued-to-date runs (``accrue`` False): members keep advancing k (eligibility counts the service
  they go on earning, as the projected-unit-credit method does) but earn no service, units,
  invalidity future-service credit or refund contributions after the valuation date; refund
  balances earn interest only. A member with 10 of 15 vesting years who stays gets a pension on
  10.5 years (the service at the valuation date) once vested.

Timing conventions:
- Decrements of actives during year t, by age x at 1 January t, in this order: death q; then
  retirement r among survivors (vested and reaching at least the early retirement age during the
  year, i.e. x + 1 >= ERA; r = 1 at max_retirement_age; non-vested actives reaching the normal
  retirement age leave with a grant); then invalidity i (only with the invalidity vesting
  service); then exit w. Leavers contribute for half of the year.
- Exits (``exit_benefit``): deferred (0) leavers become inactive insured with their credits;
  refund (1) leavers without ``exit_vesting`` years are paid their refund balance at mid-year and
  leave the scheme; none (2) leavers without ``exit_vesting`` years leave with nothing. Leavers with
  ``exit_vesting`` years keep deferred rights. Extra exits of the residual method (actives above the
  target) leave at the end of the year under the same rule (refunds paid as a flow of the year).
- Inactive insured die, re-enter active service with their credits at rate ρ (end of year), and on
  reaching the normal retirement age take a deferred pension (vested) or a grant.
- New entrants are tabulated by their age at the end of the year (the age at which they first
  appear in the stock), with k = 0.
- Pensions: indexation β_t on 1 January; deaths, awards, remarriages at mid-year (half a year of
  payment; a widow(er) who remarries is paid half a year in that year); survivors' pensions start
  at the death (half a year in the year of death); the age of a flow is the age at 1 January of
  the year.
- Survivors of a death at age x of sex s: P(married) widow(er)s of the other sex aged
  x + spouse age difference, and the expected number of orphans at their mean age (half of each
  sex), with shares of the deceased's pension scaled down together to the cap.
"""

import numba
import numpy as np
from numba.core.compiler import Compiler

OLD_AGE, INVALIDITY, WIDOW, ORPHAN = 0, 1, 2, 3
# what leavers keep (scheme.exit_benefit)
EXIT_DEFERRED, EXIT_REFUND, EXIT_NONE = 0, 1, 2
EXIT_CODES = {"deferred": EXIT_DEFERRED, "refund": EXIT_REFUND, "none": EXIT_NONE}
# columns of the insured kernel's per-class shares of a cell's actives: retiring, becoming invalid,
# leaving, staying with a year's credit, staying without, exposure (the year's share in service) and
# whether the class moves anyone to the next age (1.0 or 0.0)
RETIRE, INVALID, EXIT, STAY_CREDITED, STAY_UNCREDITED, EXPOSED, MOVES = 0, 1, 2, 3, 4, 5, 6
# planes of a cell of the insured kernel's stocks (NEXT planes side by side for each sex, age and service);
# its working space holds this year's stocks and next year's: WORK_PLANES x (sex, age, service) numbers
ACTIVE, INACTIVE, BALANCE, INACTIVE_BALANCE, SERVICE, INACTIVE_SERVICE, UNITS, INACTIVE_UNITS, NEXT = range(9)
WORK_PLANES = 2 * NEXT


class _NoAliasCompiler(Compiler):
    """Numba's compiler with every array argument of the function marked ``noalias`` (during a call its memory is
    reached through that argument alone), so that LLVM may run its loops on vectors without checking that the
    arrays overlap. Only for functions whose callers pass arrays that do not overlap."""

    def __init__(self, typingctx, targetctx, library, args, return_type, flags, locals):
        flags = flags.copy()
        flags.noalias = True
        super().__init__(typingctx, targetctx, library, args, return_type, flags, locals)


def insured_stock(work, years):
    """The insured kernel's stocks at 1 January t0 + ``years`` from its working space ``work`` after a run of
    ``years`` years: an array (sex, age, service, plane) with the planes ACTIVE ... INACTIVE_UNITS."""
    n_ages, n_service = work.shape[-2], work.shape[-1]
    return work.reshape((2, 2, n_ages, n_service, NEXT))[years % 2]

@numba.njit(cache=True, inline="always")
def accrued_share(accrual, service):
    """accrual(service) for a fractional service, linear between completed years, flat beyond."""
    top = accrual.size - 1
    if service >= top:
        return accrual[top]
    if service <= 0.0:
        return accrual[0]
    k = int(service)
    return accrual[k] + (service - k) * (accrual[k + 1] - accrual[k])


@numba.njit(cache=True, inline="always")
def accrual_gain(slopes, service, credit):
    """accrual(service + credit) - accrual(service) for 0 <= credit <= 1, with ``slopes[j]`` = accrual(j + 1) -
    accrual(j) (0 from the schedule's last point on, two zeros past it): the units a credit earns."""
    j = min(int(service), slopes.size - 2)
    f = service - j
    first = min(credit, 1.0 - f)   # the part of the credit within year j of service, the rest in year j + 1
    return first * slopes[j] + (credit - first) * slopes[j + 1]


@numba.njit(cache=True, inline="always")
def progressive_earnings(reference, bends, rates):
    """The earnings base of the benefit formula: reference earnings R itself without bend points (``bends``
    empty), otherwise sum_i rates[i] x (the part of R between bends[i-1] and bends[i]), with bends[-1] = 0
    and bends[n] = infinity (e.g. 90% up to the first bend point, 32% to the second, 15% above)."""
    n = bends.size
    if n == 0:
        return reference
    total = 0.0
    low = 0.0
    for i in range(n):
        high = bends[i]
        if reference <= high:
            return total + rates[i] * (reference - low)
        total += rates[i] * (high - low)
        low = high
    return total + rates[n] * (reference - low)


@numba.njit(cache=True, inline="always")
def first_service_at_least(requirement, cap):
    """The lowest completed service k >= 0 with k >= ``requirement`` (years, possibly fractional or
    infinite), at most ``cap``."""
    if requirement <= 0.0:
        return 0
    if requirement >= cap:
        return cap
    k = int(requirement)
    return k if k >= requirement else k + 1


@numba.njit(cache=True, inline="always")
def award_on_base(units, service, earnings_base, adjustment, flat, flat_service, minimum, maximum):
    """:func:`award_amount` given the earnings base progressive_earnings(R) (the same for a row's cells)."""
    part = 1.0
    if flat_service > 0.0 and service < flat_service:
        part = service / flat_service if service > 0.0 else 0.0
    formula = adjustment * (flat * part + units * earnings_base)
    pension = formula
    if pension < minimum:
        pension = minimum
    if pension > maximum:
        pension = maximum
    top_up = pension - formula
    if top_up < 0.0:
        top_up = 0.0
    return pension, top_up


@numba.njit(cache=True, inline="always")
def award_amount(units, service, reference, adjustment, flat, flat_service, bends, rates, minimum, maximum):
    """Annual pension at award and the minimum-pension top-up included in it (currency a year):

        formula = adjustment x (flat x min(1, service / flat_service) + units x progressive_earnings(R))
        pension = min(max(formula, minimum), maximum),   top_up = max(pension - formula, 0)

    ``units``: accrued units (shares of the earnings base), ``service``: exact credited service (years),
    ``adjustment``: early-retirement reduction or late-retirement increment, ``flat``: the flat-rate pension
    of the year (prorated over ``flat_service`` years; 0: paid in full). One implementation for the
    projection's awards and the stylized careers (:mod:`actuary.adequacy`)."""
    return award_on_base(units, service, progressive_earnings(reference, bends, rates), adjustment, flat,
                         flat_service, minimum, maximum)


@numba.njit(cache=True, inline="always")
def reaching_share(reached, age):
    """Share of a cell aged x at 1 January (``reached`` = x + 1 during the year, birthdays uniform over the
    year) who are at least ``age`` by the end of the year: clip(reached + 1 - age, 0, 1) (1 from the year
    in which they reach a whole age, a twelfth less for each month above it)."""
    share = reached + 1.0 - age
    if share < 0.0:
        return 0.0
    if share > 1.0:
        return 1.0
    return share


@numba.njit(cache=True, inline="always")
def retirement_adjustment(age_reached, normal_age, early_reduction, late_increment):
    """1 - reduction per year before the normal retirement age, 1 + increment per year after it."""
    if age_reached < normal_age:
        adjustment = 1.0 - early_reduction * (normal_age - age_reached)
        return adjustment if adjustment > 0.0 else 0.0
    return 1.0 + late_increment * (age_reached - normal_age)


@numba.njit(cache=True, inline="always")
def _spread(counts, amounts, t, b, s, age, count, amount):
    """Add count/amount at a fractional age, split linearly between the two neighbouring ages."""
    n_ages = counts.shape[3]
    if age < 0.0:
        age = 0.0
    if age > n_ages - 1:
        age = n_ages - 1.0
    low = int(age)
    high_weight = age - low
    counts[t, b, s, low] += count * (1.0 - high_weight)
    amounts[t, b, s, low] += amount * (1.0 - high_weight)
    if high_weight > 0.0:
        counts[t, b, s, low + 1] += count * high_weight
        amounts[t, b, s, low + 1] += amount * high_weight


@numba.njit(cache=True)
def award_all_survivors(awards_count, awards_amount, t, deaths, pensions, married, difference, orphans, orphan_age,
                        shares):
    """Survivors' awards of year t for deaths[s, x] of sex s at full age index x whose pensions (or the
    invalidity pensions actives would have had) add up to pensions[s, x] a year.

    married/difference/orphans/orphan_age[s, x]: probability married, spouse age - deceased age,
    expected orphans, orphans' mean age; shares: widow share, orphan share, cap on total shares,
    orphan age limit. Awards are linear in deaths and pensions, so cells may be aggregated: one call
    per year, with the per-cell work written out in the loop (a Numba call per cell, with its
    array arguments, costs twenty times the work it does)."""
    orphan_top = shares[3] - 1.0
    for s in range(2):
        for x in range(deaths.shape[1]):
            dead = deaths[s, x]
            paid = pensions[s, x]
            if dead <= 0.0 or paid <= 0.0:
                continue
            p_married = married[s, x]
            n_orphans = orphans[s, x]
            if p_married <= 0.0 and n_orphans <= 0.0:
                continue
            total = p_married * shares[0] + n_orphans * shares[1]
            factor = 1.0
            if total > shares[2] and total > 0.0:
                factor = shares[2] / total
            if p_married > 0.0:
                _spread(awards_count, awards_amount, t, WIDOW, 1 - s, x + difference[s, x], dead * p_married,
                        paid * p_married * shares[0] * factor)
            if n_orphans > 0.0:
                age = orphan_age[s, x]
                if age > orphan_top:
                    age = orphan_top
                for sex in range(2):
                    _spread(awards_count, awards_amount, t, ORPHAN, sex, age, 0.5 * dead * n_orphans,
                            0.5 * paid * n_orphans * shares[1] * factor)


@numba.njit(cache=True)
def _service_bounds(stock, bound):
    """bound[s, a] = highest service index holding any active or inactive insured of ``stock[s, a, k, plane]``
    (-1 if none); returns the highest occupied age index (-1 if none)."""
    highest = -1
    for s in range(2):
        for a in range(stock.shape[1]):
            bound[s, a] = -1
            for k in range(stock.shape[2] - 1, -1, -1):
                if stock[s, a, k, ACTIVE] != 0.0 or stock[s, a, k, INACTIVE] != 0.0:
                    bound[s, a] = k
                    break
            if bound[s, a] >= 0 and a > highest:
                highest = a
    return highest


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz", "arcp"})
def insured_kernel(active0, inactive0, balance_active0, balance_inactive0, service_active0, service_inactive0,
                   units_active0, units_inactive0, target, entrants_in, residual_method, max_entry_age,
                   entrants_allowed, accrue, q_active, q_inactive, exit_rate, retire_rate, invalidity_rate,
                   reentry_rate, credit_density, contribution_density, salary, reference,
                   early_age, normal_age, max_retirement_age, min_age,
                   accrual, vesting, invalidity_vesting, future_service_fraction,
                   early_reduction, late_increment, minimum, maximum, flat, flat_service, bends, bend_rates,
                   refund, grant_multiple, refund_rate, refund_interest, exit_benefit, exit_vesting,
                   married, difference, orphans, orphan_age, shares,
                   active_out, inactive_out, new_entrants, active_deaths, retirements, exits, withdrawals, invalidity,
                   inactive_deaths, inactive_retirements, reentries, awards_count, awards_amount, awards_top_up,
                   wage_bill, contributors, grants, grant_count, exit_refunds, work):
    """Actives and inactive insured by (sex, age, service); awards (old age, invalidity, survivors of
    active deaths) on the full age grid; grants (a multiple of reference earnings per year of
    service, or the refund of contributions at ``refund_rate`` accumulated with interest, tracked
    as balances per cell) and refunds at exit.

    ``*0``: initial heads, refund balances, exact service (sum over heads, years) and accrued units
    (sum over heads, shares of reference earnings) by (sex, age, service). ``accrual[year, service]``:
    the accrual schedule in force each year. Provisions by year: ``vesting``, ``invalidity_vesting``,
    ``future_service_fraction``, ``early_reduction``, ``late_increment``, ``grant_multiple``,
    ``exit_vesting`` (years of service, shares, currency multiples). ``early_age[t, s, a]``,
    ``normal_age[t, s, a]``: the retirement ages of the cell (by year, or by cohort t - (x + 1)); a share
    :func:`reaching_share` of the cell reaches a fractional age during the year. Benefit formula
    (:func:`award_amount`): ``flat[t]`` flat-rate pension, prorated over ``flat_service`` years,
    ``bends[t, i]`` bend points (currency, none: the earnings base is reference earnings) and
    ``bend_rates[i]``. ``awards_top_up`` (size 0: not tracked): the minimum-pension top-up included in
    ``awards_amount``, same layout. ``max_entry_age``: the residual method's oldest entrant, by age at the end of the
    year (min_age + a; inf: no limit): the gap of an older cell is left (no entrants), a negative gap still gives the
    extra exits (the growth method's ``entrants_in`` are checked against it with the inputs). ``accrue`` False: the
    accrued-to-date run (see the module docstring). ``exit_benefit``: EXIT_DEFERRED, EXIT_REFUND or
    EXIT_NONE. Outputs by year: ``exits`` (every active leaving by exit, including the residual
    method's extra exits), ``withdrawals`` (those of them leaving the scheme with a refund or
    nothing), ``exit_refunds`` (refunds paid to them, also in ``grants``).

    ``work``: scratch space (WORK_PLANES, 2, ages, service) for this year's and next year's stocks,
    passed in so that a batch of runs allocates it once; read the stocks with :func:`insured_stock`.

    Speed: the cells of a row are visited in short passes (means and credits, pensions of invalidity and
    retirement, flows) over spans of one class; sums may be reassociated (``fastmath`` without the
    finite-math assumptions: results agree with the NumPy reference to rounding). Rows without actives or
    inactive insured are skipped (their flows written as zeros); the stocks are indexed, never sliced, in the
    loops (a view of an array costs two atomic reference-count updates, about a tenth of the run)."""
    n_years = q_active.shape[0]
    n_ages = active0.shape[1]
    n_service = active0.shape[2]
    top = n_service - 1
    lo = int(min_age)
    stocks = work.reshape((2, 2, n_ages, n_service, NEXT))  # a cell's eight planes side by side
    cur = stocks[0]
    nxt = stocks[1]
    for s in range(2):
        for a in range(n_ages):
            for k in range(n_service):
                cur[s, a, k, ACTIVE] = active0[s, a, k]
                cur[s, a, k, INACTIVE] = inactive0[s, a, k]
                cur[s, a, k, BALANCE] = balance_active0[s, a, k]
                cur[s, a, k, INACTIVE_BALANCE] = balance_inactive0[s, a, k]
                cur[s, a, k, SERVICE] = service_active0[s, a, k]
                cur[s, a, k, INACTIVE_SERVICE] = service_inactive0[s, a, k]
                cur[s, a, k, UNITS] = units_active0[s, a, k]
                cur[s, a, k, INACTIVE_UNITS] = units_inactive0[s, a, k]
    nxt[:] = 0.0
    track = refund or exit_benefit == EXIT_REFUND  # refund balances kept
    step = 1.0 if accrue else 0.0                  # exact service of a credited year
    slopes = np.zeros(n_service + 1)               # this year's accrual per year of service (see accrual_gain)
    bound = np.empty((2, n_ages), dtype=np.int64)
    bound_next = np.empty((2, n_ages), dtype=np.int64)
    n_full = awards_count.shape[3]
    top_ups = awards_top_up.size > 0        # the minimum-pension top-up is tracked (paid by the state)
    vested_deaths = np.zeros((2, n_full))   # deaths of actives carrying survivors' benefits, this year
    vested_pensions = np.zeros((2, n_full))
    vested_top_ups = np.zeros((2, n_full))
    top_up_counts = np.zeros((n_years if top_ups else 0, 4, 2, n_full))  # survivors' counts, discarded
    share = np.empty((4, 7))   # per class of cell (columns RETIRE ... MOVES)
    total = np.empty(4)        # heads per class of cell, this row
    arrive_act = np.empty((2, n_ages))  # actives / inactive insured at the end of the year, by age
    arrive_ina = np.empty((2, n_ages))
    mean_service = np.empty(n_service)  # per head in this row's cells: exact service and units at 1 January,
    mean_units = np.empty(n_service)    # units earned by mid-year and over the year
    mid_gain = np.empty(n_service)
    year_gain = np.empty(n_service)
    occupied = _service_bounds(cur, bound)
    here, there = 0, 1  # stocks[here]: this year's, stocks[there]: next year's (indices, not views: a view made in
    # the loops costs two atomic reference-count updates)
    for s in range(2):
        for a in range(n_ages):
            tot_a = 0.0
            tot_i = 0.0
            for k in range(n_service):
                tot_a += cur[s, a, k, ACTIVE]
                tot_i += cur[s, a, k, INACTIVE]
            active_out[0, s, a] = tot_a
            inactive_out[0, s, a] = tot_i
    for t in range(n_years):
        bill = 0.0
        heads = 0.0
        lump = 0.0
        lump_count = 0.0
        refunded = 0.0
        bound_next[:] = -1
        arrive_act[:] = 0.0
        arrive_ina[:] = 0.0
        vested_deaths[:] = 0.0
        vested_pensions[:] = 0.0
        vested_top_ups[:] = 0.0
        growth = 1.0 + refund_interest[t]
        half_growth = growth ** 0.5
        schedule = accrual[t]
        for j in range(top):
            slopes[j] = schedule[j + 1] - schedule[j]
        vest = vesting[t]
        invalidity_vest = invalidity_vesting[t]
        exit_vest = exit_vesting[t]
        grant_rate = grant_multiple[t]
        contribution_share = refund_rate[t] if accrue else 0.0
        flat_t = flat[t]
        bends_t = bends[t]
        floor_t = minimum[t]
        cap_t = maximum[t]
        for s in range(2):
            for a in range(occupied + 1):
                last = bound[s, a]
                if last < 0:  # no actives or inactive insured: no flows, and next year's row gets nothing from it
                    active_deaths[t, s, a] = 0.0
                    retirements[t, s, a] = 0.0
                    invalidity[t, s, a] = 0.0
                    exits[t, s, a] = 0.0
                    withdrawals[t, s, a] = 0.0
                    inactive_deaths[t, s, a] = 0.0
                    inactive_retirements[t, s, a] = 0.0
                    reentries[t, s, a] = 0.0
                    continue
                x = lo + a
                era = early_age[t, s, a]
                nra = normal_age[t, s, a]
                reached = min_age + a + 1.0
                q = q_active[t, s, a]
                i_rate = invalidity_rate[t, s, a]
                w = exit_rate[t, s, a]
                d = credit_density[t, s, a]
                half = 0.5 * d if accrue else 0.0  # service credited to those leaving at mid-year
                pay = salary[t, s, a] * contribution_density[t, s, a]
                ref = reference[t, s, a]
                premium = contribution_share * pay
                if reached >= max_retirement_age:
                    r_vested = 1.0
                    r_other = 1.0
                else:
                    r_vested = retire_rate[t, s, a] * reaching_share(reached, era)
                    r_other = reaching_share(reached, nra)
                at_retirement_age = r_other  # share of the inactive insured reaching the normal retirement age
                adjustment = retirement_adjustment(reached, nra, early_reduction[t], late_increment[t])
                future = nra - reached
                if future < 0.0 or not accrue:
                    future = 0.0
                future *= future_service_fraction[t]
                advance = a + 1 < n_ages
                retiring = r_vested > 0.0 or r_other > 0.0
                # Each decrement takes a fixed share of a cell's actives, by class c = 2 vested +
                # eligible for invalidity: death q, then retirement, invalidity, exit among survivors.
                # Cell flows are those shares times the head count (no divisions, short dependency
                # chains); sums over cells are taken per class and multiplied once per row.
                for c in range(4):
                    vested = c >= 2
                    r = r_vested if vested else r_other
                    alive = 1.0 - q
                    retired = alive * r
                    rest = alive - retired
                    invalid = rest * i_rate if c % 2 == 1 else 0.0
                    rest -= invalid
                    left = rest * w
                    stay = rest - left
                    share[c, RETIRE] = retired
                    share[c, INVALID] = invalid
                    share[c, EXIT] = left
                    share[c, STAY_CREDITED] = stay * d
                    share[c, STAY_UNCREDITED] = stay * (1.0 - d)
                    share[c, EXPOSED] = 1.0 - 0.5 * (q + retired + invalid + left)
                    share[c, MOVES] = 1.0 if advance and (stay > 0.0 or left > 0.0) else 0.0
                    total[c] = 0.0
                retire_pensions = 0.0  # sum of heads x old-age pension, vested cells (retirement ages)
                retire_top = 0.0       # the minimum-pension top-ups in retire_pensions
                balances_0 = 0.0       # refund balances, non-vested cells
                service_0 = 0.0        # heads x service at mid-year, non-vested cells
                deferred = 0.0         # leavers keeping deferred rights
                withdrawn = 0.0        # leavers leaving the scheme (refund or nothing)
                mid_growth = 0.5 * premium * (half_growth + 1.0)  # contributions of the year to year end
                mid_half = 0.5 * premium * half_growth            # contributions to mid-year, carried to year end
                # inactive insured: mortality; deferred pension or grant at retirement age; re-entry
                qi = q_inactive[t, s, a]
                rho = reentry_rate[t, s, a]
                alive_i = 1.0 - qi
                retiring_i = alive_i * at_retirement_age
                stay_out = (alive_i - retiring_i) * (1.0 - rho)
                back_in = (alive_i - retiring_i) * rho
                moving_i = advance and alive_i - retiring_i > 0.0
                heads_i = 0.0
                deferred_n = 0.0   # deferred pensions of inactive insured reaching retirement age
                deferred_m = 0.0
                deferred_top = 0.0
                # The row's cells in passes with few live values each (the processor overlaps many cells of
                # a short loop, few of a long one): (1) each cell's mean exact service and units and the units
                # a credit earns; (2) the pensions of those becoming invalid (eligible cells) and, in rows
                # reaching a retirement age, of those retiring; (3) the flows, writing each cell (a + 1, k)
                # of next year once (stores, not updates): actives = credited stayers of cell k - 1 (carried
                # from the previous cell) + uncredited stayers and re-entrants of cell k; inactive = leavers
                # of cell k keeping deferred rights + inactive of cell k staying out. The cells fall into at
                # most three spans of one class each (service below both vesting requirements, between
                # them, at or above both): within a span the class's shares are scalars and its sums stay
                # in registers.
                to_age = a + 1 if advance else a  # cells: stocks[here, s, a]; next year's: stocks[there, s, to_age]
                earnings_base = progressive_earnings(ref, bends_t, bend_rates)
                k_vest = first_service_at_least(vest, last + 1)
                k_invalidity = first_service_at_least(invalidity_vest, last + 1)
                k_exit = 0 if exit_benefit == EXIT_DEFERRED else first_service_at_least(exit_vest, last + 1)
                # (1) per head: exact service and units at 1 January, units earned by mid-year and over the year
                for k in range(last + 1):
                    ku = np.uint64(k)  # an unsigned index: no wraparound test for negative indices
                    n = stocks[here, s, a, ku, ACTIVE]
                    per_head = 1.0 / n if n != 0.0 else 0.0
                    mean_service[ku] = stocks[here, s, a, ku, SERVICE] * per_head
                    mean_units[ku] = stocks[here, s, a, ku, UNITS] * per_head
                for k in range(last + 1):
                    ku = np.uint64(k)  # an unsigned index: no wraparound test for negative indices
                    if accrue:
                        mid_gain[ku] = accrual_gain(slopes, mean_service[ku], half)
                        year_gain[ku] = accrual_gain(slopes, mean_service[ku], 1.0)
                    else:
                        mid_gain[ku] = 0.0
                        year_gain[ku] = 0.0
                # (2) sums of heads x invalidity pension (and its minimum-pension top-up) of eligible cells, not
                # vested (class 1: disabled_0) and vested (class 3: disabled_1)
                disabled_0 = 0.0
                disabled_1 = 0.0
                disabled_top_0 = 0.0
                disabled_top_1 = 0.0
                for part in range(2):
                    k_from = k_invalidity if part == 0 else max(k_invalidity, k_vest)
                    k_to = max(k_invalidity, k_vest) if part == 0 else last + 1
                    pensions = 0.0
                    top_ups_sum = 0.0
                    for k in range(k_from, k_to):
                        ku = np.uint64(k)  # an unsigned index: no wraparound test for negative indices
                        n = stocks[here, s, a, ku, ACTIVE]
                        service_mid = mean_service[ku] + half
                        units_disabled = mean_units[ku] + mid_gain[ku]
                        if future > 0.0:
                            units_disabled += (accrued_share(schedule, service_mid + future)
                                               - accrued_share(schedule, service_mid))
                        disability, extra = award_on_base(units_disabled, service_mid + future, earnings_base,
                                                          1.0, flat_t, flat_service, floor_t, cap_t)
                        pensions += n * disability
                        top_ups_sum += n * extra
                    if part == 0:
                        disabled_0 = pensions
                        disabled_top_0 = top_ups_sum
                    else:
                        disabled_1 = pensions
                        disabled_top_1 = top_ups_sum
                if retiring:  # old-age pensions of vested actives, grants of the others
                    for k in range(last + 1):
                        ku = np.uint64(k)  # an unsigned index: no wraparound test for negative indices
                        n = stocks[here, s, a, ku, ACTIVE]
                        if n != 0.0:
                            if k >= k_vest:
                                pension, extra = award_on_base(mean_units[ku] + mid_gain[ku], mean_service[ku] + half,
                                                               earnings_base, adjustment, flat_t, flat_service,
                                                               floor_t, cap_t)
                                retire_pensions += n * pension
                                retire_top += n * extra
                            else:
                                service_0 += stocks[here, s, a, ku, SERVICE] + n * half
                                if refund:
                                    balances_0 += stocks[here, s, a, ku, BALANCE]
                if retiring_i > 0.0:  # deferred pensions of vested inactive insured, grants of the others
                    for k in range(last + 1):
                        ku = np.uint64(k)  # an unsigned index: no wraparound test for negative indices
                        m = stocks[here, s, a, ku, INACTIVE]
                        if m != 0.0:
                            if k >= k_vest:
                                pension, extra = award_on_base(stocks[here, s, a, ku, INACTIVE_UNITS] / m,
                                                               stocks[here, s, a, ku, INACTIVE_SERVICE] / m,
                                                               earnings_base, 1.0, flat_t, flat_service, floor_t, cap_t)
                                deferred_n += retiring_i * m
                                deferred_m += retiring_i * m * pension
                                deferred_top += retiring_i * m * extra
                            else:
                                lump += retiring_i * (stocks[here, s, a, ku, INACTIVE_BALANCE] * half_growth if refund
                                                      else grant_rate * ref * stocks[here, s, a, ku, INACTIVE_SERVICE])
                                lump_count += retiring_i * m
                # (3) the flows, span by span
                carry_n = 0.0
                carry_service = 0.0
                carry_units = 0.0
                carry_balance = 0.0
                written = -1
                first_split = min(k_vest, k_invalidity)
                second_split = max(k_vest, k_invalidity)
                for span in range(3):
                    if span == 0:
                        k_from, k_to, c = 0, first_split, 0
                    elif span == 1:
                        k_from, k_to, c = first_split, second_split, (1 if k_invalidity < k_vest else 2)
                    else:
                        k_from, k_to, c = second_split, last + 1, 3
                    if k_from >= k_to:
                        continue
                    moves = share[c, MOVES] > 0.0
                    credited = share[c, STAY_CREDITED]
                    uncredited = share[c, STAY_UNCREDITED]
                    leaving = share[c, EXIT]
                    span_heads = 0.0
                    for k in range(k_from, k_to):
                        ku = np.uint64(k)  # an unsigned index: no wraparound test for negative indices
                        n = stocks[here, s, a, ku, ACTIVE]
                        held = stocks[here, s, a, ku, BALANCE]
                        served = stocks[here, s, a, ku, SERVICE]
                        earned = stocks[here, s, a, ku, UNITS]
                        m = stocks[here, s, a, ku, INACTIVE]
                        m_held = stocks[here, s, a, ku, INACTIVE_BALANCE]
                        m_served = stocks[here, s, a, ku, INACTIVE_SERVICE]
                        m_earned = stocks[here, s, a, ku, INACTIVE_UNITS]
                        for plane in range(NEXT):  # read once: cleared to serve as next year's empty buffer
                            stocks[here, s, a, ku, plane] = 0.0
                        to_n = carry_n
                        to_service = carry_service
                        to_units = carry_units
                        to_balance = carry_balance
                        carry_n = 0.0
                        carry_service = 0.0
                        carry_units = 0.0
                        carry_balance = 0.0
                        out_n = 0.0
                        out_service = 0.0
                        out_units = 0.0
                        out_balance = 0.0
                        if n != 0.0:
                            span_heads += n
                            if moves:
                                carried = held * growth
                                up_n = n * credited
                                up_service = credited * (served + n * step)
                                up_units = credited * (earned + n * year_gain[ku])
                                up_balance = credited * (carried + n * mid_growth)
                                if k < top:
                                    carry_n = up_n
                                    carry_service = up_service
                                    carry_units = up_units
                                    carry_balance = up_balance
                                else:  # the last service index is capped
                                    to_n += up_n
                                    to_service += up_service
                                    to_units += up_units
                                    to_balance += up_balance
                                to_n += n * uncredited
                                to_service += uncredited * served
                                to_units += uncredited * earned
                                to_balance += uncredited * (carried + n * mid_growth)
                                if leaving > 0.0:
                                    if k >= k_exit:
                                        out_n += n * leaving
                                        out_service += leaving * (served + n * half)
                                        out_units += leaving * (earned + n * mid_gain[ku])
                                        out_balance += leaving * (carried + n * mid_half)
                                        deferred += n * leaving
                                    else:
                                        withdrawn += n * leaving
                                        if exit_benefit == EXIT_REFUND:
                                            refunded += leaving * (held * half_growth + n * 0.5 * premium)
                        if m != 0.0:
                            heads_i += m
                            if moving_i:
                                out_n += m * stay_out
                                out_service += stay_out * m_served
                                out_units += stay_out * m_earned
                                out_balance += stay_out * m_held * growth
                                to_n += m * back_in
                                to_service += back_in * m_served
                                to_units += back_in * m_earned
                                to_balance += back_in * m_held * growth
                        if advance:
                            stocks[there, s, to_age, ku, ACTIVE] = to_n
                            stocks[there, s, to_age, ku, SERVICE] = to_service
                            stocks[there, s, to_age, ku, UNITS] = to_units
                            stocks[there, s, to_age, ku, INACTIVE] = out_n
                            stocks[there, s, to_age, ku, INACTIVE_SERVICE] = out_service
                            stocks[there, s, to_age, ku, INACTIVE_UNITS] = out_units
                            if track:
                                stocks[there, s, to_age, ku, BALANCE] = to_balance
                                stocks[there, s, to_age, ku, INACTIVE_BALANCE] = out_balance
                            if to_n != 0.0 or out_n != 0.0:
                                written = k
                    total[c] = span_heads
                if advance and carry_n != 0.0:  # the credited stayers of the row's last cell
                    stocks[there, s, to_age, last + 1, ACTIVE] = carry_n
                    stocks[there, s, to_age, last + 1, SERVICE] = carry_service
                    stocks[there, s, to_age, last + 1, UNITS] = carry_units
                    if track:
                        stocks[there, s, to_age, last + 1, BALANCE] = carry_balance
                    written = last + 1
                heads_0 = total[0] + total[1]
                heads_1 = total[2] + total[3]
                exposure = 0.0
                exit_sum = 0.0
                moved_act = 0.0
                for c in range(4):
                    exposure += total[c] * share[c, EXPOSED]
                    exit_sum += total[c] * share[c, EXIT]
                    moved_act += total[c] * (share[c, STAY_CREDITED] + share[c, STAY_UNCREDITED]) * share[c, MOVES]
                bill += exposure * pay
                heads += exposure
                inv_n = share[1, INVALID] * total[1] + share[3, INVALID] * total[3]
                inv_m = share[1, INVALID] * disabled_0 + share[3, INVALID] * disabled_1
                vested_deaths[s, x] += q * (total[1] + total[3])
                vested_pensions[s, x] += q * (disabled_0 + disabled_1)
                if top_ups:
                    vested_top_ups[s, x] += q * (disabled_top_0 + disabled_top_1)
                    awards_top_up[t, OLD_AGE, s, x] += share[2, RETIRE] * retire_top + deferred_top
                    awards_top_up[t, INVALIDITY, s, x] += (share[1, INVALID] * disabled_top_0
                                                           + share[3, INVALID] * disabled_top_1)
                award_n = share[2, RETIRE] * heads_1 + deferred_n
                award_m = share[2, RETIRE] * retire_pensions + deferred_m
                retired_0 = share[0, RETIRE] * heads_0
                if retired_0 > 0.0:
                    lump_count += retired_0
                    if refund:
                        lump += share[0, RETIRE] * (balances_0 * half_growth + 0.5 * premium * heads_0)
                    else:
                        lump += share[0, RETIRE] * grant_rate * ref * service_0
                if withdrawn > 0.0 and exit_benefit == EXIT_REFUND:
                    lump_count += withdrawn
                active_deaths[t, s, a] = q * (heads_0 + heads_1)
                retirements[t, s, a] = share[2, RETIRE] * heads_1 + retired_0
                invalidity[t, s, a] = inv_n
                exits[t, s, a] = exit_sum
                withdrawals[t, s, a] = withdrawn
                if advance:
                    arrive_act[s, a + 1] += moved_act
                    arrive_ina[s, a + 1] += deferred
                    if moving_i:
                        arrive_act[s, a + 1] += back_in * heads_i
                        arrive_ina[s, a + 1] += stay_out * heads_i
                inactive_deaths[t, s, a] = qi * heads_i
                inactive_retirements[t, s, a] = retiring_i * heads_i
                reentries[t, s, a] = back_in * heads_i if advance else 0.0
                if written >= 0 and written > bound_next[s, a + 1]:
                    bound_next[s, a + 1] = written
                awards_count[t, OLD_AGE, s, x] += award_n
                awards_amount[t, OLD_AGE, s, x] += award_m
                awards_count[t, INVALIDITY, s, x] += inv_n
                awards_amount[t, INVALIDITY, s, x] += inv_m
            for a in range(occupied + 1, n_ages):
                active_deaths[t, s, a] = 0.0
                retirements[t, s, a] = 0.0
                invalidity[t, s, a] = 0.0
                exits[t, s, a] = 0.0
                withdrawals[t, s, a] = 0.0
                inactive_deaths[t, s, a] = 0.0
                inactive_retirements[t, s, a] = 0.0
                reentries[t, s, a] = 0.0
            # new entrants (mid-year, half a year's credit), by age at the end of the year
            for a in range(n_ages):
                entering = 0.0
                current = arrive_act[s, a]  # actives at the end of the year before new entrants
                if entrants_allowed and residual_method:
                    gap = target[t + 1, s, a] - current
                    if gap > 0.0:
                        if min_age + a <= max_entry_age:  # above the oldest entry age the gap is left
                            entering = gap
                    elif current > 0.0 and gap < 0.0:
                        # extra exits at the end of the year, under the exit rule
                        keep = target[t + 1, s, a] / current
                        to_inactive = 0.0
                        forced = 0.0
                        for k in range(bound_next[s, a] + 1):
                            moved = stocks[there, s, a, k, ACTIVE] * (1.0 - keep)
                            moved_service = stocks[there, s, a, k, SERVICE] * (1.0 - keep)
                            moved_units = stocks[there, s, a, k, UNITS] * (1.0 - keep)
                            moved_balance = stocks[there, s, a, k, BALANCE] * (1.0 - keep)
                            stocks[there, s, a, k, ACTIVE] -= moved
                            stocks[there, s, a, k, SERVICE] -= moved_service
                            stocks[there, s, a, k, UNITS] -= moved_units
                            if track:
                                stocks[there, s, a, k, BALANCE] -= moved_balance
                            if exit_benefit == EXIT_DEFERRED or k >= exit_vest:
                                stocks[there, s, a, k, INACTIVE] += moved
                                stocks[there, s, a, k, INACTIVE_SERVICE] += moved_service
                                stocks[there, s, a, k, INACTIVE_UNITS] += moved_units
                                if track:
                                    stocks[there, s, a, k, INACTIVE_BALANCE] += moved_balance
                                to_inactive += moved
                            else:
                                forced += moved
                                if exit_benefit == EXIT_REFUND:
                                    refunded += moved_balance
                                    lump_count += moved
                        arrive_act[s, a] = current * keep
                        arrive_ina[s, a] += to_inactive
                        if a > 0:
                            exits[t, s, a - 1] += -gap
                            withdrawals[t, s, a - 1] += forced
                elif entrants_allowed:
                    entering = entrants_in[t, s, a]
                new_entrants[t, s, a] = entering
                active_out[t + 1, s, a] = arrive_act[s, a] + entering
                inactive_out[t + 1, s, a] = arrive_ina[s, a]
                if entering > 0.0:
                    stocks[there, s, a, 0, ACTIVE] += entering
                    if accrue:
                        credit = 0.5 * credit_density[t, s, a]
                        stocks[there, s, a, 0, SERVICE] += entering * credit
                        stocks[there, s, a, 0, UNITS] += entering * accrued_share(schedule, credit)
                    pay = salary[t, s, a] * contribution_density[t, s, a]
                    bill += 0.5 * entering * pay
                    heads += 0.5 * entering
                    if track:
                        stocks[there, s, a, 0, BALANCE] += entering * 0.5 * contribution_share * pay * half_growth
                    if bound_next[s, a] < 0:
                        bound_next[s, a] = 0
        award_all_survivors(awards_count, awards_amount, t, vested_deaths, vested_pensions, married, difference,
                            orphans, orphan_age, shares)
        if top_ups:
            award_all_survivors(top_up_counts, awards_top_up, t, vested_deaths, vested_top_ups, married, difference,
                                orphans, orphan_age, shares)
        wage_bill[t] = bill
        contributors[t] = heads
        grants[t] = lump + refunded
        grant_count[t] = lump_count
        exit_refunds[t] = refunded
        # swap buffers (the start-of-year stock was cleared as it was read)
        here, there = there, here
        bound, bound_next = bound_next, bound
        occupied = -1
        for s in range(2):
            for a in range(n_ages):
                if bound[s, a] >= 0 and a > occupied:
                    occupied = a


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz", "arcp"})  # releases the GIL: the closed-group runs go on a second thread
def pensions_kernel(count0, amount0, awards_count, awards_amount, q_pension, beta, remarriage, normal_age,
                    convert_invalidity, married, difference, orphans, orphan_age, shares,
                    count, amount, expenditure, deaths, exits, conversions):
    """Pensions in payment by (benefit, sex, full age): count and total annual amount at 1 January.

    Year t: amounts indexed by β_t; deaths q at mid-year (half a year paid); new awards paid for half
    a year and exposed to half a year's mortality; deaths of old-age and invalidity pensioners award
    survivors' pensions (in ``awards_*``, before widows and orphans are projected); widow(er)s in
    payment on 1 January who survive remarry at mid-year (half a year paid; the year's new widow(er)s
    are paid their half year whether they remarry or not); orphans leave on reaching the age limit;
    invalidity pensioners reaching the normal retirement age move to old age (if
    ``convert_invalidity``: the share :func:`reaching_share` of ``normal_age[t, s, x]``, by year or cohort);
    the last age is an open group.
    """
    n_years = beta.shape[0]
    n_benefits, _, n_ages = count0.shape
    orphan_limit = shares[3]
    count[0] = count0
    amount[0] = amount0
    carrying = np.zeros((2, 2, n_ages))  # deaths and their pensions, old age + invalidity, by sex and age
    staying_n = np.empty(n_ages)  # survivors of a row staying in its benefit / converted to old age, by age
    staying_m = np.empty(n_ages)
    moving_n = np.empty(n_ages)
    moving_m = np.empty(n_ages)
    unused = np.empty(n_ages)  # the conversions row of the benefits other than invalidity
    for t in range(n_years):
        count[t + 1] = 0.0
        amount[t + 1] = 0.0
        carrying[:] = 0.0
        factor = 1.0 + beta[t]
        for b in range(n_benefits):
            if b == WIDOW:  # survivors of this year's deaths, before widows and orphans are projected
                award_all_survivors(awards_count, awards_amount, t, carrying[0], carrying[1], married, difference,
                                    orphans, orphan_age, shares)
            widows = 1.0 if b == WIDOW else 0.0
            orphans_b = 1.0 if b == ORPHAN else 0.0
            invalid = b == INVALIDITY
            converting = invalid and convert_invalidity
            carried = 1.0 if b <= INVALIDITY else 0.0
            last = n_ages - 1
            spent = 0.0
            for s in range(2):
                spent += _pensions_row(q_pension[t, b, s], count[t, b, s], amount[t, b, s], awards_count[t, b, s],
                                       awards_amount[t, b, s], remarriage[t, s], normal_age[t, s], deaths[t, b, s],
                                       exits[t, b, s], conversions[t, s] if invalid else unused, carrying[0, s],
                                       carrying[1, s], staying_n, staying_m, moving_n, moving_m, factor, widows,
                                       orphans_b, 1.0 if converting else 0.0, 1.0 if invalid else 0.0, carried,
                                       orphan_limit)
                # next year's ages: x + 1 (stores), the open group adds its survivors
                for x in range(last):
                    count[t + 1, b, s, x + 1] += staying_n[x]
                    amount[t + 1, b, s, x + 1] += staying_m[x]
                count[t + 1, b, s, last] += staying_n[last]
                amount[t + 1, b, s, last] += staying_m[last]
                if converting:
                    for x in range(n_ages):
                        older = min(x + 1, last)
                        count[t + 1, OLD_AGE, s, older] += moving_n[x]
                        amount[t + 1, OLD_AGE, s, older] += moving_m[x]
            expenditure[t, b] = spent


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz", "arcp"},
            pipeline_class=_NoAliasCompiler, forceinline=True)
def _pensions_row(q_row, n_row, m_row, new_n_row, new_m_row, remarriage_row, normal_age_row, deaths_row, exits_row,
                  conversions_row, dead_n_row, dead_m_row, staying_n, staying_m, moving_n, moving_m, factor, widows,
                  orphans, converting, invalid, carried, orphan_limit):
    """One year, benefit and sex of :func:`pensions_kernel` over the ages, without branches (``widows``,
    ``orphans``, ``converting``, ``invalid``, ``carried``: 1.0 or 0.0 for the benefit), so that it runs on vectors
    of ages: deaths, exits, conversions (``conversions_row``, a scratch row for other benefits), the deaths and
    pensions carrying survivors' benefits (added), and the survivors staying in the benefit or moving to old age by
    age at 1 January. Returns the year's expenditure on the row."""
    n_ages = q_row.size
    last = n_ages - 1
    spent = 0.0
    for x in range(np.uint64(n_ages)):
        q = q_row[x]
        m = m_row[x] * factor
        new_n = new_n_row[x]
        new_m = new_m_row[x]
        dead_n = n_row[x] * q + new_n * 0.5 * q
        deaths_row[x] = dead_n
        dead_n_row[x] += carried * dead_n
        dead_m_row[x] += carried * (m * q + new_m * 0.5 * q)
        alive_n = n_row[x] * (1.0 - q) + new_n * (1.0 - 0.5 * q)
        alive_m = m * (1.0 - q) + new_m * (1.0 - 0.5 * q)
        older = min(x + np.uint64(1), np.uint64(last))
        leave = widows * remarriage_row[x] + orphans * (1.0 if older >= orphan_limit else 0.0)
        # widow(er)s remarrying at mid-year: half a year paid
        spent += m * (1.0 - 0.5 * q) + 0.5 * new_m - widows * 0.5 * leave * m * (1.0 - q)
        leaving = alive_n * leave
        alive_n *= 1.0 - leave
        alive_m *= 1.0 - leave
        converted = converting * reaching_share(x + 1.0, normal_age_row[x])
        exits_row[x] = leaving + invalid * alive_n * converted
        conversions_row[x] = alive_n * converted
        staying_n[x] = alive_n * (1.0 - converted)
        staying_m[x] = alive_m * (1.0 - converted)
        moving_n[x] = alive_n * converted
        moving_m[x] = alive_m * converted
    return spent


@numba.njit(cache=True, nogil=True)  # releases the GIL: the closed-group runs go on a second thread
def finance_kernel(wage_bill, benefits, grants, top_up, contribution_rate, collection_rate, subsidy_benefits,
                   subsidy_wages, admin_benefits, admin_contributions, investment_return, reserve0, payable,
                   contributions, subsidy, admin, expenditure, investment_income, reserve, payable_share):
    """The reserve roll-forward of year t (docs/methodology.md §6), money of the year, flows at mid-year:

        C = π c S                                   contributions (rate x collection rate x wage bill)
        subsidy = s_b p B + s_w S                   state subsidy: a share of the pensions paid (not of
                                                    grants) and a share of the wage bill
        T                                           minimum-pension top-up paid by the state (``top_up``,
                                                    part of B; p T paid; 0 when the scheme pays it)
        admin = a_b p (B + G) + a_c C               administration: a share of the pensions and grants
                                                    paid and a share of the contributions
        E = p (B + G) + admin
        I = i V_{t-1} + ((1+i)^(1/2) - 1)(C + subsidy + p T - E)     compound half-year interest on the net flow
        V_t = V_{t-1} + C + subsidy + p T + I - E

    with B the pensions due (paid half a year in the award year, indexed in full the next January: see
    pensions_kernel) and G the grants due. The subsidy is part of the income credited to the reserve.

    ``payable_share`` p_t: the share of the year's benefits (pensions and grants) that the year's income
    and the reserve left at its start can pay,

        p_t = min(1, (max(V_{t-1}, 0)(1+i)^(1/2) + (1 - a_c) C + s_w S) / ((1 + a_b)(B + G) - s_b B - T)),

    which is 1 until the reserve is exhausted (the depletion year is the first with p_t < 1: the year in
    which V_t would turn negative). After depletion (``payable`` False, ``borrow``) benefits are paid in
    full, p = 1 in the flows above and the negative reserve is a debt bearing the investment return; with
    ``payable`` True the flows use p_t, so the reserve never falls below zero (V_t = 0 in every year with
    p_t < 1: the year's income and what was left of the reserve pay the share p_t of the benefits)."""
    reserve[0] = reserve0
    for t in range(wage_bill.shape[0]):
        c = contribution_rate[t] * collection_rate[t] * wage_bill[t]
        i = investment_return[t]
        root = (1.0 + i) ** 0.5
        outgo = benefits[t] + grants[t]
        due = (1.0 + admin_benefits) * outgo - subsidy_benefits[t] * benefits[t] - top_up[t]
        available = (1.0 - admin_contributions) * c + subsidy_wages[t] * wage_bill[t]
        if reserve[t] > 0.0:
            available += reserve[t] * root
        share = 1.0
        if due > 0.0 and available < due:
            share = available / due if available > 0.0 else 0.0
        paid = share if payable else 1.0
        sub = subsidy_benefits[t] * benefits[t] * paid + subsidy_wages[t] * wage_bill[t]
        adm = admin_benefits * outgo * paid + admin_contributions * c
        e = outgo * paid + adm
        state = sub + top_up[t] * paid
        inc = i * reserve[t] + (root - 1.0) * (c + state - e)
        if payable and share < 1.0:  # the reserve is exactly used up
            inc = e - c - state - reserve[t]
            reserve[t + 1] = 0.0
        else:
            reserve[t + 1] = reserve[t] + c + state + inc - e
        contributions[t] = c
        subsidy[t] = sub
        admin[t] = adm
        expenditure[t] = e
        investment_income[t] = inc
        payable_share[t] = share


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz", "arcp"})
def award_annuity_kernel(q_pension, beta, remarriage, normal_age, convert_invalidity, orphan_limit,
                         investment_return, factors):
    """Capital value at award of a pension awarded in year t, per unit of annual amount:
    ``factors[t, b, s, x]`` for the award years t < factors.shape[0], benefit b, sex s and age x at
    1 January t, on the timing of :func:`pensions_kernel`: the award is made at mid-year t and paid for half
    of it, exposed to half a year's mortality; from the next January it is indexed by β, paid for the
    whole year less half a year for those dying in it (q_u(b) of the benefit type), and leaves by remarriage
    (widow(er)s, paid half a year in the year they remarry), at the orphans' age limit, or moves to old age
    at the normal retirement age (invalidity, with ``convert_invalidity``: old-age mortality from then on).
    Payments of year u are valued at mid-year
    u and discounted to mid-year t at the investment return: v = prod over the half years between them of
    (1 + i)^(-1/2). The yearly arrays run over the award years and the years after them until everyone has
    reached the last age (where q = 1). No survivors' pensions: those are awards of the year of death.

    Backward recursion on the value at mid-year u per unit in payment at 1 January u (before indexation),
        A_u(b, s, x) = (1 + β_u) [(1 - q/2) - ρ(1 - q)/2 + v_{u,u+1} (1 - q)(1 - leave) A_{u+1}(b', s, x + 1)],
    (ρ the remarriage rate of widow(er)s, 0 for the other benefits),
        factor_t(b, s, x) = 1/2 + v_{t,t+1} (1 - q/2)(1 - leave) A_{t+1}(b', s, x + 1)."""
    n_years = q_pension.shape[0]
    n_awards = factors.shape[0]
    n_benefits, _, n_ages = q_pension.shape[1], q_pension.shape[2], q_pension.shape[3]
    following = np.zeros((n_benefits, 2, n_ages))  # A_{u+1}
    current = np.zeros((n_benefits, 2, n_ages))
    unused = np.zeros(n_ages)  # the factors row of the years after the award years
    for u in range(n_years - 1, -1, -1):
        v = 0.0
        if u + 1 < n_years:
            v = 1.0 / ((1.0 + investment_return[u]) ** 0.5 * (1.0 + investment_return[u + 1]) ** 0.5)
        index = 1.0 + beta[u]
        award_year = u < n_awards
        for b in range(n_benefits):
            widows = 1.0 if b == WIDOW else 0.0
            orphans = 1.0 if b == ORPHAN else 0.0
            converting = 1.0 if b == INVALIDITY and convert_invalidity else 0.0
            for s in range(2):
                _annuity_row(current[b, s], following[b, s], following[OLD_AGE, s], q_pension[u, b, s],
                             remarriage[u, s], normal_age[u, s], factors[u, b, s] if award_year else unused, index, v,
                             widows, orphans, converting, orphan_limit)
        following, current = current, following


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz", "arcp"},
            pipeline_class=_NoAliasCompiler, forceinline=True)
def _annuity_row(current, following, following_old_age, q_row, remarriage_row, normal_age_row, factors_row, index, v,
                 widows, orphans, converting, orphan_limit):
    """One year u and (benefit, sex) of :func:`award_annuity_kernel`'s recursion over the ages, without branches
    (``widows``, ``orphans``, ``converting``: 1.0 for the benefit they name, else 0.0), so that it runs on vectors of
    ages. ``factors_row`` is written whatever the year (a scratch row after the award years)."""
    n_ages = q_row.size
    for x in range(np.uint64(n_ages)):
        older = min(x + np.uint64(1), np.uint64(n_ages - 1))  # the open group stays at the last age
        q = q_row[x]
        leave = widows * remarriage_row[x] + orphans * (1.0 if older >= orphan_limit else 0.0)
        later = following[older]
        later += converting * reaching_share(x + 1.0, normal_age_row[x]) * (following_old_age[older] - later)
        later *= v * (1.0 - leave)
        paid = 1.0 - 0.5 * q - widows * 0.5 * leave * (1.0 - q)  # widow(er)s remarrying at mid-year: half a year paid
        current[x] = index * (paid + (1.0 - q) * later)
        factors_row[x] = 0.5 + (1.0 - 0.5 * q) * later
