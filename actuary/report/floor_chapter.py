"""The report's chapter "Social protection floor and the state's fiscal cost", and the report of a floor
costing alone (settings.scheme = no): executive summary, demographic and economic assumptions, the
demographic projection and the floor; no scheme chapters.

Every number comes from the results' floor variables (``floor_beneficiaries``, ``floor_cost``,
``floor_cost_pct_gdp``, ``floor_cost_pct_government_expenditure``, ``fiscal_cost``, ... and the
summary's present values and level costs), labelled and formatted by the one presentation table
(:mod:`actuary.io.presentation`), as in the results workbook's "Social protection floor" sheet.

>>> floor_chapter(valuation, results, chapter, figure)   # the hooks of actuary.report.build
"""

from __future__ import annotations


import matplotlib
import numpy as np

from ..io import presentation as pres
from . import figures

TITLE = "Social protection floor and the state's fiscal cost"
KIND_WORDS, TEST_WORDS, BASIS_WORDS = pres.FLOOR_KIND_WORDS, pres.FLOOR_TEST_WORDS, pres.FLOOR_BASIS_WORDS
# the scheme's borrowing after depletion beside the fiscal cost (settings.after_depletion borrow): the tables' columns,
# in money and in shares (each within the nine columns a table holds before it is split)
BORROWING = ("fiscal_cost", "scheme_borrowing", "scheme_debt_interest", "fiscal_cost_with_borrowing", "scheme_debt")
BORROWING_SHARES = ("fiscal_cost_pct_gdp", "scheme_borrowing_pct_gdp", "scheme_debt_interest_pct_gdp",
                    "fiscal_cost_with_borrowing_pct_gdp", "fiscal_cost_with_borrowing_pct_government_expenditure",
                    "fiscal_cost_with_borrowing_pct_government_revenue", "scheme_debt_pct_gdp")
YEARLY = {   # the chapter's yearly tables: caption ({shares}: the shares the table holds), variables (those a
    # projection has)
    "beneficiaries": ("Beneficiaries of the floor by benefit (persons, mean of the year)", ["floor_beneficiaries"]),
    "cost": ("Cost of the floor by benefit, administration included ({money})", ["floor_cost", "floor_cost_all"]),
    "shares": ("Cost of the floor as a share of {shares}",
               ["floor_cost_pct_gdp_by_benefit", "floor_cost_pct_gdp", "floor_cost_pct_government_expenditure",
                "floor_cost_pct_government_revenue"]),
    "fiscal": ("The state's fiscal cost ({money}; shares of {shares})",
               ["floor_cost_all", "state_subsidy", "minimum_pension_top_up_paid", "fiscal_cost", "fiscal_cost_pct_gdp",
                "fiscal_cost_pct_government_expenditure", "fiscal_cost_pct_government_revenue"]),
    "borrowing": ("The scheme's borrowing after depletion and the fiscal cost including it ({money})", list(BORROWING)),
    "borrowing_shares": ("Fiscal cost including the scheme's borrowing as a share of {shares}", list(BORROWING_SHARES)),
}
SHARE_OF = {"_pct_gdp": "GDP", "_pct_government_expenditure": "government expenditure",
            "_pct_government_revenue": "government revenue"}


def shares_held(p, names) -> str:
    """What the shares among ``names`` that the projection has are shares of, in words: "GDP", "GDP and of
    government expenditure", "GDP, of government expenditure and of government revenue" (a table's title says
    what it holds: without the inputs of government expenditure and revenue it has no such columns)."""
    held = [what for end, what in SHARE_OF.items() if any(n.endswith(end) or f"{end}_" in n for n in names if n in p)]
    if not held:
        return ""
    held = [held[0]] + [f"of {what}" for what in held[1:]]
    return held[0] if len(held) == 1 else ", ".join(held[:-1]) + " and " + held[-1]
