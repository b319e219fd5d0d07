"""The actuary's report text goes with the case it was read with: a Valuation read from a workbook or a case folder
carries it (``report_text``) through replace(), solve and roll_forward, and every workbook or folder written from it
(to_workbook, to_folder, actuary solve's solved workbook, actuary convert) keeps it; the report takes it by default."""

import shutil

import pytest
from click.testing import CliRunner

from actuary import Valuation, load_workbook
from actuary.cli import main
from actuary.io.folder import read_valuation_folder
from actuary.io.report_text import SECTIONS, ReportText, read_report_text
from actuary.report import build

TEXT = {"purpose_and_scope": "Purpose of this valuation.\n- a first item\n- a second item",
        "legal_basis": "=HYPERLINK(\"not a formula\")", "actuary_name": "A. Actuary",
        "signature_date": "7 December 2026"}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A short Demoland case written as a workbook with :data:`TEXT` in its Report text sheet, once for the module
    (writing it takes seconds); each test takes a copy (:func:`_case`)."""
    path = tmp_path_factory.mktemp("case") / "case.xlsx"
    Valuation.demo().replace(settings={"horizon": 20, "gap_horizons": (20,), "balance_sheet": "no"}).to_workbook(
        path, text=ReportText(TEXT))
    return path


def _case(written, tmp_path):
    """A copy of the ``written`` case in ``tmp_path``, named case.xlsx as it was written."""
    return shutil.copyfile(written, tmp_path / "case.xlsx")


def test_the_text_is_read_with_the_case_and_kept_through_replace_roll_forward_and_the_workbook(written, tmp_path):
    source = _case(written, tmp_path)
    valuation = load_workbook(source)
    assert valuation.report_text.texts == TEXT and valuation.report_text.source == "case.xlsx"
    derived = {"replaced": valuation.replace(scheme={"contribution_rate": 0.2}),
               "rolled": valuation.roll_forward(1),
               "solved": valuation.solve("contribution_rate", "reserve_ratio>=1").valuation}
    for label, case in derived.items():
        assert case.report_text.texts == TEXT, label
        written = tmp_path / f"{label}.xlsx"
        case.to_workbook(written)   # no text given: the valuation's own
        assert read_report_text(written).texts == TEXT, label
        assert load_workbook(written).report_text.texts == TEXT, label
    # given explicitly, a text replaces the valuation's own (an empty one writes the sections blank)
    valuation.to_workbook(tmp_path / "blank.xlsx", text=ReportText())
    assert read_report_text(tmp_path / "blank.xlsx").texts == {}
    # a case folder: written with the text, read back with it, and a workbook written from it keeps it
    valuation.to_folder(tmp_path / "folder")
    from_folder = read_valuation_folder(tmp_path / "folder")
    assert from_folder.report_text.texts == TEXT
    from_folder.to_workbook(tmp_path / "from-folder.xlsx")
    assert read_report_text(tmp_path / "from-folder.xlsx").texts == TEXT


def test_a_valuation_built_in_python_has_no_text_and_writes_the_sections_blank(tmp_path):
    valuation = Valuation.demo()
    built = Valuation(**valuation.raw, name="built")
    assert built.report_text is None
    built.to_workbook(tmp_path / "built.xlsx")
    assert read_report_text(tmp_path / "built.xlsx").texts == {}


def test_the_solved_workbook_keeps_the_report_text(written, tmp_path):
    """actuary solve writes NAME-solved.xlsx from the solved valuation: the Report text sheet of the workbook read
    (and of a case folder read) is in it, section for section."""
    source = _case(written, tmp_path)
    for case, stem in ((source, "case"), (tmp_path / "folder", "folder")):
        if case.suffix != ".xlsx":
            load_workbook(source).to_folder(case)
        out = tmp_path / f"out-{stem}"
        result = CliRunner().invoke(main, ["solve", str(case), "--lever", "contribution_rate", "--target",
                                           "reserve_ratio>=1", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert read_report_text(out / f"{stem}-solved.xlsx").texts == TEXT, stem


def test_the_report_takes_the_valuations_text_by_default(written, tmp_path):
    valuation = load_workbook(_case(written, tmp_path)).replace(settings={"horizon": 10, "gap_horizons": (10,)})
    valuation.report_text = ReportText({s.key: f"Text of {s.key}." if not s.line else f"Line of {s.key}"
                                        for s in SECTIONS})
    html = build(valuation, valuation.run())
    assert "Text of purpose_and_scope." in html and "[To be written by the actuary:" not in html
    assert "[To be written by the actuary:" in build(valuation, valuation.run(), text=ReportText())
