"""R03 (pensions in payment against the control total) in a small synthetic sample: the tolerance `actuary synth`
gives a pension count is its sampling error (a benefit's count is binomial: the pensions are drawn as a fixed total
spread over the cells), so that a planted 10% error in the old-age control shows at 2,000 members, and clean samples
stay inside it."""

import datetime as dt

import numpy as np
import pandas as pd

from actuary.data.sources import Source
from actuary.data.synth import BENEFITS, SAMPLING_ERRORS, _Case, _draw, controls_of

MEMBERS = 2_000


def test_pension_count_tolerance_is_the_samples_own_error(member_case):
    """2,000 samples of the pensions `actuary synth` draws for 2,000 members (the same multinomial draw): each
    benefit's count x weight against the control total. None falls outside R03's tolerance: at 4.5 standard errors a
    clean sample falls outside with probability 7e-6 a control (3e-5 for the four), so a clean extract passes;
    and the tolerance is that of the count's own error, the standard deviation of the relative difference over the
    samples between 0.9 and 1.1 times the standard error it is built from (1.8 x 2,000^-1/2 of sampling error of a
    standard deviation: 4 of them). Before, the count's tolerance was the amount's, sqrt(weight (1 + 0.2^2) / count):
    3.4 times the old-age count's error."""
    case = _Case(member_case)
    ini = member_case.inputs.initial
    counts = ini["pensioners"].values
    weight = float(ini["active"].sum() + ini["inactive"].sum()) / MEMBERS
    total = int(round(float(counts.sum()) / weight))
    controls = controls_of(case, weight).set_index(["item", "benefit"])
    rng = np.random.default_rng(2)
    by_benefit = counts.reshape(counts.shape[0], -1).shape[1]
    drawn = np.array([np.bincount(_draw(rng, counts, total) // by_benefit, minlength=len(BENEFITS))
                      for _ in range(2_000)])
    for b, name in enumerate(BENEFITS):
        control = controls.loc[("pensioners", name)]
        relative = drawn[:, b] * weight / control["value"] - 1
        assert np.all(np.abs(relative) <= control["tolerance"]), name
        if control["tolerance"] > 0.02 + 1e-9:
            standard_error = control["tolerance"] / SAMPLING_ERRORS
            assert 0.9 <= relative.std() / standard_error <= 1.1, (name, relative.std(), standard_error)


def test_planted_control_error_is_caught_in_a_small_sample(member_case, tmp_path):
    """`actuary synth --members 2000 --errors 0.01` plants a 10% error in the old-age pensions' control total (not
    fatal); the `actuary data` command it prints lists R03 for it (the old-age count's tolerance here: 5.8%; it was
    19.6%, and the error went unseen)."""
    from actuary.data.intake import run_intake
    from actuary.data.synth import synthesize
    import shutil

    from actuary.valuation import DEMOLAND

    folder = tmp_path / "extract"
    manifest = synthesize(member_case, MEMBERS, 5, folder, errors=0.01)
    assert "R03" in manifest["planted_errors"]
    files = manifest["files"]
    controls = pd.read_csv(folder / files["controls"])
    old_age = controls[(controls["item"] == "pensioners") & (controls["benefit"] == "old_age")].iloc[0]
    assert old_age["tolerance"] < 0.08
    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMOLAND / "valuation.xlsx", workbook)
    command = manifest["data_command"]
    max_excluded = float(command.split("--max-excluded ")[1].split()[0]) if "--max-excluded" in command else 0.05
    result = run_intake(Source(str(folder / files["insured"])), Source(str(folder / files["pensioners"])),
                        dt.date(2020, 1, 1), workbook, Source(str(folder / files["controls"])), tmp_path / "data",
                        weight=manifest["weight"], max_excluded=max_excluded)
    assert any(w.startswith("R03") and "old_age" in w for w in result.checks.warnings), result.checks.warnings
