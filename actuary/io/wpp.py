"""Read a folder of WPP-format CSV files (the layout of ``assumptions/wpp2019_canada``) into
labelled inputs of :func:`actuary.demography.project_population`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from ..validation import SEXES, InputError

FILES = {
    "population": "input_population_1950.csv",
    "life_table": "input_life_table.csv",
    "fertility": "input_fertility.csv",
    "sex_ratio_at_birth": "input_sex_ratio_at_birth.csv",
    "net_migration": "input_net_migration.csv",
}


def _read(folder: Path, key: str, pattern: str | None = None) -> pd.DataFrame:
    path = folder / FILES[key] if pattern is None else next(iter(sorted(folder.glob(pattern))), None)
    if path is None or not path.exists():
        raise InputError(f"WPP folder {folder}: file for '{key}' not found (expected {FILES[key]}).")
    frame = pd.read_csv(path)
    _refuse_text(frame, path, key)
    return frame


def _refuse_text(frame: pd.DataFrame, path: Path, key: str) -> None:
    """Refuse a cell of text in a column of numbers (every column but ``sex``), naming the file, its line (the
    header is line 1), the column and the value: the input's own check said only "values of type object"."""
    for column in frame.columns:
        if column == "sex" or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column]
        numbers = pd.to_numeric(values, errors="coerce")
        text = values.notna() & numbers.isna()
        if text.any():
            row = int(text.to_numpy().nonzero()[0][0])
            more = int(text.sum()) - 1
            raise InputError(f"{path.name}, line {row + 2} (column {column}): value '{str(values.iloc[row])[:60]}' "
                             f"is not a number; expected a number in every row of column {column} ({key})"
                             + (f"; {more} more row(s) of it hold text." if more else "."))


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
