"""Analysis of change: effects add up exactly to the total change, a change in one group shows up in its step
alone, swapping the cases negates the total, Shapley effects (all orders) add up to the total and equal the
mean of the sequential effects over every order, shapes that differ are handled or refused with a message,
the command line writes the reconciliation workbook (with its waterfall charts) and netCDF."""

import itertools
import zipfile

import numpy as np
import openpyxl
import pytest
import xarray as xr
from click.testing import CliRunner

from actuary import InputError, Valuation, analysis_of_change, load_workbook
from actuary.change import DEFAULT_STEPS, _Cases, read_steps, resolve_steps
from actuary.inputs import FIELDS
from actuary.cli import main
from actuary.io.change import stacked_parts, waterfall_bars
from actuary.io.provenance import read_about_sheet

from .schemes import random_scheme
from .xlsx_edit import add_sheet


def measures(ds):
    return [n for n in ds.data_vars if f"effect_{n}" in ds]


def assert_effects_add_up(ds, prefix="effect_"):
    """Sum of the effects of the steps = measure of the last step - measure of the first, to 1e-12 of the
    measure's magnitude."""
    for name in measures(ds):
        values = ds[name].values
        total = values[-1] - values[0]
        effects = ds[prefix + name].values[1:].sum(axis=0)
        scale = np.maximum(np.abs(values).max(axis=0), 1e-300)
        np.testing.assert_array_less(np.abs(effects - total), 1e-12 * scale + 1e-300, err_msg=f"{prefix}{name}")


def modified(valuation, years=0):
    """A later valuation: ``valuation`` rolled forward ``years`` with several inputs changed in every group."""
    current = valuation.roll_forward(years) if years else valuation
    i = current.inputs
    changed = current.replace(
        initial={"reserve": i.initial["reserve"] * 0.9, "active": i.initial["active"] * 1.02,
                 "pensioners": i.initial["pensioners"] * 1.01},
        demography={"fertility": i.demography["fertility"] * 0.95, "mortality": i.demography["mortality"] * 0.97,
                    "net_migration": i.demography["net_migration"] * 1.2},
        economy={"nominal_return": i.economy["nominal_return"] + 0.005, "inflation": i.economy["inflation"] + 0.002,
                 "real_wage_growth": i.economy["real_wage_growth"] - 0.001},
        behaviour={"exit_rate": i.behaviour["exit_rate"] * 1.1, "coverage": i.behaviour["coverage"] * 0.98,
                   "retirement_rate": i.behaviour["retirement_rate"] * 0.9},
        scheme={"contribution_rate": i.scheme["contribution_rate"] + 0.01, "vesting_years": 12.0,
                "widow_share": 0.55},
        settings={"gap_horizons": tuple(h for h in (4, 10, 20, 50) if h <= i.settings["horizon"]),
                  "scaled_premium_period": 15, "actuarial_balance_period": 60})
    changed.name = f"{valuation.name} modified"
    return changed


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def demo_later(demo):
    return modified(demo, years=3)


@pytest.fixture(scope="module")
def demo_change(demo, demo_later):
    return analysis_of_change(demo, demo_later)


def test_demoland_effects_add_up_to_the_total_change(demo, demo_later, demo_change):
    ds = demo_change
    assert list(ds.step.values) == ["previous"] + [name for name, _ in DEFAULT_STEPS]
    assert_effects_add_up(ds)
    # the first step is the previous valuation, the last the current one (their own results)
    for case, step in ((demo, "previous"), (demo_later, "methods")):
        summary = case.run().summary
        at = ds.sel(step=step)
        common = [h for h in ds.horizon.values if h in summary.horizon.values]
        assert len(common) >= 3
        np.testing.assert_array_equal(at.gap.sel(horizon=common).values, summary.gap.sel(horizon=common).values)
        for name in ("actuarial_balance", "depletion_year", "balance", "funded_ratio", "total_liabilities"):
            assert float(at[name]) == float(summary[name]), name
        assert float(at.scaled_premium) == float(summary.scaled_premium[0])
    # every step moved the measures (several inputs changed in each group)
    for step in ds.step.values[1:]:
        assert float(ds.effect_actuarial_balance.sel(step=step)) != 0.0, step
    assert ds.attrs["cases_valued"] == 8


