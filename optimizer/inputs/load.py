"""Reading visits and agents: ``read_*`` opens a file, ``parse_*`` is pure.

Every problem is collected as an :class:`~optimizer.errors.Issue` naming the file, the
spreadsheet row (header = 1) and the column, then raised once as an InputError.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd

from optimizer import clock as timeparse
from optimizer.datums import CoordSystem, to_wgs84
from optimizer.domain import Agent, BreakRule, DaySet, GeoPoint, Mode, TimeWindow, Visit
from optimizer.errors import InputError, Issue, looks_personal
from optimizer.inputs.schema import AGENT_COLUMNS, VISIT_COLUMNS, Column, starts_like_formula
from optimizer.phones import parse_phone

T = TypeVar("T")
DEFAULT_DURATION_MIN = "30"


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 with BOM or GB18030) or .xlsx file as strings.

    Rows keep their spreadsheet numbers in the index (header = 1), blank lines included,
    so that messages point at the right row.
    """
    source = path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Issue(source, None, None, None, f"file not found: {path}")]) from None
    except OSError as err:
        raise InputError(
            [Issue(source, None, None, None, f"cannot be read ({err.strerror})")]
        ) from None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False)
        except Exception as err:  # openpyxl raises many unrelated types on a bad file
            problem = f"is not a readable .xlsx workbook ({type(err).__name__})"
            raise InputError([Issue(source, None, None, None, problem)]) from None
    else:
        text = _decode(raw, source)
        if not text.strip():
            raise InputError(
                [
                    Issue(
                        source,
                        None,
                        None,
                        None,
                        "file is empty; expected a header row and data rows",
                    )
                ]
            )
        if path.suffix.lower() != ".txt":
            _check_field_counts(text, source)
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                index_col=False,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                sep=None if path.suffix.lower() == ".txt" else ",",
                engine="python",
            )
        except pd.errors.ParserError as err:
            problem = f"is not a valid CSV file ({str(err).strip().splitlines()[-1]})"
            raise InputError([Issue(source, None, None, None, problem)]) from None
        frame = frame.map(restore_cell)
    frame = frame.fillna("")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(2, 2 + len(frame))
    return frame


def _check_field_counts(text: str, source: str) -> None:
    """Rows with more fields than the header, named before pandas guesses.

    Left alone, pandas takes one extra field on the first data row as a sign that the
    first column is an index, shifts every row and reports hundreds of wrong cells.
    """
    issues: list[Issue] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        for row, record in enumerate(reader, start=2):
            if len(record) > len(header):
                problem = f"has {len(record)} fields, the header {len(header)}; expected one field per column (a stray comma?)"
                issues.append(Issue(source, row, None, None, problem))
    except csv.Error:
        return  # pandas reports what the csv module could not read
    if issues:
        raise InputError(issues)


def restore_cell(value: object) -> object:
    """Undo :func:`optimizer.outputs.export.neutralise_cell`: ``'=1+1`` reads as ``=1+1``.

    A spreadsheet never stores that apostrophe itself (typed in Excel it only marks the
    cell as text), so in a CSV it is the mark our writer added; the rule is exact both
    ways, and re-reading a plan's ``inputs/`` gives back the values written.
    """
    if isinstance(value, str) and value.startswith("'") and starts_like_formula(value[1:]):
        return value[1:]
    return value


_SURROGATE = re.compile(r"[\udc80-\udcff]")


def _decode(raw: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) first; else GB18030, a superset of GBK that Excel in China writes.

    Decided by the evidence: a file with valid UTF-8 text and some rows that are not
    (one row pasted from a GBK export, a Latin-1 ``é``, a file cut mid-character) is
    UTF-8 with bad rows, named as input errors. Decoding it whole as GB18030 would turn
    every other name and address into mojibake, silently.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    utf8 = bad = 0
    for line in raw.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8-sig")
            utf8 += 1
        except UnicodeDecodeError:
            bad += 1
    if utf8 <= bad:  # mostly not UTF-8: a GBK/GB18030 file, as Excel in China writes
        return raw.decode("gb18030", errors="replace")
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    issues = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        if any(_SURROGATE.search(h) for h in header):
            issues.append(Issue(source, 1, None, None, _NOT_UTF8))
        for row, record in enumerate(reader, start=2):
            for k, cell in enumerate(record):
                if _SURROGATE.search(cell):
                    column = header[k] if k < len(header) else None
                    issues.append(Issue(source, row, column, None, _NOT_UTF8))
    except csv.Error:
        pass
    if not issues:
        issues.append(Issue(source, None, None, None, _NOT_UTF8))
    raise InputError(issues)


