"""How results and inputs are shown to people: labels in words, units, number formats and the unit of
money, in one table for the results workbooks, the command line and the report.

Every variable of a results Dataset that is shown has one line in :data:`VARIABLES` (yearly
projection variables) or :data:`SUMMARY` (summary values): its label, its kind (which fixes the
number format and the unit) and the results-workbook sheet it goes to. Writers look variables up
by name and skip those a Dataset does not have, so a new variable needs only its line here.

Rates convention: rates and ratios are fractions in the data and shown with a percent format; the
variables whose name says ``_pct_`` hold percent values in the data (units "percent") and are shown
divided by 100 under the same percent format, so 5.14 in the data reads 5.14% everywhere.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import numpy as np
import xarray as xr

MONEY_UNITS = {"units": 1.0, "thousands": 1e3, "millions": 1e6, "billions": 1e9}
MONEY_WORDS = {"units": "currency", "thousands": "thousands", "millions": "millions", "billions": "billions"}

# kind: (number format, unit shown in headers when the variable gives none)
KINDS = {
    "money": ("#,##0", None),               # currency totals, divided by the money unit
    "amount": ("#,##0", "currency a year"),  # per person, never scaled
    "persons": ("#,##0", "persons"),
    "share": ("0.00%", "%"),                  # fraction in the data
    "percent": ("0.00%", "%"),                # percent in the data (a _pct_ variable): shown / 100
    "ratio": ("0.00", ""),
    "years": ("0.0", "years"),
    "index": ("0.000", "valuation year = 1"),
    "year": ("0", ""),
}

# a difference of two rates, in percentage points: a cell holds 100 x the difference of two fractions (the
# difference of two percentages as it is) and reads "-1.56 pp" in Excel and LibreOffice alike; a percent format
# would show "-1.56%", a relative change to a reader
POINTS_FORMAT = '+0.00" pp";-0.00" pp";0.00" pp"'

BENEFIT_LABELS = {"old_age": "old-age", "invalidity": "invalidity", "widow": "widows' and widowers'",
                  "orphan": "orphans'"}
SEX_LABELS = {"male": "men", "female": "women"}


@dataclass(frozen=True)
class Variable:
    """How one variable is shown. ``label`` may hold ``{}`` for the label of the ``by`` coordinate
    (one column per benefit or sex); other dimensions than year are summed (extensive kinds only).
    ``source``/``ages``: the variable is a selection of another one (e.g. population aged 65+)."""

    label: str
    kind: str
    sheet: str | None = None
    unit: str | None = None
    by: str | None = None
    source: str | None = None
    ages: tuple | None = None


DEMOGRAPHY, INSURED, PENSIONERS, FINANCE, INDICATORS, ASSUMPTIONS, FLOOR = (
    "Demography", "Insured", "Pensioners", "Financial projection", "Financing indicators", "Assumptions",
    "Social protection floor")
EARNINGS = "% of insurable earnings"

VARIABLES: dict[str, Variable] = {
    # demography
    "population": Variable("Population, end of year", "persons", DEMOGRAPHY),
    "population_65_plus": Variable("Population aged 65 and over", "persons", DEMOGRAPHY, source="population",
                                   ages=(65, None)),
    "births": Variable("Births", "persons", DEMOGRAPHY),
    "deaths": Variable("Deaths", "persons", DEMOGRAPHY),
    "demographic_dependency_ratio": Variable("Demographic dependency ratio (65+ / 15-64)", "ratio", DEMOGRAPHY),
    "life_expectancy_65": Variable("Period life expectancy at 65, {}", "years", DEMOGRAPHY, by="sex"),
    # a stochastic run's, one variable per sex (its percentiles by year)
    "life_expectancy_65_male": Variable("Period life expectancy at 65, men", "years"),
    "life_expectancy_65_female": Variable("Period life expectancy at 65, women", "years"),
    # insured
    "target_insured": Variable("Target insured population", "persons", INSURED),
    "contributors": Variable("Contributors, exposed during the year", "persons", INSURED),
    "active": Variable("Active insured, end of year", "persons", INSURED),
    "inactive": Variable("Inactive insured, end of year", "persons", INSURED),
    "new_entrants": Variable("New entrants", "persons", INSURED),
    "exits": Variable("Exits to inactivity", "persons", INSURED),
    "withdrawals": Variable("Leavers without deferred rights", "persons", INSURED),
    "reentries": Variable("Re-entries of inactive insured", "persons", INSURED),
    "retirements": Variable("Retirements of actives (pensions and grants)", "persons", INSURED),
    "invalidity_retirements": Variable("Actives becoming invalid", "persons", INSURED),
    "active_deaths": Variable("Deaths of actives", "persons", INSURED),
    "inactive_deaths": Variable("Deaths of inactive insured", "persons", INSURED),
    "inactive_retirements": Variable("Inactive insured reaching retirement age", "persons", INSURED),
    "grant_recipients": Variable("Withdrawal grant recipients", "persons", INSURED),
    "average_insurable_earnings": Variable("Average insurable earnings per contributor", "amount", INSURED),
    # pensioners
    "pensioners": Variable("Pensioners, all benefits, end of year", "persons", PENSIONERS),
    "pensioners_by_benefit": Variable("{} pensioners, end of year", "persons", PENSIONERS, by="benefit"),
    "new_pensioners": Variable("New {} pensions", "persons", PENSIONERS, by="benefit"),
    "pensioner_deaths": Variable("Deaths of {} pensioners", "persons", PENSIONERS, by="benefit"),
    "invalidity_conversions": Variable("Invalidity pensions converted to old age", "persons", PENSIONERS),
    "system_dependency_ratio": Variable("System dependency ratio (pensioners / contributors)", "ratio", PENSIONERS),
    "system_dependency_ratio_stock": Variable("System dependency ratio (pensioners / actives at 31 December)",
                                              "ratio", PENSIONERS),
    "replacement_rate": Variable("Replacement rate of new old-age pensions", "share", PENSIONERS,
                                 unit="% of average insurable earnings"),
    "benefit_ratio": Variable("Benefit ratio", "share", PENSIONERS,
                              unit="average old-age pension, % of average insurable earnings"),
    # finance
    "insurable_wage_bill": Variable("Insurable wage bill", "money", FINANCE),
    "contributions": Variable("Contributions", "money", FINANCE),
    "state_subsidy": Variable("State subsidy", "money", FINANCE),
    "minimum_pension_top_up_paid": Variable("Minimum-pension top-up paid by the state", "money", FINANCE),
    "investment_income": Variable("Investment income", "money", FINANCE),
    "total_income": Variable("Total income", "money", FINANCE),
    "benefit_expenditure_by_benefit": Variable("{} pensions due", "money", FINANCE, by="benefit"),
    "benefit_expenditure": Variable("Pensions due, all benefits", "money", FINANCE),
    "scheme_financed_benefits": Variable("Pensions due from the scheme, without the state's minimum-pension top-up",
                                         "money", FINANCE),
    "withdrawal_grants": Variable("Withdrawal grants", "money", FINANCE),
    "exit_refunds": Variable("of which refunds of contributions to leavers", "money", FINANCE),
    "funeral_grants": Variable("Funeral grants", "money", FINANCE),
    "grants": Variable("Grants (withdrawal and funeral)", "money"),
    "payable_benefits": Variable("Benefits and grants payable (due x the share payable after depletion)", "money",
                                 FINANCE),
    "capital_value_of_awards": Variable("Capital value of the year's new pensions", "money", FINANCE),
    "admin_expenses": Variable("Administrative expenses", "money", FINANCE),
    "total_expenditure": Variable("Total expenditure", "money", FINANCE),
    "net_cash_flow": Variable("Net cash flow: total income - total expenditure", "money", FINANCE),
    "reserve": Variable("Reserve, end of year", "money", FINANCE),
    "reserve_real": Variable("Reserve in real terms, end of year", "money", FINANCE),
    "gdp": Variable("GDP", "money", FINANCE),
    # financing indicators
    "contribution_rate": Variable("Contribution rate", "share", INDICATORS, unit=EARNINGS),
    "breakeven_contribution_rate": Variable("Break-even contribution rate", "share", INDICATORS, unit=EARNINGS),
    "paygo_cost_rate": Variable("PAYG cost rate", "share", INDICATORS, unit=EARNINGS),
    "reserve_ratio": Variable("Reserve ratio", "ratio", INDICATORS,
                              unit="reserve at end of year, years of expenditure"),
    "trust_fund_ratio": Variable("Trust fund ratio", "ratio", INDICATORS,
                                 unit="reserve at start of year, years of expenditure"),
    "expenditure_pct_gdp": Variable("Pension expenditure, benefits only", "percent", INDICATORS, unit="% of GDP"),
    "total_expenditure_pct_gdp": Variable("Total expenditure: benefits, grants, administration", "percent",
                                          INDICATORS, unit="% of GDP"),
    "income_pct_gdp": Variable("Total income: contributions, subsidy, state top-up, investment income", "percent", INDICATORS,
                               unit="% of GDP"),
    "terminal_funding_rate": Variable("Terminal funding rate", "share", INDICATORS, unit=EARNINGS),
    "payable_share": Variable("Share of benefits payable", "share", INDICATORS),
    # social protection floor (a floor costing beside the scheme, or alone)
    "floor_beneficiaries": Variable("{} beneficiaries, mean of the year", "persons", FLOOR, by="floor_benefit"),
    "floor_benefit_amount": Variable("{} benefit a year per beneficiary", "amount", FLOOR, by="floor_benefit"),
    "floor_cost": Variable("Cost of the {} benefit, administration included", "money", FLOOR, by="floor_benefit"),
    "floor_cost_all": Variable("Cost of the floor, all benefits", "money", FLOOR, source="floor_cost"),
    "floor_cost_pct_gdp_by_benefit": Variable("Cost of the {} benefit", "percent", FLOOR, unit="% of GDP",
                                              by="floor_benefit"),
    "floor_cost_pct_gdp": Variable("Cost of the floor", "percent", FLOOR, unit="% of GDP"),
    "floor_cost_pct_government_expenditure": Variable("Cost of the floor", "percent", FLOOR,
                                                      unit="% of government expenditure"),
    "floor_cost_pct_government_revenue": Variable("Cost of the floor", "percent", FLOOR,
                                                  unit="% of government revenue"),
    "minimum_pension_top_up": Variable("Minimum-pension top-up due (part of the pensions due), financed by the "
                                       "state", "money", FLOOR),
    "fiscal_cost": Variable("Fiscal cost: floor, state subsidy to the scheme and minimum-pension top-up", "money",
                            FLOOR),
    "fiscal_cost_pct_gdp": Variable("Fiscal cost", "percent", FLOOR, unit="% of GDP"),
    "fiscal_cost_pct_government_expenditure": Variable("Fiscal cost", "percent", FLOOR,
                                                       unit="% of government expenditure"),
    "fiscal_cost_pct_government_revenue": Variable("Fiscal cost", "percent", FLOOR, unit="% of government revenue"),
    # the scheme's borrowing after depletion (settings.after_depletion borrow), which the fiscal cost leaves out
    "scheme_borrowing": Variable("Scheme borrowing: deficit financed by borrowing after depletion, interest "
                                 "included", "money", FLOOR),
    "scheme_borrowing_pct_gdp": Variable("Scheme borrowing", "percent", FLOOR, unit="% of GDP"),
    "scheme_debt_interest": Variable("of which interest on the scheme's debt", "money", FLOOR),
    "scheme_debt_interest_pct_gdp": Variable("of which interest on the scheme's debt", "percent", FLOOR,
                                             unit="% of GDP"),
    "scheme_debt": Variable("Scheme debt, end of year", "money", FLOOR),
    "scheme_debt_pct_gdp": Variable("Scheme debt, end of year", "percent", FLOOR, unit="% of GDP"),
    "fiscal_cost_with_borrowing": Variable("Fiscal cost including the scheme's borrowing", "money", FLOOR),
    "fiscal_cost_with_borrowing_pct_gdp": Variable("Fiscal cost including the scheme's borrowing", "percent", FLOOR,
                                                   unit="% of GDP"),
    "fiscal_cost_with_borrowing_pct_government_expenditure": Variable(
        "Fiscal cost including the scheme's borrowing", "percent", FLOOR, unit="% of government expenditure"),
    "fiscal_cost_with_borrowing_pct_government_revenue": Variable(
        "Fiscal cost including the scheme's borrowing", "percent", FLOOR, unit="% of government revenue"),
    # series derived from the assumptions
    "wage_index": Variable("Average wage index", "index", ASSUMPTIONS),
    "price_index": Variable("Price index", "index", ASSUMPTIONS),
    "pension_indexation": Variable("Pension indexation on 1 January", "share", ASSUMPTIONS),
    "minimum_pension": Variable("Minimum pension", "amount", ASSUMPTIONS),
    "maximum_pension": Variable("Maximum pension", "amount", ASSUMPTIONS),
    "investment_return": Variable("Nominal investment return", "share"),
    "collection_rate": Variable("Collection rate", "share"),
    "subsidy_share_of_benefits": Variable("State subsidy, share of benefits", "share"),
    "subsidy_share_of_wages": Variable("State subsidy, share of the wage bill", "share"),
    # by age (not yearly columns; the report draws them)
    "average_insurable_salary": Variable("Average insurable salary", "amount"),
    "reference_earnings": Variable("Reference earnings", "amount"),
    "pensioners_by_age": Variable("Pensioners", "persons"),
    "pension_amount_by_age": Variable("Annual amount of pensions in payment", "money"),
    "average_pension": Variable("Average pension in payment", "amount"),
    "annuity_factor_at_award": Variable("Capital value at award of a pension of 1 a year", "ratio"),
    "new_pension_amount": Variable("Annual amount of new pensions", "money"),
    "pensioner_exits": Variable("Pensions ending other than by death", "persons"),
    "active_at_valuation": Variable("Active insured at the valuation date", "persons"),
    "inactive_at_valuation": Variable("Inactive insured at the valuation date", "persons"),
    "pensioners_at_valuation": Variable("Pensioners at the valuation date", "persons"),
    "population_at_valuation": Variable("Population at the valuation date", "persons"),
    "reserve_at_valuation": Variable("Reserve at the valuation date", "money"),
}

SUMMARY: dict[str, Variable] = {
    "gap": Variable("General average premium over {} years", "share", "Summary", unit=EARNINGS, by="horizon"),
    "depletion_year": Variable("Reserve depletion year", "year", "Summary"),
    "payable_share_after_depletion": Variable("Lowest share of benefits payable after depletion", "share",
                                              "Summary"),
    "payable_share_at_depletion": Variable("Share of benefits payable in the depletion year", "share", "Summary"),
    "payable_share_end": Variable("Share of benefits payable in the last year", "share", "Summary"),
    "actuarial_balance": Variable("Actuarial balance: summarized income rate - summarized cost rate", "share",
                                  "Summary", unit=EARNINGS),
    "scaled_premium": Variable("Scaled premium {}", "share", unit=EARNINGS, by="period"),
    "terminal_funding_rate_at_maturity": Variable("Terminal funding rate in the last year", "share", "Summary",
                                                  unit=EARNINGS),
    "average_premium_current": Variable("Average premium, current insured and pensioners", "share", "Summary",
                                        unit=EARNINGS),
    "average_premium_new_entrants": Variable("Average premium, future entrants", "share", "Summary", unit=EARNINGS),
    "liability_current_pensioners": Variable("Current pensioners", "money", "Balance sheet"),
    "liability_current_insured_past_service": Variable("Current insured, past service", "money", "Balance sheet"),
    "liability_current_insured_future_service": Variable("Current insured, future service", "money",
                                                         "Balance sheet"),
    "liability_future_entrants": Variable("Future entrants", "money", "Balance sheet"),
    "liability_administrative_expenses": Variable("Administrative expenses", "money", "Balance sheet"),
    "total_liabilities": Variable("Total liabilities", "money", "Balance sheet"),
    "asset_reserve": Variable("Reserve at the valuation date", "money", "Balance sheet"),
    "asset_contributions_current_insured": Variable("Contributions of current insured", "money", "Balance sheet"),
    "asset_contributions_future_entrants": Variable("Contributions of future entrants", "money", "Balance sheet"),
    "asset_state_subsidy": Variable("State subsidy", "money", "Balance sheet"),
    "asset_minimum_pension_top_up": Variable("Minimum-pension top-up financed by the state", "money",
                                             "Balance sheet"),
    "total_assets": Variable("Total assets", "money", "Balance sheet"),
    "balance": Variable("Balance: assets - liabilities", "money", "Balance sheet"),
    "balance_within_horizon": Variable("of which over the horizon: reserve + contributions + subsidy - expenditure",
                                       "money", "Balance sheet"),
    "balance_after_horizon": Variable("of which after the horizon: current insured and pensioners' contributions - "
                                      "benefits", "money", "Balance sheet"),
    "accrued_liability": Variable("Accrued liability: closed group, valuation date", "money", "Balance sheet"),
    "accrued_liability_current_pensioners": Variable("of which current pensioners", "money", "Balance sheet"),
    "funded_ratio": Variable("Funded ratio: reserve / accrued liability", "share", "Balance sheet"),
    "pv_benefits_current": Variable("Benefits and grants of current insured and pensioners over the horizon",
                                    "money", "Balance sheet"),
    "pv_benefits_new_entrants": Variable("Benefits and grants of future entrants over the horizon", "money",
                                         "Balance sheet"),
    "pv_insurable_earnings_current": Variable("Insurable earnings of current insured over the horizon", "money",
                                              "Balance sheet"),
    "pv_insurable_earnings_new_entrants": Variable("Insurable earnings of future entrants over the horizon", "money",
                                                   "Balance sheet"),
    "floor_cost_present_value": Variable("Cost of the floor over {} years, present value", "money", FLOOR,
                                         by="horizon"),
    "floor_cost_level_pct_gdp": Variable("Cost of the floor over {} years, level share of GDP", "percent", FLOOR,
                                         unit="% of GDP", by="horizon"),
    "fiscal_cost_present_value": Variable("Fiscal cost over {} years, present value", "money", FLOOR, by="horizon"),
    "fiscal_cost_level_pct_gdp": Variable("Fiscal cost over {} years, level share of GDP", "percent", FLOOR,
                                          unit="% of GDP", by="horizon"),
    "scheme_borrowing_present_value": Variable("Scheme's deficits financed by borrowing over {} years, present "
                                               "value", "money", FLOOR, by="horizon"),
    "scheme_borrowing_level_pct_gdp": Variable("Scheme's deficits financed by borrowing over {} years, level share "
                                               "of GDP", "percent", FLOOR, unit="% of GDP", by="horizon"),
    "fiscal_cost_with_borrowing_present_value": Variable("Fiscal cost including the scheme's borrowing over {} "
                                                         "years, present value", "money", FLOOR, by="horizon"),
    "fiscal_cost_with_borrowing_level_pct_gdp": Variable("Fiscal cost including the scheme's borrowing over {} "
                                                         "years, level share of GDP", "percent", FLOOR,
                                                         unit="% of GDP", by="horizon"),
}


# The two bases of the rates of insurable earnings (docs/methodology.md §7, "Statutory basis"). A reader who checks
# the GAP by hand as (PV of expenditure - reserve) / PV of the wage bill finds the gross figure, not the statutory
# one the results give: every rate says its basis where it is defined or shown, with the relation between them.
STATUTORY = "statutory"
GROSS = "gross"
BASIS_MEANING = {
    STATUTORY: "a rate of contributions due on insurable earnings, each point of which brings the scheme the "
               "collection rate x (1 - the administration charged on contributions) of a point, set against the cost "
               "of benefits, grants and their administration net of the state subsidy (and of any minimum-pension "
               "top-up the state pays)",
    GROSS: "a share of the insurable wage bill, the expenditure counted in full (administration included), before "
           "collection losses and without the state subsidy",
}
BASIS_WORDS = {basis: f"{basis} basis: {meaning}" for basis, meaning in BASIS_MEANING.items()}
# statutory rate from gross (yearly for the break-even and PAYG cost rates, in present values for the GAP and the
# textbook (PV of expenditure - reserve) / PV of the wage bill)
BASIS_RELATION = ("statutory rate = (gross rate - (administration charged on contributions + state subsidy) / "
                  "insurable wage bill) / (collection rate x (1 - administration share of contributions))")
# the actuarial balance, on the gross basis, from the GAP (statutory) over its period
BALANCE_RELATION = ("with level contribution and collection rates, actuarial balance = (contribution rate - GAP over "
                    "the same period) x collection rate x (1 - administration share of contributions) - the target "
                    "fund's present value / PV of the insurable wage bill")
BASIS = {   # results variable -> the basis of its rate
    "contribution_rate": STATUTORY, "breakeven_contribution_rate": STATUTORY, "gap": STATUTORY,
    "scaled_premium": STATUTORY, "average_premium_current": STATUTORY, "average_premium_new_entrants": STATUTORY,
    "summary_level_contribution_rate": STATUTORY,
    "paygo_cost_rate": GROSS, "actuarial_balance": GROSS, "terminal_funding_rate": GROSS,
    "terminal_funding_rate_at_maturity": GROSS,
}


def basis_text(name: str) -> str:
    """The basis of variable ``name``'s rate in words with the relation between the bases ('' for a variable that
    is not a rate of insurable earnings): what the Definitions sheet adds to its definition."""
    basis = BASIS.get(name)
    if basis is None:
        return ""
    relation = BALANCE_RELATION if name == "actuarial_balance" else BASIS_RELATION
    return f"{BASIS_WORDS[basis]}; {relation}"


def sheet_notes(sheet: str, p: xr.Dataset, inputs) -> list[str]:
    """Notes in words below a yearly results sheet's table: what a column counts that its heading cannot say."""
    notes = []
    if sheet == INSURED and "retirements" in p:
        notes.append("Retirements of actives: actives retiring with an old-age pension, and those reaching "
                     "retirement age without the service for one, who leave with the grant "
                     "(withdrawal grant recipients count them too).")
    if sheet == INSURED and "inactive_retirements" in p:
        notes.append(f"Inactive insured reaching retirement age: a deferred pension if vested, else the grant; "
                     f"in {int(p.year.values[0])} also every inactive insured of the valuation date already at or "
                     "past the normal retirement age, hence the first year's larger number.")
    if sheet == FINANCE and "withdrawal_grants" in p and inputs.has_scheme:
        scheme = inputs.scheme
        grant = ("a refund of their contributions with interest (grant type refund)"
                 if scheme["grant_type"] == "refund" else
                 "a multiple of their reference earnings per year of service (grant type multiple)")
        leavers = ("; they include the refunds to actives leaving before retirement age (exit benefit refund), "
                   "shown on their own" if scheme["exit_benefit"] == "refund" else
                   "; leavers keep deferred rights (exit benefit deferred), so no refund is paid on leaving" if
                   scheme["exit_benefit"] == "deferred" else "; leavers forfeit their rights (exit benefit none)")
        notes.append(f"Withdrawal grants: paid to insured reaching retirement age without the service for a pension, "
                     f"as {grant}{leavers}.")
    if sheet in (FINANCE, INDICATORS):
        notes += depletion_notes(p, inputs)
    if sheet == FLOOR:
        notes += fiscal_cost_notes(p, inputs)
    return notes


