"""Data checks on member records: rules with codes, counts, the records they hit and a treatment.

Checks run in DuckDB on the typed tables of :mod:`actuary.data.sources` (no Python loop over
records). Order: completeness, validity, consistency, duplicates, outliers, reconciliation. A
record excluded by a rule is not checked by the rules after it (so that one error is counted once,
by the rule that explains it); rules that keep the record (flag, cap, impute) are all evaluated.
Every rule, its treatment and whether it is fatal is listed in :data:`RULES` and in docs/data.md.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..validation import InputError
from .layouts import BENEFIT_CODES, SEX_CODES, STATUS_CODES
from .sources import Loaded, reading, verify

MIN_AFFILIATION_AGE = 14
PLAUSIBLE_SERVICE = 50.0
MAX_EXCLUDED = 0.05       # share of records the checks may exclude before the intake stops (--max-excluded)
SERVICE_TOLERANCE = 0.01   # years (about 4 days) of rounding allowed between credited service and dates


@dataclass(frozen=True)
class Rule:
    code: str
    file: str            # insured | pensioners | controls | all
    check: str           # completeness | validity | consistency | duplicates | outliers | reconciliation | exclusions
    text: str
    treatment: str       # exclude | cap | impute | keep | stop
    treatment_text: str
    field: str = ""
    fatal: bool = False


def _r(*args, **kwargs) -> Rule:
    return Rule(*args, **kwargs)


RULES = {rule.code: rule for rule in (
    # insured: completeness
    _r("M101", "insured", "completeness", "id missing", "exclude", "record excluded", "id"),
    _r("M102", "insured", "completeness", "sex missing", "exclude", "record excluded", "sex"),
    _r("M103", "insured", "completeness", "birth_date missing", "exclude", "record excluded", "birth_date"),
    _r("M104", "insured", "completeness", "affiliation_date missing", "keep",
       "record kept (the affiliation date is used only by the consistency checks)", "affiliation_date"),
    _r("M105", "insured", "completeness", "status missing", "exclude", "record excluded", "status"),
    _r("M106", "insured", "completeness", "credited_service missing", "impute",
       "imputed as the years since affiliation x the credit density of the member's sex and age in the workbook; "
       "excluded when the affiliation date is unusable", "credited_service"),
    _r("M107", "insured", "completeness", "contribution_months missing", "keep",
       "record kept; not used for the salary scale", "contribution_months"),
    _r("M108", "insured", "completeness", "earnings missing", "keep", "record kept; not used for the salary scale",
       "earnings"),
    # insured: validity
    _r("M201", "insured", "validity", "birth_date is not a date", "exclude", "record excluded", "birth_date"),
    _r("M202", "insured", "validity", "affiliation_date is not a date", "keep",
       "record kept (affiliation date treated as missing)", "affiliation_date"),
    _r("M203", "insured", "validity", "sex is not M or F", "exclude", "record excluded", "sex"),
    _r("M204", "insured", "validity", "status is not active or inactive", "exclude", "record excluded", "status"),
    _r("M205", "insured", "validity", "credited_service is negative", "exclude", "record excluded",
       "credited_service"),
    _r("M206", "insured", "validity", "contribution_months is not a whole number of months 0-12", "keep",
       "record kept; not used for the salary scale", "contribution_months"),
    _r("M207", "insured", "validity", "earnings are negative", "keep", "record kept; not used for the salary scale",
       "earnings"),
    # insured: consistency
    _r("M301", "insured", "consistency", f"affiliation before age {MIN_AFFILIATION_AGE}", "keep",
       "record kept (affiliation date treated as missing)", "affiliation_date"),
    _r("M302", "insured", "consistency", "credited service longer than the time since affiliation", "cap",
       "credited service capped at the time since affiliation", "credited_service"),
    _r("M303", "insured", "consistency", "birth after the valuation date", "exclude", "record excluded",
       "birth_date"),
    _r("M304", "insured", "consistency", "age at the valuation date outside the workbook's insured ages "
       "(settings.min_age..max_age)", "exclude", "record excluded", "birth_date"),
    _r("M305", "insured", "consistency", "affiliation after the valuation date", "keep",
       "record kept (affiliation date treated as missing)", "affiliation_date"),
    _r("M306", "insured", "consistency", "earnings and contribution months disagree (one is zero, the other not)",
       "keep", "record kept; not used for the salary scale", "earnings"),
    # insured: duplicates
    _r("M401", "insured", "duplicates", "same id as an earlier record", "exclude",
       "later records excluded (the first in file order is kept)", "id"),
    _r("M402", "insured", "duplicates", "same sex, birth date and affiliation date as an earlier record under "
       "another id", "keep", "record kept and listed for review (a chance match is possible in a large scheme)",
       "id"),
    # insured: outliers
    _r("M501", "insured", "outliers", "annualised earnings above k x the earnings ceiling of the year (no ceiling: "
       "k x the 99.9th percentile)", "cap", "earnings capped at the ceiling (no ceiling: the threshold) for the "
       "months contributed", "earnings"),
    _r("M502", "insured", "outliers", f"credited service above {PLAUSIBLE_SERVICE:g} years", "cap",
       f"credited service capped at {PLAUSIBLE_SERVICE:g} years", "credited_service"),
    # pensioners
    _r("P101", "pensioners", "completeness", "id missing", "exclude", "record excluded", "id"),
    _r("P102", "pensioners", "completeness", "sex missing", "exclude", "record excluded", "sex"),
    _r("P103", "pensioners", "completeness", "birth_date missing", "exclude", "record excluded", "birth_date"),
    _r("P104", "pensioners", "completeness", "benefit missing", "exclude", "record excluded", "benefit"),
    _r("P105", "pensioners", "completeness", "award_date missing", "keep",
       "record kept (the award date is used only by the consistency checks and the experience analysis)",
       "award_date"),
    _r("P106", "pensioners", "completeness", "annual_amount missing", "exclude", "record excluded", "annual_amount"),
    _r("P201", "pensioners", "validity", "birth_date is not a date", "exclude", "record excluded", "birth_date"),
    _r("P202", "pensioners", "validity", "award_date is not a date", "keep", "record kept (award date treated as "
       "missing)", "award_date"),
    _r("P203", "pensioners", "validity", "sex is not M or F", "exclude", "record excluded", "sex"),
    _r("P204", "pensioners", "validity", "benefit is not old_age, invalidity, widow or orphan", "exclude",
       "record excluded", "benefit"),
    _r("P205", "pensioners", "validity", "annual_amount is not positive", "exclude", "record excluded",
       "annual_amount"),
    _r("P301", "pensioners", "consistency", "birth after the valuation date", "exclude", "record excluded",
       "birth_date"),
    _r("P302", "pensioners", "consistency", "age above the workbook's oldest age (settings.max_age)", "exclude",
       "record excluded", "birth_date"),
    _r("P303", "pensioners", "consistency", "orphan at or above the orphan age limit (scheme.orphan_age_limit)",
       "exclude", "record excluded (the pension has stopped)", "birth_date"),
    _r("P304", "pensioners", "consistency", "award after the valuation date", "exclude",
       "record excluded (not in payment at the valuation date)", "award_date"),
    _r("P305", "pensioners", "consistency", "old-age pensioner younger than the early retirement age of the "
       "valuation year", "keep", "record kept and listed for review (benefit code or birth date likely wrong)",
       "benefit"),
    _r("P306", "pensioners", "consistency", "award before birth", "keep", "record kept (award date treated as "
       "missing)", "award_date"),
    _r("P401", "pensioners", "duplicates", "same id and benefit as an earlier record", "exclude",
       "later records excluded (the first in file order is kept)", "id"),
    _r("P501", "pensioners", "outliers", "annual amount above k x the maximum pension (no maximum: k x the 99.9th "
       "percentile)", "impute", "amount imputed as the average pension of the other pensioners of the same "
       "benefit, sex and age (counted as a pensioner, not in the average)", "annual_amount"),
    # reconciliation and overall
    _r("R01", "controls", "reconciliation", "contributors in the records (x weight) differ from the control total by "
       "more than its tolerance", "stop", "fatal unless the control says fatal = no"),
    _r("R02", "controls", "reconciliation", "contributions due on the recorded earnings (contribution rate x "
       "collection rate of the valuation year, x weight) differ from contributions collected by more than the "
       "tolerance", "stop", "fatal unless the control says fatal = no"),
    _r("R03", "controls", "reconciliation", "pensions in payment in the initial state differ from the control total "
       "by more than its tolerance", "stop", "fatal unless the control says fatal = no"),
    _r("R04", "controls", "reconciliation", "annual amount of the pensions in the initial state differs from benefits "
       "paid by more than the tolerance", "stop", "fatal unless the control says fatal = no"),
    _r("X01", "insured", "exclusions", "share of insured records excluded above --max-excluded", "stop",
       "fatal: the initial state would not represent the scheme", fatal=True),
    _r("X02", "pensioners", "exclusions", "share of pensioner records excluded above --max-excluded", "stop",
       "fatal: the initial state would not represent the scheme", fatal=True),
)}


@dataclass
class Parameters:
    """What the checks need from the valuation workbook and the options of ``actuary data``."""

    valuation_date: dt.date
    min_age: int
    max_age: int
    early_retirement_age: dict          # {"M": age, "F": age} in the valuation year
    orphan_age_limit: int
    ceiling: float                      # annual insurable earnings ceiling of the year before (inf: none)
    maximum_pension: float              # at the valuation date (inf: none)
    credit_density: pd.DataFrame        # sex (M/F), age, density: for imputing a missing credited service
    contribution_rate: float
    collection_rate: float
    outlier_factor: float = 1.5
    max_excluded: float = MAX_EXCLUDED
    weight: float = 1.0

    @classmethod
    def from_valuation(cls, valuation, valuation_date: dt.date, outlier_factor: float = 1.5,
                       max_excluded: float = MAX_EXCLUDED, weight: float = 1.0, later: int = 0) -> "Parameters":
        """Rules of the extract at 1 January of the valuation year + ``later`` (the experience analysis
        checks its second extract with the provisions and wage level of that year)."""
        from ..series import wage_index

        inputs = valuation.inputs
        st, sch, eco, beh = inputs.settings, inputs.scheme, inputs.economy, inputs.behaviour
        t0 = st["valuation_year"]
        if valuation_date != dt.date(t0 + later, 1, 1):
            raise InputError(f"--valuation-date {valuation_date.isoformat()}: the workbook's valuation date is "
                             f"1 January {t0} (settings.valuation_year); member records must be at that date "
                             f"(expected {t0}-01-01).")
        if not weight > 0 or not math.isfinite(weight):
            raise InputError(f"--weight {weight}: expected a positive number of persons each record stands for.")
        if not 0 <= max_excluded <= 1:
            raise InputError(f"--max-excluded {max_excluded}: expected a share between 0 and 1.")
        if not outlier_factor >= 1:
            raise InputError(f"--outlier-factor {outlier_factor}: expected a multiple of at least 1.")
        growth = (1 + float(eco["inflation"].values[0])) * (1 + float(eco["real_wage_growth"].values[0]))
        wages = wage_index(eco["inflation"].values, eco["real_wage_growth"].values)
        level = wages[later - 1] if later > 0 else 1 / growth          # wage level of the year before the date
        era = sch["early_retirement_age"].isel(year=later)
        density = beh["credit_density"].isel(year=later).to_dataframe("density").reset_index()
        density["sex"] = density["sex"].map({"male": "M", "female": "F"})
        return cls(valuation_date=valuation_date, min_age=st["min_age"], max_age=st["max_age"],
                   early_retirement_age={"M": float(era.sel(sex="male")), "F": float(era.sel(sex="female"))},
                   orphan_age_limit=int(sch["orphan_age_limit"]),
                   ceiling=float(sch["ceiling_multiple"].values[later]) * eco["average_wage"] * level,
                   maximum_pension=float(sch["maximum_pension"].values[later]), credit_density=density[["sex", "age", "density"]],
                   contribution_rate=float(sch["contribution_rate"].values[later]),
                   collection_rate=float(sch["collection_rate"].values[later]),
                   outlier_factor=outlier_factor, max_excluded=max_excluded, weight=weight)


@dataclass
class CheckResult:
    """Counts by rule (``summary``), the records each rule hit (``hits``: rule, file, row, id, field,
    value, detail) and the fatal failures; the cleaned records stay in DuckDB (views
    ``insured_clean`` and ``pensioners_clean``)."""

    summary: pd.DataFrame
    hits_total: int
    fatal: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)
    unused_columns: dict = field(default_factory=dict)
    controls: pd.DataFrame | None = None
    positions: dict = field(default_factory=dict)   # file -> where its records are: see :func:`record_positions`


def _date(value: dt.date) -> str:
    return f"DATE '{value.isoformat()}'"


def _num(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else "'infinity'::DOUBLE"


def _age(column: str, t0: int) -> str:
    """Completed age at 1 January t0 of a date of birth."""
    return (f"({t0} - year({column}) - CASE WHEN month({column}) = 1 AND day({column}) = 1 THEN 0 ELSE 1 END)")


def _outlier_threshold(con, limit: float, factor: float, value: str, table: str, where: str) -> tuple[float, float]:
    """(threshold, cap) of an outlier rule: k x the limit (earnings ceiling, maximum pension), or
    without a limit k x the 99.9th percentile of the values (cap: the threshold)."""
    if math.isfinite(limit):
        return factor * limit, limit
    q = con.execute(f"SELECT quantile_cont({value}, 0.999) FROM {table} WHERE {where}").fetchall()[0][0]
    threshold = factor * q if q is not None else math.inf
    return threshold, threshold


def _insured_table(con, p: Parameters, threshold: float) -> None:
    t0, v = p.valuation_date.year, _date(p.valuation_date)
    sexes = ", ".join(f"'{s}'" for s in SEX_CODES)
    statuses = ", ".join(f"'{s}'" for s in STATUS_CODES)
    con.execute(f"""
    CREATE TABLE insured_x AS
    WITH d AS (
        SELECT *,
            {_age('birth_date', t0)} AS age,
            date_diff('year', birth_date, affiliation_date)
                - CASE WHEN month(affiliation_date) * 100 + day(affiliation_date)
                            < month(birth_date) * 100 + day(birth_date) THEN 1 ELSE 0 END AS affiliation_age,
            date_diff('day', affiliation_date, {v}) / 365.25 AS since_affiliation,
            (contribution_months BETWEEN 0 AND 12 AND contribution_months = round(contribution_months))
                AS months_valid
        FROM insured),
    e AS (
        SELECT *,
            (affiliation_date IS NOT NULL AND affiliation_age < {MIN_AFFILIATION_AGE}) AS f_m301,
            (affiliation_date IS NOT NULL AND affiliation_date > {v}) AS f_m305
        FROM d),
    g AS (
        SELECT *,
            (affiliation_date IS NOT NULL AND NOT f_m301 AND NOT f_m305) AS affiliation_usable,
            CASE
                WHEN id IS NULL THEN 'M101'
                WHEN sex IS NULL THEN 'M102'
                WHEN birth_date IS NULL AND NOT birth_date_bad THEN 'M103'
                WHEN status IS NULL THEN 'M105'
                WHEN birth_date_bad THEN 'M201'
                WHEN sex NOT IN ({sexes}) THEN 'M203'
                WHEN status NOT IN ({statuses}) THEN 'M204'
                WHEN credited_service < 0 THEN 'M205'
                WHEN birth_date > {v} THEN 'M303'
                WHEN age < {p.min_age} OR age > {p.max_age} THEN 'M304'
                WHEN credited_service IS NULL
                     AND NOT (affiliation_date IS NOT NULL AND NOT f_m301 AND NOT f_m305) THEN 'M106'
            END AS excluded
        FROM e)
    SELECT *,
        excluded IS NULL AND credited_service IS NULL AS f_m106,
        excluded IS NULL AND affiliation_date IS NULL AND NOT affiliation_date_bad AS f_m104,
        excluded IS NULL AND contribution_months IS NULL AS f_m107,
        excluded IS NULL AND earnings IS NULL AS f_m108,
        excluded IS NULL AND affiliation_date_bad AS f_m202,
        excluded IS NULL AND contribution_months IS NOT NULL AND NOT months_valid AS f_m206,
        excluded IS NULL AND earnings < 0 AS f_m207,
        excluded IS NULL AND f_m301 AS f_m301x,
        excluded IS NULL AND f_m305 AS f_m305x,
        excluded IS NULL AND affiliation_usable AND credited_service > since_affiliation + {SERVICE_TOLERANCE}
            AS f_m302,
        excluded IS NULL AND months_valid AND earnings >= 0 AND ((contribution_months = 0) <> (earnings = 0))
            AS f_m306,
        excluded IS NULL AND credited_service > {PLAUSIBLE_SERVICE} AS f_m502,
        excluded IS NULL AND months_valid AND contribution_months > 0 AND earnings > 0
            AND earnings / contribution_months * 12 > {_num(threshold)} AS f_m501,
        CASE WHEN excluded IS NULL AND months_valid AND contribution_months > 0 AND earnings > 0
             THEN earnings / contribution_months * 12 END AS annualised
    FROM g
    """)


def _pensioners_table(con, p: Parameters, threshold: float) -> None:
    t0, v = p.valuation_date.year, _date(p.valuation_date)
    sexes = ", ".join(f"'{s}'" for s in SEX_CODES)
    benefits = ", ".join(f"'{b}'" for b in BENEFIT_CODES)
    era = (f"CASE sex WHEN 'M' THEN {p.early_retirement_age['M']} ELSE {p.early_retirement_age['F']} END")
    con.execute(f"""
    CREATE TABLE pensioners_x AS
    WITH d AS (SELECT *, {_age('birth_date', t0)} AS age FROM pensioners),
    g AS (
        SELECT *,
            CASE
                WHEN id IS NULL THEN 'P101'
                WHEN sex IS NULL THEN 'P102'
                WHEN birth_date IS NULL AND NOT birth_date_bad THEN 'P103'
                WHEN benefit IS NULL THEN 'P104'
                WHEN annual_amount IS NULL THEN 'P106'
                WHEN birth_date_bad THEN 'P201'
                WHEN sex NOT IN ({sexes}) THEN 'P203'
                WHEN benefit NOT IN ({benefits}) THEN 'P204'
                WHEN annual_amount <= 0 THEN 'P205'
                WHEN birth_date > {v} THEN 'P301'
                WHEN age > {p.max_age} THEN 'P302'
                WHEN benefit = 'orphan' AND age >= {p.orphan_age_limit} THEN 'P303'
                WHEN award_date > {v} THEN 'P304'
            END AS excluded
        FROM d)
    SELECT *,
        excluded IS NULL AND award_date IS NULL AND NOT award_date_bad AS f_p105,
        excluded IS NULL AND award_date_bad AS f_p202,
        excluded IS NULL AND benefit = 'old_age' AND age < {era} AS f_p305,
        excluded IS NULL AND award_date < birth_date AS f_p306,
        excluded IS NULL AND annual_amount > {_num(threshold)} AS f_p501
    FROM g
    """)


def _duplicate_groups(con, name: str, table: str, key_hash: str, key: str, where: str, extra: str = "") -> None:
    """Table ``name`` of the keys held by more than one record of ``table`` (with the first row):
    first the 64-bit hashes held more than once (a fast pass over every record), then the exact
    keys among the few records with those hashes (a hash shared by two keys is no duplicate)."""
    con.execute(f"CREATE TEMP TABLE {name}_hash AS SELECT {key_hash} AS h FROM {table} WHERE {where} "
                f"GROUP BY h HAVING count(*) > 1")
    con.execute(f"CREATE TABLE {name} AS SELECT {key}, min(_row) AS first_row{extra} FROM {table} "
                f"WHERE {where} AND {key_hash} IN (SELECT h FROM {name}_hash) GROUP BY {key} HAVING count(*) > 1")


class _Hits:
    """Collects the records hit by each rule in the DuckDB table ``hits``."""

    def __init__(self, con):
        self.con = con
        con.execute("CREATE TABLE hits (rule VARCHAR, file VARCHAR, _row BIGINT, id VARCHAR, field VARCHAR, "
                    "value VARCHAR, detail VARCHAR)")

    def add(self, code: str, table: str, where: str, value: str | None = None, detail: str = "NULL"):
        rule = RULES[code]
        value = value or (f"CAST({rule.field} AS VARCHAR)" if rule.field else "NULL")
        self.con.execute(f"INSERT INTO hits SELECT '{code}', '{rule.file}', _row, id, '{rule.field}', {value}, "
                         f"{detail} FROM {table} WHERE {where}")


def _text_or_value(column: str) -> str:
    return f"coalesce({column}_text, CAST({column} AS VARCHAR))"


def run_checks(con, insured: Loaded, pensioners: Loaded, p: Parameters, controls: pd.DataFrame | None = None,
               aggregate=None, controls_source: Loaded | None = None) -> CheckResult:
    """Run every rule on the loaded tables ``insured`` and ``pensioners``; leave the views
    ``insured_clean`` (sex, age, status, service, annualised earnings for the salary scale) and
    ``pensioners_clean`` (benefit, sex, age, annual_amount, amount_ok) for the aggregation.

    ``aggregate``: a function(con, p) -> initial state, used to reconcile with ``controls`` (read from
    ``controls_source``).
    """
    with reading(insured):
        threshold, cap = _outlier_threshold(con, p.ceiling, p.outlier_factor,
                                            "earnings / contribution_months * 12", "insured",
                                            "contribution_months BETWEEN 1 AND 12 AND contribution_months = "
                                            "round(contribution_months) AND earnings > 0")
    with reading(pensioners):
        pension_threshold, _ = _outlier_threshold(con, p.maximum_pension, p.outlier_factor, "annual_amount",
                                                  "pensioners", "annual_amount > 0")
    with reading(insured):
        _insured_table(con, p, threshold)
    verify(con, insured, "insured_x")
    with reading(pensioners):
        _pensioners_table(con, p, pension_threshold)
    verify(con, pensioners, "pensioners_x")
    hits = _Hits(con)
    # duplicates among the records still in (later records excluded), then every other rule from one
    # pass that keeps the records any rule hit
    _duplicate_groups(con, "dup_insured", "insured_x", "hash(id)", "id", "excluded IS NULL")
    hits.add("M401", "(SELECT x.*, d.first_row FROM insured_x x JOIN dup_insured d USING (id))",
             "excluded IS NULL AND _row > first_row",
             detail="'first record at ' || " + _where_sql(insured, "first_row"))
    if con.execute("SELECT count(*) FROM dup_insured").fetchall()[0][0]:
        con.execute("UPDATE insured_x SET excluded = 'M401' WHERE _row IN "
                    "(SELECT _row FROM hits WHERE rule = 'M401')")
    _duplicate_groups(con, "dup_person", "insured_x", "hash(sex, birth_date, affiliation_date)",
                      "sex, birth_date, affiliation_date", "excluded IS NULL AND affiliation_date IS NOT NULL",
                      ", arg_min(id, _row) AS first_id")
    hits.add("M402", "(SELECT x.*, d.first_row, d.first_id FROM insured_x x "
                     "JOIN dup_person d USING (sex, birth_date, affiliation_date))",
             "excluded IS NULL AND _row > first_row",
             value="CAST(birth_date AS VARCHAR) || ' / ' || CAST(affiliation_date AS VARCHAR)",
             detail="'same person as id ' || first_id || ' (' || " + _where_sql(insured, "first_row") + " || ')'")
    flags = {"M104": ("f_m104", None), "M107": ("f_m107", None), "M108": ("f_m108", None),
             "M202": ("f_m202", _text_or_value("affiliation_date")), "M206": ("f_m206", None),
             "M207": ("f_m207", None), "M301": ("f_m301x", None), "M305": ("f_m305x", None),
             "M302": ("f_m302", None), "M306": ("f_m306", None), "M501": ("f_m501", None), "M502": ("f_m502", None)}
    con.execute("CREATE TABLE insured_hit AS SELECT * FROM insured_x WHERE (excluded IS NOT NULL AND excluded <> "
                "'M401') OR f_m106 OR " + " OR ".join(flag for flag, _ in flags.values()))
    for code in ("M101", "M102", "M103", "M105", "M201", "M203", "M204", "M205", "M303", "M304", "M106"):
        value = _text_or_value("birth_date") if code == "M201" else None
        hits.add(code, "insured_hit", f"excluded = '{code}'", value)
    hits.add("M106", "insured_hit", "f_m106 AND excluded IS NULL", detail="'imputed'")
    for code, (flag, value) in flags.items():
        detail = (f"'annualised ' || round(annualised, 2) || ' > threshold {threshold:.2f}'" if code == "M501"
                  else "NULL")
        hits.add(code, "insured_hit", f"{flag} AND excluded IS NULL", value, detail)
    # pensioners
    _duplicate_groups(con, "dup_pension", "pensioners_x", "hash(id, benefit)", "id, benefit", "excluded IS NULL")
    hits.add("P401", "(SELECT x.*, d.first_row FROM pensioners_x x JOIN dup_pension d USING (id, benefit))",
             "excluded IS NULL AND _row > first_row",
             detail="'first record at ' || " + _where_sql(pensioners, "first_row"))
    if con.execute("SELECT count(*) FROM dup_pension").fetchall()[0][0]:
        con.execute("UPDATE pensioners_x SET excluded = 'P401' WHERE _row IN "
                    "(SELECT _row FROM hits WHERE rule = 'P401')")
    pension_flags = {"P105": ("f_p105", None), "P202": ("f_p202", _text_or_value("award_date")),
                     "P305": ("f_p305", "CAST(age AS VARCHAR)"), "P306": ("f_p306", None), "P501": ("f_p501", None)}
    con.execute("CREATE TABLE pensioners_hit AS SELECT * FROM pensioners_x WHERE (excluded IS NOT NULL AND excluded "
                "<> 'P401') OR " + " OR ".join(flag for flag, _ in pension_flags.values()))
    for code in ("P101", "P102", "P103", "P104", "P106", "P201", "P203", "P204", "P205", "P301", "P302", "P303",
                 "P304"):
        value = _text_or_value("birth_date") if code == "P201" else None
        hits.add(code, "pensioners_hit", f"excluded = '{code}'", value)
    for code, (flag, value) in pension_flags.items():
        detail = f"'threshold {pension_threshold:.2f}'" if code == "P501" else "NULL"
        hits.add(code, "pensioners_hit", f"{flag} AND excluded IS NULL", value, detail)
    _clean_views(con, p, cap)

    records = {"insured": insured.records, "pensioners": pensioners.records}
    excluded = {name: con.execute(f"SELECT count(*) FROM {name}_hit WHERE excluded IS NOT NULL").fetchall()[0][0]
                + con.execute(f"SELECT count(*) FROM hits WHERE rule = '{code}'").fetchall()[0][0]
                for name, code in (("insured", "M401"), ("pensioners", "P401"))}
    counts = con.execute("SELECT rule, count(*), count(*) FILTER (WHERE detail = 'imputed') FROM hits "
                         "GROUP BY rule").fetchall()
    counted = {code: (n, imputed) for code, n, imputed in counts}
    fatal, warnings, extra_rows = [], [], []
    for code, name in (("X01", "insured"), ("X02", "pensioners")):
        share = excluded[name] / records[name] if records[name] else 0.0
        if share > p.max_excluded:
            fatal.append(f"{code}: {excluded[name]:,} of {records[name]:,} {name} records ({100 * share:.1f}%) are "
                         f"excluded, above --max-excluded {100 * p.max_excluded:g}%")
            counted[code] = (1, 0)
            extra_rows.append(dict(rule=code, file=name, row=None, id=None, field="",
                                   value=f"{100 * share:.2f}%", detail=f"limit {100 * p.max_excluded:g}%"))
    control_rows = []
    if controls is not None and aggregate is not None:
        for row in reconcile(con, p, controls, aggregate, controls_source):
            control_rows.append({k: row[k] for k in ("item", "benefit", "target", "observed", "difference",
                                                     "tolerance", "status")})
            if not row["outside"]:
                continue
            code = row["rule"]
            n, imputed = counted.get(code, (0, 0))
            counted[code] = (n + 1, imputed)
            extra_rows.append(row)
            (fatal if row["fatal"] else warnings).append(f"{code}: {row['detail']}")
    for row in extra_rows:
        con.execute("INSERT INTO hits VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [row["rule"], row["file"], row["row"], row["id"], row["field"], row["value"], row["detail"]])
    summary = []
    for code, rule in RULES.items():
        n, imputed = counted.get(code, (0, 0))
        if rule.treatment == "exclude":
            treated = {"excluded": n}
        elif rule.treatment == "impute":
            treated = {"imputed": imputed if code == "M106" else n, "excluded": n - imputed if code == "M106" else 0}
        elif rule.treatment == "cap":
            treated = {"capped": n}
        elif rule.treatment == "keep":
            treated = {"kept": n}
        else:
            treated = {}
        summary.append(dict(rule=code, file=rule.file, check=rule.check, description=rule.text, records=n,
                            excluded=treated.get("excluded", 0), capped=treated.get("capped", 0),
                            imputed=treated.get("imputed", 0), kept=treated.get("kept", 0),
                            treatment=rule.treatment_text, fatal="yes" if (rule.fatal or rule.treatment == "stop")
                            else "no"))
        if n and rule.treatment != "stop":
            warnings.append(f"{code} ({rule.check}, {rule.file}): {n:,} record{'s' if n > 1 else ''}: {rule.text}; "
                            f"{_treatment_count(treated)}")
    total = con.execute("SELECT count(*) FROM hits").fetchall()[0][0]
    unused = {name: loaded.unused_columns for name, loaded in (("insured", insured), ("pensioners", pensioners))
              if loaded.unused_columns}
    for name, columns in unused.items():
        warnings.append(f"{name}: column{'s' if len(columns) > 1 else ''} {', '.join(columns)} not in the layout "
                        "(not read)")
    return CheckResult(pd.DataFrame(summary), total, fatal, warnings, records, excluded, unused,
                       pd.DataFrame(control_rows) if control_rows else None,
                       record_positions(insured=insured, pensioners=pensioners, controls=controls_source))


def _treatment_count(treated: dict) -> str:
    return ", ".join(f"{n:,} {what}" for what, n in treated.items() if n) or "none"


def _clean_views(con, p: Parameters, earnings_cap: float) -> None:
    """Records kept after the checks, with the treatments applied."""
    density = p.credit_density.copy()
    con.register("credit_density_df", density)
    con.execute("CREATE TABLE credit_density AS SELECT * FROM credit_density_df")
    con.unregister("credit_density_df")
    con.execute(f"""
    CREATE VIEW insured_clean AS
    SELECT x.id, x.sex, x.age, x.status,
        least(CASE WHEN x.credited_service IS NULL THEN x.since_affiliation * d.density ELSE x.credited_service END,
              CASE WHEN x.f_m302 THEN x.since_affiliation ELSE 'infinity'::DOUBLE END,
              {PLAUSIBLE_SERVICE}) AS service,
        x.contribution_months AS months,
        CASE WHEN x.months_valid AND x.earnings >= 0 AND NOT x.f_m306 THEN
             CASE WHEN x.f_m501 THEN {_num(earnings_cap)} * x.contribution_months / 12 ELSE x.earnings END
        END AS earnings,
        CASE WHEN x.f_m501 THEN {_num(earnings_cap)} ELSE x.annualised END AS annualised
    FROM insured_x x LEFT JOIN credit_density d ON x.credited_service IS NULL AND d.sex = x.sex AND d.age = x.age
    WHERE x.excluded IS NULL
    """)
    con.execute("""
    CREATE VIEW pensioners_clean AS
    SELECT id, benefit, sex, age, award_date, annual_amount, NOT f_p501 AS amount_ok
    FROM pensioners_x WHERE excluded IS NULL
    """)


def reconcile(con, p: Parameters, controls: pd.DataFrame, aggregate, source: Loaded | None = None) -> list[dict]:
    """Compare the records (x weight) with each control total (``outside``: beyond its tolerance); each control
    named where it is in its ``source`` (its line, or row of its sheet)."""
    state = aggregate(con, p)
    contributors = p.weight * state.contributors
    earnings = p.weight * state.recorded_earnings
    counts = state.pensioners.sum("age").sum("sex")
    amounts = (state.pensioners * state.average_pension).sum("age").sum("sex")
    out = []
    for _, control in controls.iterrows():
        item, benefit = control["item"], control["benefit"]
        if item == "contributors":
            code, observed, what = "R01", contributors, "contributors in the year before the valuation date"
        elif item == "contributions":
            code, observed = "R02", earnings * p.contribution_rate * p.collection_rate
            what = "contributions due on the recorded earnings"
        elif item == "pensioners":
            code, what = "R03", f"pensions in payment{' (' + benefit + ')' if benefit else ''}"
            observed = float(counts.sel(benefit=benefit) if benefit else counts.sum())
        else:
            code, what = "R04", f"annual amount of pensions in payment{' (' + benefit + ')' if benefit else ''}"
            observed = float(amounts.sel(benefit=benefit) if benefit else amounts.sum())
        target, tolerance = float(control["value"]), float(control["tolerance"])
        where = source.where(int(control["_row"])) if source else f"record {int(control['_row'])}"
        difference = observed / target - 1 if target else (math.inf if observed else 0.0)
        outside = abs(difference) > tolerance
        fatal = control["fatal"] != "no"
        out.append(dict(rule=code, file="controls", row=int(control["_row"]), id=None, field=item,
                        value=f"{observed:,.0f}",
                        detail=f"{what}: {observed:,.0f} in the records vs {target:,.0f} in the control total "
                               f"({where} of the controls), a difference of {100 * difference:+.2f}% beyond "
                               f"the tolerance of {100 * tolerance:g}%",
                        fatal=fatal, outside=outside, item=item, benefit=benefit or "all", target=target,
                        observed=observed, difference=difference, tolerance=tolerance,
                        status=("outside (fatal)" if fatal else "outside (warning)") if outside else "within"))
    return out


def read_controls(con, loaded: Loaded) -> pd.DataFrame:
    """Control totals, checked: known items, benefit only for pension items, value and tolerance given."""
    frame = con.execute(f"SELECT _row, item, benefit, value, tolerance, fatal FROM {loaded.table} ORDER BY _row").df()
    frame = frame.astype(object).where(frame.notna(), None)
    source = loaded.source.label
    for _, row in frame.iterrows():
        where = loaded.where(int(row["_row"]))
        item = row["item"]
        if item is None or item not in ("contributors", "contributions", "pensioners", "benefits_paid"):
            raise InputError(f"{source}: column 'item', {where}: '{item or ''}' is not a control item; expected "
                             "contributors, contributions, pensioners or benefits_paid.")
        benefit = row["benefit"]
        if benefit is not None and (item in ("contributors", "contributions") or benefit not in BENEFIT_CODES):
            raise InputError(f"{source}: column 'benefit', {where}: '{benefit}' is not allowed for {item}; expected "
                             f"blank{' or one of ' + ', '.join(BENEFIT_CODES) if item not in ('contributors', 'contributions') else ''}.")
        for column in ("value", "tolerance"):
            value = row[column]
            if value is None or (isinstance(value, float) and np.isnan(value)) or value < 0:
                raise InputError(f"{source}: column '{column}', {where}: expected a number >= 0 "
                                 f"({loaded.layout.column(column).doc}).")
        fatal = row["fatal"]
        if fatal is not None and fatal not in ("yes", "no"):
            raise InputError(f"{source}: column 'fatal', {where}: '{fatal}'; expected yes, no or blank.")
    frame["benefit"] = frame["benefit"].where(frame["benefit"].notna(), None)
    frame["fatal"] = frame["fatal"].fillna("yes")
    return frame


def _where_sql(loaded: Loaded, column: str) -> str:
    """SQL of where the record numbered ``column`` is in the ``loaded`` source, as its messages say it (``line 12``,
    ``row 12 of sheet 'Members'``)."""
    def text(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    suffix = f" || {text(loaded.row_suffix)}" if loaded.row_suffix else ""
    return f"{text(loaded.row_label + ' ')} || ({column} + {int(loaded.row_offset)}){suffix}"


def record_positions(**sources) -> dict:
    """Where the records hit are, by file (insured, pensioners, controls: the :class:`Loaded` source or None):
    {file: (heading, what it means, offset from the record number, the source's label)}; a CSV file's records are
    given by the line an editor shows (the messages' line), an xlsx file's by the sheet's row, a Parquet file's
    and a database's by their position (see :attr:`actuary.data.sources.Loaded.position`)."""
    return {name: (loaded.position[0], loaded.position[1], int(loaded.row_offset), loaded.source.label)
            for name, loaded in sources.items() if loaded is not None}


def position_heading(positions: dict) -> str:
    """The heading of the column of the records' positions: ``line`` when every source is a CSV file, ``sheet
    row`` when every one is an xlsx sheet, ..., else the kinds in the files' order (``line / sheet row``)."""
    kinds = list(dict.fromkeys(heading for heading, *_ in positions.values()))
    return " / ".join(kinds) or "row"


def position_note(positions: dict) -> str:
    """What the column of the records' positions means, for each kind of source (``line: where the record is in
    its source: in a.csv and b.csv, the line of the file as an editor shows it ...``)."""
    sources: dict[str, list[str]] = {}
    for _, meaning, _, label in positions.values():
        sources.setdefault(meaning, []).append(label)
    said = "; ".join(f"in {', '.join(labels[:-1]) + ' and ' + labels[-1] if len(labels) > 1 else labels[0]}, "
                     f"{meaning}" for meaning, labels in sources.items())
    return f"{position_heading(positions)}: where the record is in its source: {said}. Fields and values as read."


def hit_records_sql(positions: dict) -> str:
    """The records hit, by rule, file and position (the record's line, sheet row, ...: :func:`record_positions`)."""
    offset = " ".join(f"WHEN '{name}' THEN {shift}" for name, (_, _, shift, _) in positions.items())
    where = f"_row + CASE file {offset} ELSE 0 END" if offset else "_row"
    heading = '"' + position_heading(positions).replace('"', '""') + '"'
    return f"SELECT rule, file, {where} AS {heading}, id, field, value, detail FROM hits ORDER BY rule, file, _row"


def hit_records(con, limit: int | None = None, positions: dict | None = None) -> pd.DataFrame:
    """The records hit, by rule and position (at most ``limit``)."""
    sql = hit_records_sql(positions or {})
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return con.execute(sql).df()
