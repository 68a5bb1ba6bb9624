"""``fieldroute geocode visits.csv``: locate the rows of a file and write it back.

Every column and row is kept as it was; ``lat``, ``lon``, ``geo_source``,
``geo_quality`` and ``geo_problem`` are filled (added when missing) so a dispatcher
can review the answers in Excel. Rows that already had coordinates are left alone
(``geo_source`` = ``input``). Rows whose answer was flagged (coarse, outside the
service area) or not found keep ``lat``/``lon`` empty and say why in
``geo_problem``: planning from the written file gives the same verdict again
instead of routing a guess.

Standard-library ``csv`` rather than pandas: the file goes back cell for cell.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from optimizer.datums import CoordSystem, to_wgs84
from optimizer.domain import GeoPoint
from optimizer.errors import InputError, Issue
from optimizer.geocoding.base import Geocoder
from optimizer.geocoding.resolve import Place, locate_places
from optimizer.settings import GeocoderSettings

GEO_COLUMNS = ("lat", "lon", "geo_source", "geo_quality", "geo_problem")


@dataclass(frozen=True, slots=True)
class GeocodeReport:
    """Counts for the command's summary line."""

    rows: int
    given: int
    located: Counter[str]
    problems: int
    warnings: tuple[str, ...]

    def summary(self) -> str:
        found = ", ".join(f"{n} {q}" for q, n in sorted(self.located.items())) or "none"
        return (
            f"{self.rows} rows: {self.given} had coordinates, located {sum(self.located.values())} "
            f"({found}), {self.problems} with a problem (see geo_problem)"
        )


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = [dict(r) for r in reader]
            return list(reader.fieldnames or []), rows
    except FileNotFoundError:
        raise InputError([Issue(str(path), None, None, None, "file not found")]) from None
    except UnicodeDecodeError as err:
        problem = f"is not UTF-8 text ({err.reason}); save it from Excel as 'CSV UTF-8'"
        raise InputError([Issue(path.name, None, None, None, problem)]) from None
    except IsADirectoryError:
        problem = "is a folder; expected a visits file (.csv)"
        raise InputError([Issue(path.name, None, None, None, problem)]) from None
    except OSError as err:
        problem = f"cannot be read ({err.strerror})"
        raise InputError([Issue(path.name, None, None, None, problem)]) from None


def _given_point(
    row: dict[str, str], row_no: int, source: str, default: CoordSystem, issues: list[Issue]
) -> GeoPoint | None:
    lat, lon = (row.get("lat") or "").strip(), (row.get("lon") or "").strip()
    if not lat and not lon:
        return None
    try:
        system = (
            CoordSystem.parse(row["coord_system"])
            if (row.get("coord_system") or "").strip()
            else default
        )
        return to_wgs84(float(lat), float(lon), system)
    except ValueError as err:
        problem = f"is not a usable pair of coordinates ({err}); expected decimal degrees, or leave both empty to geocode the address"
        issues.append(Issue(source, row_no, "lat", f"{lat},{lon}", problem))
        return None


def geocode_file(
    path: Path,
    out: Path,
    geocoder: Geocoder,
    settings: GeocoderSettings,
    *,
    bases: Sequence[GeoPoint] = (),
) -> GeocodeReport:
    """Locate ``path``'s rows and write the file with the geo columns to ``out``.

    Raises
    ------
    InputError
        The file is missing, has no ``address`` column or has bad coordinates.
    GeocodingServiceError
        The provider could not be asked; nothing is written, answers are cached.
    """
    columns, rows = _read_rows(path)
    source = path.name
    if "address" not in columns:
        found = ", ".join(columns) or "(none)"
        raise InputError(
            [Issue(source, None, None, None, f"missing column 'address'; found: {found}")]
        )
    issues: list[Issue] = []
    default = CoordSystem.parse(settings.coord_system)
    places = []
    for row_no, row in enumerate(rows, start=2):
        visit_id = (row.get("visit_id") or "").strip()
        key = f"{visit_id} (row {row_no})" if visit_id else f"row {row_no}"  # unique
        given = _given_point(row, row_no, source, default, issues)
        places.append(Place(key, row.get("address") or "", given))
    if issues:
        raise InputError(issues)
    outcomes, warnings = locate_places(
        places,
        geocoder,
        accept_coarse=settings.accept_coarse,
        service_bbox=settings.service_bbox,
        service_radius_km=settings.service_radius_km,
        bases=bases,
    )
    located: Counter[str] = Counter()
    n_given = problems = 0
    for row, place in zip(rows, places, strict=True):
        outcome = outcomes[place.key]
        if place.given is not None:
            n_given += 1
            row.setdefault("geo_source", "input")
            row["geo_source"] = row["geo_source"] or "input"
            row["geo_problem"] = outcome.reason or ""
            problems += outcome.reason is not None
            continue
        answer = outcome.answer
        row["geo_source"] = answer.source if answer else ""
        row["geo_quality"] = answer.quality.value if answer else ""
        row["geo_problem"] = outcome.reason or ""
        if outcome.point is not None:
            row["lat"], row["lon"] = f"{outcome.point.lat:.7f}", f"{outcome.point.lon:.7f}"
            if "coord_system" in row:
                row["coord_system"] = CoordSystem.WGS84.value  # answers are WGS-84
            located[answer.quality.value if answer else "?"] += 1
        else:
            row["lat"] = row["lon"] = ""
            problems += 1
    fieldnames = columns + [c for c in GEO_COLUMNS if c not in columns]
    _write_atomically(out, fieldnames, rows)
    return GeocodeReport(len(rows), n_given, located, problems, tuple(warnings))


def _write_atomically(out: Path, fieldnames: list[str], rows: list[dict[str, str]]) -> None:
    """Write next to ``out`` and rename: an interrupted run never leaves half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        # utf-8-sig: Excel then shows accents and Chinese correctly on opening.
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fieldnames, extrasaction="ignore")
            writer.writeheader()
            writer.writerows({k: (v if v is not None else "") for k, v in r.items()} for r in rows)
        Path(tmp).replace(out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