def test_the_valuation_period_step_is_the_previous_case_rolled_forward(demo, demo_change):
    rolled = demo.roll_forward(3).run().summary
    at = demo_change.sel(step="valuation period")
    assert float(at.actuarial_balance) == float(rolled.actuarial_balance)
    assert float(at.balance) == float(rolled.balance)


@pytest.fixture(scope="module")
def small_case():
    return Valuation(**random_scheme(11, horizon=12))


CHANGES = {   # one group changed at a time (same valuation year), and the step that must carry it
    "data": lambda i: {"initial": {"reserve": i.initial["reserve"] * 1.5, "active": i.initial["active"] * 0.8}},
    "demographic": lambda i: {"demography": {"fertility": i.demography["fertility"] * 1.3,
                                             "mortality": i.demography["mortality"] * 0.9}},
    "economic": lambda i: {"economy": {"nominal_return": i.economy["nominal_return"] + 0.01,
                                       "inflation": i.economy["inflation"] + 0.01}},
    "behavioural": lambda i: {"behaviour": {"exit_rate": i.behaviour["exit_rate"] * 1.5,
                                            "coverage": i.behaviour["coverage"] * 0.9}},
    "provisions": lambda i: {"scheme": {"contribution_rate": i.scheme["contribution_rate"] * 1.2,
                                        "widow_share": 0.9}},
    "methods": lambda i: {"settings": {"gap_terminal_reserve": 1.0, "scaled_premium_period": 4}},
}


@pytest.mark.parametrize("step", list(CHANGES))
def test_a_change_in_one_group_shows_up_in_its_step_alone(small_case, step):
    current = small_case.replace(**CHANGES[step](small_case.inputs))
    ds = analysis_of_change(small_case, current)
    assert_effects_add_up(ds)
    moved = False
    for name in measures(ds):
        effects = ds[f"effect_{name}"]
        others = effects.sel(step=[s for s in ds.step.values[1:] if s != step])
        assert np.all(others.values == 0.0), (name, others.values)
        moved |= bool(np.any(effects.sel(step=step).values != 0))
    assert moved


def test_reform_provisions_by_year_and_cohort_show_up_in_the_provisions_step_alone(small_case):
    """Provisions by year and by cohort (a retirement-age phase-in, a minimum pension rising in 2025, a
    progressive formula, the state paying the minimum top-up) are legislation: the provisions step alone."""
    from actuary.inputs import phase_in

    years = small_case.inputs.coords["year"]
    minimum = xr.DataArray(np.where(years < 2025, 1000.0, 1500.0), dims="year", coords={"year": years})
    max_ret = small_case.inputs.settings["max_retirement_age"]
    current = small_case.replace(scheme={
        "normal_retirement_age": None, "early_retirement_age": None, "early_retirement_age_by_cohort": None,
        "normal_retirement_age_by_cohort": phase_in(max_ret - 5, 1975, 3, max_ret),
        "minimum_pension": minimum, "minimum_pension_financing": "state",
        "bend_points": (8_000.0, 30_000.0), "bend_point_rates": (0.9, 0.4, 0.2)})
    ds = analysis_of_change(small_case, current)
    assert_effects_add_up(ds)
    for name in measures(ds):
        others = ds[f"effect_{name}"].sel(step=[s for s in ds.step.values[1:] if s != "provisions"])
        assert np.all(others.values == 0.0), name
    assert float(ds.effect_actuarial_balance.sel(step="provisions")) != 0.0


def test_rolling_forward_alone_shows_up_in_the_valuation_period(small_case):
    ds = analysis_of_change(small_case, small_case.roll_forward(4))
    for name in measures(ds):
        assert np.all(ds[f"effect_{name}"].values[2:] == 0.0), name
    assert float(ds.effect_actuarial_balance.sel(step="valuation period")) != 0.0


def test_swapping_previous_and_current_negates_the_total(demo):
    current = modified(demo)
    forward = analysis_of_change(demo, current)
    backward = analysis_of_change(current, demo)
    for name in measures(forward):
        total = forward[name].values[-1] - forward[name].values[0]
        np.testing.assert_array_equal(backward[name].values[-1] - backward[name].values[0], -total, err_msg=name)
    assert_effects_add_up(backward)


@pytest.fixture(scope="module")
def small_pair(small_case):
    current = modified(small_case, years=2)
    return small_case, current


