"""The kernel inputs of a valuation are built once over the horizon and the closed-group run-off
(``valuation_kernel_inputs``): the valuation's are the first years of those arrays. They must equal, array
for array, the inputs built over the horizon alone (``build_kernel_inputs``), and the run-off's those built
from the inputs held past the horizon (the slow path: ``run_off_kernel_inputs``)."""

import numpy as np
from hypothesis import given, settings

from actuary import Valuation
from actuary.projection import build_kernel_inputs, run_off_kernel_inputs, valuation_kernel_inputs

from .schemes import schemes, valuation


def assert_same_arrays(a: dict | None, b: dict | None, where: str):
    assert (a is None) == (b is None), where
    if a is None:
        return
    assert a.keys() == b.keys(), where
    for key in a:
        if isinstance(a[key], dict):
            assert_same_arrays(a[key], b[key], f"{where}.{key}")
        elif isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{where}.{key}")
        else:
            assert a[key] == b[key], f"{where}.{key}"


def assert_same_kernel_inputs(inputs):
    shared = valuation_kernel_inputs(inputs)
    alone = build_kernel_inputs(inputs)
    for part in ("population", "insured", "pensions", "finance", "series"):
        assert_same_arrays(getattr(shared, part), getattr(alone, part), part)
    slow = run_off_kernel_inputs(build_kernel_inputs(inputs))
    for part in ("insured", "pensions", "finance"):
        assert_same_arrays(getattr(shared.run_off, part), getattr(slow, part), f"run-off {part}")


def test_demoland():
    assert_same_kernel_inputs(Valuation.demo().inputs)


@settings(max_examples=8, deadline=None)
@given(schemes())
def test_random_schemes(groups):
    assert_same_kernel_inputs(valuation(groups).inputs)