ECONOMY_INPUTS = ("gdp", "average_wage", "poverty_line", "government_expenditure_pct_gdp", "government_revenue_pct_gdp")


def _pct(value) -> str:
    """A value of a ``_pct_`` variable (percent in the data) as the report shows it."""
    return f"{float(value):.2f}%"


def _has_scheme(p) -> bool:
    return "contribution_rate" in p


def borrows(p) -> bool:
    """Whether the scheme borrows within the projection: its reserve is exhausted under settings.after_depletion
    borrow (the projection then has ``fiscal_cost_with_borrowing``) and some year's borrowing is positive."""
    return "fiscal_cost_with_borrowing" in p and bool((p.scheme_borrowing.values > 0).any())


def floor_headline(results) -> dict[str, str]:
    """The floor's headline numbers as the report shows them (keys stable: marked ``data-headline``):
    cost and fiscal cost as % of GDP (and of government expenditure) in the first and last years, and
    the level cost (% of GDP) of the floor and of the fiscal cost over each horizon."""
    p, s = results.projection, results.summary
    out = {}
    for name in ("floor_cost_pct_gdp", "fiscal_cost_pct_gdp", "floor_cost_pct_government_expenditure",
                 "fiscal_cost_pct_government_expenditure"):
        if name in p:
            out[f"{name}_first"], out[f"{name}_last"] = _pct(p[name].values[0]), _pct(p[name].values[-1])
    if borrows(p):
        for name in ("scheme_borrowing_pct_gdp", "scheme_debt_interest_pct_gdp", "fiscal_cost_with_borrowing_pct_gdp",
                     "scheme_debt_pct_gdp"):
            out[f"{name}_last"] = _pct(p[name].values[-1])
    for name, key in (("floor_cost_level_pct_gdp", "floor_level"), ("fiscal_cost_level_pct_gdp", "fiscal_level"),
                      ("scheme_borrowing_level_pct_gdp", "borrowing_level"),
                      ("fiscal_cost_with_borrowing_level_pct_gdp", "with_borrowing_level")):
        if name in s and (key in ("floor_level", "fiscal_level") or borrows(p)):
            for h, value in zip(s.horizon.values, s[name].values):
                out[f"{key}_{int(h)}"] = _pct(value)
    return out


def floor_findings(results) -> list[str]:
    """Key findings on the floor in sentences (HTML-free)."""
    p, s = results.projection, results.summary
    h = floor_headline(results)
    t0, last = int(p.year.values[0]), int(p.year.values[-1])
    full = int(s.horizon.values[-1])
    names = [str(b) for b in p.floor_benefit.values]
    out = [f"The social protection floor ({len(names)} benefit{'s' if len(names) > 1 else ''}: {', '.join(names)}) "
           f"costs {h['floor_cost_pct_gdp_first']} of GDP in {t0} and {h['floor_cost_pct_gdp_last']} in {last}, "
           "administration included."]
    if "floor_cost_pct_government_expenditure_first" in h:
        out.append(f"That is {h['floor_cost_pct_government_expenditure_first']} of government expenditure in {t0} "
                   f"and {h['floor_cost_pct_government_expenditure_last']} in {last}.")
    by = p.floor_cost_pct_gdp_by_benefit.values
    first, final = names[int(np.argmax(by[0]))], names[int(np.argmax(by[-1]))]
    out.append(f"The costliest benefit is {first} in {t0} ({_pct(by[0].max())} of GDP)" +
               (f" and still in {last} ({_pct(by[-1].max())})." if final == first else
                f"; in {last} it is {final} ({_pct(by[-1].max())})."))
    out.append(f"The level cost of the floor, the constant share of GDP with the same present value over the next "
               f"{full} years, is {h[f'floor_level_{full}']}.")
    if _has_scheme(p):
        out.append(f"The state's fiscal cost ({p.fiscal_cost.attrs.get('description', 'floor and scheme')}) is "
                   f"{h['fiscal_cost_pct_gdp_first']} of GDP in {t0} and {h['fiscal_cost_pct_gdp_last']} in {last}; "
                   f"its level cost over {full} years is {h[f'fiscal_level_{full}']} of GDP. It leaves out the "
                   "scheme's own deficit once its reserve is exhausted.")
        out += borrowing_findings(results)
    return out


