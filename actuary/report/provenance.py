"""Run provenance of a report: package version, a hash of the inputs, the date and the command."""

from __future__ import annotations

import hashlib
import platform
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path


def input_hash(source: Path | None) -> str:
    """SHA-256 of the input workbook, or of a case folder's files (names and contents, sorted)."""
    if source is None:
        return "no input file (inputs given in Python)"
    source = Path(source)
    digest = hashlib.sha256()
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(source)).encode())
            digest.update(path.read_bytes())
    else:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def provenance(source: Path | None = None, command: list[str] | None = None) -> list[tuple[str, str]]:
    """(item, value) rows: what produced the report, to reproduce it."""
    import numpy

    from .. import __version__

    return [
        ("actuary version", __version__),
        ("Input", str(source) if source is not None else "inputs given in Python"),
        ("Input SHA-256", input_hash(source)),
        ("Date (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")),
        ("Command", shlex.join(command) if command else "Python API"),
        ("Python, NumPy", f"{platform.python_version()}, {numpy.__version__} ({sys.platform})"),
    ]
