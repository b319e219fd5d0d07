"""Writing output files safely.

- :func:`atomic_path`: one file, written to a temporary file beside the target and renamed only on
  success, so that a failed write never leaves a half-written file.
- :class:`OutputSet`: the files of one run as a set. The output folder is checked before any
  computation; every output is written into a private staging folder inside it
  (``.actuary-staging-*``); on success the files are moved into place while the run holds an
  exclusive lock on the output folder, so that concurrent runs into one folder each leave complete
  sets (the outputs of one name all come from one run). A run that fails or is interrupted before
  the commit leaves the previous outputs byte-identical and removes its staging folder. A run that
  is killed outright (``kill -9``, power loss) cannot clean up: its staging folder is removed by
  the next run into the same folder, which knows the owner is gone because the owner's lock on
  the folder's ``.lock`` file (held for the whole run) is free.

The lock is ``flock`` on the output folder itself (POSIX): no lock file is created or left behind.
Where ``fcntl`` does not exist (Windows) the lock is taken on a file ``.actuary.lock`` in the output
folder, which stays there (it holds nothing; deleting it is harmless).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from ..validation import InputError

STAGING_PREFIX = ".actuary-staging-"
STAGING_LOCK = ".lock"
WINDOWS_LOCK = ".actuary.lock"
ORPHAN_AGE = 3600.0   # seconds: a staging folder without a lock file is an orphan after this
SETTLE_AGE = 60.0     # seconds: a staging folder younger than this is never swept (its owner may be
                      # between creating the folder and taking its lock)


def _try_lock(path: Path):
    """An exclusive lock on the file ``path`` without waiting: the open descriptor (closing it
    releases the lock), or None if another process holds it. Where ``fcntl`` does not exist the
    lock is not available and None is returned (nothing is ever swept there)."""
    try:
        import fcntl
    except ImportError:  # Windows: staging folders of killed runs stay (they hold only partial outputs)
        return None
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


def remove_orphan_staging(folder: Path) -> list[Path]:
    """Remove the staging folders that runs killed outright left in ``folder``: those whose
    ``.lock`` is not held by a live run and that are older than a minute (or that have no lock
    file and are older than an hour, e.g. from a version that did not lock). Returns the folders
    removed. Where ``fcntl`` does not exist (Windows) nothing is swept: a live run cannot be told
    from a dead one there."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return []
    removed = []
    for staging in folder.glob(STAGING_PREFIX + "*"):
        if not staging.is_dir() or staging.is_symlink():
            continue
        try:
            age = time.time() - staging.stat().st_mtime
        except OSError:
            continue
        lock = staging / STAGING_LOCK
        if age < SETTLE_AGE or (not lock.exists() and age < ORPHAN_AGE):
            continue
        descriptor = _try_lock(lock) if lock.exists() else None
        if lock.exists() and descriptor is None:
            continue   # a live run owns it
        try:
            shutil.rmtree(staging, ignore_errors=True)
        finally:
            if descriptor is not None:
                os.close(descriptor)
        if not staging.exists():
            removed.append(staging)
    return removed


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds
    (with the permissions a new file would get from the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


@contextmanager
def folder_lock(folder: Path):
    """Hold an exclusive lock on ``folder`` (blocks until other runs committing there are done)."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        with open(folder / WINDOWS_LOCK, "a+b") as handle:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def check_output_folder(folder) -> None:
    """Refuse (InputError) an output folder that is a file, or that this user cannot create files
    in (the folder, or its nearest existing parent when it does not exist yet); creates nothing.
    Commands call it before any computation."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {folder}: is a file; expected a folder for the outputs.")
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"--out {folder}: {existing} is a file; expected a folder for the outputs.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"--out {folder}: cannot write there (permission denied); expected a folder this user may "
                         "create files in.")


_moved: list[Path] = []   # the outputs this process has moved into place, in order (see outputs_moved)
_commit_checks: list = []  # callables run before any output set is moved into place (see checked_before_commit)


@contextmanager
def checked_before_commit(check):
    """Within the block, ``check()`` runs before an :class:`OutputSet` moves its outputs into place; it stops the
    commit by raising (the command line's: a Ctrl-C recorded but swallowed on the way, e.g. in a ``__del__``)."""
    _commit_checks.append(check)
    try:
        yield
    finally:
        _commit_checks.remove(check)


def outputs_moved() -> list[Path]:
    """The outputs this process has moved into place so far (an :class:`OutputSet` committed), in order: what a
    command interrupted after writing them has written."""
    return list(_moved)