def fiscal_cost_notes(p: xr.Dataset, inputs) -> list[str]:
    """What the fiscal cost includes and leaves out, and what the state stands behind once the scheme's reserve is
    exhausted: the borrowing (settings.after_depletion borrow) or the cut benefits (payable), in sentences (the
    Social protection floor sheet's notes and the report's floor chapter)."""
    if "fiscal_cost" not in p or not inputs.has_scheme:
        return []
    parts = ("the floor, the state subsidy to the scheme and the minimum-pension top-up the state finances"
             if "minimum_pension_top_up" in p else "the floor and the state subsidy to the scheme")
    notes = [f"The fiscal cost counts the state's payments: {parts}. It leaves out the scheme's own deficit once its "
             "reserve is exhausted."]
    if "scheme_borrowing" not in p:
        return notes
    debt = p.scheme_debt.values
    if inputs.settings["after_depletion"] == "borrow":
        if bool((debt > 0).any()):
            first = int(p.year.values[int(np.argmax(debt > 0))])
            notes.append(f"The reserve is exhausted in {first} and the scheme then borrows to pay benefits in full "
                         "(settings.after_depletion borrow): its deficit financed by borrowing, the interest on the "
                         "debt included, is a cost the state stands behind whoever lends. Scheme borrowing shows it "
                         "each year (of which the interest on the debt carried in) and scheme debt what is owed at "
                         "the end of the year. The fiscal cost including the scheme's borrowing is not the fiscal "
                         "cost plus scheme borrowing: it adds only the scheme's own deficit of the year, without the "
                         "interest on the debt carried in, at mid-year (what the state would pay were it to cover "
                         "each deficit as it arises; while the return is not negative, scheme borrowing less its "
                         "interest). The present values likewise count each deficit once, without the interest on "
                         "the debt (which bears the discount rate).")
        else:
            notes.append("The reserve is not exhausted within the projection: the scheme borrows nothing, and the "
                         "fiscal cost including the scheme's borrowing equals the fiscal cost.")
    elif "payable_share" in p and bool((p.payable_share.values < 1).any()):
        first = int(p.year.values[int(np.argmax(p.payable_share.values < 1))])
        notes.append(f"The reserve is exhausted in {first}; the scheme does not borrow (settings.after_depletion "
                     "payable): benefits are cut to what its income and the reserve left can pay, so scheme "
                     "borrowing is 0 and the cost falls on the pensioners instead of the state.")
    else:
        notes.append("The reserve is not exhausted within the projection, and the scheme would not borrow if it "
                     "were (settings.after_depletion payable: benefits would be cut): scheme borrowing is 0.")
    return notes


