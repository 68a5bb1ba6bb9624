"""Command line: ``fieldroute plan visits.csv agents.csv [--date ...]``.

The only module that prints and exits. Exit codes: 0 ok; 1 internal error (a bug);
2 bad input or settings; 3 geocoding or road-data service; 4 solver returned nothing;
5 the machine stopped the run (disk full, folder not writable ...); 6 ``move`` /
``reoptimise``: the hand edit or the locks break a rule (nothing saved); 130 Ctrl-C;
143 SIGTERM (129 SIGHUP). SIGTERM and SIGHUP are turned into the same exception path
as Ctrl-C, so the staging folder and the solver's worker are cleaned up either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import signal
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer import __version__
from optimizer.errors import (
    MAX_ISSUES_SHOWN,
    ConfigurationError,
    EnvironmentFaultError,
    InputError,
    OptimizerError,
    is_environment_fault,
)
from optimizer.settings import Settings
from optimizer.travel.base import ROAD_PROFILES

if TYPE_CHECKING:
    from optimizer.day import DayPlan
    from optimizer.domain import GeoPoint
    from optimizer.plan import Plan

logger = logging.getLogger("optimizer")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fieldroute",
        description="Plan a day of field visits for a team of agents.",
    )
    parser.add_argument("--version", action="version", version=f"fieldroute {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = sub.add_parser(
        "plan", help="plan a day from visits and agents files, or from the case book (--book)"
    )
    inputs = plan.add_argument_group("inputs")
    inputs.add_argument("visits", type=Path, nargs="?", help="visits file (.csv or .xlsx)")
    inputs.add_argument("agents", type=Path, nargs="?", help="agents file (.csv or .xlsx)")
    inputs.add_argument(
        "--book",
        action="store_true",
        help="plan the book's pending visits instead of files, and store the plan in it",
    )
    _db_option(inputs)
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
    _regions_options(plan)

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
    _add_move_parser(sub)
    _add_book_parsers(sub)
    _add_console_parsers(sub)

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


def _regions_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("national days (README 'National days')")
    group.add_argument(
        "--regions",
        choices=("column", "auto"),
        help="solve the day by regions: from a 'region' column in both files, or made "
        "from the agents' bases ([regions] link_km, max_visits)",
    )
    group.add_argument(
        "--engine",
        choices=("local", "ray"),
        help="with --regions: one region after another here (local, default) or one "
        "Ray task per region (ray; pip install 'fieldroute[ray]')",
    )
    group.add_argument(
        "--ray-address",
        help="with --engine ray: the cluster to join (default [regions] ray_address, "
        "else a local cluster)",
    )


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
        with _signals_as_interrupts():
            return _run(args)
    except (InputError, ConfigurationError) as err:
        print(f"error: {err}", file=sys.stderr)
        if isinstance(err, InputError) and len(err.issues) > MAX_ISSUES_SHOWN:
            print(_write_issue_list(err, args), file=sys.stderr)
        return 2
    except OptimizerError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except _Terminated as err:
        print(f"terminated ({signal.Signals(err.signum).name})", file=sys.stderr)
        return 128 + err.signum
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as err:
        if not is_environment_fault(err):
            return _bug()
        print(
            f"error: {EnvironmentFaultError.from_os(err, 'stopped by the machine')}",
            file=sys.stderr,
        )
        return EnvironmentFaultError.exit_code
    except Exception:
        return _bug()


def _run(args: argparse.Namespace) -> int:
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
    if args.command == "move":
        return _move(args)
    if args.command == "reoptimise":
        return _reoptimise(args)
    if args.command == "bench":
        return _bench(args)
    if args.command == "book":
        return _book(args)
    if args.command == "users":
        return _users_add(args)
    if args.command == "serve":
        return _serve(args)
    return 0


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, as Ctrl-C raises KeyboardInterrupt.

    A KeyboardInterrupt subclass, so every cleanup written for Ctrl-C (the staging
    folder, the solver's worker) runs for a plain ``kill`` too.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, _frame: object) -> None:
    # One is enough: a second signal must not interrupt the cleanup the first started.
    signal.signal(signum, signal.SIG_IGN)
    raise _Terminated(signum)


@contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    caught = (signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, _raise_terminated) for s in caught}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _write_issue_list(err: InputError, args: argparse.Namespace) -> str:
    """Write every problem to a file and say where: the screen shows the first 50.

    The file sits beside the input it is about (``visits.csv`` -> ``visits.csv.errors.txt``),
    where the dispatcher mends the spreadsheet; never in ``--out``, which holds only a
    whole plan. When that folder is not writable (or the input is not a file we were
    given, as with the case book) it goes to the system's temporary folder. It holds the
    lines as printed (personal values masked), 0600 like the plan's files.
    """
    import os
    import tempfile

    source = err.issues[0].source
    given = [v for v in vars(args).values() if isinstance(v, Path) and v.name == source]
    text = f"{len(err.issues)} problems; fix them and run again.\n" + "".join(
        f"{issue}\n" for issue in err.issues
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    for path in [p.with_name(f"{p.name}.errors.txt") for p in given if p.is_file()]:
        try:
            fd = os.open(path, flags, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError:
            continue
        return f"the full list of {len(err.issues)} problems is in {path}"
    try:
        fd, name = tempfile.mkstemp(prefix=f"fieldroute-{Path(source).name}.", suffix=".errors.txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as os_err:
        return f"(the full list could not be written: {os_err.strerror or os_err})"
    return f"the full list of {len(err.issues)} problems is in {name}"


def _bug() -> int:
    logger.exception("unexpected error")
    print(
        "error: FieldRoute stopped on an unexpected error; this is a bug, please report it with the log above",
        file=sys.stderr,
    )
    return 1


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
    if args.book and args.regions is not None:
        msg = "--regions plans the visits and agents files; it cannot be used with --book"
        raise ConfigurationError(msg)
    if args.book:
        if args.visits is not None or args.agents is not None:
            msg = "plan --book reads visits and agents from the book; give no files with it"
            raise ConfigurationError(msg)
        return _plan_book(args)
    if args.visits is None or args.agents is None:
        msg = "plan needs a visits file and an agents file (or --book to plan from the case book)"
        raise ConfigurationError(msg)
    if args.db is not None:
        msg = "--db names the case book; use it with --book"
        raise ConfigurationError(msg)
    return _plan_files(args)


def _plan_files(args: argparse.Namespace) -> int:
    from optimizer.datums import CoordSystem
    from optimizer.geocoding import open_geocoder
    from optimizer.inputs.load import read_inputs
    from optimizer.outputs.export import write_calendars, write_notices, write_plan
    from optimizer.outputs.folder import check_out_folder
    from optimizer.outputs.maps import save_maps
    from optimizer.outputs.summary import summary_table
    from optimizer.pipeline import plan_day, travel_provider

    settings = _settings(args)
    date = _plan_date(args.date, settings.timezone)
    output_dir = Path(settings.output_dir)
    if args.out is None and output_dir.exists() and not output_dir.is_dir():
        where = f"{args.config}: " if args.config else ""
        msg = f"{where}[plan] output_dir {settings.output_dir!r} is a file; expected a folder"
        raise ConfigurationError(msg)
    if args.regions is None and (args.engine is not None or args.ray_address is not None):
        msg = "--engine and --ray-address choose where regions are solved; use them with --regions"
        raise ConfigurationError(msg)
    if args.days is not None:
        if args.regions is not None:
            msg = "--regions plans one day; it cannot be used with --days"
            raise ConfigurationError(msg)
        return _plan_horizon(args, settings, date)
    if args.regions is not None:
        return _plan_regions(args, settings, date)
    out: Path = args.out or Path(settings.output_dir) / date.isoformat()
    given = [args.visits, args.agents, *([args.config] if args.config else [])]
    check_out_folder(out, inputs=given)
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
    from optimizer.outputs.folder import check_out_folder
    from optimizer.outputs.maps import save_maps
    from optimizer.pipeline import travel_provider
    from optimizer.reopen import read_published

    if not 1 <= args.days <= 31:
        msg = f"--days {args.days} is out of range; expected 1 to 31 working days"
        raise ConfigurationError(msg)
    dates = horizon_dates(first, args.days, settings.horizon.weekdays)
    out: Path = args.out or Path(settings.output_dir) / f"{first.isoformat()}+{args.days}d"
    check_out_folder(
        out, inputs=[args.visits, args.agents, *([args.config] if args.config else [])]
    )
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


def _plan_regions(args: argparse.Namespace, settings: Settings, date: dt.date) -> int:
    from optimizer.datums import CoordSystem
    from optimizer.geocoding import open_geocoder
    from optimizer.inputs.load import read_inputs
    from optimizer.outputs.export import write_calendars, write_notices, write_plan
    from optimizer.outputs.folder import check_out_folder
    from optimizer.outputs.maps import save_maps
    from optimizer.outputs.summary import summary_table
    from optimizer.pipeline import travel_provider
    from optimizer.regions.engine import Engine, LocalEngine
    from optimizer.regions.flow import Cutter, plan_day_by_regions
    from optimizer.regions.split import by_bases, by_column, read_region_column

    began = time.perf_counter()  # the wall budget (--time-limit) is the whole day's
    if args.engine == "ray":
        from optimizer.regions.ray_engine import RayEngine, require_ray

        require_ray()
    out: Path = args.out or Path(settings.output_dir) / date.isoformat()
    check_out_folder(
        out, inputs=[args.visits, args.agents, *([args.config] if args.config else [])]
    )
    inputs = read_inputs(
        args.visits, args.agents, coord_system=CoordSystem.parse(settings.geocoder.coord_system)
    )
    params = settings.regions
    cut: Cutter
    if args.regions == "column":
        cut = partial(
            by_column,
            visit_regions=read_region_column(args.visits, "visit_id"),
            agent_regions=read_region_column(args.agents, "agent_id"),
            visits_source=args.visits.name,
            agents_source=args.agents.name,
        )
    else:
        cut = partial(by_bases, max_visits=params.max_visits, link_km=params.link_km)
    travel = travel_provider(settings, None if args.quiet else _print_err)
    engine: Engine
    if args.engine == "ray":
        engine = RayEngine(args.ray_address or params.ray_address, params.max_retries)
    else:
        engine = LocalEngine(params.max_retries)
    try:
        with open_geocoder(settings.geocoder, offline=args.offline) as geocoder:
            result = plan_day_by_regions(
                inputs.visits,
                inputs.agents,
                settings,
                date=date,
                cut=cut,
                engine=engine,
                travel=travel,
                geocoder=geocoder,
                agents_source=args.agents.name,
                started=began,
            )
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
    day = result.day
    paths = write_plan(
        day, out, renderers=[save_maps, write_calendars, write_notices], share=args.share
    )
    if not args.quiet:
        import resource

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB
        print(f"Regions: {result.split.how}; solved on {result.engine}")
        print(f"Peak memory of this process: {peak_mb:.0f} MB (matrices are per region)")
        for r in result.reports:
            state = f"failed: {r.error}" if r.error else f"{r.routed} routed in {r.wall_s:.1f} s"
            print(
                f"  {r.name}: {r.visits} visits, {r.agents} agents, {r.time_limit_s:.1f} s budget; {state}"
            )
        print(summary_table(day))
        print()
        print(f"Wrote {len(paths)} files to {out}/ :")
    for p in paths:
        if p.parent.name != "notices":
            print(f"  {p}")
    for region, error in result.failed.items():
        print(
            f"error: region {region} could not be solved ({error}); its visits are "
            "unassigned, every other region is planned",
            file=sys.stderr,
        )
    if result.failed:
        return 4
    if args.strict and day.plan.unassigned:
        print(f"error: {len(day.plan.unassigned)} visits unassigned (--strict)", file=sys.stderr)
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


# --- hand edits (issue 15) ---------------------------------------------------------------

#: ``fieldroute move``: the move breaks a rule (printed), nothing saved.
MOVE_REFUSED = 6


def _add_move_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mv = sub.add_parser(
        "move",
        help="move a visit by hand to another agent or position; the verifier checks it",
    )
    mv.add_argument("plan_dir", type=Path, help="a plan folder (plan.json and inputs/)")
    mv.add_argument("visit_id", help="the visit to move")
    to = mv.add_mutually_exclusive_group(required=True)
    to.add_argument("--to", metavar="AGENT", help="the agent who takes the visit")
    to.add_argument("--unassign", action="store_true", help="take the visit out of every route")
    mv.add_argument(
        "--position",
        type=int,
        metavar="N",
        help="0-based place among the agent's visits (default: the cheapest)",
    )
    mv.add_argument("--check", action="store_true", help="only check the move; save nothing")
    ro = sub.add_parser(
        "reoptimise",
        help="re-plan a plan folder around locked visits (each stays with its agent, in order)",
    )
    ro.add_argument("plan_dir", type=Path, help="a plan folder (plan.json and inputs/)")
    ro.add_argument(
        "--lock",
        action="append",
        default=[],
        metavar="VISIT_ID",
        help="keep this visit with its current agent, in its order (repeatable)",
    )
    ro.add_argument("--time-limit", type=float, help="seconds of search (default [replan] 5)")


def _move(args: argparse.Namespace) -> int:
    from optimizer.edits import REFUSED_CODES, Move, apply_move, describe
    from optimizer.reopen import open_plan

    if args.unassign and args.position is not None:
        msg = "--position goes with --to, not with --unassign"
        raise ConfigurationError(msg)
    day = open_plan(args.plan_dir / "plan.json")
    move = Move(args.visit_id, None if args.unassign else args.to, args.position)
    result = apply_move(day.problem, day.visits, day.plan, move)
    refused = [v for v in result.violations if v.code in REFUSED_CODES]
    if refused:
        raise ConfigurationError("; ".join(v.message for v in refused))
    print(describe(result))
    if not result.ok:
        print(f"Not saved: the move breaks {len(result.violations)} rule(s).", file=sys.stderr)
        return MOVE_REFUSED
    if args.check:
        print("Not saved (--check).")
        return 0
    paths = _save_edited(day, result.plan, args.plan_dir)
    print(f"Saved: {len(paths)} files rewritten in {args.plan_dir}/")
    return 0


def _reoptimise(args: argparse.Namespace) -> int:
    from optimizer.edits import reoptimise
    from optimizer.reopen import open_plan

    day = open_plan(args.plan_dir / "plan.json")
    where = {s.visit_id: r.agent_id for r in day.plan.routes for s in r.stops}
    unknown = [vid for vid in args.lock if vid not in where]
    if unknown:
        msg = f"--lock {', '.join(unknown)}: not in any route of this plan; lock routed visits"
        raise ConfigurationError(msg)
    limit = day.settings.replan.time_limit_s if args.time_limit is None else args.time_limit
    if not 0 < limit <= 3600:
        msg = f"--time-limit {limit:g}: expected seconds in (0, 3600]"
        raise ConfigurationError(msg)
    locked = {vid: where[vid] for vid in args.lock}
    plan = reoptimise(day.problem, day.visits, day.plan, locked, day.settings, limit)
    paths = _save_edited(day, plan, args.plan_dir)
    print(
        f"Re-planned around {len(locked)} locked visit(s): {len(plan.assigned_ids)} routed, "
        f"{len(plan.unassigned)} unassigned; {len(paths)} files rewritten in {args.plan_dir}/"
    )
    return 0


def _save_edited(day: DayPlan, plan: Plan, folder: Path) -> list[Path]:
    """The edited plan into its own folder, shared as it was (plan --share) or private."""
    from optimizer.day import route_lines
    from optimizer.outputs.export import write_calendars, write_notices, write_plan
    from optimizer.outputs.maps import save_maps
    from optimizer.pipeline import travel_provider

    lines = route_lines(day.problem, plan, travel_provider(day.settings))
    edited = replace(day, plan=plan, route_lines=lines)
    return write_plan(
        edited,
        folder,
        renderers=[save_maps, write_calendars, write_notices],
        share=bool(folder.stat().st_mode & 0o004),
    )


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
    sp.add_argument(
        "--days",
        type=int,
        metavar="N",
        help="with a day of a horizon folder (plan --days) or its horizon.json: when that "
        "day is full, the earliest windows on its next N-1 days",
    )
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
    from optimizer.reopen import open_day, open_plan

    if args.command == "slots" and args.days is not None:
        paths = _horizon_day_plans(args.plan_json, args.days)
        return _slots(args, open_day(paths[0]), [open_day(p) for p in paths[1:]])
    if args.command == "slots":
        return _slots(args, open_day(args.plan_json))
    return _replan(args, open_plan(args.plan_json))


def _horizon_day_plans(path: Path, n: int) -> list[Path]:
    """plan.json of the day ``path`` names (or the first, for horizon.json) and the next n-1."""
    import json

    if not 1 <= n <= 31:
        msg = f"--days {n} is out of range; expected 1 to 31 days"
        raise ConfigurationError(msg)
    folder = path.parent if path.name == "horizon.json" else path.parent.parent
    index = folder / "horizon.json"
    if not index.is_file():
        msg = (
            f"--days needs a day of a horizon folder (plan --days) or its horizon.json; "
            f"there is no {index}"
        )
        raise ConfigurationError(msg)
    try:
        dates = [str(d) for d in json.loads(index.read_text(encoding="utf-8"))["dates"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        msg = f"{index} is not a horizon file FieldRoute wrote ({type(err).__name__})"
        raise ConfigurationError(msg) from None
    first = 0 if path.name == "horizon.json" else None
    if first is None:
        if path.parent.name not in dates:
            msg = f"{path.parent.name} is not a day of the horizon in {index} ({', '.join(dates)})"
            raise ConfigurationError(msg)
        first = dates.index(path.parent.name)
    return [folder / d / "plan.json" for d in dates[first : first + n]]


def _replan(args: argparse.Namespace, day: object) -> int:
    from optimizer.day import DayPlan
    from optimizer.inputs.events import read_events
    from optimizer.outputs.export import (
        write_calendars,
        write_calls,
        write_notices,
        write_plan,
        write_rows_csv,
    )
    from optimizer.outputs.folder import check_out_folder
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
    plan_folder = args.plan_json.parent
    given = [args.plan_json, plan_folder / "inputs", *([args.events] if args.events else [])]
    check_out_folder(out, inputs=given)
    solver = None
    if args.time_limit is not None:
        try:
            solver = replace(day.settings.solver, time_limit_s=args.time_limit)
        except ConfigurationError as err:
            msg = f"--time-limit: {err}"
            raise ConfigurationError(msg) from None
    result = replan(
        day,
        events,
        now,
        solver=solver,
        events_source=args.events.name if args.events else "events.csv",
        plan_source=args.plan_json.name,
    )

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
        # SEQUENCE: the minute of the re-plan, higher than the plan's 0 and every earlier one.
        partial(write_calendars, agents=changed_agents, sequence=now // 60, before=day),
        partial(write_notices, visits=notify, not_before_s=result.now_s + result.lead_s),
    ]
    renderers.append(
        partial(
            write_calls,
            day,
            agents=changed_agents,
            visits=notify,
            now_s=result.now_s,
            lead_s=result.lead_s,
        )
    )
    paths = write_plan(result.day, out, renderers=renderers)
    print(diff_text(result))
    print(
        f"Wrote {len(paths)} files to {out}/ (changes in {out / 'changes.csv'}; who to call "
        f"in {out / 'calls-agents.csv'} and {out / 'calls-borrowers.csv'})"
    )
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


def _slots(args: argparse.Namespace, day: object, later: Sequence[object] = ()) -> int:
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
    if args.duration * 60 < 1:
        msg = f"--duration {args.duration:g} is under a second; expected minutes on site, e.g. 30"
        raise ConfigurationError(msg)
    if args.days is not None:
        return _slots_days(args, day, later, location)
    offer = offer_slots(
        day,
        location,
        math.ceil(args.duration * 60),
        frozenset(parse_list(args.skills)),
        window_width_s=args.window_width * 60,
        now_s=_hhmm_option("--now", args.now),
    )
    skills = frozenset(parse_list(args.skills))
    why = why_no_slot(day, math.ceil(args.duration * 60), skills, args.window_width * 60)
    print(format_slots(offer, why=why))
    return 0


def _slots_days(
    args: argparse.Namespace, day: DayPlan, later: Sequence[object], location: GeoPoint
) -> int:
    """``slots --days``: the day's windows, or when it is full the earliest on later days."""
    from optimizer.clock import parse_list
    from optimizer.day import DayPlan
    from optimizer.slots import format_slots, format_slots_days, offer_slots_days, why_no_slot

    days = [day, *(d for d in later if isinstance(d, DayPlan))]
    skills = frozenset(parse_list(args.skills))
    duration_s = math.ceil(args.duration * 60)
    offers = offer_slots_days(
        days,
        location,
        duration_s,
        skills,
        window_width_s=args.window_width * 60,
        now_s=_hhmm_option("--now", args.now),
    )
    if offers and offers[0][0] is day:
        print(format_slots(offers[0][1]))
        return 0
    why = why_no_slot(day, duration_s, skills, args.window_width * 60)
    if not offers:
        print(f"{why} No later day of the horizon ({len(days) - 1} more) has a window either.")
        return 0
    print(f"{day.plan.date.isoformat()}: {why}")
    print("The earliest windows on later days:")
    print(format_slots_days(offers))
    return 0


