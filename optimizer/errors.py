"""Errors raised on purpose, each with its exit code.

Input problems are product output: every problem in a file is collected as an
:class:`Issue` (file, spreadsheet row, column, value, what was expected) and raised
once, so a dispatcher mends the spreadsheet in one pass.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_ISSUES_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in an input file.

    ``row`` is counted as a spreadsheet user counts it: the header is row 1 and the
    first data row is row 2. ``row`` and ``column`` are None for file-level problems.
    """

    source: str
    row: int | None
    column: str | None
    value: str | None = field(repr=False)
    problem: str
    #: The value is personal data (a name, phone or address, or shaped like one): the
    #: message shows its first characters and its length only (:func:`mask_value`).
    personal: bool = False

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.value in (None, ""):
            value = ""
        elif self.personal:
            value = f"{mask_value(self.value)} "
        else:
            value = f"{self.value!r} "
        return f"{', '.join(where)}: {value}{self.problem}"


_DIGIT_RUN = re.compile(r"\d(?:[\s\-().]*\d){6,}")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_]{2,}")


def looks_personal(value: str) -> bool:
    """Whether a cell could be a name, phone or address, whatever its column says.

    With columns swapped, an address sits under ``window_start``: a run of seven or
    more digits (phones, ID numbers), Chinese characters, or two words or more count.
    """
    return bool(_DIGIT_RUN.search(value) or _CJK.search(value) or len(_WORD.findall(value)) >= 2)


def mask_value(value: str) -> str:
    """A personal value as error lines show it: its first characters and its length."""
    keep = max(1, min(3, len(value) // 4))
    return f"{value[:keep]!r}… ({len(value)} characters)"


class OptimizerError(Exception):
    """Root of every error FieldRoute raises on purpose."""

    exit_code = 1


class InputError(OptimizerError, ValueError):
    """Bad input files. Carries every :class:`Issue` found, sorted by file and row."""

    exit_code = 2

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(sorted(issues, key=lambda i: (i.source, i.row or 0)))
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [str(i) for i in self.issues[:MAX_ISSUES_SHOWN]]
        extra = len(self.issues) - MAX_ISSUES_SHOWN
        if extra > 0:
            lines.append(f"... and {extra} more")
        return "\n".join(lines)


class ConfigurationError(OptimizerError, ValueError):
    """Bad settings, TOML file or combination of command-line options."""

    exit_code = 2


class DayTooLargeError(OptimizerError, MemoryError):
    """A day (or one region of it) would not fit in memory: refused before it is built.

    Exit 2 like bad input: the same files with ``--regions`` can be planned.
    """

    exit_code = 2

    def __init__(self, visits: int, agents: int, need_bytes: int, available_bytes: int) -> None:
        self.visits, self.agents = visits, agents
        self.need_bytes, self.available_bytes = need_bytes, available_bytes
        gib = 1024**3
        super().__init__(
            f"the day is too large to plan in one piece: {visits:,} visits and {agents:,} "
            f"agents need about {need_bytes / gib:,.1f} GiB of memory and "
            f"{available_bytes / gib:,.1f} GiB is available; plan it with --regions "
            "(each region is planned, and checked, on its own) or split the visits file"
        )


class GeocodingServiceError(OptimizerError, OSError):
    """A geocoding service is unreachable, timed out, refused or rate-limited us."""

    exit_code = 3


class RoadDataError(OptimizerError, OSError):
    """Road data is missing, unreadable or cannot be built."""

    exit_code = 3


class EnvironmentFaultError(OptimizerError, OSError):
    """The machine stopped the run: disk full, a folder not writable, a read-only file
    system, no file handles left. Neither the input's fault nor a bug: the message says
    what failed and where, so that whoever runs FieldRoute can mend the machine."""

    exit_code = 5

    @classmethod
    def from_os(cls, err: OSError, doing: str) -> EnvironmentFaultError:
        """``"<doing>: <what the OS said> (<file>)"`` from an OS error."""
        where = f" ({err.filename})" if err.filename is not None else ""
        return cls(f"{doing}: {err.strerror or err}{where}")


#: errno values that mean the machine, not FieldRoute or its input, stopped a run.
ENVIRONMENT_ERRNOS = frozenset(
    code
    for code in (
        errno.ENOSPC,
        getattr(errno, "EDQUOT", errno.ENOSPC),
        errno.EFBIG,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EIO,
        errno.EMFILE,
        errno.ENFILE,
        errno.ENOMEM,
    )
)


def is_environment_fault(err: BaseException) -> bool:
    """True for an OS error of the machine (disk full, permissions ...), not of FieldRoute."""
    return (
        isinstance(err, OSError)
        and not isinstance(err, OptimizerError)
        and err.errno in ENVIRONMENT_ERRNOS
    )


class BookError(OptimizerError, OSError):
    """The case book's database cannot be used: missing, unreachable, busy or too old."""

    exit_code = 3


class SolverError(OptimizerError, RuntimeError):
    """The routing solver returned no assignment or an unexpected status."""

    exit_code = 4


class VerificationError(OptimizerError, AssertionError):
    """The independent verifier rejected a plan: a bug, never the user's fault."""

    exit_code = 1

    def __init__(self, violations: Iterable[str]) -> None:
        self.violations = tuple(violations)
        shown = "\n".join(f"- {v}" for v in self.violations[:20])
        super().__init__(f"the plan failed verification (this is a bug):\n{shown}")