def borrowing_findings(results) -> list[str]:
    """What the state stands behind once the scheme's reserve is exhausted, in sentences: the borrowing beside the
    fiscal cost (settings.after_depletion borrow) or the benefits cut (payable); none when it is never exhausted."""
    p, s = results.projection, results.summary
    if "scheme_borrowing" not in p:
        return []
    h = floor_headline(results)
    last, full = int(p.year.values[-1]), int(s.horizon.values[-1])
    if borrows(p):
        first = int(p.year.values[int(np.argmax(p.scheme_debt.values > 0))])
        return [f"The reserve is exhausted in {first} and the scheme then borrows to pay benefits in full: in {last} "
                f"its deficit financed by borrowing, the interest on its debt included, is "
                f"{h['scheme_borrowing_pct_gdp_last']} of GDP (of which interest "
                f"{h['scheme_debt_interest_pct_gdp_last']}) and its debt {h['scheme_debt_pct_gdp_last']} of GDP. "
                f"The state stands behind that borrowing. The fiscal cost including the scheme's borrowing adds to "
                f"the fiscal cost only the scheme's own deficit of the year, not the whole borrowing (without the "
                f"interest on the debt carried in, as were each deficit covered as it arises): it is "
                f"{h['fiscal_cost_with_borrowing_pct_gdp_last']} of GDP in {last}, and its level cost over {full} "
                f"years is {h[f'with_borrowing_level_{full}']} of GDP (the deficits financed by borrowing, valued "
                f"once without the interest on the debt: {h[f'borrowing_level_{full}']})."]
    short = p.payable_share.values < 1 if "payable_share" in p else np.zeros(p.sizes["year"], bool)
    if short.any() and "fiscal_cost_with_borrowing" not in p:   # settings.after_depletion payable
        first = int(p.year.values[int(np.argmax(short))])
        return [f"The reserve is exhausted in {first}; the scheme does not borrow: benefits are then cut to what its "
                f"income can pay (at least {100 * float(np.min(p.payable_share.values)):.0f}% of the benefits due), "
                "a cost that falls on the pensioners, not on the state."]
    return []


def benefits_table(valuation):
    """The floor's benefits as costed: who is eligible, the amount, take-up, test and administration
    (:func:`actuary.io.presentation.floor_benefits_in_words`, as the results workbook's Floor benefits sheet)."""
    from . import Table

    rows = [[b["identifier"], b["kind"], b["who"], b["share"], b["amount"], b["take_up"], b["test"],
             f"{100 * b['admin_share']:.1f}% of benefits"] for b in pres.floor_benefits_in_words(valuation.inputs)]
    return Table("Benefits of the floor", ["Benefit", "Risk", "Eligible", "Share eligible", "Amount",
                                           "Take-up", "Test", "Administration"], rows, wrap=True)


def cost_by_benefit(p) -> str:
    """Stacked areas of the floor's cost by benefit (% of GDP), with the fiscal cost as a line when the
    state also finances the scheme."""
    key = "floor"
    years = p.year.values
    by = p.floor_cost_pct_gdp_by_benefit
    with matplotlib.rc_context(figures.STYLE):
        fig, ax = figures._new(key)
        ax.stackplot(years, *(by.sel(floor_benefit=b).values / 100 for b in by.floor_benefit.values),
                     labels=[str(b) for b in by.floor_benefit.values], colors=figures.COLORS, alpha=0.85)
        if _has_scheme(p):
            ax.plot(years, p.fiscal_cost_pct_gdp.values / 100, color="#111111", linewidth=1.6,
                    label="Fiscal cost: floor, state subsidy and top-up")
        ax.set_xlabel("Year")
        ax.set_ylabel("% of GDP")
        figures._percent(ax, 1)
        ax.set_ylim(0, ax.get_ylim()[1])
        figures.legend_above(fig, ax)   # above the areas, never cut at the figure's edge
        return figures._svg(fig, key)


