"""Results of different input workbooks never collide in one --out: two files of the same name in
different folders would give the same output names, so the second is refused (exit 2, nothing
changed) unless --name tells them apart; re-running the same file replaces its own results."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from actuary.cli import main

from .test_hostile_inputs import refused, snapshot

DEMO = Path(__file__).resolve().parents[1] / "valuations" / "demoland" / "valuation.xlsx"


def _valuate(*args) -> str:
    result = CliRunner().invoke(main, ["valuate", *map(str, args)], terminal_width=300)
    assert result.exit_code == 0, result.output
    return result.output


def test_same_file_name_from_another_folder_is_refused(tmp_path):
    first, second, out = tmp_path / "d1" / "case.xlsx", tmp_path / "d2" / "case.xlsx", tmp_path / "out"
    for path in (first, second):
        path.parent.mkdir()
        shutil.copy(DEMO, path)
    _valuate(first, "--out", out)
    refused(["valuate", second, "--out", out],
            r"--out .*: 'case-results.nc' there holds the results of another input file named 'case.xlsx' \(from "
            r"another folder\); this run would replace them. Give --name to keep both", out)
    before = snapshot(out)
    _valuate(first, "--out", out)            # the same file again: its own results are replaced
    assert set(snapshot(out)) == set(before)
    _valuate(second, "--out", out, "--name", "case-d2")   # --name keeps both
    assert {p.name for p in out.iterdir()} == {".actuary-outputs.json", "case-results.xlsx", "case-results.nc",
                                                "case-d2-results.xlsx", "case-d2-results.nc"}
