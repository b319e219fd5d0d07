"""Stochastic projections (docs/methodology.md §8): Monte Carlo paths around the valuation's assumptions.

Per path and year t > t0 (t0 keeps the valuation's values):
- economic deviations x_t = φ x_{t-1} + σ ε_t for real wage growth (also added to productivity),
  inflation and the real return, with correlated standard normal ε (correlation matrix ``corr``);
  nominal return = (1 + inflation)(1 + base real return + deviation) - 1;
- mortality: the improvement rates of every age and sex shifted by u_t, held within the bounds of the input
  (-10% .. 10% a year). The ``level`` model (the default, Lee-Carter type): u_t = δ + σ_m η_t, i.i.d. deviations
  whose sum is a random walk on the level of log mortality, plus a drift error δ ~ N(0, σ_d²) drawn once per path;
  the ``improvement`` model (earlier versions'): a random walk on the improvement rates, u_t = u_{t-1} + σ_m η_t;
- fertility: rates multiplied by exp(f_t), f_t = φ_f f_{t-1} + σ_f ζ_t.

Path k draws its numbers from ``numpy.random.default_rng([seed, k])``, so results do not depend on
how paths are chunked or which worker runs them. Percentiles are reduced in a stream: a histogram
per indicator and year (ranges fixed from the first ``pilot`` paths, widened) with the value of each bin that
holds a single one, so their memory does not grow with the number of paths; the exact minimum and maximum, and how
many paths take each, are kept beside them. A percentile is the k-th smallest value of the paths (NumPy's
``inverted_cdf``), exact at a point mass (:class:`StreamedPercentiles`).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields

import numba
import numpy as np
import xarray as xr

from .kernels.batch import (FLOOR_INDICATORS, IMPROVEMENT_HIGH, IMPROVEMENT_LOW, INDICATORS, histogram_add,
                             simulate_paths)
from .kernels.series import RULE_CODES
from .floor import kernel_inputs as floor_kernel_inputs, poverty_line_at_prices
from .lifetable import improved_mortality, life_expectancy
from .projection import build_kernel_inputs
from .series import past_rates
from .validation import InputError

PERCENTILES = (5, 25, 50, 75, 95)
# indicators that need the national population: absent from a scheme-only valuation's results
NATIONAL_INDICATORS = ("gdp", "expenditure_pct_gdp", "demographic_dependency_ratio")
# the yearly indicators of a floor costing alone (no scheme: no borrowing, so not the fiscal cost including it)
FLOOR_ONLY_INDICATORS = ("gdp", "wage_index", "demographic_dependency_ratio") + FLOOR_INDICATORS[:2]
# the period life expectancy at 65 of each path by sex, after the others (a case whose ages go beyond 65): what the
# mortality model does, in the measure a board reads. It is taken from the path's mortality beside the batch kernel
# (:func:`life_expectancy_paths`: a life table of the ages 65 and over a year, a small fraction of a path's time),
# not in it
LIFE_EXPECTANCY_AGE = 65
LIFE_EXPECTANCY_INDICATORS = ("life_expectancy_65_male", "life_expectancy_65_female")


# The mortality models of the stochastic paths (docs/methodology.md §8). Each shifts the improvement rates of every
# age and sex by u_t; the kernel multiplies mortality by 1 - (improvement + u_t) each year, so log mortality moves by
# about -u_t a year (to first order: -u_t / (1 - improvement), within 1% to 2% for improvement rates of 1% to 2%)
# and by about -S_t = -(u_1 + ... + u_t) after t years.
# - "level" (the default): u_t = δ + σ_m η_t, η_t i.i.d. standard normal and δ ~ N(0, σ_d²) drawn once per path.
#   S_t is a random walk on the level of log mortality, as k_t of Lee and Carter (1992) times b_x, plus the
#   error of its drift: Var S_t = σ_m² t + σ_d² t² (sd 0.36 after 100 years at the defaults).
# - "improvement" (earlier versions' model, kept for comparability): a random walk on the improvement rates,
#   u_t = u_{t-1} + σ_m η_t, so S_t is an integrated random walk: Var S_t = σ_m² t(t+1)(2t+1)/6, about
#   σ_m² t³/3 (sd 1.15 after 100 years at its default 0.002: mortality multiplied or divided by 3 on one path in
#   six). It has no drift error (σ_d must be 0).
MORTALITY_MODELS = ("level", "improvement")
# Defaults by model. Level: Lee and Carter (1992), US 1900-1989: k_t a random walk with drift -0.365 a year and
# innovations of standard deviation 0.651, which b_x (a few hundredths at pension ages, b_x summing to 1 over 19 age
# groups) turns into roughly 0.01 to 0.03 a year in log mortality; the same model fitted to US males aged 60 to 90,
# 1933-1989 (S. Richards, "Volatility v. trend risk", Longevitas, 2010): a drift of -0.008 a year (the 0.8% a year
# by which their mortality fell) with a standard error of 0.003, so yearly changes of standard deviation about
# 0.003 x √56 ≈ 0.022. σ_m = 0.02 is the middle of the 0.01 to 0.03 a year of national data at pension ages;
# σ_d = 0.003 is the standard error of a drift estimated from 45 to 55 years of such data (σ_m / √n, as in
# Richards's fit).
MORTALITY_DEFAULTS = {"level": {"mortality_volatility": 0.02, "mortality_drift_volatility": 0.003},
                      "improvement": {"mortality_volatility": 0.002, "mortality_drift_volatility": 0.0}}

# The largest mortality_volatility of each model.
# - level: σ_m is the standard deviation of a year's change in log mortality about the valuation's improvement. At
#   0.04, twice the default and above the 0.01 to 0.03 of national data at pension ages, a path's improvement rate
#   passes the bounds of the rates (-10% to 10% a year), where it is held, in about one year in fifty (one in 40 to
#   80 for valuation rates of 2% to 0%): beyond it the held rates would visibly narrow the walk it describes.
# - improvement: the walk u_t = u_{t-1} + σ_m η_t shifts the improvement rates of every age by a sum of t shocks,
#   whose standard deviation is σ_m √t: 10 σ_m after 100 years, 17 σ_m after 300. At 0.005 a 100-year walk moves
#   the rates by 5 percentage points (one sd), by more than 10 points on one path in twenty (half the width of the
#   rates' bounds, -10% to 10% a year): beyond it the paths are mostly implausible (0.2 gave absurd results
#   silently). The default 0.002 moves them by 2 points (one sd) in 100 years.
MAX_MORTALITY_VOLATILITY = {"level": 0.04, "improvement": 0.005}
# The largest mortality_drift_volatility (level model): the drift error δ moves log mortality by δ t after t years.
# At 0.01, three times the standard error of a drift estimated from 50 years of national data (about 0.003), one
# path in six has mortality improving a point a year more (or less) than the valuation's for the whole projection:
# log mortality moved by 1 after 100 years (mortality multiplied or divided by e, about 2.7).
MAX_MORTALITY_DRIFT_VOLATILITY = 0.01


# meaning (with the symbols of docs/methodology.md §8) and units of each parameter, for docs/workbook.md
PARAMETER_MEANINGS = {
    "wage_persistence": ("φ of real wage growth: the share of last year's deviation x_{t-1} kept this year",
                         "none (0: deviations independent from year to year)"),
    "wage_volatility": ("σ of real wage growth: standard deviation of the yearly shock of its deviation "
                        "(the deviation is also added to productivity growth)", "a year, as a rate (0.01 = 1 point)"),
    "inflation_persistence": ("φ of inflation", "none"),
    "inflation_volatility": ("σ of inflation", "a year, as a rate (0.01 = 1 point)"),
    "return_persistence": ("φ of the real investment return", "none"),
    "return_volatility": ("σ of the real investment return", "a year, as a rate (0.01 = 1 point)"),
    "correlation_wage_inflation": ("correlation of the shocks ε of real wage growth and inflation", "none"),
    "correlation_wage_return": ("correlation of the shocks ε of real wage growth and the real return", "none"),
    "correlation_inflation_return": ("correlation of the shocks ε of inflation and the real return", "none"),
    "mortality_model": ("how mortality moves: 'level' (a Lee-Carter random walk on the level of log mortality: "
                        "the improvement rates of every age and sex shifted by u_t = δ + σ_m η_t, deviations "
                        "independent from year to year, plus a drift error δ drawn once per path) or 'improvement' "
                        "(earlier versions' model: a random walk on the improvement rates, u_t = u_{t-1} + σ_m η_t, "
                        "no drift error)", "text: level or improvement"),
    "mortality_volatility": ("σ_m: with the level model, standard deviation of the yearly deviation u_t of the "
                             "improvement rates of every age and sex, about that of a year's change in log "
                             "mortality (at most 0.04); with the improvement model, of the yearly step of their "
                             "random walk (at most 0.005)",
                             "a year, as an improvement rate (0.02 = 2 points, about 2% of mortality)"),
    "mortality_drift_volatility": ("σ_d (level model only; 0 with the improvement model): standard deviation of the "
                                   "drift error δ, drawn once per path and added to every year's improvement rates "
                                   "(the uncertainty of the trend; at most 0.01)",
                                   "a year, as an improvement rate (0.003 = 0.3 point)"),
    "fertility_persistence": ("φ_f of the log fertility factor f_t (fertility rates x exp(f_t))", "none"),
    "fertility_volatility": ("σ_f: standard deviation of the yearly shock of f_t",
                             "log of the factor (0.05: about 5% of the rates)"),
}


def parameter_shown(name: str, value) -> tuple[str, str]:
    """(value, units) of a stochastic parameter as the report shows it, from its units in
    :data:`PARAMETER_MEANINGS`: a volatility in a rate's units (0.01 = 1 point) as a percentage (1.00%), as the
    report shows every rate; persistences and correlations (no units) and the log factor of fertility as numbers
    (0.5, 0.05); the mortality model as its word."""
    units = PARAMETER_MEANINGS.get(name, ("", ""))[1]
    if isinstance(value, str):
        return value, ""
    if units.startswith("a year, as an improvement rate"):
        return f"{100 * value:.2f}%", "percentage points of the improvement rates, a year"
    if units.startswith("a year, as a rate"):
        return f"{100 * value:.2f}%", "percentage points of the rate, a year"
    return f"{value:g}", "" if units.startswith("none") else units


@dataclass(frozen=True)
class StochasticParameters:
    """Parameters of the stochastic projections (docs/methodology.md §8), read from a valuation
    workbook's optional ``Stochastic`` sheet (:func:`read_parameters`); the defaults are below.

    Per path and year t after the valuation year, each of real wage growth, inflation and the real
    investment return moves by a deviation x_t = φ x_{t-1} + σ ε_t around the valuation's assumption
    (x = 0 in the valuation year), the shocks ε standard normal and correlated; the nominal return is
    (1 + inflation)(1 + base real return + deviation) - 1. The mortality improvement rates of every age and
    sex move by u_t: with the ``level`` model u_t = δ + σ_m η_t (a random walk on the level of log mortality,
    as Lee and Carter's, plus a drift error δ ~ N(0, σ_d²) drawn once per path), with the ``improvement``
    model u_t = u_{t-1} + σ_m η_t (a random walk on the improvement rates). Fertility rates are multiplied by
    exp(f_t), f_t = φ_f f_{t-1} + σ_f ζ_t.

    - ``wage_persistence`` (φ of real wage growth, default 0.5), ``inflation_persistence`` (φ of inflation,
      0.6), ``return_persistence`` (φ of the real return, 0.2): the share of last year's deviation kept
      this year, without units (0: independent years; near 1: deviations that last).
    - ``wage_volatility`` (σ of real wage growth, 0.01; its deviation is also added to productivity
      growth), ``inflation_volatility`` (σ of inflation, 0.01), ``return_volatility`` (σ of the real
      return, 0.05): standard deviations of the yearly shocks, in the rate's units (0.01 is one
      percentage point a year).
    - ``correlation_wage_inflation`` (0.2), ``correlation_wage_return`` (0.1),
      ``correlation_inflation_return`` (-0.2): correlations of the shocks ε; the three must form a positive
      definite correlation matrix (:meth:`correlation`).
    - ``mortality_model`` (level): ``"level"`` or ``"improvement"`` (the model of earlier versions, for
      comparison with their runs).
    - ``mortality_volatility`` (σ_m, level model 0.02, at most 0.04; improvement model 0.002, at most 0.005):
      with the level model, the standard deviation of the yearly deviation of the improvement rates of every
      age and sex, about that of a year's change in log mortality (0.02: 2% of mortality); with the
      improvement model, of the yearly step of their walk (0.002 is 0.2 percentage point of improvement a
      year).
    - ``mortality_drift_volatility`` (σ_d, level model 0.003, at most 0.01; improvement model 0, the only value
      it accepts: that model has no drift error): the standard deviation of the drift error δ, drawn once per
      path and added to every year's improvement rates of the path.
    - ``fertility_persistence`` (φ_f, 0.8) and ``fertility_volatility`` (σ_f, 0.05) of the log fertility
      factor f_t (0.05 moves the rates by about 5%).

    The two mortality volatilities left out (None) take their model's defaults (:data:`MORTALITY_DEFAULTS`,
    with the literature they come from). Values that are not finite numbers, an unknown model, and
    persistences, volatilities or correlations out of their ranges, are refused with an InputError naming
    the parameter. Without a national population (a scheme-only valuation) fertility is not projected: its
    two parameters then change nothing.
    """

    wage_persistence: float = 0.5
    wage_volatility: float = 0.01
    inflation_persistence: float = 0.6
    inflation_volatility: float = 0.01
    return_persistence: float = 0.2
    return_volatility: float = 0.05
    correlation_wage_inflation: float = 0.2
    correlation_wage_return: float = 0.1
    correlation_inflation_return: float = -0.2
    mortality_model: str = "level"
    mortality_volatility: float | None = None         # the model's default (MORTALITY_DEFAULTS)
    mortality_drift_volatility: float | None = None   # the model's default (MORTALITY_DEFAULTS)
    fertility_persistence: float = 0.8
    fertility_volatility: float = 0.05

    def __post_init__(self):
        model = self.mortality_model
        if not isinstance(model, str) or model.strip().lower() not in MORTALITY_MODELS:
            raise InputError(f"Stochastic parameter 'mortality_model': value {model!r:.60} is not a mortality model; "
                             "expected 'level' (the default: a random walk on the level of log mortality, as "
                             "Lee and Carter's) or 'improvement' (a random walk on the improvement rates, the model "
                             "of earlier versions).", "mortality_model")
        model = model.strip().lower()
        object.__setattr__(self, "mortality_model", model)
        for name, default in MORTALITY_DEFAULTS[model].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        for f in fields(self):
            if f.name == "mortality_model":
                continue
            value = getattr(self, f.name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not np.isfinite(value):
                raise InputError(f"Stochastic parameter '{f.name}': value {value!r:.60} is not a finite number.",
                                 f.name)
            if "volatility" in f.name and not 0 <= value <= 0.5:
                raise InputError(f"Stochastic parameter '{f.name}': value {value} is outside [0, 0.5]; expected a "
                                 "standard deviation of yearly deviations (0.01 is one percentage point).", f.name)
            if f.name == "mortality_volatility":
                _check_mortality_volatility(model, value)
            if f.name == "mortality_drift_volatility":
                _check_mortality_drift_volatility(model, value)
            if ("persistence" in f.name or "correlation" in f.name) and not -1 < value < 1:
                raise InputError(f"Stochastic parameter '{f.name}': value {value} is outside (-1, 1).", f.name)
        if np.min(np.linalg.eigvalsh(self.correlation())) <= 0:   # field: the first correlation (a sheet's cell)
            raise InputError(f"Stochastic parameters: the three correlations (correlation_wage_inflation "
                             f"{self.correlation_wage_inflation:g}, correlation_wage_return "
                             f"{self.correlation_wage_return:g}, correlation_inflation_return "
                             f"{self.correlation_inflation_return:g}) do not form a valid (positive definite) "
                             "correlation matrix; expected correlations that three series can have together (e.g. "
                             "two strongly positive ones cannot go with a strongly negative third).",
                             "correlation_wage_inflation", where={"correlations": "together"})

    def correlation(self) -> np.ndarray:
        return np.array([[1.0, self.correlation_wage_inflation, self.correlation_wage_return],
                         [self.correlation_wage_inflation, 1.0, self.correlation_inflation_return],
                         [self.correlation_wage_return, self.correlation_inflation_return, 1.0]])


def _check_mortality_volatility(model: str, value: float) -> None:
    """Refuse a ``mortality_volatility`` above its model's bound (:data:`MAX_MORTALITY_VOLATILITY`), saying
    the bound in words."""
    bound = MAX_MORTALITY_VOLATILITY[model]
    if value <= bound:
        return
    default = MORTALITY_DEFAULTS[model]["mortality_volatility"]
    if model == "level":
        meaning = ("with mortality_model 'level' it is the yearly standard deviation of the change in log mortality "
                   "of every age and sex about the valuation's improvement (the deviations of the improvement rates); "
                   f"national data show 0.01 to 0.03 at pension ages, and at {bound:g} a path's improvement rate "
                   "already passes the bounds of the rates (-10% to 10% a year), where it is held, in about one year "
                   "in fifty: more often, and the paths would no longer move as the parameter says")
    else:
        meaning = ("with mortality_model 'improvement' it is the yearly standard deviation of a random walk added to "
                   "every mortality improvement rate, whose standard deviation after 100 years is 10 times it "
                   f"({1000 * bound:g} percentage points at {bound:g}; one path in twenty then moves the rates by more "
                   f"than {2000 * bound:g} points, half the width of their bounds, -10% to 10% a year)")
    raise InputError(f"Stochastic parameter 'mortality_volatility': value {value} is above {bound:g}; {meaning}; "
                     f"expected 0 to {bound:g} (default {default:g}).", "mortality_volatility")


def _check_mortality_drift_volatility(model: str, value: float) -> None:
    """Refuse a ``mortality_drift_volatility`` that the model would not use (any but 0 with the improvement model)
    or above :data:`MAX_MORTALITY_DRIFT_VOLATILITY`, saying why."""
    if model == "improvement" and value != 0:
        raise InputError(f"Stochastic parameter 'mortality_drift_volatility': value {value} is given with "
                         "mortality_model 'improvement', whose random walk on the improvement rates has no drift "
                         "error; expected 0 (or no row), or mortality_model 'level', the model that uses it.",
                         "mortality_drift_volatility")
    bound = MAX_MORTALITY_DRIFT_VOLATILITY
    if value > bound:
        raise InputError(f"Stochastic parameter 'mortality_drift_volatility': value {value} is above {bound:g}; it is "
                         "the standard deviation of the error in the trend of mortality, drawn once per path and added "
                         "to every year's improvement rates, so log mortality moves by 100 times it in 100 years "
                         f"(mortality multiplied or divided by {np.exp(100 * bound):.1f} on one path in six at "
                         f"{bound:g}), more than three times the standard error of a trend estimated from 50 years of "
                         f"national data (about 0.003); expected 0 to {bound:g} (default "
                         f"{MORTALITY_DEFAULTS['level']['mortality_drift_volatility']:g}).",
                         "mortality_drift_volatility")


def read_parameters(path) -> StochasticParameters:
    """Parameters from the optional ``Stochastic`` sheet (row 2 the headers parameter | value | notes,
    one parameter a row from row 3); defaults for those not given and without the sheet."""
    from difflib import get_close_matches

    from .io.workbook import WorkbookReader, _blank, _number, _ref

    sheet = "Stochastic"
    known = [f.name for f in fields(StochasticParameters)]
    with WorkbookReader(path) as reader:
        if sheet not in reader.sheetnames:
            return StochasticParameters()
        cells = reader.sheet(sheet, 3, len(known), " (one per parameter)", width=3)
    for column, expected in enumerate(("parameter", "value", "notes"), start=1):
        header = cells.get(2, column)
        if str(header if header is not None else "").strip() != expected:
            first = str(cells.get(1, 1) if cells.get(1, 1) is not None else "").strip()
            raise InputError(f"{_ref(sheet, 2, column)}: header '{header if header is not None else ''}'; expected "
                             f"'{expected}' (columns: parameter, value, notes). Row 1 of the sheet is its title and "
                             "the headers go in row 2, the parameters from row 3"
                             + ("; here the headers are in row 1: insert a title row above them."
                                if first == "parameter" else "."))
    values, rows = {}, {}
    for r in cells.data_rows:
        name = cells.get(r, 1)
        if _blank(name):
            if not _blank(cells.get(r, 2)):
                raise InputError(f"{_ref(sheet, r, 1)}: a value without a parameter name.")
            continue
        name = str(name).strip()
        if name not in known:
            close = get_close_matches(name, known, n=1)
            raise InputError(f"{_ref(sheet, r, 1)}: '{name}' is not a stochastic parameter"
                             f"{f' (did you mean {close[0]}?)' if close else ''}; expected one of {', '.join(known)}.")
        if name in rows:
            raise InputError(f"{_ref(sheet, r, 1)}: '{name}' is listed twice (also in row {rows[name]}).")
        rows[name] = r
        if name == "mortality_model":   # the one text parameter (checked by StochasticParameters)
            value = cells.get(r, 2)
            if _blank(value):
                raise InputError(f"{_ref(sheet, r, 2)}: the cell is blank; expected the mortality model, level or "
                                 "improvement.")
            values[name] = value.strip() if isinstance(value, str) else value
        else:
            values[name] = _number(cells, r, 2, f"a number ({name})", True)
    if "mortality_volatility" in values and "mortality_model" not in values:
        # its meaning depends on the model, and workbooks written before the level model meant the improvement model
        # (mortality_drift_volatility alone is unambiguous: it exists only in the level model)
        name = "mortality_volatility"
        raise InputError(f"{_ref(sheet, rows[name], 2)}: '{name}' is given ({values[name]:g}) but not "
                         "'mortality_model', and what the value means depends on the model: with 'level' (the default "
                         "model) the yearly deviation of log mortality, with 'improvement' (the only model of versions "
                         "before December 2026, whose workbooks meant it) the yearly step of a random walk on the "
                         "improvement rates. Add a row 'mortality_model' with level or improvement.", name)
    try:
        return StochasticParameters(**values)
    except InputError as error:
        # a parameter's own value cell; the correlations together: the first of them that the sheet gives
        given = [rows[n] for n in rows if n.startswith("correlation_")] if error.where.get("correlations") else []
        row = min(given) if given else rows.get(error.field, 2)
        raise InputError(f"{_ref(sheet, row, 2)}: {error}", error.field) from None


def draw_paths(inputs, params: StochasticParameters, seed: int, paths) -> dict[str, np.ndarray]:
    """Per-path series (arrays [path, year]) for the paths numbered ``paths``: the economic rates, the shift
    ``improvement_shift`` u_t of the mortality improvement rates (0 in the valuation year; the kernel holds the
    shifted rates within their bounds) and the fertility factor. Path k draws from ``default_rng([seed, k])``,
    in the order of earlier versions (the economic shocks, the mortality shocks η, the fertility shocks, then the
    drift error δ), so the improvement model gives their paths again."""
    eco = inputs.economy
    inflation0 = eco["inflation"].values
    wage0 = eco["real_wage_growth"].values
    productivity0 = eco["productivity_growth"].values
    real_return0 = (1 + eco["nominal_return"].values) / (1 + inflation0) - 1
    n_years = inflation0.size
    chol = np.linalg.cholesky(params.correlation())
    out = {k: np.empty((len(paths), n_years)) for k in ("inflation", "real_wage", "productivity", "nominal_return",
                                                         "improvement_shift", "fertility_factor")}
    phi = np.array([params.wage_persistence, params.inflation_persistence, params.return_persistence])
    sigma = np.array([params.wage_volatility, params.inflation_volatility, params.return_volatility])
    n = len(paths)
    shocks = np.empty((n, n_years, 3))
    mortality = np.empty((n, n_years))
    fertility = np.empty((n, n_years))
    drift = np.empty(n)
    for i, k in enumerate(paths):  # one generator per path: results independent of chunking
        rng = np.random.default_rng([seed, int(k)])
        shocks[i] = rng.standard_normal((n_years, 3)) @ chol.T
        mortality[i] = rng.standard_normal(n_years)
        fertility[i] = rng.standard_normal(n_years)
        drift[i] = rng.standard_normal()   # drawn last: the draws before it are those of earlier versions
    deviation = np.zeros((n, n_years, 3))
    log_fertility = np.zeros((n, n_years))
    for t in range(1, n_years):  # recursions vectorised over the paths
        deviation[:, t] = phi * deviation[:, t - 1] + sigma * shocks[:, t]
        log_fertility[:, t] = params.fertility_persistence * log_fertility[:, t - 1] \
            + params.fertility_volatility * fertility[:, t]
    # the shift u_t of the improvement rates (none in the valuation year, t = 0)
    steps = params.mortality_volatility * mortality
    steps[:, 0] = 0.0
    if params.mortality_model == "level":   # u_t = δ + σ_m η_t: a random walk on the level of log mortality
        shift = steps + params.mortality_drift_volatility * drift[:, None]
        shift[:, 0] = 0.0
    else:                                   # u_t = u_{t-1} + σ_m η_t: a random walk on the improvement rates
        shift = np.cumsum(steps, axis=1)
    out["real_wage"][:] = wage0 + deviation[:, :, 0]
    out["productivity"][:] = productivity0 + deviation[:, :, 0]
    out["inflation"][:] = inflation0 + deviation[:, :, 1]
    out["nominal_return"][:] = (1 + out["inflation"]) * (1 + real_return0 + deviation[:, :, 2]) - 1
    out["improvement_shift"][:] = shift
    out["fertility_factor"][:] = np.exp(log_fertility)
    for name in ("inflation", "real_wage", "nominal_return"):
        if np.any(out[name] <= -1):
            raise InputError(f"stochastic path: {name} fell to -100% or below; lower the volatility parameters.")
    return out


def path_valuation(base, draws: dict, i: int):
    """The full Valuation of path ``i`` of ``draws`` (the reference the batch kernel is checked against)."""
    years = base.inputs.coords["year"]

    def series(values):
        return xr.DataArray(values, dims="year", coords={"year": years})

    demo = base.inputs.demography
    shift = xr.DataArray(draws["improvement_shift"][i], dims="year", coords={"year": years})
    factor = xr.DataArray(draws["fertility_factor"][i], dims="year", coords={"year": years})
    economy = {"inflation": series(draws["inflation"][i]), "real_wage_growth": series(draws["real_wage"][i]),
               "nominal_return": series(draws["nominal_return"][i])}
    improvement = (demo["mortality_improvement"] + shift).clip(IMPROVEMENT_LOW, IMPROVEMENT_HIGH)  # as the kernel
    demography = {"mortality_improvement": improvement.transpose("year", "sex", "age")}
    if base.inputs.national:  # productivity and fertility only move GDP and the national population
        economy["productivity_growth"] = series(draws["productivity"][i])
        demography["fertility"] = (demo["fertility"] * factor).transpose("year", "age")
    if base.inputs.economy["poverty_line"] is not None:  # moves with the path's prices (see actuary.floor)
        economy["poverty_line"] = poverty_line_at_prices(base.inputs, draws["inflation"][i])
    return base.replace(economy=economy, demography=demography)


def pack(base) -> dict:
    """The base valuation's arrays shared by every path (sent once to each worker); for a floor costing
    alone, the valuation itself (each path is projected in full: :func:`floor_only_paths`)."""
    inputs = base.inputs
    if not inputs.has_scheme:
        return {"inputs": inputs, "valuation": base}
    sch, beh, eco, st = inputs.scheme, inputs.behaviour, inputs.economy, inputs.settings
    kin = build_kernel_inputs(inputs)
    p, ins, pen, fin = kin.population, kin.insured, kin.pensions, kin.finance
    q_base = inputs.demography["mortality"].transpose("sex", "age").values
    improvement = inputs.demography["mortality_improvement"].transpose("year", "sex", "age").values
    factors = [beh["pensioner_mortality_factor"], beh["invalid_mortality_factor"], beh["survivor_mortality_factor"],
               xr.ones_like(beh["pensioner_mortality_factor"])]
    refund_is_return = sch["refund_interest"] is None
    scalars = np.array([sch["indexation_floor"], sch["indexation_cap"], sch["indexation_lag"], st["max_retirement_age"],
                        fin["admin_benefits"], fin["admin_contributions"], fin["reserve0"], float(ins["refund"]),
                        float(pen["convert_invalidity"]), float(ins["exit_benefit"]), float(inputs.national),
                        float(fin["payable"]), ins["flat_service"], float(ins["state_top_up"]),
                        ins["max_entry_age"]], dtype=float)
    provisions = np.stack([ins[k] for k in ("vesting", "invalidity_vesting", "future_service_fraction",
                                            "early_reduction", "late_increment", "grant_multiple", "exit_vesting")]
                          + [sch[k].values for k in ("indexation_price_weight", "indexation_wage_weight",
                                                     "reference_earnings_years", "minimum_pension",
                                                     "maximum_pension")])
    n_years, n_ages = ins["q_active"].shape[0], ins["q_active"].shape[2]
    n_full = pen["count0"].shape[-1]
    n_past = kin.series["history"]["inflation"].size
    if p is None:  # scheme-only: the population arrays are not used (placeholders of the right types)
        p = dict(base=np.zeros((2, n_full)), fertility=np.zeros((n_years, n_full)), male_share=np.zeros(n_years),
                 migration=np.zeros((n_years, 2, n_full)), even=False)
        shares = np.zeros((n_years, 2, n_ages))
        target_share, employment_share = shares, shares
    else:
        target_share, employment_share = kin.series["target_share"], kin.series["employment_share"]
    rules = np.array([RULE_CODES[sch["revaluation"]], RULE_CODES[sch["minimum_pension_indexation"]],
                      RULE_CODES[sch["maximum_pension_indexation"]], RULE_CODES[sch["funeral_grant_indexation"]],
                      RULE_CODES[sch["flat_pension_indexation"]], RULE_CODES[sch["bend_point_indexation"]]],
                     dtype=np.int64)
    c = np.ascontiguousarray
    if inputs.has_floor:
        floor = floor_kernel_inputs(inputs)
    else:
        floor = dict(eligible=np.zeros((0, 2, p["base"].shape[1])), take_up=np.zeros((len(inputs.coords["year"]), 0)),
                     rules=np.zeros((0, 6)), tested=np.zeros((0, 4)), poverty_line=np.zeros(len(inputs.coords["year"])),
                     average_wage0=float(eco["average_wage"]))
    return dict(
        floor_eligible=floor["eligible"], floor_take_up=floor["take_up"], floor_rules=floor["rules"],
        floor_tested=floor["tested"], poverty_line=c(floor["poverty_line"] / kin.series["prices"]),
        average_wage0=floor["average_wage0"],
        base=p["base"], q_base=c(q_base, dtype=float), improvement=c(improvement, dtype=float),
        fertility=p["fertility"], male_share=p["male_share"], migration=p["migration"], even=p["even"],
        lo=int(st["min_age"]), target_share=c(target_share),
        employment_share=c(employment_share), insurable_real=c(ins["salary"] / kin.series["wages"][:, None, None]),
        rules=rules, scalars=scalars, provisions=c(provisions),
        gdp0=float(eco["gdp"]) if eco["gdp"] is not None else 0.0, active0=ins["active0"], inactive0=ins["inactive0"],
        balance_active0=ins["balance_active0"], balance_inactive0=ins["balance_inactive0"],
        service_active0=ins["service_active0"], service_inactive0=ins["service_inactive0"],
        units_active0=ins["units_active0"], units_inactive0=ins["units_inactive0"],
        entrants_in=ins["entrants_in"], residual_method=ins["residual_method"],
        active_factor=c(beh["active_mortality_factor"].values, dtype=float),
        pension_factors=c(np.stack([f.values for f in factors]), dtype=float),
        exit_rate=ins["exit_rate"], retire_rate=ins["retire_rate"], invalidity_rate=ins["invalidity_rate"],
        reentry_rate=ins["reentry_rate"], credit_density=ins["credit_density"],
        contribution_density=ins["contribution_density"], early_age=ins["early_age"], normal_age=ins["normal_age"],
        pension_normal_age=pen["normal_age"], flat_base=c(sch["flat_pension"].values, dtype=float),
        bend_base=c(np.asarray(sch["bend_points"] or (), dtype=float)), bend_rates=ins["bend_rates"],
        accrual=ins["accrual"], refund_rate=ins["refund_rate"], refund_interest=ins["refund_interest"],
        refund_interest_is_return=refund_is_return, contribution_rate=fin["contribution_rate"],
        collection_rate=fin["collection_rate"], subsidy_benefits=fin["subsidy_benefits"],
        subsidy_wages=fin["subsidy_wages"], count0=pen["count0"], amount0=pen["amount0"],
        remarriage=pen["remarriage"], married=ins["married"], difference=ins["difference"], orphans=ins["orphans"],
        orphan_age=ins["orphan_age"], shares=ins["shares"], funeral_base=np.full(n_years, float(sch["funeral_grant"])),
        history=c(np.stack([past_rates(None if eco[k] is None else eco[k].values, np.nan, n_past)
                            for k in ("past_inflation", "past_real_wage_growth")])),
        inputs=inputs)


def has_life_expectancy(inputs) -> bool:
    """Whether the paths carry the life expectancy at 65 (LIFE_EXPECTANCY_INDICATORS): a case with mortality rates
    beyond that age, as a valuation's results have it (:func:`actuary.projection.report_variables`)."""
    return inputs.demography.get("mortality") is not None and inputs.settings["max_age"] > LIFE_EXPECTANCY_AGE