def unused_outputs(inputs) -> set[str]:
    """Results variables the case's options leave at zero in every year, left out of the results sheets: the refunds
    to leavers without a refund on leaving (scheme.exit_benefit not refund)."""
    if inputs.has_scheme and inputs.scheme["exit_benefit"] != "refund":
        return {"exit_refunds"}
    return set()


def depletion_notes(p: xr.Dataset, inputs) -> list[str]:
    """What "payable" means, and, when the reserve is exhausted under settings.after_depletion "borrow", how
    benefits are then paid (the Financial projection's, Financing indicators' and Summary's notes)."""
    if "payable_share" not in p:
        return []
    notes = []
    borrow = inputs.settings["after_depletion"] == "borrow"
    if borrow and "reserve" in p and bool((p.reserve.values < 0).any()):
        first = int(p.year.values[int(np.argmax(p.reserve.values < 0))])
        notes.append(f"The reserve is exhausted in {first}: under settings.after_depletion \"borrow\" benefits and "
                     "grants are paid in full from then on by borrowing, the debt shown as a negative reserve that "
                     "bears the investment return (negative investment income, which can make total income "
                     "negative).")
    notes.append("Payable: what the year's income and the reserve left at its start could pay (share of benefits "
                 "payable, 100% before depletion; benefits and grants payable = due x that share)"
                 + ("; under \"borrow\" benefits are paid in full, so this measures the shortfall, not what is paid."
                    if borrow else "; under \"payable\" benefits are paid at that share and the reserve never falls "
                                   "below zero."))
    return notes


