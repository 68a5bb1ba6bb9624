"""The output folder: safe file names, what may be replaced, and the atomic swap.

Ids in the input files are data from another system, never paths: every file name
derived from one goes through :func:`safe_name` (a readable slug plus a short hash of
the exact id), so ``../../x``, ``/etc/x``, NUL, a newline or 300 characters can neither
choose the place of a file nor break the write, and two ids never share a name.

``--out`` is replaced whole, so FieldRoute replaces only a folder it wrote itself: each
plan folder holds a marker file (:data:`MARKER`); a folder without it that is not empty
is refused (:func:`check_out_folder`), and so is a folder holding an input file.

Everything a run writes lands in a staging folder beside ``--out`` first (created 0700;
files in it 0600 from their creation, under a 077 umask), and only a complete plan is
swapped in, in one step: ``renameat2(RENAME_EXCHANGE)`` on Linux, so ``--out`` holds the
old plan or the new one at every instant. Where the kernel, the C library or the file
system lacks the exchange (non-Linux, NFS), two renames do it and the next run puts the
old plan back if a crash fell between them. A run holds an ``flock`` on its staging
folder: the kernel drops it when the process dies, even by ``kill -9``, so the next run
into the same ``--out`` knows which staging folders are dead and removes them.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from optimizer.errors import ConfigurationError, EnvironmentFaultError, OptimizerError

logger = logging.getLogger(__name__)

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
SHARED_DIR, SHARED_FILE = 0o755, 0o644

#: The file that marks a folder as written by FieldRoute (and so replaceable by it).
MARKER = ".fieldroute"
_MARKER_TEXT = (
    "FieldRoute plan folder\n"
    "The next run with --out naming this folder replaces it whole; "
    "files added here by hand are removed then.\n"
)
#: Staging and old-plan folders are named ``.<out name>.fieldroute-<kind>-<random>``.
_TAG = "fieldroute-"
_STAGING, _OLD = "staging-", "old-"

#: Characters of the slug: letters and digits of any script, "-" and "_".
_UNSAFE = re.compile(r"[^\w-]+")
_SLUG_MAX = 40
#: Base-32 characters of the SHA-256 of the id: 50 bits, one case only.
_HASH_CHARS = 10


def safe_name(raw_id: str) -> str:
    """A file-name stem for an id from the input: readable, portable, never a path.

    The slug keeps the id's letters and digits (NFKC-folded, any script) and ``-``/``_``,
    at most 40 characters, so a person still sees which visit or agent a file is for;
    the suffix is 10 characters of a SHA-256 of the exact id, lower-case base 32. Two
    different ids never share a stem (50 bits of hash; :func:`unique_names` checks a
    whole set), not even on a case-insensitive file system: ids that differ only by case
    differ in a suffix that has one case only. No stem starts with a dot, holds a
    separator, or exceeds 171 bytes (well inside the usual 255-byte limit).
    """
    slug = _UNSAFE.sub("-", unicodedata.normalize("NFKC", raw_id))
    slug = re.sub(r"[-_]{2,}", "-", slug).strip("-_")[:_SLUG_MAX].rstrip("-_")
    digest = hashlib.sha256(raw_id.encode("utf-8", "surrogatepass")).digest()
    tag = base64.b32encode(digest).decode("ascii").lower()[:_HASH_CHARS]
    return f"{slug}-{tag}" if slug else tag


def unique_names(ids: Iterable[str]) -> dict[str, str]:
    """``{id: safe_name(id)}``, checked distinct ignoring case (the guarantee, not odds).

    Raises
    ------
    ValueError
        If two ids share a name (a 50-bit hash collision: never seen, but never silent).
    """
    names = {i: safe_name(i) for i in dict.fromkeys(ids)}
    seen: dict[str, str] = {}
    for raw, name in names.items():
        other = seen.setdefault(name.casefold(), raw)
        if other != raw:
            msg = f"ids {other!r} and {raw!r} map to one file name {name!r}"
            raise ValueError(msg)
    return names


def agent_file(agent_id: str, suffix: str) -> str:
    """``agent-<safe name>.<suffix>``: the agent's page (html) or calendar (ics)."""
    return f"agent-{safe_name(agent_id)}.{suffix}"


