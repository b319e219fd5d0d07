"""docs/outputs.md: the files ``actuary sensitivity`` and ``actuary stochastic`` write and every variable of
their netCDF (or zarr) Dataset, with its units and meaning, generated from the table the runs take them from
(:data:`actuary.batch.OUTPUT_VARIABLES`), so that it cannot drift from the code:

    python -m actuary.io.outputs_doc            # rewrite docs/outputs.md
    python -m actuary.io.outputs_doc --check    # exit 1 if it is stale (a test does the same)
"""

from __future__ import annotations

from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "docs" / "outputs.md"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _present(name: str) -> str:
    """When a variable is in the Dataset: always, or with a scheme, a national population, a floor."""
    from ..batch import FLOOR_YEARLY, WITH_BORROWING
    from ..kernels.batch import FLOOR_INDICATORS
    from ..stochastic import FLOOR_ONLY_INDICATORS, LIFE_EXPECTANCY_INDICATORS, NATIONAL_INDICATORS

    if name in LIFE_EXPECTANCY_INDICATORS:
        return "with ages beyond 65"
    if name == WITH_BORROWING:
        return "with a floor beside a scheme"
    if name in FLOOR_INDICATORS or name in FLOOR_YEARLY or name == "floor_cost_level_pct_gdp":
        return "with a floor"
    if name in NATIONAL_INDICATORS:   # GDP and the population's ratios also in a floor costing alone
        return "with a national population" if name in FLOOR_ONLY_INDICATORS else \
            "with a scheme and a national population"
    if name in FLOOR_ONLY_INDICATORS or name in ("status", "move"):
        return "always"
    return "with a scheme"


def _rows(names, dims) -> list[str]:
    from ..batch import variable_attributes

    out = ["| variable | dimensions | units | present | description |", "|---|---|---|---|---|"]
    for name in names:
        attrs = variable_attributes(name)
        out.append(f"| `{name}` | {dims(name)} | {_cell(attrs['units'])} | {_present(name)} | "
                   f"{_cell(attrs['description'])} |")
    return out


def _coordinates(names) -> list[str]:
    from ..batch import variable_attributes

    out = ["| coordinate | units | description |", "|---|---|---|"]
    for name in names:
        attrs = variable_attributes(name)
        out.append(f"| `{name}` | {_cell(attrs['units'])} | {_cell(attrs['description'])} |")
    return out


