"""Batch runs: scenarios (overrides of a base valuation), the standard sensitivity set, and their
execution in process or on Dask distributed.

A scenario is a name and overrides: ``{"economy.nominal_return": Shift(0.01), "demography.fertility":
Scale(0.8), "scheme.contribution_rate": Set(0.2, years=(2030, None))}``. An override applies to the
validated input of the base valuation (so it may touch any input: a scalar, a schedule, a table,
optionally only some years or ages), and the scenario is validated again as a whole valuation. A
scenario that fails is reported by name with its error; the others complete.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .inputs import FIELDS
from .validation import InputError

YEARLY = ("insurable_wage_bill", "contributions", "total_expenditure", "reserve", "paygo_cost_rate",
          "reserve_ratio", "contribution_rate", "contributors", "pensioners", "expenditure_pct_gdp")
NATIONAL_INDICATORS = ("expenditure_pct_gdp",)   # absent from a scheme-only valuation
# sensitivities that move the national population or GDP (not run for a scheme-only valuation)
NATIONAL_SENSITIVITIES = ("fertility", "net migration", "coverage")


@dataclass(frozen=True)
class Override:
    """Base class: an operation on one input, optionally limited to years and ages (inclusive bounds)."""

    value: float
    years: tuple | None = None
    ages: tuple | None = None

    def apply(self, current):
        if isinstance(current, xr.DataArray):
            mask = xr.ones_like(current, dtype=bool)
            for dim, bounds in (("year", self.years), ("age", self.ages)):
                if bounds is None:
                    continue
                if dim not in current.dims:
                    raise InputError(f"override limited to {dim}s, but the input has no {dim} dimension")
                low = -np.inf if bounds[0] is None else bounds[0]
                high = np.inf if bounds[1] is None else bounds[1]
                mask = mask & (current[dim] >= low) & (current[dim] <= high)
            return xr.where(mask, self.operate(current), current).transpose(*current.dims)
        if self.years is not None or self.ages is not None:
            raise InputError("override limited to years or ages, but the input is a single value")
        if isinstance(current, str):
            return self.value
        return self.operate(current)

    def operate(self, current):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Set(Override):
    def operate(self, current):
        return xr.full_like(current, self.value, dtype=float) if isinstance(current, xr.DataArray) else self.value


@dataclass(frozen=True)
class Scale(Override):
    def operate(self, current):
        return current * self.value


@dataclass(frozen=True)
class Shift(Override):
    def operate(self, current):
        return current + self.value


OPERATIONS = {"set": Set, "scale": Scale, "shift": Shift}


@dataclass
class Scenario:
    name: str
    overrides: dict = field(default_factory=dict)   # "group.field" -> Override (or a plain value: Set)

    def apply(self, base):
        """The scenario as a validated Valuation (raises InputError naming the scenario)."""
        groups = {g: dict(v) for g, v in base.raw.items()}
        for key, override in self.overrides.items():
            group, _, name = key.partition(".")
            if group not in FIELDS or name not in FIELDS[group]:
                raise InputError(f"scenario '{self.name}': '{key}' is not an input (expected group.field, "
                                 "e.g. economy.nominal_return)")
            if not isinstance(override, Override):
                override = Set(override)
            current = getattr(base.inputs, group)[name] if group != "settings" else base.inputs.settings[name]
            if current is None:
                raise InputError(f"scenario '{self.name}': '{key}' has no value in the base valuation to modify")
            try:
                groups[group][name] = override.apply(current)
            except InputError as error:
                raise InputError(f"scenario '{self.name}', {key}: {error}") from None
        try:
            return type(base)(**groups, name=f"{base.name}:{self.name}")
        except InputError as error:
            raise InputError(f"scenario '{self.name}': {error}", error.field, error.where) from None


@dataclass(frozen=True)
class ClippedScale(Override):
    """Scale a probability without leaving [0, 1]."""

    def operate(self, current):
        return (current * self.value).clip(0.0, 1.0)


def clipped(scale: float, *keys) -> dict:
    return {key: ClippedScale(scale) for key in keys}


def standard_sensitivities(national: bool = True) -> list[tuple[str, Scenario, Scenario]]:
    """(assumption, down, up) pairs of the ILO-ISSA one-at-a-time sensitivities; "up" raises the
    assumption (more births, faster mortality improvement, higher wages, ...). Without a national
    population (``national`` False) those that move the population or GDP are left out and real wage
    growth moves alone."""
    pairs = [
        ("fertility", {"demography.fertility": Scale(0.8)}, {"demography.fertility": Scale(1.2)}),
        ("mortality improvement", {"demography.mortality_improvement": Scale(0.5)},
         {"demography.mortality_improvement": Scale(1.5)}),
        ("net migration", {"demography.net_migration": Scale(0.5)}, {"demography.net_migration": Scale(1.5)}),
        ("real wage growth", {"economy.real_wage_growth": Shift(-0.005), "economy.productivity_growth": Shift(-0.005)},
         {"economy.real_wage_growth": Shift(0.005), "economy.productivity_growth": Shift(0.005)}),
        ("real return", {"economy.nominal_return": Shift(-0.01)}, {"economy.nominal_return": Shift(0.01)}),
        ("inflation", {"economy.inflation": Shift(-0.01), "economy.nominal_return": Shift(-0.01)},
         {"economy.inflation": Shift(0.01), "economy.nominal_return": Shift(0.01)}),
        ("coverage", clipped(0.9, "behaviour.coverage"), clipped(1.1, "behaviour.coverage")),
        ("retirement rates", clipped(0.75, "behaviour.retirement_rate"), clipped(1.25, "behaviour.retirement_rate")),
    ]
    if not national:
        pairs = [(name, *({k: v for k, v in side.items() if k != "economy.productivity_growth"} for side in sides))
                 for name, *sides in pairs if name not in NATIONAL_SENSITIVITIES]
    return [(name, Scenario(f"{name} down", down), Scenario(f"{name} up", up)) for name, down, up in pairs]


def combined_scenarios(one_at_a_time: xr.Dataset) -> list[Scenario]:
    """Optimistic and pessimistic scenarios: every assumption moved to the side that lowered
    (optimistic) or raised (pessimistic) the full-horizon GAP in its one-at-a-time run; the sides are
    read from the results because some directions depend on the scheme (e.g. retirement rates with
    a given early-retirement reduction)."""
    optimistic, pessimistic = {}, {}
    for name, down, up in _sensitivities_of(one_at_a_time):
        gap_down = float(one_at_a_time.gap.sel(scenario=down.name).isel(horizon=-1))
        gap_up = float(one_at_a_time.gap.sel(scenario=up.name).isel(horizon=-1))
        good, bad = (up, down) if gap_up <= gap_down else (down, up)
        optimistic.update(good.overrides)
        pessimistic.update(bad.overrides)
    return [Scenario("optimistic", optimistic), Scenario("pessimistic", pessimistic)]


# ----------------------------------------------------------------------------------- execution

def _run_one(base, scenario: Scenario) -> dict:
    """Key results of one scenario, or its error (never raises)."""
    try:
        valuation = base if scenario.name == "base" and not scenario.overrides else scenario.apply(base)
        results = valuation.run()
    except InputError as error:
        return {"name": scenario.name, "error": str(error)}
    except Exception as error:  # a scenario the engine cannot project: reported, the others go on
        return {"name": scenario.name, "error": f"{type(error).__name__}: {error}"}
    p, s = results.projection, results.summary
    return {"name": scenario.name,
            "yearly": {k: p[k].values for k in YEARLY if k in p},   # a scheme-only valuation has no GDP
            "gap": s.gap.values, "horizon": s.horizon.values,
            "depletion_year": float(s.depletion_year), "actuarial_balance": float(s.actuarial_balance)}


def _run_chunk(base, scenarios):
    return [_run_one(base, scenario) for scenario in scenarios]


def run_scenarios(base, scenarios: list[Scenario], workers: int | None = None, scheduler: str | None = None,
                  chunk_size: int = 8) -> xr.Dataset:
    """Run scenarios in process, on a local Dask cluster (``workers``) or an existing Dask scheduler
    (``scheduler`` address), in chunks; results are the same whichever way. Returns a Dataset with a
    ``scenario`` dimension; failed scenarios have ``status`` = their error and NaN results."""
    base = base.replace(settings={"balance_sheet": "no"})
    chunks = [scenarios[i:i + chunk_size] for i in range(0, len(scenarios), chunk_size)]
    with _dask_client(workers, scheduler) as client:
        if client is None:
            parts = [_run_chunk(base, chunk) for chunk in chunks]
        else:
            remote_base = client.scatter(base, broadcast=True)
            parts = client.gather([client.submit(_run_chunk, remote_base, chunk, pure=False, **placement(client, i))
                                   for i, chunk in enumerate(chunks)])
    outcomes = [o for part in parts for o in part]
    return _scenario_dataset(base, outcomes)


def placement(client, i: int) -> dict:
    """Spread chunks over the workers round-robin (the scheduler would otherwise keep tasks beside the
    broadcast data on one worker); other workers may still steal them."""
    workers = sorted(client.scheduler_info()["workers"])
    return {"workers": [workers[i % len(workers)]], "allow_other_workers": True} if workers else {}


CONNECT_TIMEOUT = 10  # seconds to reach a --scheduler


@contextmanager
def _quiet_workers():
    """Start local worker processes with their standard error on the null device, so that a Ctrl-C
    (which the terminal sends to every process of the run) stops them without a traceback each; the
    task errors that matter reach this process through Dask and are raised here. This process keeps
    its own standard error (only these start-up seconds are redirected) and answers Ctrl-C throughout."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _local_cluster(workers: int):
    """A LocalCluster of ``workers`` processes (one thread each). A Ctrl-C while it starts is held
    until it has started (a cluster stopped half-way cannot be closed cleanly), then raised."""
    from dask.distributed import LocalCluster
    from distributed.deploy.spec import SpecCluster

    before = set(SpecCluster._instances)
    interrupted = []
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True)) if main else None
    try:
        with _quiet_workers():
            # one task per worker process; each task sets one Numba thread itself (NUMBA_NUM_THREADS in
            # the workers' environment arrives after they have imported Numba, and a later compilation
            # that rereads it fails once the threads are running)
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    except Exception:
        for half_started in set(SpecCluster._instances) - before:
            half_started.shutdown_on_close = False  # nothing to close at exit (and no traceback there)
        if interrupted:  # the workers, stopped by the same Ctrl-C, made the start fail
            raise KeyboardInterrupt from None
        raise
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)
        cluster.close()
        raise KeyboardInterrupt
    return cluster


