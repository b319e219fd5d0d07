"""Experience analysis: two successive extracts (1 January t0 and t0 + 1) against the workbook's
assumptions for year t0, with confidence intervals, and graduated rates to paste into the workbook.

Members are matched by id (both extracts pass the data checks first; excluded records are left
out). The outcome of year t0 of an insured person of extract 1: a pension awarded in year t0 in
extract 2 (old age: retirement, or a deferred pension of an inactive member; invalidity), else the
status in extract 2's insured file (active / inactive), else *gone*: a death, except for those who
must leave with a grant (not vested and reaching the normal retirement age, or the maximum
retirement age), who are left out of the deaths' exposure. The year's new pensioners who died
before its end are thus counted as deaths of actives: a small bias, stated in the workbook.

Decrements follow the engine's order and initial exposures (docs/methodology.md §4; README "Conventions"):

- actives: death q (all but the grant leavers); retirement r among the survivors who are vested
  and reach the early retirement age during the year (below the maximum retirement age); invalidity
  among the survivors not retired with the invalidity vesting service; exit to inactivity among the
  survivors left;
- inactive: death (all but the grant leavers); re-entry among the survivors below the normal
  retirement age;
- pensioners (old age, invalidity): death (absent from extract 2 under any benefit);
- salary increase of the members active at both dates with earnings in both years: the ratio of
  their mean annualised earnings of year t0 to year t0 - 1 (longitudinal), expected (1 + nominal wage
  growth of t0) x insurable salary(age) / insurable salary(age - 1) of the engine (cross-sectional: a
  ratio of the scale at two ages), each with its own standard error, the expected one's that of a
  scale graduated from extract 1's cross-section (see :func:`_ratio_bands`);
- contribution density of year t0 of the members active at both dates: mean contribution months / 12.

Ages are completed ages at 1 January t0 (the age the assumptions are tabulated by). Each rate is
an observed count over an exposure: exact (Clopper-Pearson) binomial intervals; the salary increase:
Student's t interval (delta method); contribution density: Wilson score interval of a share of
months. Bands of five years of age, by sex; the expected rate of a band is
the exposure-weighted average of the workbook's rates over its ages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..validation import SEXES, InputError
from . import checks as rules
from .aggregate import _earnings_by_age, graduated_scale, scale_observations
from .graduation import (bias_corrected_graduation, binomial_interval, graduate,
                         normal_interval, share_interval, student_interval)
from ..io.safety import stem_name
from .intake import check_and_aggregate, connection, require_scheme
from .sources import Source

BAND = 5
RATES = {
    # measure: (population, label, assumption it tests)
    "death_active": ("insured", "deaths of actives", "active_mortality_factor"),
    "retirement": ("insured", "retirements of eligible actives", "retirement_rate"),
    "invalidity": ("insured", "invalidity awards", "invalidity_rate"),
    "exit": ("insured", "exits to inactivity", "exit_rate"),
    "death_inactive": ("insured", "deaths of inactive insured", "mortality"),
    "reentry": ("insured", "re-entries of inactive insured", "reentry_rate"),
    "death_old_age": ("pensioners", "deaths of old-age pensioners", "pensioner_mortality_factor"),
    "death_invalidity": ("pensioners", "deaths of invalidity pensioners", "invalid_mortality_factor"),
}


@dataclass
class Experience:
    bands: pd.DataFrame        # measure, sex, band, exposure, observed, expected, rates, CI, A/E, within
    ages: pd.DataFrame         # measure, sex, age, exposure, observed, expected (single ages)
    salary: pd.DataFrame       # sex, band, members, observed increase, CI, expected increase, its CI, within
    density: pd.DataFrame      # sex, band, members, observed mean, CI, expected, within
    proposed: dict             # field -> DataArray (sex, age) of graduated proposals
    matched: dict
    level: float

    @property
    def coverage(self) -> float:
        """Share of the bands (rates, salary, density) whose interval contains the expected value."""
        within = pd.concat([self.bands["within"], self.salary["within"], self.density["within"]])
        return float(within.mean()) if len(within) else float("nan")


def _clean(con) -> dict:
    return {"insured": con.sql("SELECT id, sex, age, status, service, months, annualised FROM insured_clean").to_arrow_table(),
            "pensioners": con.sql("SELECT id, benefit, sex, age, award_date FROM pensioners_clean").to_arrow_table()}


def _by_sex(values: dict) -> str:
    return f"CASE sex WHEN 'M' THEN {float(values['M'])} ELSE {float(values['F'])} END"


def _outcomes(con, inputs, v1: dt.date, v2: dt.date) -> pd.DataFrame:
    """Exposures and events by measure, sex and age (single ages), in SQL over the matched extracts."""
    sch, st = inputs.scheme, inputs.settings
    era = {"M": float(sch["early_retirement_age"].isel(year=0).sel(sex="male")),
           "F": float(sch["early_retirement_age"].isel(year=0).sel(sex="female"))}
    nra = {"M": float(sch["normal_retirement_age"].isel(year=0).sel(sex="male")),
           "F": float(sch["normal_retirement_age"].isel(year=0).sel(sex="female"))}
    con.execute(f"""
    CREATE TABLE awards AS SELECT id, arg_min(benefit, award_date) AS benefit FROM p2
    WHERE award_date >= DATE '{v1.isoformat()}' AND award_date < DATE '{v2.isoformat()}'
      AND benefit IN ('old_age', 'invalidity') GROUP BY id""")
    con.execute(f"""
    CREATE TABLE moves AS
    WITH m AS (
        SELECT a.id, a.sex, a.age, a.status AS status1, least(floor(a.service), {st['max_service']}) AS k,
               a.annualised AS pay1, b.status AS status2, b.months AS months2, b.annualised AS pay2, w.benefit AS award
        FROM i1 a LEFT JOIN (SELECT DISTINCT ON (id) * FROM i2) b USING (id) LEFT JOIN awards w USING (id))
    SELECT *,
        k >= {float(sch['vesting_years'].values[0])} AS vested,
        k >= {float(sch['invalidity_vesting_years'].values[0])} AS inv_vested,
        age + 1 >= {st['max_retirement_age']} AS forced,
        age + 1 >= {_by_sex(era)} AS early,
        age + 1 >= {_by_sex(nra)} AS normal,
        CASE WHEN award = 'old_age' THEN 'retire' WHEN award = 'invalidity' THEN 'invalid'
             WHEN status2 = 'active' THEN 'active' WHEN status2 = 'inactive' THEN 'inactive' ELSE 'gone' END AS outcome
    FROM m""")
    grant = "(NOT vested AND (normal OR forced))"
    queries = {
        "death_active": (f"status1 = 'active' AND NOT {grant}", "outcome = 'gone'"),
        "retirement": ("status1 = 'active' AND vested AND early AND NOT forced AND outcome <> 'gone'",
                       "outcome = 'retire'"),
        "invalidity": (f"status1 = 'active' AND inv_vested AND NOT {grant} AND NOT forced "
                       "AND outcome NOT IN ('gone', 'retire')", "outcome = 'invalid'"),
        "exit": (f"status1 = 'active' AND NOT {grant} AND NOT forced AND outcome IN ('active', 'inactive')",
                 "outcome = 'inactive'"),
        "death_inactive": ("status1 = 'inactive' AND NOT ((normal OR forced) AND NOT vested)", "outcome = 'gone'"),
        "reentry": ("status1 = 'inactive' AND NOT (normal OR forced) AND outcome <> 'gone'", "outcome = 'active'"),
    }
    parts = [f"SELECT '{m}' AS measure, sex, age, count(*) AS exposure, count(*) FILTER (WHERE {event}) AS observed "
             f"FROM moves WHERE {exposed} GROUP BY sex, age" for m, (exposed, event) in queries.items()]
    for measure, benefit in (("death_old_age", "old_age"), ("death_invalidity", "invalidity")):
        parts.append(f"SELECT '{measure}' AS measure, a.sex, a.age, count(*) AS exposure, "
                     f"count(*) FILTER (WHERE b.id IS NULL) AS observed FROM p1 a "
                     f"LEFT JOIN (SELECT DISTINCT id FROM p2) b USING (id) WHERE a.benefit = '{benefit}' "
                     f"GROUP BY a.sex, a.age")
    return con.execute(" UNION ALL ".join(parts)).df()


def _expected_rates(inputs) -> dict:
    """The workbook's rates of year t0 by measure: arrays (sex, age) on the population age grid."""
    from ..projection import build_kernel_inputs

    kin = build_kernel_inputs(inputs)
    lo = inputs.settings["min_age"]
    n_full = inputs.settings["max_age"] + 1

    def full(array):
        out = np.zeros((2, n_full))
        out[:, lo:] = array
        return out

    ins, pen = kin.insured, kin.pensions
    return {"death_active": full(ins["q_active"][0]), "retirement": full(ins["retire_rate"][0]),
            "invalidity": full(ins["invalidity_rate"][0]), "exit": full(ins["exit_rate"][0]),
            "death_inactive": full(ins["q_inactive"][0]), "reentry": full(ins["reentry_rate"][0]),
            "death_old_age": pen["q_pension"][0, 0], "death_invalidity": pen["q_pension"][0, 1],
            "density": full(ins["contribution_density"][0]), "insurable": full(ins["salary"][0]),
            "wage_growth": float(kin.series["wage_growth"][0])}