_NOT_UTF8 = (
    "is not UTF-8 text although the rest of the file is (pasted from a GBK or Latin-1 "
    "source, or the file is cut short?); re-type it or save the whole file as 'CSV UTF-8'"
)


#: Columns of both files that hold personal data: never whole in an error line.
PERSONAL_COLUMNS = frozenset({"name", "phone", "address", "start_address", "end_address"})


class _RowReader:
    """Reads one row's cells, recording an Issue for every bad one."""

    def __init__(
        self,
        source: str,
        row: int,
        cells: Mapping[str, str],
        issues: list[Issue],
        coord_system: CoordSystem = CoordSystem.WGS84,
    ) -> None:
        self.source, self.row, self.cells, self.issues = source, row, cells, issues
        self.coord_system = coord_system
        if self.text("coord_system"):
            self.coord_system = self.parsed("coord_system", CoordSystem.parse, coord_system)

    def text(self, column: str) -> str:
        return str(self.cells.get(column, "")).strip()

    def problem(self, column: str, problem: str, *, value: str | None = None) -> None:
        shown = self.text(column) if value is None else value
        personal = column in PERSONAL_COLUMNS or looks_personal(shown)
        self.issues.append(Issue(self.source, self.row, column, shown, problem, personal))

    def parsed(self, column: str, parser: Callable[[str], T], default: T) -> T:
        text = self.text(column)
        if not text:
            return default
        try:
            return parser(text)
        except ValueError as err:
            self.problem(column, str(err))
            return default

    def phone(self, column: str = "phone") -> str:
        """The cell as typed, once its shape is a phone number's (pages dial only those)."""
        self.parsed(column, parse_phone, None)
        return self.text(column)

    def point(self, lat_col: str, lon_col: str) -> GeoPoint | None:
        lat_text, lon_text = self.text(lat_col), self.text(lon_col)
        if not lat_text and not lon_text:
            return None
        if not lat_text or not lon_text:
            missing = lat_col if not lat_text else lon_col
            other = lon_col if not lat_text else lat_col
            self.problem(missing, f"is empty while {other} is given; expected both or neither")
            return None
        lat = self.parsed(lat_col, lambda t: timeparse.parse_degrees(t, limit=90), None)
        lon = self.parsed(lon_col, lambda t: timeparse.parse_degrees(t, limit=180), None)
        if lat is None or lon is None:
            return None
        # GCJ-02/BD-09 columns become WGS-84 here, at the boundary, and nowhere else.
        return to_wgs84(lat, lon, self.coord_system)

    def window(self, start_col: str, end_col: str) -> TimeWindow | None:
        start = self.parsed(start_col, timeparse.parse_hhmm, None)
        end = self.parsed(end_col, timeparse.parse_hhmm, None)
        start_text, end_text = self.text(start_col), self.text(end_col)
        if bool(start_text) != bool(end_text):
            missing = start_col if not start_text else end_col
            other = end_col if not start_text else start_col
            self.problem(missing, f"is empty while {other} is given; expected both or neither")
            return None
        if start is None or end is None:
            return None
        if end < start:
            self.problem(
                end_col,
                f"ends ({timeparse.format_hhmm(end)}) before it starts ({timeparse.format_hhmm(start)}); "
                f"expected {end_col} >= {start_col}",
            )
            return None
        return TimeWindow(start, end)


def _rows(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, str]]]:
    """Non-blank rows with their spreadsheet numbers."""
    for row, record in zip(frame.index, frame.to_dict("records"), strict=True):
        cells = {str(k): str(v) for k, v in record.items()}
        if any(v.strip() for v in cells.values()):
            yield int(row), cells