def indicator_names(packed: dict) -> tuple[str, ...]:
    """The yearly indicators of each path: INDICATORS, and FLOOR_INDICATORS when the case has a floor;
    FLOOR_ONLY_INDICATORS for a floor costing alone; then LIFE_EXPECTANCY_INDICATORS (:func:`has_life_expectancy`)."""
    expectancy = LIFE_EXPECTANCY_INDICATORS if has_life_expectancy(packed["inputs"]) else ()
    if "valuation" in packed:
        return FLOOR_ONLY_INDICATORS + expectancy
    return INDICATORS + (FLOOR_INDICATORS if packed["floor_rules"].shape[0] else ()) + expectancy


def life_expectancy_paths(inputs, improvement_shift: np.ndarray, age: int = LIFE_EXPECTANCY_AGE) -> np.ndarray:
    """Period life expectancy at ``age`` [path, sex (male, female), year] of paths whose mortality improvement rates
    are shifted by ``improvement_shift`` [path, year] (:func:`draw_paths`): e_age of the life table of each year's
    q_x(t) = q_x(t0) prod_{u <= t} (1 - AI_x(u) - u_u), the shifted rates held within their bounds as the batch
    kernel and :func:`path_valuation` hold them. As a valuation's ``life_expectancy_65``
    (:func:`actuary.projection.report_variables`), from the ages ``age`` and over alone (e_x does not depend on the
    younger ages): the same to round-off for a path without shift."""
    demo = inputs.demography
    order = list(demo["mortality"].get_index("sex"))
    sexes = [order.index(sex) for sex in ("male", "female")]
    base = np.ascontiguousarray(demo["mortality"].transpose("sex", "age").values[sexes, age:], dtype=float)
    improvement = demo["mortality_improvement"].transpose("year", "sex", "age").values[:, sexes, age:]
    out = np.empty((improvement_shift.shape[0], 2, improvement_shift.shape[1]))
    for i, shift in enumerate(improvement_shift):   # one path at a time: memory of one path's tables
        rates = np.clip(improvement + shift[:, None, None], IMPROVEMENT_LOW, IMPROVEMENT_HIGH)
        out[i] = life_expectancy(improved_mortality(base, rates), 0).T   # the table's first age is ``age``
    return out