# --- the case book (issue 13) -----------------------------------------------------------


def _db_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="the case book: a database URL or a SQLite file (default: FIELDROUTE_DB, "
        "else [book] url, else fieldroute.db here)",
    )


def _add_book_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    book = sub.add_parser(
        "book",
        help="the case book: visits and their history in a database (see README 'Case book')",
    )
    book_sub = book.add_subparsers(dest="book_command", required=True, metavar="ACTION")
    init = book_sub.add_parser("init", help="create the book, or upgrade its schema")
    imp = book_sub.add_parser(
        "import", help="add or update visits (by visit_id) and agents (by agent_id)"
    )
    imp.add_argument("visits", type=Path, nargs="?", help="visits file (.csv or .xlsx)")
    imp.add_argument("--agents", type=Path, help="agents file (.csv or .xlsx)")
    lst = book_sub.add_parser("list", help="the book's visits, where they stand and why")
    lst.add_argument("--status", choices=[s.value for s in _statuses()], help="only this status")
    lst.add_argument("--due-before", metavar="DATE", help="only visits due before DATE")
    lst.add_argument(
        "--attention", action="store_true", help="only visits on the dispatcher's attention list"
    )
    lst.add_argument("--csv", action="store_true", help="a header, then one row per visit")
    outcomes = book_sub.add_parser("outcomes", help="record what happened at visits")
    outcomes.add_argument("outcomes", type=Path, help="outcomes file (.csv or .xlsx)")
    purge = book_sub.add_parser(
        "purge", help="remove the personal data of cases closed before a date"
    )
    purge.add_argument("--closed-before", required=True, metavar="DATE", help="YYYY-MM-DD")
    for parser in (init, imp, lst, outcomes, purge):
        _db_option(parser)
        parser.add_argument("--config", type=Path, help="settings file (TOML); see README")
        parser.add_argument("-v", "--verbose", action="store_true", help="log each step")


