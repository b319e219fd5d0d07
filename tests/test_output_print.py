"""The output workbooks as a person sees and prints them: line charts drawn in straight segments (no program smooths
a step schedule into dips and overshoots), the analysis-of-change workbook printed as the results workbook is
(landscape, fitted to pages wide, title rows repeated, headers frozen, each waterfall on a page of its own)."""

import math
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest

from actuary import Valuation, load_workbook
from actuary.valuation import PROJECT_ROOT

CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
SHORT = {"horizon": 20, "gap_horizons": (10, 20), "actuarial_balance_period": 20, "balance_sheet": "no"}


@pytest.fixture(scope="module")
def base():
    return Valuation.demo().replace(settings=SHORT)


@pytest.fixture(scope="module")
def change_workbook(base, tmp_path_factory):
    from actuary.change import analysis_of_change
    from actuary.io.change import write_change

    floor = load_workbook(PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx").replace(settings=SHORT)
    path = tmp_path_factory.mktemp("change") / "change.xlsx"
    write_change(analysis_of_change(base, floor), path)   # the floor arrives in the provisions step
    return path


@pytest.fixture(scope="module")
def workbooks(base, change_workbook, tmp_path_factory):
    """The results (a case with a floor: its charts too), comparison, sensitivity, stochastic and change
    workbooks of short cases."""
    from actuary.batch import sensitivity, write_sensitivity
    from actuary.compare import comparison, write_comparison
    from actuary.io.results import write_results
    from actuary.stochastic import simulate, write_stochastic

    folder = tmp_path_factory.mktemp("outputs")
    floor = load_workbook(PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx").replace(settings=SHORT)
    write_results(floor.run(), floor, folder / "results.xlsx")
    write_comparison(comparison(base, {"higher ceiling": base.replace(scheme={"ceiling_multiple": 3.0})}),
                     folder / "comparison.xlsx")
    write_sensitivity(sensitivity(base), folder / "sensitivity.xlsx")
    write_stochastic(simulate(base, 20, seed=1), folder / "stochastic.xlsx")
    return {"results": folder / "results.xlsx", "comparison": folder / "comparison.xlsx",
            "sensitivity": folder / "sensitivity.xlsx", "stochastic": folder / "stochastic.xlsx",
            "change": change_workbook}


def _charts(path):
    """The chart parts of the workbook at ``path`` as parsed XML."""
    with zipfile.ZipFile(path) as archive:
        return [ElementTree.fromstring(archive.read(n)) for n in archive.namelist()
                if n.startswith("xl/charts/chart") and n.endswith(".xml")]


def test_every_line_series_is_drawn_in_straight_segments(workbooks):
    """<c:smooth val="0"/> on every series of every line chart, as saved: without it LibreOffice smooths the line,
    and a step contribution schedule dips and overshoots between the years."""
    for which, path in workbooks.items():
        charts = _charts(path)
        assert charts, which
        series = [ser for chart in charts for line in chart.iter(f"{CHART}lineChart") for ser in line.findall(
            f"{CHART}ser")]
        if which == "change":   # waterfalls: stacked bars only
            assert not series and all(chart.find(f".//{CHART}barChart") is not None for chart in charts)
            continue
        assert series, which
        for ser in series:
            smooth = ser.find(f"{CHART}smooth")
            assert smooth is not None and smooth.get("val") == "0", (which, ElementTree.tostring(ser)[:200])