def markdown() -> str:
    """The text of docs/outputs.md."""
    from ..batch import (BY_HORIZON, CONVENTIONS, FLOOR_YEARLY, MONEY, NATIONAL_SENSITIVITIES, SCHEME_SENSITIVITIES,
                         SENSITIVITY_SHEETS, WITH_BORROWING, YEARLY, _describe, sensitivity_sheet_name,
                         standard_sensitivities)
    from ..kernels.batch import FLOOR_INDICATORS, INDICATORS
    from ..stochastic import FLOOR_ONLY_INDICATORS, LIFE_EXPECTANCY_INDICATORS, PERCENTILES
    from .files import MANIFEST, MANIFEST_LIMIT
    from .workbook_doc import VENV_NOTE

    summary = ("gap", "depletion_year", "actuarial_balance", "floor_cost_level_pct_gdp", "status", "move")

    def scenario_dims(name):
        return "scenario, year" if name in YEARLY + FLOOR_YEARLY else \
            "scenario, horizon" if name in BY_HORIZON else "scenario"

    stochastic = list(dict.fromkeys(INDICATORS + FLOOR_INDICATORS + FLOOR_ONLY_INDICATORS
                                    + LIFE_EXPECTANCY_INDICATORS))
    out = [
        "# The outputs of sensitivity and stochastic runs",
        "",
        VENV_NOTE,
        "",
        "What `actuary sensitivity` and `actuary stochastic` write, and every variable of their netCDF (or zarr)",
        "files with its units and meaning. This file is generated from the table the runs take the variables'",
        "attributes from (`OUTPUT_VARIABLES` in `actuary/batch.py`) by `python -m actuary.io.outputs_doc`; a test",
        "fails when it is out of date. A valuation's own results (`actuary valuate`: `NAME-results.xlsx` and",
        "`NAME-results.nc`) are described in [methodology.md](methodology.md) and in the workbook's sheets.",
        "",
        "## Conventions",
        "",
        f"- Money is stored in {MONEY} (the global attribute `money`), as in a valuation's netCDF file.",
        "  The workbooks show it in the unit of `settings.money_unit` (millions by default), which the Dataset keeps",
        "  as the global attribute `money_unit_in_workbooks`: 1234567890.0 in the data reads 1,235 in a",
        "  workbook in millions.",
        "- Every variable and coordinate has the attributes `units` and `description`. Units `share` (and",
        "  `share of insurable earnings`) are fractions, 0.05 being 5%; units `percent` (variables named",
        "  `*_pct_*`) are percentages, 5.0 being 5%; the workbooks show both as percentages. The global",
        f"  attribute `conventions` says so: \"{CONVENTIONS}\".",
        "- Flows are those of each year, stocks at its end (1 January of the next year).",
        "- Global attributes `provenance_*`: where the run came from (the sheet \"About this run\" of the",
        "  workbook holds the same record).",
        "- Files are named after the input (`my-scheme.xlsx` gives `my-scheme-sensitivity.xlsx`; `--name`",
        "  chooses another name) and written in `--out` (default `out`).",
        "",
        "## The output folder",
        "",
        "Every command that writes into `--out` (valuate, solve, roll-forward, compare, sensitivity, stochastic,",
        "report, change, population, data, experience, synth) replaces a file there only if actuary wrote it and",
        "it is unchanged since, or with `--force`. Running a command again into the same folder replaces its",
        "earlier outputs; a file under an output's name that actuary did not write (your own), or an output",
        "changed since actuary wrote it (a results workbook you edited), is refused before anything is computed",
        "(before anything is read, except by synth, whose file names take the workbook's valuation year): exit 2,",
        "one message naming each such file and why, nothing written. The ways out: another `--out` (or `--name`),",
        "or `--force` to replace them. An output that is one of the files the run reads (the input",
        "`out/x-solved.xlsx` of `actuary solve ... --name x --out out`, or a hard or symbolic link to it) is refused",
        "before anything is read, with or without `--force`: exit 2, one message naming the output and the input;",
        "give `--name` or another `--out`.",
        "",
        f"What actuary wrote is recorded in the folder's manifest `{MANIFEST}`, a JSON file each run updates as",
        "it moves its outputs into place, under the folder's lock: for each output name its kind (`file`, or",
        "`folder` for a zarr store), `size` (bytes), `sha256` (of the file's bytes; of a store, of its files' paths",
        "and SHA-256s), `stamp` (size, modification time and inode once in place) and `written` (UTC). A file",
        "whose stamp is the recorded one is unchanged; one of the recorded size but another stamp (touched,",
        "the folder copied) is read to compare its SHA-256; any other is changed. Nothing else of an existing",
        "file is read, and never more than the recorded size. The manifest itself is read as hostile: a link,",
        f"a file larger than {MANIFEST_LIMIT // 1024 ** 2} MB or one that is not its JSON counts as no record",
        "(nothing is replaced without `--force`; the next run that writes rewrites it). Records of outputs",
        "deleted since are dropped. A folder written by an earlier version of actuary has no manifest: its",
        "outputs are refused once (exit 2, each \"no record that actuary wrote it\"; a file the manifest does not",
        "list is \"not written by actuary\"), the message says so, and `--force` replaces and records them.",
        "Deleting the manifest loses only this record: the next run into the folder then refuses the outputs",
        "there until `--force`. If the manifest cannot be updated once the outputs are in place (a folder of its",
        "name, a file made immutable), the run ends with exit 1 and says so: the outputs are written, but the",
        "next run will refuse them until `--force`.",
        "",
        "## actuary sensitivity",
        "",
        "Writes `NAME-sensitivity.xlsx` and `NAME-sensitivity.nc`, and prints the tornado table. The workbook has",
        "the sheets Tornado, Scenarios (the key results of every scenario and what it changes of the base valuation),",
        "one sheet by year and scenario for each of",
        ", ".join(f"`{n}` ({sensitivity_sheet_name(n)})" for n in SENSITIVITY_SHEETS if n not in FLOOR_YEARLY)
        + ", with a floor, " + ", ".join(f"`{n}` ({sensitivity_sheet_name(n)})" for n in FLOOR_YEARLY
                                         if n != WITH_BORROWING)
        + f" and, beside a scheme, `{WITH_BORROWING}` "
        f"({sensitivity_sheet_name(WITH_BORROWING)})"
        + ", then Charts (with the scenarios of a Scenarios sheet beside the base, when there are any) and About this "
        "run. The netCDF file has every variable below, by year and scenario also "
        + ", ".join(f"`{n}`" for n in YEARLY if n not in SENSITIVITY_SHEETS) + ", which the workbook does not show.",
        "Global attributes",
        "besides the conventions': `case_name`, `failed` (the scenarios that failed, comma-separated),",
        "`national_population`, `scheme` (yes, or no for a floor costing alone).",
        "",
        "Scenarios: `base`; each assumption moved down and up, the others as in the base:",
        "",
        "| assumption | down | up |",
        "|---|---|---|",
    ]
    for name, down, up in standard_sensitivities():
        out.append(f"| {name} | {_cell(_describe(down))} | {_cell(_describe(up))} |")
    out += [
        "",
        "(without a national population, " + ", ".join(NATIONAL_SENSITIVITIES) + " are not run and real wage",
        "growth moves alone; a floor costing alone does not run " + ", ".join(SCHEME_SENSITIVITIES[:-1])
        + " and " + SCHEME_SENSITIVITIES[-1]
        + "). Then `optimistic` and `pessimistic`: the run decides each assumption's side from its",
        "one-at-a-time results, the side that lowered the full-horizon general average premium (a floor costing",
        "alone: the floor's level cost) going to the optimistic scenario, the other to the pessimistic one (the",
        "direction of some assumptions depends on the scheme: retirement rates with a given early-retirement",
        "reduction, say); the table `actuary sensitivity` prints says which side was the optimistic one. An",
        "input that several of its sides move takes each move in turn (two shifts add): the real return and",
        "inflation both shift the nominal return, so a scenario with the real return up and inflation down",
        "shifts it by +1 - 1 = 0 points and inflation by -1 point, the real return rising by about a point",
        "(`move` says the net move: \"Nominal investment return unchanged, Inflation -1.00 percentage points\").",
        "Then the scenarios of a Scenarios sheet.",
        "",
        "A move held within 0% to 100% (\"at most 100%\") moves the case's values by less where they are near",
        "the bound: the run says each scenario's moves with the values they gave (`move`: \"Collection rate +5.00",
        "percentage points (at most 100%): 96.0% -> 100.0%\"), and the Tornado sheet's notes and the report's",
        "table of moves say them from there.",
        "",
        "Dimensions: `scenario`, `year`, `horizon` (the GAP horizons of `settings`).",
        "",
    ]
    out += _rows(YEARLY + FLOOR_YEARLY + summary, scenario_dims)
    out += ["", *_coordinates(("scenario", "year", "horizon")), "",
            "## actuary stochastic", "",
            "Writes `NAME-stochastic.xlsx` (the probability of depletion by year, one sheet of percentiles per",
            "indicator, fan charts, About this run) and `NAME-stochastic.nc` (`--format zarr`: the folder",
            "`NAME-stochastic.zarr`, a Zarr format 2 store with consolidated metadata: `xr.open_zarr(path)`),",
            "and prints a table of percentiles every ten years. Global attributes besides",
            "the conventions': `case_name`, `paths`, `seed`, `chunk_size`, `bins` (of the streamed histograms that",
            "give the percentiles), `parameter_*` (the stochastic parameters, docs/workbook.md, sheet Stochastic).",
            "The percentile q of n paths is the k-th smallest value, k = ceil(q n / 100)",
            "(`np.percentile(path_values, q, axis=0, method=\"inverted_cdf\")` of a `--keep-paths` run), within one",
            "of the `bins` histogram bins of it and exact at a point mass at the least or the greatest value of the",
            "paths (the payable share of 1 of the paths not depleted, a reserve of 0 under `after_depletion`",
            "payable) or alone in its bin (docs/methodology.md §8).",
            "",
            f"Dimensions: `percentile` ({', '.join(str(p) for p in PERCENTILES)}), `year`; with `--keep-paths`, "
            "`path`. Each",
            "indicator holds its percentiles across paths by year; with `--keep-paths`, `path_<indicator>` holds",
            "every path's values by year, with the indicator's units. A floor costing alone (no scheme) has",
            "only " + ", ".join(f"`{n}`" for n in FLOOR_ONLY_INDICATORS) + " (and the life expectancy at 65)",
            "and no probability of depletion.",
            ""]
    out += _rows(stochastic + ["probability_of_depletion"],
                 lambda name: "year" if name == "probability_of_depletion" else "percentile, year")
    out += ["", *_coordinates(("percentile", "year", "path"))]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    from .workbook_doc import write_or_check

    return write_or_check(PATH, markdown(), "actuary.io.outputs_doc", argv)


if __name__ == "__main__":
    raise SystemExit(main())