def _statuses() -> list[Any]:
    from optimizer.book.rules import Status

    return list(Status)


def _date_option(name: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{name} {text!r} is not a date; expected YYYY-MM-DD"
        raise ConfigurationError(msg) from None


def _open_book(args: argparse.Namespace, settings: Settings, *, create: bool = False) -> Any:
    from optimizer.book.db import check_schema, open_book, resolve_url

    book = open_book(resolve_url(args.db, settings.book), settings.book, create=create)
    if not create:
        check_schema(book)
    return book


def _actor(command: str) -> Any:
    from optimizer.book.db import actor
    from optimizer.book.repository import Actor

    return Actor(actor(), command)


def _book(args: argparse.Namespace) -> int:
    settings = _settings(args)
    action = args.book_command
    if action == "init":
        return _book_init(args, settings)
    book = _open_book(args, settings)
    try:
        if action == "import":
            return _book_import(args, settings, book)
        if action == "list":
            return _book_list(args, book)
        if action == "outcomes":
            return _book_outcomes(args, settings, book)
        return _book_purge(args, settings, book)
    finally:
        book.close()


def _book_init(args: argparse.Namespace, settings: Settings) -> int:
    from optimizer.book.db import describe, upgrade

    book = _open_book(args, settings, create=True)
    try:
        before, after = upgrade(book)
    finally:
        book.close()
    where = describe(book.url)
    if before == after:
        print(f"The book at {where} is up to date (schema {after}).")
    elif before is None:
        print(f"Created the book at {where} (schema {after}).")
    else:
        print(f"Upgraded the book at {where} from schema {before} to {after}.")
    return 0


def _book_import(args: argparse.Namespace, settings: Settings, book: Any) -> int:
    from optimizer.book.repository import import_file
    from optimizer.datums import CoordSystem
    from optimizer.errors import InputError
    from optimizer.inputs.load import parse_agents, parse_visits, read_table

    if args.visits is None and args.agents is None:
        msg = "book import needs a visits file, an --agents file, or both"
        raise ConfigurationError(msg)
    coords = CoordSystem.parse(settings.geocoder.coord_system)
    issues: list[Any] = []
    visits: tuple[Any, ...] = ()
    agents: tuple[Any, ...] = ()
    if args.visits is not None:
        try:
            visits = parse_visits(read_table(args.visits), args.visits.name, coord_system=coords)
        except InputError as err:
            issues += err.issues
    if args.agents is not None:
        try:
            agents = parse_agents(read_table(args.agents), args.agents.name, coord_system=coords)
        except InputError as err:
            issues += err.issues
    if issues:
        raise InputError(issues)
    report = import_file(book, visits, agents, _actor("book import"))
    if args.visits is not None:
        print(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged")
    if args.agents is not None:
        print(
            f"agents: {report.agents_added} added, {report.agents_updated} updated, "
            f"{report.agents_unchanged} unchanged"
        )
    for visit_id, status in report.not_reopened:
        print(f"  {visit_id}: already {status}; sent again, not reopened")
    for visit_id in report.address_corrected:
        print(f"  {visit_id}: address corrected; back to pending")
    for visit_id, date in report.planned_changed:
        print(
            f"  {visit_id}: changed while in the published plan of {date.isoformat()}; "
            f"plan that date again (fieldroute plan --book --date {date.isoformat()})"
        )
    return 0


def _book_list(args: argparse.Namespace, book: Any) -> int:
    import csv

    from optimizer.book.repository import list_cases
    from optimizer.outputs.privacy import mask_phone, shorten_name

    due_before = _date_option("--due-before", args.due_before) if args.due_before else None
    cases = list_cases(
        book,
        _actor("book list"),
        status=args.status,
        due_before=due_before,
        attention=args.attention,
    )

    def day(d: dt.date | None) -> str:
        return d.isoformat() if d else ""

    if args.csv:
        columns = [
            "visit_id", "borrower_id", "status", "due_date", "earliest_date", "preferred_days",
            "attempts", "last_attempt_at", "last_outcome", "not_before", "planned_date",
            "reason", "attention", "name", "phone", "address",
        ]  # fmt: skip
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for c in cases:
            writer.writerow(
                [
                    c.visit_id, c.borrower_id, c.status, day(c.due_date), day(c.earliest_date),
                    c.preferred_days, c.attempts,
                    c.last_attempt_at.isoformat(timespec="minutes") if c.last_attempt_at else "",
                    c.last_outcome, day(c.not_before), day(c.planned_date), c.reason,
                    c.attention, shorten_name(c.name), mask_phone(c.phone), c.address,
                ]
            )  # fmt: skip
        return 0
    header = f"{'visit':<12} {'status':<9} {'due':<10} {'tries':>5}  {'last':<14} {'next':<10}  why"
    print(header)
    print("-" * len(header))
    for c in cases:
        why = c.attention or c.reason
        if c.status == "planned" and c.planned_date and not why:
            why = f"planned for {c.planned_date.isoformat()}"
        print(
            f"{c.visit_id:<12} {c.status:<9} {day(c.due_date):<10} {c.attempts:>5}  "
            f"{c.last_outcome:<14} {day(c.not_before):<10}  {why}"
        )
    counts = ", ".join(f"{n} {s}" for s, n in sorted(_count(c.status for c in cases).items()))
    print(f"{len(cases)} visits" + (f": {counts}" if counts else ""))
    return 0


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def _book_outcomes(args: argparse.Namespace, settings: Settings, book: Any) -> int:
    from optimizer.book.outcomes import parse_outcomes
    from optimizer.book.repository import record_outcomes
    from optimizer.inputs.load import read_table

    tz = zoneinfo.ZoneInfo(settings.timezone)
    source = args.outcomes.name
    outcomes = parse_outcomes(read_table(args.outcomes), source, tz)
    report = record_outcomes(
        book, outcomes, settings.compliance, tz, _actor("book outcomes"), source=source
    )
    recorded = sum(report.recorded.values())
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.recorded.items()))
    print(f"{recorded} outcomes recorded" + (f" ({kinds})" if kinds else ""))
    if report.already:
        print(f"{report.already} already in the book (same visit, outcome and time): skipped")
    for visit_id, why in report.attention:
        print(f"  attention {visit_id}: {why}")
    return 0