def test_shapley_effects_add_up_and_are_the_mean_over_every_order(small_pair):
    """With all orders, each step's Shapley effect is the mean of its sequential effects over every order of the
    steps that begins with the valuation period (the cases are two years apart: the other steps take the current
    case's inputs as at its own date): computed here from the sequential analyses of those orders of four steps."""
    previous, current = small_pair
    steps = [("valuation period", ("settings.valuation_year", "initial", "scheme.past_service_credit")),
             ("demographic and behavioural", ("demography", "behaviour")),
             ("economic", ("economy",)),
             ("provisions and methods", ("scheme", "settings"))]
    years = [2024, 2030]
    ds = analysis_of_change(previous, current, steps, all_orders=True, reserve_ratio_years=years)
    assert ds.attrs["cases_valued"] == 1 + 2 ** 3   # PREVIOUS, and each subset holding the valuation period once
    assert_effects_add_up(ds)
    assert_effects_add_up(ds, "shapley_effect_")
    orders = [(steps[0],) + rest for rest in itertools.permutations(steps[1:])]
    analyses = [analysis_of_change(previous, current, list(order), reserve_ratio_years=years) for order in orders]
    for name in ("actuarial_balance", "gap", "total_liabilities", "reserve_ratio"):
        mean = {s[0]: 0.0 for s in steps}
        lowest = {s[0]: np.inf for s in steps}
        highest = {s[0]: -np.inf for s in steps}
        for order, sequential in zip(orders, analyses):
            for step, _ in order:
                effect = sequential[f"effect_{name}"].sel(step=step).values
                mean[step] = mean[step] + effect / len(orders)
                lowest[step] = np.minimum(lowest[step], effect)
                highest[step] = np.maximum(highest[step], effect)
        for step, _ in steps:
            scale = np.abs(ds[name].values).max()
            np.testing.assert_allclose(ds[f"shapley_effect_{name}"].sel(step=step), mean[step], rtol=0,
                                       atol=1e-12 * scale, err_msg=(name, step))
            np.testing.assert_allclose(ds[f"lowest_effect_{name}"].sel(step=step), lowest[step], rtol=0,
                                       atol=1e-12 * scale)
            np.testing.assert_allclose(ds[f"highest_effect_{name}"].sel(step=step), highest[step], rtol=0,
                                       atol=1e-12 * scale)


def test_shapley_effects_negate_when_the_cases_are_swapped(small_case):
    """All 7 default steps (128 cases each way; without the balance sheet's runs, to keep the suite fast)."""
    previous = small_case.replace(settings={"balance_sheet": "no"})
    current = modified(previous)
    forward = analysis_of_change(previous, current, all_orders=True)
    backward = analysis_of_change(current, previous, all_orders=True)
    assert forward.attrs["cases_valued"] == 2 ** 7
    assert_effects_add_up(forward, "shapley_effect_")
    for name in ("actuarial_balance", "gap", "depletion_year"):
        scale = np.abs(forward[name].values).max()
        np.testing.assert_allclose(backward[f"shapley_effect_{name}"].values[1:],
                                   -forward[f"shapley_effect_{name}"].values[1:], rtol=0, atol=1e-12 * scale)


def test_more_than_seven_steps_in_all_orders_is_refused(small_case):
    steps = [(f"s{i}", (g,)) for i, g in enumerate(["settings", "scheme", "economy", "demography", "behaviour",
                                                    "initial"])]
    steps += [("one input", ("scheme.vesting_years",)), ("another", ("scheme.widow_share",))]
    with pytest.raises(InputError, match="at most 7 steps"):
        analysis_of_change(small_case, small_case, steps, all_orders=True)


def test_a_single_input_step_and_the_rest_of_its_group(small_case):
    current = small_case.replace(scheme={"contribution_rate": small_case.inputs.scheme["contribution_rate"] + 0.02,
                                         "widow_share": 0.9})
    steps = [("valuation period", ("settings.valuation_year",)), ("contribution rate", ("scheme.contribution_rate",)),
             ("other provisions", ("scheme",)), ("the rest", ("initial", "demography", "economy", "behaviour",
                                                              "settings"))]
    ds = analysis_of_change(small_case, current, steps)
    assert_effects_add_up(ds)
    # the contribution rate moves the reserve, not the cost: the GAP moves with the widows' pensions only
    assert np.all(ds.effect_gap.sel(step="contribution rate").values == 0.0)
    assert float(ds.effect_actuarial_balance.sel(step="contribution rate")) > 0
    assert np.all(ds.effect_gap.sel(step="other provisions").values > 0)
    assert list(ds.inputs.values[1:3]) == ["settings.valuation_year", "scheme.contribution_rate"]


