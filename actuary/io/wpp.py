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


MAX_FILE_BYTES = 100 * 1024 ** 2   # one WPP file of one country (Canada's life table 1950-2100: 1.7 MB)
LABELS = ("year", "age")            # whole numbers


def _read(folder: Path, key: str, pattern: str | None = None) -> pd.DataFrame:
    """One WPP file read as hostile (:func:`actuary.io.folder.read_csv_text`: a regular file of at most
    :data:`MAX_FILE_BYTES`, UTF-8, every line as many fields as the header); every column but ``sex`` numbers
    (``year`` and ``age`` whole), an error naming the file, its line (the header is line 1), column and value."""
    path = folder / FILES[key] if pattern is None else next(iter(sorted(folder.glob(pattern))), None)
    if path is None or not os.path.lexists(path):
        raise InputError(f"WPP folder {folder}: file for '{key}' not found (expected {FILES[key]}).")
    data = regular_file_bytes(path, MAX_FILE_BYTES, path.name, " (the WPP files of one country are a few MB)")
    header, text, lines = read_csv_text(data, path.name)
    columns = {}
    for column in header:
        if column == "sex":
            columns[column] = text[column]
            continue
        numbers = csv_numbers(text, lines, column, path.name, f"a number in every row of column {column} ({key})",
                              whole=column in LABELS, blank_ok=False)
        columns[column] = numbers.astype(np.int64) if column in LABELS else numbers
    return pd.DataFrame(columns, index=text.index)


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
    base_year = int(pop["year"].iloc[0])
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