# sheet names of their own for variables whose label, cut at Excel's 31 characters, would not read whole
SHEET_NAMES = {
    "replacement_rate": "Replacement rate, new pensions",
    "life_expectancy_65_male": "Life expectancy at 65, men",
    "life_expectancy_65_female": "Life expectancy at 65, women",
    "fiscal_cost_with_borrowing_pct_gdp": "Fiscal cost with borrowing",
}


def sheet_name(name: str) -> str:
    """A short name of variable ``name`` for a sheet of its own (stochastic percentiles, sensitivity by scenario):
    :data:`SHEET_NAMES`, else its label before any colon or comma (Total expenditure; Period life expectancy at
    65)."""
    if name in SHEET_NAMES:
        return SHEET_NAMES[name]
    label = (VARIABLES.get(name) or SUMMARY[name]).label
    return label.split(":")[0].split(",")[0].replace("{}", "").strip()


# ------------------------------------------------------------------------------------ units and formats

def money_phrase(unit: str) -> str:
    """"millions of currency units", or "currency units" when amounts are not scaled."""
    return "currency units" if unit == "units" else f"{MONEY_WORDS[unit]} of currency units"


def unit_text(variable: Variable, money_unit: str) -> str:
    """The unit shown after a label: the money unit for money, else the variable's or its kind's."""
    if variable.unit is not None:
        return variable.unit
    if variable.kind == "money":
        return MONEY_WORDS[money_unit]
    return KINDS[variable.kind][1] or ""


