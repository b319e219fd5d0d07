"""What a valuation loads and reads: the public API imported on first use, xarray kept from importing
dask (and the results workbook from importing matplotlib) while nothing needs them, and the workbook
reader's one-pass reading of sheets without formulas (a formula without a saved value is still refused,
whatever the sheet's encoding or namespace prefix)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile

import pytest

import actuary
from actuary import InputError, load_workbook
from actuary.valuation import DEMOLAND

from .xlsx_edit import rewrite, sheet_parts

DEMO = DEMOLAND / "valuation.xlsx"


def _python(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_valuation_and_its_results_workbook_import_neither_dask_nor_matplotlib(tmp_path):
    """Valuation.demo().run() and the results workbook: dask.array (which xarray would import to ask whether
    an array is a dask array), matplotlib and the analysis of change stay unimported."""
    loaded = _python(f"""
import json, sys
from actuary import Valuation
from actuary.io.results import write_results
valuation = Valuation.demo()
write_results(valuation.run(), valuation, {str(tmp_path / "r.xlsx")!r})
print(json.dumps({{m: m in sys.modules for m in ("dask.array", "matplotlib", "actuary.change")}}))
""")
    assert loaded == {"dask.array": False, "matplotlib": False, "actuary.change": False}
    assert (tmp_path / "r.xlsx").stat().st_size > 0


def test_xarray_still_wraps_dask_arrays_once_dask_is_imported():
    """After actuary (and arrays made without dask), a dask array given to xarray stays a lazy dask array
    with its chunks, and a masked dask array has its masked values as NaN, as xarray does without actuary."""
    seen = _python("""
import json
import numpy as np
import xarray as xr
import actuary
before = xr.DataArray(np.arange(3.0), dims="a")
import dask.array as da
lazy = xr.DataArray(da.ones(4, chunks=2), dims="a")
masked = xr.DataArray(da.ma.masked_array(da.ones(4, chunks=2), mask=[False, True, False, False]), dims="a")
print(json.dumps({"chunks": [list(c) for c in lazy.chunks], "lazy": isinstance(lazy.data, da.Array),
                  "sum": float((2 * lazy).sum().compute()), "masked": [None if v != v else v for v in masked.values.tolist()],
                  "before": before.values.tolist()}))
