"""Bad inputs raise InputError (a ValueError) naming the input, the coordinate and the value."""

import numpy as np
import pytest

from actuary import InputError
from actuary.demography import project_population


@pytest.fixture()
def inputs(wpp_canada):
    d = wpp_canada
    years = np.arange(1950, 1960)
    return dict(base=d["base"].copy(), survival=d["survival"].sel(year=years).copy(),
                fertility=d["fertility"].sel(year=years).copy(),
                sex_ratio_at_birth=d["sex_ratio_at_birth"].sel(year=years).copy(),
                net_migration=d["net_migration"].sel(year=years).copy())


def test_nan_in_survival(inputs):
    inputs["survival"].loc[dict(year=1953, sex="female", age=40)] = np.nan
    with pytest.raises(ValueError, match=r"'survival' at year=1953, sex=female, age=40: value nan is not a finite"):
        project_population(**inputs)


def test_negative_base_population(inputs):
    inputs["base"].loc[dict(sex="male", age=7)] = -3.0
    with pytest.raises(InputError, match=r"'base' at sex=male, age=7: value -3.0 is negative"):
        project_population(**inputs)


def test_survival_ratio_above_one(inputs):
    inputs["survival"].loc[dict(year=1951, sex="male", age=12)] = 1.5
    with pytest.raises(InputError, match=r"'survival' at year=1951, sex=male, age=12: value 1.5 is outside \[0, 1\]"):
        project_population(**inputs)


def test_missing_year(inputs):
    inputs["fertility"] = inputs["fertility"].drop_sel(year=1955)
    with pytest.raises(InputError, match=r"'fertility'.*year 1956 after year 1954 leaves a gap"):
        project_population(**inputs)


def test_years_not_covered(inputs, wpp_canada):
    inputs["survival"] = wpp_canada["survival"].sel(year=np.arange(1950, 1965))
    with pytest.raises(InputError, match=r"'fertility': year 1960 is missing"):
        project_population(**inputs)


def test_ages_with_gap(inputs):
    inputs["base"] = inputs["base"].drop_sel(age=50)
    with pytest.raises(InputError, match=r"'base': age 51 after age 49 leaves a gap"):
        project_population(**inputs)


def test_ages_out_of_order(inputs):
    inputs["net_migration"] = inputs["net_migration"].isel(age=[1, 0] + list(range(2, 101)))
    with pytest.raises(InputError, match=r"'net_migration'.*age labels do not match"):
        project_population(**inputs)


def test_mismatched_ages(inputs):
    inputs["survival"] = inputs["survival"].sel(age=slice(0, 90))
    with pytest.raises(InputError, match=r"'survival': age labels do not match those of 'base' \(missing age \[91"):
        project_population(**inputs)


def test_unknown_sex(inputs):
    inputs["base"] = inputs["base"].assign_coords(sex=["male", "other"])
    with pytest.raises(InputError, match=r"'base': unknown sex 'other'"):
        project_population(**inputs)


def test_wrong_dimensions(inputs):
    inputs["fertility"] = inputs["fertility"].rename(age="age_of_mother")
    with pytest.raises(InputError, match=r"'fertility' has dimensions \('year', 'age_of_mother'\); expected exactly"):
        project_population(**inputs)


def test_unknown_migration_timing(inputs):
    with pytest.raises(InputError, match=r"'migration_timing': 'middle' is not a timing"):
        project_population(**inputs, migration_timing="middle")


def test_nonpositive_sex_ratio(inputs):
    inputs["sex_ratio_at_birth"].loc[dict(year=1952)] = 0.0
    with pytest.raises(InputError, match=r"'sex_ratio_at_birth' at year=1952: value 0.0 is not positive"):
        project_population(**inputs)
