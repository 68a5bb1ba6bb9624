"""Command line: ``fieldroute plan visits.csv agents.csv [--date ...]``.

The only module that prints and exits. Exit codes: 0 ok; 1 internal error (a bug);
2 bad input or settings; 3 geocoding or road-data service; 4 solver returned nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
import zoneinfo
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from optimizer import __version__
from optimizer.errors import ConfigurationError, InputError, OptimizerError
from optimizer.settings import Settings

logger = logging.getLogger("optimizer")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fieldroute",
        description="Plan a day of field visits for a team of agents.",
    )
    parser.add_argument("--version", action="version", version=f"fieldroute {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = sub.add_parser("plan", help="plan a day from visits and agents files")
    inputs = plan.add_argument_group("inputs")
    inputs.add_argument("visits", type=Path, help="visits file (.csv or .xlsx)")
    inputs.add_argument("agents", type=Path, help="agents file (.csv or .xlsx)")
    inputs.add_argument(
        "--date",
        help="plan date YYYY-MM-DD (default: tomorrow in the configured time zone)",
    )
    inputs.add_argument("--config", type=Path, help="settings file (TOML); see README 'Settings'")
    out = plan.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        help="output folder (default: <output_dir>/<date>, i.e. maps/<date>)",
    )
    out.add_argument("-q", "--quiet", action="store_true", help="print only the output paths")
    out.add_argument("-v", "--verbose", action="store_true", help="log each step")
    solver = plan.add_argument_group("solver")
    solver.add_argument("--time-limit", type=float, help="seconds of search (default 10)")
    solver.add_argument("--strict", action="store_true", help="exit 4 when any visit is unassigned")
    _geocoding_options(plan)

    geocode = sub.add_parser(
        "geocode",
        help="locate the addresses of a visits file and write lat/lon back",
        description=(
            "Locate rows that have an address but no lat/lon and write the file back with "
            "lat, lon, geo_source, geo_quality and geo_problem columns for review."
        ),
    )
    geocode.add_argument("visits", type=Path, help="visits file (.csv)")
    geocode.add_argument(
        "--out", type=Path, help="where to write (default: overwrite the input file)"
    )
    geocode.add_argument("--config", type=Path, help="settings file (TOML); see README")
    geocode.add_argument(
        "--agents", type=Path, help="agents file: bases for [geocoder] service_radius_km"
    )
    geocode.add_argument("-v", "--verbose", action="store_true", help="log each row's outcome")
    _geocoding_options(geocode)

    gazetteer = sub.add_parser("gazetteer", help="offline gazetteer tools")
    gaz_sub = gazetteer.add_subparsers(dest="gazetteer_command", required=True, metavar="ACTION")
    build = gaz_sub.add_parser(
        "build", help="make a gazetteer CSV from an OpenStreetMap extract (.osm.pbf)"
    )
    build.add_argument("pbf", type=Path, help="OpenStreetMap extract, e.g. region.osm.pbf")
    build.add_argument(
        "--out",
        type=Path,
        help="gazetteer CSV to write (default: [geocoder] gazetteer_path, data/gazetteer.csv)",
    )
    build.add_argument("--config", type=Path, help="settings file (TOML)")

    bench = sub.add_parser("bench", help="run the benchmarks (see docs/benchmarks.md)")
    bench.add_argument("--quick", action="store_true", help="small sizes only (smoke run)")
    return parser


def _geocoding_options(parser: argparse.ArgumentParser) -> None:
    geo = parser.add_argument_group("geocoding (see README 'Addresses')")
    geo.add_argument(
        "--offline",
        action="store_true",
        help="no network: online providers answer from the cache only",
    )
    geo.add_argument(
        "--accept-coarse",
        action="store_true",
        help="route addresses found only at district or city level",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code so tests can call it directly."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "plan":
            return _plan(args)
        if args.command == "geocode":
            return _geocode(args)
        if args.command == "gazetteer":
            return _gazetteer_build(args)
        if args.command == "bench":
            from optimizer.bench import run_bench

            return run_bench(quick=args.quick)
    except (InputError, ConfigurationError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OptimizerError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        logger.exception("unexpected error")
        print(
            "error: FieldRoute stopped on an unexpected error; this is a bug, please report it with the log above",
            file=sys.stderr,
        )
        return 1
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_toml(args.config) if args.config else Settings()
    if getattr(args, "accept_coarse", False):
        settings = replace(settings, geocoder=replace(settings.geocoder, accept_coarse=True))
    if getattr(args, "time_limit", None) is not None:
        try:
            settings = replace(
                settings, solver=replace(settings.solver, time_limit_s=args.time_limit)
            )
        except ConfigurationError as err:
            msg = f"--time-limit: {err}"
            raise ConfigurationError(msg) from None
    return settings


def _plan_date(text: str | None, timezone: str) -> dt.date:
    if text is None:
        return dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date() + dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"--date {text!r} is not a date; expected YYYY-MM-DD"
        raise ConfigurationError(msg) from None


def _plan(args: argparse.Namespace) -> int:
    from optimizer.export import check_writable, write_plan
    from optimizer.geocoding import open_geocoder
    from optimizer.geocoding.coords import CoordSystem
    from optimizer.load import read_inputs
    from optimizer.maps import save_maps
    from optimizer.pipeline import plan_day
    from optimizer.report import summary_table

    settings = _settings(args)
    date = _plan_date(args.date, settings.timezone)
    out: Path = args.out or Path(settings.output_dir) / date.isoformat()
    try:
        check_writable(out)
    except PermissionError as err:
        raise ConfigurationError(str(err)) from None
    inputs = read_inputs(
        args.visits, args.agents, coord_system=CoordSystem.parse(settings.geocoder.coord_system)
    )
    progress = _Progress() if sys.stderr.isatty() and not args.quiet else None
    with open_geocoder(settings.geocoder, offline=args.offline) as geocoder:
        day = plan_day(
            inputs.visits,
            inputs.agents,
            settings,
            date=date,
            on_progress=progress,
            geocoder=geocoder,
            agents_source=args.agents.name,
        )
    if progress is not None:
        progress.done()
    if day.geocoding is not None and day.geocoding.lookups and not args.quiet:
        geo = day.geocoding
        print(
            f"Geocoding: {len(geo.answers)} addresses answered, "
            f"{len(geo.unlocated)} visits could not be located (see unassigned)"
        )
    paths = write_plan(day, out, renderers=[save_maps])
    if not args.quiet:
        print(summary_table(day))
        print()
        print(f"Wrote {len(paths)} files to {out}/ :")
    for p in paths:
        print(f"  {p}")
    if args.strict and day.plan.unassigned:
        print(
            f"error: {len(day.plan.unassigned)} visits unassigned (--strict)",
            file=sys.stderr,
        )
        return 4
    return 0


def _geocode(args: argparse.Namespace) -> int:
    from optimizer.geocoding import open_geocoder
    from optimizer.geocoding.coords import CoordSystem
    from optimizer.geocoding.table import geocode_file

    settings = _settings(args)
    bases = []
    if args.agents is not None:
        from optimizer.load import parse_agents, read_table

        coord_system = CoordSystem.parse(settings.geocoder.coord_system)
        agents = parse_agents(read_table(args.agents), args.agents.name, coord_system=coord_system)
        bases = [p for a in agents for p in (a.start, a.end) if p is not None]
    out: Path = args.out or args.visits
    with open_geocoder(settings.geocoder, offline=args.offline) as geocoder:
        report = geocode_file(args.visits, out, geocoder, settings.geocoder, bases=bases)
    print(report.summary())
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Wrote {out}")
    return 0


def _gazetteer_build(args: argparse.Namespace) -> int:
    from optimizer.geocoding.gazetteer import write_gazetteer
    from optimizer.geocoding.osmextract import build_gazetteer

    settings = Settings.from_toml(args.config) if args.config else Settings()
    out: Path = args.out or Path(settings.geocoder.gazetteer_path)
    entries, report = build_gazetteer(args.pbf)
    n = write_gazetteer(entries, out)
    print(
        f"Wrote {n} rows to {out}: {report.addresses} addresses, {report.places} places, "
        f"{report.pois} points of interest, {report.streets} streets "
        f"({report.skipped_duplicates} duplicates skipped). "
        "Data (c) OpenStreetMap contributors, ODbL."
    )
    return 0


class _Progress:
    """One status line on a terminal: elapsed time and the best plan so far."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, elapsed: float, objective: int, served: int) -> None:
        now = time.monotonic()
        if now - self.last >= 0.5:
            self.last = now
            print(
                f"\r  searching {elapsed:5.1f} s  best plan so far serves {served} visits",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def done(self) -> None:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