def _check_columns(frame: pd.DataFrame, columns: Sequence[Column], source: str) -> list[Issue]:
    found = list(frame.columns)
    issues = [
        Issue(
            source,
            1,
            c.name,
            None,
            f"missing column '{c.name}'; found: {', '.join(found) or '(none)'}",
        )
        for c in columns
        if c.required and c.name not in found
    ]
    if not issues and not any(True for _ in _rows(frame)):
        issues.append(
            Issue(
                source,
                None,
                None,
                None,
                "has no data rows; expected one row per record under the header",
            )
        )
    return issues


_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def id_key(text: str) -> str:
    """How two ids compare: ``V0001``, ``v0001``, ``Ｖ０００１`` and ``V0001`` with a
    zero-width space look the same to a person, so they are the same id."""
    folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    return " ".join(folded.split())


def _unique_id(reader: _RowReader, column: str, seen: dict[str, int]) -> str:
    value = reader.text(column)
    key = id_key(value)
    if not value:
        reader.problem(column, "is empty; expected a unique id")
    elif key in seen:
        reader.problem(
            column,
            f"is a duplicate id (first seen on row {seen[key]}; ids differing only by "
            "case, width or invisible characters are the same); expected unique ids",
        )
    else:
        seen[key] = reader.row
    return value


def parse_visits(
    frame: pd.DataFrame, source: str, *, coord_system: CoordSystem = CoordSystem.WGS84
) -> tuple[Visit, ...]:
    """DataFrame of strings -> visits, or one InputError listing every problem.

    ``coord_system`` is the datum of lat/lon unless a row's ``coord_system`` says.
    """
    issues = _check_columns(frame, VISIT_COLUMNS, source)
    if issues:
        raise InputError(issues)
    known = {c.name for c in VISIT_COLUMNS}
    seen: dict[str, int] = {}
    visits: list[Visit] = []
    for row, cells in _rows(frame):
        r = _RowReader(source, row, cells, issues, coord_system)
        before = len(issues)
        visit_id = _unique_id(r, "visit_id", seen)
        location = r.point("lat", "lon")
        address = r.text("address")
        if location is None and not address and not (r.text("lat") or r.text("lon")):
            r.problem(
                "address",
                "is empty and so are lat/lon; expected an address or coordinates",
                value="",
            )
        window = r.window("window_start", "window_end")
        duration = r.parsed("duration_min", timeparse.parse_minutes, 30 * 60)
        priority = r.parsed("priority", lambda t: timeparse.parse_int(t, minimum=1), 1)
        demand = r.parsed("demand", lambda t: timeparse.parse_int(t, minimum=0), 0)
        due = r.parsed("due_date", timeparse.parse_date, None)
        earliest = r.parsed("earliest_date", timeparse.parse_date, None)
        if due is not None and earliest is not None and earliest > due:
            r.problem(
                "due_date",
                f"is before earliest_date ({earliest.isoformat()}); expected due_date >= earliest_date",
            )
        preferred: frozenset[int] = r.parsed(
            "preferred_days", timeparse.parse_weekdays, frozenset()
        )
        if len(issues) > before:
            continue
        visits.append(
            Visit(
                visit_id=visit_id,
                location=location,
                duration_s=duration,
                window=window,
                priority=priority,
                skills=frozenset(timeparse.parse_list(r.text("skills"))),
                pinned_agent=r.text("agent_id") or None,
                demand=demand,
                address=address,
                name=r.text("name"),
                phone=r.phone(),
                visit_type=r.text("visit_type"),
                documents=timeparse.parse_list(r.text("documents")),
                due_date=due,
                earliest_date=earliest,
                preferred_days=preferred,
                source_row=row,
                extra=tuple((k, v) for k, v in cells.items() if k not in known and v),
            )
        )
    if issues:
        raise InputError(issues)
    return tuple(visits)


def _mode(text: str) -> Mode:
    try:
        return Mode(text.lower())
    except ValueError:
        msg = f"is not a travel mode; expected one of: {', '.join(m.value for m in Mode)}"
        raise ValueError(msg) from None


