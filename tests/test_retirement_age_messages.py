"""The message refusing an early retirement age above the normal one names the ages as they were given: by year
and sex, no age (the grid's first age, 15, used to appear and misled), and the normal age's input beside its value."""

import pytest

from actuary import Valuation
from actuary.validation import InputError


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


def test_ages_by_year_name_year_and_sex_only(demo):
    normal = demo.inputs.scheme["normal_retirement_age"].copy()
    normal.loc[{"year": 2020, "sex": "female"}] = 58.0
    with pytest.raises(InputError) as caught:
        demo.replace(scheme={"normal_retirement_age": normal})
    message = str(caught.value)
    assert "year=2020, sex=female:" in message
    assert "age=" not in message.replace("retirement_age", "")
    assert "value 60.0 is above the normal retirement age 58.0 (scheme.normal_retirement_age, same year and sex)" \
        in message