def floor_only_paths(base, params: StochasticParameters, seed: int, paths) -> np.ndarray:
    """Indicators [path, indicator, year] (FLOOR_ONLY_INDICATORS) of a floor costing alone: the full
    valuation of each path (:func:`path_valuation`; a projection of the population, GDP and the floor
    takes a few hundredths of a second, so no batch kernel is needed)."""
    draws = draw_paths(base.inputs, params, seed, paths)
    expectancy = has_life_expectancy(base.inputs)
    out = np.empty((len(paths), len(FLOOR_ONLY_INDICATORS) + 2 * expectancy, base.inputs.coords["year"].size))
    for i in range(len(paths)):
        try:
            valuation = path_valuation(base, draws, i)
        except InputError as error:   # a path's inputs out of their bounds: said of the parameter that moved them
            raise _path_out_of_bounds(error, params, int(paths[i])) from None
        projection = valuation.run().projection
        for k, name in enumerate(FLOOR_ONLY_INDICATORS):
            out[i, k] = projection[name].values
        if expectancy:   # the path's own valuation has it (report_variables)
            out[i, len(FLOOR_ONLY_INDICATORS):] = \
                projection["life_expectancy_65"].sel(sex=["male", "female"]).transpose("sex", "year").values
    return out


# the Stochastic parameter whose deviations move each input of a path (the first is named with its value)
# (not the mortality improvement rates: a path's are held within their bounds)
_MOVED_BY = {"demography.fertility": ("fertility_volatility", "fertility_persistence"),
             "economy.inflation": ("inflation_volatility", "inflation_persistence"),
             "economy.real_wage_growth": ("wage_volatility", "wage_persistence"),
             "economy.productivity_growth": ("wage_volatility", "wage_persistence"),
             "economy.nominal_return": ("return_volatility", "inflation_volatility")}