def parse_agents(
    frame: pd.DataFrame, source: str, *, coord_system: CoordSystem = CoordSystem.WGS84
) -> tuple[Agent, ...]:
    """DataFrame of strings -> agents, or one InputError listing every problem.

    A base may be given as ``start_address``/``end_address`` instead of coordinates;
    :func:`optimizer.geocoding.resolve.locate` places it before planning.
    """
    issues = _check_columns(frame, AGENT_COLUMNS, source)
    if issues:
        raise InputError(issues)
    seen: dict[str, int] = {}
    agents: list[Agent] = []
    for row, cells in _rows(frame):
        r = _RowReader(source, row, cells, issues, coord_system)
        before = len(issues)
        agent_id = _unique_id(r, "agent_id", seen)
        start = r.point("start_lat", "start_lon")
        no_start = not (r.text("start_lat") or r.text("start_lon") or r.text("start_address"))
        if start is None and no_start:
            r.problem(
                "start_lat",
                "is empty; expected the latitude where the day starts "
                "(or a start_address to geocode)",
            )
        end = r.point("end_lat", "end_lon")
        shift = None
        for col in ("shift_start", "shift_end"):
            if not r.text(col):
                r.problem(col, "is empty; expected HH:MM")
        if r.text("shift_start") and r.text("shift_end"):
            shift = r.window("shift_start", "shift_end")
        break_rule = _break_rule(r)
        max_visits = r.parsed("max_visits", lambda t: timeparse.parse_int(t, minimum=0), None)
        capacity = r.parsed("capacity", lambda t: timeparse.parse_int(t, minimum=0), None)
        mode = r.parsed("mode", _mode, Mode.CAR)
        days_off = r.parsed("days_off", timeparse.parse_dayset, DaySet())
        if len(issues) > before or shift is None:
            continue
        agents.append(
            Agent(
                agent_id=agent_id,
                start=start,
                end=end,
                shift=shift,
                break_rule=break_rule,
                skills=frozenset(timeparse.parse_list(r.text("skills"))),
                max_visits=max_visits,
                capacity=capacity,
                mode=mode,
                name=r.text("name"),
                phone=r.phone(),
                start_address=r.text("start_address"),
                end_address=r.text("end_address"),
                days_off=days_off,
                source_row=row,
            )
        )
    if issues:
        raise InputError(issues)
    return tuple(agents)


def _break_rule(r: _RowReader) -> BreakRule | None:
    cols = ("break_start", "break_end", "break_min")
    given = [c for c in cols if r.text(c)]
    if not given:
        return None
    if len(given) < len(cols):
        missing = next(c for c in cols if c not in given)
        r.problem(
            missing,
            f"is empty while {', '.join(given)} given; expected all of {', '.join(cols)} or none",
        )
        return None
    window = r.window("break_start", "break_end")
    minutes = r.parsed("break_min", timeparse.parse_minutes, None)
    if window is None or minutes is None:
        return None
    return BreakRule(window, minutes)


def check_pins(visits: Sequence[Visit], agents: Sequence[Agent], source: str) -> None:
    """A visit pinned to an agent who is not in the roster is a typo: reject the file."""
    known = {a.agent_id for a in agents}
    issues = [
        Issue(
            source,
            v.source_row,
            "agent_id",
            v.pinned_agent,
            f"is not an agent in the agents file; expected one of: {', '.join(sorted(known))}",
        )
        for v in visits
        if v.pinned_agent is not None and v.pinned_agent not in known
    ]
    if issues:
        raise InputError(issues)


@dataclass(frozen=True, slots=True)
class Inputs:
    visits: tuple[Visit, ...]
    agents: tuple[Agent, ...]


def read_inputs(
    visits_path: Path, agents_path: Path, *, coord_system: CoordSystem = CoordSystem.WGS84
) -> Inputs:
    """Read and check both files; problems in both are reported together."""
    issues: list[Issue] = []
    visits: tuple[Visit, ...] = ()
    agents: tuple[Agent, ...] = ()
    try:
        visits = parse_visits(read_table(visits_path), visits_path.name, coord_system=coord_system)
    except InputError as err:
        issues += err.issues
    try:
        agents = parse_agents(read_table(agents_path), agents_path.name, coord_system=coord_system)
    except InputError as err:
        issues += err.issues
    if issues:
        raise InputError(issues)
    check_pins(visits, agents, visits_path.name)
    return Inputs(visits, agents)
