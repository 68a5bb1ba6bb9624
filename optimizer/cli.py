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
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from optimizer import __version__
from optimizer.errors import ConfigurationError, InputError, OptimizerError
from optimizer.settings import Settings
from optimizer.travel.base import ROAD_PROFILES

if TYPE_CHECKING:
    from optimizer.day import DayPlan
    from optimizer.domain import GeoPoint

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
    inputs.add_argument(
        "--days",
        type=int,
        help="plan this many working days from --date at once ([horizon] workdays; "
        "README 'Planning several days')",
    )
    inputs.add_argument(
        "--keep-published",
        type=int,
        default=1,
        metavar="K",
        help="with --days: the first K days keep the visits and agents of the previous "
        "run's horizon.json in --out (default 1; 0 re-plans every day)",
    )
    inputs.add_argument("--config", type=Path, help="settings file (TOML); see README 'Settings'")
    out = plan.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        help="output folder (default: <output_dir>/<date>, i.e. maps/<date>)",
    )
    out.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="language of the agent pages, overview map, calendars and borrower notices (default: notices.lang in the config, zh)",
    )
    out.add_argument(
        "--share",
        action="store_true",
        help="make the outputs readable by other users (default: owner only, 0700/0600)",
    )
    out.add_argument("-q", "--quiet", action="store_true", help="print only the output paths")
    out.add_argument("-v", "--verbose", action="store_true", help="log each step")
    solver = plan.add_argument_group("solver")
    solver.add_argument("--time-limit", type=float, help="seconds of search (default 10)")
    solver.add_argument("--strict", action="store_true", help="exit 4 when any visit is unassigned")
    solver.add_argument("--seed", type=int, help="seed of the randomised searches (default 0)")
    solver.add_argument(
        "--deterministic",
        action="store_true",
        help="stop on a work limit, not the clock: same input and flags, same plan",
    )
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

    _add_replan_parsers(sub)

    roads = sub.add_parser("roads", help="prepare road data for real travel times (OSRM)")
    roads_sub = roads.add_subparsers(dest="roads_command", required=True, metavar="ACTION")
    build = roads_sub.add_parser(
        "build",
        help="prepare an OpenStreetMap extract for routing (osrm-extract + osrm-contract)",
        description=(
            "Prepare an OpenStreetMap extract for routing. Name the extract and the "
            "output folder in fieldroute.toml ([roads] extract = ..., dir = ...) to plan "
            "on road travel times; `fieldroute plan` also builds it on first use."
        ),
    )
    build.add_argument("extract", type=Path, help="OpenStreetMap extract (.osm.pbf)")
    build.add_argument(
        "--profile",
        action="append",
        choices=ROAD_PROFILES,
        help="car, bicycle (e-bike agents) or foot (walking agents); repeat for several "
        "(default: all three)",
    )
    build.add_argument(
        "--out",
        type=Path,
        default=Path("roads"),
        help="folder for the prepared data, one sub-folder per profile (default: roads/)",
    )

    bench = sub.add_parser("bench", help="run the benchmarks (see docs/benchmarks.md)")
    bench.add_argument("--quick", action="store_true", help="one Solomon instance, 2 s (smoke run)")
    bench.add_argument(
        "--set",
        dest="sets",
        action="append",
        choices=("solomon", "gh200", "gh400", "field"),
        help="benchmark set (repeatable; default: solomon, gh200 and field)",
    )
    bench.add_argument(
        "--per-family", type=int, default=1, help="instances per family (0: all; default 1)"
    )
    bench.add_argument(
        "--skip", type=int, default=0, help="skip the first N instances of each family"
    )
    bench.add_argument("--instance", dest="instances", action="append", help="instance name")
    bench.add_argument(
        "--time-limit", type=float, help="seconds per literature instance (default 10 / 30 for GH)"
    )
    bench.add_argument(
        "--engine",
        dest="engines",
        action="append",
        choices=("fieldroute", "vroom", "pyvrp"),
        help="engine (repeatable; default all three)",
    )
    bench.add_argument(
        "--seeds",
        type=int,
        default=3,
        help="field-day seeds: the first N hold-out seeds 1, 2, 5, 6, ... (default 3)",
    )
    bench.add_argument(
        "--field-seed",
        dest="field_seeds",
        type=int,
        action="append",
        help="run this field-day seed instead (repeatable; 3 and 4 are the tuning seeds)",
    )
    bench.add_argument(
        "--day",
        dest="days",
        action="append",
        choices=("80/5", "300/15", "1000/50", "1500/60"),
        help="field day size (repeatable; default all four)",
    )
    bench.add_argument(
        "--no-vroom-unbounded",
        action="store_true",
        help="skip VROOM's run without a time limit on field days",
    )
    bench.add_argument("--workers", type=int, help="FieldRoute searches in parallel (1 or 2)")
    bench.add_argument(
        "--balance",
        choices=("none", "visits", "utilisation"),
        help="FieldRoute's [solver] balance (default none)",
    )
    bench.add_argument("--root", type=Path, help="instances folder (default ../shared/benchmarks)")
    bench.add_argument("--markdown", type=Path, help="also write the tables to this file")
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