def _path_out_of_bounds(error: InputError, params: StochasticParameters, path: int) -> InputError:
    """``error`` of a path's input (path number ``path``) that its random deviations took
    out of its bounds, said of the Stochastic parameter that moved it: its value, the path, the year and what to
    do (the input's own message names an input the user never typed)."""
    moved = _MOVED_BY.get(error.field)
    if moved is None:
        return InputError(f"stochastic path {path}: {error}", error.field, error.where)
    name = moved[0]
    year = error.where.get("year")
    others = f" (or {', '.join(moved[1:])})" if moved[1:] else ""
    return InputError(f"Stochastic parameter '{name}': value {getattr(params, name):g} takes path {path} out of the "
                      f"bounds of {error.field}{f' in {year}' if year is not None else ''}: {error} Lower "
                      f"{name}{others}; the default is {StochasticParameters.__dataclass_fields__[name].default:g}.",
                      name)


def run_chunk(packed: dict, params: StochasticParameters, seed: int, paths,
              threads: int | None = None) -> np.ndarray:
    """Indicators [path, indicator, year] of the paths numbered ``paths``, on ``threads`` threads (Numba's
    thread count by default, ``numba.get_num_threads()``: all cores unless NUMBA_NUM_THREADS says
    otherwise). The batch kernel runs one slot of paths per thread (it releases the GIL); with one thread it
    runs in the calling thread.

    On a Dask worker the task passes ``threads=1``: each Dask thread is one core's worth of work. Setting
    it here, in the thread that runs the kernel, is what counts: a worker process may have imported
    Numba before the cluster's environment (NUMBA_NUM_THREADS) reached it, and two workers each
    running a thread per core on the same cores run at half speed."""
    if threads is not None:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    if "valuation" in packed:
        return floor_only_paths(packed["valuation"], params, seed, paths)
    draws = draw_paths(packed["inputs"], params, seed, paths)
    # arrays that travelled to a Dask worker may arrive unaligned: realign them, or Numba compiles (and
    # runs) a separate unaligned version of the kernel
    arrays = {k: np.require(v, requirements="CA") if isinstance(v, np.ndarray) else v
              for k, v in packed.items() if k != "inputs"}
    n_years = draws["inflation"].shape[1]
    names = indicator_names(packed)
    indicators = np.empty((len(paths), len(names), n_years))
    n_slots = max(1, min(len(paths), numba.get_num_threads()))

    def run_slot(slot):   # the kernel fills the rows of INDICATORS (and floor)
        simulate_paths(draws["inflation"], draws["real_wage"], draws["productivity"], draws["nominal_return"],
                       draws["improvement_shift"], draws["fertility_factor"], indicators=indicators,
                       n_slots=n_slots, slot=slot, **arrays)

    if n_slots == 1:
        run_slot(0)
    else:
        with ThreadPoolExecutor(n_slots) as pool:
            list(pool.map(run_slot, range(n_slots)))
    if names[-1] == LIFE_EXPECTANCY_INDICATORS[-1]:
        indicators[:, -2:] = life_expectancy_paths(packed["inputs"], draws["improvement_shift"])
    return indicators


