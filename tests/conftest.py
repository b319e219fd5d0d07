import os
from pathlib import Path

import pytest

# Published validation data (never the project's own copies): ../shared/data beside the checkout, as
# in CI, or wherever ACTUARY_SHARED_DATA points.
SHARED = Path(os.environ.get("ACTUARY_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
WPP_CANADA = SHARED / "wpp2019_canada"


@pytest.fixture(scope="session")
def wpp_folder():
    """The WPP 2019 Canada folder; the tests that need it are skipped, saying so, where it is absent
    (a clone away from ../shared); CI always has it."""
    if not WPP_CANADA.exists():
        pytest.skip(f"published validation data not found at {WPP_CANADA} (clone beside shared/ or set "
                    "ACTUARY_SHARED_DATA)")
    return WPP_CANADA


@pytest.fixture(scope="session")
def wpp_canada(wpp_folder):
    """The published WPP 2019 inputs for Canada, read from ../shared (never from the project copy)."""
    from actuary.io.wpp import read_wpp_folder

    return read_wpp_folder(wpp_folder)


@pytest.fixture(scope="session")
def member_case():
    """The Demoland valuation (the case synthetic member records are drawn from)."""
    from actuary import Valuation

    return Valuation.demo()


@pytest.fixture(scope="session")
def member_extract(tmp_path_factory, member_case):
    """Synthetic extracts of 200,000 insured (and Demoland's pensioners at the same sampling fraction)
    at 1 January 2020 and 2021, without errors: (folder, manifest)."""
    from actuary.data.synth import synthesize

    folder = tmp_path_factory.mktemp("clean")
    manifest = synthesize(member_case, 200_000, 20200101, folder, years=2, fmt="parquet")
    return folder, manifest


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory):
    """The Demoland workbook plus a 1 GB part of zeros: a 5 MB file (case.xlsx) expanding to 1 GB."""
    import shutil
    import zipfile

    path = tmp_path_factory.mktemp("bomb") / "case.xlsx"
    shutil.copy(Path(__file__).resolve().parents[1] / "valuations" / "demoland" / "valuation.xlsx", path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/media/image1.bin", "w", force_zip64=True) as part:
            block = bytes(16 * 1024 ** 2)
            for _ in range(64):
                part.write(block)
    return path


@pytest.fixture(scope="session")
def stochastic_kernel_cached():
    """The stochastic batch kernel compiled (or loaded) in this process, so that its Numba cache is on disk before a
    test starts the program: with an empty cache (a fresh clone in CI) each of the program's Dask workers would
    compile it, over a minute each on a busy 2-core machine, and a run expected to finish would outlast its test's
    deadline."""
    from actuary import Valuation
    from actuary.stochastic import StochasticParameters, pack, run_chunk

    run_chunk(pack(Valuation.demo()), StochasticParameters(), 0, [0])


@pytest.fixture(scope="module")
def workbook_copy(tmp_path_factory):
    """``workbook_copy(valuation, path)``: ``valuation``'s workbook at ``path`` (as ``valuation.to_workbook(path)``),
    a copy of the one written for the same valuation object the first time a test of the module asked for it:
    writing Demoland's workbook takes seconds, and many tests write the same one to add a sheet to it or to run a
    command on it. The valuations are kept with their workbooks, so that an id is never another valuation's."""
    import shutil

    folder = tmp_path_factory.mktemp("workbooks")
    written = {}   # id(valuation) -> (valuation, its workbook)

    def copy(valuation, path):
        if id(valuation) not in written:
            written[id(valuation)] = (valuation, folder / f"{len(written)}.xlsx")
            valuation.to_workbook(written[id(valuation)][1])
        shutil.copyfile(written[id(valuation)][1], path)
        return path

    return copy
