"""``fieldroute bench``: literature instances and generated field days, FieldRoute beside
VROOM and PyVRP on the same matrices, one engine run at a time.

Every run happens in a fresh process so that its peak memory (that process plus its
own worker, ``ru_maxrss``) is measured alone. FieldRoute runs with the product's
default settings (two searches on two cores unless ``--workers 1``); VROOM gets the
same CPU (two threads) and the same wall budget, and on field days also runs once
without a budget (its unbounded best). PyVRP runs single-threaded. Every failed solve
and every plan the verifier rejects is counted, printed, and makes the exit code 1.
Peers (pyvroom, pyvrp) and vrplib are the ``bench`` extra.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from optimizer.solve.params import SolverSettings

ENGINES = ("fieldroute", "vroom", "pyvrp")
LITERATURE_LIMITS = {"solomon": 10.0, "gh200": 30.0, "gh400": 30.0}
#: Field-day seeds reported, in order (``--seeds N`` takes the first N). Seeds 3 and 4
#: are the tuning seeds of every solver round (docs/benchmarks.md), so never reported.
HOLDOUT_SEEDS = (1, 2, 5, 6, 7, 8, 9, 10)
FIELD_LABELS = ("80/5", "300/15", "1000/50", "1500/60")


@dataclass(frozen=True, slots=True)
class BenchConfig:
    sets: tuple[str, ...] = ("solomon", "gh200", "field")
    per_family: int | None = 1
    skip: int = 0
    instances: tuple[str, ...] = ()
    time_limit_s: float | None = None
    engines: tuple[str, ...] = ENGINES
    seeds: tuple[int, ...] = HOLDOUT_SEEDS[:3]
    field_days: tuple[str, ...] = FIELD_LABELS
    #: Also run VROOM on each field day without a time limit (its unbounded best).
    vroom_unbounded: bool = True
    root: Path = Path("../shared/benchmarks")
    solver: SolverSettings = field(default_factory=SolverSettings)
    markdown: Path | None = None
    command: str = "fieldroute bench"


def _peak_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (me + kids) / 1024


class RejectedError(RuntimeError):
    """The verifier rejected a FieldRoute plan (counted apart from failed solves)."""


def _child(fn: Callable[..., Any], args: tuple[Any, ...], conn: Any) -> None:
    from optimizer.errors import VerificationError

    try:
        result = fn(*args)
        conn.send(("ok", replace(result, peak_mb=_peak_mb())))
    except VerificationError as err:
        conn.send(("rejected", f"{type(err).__name__}: {err}"))
    except Exception as err:
        conn.send(("error", f"{type(err).__name__}: {err}"))
    conn.close()


def isolated(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a fresh process; return its result with ``peak_mb`` set."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, args, send))
    proc.start()
    send.close()
    try:
        status, value = receive.recv()
    except EOFError:
        status, value = "error", f"process died (exit {proc.exitcode})"
    proc.join()
    if status == "rejected":
        raise RejectedError(value)
    if status != "ok":
        raise RuntimeError(value)
    return value


# ----------------------------------------------------------------- literature


def _lit_job(path: str, root: str, engine: str, limit: float, solver: SolverSettings) -> Any:
    from optimizer.bench import literature as lit
    from optimizer.bench.peers import solve_pyvrp, solve_vroom
    from optimizer.problem import build_problem

    inst = lit.load_instance(Path(path), lit.read_bks(Path(root) / "bks.csv"))
    if engine == "fieldroute":
        return lit.solve_fieldroute(inst, replace(solver, time_limit_s=limit))
    problem = build_problem(inst.visits, inst.agents, inst.travel)
    if engine == "vroom":
        peer = solve_vroom(problem, limit)
    else:
        peer = solve_pyvrp(problem, limit, required=True)
    routes = [[i + 1 for i in r] for r in peer.routes if r]
    served = sum(len(r) for r in routes)
    return lit.LitResult(
        instance=inst.name,
        family=inst.family,
        set=inst.set,
        engine=engine,
        distance=lit.route_distance(inst.travel.seconds, routes),
        routes=len(routes),
        bks=inst.bks,
        wall_s=peer.wall_s,
        feasible=lit.check_routes(inst, routes),
        all_served=served == len(inst.visits),
    )


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def literature_tables(results: Sequence[Any]) -> str:
    rows = [
        [
            r.instance,
            r.engine,
            f"{r.distance:.1f}",
            str(r.routes),
            _fmt(r.bks, ".1f"),
            _fmt(r.gap_pct),
            f"{r.wall_s:.1f}",
            "yes" if r.feasible else "NO",
            "yes" if r.all_served else "NO",
            f"{r.peak_mb:.0f}",
        ]
        for r in results
    ]
    per_instance = _table(
        [
            "instance",
            "engine",
            "distance",
            "routes",
            "BKS",
            "gap %",
            "wall s",
            "feasible",
            "all served",
            "peak MB",
        ],
        rows,
    )
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for r in results:
        groups.setdefault((r.set, r.family, r.engine), []).append(r)
        groups.setdefault((r.set, "all", r.engine), []).append(r)
    fam_rows = []
    for (s, fam, engine), rs in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] == "all", kv[0][1], kv[0][2])
    ):
        gaps = [r.gap_pct for r in rs if r.gap_pct is not None]
        fam_rows.append(
            [
                s,
                fam,
                engine,
                str(len(rs)),
                _fmt(statistics.mean(gaps) if gaps and len(gaps) == len(rs) else None),
                f"{statistics.mean(r.routes for r in rs):.1f}",
                f"{statistics.mean(r.wall_s for r in rs):.1f}",
                f"{sum(r.feasible and r.all_served for r in rs)}/{len(rs)}",
            ]
        )
    per_family = _table(
        [
            "set",
            "family",
            "engine",
            "n",
            "mean gap %",
            "mean routes",
            "mean wall s",
            "feasible & all served",
        ],
        fam_rows,
    )
    return f"### Per family\n\n{per_family}\n\n### Per instance\n\n{per_instance}\n"


# ----------------------------------------------------------------- field days


def _field_job(
    label: str, seed: int, engine: str, limit: float | None, solver: SolverSettings
) -> Any:
    """One engine on one field day; ``limit`` None: VROOM without a time limit."""
    from optimizer.bench import fielddays as fd

    day = fd.DAYS_BY_LABEL[label]
    name = f"{label} seed {seed}"
    if engine == "fieldroute":
        return fd.run_fieldroute(name, day, seed, replace(solver, time_limit_s=day.limit_s))
    return fd.run_peer(name, day, seed, engine, limit)


def field_tables(results: Sequence[Any], limits: dict[str, float]) -> str:
    rows = []
    by_day: dict[str, dict[str, Any]] = {}
    for r in results:
        by_day.setdefault(r.day, {})[r.engine] = r
    for day, engines in by_day.items():
        fr = engines.get("fieldroute")
        for engine, r in engines.items():
            ratio_p = ratio_t = "-"
            if fr is not None and engine != "fieldroute":
                ratio_p = f"{fr.served_priority / max(r.served_priority, 1):.3f}"
                ratio_t = f"{fr.travel_min / max(r.travel_min, 1e-9):.3f}"
            limit = limits[day.split()[0]]
            rows.append(
                [
                    day,
                    engine,
                    str(r.served),
                    str(r.served_priority),
                    f"{r.travel_min:.0f}",
                    _fmt(r.utilisation_ratio or None),
                    f"{r.wall_s:.1f}",
                    "none" if engine.endswith("unbounded") else f"{limit:.0f}",
                    f"{r.peak_mb:.0f}",
                    ratio_p,
                    ratio_t,
                    r.note,
                ]
            )
    return _table(
        [
            "day (visits/agents)",
            "engine",
            "served",
            "served priority",
            "travel min",
            "max/min utilisation",
            "wall s",
            "limit s",
            "peak MB",
            "FR/peer priority",
            "FR/peer travel",
            "note",
        ],
        rows,
    )


def field_verdicts(results: Sequence[Any]) -> str:
    """Per day size, the issue's bar against VROOM at the same budget, seed by seed.

    Met on a seed when FieldRoute's served priority is at least VROOM's and, where the
    two are equal, its travel is no more than VROOM's.
    """
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    for r in results:
        label, _, seed = r.day.partition(" seed ")
        runs.setdefault(label, {}).setdefault(seed, {})[r.engine] = r
    rows = []
    for label, seeds in runs.items():
        met, compared, details = 0, 0, []
        for seed, engines in seeds.items():
            fr, vr = engines.get("fieldroute"), engines.get("vroom")
            if fr is None or vr is None:
                continue
            compared += 1
            ok = fr.served_priority > vr.served_priority or (
                fr.served_priority == vr.served_priority and fr.travel_min <= vr.travel_min
            )
            met += ok
            best = engines.get("vroom unbounded")
            details.append(
                f"s{seed}: {fr.served_priority}/{fr.travel_min:.0f} vs "
                f"{vr.served_priority}/{vr.travel_min:.0f}"
                + (f" (unbounded {best.served_priority}/{best.travel_min:.0f})" if best else "")
                + ("" if ok else " MISSED")
            )
        if compared:
            rows.append([label, f"{met}/{compared}", "; ".join(details)])
    return _table(
        ["day", "seeds meeting the bar", "FieldRoute vs VROOM: priority/travel min"], rows
    )


# ----------------------------------------------------------------- driver


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        with Path("/proc/cpuinfo").open() as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
        with Path("/proc/meminfo").open() as f:
            mem_gb = int(f.readline().split()[1]) / 1024**2
    except OSError:
        mem_gb = 0.0
    return f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, Python {platform.python_version()}, {platform.system()}"


def run(config: BenchConfig, out: Callable[[str], None] = print) -> int:
    """Run what ``config`` asks, print tables, optionally write markdown; exit code."""
    began = time.perf_counter()
    sections = []
    lit_sets = [s for s in config.sets if s != "field"]
    failures = rejections = 0
    if lit_sets:
        from optimizer.bench.literature import select

        files = select(config.root, lit_sets, per_family=config.per_family, skip=config.skip)
        if config.instances:
            wanted = set(config.instances)
            files = [
                p
                for s in lit_sets
                for p in sorted((config.root / s).glob("*.vrp"))
                if p.stem in wanted
            ] or [p for p in files if p.stem in wanted]
        results = []
        for path in files:
            limit = config.time_limit_s or LITERATURE_LIMITS.get(path.parent.name, 10.0)
            for engine in config.engines:
                try:
                    r = isolated(
                        _lit_job, str(path), str(config.root), engine, limit, config.solver
                    )
                except RejectedError as err:
                    out(f"{path.stem} {engine}: REJECTED by the verifier: {err}")
                    rejections += 1
                    continue
                except RuntimeError as err:
                    out(f"{path.stem} {engine}: FAILED {err}")
                    failures += 1
                    continue
                results.append(r)
                out(
                    f"{r.instance:>10} {engine:>10}: distance {r.distance:9.1f}  routes {r.routes:3d}  "
                    f"gap {_fmt(r.gap_pct):>6}%  {r.wall_s:5.1f} s  "
                    f"{'feasible' if r.feasible else 'INFEASIBLE'}"
                    f"{'' if r.all_served else ', NOT ALL SERVED'}  {r.peak_mb:.0f} MB"
                )
                failures += not (r.feasible and r.all_served) and engine == "fieldroute"
        if results:
            text = literature_tables(results)
            sections.append(("Literature (DIMACS convention)", text))
            out(text)
    if "field" in config.sets:
        from optimizer.bench.fielddays import DAYS_BY_LABEL

        days = [DAYS_BY_LABEL[d] for d in config.field_days]
        limits = {d.label: d.limit_s for d in days}
        results = []
        for day in days:
            for seed in config.seeds:
                jobs: list[tuple[str, float | None]] = [(e, day.limit_s) for e in config.engines]
                if "vroom" in config.engines and config.vroom_unbounded:
                    jobs.append(("vroom", None))
                for engine, budget in jobs:
                    name = engine if budget is not None else f"{engine} unbounded"
                    try:
                        r = isolated(_field_job, day.label, seed, engine, budget, config.solver)
                    except RejectedError as err:
                        out(f"{day.label} seed {seed} {name}: REJECTED by the verifier: {err}")
                        rejections += 1
                        continue
                    except RuntimeError as err:
                        out(f"{day.label} seed {seed} {name}: FAILED {err}")
                        failures += 1
                        continue
                    results.append(r)
                    out(
                        f"{r.day:>16} {name:>16}: served {r.served:4d}  priority {r.served_priority:5d}  "
                        f"travel {r.travel_min:7.0f} min  {r.wall_s:6.1f} s  {r.peak_mb:.0f} MB"
                    )
        if results:
            text = field_tables(results, limits)
            text += "\n\nBar (issue 16): served priority >= VROOM's at the same budget and CPU, "
            text += "travel <= VROOM's where priority is equal.\n\n" + field_verdicts(results)
            sections.append(("Field days", text))
            out(text)
    counts = (
        f"failed solves: {failures}; verifier rejections: {rejections} "
        "(FieldRoute plans are checked by optimizer.verify, peers' literature routes by "
        "bench.literature.check_routes)"
    )
    out(counts)
    sections.append(("Failures", counts))
    elapsed = time.perf_counter() - began
    if config.markdown is not None:
        settings = dataclasses.asdict(config.solver)
        body = [
            f"Command: `{config.command}`  ",
            f"Machine: {machine()}  ",
            f"FieldRoute solver settings (limit per row): `{settings}`  ",
            f"Total bench time: {elapsed / 60:.1f} min",
            "",
        ]
        for title, text in sections:
            body += [f"## {title}", "", text, ""]
        config.markdown.parent.mkdir(parents=True, exist_ok=True)
        config.markdown.write_text("\n".join(body), encoding="utf-8")
        out(f"wrote {config.markdown}")
    return 1 if failures or rejections else 0


def run_bench(quick: bool = False, **options: Any) -> int:
    """Entry point of ``fieldroute bench`` (see cli.py for the flags)."""
    config = BenchConfig(**options)
    if quick:
        config = replace(
            config,
            sets=tuple(s for s in config.sets if s != "field") or ("solomon",),
            instances=config.instances or ("C101",),
            time_limit_s=config.time_limit_s or 2.0,
        )
    return run(config)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_bench())