class StreamedPercentiles:
    """Histogram per (indicator, year) over fixed ranges, with the value of each bin that holds a single one, plus
    the exact minimum and maximum and how many paths take each; memory independent of the number of paths (twice
    the counts'); adding chunks in any order gives the same state.

    The percentile q of n paths is the k-th smallest value, k = ceil(q / 100 x n) (at least 1, in floating point as
    NumPy computes it): NumPy's ``np.percentile(..., method="inverted_cdf")``. It is found in the bin that holds it:
    a bin that holds a single value (a point mass: the payable share of 1 of every path not depleted, a reserve of 0)
    gives that value, and so does a rank among the paths that take the minimum or the maximum of all; otherwise the
    value is interpolated linearly by its rank within the bin's range (held within the minimum and maximum), so
    within a bin's width of the exact k-th value. Non-finite values rank first (in the bin below the range)."""

    def __init__(self, pilot: np.ndarray, bins: int = 2000, margin: float = 0.5):
        low = np.nanmin(pilot, axis=0)
        high = np.nanmax(pilot, axis=0)
        width = np.where(high > low, high - low, np.maximum(np.abs(high), 1.0))
        self.low = low - margin * width
        self.high = high + margin * width
        self.bins = bins
        shape = pilot.shape[1:]
        self.counts = np.zeros(shape + (bins + 2,), dtype=np.int64)  # [under, bins..., over]
        self.only = np.full(shape + (bins + 2,), np.nan)   # a bin's value while it holds one value (histogram_add)
        self.minimum = np.full(shape, np.inf)
        self.maximum = np.full(shape, -np.inf)
        self.at_minimum = np.zeros(shape, dtype=np.int64)   # paths whose value is the minimum (a point mass at it)
        self.at_maximum = np.zeros(shape, dtype=np.int64)
        self.unordered = np.zeros(shape, dtype=np.int64)    # paths whose value is not a number (NaN)
        self.n = 0

    def add(self, values: np.ndarray) -> None:
        n = values.shape[0]
        columns = self.counts.shape[-1]
        histogram_add(np.ascontiguousarray(values).reshape(n, -1), self.low.reshape(-1), self.high.reshape(-1),
                      self.counts.reshape(-1, columns), self.only.reshape(-1, columns))
        with np.errstate(invalid="ignore"):
            for extreme, ties, reduce in (("minimum", "at_minimum", np.fmin), ("maximum", "at_maximum", np.fmax)):
                before = getattr(self, extreme)
                after = reduce(before, reduce.reduce(values, axis=0))   # NaN only where every value is NaN
                # the paths at the new extreme: those counted before if it has not moved, and this chunk's
                setattr(self, ties, np.where(after == before, getattr(self, ties), 0) + (values == after).sum(axis=0))
                setattr(self, extreme, after)
        self.unordered += np.isnan(values).sum(axis=0)
        self.n += values.shape[0]

    def percentiles(self, qs) -> np.ndarray:
        cumulative = np.cumsum(self.counts, axis=-1)
        width = (self.high - self.low) / self.bins
        out = np.empty((len(qs),) + self.low.shape)
        for i, q in enumerate(qs):
            rank = q / 100 * self.n   # (as NumPy computes it: 0.28 x 25 is 7.000000000000001, so k = 8)
            k = min(max(np.ceil(rank), 1), self.n)   # the k-th smallest value
            position = np.argmax(cumulative >= max(rank, 1e-12), axis=-1)  # bucket holding the rank
            before = np.take_along_axis(cumulative, np.maximum(position - 1, 0)[..., None], -1)[..., 0]
            before = np.where(position == 0, 0, before)
            inside = np.take_along_axis(self.counts, position[..., None], -1)[..., 0]
            fraction = np.where(inside > 0, (rank - before) / np.maximum(inside, 1), 0.5)
            value = self.low + (position - 1 + fraction) * width
            value = np.where(position == 0, self.minimum, value)               # below the range: the minimum
            value = np.where(position == self.bins + 1, self.maximum, value)   # above: the maximum
            only = np.take_along_axis(self.only, position[..., None], -1)[..., 0]
            value = np.where(np.isnan(only), value, only)   # a bin of one value: that value
            # a rank among the paths at the minimum or the maximum: that value (a point mass at a bound)
            value = np.where((k > self.unordered) & (k <= self.unordered + self.at_minimum), self.minimum, value)
            value = np.where(k > self.n - self.at_maximum, self.maximum, value)
            out[i] = np.clip(value, self.minimum, self.maximum)
        return out


