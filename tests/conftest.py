from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WPP_CANADA = SHARED / "wpp2019_canada"


@pytest.fixture(scope="session")
def wpp_canada():
    """The published WPP 2019 inputs for Canada, read from ../shared (never from the project copy)."""
    from actuary.io.wpp import read_wpp_folder

    if not WPP_CANADA.exists():
        pytest.fail(f"shared validation data not found at {WPP_CANADA}")
    return read_wpp_folder(WPP_CANADA)
