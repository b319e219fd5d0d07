"""The command line's first moments: a Ctrl-C while the program loads its modules (before a command's own
handling, :mod:`actuary.cli_interrupt`, is in place) ends the run at once with the one line and exit status 130
instead of a traceback (SIGTERM likewise, with its line and 143). Nothing has been written then; the line names the outputs if some were (the handler is
put back for the moment between the end of a command and the program's end, see :class:`actuary.cli.Commands`).
Set when :mod:`actuary` is imported by the ``actuary`` program or ``python -m actuary.cli``, never in a program
that imports actuary for its own use."""

from __future__ import annotations

import os
import signal
import sys
import threading

INTERRUPTED = 130   # exit status of a run stopped by Ctrl-C (128 + SIGINT)
TERMINATED = 143    # exit status of a run stopped by SIGTERM (128 + SIGTERM)


def exit_status(signum: int) -> int:
    """The exit status of a run stopped by ``signum`` (SIGINT or SIGTERM)."""
    return TERMINATED if signum == signal.SIGTERM else INTERRUPTED


def written_line(written, signum: int = signal.SIGINT) -> str:
    """What the interruption line says after ``interrupted:``, given the outputs already moved into place and the
    signal that stopped the run."""
    what = "stopped at Ctrl-C" if signum == signal.SIGINT else "stopped by SIGTERM"
    if written:
        return f"{what} after the outputs were written: {', '.join(str(path) for path in written)}."
    return f"{what}; nothing was written (earlier outputs are unchanged)."


def _stop(signum, frame):
    files = sys.modules.get("actuary.io.files")
    written = files.outputs_moved() if files is not None else []
    try:
        os.write(sys.stderr.fileno(), f"interrupted: {written_line(written, signum)}\n".encode())
    except (OSError, ValueError, AttributeError):   # no standard error to say it on
        pass
    os._exit(exit_status(signum))


def _is_command_line() -> bool:
    """Whether this process was started as the ``actuary`` program or ``python -m actuary.cli``, by its own command
    line (``sys.orig_argv``: a worker process the program starts, Dask's by multiprocessing, is given the program's
    ``sys.argv`` but has a command line of its own)."""
    argv = sys.orig_argv
    if any(os.path.basename(word) in ("actuary", "actuary.exe") for word in argv[:2]):
        return True
    return any(argv[i] == "-m" and argv[i + 1] == "actuary.cli" for i in range(len(argv) - 1))


def watch_startup() -> None:
    """Install the handler when this process is the command line (see the module docstring), for SIGINT and
    SIGTERM (each unless the process ignores it)."""
    if _is_command_line() and threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _stop)
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _stop)
