"""Build the Demoland valuation workbook (valuation.xlsx beside this script) from the shipped WPP 2019
inputs for Canada. The case is assembled as CSV tables in a temporary folder (the format of
actuary.io.folder), validated, and written as the workbook. Rerun after changing an assumption here:

    python valuations/demoland/build.py

Demography (real): the population of Canada at 1 January 2020 projected from WPP 2019's 1950 base
with WPP's own inputs (actuary.demography reproduces WPP within 0.14% at ages 0-99); 2019 period
mortality, fertility, sex ratio at birth and net migration held constant afterwards, mortality
improving at 1% a year (fading above 85); ages above 100 extended with a Kannisto model fitted to
ages 80-99. Everything else (labour force, scheme rules, economy, initial insured and
pensioners, reserve) is illustrative: Demoland is not Canada's pension plan.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import binom

from actuary.demography import project_population
from actuary.inputs import FIELDS
from actuary.io.wpp import read_wpp_folder

HERE = Path(__file__).resolve().parent
OUT = HERE  # replaced by a temporary folder in main()
ROOT = HERE.parents[1]
WPP = ROOT / "assumptions" / "wpp2019_canada"
T0, HORIZON, MIN_AGE, MAX_AGE, MAX_SERVICE = 2020, 100, 15, 120, 50
SEXES = ["male", "female"]
AVERAGE_WAGE = 55_000.0


def kannisto_extension(mx: xr.DataArray) -> xr.DataArray:
    """q_x for ages 0..120: WPP q below 100; above, Kannisto m_x = a e^{bx} / (1 + a e^{bx}) fitted on
    logit m_x at ages 80-99, q = m / (1 + m/2), q_120 = 1."""
    ages = np.arange(MAX_AGE + 1)
    out = []
    for sex in SEXES:
        m = mx.sel(sex=sex)
        fit_ages = np.arange(80, 100)
        y = np.log(m.sel(age=fit_ages).values / (1 - m.sel(age=fit_ages).values))
        b, log_a = np.polyfit(fit_ages, y, 1)
        mm = np.empty(ages.size)
        mm[:100] = m.sel(age=np.arange(100)).values
        k = np.exp(log_a + b * ages[100:])
        mm[100:] = k / (1 + k)
        q = mm / (1 + 0.5 * mm)
        q[-1] = 1.0
        out.append(q)
    return xr.DataArray(np.array(out), dims=("sex", "age"), coords={"sex": SEXES, "age": ages})


def by_age(ages, points):
    """Piecewise-linear schedule over ages from (age, value) points, flat outside."""
    return np.interp(ages, [p[0] for p in points], [p[1] for p in points])


def main():
    global HERE
    target = HERE / "valuation.xlsx"
    with tempfile.TemporaryDirectory() as folder:
        HERE = Path(folder)
        build_tables()
        from actuary.io.folder import read_valuation_folder

        valuation = read_valuation_folder(HERE)
        valuation.to_workbook(target)
    print(f"wrote {target}")


def build_tables():
    wpp = read_wpp_folder(WPP)
    years = np.arange(1950, T0)
    projected = project_population(wpp["base"], wpp["survival"].sel(year=years), wpp["fertility"].sel(year=years),
                                   wpp["sex_ratio_at_birth"].sel(year=years), wpp["net_migration"].sel(year=years))
    pop100 = projected.population.sel(year=T0)
    q = kannisto_extension(wpp["life_table"]["mx"].sel(year=2019))
    ages_all = np.arange(MAX_AGE + 1)
    population = xr.zeros_like(q)
    population.loc[dict(age=slice(0, 99))] = pop100.sel(age=slice(0, 99)).values
    for sex in SEXES:  # split 100+ by stationary survivorship
        weights = np.cumprod(np.r_[1.0, 1 - q.sel(sex=sex).values[100:-1]])
        population.loc[dict(sex=sex, age=slice(100, MAX_AGE))] = pop100.sel(sex=sex, age=100).item() * weights / weights.sum()

    improvement = by_age(ages_all, [(0, 0.01), (85, 0.01), (110, 0.0025)])
    sex_age = pd.MultiIndex.from_product([SEXES, ages_all], names=["sex", "age"])
    table = pd.DataFrame(index=sex_age)
    table["demography.population"] = population.values.ravel()
    table["demography.mortality"] = q.values.ravel()
    table["demography.mortality_improvement"] = np.tile(improvement, 2)
    table["demography.net_migration"] = wpp["net_migration"].sel(year=2019).reindex(age=ages_all, fill_value=0.0).values.ravel()

    # behaviour by sex and age (scheme ages 15..120)
    peak = {"male": 0.91, "female": 0.84}
    participation, salary, exit_rate, retire = [], [], [], []
    for sex in SEXES:
        participation.append(by_age(ages_all, [(14, 0), (15, 0.40), (20, 0.72), (25, peak[sex]), (54, peak[sex]),
                                                (59, peak[sex] - 0.12), (64, 0.50), (69, 0.22), (70, 0.0)]))
        scale = by_age(ages_all, [(15, 0.35), (20, 0.55), (30, 0.95), (45, 1.22), (55, 1.25), (69, 1.10)])
        salary.append(np.where(ages_all >= MIN_AGE, scale * AVERAGE_WAGE * (1.0 if sex == "male" else 0.86), 0.0))
        exit_rate.append(by_age(ages_all, [(15, 0.10), (25, 0.06), (40, 0.03), (55, 0.02), (69, 0.02)]))
        retire.append(np.select([ages_all < 60, ages_all < 64, ages_all < 65, ages_all < 70],
                                [0.0, 0.12, 0.55, 0.35], 1.0))
    table["behaviour.participation"] = np.concatenate(participation)
    table["behaviour.coverage"] = np.tile(np.where(ages_all < 70, 0.78, 0.0), 2)
    table["behaviour.credit_density"] = 0.93
    table["behaviour.contribution_density"] = 0.90
    table["behaviour.salary_scale"] = np.concatenate(salary)
    table["behaviour.exit_rate"] = np.concatenate(exit_rate)
    table["behaviour.retirement_rate"] = np.concatenate(retire)
    table["behaviour.active_mortality_factor"] = 0.85
    table["behaviour.pensioner_mortality_factor"] = 0.95
    # invalidity, re-entry, survivors
    table["behaviour.invalidity_rate"] = np.tile(by_age(ages_all, [(20, 0.0005), (40, 0.002), (55, 0.008),
                                                                   (64, 0.012), (65, 0.0)]), 2)
    table["behaviour.reentry_rate"] = np.tile(by_age(ages_all, [(25, 0.10), (45, 0.05), (60, 0.01), (65, 0.0)]), 2)
    table["behaviour.invalid_mortality_factor"] = np.tile(by_age(ages_all, [(0, 2.5), (64, 2.5), (80, 1.2)]), 2)
    table["behaviour.survivor_mortality_factor"] = 1.0
    table["behaviour.remarriage_rate"] = np.tile(by_age(ages_all, [(25, 0.04), (50, 0.01), (65, 0.0)]), 2)
    table["behaviour.probability_married"] = np.concatenate([
        by_age(ages_all, [(18, 0.0), (20, 0.10), (35, 0.70), (60, 0.75), (80, 0.55), (95, 0.20)]),
        by_age(ages_all, [(18, 0.0), (20, 0.15), (35, 0.70), (60, 0.60), (80, 0.30), (95, 0.05)])])
    table["behaviour.spouse_age_difference"] = np.repeat([-2.5, 2.5], ages_all.size)
    table["behaviour.orphans"] = np.tile(by_age(ages_all, [(18, 0.0), (25, 0.5), (35, 1.2), (45, 0.9), (55, 0.3),
                                                           (65, 0.0)]), 2)
    table["behaviour.orphan_age"] = np.tile(np.clip(ages_all - 28.0, 0.0, 17.0), 2)
    scheme_only = [c for c in table.columns if c.startswith("behaviour.")
                   and not FIELDS["behaviour"][c.split(".")[1]].population_ages]
    table.loc[table.index.get_level_values("age") < MIN_AGE, scheme_only] = np.nan
    table.to_csv(HERE / "by_sex_age.csv", float_format="%.10g")

    fertility = wpp["fertility"].sel(year=2019).reindex(age=ages_all, fill_value=0.0)
    pd.DataFrame({"age": ages_all, "demography.fertility": fertility.values}).to_csv(HERE / "by_age.csv", index=False,
                                                                                    float_format="%.10g")

    years = np.arange(T0, T0 + HORIZON)
    yearly = pd.DataFrame({"year": years})
    yearly["scheme.contribution_rate"] = np.select([years < 2025, years < 2030], [0.18, 0.20], 0.22)
    yearly["scheme.collection_rate"] = 0.96
    yearly["scheme.subsidy_share_of_benefits"] = 0.02
    yearly["scheme.subsidy_share_of_wages"] = 0.0
    yearly["scheme.refund_contribution_rate"] = 0.07   # the employee contribution, refunded with interest
    yearly["economy.inflation"] = np.where(years < 2023, 0.025, 0.02)
    yearly["economy.real_wage_growth"] = np.where(years < 2030, 0.012, 0.010)
    yearly["economy.nominal_return"] = np.where(years < 2030, 0.045, 0.040)
    yearly["economy.unemployment_rate"] = np.where(years < 2025, 0.065, 0.060)
    yearly["economy.productivity_growth"] = np.where(years < 2030, 0.012, 0.010)
    yearly["demography.sex_ratio_at_birth"] = float(wpp["sex_ratio_at_birth"].sel(year=2019))
    yearly.to_csv(HERE / "by_year.csv", index=False, float_format="%.10g")

    nra = {"male": np.select([years < 2030, years < 2036], [65, 66], 67),
           "female": np.select([years < 2026, years < 2030, years < 2036], [63, 64, 65], 67)}
    rows = [{"year": y, "sex": s, "scheme.normal_retirement_age": nra[s][i], "scheme.early_retirement_age": 60}
            for s in SEXES for i, y in enumerate(years)]
    pd.DataFrame(rows).to_csv(HERE / "by_year_sex.csv", index=False)

    service = np.arange(MAX_SERVICE + 1)
    accrual = np.interp(service, [0, 15, 50], [0.0, 0.20, 0.725])
    pd.DataFrame({"service": service, "scheme.accrual": accrual}).to_csv(HERE / "by_service.csv", index=False,
                                                                        float_format="%.10g")

    # initial insured: target insured at t0 with a binomial service distribution
    scheme_ages = np.arange(MIN_AGE, MAX_AGE + 1)
    rows = []
    for s_i, sex in enumerate(SEXES):
        for age in scheme_ages:
            row = table.loc[(sex, age)]
            insured = row["demography.population"] * row["behaviour.participation"] * (1 - 0.065) * row["behaviour.coverage"]
            inactive = 0.30 * insured if 25 <= age < 70 else 0.0
            career = max(age - 18, 0)
            for k, share_a, share_i in zip(service, binom.pmf(service, career, 0.80), binom.pmf(service, career, 0.35)):
                if insured * share_a > 1e-6 or inactive * share_i > 1e-6:
                    rows.append({"sex": sex, "age": age, "service": k, "initial.active": insured * share_a,
                                 "initial.inactive": inactive * share_i})
    pd.DataFrame(rows).to_csv(HERE / "insured.csv", index=False, float_format="%.8g")

    rows = []
    expenditure = 0.0
    for sex in SEXES:
        for age in range(60, MAX_AGE + 1):
            population_x = table.loc[(sex, age), "demography.population"]
            share = 0.62 if age >= 65 else 0.62 * (age - 59) / 6
            pension = AVERAGE_WAGE * 0.40 * (1.0 if sex == "male" else 0.82) * (1 - 0.006 * max(age - 65, 0))
            count = population_x * share
            expenditure += count * pension
            rows.append({"benefit": "old_age", "sex": sex, "age": age, "initial.pensioners": count,
                         "initial.average_pension": pension})
        for age in range(0, MAX_AGE + 1):
            population_x = table.loc[(sex, age), "demography.population"]
            other = [("orphan", 0.004 if age < 18 else 0.0, 0.08),
                     ("invalidity", 0.012 * (age - 25) / 40 if 25 <= age < 65 else 0.0, 0.30),
                     ("widow", (0.05 if sex == "female" else 0.015) * min(max(age - 35, 0) / 45, 1.0), 0.22)]
            for benefit, share, level in other:
                if share > 0:
                    count = population_x * share
                    pension = AVERAGE_WAGE * level
                    expenditure += count * pension
                    rows.append({"benefit": benefit, "sex": sex, "age": age, "initial.pensioners": count,
                                 "initial.average_pension": pension})
    pd.DataFrame(rows).to_csv(HERE / "pensioners.csv", index=False, float_format="%.8g")

    case = {
        "name": "demoland",
        "description": "Demoland: an illustrative national DB social insurance scheme on the real population of "
                       "Canada (WPP 2019). See PROVENANCE.md.",
        "settings": {"valuation_year": T0, "horizon": HORIZON, "min_age": MIN_AGE, "max_age": MAX_AGE,
                     "max_service": MAX_SERVICE, "max_retirement_age": 70, "new_entrant_method": "residual",
                     # no new entrants from the earliest retirement age (60) on: the residual method would refill
                     # the target insured population of ages 60-69 as actives retire, with entrants without service
                     "max_entry_age": 59, "migration_timing": "end", "gap_horizons": [10, 25, 50, 75]},
        "scheme": {"vesting_years": 15, "early_retirement_reduction": 0.06, "late_retirement_increment": 0.04,
                   "minimum_pension": round(0.25 * AVERAGE_WAGE, 2), "minimum_pension_indexation": "prices",
                   "maximum_pension": round(1.5 * AVERAGE_WAGE, 2), "maximum_pension_indexation": "wages",
                   "reference_earnings_years": 10, "revaluation": "wages",
                   "indexation_price_weight": 0.5, "indexation_wage_weight": 0.5, "indexation_floor": 0.0,
                   "indexation_lag": 1, "ceiling_multiple": 2.5, "floor_multiple": 0.3, "earnings_cv": 0.55,
                   "grant_type": "refund", "admin_share_of_benefits": 0.005, "admin_share_of_contributions": 0.02,
                   "invalidity_vesting_years": 5, "invalidity_future_service": 0.5, "invalidity_conversion": "convert",
                   "widow_share": 0.6, "orphan_share": 0.2, "survivor_share_cap": 1.0, "orphan_age_limit": 18,
                   "funeral_grant": round(0.1 * AVERAGE_WAGE, 2), "funeral_grant_indexation": "wages",
                   "past_service_credit": 1.0},
        "economy": {"gdp": 2.2e12, "average_wage": AVERAGE_WAGE},
        "demography": {},
        "behaviour": {},
        "initial": {"reserve": round(4.0 * expenditure, -6)},
    }
    (HERE / "valuation.json").write_text(json.dumps(case, indent=2) + "\n")


if __name__ == "__main__":
    main()
