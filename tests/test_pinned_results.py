"""Demoland's full results are unchanged by work that must change none (performance rewrites,
refactoring): every variable of ``run()``'s projection and summary agrees to 1e-12 relative with the
fingerprint pinned in ``tests/data/demoland_pinned.nc``.

This is a regression guard, not evidence of correctness (the closed-form, reference and identity tests
are). When the results change on purpose, regenerate the file with ``tests/data/make_demoland_pinned.py``
in the commit that changes them, once that change has landed; never loosen the tolerance."""

import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from actuary import Valuation

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from make_demoland_pinned import PINNED, fingerprint  # noqa: E402

RTOL = 1e-12


@pytest.fixture(scope="module")
def pinned_and_now():
    with xr.open_dataset(PINNED, engine="scipy") as pinned:
        return pinned.load(), fingerprint(Valuation.demo().run())


def test_same_variables(pinned_and_now):
    pinned, now = pinned_and_now
    assert sorted(now.data_vars) == sorted(pinned.data_vars)


def test_every_value_within_1e_12(pinned_and_now):
    pinned, now = pinned_and_now
    differ = _changed(pinned, now)
    assert not differ, f"results changed: {differ}"


def _changed(pinned, now) -> list[str]:
    return [name for name in pinned.data_vars
            if now[name].shape != pinned[name].shape
            or not np.allclose(now[name].values, pinned[name].values, rtol=RTOL, atol=0.0, equal_nan=True)]


def test_guard_can_fail(pinned_and_now):
    """The guard sees a change of the contribution rate by 1e-9 relative (in the contributions and reserve)."""
    pinned, _ = pinned_and_now
    case = Valuation.demo()
    rate = case.raw["scheme"]["contribution_rate"]
    changed = fingerprint(case.replace(scheme={"contribution_rate": rate * (1 + 1e-9)}).run())
    assert {"p__contributions", "p__reserve"} <= set(_changed(pinned, changed))
