"""Input tables for textbook and test cases: a stable initial population of actives from a service
table and a growth rate, and single-age schedules from tables by age group.

Both return labelled ``xarray.DataArray`` inputs ready for a :class:`actuary.Valuation` (e.g.
``initial={"active": stable_actives(...)}``, ``behaviour={"exit_rate": single_ages(...)}``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .validation import SEXES, InputError


def stable_actives(service_table: xr.DataArray, entrant_distribution: xr.DataArray, entrants: float,
                   growth_rate: float = 0.0, max_service: int = 50) -> xr.DataArray:
    """Active insured at 1 January of the valuation year by (sex, age, service) in the stable state of a
    scheme whose yearly entrants have grown at ``growth_rate`` for ever and who stay in service as
    ``service_table`` says: the initial population of a growth-method (scheme-only) valuation that
    continues its own past.

    ``service_table`` (age, optionally sex): l_x, the number in active service at 1 January at age x
    (a combined-decrement service table, any radix: only ratios l_x / l_e are used; 0 where nobody is
    active). ``entrant_distribution`` (sex, age): shares of a year's entrants by their age at the end
    of the entry year (as ``behaviour.entrant_distribution``). ``entrants``: entrants in the valuation
    year (``behaviour.entrants``). Service is credited in full every year (credit density 1).

    With the engine's conventions (entrants of year t at age e at the end of the year appear on
    1 January t + 1 aged e with 0 completed years; one more completed year a year), the actives aged x
    with k = x - e completed years at 1 January t0 entered in year t0 - 1 - k:

        active(s, x, k) = entrants (1 + g)^-(k + 1) dist(s, e) l(s, x) / l(s, e),   e = x - k,

    completed service above ``max_service`` counted at ``max_service``. Returns a DataArray over the
    ages of ``entrant_distribution`` and service 0..max_service.
    """
    if growth_rate <= -1:
        raise InputError(f"stable_actives: growth_rate {growth_rate} must be above -100%.")
    if "age" not in entrant_distribution.dims or "age" not in service_table.dims:
        raise InputError("stable_actives: service_table and entrant_distribution need an 'age' dimension.")
    ages = entrant_distribution["age"].values
    dist = entrant_distribution.broadcast_like(xr.DataArray(np.zeros((2, ages.size)), dims=("sex", "age"),
                                                            coords={"sex": list(SEXES), "age": ages}))
    dist = dist.transpose("sex", "age").values
    table = service_table.reindex(age=ages, fill_value=0.0)
    if "sex" not in table.dims:
        table = table.expand_dims(sex=list(SEXES))
    table = table.transpose("sex", "age").values.astype(float)
    if np.any(table < 0) or np.any(~np.isfinite(table)):
        raise InputError("stable_actives: service_table must hold numbers >= 0 (people in service).")
    out = np.zeros((2, ages.size, max_service + 1))
    for s in range(2):
        for i in range(ages.size):          # age at 1 January t0
            for j in range(i + 1):          # entry age (end of the entry year)
                if dist[s, j] == 0.0 or table[s, j] == 0.0:
                    continue
                k = i - j
                out[s, i, min(k, max_service)] += (entrants * (1 + growth_rate) ** -(k + 1) * dist[s, j]
                                                   * table[s, i] / table[s, j])
    return xr.DataArray(out, dims=("sex", "age", "service"),
                        coords={"sex": list(SEXES), "age": ages, "service": np.arange(max_service + 1)},
                        name="active")


def single_ages(table, width: int = 5, method: str = "linear", ages=None) -> xr.DataArray:
    """A schedule by single age from a table by age group (e.g. rates for ages 20-24, 25-29, ...).

    ``table``: a DataArray whose ``age`` labels are the first ages of the groups (any other dimensions,
    such as sex, are kept), or a mapping {first age: value}. Groups are ``width`` years wide.
    ``method``: "step" gives every age of a group the group's value; "linear" interpolates linearly
    between the groups' mean ages (first age + (width - 1) / 2) and holds the first and last groups'
    values beyond them. ``ages``: the single ages wanted (default: from the first group's first age
    to the last group's last age); ages outside the groups take the nearest group's value.
    """
    if isinstance(table, Mapping):
        table = xr.DataArray(np.asarray(list(table.values()), dtype=float), dims="age",
                             coords={"age": np.asarray(list(table.keys()))})
    if not isinstance(table, xr.DataArray) or "age" not in table.dims:
        raise InputError("single_ages: expected a DataArray with an 'age' dimension (the groups' first ages) "
                         "or a mapping {first age: value}.")
    if method not in ("linear", "step"):
        raise InputError(f"single_ages: method '{method}' is not an option; expected 'linear' or 'step'.")
    starts = np.asarray(table["age"].values, dtype=float)
    if width < 1 or np.any(np.diff(starts) != width):
        raise InputError(f"single_ages: the groups must start every {width} years (got first ages "
                         f"{starts.astype(int).tolist()}).")
    if ages is None:
        ages = np.arange(int(starts[0]), int(starts[-1]) + width)
    ages = np.asarray(ages)
    values = table.transpose(..., "age")
    if method == "step":
        group = np.clip(np.floor((ages - starts[0]) / width).astype(int), 0, starts.size - 1)
        out = values.isel(age=xr.DataArray(group, dims="age"))
    else:
        means = starts + (width - 1) / 2
        flat = values.values.reshape(-1, starts.size)
        out = np.stack([np.interp(ages, means, row) for row in flat]).reshape(values.shape[:-1] + (ages.size,))
        out = xr.DataArray(out, dims=values.dims)
    coords = {d: table[d] for d in values.dims if d != "age" and d in table.coords}
    return out.drop_vars("age", errors="ignore").assign_coords(age=ages, **coords).rename(table.name)
