"""The :class:`Valuation`: validated inputs of one scheme, and its projection."""

from __future__ import annotations

import copy
import os
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import xarray as xr

from . import floor, indicators
from .inputs import FIELDS, Inputs
from .projection import (award_annuity_factors, cash_flow_arrays, gross_domestic_product, held_past_horizon,
                         run_kernels, to_dataset, valuation_kernel_inputs)
from .validation import InputError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMOLAND = PROJECT_ROOT / "valuations" / "demoland"
DEMOLAND_FLOOR_ONLY = PROJECT_ROOT / "valuations" / "demoland-floor" / "floor-only.xlsx"


@dataclass
class Results:
    """``projection``: the yearly results Dataset; ``summary``: GAP by horizon, depletion year, ..."""

    projection: xr.Dataset
    summary: xr.Dataset

    def __repr__(self):
        if "gap" not in self.summary:
            level = float(self.summary.floor_cost_level_pct_gdp[-1])
            return (f"<Results {self.projection.attrs['valuation_year']}+{self.projection.attrs['horizon']}y: floor "
                    f"costing alone, level cost {level:.2f}% of GDP>")
        gap = ", ".join(f"{int(h)}y {100 * float(v):.2f}%" for h, v in
                        zip(self.summary.horizon.values, self.summary.gap.values))
        return f"<Results {self.projection.attrs['valuation_year']}+{self.projection.attrs['horizon']}y: GAP {gap}>"


