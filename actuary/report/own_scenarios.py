"""The user's own scenarios in the report: those of the workbook's Scenarios sheet, run with the sensitivity tests
(``actuary report --with-sensitivity``; :func:`actuary.batch.sensitivity` with ``extra``). Each is said in words (what
it changes of the base valuation, :func:`actuary.batch._describe`) with the key measures the sensitivity chapter
shows of the standard scenarios and their differences from the base, and the paths of the reserve ratio (a floor
costing alone: of the floor's cost) beside the base's."""

from __future__ import annotations

import math

from ..io import presentation as pres
from . import figures

MOST_IN_A_FIGURE = 5   # scenarios drawn beside the base (six lines, each in its own colour and line style)


def _years_ahead(ds) -> list[int]:
    """The years shown of the yearly measures: +25 and +50 years from the valuation year, those within the
    projection (as in the tornado)."""
    t0 = int(ds.year.values[0])
    return [t0 + n - 1 for n in (25, 50) if n <= ds.sizes["year"]]


def measures(ds) -> list[tuple[str, callable, str]]:
    """(header, value of a scenario's results, kind) of each key measure the run has: for a scheme, the general
    average premium over each horizon, the depletion year, the actuarial balance and the reserve ratio 25 and 50
    years ahead; with a floor, its level cost over the full horizon (a floor costing alone: also its cost as % of
    GDP 25 and 50 years ahead). ``kind``: rate (a fraction), percent (percent in the data), year or ratio."""
    out = []
    if "gap" in ds:
        out += [(f"General average premium over {int(h)} years (statutory)",
                 lambda s, k=k: float(s.gap.isel(horizon=k)), "rate") for k, h in enumerate(ds.horizon.values)]
    if "depletion_year" in ds:
        out.append(("Depletion year", lambda s: float(s.depletion_year), "year"))
    if "actuarial_balance" in ds:
        out.append(("Actuarial balance (gross)", lambda s: float(s.actuarial_balance), "rate"))
    if "reserve_ratio" in ds:
        out += [(f"Reserve ratio in {year} (years of expenditure)",
                 lambda s, year=year: float(s.reserve_ratio.sel(year=year)), "ratio") for year in _years_ahead(ds)]
    if "floor_cost_level_pct_gdp" in ds:
        out.append((f"Level cost of the floor over {int(ds.horizon.values[-1])} years (% of GDP)",
                    lambda s: float(s.floor_cost_level_pct_gdp.isel(horizon=-1)), "percent"))
        if "gap" not in ds:
            out += [(f"Cost of the floor in {year} (% of GDP)",
                     lambda s, year=year: float(s.floor_cost_pct_gdp.sel(year=year)), "percent")
                    for year in _years_ahead(ds)]
    return out


def shown(value: float, kind: str) -> str:
    """A measure as the table shows it: 15.20% (a rate), 2061 or none (a depletion year), 3.45 (a ratio)."""
    if kind == "year":
        return pres.show(value, "year")
    if not math.isfinite(value):
        return ""
    return {"rate": f"{100 * value:.2f}%", "percent": f"{value:.2f}%"}.get(kind, f"{value:.2f}")


def difference(value: float, base: float, kind: str) -> str:
    """A measure's difference from the base: +1.05 (percentage points of a rate), +3 (years: a depletion year,
    "" when either is never depleted), +0.25 (a ratio)."""
    if not (math.isfinite(value) and math.isfinite(base)):
        return ""
    if kind == "year":
        return f"{int(value) - int(base):+d}"
    return f"{(100 if kind == 'rate' else 1) * (value - base):+.2f}"


def _note(kinds: set[str]) -> str:
    """The note under the table of measures: the units of the differences it shows."""
    units = [words for kind, words in (("rate", "percentage points for rates"),
                                       ("percent", "percentage points of GDP for costs"),
                                       ("year", "years for the depletion year"),
                                       ("ratio", "years of expenditure for the reserve ratio")) if kind in kinds]
    said = ", ".join(units[:-1]) + " and " + units[-1] if len(units) > 1 else "".join(units)
    return f"In brackets: the difference from the base, in {said}."


def own_scenarios_blocks(c, figure, ds) -> None:
    """Add the user's scenarios of the sensitivity run ``ds`` to chapter ``c`` (``figure``: the report's figure
    constructor): what each changes, its key measures and their differences from the base, the scenarios that
    failed with their errors, and the paths beside the base's. Nothing when the run has none."""
    from ..batch import own_scenarios
    from . import Table

    names = own_scenarios(ds)
    if not names:
        return
    several = len(names) > 1
    c.heading("The scenarios of the workbook's Scenarios sheet")
    which = f"The {len(names)} scenarios of the workbook's Scenarios sheet, each" if several else \
        "The scenario of the workbook's Scenarios sheet,"
    c.text(f"{which} the base valuation with the changes the sheet gives and every other input as in the base.")
    moves = {str(n): str(m) for n, m in zip(ds.scenario.values, ds.move.values)} if "move" in ds else {}
    c.table(Table("What each scenario of the Scenarios sheet changes", ["Scenario", "Changes to the base valuation"],
                  [[name, moves.get(name, "") or "nothing"] for name in names], wrap=True))
    chosen = measures(ds)
    base = ds.sel(scenario="base")
    bases = [value(base) for _, value, _ in chosen]
    rows = [["Base"] + [shown(b, kind) for b, (_, _, kind) in zip(bases, chosen)]]
    failed = []
    for name in names:
        s = ds.sel(scenario=name)
        status = str(s.status.values)
        if status != "ok":
            failed.append((name, status))
            rows.append([name] + ["not run"] * len(chosen))
            continue
        row = [name]
        for b, (_, value, kind) in zip(bases, chosen):
            v = value(s)
            change = difference(v, b, kind)
            row.append(shown(v, kind) + (f" ({change})" if change else ""))
        rows.append(row)
    c.table(Table("Key measures of the scenarios of the Scenarios sheet and their differences from the base",
                  ["Scenario"] + [header for header, _, _ in chosen], rows,
                  note=_note({kind for _, _, kind in chosen})))
    for name, error in failed:   # the error without the scenario's name it begins with
        c.text(f"Scenario '{name}' was not run: {error.removeprefix(f'scenario {name!r}: ')}")
    drawn = [n for n in names if n not in dict(failed)][:MOST_IN_A_FIGURE]
    if not drawn:
        return
    more = len(names) - len(dict(failed))
    also = f" (the first {len(drawn)} of {more})" if more > len(drawn) else ""
    if "reserve_ratio" in ds:
        series = {"Base": ds.reserve_ratio.sel(scenario="base").values}
        series.update({figures.legend_label(n): ds.reserve_ratio.sel(scenario=n).values for n in drawn})
        svg = figures._lines("own-scenarios", ds.year.values, series, "Years of expenditure", reference=1.0)
        c.figure(figure("own-scenarios", f"Reserve ratio in the base and the scenarios of the Scenarios sheet{also}",
                        svg))
    elif "floor_cost_pct_gdp" in ds:
        series = {"Base": ds.floor_cost_pct_gdp.sel(scenario="base").values / 100}
        series.update({figures.legend_label(n): ds.floor_cost_pct_gdp.sel(scenario=n).values / 100 for n in drawn})
        svg = figures._lines("own-scenarios", ds.year.values, series, "% of GDP", percent=True)
        c.figure(figure("own-scenarios", f"Cost of the floor (% of GDP) in the base and the scenarios of the "
                                         f"Scenarios sheet{also}", svg))