def _band(age, lo: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and first ages of the five-year bands (from ``lo``) of the ages."""
    start = lo + ((np.asarray(age, dtype=int) - lo) // BAND) * BAND
    return np.array([f"{s}-{s + BAND - 1}" for s in start], dtype=object), start


def _sex_index(sex) -> np.ndarray:
    return np.where(np.asarray(sex) == "M", 0, 1)


def rate_bands(ages: pd.DataFrame, lo: int, level: float) -> pd.DataFrame:
    """Five-year bands of single-age exposures, events and expected events, with exact intervals."""
    frame = ages.copy()
    frame["band"], frame["start"] = _band(frame["age"], lo)
    grouped = frame.groupby(["measure", "sex", "start", "band"], as_index=False)[
        ["exposure", "observed", "expected"]].sum().sort_values(["measure", "sex", "start"])
    n, d, e = (grouped[c].to_numpy(dtype=float) for c in ("exposure", "observed", "expected"))
    low, high = binomial_interval(d, n, level)
    expected_rate = np.divide(e, n, out=np.zeros_like(e), where=n > 0)
    grouped["observed_rate"] = np.divide(d, n, out=np.zeros_like(d), where=n > 0)
    grouped["ci_low"], grouped["ci_high"] = low, high
    grouped["expected_rate"] = expected_rate
    with np.errstate(divide="ignore", invalid="ignore"):
        grouped["actual_to_expected"] = np.where(e > 0, d / e, np.nan)
        grouped["ae_ci_low"] = np.where(expected_rate > 0, low / expected_rate, np.nan)
        grouped["ae_ci_high"] = np.where(expected_rate > 0, high / expected_rate, np.nan)
    grouped["within"] = (expected_rate >= low - 1e-12) & (expected_rate <= high + 1e-12)
    return grouped.drop(columns="start").reset_index(drop=True)


def analyse(con, inputs, v1: dt.date, v2: dt.date, level: float = 0.95) -> Experience:
    """The experience of year t0 from the tables i1, p1, i2, p2 registered in ``con``."""
    lo = inputs.settings["min_age"]
    expected = _expected_rates(inputs)
    ages = _outcomes(con, inputs, v1, v2)
    s = _sex_index(ages["sex"])
    ages["expected"] = [expected[m][si, a] for m, si, a in zip(ages["measure"], s, ages["age"])]
    ages["expected"] = ages["expected"] * ages["exposure"]
    ages = ages.sort_values(["measure", "sex", "age"]).reset_index(drop=True)
    bands = rate_bands(ages, lo, level)
    # salary increases and contribution density of the members active at both dates
    pay = con.execute("""
        SELECT sex, age, count(*) AS members, sum(pay1) AS x, sum(pay2) AS y, sum(pay1 * pay1) AS xx,
               sum(pay2 * pay2) AS yy, sum(pay1 * pay2) AS xy
        FROM moves WHERE outcome = 'active' AND status1 = 'active' AND pay1 IS NOT NULL AND pay2 IS NOT NULL
        GROUP BY sex, age ORDER BY sex, age""").df()
    pay = pay[pay["age"] - 1 >= lo]
    insurable = expected["insurable"]
    si = _sex_index(pay["sex"])
    pay["ratio_expected"] = (1 + expected["wage_growth"]) * insurable[si, pay["age"]] / insurable[si, pay["age"] - 1]
    salary = _ratio_bands(pay, lo, level, _cross_section_covariance(con))
    months = con.execute("""
        SELECT sex, age, count(*) AS members, sum(months2 / 12) AS s1, sum((months2 / 12) ^ 2) AS s2
        FROM moves WHERE outcome = 'active' AND status1 = 'active' AND months2 BETWEEN 0 AND 12
        GROUP BY sex, age ORDER BY sex, age""").df()
    months["expected"] = expected["density"][_sex_index(months["sex"]), months["age"]] * months["members"]
    density = _mean_bands(months, lo, level)
    matched = con.execute("""SELECT count(*) AS insured, count(*) FILTER (WHERE outcome = 'gone') AS gone,
        count(*) FILTER (WHERE outcome IN ('retire', 'invalid')) AS awarded FROM moves""").df().iloc[0].to_dict()
    matched["new_entrants"] = con.execute("SELECT count(*) FROM i2 WHERE id NOT IN (SELECT id FROM i1)").fetchall()[0][0]
    proposed = _proposals(inputs, ages, pay, months)
    return Experience(bands, ages, salary, density, proposed, {k: int(v) for k, v in matched.items()}, level)


def _cross_section_covariance(con) -> dict:
    """By sex (M, F): (ages, covariance of the log mean insurable earnings by age, bias of the log scale by age):
    how well a salary scale built from extract 1 as ``actuary data`` builds it
    (:func:`actuary.data.aggregate.salary_scale`: the earnings of the year before the valuation date of its active
    earners, by age at 1 January of that year, graduated with the same weights, lambda the smoothest the chi-square
    test accepts) knows the mean salary by age, and so its age-to-age ratios.

    The smoothest graduation the data accept is smoother than the data warrant: where the scale bends (steeply
    at young ages) it flattens the bend, and its age-to-age ratios are biased there by more than their own
    posterior error; an interval from its covariance alone held the true increase in 74% of the bands of a
    0.4%-like sample, 7% in the youngest (tests/test_experience_coverage.py). So the mean salary by age is read
    from the same earnings with the lambda of maximum marginal likelihood
    (:func:`actuary.data.graduation.marginal_likelihood_graduation`; GCV's lambda nearly interpolated the men's
    earnings of the 0.4% round trip of tests/test_data_experience.py). That graduation too pulls the end of the
    range towards a straight line: Whittaker's Bayesian posterior (mean z_ml, covariance (W + lambda_ml D'D)^-1),
    calibrated on average over the ages only, held the youngest band's increase 79% of the time, its own bias
    there (1.4% low, one standard error) not in it. So its bias is estimated from its residuals and taken off
    (:func:`actuary.data.graduation.bias_corrected_graduation`): the mean salary by age is read as c, with the
    sampling covariance of c; the scale's error given the data is then about normal with that covariance and mean
    log z_scale - log c, returned as the bias. :func:`_ratio_bands` takes the interval of the expected increase
    less that bias, stretched to hold the expected increase itself (it shows where the scale's bias is)."""
    cells = con.execute("""
        SELECT sex, age, count(annualised) AS earners, sum(annualised) AS s1, sum(annualised * annualised) AS s2
        FROM i1 WHERE status = 'active' AND annualised IS NOT NULL GROUP BY sex, age""").df()
    earnings = _earnings_by_age(cells)
    out = {}
    for code in ("M", "F"):
        graduated = graduated_scale(earnings, code)
        if graduated is None:
            continue
        span, weight, smooth, lam = graduated
        _, y, _ = scale_observations(earnings, code)
        pilot, covariance = bias_corrected_graduation(y, weight)
        pilot = np.maximum(pilot, 1e-6 * np.max(y))
        out[code] = (span, covariance / np.outer(pilot, pilot), np.log(smooth) - np.log(pilot))
    return out


def _ratio_bands(pay: pd.DataFrame, lo: int, level: float, cross_section: dict | None = None) -> pd.DataFrame:
    """Salary increases of the members active at both dates by five-year band: observed (their mean pay of year
    t0 over that of t0 - 1, a longitudinal ratio: each member against himself) with its interval, and expected,
    the pay-weighted (1 + wage growth) x insurable salary(age) / insurable salary(age - 1) of the scale, a ratio of
    the scale at two ages, i.e. of two different groups of members (cross-sectional). Like is compared with like:
    the expected increase's own error as a cross-sectional estimate (``cross_section``, from
    :func:`_cross_section_covariance`: the covariance and the bias of the log scale by age a scale built from
    extract 1 has) gives the expected increase an interval: that of the bias-corrected increase, expected - bias
    -/+ z se, stretched to hold the expected increase (so it leans to the side the scale's bias is on: where the
    scale flattens the bend of the young ages its increases are too low, and the interval reaches above them).
    Its half-width is added to the observed one's in quadrature; the assumption is within when observed -
    expected is within that combined half-width. (The bias added in quadrature instead, expected -/+ z sqrt(se^2 +
    bias^2) from the posterior of the maximum-marginal-likelihood graduation, held the true increase in 87% of the
    simulated youngest bands and 99.7-100% of the others, too wide there: tests/test_experience_coverage.py.)

    The observed increase's interval uses Student's t with Kish's effective number of members less one degrees
    of freedom (X^2 / sum x^2 - 1: the increase is their pay-weighted mean, and the standard error is estimated
    from the same few members): with the normal quantile it held the true increase 84% of the time with 5 members
    a band and 91% with 20 (tests/test_experience_coverage.py)."""
    frame = pay.copy()
    frame["band"], frame["start"] = _band(frame["age"], lo)
    frame["weighted_expected"] = frame["x"] * frame["ratio_expected"]
    g = frame.groupby(["sex", "start", "band"], as_index=False)[
        ["members", "x", "y", "xx", "yy", "xy", "weighted_expected"]].sum().sort_values(["sex", "start"])
    n, x, y = g["members"].to_numpy(float), g["x"].to_numpy(float), g["y"].to_numpy(float)
    ratio = y / x
    residual = np.maximum(g["yy"] - 2 * ratio * g["xy"] + ratio ** 2 * g["xx"], 0.0)
    se = np.sqrt(residual / np.maximum(n * (n - 1), 1)) / (x / n)
    # degrees of freedom: those of the members' pay-weighted mean (Kish's effective members X^2 / sum x^2, less 1)
    low, high = student_interval(ratio, se, x ** 2 / np.maximum(g["xx"].to_numpy(float), 1e-300) - 1, level)
    # the expected increase e = sum_a x_a r_a / X with r_a = (1 + g) s(a) / s(a - 1): de = sum_a (x_a r_a / X)
    # (dlog s(a) - dlog s(a - 1)); ages beyond those observed take the nearest one's value (the scale is flat there)
    scale_se, scale_bias = np.zeros(len(g)), np.zeros(len(g))
    for i, (code, start) in enumerate(zip(g["sex"], g["start"])):
        if not cross_section or code not in cross_section:
            continue
        span, covariance, bias = cross_section[code]
        rows = frame[(frame["sex"] == code) & (frame["start"] == start)]
        gradient = np.zeros(span.size)
        weight = (rows["x"] * rows["ratio_expected"]).to_numpy(float) / x[i]
        for a, c in zip(rows["age"].to_numpy(int), weight):
            gradient[np.clip(a - span[0], 0, span.size - 1)] += c
            gradient[np.clip(a - 1 - span[0], 0, span.size - 1)] -= c
        scale_se[i] = np.sqrt(max(float(gradient @ covariance @ gradient), 0.0))
        scale_bias[i] = float(gradient @ bias)
    expected = g["weighted_expected"].to_numpy(float) / x - 1
    # the interval of the bias-corrected estimate, expected - bias, stretched to the expected increase itself
    e_low, e_high = normal_interval(expected - scale_bias, scale_se, level)
    e_low, e_high = np.minimum(e_low, expected), np.maximum(e_high, expected)
    half = np.sqrt(((high - low) / 2) ** 2 + ((e_high - e_low) / 2) ** 2)   # of observed - expected
    out = pd.DataFrame(dict(sex=g["sex"], band=g["band"], members=n.astype(int), observed_increase=ratio - 1,
                            ci_low=low - 1, ci_high=high - 1, expected_increase=expected,
                            expected_ci_low=e_low, expected_ci_high=e_high))
    out["within"] = np.abs((ratio - 1) - expected) <= half + 1e-12
    return out[n > 1].reset_index(drop=True)


def _mean_bands(months: pd.DataFrame, lo: int, level: float) -> pd.DataFrame:
    """Contribution density by five-year band: the mean of the members' months / 12 with the Wilson score interval
    of a share of 12 months each (:func:`actuary.data.graduation.share_interval`; mean -/+ z sd / sqrt(n) had width
    0 when every member of a band had 12 months, and held the true density 67% of the time with 2 members a band,
    83% with 5)."""
    frame = months.copy()
    frame["band"], frame["start"] = _band(frame["age"], lo)
    g = frame.groupby(["sex", "start", "band"], as_index=False)[["members", "s1", "s2", "expected"]].sum().sort_values(
        ["sex", "start"])
    n = g["members"].to_numpy(float)
    mean = g["s1"] / n
    variance = np.maximum(g["s2"] / n - mean ** 2, 0.0) * n / np.maximum(n - 1, 1)
    low, high = share_interval(mean, variance, n, 12, level)
    out = pd.DataFrame(dict(sex=g["sex"], band=g["band"], members=n.astype(int), observed_density=mean, ci_low=low,
                            ci_high=high, expected_density=g["expected"] / n))
    out["within"] = (out["expected_density"] >= out["ci_low"] - 1e-12) & (out["expected_density"] <= out["ci_high"] + 1e-12)
    return out[n > 1].reset_index(drop=True)


def _graduated(inputs, frame: pd.DataFrame, value, weight, current: xr.DataArray, clip=(0.0, 1.0)) -> xr.DataArray:
    """Whittaker-Henderson graduation by sex over the ages with data; other ages keep ``current``."""
    out = current.copy()
    for s, code in enumerate(("M", "F")):
        part = frame[(frame["sex"] == code) & (frame[weight] > 0)]
        if part.empty:
            continue
        ages = np.arange(int(part["age"].min()), int(part["age"].max()) + 1)
        part = part.set_index("age").reindex(ages)
        w = part[weight].fillna(0.0).to_numpy()
        y = np.where(w > 0, value(part), 0.0)
        z, _ = graduate(y, w)
        keep = np.isin(ages, out.age.values)
        out.loc[dict(sex=SEXES[s], age=ages[keep])] = np.clip(z[keep], *clip)
    return out


def _proposals(inputs, ages: pd.DataFrame, pay: pd.DataFrame, months: pd.DataFrame) -> dict:
    beh = inputs.behaviour
    proposed = {}

    def rate(frame):
        return (frame["observed"] / frame["exposure"]).fillna(0.0).to_numpy()

    def ae(frame):
        return (frame["observed"] / frame["expected"]).fillna(0.0).to_numpy()

    for measure, field in (("exit", "exit_rate"), ("retirement", "retirement_rate"),
                           ("invalidity", "invalidity_rate"), ("reentry", "reentry_rate")):
        current = beh[field].isel(year=0, drop=True)
        proposed[field] = _graduated(inputs, ages[ages["measure"] == measure], rate, "exposure", current)
    for measure, field in (("death_active", "active_mortality_factor"), ("death_old_age", "pensioner_mortality_factor"),
                           ("death_invalidity", "invalid_mortality_factor")):
        current = beh[field]
        part = ages[(ages["measure"] == measure)]
        ratio = _graduated(inputs, part, ae, "expected", xr.ones_like(current), clip=(0.05, 20.0))
        proposed[field] = current * ratio
    frame = months.assign(exposure=months["members"])
    proposed["contribution_density"] = _graduated(
        inputs, frame, lambda f: (f["s1"] / f["members"]).fillna(0.0).to_numpy(), "exposure",
        beh["contribution_density"].isel(year=0, drop=True))
    return proposed


def write_experience_workbook(path, result: Experience, inputs, run: list) -> None:
    """The experience workbook: summary, actual/expected by band, salary and density, single ages,
    and the proposed tables laid out like the valuation workbook's sheets (paste the columns)."""
    from openpyxl import Workbook

    from ..io import workbook as layout
    from ..io.safety import text_cell
    from .report import save

    wb = Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet("Summary")
    ws.append(["Experience analysis"])
    rows = run + [("confidence level of the intervals", f"{100 * result.level:g}%"),
                  ("bands whose interval contains the assumption", f"{100 * result.coverage:.1f}%"),
                  ("note", "Pensions awarded and ended within the year are not in the second extract: such members "
                           "count as deaths of actives (a small bias).")]
    rows += [(f"members of extract 1: {key}", value) for key, value in result.matched.items()]
    for row, (key, value) in enumerate(rows, start=2):
        # the files and tables as given (an extract named '=1+1.csv') stay text, even once edited
        text_cell(ws, row, 1, key)
        if isinstance(value, str):
            text_cell(ws, row, 2, value)
        else:
            ws.cell(row=row, column=2, value=value)
    bands = result.bands.copy()
    bands.insert(1, "what", bands["measure"].map({k: v[1] for k, v in RATES.items()}))
    level = f"{100 * result.level:g}%"
    _frame_sheet(wb.create_sheet("Actual vs expected"), "Actual / expected by sex and age band", bands, level)
    _frame_sheet(wb.create_sheet("Salary increases"), "Salary increases of members active at both dates",
                 result.salary, level)
    _frame_sheet(wb.create_sheet("Contribution density"), "Contribution density of members active at both dates",
                 result.density, level)
    _frame_sheet(wb.create_sheet("By age"), "Single ages: exposure, observed and expected events", result.ages, level)
    coords = inputs.coords
    for name, fields, population in (("Decrements (proposed)", ("exit_rate", "retirement_rate", "invalidity_rate",
                                                                "reentry_rate"), False),
                                     ("Labour force (proposed)", ("contribution_density", "active_mortality_factor"),
                                      False),
                                     ("Demographic rates (proposed)", ("pensioner_mortality_factor",
                                                                       "invalid_mortality_factor"), True)):
        sheet = layout.Sheet(name, ("sex", "age"), fields, f"{name}: graduated from the experience (Whittaker-"
                             "Henderson); ages without experience keep the workbook's values", population)
        layout._write_table_sheet(wb.create_sheet(name), sheet, {f: result.proposed[f] for f in fields}, coords,
                                  False)
    save(wb, path)


# the experience tables' columns as a reader sees them: heading ({level}: the intervals' confidence level) and number
# format; "within" is written yes / no
COLUMNS = {
    "measure": ("measure", None), "what": ("what", None), "sex": ("sex", None), "band": ("age band", None),
    "age": ("age", None), "exposure": ("exposure (person-years)", "#,##0.0"),
    "observed": ("observed events", "#,##0"), "expected": ("expected events", "#,##0.0"),
    "observed_rate": ("observed rate", "0.00000"), "ci_low": ("lower bound ({level})", None),
    "ci_high": ("upper bound ({level})", None), "expected_rate": ("expected rate (the workbook's)", "0.00000"),
    "actual_to_expected": ("actual / expected", "0.000"), "ae_ci_low": ("A/E lower bound ({level})", "0.000"),
    "ae_ci_high": ("A/E upper bound ({level})", "0.000"), "within": ("assumption within the interval", None),
    "members": ("members", "#,##0"), "observed_increase": ("observed salary increase", "0.00%"),
    "expected_increase": ("expected salary increase (the workbook's)", "0.00%"),
    "expected_ci_low": ("expected: lower bound ({level}) of a scale from extract 1", "0.00%"),
    "expected_ci_high": ("expected: upper bound ({level}) of a scale from extract 1", "0.00%"),
    "observed_density": ("observed density", "0.000"), "expected_density": ("expected density (the workbook's)",
                                                                             "0.000"),
}
# the format of a bound: that of the value it bounds (the first of these columns in the table)
BOUNDED = ("observed_rate", "observed_increase", "observed_density")


def _frame_sheet(ws, title: str, frame: pd.DataFrame, level: str) -> None:
    from openpyxl.styles import Font

    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=12)
    bound_format = next((COLUMNS[c][1] for c in BOUNDED if c in frame.columns), None)
    formats = []
    for c, name in enumerate(frame.columns, start=1):
        heading, number_format = COLUMNS.get(name, (str(name), None))
        if name in ("ci_low", "ci_high"):
            number_format = bound_format
        formats.append(number_format)
        ws.cell(row=2, column=c, value=heading.format(level=level)).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=2, column=c).column_letter].width = max(10, min(len(heading) + 2, 40))
    for r, row in enumerate(frame.itertuples(index=False), start=3):
        for c, (name, value) in enumerate(zip(frame.columns, row), start=1):
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, float) and not np.isfinite(value):
                value = None
            if name == "within" and isinstance(value, bool):
                value = "yes" if value else "no"
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            elif formats[c - 1] is not None and value is not None:
                cell.number_format = formats[c - 1]