class Valuation:
    """A valuation case: settings, scheme provisions, economic, demographic and behavioural
    assumptions and the initial state (see :mod:`actuary.inputs` for every field).

    >>> results = Valuation.demo().run()
    >>> results.projection["paygo_cost_rate"]

    ``source``: the input file name and SHA-256 of a valuation read from a workbook (None otherwise),
    recorded in the provenance of its outputs. ``report_text``: the actuary's text of the report it was read with
    (:class:`actuary.io.report_text.ReportText`: the workbook's Report text sheet, a case folder's report_text.csv;
    None for a valuation built in Python), carried by :meth:`replace`, :meth:`solve` and :meth:`roll_forward` and
    written by :meth:`to_workbook` and :meth:`to_folder`, so that a case written from it keeps the actuary's text.
    ``carried_sheets``: the sheets of the workbook it was read from that other commands read (Scenarios, Stochastic,
    Reforms, Analysis of change) and the user's Notes sheets, as their saved values (:mod:`actuary.io.carried`; none
    for a case built in Python or read from a case folder), carried as ``report_text`` is and written by
    :meth:`to_workbook`, so that a workbook written from the case runs the same scenarios, stochastic parameters,
    reform options and steps; :meth:`roll_forward` brings their rows whose years have passed to the new valuation
    year and says each change in ``carried_changes``.
    """

    source: dict | None = None
    report_text = None
    carried_sheets: tuple = ()
    carried_changes: tuple = ()   # what roll_forward changed in the carried sheets, in words (one item a change)

    def __init__(self, settings: dict, scheme: dict, economy: dict, demography: dict, behaviour: dict,
                 initial: dict, floor: dict | None = None, name: str = "valuation", _reuse=None):
        self.name = name
        self.raw = {"settings": dict(settings), "scheme": dict(scheme), "economy": dict(economy),
                    "demography": dict(demography), "behaviour": dict(behaviour), "initial": dict(initial),
                    "floor": dict(floor or {})}
        self.inputs = Inputs(**self.raw, reuse=_reuse)

    @classmethod
    def demo(cls) -> "Valuation":
        """The embedded Demoland case (valuations/demoland/valuation.xlsx); the workbook is parsed and
        validated once per file version and each call gets its own deep copy (inputs and validated inputs)."""
        path = DEMOLAND / "valuation.xlsx"
        return copy.deepcopy(_parsed_workbook(str(path), path.stat().st_mtime_ns))

    def to_workbook(self, path, blank: bool = False, text=None, record=None) -> None:
        """Write the inputs as a valuation workbook (see :mod:`actuary.io.workbook`); ``text``: the actuary's report
        text (:class:`actuary.io.report_text.ReportText`) written in its Report text sheet, by default the one the
        valuation was read with (``report_text``; blank sections without one, or with ``ReportText()``). The sheets
        the valuation carries (``carried_sheets``) follow, except in a ``blank`` template, and last ``record``, a
        run's record sheet (:class:`actuary.io.provenance.RecordSheet`: ``actuary roll-forward``'s Notes -
        roll-forward), written with the rest: the file is written once."""
        from .io.workbook import write_workbook

        write_workbook(self, path, blank=blank, text=self.report_text if text is None else text, record=record)

    def to_folder(self, path, text=None) -> None:
        """Write the inputs as a case folder (valuation.json, CSV tables and report_text.csv with the sections of
        ``text``, by default the valuation's own ``report_text``; see :func:`actuary.io.folder.write_valuation_folder`)
        in a new or empty folder ``path``."""
        from .io.folder import write_valuation_folder

        write_valuation_folder(self, path, text=self.report_text if text is None else text)

    def replace(self, **groups) -> "Valuation":
        """A new valuation with some fields replaced, e.g. ``replace(scheme={"contribution_rate": 0.2})``.

        Anything that cannot be an input (an unknown group or field, text, None, a boolean, a wrong
        shape, a value outside the field's bounds) raises :class:`InputError` naming the field
        (``scheme.vesting_years``) and the value. A group given as None is emptied (``replace(floor=None)``:
        no floor)."""
        raw = {g: dict(v) for g, v in self.raw.items()}
        for group, values in groups.items():
            if group not in raw:
                raise InputError(f"replace(): '{group}' is not an input group; expected one of {', '.join(raw)}.")
            if values is None:
                raw[group] = {}
                continue
            if not isinstance(values, Mapping):
                raise InputError(f"replace(): {group}={values!r:.60} is not a mapping of field names to values; "
                                 f"expected e.g. {group}={{'{next(iter(FIELDS[group]))}': ...}}.")
            raw[group].update(values)
        changed = {f"{group}.{key}" for group, values in groups.items() for key in (values or {})}
        replaced = Valuation(**raw, name=self.name, _reuse=(self.inputs, changed))
        replaced.report_text = self.report_text   # the actuary's text goes with the case (a solved, reformed one)
        replaced.carried_sheets = self.carried_sheets   # and its scenarios, parameters, options, steps, notes
        return replaced

    def roll_forward(self, years: int, horizon: int | None = None) -> "Valuation":
        """The valuation at 1 January t0 + ``years`` with the same assumptions, its initial state the projection's
        stocks at that date, amounts fixed at t0 rebased, year-dependent inputs from that year on (held past
        their end), the economic history carried (see :mod:`actuary.rollforward`); ``horizon``: of the new case
        (default: the same number of years). Valuing it gives this case's cash flows for the years both project."""
        from .rollforward import roll_forward

        return roll_forward(self, years, horizon)

    def run(self, engine: str = "kernel") -> Results:
        """Project the scheme; ``engine`` "kernel" (Numba) or "reference" (NumPy, same equations).

        When the actuarial balance is taken over the whole horizon (``settings.actuarial_balance_period`` >=
        the horizon), its target fund is the expenditure of the year after the horizon: the projection then
        runs one year more, every year-dependent assumption held at its last value, and the results are
        those of the horizon (the extra year changes none of them: every year's flows depend only on the
        assumptions of that year and the years before it)."""
        settings = self.inputs.settings
        _check_engine(engine)
        if not self.inputs.has_scheme:
            projection = floor.national_projection(self.inputs, engine)
            data, horizons = floor.floor_summary(projection, settings["gap_horizons"])
            return Results(projection, xr.Dataset(data, coords={"horizon": horizons}, attrs={
                "valuation_year": projection.attrs["valuation_year"], "horizon": projection.attrs["horizon"]}))
        if settings["balance_sheet"] == "yes":
            closed = {}

            def start(inputs, kin):
                # an idle second thread is handed the interpreter now, not after the switch interval: its first
                # run reaches its kernels (which release it) while this thread waits, instead of waiting up to
                # sys.getswitchinterval() for this thread's Python to let it go (a busy one is not waited for)
                begun = threading.Event() if _second_thread_idle() else None
                if begun is not None:
                    _on_second_thread(begun.set)
                # first the award annuity factors, which the valuation's own run needs at its end (the
                # second thread is done with them before that run is; the closed-group runs are wanted last)
                kin.annuity_factors = _beside(award_annuity_factors, kin, engine)
                closed.update({mode: (_on_second_thread(closed_group_flow, inputs, kin, engine, mode),
                                      (inputs, kin, engine, mode)) for mode in CLOSED_GROUP_MODES})
                if begun is not None:
                    begun.wait(sys.getswitchinterval())

            projection, following, inputs, kin = self._project(engine, run_off=True, alongside=start)
            parts = {"open": projection, **_collect(closed)}
        else:
            parts = None
            projection, following, inputs, kin = self._project(engine)
        floor_summary = floor.floor_summary(projection, settings["gap_horizons"])[0] if inputs.has_floor else None
        return Results(projection, indicators.summary(projection, settings, parts, following, floor_summary))

    def project(self, engine: str = "kernel") -> tuple[xr.Dataset, xr.Dataset | None]:
        """The yearly projection over the horizon without the summary, and the projection of the year after
        the horizon when the actuarial balance needs it (else None)."""
        projection, following, _, _ = self._project(engine)
        return projection, following

    def solve(self, lever: str, target, start: int | None = None, until: int | None = None):
        """The value of a reform ``lever`` that meets a financing ``target`` (e.g. ``solve("contribution_rate",
        "reserve_ratio>=1", start=2030, until=2080)``): a :class:`actuary.solve.Solution` with the value, the
        solved Valuation, the runs it took and the binding year (see :mod:`actuary.solve`)."""
        from .solve import solve

        return solve(self, lever, target, start, until)

    def _project(self, engine: str, run_off: bool = False, alongside=None):
        """(projection over the horizon, the year after it or None, the inputs projected, the kernel inputs);
        ``run_off``: the kernel inputs of the closed-group runs built with the valuation's (kin.run_off);
        ``alongside(inputs, kin)`` is called once they are built, before the inputs only the valuation's own run
        needs and its kernels (it starts the closed-group runs on a second thread: the kernels release the GIL)."""
        _check_engine(engine)
        settings = self.inputs.settings
        horizon = settings["horizon"]
        extra = 1 if settings["actuarial_balance_period"] >= horizon else 0
        inputs = held_past_horizon(self.inputs, extra) if extra else self.inputs
        kin = valuation_kernel_inputs(inputs, run_off=run_off,
                                      alongside=None if alongside is None else lambda kin: alongside(inputs, kin))
        out = run_kernels(kin, settings["min_age"], engine)
        extend = None
        if inputs.has_floor:
            # the floor's costs on the second thread (its kernel releases the GIL) while this one builds the results
            pensions = {"count": out["pensioner_count"], "amount": out["pensioner_amount"]}
            gdp = gross_domestic_product(inputs, out["population"], kin.series["employment_share"]) \
                if "population" in out else None
            extend = floor.floor_extension(inputs, dict(kin.population, **out), pensions, kin.series["prices"],
                                           kin.series["wages"], kin.series["beta"], engine, gdp, _beside)
        if extra:
            projection, following = to_dataset(inputs, kin, out, extend, horizon=horizon)
        else:
            projection, following = to_dataset(inputs, kin, out, extend), None
        return projection, following, inputs, kin