def _bench(args: argparse.Namespace) -> int:
    from optimizer.bench.run import HOLDOUT_SEEDS, run_bench

    options: dict[str, object] = {
        "per_family": args.per_family or None,
        "skip": args.skip,
        "seeds": tuple(args.field_seeds or HOLDOUT_SEEDS[: args.seeds]),
        "vroom_unbounded": not args.no_vroom_unbounded,
        "command": "fieldroute "
        + " ".join(sys.argv[1:] if sys.argv[1:2] == ["bench"] else ["bench"]),
    }
    if args.sets:
        options["sets"] = tuple(args.sets)
    if args.instances:
        options["instances"] = tuple(args.instances)
    if args.time_limit:
        options["time_limit_s"] = args.time_limit
    if args.engines:
        options["engines"] = tuple(args.engines)
    if args.days:
        options["field_days"] = tuple(args.days)
    if args.root:
        options["root"] = args.root
    if args.markdown:
        options["markdown"] = args.markdown
    solver = Settings().solver
    if args.workers:
        solver = replace(solver, workers=args.workers)
    if args.balance:
        solver = replace(solver, balance=args.balance)
    options["solver"] = solver
    return run_bench(quick=args.quick, **options)


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
        if args.command == "roads":
            return _roads_build(args)
        if args.command == "geocode":
            return _geocode(args)
        if args.command == "gazetteer":
            return _gazetteer_build(args)
        if args.command in ("replan", "slots"):
            return _replan_or_slots(args)
        if args.command == "bench":
            return _bench(args)
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
    if getattr(args, "seed", None) is not None:
        try:
            settings = replace(settings, solver=replace(settings.solver, seed=args.seed))
        except ConfigurationError as err:
            msg = f"--seed: {err}"
            raise ConfigurationError(msg) from None
    if getattr(args, "deterministic", False):
        settings = replace(settings, solver=replace(settings.solver, deterministic=True))
    if getattr(args, "lang", None) is not None:
        settings = replace(settings, notices=replace(settings.notices, lang=args.lang))
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
    from optimizer.datums import CoordSystem
    from optimizer.geocoding import open_geocoder
    from optimizer.inputs.load import read_inputs
    from optimizer.outputs.export import write_calendars, write_notices, write_plan
    from optimizer.outputs.folder import check_writable
    from optimizer.outputs.maps import save_maps
    from optimizer.outputs.summary import summary_table
    from optimizer.pipeline import plan_day, travel_provider

    settings = _settings(args)
    date = _plan_date(args.date, settings.timezone)
    if args.days is not None:
        return _plan_horizon(args, settings, date)
    out: Path = args.out or Path(settings.output_dir) / date.isoformat()
    try:
        check_writable(out)
    except PermissionError as err:
        raise ConfigurationError(str(err)) from None
    inputs = read_inputs(
        args.visits, args.agents, coord_system=CoordSystem.parse(settings.geocoder.coord_system)
    )
    travel = travel_provider(settings, None if args.quiet else _print_err)
    progress = _Progress() if sys.stderr.isatty() and not args.quiet else None
    with open_geocoder(settings.geocoder, offline=args.offline) as geocoder:
        day = plan_day(
            inputs.visits,
            inputs.agents,
            settings,
            date=date,
            travel=travel,
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
    paths = write_plan(
        day, out, renderers=[save_maps, write_calendars, write_notices], share=args.share
    )
    if not args.quiet:
        print(summary_table(day))
        print()
        print(f"Wrote {len(paths)} files to {out}/ :")
    for p in paths:
        if p.parent.name != "notices":
            print(f"  {p}")
    notice_files = sum(p.parent.name == "notices" for p in paths)
    if notice_files:
        print(f"  {out / 'notices'}/ ({notice_files} notices, one per routed visit)")
    if not settings.notices.desk_phone:
        print(
            "warning: notices name no dispatch desk number; set [notices] desk_phone in the config",
            file=sys.stderr,
        )
    if args.strict and day.plan.unassigned:
        print(
            f"error: {len(day.plan.unassigned)} visits unassigned (--strict)",
            file=sys.stderr,
        )
        return 4
    return 0


def _plan_horizon(args: argparse.Namespace, settings: Settings, first: dt.date) -> int:
    from optimizer.datums import CoordSystem
    from optimizer.geocoding import open_geocoder
    from optimizer.horizon import horizon_dates, plan_horizon
    from optimizer.inputs.load import read_inputs
    from optimizer.outputs.export import write_calendars, write_horizon, write_notices
    from optimizer.outputs.folder import check_writable
    from optimizer.outputs.maps import save_maps
    from optimizer.pipeline import travel_provider
    from optimizer.reopen import read_published

    if not 1 <= args.days <= 31:
        msg = f"--days {args.days} is out of range; expected 1 to 31 working days"
        raise ConfigurationError(msg)
    dates = horizon_dates(first, args.days, settings.horizon.weekdays)
    out: Path = args.out or Path(settings.output_dir) / f"{first.isoformat()}+{args.days}d"
    try:
        check_writable(out)
    except PermissionError as err:
        raise ConfigurationError(str(err)) from None
    inputs = read_inputs(
        args.visits, args.agents, coord_system=CoordSystem.parse(settings.geocoder.coord_system)
    )
    if not 0 <= args.keep_published <= args.days:
        msg = f"--keep-published {args.keep_published} is out of range; expected 0 to --days"
        raise ConfigurationError(msg)
    published_path = out / "horizon.json"
    previous = read_published(published_path) if published_path.exists() else {}
    travel = travel_provider(settings, None if args.quiet else _print_err)
    with open_geocoder(settings.geocoder, offline=args.offline) as geocoder:
        horizon = plan_horizon(
            inputs.visits,
            inputs.agents,
            settings,
            dates=dates,
            travel=travel,
            geocoder=geocoder,
            agents_source=args.agents.name,
            keep=previous,
            published=args.keep_published if previous else 0,
            previous_days={vid: day for vid, (day, _) in previous.items()},
        )
    paths = write_horizon(
        horizon,
        out,
        renderers=[save_maps, write_calendars, write_notices],
        timezone=settings.timezone,
        share=args.share,
        previous={vid: day for vid, (day, _) in previous.items()},
    )
    if not args.quiet:
        for day in horizon.days:
            print(
                f"{day.plan.date}: {len(day.plan.assigned_ids)} visits in {len(day.plan.routes)} routes"
            )
        print(f"unassigned: {len(horizon.unassigned)} (reasons in horizon.csv)")
        if previous:
            moved = sum(
                1
                for e in horizon.entries
                if e.visit_id in previous and e.date != previous[e.visit_id][0]
            )
            print(
                f"{moved} of {len(previous)} previously planned visits changed day "
                "(day_changed in horizon.csv: they need a new notice)"
            )
        print(f"Wrote {len(paths)} files to {out}/ :")
    for p in paths:
        if p.parent == out:
            print(f"  {p}")
    for day in horizon.days:
        print(f"  {out / day.plan.date.isoformat()}/")
    if args.strict and horizon.unassigned:
        print(f"error: {len(horizon.unassigned)} visits unassigned (--strict)", file=sys.stderr)
        return 4
    return 0


def _print_err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _roads_build(args: argparse.Namespace) -> int:
    from optimizer.travel.prepare import build_roads

    profiles = list(dict.fromkeys(args.profile or ROAD_PROFILES))
    started = time.monotonic()
    built = [build_roads(args.extract, p, args.out, _print_err) for p in profiles]
    print(f"Road data ready in {time.monotonic() - started:.1f} s:")
    for path in built:
        print(f"  {path}")
    # Paths in a TOML file are read from the file's folder, which is not known here:
    # absolute paths work wherever the snippet is pasted.
    extract, folder = args.extract.resolve().as_posix(), args.out.resolve().as_posix()
    print(
        "To plan on road times, name it in fieldroute.toml (absolute paths, so they hold "
        "wherever that file lives):\n"
        f'  [roads]\n  extract = "{extract}"\n  dir = "{folder}"\n'
        f"  profiles = [{', '.join(repr(p).replace(chr(39), chr(34)) for p in profiles)}]"
    )
    return 0


def _geocode(args: argparse.Namespace) -> int:
    from optimizer.datums import CoordSystem
    from optimizer.geocoding import open_geocoder
    from optimizer.geocoding.table import geocode_file

    settings = _settings(args)
    bases = []
    if args.agents is not None:
        from optimizer.inputs.load import parse_agents, read_table

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


# --- replan and slots (issue 7) ---------------------------------------------------------


def _add_replan_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rp = sub.add_parser("replan", help="re-plan the rest of the day from --now after events")
    rp.add_argument("plan_json", type=Path, help="plan.json of a plan folder")
    rp.add_argument("--events", type=Path, help="events.csv (see README 'Re-planning')")
    rp.add_argument("--now", required=True, help="HH:MM: nothing before this moves")
    rp.add_argument("--out", type=Path, help="output folder (default: <plan folder>-replan-HHMM)")
    rp.add_argument("--time-limit", type=float, help="seconds of search (default [replan] 5)")
    sp = sub.add_parser("slots", help="windows that can still be promised to a new borrower")
    sp.add_argument("plan_json", type=Path, help="plan.json of a plan folder")
    where = sp.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--address", help="the borrower's address, located as `plan` does ([geocoder])"
    )
    where.add_argument("--lat", type=float, help="WGS-84 latitude of the borrower (with --lon)")
    sp.add_argument("--lon", type=float, help="WGS-84 longitude of the borrower (with --lat)")
    sp.add_argument("--duration", type=float, required=True, help="minutes on site")
    sp.add_argument("--skills", default="", help="required skills, ';'-separated")
    sp.add_argument("--window-width", type=int, default=60, help="minutes (default 60)")
    sp.add_argument("--now", help="HH:MM: offer only windows from now on")
    sp.add_argument("--date", help="YYYY-MM-DD; must match the plan's date when given")
    _geocoding_options(sp)


