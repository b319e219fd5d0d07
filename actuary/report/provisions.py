"""The scheme provisions and the settings in words for the report (chapter 2): the rows of
:func:`actuary.io.presentation.provisions` with the benefit formula's accrual rate added, an input left to its
default given the default's value, and notes written for a reader of the report. The notes of
:func:`~actuary.io.presentation.provisions` are the input fields' docs, written for the author of a workbook
(they name other fields, modules and formulas in code); a note that does so is replaced by the report's own
wording (:data:`NOTES`) or left out.
"""

from __future__ import annotations

import re


from ..io import presentation as pres

# the report's notes of inputs whose field docs name fields, code or formulas ("{year}": the valuation year)
NOTES = {
    ("scheme", "normal_retirement_age"): "by year: the age at which the members retiring in the year become "
                                         "entitled to a full pension",
    ("scheme", "normal_retirement_age_by_cohort"): "by year of birth, instead of the normal retirement age by year: "
                                                   "each listed cohort's age applies to it and to the cohorts after it "
                                                   "up to the next one listed; a fractional age (65 years 1 month) "
                                                   "delays that share of the year's birthdays to the next year",
    ("scheme", "early_retirement_age_by_cohort"): "by year of birth, instead of the early retirement age by year",
    ("scheme", "retirement_age_increase_by_cohort"): "a reform of the ages in force: the years added to the normal "
                                                     "and the early retirement age of the members born in each "
                                                     "cohort (each listed cohort's increase applies to it and to the "
                                                     "cohorts after it), each age at most the age at which every "
                                                     "insured retires",
    ("scheme", "minimum_pension"): "minimum pension at award, in money of {year}, indexed as the next line says",
    ("scheme", "minimum_pension_financing"): "who pays the top-up of pensions below the minimum: the scheme, or the "
                                             "state (then a separate financing item in the results: every pension "
                                             "below the minimum is topped up at award, the top-up indexed with the "
                                             "pension)",
    ("scheme", "flat_pension"): "flat-rate part of every pension (old-age, invalidity, deferred), in money of {year}, "
                                "prorated over the flat pension service; added to the earnings-related part before the "
                                "early or late retirement adjustment and the minimum and maximum",
    ("scheme", "bend_points"): "progressive benefit formula: the upper limits of the brackets of reference earnings "
                               "(in money of {year}, indexed); the pension is the accrued share times the sum, over "
                               "the brackets, of each bracket's rate times the part of reference earnings within it",
    ("scheme", "bend_point_rates"): "one rate per bracket of reference earnings, one more than the bend points",
    ("scheme", "maximum_pension"): "maximum pension at award, in money of {year}, indexed as the next line says",
    ("scheme", "indexation_price_weight"): "pensions in payment are increased each year by this weight times "
                                           "inflation plus the weight of wage growth times wage growth",
    ("scheme", "indexation_wage_weight"): "see the weight of inflation",
    ("scheme", "indexation_lag"): "the increase of a year follows the inflation and wage growth this many years "
                                  "earlier",
    ("scheme", "refund_contribution_rate"): "the contributions refunded, with interest, when the grant or the exit "
                                            "benefit is a refund (e.g. the employee's rate)",
    ("scheme", "exit_benefit"): "what actives leaving before retirement keep: deferred rights (they stay insured with "
                                "their credits: a deferred pension at normal retirement age if vested, otherwise the "
                                "grant), the refund of their contributions with interest on leaving (credits "
                                "cancelled), or nothing (rights forfeited)",
    ("scheme", "exit_vesting_years"): "with a refund or no exit benefit: leavers with at least this completed service "
                                      "keep deferred rights instead",
    ("settings", "valuation_year"): "the valuation date is 1 January of this year",
    ("settings", "national_population"): "yes: a national population projection drives the insured, participation, "
                                         "coverage and GDP; no: a scheme-only valuation, its insured driven by new "
                                         "entrants alone, without population or GDP",
    ("settings", "scaled_premium_rule"): "the condition each scaled-premium period meets: the reserve does not fall, "
                                         "does not fall relative to the insurable wage bill, or reaches a target "
                                         "reserve ratio",
    ("settings", "scaled_premium_check"): "where the condition of the scaled premium is checked: in every year of "
                                          "the period or at its end only",
    ("settings", "scaled_premium_periods"): "start years of scaled-premium periods of unequal length, instead of "
                                            "periods of equal length",
    ("settings", "adequacy_entry_age"): "age at which the stylized workers of the adequacy measures start their "
                                        "careers",
    ("settings", "max_entry_age"): "new entrants are at most this age at the end of their year of entry; with the "
                                   "residual method a shortfall of actives below the target insured population at "
                                   "older ages is left unfilled",
    ("settings", "gap_horizons"): "horizons of the general average premium (the full horizon is always added)",
}

# values of settings that are code words, in words
VALUES = {
    ("settings", "scaled_premium_check"): {"every_year": "in every year of the period",
                                           "period_end": "at the end of each period"},
    ("settings", "scaled_premium_rule"): {"reserve": "the reserve does not fall",
                                          "reserve_to_wages": "the reserve does not fall relative to the wage bill",
                                          "reserve_ratio": "the reserve ratio reaches the target"},
}

# a note written for the author of a workbook: it names a field (snake_case), a module, or a formula in code
_CODE = re.compile(r"\b[a-z]+_[a-z_0-9]+\b|\bactuary\.|\bt0\b|\bbeta_t\b|\b[a-z]_t\b")


def _names(inputs, groups) -> dict:
    """(group, label) -> field name."""
    from ..inputs import FIELDS

    return {(group, pres.field_label(name, inputs, group)): name for group in groups for name in FIELDS[group]}


def provision_rows(inputs, groups) -> list[list[str]]:
    """[label, value, note] of every provision (or setting, or scalar input) of ``groups`` for the report."""
    names = _names(inputs, groups)
    year = str(inputs.settings["valuation_year"])
    rows = []
    for group, label, text, note in pres.provisions(inputs, groups):
        if label == pres.ACCRUAL_LABEL:   # placed below, before the reference earnings it applies to
            continue
        name = names.get((group, label), "")
        if text == pres.value_text(None, None):   # a default neither DEFAULT_WORDS nor the field's doc states
            text = "not given"
        text = VALUES.get((group, name), {}).get(text, text).replace(" before t0", f" before {year}")
        if (group, name) in NOTES:
            note = NOTES[group, name].format(year=year)
        elif _CODE.search(note):
            note = ""
        rows.append([label, text, note])
    if "scheme" in groups:
        row = pres.accrual_row(inputs)
        if row is not None:   # the benefit formula before the reference earnings it applies to
            at = next((i for i, r in enumerate(rows) if r[0] == pres.field_label("reference_earnings_years",
                                                                                 inputs, "scheme")), len(rows))
            rows.insert(at, list(row[1:]))
    return rows
