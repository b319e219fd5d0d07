"""Typed, validated, labelled inputs of a valuation.

Every input is a *field* of a group (``settings``, ``scheme``, ``economy``, ``demography``,
``behaviour``, ``initial``) declared once in :data:`FIELDS` with its dimensions, its kind (which
decides the checks), its default and its units. Users pass a scalar, a NumPy array of the full
shape or an ``xarray.DataArray`` with any subset of the field's dimensions; it is broadcast to the
field's dimensions over the valuation's coordinates. Unknown fields are errors, and so are fields
that the chosen options would ignore. Every error names the field (``economy.inflation``), the cell
(``year=2031``) and the value.

Coordinates (from the settings):
    year     t0 .. t0 + horizon - 1          projection years
    sex      male, female
    age      0 .. max_age                   population ages (max_age is the open group)
    age      min_age .. max_age             scheme ages (insured, pensioners) for scheme fields
    service  0 .. max_service               completed years of credited service
    benefit  old_age, invalidity, widow, orphan
    past_year  t0 - M .. t0 - 1             years of economic history (M: the longest history given, 0 without)
    cohort   year of birth (retirement ages by cohort: the cohorts listed, each held until the next)
    floor_benefit  the benefits of the social protection floor, named by the user (group ``floor``)

A case may be a social protection floor costing alone (``settings.scheme = "no"``): then only the
national inputs are given (economy, demography, ``behaviour.participation`` for GDP, the floor) and
every input of the contributory scheme is absent (giving one is an error). See :mod:`actuary.floor`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from . import validation as check
from .datasets import values_in_order
from .validation import SEXES, InputError

BENEFITS = ("old_age", "invalidity", "widow", "orphan")
REQUIRED = object()


@dataclass(frozen=True)
class Bounds:
    """Plausible values of an input: ``low`` .. ``high``, each end included unless ``open_low`` /
    ``open_high``. ``high`` may be "max_age" (the valuation's oldest age)."""

    low: float = -np.inf
    high: Any = np.inf
    open_low: bool = False
    open_high: bool = False

    def resolve(self, max_age: int | None) -> "Bounds":
        if self.high == "max_age":
            return Bounds(self.low, np.inf if max_age is None else float(max_age), self.open_low, self.open_high)
        return self

    def outside(self, values: np.ndarray) -> np.ndarray:
        """Mask of the finite values outside the bounds."""
        with np.errstate(invalid="ignore"):
            low = values <= self.low if self.open_low else values < self.low
            high = values >= self.high if self.open_high else values > self.high
        return np.isfinite(values) & (low | high)

    def describe(self) -> str:
        """e.g. ">= 0", "between 0 and 1", "above -0.5 and below 1"."""
        low = None if self.low == -np.inf else f"{self.low:g}"
        high = None if self.high == np.inf else (self.high if isinstance(self.high, str) else f"{self.high:g}")
        if low is not None and high is not None:
            if not self.open_low and not self.open_high:
                return f"between {low} and {high}"
            return f"{'above' if self.open_low else 'at least'} {low} and {'below' if self.open_high else 'at most'} {high}"
        if low is not None:
            return f"{'>' if self.open_low else '>='} {low}"
        if high is not None:
            return f"{'<' if self.open_high else '<='} {high}"
        return "any finite number"


# plausible values by kind (a field may narrow them with ``bounds``): yearly rates above -50% and below
# 100%, probabilities and shares in [0, 1], counts (persons) 0..1e10, amounts 0..1e18 (no currency's
# sums come near; larger values would overflow a projection), ages 0..max_age
KIND_BOUNDS = {
    "count": Bounds(0.0, 1e10), "amount": Bounds(0.0, 1e18), "probability": Bounds(0.0, 1.0),
    "positive": Bounds(0.0, 1e18, open_low=True), "rate": Bounds(-0.5, 1.0, open_low=True, open_high=True),
    "number": Bounds(-1e18, 1e18), "age": Bounds(0.0, "max_age"), "int": Bounds(0.0), "choice": Bounds(),
}
KIND_WHAT = {"count": "a number of persons", "amount": "an amount or share", "probability": "a probability",
             "positive": "a positive number", "rate": "an annual rate", "number": "a number", "age": "an age",
             "int": "a whole number", "choice": "an option"}


@dataclass(frozen=True)
class Field:
    dims: tuple[str, ...]
    kind: str                 # count | amount | probability | rate | positive | number | age | int | choice
    default: Any = REQUIRED
    units: str = ""
    doc: str = ""
    choices: tuple = ()
    population_ages: bool = False   # age dimension runs 0..max_age instead of min_age..max_age
    fill: float | None = None       # value for ages the input does not cover (None: must cover all)
    bounds: Bounds | None = None    # plausible values (default: those of the kind, KIND_BOUNDS)

    @property
    def limits(self) -> Bounds:
        return self.bounds or KIND_BOUNDS[self.kind]

    @property
    def unbounded(self) -> float | None:
        """The infinite default (+inf: no maximum, -inf: no minimum) a field documents, else None:
        only such a field accepts an infinite value (given as a blank or 'none' in a workbook)."""
        default = self.default
        return default if isinstance(default, float) and np.isinf(default) else None

    def allowed(self) -> str:
        """The documented allowed values, for the template's notes."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        text = self.limits.describe()
        if self.unbounded is not None:
            text += "; blank or none: no " + ("maximum" if self.unbounded > 0 else "minimum")
        return text


Y, S, A, K, B, P, C = "year", "sex", "age", "service", "benefit", "past_year", "cohort"
FB = "floor_benefit"
# dimensions of list-valued inputs (a short list of numbers, one cell in the workbook: "12000, 70000")
LIST_DIMS = ("horizon", "period", "bend", "bracket")

FIELDS: dict[str, dict[str, Field]] = {
    "settings": {
        "valuation_year": Field((), "int", units="year", doc="valuation date is 1 January of this year (t0)",
                                bounds=Bounds(1800, 2500)),
        "horizon": Field((), "int", 75, "years", "number of projection years (1..300)", bounds=Bounds(1, 300)),
        "min_age": Field((), "int", 15, "years", "youngest age of the insured population"),
        "max_age": Field((), "int", 120, "years", "oldest age (open group of the population and pensioners)",
                         bounds=Bounds(1, 150)),
        "max_service": Field((), "int", 50, "years", "highest completed service tracked (longer service is capped)",
                             bounds=Bounds(1, 100)),
        "max_retirement_age": Field((), "int", 70, "years",
                                    "every active still insured retires (or leaves with a grant) on reaching it"),
        "new_entrant_method": Field((), "choice", "residual", choices=("residual", "growth"),
                                    doc="residual: entrants fill the target insured population; "
                                        "growth: a number of entrants growing at a rate"),
        "max_entry_age": Field((), "int", None, "years",
                               "oldest age of a new entrant, as completed age at the end of the year of entry (the "
                               "age at which new_entrants and entrant_distribution count them), min_age..max_age; "
                               "blank: no limit. Residual method: no entrants above it (a positive gap between the "
                               "target and the actives at those ages is left unfilled; a negative gap still gives "
                               "the extra exits); growth method: entrant_distribution may have no weight above it"),
        "migration_timing": Field((), "choice", "end", choices=("end", "even")),
        "gap_horizons": Field(("horizon",), "int", (10, 25, 50, 75), "years",
                              "horizons of the general average premium, each 1..horizon (the full horizon is "
                              "always added; the default's horizons beyond a shorter projection are left out)"),
        "scaled_premium_period": Field((), "int", 10, "years", "length m of each scaled-premium period"),
        "scaled_premium_target": Field((), "number", None, "years of expenditure",
                                       "reserve ratio K to reach at each period end (default: the lowest rate "
                                       "with a non-decreasing reserve)", bounds=Bounds(0.0, 100.0)),
        "balance_sheet": Field((), "choice", "yes", choices=("yes", "no"),
                               doc="compute the open-group balance sheet and closed-group liability (4 extra runs)"),
        "national_population": Field((), "choice", "yes", choices=("yes", "no"),
                                     doc="yes: a national population projection drives the insured, participation, "
                                         "coverage and GDP; no: a scheme-only valuation (occupational, civil-service "
                                         "or textbook scheme) with the insured driven by new entrants alone "
                                         "(new_entrant_method growth): no population, fertility, migration, "
                                         "participation, coverage, unemployment or GDP inputs, and no percent-of-GDP "
                                         "or demographic indicators in the results"),
        "scaled_premium_rule": Field((), "choice", None, choices=("reserve", "reserve_to_wages", "reserve_ratio"),
                                     doc="condition each scaled-premium period meets: reserve (the reserve does not "
                                         "fall), reserve_to_wages (the reserve does not fall relative to the insurable "
                                         "wage bill), reserve_ratio (reserve / expenditure reaches "
                                         "scaled_premium_target); default: reserve_ratio when a target is given, "
                                         "otherwise reserve"),
        "scaled_premium_check": Field((), "choice", None, choices=("every_year", "period_end"),
                                      doc="where the scaled-premium condition is checked: in every year of the period "
                                          "or at its end only; default: period_end for the reserve_ratio rule, "
                                          "otherwise every_year"),
        "scaled_premium_periods": Field(("period",), "int", None, "years",
                                        "start years of scaled-premium periods of unequal length (the first is the "
                                        "valuation year; the last period runs to the end of the horizon); replaces "
                                        "scaled_premium_period"),
        "actuarial_balance_period": Field((), "int", 75, "years",
                                          "valuation period of the actuarial balance (capped at the horizon); the "
                                          "target fund at its end is the expenditure of the following year"),
        "gap_terminal_reserve": Field((), "amount", 0.0, "years of expenditure",
                                      "reserve the general average premium funds at the end of each horizon, as a "
                                      "multiple K of that last year's expenditure (0: a reserve of zero)"),
        "adequacy_entry_age": Field((), "int", 25, "years",
                                    "age at which the stylized workers of the adequacy measures start their career "
                                    "(actuary.adequacy)"),
        "adequacy_density": Field((), "probability", 0.6, "share of the year",
                                  "credit and contribution density of the stylized career with gaps"),
        "after_depletion": Field((), "choice", "borrow", choices=("borrow", "payable"),
                                 doc="once the reserve is exhausted: borrow (the reserve goes negative and the debt "
                                     "bears the investment return) or payable (the reserve never falls below zero; "
                                     "benefits are paid at the share that the year's income and any remaining "
                                     "reserve can pay)"),
        "money_unit": Field((), "choice", "millions", choices=("units", "thousands", "millions", "billions"),
                            doc="unit of money amounts in the results workbooks and the report, stated in every "
                                "header (the netCDF file keeps currency units)"),
        "scheme": Field((), "choice", "yes", choices=("yes", "no"),
                        doc="no: a social protection floor costing alone (population, economy, labour force "
                            "participation and the Floor sheet; no scheme provisions, insured or pensioners)"),
    },
    "scheme": {
        "contribution_rate": Field((Y,), "amount", units="share of insurable earnings", bounds=Bounds(0.0, 1.0)),
        "collection_rate": Field((Y,), "probability", 1.0, "share of contributions due"),
        "normal_retirement_age": Field((Y, S), "age", None, "years",
                                       "by year: the age at which the members retiring in the year become entitled "
                                       "to a full pension (required unless normal_retirement_age_by_cohort is given)"),
        "early_retirement_age": Field((Y, S), "age", None, "years", "default: the normal retirement age"),
        "normal_retirement_age_by_cohort": Field((C, S), "age", None, "years",
                                                 "by year of birth, instead of normal_retirement_age: each listed "
                                                 "cohort's age applies to it and to the cohorts after it up to the next "
                                                 "one listed; cohorts before the first take the first (see "
                                                 "actuary.inputs.phase_in); a fractional age (e.g. 65 + 1/12) makes "
                                                 "that share of the year's birthdays wait to the next year"),
        "early_retirement_age_by_cohort": Field((C, S), "age", None, "years",
                                                "by year of birth, instead of early_retirement_age (as "
                                                "normal_retirement_age_by_cohort)"),
        "retirement_age_increase_by_cohort": Field((C, S), "number", None, "years",
                                                   "a reform of the retirement ages in force: years added to the "
                                                   "normal and the early retirement age (by year or by cohort) of "
                                                   "the members born in each cohort, each age at most "
                                                   "max_retirement_age; each listed cohort's increase applies to it "
                                                   "and to the cohorts after it up to the next one listed; cohorts "
                                                   "before the first take the first (list a 0 before the reform's "
                                                   "first cohort, as actuary.inputs.phase_in(0, ...) does); 0 or "
                                                   "more (the lever retirement_age_pace of actuary solve)"),
        "vesting_years": Field((Y,), "number", 15.0, "years of service",
                               "minimum service for a pension (by year of award)", bounds=Bounds(0.0)),
        "accrual": Field((Y, K), "amount", units="share of reference earnings",
                         doc="accrued pension as a share of reference earnings by credited service, linear between "
                             "whole years (see accrual_schedule); by year of accrual: the service credited in year t "
                             "earns accrual_t(s + credit) - accrual_t(s), so a change applies to service earned from "
                             "its year on and service already earned keeps its rate (a schedule without years applies "
                             "to every year; past service at the valuation date is valued at the first year's)"),
        "early_retirement_reduction": Field((Y,), "probability", 0.0, "per year before normal retirement age",
                                            "by year of award"),
        "late_retirement_increment": Field((Y,), "amount", 0.0, "per year after normal retirement age",
                                           "by year of award", bounds=Bounds(0.0, 1.0)),
        "minimum_pension": Field((Y,), "amount", 0.0, "currency a year, at t0",
                                 "minimum pension at award, in money of t0 indexed by minimum_pension_indexation: "
                                 "a value by year v_t gives v_t x index_t in year t"),
        "minimum_pension_indexation": Field((), "choice", "prices", choices=("prices", "wages", "pensions", "none")),
        "minimum_pension_financing": Field((), "choice", "scheme", choices=("scheme", "state"),
                                           doc="who pays the top-up of pensions below the minimum: the scheme, or the "
                                               "state (a separate financing item, minimum_pension_top_up in the "
                                               "results, means-free: every pension below the minimum is topped up at "
                                               "award and the top-up is indexed with the pension)"),
        "flat_pension": Field((Y,), "amount", 0.0, "currency a year, at t0",
                              "flat-rate component of every pension (old age, invalidity, deferred), in money of t0 "
                              "indexed by flat_pension_indexation, prorated over flat_pension_service; added to the "
                              "earnings-related part before the early/late adjustment and the minimum/maximum"),
        "flat_pension_indexation": Field((), "choice", "wages", choices=("prices", "wages", "pensions", "none"),
                                         doc="index of the flat-rate pension at award"),
        "flat_pension_service": Field((), "number", 0.0, "years of service",
                                      "service for the full flat-rate pension, prorated below it (0: paid in full to "
                                      "every pensioner)"),
        "bend_points": Field(("bend",), "amount", None, "currency a year, at t0",
                             "progressive benefit formula: the upper limits of the brackets of reference earnings "
                             "(increasing, e.g. 12000, 70000), indexed by bend_point_indexation; the pension is the "
                             "accrued units x the progressive earnings sum_i bend_point_rates_i x the part of reference "
                             "earnings in bracket i (full career: units = 1 gives the bend-point formula's pension)"),
        "bend_point_rates": Field(("bracket",), "amount", None, "share of reference earnings in the bracket",
                                  "one rate per bracket, one more than bend_points (e.g. 0.90, 0.32, 0.15)"),
        "bend_point_indexation": Field((), "choice", "wages", choices=("prices", "wages", "pensions", "none"),
                                       doc="index of the bend points (money of t0) in the year of award"),
        "maximum_pension": Field((Y,), "amount", np.inf, "currency a year, at t0",
                                 "as minimum_pension, indexed by maximum_pension_indexation"),
        "maximum_pension_indexation": Field((), "choice", "wages", choices=("prices", "wages", "pensions", "none")),
        "reference_earnings_years": Field((Y,), "int", 10, "years",
                                          "average of the last N years of insurable earnings (0: whole career), "
                                          "by year of award"),
        "revaluation": Field((), "choice", "wages", choices=("wages", "prices", "none"),
                             doc="index revaluing past earnings in reference earnings"),
        "indexation_price_weight": Field((Y,), "number", 1.0, "weight",
                                         "beta_t = w_p,t inflation + w_w,t wage growth (weights of year t)",
                                         bounds=Bounds(0.0, 1.0)),
        "indexation_wage_weight": Field((Y,), "number", 0.0, "weight", "see indexation_price_weight",
                                        bounds=Bounds(0.0, 1.0)),
        "indexation_floor": Field((), "rate", -np.inf, "a year", bounds=Bounds(-1.0, 1.0)),
        "indexation_cap": Field((), "rate", np.inf, "a year", bounds=Bounds(-1.0, 1.0)),
        # at most 100 years: the projection keeps lag + 1 years of economic history (a lag of 1.3e10, typed by
        # mistake, asked for 100 GiB)
        "indexation_lag": Field((), "int", 1, "years", "indexation of year t uses inflation/wage growth of t-lag",
                                bounds=Bounds(0.0, 100.0)),
        "ceiling_multiple": Field((Y,), "amount", np.inf, "x average wage", "insurable earnings ceiling"),
        "floor_multiple": Field((Y,), "amount", 0.0, "x average wage", "insurable earnings floor"),
        "earnings_cv": Field((), "amount", 0.0, "", "coefficient of variation of earnings within a cell (lognormal)"),
        "grant_type": Field((), "choice", "multiple", choices=("multiple", "refund"),
                            doc="grant to those reaching retirement age without the vesting service: a multiple of "
                                "reference earnings per year of service, or the refund of contributions with interest"),
        "grant_multiple": Field((), "amount", 0.0, "x reference earnings per year of service", "grant_type multiple"),
        "refund_contribution_rate": Field((Y,), "probability", None, "share of insurable earnings",
                                          "contributions refunded (grant_type refund or exit_benefit refund), "
                                          "e.g. the employee rate"),
        "refund_interest": Field((Y,), "rate", None, "a year", "interest credited on refunds (default: the return)"),
        "exit_benefit": Field((), "choice", "deferred", choices=("deferred", "refund", "none"),
                              doc="what actives leaving before retirement keep: deferred rights (they stay insured "
                                  "with their credits: a deferred pension at normal retirement age if vested, "
                                  "otherwise the grant), the refund of their contributions with interest on leaving "
                                  "(refund_contribution_rate; credits cancelled), or nothing (rights forfeited)"),
        "exit_vesting_years": Field((), "amount", None, "years of service",
                                    "exit_benefit refund or none: leavers with at least this completed service "
                                    "keep deferred rights instead (default: no leaver does)"),
        "past_service_credit": Field((), "probability", 1.0, "share",
                                     "share of the initial actives' service credited (new scheme: 0 none, 1 full)"),
        "invalidity_vesting_years": Field((Y,), "number", 5.0, "years of service",
                                          "minimum service for invalidity and survivors' pensions of actives",
                                          bounds=Bounds(0.0)),
        "invalidity_future_service": Field((), "probability", 0.0, "share",
                                           "fraction of the service to normal retirement age credited on invalidity"),
        "invalidity_conversion": Field((), "choice", "convert", choices=("convert", "keep"),
                                       doc="invalidity pensions at normal retirement age: convert to old age or keep"),
        "widow_share": Field((), "amount", 0.0, "x the deceased's pension", bounds=Bounds(0.0, 1.0)),
        "orphan_share": Field((), "amount", 0.0, "x the deceased's pension, each orphan", bounds=Bounds(0.0, 1.0)),
        "survivor_share_cap": Field((), "amount", 1.0, "x the deceased's pension", "cap on all survivors' shares"),
        "orphan_age_limit": Field((), "int", 18, "years", "orphans' pensions stop on reaching this age"),
        "funeral_grant": Field((), "amount", 0.0, "currency at t0", "per death of an active or a pensioner"),
        "funeral_grant_indexation": Field((), "choice", "wages", choices=("prices", "wages", "pensions", "none")),
        "admin_share_of_benefits": Field((), "probability", 0.0),
        "admin_share_of_contributions": Field((), "probability", 0.0),
        "subsidy_share_of_benefits": Field((Y,), "probability", 0.0, "share of benefit expenditure",
                                           "state subsidy as a share of benefits"),
        "subsidy_share_of_wages": Field((Y,), "probability", 0.0, "share of the insurable wage bill",
                                        "state subsidy as a share of the wage bill"),
    },
    "economy": {
        "inflation": Field((Y,), "rate", units="a year"),
        "real_wage_growth": Field((Y,), "rate", units="a year"),
        "nominal_return": Field((Y,), "rate", units="a year, on the reserve",
                                doc="also the discount rate of present values; a floor costing alone (no reserve): "
                                    "the discount rate of the floor's present values"),
        "unemployment_rate": Field((Y,), "probability", 0.0, "share of the labour force",
                                   "the unemployed as a share of the labour force: the employed are participation x (1 - "
                                   "unemployment_rate)"),
        "productivity_growth": Field((Y,), "rate", None, "a year", "real labour productivity (default: real wage growth)"),
        "gdp": Field((), "amount", None, "currency, year t0", "required with a national population",
                     bounds=Bounds(0.0, 1e18, open_low=True)),
        "average_wage": Field((), "positive", units="currency a year, t0", doc="national average wage (ceiling base)"),
        "past_inflation": Field((P,), "rate", None, "a year",
                                "inflation of the years before the valuation year (history ending in t0 - 1): past "
                                "earnings in reference earnings are revalued and deflated with it, and an indexation "
                                "lag reaching before t0 uses it; years before the first one given take its rate "
                                "(default: every year before t0 takes the valuation year's inflation)"),
        "past_real_wage_growth": Field((P,), "rate", None, "a year",
                                       "real wage growth of the years before the valuation year (history ending in "
                                       "t0 - 1): the cohort's insurable earnings before t0 are deflated with the "
                                       "nominal wage growth (1 + inflation)(1 + real wage growth) - 1 of those years "
                                       "and of t0; years before the first one given take its rate (default: every "
                                       "year before t0 takes the valuation year's real wage growth)"),
        "poverty_line": Field((Y,), "positive", None, "currency a year per person, in each year's money",
                              "national poverty line (floor benefits on the poverty_line basis)"),
        "government_expenditure_pct_gdp": Field((Y,), "positive", None, "percent of GDP (35 = 35%)",
                                                "general government expenditure (ratios of the floor's cost)",
                                                bounds=Bounds(1.0, 100.0, open_low=True)),
        "government_revenue_pct_gdp": Field((Y,), "positive", None, "percent of GDP (35 = 35%)",
                                            "general government revenue (ratios of the floor's cost)",
                                            bounds=Bounds(1.0, 100.0, open_low=True)),
    },
    "demography": {
        "population": Field((S, A), "count", None, "persons at 1 January t0", "required with a national population",
                            population_ages=True),
        "fertility": Field((Y, A), "amount", None, "births per woman", "required with a national population",
                           population_ages=True, fill=0.0, bounds=Bounds(0.0, 1.0)),
        "sex_ratio_at_birth": Field((Y,), "positive", 1.05, "male per female birth", bounds=Bounds(0.5, 2.0)),
        "net_migration": Field((Y, S, A), "number", 0.0, "persons", population_ages=True),
        "mortality": Field((S, A), "probability", units="q_x at t0", population_ages=True),
        "mortality_improvement": Field((Y, S, A), "rate", 0.0, "a year", population_ages=True,
                                       bounds=Bounds(-0.1, 0.1)),
    },
    "behaviour": {
        "participation": Field((Y, S, A), "probability", None, "labour force / population",
                               "required with a national population", fill=0.0),
        "coverage": Field((Y, S, A), "probability", None, "insured / employed", "required with a national population",
                          fill=0.0),
        "credit_density": Field((Y, S, A), "probability", 1.0, "share of the year credited"),
        "contribution_density": Field((Y, S, A), "probability", 1.0, "share of the year contributed"),
        "salary_scale": Field((S, A), "amount", units="average salary, currency a year at t0",
                              doc="by default (salary_scale_ages january) by age at 1 January: the average over "
                                  "the year of the cell's members, who are aged x to x + 2 during the year (mean "
                                  "x + 1); grown each year with the average-wage index", fill=0.0),
        "salary_scale_ages": Field((), "choice", "january", choices=("january", "exact"),
                                   doc="january: salary_scale is by age at 1 January (the cell's average over the "
                                       "year); exact: it is given at exact ages, linear between them, as published "
                                       "scales usually are, and the engine converts it (see "
                                       "actuary.series.salary_scale_by_cell)"),
        "exit_rate": Field((Y, S, A), "probability", 0.0, "a year", "active -> inactive", fill=0.0),
        "retirement_rate": Field((Y, S, A), "probability", 1.0, "a year",
                                 "probability of retiring in the year for an eligible active"),
        "invalidity_rate": Field((Y, S, A), "probability", 0.0, "a year", "among actives with invalidity vesting",
                                 fill=0.0),
        "reentry_rate": Field((Y, S, A), "probability", 0.0, "a year", "inactive -> active, with their credits",
                              fill=0.0),
        "active_mortality_factor": Field((S, A), "positive", 1.0, "x q_x"),
        "pensioner_mortality_factor": Field((S, A), "positive", 1.0, "x q_x", population_ages=True),
        "invalid_mortality_factor": Field((S, A), "positive", 1.0, "x q_x", population_ages=True),
        "survivor_mortality_factor": Field((S, A), "positive", 1.0, "x q_x (widows and widowers)", population_ages=True),
        "remarriage_rate": Field((Y, S, A), "probability", 0.0, "a year (widows and widowers)", population_ages=True),
        "probability_married": Field((S, A), "probability", 0.0, "share of deaths leaving a spouse",
                                     population_ages=True),
        "spouse_age_difference": Field((S, A), "number", 0.0, "years, spouse minus deceased", population_ages=True),
        "orphans": Field((S, A), "amount", 0.0, "expected orphans per death", population_ages=True),
        "orphan_age": Field((S, A), "amount", 10.0, "years, mean age of the orphans", population_ages=True),
        "entrants": Field((), "count", None, "persons in year t0 (growth method)"),
        "entrant_growth": Field((Y,), "rate", 0.0, "a year (growth method)"),
        "entrant_distribution": Field((S, A), "probability", None, "share (growth method)", fill=0.0),
    },
    "initial": {
        "active": Field((S, A, K), "count", units="persons at 1 January t0", fill=0.0),
        "inactive": Field((S, A, K), "count", 0.0, "persons at 1 January t0", fill=0.0),
        "pensioners": Field((B, S, A), "count", 0.0, "persons at 1 January t0", population_ages=True, fill=0.0),
        "average_pension": Field((B, S, A), "amount", 0.0, "currency a year at 1 January t0", population_ages=True,
                                 fill=0.0),
        "refund_balance": Field((S, A, K), "amount", None, "currency at t0, all actives of the cell",
                                "contributions to refund accumulated by the initial actives (grant_type refund; "
                                "default: service x refund rate x insurable salary)", fill=0.0),
        "inactive_refund_balance": Field((S, A, K), "amount", None, "currency at t0, all inactive of the cell",
                                         "as refund_balance, for the initial inactive insured", fill=0.0),
        "credited_service": Field((S, A, K), "amount", None, "years per member at t0",
                                  "mean exact credited service of the initial actives of the cell, when the data "
                                  "record it (default: past_service_credit x (k + 1/2), k the completed service)",
                                  fill=0.0),
        "accrued_units": Field((S, A, K), "amount", None, "share of reference earnings per member at t0",
                               "mean accrued pension of the initial actives of the cell as a share of reference "
                               "earnings (default: the first year's accrual schedule at the credited service)",
                               fill=0.0),
        "inactive_credited_service": Field((S, A, K), "amount", None, "years per member at t0",
                                           "as credited_service, for the initial inactive insured (default: k + 1/2)",
                                           fill=0.0),
        "inactive_accrued_units": Field((S, A, K), "amount", None, "share of reference earnings per member at t0",
                                        "as accrued_units, for the initial inactive insured", fill=0.0),
        "reserve": Field((), "number", 0.0, "currency at 1 January t0"),
    },
    # the social protection floor: one entry per benefit (the Floor sheet's rows), see actuary.floor
    "floor": {
        "kind": Field((FB,), "choice", choices=("old_age", "disability", "child", "maternity", "other"),
                      doc="maternity counts the year's births by the mother's age; the others the population "
                          "of eligible sex and age"),
        "sex": Field((FB,), "choice", "both", choices=("both", "male", "female"), doc="sex of the beneficiaries"),
        "min_age": Field((FB,), "age", 0, "years", "youngest eligible age (completed age), inclusive"),
        "max_age": Field((FB,), "age", np.inf, "years", "oldest eligible age, inclusive (blank: no upper limit)"),
        "amount": Field((FB,), "amount", units="a year per beneficiary: currency at t0, or a share of the basis",
                        doc="benefit level (see basis)"),
        "basis": Field((FB,), "choice", "currency", choices=("currency", "gdp_per_capita", "average_wage",
                                                              "poverty_line"),
                       doc="currency: an amount at the valuation year indexed by 'indexation'; otherwise a share "
                           "of GDP per capita, of the national average wage or of economy.poverty_line, each year"),
        "indexation": Field((FB,), "choice", "prices", choices=("prices", "wages", "none"),
                            doc="indexation of a currency amount (blank for the other bases)"),
        "take_up": Field((Y, FB), "probability", 1.0, "share of the eligible",
                         "share of the eligible who receive it (a phase-in year by year in the Floor take-up sheet)"),
        "test": Field((FB,), "choice", "universal", choices=("universal", "pension_tested", "top_up"),
                      doc="universal; pension_tested: only those without a scheme pension; top_up: scheme "
                          "pensioners receive the difference up to the amount"),
        "admin_share": Field((FB,), "probability", 0.0, "x benefits", "administration cost of the benefit"),
        "eligibility": Field((FB, S, A), "probability", 1.0, "share of the population of the cell",
                             "targeting (e.g. the share below the poverty line) or disability prevalence",
                             population_ages=True, fill=1.0),
    },
}
# initial-state inputs recording exact service and accrued units per cell (past_service_credit must then be 1)
EXACT_SERVICE = ("credited_service", "accrued_units", "inactive_credited_service", "inactive_accrued_units")

# scheme provisions that may change by year of award or payment but are usually constant: on the Scheme
# sheet when constant, in the workbook's 'Provisions by year' sheet when they change
PROVISIONS_BY_YEAR = ("vesting_years", "invalidity_vesting_years", "reference_earnings_years", "ceiling_multiple",
                      "floor_multiple", "early_retirement_reduction", "late_retirement_increment", "minimum_pension",
                      "maximum_pension", "indexation_price_weight", "indexation_wage_weight", "flat_pension")

# settings that define the coordinates of every input
COORDINATE_SETTINGS = ("valuation_year", "horizon", "min_age", "max_age", "max_service")

GROWTH_ONLY = ("entrants", "entrant_growth", "entrant_distribution")
# inputs of the national population projection: required with a national population (NATIONAL_REQUIRED),
# refused in a scheme-only valuation (NATIONAL_ONLY)
NATIONAL_REQUIRED = (("demography", "population"), ("demography", "fertility"), ("behaviour", "participation"),
                     ("behaviour", "coverage"), ("economy", "gdp"))
NATIONAL_ONLY = {"settings": ("migration_timing",),
                 "demography": ("population", "fertility", "sex_ratio_at_birth", "net_migration"),
                 "economy": ("gdp", "unemployment_rate", "productivity_growth"),
                 "behaviour": ("participation", "coverage")}

# the inputs a floor costing alone (settings.scheme = "no") may have: None = every field of the group
# (the economic history before t0 serves the scheme's earnings and indexation only)
WITHOUT_SCHEME = {"economy": tuple(k for k in FIELDS["economy"] if not k.startswith("past_")), "demography": None,
                  "behaviour": ("participation",), "floor": None}
SCHEME_SETTINGS = ("max_service", "max_retirement_age", "new_entrant_method", "max_entry_age",
                   "scaled_premium_period", "scaled_premium_target", "balance_sheet", "scaled_premium_rule",
                   "scaled_premium_check", "scaled_premium_periods", "actuarial_balance_period",
                   "gap_terminal_reserve", "after_depletion")


def without_scheme(group: str, name: str) -> bool:
    """Whether input ``group.name`` exists without a contributory scheme (settings.scheme = "no")."""
    if group == "settings":
        return name not in SCHEME_SETTINGS
    return group in WITHOUT_SCHEME and (WITHOUT_SCHEME[group] is None or name in WITHOUT_SCHEME[group])


def accrual_schedule(points, max_service: int = 50) -> xr.DataArray:
    """Accrued pension by completed service from (service, accrued share) points, linear between
    them and flat after the last: e.g. ``[(0, 0), (15, 0.20), (50, 0.725)]`` is 20% for the first
    15 years then 1.5% a year."""
    points = sorted(points)
    service = np.arange(max_service + 1)
    values = np.interp(service, [p[0] for p in points], [p[1] for p in points])
    return xr.DataArray(values, dims=K, coords={K: service}, name="accrual")


def phase_in(start_age: float, first_cohort: int, months_per_cohort: float, final_age: float,
             sexes=("male", "female")) -> xr.DataArray:
    """Retirement ages by year of birth rising from ``start_age`` (cohorts born before ``first_cohort``) by
    ``months_per_cohort`` months for each later cohort until ``final_age``: e.g. ``phase_in(60, 1966, 1, 65)``
    is 60 for cohorts born up to 1965, 60 + 1/12 for 1966, ... and 65 from 2025 on (a value for
    ``scheme.normal_retirement_age_by_cohort`` or ``early_retirement_age_by_cohort``; each age is rounded
    down to whole months)."""
    if months_per_cohort <= 0 or final_age <= start_age:
        steps = 0
    else:
        steps = int(math.ceil(round((final_age - start_age) * 12 / months_per_cohort, 9)))
    cohorts = first_cohort - 1 + np.arange(steps + 1)
    months = np.minimum(np.arange(steps + 1) * months_per_cohort, (final_age - start_age) * 12)
    ages = start_age + np.floor(np.round(months, 9)) / 12
    return xr.DataArray(np.repeat(ages[:, None], len(sexes), axis=1), dims=(C, S),
                        coords={C: cohorts, S: list(sexes)})


def cohort_ages(table: xr.DataArray, born: np.ndarray) -> np.ndarray:
    """Ages of a by-cohort table (cohort, sex) for birth years ``born`` (any shape): the value of the last
    listed cohort at or before each birth year (the first listed for earlier cohorts); shape born.shape +
    (sex,)."""
    labels = table.get_index(C).values
    index = np.clip(np.searchsorted(labels, born, side="right") - 1, 0, labels.size - 1)
    return values_in_order(table, C, S)[index]


def retirement_age_grid(scheme: dict, which: str, years: np.ndarray, ages: np.ndarray,
                        max_retirement_age: float | None = None) -> np.ndarray:
    """The ``which`` ("normal" or "early") retirement age of the members aged x at 1 January of year t, by
    (year, sex, age): from the table by cohort (born in t - (x + 1), the year in which they reach x + 1), or
    the age of the year; the early age defaults to the normal age. With ``scheme.retirement_age_increase_by_cohort``
    (a reform of the ages in force) each cell's age is min(age + the increase of its cohort, ``max_retirement_age``)."""
    law = _retirement_age_in_force(scheme, which, years, ages)
    increase = scheme.get("retirement_age_increase_by_cohort")
    if increase is None:
        return law
    if max_retirement_age is None:
        raise ValueError("retirement_age_grid: a retirement age increase by cohort needs max_retirement_age")
    born = years[:, None] - (ages[None, :] + 1)
    added = np.moveaxis(cohort_ages(increase, born), -1, 1)
    return np.ascontiguousarray(np.minimum(law + added, float(max_retirement_age)))


def _retirement_age_in_force(scheme: dict, which: str, years: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """:func:`retirement_age_grid` without the increase by cohort: the ages by cohort or by year."""
    cohort = scheme[f"{which}_retirement_age_by_cohort"]
    if cohort is not None:
        born = years[:, None] - (ages[None, :] + 1)
        return np.ascontiguousarray(np.moveaxis(cohort_ages(cohort, born), -1, 1))
    by_year = scheme[f"{which}_retirement_age"]
    if by_year is None:
        return _retirement_age_in_force(scheme, "normal", years, ages)
    values = values_in_order(by_year, Y, S)
    index = np.clip(years - int(by_year.get_index(Y)[0]), 0, values.shape[0] - 1)  # held past the horizon
    return np.ascontiguousarray(np.broadcast_to(values[index][:, :, None], (years.size, 2, ages.size)))


def _cohort_table(name: str, field: Field, value, settings: dict) -> xr.DataArray:
    """A by-cohort table: a DataArray with a 'cohort' dimension (whole years of birth, increasing) and
    optionally 'sex'; both sexes get the same ages when 'sex' is absent."""
    if not isinstance(value, xr.DataArray) or C not in value.dims:
        raise InputError(f"Input '{name}' must be a DataArray with a 'cohort' dimension (years of birth), e.g. "
                         "actuary.inputs.phase_in(60, 1966, 1, 65).", field=name)
    extra = [d for d in value.dims if d not in field.dims]
    if extra:
        raise InputError(f"Input '{name}' has dimension '{extra[0]}', which it cannot depend on; allowed "
                         f"dimensions are {field.dims}.", field=name)
    if C not in value.coords:
        raise InputError(f"Input '{name}' has no labels for dimension 'cohort'.", field=name)
    da = value.astype(float)
    labels = np.asarray(da[C].values, dtype=float)
    if np.any(labels != np.round(labels)) or np.any(np.diff(labels) <= 0):
        raise InputError(f"Input '{name}': the cohorts (years of birth) must be whole years in increasing order; "
                         f"got {labels.tolist()[:6]}.", field=name)
    if labels.size > 1000:
        raise InputError(f"Input '{name}': {labels.size} cohorts; expected at most 1000.", field=name)
    da = da.assign_coords({C: labels.astype(int)})
    if S in da.dims:
        da = check.sexes(name, da)
    else:
        da = da.expand_dims({S: list(SEXES)})
    da = da.transpose(C, S).copy()
    check.finite(name, da)
    low, high = settings["min_age"] + 1, settings["max_retirement_age"]
    if name.endswith("retirement_age_increase_by_cohort"):   # years added to the ages, which stay within them
        low, high, what = 0, high - low, "0 .. max_retirement_age - min_age - 1"
    else:
        what = "settings.min_age + 1 .. max_retirement_age"
    bad = (da < low) | (da > high)
    if bool(bad.any()):
        i = int(np.flatnonzero(bad.values)[0])
        raise check._cell_error(name, da, i, f"value {da.values.flat[i]} is outside {low}..{high} ({what}).")
    da.attrs["units"] = field.units
    return da.rename(name.split(".")[-1])


def coordinates(settings: dict, history_years: int = 0) -> dict[str, np.ndarray]:
    t0, horizon = settings["valuation_year"], settings["horizon"]
    return {
        Y: np.arange(t0, t0 + horizon),
        P: np.arange(t0 - history_years, t0),
        S: np.array(SEXES),
        "scheme_age": np.arange(settings["min_age"], settings["max_age"] + 1),
        "population_age": np.arange(0, settings["max_age"] + 1),
        K: np.arange(settings["max_service"] + 1),
        B: np.array(BENEFITS),
    }


def _field_coords(field: Field, coords: dict) -> dict[str, np.ndarray]:
    out = {}
    for dim in field.dims:
        if dim == A:
            out[A] = coords["population_age" if field.population_ages else "scheme_age"]
        else:
            out[dim] = coords[dim]
    return out


def history_years(values: dict) -> int:
    """Number M of years of economic history: the longest of the ``past_year`` inputs given in ``values`` (the
    economy group; a scalar or a DataArray without ``past_year`` counts as one year, t0 - 1)."""
    longest = 0
    for key, field in FIELDS["economy"].items():
        value = values.get(key)
        if P not in field.dims or value is None:
            continue
        if isinstance(value, xr.DataArray):
            longest = max(longest, value.sizes.get(P, 1))
        else:
            longest = max(longest, max(np.asarray(value).size, 1))
    return longest


def _labelled_like(da: xr.DataArray, dims: tuple, target: dict) -> bool:
    """True when ``da`` already has the field's dimensions in order and exactly its labels (a validated input
    passed again, as scenarios and solvers do): nothing to select or broadcast."""
    if da.dims != dims or da.dtype.kind not in "fiu":
        return False
    for dim in dims:
        if dim not in da.coords:
            return False
        labels = da.coords[dim].values
        if labels.shape != target[dim].shape or not np.array_equal(labels, target[dim]):
            return False
    return True


def _history(name: str, da: xr.DataArray, wanted: np.ndarray) -> xr.DataArray:
    """A history by past year, ending in t0 - 1 (the year before the valuation year), extended back to the
    years ``wanted`` by holding its first (oldest) value."""
    _require_numbers(name, da.values)
    labels = check.integer_steps(name, da, P)
    last = int(wanted[-1]) if wanted.size else None
    if labels[-1] != last:
        raise InputError(f"Input '{name}': the history's last year is {labels[-1]}; it must end in {last}, the year "
                         "before the valuation year.", field=name)
    older = wanted.size - labels.size
    values = np.asarray(da.transpose(P).values, dtype=float)
    return xr.DataArray(np.concatenate([np.full(older, values[0]), values]), dims=(P,), coords={P: wanted})


def _coerce(name: str, field: Field, value, coords: dict) -> xr.DataArray:
    """Broadcast a user value to the field's dims and coordinates, selecting and checking labels."""
    target = _field_coords(field, coords)
    shape = tuple(len(v) for v in target.values())
    if isinstance(value, xr.DataArray) and _labelled_like(value, field.dims, target):
        return value.copy(deep=False, data=np.array(value.values, dtype=float, order="C"))
    if isinstance(value, xr.DataArray):
        extra = [d for d in value.dims if d not in field.dims]
        if extra:
            raise InputError(f"Input '{name}' has dimension '{extra[0]}', which it cannot depend on; "
                             f"allowed dimensions are {field.dims}.")
        da = value
        for dim in da.dims:
            if dim not in da.coords:
                raise InputError(f"Input '{name}' has no labels for dimension '{dim}'.")
            wanted = target[dim]
            labels = np.asarray(da[dim].values)
            if dim == P:
                da = _history(name, da, wanted)
                continue
            if dim == Y or (dim in (A, K) and field.fill is None):
                check.integer_steps(name, da, dim)
            elif dim in (A, K):  # sparse tables (absent cells take the fill value): labels must only increase
                check.increasing(name, da, dim)
            if dim == S:
                da = check.sexes(name, da)
                continue
            if dim == B:
                unknown = [b for b in labels.tolist() if b not in BENEFITS]
                if unknown:
                    raise InputError(f"Input '{name}': unknown benefit '{unknown[0]}'; expected one of {BENEFITS}.",
                                     field=name, where={"benefit": unknown[0]})
            missing = np.setdiff1d(wanted, labels)
            if missing.size and (dim not in (A, K, B) or field.fill is None):
                raise InputError(
                    f"Input '{name}': {dim} {missing[0]} is missing; it must cover {dim}s "
                    f"{wanted[0]}..{wanted[-1]} (it covers {labels[0]}..{labels[-1]}).", field=name)
            if missing.size:
                da = da.reindex({dim: wanted}, fill_value=field.fill if field.fill is not None else 0.0)
            elif labels.shape != wanted.shape or not np.array_equal(labels, wanted):   # (equal: nothing to select)
                da = da.sel({dim: wanted})
        if field.kind != "choice":
            _require_numbers(name, da.values)
            da = da.astype(float)
            if _labelled_like(da, field.dims, target):   # (a table read whole: nothing to broadcast, its labels
                # taken as the broadcast takes them, the field's: the workbook's text labels are objects)
                da = da.assign_coords({d: target[d] for d in field.dims if da.coords[d].dtype != target[d].dtype})
                return da.copy(data=np.array(da.values, order="C"))
        da = da.broadcast_like(xr.DataArray(np.empty(shape), dims=field.dims, coords=target)).transpose(*field.dims)
        return da.copy(data=np.array(da.values, order="C"))   # contiguous: the kernels take its values as they are
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise InputError(f"Input '{name}': value {_shown(value)} is not an array of numbers ({error}); expected a "
                         f"scalar, a labelled DataArray or an array of shape {shape} for dimensions {field.dims}.",
                         field=name) from None
    _require_numbers(name, array)
    array = array.astype(float)
    if array.ndim == 0:
        return xr.DataArray(np.full(shape, float(array)), dims=field.dims, coords=target)
    if array.shape != shape:
        raise InputError(f"Input '{name}' has shape {array.shape}; expected a scalar, a labelled DataArray or an "
                         f"array of shape {shape} for dimensions {field.dims}.")
    return xr.DataArray(array.copy(), dims=field.dims, coords=target)


def _shown(value) -> str:
    """A value for an error message (long reprs cut)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


def _require_numbers(name: str, values) -> None:
    """Numbers only: text, None, booleans and other objects are refused naming the input."""
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        return
    if array.dtype.kind == "b":
        raise InputError(f"Input '{name}': value {_shown(values)} holds booleans (True/False); expected numbers.",
                         field=name)
    sample = next((v for v in array.ravel().tolist()
                   if isinstance(v, bool) or not isinstance(v, (int, float))), array.ravel()[:1].tolist())
    raise InputError(f"Input '{name}': value {_shown(sample)} is not a number; expected numbers "
                     f"(values of type {array.dtype} given).", field=name)


def _value_error(name: str, da: xr.DataArray, flat_index: int, text: str) -> InputError:
    """The error of one value: a cell of an array (with its coordinates) or a single value."""
    if da.ndim == 0:
        return InputError(f"Input '{name}': {text}", field=name)
    return check._cell_error(name, da, flat_index, text)


def _check_kind(name: str, field: Field, da: xr.DataArray, coords: dict | None = None) -> None:
    """Every value a number within the field's plausible bounds (:data:`KIND_BOUNDS` or its own);
    infinite only for a field whose default is that infinity ("no maximum")."""
    values = np.asarray(da.values)
    if not np.issubdtype(values.dtype, np.number) or values.dtype.kind == "b":
        _require_numbers(name, values)
    values = values.astype(float)
    bad = np.isnan(values) | (np.isinf(values) & (values != (field.unbounded or np.nan)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        hint = "; leave it out (or blank) for no limit" if field.unbounded is not None else ""
        raise _value_error(name, da, i, f"value {values.flat[i]} is not a finite number; every cell must hold "
                                             f"a number (fill missing cells explicitly){hint}.")
    if field.kind == "int" and np.any(values != np.round(values)):
        i = int(np.flatnonzero(values != np.round(values))[0])
        raise _value_error(name, da, i, f"value {values.flat[i]} is not a whole number.")
    max_age = int(coords["population_age"][-1]) if coords is not None else None
    bounds = field.limits.resolve(max_age)
    outside = bounds.outside(values)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        value = values.flat[i]
        what = KIND_WHAT[field.kind]
        if bounds.low == 0 and not bounds.open_low and value < 0:
            text = f"value {value} is negative; expected {what} >= 0."
        elif bounds.low == 0 and bounds.open_low and value <= 0:
            text = f"value {value} is not positive; expected {what} > 0."
        elif bounds == Bounds(0.0, 1.0):
            share = " (a share: 0.18 is 18%)" if 1 < value <= 100 else ""   # a percentage typed as a number
            text = f"value {value} is outside [0, 1]; expected {what} between 0 and 1{share}."
        else:
            low = "(" if bounds.open_low else "["
            high = ")" if bounds.open_high else "]"
            text = (f"value {value} is outside {low}{bounds.low:g}, {bounds.high:g}{high}; expected {what} "
                    f"{bounds.describe()}{' (a share: 0.05 is 5%)' if field.kind == 'rate' else ''}.")
        raise _value_error(name, da, i, text)


def _value(name: str, field: Field, values: dict, key: str):
    """The value given for a field, or its default; None only for a field whose default is None
    (optional, derived from others): elsewhere None is an error, not a silent default."""
    if key in values and values[key] is None and field.default is not None:
        default = "" if field.default is REQUIRED else f" (or leave it out for the default {field.default!r})"
        raise InputError(f"Input '{name}': value None; expected {field.units or KIND_WHAT[field.kind]}{default}.",
                         field=name)
    value = values.get(key, field.default)
    if value is REQUIRED:
        raise InputError(f"Input '{name}' is required ({field.units or field.doc}).", field=name)
    return value


def _scalar(name: str, field: Field, value, coords: dict | None = None):
    if field.dims and field.kind != "int":  # a list of numbers (bend points, rates)
        try:
            numbers = np.atleast_1d(np.asarray(value))
        except (TypeError, ValueError):
            raise InputError(f"Input '{name}': value {_shown(value)} is not a list of numbers.", field=name) from None
        _require_numbers(name, numbers)
        if numbers.ndim != 1 or numbers.size == 0:
            raise InputError(f"Input '{name}': value {_shown(value)} is not a list of numbers.", field=name)
        _check_kind(name, field, xr.DataArray(numbers.astype(float), dims=field.dims), coords)
        return tuple(float(v) for v in numbers)
    if field.kind == "choice":
        if not isinstance(value, str) or value not in field.choices:
            raise InputError(f"Input '{name}': {_shown(value)} is not an option; expected one of {field.choices}.",
                             field=name)
        return value
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise InputError(f"Input '{name}': value {_shown(value)} is not a number; expected "
                         f"{field.units or KIND_WHAT[field.kind]} ({field.allowed()}).", field=name)
    if field.kind == "int":
        values = np.atleast_1d(np.asarray(value))
        if values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise InputError(f"Input '{name}': value {_shown(value)} is not a whole number.", field=name)
        if field.dims and values.ndim != 1 or not field.dims and values.size != 1:
            raise InputError(f"Input '{name}': value {_shown(value)}; expected "
                             f"{'a list of whole numbers' if field.dims else 'one whole number'}.", field=name)
        _check_kind(name, field, xr.DataArray(values.astype(float), dims=field.dims) if field.dims else
                    xr.DataArray(float(values[0])), coords)
        return tuple(int(v) for v in values) if field.dims else int(values[0])
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"Input '{name}': value {_shown(value)} is not a number; expected "
                         f"{field.units or KIND_WHAT[field.kind]}.", field=name) from None
    _check_kind(name, field, xr.DataArray(number), coords)
    return number


class Inputs:
    """All validated inputs of a valuation, by group: ``inputs.scheme['contribution_rate']``."""

    def __init__(self, settings: dict, scheme: dict, economy: dict, demography: dict, behaviour: dict,
                 initial: dict, floor: dict | None = None, reuse: "tuple[Inputs, set[str]] | None" = None):
        """``reuse`` (previous inputs, names "group.field" changed since): the fields given unchanged keep
        their validated values when the coordinates are the same (a valuation replaced, as scenarios and
        solvers do); every cross-check runs again."""
        raw = {"settings": settings, "scheme": scheme, "economy": economy, "demography": demography,
               "behaviour": behaviour, "initial": initial, "floor": {} if floor is None else floor}
        for group, values in raw.items():
            if not isinstance(values, dict):
                raise InputError(f"Input group '{group}' must be a mapping of field names to values.")
            unknown = [k for k in values if k not in FIELDS[group]]
            if unknown:
                raise InputError(f"Input '{group}.{unknown[0]}' is not a known field of '{group}'; "
                                 f"known fields: {', '.join(FIELDS[group])}.")
        self.settings = self.check_settings(raw["settings"])
        self.coords = coordinates(self.settings, history_years(raw["economy"]))
        if not self.has_scheme:
            _refuse_scheme_inputs(raw)
        kept = {}
        # what the projection computes from the demography and the settings alone (mortality table, national
        # population), shared by the inputs replaced from these without changing either
        self.by_demography = {}
        if reuse is not None:
            previous, changed = reuse
            if all(previous.settings[k] == self.settings[k] for k in COORDINATE_SETTINGS) \
                    and previous.coords[P].size == self.coords[P].size:   # the same years of economic history
                kept = {(group, key) for group in FIELDS for key in raw[group] if f"{group}.{key}" not in changed}
                kept = {pair: getattr(previous, pair[0])[pair[1]] for pair in kept
                        if pair[0] not in ("settings", "floor")}
                if not any(name.startswith(("settings.", "demography.")) for name in changed):
                    self.by_demography = previous.by_demography
        for group in ("scheme", "economy", "demography", "behaviour", "initial"):
            setattr(self, group, self._group(group, raw[group], kept))
        self._cross_checks(raw)
        from .floor import validate_floor

        self.floor = validate_floor(raw["floor"], self)

    @property
    def has_scheme(self) -> bool:
        """False for a social protection floor costing alone (settings.scheme = "no")."""
        return self.settings["scheme"] == "yes"

    @property
    def has_floor(self) -> bool:
        return bool(self.floor)

    @staticmethod
    def check_settings(values: dict) -> dict:
        """The validated settings (defaults filled in) from ``values``."""
        out = {}
        for key, field in FIELDS["settings"].items():
            value = _value(f"settings.{key}", field, values, key)
            out[key] = None if value is None else _scalar(f"settings.{key}", field, value)
        if not 1 <= out["horizon"] <= 300:
            raise InputError(f"Input 'settings.horizon': value {out['horizon']} is outside 1..300 years.")
        if not 0 <= out["min_age"] < out["max_retirement_age"] < out["max_age"]:
            raise InputError(
                f"Input 'settings': ages must satisfy 0 <= min_age < max_retirement_age < max_age; got "
                f"{out['min_age']}, {out['max_retirement_age']}, {out['max_age']}.", field="settings.min_age")
        if not out["min_age"] <= out["adequacy_entry_age"] < out["max_retirement_age"]:
            raise InputError(f"Input 'settings.adequacy_entry_age': value {out['adequacy_entry_age']} is outside "
                             f"{out['min_age']}..{out['max_retirement_age'] - 1} (min_age .. max_retirement_age - 1).",
                             field="settings.adequacy_entry_age")
        limit = out["max_entry_age"]
        if limit is not None and not out["min_age"] <= limit <= out["max_age"]:
            raise InputError(f"Input 'settings.max_entry_age': value {limit} is outside {out['min_age']}.."
                             f"{out['max_age']} (settings.min_age .. max_age); expected the oldest completed age of "
                             "a new entrant, or blank for no limit.", field="settings.max_entry_age")
        if out["max_service"] < 1:
            raise InputError(f"Input 'settings.max_service': value {out['max_service']} must be at least 1.")
        horizons = [int(h) for h in np.atleast_1d(out["gap_horizons"])]
        default = list(FIELDS["settings"]["gap_horizons"].default)
        for h in horizons:   # the default's horizons beyond a short projection are left out; given ones are not
            if h < 1 or (h > out["horizon"] and horizons != default):
                raise InputError(f"Input 'settings.gap_horizons': value {h} is outside 1..{out['horizon']} years "
                                 "(settings.horizon); expected horizons within the projection (the full horizon is "
                                 "always added).", field="settings.gap_horizons")
        if len(set(horizons)) != len(horizons):
            raise InputError(f"Input 'settings.gap_horizons': {horizons} gives a horizon twice; expected distinct "
                             "horizons.", field="settings.gap_horizons")
        return out

    def _group(self, group: str, values: dict, kept: dict) -> dict:
        out = {}
        for key, field in FIELDS[group].items():
            name = f"{group}.{key}"
            if not self.has_scheme and not without_scheme(group, key):
                out[key] = None
                continue
            if (group, key) in kept and kept[(group, key)] is not None:
                out[key] = kept[(group, key)]
                continue
            value = _value(name, field, values, key)
            if value is None:
                out[key] = None
                continue
            if not field.dims or field.kind == "choice" or field.dims[0] in LIST_DIMS:
                out[key] = _scalar(name, field, value, self.coords)
                continue
            if field.dims[0] == C:
                out[key] = _cohort_table(name, field, value, self.settings)
                continue
            if field.dims == (Y,) and np.isscalar(value):
                # one value for every year: checked as a single value (its messages name no year)
                value = _scalar(name, dataclasses.replace(field, dims=()), value, self.coords)
            da = _coerce(name, field, value, self.coords).rename(key)
            _check_kind(name, field, da, self.coords)
            da.attrs["units"] = field.units
            out[key] = da
        return out

    def _cross_checks(self, raw: dict) -> None:
        s, sch, beh = self.settings, self.scheme, self.behaviour
        if self.economy["productivity_growth"] is None:
            self.economy["productivity_growth"] = self.economy["real_wage_growth"].copy().rename("productivity_growth")
        if not self.has_scheme:  # a floor costing alone: the national population without the scheme
            for group, key in NATIONAL_REQUIRED:
                if without_scheme(group, key) and getattr(self, group)[key] is None:
                    raise InputError(f"Input '{group}.{key}' is required ({FIELDS[group][key].units}) for a social "
                                     "protection floor costing alone (settings.scheme 'no').", field=f"{group}.{key}")
            return
        self._retirement_age_checks()
        for key, low_key, bad, text in (
                ("maximum_pension", "minimum_pension", sch["maximum_pension"] < sch["minimum_pension"], "is below"),
                ("ceiling_multiple", "floor_multiple", sch["ceiling_multiple"] <= sch["floor_multiple"],
                 "must exceed")):
            if bool(bad.any()):
                i = int(np.flatnonzero(bad.values)[0])
                raise check._cell_error(f"scheme.{key}", sch[key], i,
                                        f"value {sch[key].values.flat[i]} {text} scheme.{low_key} "
                                        f"{sch[low_key].values.flat[i]}.")
        if sch["indexation_lag"] < 0:
            raise InputError(f"Input 'scheme.indexation_lag': value {sch['indexation_lag']} must be >= 0.")
        negative = sch["reference_earnings_years"] < 0
        if bool(negative.any()):
            i = int(np.flatnonzero(negative.values)[0])
            raise check._cell_error("scheme.reference_earnings_years", sch["reference_earnings_years"], i,
                                    f"value {sch['reference_earnings_years'].values.flat[i]} must be >= 0 "
                                    "(0: whole career).")
        refund = sch["grant_type"] == "refund" or sch["exit_benefit"] == "refund"
        for key in ("refund_contribution_rate", "refund_interest"):
            if key in raw["scheme"] and not refund:
                raise InputError(f"Input 'scheme.{key}' is only used when scheme.grant_type or scheme.exit_benefit "
                                 "is 'refund'.", field=f"scheme.{key}")
        for key in ("refund_balance", "inactive_refund_balance"):
            if key in raw["initial"] and not refund:
                raise InputError(f"Input 'initial.{key}' is only used when scheme.grant_type or scheme.exit_benefit "
                                 "is 'refund'.", field=f"initial.{key}")
        self._exact_service_checks(raw)
        if "grant_multiple" in raw["scheme"] and sch["grant_type"] == "refund":
            raise InputError("Input 'scheme.grant_multiple' is only used when scheme.grant_type is 'multiple'.",
                             field="scheme.grant_multiple")
        if refund and sch["refund_contribution_rate"] is None:
            raise InputError("Input 'scheme.refund_contribution_rate' is required when scheme.grant_type or "
                             "scheme.exit_benefit is 'refund'.", field="scheme.refund_contribution_rate")
        if "exit_vesting_years" in raw["scheme"] and sch["exit_benefit"] == "deferred":
            raise InputError("Input 'scheme.exit_vesting_years' is only used when scheme.exit_benefit is 'refund' or "
                             "'none' (with 'deferred' every leaver keeps deferred rights).",
                             field="scheme.exit_vesting_years")
        self._population_checks(raw)
        self._benefit_formula_checks(raw)
        if sch["orphan_age_limit"] < 1 or sch["orphan_age_limit"] > s["max_age"]:
            raise InputError(f"Input 'scheme.orphan_age_limit': value {sch['orphan_age_limit']} is outside "
                             f"1..{s['max_age']}.")
        if s["scaled_premium_period"] < 1:
            raise InputError(f"Input 'settings.scaled_premium_period': value {s['scaled_premium_period']} must be "
                             ">= 1 year.")
        self._scaled_premium_checks(raw["settings"])
        if s["after_depletion"] == "payable" and self.initial["reserve"] < 0:
            raise InputError(f"Input 'initial.reserve': value {self.initial['reserve']} is negative, but with "
                             "settings.after_depletion 'payable' the reserve never falls below zero; choose 'borrow' "
                             "for a scheme that starts in debt.", field="initial.reserve")
        if s["actuarial_balance_period"] < 1:
            raise InputError(f"Input 'settings.actuarial_balance_period': value {s['actuarial_balance_period']} must "
                             "be >= 1 year.", field="settings.actuarial_balance_period")
        growth = s["new_entrant_method"] == "growth"
        for key in GROWTH_ONLY:
            given = key in raw["behaviour"]
            if given and not growth:
                raise InputError(f"Input 'behaviour.{key}' is only used by the growth new-entrant method, but "
                                 "settings.new_entrant_method is 'residual'; remove it or choose 'growth'.")
        if growth:
            for key in ("entrants", "entrant_distribution"):
                if beh[key] is None:
                    raise InputError(f"Input 'behaviour.{key}' is required when settings.new_entrant_method "
                                     "is 'growth'.")
            total = float(beh["entrant_distribution"].sum())
            if abs(total - 1.0) > 1e-6:
                raise InputError(f"Input 'behaviour.entrant_distribution' sums to {total:.6g}; the shares of "
                                 "entrants by sex and age must sum to 1.")
            self._entry_age_check()
        pens = self.initial["pensioners"]
        amount = self.initial["average_pension"]
        if np.any((pens.values > 0) & (amount.values <= 0)):   # the same dims
            bad = (pens > 0) & (amount <= 0)
            i = int(np.flatnonzero(bad.values)[0])
            raise check._cell_error("initial.average_pension", bad, i,
                                    f"value 0 for a cell with {pens.values.flat[i]} pensioners; expected their average "
                                    "annual pension > 0.")

    def _exact_service_checks(self, raw: dict) -> None:
        """Exact credited service and accrued units, when given per cell, are finite; the past-service credit
        applies to the default service (k + 1/2), so it must be 1 when the actives' service or units are given."""
        for key in EXACT_SERVICE:
            if key in raw["initial"]:
                check.finite(f"initial.{key}", self.initial[key])
        given = [k for k in ("credited_service", "accrued_units") if k in raw["initial"]]
        share = self.scheme["past_service_credit"]
        if given and share != 1.0:
            raise InputError(f"Input 'scheme.past_service_credit': value {share} scales the default service "
                             f"(k + 1/2) of the initial actives, but initial.{given[0]} gives their credited service "
                             "and units as recorded; set it to 1 (the service given is the service credited).",
                             field="scheme.past_service_credit")

    def _entry_age_check(self) -> None:
        """Growth method with settings.max_entry_age: behaviour.entrant_distribution has no weight above it. The
        growth method's entrants are the input's shares, so the limit is a check on that input, not a cut of it
        (entrants silently dropped would no longer number behaviour.entrants)."""
        limit = self.settings["max_entry_age"]
        if limit is None:
            return
        shares = self.behaviour["entrant_distribution"].transpose(S, A)
        older = np.broadcast_to(shares[A].values[None, :] > limit, shares.shape)
        above = older & (shares.values > 0)
        if above.any():
            i = int(np.flatnonzero(above)[0])
            total = float(shares.values[older].sum())
            raise check._cell_error("behaviour.entrant_distribution", shares, i,
                                    f"value {shares.values.flat[i]:g} is a share of new entrants above "
                                    f"settings.max_entry_age {limit} ({total:.6g} of the entrants in all are "
                                    "above it); expected 0 at every age above the oldest entry age: move those "
                                    "shares to younger ages, or raise or blank settings.max_entry_age.")

    def _retirement_age_checks(self) -> None:
        """Each retirement age by year or by cohort (not both); the normal age is required; the ages lie in
        min_age + 1 .. max_retirement_age; the early age is not above the normal age in any cell."""
        s, sch = self.settings, self.scheme
        for which in ("normal", "early"):
            if sch[f"{which}_retirement_age"] is not None and sch[f"{which}_retirement_age_by_cohort"] is not None:
                raise InputError(f"Input 'scheme.{which}_retirement_age_by_cohort' replaces scheme.{which}_"
                                 "retirement_age (by year); give one or the other.",
                                 field=f"scheme.{which}_retirement_age_by_cohort")
        if sch["normal_retirement_age"] is None and sch["normal_retirement_age_by_cohort"] is None:
            raise InputError("Input 'scheme.normal_retirement_age' is required (years, by year and sex), or "
                             "scheme.normal_retirement_age_by_cohort (by year of birth).",
                             field="scheme.normal_retirement_age")
        if (sch["early_retirement_age"] is None and sch["early_retirement_age_by_cohort"] is None
                and sch["normal_retirement_age"] is not None):
            sch["early_retirement_age"] = sch["normal_retirement_age"].copy().rename("early_retirement_age")
        for key in ("normal_retirement_age", "early_retirement_age"):
            da = sch[key]
            if da is None:
                continue
            bad = (da.values < s["min_age"] + 1) | (da.values > s["max_retirement_age"])
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise check._cell_error(f"scheme.{key}", da, i,
                                        f"value {da.values.flat[i]} is outside {s['min_age'] + 1}.."
                                        f"{s['max_retirement_age']} (settings.min_age + 1 .. max_retirement_age).")
        ages = self.coords["scheme_age"]
        early = retirement_age_grid(sch, "early", self.coords[Y], ages, s["max_retirement_age"])
        normal = retirement_age_grid(sch, "normal", self.coords[Y], ages, s["max_retirement_age"])
        later = early > normal
        if np.any(later):
            t, sex, a = np.argwhere(later)[0]
            key = "early_retirement_age" if sch["early_retirement_age"] is not None else \
                "early_retirement_age_by_cohort"
            normal_key = "normal_retirement_age" if sch["normal_retirement_age"] is not None else \
                "normal_retirement_age_by_cohort"
            by_cohort = (key.endswith("_by_cohort") or normal_key.endswith("_by_cohort")
                         or sch.get("retirement_age_increase_by_cohort") is not None)
            # ages by year alone are the same at every age: an age in the message would only mislead
            at = f", age={ages[a]} (born {int(self.coords[Y][t]) - int(ages[a]) - 1})" if by_cohort else ""
            raise InputError(f"Input 'scheme.{key}' at year={self.coords[Y][t]}, sex={SEXES[sex]}{at}: "
                             f"value {early[t, sex, a]} is above the normal retirement age {normal[t, sex, a]} "
                             f"(scheme.{normal_key}{' of that cohort' if by_cohort else ', same year and sex'}); "
                             "expected an early retirement age at most the normal one.",
                             field=f"scheme.{key}", where={"year": int(self.coords[Y][t]), "sex": SEXES[sex]})

    def _benefit_formula_checks(self, raw: dict) -> None:
        """Bend points and their rates come together (one rate more than bend points, bend points increasing
        and positive); options of a formula part that is absent are refused (they would be ignored)."""
        sch, given = self.scheme, raw["scheme"]
        bends, rates = sch["bend_points"], sch["bend_point_rates"]
        if (bends is None) != (rates is None):
            missing = "bend_point_rates" if rates is None else "bend_points"
            raise InputError(f"Input 'scheme.{missing}' is required with scheme."
                             f"{'bend_points' if rates is None else 'bend_point_rates'} (a progressive formula needs "
                             "both).", field=f"scheme.{missing}")
        if bends is None:
            if "bend_point_indexation" in given:
                raise InputError("Input 'scheme.bend_point_indexation' is only used with scheme.bend_points.",
                                 field="scheme.bend_point_indexation")
        else:
            if len(rates) != len(bends) + 1:
                raise InputError(f"Input 'scheme.bend_point_rates': {len(rates)} rates for {len(bends)} bend points; "
                                 f"expected {len(bends) + 1} (one per bracket, the last above the last bend point).",
                                 field="scheme.bend_point_rates")
            if bends[0] <= 0 or any(b <= a for a, b in zip(bends, bends[1:])) or not all(map(math.isfinite, bends)):
                raise InputError(f"Input 'scheme.bend_points': values {list(bends)} must be positive, finite and "
                                 "increasing.", field="scheme.bend_points")
        if sch["flat_pension_service"] < 0:
            raise InputError(f"Input 'scheme.flat_pension_service': value {sch['flat_pension_service']} must be "
                             ">= 0 years.", field="scheme.flat_pension_service")
        no_flat = not bool((sch["flat_pension"] > 0).any())
        for key in ("flat_pension_service", "flat_pension_indexation"):
            if key in given and no_flat:
                raise InputError(f"Input 'scheme.{key}' is only used with a flat-rate pension (scheme.flat_pension "
                                 "> 0).", field=f"scheme.{key}")

    def _population_checks(self, raw: dict) -> None:
        """A national valuation needs the population inputs; a scheme-only one refuses them (unused)."""
        national = self.settings["national_population"] == "yes"
        if national:
            for group, key in NATIONAL_REQUIRED:
                if getattr(self, group)[key] is None:
                    field = FIELDS[group][key]
                    raise InputError(f"Input '{group}.{key}' is required ({field.units}) when "
                                     "settings.national_population is 'yes'.", field=f"{group}.{key}")
            return
        for group, keys in NATIONAL_ONLY.items():
            for key in keys:
                if key in raw[group]:
                    raise InputError(f"Input '{group}.{key}' is only used with a national population, but "
                                     "settings.national_population is 'no' (a scheme-only valuation); remove it.",
                                     field=f"{group}.{key}")
        if self.settings["new_entrant_method"] != "growth":
            raise InputError("Input 'settings.new_entrant_method': a scheme-only valuation (settings."
                             "national_population 'no') has no target insured population; its insured are driven "
                             "by new entrants: expected 'growth'.", field="settings.new_entrant_method")

    @property
    def national(self) -> bool:
        """True when a national population drives the valuation (settings.national_population 'yes')."""
        return self.settings["national_population"] == "yes"

    def _scaled_premium_checks(self, given: dict) -> None:
        """The scaled-premium rule, its check, its target and its periods agree; the defaults of the rule and the
        check are filled in (reserve_ratio and period_end when a target is given, reserve and every_year otherwise)."""
        s = self.settings
        target = s["scaled_premium_target"]
        if s["scaled_premium_rule"] is None:
            s["scaled_premium_rule"] = "reserve" if target is None else "reserve_ratio"
        if s["scaled_premium_check"] is None:
            s["scaled_premium_check"] = "period_end" if s["scaled_premium_rule"] == "reserve_ratio" else "every_year"
        if s["scaled_premium_rule"] == "reserve_ratio" and target is None:
            raise InputError("Input 'settings.scaled_premium_target' is required when settings.scaled_premium_rule is "
                             "'reserve_ratio' (the reserve ratio K to reach).", field="settings.scaled_premium_rule")
        if s["scaled_premium_rule"] != "reserve_ratio" and target is not None:
            raise InputError(f"Input 'settings.scaled_premium_target' is only used by the reserve_ratio rule, but "
                             f"settings.scaled_premium_rule is '{s['scaled_premium_rule']}'; remove the target or "
                             "choose 'reserve_ratio'.", field="settings.scaled_premium_target")
        starts = s["scaled_premium_periods"]
        if starts is None:
            return
        if given.get("scaled_premium_period") is not None:
            raise InputError("Input 'settings.scaled_premium_period' is not used when settings.scaled_premium_periods "
                             "gives the start years of the periods; give one or the other.",
                             field="settings.scaled_premium_period")
        years = self.coords["year"]
        if starts[0] != years[0]:
            raise InputError(f"Input 'settings.scaled_premium_periods': the first period starts in {starts[0]}; "
                             f"expected the valuation year {years[0]}.", field="settings.scaled_premium_periods")
        for before, after in zip(starts, starts[1:]):
            if after <= before:
                raise InputError(f"Input 'settings.scaled_premium_periods': start year {after} after {before}; the "
                                 "start years must increase.", field="settings.scaled_premium_periods")
        if starts[-1] > years[-1]:
            raise InputError(f"Input 'settings.scaled_premium_periods': start year {starts[-1]} is after the last "
                             f"projection year {years[-1]}.", field="settings.scaled_premium_periods")

    def as_dict(self) -> dict[str, dict]:
        return {g: dict(getattr(self, g)) for g in FIELDS}


def _refuse_scheme_inputs(raw: dict) -> None:
    """A floor costing alone (settings.scheme = "no") has no scheme: any scheme input given is an error."""
    for group, values in raw.items():
        for name in values:
            if not without_scheme(group, name) and not (name == "balance_sheet" and values[name] == "no"):
                raise InputError(f"Input '{group}.{name}' belongs to the contributory scheme, but settings.scheme is "
                                 "'no' (a social protection floor costing alone); remove it or set settings.scheme "
                                 "to 'yes'.", field=f"{group}.{name}")
    if not raw["floor"]:
        raise InputError("Input 'settings.scheme' is 'no' (a social protection floor costing alone), but no floor "
                         "benefit is given; add the Floor sheet (floor.kind, floor.amount, ...) or set "
                         "settings.scheme to 'yes'.", field="settings.scheme")
