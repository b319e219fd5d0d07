"""The open-group insured run projects men and women on two threads (projection.insured_by_sex): the sexes are
independent, so the two half runs, their by-year sums and their survivors' awards (which go to the other sex)
added, equal one run of both sexes; and a run of one sex leaves the other's outputs untouched."""

import numpy as np
import pytest

from actuary import Valuation
from actuary import projection
from actuary.kernels.scheme import WORK_PLANES, insured_kernel


def _serial(kernel_args, res):
    work = np.empty((WORK_PLANES,) + kernel_args["active0"].shape)
    insured_kernel(**kernel_args, **res, work=work)
    return work, work


@pytest.fixture(scope="module")
def kernel_inputs():
    valuation = Valuation.demo()
    return projection.valuation_kernel_inputs(valuation.inputs, run_off=False), valuation.inputs.settings["min_age"]


def test_two_threads_by_sex_equal_one_run(kernel_inputs, monkeypatch):
    kin, lo = kernel_inputs
    split = projection.run_kernels(kin, lo)
    monkeypatch.setattr(projection, "insured_by_sex", _serial)
    whole = projection.run_kernels(kin, lo)
    for name in ("active_out", "inactive_out", "new_entrants", "exits", "withdrawals", "awards_count",
                 "awards_amount", "wage_bill", "contributors", "grants", "grant_count", "pensioner_amount"):
        scale = max(np.abs(whole[name]).max(), 1e-300)
        assert np.abs(split[name] - whole[name]).max() <= 1e-13 * scale, name
    assert split["awards_count"][:, 2:].sum() > 0  # survivors' awards crossed from one sex to the other
    # the stocks after some years: men's from the men's run, women's from the women's
    monkeypatch.undo()
    state_split = projection.run_kernels(kin, lo, years=7)["state"]
    monkeypatch.setattr(projection, "insured_by_sex", _serial)
    state_whole = projection.run_kernels(kin, lo, years=7)["state"]
    for name, value in state_whole.items():
        assert np.abs(state_split[name] - value).max() <= 1e-13 * np.abs(value).max(), name


def test_one_sex_leaves_the_other_untouched(kernel_inputs, monkeypatch):
    kin, lo = kernel_inputs
    captured = {}
    monkeypatch.setattr(projection, "insured_by_sex",
                        lambda kernel_args, res: captured.update(kernel_args) or (None, None))
    projection.run_kernels(kin, lo)
    n_years = captured["q_active"].shape[0]
    n_ages = captured["active0"].shape[1]
    flows = {"active_out": np.full((n_years + 1, 2, n_ages), -7.0), "inactive_out": np.full((n_years + 1, 2, n_ages), -7.0)}
    for name in ("new_entrants", "active_deaths", "retirements", "exits", "withdrawals", "invalidity",
                 "inactive_deaths", "inactive_retirements", "reentries"):
        flows[name] = np.full((n_years, 2, n_ages), -7.0)
    n_full = captured["married"].shape[1]
    sums = {"awards_count": np.zeros((n_years, 4, 2, n_full)), "awards_amount": np.zeros((n_years, 4, 2, n_full)),
            "awards_top_up": np.zeros((0, 4, 2, n_full))}
    for name in ("wage_bill", "contributors", "grants", "grant_count", "exit_refunds"):
        sums[name] = np.zeros(n_years)
    insured_kernel(**captured, **flows, **sums, work=np.empty((WORK_PLANES,) + captured["active0"].shape),
                   sex_from=1, sex_to=2)
    for name, value in flows.items():
        assert np.all(value[:, 0] == -7.0), name          # men: not written
        assert not np.any(value[:, 1] == -7.0), name      # women: every cell written
