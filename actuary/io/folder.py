"""Read a valuation case folder: ``valuation.json`` (name, scalar inputs by group) and CSV tables.

Each CSV has index columns named after dimensions (year, sex, age, service, benefit) and value
columns named ``group.field`` (e.g. ``demography.population``). A field may depend on fewer
dimensions than it could (it is broadcast); blank cells are dropped (a field that must cover an
age range says so in its error).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..inputs import FIELDS
from ..validation import InputError

if TYPE_CHECKING:
    from ..valuation import Valuation

DIMENSIONS = ("year", "sex", "age", "service", "benefit")


def read_valuation_folder(folder) -> "Valuation":
    from ..valuation import Valuation

    folder = Path(folder)
    spec_path = folder / "valuation.json"
    if not spec_path.exists():
        raise InputError(f"Valuation folder {folder}: valuation.json not found.")
    try:
        spec = json.loads(spec_path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"{spec_path}: not valid JSON ({error.msg} at line {error.lineno}).") from None
    groups = {group: dict(spec.get(group, {})) for group in FIELDS}
    unknown = [k for k in spec if k not in FIELDS and k not in ("name", "description")]
    if unknown:
        raise InputError(f"{spec_path}: unknown entry '{unknown[0]}'; expected name, description and the groups "
                         f"{', '.join(FIELDS)}.")
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path)
        dims = [c for c in frame.columns if c in DIMENSIONS]
        if not dims:
            raise InputError(f"{path.name}: no dimension column; expected some of {DIMENSIONS}.")
        for column in frame.columns:
            if column in dims:
                continue
            group, _, field = column.partition(".")
            if group not in FIELDS or field not in FIELDS[group]:
                raise InputError(f"{path.name}: column '{column}' is not a known input (expected group.field, "
                                 f"e.g. demography.population).")
            if field in groups[group]:
                raise InputError(f"{path.name}: column '{column}' is also given elsewhere in the case.")
            values = frame[dims + [column]].dropna()
            if values.duplicated(dims).any():
                row = values[values.duplicated(dims)].iloc[0]
                raise InputError(f"{path.name}: duplicate row for {', '.join(f'{d}={row[d]}' for d in dims)}.")
            da = values.set_index(dims)[column].to_xarray()
            if FIELDS[group][field].fill is not None:  # sparse tables: absent cells take the field's fill
                da = da.fillna(FIELDS[group][field].fill)
            groups[group][field] = da
    return Valuation(**groups, name=spec.get("name", folder.name))
