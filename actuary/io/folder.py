"""Read a valuation case folder: ``valuation.json`` (name, scalar inputs by group) and CSV tables.

Each CSV has index columns named after dimensions (year, sex, age, service, benefit, floor_benefit) and
value columns named ``group.field`` (e.g. ``demography.population``). A field may depend on fewer
dimensions than it could (it is broadcast); blank cells are dropped (a field that must cover an
age range says so in its error).

The social protection floor reads as the workbook's Floor sheets do: a table indexed by
``floor_benefit`` with the columns ``floor.kind``, ``floor.sex``, ``floor.min_age``, ``floor.max_age``
(blank: no upper limit), ``floor.amount``, ``floor.basis``, ``floor.indexation``, ``floor.take_up``,
``floor.test`` and ``floor.admin_share`` (the Floor sheet, one row per benefit, benefits in the order of
their rows); ``floor.take_up`` by ``year`` and ``floor_benefit`` (the Floor take-up sheet) and
``floor.eligibility`` by ``floor_benefit``, ``sex`` and ``age`` (the Floor eligibility sheet) in tables of
their own. A case without a scheme says ``"settings": {"scheme": "no"}`` in valuation.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..inputs import FIELDS
from .workbook import year_spans
from ..validation import InputError

if TYPE_CHECKING:
    from ..valuation import Valuation

DIMENSIONS = ("year", "sex", "age", "service", "benefit", "floor_benefit")


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
    years_by_file: dict[str, set] = {}   # the years of each file's tables (to tell those outside the projection)
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
            if "floor_benefit" in dims:   # the benefits in the order of the rows, as in the Floor sheet
                da = da.reindex(floor_benefit=pd.unique(values["floor_benefit"]))
            if FIELDS[group][field].fill is not None:  # sparse tables: absent cells take the field's fill
                da = da.fillna(FIELDS[group][field].fill)
            groups[group][field] = da
            if "year" in dims:
                years_by_file.setdefault(path.name, set()).update(int(y) for y in da["year"].values)
    valuation = Valuation(**groups, name=spec.get("name", folder.name))
    projected = set(valuation.inputs.coords["year"].tolist())
    outside = [f"{name}: {year_spans(sorted(years - projected))}" for name, years in years_by_file.items()
               if years - projected]
    if outside:   # rows of years the projection does not cover (a horizon shortened in valuation.json): said
        valuation.source = {**(valuation.source or {}), "years_outside": outside}
    return valuation