def header(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def number_format(kind: str) -> str:
    return KINDS[kind][0]


def shown(values, kind: str, money_unit: str):
    """Data values -> the values a workbook cell holds (money divided by the unit, _pct_ by 100)."""
    values = np.asarray(values, dtype=float)
    if kind == "money":
        return values / MONEY_UNITS[money_unit]
    if kind == "percent":
        return values / 100.0
    return values


def display(value, fmt: str) -> str:
    """A cell value as Excel or LibreOffice shows it under ``fmt`` (for the report's tables and to
    size columns); blank for a missing value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    value = float(value)
    if not math.isfinite(value):
        return ""
    if fmt == POINTS_FORMAT:
        return ("+" if value > 0 else "-" if value < 0 else "") + f"{abs(value):,.2f} pp"   # its three sections
    decimals = fmt.split(".")[1].rstrip("%") if "." in fmt else ""
    digits = len(decimals)
    if fmt.endswith("%"):
        return f"{100 * value:,.{digits}f}%"
    if fmt.startswith("#,##0") or fmt in ("0.00", "0.0", "0.000"):
        text = f"{value:,.{digits}f}"
        return text if fmt.startswith("#,##0") else text.replace(",", "")
    if fmt == "0":
        return f"{value:.0f}"
    return f"{value:g}"


def show(value, kind: str, money_unit: str = "millions") -> str:
    """One data value in words and digits, as every table of the report shows it."""
    if kind == "year":
        return "none" if value is None or not math.isfinite(float(value)) else f"{int(value)}"
    return display(float(shown(value, kind, money_unit)), number_format(kind))


# ------------------------------------------------------------------------------------ yearly columns

@dataclass(frozen=True)
class Column:
    name: str            # variable name (with the coordinate for ``by`` columns: "pensioners_by_benefit/old_age")
    header: str          # label (unit)
    values: np.ndarray   # one value per year, as the cell holds it
    format: str
    kind: str


def benefit_name(identifier) -> str:
    """A floor benefit's name as people write it, from its identifier (the label of the netCDF's floor_benefit
    coordinate, unchanged): underscores to spaces, the first letter a capital (social_pension -> Social pension)."""
    return upper_first(str(identifier).replace("_", " ").strip())


def coordinate_label(dim: str, value) -> str:
    if dim == "benefit":
        return BENEFIT_LABELS.get(str(value), str(value))
    if dim == "sex":
        return SEX_LABELS.get(str(value), str(value))
    if dim == "floor_benefit":   # in the middle of a label: "Cost of the child benefit", first letter as written
        return str(value).replace("_", " ").strip()
    return str(value)


def _label(template: str, coordinate: str) -> str:
    """``template`` with ``coordinate`` in it, the first letter a capital; a benefit named "... benefit" in "the {}
    benefit" is not named twice (Cost of the child benefit, not "child benefit benefit")."""
    text = template.format(coordinate)
    if coordinate.lower().endswith(" benefit"):
        text = text.replace(f"{coordinate} benefit", coordinate)
    return text[:1].upper() + text[1:]


def _yearly(ds: xr.Dataset, name: str, variable: Variable) -> list[tuple[str, str, np.ndarray]]:
    """(name, label, values by year) of one variable, expanded over ``by`` and summed over the rest."""
    source = ds[variable.source or name]
    if variable.ages is not None:
        low, high = variable.ages
        source = source.sel(age=slice(low, high))
    if "year" not in source.dims:
        return []
    extensive = variable.kind in ("money", "persons")
    rest = [d for d in source.dims if d not in ("year", variable.by)]
    if rest and not extensive:
        return []
    if rest:
        source = source.sum(rest)
    if variable.by and variable.by in source.dims:
        return [(f"{name}/{c}", _label(variable.label, coordinate_label(variable.by, c)),
                 source.sel({variable.by: c}).transpose("year").values) for c in source[variable.by].values]
    return [(name, variable.label.replace("{}", "").strip(), source.transpose("year").values)]


def yearly_columns(ds: xr.Dataset, sheet: str, money_unit: str, names=None, leave_out=()) -> list[Column]:
    """The columns of a results sheet (or of ``names``), in table order; absent variables and those of
    ``leave_out`` are skipped."""
    out = []
    chosen = names if names is not None else [n for n, v in VARIABLES.items() if v.sheet == sheet]
    for name in chosen:
        if name in leave_out:
            continue
        variable = VARIABLES[name]
        if (variable.source or name) not in ds:
            continue
        unit = unit_text(variable, money_unit)
        if name == "reserve_real":
            unit = f"{unit}, at prices of {int(ds.year.values[0])}"
        for key, label, values in _yearly(ds, name, variable):
            out.append(Column(key, header(label, unit), shown(values, variable.kind, money_unit),
                              number_format(variable.kind), variable.kind))
    return out


def summary_items(summary: xr.Dataset, sheet: str, money_unit: str) -> list[tuple[str, str, float, str]]:
    """(name, label with unit, cell value, format) of the summary values of a sheet, expanded by
    horizon or period; absent values are skipped."""
    out = []
    for name, variable in SUMMARY.items():
        if variable.sheet != sheet or name not in summary:
            continue
        da = summary[name]
        unit = unit_text(variable, money_unit)
        if variable.by and variable.by in da.dims:
            for c in da[variable.by].values:
                out.append((f"{name}/{c}", header(_label(variable.label, str(c)), unit),
                            float(shown(da.sel({variable.by: c}).values, variable.kind, money_unit)),
                            number_format(variable.kind)))
        else:
            value = float(da.values)
            out.append((name, header(variable.label, unit), float(shown(value, variable.kind, money_unit)),
                        number_format(variable.kind)))
    return out


# ------------------------------------------------------------------------------------ inputs in words

FIELD_LABELS = {
    "valuation_year": "Valuation year (valuation date: 1 January)",
    "horizon": "Projection horizon",
    "min_age": "Youngest insured age",
    "max_age": "Oldest age (open age group)",
    "max_service": "Highest completed service tracked",
    "max_retirement_age": "Age at which every insured retires",
    "new_entrant_method": "New entrants",
    "max_entry_age": "Oldest age of a new entrant",
    "migration_timing": "Timing of net migration",
    "gap_horizons": "Horizons of the general average premium",
    "scaled_premium_period": "Scaled premium period",
    "scaled_premium_target": "Scaled premium target reserve ratio",
    "balance_sheet": "Actuarial balance sheet",
    "money_unit": "Unit of money amounts in the results",
    "contribution_rate": "Contribution rate",
    "collection_rate": "Collection rate",
    "normal_retirement_age": "Normal retirement age",
    "early_retirement_age": "Early retirement age",
    "retirement_age_increase_by_cohort": "Increase of the retirement ages by cohort (reform)",
    "vesting_years": "Minimum service for an old-age pension",
    "accrual": "Accrued pension by years of service",
    "early_retirement_reduction": "Reduction for early retirement",
    "late_retirement_increment": "Increment for late retirement",
    "reference_earnings_years": "Reference earnings: years averaged",
    "revaluation": "Revaluation of past earnings",
    "indexation_price_weight": "Pension indexation: weight of inflation",
    "indexation_wage_weight": "Pension indexation: weight of wage growth",
    "indexation_floor": "Pension indexation: floor",
    "indexation_cap": "Pension indexation: cap",
    "indexation_lag": "Pension indexation: lag",
    "ceiling_multiple": "Insurable earnings ceiling",
    "floor_multiple": "Insurable earnings floor",
    "earnings_cv": "Coefficient of variation of earnings within an age group",
    "grant_type": "Grant to insured without a pension",
    "grant_multiple": "Grant: multiple of reference earnings per year of service",
    "refund_contribution_rate": "Refunded contribution rate",
    "refund_interest": "Interest credited on refunds",
    "past_service_credit": "Past service credited to the initial insured",
    "invalidity_vesting_years": "Minimum service for invalidity and survivors' pensions",
    "invalidity_future_service": "Future service credited on invalidity",
    "invalidity_conversion": "Invalidity pensions at normal retirement age",
    "widow_share": "Widow's or widower's pension",
    "orphan_share": "Orphan's pension",
    "survivor_share_cap": "Cap on all survivors' pensions",
    "orphan_age_limit": "Orphans' pensions end at age",
    "funeral_grant": "Funeral grant",
    "admin_share_of_benefits": "Administrative expenses, share of benefits",
    "admin_share_of_contributions": "Administrative expenses, share of contributions",
    "subsidy_share_of_benefits": "State subsidy, share of benefits",
    "government_expenditure_pct_gdp": "Government expenditure",
    "government_revenue_pct_gdp": "Government revenue",
    "subsidy_share_of_wages": "State subsidy, share of the wage bill",
    "inflation": "Inflation",
    "real_wage_growth": "Real wage growth",
    "nominal_return": "Nominal investment return",
    "unemployment_rate": "Unemployment rate",
    "productivity_growth": "Real labour productivity growth",
    "gdp": "GDP in the valuation year",
    "average_wage": "National average wage in the valuation year",
    "population": "Population at the valuation date",
    "fertility": "Fertility rates",
    "sex_ratio_at_birth": "Sex ratio at birth, males per female",
    "net_migration": "Net migration",
    "mortality": "Mortality rates q_x in the valuation year",
    "mortality_improvement": "Mortality improvement",
    "participation": "Labour force participation",
    "coverage": "Coverage: insured / employed",
    "credit_density": "Density of service credits",
    "contribution_density": "Density of contributions",
    "salary_scale": "Salary scale",
    "exit_rate": "Exit rate to inactivity",
    "retirement_rate": "Retirement rate of eligible actives",
    "invalidity_rate": "Invalidity rate",
    "reentry_rate": "Re-entry rate of inactive insured",
    "active_mortality_factor": "Mortality of actives, multiple of q_x",
    "pensioner_mortality_factor": "Mortality of old-age pensioners, multiple of q_x",
    "invalid_mortality_factor": "Mortality of invalidity pensioners, multiple of q_x",
    "survivor_mortality_factor": "Mortality of widows and widowers, multiple of q_x",
    "remarriage_rate": "Remarriage rate",
    "probability_married": "Probability of leaving a spouse",
    "spouse_age_difference": "Age of the spouse minus age of the deceased",
    "orphans": "Expected orphans per death",
    "orphan_age": "Mean age of orphans",
    "entrants": "New entrants in the valuation year",
    "entrant_growth": "Growth of new entrants",
    "entrant_distribution": "Distribution of new entrants by sex and age",
    "active": "Active insured at the valuation date",
    "inactive": "Inactive insured at the valuation date",
    "pensioners": "Pensioners at the valuation date",
    "average_pension": "Average pension at the valuation date",
    "refund_balance": "Refund balances of the initial actives",
    "inactive_refund_balance": "Refund balances of the initial inactive insured",
    "reserve": "Reserve at the valuation date",
}

