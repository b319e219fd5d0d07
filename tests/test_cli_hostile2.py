"""A reviewer's second hostile pass on the command line: text from an input file that reaches the terminal with
its escape sequences (a value quoted in an error, a step name in a table), a solve target of infinity or of a
year beyond any calendar, and an output that would replace the very file the run reads."""

from __future__ import annotations

import os
import re

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from actuary.cli import main
from actuary.validation import InputError

# moves the cursor up a line, clears it, writes a line of its own and hides what follows (the reviewer's value)
FAKED = "\033[1A\033[2K\033[1GFilled into_v.xlsx\033[8m"
SHOWN = r"\x1b[1A\x1b[2K\x1b[1GFilled into_v.xlsx\x1b[8m"
# what a terminal acts on: C0 but tab and newline, DEL, C1
ACTED_ON = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], terminal_width=200)


def _said(result) -> str:
    return " ".join(result.output.split())   # (standard output and standard error, as a terminal shows them)


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory):
    """Demoland's valuation workbook (written once for the module)."""
    from actuary import Valuation

    path = tmp_path_factory.mktemp("book") / "demo.xlsx"
    Valuation.demo().to_workbook(path)
    return path


def _copy(source, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(source.read_bytes())
    return path


# ------------------------------------------------------------------------ 1. control characters on the screen

@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=60))
def test_visible_leaves_nothing_a_terminal_acts_on_and_other_text_as_it_is(text):
    from actuary.cli import visible

    shown = visible(text)
    assert not ACTED_ON.search(shown)
    assert ACTED_ON.sub("", text) == ACTED_ON.sub("", re.sub(r"\\x[0-9a-f]{2}", "", shown)) or "\\x" in text
    if not ACTED_ON.search(text):
        assert shown == text
    assert shown.count("\\x") - text.count("\\x") == len(ACTED_ON.findall(text))