def notice_file(visit_id: str) -> str:
    """``<safe name>.txt`` in ``notices/``: one borrower's notice."""
    return f"{safe_name(visit_id)}.txt"


# --- what --out may name ----------------------------------------------------------------


def is_plan_folder(folder: Path) -> bool:
    """True when ``folder`` holds FieldRoute's marker (a regular file with its text)."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return False
    try:
        with marker.open(encoding="utf-8") as f:
            return f.readline() == _MARKER_TEXT.splitlines(keepends=True)[0]
    except (OSError, UnicodeDecodeError):
        return False


def _absolute(path: Path) -> Path:
    # Not Path.resolve(): the last part must stay as given, to see a symbolic link there.
    return Path(os.path.abspath(path))  # noqa: PTH100


def check_out_folder(out: Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse, before any slow work, an ``--out`` that must not be replaced or written.

    ``out`` may be missing, an empty folder, or a folder FieldRoute wrote (its marker);
    it may not be or hold the current folder, hold one of ``inputs``, be a symbolic
    link or a file, or lie under a file.

    Raises
    ------
    ConfigurationError
        For a folder the user must choose differently (exit 2).
    EnvironmentFaultError
        When the folder cannot be created or written (exit 5).
    """
    target = _absolute(out)
    real = target.resolve()
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        msg = (
            f"--out {out} is the folder you are working in (or holds it), and --out is "
            f"replaced whole; name a folder inside it instead, e.g. --out {out / 'plan'}"
        )
        raise ConfigurationError(msg)
    for given in inputs:
        path = _absolute(given).resolve()
        if path == real or real in path.parents:
            msg = (
                f"--out {out} holds the input file {given}, and --out is replaced whole; "
                "choose another output folder"
            )
            raise ConfigurationError(msg)
    existing = target.parent
    while not existing.exists() and not existing.is_symlink():
        existing = existing.parent
    if not existing.is_dir():
        msg = f"output folder {out} cannot be created: {existing} is a file, not a folder"
        raise ConfigurationError(msg)
    if target.is_symlink():
        msg = f"--out {out} is a symbolic link; name the folder itself"
        raise ConfigurationError(msg)
    if target.exists():
        _check_replaceable(target, shown=out)
    probe = target if target.exists() else existing
    if not os.access(probe, os.W_OK | os.X_OK) or not os.access(existing, os.W_OK | os.X_OK):
        msg = f"output folder {out} cannot be written: {existing} is not writable"
        raise EnvironmentFaultError(msg)


def _check_replaceable(target: Path, *, shown: Path) -> None:
    if not target.is_dir():
        msg = f"--out {shown} is a file, not a folder"
        raise ConfigurationError(msg)
    if is_plan_folder(target):
        return
    try:
        empty = next(target.iterdir(), None) is None
    except OSError as err:
        raise EnvironmentFaultError.from_os(err, f"cannot read output folder {shown}") from err
    if not empty:
        msg = (
            f"--out {shown} holds files FieldRoute did not write (no {MARKER} marker), and "
            "--out is replaced whole; choose a new or empty folder, or remove it yourself"
        )
        raise ConfigurationError(msg)


# --- staging and the swap ---------------------------------------------------------------


@contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """Yield a private staging folder beside ``out``; on success it replaces ``out`` whole.

    On any exception (SIGINT, SIGTERM, disk full ...) the staging folder is removed and
    ``out`` is left as it was; an OS error becomes :class:`EnvironmentFaultError`, naming
    the file that failed.
    """
    out = _absolute(out)
    shown = out
    tmp: Path | None = None
    lock = -1
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{_TAG}{_STAGING}", dir=out.parent))
        lock = _lock(tmp)
        mask = os.umask(0o077)
        try:
            (tmp / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
            yield tmp
        finally:
            os.umask(mask)
        if out.exists() or out.is_symlink():
            if out.is_symlink():
                msg = f"--out {shown} is a symbolic link; name the folder itself"
                raise ConfigurationError(msg)
            _check_replaceable(out, shown=shown)
        how = _publish(tmp, out)
        logger.info("plan folder %s published (%s)", out, how)
    except BaseException as err:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError) and not isinstance(err, OptimizerError):
            raise _write_fault(err, shown, tmp) from err
        raise
    finally:
        if lock >= 0:
            os.close(lock)
    # After an exchange the staging name holds the previous plan; after a rename, nothing.
    shutil.rmtree(tmp, ignore_errors=True)


