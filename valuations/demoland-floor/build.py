"""Build Demoland's social protection floor cases beside this script, from the Demoland valuation
workbook (valuations/demoland/valuation.xlsx), which they do not change:

- ``valuation.xlsx``: Demoland's scheme with a floor beside it (a pension-tested social pension and a
  pension-tested disability benefit that see the scheme's own pensioners, a targeted child benefit
  phased in over five years, a maternity benefit), a national poverty line and government
  expenditure and revenue for the fiscal ratios;
- ``floor-only.xlsx``: the same floor costed alone, ILO RAP style (settings.scheme = no: population,
  economy, labour force participation and the floor only; every benefit universal, since there is no
  scheme to test against). ``actuary template --floor-only`` writes this case.

Every number below is illustrative (see PROVENANCE.md). Rerun after changing one:

    python valuations/demoland-floor/build.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from actuary import load_workbook
from actuary.floor import floor_benefits, floor_only

HERE = Path(__file__).resolve().parent
DEMOLAND = HERE.parent / "demoland" / "valuation.xlsx"
POVERTY_LINE = 12_000.0          # currency a year per person at 1 January 2020, moving with prices
GOVERNMENT_EXPENDITURE = 40.0    # percent of GDP
GOVERNMENT_REVENUE = 37.0

BENEFITS = [
    {"benefit": "social_pension", "kind": "old_age", "sex": "both", "min_age": 65, "amount": 1.0,
     "basis": "poverty_line", "take_up": 0.9, "test": "pension_tested", "admin_share": 0.03},
    {"benefit": "disability_benefit", "kind": "disability", "sex": "both", "min_age": 18, "max_age": 64,
     "amount": 0.8, "basis": "poverty_line", "take_up": 0.7, "test": "pension_tested", "admin_share": 0.05},
    {"benefit": "child_benefit", "kind": "child", "sex": "both", "min_age": 0, "max_age": 14, "amount": 1_200.0,
     "basis": "currency", "indexation": "prices", "test": "universal", "admin_share": 0.03},
    {"benefit": "maternity_benefit", "kind": "maternity", "sex": "female", "min_age": 15, "max_age": 49,
     "amount": 0.1, "basis": "average_wage", "take_up": 0.9, "test": "universal", "admin_share": 0.02},
]


def floor_inputs(years: np.ndarray, ages: np.ndarray) -> dict:
    floor = floor_benefits(BENEFITS)
    # the child benefit reaches 30% of eligible children in 2020 and 80% from 2025 on
    phase_in = np.clip(0.3 + 0.1 * (years - years[0]), 0.0, 0.8)
    floor["take_up"] = xr.DataArray(np.array([[0.9, 0.7, p, 0.9] for p in phase_in]), dims=("year", "floor_benefit"),
                                    coords={"year": years, "floor_benefit": [b["benefit"] for b in BENEFITS]})
    # targeting: the child benefit for the poorest 40% of children; disability prevalence 1% at 18 to 6% at 64
    eligibility = xr.DataArray(np.ones((len(BENEFITS), 2, ages.size)), dims=("floor_benefit", "sex", "age"),
                               coords={"floor_benefit": [b["benefit"] for b in BENEFITS], "sex": ["male", "female"],
                                       "age": ages})
    eligibility.loc[dict(floor_benefit="child_benefit", age=slice(0, 14))] = 0.4
    working = np.arange(18, 65)
    eligibility.loc[dict(floor_benefit="disability_benefit", age=working)] = np.round(
        0.01 + 0.05 * (working - 18) / (64 - 18), 4)
    floor["eligibility"] = eligibility
    return floor


def main():
    demoland = load_workbook(DEMOLAND)
    years = demoland.inputs.coords["year"]
    prices = np.cumprod(np.r_[1.0, 1 + demoland.inputs.economy["inflation"].values[1:]])
    series = {"poverty_line": xr.DataArray(np.round(POVERTY_LINE * prices, 2), dims="year", coords={"year": years}),
              "government_expenditure_pct_gdp": GOVERNMENT_EXPENDITURE,
              "government_revenue_pct_gdp": GOVERNMENT_REVENUE}
    case = demoland.replace(economy=series, floor=floor_inputs(years, demoland.inputs.coords["population_age"]))
    case.name = "demoland-floor"
    case.to_workbook(HERE / "valuation.xlsx")
    alone = floor_only(case, name="demoland-floor-only")
    alone.to_workbook(HERE / "floor-only.xlsx")
    print(f"wrote {HERE / 'valuation.xlsx'} and {HERE / 'floor-only.xlsx'}")


if __name__ == "__main__":
    main()
