"""The project's own documentation: docs/workbook.md is generated from the field specs and current,
names every input; README and docs link only to files of the repository; every results variable has
a label in words (the one table of actuary/io/presentation.py)."""

import re
from pathlib import Path

import pytest

from actuary import Valuation
from actuary.inputs import FIELDS
from actuary.io import outputs_doc, presentation, workbook_doc
from actuary.io.workbook import layout

ROOT = Path(__file__).resolve().parents[1]


def test_workbook_md_is_current():
    assert (ROOT / "docs" / "workbook.md").read_text(encoding="utf-8") == workbook_doc.markdown(), \
        "docs/workbook.md is out of date: run python -m actuary.io.workbook_doc"
    assert workbook_doc.main(["--check"]) == 0


def test_outputs_md_is_current_and_lists_every_variable_with_its_units():
    """docs/outputs.md (the files and variables of the sensitivity and stochastic runs) is generated from the
    table the runs take their netCDF attributes from."""
    from actuary.batch import OUTPUT_VARIABLES

    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert text == outputs_doc.markdown(), "docs/outputs.md is out of date: run python -m actuary.io.outputs_doc"
    assert outputs_doc.main(["--check"]) == 0
    for name, (units, _) in OUTPUT_VARIABLES.items():
        assert re.search(rf"^\| `{name}` \|( [^|]+ \|)? {re.escape(units)} \|", text, flags=re.M), name
    assert "docs/outputs.md" in _links(ROOT / "README.md")


def test_outputs_md_names_the_sheets_of_the_sensitivity_workbook_and_what_only_the_netcdf_has(tmp_path):
    """The sensitivity workbook shows a few yearly variables by year and scenario, a sheet each; docs/outputs.md
    names exactly those sheets (not 'one sheet per indicator') and the yearly variables only the netCDF file has."""
    import openpyxl

    from actuary.batch import sensitivity, write_sensitivity

    short = Valuation.demo().replace(settings={"horizon": 5, "gap_horizons": (5,), "balance_sheet": "no"})
    ds = sensitivity(short)
    write_sensitivity(ds, tmp_path / "sensitivity.xlsx")
    sheets = {n for n in openpyxl.load_workbook(tmp_path / "sensitivity.xlsx", read_only=True).sheetnames
              if n.endswith(" by scenario")}
    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    section = _section(text, "actuary sensitivity").split("\n\n")[0]
    named = dict(re.findall(r"`(\w+)` \(([^()]+ by scenario)\)", section))
    assert sheets and sheets == {s for n, s in named.items() if n in ds.data_vars}, (sheets, named)
    only_netcdf = [n for n in ds.data_vars if ds[n].dims == ("scenario", "year") and n not in named]
    assert only_netcdf and "netCDF" in section
    for name in only_netcdf:
        assert f"`{name}`" in section, name


def test_workbook_md_documents_every_sheet_and_input():
    text = (ROOT / "docs" / "workbook.md").read_text(encoding="utf-8")
    for group, fields in FIELDS.items():
        for name, field in fields.items():
            row = re.search(rf"^\| `{name}` \| ([^|]+) \| ([^|]*) \|", text, flags=re.M)
            assert row, f"{group}.{name} is not documented"
            assert row.group(2).strip() == (field.units or ""), name
    for sheet in layout():
        assert f"\n## {sheet.name}\n" in text, sheet.name