@contextmanager
def _ctrl_c_held():
    """Within the block a Ctrl-C does not interrupt: SIGINT is held and handed to the handler in place once the
    block is done (a KeyboardInterrupt then), so that a set of outputs is moved into place whole. Only in the main
    thread, the one where Python raises KeyboardInterrupt and may set handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:   # a handler not set from Python: cannot be put back, so left alone
        yield
        return
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held and callable(previous):
            previous(signal.SIGINT, held[-1])
        elif held and previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)


class OutputSet:
    """The outputs ``names`` (file or folder names, e.g. ``demoland-results.xlsx``) of one run in
    ``folder``: write each to :meth:`path`, then :meth:`commit`.

    >>> with OutputSet(Path("out"), ["case-results.xlsx", "case-results.nc"]) as outputs:
    ...     write(outputs.path("case-results.xlsx")); ...
    ...     outputs.commit()
    """

    def __init__(self, folder, names, stores=(), source=None):
        self.folder = Path(folder)
        self.source = None if source is None else Path(source)   # the input file the names come from
        self.names = list(names)
        self.stores = set(stores)   # outputs that are folders (zarr stores)
        if len(set(self.names)) != len(self.names) or any(Path(n).name != n or n in (".", "..") for n in self.names):
            raise ValueError(f"output names must be distinct plain file names: {self.names}")
        self.staging: Path | None = None
        self._lock: int | None = None
        self._created: list[Path] = []
        self.committed = False

    def __enter__(self) -> "OutputSet":
        folder = self.folder
        check_output_folder(folder)
        if self.source is not None and folder.is_dir():
            self._check_same_source()
        for name in self.names:
            target = folder / name
            if target.is_dir() != (name in self.stores) and target.exists():
                raise InputError(f"--out {folder}: '{name}' exists and is a {'folder' if target.is_dir() else 'file'}; "
                                 "this run would replace it with a "
                                 f"{'folder' if name in self.stores else 'file'}. Move it away or choose another "
                                 "--out or --name.")
        missing = []
        parent = folder
        while not parent.exists():
            missing.append(parent)
            if parent.parent == parent:
                break
            parent = parent.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._created = [p for p in missing if p.is_dir()]
            self.staging = Path(tempfile.mkdtemp(dir=folder, prefix=STAGING_PREFIX))
            self._lock = _try_lock(self.staging / STAGING_LOCK)   # held until the run ends
        except OSError as error:
            self._remove_created()
            reason = error.strerror or str(error)
            raise InputError(f"--out {folder}: cannot write there ({reason}); expected a folder this user may "
                             "create files in.") from None
        remove_orphan_staging(folder)
        return self

    def _check_same_source(self) -> None:
        """Refuse to replace outputs that another input file of the same name (in another folder)
        produced: their provenance (netCDF attributes) names the file and an id of its folder."""
        from .provenance import PREFIX, folder_id

        ours = folder_id(self.source)
        for name in self.names:
            target = self.folder / name
            if not name.endswith(".nc") or not target.is_file():
                continue
            try:
                import xarray as xr

                with xr.open_dataset(target) as earlier:
                    theirs = str(earlier.attrs.get(f"{PREFIX}input_folder_id", ""))
                    file = str(earlier.attrs.get(f"{PREFIX}input_file", ""))
            except Exception:   # not readable as netCDF: nothing known of its source
                continue
            if theirs and theirs != ours:
                raise InputError(f"--out {self.folder}: '{name}' there holds the results of another input file "
                                 f"named '{file}' (from another folder); this run would replace them. Give --name "
                                 "to keep both, choose another --out, or move the earlier outputs away.")

    def path(self, name: str) -> Path:
        """Where to write output ``name`` during the run (inside the staging folder)."""
        if name not in self.names:
            raise ValueError(f"'{name}' is not one of this run's outputs {self.names}")
        return self.staging / name

    def target(self, name: str) -> Path:
        return self.folder / name

    def commit(self) -> list[Path]:
        """Move every output into place, holding the folder's lock and any Ctrl-C (raised once all are in place:
        never half a set); returns the final paths."""
        absent = [n for n in self.names if not os.path.lexists(self.staging / n)]
        if absent:
            raise RuntimeError(f"outputs not written: {absent}")
        for check in list(_commit_checks):
            check()
        with folder_lock(self.folder), _ctrl_c_held():
            for name in self.names:
                source, target = self.staging / name, self.folder / name
                if name in self.stores and os.path.lexists(target):  # move the old store aside, the new in
                    os.replace(target, self.staging / f".previous-{name}")
                os.replace(source, target)
            self.committed = True
            _moved.extend(self.folder / n for n in self.names)
        return [self.folder / n for n in self.names]

    def __exit__(self, *exc):
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
        if not self.committed:
            self._remove_created()
        return False

    def _remove_created(self):
        for path in self._created:  # deepest first; only folders this run created and left empty
            try:
                path.rmdir()
            except OSError:
                break