def _book_purge(args: argparse.Namespace, settings: Settings, book: Any) -> int:
    from optimizer.book.repository import purge_closed

    before = _date_option("--closed-before", args.closed_before)
    n = purge_closed(book, before, zoneinfo.ZoneInfo(settings.timezone), _actor("book purge"))
    print(
        f"Removed the personal data of {n} cases closed before {before.isoformat()}; "
        "their anonymous history stays"
    )
    return 0


def _plan_book(args: argparse.Namespace) -> int:
    from optimizer.book.planning import plan_from_book
    from optimizer.geocoding import open_geocoder
    from optimizer.outputs.export import write_calendars, write_notices
    from optimizer.outputs.folder import check_out_folder
    from optimizer.outputs.maps import save_maps
    from optimizer.outputs.summary import summary_table
    from optimizer.pipeline import travel_provider

    settings = _settings(args)
    date = _plan_date(args.date, settings.timezone)
    if args.days is not None:
        return _plan_book_horizon(args, settings, date)
    out: Path = args.out or Path(settings.output_dir) / date.isoformat()
    check_out_folder(out)
    book = _open_book(args, settings)
    try:
        travel = travel_provider(settings, None if args.quiet else _print_err)
        progress = _Progress() if sys.stderr.isatty() and not args.quiet else None
        with open_geocoder(settings.geocoder, offline=args.offline) as geocoder:
            result = plan_from_book(
                book,
                settings,
                date,
                out,
                _actor("plan --book"),
                renderers=[save_maps, write_calendars, write_notices],
                share=args.share,
                travel=travel,
                geocoder=geocoder,
                on_progress=progress,
            )
        if progress is not None:
            progress.done()
    finally:
        book.close()
    snapshot = result.snapshot
    held = _count(_held_kind(r) for r in snapshot.held.values())
    if result.day is None or result.stored is None:
        print(f"Nothing to plan on {date.isoformat()}: no pending visit may be visited that day.")
        _print_held(held)
        return 0
    day, stored = result.day, result.stored
    if not args.quiet:
        print(summary_table(day))
        print()
        for visit_id, due in sorted(snapshot.overdue.items()):
            routed = visit_id in day.plan.assigned_ids
            verdict = "planned first" if routed else "NOT fitted, stays pending"
            print(f"overdue: {visit_id} (due {due.isoformat()}): priority raised, {verdict}")
        _print_held(held)
        again = f" (planned {result.tries} times: the book changed meanwhile)" * (result.tries > 1)
        print(
            f"Stored in the book as plan {date.isoformat()} v{stored.version}, published: "
            f"{stored.routed} planned, {stored.not_fitted} not fitted (stay pending){again}"
        )
        print(f"Wrote {len(result.paths)} files to {out}/ :")
    for p in result.paths:
        if p.parent.name != "notices":
            print(f"  {p}")
    notice_files = sum(p.parent.name == "notices" for p in result.paths)
    if notice_files:
        print(f"  {out / 'notices'}/ ({notice_files} notices, one per routed visit)")
    if not settings.notices.desk_phone:
        print(
            "warning: notices name no dispatch desk number; set [notices] desk_phone in the config",
            file=sys.stderr,
        )
    if args.strict and day.plan.unassigned:
        print(f"error: {len(day.plan.unassigned)} visits unassigned (--strict)", file=sys.stderr)
        return 4
    return 0