def fiscal_cost_and_borrowing(p) -> str:
    """Stacked areas of the fiscal cost and the scheme's own deficit financed by borrowing (% of GDP), their sum the
    fiscal cost including the scheme's borrowing; a dashed line adds the yearly scheme borrowing instead (interest on
    the debt carried in included, which can dwarf the floor: a figure of its own; in a year of negative return the
    debt shrinks by itself and the line may fall below the total)."""
    key = "fiscal-borrowing"
    years = p.year.values
    with matplotlib.rc_context(figures.STYLE):
        fig, ax = figures._new(key)
        fiscal, total = p.fiscal_cost_pct_gdp.values / 100, p.fiscal_cost_with_borrowing_pct_gdp.values / 100
        ax.stackplot(years, fiscal, total - fiscal,
                     labels=["Fiscal cost: floor, state subsidy" + (" and top-up" if "minimum_pension_top_up" in p
                                                                      else ""),
                             "Scheme's own deficit after depletion"],
                     colors=figures.COLORS[:2], alpha=0.85)
        ax.plot(years, total, color="#111111", linewidth=1.6, label="Fiscal cost including the scheme's borrowing")
        ax.plot(years, fiscal + p.scheme_borrowing_pct_gdp.values / 100, color="#111111", linewidth=1.0,
                linestyle="--", label="Fiscal cost + scheme borrowing, interest on its debt included")
        ax.set_xlabel("Year")
        ax.set_ylabel("% of GDP")
        figures._percent(ax)
        ax.set_ylim(0, ax.get_ylim()[1])
        figures.legend_above(fig, ax, columns=2)
        return figures._svg(fig, key)


def floor_chapter(valuation, results, chapter, figure, sensitivity=None, stochastic=None, writer=None) -> None:
    """Add the chapter on the floor and the state's fiscal cost (``chapter``, ``figure``: the report's
    constructors); with sensitivity or stochastic results that carry the floor, its rows and fan charts. ``writer``
    (a floor costing alone, which has no chapter of scheme provisions): the actuary's summary of the legal
    provisions and their changes first."""
    from . import Table, _every, yearly_table

    p, s = results.projection, results.summary
    unit = valuation.inputs.settings["money_unit"]
    money = pres.MONEY_WORDS[unit]
    t0 = int(p.year.values[0])
    scheme = _has_scheme(p)
    c = chapter("floor", TITLE)
    if writer is not None:
        writer.place(c, "provisions_summary")
        writer.place(c, "provision_changes")
        c.heading("The floor as costed")
    c.text("The non-contributory benefits of the social protection floor (ILO Recommendation No. 202), costed as "
           "the ILO's Rapid Assessment Protocol does: the persons eligible, times the benefit, times take-up, plus "
           "administration, on the same projection of the population and the economy"
           + (" and of the scheme's pensioners (for pension-tested and top-up benefits)." if scheme else ".")
           + f" Money amounts in {pres.money_phrase(unit)}, nominal.")
    if scheme:
        for sentence in pres.fiscal_cost_notes(p, valuation.inputs):
            c.text(sentence)
    else:
        c.text("Without a contributory scheme the state's fiscal cost is the cost of the floor.")
    c.table(benefits_table(valuation))
    inputs = {pres.field_label(k) for k in ECONOMY_INPUTS if valuation.inputs.economy.get(k) is not None}
    c.table(Table("Economic inputs of the costing", ["Input", "Value", "Notes"],
                  [[label, text, note] for _, label, text, note in pres.provisions(valuation.inputs, ("economy",))
                   if label in inputs], wrap=True))
    for key, (caption, names) in YEARLY.items():
        if key.startswith("borrowing") and not borrows(p):   # no borrowing: the scheme never depletes, or cuts benefits
            continue
        c.table(yearly_table(p, names, unit, caption.format(money=money, shares=shares_held(p, names))))
    c.figure(figure("floor", "Cost of the floor by benefit (% of GDP)" + (" and the state's fiscal cost" if scheme
                                                                           else ""), cost_by_benefit(p)))
    if borrows(p):
        c.figure(figure("fiscal-borrowing", "The state's fiscal cost and the scheme's borrowing after depletion (% of "
                                            "GDP)", fiscal_cost_and_borrowing(p)))
    c.table(Table(f"Present values at 1 January {t0} and level costs (the constant share of GDP with the same "
                  "present value)", ["Item", "Value"],
                  [[label, pres.display(value, fmt)] for _, label, value, fmt in pres.summary_items(s, pres.FLOOR, unit)],
                  wrap=True))
    if sensitivity is not None and "floor_cost_pct_gdp" in sensitivity:
        sensitivity_blocks(c, figure, sensitivity, scheme)
    if stochastic is not None and "floor_cost_pct_gdp" in stochastic:
        stochastic_blocks(c, figure, stochastic, scheme)