MAX_CHUNK_SIZE = 10_000


def path_indicator_count(inputs) -> int:
    """How many yearly indicators each path of a case has (:func:`indicator_names`): a floor costing alone's, or a
    scheme's with the floor's when it has one; and the life expectancy at 65 by sex (:func:`has_life_expectancy`)."""
    expectancy = len(LIFE_EXPECTANCY_INDICATORS) if has_life_expectancy(inputs) else 0
    if not inputs.has_scheme:
        return len(FLOOR_ONLY_INDICATORS) + expectancy
    return len(INDICATORS) + (len(FLOOR_INDICATORS) if inputs.has_floor else 0) + expectancy


def kept_paths_bytes(n_paths: int, n_years: int, n_indicators: int = len(INDICATORS)) -> int:
    """Bytes of every path's yearly indicators (``keep_paths``): paths x indicators x years x 8."""
    return n_paths * n_indicators * n_years * 8


def check_kept_paths_fit(n_paths: int, n_years: int, n_indicators: int = len(INDICATORS)) -> None:
    """Refuse ``keep_paths`` up front when the paths would not fit in the memory available now (they
    are held twice while the Dataset is assembled)."""
    import psutil

    need = 2 * kept_paths_bytes(n_paths, n_years, n_indicators)
    available = psutil.virtual_memory().available
    if need > available:
        raise InputError(f"--keep-paths: {n_paths:,} paths x {n_indicators} indicators x {n_years} years need "
                         f"{need / 1024 ** 3:,.1f} GB of memory; {available / 1024 ** 3:,.1f} GB are available. "
                         "Run fewer paths, or without --keep-paths (percentiles need no memory per path).")