def _plan_book_horizon(args: argparse.Namespace, settings: Settings, first: dt.date) -> int:
    """``plan --book --days N``: the horizon from the book, every day stored in it."""
    from optimizer.book.horizon import book_dates, plan_horizon_from_book
    from optimizer.geocoding import open_geocoder
    from optimizer.outputs.export import write_calendars, write_notices
    from optimizer.outputs.folder import check_out_folder
    from optimizer.outputs.maps import save_maps
    from optimizer.pipeline import travel_provider

    if not 1 <= args.days <= 31:
        msg = f"--days {args.days} is out of range; expected 1 to 31 working days"
        raise ConfigurationError(msg)
    dates = book_dates(first, args.days, settings)
    out: Path = args.out or Path(settings.output_dir) / f"{first.isoformat()}+{args.days}d"
    check_out_folder(out)
    book = _open_book(args, settings)
    try:
        travel = travel_provider(settings, None if args.quiet else _print_err)
        with open_geocoder(settings.geocoder, offline=args.offline) as geocoder:
            result = plan_horizon_from_book(
                book,
                settings,
                dates,
                out,
                _actor("plan --book --days"),
                renderers=[save_maps, write_calendars, write_notices],
                share=args.share,
                travel=travel,
                geocoder=geocoder,
            )
    finally:
        book.close()
    held = _count(_held_kind(r) for r in result.held.values())
    span = f"{dates[0].isoformat()} to {dates[-1].isoformat()}"
    if result.horizon is None:
        print(f"Nothing to plan from {span}: no pending visit may be visited on those days.")
        _print_held(held)
        return 0
    horizon = result.horizon
    if not args.quiet:
        for day, stored in zip(horizon.days, result.stored, strict=True):
            print(
                f"{day.plan.date}: {len(day.plan.assigned_ids)} visits in "
                f"{len(day.plan.routes)} routes, stored as plan v{stored.version}"
            )
        print(f"not fitted: {len(horizon.unassigned)} (stay pending; reasons in horizon.csv)")
        _print_held(held)
        told = result.told or {}
        moved = sum(1 for e in horizon.entries if e.visit_id in told and e.date != told[e.visit_id])
        if told:
            print(
                f"{moved} of {len(told)} visits already told a day changed day "
                "(day_changed in horizon.csv: they need a new notice)"
            )
        print(f"Wrote {len(result.paths)} files to {out}/ :")
    for p in result.paths:
        if p.parent == out:
            print(f"  {p}")
    for day in horizon.days:
        print(f"  {out / day.plan.date.isoformat()}/")
    if args.strict and horizon.unassigned:
        print(f"error: {len(horizon.unassigned)} visits unassigned (--strict)", file=sys.stderr)
        return 4
    return 0


