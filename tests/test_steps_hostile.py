"""The steps of the analysis of change from a hostile file or hostile names: a steps CSV that is not a regular file
(a FIFO would wait for a writer for ever, a link to /dev/zero or a 20 GB sparse file would be read into memory)
refused before it is read, a file larger than the limit refused; a step's name longer than
:data:`actuary.change.MAX_STEP_NAME` characters (two names would be cut to the same cell text in the change
workbook) or holding a control character refused in a CSV file, the Analysis of change sheet and steps given in
Python, naming the line or cell; step names with dollar signs drawn as they are in the report's waterfall
charts (never read as mathematics)."""

import contextlib
import csv
import html
import io
import os
import re
import threading

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from actuary import InputError, analysis_of_change
from actuary.change import DEFAULT_STEPS, MAX_STEP_NAME, MAX_STEPS_BYTES, read_steps, resolve_steps
from actuary.cli import main

from .test_change import small_case, small_pair, workbooks  # noqa: F401  (fixtures)

REST = ("initial", "demography", "economy", "behaviour", "scheme", "settings")


def steps_csv(path, names_and_inputs) -> os.PathLike:
    """A steps CSV file (header step,input,notes) with a row per (name, input)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")   # (a lone \r in a name is quoted)
    writer.writerow(["step", "input", "notes"])
    writer.writerows([name, token, ""] for name, token in names_and_inputs)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def first_and_rest(first_name: str):
    """A step named ``first_name`` taking the valuation date, then one step for everything else."""
    return [(first_name, "settings.valuation_year")] + [("rest", token) for token in REST]


def steps_sheet(path, names_and_inputs) -> os.PathLike:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Analysis of change"
    sheet.append(["Steps of the analysis of change"])
    sheet.append(["step", "input", "notes"])
    for name, token in names_and_inputs:
        sheet.append([name, token])
    book.save(path)
    return path


class FifoWatchdog:
    """Opens the FIFO for writing (and closes it at once) if a reader is blocked on it for ``seconds``: a reader
    that opens the FIFO then gets an empty file instead of waiting for ever, so that a test of a reader that
    should never open it fails instead of hanging. ``opened``: whether it had to."""

    def __init__(self, path, seconds: float = 10.0):
        self.path, self.seconds, self.opened = path, seconds, False
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        waited = 0.0
        while not self.done.is_set() and waited < self.seconds:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:   # no reader yet (ENXIO)
                self.done.wait(0.1)
                waited += 0.1
                continue
            self.opened = True
            os.close(fd)
            return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


# ------------------------------------------------------------------------- files that are not small regular files

def test_a_fifo_named_as_a_steps_csv_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "steps.csv"
    os.mkfifo(fifo)
    with FifoWatchdog(fifo) as watchdog:
        with pytest.raises(InputError, match=r"^steps\.csv: is a FIFO \(named pipe\); expected a regular file"):
            read_steps(fifo)
    assert not watchdog.opened, "the FIFO was opened (a reader waited for a writer)"


def test_a_link_to_dev_zero_or_a_folder_is_refused(tmp_path):
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    with pytest.raises(InputError, match=r"^zero\.csv: is a character device; expected a regular file \(it is a "
                                         r"symbolic link to '/dev/zero'\)"):
        read_steps(zero)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(InputError, match=r"^folder\.csv: is a folder; expected a regular file"):
        read_steps(folder)


def test_a_link_to_a_steps_file_is_read(tmp_path):
    target = steps_csv(tmp_path / "real.csv", first_and_rest("period"))
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert [name for name, _ in read_steps(link)] == ["period", "rest"]


def test_a_sparse_20_gb_steps_file_is_refused_by_its_size_before_it_is_read(tmp_path):
    sparse = tmp_path / "sparse.csv"
    with open(sparse, "wb") as handle:
        handle.truncate(20 * 1024 ** 3)   # a hole: no disk space taken, 20 GB of zeros to whoever reads it
    with pytest.raises(InputError, match=r"^sparse\.csv: the file has 20,480\.0 MB; at most 1 MB are read \(a "
                                         r"steps file lists each input once"):
        read_steps(sparse)


def test_a_steps_file_one_byte_over_the_limit_is_refused_and_one_at_it_read(tmp_path):
    """A well-formed steps file padded with notes to the limit is read; a byte more and it is refused, with the
    file's name (a steps table is a few kB: the limit is far above any real one)."""
    head = "step,input,notes\n" + "".join(f"rest,{token},\n" for token in REST) + "x,settings.valuation_year,\n"
    notes = ",,notes" + "n" * 993 + "\n"   # rows of notes alone (1,000 bytes): skipped as blank rows
    body = head + notes * ((MAX_STEPS_BYTES - len(head)) // len(notes))
    body += ",," + "n" * (MAX_STEPS_BYTES - len(body) - 3) + "\n"
    assert len(body.encode()) == MAX_STEPS_BYTES
    exact = tmp_path / "exact.csv"
    exact.write_text(body, encoding="utf-8")
    assert [name for name, _ in read_steps(exact)] == ["rest", "x"]
    over = tmp_path / "over.csv"
    over.write_text(body + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^over\.csv: the file has 1\.0 MB; at most 1 MB are read"):
        read_steps(over)


@pytest.mark.parametrize("command", ["change", "report"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero link", "sparse"])
def test_the_commands_refuse_a_hostile_steps_file_with_exit_2_and_nothing_written(workbooks, tmp_path, command,
                                                                                   kind):
    """``actuary change --steps`` and ``actuary report --previous --steps`` read the steps file the same way: a
    one-paragraph error naming the file, exit 2, no traceback, no output folder."""
    path = tmp_path / "steps.csv"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero link":
        path.symlink_to("/dev/zero")
    else:
        with open(path, "wb") as handle:
            handle.truncate(20 * 1024 ** 3)
    out = tmp_path / "out"
    previous, current = str(workbooks / "previous.xlsx"), str(workbooks / "current.xlsx")
    arguments = (["change", previous, current] if command == "change" else
                 ["report", current, "--previous", previous]) + ["--steps", str(path), "--out", str(out)]
    with FifoWatchdog(path) if kind == "fifo" else contextlib.nullcontext():
        result = CliRunner().invoke(main, arguments)
    said = {"fifo": r"is a FIFO \(named pipe\)", "dev-zero link": "is a character device",
            "sparse": "the file has 20,480.0 MB"}[kind]
    assert result.exit_code == 2, result.output
    assert re.search(rf"error: steps\.csv: {said}", " ".join(result.output.split())), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


# ------------------------------------------------------------------------------------------------ step names

def test_two_long_names_that_would_be_cut_to_the_same_cell_are_refused_naming_the_line(tmp_path):
    """'B' x 100,000 and 'B' x 99,999 + 'C' are cut to the same 32,767 characters in the change workbook: both are
    refused, each naming its line and column, the limit and why."""
    for name in ("B" * 100_000, "B" * 99_999 + "C"):
        path = steps_csv(tmp_path / "long.csv", [("rest", token) for token in REST[:3]] + first_and_rest(name)[:1]
                         + [("rest", token) for token in REST[3:]])
        with pytest.raises(InputError) as caught:
            read_steps(path)
        message = str(caught.value)
        assert message.startswith("long.csv line 5, column 1: the step's name 'BBBB")
        assert "has 100,000 characters; at most 80 are taken (a step's name labels a row of the reconciliation " \
               "table, a bar of the waterfall charts and a cell of the change workbook" in message
        assert len(message) < 600   # the name is not repeated whole


def test_the_name_length_limit_is_exact(tmp_path):
    fits = "é" * MAX_STEP_NAME
    assert read_steps(steps_csv(tmp_path / "ok.csv", first_and_rest(fits)))[0][0] == fits
    with pytest.raises(InputError, match=rf"^over\.csv line 2, column 1: the step's name 'é{{40}}'\.\.\. has 81 "
                                         r"characters; at most 80"):
        read_steps(steps_csv(tmp_path / "over.csv", first_and_rest(fits + "x")))


@pytest.mark.parametrize("name, code, kind", [("x\x1b[2J\x1b]0;pwned\x07y", "001B", "a control character"),
                                              ("two\nlines", "000A", "a control character"),
                                              ("tab\tinside", "0009", "a control character"),
                                              ("next\x85line", "0085", "a control character"),
                                              ("line\u2028separator", "2028", "a line break")])
def test_a_control_character_in_a_step_name_is_refused_naming_the_line(tmp_path, name, code, kind):
    path = steps_csv(tmp_path / "ctl.csv", [("rest", "initial")] + first_and_rest(name)[:1]
                     + [("rest", token) for token in REST[1:]])
    with pytest.raises(InputError) as caught:
        read_steps(path)
    message = str(caught.value)
    assert message.startswith(f"ctl.csv line 3, column 1: the step's name {name!r} holds U+{code}, {kind} (at "
                              f"character {name.index(chr(int(code, 16))) + 1})"), message
    assert "\x1b" not in message and "\x07" not in message   # shown escaped, never sent to the terminal


def test_a_quoted_name_over_several_lines_is_named_at_the_line_it_starts_on(tmp_path):
    """A quoted cell may hold line breaks: the error names the line of the file where the row starts (an editor's
    line), not the count of rows."""
    path = steps_csv(tmp_path / "multi.csv", [("a\nb\nc", "initial"), ("d\ne", "demography")])
    with pytest.raises(InputError, match=r"^multi\.csv line 2, column 1: the step's name 'a\\nb\\nc' holds U\+000A"):
        read_steps(path)
    path = steps_csv(tmp_path / "later.csv", [("ok", "initial"), ("also ok", "demography"), ("d\ne", "economy")])
    path.write_text(path.read_text().replace("also ok", "al\"\"so\nok").replace('al""so', '"al""so')
                    .replace("ok,demography", 'ok",demography'), encoding="utf-8")
    with pytest.raises(InputError, match=r"^later\.csv line 3, column 1: the step's name 'al\"so\\nok'"):
        read_steps(path)


@pytest.mark.parametrize("name, said", [("B" * 32_767, "has 32,767 characters; at most 80 are taken"),
                                        ("B" * 81, "has 81 characters; at most 80 are taken"),
                                        ("two\nlines", r"holds U\+000A, a control character"),
                                        ("next\x85line", r"holds U\+0085, a control character"),
                                        ("para\u2029graph", r"holds U\+2029, a line break")])
def test_the_analysis_of_change_sheet_refuses_the_name_naming_the_cell(tmp_path, name, said):
    path = steps_sheet(tmp_path / "steps.xlsx", [("rest", token) for token in REST]
                       + [(name, "settings.valuation_year")])
    with pytest.raises(InputError, match=rf"^Analysis of change!A9: the step's name {re.escape(repr(name[:40]))}"
                                         rf".* {said}"):
        read_steps(path)


@pytest.mark.parametrize("name, said", [("B" * 100_000, "has 100,000 characters; at most 80 are taken"),
                                        ("B" * 99_999 + "C", "has 100,000 characters; at most 80 are taken"),
                                        ("esc\x1b[31m", r"holds U\+001B, a control character"),
                                        ("half \ud800", r"holds U\+D800, an unpaired surrogate")])
def test_steps_given_in_python_are_checked_as_a_file_s_are(small_pair, name, said):   # noqa: F811
    steps = [("period", "settings.valuation_year"), (name, REST)]
    with pytest.raises(InputError, match=rf"^Step 2 of the analysis of change: the step's name .* {said}"):
        resolve_steps(steps)
    with pytest.raises(InputError, match=rf"^Step 2 of the analysis of change: the step's name .* {said}"):
        analysis_of_change(*small_pair, steps=dict(steps))


def test_the_default_steps_pass_the_name_checks():
    assert [s.name for s in resolve_steps()] == [name for name, _ in DEFAULT_STEPS]


PLAIN = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(PLAIN, min_size=1, max_size=MAX_STEP_NAME).filter(
           lambda s: s.strip() not in ("", "rest", "previous")),
       extra=st.one_of(st.none(), st.integers(1, 200), st.sampled_from(["\x00", "\x1b", "\r", "\u2029", "\x9f"])))
def test_a_name_is_read_back_as_written_unless_too_long_or_with_a_control_character(tmp_path, name, extra):
    """Invariant: any name of plain characters (any script, punctuation, '$', quotes, commas) of at most 80
    characters is read from the CSV as written (spaces at either end removed); made longer than 80, or with a control
    character or line break added, it is refused naming line 2, column 1."""
    if isinstance(extra, int):
        name = name.strip() + "x" * max(extra, MAX_STEP_NAME + 1 - len(name.strip()))
    elif isinstance(extra, str):
        name = name.strip() + extra + "x"
    path = steps_csv(tmp_path / "h.csv", first_and_rest(name))
    if extra is None:
        assert read_steps(path)[0] == (name.strip(), ("settings.valuation_year",))
    else:
        with pytest.raises(InputError, match=r"^h\.csv line 2, column 1: the step's name "):
            read_steps(path)


# -------------------------------------------------------------------------------------- the report's figures

MATH_NAMES = ("$\\undefinedcmd$", "ceiling $50000 to $60000")


@pytest.fixture(scope="module")
def math_change(small_pair):   # noqa: F811
    previous, current = small_pair
    return analysis_of_change(previous, current, steps=[(MATH_NAMES[0], "settings.valuation_year"),
                                                        (MATH_NAMES[1], REST)])


def svg_texts(svg: str) -> list[str]:
    """The text of the SVG's text elements (svg.fonttype none: text kept as text)."""
    return [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)]


def test_step_names_with_dollar_signs_are_drawn_literally_in_the_waterfalls(math_change):
    from actuary.io.change import waterfall_measures
    from actuary.report.change_chapter import waterfall_svg

    drawn = 0
    for name, selection, _ in waterfall_measures(math_change):
        svg = waterfall_svg(math_change, name, selection, f"change-{name}")
        if svg is None:
            continue
        drawn += 1
        texts = [t.strip() for t in svg_texts(svg)]
        for step in MATH_NAMES:
            assert step in texts, (step, texts)
    assert drawn >= 2


def test_the_report_with_step_names_with_dollar_signs_is_written(workbooks, tmp_path):   # noqa: F811
    """``actuary report CURRENT --previous PREVIOUS --steps`` with a step named '$\\undefinedcmd$' (mathtext would
    fail on it) writes the report, the name shown as it is in the chart."""
    path = steps_csv(tmp_path / "steps_math.csv", [(MATH_NAMES[0], "settings.valuation_year")]
                     + [(MATH_NAMES[1], token) for token in REST])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(workbooks / "current.xlsx"), "--previous",
                                       str(workbooks / "previous.xlsx"), "--steps", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "current-report.html").read_text(encoding="utf-8")
    svgs = re.findall(r'<svg.*?</svg>', page, re.S)
    charts = [svg for svg in svgs if "change-actuarial_balance-bar-0" in svg]
    assert charts, "no waterfall chart in the report"
    texts = [t.strip() for t in svg_texts(charts[0])]
    assert MATH_NAMES[0] in texts and MATH_NAMES[1] in texts, texts
