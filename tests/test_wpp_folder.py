"""A folder of WPP files (the population command's --data) read as hostile: each structural fault is refused in one
paragraph naming the file (and line, column and value where there is one) instead of a bare KeyError/ValueError of
pandas, and a second base-population file is refused instead of the first one in sorted order being taken."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from actuary import InputError
from actuary.cli import WPP_CANADA, main
from actuary.io.wpp import read_wpp_folder


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "wpp"
    shutil.copytree(WPP_CANADA, folder)
    return folder


def _edit(path, change):
    lines = path.read_text().splitlines()
    change(lines)
    path.write_text("\n".join(lines) + "\n")


def _refused(folder, words):
    with pytest.raises(InputError) as caught:
        read_wpp_folder(folder)
    assert words in " ".join(str(caught.value).split())


def test_a_missing_column_is_named_with_the_columns_expected(data):
    _edit(data / "input_fertility.csv", lambda lines: lines.__setitem__(
        slice(None), [",".join(line.split(",")[:2]) for line in lines]))
    _refused(data, "input_fertility.csv: no column 'asfr'; expected the columns year, age, asfr")


def test_a_sex_written_otherwise_is_named_by_line_and_value(data):
    _edit(data / "input_net_migration.csv", lambda lines: lines.__setitem__(3, lines[3].replace("male", "Male", 1)))
    _refused(data, "input_net_migration.csv, line 4, column sex: 'Male'; expected male or female (lower case).")


def test_a_base_population_of_two_years_is_refused(data):
    path = data / "input_population_1950.csv"
    _edit(path, lambda lines: lines.append(lines[1].replace("1950,", "1951,", 1)))
    _refused(data, "input_population_1950.csv: rows for the years 1950, 1951; expected the base population of one "
                   "year.")


def test_a_second_base_population_file_is_refused_not_ignored(data):
    shutil.copy(data / "input_population_1950.csv", data / "input_population_0000.csv")
    _refused(data, "2 files for 'population' (input_population_0000.csv, input_population_1950.csv); expected one "
                   "file input_population_*.csv")


def test_a_row_given_twice_names_both_lines(data):
    _edit(data / "input_sex_ratio_at_birth.csv", lambda lines: lines.insert(3, lines[1]))
    _refused(data, "input_sex_ratio_at_birth.csv: lines 2 and 4 are both for year=1950; expected one row for each.")


def test_the_command_says_it_in_one_paragraph_and_writes_nothing(data, tmp_path):
    shutil.copy(data / "input_population_1950.csv", data / "input_population_0000.csv")
    result = CliRunner().invoke(main, ["population", "--data", str(data), "--out", str(tmp_path / "out")],
                                terminal_width=400)
    assert result.exit_code == 2 and "Traceback" not in result.output + result.stderr
    assert "2 files for 'population'" in result.stderr and "cannot be read" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("file, line, value, words", [
    ("input_sex_ratio_at_birth.csv", 3, "105.8", "input_sex_ratio_at_birth.csv, line 3, column srb: value 105.8; "
     "expected between 0.5 and 2: boys per girl born (WPP's per 100 girls divided by 100)."),
    ("input_fertility.csv", 30, "95.3", "input_fertility.csv, line 30, column asfr: value 95.3; expected between 0 "
     "and 1: births per woman in a year (WPP's per 1,000 women divided by 1,000)."),
    ("input_population_1950.csv", 5, "-3", "input_population_1950.csv, line 5, column population: value -3; "
     "expected between 0 and 1e+10: persons."),
    ("input_life_table.csv", 7, "1.2", "input_life_table.csv, line 7, column qx: value 1.2; expected between 0 and 1"),
])
def test_a_value_in_other_units_is_refused_not_projected(data, file, line, value, words):
    """WPP publishes some series per 1,000 or per 100: read as they are, they project a wrong population without a
    word (a sex ratio at birth of 105.8 made 378,070 boys and 3,573 girls in 1951)."""
    column = {"input_sex_ratio_at_birth.csv": 1, "input_fertility.csv": 2, "input_population_1950.csv": 3,
              "input_life_table.csv": 4}[file]

    def change(lines):
        fields = lines[line - 1].split(",")
        fields[column] = value
        lines[line - 1] = ",".join(fields)
    _edit(data / file, change)
    _refused(data, words)