def _held_kind(reason: str) -> str:
    """A held reason without its dates, to count alike reasons together."""
    for cut in (" on ", " from ", " before ", " for ", " (", ":"):
        if cut in reason:
            reason = reason.split(cut, 1)[0]
    return reason


def _print_held(held: dict[str, int]) -> None:
    if not held:
        return
    total = sum(held.values())
    print(f"{total} open visits not due for planning today (see fieldroute book list):")
    for why, n in sorted(held.items(), key=lambda kv: -kv[1]):
        print(f"  {n:>5}  {why}")


# --- the console (issue 15) ---------------------------------------------------------------

#: Shorter passwords are refused by ``users add``.
MIN_PASSWORD = 8


def _add_console_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="console users (see README 'Console')")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = users_sub.add_parser(
        "add", help="add a user, or set a user's password and role; reads the password"
    )
    add.add_argument("name", help="the login name")
    add.add_argument("--role", required=True, choices=["admin", "dispatcher"])
    serve = sub.add_parser("serve", help="run the dispatcher's console (see README 'Console')")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument(
        "--https",
        action="store_true",
        help="users reach the console over https (a TLS proxy in front): Secure cookies, "
        "and trust X-Forwarded-* headers from 127.0.0.1",
    )
    serve.add_argument(
        "--public-url", default="", help="the address agents' links start with (default: as asked)"
    )
    for parser in (add, serve):
        _db_option(parser)
        parser.add_argument("--config", type=Path, help="settings file (TOML); see README")
        parser.add_argument("-v", "--verbose", action="store_true", help="log each step")