CLOSED_GROUP_MODES = ("closed", "accrued", "pensioners")


def closed_group_flow(inputs, kin, engine: str, mode: str) -> dict:
    """The cash flows of one closed-group run (``mode`` of :func:`actuary.projection.run_kernels`)."""
    return cash_flow_arrays(inputs, run_kernels(kin, inputs.settings["min_age"], engine, mode, cash_flows_only=True))


def _collect(started: dict) -> dict:
    """The results of the closed-group runs started on the second thread (mode -> (future, arguments)): the runs
    it has not begun yet are taken back and run here, the last queued first, so that both threads stay busy."""
    flows = {mode: _result(future, closed_group_flow, *arguments)
             for mode, (future, arguments) in reversed(started.items())}
    return {mode: flows[mode] for mode in started}


def _beside(function, *arguments):
    """``function(*arguments)`` queued on the second thread; returns a function giving its result (:func:`_result`)."""
    return partial(_result, _on_second_thread(function, *arguments), function, *arguments)


def _result(future, function, *arguments):
    """The result of ``function(*arguments)`` queued on the second thread as ``future``: run here if the thread
    has not begun it (its tasks run in the order queued: once one has begun, those queued before it are done)."""
    return function(*arguments) if future.cancel() else future.result()


_SECOND = {}
_SECOND_LOCK = threading.Lock()


def _forget_second_thread() -> None:
    """In a forked child: the parent's thread is not there and its lock may have been held at the fork."""
    global _SECOND_LOCK
    _SECOND_LOCK = threading.Lock()
    _SECOND.clear()


os.register_at_fork(after_in_child=_forget_second_thread)


def _second_thread() -> ThreadPoolExecutor:
    """The thread that runs the closed-group runs beside the valuation's (the kernels release the GIL): one per
    process, started once (starting and joining a thread per run costs more than a small run's Python code)."""
    with _SECOND_LOCK:
        if "executor" not in _SECOND:
            _SECOND["executor"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="actuary-closed-group")
        return _SECOND["executor"]


def _on_second_thread(function, *arguments):
    """``function(*arguments)`` queued on the second thread (a Future), counted among its tasks queued or running
    until it is done or cancelled."""
    with _SECOND_LOCK:
        _SECOND["tasks"] = _SECOND.get("tasks", 0) + 1
    future = _second_thread().submit(function, *arguments)
    future.add_done_callback(_task_done)
    return future


def _task_done(_future) -> None:
    with _SECOND_LOCK:
        _SECOND["tasks"] -= 1


def _second_thread_idle() -> bool:
    """True when the second thread has no task queued or running (from any thread's valuation)."""
    with _SECOND_LOCK:
        return not _SECOND.get("tasks")


def _check_engine(engine: str) -> None:
    if engine not in ("kernel", "reference"):
        raise ValueError(f"engine '{engine}' is not an engine; expected 'kernel' or 'reference'")


@lru_cache(maxsize=4)
def _parsed_workbook(path: str, mtime_ns: int) -> Valuation:
    from .io.workbook import load_workbook

    return load_workbook(path)