CHOICE_WORDS = {
    ("new_entrant_method", "residual"): "fill the target insured population (residual method)",
    ("new_entrant_method", "growth"): "a number of entrants growing at a rate (growth method)",
    ("migration_timing", "end"): "all migrants at the end of the year",
    ("migration_timing", "even"): "half at the start and half at the end of the year",
    ("balance_sheet", "yes"): "computed (open group and closed group)",
    ("balance_sheet", "no"): "not computed",
    ("grant_type", "multiple"): "a multiple of reference earnings per year of service",
    ("grant_type", "refund"): "refund of contributions with interest",
    ("invalidity_conversion", "convert"): "converted to old-age pensions",
    ("invalidity_conversion", "keep"): "kept as invalidity pensions",
    ("revaluation", "none"): "not revalued",
    ("exit_benefit", "deferred"): "deferred rights: leavers stay insured with their credits",
    ("exit_benefit", "refund"): "refund of contributions with interest on leaving (credits cancelled)",
    ("exit_benefit", "none"): "nothing: leavers forfeit their rights",
    ("after_depletion", "borrow"): "borrow: benefits paid in full, the reserve going negative (a debt bearing the "
                                   "investment return)",
    ("after_depletion", "payable"): "payable: benefits paid at the share that income and any reserve left can pay",
}


def upper_first(text: str) -> str:
    """``text`` with its first letter in upper case and the rest as written (str.capitalize lowers the rest:
    "NumPy", "UTC" and names the user gave would lose their capitals)."""
    return text[:1].upper() + text[1:]


# labels of a name that two groups share, by group (FIELD_LABELS has the first group's)
GROUP_FIELD_LABELS = {
    ("floor", "min_age"): "Youngest eligible age",
    ("floor", "max_age"): "Oldest eligible age",
}
# A floor costing alone (settings.scheme "no") has no reserve: the nominal return only discounts the floor's and the
# fiscal cost's present values (and so the level costs), as the GAP discounts, and is named for what it does there.
FLOOR_ALONE_FIELDS = {"nominal_return": ("Nominal discount rate", "a year, of the floor's present values")}


def field_label(name: str, inputs=None, group: str | None = None) -> str:
    """The label of input ``name``; given the case's ``inputs``, as that case uses it (a floor costing
    alone names its nominal return a discount rate); given its ``group``, that group's (a name in two groups:
    floor.min_age is a benefit's youngest eligible age, not settings.min_age)."""
    if inputs is not None and not inputs.has_scheme and name in FLOOR_ALONE_FIELDS:
        return FLOOR_ALONE_FIELDS[name][0]
    return GROUP_FIELD_LABELS.get((group, name)) or FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def field_as_used(name: str, field, inputs):
    """``field`` with the units it has in this case (a floor costing alone: no reserve, see FLOOR_ALONE_FIELDS)."""
    if not inputs.has_scheme and name in FLOOR_ALONE_FIELDS:
        return dataclasses.replace(field, units=FLOOR_ALONE_FIELDS[name][1])
    return field


def _percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def _percent_points(value: float) -> str:
    return f"{value:.2f}%"


def field_kind(field) -> str:
    """How a field's values read: percent (a fraction: 0.35 reads 35.00%), percent_points (given in percent:
    35 reads 35.00%, e.g. government expenditure in percent of GDP), multiple, money, age, years or number."""
    units = field.units or ""
    if units.startswith("percent of "):
        return "percent_points"
    if field.kind in ("probability", "rate") or units == "rate" or "share" in units \
            or units.startswith(("per year", "a year")):
        return "percent"
    if units.startswith("x the deceased"):
        return "percent"
    if units.startswith("x "):
        return "multiple"
    if "currency" in units:
        return "money"
    if field.kind == "age":
        return "age"
    return "number"


# the value of an input left to its default, in words (the Provisions sheet and the report's provisions chapter)
DEFAULT_WORDS = {
    "refund_interest": "the nominal investment return (the default)",
    "normal_retirement_age_by_cohort": "not given: the normal retirement age by year applies",
    "early_retirement_age_by_cohort": "not given: the early retirement age by year applies",
    "retirement_age_increase_by_cohort": "none: the retirement ages in force apply",
    "bend_points": "none: reference earnings are the base of the pension, without brackets",
    "bend_point_rates": "none (no bend points)",
    "exit_vesting_years": "none: no leaver keeps deferred rights",
    "scaled_premium_target": "none: the lowest rate that keeps the reserve from falling",
    "scaled_premium_periods": "none: periods of equal length",
    "max_entry_age": "none: new entrants at every age",
}


def value_text(field, value, name: str | None = None) -> str:
    """A scalar input in words: 18.00%, 2.5 x average wage, 13,750 currency a year, none."""
    if value is None:
        if name in DEFAULT_WORDS:
            return DEFAULT_WORDS[name]
        stated = re.search(r"default: ([^;)]*)", getattr(field, "doc", None) or "")
        return f"{stated.group(1).strip()} (the default)" if stated else "the default (see the notes)"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) + (f" {field.units}" if field.units else "")
    if isinstance(value, str):
        return value
    value = float(value)
    if math.isinf(value):
        return "none"
    kind = field_kind(field)
    if kind == "percent":
        return _percent(value)
    if kind == "percent_points":
        return _percent_points(value)
    if kind == "multiple":
        return f"{value:g} {field.units}"
    if kind == "money":
        return money_text(value)
    return f"{value:g}"


def money_text(value: float) -> str:
    """A money amount in words: thousands separated, whole currency units (12,000; 86,069), as the workbooks'
    money cells read."""
    return f"{float(value):,.0f}"