def _section(text: str, sheet: str) -> str:
    return text.split(f"\n## {sheet}\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("sheet, group", [("Settings", "settings"), ("Floor", "floor")])
def test_workbook_md_documents_a_shared_field_name_from_its_own_sheets_group(sheet, group):
    """min_age and max_age are inputs of two groups: in the Settings sheet the insured ages (15, 120), in the Floor
    sheet a benefit's eligible ages (0, no upper limit). Each sheet's table documents its own group's field."""
    from actuary.inputs import REQUIRED

    shared = [n for n in FIELDS["floor"] if any(n in FIELDS[g] for g in FIELDS if g != "floor")]
    assert {"min_age", "max_age"} <= set(shared)
    section = _section((ROOT / "docs" / "workbook.md").read_text(encoding="utf-8"), sheet)
    for name in shared:
        field = FIELDS[group][name]
        row = re.search(rf"^\| `{name}` \| ([^|]+) \| ([^|]*) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", section,
                        flags=re.M)
        assert row, f"{sheet}: {name} is not documented"
        label, _, _, default, notes = (g.strip() for g in row.groups())
        assert label == presentation.field_label(name, group=group)
        assert notes.startswith(field.doc), (sheet, name, notes)
        assert default == ("none (no limit)" if field.default == float("inf") else
                           "required" if field.default is REQUIRED else str(field.default)), (sheet, name, default)
    assert presentation.field_label("min_age", group="floor") != presentation.field_label("min_age", group="settings")


def _links(path: Path):
    return re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("document", ["README.md", "docs/methodology.md", "docs/workbook.md", "docs/outputs.md"])
def test_links_point_inside_the_repository(document):
    path = ROOT / document
    for target in _links(path):
        assert "://" not in target and not target.startswith("/"), target
        file = target.split("#")[0]
        if file:
            assert (path.parent / file).resolve().is_file(), f"{document} links to missing {target}"
    assert "METHODOLOGY.md" not in path.read_text() and "ARCHITECTURE.md" not in path.read_text()


def test_readme_links_the_documentation():
    links = _links(ROOT / "README.md")
    assert "docs/methodology.md" in links and "docs/workbook.md" in links


@pytest.mark.parametrize("scheme", [{}, {"minimum_pension": 20000.0, "minimum_pension_financing": "state"}])
def test_every_results_variable_has_a_label_in_words(scheme):
    results = Valuation.demo().replace(scheme=scheme).run()
    for name in results.projection.data_vars:
        assert name in presentation.VARIABLES, f"add a line for '{name}' to VARIABLES in actuary/io/presentation.py"
    for name in results.summary.data_vars:
        assert name in presentation.SUMMARY, f"add a line for '{name}' to SUMMARY in actuary/io/presentation.py"
    for variable in [*presentation.VARIABLES.values(), *presentation.SUMMARY.values()]:
        assert variable.kind in presentation.KINDS and "_" not in variable.label


def test_stochastic_parameters_are_documented_with_meaning_units_and_default():
    """docs/workbook.md gives each parameter of the Stochastic sheet its meaning, units and default, and says where
    the headers are; the class's docstring (which the README points to) names each with its default."""
    from dataclasses import fields

    from actuary.stochastic import MORTALITY_DEFAULTS, PARAMETER_MEANINGS, StochasticParameters

    text = (ROOT / "docs" / "workbook.md").read_text(encoding="utf-8")
    assert "parameter | value | notes (row 1 the title, the headers in row 2)" in text
    doc = StochasticParameters.__doc__ or ""
    for f in fields(StochasticParameters):
        assert all(PARAMETER_MEANINGS[f.name]), f.name
        if f.name in MORTALITY_DEFAULTS["level"]:   # a default by mortality model, each said
            level, improvement = (f"{MORTALITY_DEFAULTS[m][f.name]:g}" for m in ("level", "improvement"))
            assert re.search(rf"^\| `{f.name}` \| [^|]+ \| [^|]+ \| {level} \(level\) / {improvement} "
                             rf"\(improvement\) \|$", text, flags=re.M), f.name
            assert re.search(rf"``{f.name}`` \([^)]*level model {level}\b[^)]*improvement model {improvement}\b",
                             doc), f.name
            assert getattr(StochasticParameters(), f.name) == MORTALITY_DEFAULTS["level"][f.name]
            continue
        assert re.search(rf"^\| `{f.name}` \| [^|]+ \| [^|]+ \| {re.escape(str(f.default))} \|$", text, flags=re.M), \
            f.name
        assert re.search(rf"``{f.name}`` \((?:[^)]* )?{re.escape(str(f.default))}[;)]", doc), f.name
