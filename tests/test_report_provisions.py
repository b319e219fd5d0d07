"""The report's provisions in words (chapter 2): the benefit formula's accrual rate, the value of an input left
to its default, and notes written for a reader of the report (no field names, modules or formulas in code)."""

import re
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from actuary import Valuation
from actuary.io.presentation import accrual_in_words, accrual_row
from actuary.report.provisions import provision_rows


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


def test_demoland_accrual_rate_is_in_the_provisions(demo):
    rows = {label: (value, note) for label, value, note in provision_rows(demo.inputs, ("scheme",))}
    value, note = rows["Accrual rate (benefit formula)"]
    assert value == ("1.333% of reference earnings per year of service up to 15 years, then 1.5% "
                     "(20% after 15 years, 72.5% after 50 years of service)")
    assert "share of reference earnings" in note
    labels = list(rows)   # the benefit formula just before the reference earnings it applies to
    assert labels.index("Accrual rate (benefit formula)") + 1 == labels.index("Reference earnings: years averaged")


def test_accrual_in_words_and_by_year():
    assert accrual_in_words(np.arange(51) * 0.02) == "2% of reference earnings per year of service (100% after 50 " \
                                                     "years of service)"
    assert accrual_in_words(np.minimum(np.arange(51) * 0.02, 0.6)) == \
        "2% of reference earnings per year of service up to 30 years, then no accrual (60% after 30 years, 60% " \
        "after 50 years of service)"
    years = np.arange(2020, 2030)
    schedule = np.array([np.arange(41) * (0.02 if y < 2025 else 0.015) for y in years])
    inputs = SimpleNamespace(scheme={"accrual": xr.DataArray(schedule, coords={"year": years,
                                                                               "service": np.arange(41)},
                                                             dims=("year", "service"))})
    assert accrual_row(inputs)[2] == ("from 2020: 2% of reference earnings per year of service (80% after 40 years of "
                                      "service); from 2025: 1.5% of reference earnings per year of service (60% after "
                                      "40 years of service)")


CODE = re.compile(r"\b[a-z]+_[a-z_0-9]+\b|actuary\.|\bt0\b|sum_i|index_t|\(see the notes\)")


@pytest.mark.parametrize("groups", [("scheme",), ("settings",), ("economy",)])
def test_values_and_notes_for_a_reader(demo, groups):
    """No "the default (see the notes)" without the default; no note naming a field, a module or a formula in
    code (normal_retirement_age_by_cohort, actuary.inputs.phase_in, grant_type refund, sum_i ..., v_t x index_t)."""
    for label, value, note in provision_rows(demo.inputs, groups):
        # the default named with its value ("the nominal investment return (the default)") is what a reader needs
        assert "see the notes" not in value and value != "the default" and not CODE.search(value), (label, value)
        assert not CODE.search(note), (label, note)
    rows = {label: value for label, value, note in provision_rows(demo.inputs, groups)}
    if groups == ("scheme",):
        assert rows["Bend points"].startswith("none")
        assert rows["Interest credited on refunds"] == "the nominal investment return (the default)"
        assert rows["Normal retirement age by cohort"] == "not given: the normal retirement age by year applies"