""")
    assert seen == {"chunks": [[2, 2]], "lazy": True, "sum": 8.0, "masked": [1.0, None, 1.0, 1.0],
                    "before": [0.0, 1.0, 2.0]}


def test_public_names_resolve_to_their_modules_objects():
    from actuary.change import analysis_of_change
    from actuary.inputs import accrual_schedule
    from actuary.io.workbook import load_workbook as reader
    from actuary.tables import single_ages, stable_actives

    assert actuary.analysis_of_change is analysis_of_change
    assert actuary.accrual_schedule is accrual_schedule
    assert actuary.load_workbook is reader
    assert (actuary.single_ages, actuary.stable_actives) == (single_ages, stable_actives)
    assert set(actuary.__all__) <= set(dir(actuary))
    assert all(getattr(actuary, name) is not None for name in actuary.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        actuary.no_such_name  # noqa: B018


# ------------------------------------------------------------------------ formulas and the one-pass reader

@pytest.mark.parametrize("xml, may", [
    (b'<worksheet xmlns="m"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>', False),
    (b'<?xml version="1.0" encoding="UTF-8"?><worksheet><c r="A1" t="inlineStr"><is><t>&lt;f&gt;</t></is></c>'
     b'</worksheet>', False),
    (b'<worksheet><c r="A1"><f>1+1</f></c></worksheet>', True),
    (b'<x:worksheet xmlns:x="m"><x:c r="A1"><x:f>1+1</x:f></x:c></x:worksheet>', True),
    (b'<worksheet><c r="A2"><f t="shared" si="0"/></c></worksheet>', True),
    (b'<worksheet><c r="A2"><f\nt="array" ref="A2">1</f></c></worksheet>', True),
    ('<é:worksheet xmlns:é="m"><é:c r="A1"><é:f>1+1</é:f></é:c></é:worksheet>'.encode("utf-8"), True),
    ('<worksheet><c r="A1"><a·b:f xmlns:a·b="m">1+1</a·b:f></c></worksheet>'.encode("utf-8"), True),
    (b'<worksheet xmlns:x="m"><c r="A1"><x:fill/><v>1</v></c></worksheet>', False),
    (b'<worksheet><c r="A1"><x:fill/><v>1</v></c></worksheet>', True),   # not well-formed: cannot be told
    (b'<?xml version="1.0" encoding="windows-1252"?><worksheet></worksheet>', False),   # read in its encoding
    ('<?xml version="1.0" encoding="UTF-16"?><worksheet></worksheet>'.encode("utf-16"), False),
    ('<?xml version="1.0" encoding="UTF-16"?><worksheet><c><f>1</f></c></worksheet>'.encode("utf-16"), True),
    (None, True),
])
def test_a_sheet_is_read_once_only_when_it_surely_has_no_formula(xml, may):
    """The container check's read through each part says whether it has a formula element (any prefix, any
    encoding); a sheet without one is read once (values only), one that cannot be told is read twice."""
    import io

    from actuary.io.safety import check_container

    if xml is None:   # a part the check does not know: the reader takes it as one that may have formulas
        return
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    scan = check_container("case.xlsx", buffer.getvalue())["xl/worksheets/sheet1.xml"]
    assert (scan.formulas or scan.malformed is not None) is may


def _settings_with(tmp_path, cell: str, encoding: str = "utf-8"):
    """Demoland with the cell ``cell`` (XML) in place of the one it names in Settings (B4 horizon 100, B8
    max_retirement_age 70), the sheet saved in ``encoding``."""
    ref = re.match(r'<c r="(\w+)"', cell).group(1)
    part = sheet_parts(DEMO)["Settings"]
    with zipfile.ZipFile(DEMO) as z:
        xml = z.read(part).decode("utf-8")
    xml, n = re.subn(rf'<c r="{ref}"[^>]*><v>\d+</v></c>', cell, xml)
    assert n == 1
    if encoding != "utf-8":   # the declaration says the encoding (any the part had, dropped)
        xml = f'<?xml version="1.0" encoding="{encoding.upper()}"?>' + re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)
    return rewrite(DEMO, tmp_path / "case.xlsx", {part: xml.encode(encoding)})


@pytest.mark.parametrize("cell, encoding", [
    ('<c r="B4"><f>100+0</f></c>', "utf-8"),
    ('<c r="B4"><f>100+0</f></c>', "utf-16"),
    ('<c r="B4"><x:f xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">100+0</x:f></c>', "utf-8"),
    ('<c r="B4"><é:f xmlns:é="http://schemas.openxmlformats.org/spreadsheetml/2006/main">100+0</é:f></c>', "utf-8"),
])
def test_a_formula_without_a_saved_value_is_refused_in_any_encoding_or_prefix(tmp_path, cell, encoding):
    with pytest.raises(InputError, match=r"Settings!B4: formula =100\+0 has no calculated value saved"):
        load_workbook(_settings_with(tmp_path, cell, encoding))


@pytest.mark.parametrize("cell, shown", [
    ('<c r="B4"><f t="array" ref="B4">100+0</f></c>', r"formula \{=100\+0\} \(an array formula\)"),
    ('<c r="B4"><f t="dataTable" ref="B4" dt2D="0" dtr="0" r1="A1"/></c>', r"formula \(a data table\)"),
])
def test_an_array_or_data_table_formula_without_a_saved_value_is_refused(tmp_path, cell, shown):
    with pytest.raises(InputError, match=rf"Settings!B4: {shown} has no calculated value saved"):
        load_workbook(_settings_with(tmp_path, cell))


def test_a_formula_with_a_saved_value_is_read_as_its_value(tmp_path):
    valuation = load_workbook(_settings_with(tmp_path, '<c r="B8"><f>60+8</f><v>68</v></c>'))
    assert valuation.inputs.settings["max_retirement_age"] == 68


def test_the_cycle_collector_is_paused_only_for_the_block_and_restored():
    import gc

    from actuary.io.bulk import cycle_collection_paused

    was = gc.isenabled()
    try:
        gc.enable()
        with pytest.raises(InputError), cycle_collection_paused():
            assert not gc.isenabled()
            raise InputError("refused in the middle")
        assert gc.isenabled()
        gc.disable()                      # a caller that had disabled it keeps it disabled
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
