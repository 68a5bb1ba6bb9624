"""Search settings the solver takes: its own parameters, so the solve wing needs no settings module.

Defaults chosen on benchmark evidence (docs/benchmarks.md)."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.errors import ConfigurationError

FIRST_SOLUTIONS = (
    "AUTOMATIC",
    "PATH_CHEAPEST_ARC",
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SEQUENTIAL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_COST_INSERTION",
    "SAVINGS",
    "CHRISTOFIDES",
)


BALANCES = ("none", "visits", "utilisation")

MAIN_SEARCHES = ("auto", "ortools", "lns")

#: From this many visits on, ``main_search = "auto"`` runs ruin-and-recreate on both
#: cores: on the tuning days and instances of 300 and 400 visits it won or tied against
#: OR-Tools + ruin-and-recreate in 7 of 8 pairs (docs/benchmarks.md, round 6); at 80-100
#: visits, once the insertion's break model matched the verifier's, on a quiet machine it
#: gave Solomon tuning instances 0.41-0.75 % against 1.31 % and the 80/5 tuning days as
#: much priority with less travel (round 7). Small days keep OR-Tools first.
LNS_BOTH_MIN_VISITS = 50

METAHEURISTICS = (
    "AUTOMATIC",
    "GUIDED_LOCAL_SEARCH",
    "SIMULATED_ANNEALING",
    "TABU_SEARCH",
    "GREEDY_DESCENT",
)


#: A week of travel: the solver adds fixed costs up in 64 bits; more is a typo.
MAX_FIXED_COST_S = 7 * 24 * 3600

#: Ruin-and-recreate iterations per second of time limit in a deterministic run: about
#: what a 300-visit day does per second on one core of the benchmark machine
#: (docs/benchmarks.md), so the run takes roughly its time limit there.
WORK_PER_S = 100

#: Wall-clock cap of a deterministic run, as a multiple of time_limit_s: a safety net
#: only (a run that hits it is no longer reproducible, and says so in its status).
DETERMINISTIC_CAP = 20


@dataclass(frozen=True, slots=True)
class SolverSettings:
    """OR-Tools search settings. Defaults chosen on benchmark evidence (docs/benchmarks.md)."""

    time_limit_s: float = 10.0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    #: Stop early once this many solutions were found (tests use 1 for determinism).
    solution_limit: int | None = None
    #: Cost per agent who goes out, in seconds of travel: favours fewer, fuller routes.
    vehicle_fixed_cost_s: int = 0
    #: Searches run at once, each from another first solution; the better plan is kept.
    #: 2 uses both cores of a 2-core machine; 1 is a single in-process search.
    workers: int = 2
    #: First-solution strategy of the second search (None: see optimizer.solve.parallel).
    second_first_solution: str | None = None
    #: Seed the search with optimizer.solve.construct's regret insertion (first_solution is
    #: then only the fallback, used when OR-Tools cannot complete any constructed start).
    regret_start: bool = True
    #: The second search (workers = 2): "lns" = optimizer.solve.lns's ruin-and-recreate from
    #: the regret start; "ortools" = OR-Tools from second_first_solution.
    second_search: str = "lns"
    #: The first search (workers = 2): "ortools" = OR-Tools from the regret start;
    #: "lns" = ruin-and-recreate with ``seed`` (the second with seed+1: best of two);
    #: "auto" = "lns" from ``LNS_BOTH_MIN_VISITS`` visits on, where OR-Tools' search
    #: lost to it on every day and instance measured (docs/benchmarks.md, round 6).
    main_search: str = "auto"
    #: With both searches ruin-and-recreate, each builds one regret start, another one,
    #: instead of both building all four: the multi-day model (optimizer.horizon), where
    #: the builds alone ate the budget at 2,000 visits / 180 agent-days.
    split_starts: bool = False
    #: When OR-Tools cannot search from the regret start (large days), spend the time
    #: left on optimizer.solve.lns instead of an OR-Tools search from its own first solution.
    lns_fallback: bool = True
    #: Workload balance, strictly below served priority (optimizer.solve.balance):
    #: "visits" keeps visit counts close, "utilisation" shares of shift used; "none"
    #: minimises travel alone. Ruin-and-recreate optimises it; an OR-Tools plan is
    #: scored with it when the two searches are compared.
    balance: str = "none"
    #: Seed of the randomised searches (ruin-and-recreate; the second search uses seed+1).
    seed: int = 0
    #: Stop every search on a work limit instead of the clock: the same input and
    #: settings then give the same plan on any machine (``--deterministic``).
    deterministic: bool = False
    #: Work limit of a deterministic run, in ruin-and-recreate iterations (OR-Tools gets
    #: a solution limit of the same number); None: ``WORK_PER_S`` per second of
    #: time_limit_s.
    work_limit: int | None = None

    def work(self) -> int:
        """The work limit of a deterministic run (iterations, or OR-Tools solutions)."""
        return self.work_limit or max(20, round(WORK_PER_S * self.time_limit_s))

    def __post_init__(self) -> None:
        if not 0 < self.time_limit_s <= 24 * 3600:
            msg = f"solver.time_limit_s {self.time_limit_s!r} is out of range; expected a number of seconds > 0"
            raise ConfigurationError(msg)
        if self.first_solution not in FIRST_SOLUTIONS:
            msg = f"solver.first_solution {self.first_solution!r} is unknown; options are: {', '.join(FIRST_SOLUTIONS)}"
            raise ConfigurationError(msg)
        if self.metaheuristic not in METAHEURISTICS:
            msg = f"solver.metaheuristic {self.metaheuristic!r} is unknown; options are: {', '.join(METAHEURISTICS)}"
            raise ConfigurationError(msg)
        if self.solution_limit is not None and self.solution_limit < 1:
            msg = f"solver.solution_limit {self.solution_limit!r} must be >= 1"
            raise ConfigurationError(msg)
        if self.workers not in (1, 2):
            msg = f"solver.workers {self.workers!r} is unsupported; expected 1 or 2"
            raise ConfigurationError(msg)
        if (
            self.second_first_solution is not None
            and self.second_first_solution not in FIRST_SOLUTIONS
        ):
            msg = f"solver.second_first_solution {self.second_first_solution!r} is unknown; options are: {', '.join(FIRST_SOLUTIONS)}"
            raise ConfigurationError(msg)
        if self.second_search not in ("lns", "ortools"):
            msg = (
                f"solver.second_search {self.second_search!r} is unknown; options are: lns, ortools"
            )
            raise ConfigurationError(msg)
        if self.main_search not in MAIN_SEARCHES:
            msg = f"solver.main_search {self.main_search!r} is unknown; options are: {', '.join(MAIN_SEARCHES)}"
            raise ConfigurationError(msg)
        if self.balance not in BALANCES:
            msg = f"solver.balance {self.balance!r} is unknown; options are: {', '.join(BALANCES)}"
            raise ConfigurationError(msg)
        if self.seed < 0:
            msg = f"solver.seed {self.seed!r} must be >= 0"
            raise ConfigurationError(msg)
        if self.work_limit is not None and self.work_limit < 1:
            msg = f"solver.work_limit {self.work_limit!r} must be >= 1"
            raise ConfigurationError(msg)
        cost = self.vehicle_fixed_cost_s
        if not (0 <= cost <= MAX_FIXED_COST_S and float(cost).is_integer()):
            msg = f"solver.vehicle_fixed_cost_s {cost!r} is out of range; expected whole seconds from 0 to {MAX_FIXED_COST_S}"
            raise ConfigurationError(msg)