def _write_fault(err: OSError, out: Path, tmp: Path | None) -> EnvironmentFaultError:
    where = str(err.filename) if err.filename is not None else None
    if where is not None and tmp is not None and where.startswith(str(tmp)):
        where = str(out / Path(where).relative_to(tmp))
    what = err.strerror or str(err)
    keep = "the previous plan there is unchanged" if out.exists() else "nothing was written"
    msg = f"could not write the plan to {out}: {what}" + (f" ({where})" if where else "")
    return EnvironmentFaultError(f"{msg}; {keep}")


def _lock(folder: Path) -> int:
    """Hold an exclusive flock on ``folder`` for this process's life (or until closed)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


def clean_stale(out: Path) -> list[Path]:
    """Remove staging folders of dead runs into ``out``; put back a plan a crash moved away.

    A folder counts as dead when it has FieldRoute's name pattern and marker and nobody
    holds its lock. Returns the folders removed or restored.
    """
    out = _absolute(out)
    prefix = f".{out.name}.{_TAG}"
    try:
        entries = sorted(p for p in out.parent.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []
    done = []
    for entry in entries:
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # a file, a symlink, or already gone: not ours to touch
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live run is writing or swapping it
            if not is_plan_folder(entry):
                continue
            old = entry.name[len(prefix) :].startswith(_OLD)
            if old and not out.exists() and not out.is_symlink():
                entry.rename(out)
                logger.warning("put back the previous plan %s (a run died while replacing it)", out)
            else:
                shutil.rmtree(entry, ignore_errors=True)
                logger.info("removed %s, left by a run that died", entry.name)
            done.append(entry)
        finally:
            os.close(fd)
    return done


_AT_FDCWD = -100
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2
Renamer = Callable[[Path, Path, int], bool]


def _load_renameat2() -> Renamer | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # glibc before 2.28, musl before 1.2.4
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int

    def renameat2(src: Path, dst: Path, flags: int) -> bool:
        """True when done; False when this kernel or file system cannot do ``flags``."""
        if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
            return True
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            return False
        raise OSError(code, os.strerror(code), str(src), None, str(dst))

    return renameat2


#: ``renameat2`` where the C library has it, else None (then :func:`_publish` falls back).
renameat2: Renamer | None = _load_renameat2()


def _publish(tmp: Path, out: Path) -> str:
    """Put ``tmp`` in place of ``out`` in one step where possible; says which way."""
    if renameat2 is not None:
        if not out.exists():
            with contextlib.suppress(FileExistsError):  # appeared meanwhile: exchange
                if renameat2(tmp, out, _RENAME_NOREPLACE):
                    return "renameat2 RENAME_NOREPLACE"
        if out.exists() and renameat2(tmp, out, _RENAME_EXCHANGE):
            return "renameat2 RENAME_EXCHANGE"
    if not out.exists():
        tmp.rename(out)
        return "rename"
    # Two renames; the old plan is locked while it is away, and clean_stale puts it back
    # if this process dies before the second.
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.{_TAG}{_OLD}", dir=out.parent))
    fd = _lock(out)
    try:
        out.rename(old)
        tmp.rename(out)
    finally:
        os.close(fd)
    shutil.rmtree(old, ignore_errors=True)
    return "two renames (no atomic exchange here)"


def set_permissions(out: Path, *, share: bool) -> None:
    """Owner-only folders and files, or world-readable ones with ``share``.

    ``inputs/`` holds every input column unmasked and stays owner-only either way.
    """
    for root, dirs, files in os.walk(out):
        here = Path(root)
        private = not share or here == out / "inputs" or out / "inputs" in here.parents
        here.chmod(PRIVATE_DIR if private else SHARED_DIR)
        for name in files:
            (here / name).chmod(PRIVATE_FILE if private else SHARED_FILE)
        for name in dirs:
            (here / name).chmod(PRIVATE_DIR if private else SHARED_DIR)
