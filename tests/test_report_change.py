"""The report's analysis-of-change chapter: the reconciliation table shows analysis_of_change's measures and
effects (read back from the HTML, to the digits shown), the waterfall's bars (read back from the SVG) chain
from the previous value through each step's effect to the current value, and ``actuary report --previous``
writes the chapter from two workbooks (with the previous file in the run's provenance)."""

import html as html_module
import re

import numpy as np
import pytest
from click.testing import CliRunner

from actuary import Valuation, analysis_of_change
from actuary.cli import main
from actuary.report import build

from .schemes import random_scheme
from .test_change import modified


@pytest.fixture(scope="module")
def pair():
    previous = Valuation(**random_scheme(11, horizon=12), name="small")
    current = modified(previous, years=2)
    current.name = "small-later"
    return previous, current


@pytest.fixture(scope="module")
def change(pair):
    return analysis_of_change(*pair)


@pytest.fixture(scope="module")
def page(pair, change):
    current = pair[1]
    return build(current, current.run(), change=change)


def tables(page: str) -> list[tuple[str, list[list[str]]]]:
    """Every table of the page, in order: (caption, header row and body rows as text)."""
    out = []
    for caption, body in re.findall(r"<table[^>]*>\s*<caption>(.*?)</caption>(.*?)</table>", page, flags=re.S):
        rows = [[html_module.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                 for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)]
                for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]
        out.append((html_module.unescape(caption), rows))
    return out


def number(text: str) -> tuple[float, float]:
    """A shown number and half a unit of its last digit (percentages and percentage points as fractions; an effect
    on a year in years)."""
    cleaned = text.replace(",", "").replace("+", "")
    percent = cleaned.endswith(("%", " pp"))
    cleaned = cleaned.removesuffix(" pp").removesuffix(" years").removesuffix(" year").rstrip("%")
    decimals = len(cleaned.split(".")[1]) if "." in cleaned else 0
    scale = 0.01 if percent else 1.0
    return float(cleaned) * scale, 0.5 * 10.0 ** -decimals * scale


def test_the_reconciliation_table_shows_the_measures_and_effects(page, change):
    found = [rows for caption, rows in tables(page) if caption.startswith("Reconciliation")]
    assert len(found) >= 1    # split in parts that fit the page, the first column repeated
    steps = list(change.step.values)
    header, rows = [], None
    for part_header, *part_rows in found:
        labels = [row[0] for row in part_rows]
        assert labels == ["Previous valuation"] + [f"Effect of {s}" for s in steps[1:]] + ["Current valuation",
                                                                                         "Total change"]
        header += part_header[1:] if header else part_header
        rows = [row + part[1:] for row, part in zip(rows, part_rows)] if rows else part_rows
    expected = {  # header -> (measure, selection); computed here from the Dataset
        "Actuarial balance: summarized income rate - summarized cost rate (% of insurable earnings)":
            ("actuarial_balance", {}),
        **{f"General average premium over {int(h)} years (% of insurable earnings)": ("gap", {"horizon": h})
           for h in change.horizon.values},
        "Reserve depletion year": ("depletion_year", {}),
    }
    checked = 0
    for k, title in enumerate(header):
        if title not in expected:
            continue
        name, selection = expected[title]
        values = change[name].sel(selection).values
        effects = change[f"effect_{name}"].sel(selection).values
        wanted = [values[0]] + list(effects[1:]) + [values[-1], values[-1] - values[0]]
        for row in rows[1:-2] + rows[-1:]:   # effects: in percentage points of a rate, in years of a year
            assert row[k].endswith(" years" if name == "depletion_year" else " pp") or row[k].endswith(" year"), \
                (title, row[0], row[k])
        for row, value in zip(rows, wanted):
            shown, half = number(row[k])
            assert abs(shown - value) <= half * (1 + 1e-9), (title, row[0], row[k], value)
        checked += 1
    assert checked == 2 + change.sizes["horizon"]
    # the inputs of each step are listed
    steps_table = next(rows for caption, rows in tables(page) if caption.startswith("Steps of the analysis"))
    assert [r[0] for r in steps_table[1:]] == steps[1:]
    assert steps_table[1][1] == "settings.valuation_year"


def bar_extents(svg: str, key: str) -> list[tuple[float, float]]:
    """The vertical extent (top, bottom in drawing units, y downwards) of each bar of the waterfall ``key``."""
    out = []
    k = 0
    while True:
        match = re.search(rf'<g id="{re.escape(key)}-bar-{k}">\s*<path d="([^"]+)"', svg)
        if not match:
            return out
        ys = [float(y) for y in re.findall(r"[ML] [-\d.e]+ ([-\d.e]+)", match.group(1))]
        out.append((min(ys), max(ys)))
        k += 1


@pytest.mark.parametrize("name, selection", [("actuarial_balance", {}), ("gap", "longest")])
def test_the_waterfall_adds_up(page, change, name, selection):
    """Read from the drawing: the first bar spans zero to the previous value, each step's bar from the running
    total before it to the one after (its height the effect, on the same scale), the last bar zero to the
    current value, which is where the steps end."""
    if selection == "longest":
        selection = {"horizon": change.horizon.values[-1]}
    bars = bar_extents(page, f"change-{name}")
    n = change.sizes["step"] - 1
    assert len(bars) == n + 2
    values = change[name].sel(selection).values
    effects = change[f"effect_{name}"].sel(selection).values[1:]
    first, last = bars[0], bars[-1]
    zero = first[1] if values[0] >= 0 else first[0]       # y grows downwards
    assert zero == pytest.approx(last[1] if values[-1] >= 0 else last[0], abs=1e-3)
    scale = (zero - (first[0] if values[0] >= 0 else first[1])) / values[0]   # drawing units per unit of value
    level = zero - scale * values[0]
    for (top, bottom), effect in zip(bars[1:-1], effects):
        after = level - scale * effect
        assert (top, bottom) == pytest.approx((min(level, after), max(level, after)), abs=2e-3)
        level = after
    assert level == pytest.approx(zero - scale * values[-1], abs=2e-3)
    assert (last[0] if values[-1] >= 0 else last[1]) == pytest.approx(level, abs=2e-3)


def test_report_previous_writes_the_chapter_from_two_workbooks(pair, change, tmp_path, monkeypatch):
    monkeypatch.setenv("ACTUARY_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setitem(__import__("sys").modules, "weasyprint", None)     # the HTML only
    previous, current = pair
    previous.to_workbook(tmp_path / "previous.xlsx")
    current.to_workbook(tmp_path / "current.xlsx")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(tmp_path / "current.xlsx"), "--previous",
                                       str(tmp_path / "previous.xlsx"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "current-report.html").read_text(encoding="utf-8")
    assert "Analysis of change from the previous valuation" in page
    assert "previous.xlsx" in page     # the run's provenance names the previous file
    header, *rows = next(rows for caption, rows in tables(page) if caption.startswith("Reconciliation"))
    column = next(k for k, h in enumerate(header) if h.startswith("Actuarial balance"))
    shown = [number(r[column]) for r in rows[1:-2]]
    effects = change.effect_actuarial_balance.values[1:]
    scale = np.abs(change.actuarial_balance.values).max()
    for (value, half), effect in zip(shown, effects):   # the workbooks round inputs to 16 digits
        assert abs(value - effect) <= half + 1e-12 * scale


def test_steps_without_previous_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["report", "--steps", str(tmp_path / "steps.csv"), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--previous" in result.output