def _hhmm_option(name: str, text: str | None) -> int | None:
    from optimizer.clock import parse_hhmm

    if text is None:
        return None
    try:
        return parse_hhmm(text)
    except ValueError as err:
        msg = f"{name} {text!r} {err}"
        raise ConfigurationError(msg) from None


def _replan_or_slots(args: argparse.Namespace) -> int:
    from optimizer.reopen import open_plan

    day = open_plan(args.plan_json)
    if args.command == "slots":
        return _slots(args, day)
    return _replan(args, day)


def _replan(args: argparse.Namespace, day: object) -> int:
    from optimizer.day import DayPlan
    from optimizer.inputs.events import read_events
    from optimizer.outputs.export import write_calendars, write_notices, write_plan, write_rows_csv
    from optimizer.outputs.folder import check_writable
    from optimizer.outputs.maps import save_maps
    from optimizer.replan import changed_routes, changes_rows, diff_text, replan

    assert isinstance(day, DayPlan)
    now = _hhmm_option("--now", args.now)
    assert now is not None
    events = (
        read_events(
            args.events,
            visit_ids={v.visit_id for v in day.visits},
            agent_ids={a.agent_id for a in day.agents},
        )
        if args.events
        else ()
    )
    out: Path = args.out or args.plan_json.parent.with_name(
        f"{args.plan_json.parent.name}-replan-{args.now.replace(':', '')}"
    )
    try:
        check_writable(out)
    except PermissionError as err:
        raise ConfigurationError(str(err)) from None
    solver = None
    if args.time_limit is not None:
        try:
            solver = replace(day.settings.solver, time_limit_s=args.time_limit)
        except ConfigurationError as err:
            msg = f"--time-limit: {err}"
            raise ConfigurationError(msg) from None
    result = replan(day, events, now, solver=solver)

    def write_changes(_: DayPlan, folder: Path) -> list[Path]:
        path = folder / "changes.csv"
        columns = [
            "visit_id",
            "change",
            "old_agent",
            "new_agent",
            "old_start",
            "new_start",
            "told_window",
            "notify",
            "reason",
        ]
        write_rows_csv(changes_rows(result.changes), columns, path)
        return [path]

    # Only what changed gets a new page, calendar or notice; the others stand.
    changed_agents = changed_routes(day.plan, result.day.plan)
    notify = {c.visit_id for c in result.changes if c.notify}
    renderers: list[Callable[[DayPlan, Path], list[Path]]] = [
        write_changes,
        partial(save_maps, agents=changed_agents),
        partial(write_calendars, agents=changed_agents),
        partial(write_notices, visits=notify),
    ]
    paths = write_plan(result.day, out, renderers=renderers)
    print(diff_text(result))
    print(f"Wrote {len(paths)} files to {out}/ (changes in {out / 'changes.csv'})")
    print(
        f"New pages and calendars for {len(changed_agents)} agent(s) whose route changed, "
        f"new notices for {len(notify)} borrower(s); the others stand as they were."
    )
    return 0