class _dask_client:
    """Context manager: no client (in process), a LocalCluster of ``workers``, or a scheduler address."""

    def __init__(self, workers, scheduler):
        self.workers, self.scheduler = workers, scheduler
        self.client = self.cluster = None

    def __enter__(self):
        if self.workers is None and self.scheduler is None:
            return None
        if self.workers is not None and self.scheduler is not None:
            raise InputError("--workers and --scheduler: give one of them (--workers starts a local cluster, "
                             "--scheduler uses an existing one).")
        from dask.distributed import Client

        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)
            except Exception as error:  # malformed addresses, refusals, timeouts, garbage from a wrong service
                raise InputError(f"--scheduler {self.scheduler}: cannot use this Dask scheduler "
                                 f"({type(error).__name__}: {str(error)[:200]}); expected the address of a running "
                                 f"scheduler such as tcp://host:8786 (tried for at most {CONNECT_TIMEOUT} s).") from None
            return self.client
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise InputError(f"--workers: value {self.workers!r} is not a whole number >= 1.")
        try:
            self.cluster = _local_cluster(self.workers)
            self.client = Client(self.cluster)
        except BaseException:
            self.__exit__(KeyboardInterrupt, None, None)
            raise
        return self.client

    def __exit__(self, kind, *exc):
        if kind is not None and issubclass(kind, KeyboardInterrupt):  # a stop, not news: close quietly
            for name in ("distributed", "tornado", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        for resource in (self.client, self.cluster):
            if resource is not None:
                try:
                    resource.close()
                except Exception:
                    if kind is None:
                        raise
        return False


def _scenario_dataset(base, outcomes) -> xr.Dataset:
    years = base.inputs.coords["year"]
    names = [o["name"] for o in outcomes]
    ok = [o for o in outcomes if "error" not in o]
    horizons = ok[0]["horizon"] if ok else np.array([years.size])
    yearly = [k for k in YEARLY if base.inputs.national or k not in NATIONAL_INDICATORS]
    data = {k: np.full((len(outcomes), years.size), np.nan) for k in yearly}
    gap = np.full((len(outcomes), horizons.size), np.nan)
    depletion = np.full(len(outcomes), np.nan)
    balance = np.full(len(outcomes), np.nan)
    status = []
    for i, o in enumerate(outcomes):
        if "error" in o:
            status.append(o["error"])
            continue
        status.append("ok")
        for k in yearly:
            data[k][i] = o["yearly"][k]
        gap[i] = o["gap"]
        depletion[i] = o["depletion_year"]
        balance[i] = o["actuarial_balance"]
    ds = xr.Dataset({k: (("scenario", "year"), v) for k, v in data.items()},
                    coords={"scenario": names, "year": years, "horizon": horizons})
    ds["gap"] = (("scenario", "horizon"), gap)
    ds["depletion_year"] = ("scenario", depletion)
    ds["actuarial_balance"] = ("scenario", balance)
    ds["status"] = ("scenario", np.array(status, dtype=object).astype(str))
    ds.attrs["failed"] = ", ".join(n for n, s in zip(names, status) if s != "ok")
    ds.attrs["national_population"] = base.inputs.settings["national_population"]
    return ds


def sensitivity(base, workers=None, scheduler=None, extra: list[Scenario] | None = None) -> xr.Dataset:
    """The base run, the standard one-at-a-time sensitivities, the combined optimistic and
    pessimistic scenarios and any ``extra`` scenarios (e.g. from a Scenarios sheet)."""
    scenarios = [Scenario("base")]
    for _, down, up in standard_sensitivities(base.inputs.national):
        scenarios += [down, up]
    extra = list(extra or [])
    taken = [s.name for s in extra if s.name in standard_names()]
    if taken:
        raise InputError(f"scenario name '{taken[0]}' is taken by a standard scenario of the sensitivity run; "
                         "choose another name.")
    repeated = [n for i, n in enumerate(s.name for s in extra) if n in [s.name for s in extra[:i]]]
    if repeated:
        raise InputError(f"scenario '{repeated[0]}' is defined twice (in the valuation workbook and in --scenarios?); "
                         "give each scenario one name.")
    first = run_scenarios(base, scenarios + extra, workers=workers, scheduler=scheduler)
    failed = [a for a, down, up in standard_sensitivities(base.inputs.national)
              if any(first.status.sel(scenario=s.name).item() != "ok" for s in (down, up))]
    if failed:  # the combined scenarios take their sides from these runs: they cannot be built
        reason = f"not run: the one-at-a-time '{failed[0]}' scenarios failed, so its side is unknown"
        second = _scenario_dataset(base.replace(settings={"balance_sheet": "no"}),
                                   [{"name": n, "error": reason} for n in ("optimistic", "pessimistic")])
    else:
        second = run_scenarios(base, combined_scenarios(first), workers=workers, scheduler=scheduler)
    out = xr.concat([first, second], "scenario", data_vars="all", join="outer")
    out.attrs["failed"] = ", ".join(x for x in (first.attrs["failed"], second.attrs["failed"]) if x)
    return out


def _sensitivities_of(ds: xr.Dataset) -> list[tuple[str, Scenario, Scenario]]:
    """The standard sensitivities that were run (a scheme-only valuation runs fewer)."""
    national = ds.attrs.get("national_population", "yes") == "yes"
    return [(name, down, up) for name, down, up in standard_sensitivities(national)
            if down.name in ds.scenario.values and up.name in ds.scenario.values]


def tornado(ds: xr.Dataset, years_ahead=(25, 50)) -> list[dict]:
    """Rows of the tornado table: for each assumption, the full-horizon GAP, depletion year and reserve
    ratio at +25/+50 years in the down and up scenarios, sorted by the GAP swing."""
    base = ds.sel(scenario="base")
    t0 = int(ds.year.values[0])
    rows = []
    for name, down, up in _sensitivities_of(ds):
        row = {"assumption": name}
        for side, scenario in (("down", down.name), ("up", up.name)):
            s = ds.sel(scenario=scenario)
            row[f"gap_{side}"] = float(s.gap.isel(horizon=-1))
            row[f"depletion_{side}"] = float(s.depletion_year)
            for n in years_ahead:
                year = t0 + n - 1   # NaN beyond a shorter horizon
                row[f"reserve_ratio_{n}_{side}"] = float(s.reserve_ratio.sel(year=year)) if year in ds.year else np.nan
        row["gap_base"] = float(base.gap.isel(horizon=-1))
        row["swing"] = abs(row["gap_up"] - row["gap_down"])
        rows.append(row)
    return sorted(rows, key=lambda r: -r["swing"])


# ----------------------------------------------------------------------------------- workbooks

SCENARIO_COLUMNS = ("scenario", "input", "operation", "value", "from_year", "to_year", "from_age", "to_age", "notes")


MAX_SCENARIO_ROWS = 10_000


def standard_names() -> set[str]:
    """Names the sensitivity run gives its own scenarios (a Scenarios sheet may not reuse them)."""
    names = {"base", "optimistic", "pessimistic"}
    for _, down, up in standard_sensitivities():
        names |= {down.name, up.name}
    return names


def read_scenarios(path, required: bool = False) -> list[Scenario]:
    """Scenarios from the ``Scenarios`` sheet of a workbook (a valuation workbook or a workbook with
    only that sheet): one row per override, columns scenario | input (group.field) | operation (set,
    scale, shift) | value | from_year | to_year | from_age | to_age | notes; at most 10,000 rows.
    Errors name Sheet!Cell. A workbook without the sheet has no scenarios (an error if ``required``)."""
    from .io.workbook import WorkbookReader, _blank, _number, _ref

    sheet = "Scenarios"
    with WorkbookReader(path) as reader:
        if sheet not in reader.sheetnames:
            if required:
                raise InputError(f"{reader.name}: the workbook has no sheet '{sheet}'; expected one with the "
                                 f"columns {', '.join(SCENARIO_COLUMNS)}.")
            return []
        cells = reader.sheet(sheet, 3, MAX_SCENARIO_ROWS, " (one per override)", width=len(SCENARIO_COLUMNS))
    headers = [str(h).strip() if h is not None else "" for h in cells.row(2)]
    for column, expected in enumerate(SCENARIO_COLUMNS, start=1):
        if column > len(headers) or headers[column - 1] != expected:
            raise InputError(f"{_ref(sheet, 2, column)}: header "
                             f"'{headers[column - 1] if column <= len(headers) else ''}'; expected '{expected}' "
                             f"(columns: {', '.join(SCENARIO_COLUMNS)}).")
    reserved = standard_names()
    scenarios: dict[str, dict] = {}
    for r in cells.data_rows:
        if all(_blank(cells.get(r, c)) for c in range(1, 9)):
            continue  # a note alone
        name, key, operation, value = (cells.get(r, c) for c in range(1, 5))
        if _blank(name):
            raise InputError(f"{_ref(sheet, r, 1)}: the cell is blank; expected the scenario's name.")
        name = str(name).strip()
        if name in reserved:
            raise InputError(f"{_ref(sheet, r, 1)}: scenario name '{name}' is taken by a standard scenario of the "
                             "sensitivity run; choose another name.")
        group, _, field_name = str(key or "").strip().partition(".")
        if group not in FIELDS or field_name not in FIELDS[group]:
            raise InputError(f"{_ref(sheet, r, 2)}: '{key if key is not None else ''}' is not an input; expected "
                             "group.field, e.g. economy.nominal_return.")
        key = f"{group}.{field_name}"
        operation = str(operation if operation is not None else "").strip()
        if operation not in OPERATIONS:
            raise InputError(f"{_ref(sheet, r, 3)}: operation '{operation}'; expected one of "
                             f"{', '.join(OPERATIONS)}.")
        field_spec = FIELDS[group][field_name]
        if field_spec.kind == "choice":
            value = str(value if value is not None else "").strip()
            if operation != "set" or value not in field_spec.choices:
                raise InputError(f"{_ref(sheet, r, 4 if operation == 'set' else 3)}: {key} is an option; expected "
                                 f"operation set with a value among {', '.join(field_spec.choices)}.")
        else:
            value = _number(cells, r, 4, f"a number for {key}", True)
        bounds = []
        for column, dim in ((5, "year"), (7, "age")):
            pair = []
            for offset in (0, 1):
                bound = _number(cells, r, column + offset, f"a whole number ({dim})", False)
                if bound is not None and bound != round(bound):
                    raise InputError(f"{_ref(sheet, r, column + offset)}: value {bound:g} is not a whole number "
                                     f"({dim}).")
                pair.append(None if bound is None else int(bound))
            bounds.append(None if pair == [None, None] else tuple(pair))
        overrides = scenarios.setdefault(name, {})
        if key in overrides:
            raise InputError(f"{_ref(sheet, r, 2)}: scenario '{name}' overrides '{key}' twice.")
        overrides[key] = OPERATIONS[operation](value, years=bounds[0], ages=bounds[1])
    return [Scenario(name, overrides) for name, overrides in scenarios.items()]


def write_sensitivity(ds: xr.Dataset, path, provenance: dict | None = None) -> None:
    """The sensitivity workbook: the tornado table and chart, every scenario's key results (names
    and errors as literal text) and the sheet "About this run" (``provenance``)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    from .io.provenance import add_about_sheet, for_api
    from .io.safety import text_cell
    from .io.workbook import _atomic_save

    rows = tornado(ds)
    wb = Workbook()
    ws = wb.active
    ws.title = "Tornado"
    ws.cell(row=1, column=1, value="Sensitivity of the general average premium (full horizon) and other "
                                   "indicators to each assumption, down and up").font = Font(bold=True, size=12)
    t0 = int(ds.year.values[0])
    headers = ["assumption", "GAP change down", "GAP change up", "GAP down", "GAP base", "GAP up",
               "depletion year down", "depletion year up", "reserve ratio +25y down", "reserve ratio +25y up",
               "reserve ratio +50y down", "reserve ratio +50y up"]
    for c, h in enumerate(headers, start=1):
        ws.cell(row=2, column=c, value=h).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=2, column=c).column_letter].width = max(12, len(h) + 2)
    for r, row in enumerate(rows, start=3):
        values = [row["assumption"], row["gap_down"] - row["gap_base"], row["gap_up"] - row["gap_base"],
                  row["gap_down"], row["gap_base"], row["gap_up"], row["depletion_down"], row["depletion_up"],
                  row["reserve_ratio_25_down"], row["reserve_ratio_25_up"], row["reserve_ratio_50_down"],
                  row["reserve_ratio_50_up"]]
        for c, v in enumerate(values, start=1):
            if isinstance(v, float) and not np.isfinite(v):
                v = "none"
            cell = ws.cell(row=r, column=c, value=v)
            if 2 <= c <= 6 and isinstance(v, float):
                cell.number_format = "0.00%"
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "clustered"
    chart.overlap = 100
    chart.title = "Tornado: change in the general average premium"
    chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=2, max_row=2 + len(rows)), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=3, max_row=2 + len(rows)))
    chart.y_axis.number_format = "0.0%"
    chart.height, chart.width = 9, 18
    ws.add_chart(chart, f"A{len(rows) + 5}")

    ws = wb.create_sheet("Scenarios")
    headers = ["scenario", "status", "depletion year", "actuarial balance"] + \
        [f"GAP {int(h)}y" for h in ds.horizon.values] + [f"reserve ratio {t0 + 24}", f"reserve ratio {t0 + 49}"]
    for c, h in enumerate(headers, start=1):
        ws.cell(row=1, column=c, value=h).font = Font(bold=True)
    for r, name in enumerate(ds.scenario.values, start=2):
        s = ds.sel(scenario=name)
        values = [str(name), str(s.status.values), float(s.depletion_year), float(s.actuarial_balance)]
        values += [float(g) for g in s.gap.values]
        values += [float(s.reserve_ratio.sel(year=t0 + 24)) if t0 + 24 in ds.year else None,
                   float(s.reserve_ratio.sel(year=t0 + 49)) if t0 + 49 in ds.year else None]
        for c, v in enumerate(values, start=1):
            if isinstance(v, str):
                text_cell(ws, r, c, v)
            else:
                ws.cell(row=r, column=c, value=None if isinstance(v, float) and not np.isfinite(v) else v)
    add_about_sheet(wb, provenance or for_api(None, "batch.write_sensitivity"))
    _atomic_save(wb, path)