def _check_order(tables: dict, members, pensioners, valuation_date: dt.date) -> None:
    """Refuse extracts given in the wrong order or twice: credited service does not go down from one year to the
    next (lower in the second extract for most insured found in both: the second is the earlier one), nor stays
    the same for all of them (the same extract twice); the first pensioners' extract holds no pension awarded on
    or after its date (the second holds the year's awards)."""
    first = tables[1]["insured"].select(["id", "service"]).to_pandas()   # the two columns only, not every record's
    second = tables[2]["insured"].select(["id", "service"]).to_pandas().drop_duplicates("id")
    both = first.merge(second, on="id", suffixes=("_1", "_2"))
    order = "FIRST at the valuation date, SECOND one year later"
    if len(both) >= 20:
        lower = float((both["service_2"] < both["service_1"] - 1e-9).mean())
        if lower > 0.5:
            raise InputError(f"--members {members[0].label} {members[1].label}: the credited service of "
                             f"{100 * lower:.0f}% of the {len(both):,} insured found in both extracts is lower in the "
                             f"second; the extracts seem to be in the wrong order ({order}).")
        if bool((both["service_2"] == both["service_1"]).all()) and len(first) == len(second):
            raise InputError(f"--members {members[0].label} {members[1].label}: every insured has the same credited "
                             f"service in both extracts; the same extract seems to be given twice ({order}).")
    awarded = [int((pd.to_datetime(tables[k]["pensioners"].column("award_date").to_pandas())
                    >= pd.Timestamp(valuation_date)).sum()) for k in (1, 2)]
    if awarded[0] > 0 and awarded[0] >= awarded[1]:
        raise InputError(f"--pensioners {pensioners[0].label} {pensioners[1].label}: the first extract holds "
                         f"{awarded[0]:,} pensions awarded on or after the valuation date {valuation_date.isoformat()} "
                         f"(the second {awarded[1]:,}); the extracts seem to be in the wrong order or the same "
                         f"({order}).")


