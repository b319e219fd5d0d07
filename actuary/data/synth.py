"""Synthetic member records drawn from a valuation case: test data, and a way to try the intake.

A sample of ``members`` insured persons is drawn from the case's initial state (multinomial over
status x sex x age x completed service); pensioners are drawn at the same sampling fraction. Each
record stands for ``weight = insured in the case / members`` persons (written in the manifest:
give it to ``actuary data --weight``). Within a cell: birth dates uniform over the year that gives
the completed age at 1 January t0; credited service k + U(0, 0.99) (the cap cell exactly the
plausible maximum); affiliation dates consistent with the service and at age 14 or later, and no
two members with the same sex, birth and affiliation dates; contribution months of year t0 - 1
binomial with the contribution density (entrants of that year part of it; a quarter of the
inactive exited during it); earnings = the engine's insurable salary of a lognormal salary with a
persistent individual factor (mean 1, cv scheme.earnings_cv) x months / 12, at the salary scale of
the age at 1 January t0 - 1 deflated by the nominal wage growth of t0; pensions around the cell's
average (lognormal, cv 0.2).

``years=2`` adds the extract at 1 January t0 + 1: every record moved through year t0 with the
case's assumptions in the engine's order (actives: death, retirement, invalidity, exit;
inactive: death, retirement at the normal or maximum retirement age, re-entry; pensioners: death,
remarriage of widow(er)s, orphans leaving at the age limit, invalidity converted to old age),
credited service growing by credited months / 12 (mean: the credit density), salaries growing
along the scale and the wage index, new entrants as in the case's projection, pensions indexed on
1 January. Simplifications of the test data: the year's new pensioners survive to its end, and
the year's survivors' pensions are not generated.

``errors``: a share of records receives one planted error each, spread evenly over every rule of
:data:`actuary.data.checks.RULES` that a record can break, plus one control total off by 10%
(old-age pensioners, not fatal); ``errors.csv`` lists each (file, rule, row, id, field, value) for the tests.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pandas as pd

from .. import series
from ..inputs import BENEFITS
from ..validation import InputError
from .checks import MAX_EXCLUDED, MIN_AFFILIATION_AGE, PLAUSIBLE_SERVICE, RULES
from .intake import require_scheme
from .layouts import INSURED, PENSIONERS

DAY = np.timedelta64(1, "D")
PENSION_CV = 0.2
SAMPLING_ERRORS = 4.5   # sampling standard errors of a sample total that a synthetic control's tolerance covers
YEAR_DAYS = 365.25


def _lognormal(rng, cv: float, size: int) -> np.ndarray:
    """Lognormal factors with mean 1 and coefficient of variation cv."""
    if cv <= 0:
        return np.ones(size)
    sigma = np.sqrt(np.log1p(cv * cv))
    return np.exp(rng.normal(-0.5 * sigma * sigma, sigma, size))


def _births(rng, t0: int, age: np.ndarray) -> np.ndarray:
    """Birth dates giving completed age ``age`` at 1 January t0: from 2 January of t0 - age - 1 to
    1 January of t0 - age."""
    start = (np.asarray(t0 - age - 1) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    end = (np.asarray(t0 - age) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    days = (end - start).astype(int)
    return start + (1 + np.floor(rng.random(age.size) * days).astype(int)) * DAY


def _years_between(later, earlier) -> np.ndarray:
    return (later - earlier).astype(float) / YEAR_DAYS


def _draw(rng, counts: np.ndarray, total: int) -> np.ndarray:
    """Multinomial draw of ``total`` records over the cells of ``counts`` (flattened); returns the cell
    index of each record."""
    p = counts.ravel() / counts.sum()
    per_cell = rng.multinomial(total, p)
    return np.repeat(np.arange(p.size), per_cell)


class _Case:
    """The arrays of a valuation case that the generator needs (engine inputs of year t0)."""

    def __init__(self, valuation):
        from ..projection import build_kernel_inputs

        inputs = valuation.inputs
        self.inputs = inputs
        st, sch, eco, beh = inputs.settings, inputs.scheme, inputs.economy, inputs.behaviour
        self.t0 = st["valuation_year"]
        self.lo = st["min_age"]
        self.max_age = st["max_age"]
        self.max_service = st["max_service"]
        self.max_retirement_age = st["max_retirement_age"]
        self.kin = build_kernel_inputs(inputs)
        self.growth = float(self.kin.series["wage_growth"][0])
        aw = eco["average_wage"]
        # provisions of the valuation year (they may change by year)
        self.floor, self.ceiling = (float(sch[k].values[0]) * aw for k in ("floor_multiple", "ceiling_multiple"))
        self.cv = sch["earnings_cv"]
        self.scale = beh["salary_scale"].values                    # (sex, scheme age)
        self.density = beh["contribution_density"].values[0]       # (sex, scheme age)
        self.credit = beh["credit_density"].values[0]
        self.era = sch["early_retirement_age"].values[0]           # (sex,)
        self.nra = sch["normal_retirement_age"].values[0]
        self.vesting = float(sch["vesting_years"].values[0])
        self.invalidity_vesting = float(sch["invalidity_vesting_years"].values[0])
        self.orphan_limit = sch["orphan_age_limit"]
        self.maximum_pension = float(sch["maximum_pension"].values[0])

    def scale_at(self, sex, age) -> np.ndarray:
        return self.scale[sex, np.clip(age - self.lo, 0, self.scale.shape[1] - 1)]

    def insurable(self, salary, level: float = 1.0) -> np.ndarray:
        """Insurable earnings of individual salaries at the wage level ``level`` (t0 = 1)."""
        return np.clip(salary, self.floor * level, self.ceiling * level)


def _person_dates(rng, case: _Case, age, service, t0: int):
    """Birth dates (completed age ``age`` at 1 January t0) and affiliation dates at least the service
    before the valuation date and at age 14 or later; returns (birth, affiliation, service): a
    service longer than age - 14 allows is shortened."""
    v = np.datetime64(f"{t0}-01-01")
    birth = _births(rng, t0, age)
    exact_age = _years_between(v, birth)
    room = exact_age - service - MIN_AFFILIATION_AGE - 0.05
    service = np.where(room < 0, np.round(service + room, 2), service)   # cells older than their service allows
    room = np.maximum(room, 0.0)
    gap = rng.random(age.size) * np.minimum(room, 0.5 + 0.1 * service)
    affiliation = v - np.round((service + gap) * YEAR_DAYS).astype(int) * DAY
    return birth, affiliation, service


def _person_key(sex, birth, affiliation) -> np.ndarray:
    """One int64 per person: sex, birth and affiliation dates (days since 1970, within +-500,000)."""
    days = [np.asarray(d).astype("datetime64[D]").astype(np.int64) + 500_000 for d in (birth, affiliation)]
    return (np.asarray(sex, dtype=np.int64) << 42) | (days[0] << 21) | days[1]


def _insured_sample(rng, case: _Case, members: int):
    ini = case.inputs.initial
    stocks = np.stack([ini["active"].values, ini["inactive"].values])     # (status, sex, age, service)
    cells = _draw(rng, stocks, members)
    status, sex, age_i, k = np.unravel_index(cells, stocks.shape)
    age = age_i + case.lo
    n = cells.size
    service = np.where(k >= PLAUSIBLE_SERVICE, PLAUSIBLE_SERVICE, np.round(k + rng.random(n) * 0.99, 2))
    birth, affiliation, service = _person_dates(rng, case, age, service, case.t0)
    # no two records with the same sex, birth and affiliation dates (rule M402 must find only the planted
    # duplicates): redraw the dates of the later ones until every person is unique
    for _ in range(200):
        _, first = np.unique(_person_key(sex, birth, affiliation), return_index=True)
        again = np.ones(n, dtype=bool)
        again[first] = False
        if not again.any():
            break
        index = np.flatnonzero(again)
        birth[index], affiliation[index], service[index] = _person_dates(rng, case, age[index], service[index],
                                                                         case.t0)
    else:
        raise RuntimeError("could not draw distinct persons: the cells are too crowded for their dates")
    frame = pd.DataFrame(dict(status=np.where(status == 0, "active", "inactive"), sex=np.where(sex == 0, "M", "F"),
                              birth_date=birth, affiliation_date=affiliation, credited_service=service))
    frame["_sex"], frame["_age"] = sex, age
    z = _lognormal(rng, case.cv, n)
    density = case.density[sex, age - case.lo]
    months = rng.binomial(12, density)
    entrant = (status == 0) & (service < 1)
    months = np.where(entrant, rng.binomial(rng.integers(1, 13, n), density), months)
    recent = rng.random(n) < 0.25
    months = np.where(status == 1, np.where(recent, rng.binomial(rng.integers(1, 12, n), density), 0), months)
    level = 1.0 / (1.0 + case.growth)
    salary = case.scale_at(sex, age - 1) * level * z
    frame["contribution_months"] = months
    frame["earnings"] = np.where(months > 0, np.maximum(np.round(case.insurable(salary, level) * months / 12, 2), 0.01),
                                 0.0)
    frame["_z"] = z
    return frame


def _pensioner_sample(rng, case: _Case, total: int):
    ini = case.inputs.initial
    counts = ini["pensioners"].values                      # (benefit, sex, age 0..max)
    cells = _draw(rng, counts, total)
    benefit, sex, age = np.unravel_index(cells, counts.shape)
    n = cells.size
    v = np.datetime64(f"{case.t0}-01-01")
    birth = _births(rng, case.t0, age)
    exact = _years_between(v, birth)
    era = case.era[sex]
    low = np.select([benefit == 0, benefit == 1, benefit == 2], [np.minimum(era, exact), np.maximum(exact - 15, 18),
                                                               np.maximum(exact - 30, 18)], 0.0)
    low = np.minimum(low, exact)
    award_age = low + rng.random(n) * (exact - low)
    award = birth + np.floor(award_age * YEAR_DAYS).astype(int) * DAY
    award = np.minimum(award, v)
    average = ini["average_pension"].values[benefit, sex, age]
    amount = np.round(average * _lognormal(rng, PENSION_CV, n), 2)
    return pd.DataFrame(dict(sex=np.where(sex == 0, "M", "F"), birth_date=birth, benefit=np.asarray(BENEFITS)[benefit],
                             award_date=award, annual_amount=amount, _sex=sex, _age=age))


# ----------------------------------------------------------------------------------- second year

def _accrued(case: _Case, service) -> np.ndarray:
    """Accrued share of reference earnings for exact credited service, on the schedule of the first
    projection year (the year of the awards synthesised)."""
    accrual = case.inputs.scheme["accrual"]
    if "year" in accrual.dims:
        accrual = accrual.isel(year=0)
    accrual = accrual.values
    return np.interp(service, np.arange(accrual.size), accrual)


def _second_year(rng, case: _Case, insured: pd.DataFrame, pensioners: pd.DataFrame, weight: float, next_id: int):
    """The extracts at 1 January t0 + 1 (see the module docstring)."""
    from ..projection import run_kernels

    ins, kin = case.kin.insured, case.kin
    lo, t1 = case.lo, case.t0 + 1
    v1, v2 = np.datetime64(f"{case.t0}-01-01"), np.datetime64(f"{t1}-01-01")
    n = len(insured)
    sex, age = insured["_sex"].to_numpy(), insured["_age"].to_numpy()
    a = age - lo
    service = insured["credited_service"].to_numpy()
    completed = np.minimum(np.floor(service), case.max_service).astype(int)
    active = insured["status"].to_numpy() == "active"
    reached = age + 1.0
    vested = completed >= case.vesting
    inv_vested = completed >= case.invalidity_vesting
    era, nra = case.era[sex], case.nra[sex]
    u = rng.random((5, n))
    # actives
    dead_a = u[0] < ins["q_active"][0, sex, a]
    forced = reached >= case.max_retirement_age
    r = np.where(forced, 1.0, np.where(vested, np.where(reached >= era, ins["retire_rate"][0, sex, a], 0.0),
                                        np.where(reached >= nra, 1.0, 0.0)))
    retire = active & ~dead_a & (u[1] < r)
    invalid = active & ~dead_a & ~retire & inv_vested & (u[2] < ins["invalidity_rate"][0, sex, a])
    exit_ = active & ~dead_a & ~retire & ~invalid & (u[3] < ins["exit_rate"][0, sex, a])
    stay = active & ~dead_a & ~retire & ~invalid & ~exit_
    # inactive
    dead_i = u[0] < ins["q_inactive"][0, sex, a]
    at_age = (reached >= nra) | forced
    deferred = ~active & ~dead_i & at_age & vested
    back = ~active & ~dead_i & ~at_age & (u[4] < ins["reentry_rate"][0, sex, a])
    still = ~active & ~dead_i & ~at_age & ~back
    # insured at t0 + 1
    density = case.density[sex, a]
    credit = case.credit[sex, a]
    months = np.where(stay, rng.binomial(12, density), 0)
    months = np.where(exit_ | back, rng.binomial(rng.integers(1, 12, n), density), months)
    extra = np.clip((credit - density) / np.maximum(1 - density, 1e-9), 0.0, 1.0)
    credited = months + rng.binomial(12 - months, extra)
    new_service = np.where(stay, np.minimum(service + np.round(credited / 12, 2), PLAUSIBLE_SERVICE), service)
    z = insured["_z"].to_numpy()
    earnings = np.round(case.insurable(case.scale_at(sex, age) * z) * months / 12, 2)
    keep = stay | exit_ | back | still
    second = pd.DataFrame(dict(id=insured["id"].to_numpy(), sex=insured["sex"].to_numpy(),
                               birth_date=insured["birth_date"].to_numpy(),
                               affiliation_date=insured["affiliation_date"].to_numpy(),
                               status=np.where(stay | back, "active", "inactive"), credited_service=new_service,
                               contribution_months=months, earnings=earnings))[keep]
    # new entrants of year t0 (the projection's, by age at its end), at the sampling fraction
    out = run_kernels(kin, lo)
    entrants = out["new_entrants"][0] / weight                     # (sex, scheme age at 1 January t0 + 1)
    count = rng.poisson(entrants)
    e_sex, e_a = np.nonzero(count)
    e_sex, e_a = np.repeat(e_sex, count[e_sex, e_a]), np.repeat(e_a, count[e_sex, e_a])
    m = e_sex.size
    e_age = e_a + lo
    e_birth = _births(rng, t1, e_age)
    e_density = case.density[e_sex, np.minimum(e_a, case.density.shape[1] - 1)]
    e_months = rng.binomial(rng.integers(1, 13, m), e_density)
    e_service = np.minimum(np.round(e_months / 12 * rng.random(m) * 0.5 + e_months / 24, 2), 0.99)
    e_affiliation = v2 - np.ceil((e_service + 0.02) * YEAR_DAYS).astype(int) * DAY
    # entrants distinct from every person already insured (rule M402 finds nothing in clean data)
    taken = _person_key(np.where(second["sex"].to_numpy() == "M", 0, 1), second["birth_date"].to_numpy(),
                        second["affiliation_date"].to_numpy())
    for _ in range(200):
        key = _person_key(e_sex, e_birth, e_affiliation)
        clash = np.isin(key, taken) | pd.Series(key).duplicated().to_numpy()
        if not clash.any():
            break
        e_birth[clash] = _births(rng, t1, e_age[clash])
    e_z = _lognormal(rng, case.cv, m)
    e_earnings = np.round(case.insurable(case.scale_at(e_sex, e_age - 1) * e_z) * e_months / 12, 2)
    entrants_frame = pd.DataFrame(dict(id=np.arange(next_id, next_id + m).astype(str), sex=np.where(e_sex == 0, "M", "F"),
                                       birth_date=e_birth, affiliation_date=e_affiliation, status="active",
                                       credited_service=e_service, contribution_months=e_months, earnings=e_earnings))
    second = pd.concat([second, entrants_frame], ignore_index=True)
    # new pensions of year t0 (amounts of year t0, indexed on 1 January t0 + 1 like every pension)
    s = kin.series
    beta1 = float(s["beta"][1]) if s["beta"].size > 1 else 0.0
    reference = s["reference"][0][sex, a]
    minimum, maximum = s["minimum"][0], s["maximum"][0]
    sch = case.inputs.scheme
    reduction, increment = (float(sch[k].values[0]) for k in ("early_retirement_reduction",
                                                              "late_retirement_increment"))
    adjustment = np.where(reached < nra, np.maximum(1 - reduction * (nra - reached), 0.0),
                          1 + increment * (reached - nra))
    # service credited at the award: the exact service at 1 January plus the half year worked before a
    # mid-year award (at the credit density), as the engine credits it; inactive members worked none
    at_award = service + np.where(active, 0.5 * credit, 0.0)
    old_age = np.clip(_accrued(case, at_award) * reference * adjustment, minimum, maximum)
    future = np.maximum(nra - reached, 0.0) * sch["invalidity_future_service"]
    disability = np.clip(_accrued(case, at_award + future) * reference, minimum, maximum)
    deferred_amount = np.clip(_accrued(case, service) * reference, minimum, maximum)
    awarded = (retire & vested) | invalid | deferred
    award_day = v1 + np.floor(rng.random(n) * 365).astype(int) * DAY
    amount = np.where(invalid, disability, np.where(deferred, deferred_amount, old_age)) * (1 + beta1)
    awards = pd.DataFrame(dict(id=insured["id"].to_numpy(), sex=insured["sex"].to_numpy(),
                               birth_date=insured["birth_date"].to_numpy(),
                               benefit=np.where(invalid, "invalidity", "old_age"), award_date=award_day,
                               annual_amount=np.round(amount, 2)))[awarded]
    # pensions in payment at t0 moved to t0 + 1
    p_sex, p_age = pensioners["_sex"].to_numpy(), pensioners["_age"].to_numpy()
    b = pd.Index(BENEFITS).get_indexer(pensioners["benefit"].to_numpy())
    pen = kin.pensions
    q = pen["q_pension"][0][b, p_sex, p_age]
    w = rng.random((2, len(pensioners)))
    alive = w[0] >= q
    remarried = (b == 2) & (w[1] < pen["remarriage"][0][p_sex, p_age])
    grown_up = (b == 3) & (p_age + 1 >= case.orphan_limit)
    converting = (b == 1) & (p_age + 1.0 >= case.nra[p_sex]) & bool(pen["convert_invalidity"])
    staying = alive & ~remarried & ~grown_up
    moved = pd.DataFrame(dict(id=pensioners["id"].to_numpy(), sex=pensioners["sex"].to_numpy(),
                              birth_date=pensioners["birth_date"].to_numpy(),
                              benefit=np.where(converting, "old_age", pensioners["benefit"].to_numpy()),
                              award_date=pensioners["award_date"].to_numpy(),
                              annual_amount=np.round(pensioners["annual_amount"].to_numpy() * (1 + beta1), 2)))[staying]
    second_pensioners = pd.concat([moved, awards], ignore_index=True)
    order = rng.permutation(len(second))
    return second.iloc[order].reset_index(drop=True), second_pensioners.iloc[
        rng.permutation(len(second_pensioners))].reset_index(drop=True)


# ----------------------------------------------------------------------------------- errors

class _Picker:
    """Distinct records for the planted errors: each record receives at most one."""

    def __init__(self, rng, n: int):
        self.rng = rng
        self.used = np.zeros(n, dtype=bool)

    def __call__(self, mask, count: int) -> np.ndarray:
        candidates = np.flatnonzero(mask & ~self.used)
        chosen = self.rng.choice(candidates, size=min(count, candidates.size), replace=False)
        self.used[chosen] = True
        return chosen


def _iso(dates) -> np.ndarray:
    return pd.to_datetime(dates).strftime("%Y-%m-%d").to_numpy()


INSURED_PLANTS = ("M101", "M102", "M103", "M104", "M105", "M106", "M107", "M108", "M201", "M202", "M203", "M204",
                  "M205", "M206", "M207", "M301", "M302", "M303", "M304", "M305", "M306", "M401", "M402", "M501",
                  "M502")
PENSIONER_PLANTS = ("P101", "P102", "P103", "P104", "P105", "P106", "P201", "P202", "P203", "P204", "P205", "P301",
                    "P302", "P303", "P304", "P305", "P306", "P401", "P501")


def _plant_insured(rng, case: _Case, frame: pd.DataFrame, per_rule: int) -> tuple[pd.DataFrame, list]:
    """Plant ``per_rule`` errors of every insured rule on distinct records (all columns as text)."""
    v = np.datetime64(f"{case.t0}-01-01")
    birth = frame["birth_date"].to_numpy().astype("datetime64[D]")
    affiliation = frame["affiliation_date"].to_numpy().astype("datetime64[D]")
    months = frame["contribution_months"].to_numpy()
    since = _years_between(v, affiliation)
    exact_age = _years_between(v, birth)
    text = pd.DataFrame({c: frame[c].astype(str) for c in ("id", "sex", "status", "credited_service",
                                                           "contribution_months", "earnings")})
    text["birth_date"] = frame["birth_date"].dt.strftime("%Y-%m-%d")
    text["affiliation_date"] = frame["affiliation_date"].dt.strftime("%Y-%m-%d")
    pick = _Picker(rng, len(frame))
    planted, appended = [], []
    ceiling0 = case.ceiling / (1 + case.growth)
    constant = {**dict.fromkeys(("M101", "M102", "M103", "M104", "M105", "M106", "M107", "M108"), ""),
                "M202": "31/12/2001", "M203": "X", "M204": "retired", "M205": "-2.5", "M206": "13",
                "M207": "-1500.00", "M303": f"{case.t0}-03-15", "M305": f"{case.t0}-06-01", "M306": "0.00"}
    earners = months > 0
    everyone = np.ones(len(frame), dtype=bool)
    for code in INSURED_PLANTS:
        field = RULES[code].field
        if code in constant:
            rows = pick(earners if code in ("M207", "M306") else everyone, per_rule)
            values = np.full(rows.size, constant[code])
        elif code == "M201":
            rows = pick(everyone, per_rule)
            values = np.array([f"{y}-02-30" for y in pd.DatetimeIndex(birth[rows]).year])
        elif code == "M301":
            rows = pick(exact_age > 20, per_rule)
            values = _iso(birth[rows] + np.round((5 + 8.5 * rng.random(rows.size)) * YEAR_DAYS).astype(int) * DAY)
        elif code == "M302":
            rows = pick((since < PLAUSIBLE_SERVICE - 3) & (exact_age - since > MIN_AFFILIATION_AGE + 1), per_rule)
            values = np.array([f"{s:.2f}" for s in since[rows] + 2.0])
        elif code == "M304":
            rows = pick(everyone, per_rule)
            too_young = case.lo - 1 if case.lo > 0 else case.max_age + 5
            values = _iso(_births(rng, case.t0, np.full(rows.size, too_young)))
        elif code == "M501":
            rows = pick(earners, per_rule)
            values = np.array([f"{e:.2f}" for e in 3 * ceiling0 * months[rows] / 12])
        elif code == "M502":
            rows = pick(exact_age - MIN_AFFILIATION_AGE - 0.3 > PLAUSIBLE_SERVICE + 1, per_rule)
            values = np.array([f"{PLAUSIBLE_SERVICE + 0.5:.2f}"] * rows.size)
            text.loc[rows, "affiliation_date"] = _iso(birth[rows] + np.round(
                (MIN_AFFILIATION_AGE + 0.1 + 0.2 * rng.random(rows.size)) * YEAR_DAYS).astype(int) * DAY)
        elif code in ("M401", "M402"):
            rows = pick(everyone, per_rule)
            copies = text.iloc[rows].copy()
            if code == "M402":
                copies["id"] = [f"D{i}" for i in range(len(appended), len(appended) + rows.size)]
            appended.append((code, copies))
            continue
        text.loc[rows, field] = values
        planted += [(code, int(r), field, str(val)) for r, val in zip(rows, values)]
    _separate(text, planted)
    base = len(text)
    extra = []
    for code, copies in appended:
        for i in range(len(copies)):
            extra.append((code, base + len(extra), copies.iloc[i]))
    if extra:
        text = pd.concat([text, pd.DataFrame([row for _, _, row in extra])], ignore_index=True)
        planted += [(code, int(r), "id", str(text.iloc[r]["id"])) for code, r, _ in extra]
    return text, planted


def _separate(text: pd.DataFrame, planted: list) -> None:
    """A planted affiliation date (M301, M502) must not make two records the same person (M402):
    move it by a day until it does not."""
    moved = np.array([row for code, row, *_ in planted if code in ("M301", "M502")], dtype=int)
    for _ in range(100):
        key = text["sex"] + "|" + text["birth_date"] + "|" + text["affiliation_date"]
        clash = moved[key.duplicated(keep=False).to_numpy()[moved]] if moved.size else moved
        if not clash.size:
            return
        shifted = pd.to_datetime(text.loc[clash, "affiliation_date"]) + pd.Timedelta(days=1)
        text.loc[clash, "affiliation_date"] = shifted.dt.strftime("%Y-%m-%d").to_numpy()


def _plant_pensioners(rng, case: _Case, frame: pd.DataFrame, per_rule: int) -> tuple[pd.DataFrame, list]:
    birth = frame["birth_date"].to_numpy().astype("datetime64[D]")
    age = frame["_age"].to_numpy()
    benefit = frame["benefit"].to_numpy()
    text = pd.DataFrame({c: frame[c].astype(str) for c in ("id", "sex", "benefit", "annual_amount")})
    text["birth_date"] = frame["birth_date"].dt.strftime("%Y-%m-%d")
    text["award_date"] = frame["award_date"].dt.strftime("%Y-%m-%d")
    pick = _Picker(rng, len(frame))
    planted, extra = [], []
    constant = {**dict.fromkeys(("P101", "P102", "P103", "P104", "P105", "P106"), ""), "P201": "unknown",
                "P202": "2015-02-29", "P203": "U", "P204": "survivor", "P205": "-120.00",
                "P301": f"{case.t0}-04-01", "P302": f"{case.t0 - case.max_age - 3}-06-30", "P304": f"{case.t0}-02-01",
                "P501": f"{3 * case.maximum_pension if np.isfinite(case.maximum_pension) else 1e9:.2f}"}
    everyone = benefit != "orphan"      # orphans are kept for P303 (and stay clear of P305)
    for code in PENSIONER_PLANTS:
        field = RULES[code].field
        if code in constant:
            rows = pick(everyone, per_rule)
            values = np.full(rows.size, constant[code])
        elif code == "P303":
            rows = pick(benefit == "orphan", per_rule)
            values = _iso(_births(rng, case.t0, np.full(rows.size, case.orphan_limit + 1)))
            text.loc[rows, "award_date"] = values
        elif code == "P305":
            rows = pick((benefit == "old_age") & (age < 100), per_rule)
            young = np.maximum(np.floor(case.era[frame["_sex"].to_numpy()[rows]]).astype(int) - 5, 1)
            values = _iso(_births(rng, case.t0, young))
            text.loc[rows, "award_date"] = f"{case.t0 - 1}-01-01"
            field = "birth_date"
        elif code == "P306":
            rows = pick(everyone, per_rule)
            values = _iso(birth[rows] - 400 * DAY)
        elif code == "P401":
            rows = pick(everyone, per_rule)
            extra.append((code, text.iloc[rows].copy()))
            continue
        text.loc[rows, field] = values
        planted += [(code, int(r), field, str(val)) for r, val in zip(rows, values)]
    for code, copies in extra:
        base = len(text)
        text = pd.concat([text, copies], ignore_index=True)
        planted += [(code, base + i, "id", str(copies.iloc[i]["id"])) for i in range(len(copies))]
    return text, planted


# ----------------------------------------------------------------------------------- main

def controls_of(case: _Case, weight: float) -> pd.DataFrame:
    """Control totals of the case itself (what a full extract would show on average): contributors (actives with
    months > 0 and the quarter of inactive with some), contributions (rate x collection x expected insurable
    earnings), pensions and their annual amount by benefit. Tolerance 2%, for the pensions
    :data:`SAMPLING_ERRORS` sampling standard errors of a sample total when wider; :func:`_sample_tolerances` sets
    the contributors' and contributions' from the records drawn."""
    ini = case.inputs.initial
    active, inactive = ini["active"].values.sum(-1), ini["inactive"].values.sum(-1)   # (sex, age)
    density = case.density
    ages = np.arange(case.lo, case.lo + active.shape[1])
    sex = np.arange(2)[:, None]
    level = 1 / (1 + case.growth)
    mean = series.insurable_share(case.scale_at(sex, ages[None, :] - 1) * level, case.floor * level,
                                  case.ceiling * level, case.cv)
    service_share_new = ini["active"].values[..., 0] / np.where(active > 0, active, 1)
    months_active = (1 - service_share_new) * 12 * density + service_share_new * 6.5 * density
    months_inactive = 0.25 * 6 * density
    p_active = 1 - (1 - service_share_new) * (1 - density) ** 12 - service_share_new * np.mean(
        [(1 - density) ** m for m in range(1, 13)], axis=0)
    p_inactive = 0.25 * (1 - np.mean([(1 - density) ** m for m in range(1, 12)], axis=0))
    contributors = float((active * p_active + inactive * p_inactive).sum())
    earnings = float((mean * (active * months_active + inactive * months_inactive) / 12).sum())
    rate = float(case.inputs.scheme["contribution_rate"].values[0] * case.inputs.scheme["collection_rate"].values[0])
    rows = [dict(item="contributors", benefit="", value=round(contributors), tolerance=0.02, fatal="yes"),
            dict(item="contributions", benefit="", value=round(rate * earnings), tolerance=0.02, fatal="yes")]
    count = ini["pensioners"].values
    amount = count * ini["average_pension"].values
    for b, name in enumerate(BENEFITS):
        # 2%, or 4.5 sampling standard errors of a sample total when wider. The pensions are drawn as a fixed total
        # (pensioners / weight) spread multinomially over the cells, so a benefit's count is binomial with its share
        # of the pensions: relative standard error sqrt(weight (1 - share) / count) (R03); the amount adds each
        # pension's spread around its cell's average: sqrt(weight (1 + cv^2) / count) (R04). The count's used to
        # be the amount's: for old-age pensions (91% of Demoland's) 3.4 times too wide, so that a 10% error in the
        # control total was inside the tolerance of a 2,000-member sample (20%) and went unseen.
        share = count[b].sum() / max(count.sum(), 1.0)
        tolerances = {item: round(max(0.02, SAMPLING_ERRORS * np.sqrt(weight * spread / max(count[b].sum(), 1.0))), 4)
                      for item, spread in (("pensioners", 1 - share), ("benefits_paid", 1 + PENSION_CV ** 2))}
        rows.append(dict(item="pensioners", benefit=name, value=round(float(count[b].sum())),
                         tolerance=tolerances["pensioners"], fatal="yes"))
        rows.append(dict(item="benefits_paid", benefit=name, value=round(float(amount[b].sum())),
                         tolerance=tolerances["benefits_paid"], fatal="yes"))
    return pd.DataFrame(rows)


def _sample_tolerance(values, planted_records: int, most: float) -> float:
    """The tolerance of a control total that the drawn records (x weight) are compared with: 2%, or when wider
    :data:`SAMPLING_ERRORS` sampling standard errors of the sample total, estimated from the records' ``values``
    (relative standard error sd / (mean sqrt(n))), plus the most the planted errors can move it (the
    ``planted_records`` records with one, each adding or taking at most ``most``), over the sample total; rounded up
    to 4 decimals."""
    values = np.asarray(values, dtype=float)
    total = float(values.sum())
    if values.size < 2 or total <= 0:
        return 0.02
    sampling = SAMPLING_ERRORS * float(values.std(ddof=1)) * np.sqrt(values.size) / total
    return max(0.02, float(np.ceil((sampling + planted_records * most / total) * 1e4)) / 1e4)


def _sample_tolerances(controls: pd.DataFrame, case: _Case, insured: pd.DataFrame, pensioners: pd.DataFrame,
                       planted: list) -> None:
    """Set the tolerances of the contributors and contributions controls (R01, R02) for the sample drawn
    (:func:`_sample_tolerance`): a contributor counts 1 (a record with a planted error turns at most one into a
    non-contributor, or adds one as a duplicate), earnings their amount (a planted error takes a record's earnings out,
    adds a duplicate's or an outlier's capped at the earnings ceiling). With 2,000 members 2% is about 1.5 standard
    errors of the contributors and less than one of the contributions: the suggested ``actuary data`` would stop on
    chance alone. The fatal pension controls (R03, R04; their sampling error is in :func:`controls_of`) are widened
    by what the planted errors among the pensions of their benefit can take out of the count and the amount."""
    months = insured["contribution_months"].to_numpy(dtype=float)
    earnings = insured["earnings"].to_numpy(dtype=float)
    ceiling = case.ceiling / (1 + case.growth)   # the earnings ceiling of the year before t0 (outliers capped there)
    most = max(float(earnings.max(initial=0.0)), ceiling if np.isfinite(ceiling) else 0.0)
    hit = len({row for file, _, row, *_ in planted if file == "insured"})
    for item, values, each in (("contributors", months > 0, 1.0), ("contributions", earnings, most)):
        controls.loc[controls["item"] == item, "tolerance"] = _sample_tolerance(values, hit, each)
    rows = sorted({row for file, _, row, *_ in planted if file == "pensioners" and row < len(pensioners)})
    benefit, amount = pensioners["benefit"].to_numpy(), pensioners["annual_amount"].to_numpy(dtype=float)
    hit_benefit = benefit[rows] if rows else benefit[:0]
    for index, control in controls.iterrows():
        if control["item"] not in ("pensioners", "benefits_paid") or control["fatal"] != "yes":
            continue
        mine = benefit == control["benefit"] if control["benefit"] else np.ones(len(benefit), dtype=bool)
        count = int(mine.sum())
        if not count:
            continue
        planted_here = int((hit_benefit == control["benefit"]).sum() if control["benefit"] else len(rows))
        share = (planted_here / count if control["item"] == "pensioners"
                 else planted_here * float(amount[mine].max()) / float(amount[mine].sum()))
        controls.loc[index, "tolerance"] = float(np.ceil((control["tolerance"] + share) * 1e4)) / 1e4


def _max_excluded(planted: list, insured: int, pensioners: int) -> list[str]:
    """The ``--max-excluded`` option of the suggested ``actuary data`` (none when its default does): the largest
    share of records of either extract excluded by the planted errors (rounded up to a percent), so that the
    suggested command runs through (the checks still list every exclusion)."""
    excluding = {code for code, rule in RULES.items() if rule.treatment == "exclude"}
    shares = [sum(1 for file, code, *_ in planted if file == name and code in excluding) / records
              for name, records in (("insured", insured), ("pensioners", pensioners)) if records]
    needed = max(shares, default=0.0)
    if needed <= MAX_EXCLUDED:
        return []
    return ["--max-excluded", f"{np.ceil(needed * 100 + 1e-6) / 100:g}"]


def _write(frame: pd.DataFrame, path: Path, fmt: str, layout) -> None:
    frame = frame[list(layout.names)]
    if fmt == "parquet":
        dates = [c.name for c in layout.columns if c.kind == "date" and frame[c.name].dtype.kind == "M"]
        frame.assign(**{c: frame[c].dt.date for c in dates}).to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, date_format="%Y-%m-%d")


def extract_files(t0: int, years: int, fmt: str) -> dict:
    """The files of the extracts :func:`synthesize` writes (besides errors.csv and manifest.json), by role: the
    insured and pensioner extracts at 1 January ``t0`` (with ``years`` 2 also a year later) and the controls."""
    ext = "parquet" if fmt == "parquet" else "csv"
    files = {"insured": f"insured-{t0}.{ext}", "pensioners": f"pensioners-{t0}.{ext}", "controls": "controls.csv"}
    if years == 2:
        files.update(insured_next=f"insured-{t0 + 1}.{ext}", pensioners_next=f"pensioners-{t0 + 1}.{ext}")
    return files


def synthesize(valuation, members: int, seed: int, out, errors: float = 0.0, years: int = 1,
               fmt: str = "csv", source: str = "", force: bool = False) -> dict:
    """Write synthetic extracts of ``valuation`` into ``out`` and return the manifest (also written
    as ``manifest.json``).

    The files are one set of outputs (:class:`actuary.io.files.OutputSet`): a file of their names in ``out`` that
    actuary did not write, or that changed since, is refused before anything is drawn unless ``force``; they are
    moved into place together once all are written, so that a run that fails or is interrupted on the way leaves
    ``out`` as it was."""
    from ..io.files import OutputSet

    require_scheme(valuation, "actuary synth")
    if members < 1:
        raise InputError(f"--members {members}: expected at least 1 member.")
    if not 0 <= errors < 0.5:
        raise InputError(f"--errors {errors}: expected a share of records between 0 and 0.5.")
    if years not in (1, 2):
        raise InputError(f"--years {years}: expected 1 or 2.")
    if fmt not in ("csv", "parquet"):
        raise InputError(f"--format {fmt}: expected csv or parquet.")
    out = Path(out)
    names = [*extract_files(valuation.inputs.settings["valuation_year"], years, fmt).values(), "errors.csv",
             "manifest.json"]
    with OutputSet(out, names, force=force) as outputs:
        manifest = _draw_into(outputs, valuation, members, seed, out, errors, years, fmt, source)
        outputs.commit()
    return manifest


def _draw_into(outputs, valuation, members: int, seed: int, out: Path, errors: float, years: int, fmt: str,
               source: str) -> dict:
    """Draw the records and write each file of :func:`synthesize` to its path in the output set ``outputs`` (the
    staging folder); the manifest returned names the files where they will be once in place (in ``out``)."""
    case = _Case(valuation)
    rng = np.random.default_rng(seed)
    ini = case.inputs.initial
    insured_total = float(ini["active"].sum() + ini["inactive"].sum())
    if insured_total <= 0:
        raise InputError("the workbook has no insured persons (Insured sheet) to draw members from.")
    weight = insured_total / members
    pension_total = float(ini["pensioners"].sum())
    n_pensioners = int(round(pension_total / weight))
    insured = _insured_sample(rng, case, members)
    pensioners = _pensioner_sample(rng, case, n_pensioners)
    order = rng.permutation(len(insured))
    insured = insured.iloc[order].reset_index(drop=True)
    insured.insert(0, "id", (1_000_001 + rng.permutation(len(insured))).astype(str))
    pensioners.insert(0, "id", (1_000_001 + len(insured) + rng.permutation(len(pensioners))).astype(str))
    next_id = 1_000_001 + len(insured) + len(pensioners)
    t0 = case.t0
    files = extract_files(t0, 1, fmt)
    planted = []
    controls = controls_of(case, weight)
    if errors > 0:
        per_rule = max(1, int(round(errors * (len(insured) + len(pensioners)) / (len(INSURED_PLANTS)
                                                                                 + len(PENSIONER_PLANTS)))))
        insured_out, planted_i = _plant_insured(rng, case, insured, per_rule)
        pensioners_out, planted_p = _plant_pensioners(rng, case, pensioners, per_rule)
        planted = [("insured", *p) for p in planted_i] + [("pensioners", *p) for p in planted_p]
        target = controls.index[(controls["item"] == "pensioners") & (controls["benefit"] == "old_age")][0]
        controls.loc[target, "value"] = round(controls.loc[target, "value"] * 1.10)
        controls.loc[target, "fatal"] = "no"
        planted.append(("controls", "R03", int(target), "value", str(controls.loc[target, "value"])))
    else:
        insured_out, pensioners_out = insured, pensioners
    _sample_tolerances(controls, case, insured, pensioners, planted)
    _write(insured_out, outputs.path(files["insured"]), fmt, INSURED)
    _write(pensioners_out, outputs.path(files["pensioners"]), fmt, PENSIONERS)
    controls.to_csv(outputs.path(files["controls"]), index=False)
    if years == 2:
        second, second_pensioners = _second_year(rng, case, insured, pensioners, weight, next_id)
        files = extract_files(t0, 2, fmt)
        _write(second, outputs.path(files["insured_next"]), fmt, INSURED)
        _write(second_pensioners, outputs.path(files["pensioners_next"]), fmt, PENSIONERS)
    errors_frame = pd.DataFrame(planted, columns=["file", "rule", "row", "field", "value"])
    # where the checks workbook gives each record: the line of a CSV file (the header is line 1), the position in a
    # Parquet file (1 = first record); the controls are a CSV file
    first = {"insured": 2 if fmt == "csv" else 1, "pensioners": 2 if fmt == "csv" else 1, "controls": 2}
    errors_frame["row"] = errors_frame["row"] + errors_frame["file"].map(first).astype(int)
    errors_frame.to_csv(outputs.path("errors.csv"), index=False)
    counts = errors_frame.groupby("rule").size().to_dict() if len(errors_frame) else {}
    manifest = {
        "workbook": source, "valuation_date": f"{t0}-01-01", "seed": seed, "members": int(len(insured)),
        "pensioners": int(len(pensioners)), "weight": weight, "sampling_fraction": 1 / weight,
        "error_rate": errors, "years": years, "files": files, "planted_errors": {k: int(v) for k, v in counts.items()},
        # the command that fills the initial state of the workbook the records were drawn from (WORKBOOK when
        # that is not known), ready to paste into a shell
        "data_command": shlex.join(["actuary", "data", "--members", str(out / files["insured"]), "--pensioners",
                                    str(out / files["pensioners"]), "--controls", str(out / files["controls"]),
                                    "--valuation-date", f"{t0}-01-01", "--weight", repr(weight),
                                    *_max_excluded(planted, len(insured_out), len(pensioners_out)), "--into",
                                    source or "WORKBOOK"]),
    }
    outputs.path("manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest
