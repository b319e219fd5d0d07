"""Read a folder of WPP-format CSV files (the layout of ``assumptions/wpp2019_canada``) into
labelled inputs of :func:`actuary.demography.project_population`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..validation import SEXES, InputError
from .folder import csv_numbers, read_csv_text
from .safety import regular_file_bytes

FILES = {
    "population": "input_population_1950.csv",
    "life_table": "input_life_table.csv",
    "fertility": "input_fertility.csv",
    "sex_ratio_at_birth": "input_sex_ratio_at_birth.csv",
    "net_migration": "input_net_migration.csv",
}
# the columns each file must have: its labels first (a row per combination of them), then its values
COLUMNS = {
    "population": (("year", "sex", "age"), ("population",)),
    "life_table": (("year", "sex", "age"), ("mx", "qx", "ax", "lx", "dx", "Lx", "Sx", "Tx", "ex")),
    "fertility": (("year", "age"), ("asfr",)),
    "sex_ratio_at_birth": (("year",), ("srb",)),
    "net_migration": (("year", "sex", "age"), ("net_migrants",)),
}


# the values each column may hold (low, high, what a value outside says): as a case's inputs are bounded (a WPP
# habit of other units, births per 1,000 women or boys per 100 girls, would otherwise project silently wrong)
VALUE_BOUNDS = {
    "population": (0.0, 1e10, "persons"),
    "asfr": (0.0, 1.0, "births per woman in a year (WPP's per 1,000 women divided by 1,000)"),
    "srb": (0.5, 2.0, "boys per girl born (WPP's per 100 girls divided by 100)"),
    "qx": (0.0, 1.0, "a probability of dying within the year"),
    "Sx": (0.0, 1.0, "a survival ratio"),
    **{column: (0.0, np.inf, "a number >= 0") for column in ("mx", "ax", "lx", "dx", "Lx", "Tx", "ex")},
}
MAX_FILE_BYTES = 100 * 1024 ** 2   # one WPP file of one country (Canada's life table 1950-2100: 1.7 MB)
LABELS = ("year", "age")            # whole numbers


def _path(folder: Path, key: str, pattern: str | None) -> Path:
    """The file of ``key``: its fixed name, or the one file matching ``pattern`` (the base population is named after
    its year); a second match is refused rather than one of them taken."""
    if pattern is None:
        path = folder / FILES[key]
        if not os.path.lexists(path):
            raise InputError(f"WPP folder {folder}: file for '{key}' not found (expected {FILES[key]}).")
        return path
    found = sorted(folder.glob(pattern))
    if not found:
        raise InputError(f"WPP folder {folder}: file for '{key}' not found (expected a file {pattern}, e.g. "
                         f"{FILES[key]}).")
    if len(found) > 1:
        raise InputError(f"WPP folder {folder}: {len(found)} files for '{key}' ({', '.join(p.name for p in found)}); "
                         f"expected one file {pattern} (the base population of one year): move the others out.")
    return found[0]


def _read(folder: Path, key: str, pattern: str | None = None) -> pd.DataFrame:
    """One WPP file read as hostile (:func:`actuary.io.folder.read_csv_text`: a regular file of at most
    :data:`MAX_FILE_BYTES`, UTF-8, every line as many fields as the header); the columns of :data:`COLUMNS` (others
    are not read), every column but ``sex`` numbers (``year`` and ``age`` whole), ``sex`` male or female, one row per
    combination of the labels; each error names the file, its line (the header is line 1), column and value."""
    path = _path(folder, key, pattern)
    data = regular_file_bytes(path, MAX_FILE_BYTES, path.name, " (the WPP files of one country are a few MB)")
    header, text, lines = read_csv_text(data, path.name)
    labels, values = COLUMNS[key]
    missing = [c for c in labels + values if c not in header]
    if missing:
        raise InputError(f"{path.name}: no column {', '.join(repr(c) for c in missing)}; expected the columns "
                         f"{', '.join(labels + values)} (the layout of assumptions/wpp2019_canada).")
    columns = {}
    for column in labels + values:
        if column == "sex":
            sexes = text[column].str.strip()
            wrong = ~sexes.isin(SEXES)
            if wrong.any():
                row = int(np.argmax(wrong.to_numpy()))
                raise InputError(f"{path.name}, line {lines[row]}, column {column}: '{text[column].iloc[row]}'; "
                                 f"expected {' or '.join(SEXES)} (lower case).")
            columns[column] = sexes
            continue
        numbers = csv_numbers(text, lines, column, path.name, f"a number in every row of column {column} ({key})",
                              whole=column in LABELS, blank_ok=False)
        if column in VALUE_BOUNDS:
            low, high, what = VALUE_BOUNDS[column]
            outside = ((numbers < low) | (numbers > high)).to_numpy()
            if outside.any():
                row = int(np.argmax(outside))
                limits = f"between {low:g} and {high:g}" if np.isfinite(high) else f">= {low:g}"
                raise InputError(f"{path.name}, line {lines[row]}, column {column}: value {text[column].iloc[row]}; "
                                 f"expected {limits}: {what}.")
        columns[column] = numbers.astype(np.int64) if column in LABELS else numbers
    frame = pd.DataFrame(columns, index=text.index)
    twice = frame.duplicated(list(labels), keep=False).to_numpy()
    if twice.any():
        rows = np.nonzero(twice)[0]
        first = {c: frame[c].iloc[rows[0]] for c in labels}
        same = [lines[r] for r in rows if all(frame[c].iloc[r] == first[c] for c in labels)][:2]
        raise InputError(f"{path.name}: lines {same[0]} and {same[1]} are both for "
                         f"{', '.join(f'{c}={first[c]}' for c in labels)}; expected one row for each.")
    return frame


def _array(frame: pd.DataFrame, dims: list[str], column: str, name: str) -> xr.DataArray:
    da = frame.set_index(dims)[column].to_xarray().rename(name)
    if "sex" in dims:
        da = da.sel(sex=list(SEXES))
    return da


def read_wpp_folder(folder) -> dict[str, xr.DataArray | xr.Dataset]:
    """Return ``base`` (sex, age), ``life_table`` (Dataset by year, sex, age), ``survival``,
    ``fertility``, ``sex_ratio_at_birth`` and ``net_migration``, with WPP's own labels."""
    folder = Path(folder)
    pop = _read(folder, "population", "input_population_*.csv")
    years = sorted(set(pop["year"].tolist()))
    if len(years) != 1:
        raise InputError(f"{_path(folder, 'population', 'input_population_*.csv').name}: rows for the years "
                         f"{', '.join(map(str, years[:5]))}{' ...' if len(years) > 5 else ''}; expected the base "
                         "population of one year.")
    base_year = years[0]
    base = _array(pop.drop(columns="year"), ["sex", "age"], "population", "base").assign_coords(year=base_year)
    life = _read(folder, "life_table").set_index(["year", "sex", "age"]).to_xarray().sel(sex=list(SEXES))
    return {
        "base": base,
        "life_table": life,
        "survival": life["Sx"].rename("survival"),
        "fertility": _array(_read(folder, "fertility"), ["year", "age"], "asfr", "fertility"),
        "sex_ratio_at_birth": _array(_read(folder, "sex_ratio_at_birth"), ["year"], "srb", "sex_ratio_at_birth"),
        "net_migration": _array(_read(folder, "net_migration"), ["year", "sex", "age"], "net_migrants",
                                "net_migration"),
    }