def run_experience(workbook: Path, members: tuple[Source, Source], pensioners: tuple[Source, Source],
                   valuation_date: dt.date, out: Path = Path("out"), level: float = 0.95,
                   force: bool = False) -> tuple[Experience, Path]:
    """Check both extracts, match them and write ``<out>/<workbook stem>-experience.xlsx``, as a set of outputs
    (:class:`actuary.io.files.OutputSet`): a file of its name in ``out`` that actuary did not write, or that
    changed since, is refused before anything is read unless ``force``; it is written in the staging folder and
    moved into place only once complete."""
    from ..io.files import OutputSet
    from ..io.workbook import load_workbook

    if not 0 < level < 1:
        raise InputError(f"--level {level}: expected a confidence level between 0 and 1 (e.g. 0.95).")
    workbook = Path(workbook)
    name = f"{stem_name(workbook)}-experience.xlsx"
    with OutputSet(out, [name], force=force) as outputs:
        valuation = load_workbook(workbook)
        require_scheme(valuation, "actuary experience")
        inputs = valuation.inputs
        if inputs.settings["horizon"] < 2:
            raise InputError("settings.horizon: the experience analysis needs at least 2 projection years.")
        second_date = dt.date(valuation_date.year + 1, 1, 1)
        tables, summaries = {}, []
        for k, (m, p, date) in enumerate(((members[0], pensioners[0], valuation_date),
                                          (members[1], pensioners[1], second_date)), start=1):
            params = rules.Parameters.from_valuation(valuation, date, later=k - 1)
            with connection() as con:
                result, _ = check_and_aggregate(con, m, p, valuation, params)
                tables[k] = _clean(con)
            summaries.append((f"extract {k} ({date.isoformat()})", f"{m.label}: {result.records['insured']:,} "
                              f"insured ({result.excluded['insured']:,} excluded), {p.label}: "
                              f"{result.records['pensioners']:,} pensions ({result.excluded['pensioners']:,} "
                              "excluded)"))
        _check_order(tables, members, pensioners, valuation_date)
        with connection() as con:
            for k in (1, 2):
                con.register(f"i{k}", tables[k]["insured"])
                con.register(f"p{k}", tables[k]["pensioners"])
            result = analyse(con, inputs, valuation_date, second_date, level)
        write_experience_workbook(outputs.path(name), result, inputs,
                                  [("valuation workbook", str(workbook))] + summaries)
        (path,) = outputs.commit()
    return result, path