def path_chunks(n_paths: int, chunk_size: int):
    """The path numbers of each chunk, as ranges, generated as they are scheduled (never listed)."""
    return (range(start, min(start + chunk_size, n_paths)) for start in range(0, n_paths, chunk_size))


def simulate(base, n_paths: int, seed: int = 0, chunk_size: int = 250, workers: int | None = None,
             scheduler: str | None = None, params: StochasticParameters | None = None, keep_paths: bool = False,
             pilot: int = 200, progress=None) -> xr.Dataset:
    """Run ``n_paths`` stochastic paths; returns percentiles 5/25/50/75/95 of every yearly indicator,
    the probability of depletion by year (of a scheme: a floor costing alone has no reserve, its
    indicators are FLOOR_ONLY_INDICATORS) and, with ``keep_paths``, every path's indicators.

    Memory does not grow with ``n_paths`` (without ``keep_paths``): chunks are generated as they are
    scheduled and at most a few per worker are in flight."""
    from .batch import _dask_client, described, placement

    params = params or StochasticParameters()
    for option, value, low, high in (("--paths", n_paths, 1, None), ("--seed", seed, 0, 2 ** 63 - 1),
                                     ("--chunk-size", chunk_size, 1, MAX_CHUNK_SIZE)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or \
                (high is not None and value > high):
            raise InputError(f"{option}: value {value!r} is not a whole number in {low}..{high or 'any'}.")
    years = base.inputs.coords["year"]
    if keep_paths:
        check_kept_paths_fit(n_paths, years.size, path_indicator_count(base.inputs))
    packed = pack(base)
    names = indicator_names(packed)
    chunks = path_chunks(n_paths, chunk_size)
    # the histogram ranges come from the first ``pilot`` paths (whatever the chunking), taken from the
    # chunks that hold them: no path is run twice
    pilot_n = min(pilot, n_paths)
    pilot_chunks = -(-pilot_n // chunk_size)
    waiting: dict[int, np.ndarray] = {}
    kept: dict[int, np.ndarray] = {}
    depleted = np.zeros(years.size, dtype=np.int64)
    reducer = None

    def consume(i, values):
        reducer.add(values)
        if "payable_share" in names:   # a scheme (a floor costing alone has no reserve)
            # depleted by the end of year t: benefits not payable in full in some year up to t (the reserve has
            # been, or would have been, negative)
            short = values[:, names.index("payable_share"), :] < 1.0
            depleted[:] += np.logical_or.accumulate(short, axis=1).sum(axis=0)
        if keep_paths:
            kept[i] = values
        if progress:
            progress(values.shape[0])

    def arrive(i, values):
        nonlocal reducer
        if reducer is not None:
            consume(i, values)
            return
        waiting[i] = values
        if all(j in waiting for j in range(pilot_chunks)):
            reducer = StreamedPercentiles(np.concatenate([waiting[j] for j in range(pilot_chunks)])[:pilot_n])
            for j in sorted(waiting):
                consume(j, waiting.pop(j))

    with _dask_client(workers, scheduler) as client:
        if client is None:
            for i, chunk in enumerate(chunks):
                arrive(i, run_chunk(packed, params, seed, chunk))
        else:
            from dask.distributed import as_completed

            remote = client.scatter(packed, broadcast=True)
            window = max(2 * sum(client.nthreads().values()), pilot_chunks + 1, 4)
            numbered = enumerate(chunks)

            def submit(i, chunk):
                future = client.submit(run_chunk, remote, params, seed, chunk, 1, pure=False, **placement(client, i))
                futures[future] = i
                return future

            futures: dict = {}
            running = as_completed([submit(i, chunk) for i, chunk in itertools.islice(numbered, window)])
            for future in running:  # streamed: reduce as chunks arrive, schedule the next one
                arrive(futures.pop(future), future.result())
                future.release()
                following = next(numbered, None)
                if following is not None:
                    running.add(submit(*following))
    percentiles = reducer.percentiles(PERCENTILES)
    ds = xr.Dataset(coords={"percentile": list(PERCENTILES), "year": years})
    reported = [(k, name) for k, name in enumerate(names) if base.inputs.national or name not in NATIONAL_INDICATORS]
    for k, name in reported:
        ds[name] = (("percentile", "year"), percentiles[:, k, :])
    if "payable_share" in names:
        ds["probability_of_depletion"] = ("year", depleted / n_paths)
    if keep_paths:
        values = np.concatenate([kept.pop(i) for i in sorted(kept)])
        for k, name in reported:
            ds[f"path_{name}"] = (("path", "year"), values[:, k, :])
        ds = ds.assign_coords(path=np.arange(n_paths))
    ds.attrs.update({"paths": n_paths, "seed": seed, "chunk_size": chunk_size, "bins": reducer.bins,
                     **{f"parameter_{k}": v for k, v in asdict(params).items()}})
    # money is stored in currency units (as in a valuation's netCDF file); the workbooks show it in this unit
    ds.attrs.update(case_name=str(base.name), money_unit_in_workbooks=base.inputs.settings["money_unit"])
    return described(ds, percentiles=True)


def write_stochastic(ds: xr.Dataset, path, provenance: dict | None = None) -> None:
    """Workbook: the probability of depletion by year (a scheme's), the percentiles of each indicator by year (one
    sheet each, labels in words, money in the chosen unit, rates as percentages), a fan chart of
    each on its own page and the sheet "About this run" (``provenance``; by default this API call with
    the run's seed and parameters)."""
    from openpyxl import Workbook

    from .io import presentation as pres
    from .io.provenance import add_about_sheet, for_api
    from .io.results import ChartPages, SheetWriter, chart_unit, print_setup, short_sheet_title
    from .io.workbook import _atomic_save

    case = ds.attrs.get("case_name", "valuation")
    unit = ds.attrs.get("money_unit_in_workbooks", ds.attrs.get("money_unit", "millions"))
    years = ds.year.values
    wb = Workbook()
    depletion = "probability_of_depletion" in ds   # a floor costing alone has no reserve
    if depletion:
        ws = wb.active
        ws.title = "Depletion"
        writer = SheetWriter(ws)
        writer.title(1, f"{case}: probability that the reserve has been depleted, {ds.attrs['paths']:,} paths, "
                        f"seed {ds.attrs['seed']}")
        writer.table(2, ["Year", "Probability of depletion by the end of the year (%)"],
                     [[int(y), float(p)] for y, p in zip(years, ds.probability_of_depletion.values)], ["0", "0.0%"])
        writer.fit()
        ws.freeze_panes = "B3"
        print_setup(ws, case)
    else:
        wb.remove(wb.active)
    percentiles = [f"P{int(q)}" if q != 50 else "Median" for q in ds.percentile.values]
    fans = []
    used = set()
    for name in (n for n in INDICATORS + FLOOR_INDICATORS + LIFE_EXPECTANCY_INDICATORS if n in ds):  # not all in all
        variable = pres.VARIABLES[name]
        label = pres.header(variable.label, pres.unit_text(variable, unit))
        sheet = short_sheet_title(pres.sheet_name(name))
        while sheet in used:
            sheet = sheet[:29] + f" {len(used)}"
        used.add(sheet)
        ws = wb.create_sheet(sheet)
        writer = SheetWriter(ws)
        writer.title(1, f"{label}: percentiles across paths")
        values = pres.shown(ds[name].transpose("year", "percentile").values, variable.kind, unit)
        writer.table(2, ["Year"] + [f"{p} ({pres.unit_text(variable, unit) or 'ratio'})" for p in percentiles],
                     [[int(y)] + list(values[i]) for i, y in enumerate(years)],
                     ["0"] + [pres.number_format(variable.kind)] * len(percentiles))
        writer.fit()
        ws.freeze_panes = "B3"
        print_setup(ws, case)
        fans.append((name, variable, values))
    charts = ChartPages(wb, case)
    if depletion:
        charts.line("Probability that the reserve has been depleted by the end of the year", "% of paths", years,
                    {"Probability of depletion": ds.probability_of_depletion.values}, "0%")
    for name, variable, values in fans:
        fmt = pres.number_format(variable.kind)
        axis = pres.unit_text(variable, unit) or "ratio"
        if variable.kind in ("money", "persons"):  # the axis in a unit that keeps its labels short
            scale, word = chart_unit(ds[name].values)
            values = ds[name].transpose("year", "percentile").values / scale
            what = "currency units" if variable.kind == "money" else "persons"
            axis = f"{word} of {what}" if word else what
            # the unit leaves the largest value between 1 and 1,000: a decimal, or 0.4 and 1.3 trillions read 0 and 1
            top = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 0.0
            fmt = "#,##0.0" if top < 100 else "#,##0"
        else:   # shares and percents in whole percents; ratios, years and indexes with two decimals
            fmt = "0%" if fmt.endswith("%") else "0.00"
        charts.line(f"{variable.label}: fan chart (P5, P25, median, P75, P95)", axis, years,
                    {p: values[:, k] for k, p in enumerate(percentiles)}, fmt)
    charts.finish()
    if provenance is None:
        provenance = for_api(None, "stochastic.write_stochastic",
                             **{k: v for k, v in ds.attrs.items() if k != "case_name"})
        provenance["case_name"] = case
    add_about_sheet(wb, provenance)
    _atomic_save(wb, path)