def schedule_text(values, years, kind_text) -> str:
    """A yearly schedule in words, every step shown: "18.00% in 2020-2024, 20.00% in 2025-2029 and
    22.00% from 2030"; a schedule that changes in more than eight steps says so and refers to the
    year-by-year table."""
    values = np.asarray(values, dtype=float)
    years = np.asarray(years)
    starts = [0] + [i for i in range(1, values.size) if values[i] != values[i - 1]]
    if len(starts) == 1:
        return f"{kind_text(values[0])} in every year"
    if len(starts) > 8:
        return (f"{kind_text(values[0])} in {years[0]}, changing from year to year to {kind_text(values[-1])} in "
                f"{years[-1]} (year-by-year table in the assumptions)")
    parts = []
    for k, i in enumerate(starts):
        last = starts[k + 1] - 1 if k + 1 < len(starts) else None
        if last is None:
            parts.append(f"{kind_text(values[i])} from {years[i]}")
        elif last == i:
            parts.append(f"{kind_text(values[i])} in {years[i]}")
        else:
            parts.append(f"{kind_text(values[i])} in {years[i]}-{years[last]}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def age_text(age: float) -> str:
    """An age in years and whole months: 65, 65 years 3 months."""
    months = int(round(age * 12))
    years, extra = divmod(months, 12)
    return f"{years}" if not extra else f"{years} years {extra} month{'s' if extra > 1 else ''}"


def cohort_text(ages, cohorts) -> str:
    """Retirement ages by year of birth in words: "60 for cohorts born up to 1965, rising to 65 for those
    born from 2025 (60 years 1 month for 1966, ...)" for a phase-in; each step listed when there are few."""
    ages, cohorts = np.asarray(ages, dtype=float), np.asarray(cohorts)
    starts = [0] + [i for i in range(1, ages.size) if ages[i] != ages[i - 1]]
    if len(starts) == 1:
        return f"{age_text(ages[0])} for every cohort"
    first, last = starts[1], starts[-1]
    head = f"{age_text(ages[0])} for cohorts born up to {cohorts[first] - 1}"
    tail = f"{age_text(ages[last])} for those born from {cohorts[last]}"
    if len(starts) <= 4:
        middle = [f"{age_text(ages[i])} for those born in {cohorts[i]}" +
                  (f"-{cohorts[j] - 1}" if cohorts[j] - 1 > cohorts[i] else "")
                  for i, j in zip(starts[1:-1], starts[2:])]
        return ", ".join([head, *middle]) + " and " + tail
    steps = np.diff(ages[starts])
    way = "rising" if np.all(steps > 0) else "falling" if np.all(steps < 0) else "changing"
    return (f"{head}, {way} cohort by cohort to {tail} ({age_text(ages[first])} for those born in "
            f"{cohorts[first]}; year by year in the workbook's sheet 'Retirement ages by cohort')")


def accrual_text(accrual) -> str:
    """Piecewise-linear accrual by service in words, from its breakpoints."""
    values = np.asarray(accrual, dtype=float)
    slope = np.diff(values)
    points = [0] + [k for k in range(1, values.size - 1) if not np.isclose(slope[k], slope[k - 1])] + [values.size - 1]
    parts = [f"{_percent(values[k])} at {k} years" for k in points]
    steps = [f"{100 * slope[k]:.3g}% a year from {k} years" for k in points[:-1]]
    return (", ".join(parts) + " of service (linear in between: " + "; ".join(steps) +
            "; flat beyond the last)")


def _percent_units(units: str) -> str:
    """What a percentage is of, from a field's units: "share of insurable earnings" -> "of insurable
    earnings", "x the deceased's pension" -> "of the deceased's pension", "per year before ..." kept."""
    if units.startswith("x "):
        return "of " + units[2:]
    if units.startswith("share of "):
        return units[len("share "):]
    if units.startswith("share") or units in ("", "rate"):
        return ""
    return units


def _suffix(field) -> str:
    units = (field.units or "").split(" (")[0]
    kind = field_kind(field)
    if kind == "percent":
        return _percent_units(units)
    if kind == "percent_points":
        return units[len("percent "):]
    if kind in ("money", "number") and units != "year":
        return units
    return ""


def _zero(inputs, group: str, name: str) -> bool:
    value = getattr(inputs, group).get(name)
    return value is None or bool(np.all(np.asarray(getattr(value, "values", value), dtype=float) == 0))


def _floor_bases(inputs) -> set[str]:
    return {str(b) for b in inputs.floor["basis"].values} if inputs.has_floor else set()


def not_used(name: str, inputs) -> str | None:
    """Why input ``name`` does not apply under the case's options ("not used: grants are a multiple of reference
    earnings ..."), or None when it does: the Provisions sheet says so where it shows the input, and the
    Assumptions sheet leaves its year-by-year column out."""
    if not inputs.has_scheme:
        return None
    sch = inputs.scheme
    refund = sch["grant_type"] == "refund" or sch["exit_benefit"] == "refund"
    if name == "grant_multiple" and sch["grant_type"] == "refund":
        return "not used: grants are refunds of contributions with interest (grant type refund)"
    if name in ("refund_contribution_rate", "refund_interest") and not refund:
        leavers = "keep deferred rights" if sch["exit_benefit"] == "deferred" else "forfeit their rights"
        return (f"not used: grants are a multiple of reference earnings and leavers {leavers} (no refund under the "
                "grant type or the exit benefit)")
    if name == "exit_vesting_years" and sch["exit_benefit"] == "deferred":
        return "not used: every leaver keeps deferred rights (exit benefit deferred)"
    if name in ("minimum_pension_indexation", "minimum_pension_financing") and _zero(inputs, "scheme",
                                                                                     "minimum_pension"):
        return "not used: no minimum pension"
    if name in ("flat_pension_indexation", "flat_pension_service") and _zero(inputs, "scheme", "flat_pension"):
        return "not used: no flat pension"
    if name in ("bend_point_indexation", "bend_point_rates") and sch.get("bend_points") is None:
        return "not used: no bend points"
    if name == "funeral_grant_indexation" and _zero(inputs, "scheme", "funeral_grant"):
        return "not used: no funeral grant"
    if name == "poverty_line" and "poverty_line" not in _floor_bases(inputs):
        return "not used: no floor benefit on the poverty-line basis"
    if name in ("government_expenditure_pct_gdp", "government_revenue_pct_gdp") and not inputs.has_floor:
        return "not used: no social protection floor (its cost as a share of government spending)"
    return None


def _applies(name: str, inputs) -> bool:
    """False for an input that the chosen options leave unused (:func:`not_used`)."""
    return not_used(name, inputs) is None


def _as_used(name: str, value, horizon: int, text: str) -> str:
    """The words of a setting the projection's horizon changes (the GAP's horizons, the actuarial balance's period)
    as the valuation used it, with what was asked for."""
    if name == "gap_horizons" and isinstance(value, tuple):
        used = [int(h) for h in value if h < horizon] + [int(horizon)]
        if used != [int(h) for h in value]:
            beyond = [str(int(h)) for h in value if h > horizon]
            return (f"{', '.join(map(str, used))} years (the full horizon is always included"
                    + (f"; {', '.join(beyond)} left out: beyond the {horizon}-year horizon)" if beyond else ")"))
    if name == "actuarial_balance_period" and isinstance(value, (int, float)) and value > horizon:
        return f"{horizon} years (the period of {value:g} years capped at the horizon)"
    return text


def provisions(inputs, groups=("settings", "scheme", "economy")) -> list[tuple[str, str, str, str]]:
    """Every scalar input and schedule of ``groups`` in words: (group, label, value, note)."""
    from ..inputs import FIELDS

    out = []
    years = inputs.coords["year"]
    for group in groups:
        values = inputs.settings if group == "settings" else getattr(inputs, group)
        for name, field in FIELDS[group].items():
            value = values.get(name)
            unused = not_used(name, inputs)
            if unused is not None:
                out.append((group, field_label(name, inputs), unused, field.doc or ""))
                continue
            field = field_as_used(name, field, inputs)
            suffix = _suffix(field)
            if hasattr(value, "dims"):
                fmt = {"percent": _percent, "percent_points": _percent_points, "money": money_text,
                       "multiple": lambda v: value_text(field, v)}.get(field_kind(field), lambda v: f"{v:g}")
                if value.dims == ("year",):
                    text = schedule_text(value.values, years, fmt)
                elif value.dims == ("year", "sex"):
                    text = "; ".join(f"{SEX_LABELS[s]}: {schedule_text(value.sel(sex=s).values, years, fmt)}"
                                     for s in value.sex.values)
                    suffix = ""
                elif value.dims == ("service",):
                    text, suffix = accrual_text(value.values), ""
                elif name == "accrual" and set(value.dims) == {"year", "service"}:
                    out.append(accrual_row(inputs))   # by year of accrual: each schedule from its first year
                    continue
                elif value.dims == ("cohort", "sex"):
                    text = "; ".join(f"{SEX_LABELS[s]}: {cohort_text(value.sel(sex=s).values, value.cohort.values)}"
                                     for s in value.sex.values)
                    suffix = ""
                else:
                    continue
                if suffix:
                    text = f"{text} ({suffix})"
            elif isinstance(value, str):
                text = CHOICE_WORDS.get((name, value), value)
            else:
                text = value_text(field, value, name)
                if suffix and value is not None and not (isinstance(value, float) and math.isinf(value)) \
                        and not isinstance(value, tuple):
                    text = f"{text} {suffix}"
            text = _as_used(name, value, inputs.settings["horizon"], text)
            if text.startswith("1 years"):
                text = "1 year" + text[len("1 years"):]
            year = str(inputs.settings["valuation_year"])
            text = text.replace(", at t0", f" at {year} levels").replace(", year t0", f" in {year}").replace(
                ", t0", f" in {year}").replace(" at t0", f" at {year} levels").replace(" before t0", f" before {year}")
            out.append((group, field_label(name, inputs, group), text, field.doc or ""))
    return out


ACCRUAL_LABEL = "Accrual rate (benefit formula)"


def accrual_in_words(accrual) -> str:
    """The accrual schedule by completed service (the pension's share of reference earnings) as its rates per
    year of service: "1.333% of reference earnings per year of service up to 15 years, then 1.5% (20% after 15
    years, 72.5% after 50)"."""
    values = np.asarray(accrual, dtype=float)
    slope = np.diff(values)
    if not slope.size:
        return f"{100 * values[0]:.4g}% of reference earnings"
    breaks = [k for k in range(1, slope.size) if not np.isclose(slope[k], slope[k - 1], rtol=1e-6, atol=1e-12)]
    pieces, ends = [], breaks + [values.size - 1]
    for start, end in zip([0] + breaks, ends):
        rate = "no accrual" if np.isclose(slope[start], 0) else f"{100 * slope[start]:.4g}%" + \
            (" of reference earnings per year of service" if start == 0 else "")
        pieces.append(rate + (f" up to {end} years" if end != ends[-1] else ""))
    text = ", then ".join(pieces)
    points = ", ".join(f"{100 * values[k]:.4g}% after {k} years" for k in ends)
    return f"{text} ({points} of service)"


def accrual_row(inputs) -> tuple[str, str, str, str] | None:
    """The benefit formula's accrual as a provisions row; an accrual that changes over the years: each
    schedule from the year it applies (to the service earned from then)."""
    accrual = inputs.scheme.get("accrual")
    if accrual is None or "service" not in accrual.dims:
        return None
    if "year" not in accrual.dims:
        text = accrual_in_words(accrual.values)
    else:
        years, rows = accrual.year.values, accrual.transpose("year", "service").values
        starts = [0] + [i for i in range(1, len(years)) if not np.allclose(rows[i], rows[i - 1])]
        text = accrual_in_words(rows[0]) if len(starts) == 1 else "; ".join(
            f"from {int(years[i])}: {accrual_in_words(rows[i])}" for i in starts)
    return ("scheme", ACCRUAL_LABEL, text,
            "the pension at award is this share of reference earnings for the years of credited service, before "
            "the early or late retirement adjustment and the minimum and maximum pension; a change of the rates "
            "applies to the service earned from the year it is made")


# ------------------------------------------------------------------------------------ the floor's benefits in words

FLOOR_KIND_WORDS = {"old_age": "old age", "disability": "disability", "child": "children", "maternity": "maternity",
                    "other": "other"}
FLOOR_TEST_WORDS = {"universal": "universal",
                    "pension_tested": "pension-tested: only persons without a scheme pension",
                    "top_up": "top-up: scheme pensioners receive the difference up to the floor amount"}
FLOOR_BASIS_WORDS = {"gdp_per_capita": "GDP per capita", "average_wage": "the national average wage",
                     "poverty_line": "the poverty line"}
FLOOR_INDEXATION_WORDS = {"prices": "indexed to prices", "wages": "indexed to wages", "none": "not indexed"}


def floor_amount_text(floor, b: str, t0: int) -> str:
    """Benefit ``b``'s amount and basis in words: "1,200 a year at 2020 levels, indexed to prices", "80.0% of
    the poverty line a year"."""
    amount = float(floor["amount"].sel(floor_benefit=b))
    basis = str(floor["basis"].sel(floor_benefit=b).values)
    if basis == "currency":
        moves = FLOOR_INDEXATION_WORDS[str(floor["indexation"].sel(floor_benefit=b).values)]
        return f"{money_text(amount)} a year at {t0} levels, {moves}"
    return f"{100 * amount:.1f}% of {FLOOR_BASIS_WORDS[basis]} a year"


def floor_benefits_in_words(inputs) -> list[dict]:
    """Each benefit of the floor as costed, in words (and its administration share as a fraction): identifier,
    kind, who is eligible (sex and ages), the share eligible, amount and basis, indexation, test, take-up."""
    floor, years = inputs.floor, inputs.coords["year"]
    t0 = int(years[0])
    out = []
    for b in (str(v) for v in floor["kind"].floor_benefit.values):
        kind, sex, basis = (str(floor[k].sel(floor_benefit=b).values) for k in ("kind", "sex", "basis"))
        low, high = (float(floor[k].sel(floor_benefit=b)) for k in ("min_age", "max_age"))
        ages = f"{low:.0f} and over" if math.isinf(high) else f"{low:.0f}-{high:.0f}"
        who = (f"births to mothers aged {ages}" if kind == "maternity" else
               f"{'everyone' if sex == 'both' else SEX_LABELS[sex]} aged {ages}")
        eligibility = floor["eligibility"].sel(floor_benefit=b)
        share = "all" if bool((eligibility == 1).all()) else "by sex and age (Floor eligibility sheet)"
        indexation = (FLOOR_INDEXATION_WORDS[str(floor["indexation"].sel(floor_benefit=b).values)]
                      if basis == "currency" else f"moves with {FLOOR_BASIS_WORDS[basis]} each year")
        out.append({"identifier": b, "name": benefit_name(b), "kind": FLOOR_KIND_WORDS[kind], "who": who,
                    "share": share, "amount": floor_amount_text(floor, b, t0), "indexation": indexation,
                    "test": FLOOR_TEST_WORDS[str(floor["test"].sel(floor_benefit=b).values)],
                    "take_up": schedule_text(floor["take_up"].sel(floor_benefit=b).values, years,
                                             lambda v: f"{100 * v:.0f}%"),
                    "take_up_values": floor["take_up"].sel(floor_benefit=b).values,
                    "admin_share": float(floor["admin_share"].sel(floor_benefit=b))})
    return out