def test_an_input_that_differs_outside_every_step_is_refused(small_case):
    current = small_case.replace(scheme={"widow_share": 0.9})
    steps = [("valuation period", ("settings.valuation_year",)), ("economy", ("economy",))]
    with pytest.raises(InputError, match="'scheme.widow_share' differs .* in no step"):
        analysis_of_change(small_case, current, steps)
    with pytest.raises(InputError, match="'nonsense.field' is not an input"):
        analysis_of_change(small_case, current, [("x", ("nonsense.field",))])
    with pytest.raises(InputError, match="in two steps"):
        analysis_of_change(small_case, current, [("x", ("economy",)), ("y", ("economy",))])


def test_a_longer_horizon_is_handled_by_holding_the_last_assumptions(small_case):
    longer = small_case.roll_forward(0, horizon=16).replace(settings={"gap_horizons": (5, 16)})
    ds = analysis_of_change(small_case, longer)
    assert_effects_add_up(ds)
    assert list(ds.horizon.values) == [3, 5, 10, 12]    # horizons both cases project
    assert float(ds.effect_depletion_year.sel(step="methods")) >= 0
    shorter = analysis_of_change(longer, small_case)
    assert_effects_add_up(shorter)


@pytest.mark.parametrize("setting, value", [("max_age", 55), ("max_service", 10), ("min_age", 16)])
def test_different_ages_or_service_grids_are_refused_with_the_input_and_values(setting, value):
    groups = random_scheme(11, horizon=12)
    previous = Valuation(**groups)
    changed = random_scheme(11, horizon=12, max_age=55 if setting == "max_age" else 50,
                            max_service=10 if setting == "max_service" else 12)
    if setting == "min_age":
        changed["settings"]["min_age"] = 16
        for group in ("scheme", "behaviour", "initial"):
            for key, v in list(changed[group].items()):
                if isinstance(v, xr.DataArray) and "age" in v.dims and v.age.values[0] == 15:
                    changed[group][key] = v.sel(age=slice(16, None))
    current = Valuation(**changed)
    expected = f"'settings.{setting}' differs: {groups['settings'][setting]} in PREVIOUS .* {value} in CURRENT"
    with pytest.raises(InputError, match=expected):
        analysis_of_change(previous, current)


def test_a_national_population_switched_on_or_off_changes_with_its_setting():
    """A scheme-only case (growth method) against one with a national population (residual method): the national
    population's inputs and the growth method's entrants exist only under their settings, so they change in the
    methods step with them (a mixed case never holds a population without the setting that uses it)."""
    scheme_only = Valuation(**random_scheme(11, horizon=12, national=False, method="growth"))
    national = Valuation(**random_scheme(11, horizon=12, national=True, method="residual"))
    for previous, current in ((scheme_only, national), (national, scheme_only)):
        ds = analysis_of_change(previous, current)
        assert_effects_add_up(ds)
        moved = str(ds.inputs.sel(step="methods").values)
        for name in ("demography.population", "economy.gdp", "behaviour.coverage", "behaviour.entrants"):
            assert name in moved
        assert float(ds.effect_actuarial_balance.sel(step="methods")) != 0.0
    with pytest.raises(InputError, match="must change in the same step"):   # named apart by the user: refused
        analysis_of_change(scheme_only, national, [("population", ("demography.population",)),
                                                   ("rest", tuple(FIELDS))])


def test_a_current_valuation_before_the_previous_one_is_refused(small_case):
    with pytest.raises(InputError, match="give the earlier valuation as PREVIOUS"):
        analysis_of_change(small_case.roll_forward(2), small_case)


def test_a_reserve_that_never_runs_out_still_adds_up(small_case):
    """Depletion beyond a case's projection counts as the year after its last year (a lower bound)."""
    rich = small_case.replace(initial={"reserve": 1e13})
    poor = small_case.replace(initial={"reserve": 0.0}, scheme={"contribution_rate": 0.0})
    ds = analysis_of_change(poor, rich)
    assert bool(ds.depleted.sel(step="previous")) and not bool(ds.depleted.sel(step="methods"))
    assert float(ds.depletion_year.sel(step="methods")) == 2020 + 12
    assert np.isfinite(ds.effect_depletion_year.values[1:]).all()
    assert_effects_add_up(ds)


