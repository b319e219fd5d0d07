"""Ctrl-C in the command line: whatever a command is doing when it arrives, the run ends as interrupted (one
line, exit status 130, nothing written; see :mod:`actuary.cli`). SIGTERM (``kill``, ``timeout``, a batch
system ending a job) ends it the same way, with its own line and exit status 143 (128 + 15).

A terminal sends SIGINT to every process of the run. What Python makes of it depends on the moment: usually a
KeyboardInterrupt in the main thread, but also another error in its place. Numba compiling a kernel ignores a
KeyboardInterrupt raised in its LLVM callback and then fails with a RuntimeError; Dask worker processes
stopped by the same signal surface as FutureCancelledError or a closed connection; a file being written fails
with an OSError. :func:`watching` records that SIGINT arrived while a command runs, and :func:`pressed` tells
afterwards whether an error came with (or after) a Ctrl-C: then it is the interruption, whatever its type.

The record does not depend on which Python handler is in place when SIGINT arrives (another part of the
program may hold a Ctrl-C for a moment, as the start of a local Dask cluster does) nor on that handler having
run yet: Python's C-level handler writes the signal's number to the wakeup file descriptor this module sets
(:func:`signal.set_wakeup_fd`) as soon as the signal is delivered, before any Python code of the main thread
runs again."""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager

from .io.files import checked_before_commit

_pressed = False
_stopped_by = signal.SIGINT  # the signal that stopped the run: SIGINT (Ctrl-C) or SIGTERM
_held = False                # the interruption is being reported: a SIGINT is recorded, no longer raised
_wakeup: int | None = None   # read end of the wakeup pipe while a command is watched


STOPPING = (signal.SIGINT, signal.SIGTERM)   # the signals that end a command as interrupted


def _record(signum) -> None:
    global _pressed, _stopped_by
    if not _pressed:
        _stopped_by = signal.Signals(signum)
    _pressed = True


def _on_ctrl_c(signum, frame):
    """The SIGINT and SIGTERM handler while a command runs: record the signal, then stop as Python's default
    SIGINT handler does (unless the interruption is already being reported)."""
    _record(signum)
    if not _held:
        raise KeyboardInterrupt


def stopped_by() -> signal.Signals:
    """The signal that stopped the run (the first of them): SIGINT (Ctrl-C) or SIGTERM."""
    _read_wakeup()
    return _stopped_by


def hold() -> None:
    """From now until the end of the watched command, a SIGINT is recorded but raises nothing: the interruption is
    being reported. (A SIGINT recorded from the wakeup descriptor may not have reached its Python handler yet; it
    would otherwise raise a KeyboardInterrupt in the middle of the exit, e.g. when the handler is restored.)"""
    global _held
    _held = True


def _quiet_unraisable(previous):
    """An unraisable-exception hook that records a KeyboardInterrupt raised where Python cannot propagate it (in a
    ctypes callback during a Numba compilation, in a ``__del__``) instead of printing it: the failure it causes
    reaches the command, which reports the interruption. (It is not raised again later: raised at a random moment
    it can leave a lock held, e.g. one of xarray's file locks, and the run would hang on its way out.)"""
    def hook(unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            global _pressed
            _pressed = True
            return
        previous(unraisable)
    return hook


@contextmanager
def watching():
    """Record every SIGINT and SIGTERM that arrives during the block (outside the main thread, where signal
    handlers cannot be set, nothing is recorded and a Ctrl-C is Python's default KeyboardInterrupt). A process
    that ignores SIGINT (a command started in the background of a script, or under ``nohup``) keeps ignoring it:
    a Ctrl-C meant for the script's foreground does not stop it; likewise a process that ignores SIGTERM."""
    global _pressed, _held, _wakeup, _stopped_by
    # the signals the process does not ignore (a command started with `&` in a script ignores SIGINT, not SIGTERM:
    # `kill $!` stops it as interrupted)
    handled = [s for s in STOPPING if signal.getsignal(s) is not signal.SIG_IGN] \
        if threading.current_thread() is threading.main_thread() else []
    if not handled:
        yield
        return
    read, write = os.pipe()
    for end in (read, write):
        os.set_blocking(end, False)
    _pressed, _held, _wakeup, _stopped_by = False, False, read, signal.SIGINT
    previous_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    previous_handlers = {s: signal.signal(s, _on_ctrl_c) for s in handled}
    previous_hook, sys.unraisablehook = sys.unraisablehook, _quiet_unraisable(sys.unraisablehook)
    try:
        with checked_before_commit(stop_if_pressed):
            yield
    finally:
        hold()   # a signal still pending runs the handler when it is replaced: recorded, not raised out of here
        for s, previous_handler in previous_handlers.items():
            if previous_handler is not None:
                signal.signal(s, previous_handler)
        signal.set_wakeup_fd(previous_fd)
        sys.unraisablehook = previous_hook
        _pressed, _held, _wakeup = False, False, None
        os.close(read)
        os.close(write)


def stop_if_pressed() -> None:
    """Raise the KeyboardInterrupt of a Ctrl-C (or SIGTERM) recorded but not raised (swallowed where Python cannot
    propagate it, e.g. during a Numba compilation). Called before outputs are moved into place, so that nothing is
    written, and between the chunks of a long run, so that such a run stops at once rather than at its end."""
    if pressed():
        raise KeyboardInterrupt



def _read_wakeup() -> None:
    """Take the signal numbers written to the wakeup pipe since the last look; record a SIGINT or SIGTERM among
    them (the first, if both)."""
    if _wakeup is None:
        return
    while True:
        try:
            numbers = os.read(_wakeup, 512)
        except (BlockingIOError, InterruptedError):
            return
        for number in numbers:
            if number in STOPPING:
                _record(number)
        if len(numbers) < 512:
            return


def _chain(error: BaseException | None):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def pressed(error: BaseException | None = None) -> bool:
    """Whether Ctrl-C was pressed during the watched command, or ``error`` is (or was raised while handling) a
    KeyboardInterrupt."""
    _read_wakeup()
    return _pressed or any(isinstance(e, KeyboardInterrupt) for e in _chain(error))