def _slot_location(args: argparse.Namespace, day: DayPlan) -> GeoPoint:
    """The new borrower's point: --lat/--lon, or --address located as `plan` does."""
    from optimizer.domain import GeoPoint
    from optimizer.geocoding import open_geocoder
    from optimizer.geocoding.resolve import Place, locate_places

    if args.address is None:
        if args.lon is None:
            msg = "--lat needs --lon (or give --address)"
            raise ConfigurationError(msg)
        try:
            return GeoPoint(args.lat, args.lon)
        except ValueError as err:
            raise ConfigurationError(f"--lat/--lon: {err}") from None
    if args.lon is not None:
        msg = "--lon goes with --lat, not with --address"
        raise ConfigurationError(msg)
    geo = day.settings.geocoder
    bases = [p for a in day.agents for p in (a.start, a.end_point) if p is not None]
    with open_geocoder(geo, offline=args.offline) as geocoder:
        outcomes, _ = locate_places(
            [Place("--address", args.address)],
            geocoder,
            accept_coarse=geo.accept_coarse or args.accept_coarse,
            service_bbox=geo.service_bbox,
            service_radius_km=geo.service_radius_km,
            bases=bases,
        )
    outcome = outcomes["--address"]
    if outcome.point is None:
        msg = f"--address: {outcome.reason}"
        raise ConfigurationError(msg)
    return outcome.point