def test_reserve_ratio_years_must_be_projected_by_every_case(small_case):
    later = small_case.roll_forward(3)
    ds = analysis_of_change(small_case, later, reserve_ratio_years=[2023, 2031])
    assert list(ds.year.values) == [2023, 2031]
    with pytest.raises(InputError, match="2023..2031"):
        analysis_of_change(small_case, later, reserve_ratio_years=[2022])


def test_waterfall_bars_stack_from_zero_on_either_side():
    bars = waterfall_bars(-0.10, [-0.02, 0.05, 0.10], 0.03)
    assert bars[0] == (-0.10, 0.0, "total") and bars[-1] == (0.0, 0.03, "total")
    assert bars[1][:2] == pytest.approx((-0.12, -0.10)) and bars[1][2] == "decrease"
    assert bars[3][:2] == pytest.approx((-0.07, 0.03)) and bars[3][2] == "increase"
    for low, high, _ in bars:
        base, above, below = stacked_parts(low, high)
        # positive values stack up from zero, negative ones down: the visible parts span [low, high]
        up_from, down_from = max(base, 0.0), min(base, 0.0)
        visible_low = down_from + below if below else up_from
        visible_high = up_from + above if above else down_from
        assert (visible_low, visible_high) == pytest.approx((low, high))


# ---------------------------------------------------------------------------------- command line

@pytest.fixture(scope="module")
def workbooks(tmp_path_factory, small_pair):
    folder = tmp_path_factory.mktemp("change")
    previous, current = small_pair
    previous.name, current.name = "small", "small-later"
    previous.to_workbook(folder / "previous.xlsx")
    current.to_workbook(folder / "current.xlsx")
    return folder