def stochastic_blocks(c, figure, stochastic, scheme: bool) -> None:
    """Fan charts and percentiles of the floor's cost (with a scheme, also of the fiscal cost) as % of GDP."""
    from . import Table, _every

    names = ("floor_cost_pct_gdp", "fiscal_cost_pct_gdp") if scheme else ("floor_cost_pct_gdp",)
    c.text(f"{stochastic.attrs['paths']:,} stochastic paths (seed {stochastic.attrs['seed']}) of the economy, mortality "
           "improvement and fertility; the bands hold the middle 50% and 90% of paths.")
    for name in names:
        c.figure(figure(f"fan-{name}", f"{pres.VARIABLES[name].label} (% of GDP): median and percentile bands",
                        figures.fan(stochastic[[name]] / 100, name, "% of GDP", percent=True)))
    rows = [[str(int(stochastic.year.values[i]))] + [_pct(stochastic[name].sel(percentile=k).values[i])
                                                     for name in names for k in (5, 50, 95)]
            for i in _every(stochastic, 10)]
    c.table(Table("Cost of the floor" + (" and fiscal cost" if scheme else "") + " (% of GDP): percentiles across paths",
                  ["Year"] + [f"{pres.VARIABLES[name].label} {q}" for name in names for q in ("P5", "median", "P95")],
                  rows))


def sensitivity_blocks(c, figure, sensitivity, scheme: bool) -> None:
    """The floor's level cost over the full horizon and its cost (with a scheme, also the fiscal cost) as %
    of GDP in 25 and 50 years when each assumption moves down or up; for a floor costing alone, whose
    sensitivities are ranked by the level cost, also the tornado."""
    from ..batch import tornado
    from . import Table

    rows = tornado(sensitivity)
    t0, n = int(sensitivity.year.values[0]), sensitivity.sizes["year"]
    if not scheme:
        c.figure(figure("tornado", f"Change in the level cost of the floor over {n} years when each assumption moves "
                                   "down or up", figures.tornado(rows, "the level cost of the floor (percentage "
                                                                       "points of GDP)")))
    ahead = [k for k in (25, 50) if k <= n]
    names = ("floor_cost_pct_gdp", "fiscal_cost_pct_gdp") if scheme else ("floor_cost_pct_gdp",)
    headers = ["Assumption"] + [f"Level cost of the floor over {n} years, {side} (% of GDP)"
                                for side in ("down", "base", "up")]
    headers += [f"{pres.VARIABLES[name].label} in {t0 + k - 1}, {side} (% of GDP)" for name in names for k in ahead
                for side in ("down", "up")]
    table = [[pres.upper_first(row["assumption"])] + [_pct(row[f"floor_cost_level_pct_gdp_{side}"])
                                                 for side in ("down", "base", "up")]
             + [_pct(row[f"{name}_{k}_{side}"]) for name in names for k in ahead for side in ("down", "up")]
             for row in rows]
    c.table(Table("Cost of the floor when each assumption moves down or up", headers, table))


