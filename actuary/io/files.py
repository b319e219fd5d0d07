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

A run replaces a file in the output folder only if actuary wrote it and it is unchanged since, or when
told to (``force``, the commands' ``--force``): the user's own file under an output's name, or an output
edited after the run, is refused before any computation. What actuary wrote is recorded in the folder's
manifest ``.actuary-outputs.json`` (:data:`MANIFEST`), rewritten at each commit under the folder's lock:
for each output name, its kind (file or folder), size, SHA-256 of its content and the modification time
and inode it had once in place. A file whose size, modification time and inode are those recorded is
unchanged; one of the recorded size but other times is read to compare its SHA-256 (a copy of the
folder, a file touched); any other is changed. Nothing else of an existing file is read (never more
than the recorded size), so a hostile file costs at most that. A folder without a manifest (written by
a version of actuary that kept none, or by hand) has no file actuary may replace without ``force``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from ..validation import InputError

STAGING_PREFIX = ".actuary-staging-"
STAGING_LOCK = ".lock"
WINDOWS_LOCK = ".actuary.lock"
ORPHAN_AGE = 3600.0   # seconds: a staging folder without a lock file is an orphan after this
SETTLE_AGE = 60.0     # seconds: a staging folder younger than this is never swept (its owner may be
                      # between creating the folder and taking its lock)
MANIFEST = ".actuary-outputs.json"   # what actuary wrote in an output folder (see the module's docstring)
MANIFEST_LIMIT = 8 * 1024 * 1024     # bytes: a larger manifest is not read (as if unreadable)
MANIFEST_FORMAT = 1
NOT_OURS = "not written by actuary"
NO_RECORD = "no record that actuary wrote it"   # said instead of NOT_OURS when the folder's manifest is absent/unreadable
CHANGED = "changed since actuary wrote it"


class RecordNotUpdated(Exception):
    """The outputs of a run are in place in ``folder`` but its manifest (:data:`MANIFEST`) could not be updated (made
    immutable, replaced by a folder, ...): the earlier outputs are replaced, yet the next run will not know these
    as actuary's and will refuse them until --force. Not an OSError, so that nothing takes it for a failed write
    that left the earlier outputs unchanged. Its message is the one paragraph the user is told."""

    def __init__(self, folder: Path, names, error: OSError):
        self.folder, self.names = Path(folder), list(names)
        written = ", ".join(str(self.folder / name) for name in self.names)
        super().__init__(
            f"--out {self.folder}: the outputs were written ({written}; any earlier ones of these names are "
            f"replaced), but the folder's record of them ({self.folder / MANIFEST}) could not be updated "
            f"({error.strerror or error}). The next run into this folder will not know them as actuary's and will "
            f"refuse to replace them unless given --force; first make {MANIFEST} a file this user may replace (or "
            f"delete it), so that the run records them again.")


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


NAME_MAX_BYTES = 255      # the longest file name most file systems take (bytes of UTF-8)
TEMPORARY_NAME_BYTES = 14  # what a temporary file adds to an output's name while it is written (see atomic_path)


def check_name_lengths(folder: Path, names) -> None:
    """Refuse, before anything is computed, output names whose files could not be written: the longest file
    name a file system takes is counted in bytes (255 on most; a character of Chinese or Arabic is 2-3 bytes of
    UTF-8), and a file is written under a temporary name a few bytes longer before it takes its own."""
    limit = NAME_MAX_BYTES
    try:
        probe = next((p for p in (Path(folder), *Path(folder).parents) if p.exists()), None)
        if probe is not None and hasattr(os, "pathconf"):
            limit = min(limit, os.pathconf(probe, "PC_NAME_MAX"))
    except (OSError, ValueError):
        pass
    longest = max(names, key=lambda n: len(n.encode("utf-8", "surrogateescape")), default="")
    size = len(longest.encode("utf-8", "surrogateescape"))
    if size + TEMPORARY_NAME_BYTES > limit:
        raise InputError(f"the output name is too long: the file '{longest}' would have a name of {size} "
                         f"bytes (UTF-8), and this file system takes at most {limit} bytes in a file's name, "
                         f"{TEMPORARY_NAME_BYTES} of them for the temporary name it is written under; give a "
                         "shorter --name (or rename the input file).")


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


def same_file(one, other) -> bool:
    """Whether the paths ``one`` and ``other`` are one file: the same file under another name too (a hard link, a
    symbolic link, ``./x`` for ``x``); paths of which one does not exist are the same when they resolve alike."""
    try:
        return os.path.samefile(one, other)
    except (OSError, ValueError):
        try:
            return Path(one).resolve() == Path(other).resolve()
        except (OSError, RuntimeError, ValueError):
            return False


NOT_AN_INPUT = "Give --name for other names of the outputs, or another --out."


def check_not_inputs(folder, names, inputs, remedy: str = NOT_AN_INPUT) -> None:
    """Refuse (InputError) outputs ``names`` in ``folder`` of which one is a file the run reads (``inputs``: its
    input files and folders; None for one not given): the run would replace its own input (``--name x`` and the
    input ``out/x-solved.xlsx``, or a hard link to it) and the earlier file would be gone. Commands call it (through
    :class:`OutputSet`) before anything is read; ``--force`` does not lift it. ``remedy``: what the message
    suggests (a command without --name: another --out)."""
    folder = Path(folder)
    for name in names:
        target = folder / name
        for given in inputs:
            if given is None or not same_file(target, given):
                continue
            alias = "" if Path(os.path.abspath(target)) == Path(os.path.abspath(given)) else \
                " (the same file under another name: a link to it)"
            raise InputError(f"--out {folder}: the output {target} is the input {given} of this run{alias}; the run "
                             f"would replace the file it reads. {remedy}")


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


def _entries(folder: Path, limit: int):
    """The entries under ``folder`` (links not followed) as sorted (relative path, lstat) pairs, or None when
    there are more than ``limit`` (a folder that is not the one recorded; its walk stops there)."""
    found = []
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as listing:
            for entry in listing:
                info = entry.stat(follow_symlinks=False)
                found.append((Path(entry.path).relative_to(folder).as_posix(), info))
                if len(found) > limit:
                    return None
                if stat.S_ISDIR(info.st_mode):
                    pending.append(Path(entry.path))
    return sorted(found, key=lambda item: item[0])


def _kind(info) -> str:
    return "file" if stat.S_ISREG(info.st_mode) else "folder" if stat.S_ISDIR(info.st_mode) else "other"


def _stamp(path: Path, limit: int = 1_000_000) -> dict | None:
    """What the file system says of the output ``path`` without reading it: its kind, size (a folder: the bytes of
    its files), number of entries (a folder) and stamp (a file: size, modification time and inode; a folder: the
    SHA-256 of the same of each entry). None for anything else (a link, a device, a folder of more than
    ``limit`` entries)."""
    info = os.lstat(path)
    if stat.S_ISREG(info.st_mode):
        return {"kind": "file", "size": info.st_size, "stamp": f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"}
    if not stat.S_ISDIR(info.st_mode):
        return None
    entries = _entries(path, limit)
    if entries is None:
        return None
    listing = hashlib.sha256()
    for name, entry in entries:
        listing.update(f"{name}\0{_kind(entry)}\0{entry.st_size}:{entry.st_mtime_ns}:{entry.st_ino}\n".encode())
    return {"kind": "folder", "size": sum(e.st_size for _, e in entries if stat.S_ISREG(e.st_mode)),
            "entries": len(entries), "stamp": listing.hexdigest()}


def _file_sha256(path: Path, limit: int) -> str | None:
    """The SHA-256 of the file ``path``, or None if it holds more than ``limit`` bytes (read no further)."""
    digest, read = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            read += len(chunk)
            if read > limit:
                return None
            digest.update(chunk)
    return digest.hexdigest()


def _content_sha256(path: Path, kind: str, size: int, limit: int = 1_000_000) -> str | None:
    """The SHA-256 of the content of the output ``path``: a file's bytes; a folder's entries in order, each its
    relative path, kind and (a file) the SHA-256 of its bytes. Reads at most ``size`` bytes (None beyond)."""
    if kind == "file":
        return _file_sha256(path, size)
    entries = _entries(path, limit)
    if entries is None:
        return None
    digest, left = hashlib.sha256(), size
    for name, entry in entries:
        kind_of = _kind(entry)
        content = ""
        if kind_of == "file":
            content = _file_sha256(path / name, left)
            if content is None:
                return None
            left -= entry.st_size
        digest.update(f"{name}\0{kind_of}\0{content}\n".encode())
    return digest.hexdigest()


def output_record(path: Path) -> dict:
    """The manifest's record of the output ``path`` (a file or a folder of files, e.g. a zarr store), taken in the
    staging folder before it is moved into place (a move keeps the modification times and inodes)."""
    record = _stamp(path)
    if record is None:
        raise ValueError(f"{path}: an output is a file or a folder of files")
    record["sha256"] = _content_sha256(path, record["kind"], record["size"], record.get("entries", 0))
    record["written"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return record


def _valid_record(name, record) -> bool:
    def count(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    return (isinstance(name, str) and Path(name).name == name and name not in ("", ".", "..")
            and isinstance(record, dict) and record.get("kind") in ("file", "folder") and count(record.get("size"))
            and isinstance(record.get("stamp"), str) and len(record["stamp"]) <= 200
            and isinstance(record.get("sha256"), str) and len(record["sha256"]) == 64
            and (record["kind"] == "file" or count(record.get("entries")))
            and isinstance(record.get("written", ""), str))


def read_manifest(folder: Path) -> tuple[str, dict]:
    """(state, records) of the manifest of ``folder`` (:data:`MANIFEST`): state "absent", "unreadable" (not a
    file, larger than :data:`MANIFEST_LIMIT`, not the manifest's JSON) or "ok"; records, output name -> record,
    keep only well-formed entries. The manifest is read as hostile: nothing of it is trusted but its records."""
    path = Path(folder) / MANIFEST
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "absent", {}
    except OSError:
        return "unreadable", {}
    if not stat.S_ISREG(info.st_mode) or info.st_size > MANIFEST_LIMIT:
        return "unreadable", {}
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read(MANIFEST_LIMIT + 1).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return "unreadable", {}
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT \
            or not isinstance(document.get("outputs"), dict):
        return "unreadable", {}
    return "ok", {name: record for name, record in document["outputs"].items() if _valid_record(name, record)}


def standing(target: Path, record: dict | None) -> str | None:
    """Why a run may not replace ``target`` (:data:`NOT_OURS` or :data:`CHANGED`), or None if it may: it does not
    exist, or it is what actuary wrote there (``record``, from the manifest) and unchanged since."""
    if not os.path.lexists(target):
        return None
    if record is None:
        return NOT_OURS
    try:
        now = _stamp(target, record.get("entries", 0))
        if now is None or now["kind"] != record["kind"] or now["size"] != record["size"] \
                or now.get("entries") != record.get("entries"):
            return CHANGED
        if now["stamp"] == record["stamp"]:
            return None
        same = _content_sha256(target, record["kind"], record["size"], record.get("entries", 0)) == record["sha256"]
    except OSError:   # unreadable (permissions), or gone while it was read
        return CHANGED
    return None if same else CHANGED


def replace_refusal(folder: Path, names, during: bool = False) -> str | None:
    """The one-paragraph refusal of a run that would replace, among ``names`` in ``folder``, a file actuary did not
    write or that changed since it wrote it (see :func:`standing`); None when every name may be replaced.
    ``during``: said at the commit, of files that appeared or changed while the run computed."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    state, records = read_manifest(folder)
    refused = []
    for name in names:
        reason = standing(folder / name, records.get(name))
        if reason == NOT_OURS and state != "ok":   # without a manifest, actuary may well have written it
            reason = NO_RECORD
        if reason is not None:
            written = records.get(name, {}).get("written")
            refused.append(f"'{name}' ({reason}{f' on {written}' if reason == CHANGED and written else ''})")
    if not refused:
        return None
    listed = refused[0] if len(refused) == 1 else ", ".join(refused[:-1]) + " and " + refused[-1]
    them = "it" if len(refused) == 1 else "them"
    if during:
        text = (f"--out {folder}: while this run was computing, {listed} appeared or changed there; the run's "
                "outputs were not written and the files there are unchanged.")
    else:
        text = f"--out {folder}: this run would replace {listed}; nothing was computed or written."
    if state == "absent" and any(NO_RECORD in r for r in refused):
        these = "this file is an output" if len(refused) == 1 else "these files are outputs"
        text += (f" The folder has no record of the outputs actuary wrote there ({MANIFEST}; earlier versions of "
                 f"actuary kept none): if {these} of actuary that you have not changed, --force replaces {them} once "
                 "and later runs need no --force.")
    elif state == "unreadable":
        text += f" The folder's record of the outputs actuary wrote there ({MANIFEST}) cannot be read."
    return text + f" Choose another --out, or give --force to replace {them}."


def check_replaceable(folder, names, force: bool = False) -> None:
    """Refuse (InputError, :func:`replace_refusal`) a run whose outputs ``names`` would replace in ``folder`` a
    file actuary did not write or that changed since it wrote it, unless ``force``. Commands call it before any
    computation (an :class:`OutputSet` does so itself)."""
    if force:
        return
    refusal = replace_refusal(Path(folder), names)
    if refusal is not None:
        raise InputError(refusal)


def _manifest_text(folder: Path, records: dict, dropped=()) -> str:
    """The manifest of ``folder`` once ``records`` (name -> record) are written: the records already there whose
    output still exists (and is not among the outputs ``dropped``, being removed), and these."""
    _, kept = read_manifest(folder)
    kept = {name: record for name, record in kept.items() if os.path.lexists(folder / name) and name not in dropped}
    kept.update(records)
    document = {"format": MANIFEST_FORMAT,
                "about": "The outputs actuary wrote in this folder, as it wrote them. A run replaces a file here only "
                         "if it is listed and unchanged (or with --force). Without this file actuary replaces none of "
                         "them unless given --force.",
                "outputs": dict(sorted(kept.items()))}
    return json.dumps(document, indent=1) + "\n"


@contextmanager
def _manifest_staged(folder: Path, records: dict, dropped=()):
    """Write the manifest of ``folder`` with ``records`` (and without the outputs ``dropped``) to a temporary file
    beside it (a full disk fails here, before any output is moved); yields the function that moves it into place."""
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f"{MANIFEST}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(_manifest_text(folder, records, dropped))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        yield lambda: os.replace(temporary, folder / MANIFEST)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


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

    ``inputs``: the files (and folders) the run reads; an output that is one of them is refused before the run
    (:func:`check_not_inputs`), ``force`` or not.

    ``optional``: outputs among ``names`` that a run may leave unwritten (``actuary data`` writes its records CSV
    only beyond the sheet's limit). They are checked like the others before the run; at the commit, an earlier file
    of such a name that this run did not write is removed if actuary wrote it and it is unchanged (it belongs to an
    earlier run's set), and left as it is otherwise.
    """

    def __init__(self, folder, names, stores=(), source=None, force=False, optional=(), inputs=()):
        self.folder = Path(folder)
        self.source = None if source is None else Path(source)   # the input file the names come from
        self.inputs = [Path(p) for p in inputs if p is not None]   # the files the run reads: no output may be one
        self.force = force   # replace files of the outputs' names actuary did not write, or that changed since
        self.names = list(names)
        self.stores = set(stores)   # outputs that are folders (zarr stores)
        self.optional = set(optional)   # outputs a run may leave unwritten
        if not self.optional <= set(self.names):
            raise ValueError(f"optional outputs {sorted(self.optional)} must be among the names {self.names}")
        if len(set(self.names)) != len(self.names) or any(Path(n).name != n or n in (".", "..") for n in self.names):
            raise ValueError(f"output names must be distinct plain file names: {self.names}")
        check_name_lengths(self.folder, self.names)
        self.staging: Path | None = None
        self._lock: int | None = None
        self._created: list[Path] = []
        self.committed = False

    def __enter__(self) -> "OutputSet":
        folder = self.folder
        check_not_inputs(folder, self.names, self.inputs)
        check_output_folder(folder)
        if self.source is not None and folder.is_dir() and not self.force:
            self._check_same_source()
        for name in self.names:
            target = folder / name
            if target.is_dir() != (name in self.stores) and target.exists():
                raise InputError(f"--out {folder}: '{name}' exists and is a {'folder' if target.is_dir() else 'file'}; "
                                 "this run would replace it with a "
                                 f"{'folder' if name in self.stores else 'file'}. Move it away or choose another "
                                 "--out or --name.")
        check_replaceable(folder, self.names, self.force)
        missing = []
        parent = folder
        while not parent.exists():
            missing.append(parent)
            if parent.parent == parent:
                break
            parent = parent.parent
        # from here __exit__ cleans up, but the with statement calls it only once __enter__ has returned: a Ctrl-C
        # (or any error) before that would leave the staging folder behind, so it is called here too
        try:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                self._created = [p for p in missing if p.is_dir()]
                self.staging = Path(tempfile.mkdtemp(dir=folder, prefix=STAGING_PREFIX))
                self._lock = _try_lock(self.staging / STAGING_LOCK)   # held until the run ends
            except OSError as error:
                reason = error.strerror or str(error)
                raise InputError(f"--out {folder}: cannot write there ({reason}); expected a folder this user may "
                                 "create files in.") from None
            remove_orphan_staging(folder)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def _check_same_source(self) -> None:
        """Refuse to replace outputs that another input file of the same name (in another folder)
        produced: their provenance (netCDF attributes) names the file and an id of its folder. Only an
        output actuary wrote and that is unchanged is opened (the others are refused anyway, unread)."""
        from .provenance import PREFIX, folder_id

        ours = folder_id(self.source)
        _, records = read_manifest(self.folder)
        for name in self.names:
            target = self.folder / name
            if not name.endswith(".nc") or not target.is_file() or standing(target, records.get(name)) is not None:
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
                                 "to keep both, choose another --out, move the earlier outputs away, or give "
                                 "--force to replace them.")

    def path(self, name: str) -> Path:
        """Where to write output ``name`` during the run (inside the staging folder)."""
        if name not in self.names:
            raise ValueError(f"'{name}' is not one of this run's outputs {self.names}")
        return self.staging / name

    def target(self, name: str) -> Path:
        return self.folder / name

    def written(self, name: str) -> bool:
        """Whether output ``name`` has been written in the staging folder (an optional one may not be)."""
        return self.staging is not None and os.path.lexists(self.staging / name)

    def commit(self, also=None) -> list[Path]:
        """Move every output written into place, holding the folder's lock and any Ctrl-C (raised once all are in
        place: never half a set), and record them in the folder's manifest; returns the final paths (of the outputs
        written: an optional one left unwritten is not among them). A file of an output's name that appeared or
        changed there while the run computed is refused (InputError, nothing moved) unless ``force``.

        ``also``: what completes the run outside the folder (``actuary data`` replacing the workbook it fills, from
        a file it prepared beside it), called under the lock with any Ctrl-C held, after the refusal above and the
        manifest's staging (where a full disk fails), before any output is moved: if it fails, nothing is moved."""
        absent = [n for n in self.names if n not in self.optional and not self.written(n)]
        if absent:
            raise RuntimeError(f"outputs not written: {absent}")
        names = [n for n in self.names if self.written(n)]
        left = [n for n in self.names if n not in names]   # optional outputs this run did not write
        for check in list(_commit_checks):
            check()
        records = {name: output_record(self.staging / name) for name in names}   # read before the lock
        with folder_lock(self.folder), _ctrl_c_held():
            refusal = None if self.force else replace_refusal(self.folder, names, during=True)
            if refusal is not None:
                raise InputError(refusal)
            earlier = self._earlier_of(left)
            with _manifest_staged(self.folder, records, dropped=earlier) as place_manifest:
                if also is not None:
                    also()
                for name in earlier:   # an earlier run's optional output, actuary's and unchanged: not of this set
                    os.replace(self.folder / name, self.staging / f".previous-{name}")
                for name in names:
                    source, target = self.staging / name, self.folder / name
                    if name in self.stores and os.path.lexists(target):  # move the old store aside, the new in
                        os.replace(target, self.staging / f".previous-{name}")
                    os.replace(source, target)
                self.committed = True
                _moved.extend(self.folder / n for n in names)
                try:
                    place_manifest()
                except OSError as error:   # the outputs are in place: say so, and what the next run will need
                    raise RecordNotUpdated(self.folder, names, error) from None
        return [self.folder / n for n in names]

    def _earlier_of(self, left) -> list[str]:
        """Among the optional outputs ``left`` unwritten, those in the folder that actuary wrote and that are unchanged
        since (an earlier run's, to be removed); the others (the user's own, one changed) stay."""
        _, records = read_manifest(self.folder)
        return [name for name in left if os.path.lexists(self.folder / name) and name in records
                and standing(self.folder / name, records[name]) is None]

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