def test_the_command_writes_the_reconciliation_workbook_and_netcdf(workbooks, small_pair):
    out = workbooks / "out"
    result = CliRunner().invoke(main, ["change", str(workbooks / "previous.xlsx"), str(workbooks / "current.xlsx"),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "valuation period" in result.output
    # effects in percentage points, not percent (the levels are percent of insurable earnings)
    ds = xr.load_dataset(out / "current-change.nc")
    period = 100 * float(ds.effect_actuarial_balance.sel(step="valuation period"))
    assert f"{period:+.2f} pp" in result.output and "percentage points (pp)" in " ".join(result.output.split())
    assert_effects_add_up(ds)
    expected = analysis_of_change(*small_pair)
    scale = np.abs(expected.actuarial_balance.values).max()   # the workbooks round floats to 16 digits
    np.testing.assert_allclose(ds.effect_actuarial_balance.values[1:], expected.effect_actuarial_balance.values[1:],
                               rtol=0, atol=1e-12 * scale)
    wb = openpyxl.load_workbook(out / "current-change.xlsx", data_only=True)
    ws = wb["Reconciliation"]
    header = [c.value for c in ws[3]]
    column = next(i for i, h in enumerate(header, start=1) if str(h).startswith("Actuarial balance"))
    assert "(% of insurable earnings)" in header[column - 1]
    assert ws.cell(row=4, column=1).value == "previous valuation"
    assert ws.cell(row=4, column=column).value == pytest.approx(float(expected.actuarial_balance[0]), rel=1e-12)
    assert ws.cell(row=5, column=1).value == "effect of valuation period"
    effects = [ws.cell(row=r, column=column).value for r in range(5, 12)]
    np.testing.assert_allclose(effects, expected.effect_actuarial_balance.values[1:], rtol=0, atol=1e-12 * scale)
    about = read_about_sheet(out / "current-change.xlsx")
    assert about["previous_file"] == "previous.xlsx" and about["input_file"] == "current.xlsx"
    assert ds.attrs["provenance_previous_case"] == "small"
    assert ds.attrs["money"].startswith("currency units, not scaled")
    with zipfile.ZipFile(out / "current-change.xlsx") as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 2
    # waterfalls: stacked bars over an invisible base, the steps' names as text categories
    assert all('grouping val="stacked"' in c and "noFill" in c and "<cat><strRef>" in c for c in charts)


def test_a_steps_sheet_or_csv_sets_the_steps(workbooks, tmp_path):
    csv_path = tmp_path / "steps.csv"
    csv_path.write_text("step,input,notes\nperiod,settings.valuation_year,\nrates,economy.nominal_return,returns\n"
                        "everything else,initial,\neverything else,demography,\neverything else,economy,\n"
                        "everything else,behaviour,\neverything else,scheme,\neverything else,settings,\n")
    steps = read_steps(csv_path)
    assert [s for s, _ in steps] == ["period", "rates", "everything else"]
    # the sheet added in the workbook's XML (an openpyxl load and save of Demoland's workbook takes seconds)
    add_sheet(workbooks / "current.xlsx", tmp_path / "current.xlsx", "Analysis of change",
              [["Steps of the analysis of change"], ["step", "input", "notes"],
               *([name, token] for name, inputs in steps for token in inputs)])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["change", str(workbooks / "previous.xlsx"), str(tmp_path / "current.xlsx"),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    ds = xr.load_dataset(out / "current-change.nc")
    assert list(ds.step.values) == ["previous", "period", "rates", "everything else"]
    result = CliRunner().invoke(main, ["change", str(workbooks / "previous.xlsx"), str(tmp_path / "current.xlsx"),
                                       "--steps", str(csv_path), "--all-orders", "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert "All orders" in openpyxl.load_workbook(tmp_path / "again" / "current-change.xlsx").sheetnames


def test_bad_steps_stop_with_the_cell_and_no_output(workbooks, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Analysis of change"
    sheet.append(["Steps"])
    sheet.append(["step", "input", "notes"])
    sheet.append(["economic", "economy.no_such_rate"])
    book.save(tmp_path / "steps.xlsx")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["change", str(workbooks / "previous.xlsx"), str(workbooks / "current.xlsx"),
                                       "--steps", str(tmp_path / "steps.xlsx"), "--out", str(out)])
    assert result.exit_code == 2
    assert "economy.no_such_rate" in result.output and "Traceback" not in result.output
    assert not out.exists()
    sheet["B3"] = "=HYPERLINK(\"x\")"
    book.save(tmp_path / "formula.xlsx")
    with pytest.raises(InputError):
        read_steps(tmp_path / "formula.xlsx")


def test_step_names_are_written_as_text_never_as_formulas(small_pair, tmp_path):
    from actuary.io.change import write_change

    previous, current = small_pair
    steps = [("=1+1", ("settings.valuation_year",)), ("rest", ("initial", "demography", "economy", "behaviour",
                                                                "scheme", "settings"))]
    write_change(analysis_of_change(previous, current, steps), tmp_path / "c.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "c.xlsx")["Reconciliation"]
    assert ws.cell(row=5, column=1).value == "effect of =1+1"
    assert ws.cell(row=5, column=1).data_type == "s"
    steps_sheet = openpyxl.load_workbook(tmp_path / "c.xlsx")["Steps"]
    assert steps_sheet.cell(row=4, column=1).value == "=1+1" and steps_sheet.cell(row=4, column=1).data_type == "s"


# ------------------------------------------------------------------------------ social protection floor

FLOOR_ROWS = [  # on the small case's ages (max_age 50)
    {"benefit": "old_age", "kind": "old_age", "min_age": 45, "amount": 3_000.0, "take_up": 0.9,
     "test": "pension_tested", "admin_share": 0.03},
    {"benefit": "child", "kind": "child", "max_age": 14, "amount": 800.0, "indexation": "wages", "take_up": 0.6},
]


def present_value(flow, returns):
    """Sum over t of v_t x flow_t, v_t = prod_{u<t} (1 + i_u)^-1 x (1 + i_t)^-1/2 (mid-year, as the GAP)."""
    v = np.cumprod(np.r_[1.0, 1 / (1 + returns[:-1])]) / np.sqrt(1 + returns)
    return float(np.sum(v * flow))


def test_a_floor_introduced_shows_up_in_the_provisions_step_alone(small_case, tmp_path):
    """The floor is a provision: its cost and the fiscal cost move in that step only, the scheme's measures in
    none (the floor is costed beside the scheme); the present values are those computed here from the yearly
    cost of each case and the state's subsidy."""
    from actuary.floor import floor_benefits

    current = small_case.replace(floor=floor_benefits(FLOOR_ROWS))
    ds = analysis_of_change(small_case, current)
    assert_effects_add_up(ds)
    floor_measures = ("floor_cost_present_value", "floor_cost_level_pct_gdp", "fiscal_cost_present_value",
                      "fiscal_cost_level_pct_gdp", "fiscal_cost_with_borrowing_present_value",
                      "fiscal_cost_with_borrowing_level_pct_gdp")
    for name in measures(ds):
        others = ds[f"effect_{name}"].sel(step=[s for s in ds.step.values[1:] if s != "provisions"])
        assert np.all(others.values == 0.0), name
        if name not in floor_measures:
            assert np.all(ds[f"effect_{name}"].sel(step="provisions").values == 0.0), name
    assert np.all(ds.effect_floor_cost_present_value.sel(step="provisions").values > 0)
    horizon = int(ds.horizon.values[-1])
    for case, step in ((small_case, "previous"), (current, "methods")):
        p = case.run().projection.isel(year=slice(0, horizon))
        returns = p.investment_return.values
        floor = p.floor_cost.values.sum(axis=1) if "floor_cost" in p else np.zeros(horizon)
        expected_floor = present_value(floor, returns)
        expected_fiscal = present_value(floor + p.state_subsidy.values, returns)
        at = ds.sel(step=step, horizon=horizon)
        assert float(at.floor_cost_present_value) == pytest.approx(expected_floor, rel=1e-12, abs=1e-6)
        assert float(at.fiscal_cost_present_value) == pytest.approx(expected_fiscal, rel=1e-12)
        assert float(at.floor_cost_level_pct_gdp) == pytest.approx(
            100 * expected_floor / present_value(p.gdp.values, returns), rel=1e-12, abs=1e-12)
    # the workbook shows the level shares in percent, the present values in the money unit
    from actuary.io.change import write_change

    write_change(ds, tmp_path / "floor-change.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "floor-change.xlsx")["Reconciliation"]
    header = [c.value for c in ws[3]]
    column = header.index(f"Fiscal cost over {horizon} years, level share of GDP (% of GDP)") + 1
    assert ws.cell(row=10, column=1).value == "effect of provisions"
    assert ws.cell(row=10, column=column).number_format == "0.00%"
    assert ws.cell(row=10, column=column).value == pytest.approx(
        float(ds.effect_fiscal_cost_level_pct_gdp.sel(step="provisions", horizon=horizon)) / 100, rel=1e-12)


def test_a_floor_in_both_cases_a_valuation_period_apart_adds_up(small_case):
    from actuary.floor import floor_benefits

    previous = small_case.replace(floor=floor_benefits(FLOOR_ROWS))
    current = modified(previous, years=2)
    current = current.replace(floor={"amount": current.inputs.floor["amount"] * 1.1})
    ds = analysis_of_change(previous, current)
    assert_effects_add_up(ds)
    for step in ("valuation period", "provisions"):
        assert np.all(ds.effect_floor_cost_present_value.sel(step=step).values != 0.0), step


def test_the_fiscal_cost_including_the_scheme_borrowing_is_measured_at_every_step(small_case, tmp_path):
    """With a floor, the analysis measures the scheme's borrowing after depletion and the fiscal cost including it
    (present values, level shares of GDP) at every step: a current case of lower contributions and a smaller
    reserve runs out and borrows, the previous one does not. At each end the values are those derived from the
    case's own finance table (the deficits financed by borrowing, each once: the debt at the horizon's end
    discounted), the provisions and data steps move them, and the effects add up."""
    from actuary.floor import floor_benefits

    previous = small_case.replace(floor=floor_benefits(FLOOR_ROWS))
    i = previous.inputs
    current = previous.replace(scheme={"contribution_rate": i.scheme["contribution_rate"] * 0.3},
                               initial={"reserve": i.initial["reserve"] * 0.2})
    ds = analysis_of_change(previous, current)
    assert_effects_add_up(ds)
    horizon = int(ds.horizon.values[-1])
    for case, step in ((previous, "previous"), (current, "methods")):
        p = case.run().projection.isel(year=slice(0, horizon))
        returns = p.investment_return.values
        debt = np.maximum(-p.reserve.values, 0.0)
        assert np.all(np.diff(debt) >= 0)   # never repaid: each deficit once is the last debt discounted
        deficits = float(np.prod(1 / (1 + returns)) * debt[-1])
        fiscal = present_value(p.floor_cost.values.sum(axis=1) + p.state_subsidy.values, returns)
        at = ds.sel(step=step, horizon=horizon)
        assert float(at.scheme_borrowing_present_value) == pytest.approx(deficits, rel=1e-10, abs=1e-6)
        assert float(at.fiscal_cost_with_borrowing_present_value) == pytest.approx(fiscal + deficits, rel=1e-10)
        assert float(at.fiscal_cost_with_borrowing_level_pct_gdp) == pytest.approx(
            100 * (fiscal + deficits) / present_value(p.gdp.values, returns), rel=1e-10)
        assert (deficits > 0) == (step == "methods")
    effect = ds.effect_fiscal_cost_with_borrowing_present_value.sel(horizon=horizon)
    assert float(effect.sel(step="provisions")) > 0
    assert ds.fiscal_cost_with_borrowing_present_value.attrs["units"] == "currency at the valuation date"
    from actuary.io.change import write_change

    write_change(ds, tmp_path / "borrowing-change.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "borrowing-change.xlsx")["Reconciliation"]
    header = [c.value for c in ws[3]]
    column = header.index(f"Fiscal cost including the scheme's borrowing over {horizon} years, level share of GDP "
                          "(% of GDP)") + 1
    assert ws.cell(row=10, column=1).value == "effect of provisions"
    assert ws.cell(row=10, column=column).value == pytest.approx(
        float(ds.effect_fiscal_cost_with_borrowing_level_pct_gdp.sel(step="provisions", horizon=horizon)) / 100,
        rel=1e-12)


def test_other_inflation_moves_the_previous_poverty_line_with_prices():
    """The poverty line is given in each case's money: a mixed case with one case's inflation and the other's line
    takes the line at its own inflation's prices (as a scenario does, methodology §9). CURRENT is Demoland-floor
    at 1 point more inflation with its line moved with prices: the economic step leaves the floor's cost as a share
    of GDP where it was (every floor benefit moves with prices as GDP does), and the provisions step, which gives
    the line of CURRENT, changes nothing. Before, the economic step kept the previous line in nominal money (a
    real cut in the floor: level cost down) and the provisions step took it back."""
    from actuary.batch import Scenario, Shift
    from actuary.valuation import PROJECT_ROOT

    previous = load_workbook(PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx")
    previous = previous.replace(settings={"horizon": 60, "gap_horizons": (20, 60), "actuarial_balance_period": 60})
    current = Scenario("inflation up", {"economy.inflation": Shift(0.01)}).apply(previous)
    pi = previous.inputs.economy["inflation"].values
    ratio = np.cumprod(np.r_[1.0, (1 + pi[1:] + 0.01) / (1 + pi[1:])])   # P'_t / P_t, 1 at the valuation year
    np.testing.assert_allclose(current.inputs.economy["poverty_line"].values,
                               previous.inputs.economy["poverty_line"].values * ratio, rtol=1e-14)
    ds = analysis_of_change(previous, current)
    assert_effects_add_up(ds)
    assert float(ds.floor_cost_level_pct_gdp.sel(step="previous", horizon=60)) > 0.1
    economic = _Cases(previous, current, resolve_steps()).valuation(frozenset({3}))   # PREVIOUS + economic step
    assert economic.name == "PREVIOUS with the economic step of CURRENT"
    np.testing.assert_allclose(economic.run().projection.floor_cost_pct_gdp.values,
                               previous.run().projection.floor_cost_pct_gdp.values, rtol=1e-10)
    for name in ("floor_cost_level_pct_gdp", "floor_cost_present_value", "gap"):
        np.testing.assert_allclose(ds[f"effect_{name}"].sel(step="provisions").values, 0.0, atol=1e-9)


def test_a_floor_costing_alone_is_refused_naming_the_case():
    from actuary.valuation import DEMOLAND_FLOOR_ONLY

    alone = load_workbook(DEMOLAND_FLOOR_ONLY)
    with pytest.raises(InputError, match=r"PREVIOUS \(demoland-floor-only\) is a social protection floor costing "
                                         r"alone \(settings.scheme = no\)"):
        analysis_of_change(alone, Valuation.demo())
    with pytest.raises(InputError, match=r"CURRENT .* floor costing alone"):
        analysis_of_change(Valuation.demo(), alone)
