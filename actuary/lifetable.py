"""Complete (single-age) period life tables and mortality projection.

Conventions (docs/methodology.md §1-2): ages 0..ω with ω the open age group; ``a_x`` is the average
fraction of the year lived by those dying at age x (1/2 by default except at age 0, where a user
value or the Andreev-Kingkade formula is used, and at the open age, where ``a_ω = 1/m_ω``).

    q_x = m_x / (1 + (1 - a_x) m_x),   q_ω = 1
    l_{x+1} = l_x (1 - q_x),   d_x = l_x q_x
    L_x = l_{x+1} + a_x d_x            (so L_ω = a_ω l_ω)
    T_x = sum_{y >= x} L_y,   e_x = T_x / l_x
    S_0 = L_0 / l_0,   S_x = L_x / L_{x-1} (0 < x < ω),   S_ω = T_ω / T_{ω-1}

``S_x`` are the survival ratios of the cohort-component projection (the WPP convention).
Every function accepts DataArrays with an ``age`` dimension and any other dimensions
(year, sex, scenario, ...), which are broadcast.
"""

from __future__ import annotations

import numba
import numpy as np
import xarray as xr

from . import validation as check

RADIX = 100_000.0


def _a0(m0: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Andreev-Kingkade a_0 on plain arrays (``male`` a boolean array broadcastable to m0)."""
    a_male = np.where(m0 < 0.02300, 0.14929 - 1.99545 * m0, np.where(m0 < 0.08307, 0.02832 + 3.26201 * m0, 0.29915))
    a_female = np.where(m0 < 0.01724, 0.14903 - 2.05527 * m0,
                        np.where(m0 < 0.06891, 0.04667 + 3.88089 * m0, 0.31411))
    return np.where(male, a_male, a_female)


def _male_mask(da: xr.DataArray) -> np.ndarray:
    """Boolean array (broadcast over ``da``) that is True where sex == "male"."""
    if "sex" not in da.dims:
        raise check.InputError("The default a_0 (Andreev-Kingkade) depends on sex: give the table a 'sex' "
                               "dimension labelled male/female, or pass ax explicitly.")
    return (da["sex"] == "male").broadcast_like(da).transpose(*da.dims).values


def infant_separation_factor(m0: xr.DataArray) -> xr.DataArray:
    """a_0 from the infant death rate m_0 by sex: Andreev & Kingkade (2015), as used by the HMD.

    Males:   0.14929 - 1.99545 m0 (m0 < 0.02300); 0.02832 + 3.26201 m0 (< 0.08307); else 0.29915.
    Females: 0.14903 - 2.05527 m0 (m0 < 0.01724); 0.04667 + 3.88089 m0 (< 0.06891); else 0.31411.
    ``m0`` must have a ``sex`` dimension labelled "male"/"female".
    """
    return xr.DataArray(_a0(np.asarray(m0.values, dtype=float), _male_mask(m0)), dims=m0.dims, coords=m0.coords)


def _age_last(name: str, da: xr.DataArray) -> xr.DataArray:
    if not isinstance(da, xr.DataArray) or "age" not in da.dims:
        raise check.InputError(f"Input '{name}' must be an xarray.DataArray with an 'age' dimension.")
    check.integer_steps(name, da, "age", start=0)
    return da.transpose(..., "age")


def _complete(qx: np.ndarray, ax: np.ndarray, radix: float) -> dict[str, np.ndarray]:
    """Columns l, d, L, T, e, S from q (q_ω = 1) and a, along the last axis."""
    lx, dx, Lx = _lived(qx, ax, radix)
    Tx = np.cumsum(Lx[..., ::-1], axis=-1)[..., ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ex = np.where(lx > 0, Tx / lx, 0.0)
    return {"lx": lx, "dx": dx, "Lx": Lx, "Tx": Tx, "ex": ex, "Sx": _survival(lx, Lx)}


def _lived(qx: np.ndarray, ax: np.ndarray, radix: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns l, d and L from q (q_ω = 1) and a, along the last axis (L_ω = a_ω d_ω)."""
    lx = np.empty_like(qx)
    lx[..., 0] = radix
    np.multiply(radix, np.cumprod(1.0 - qx[..., :-1], axis=-1), out=lx[..., 1:])
    dx = lx * qx
    Lx = ax * dx
    Lx[..., :-1] += lx[..., 1:]
    return lx, dx, Lx


def _survival(lx: np.ndarray, Lx: np.ndarray) -> np.ndarray:
    """Column S from l and L: L_0 / l_0, L_x / L_{x-1}, and T_ω / T_{ω-1} = L_ω / (L_ω + L_{ω-1}) (0 where the
    denominator is 0)."""
    Sx = np.empty_like(Lx)
    with np.errstate(divide="ignore", invalid="ignore"):
        Sx[..., 0] = Lx[..., 0] / lx[..., 0]
        Sx[..., 1:-1] = np.where(Lx[..., :-2] > 0, Lx[..., 1:-1] / Lx[..., :-2], 0.0)
        last = Lx[..., -1] + Lx[..., -2]   # T_{ω-1} (T_ω = L_ω)
        Sx[..., -1] = np.where(last > 0, Lx[..., -1] / last, 0.0)
    return Sx


def _to_dataset(template: xr.DataArray, columns: dict[str, np.ndarray]) -> xr.Dataset:
    return xr.Dataset({k: (template.dims, v) for k, v in columns.items()}, coords=template.coords)


def life_table_from_qx(qx: xr.DataArray, ax: xr.DataArray | None = None, radix: float = RADIX) -> xr.Dataset:
    """Complete life table from death probabilities q_x (q_ω is taken as 1).

    ``ax`` defaults to 1/2 at ages 1..ω-1; at age 0 the Andreev-Kingkade a_0 (solved jointly with
    m_0 = q_0 / (1 - (1 - a_0) q_0), needs a ``sex`` dimension); at the open age a_ω = 1/m_ω with
    m_ω taken equal to m_{ω-1} (constant force of mortality beyond the last closed age).
    Returns mx, qx, ax, lx, dx, Lx, Tx, ex, Sx.
    """
    qx = _age_last("qx", qx).astype(float)
    check.probability("qx", qx, "a death probability")
    if ax is None:
        cols = life_table_columns(qx.values, _male_mask(qx.isel(age=0)), radix)
        return _to_dataset(qx, _with_rates(cols["qx"], cols["ax"], radix))
    q = np.array(qx.values, dtype=float)
    q[..., -1] = 1.0
    ax = _age_last("ax", ax).broadcast_like(qx).transpose(*qx.dims)
    check.nonnegative("ax", ax, "a separation factor")
    return _to_dataset(qx, _with_rates(q, np.array(ax.values, dtype=float), radix))


def life_table_columns(qx: np.ndarray, male: np.ndarray, radix: float = RADIX) -> dict[str, np.ndarray]:
    """The columns of :func:`life_table_from_qx` with its default a_x but m_x, on plain arrays: ``qx`` by
    (..., age) (q_ω taken as 1; checked by the caller), ``male`` a boolean array broadcastable to
    ``qx[..., 0]``."""
    q, a = _default_separation(qx)
    a[..., 0] = _infant_separation(q[..., 0], male)
    return {"qx": q, "ax": a, **_complete(q, a, radix)}


def survival_ratios(qx: np.ndarray, male: np.ndarray, radix: float = RADIX) -> np.ndarray:
    """The column S of :func:`life_table_columns` alone (the cohort-component survival ratios), on plain
    arrays: the same operations in the same order (:func:`_default_separation`, :func:`_infant_separation`,
    :func:`_lived`, :func:`_survival`), one table after another without the whole-array temporaries."""
    q = np.ascontiguousarray(qx, dtype=float)
    male = np.broadcast_to(male, q.shape[:-1])
    if q.shape[-1] < 2:
        return _survival_ratios_arrays(q, male, radix)
    out = np.empty(q.shape)
    _survival_ratios_rows(q.reshape(-1, q.shape[-1]), np.ascontiguousarray(male).reshape(-1), radix,
                          out.reshape(-1, q.shape[-1]))
    return out


def _survival_ratios_arrays(qx: np.ndarray, male: np.ndarray, radix: float) -> np.ndarray:
    """:func:`survival_ratios` with whole-array operations (tables of fewer than two ages)."""
    q, a = _default_separation(qx)
    a[..., 0] = _infant_separation(q[..., 0], male)
    lx, _, Lx = _lived(q, a, radix)
    return _survival(lx, Lx)


@numba.njit(cache=True, error_model="numpy")
def _a0_scalar(m0: float, male: bool) -> float:
    """:func:`_a0` of one table."""
    if male:
        return 0.14929 - 1.99545 * m0 if m0 < 0.02300 else (0.02832 + 3.26201 * m0 if m0 < 0.08307 else 0.29915)
    return 0.14903 - 2.05527 * m0 if m0 < 0.01724 else (0.04667 + 3.88089 * m0 if m0 < 0.06891 else 0.31411)


@numba.njit(cache=True, error_model="numpy")
def _survival_ratios_rows(qx, male, radix, out):
    """S_x of the tables q (rows by age, at least two ages) into ``out``: q_ω taken as 1, a_x 1/2, a_ω = 1/m_ω
    (m_ω = m_{ω-1}), a_0 the Andreev-Kingkade fixed point iterated for every table together until the largest
    change is below 1e-15 (at most 100 steps, as :func:`_infant_separation`); then l, L and S as
    :func:`_lived` and :func:`_survival`."""
    n, w = qx.shape
    a0 = np.full(n, 0.1)
    updated = np.empty(n)
    for _ in range(100):
        converged = True
        for r in range(n):
            q0 = qx[r, 0]
            updated[r] = _a0_scalar(q0 / (1.0 - (1.0 - a0[r]) * q0), male[r])
            if not abs(updated[r] - a0[r]) < 1e-15:
                converged = False
        a0[:] = updated
        if converged:
            break
    lx = np.empty(w)
    Lx = np.empty(w)
    for r in range(n):
        _lived_row(qx[r], a0[r], radix, lx, Lx)
        out[r, 0] = Lx[0] / lx[0]
        for x in range(1, w - 1):
            out[r, x] = Lx[x] / Lx[x - 1] if Lx[x - 1] > 0 else 0.0
        last = Lx[w - 1] + Lx[w - 2]
        out[r, w - 1] = Lx[w - 1] / last if last > 0 else 0.0


def _infant_separation(q0: np.ndarray, male: np.ndarray) -> np.ndarray:
    """The Andreev-Kingkade a_0 that goes with q_0: the fixed point a_0 = AK(m_0), m_0 = q_0 / (1 - (1 - a_0) q_0)
    (a contraction: converges in a few steps)."""
    a0 = np.full_like(q0, 0.1)
    for _ in range(100):
        updated = _a0(q0 / (1.0 - (1.0 - a0) * q0), male)
        converged = np.max(np.abs(updated - a0)) < 1e-15 if a0.size else True
        a0 = updated
        if converged:
            break
    return a0


def life_expectancy(qx: np.ndarray, age: int) -> np.ndarray:
    """e_x at ``age`` >= 1 of the tables of :func:`life_table_columns` (q by (..., age 0..ω)), from the ages
    x >= ``age`` alone (e_x = T_x / l_x does not depend on the younger ages, nor on a_0): T summed from the
    last age down, l the radix, table by table (the operations of :func:`_lived` and ``np.cumsum``)."""
    q = np.ascontiguousarray(qx[..., age:], dtype=float)
    if q.shape[-1] < 2:
        q, a = _default_separation(q)
        return np.cumsum(_lived(q, a, RADIX)[2][..., ::-1], axis=-1)[..., -1] / RADIX
    out = np.empty(q.shape[:-1])
    _life_expectancy_rows(q.reshape(-1, q.shape[-1]), RADIX, out.reshape(-1))
    return out


@numba.njit(cache=True, error_model="numpy")
def _life_expectancy_rows(qx, radix, out):
    n, w = qx.shape
    lx = np.empty(w)
    Lx = np.empty(w)
    for r in range(n):
        _lived_row(qx[r], 0.5, radix, lx, Lx)
        total = Lx[w - 1]
        for x in range(w - 2, -1, -1):
            total += Lx[x]
        out[r] = total / radix


@numba.njit(cache=True, error_model="numpy")
def _lived_row(q, a_first, radix, lx, Lx):
    """l and L of one table q by age (at least two ages; q_ω taken as 1) as :func:`_lived` takes them, with
    a_x 1/2 but ``a_first`` at the first age and 1/m_ω at the last (m_ω = m_{ω-1}, :func:`_default_separation`)."""
    w = q.size
    q_last_closed = q[w - 2]
    m_last_closed = q_last_closed / (1.0 - 0.5 * q_last_closed)
    a_last = 1.0 / max(m_last_closed, 1e-300) if m_last_closed > 0 else 0.0
    survivors = 1.0
    lx[0] = radix
    for x in range(1, w):
        survivors = survivors * (1.0 - q[x - 1]) if x > 1 else 1.0 - q[0]
        lx[x] = radix * survivors
    for x in range(w):
        qx = 1.0 if x == w - 1 else q[x]
        a = a_first if x == 0 else (a_last if x == w - 1 else 0.5)
        Lx[x] = a * (lx[x] * qx)
        if x < w - 1:
            Lx[x] += lx[x + 1]


def _default_separation(qx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q with q_ω = 1, and the default a_x but a_0: 1/2, and 1/m_ω at the open age (m_ω = m_{ω-1})."""
    q = np.array(qx, dtype=float)
    q[..., -1] = 1.0
    a = np.full_like(q, 0.5)
    m_last_closed = q[..., -2] / (1.0 - 0.5 * q[..., -2])
    a[..., -1] = np.where(m_last_closed > 0, 1.0 / np.maximum(m_last_closed, 1e-300), 0.0)
    return q, a


def _with_rates(q: np.ndarray, a: np.ndarray, radix: float) -> dict[str, np.ndarray]:
    """mx, qx, ax and the columns of :func:`_complete`."""
    cols = _complete(q, a, radix)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(cols["Lx"] > 0, cols["dx"] / cols["Lx"], 0.0)
    return {"mx": m, "qx": q, "ax": a, **cols}


def life_table_from_mx(mx: xr.DataArray, ax: xr.DataArray | None = None, radix: float = RADIX) -> xr.Dataset:
    """Complete life table from central death rates m_x.

    q_x = m_x / (1 + (1 - a_x) m_x) for x < ω, q_ω = 1. ``ax`` defaults to 1/2 at ages 1..ω-1, the
    Andreev-Kingkade a_0 at age 0 (needs a ``sex`` dimension) and 1/m_ω at the open age.
    """
    mx = _age_last("mx", mx).astype(float)
    check.nonnegative("mx", mx, "a central death rate")
    m = np.array(mx.values, dtype=float)
    if ax is None:
        a = np.full_like(m, 0.5)
        a[..., 0] = _a0(m[..., 0], _male_mask(mx.isel(age=0)))
        if np.any(m[..., -1] <= 0):
            raise check.InputError("Input 'mx': the open age group needs a death rate > 0.")
        a[..., -1] = 1.0 / m[..., -1]
    else:
        ax = _age_last("ax", ax).broadcast_like(mx).transpose(*mx.dims)
        check.nonnegative("ax", ax, "a separation factor")
        a = np.array(ax.values, dtype=float)
    q = m / (1.0 + (1.0 - a) * m)
    q[..., -1] = 1.0
    check.probability("qx derived from mx", xr.DataArray(q, dims=mx.dims, coords=mx.coords))
    cols = _complete(q, a, radix)
    return _to_dataset(mx, {"mx": m, "qx": q, "ax": a, **cols})


def survival_ratios_from_qx(qx: xr.DataArray, ax: xr.DataArray | None = None) -> xr.DataArray:
    """Cohort-component survival ratios S_x from q_x (see :func:`life_table_from_qx`)."""
    return life_table_from_qx(qx, ax)["Sx"].rename("survival")


def survival_ratios_from_mx(mx: xr.DataArray, ax: xr.DataArray | None = None) -> xr.DataArray:
    """Cohort-component survival ratios S_x from m_x (see :func:`life_table_from_mx`)."""
    return life_table_from_mx(mx, ax)["Sx"].rename("survival")


def improved_mortality(base: np.ndarray, improvement: np.ndarray, tail: int = 0) -> np.ndarray:
    """q_x(t) by (year, sex, age) on plain arrays: q_x(t0) prod_{u=t0+1..t} (1 - AI_x(u)), clipped to [0, 1],
    q_ω = 1 (``base`` q_x(t0) by (sex, age), ``improvement`` AI by (year, sex, age), the first year's unused);
    ``tail`` years more improving at the last year's rates. The products are taken year after year as
    ``np.cumprod`` takes them along the year axis."""
    improvement = np.ascontiguousarray(improvement, dtype=float)
    q = np.empty((improvement.shape[0] + tail,) + improvement.shape[1:])
    _improved_mortality(np.ascontiguousarray(base, dtype=float), improvement, q)
    return q


@numba.njit(cache=True, error_model="numpy")
def _improved_mortality(base, improvement, q):
    n_given = improvement.shape[0]
    n_years, n_sexes, n_ages = q.shape
    factor = np.ones((n_sexes, n_ages))
    for t in range(n_years):
        for s in range(n_sexes):
            for x in range(n_ages):
                if t > 0:
                    rate = 1.0 - improvement[min(t, n_given - 1), s, x]
                    factor[s, x] = rate if t == 1 else factor[s, x] * rate
                q[t, s, x] = _clipped(base[s, x] * factor[s, x]) if x < n_ages - 1 else 1.0


@numba.njit(cache=True, error_model="numpy")
def _clipped(value: float) -> float:
    """``np.clip(value, 0, 1)`` (NaN stays NaN)."""
    return 0.0 if value < 0.0 else (1.0 if value > 1.0 else value)


def scaled_mortality(q: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """q_x by (year, group, sex, age): q by (year, sex, age) times each group's factor by (group, sex, age),
    clipped to [0, 1], q_ω = 1."""
    q = np.ascontiguousarray(q, dtype=float)
    factors = np.ascontiguousarray(factors, dtype=float)
    out = np.empty((q.shape[0],) + factors.shape)
    _scaled_mortality(q, factors, out)
    return out


@numba.njit(cache=True, error_model="numpy")
def _scaled_mortality(q, factors, out):
    n_years, n_groups, n_sexes, n_ages = out.shape
    for t in range(n_years):
        for g in range(n_groups):
            for s in range(n_sexes):
                for x in range(n_ages - 1):
                    out[t, g, s, x] = _clipped(q[t, s, x] * factors[g, s, x])
                out[t, g, s, n_ages - 1] = 1.0


def project_mortality(qx_base: xr.DataArray, improvement: xr.DataArray, years) -> xr.DataArray:
    """Death probabilities by year with mortality improvement.

    q_x(t) = q_x(t0) * prod_{u=t0+1..t} (1 - AI_x(u)), which is q_x(t0) (1 - AI_x)^(t - t0) when
    the improvement rates AI_x do not depend on the year. ``years`` starts at the base year t0;
    ``improvement`` is by (sex, age) or (year, sex, age) and may be negative (deterioration).
    """
    years = np.asarray(years, dtype=np.int64)
    qx_base = _age_last("qx_base", qx_base)
    check.probability("qx_base", qx_base, "a death probability")
    check.finite("improvement", improvement)
    if np.any(improvement.values >= 1):
        i = int(np.flatnonzero(improvement.values >= 1)[0])
        raise check.InputError(
            f"Input 'improvement' at {check.cell(improvement, i)}: value {improvement.values.flat[i]} "
            "is >= 1; an improvement rate must be below 1 (100%)."
        )
    if "year" in improvement.dims:
        improvement = check.covers_years("improvement", improvement, years[1:]) if years.size > 1 else improvement
        factor = (1.0 - improvement).cumprod("year")
        factor = xr.concat([xr.ones_like(factor.isel(year=0)).assign_coords(year=years[0]), factor], "year")
    else:
        elapsed = xr.DataArray(years - years[0], dims="year", coords={"year": years})
        factor = (1.0 - improvement) ** elapsed
    qx = (qx_base * factor).clip(0.0, 1.0)
    return qx.transpose("year", ..., "age").rename("qx")