def _slots(args: argparse.Namespace, day: object) -> int:
    from optimizer.clock import parse_list
    from optimizer.day import DayPlan
    from optimizer.slots import format_slots, offer_slots, outside_service_area, why_no_slot

    assert isinstance(day, DayPlan)
    if args.date is not None and _plan_date(args.date, day.plan.timezone) != day.plan.date:
        msg = f"--date {args.date} is not the plan's date {day.plan.date.isoformat()}"
        raise ConfigurationError(msg)
    location = _slot_location(args, day)
    if (outside := outside_service_area(day, location)) is not None:
        msg = f"{'--address' if args.address else '--lat/--lon'}: {outside}"
        raise ConfigurationError(msg)
    if not 0 < args.duration <= 24 * 60 or not 0 < args.window_width <= 24 * 60:
        msg = "--duration and --window-width must be minutes in (0, 1440]"
        raise ConfigurationError(msg)
    offer = offer_slots(
        day,
        location,
        int(args.duration * 60),
        frozenset(parse_list(args.skills)),
        window_width_s=args.window_width * 60,
        now_s=_hhmm_option("--now", args.now),
    )
    skills = frozenset(parse_list(args.skills))
    why = why_no_slot(day, int(args.duration * 60), skills, args.window_width * 60)
    print(format_slots(offer, why=why))
    return 0
