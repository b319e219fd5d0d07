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