def _read_password(name: str) -> str:
    """From the terminal (asked twice), else the first line of stdin."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != first:
            msg = "the two passwords differ; nothing was changed"
            raise ConfigurationError(msg)
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        msg = f"the password is shorter than {MIN_PASSWORD} characters; nothing was changed"
        raise ConfigurationError(msg)
    return password


def _users_add(args: argparse.Namespace) -> int:
    from optimizer.book.accounts import add_user
    from optimizer.web.auth import hash_password, utc_now

    settings = _settings(args)
    password = _read_password(args.name)
    book = _open_book(args, settings)
    try:
        _, added = add_user(book, args.name, hash_password(password), args.role, now=utc_now())
    finally:
        book.close()
    if added:
        print(f"Added {args.role} {args.name!r}.")
    else:
        print(f"Set the password and role ({args.role}) of {args.name!r}; their sessions ended.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from optimizer.web.app import create_app
    from optimizer.web.server import serve

    settings = _settings(args)
    app = create_app(args.db, settings=settings, https=args.https, public_url=args.public_url)
    where = f"[{args.host}]" if ":" in args.host else args.host
    print(f"FieldRoute console on http://{where}:{args.port}/ (Ctrl-C stops it)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.https:
        print(
            "warning: listening beyond this machine without TLS; put it behind a TLS proxy "
            "(README 'Console') and pass --https",
            file=sys.stderr,
        )
    serve(app, args.host, args.port, proxy=args.https)
    return 0