def floor_only_chapters(valuation, results, chapter, figure, writer, sensitivity=None, stochastic=None) -> None:
    """The chapters of a floor costing alone, before the closing ones (methodology, provenance); the
    sensitivity and stochastic results, when given, in the floor's chapter; the actuary's text (``writer``) in its
    places: the data's sources and checks with the assumptions (there is no chapter of scheme data), the legal
    provisions in the floor's chapter."""
    from . import behaviour_table, demographic_and_economic, demography_chapter, introduction

    p, s = results.projection, results.summary
    unit = valuation.inputs.settings["money_unit"]
    t0, last = int(p.year.values[0]), int(p.year.values[-1])
    numbers = floor_headline(results)
    c = chapter("summary", "Executive summary")
    said = floor_findings(results)
    if sensitivity is not None:
        from ..batch import tornado

        top = tornado(sensitivity)[0]
        said.append(f"Of the assumptions tested, {top['assumption']} moves the level cost of the floor most: from "
                    f"{_pct(top['floor_cost_level_pct_gdp_down'])} to {_pct(top['floor_cost_level_pct_gdp_up'])} "
                    "of GDP.")
    if stochastic is not None:
        year = min(t0 + 49, last)
        q = stochastic.floor_cost_pct_gdp.sel(year=year)
        said.append(f"In {stochastic.attrs['paths']:,} stochastic projections, the cost of the floor in {year} lies "
                    f"between {_pct(q.sel(percentile=5))} and {_pct(q.sel(percentile=95))} of GDP in 90% of paths "
                    f"(median {_pct(q.sel(percentile=50))}).")
    c.blocks.append(("findings", said))
    key_figures = [(f"Cost of the floor in {t0} (% of GDP)", "floor_cost_pct_gdp_first"),
                   (f"Cost of the floor in {last} (% of GDP)", "floor_cost_pct_gdp_last")]
    if "floor_cost_pct_government_expenditure_first" in numbers:
        key_figures += [(f"Cost of the floor in {t0} (% of government expenditure)",
                         "floor_cost_pct_government_expenditure_first"),
                        (f"Cost of the floor in {last} (% of government expenditure)",
                         "floor_cost_pct_government_expenditure_last")]
    key_figures += [(f"Level cost of the floor over {int(h)} years (% of GDP)", f"floor_level_{int(h)}")
                    for h in s.horizon.values]
    c.blocks.append(("keyfigures", [(label, numbers[key], key) for label, key in key_figures]))
    c.text("A costing of the social protection floor alone: there is no contributory scheme in this case, so the "
           "state's fiscal cost is the cost of the floor. Percentages are of GDP unless stated otherwise; money "
           f"amounts are in {pres.money_phrase(unit)}.")
    introduction(chapter, writer)

    c = chapter("assumptions", "Assumptions")
    c.text("Demographic assumptions (fertility, mortality and its improvement, migration) project the population "
           "eligible for each benefit; economic assumptions (inflation, wages, productivity, labour force "
           "participation, unemployment) project GDP and the benefit amounts; the nominal return discounts the "
           "present values. Every year-dependent input is listed year by year in the input workbook.")
    writer.place(c, "data_sources")
    writer.place(c, "data_checks")
    demographic_and_economic(c, figure, valuation, p, writer)
    writer.place(c, "behavioural_assumptions")   # not asked of a floor costing: shown when written
    if valuation.inputs.behaviour.get("participation") is not None:
        c.table(behaviour_table(valuation))
    demography_chapter(chapter, figure, p, unit)
    floor_chapter(valuation, results, chapter, figure, sensitivity, stochastic, writer)