def test_a_member_value_quoted_in_an_error_cannot_move_the_cursor(demo_book, tmp_path):
    """The reviewer's value in the earnings column of a member CSV: the error quotes it with its ESCs shown as
    \\x1b, not acted on (before, it moved the cursor up, cleared the line and faked 'Filled into_v.xlsx')."""
    members = tmp_path / "members.csv"
    members.write_text("id,sex,birth_date,affiliation_date,status,credited_service,contribution_months,earnings\n"
                       "100001,F,1980-01-01,2005-01-01,active,10.5,12,30000\n"
                       f"100002,M,1981-01-01,2006-01-01,active,9.5,12,{FAKED}\n", encoding="utf-8")
    pensioners = tmp_path / "pensioners.csv"
    pensioners.write_text("id,sex,birth_date,benefit,award_date,annual_amount\n"
                          "200001,M,1955-01-16,old_age,2019-10-31,22448.68\n", encoding="utf-8")
    into = _copy(demo_book, tmp_path / "into_v.xlsx")
    result = _invoke("data", "--members", members, "--pensioners", pensioners, "--valuation-date", "2020-01-01",
                     "--into", into, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "\033" not in result.output + result.stderr
    assert f"value '{SHOWN}' is not a number" in _said(result)


def test_a_case_folder_cell_quoted_by_convert_is_shown_not_acted_on(demo_book, tmp_path):
    case = tmp_path / "case"
    assert _invoke("convert", demo_book, case).exit_code == 0
    table = case / "economy.inflation.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].split(",")[0] + ",0.02\u009b2J\x07"   # C1 CSI (clears the screen) and BEL
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _invoke("convert", case, tmp_path / "back.xlsx")
    assert result.exit_code == 2
    assert not ACTED_ON.search(result.output + result.stderr)
    assert "economy.inflation.csv" in _said(result) and r"0.02\x9b2J" in _said(result)
    assert not (tmp_path / "back.xlsx").exists()


def test_a_step_name_in_the_change_table_cannot_clear_the_screen(demo_book, tmp_path):
    """A step of a --steps CSV named with ESC [2J (clear the screen): refused (a step's name is plain text on one
    line), the message showing the name as text, never acting on the terminal."""
    steps = tmp_path / "steps.csv"
    steps.write_text("step,input,notes\n\033[2Jeconomic\033[8m,economy,\n", encoding="utf-8")
    result = _invoke("change", demo_book, demo_book, "--steps", steps, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "\033" not in result.output + result.stderr
    assert r"\x1b[2Jeconomic\x1b[8m" in _said(result)
    assert not (tmp_path / "out").exists()


def test_the_consoles_keep_their_own_styles_and_a_table_fits_the_text_as_shown():
    """Only the text is made visible: markup still styles it, and a table's column is as wide as the shown text."""
    from rich.console import Console
    from rich.table import Table

    from actuary.cli import _Console

    screen = _Console(width=80, force_terminal=True, color_system="standard")
    with screen.capture() as captured:
        screen.print(f"[bold red]error:[/] {FAKED}", highlight=False)
    text = captured.get()
    assert "\033[1;31merror:" in text and SHOWN in text
    assert "\033[1A" not in text and "\033[8m" not in text
    table = Table()
    table.add_column("step")
    table.add_row(FAKED)
    plain = _Console(width=200)
    with plain.capture() as captured:
        plain.print(table)
    rows = captured.get().splitlines()
    assert len({len(row) for row in rows}) == 1 and any(SHOWN in row for row in rows)
    assert isinstance(plain, Console)


# ------------------------------------------------------------------------ 2. solve targets that are no number

@pytest.mark.parametrize("text, said", [
    ("reserve_ratio>=1e309", "the value '1e309' is beyond the range of numbers (it reads as infinity); expected a "
                             "finite number"),
    ("gap<=-1e400", "the value '-1e400' is beyond the range of numbers (it reads as -infinity)"),
    ("depletion_year>=99999999999999999999999", "depletion year 99999999999999999999999 is not a calendar year; "
                                                "expected a whole year from 1 to 9999"),
    ("depletion_year>=10000", "depletion year 10000 is not a calendar year"),
    ("depletion_year>=0", "depletion year 0 is not a calendar year"),
    # finite, but the margins overflowed: 'reserve_ratio does not depend on contribution_rate', exit 4, outputs
    ("reserve_ratio>=1e308", "1e308 is beyond any reserve_ratio a scheme can have; expected a number from "
                             "-1,000,000 to 1,000,000"),
    ("gap<=-2000000", "-2000000 is beyond any gap a scheme can have"),
])
def test_a_target_of_infinity_or_beyond_any_calendar_is_refused(text, said):
    from actuary.solve import parse_target

    with pytest.raises(InputError) as error:
        parse_target(text)
    assert str(error.value).startswith(f"--target '{text}': ") and said in str(error.value)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_a_finite_target_value_is_taken_as_given(value):
    from actuary.solve import parse_target

    assert parse_target(f"reserve_ratio>={value!r}").value == value


@pytest.mark.parametrize("year", [1, 2070, 9999])
def test_a_depletion_year_in_the_calendar_is_taken(year):
    from actuary.solve import parse_target

    assert parse_target(f"depletion_year>={year}").value == year


@pytest.mark.parametrize("target", ["reserve_ratio>=1e309", "depletion_year>=99999999999999999999999"])
def test_solve_refuses_the_target_before_reading_or_writing_anything(demo_book, tmp_path, target):
    """Before: 1e309 ran, said the reserve ratio 'does not depend on contribution_rate (reserve_ratio = nan)',
    exited 4 and wrote the outputs; the year was echoed as 99999999999999991611392."""
    out = tmp_path / "out"
    result = _invoke("solve", demo_book, "--lever", "contribution_rate", "--target", target, "--out", out)
    assert result.exit_code == 2
    assert f"--target '{target}'" in _said(result) and "99999999999999991611392" not in _said(result)
    assert not out.exists()


# ------------------------------------------------------------------------ 3. an output that is its own input

def _refused(result, output, given):
    said = _said(result)
    assert result.exit_code == 2, said
    assert f"the output {output} is the input {given} of this run" in said, said
    assert "--name" in said and "--out" in said and "Traceback" not in said


@pytest.mark.parametrize("command, suffix, extra", [
    ("valuate", "results.xlsx", []),
    ("solve", "solved.xlsx", ["--lever", "contribution_rate", "--target", "reserve_ratio>=1"]),
    ("solve", "solved-results.xlsx", ["--lever", "contribution_rate", "--target", "reserve_ratio>=1"]),
    ("roll-forward", "rolled-2021.xlsx", ["--to", "2021"]),
    ("sensitivity", "sensitivity.xlsx", []),
    ("stochastic", "stochastic.xlsx", ["--paths", "10"]),
])
def test_an_output_that_is_the_workbook_read_is_refused_before_anything_runs(demo_book, tmp_path, command, suffix,
                                                                          extra):
    """The reviewer's case: ``actuary solve os/x-solved.xlsx --name x --out os`` read the earlier solved workbook
    and replaced it with its own output, without a word."""
    out = tmp_path / "os"
    given = _copy(demo_book, out / f"x-{suffix}")
    before = given.read_bytes()
    result = _invoke(command, given, "--name", "x", "--out", out, *extra)
    _refused(result, out / f"x-{suffix}", given)
    assert given.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [given.name]   # nothing else written, no staging left


def test_a_hard_link_to_the_input_is_the_input(demo_book, tmp_path):
    out = tmp_path / "os"
    earlier = _copy(demo_book, out / "x-solved.xlsx")
    given = tmp_path / "linked.xlsx"
    os.link(earlier, given)
    result = _invoke("solve", given, "--name", "x", "--out", out, "--lever", "contribution_rate", "--target",
                     "reserve_ratio>=1")
    _refused(result, out / "x-solved.xlsx", given)
    assert "(the same file under another name" in _said(result)
    assert os.path.samefile(earlier, given) and earlier.read_bytes() == demo_book.read_bytes()


def test_the_path_given_another_way_is_the_input(demo_book, tmp_path, monkeypatch):
    """``./os/../os/x-results.xlsx`` read, ``--out os``: the same file."""
    monkeypatch.chdir(tmp_path)
    _copy(demo_book, tmp_path / "os" / "x-results.xlsx")
    result = _invoke("valuate", "os/../os/x-results.xlsx", "--name", "x", "--out", "os")
    _refused(result, "os/x-results.xlsx", "os/../os/x-results.xlsx")


def test_compare_refuses_an_option_workbook_its_output_would_replace(demo_book, tmp_path):
    out = tmp_path / "os"
    option = _copy(demo_book, out / "x-comparison.xlsx")
    result = _invoke("compare", demo_book, option, "--name", "x", "--out", out)
    _refused(result, out / "x-comparison.xlsx", option)


def test_change_refuses_the_previous_valuation_or_steps_its_output_would_replace(demo_book, tmp_path):
    out = tmp_path / "os"
    previous = _copy(demo_book, out / "x-change.xlsx")
    _refused(_invoke("change", previous, demo_book, "--name", "x", "--out", out), out / "x-change.xlsx", previous)
    steps = out / "y-change.xlsx"
    steps.write_bytes(demo_book.read_bytes())
    _refused(_invoke("change", demo_book, demo_book, "--steps", steps, "--name", "y", "--out", out), steps, steps)


def test_report_refuses_an_input_its_output_would_replace(demo_book, tmp_path):
    out = tmp_path / "os"
    option = _copy(demo_book, out / "x-report.html")   # any name: an option workbook given by a link, say
    result = _invoke("report", demo_book, "--compare", option, "--name", "x", "--out", out)
    _refused(result, out / "x-report.html", option)
    assert option.read_bytes() == demo_book.read_bytes()


def test_data_refuses_a_member_extract_its_records_output_would_replace(demo_book, tmp_path):
    out = tmp_path / "os"
    out.mkdir()
    members = out / "v-data-checks-records.csv"
    members.write_text("id,sex,birth_date,affiliation_date,status,credited_service,contribution_months,earnings\n"
                       "100001,F,1980-01-01,2005-01-01,active,10.5,12,30000\n", encoding="utf-8")
    into = _copy(demo_book, tmp_path / "v.xlsx")
    result = _invoke("data", "--members", members, "--pensioners", tmp_path / "p.csv", "--valuation-date",
                     "2020-01-01", "--into", into, "--out", out)
    said = _said(result)
    assert result.exit_code == 2 and f"the output {members} is the input {members} of this run" in said
    assert "another --out" in said


def test_experience_refuses_an_extract_its_output_would_replace(demo_book, tmp_path):
    out = tmp_path / "os"
    out.mkdir()
    first = out / "w-experience.xlsx"
    first.write_bytes(b"not read")
    workbook = _copy(demo_book, tmp_path / "w.xlsx")
    result = _invoke("experience", workbook, "--members", first, tmp_path / "m2.csv", "--pensioners",
                     tmp_path / "p1.csv", tmp_path / "p2.csv", "--valuation-date", "2020-01-01", "--out", out)
    said = _said(result)
    assert result.exit_code == 2 and f"the output {first} is the input {first} of this run" in said
    assert first.read_bytes() == b"not read"


def test_convert_refuses_a_target_that_is_the_source_under_another_name(demo_book, tmp_path):
    source = _copy(demo_book, tmp_path / "a.xlsx")
    target = tmp_path / "b.xlsx"
    os.link(source, target)
    result = _invoke("convert", source, target, "--force")
    assert result.exit_code == 2
    assert f"{target}: is SOURCE {source} itself (the same file under another name)" in _said(result)


def test_a_column_name_in_a_data_warning_is_text_not_markup(demo_book, tmp_path):
    """A column of the members extract named '[conceal]extra': the warning names it as it is (as markup it was
    swallowed, and on a terminal hid the rest of the line)."""
    into = _copy(demo_book, tmp_path / "into.xlsx")
    extract = tmp_path / "extract"
    assert _invoke("synth", into, "--members", "300", "--seed", "1", "--out", extract).exit_code == 0
    insured = next(extract.glob("insured-*.csv"))
    lines = insured.read_text(encoding="utf-8").splitlines()
    members = tmp_path / "members.csv"
    members.write_text("\n".join(line + (",[conceal]extra" if i == 0 else ",1") for i, line in enumerate(lines))
                       + "\n", encoding="utf-8")
    import json

    manifest = json.loads((extract / "manifest.json").read_text())
    result = _invoke("data", "--members", members, "--pensioners", next(extract.glob("pensioners-*.csv")),
                     "--valuation-date", manifest["valuation_date"], "--weight", manifest["weight"], "--into", into,
                     "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "column [conceal]extra not in the layout" in _said(result)
