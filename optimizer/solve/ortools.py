"""The only module that imports OR-Tools: RoutingProblem in, plain Assignment out.

Model: one vehicle per agent from its start node to its end node; a time dimension
whose transit is service at the origin plus travel; visit windows on service start;
shift bounds on the route; the lunch break as a break interval; skills and pins as
allowed vehicles; max_visits and capacity as count dimensions; every visit optional
behind a drop penalty so that the search never fails and drops the lowest priority
first. The penalty per priority unit exceeds any possible total travel, which makes the
objective lexicographic: served priority first, then travel time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2

from optimizer.domain import Mode
from optimizer.errors import SolverError
from optimizer.feasibility import able_agents
from optimizer.problem import RoutingProblem
from optimizer.solve.assignment import Assignment, ProgressCallback, RouteResult, Stability
from optimizer.solve.balance import assignment_imbalance_s
from optimizer.solve.construct import Insertion, regret_starts
from optimizer.solve.lns import improve
from optimizer.solve.params import DETERMINISTIC_CAP, SolverSettings

logger = logging.getLogger(__name__)


_STATUS = {
    0: "NOT_SOLVED",
    1: "SUCCESS",
    2: "PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED",
    3: "FAIL",
    4: "FAIL_TIMEOUT",
    5: "INVALID",
    6: "INFEASIBLE",
    7: "OPTIMAL",
}


def drop_penalty_unit(problem: RoutingProblem) -> int:
    """Penalty per priority unit: more than all agents could ever travel in a day."""
    total_shift = sum(a.shift.end_s - a.shift.start_s for a in problem.agents)
    return max(total_shift, 1) + 1


#: Largest matrix value served from the table of shared ints in :func:`as_lists`
#: (a week of seconds is 604,800); a matrix with larger values is converted plainly.
_SHARED_INTS_UP_TO = 1 << 22


def as_lists(
    matrix: npt.NDArray[np.int32],
    *,
    row_add: Sequence[int] | None = None,
    column_add: Sequence[int] | None = None,
) -> list[list[int]]:
    """``matrix`` (plus ``row_add[i]`` on row i, ``column_add[j]`` on column j) as the
    list of lists of ints that OR-Tools' ``RegisterTransitMatrix`` takes, and nothing else.

    ``matrix.tolist()`` makes one Python int per cell, 36 bytes with its pointer: 0.9 GB
    at 5,000 visits, per matrix, the largest single cost of a day. Here every cell of
    the same value points at one shared int from a table, so a cell is its 8-byte
    pointer, and the rows are made one at a time: no n x n temporary either.
    """
    n = matrix.shape[0]
    rows = np.zeros(n, dtype=np.int64) if row_add is None else np.asarray(row_add, np.int64)
    columns = np.zeros(n, dtype=np.int64) if column_add is None else np.asarray(column_add)
    top = int(matrix.max(initial=0)) + int(rows.max(initial=0)) + int(columns.max(initial=0))
    low = int(matrix.min(initial=0)) + int(rows.min(initial=0)) + int(columns.min(initial=0))
    if low < 0 or top > _SHARED_INTS_UP_TO:
        return [(matrix[i].astype(np.int64) + rows[i] + columns).tolist() for i in range(n)]
    table = np.arange(top + 1, dtype=object)  # one Python int per value
    columns = columns.astype(np.int64)
    return [table[matrix[i] + (rows[i] + columns)].tolist() for i in range(n)]


class _Model:
    """Builds the OR-Tools model; each constraint in its own method."""

    def __init__(
        self,
        problem: RoutingProblem,
        settings: SolverSettings,
        stability: Stability | None = None,
        locks: Sequence[int | None] = (),
        lock_order: Sequence[Sequence[int]] = (),
    ) -> None:
        self.problem = problem
        self.settings = settings
        #: Agent index each visit is locked to (None: free); empty: no locks.
        self.locks = tuple(locks) or (None,) * problem.num_visits
        n_agents = len(problem.agents)
        starts = [problem.start_node(a) for a in range(n_agents)]
        ends = [problem.end_node(a) for a in range(n_agents)]
        self.manager = pywrapcp.RoutingIndexManager(len(problem.points), n_agents, starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.service = [v.duration_s for v in problem.visits] + [0] * (2 * n_agents)
        self.horizon = max([a.shift.end_s for a in problem.agents], default=0)
        self.breaks: dict[int, pywrapcp.IntervalVar] = {}
        self._transits: dict[Mode, tuple[int, int]] = {}
        self._add_travel_cost()
        self._add_time_dimension()
        self._add_breaks()
        self._add_allowed_agents()
        self._add_max_visits()
        self._add_capacity()
        self._add_optional_visits()
        self._add_locks(lock_order)
        if stability is not None:
            self._add_stability(stability)

    def _register_matrices(self, mode: Mode) -> tuple[int, int]:
        """(travel-cost callback, time-transit callback) for one mode, registered once."""
        if mode not in self._transits:
            travel = self.problem.matrices[mode].seconds
            cost = self.routing.RegisterTransitMatrix(as_lists(travel))
            transit = self.routing.RegisterTransitMatrix(as_lists(travel, row_add=self.service))
            self._transits[mode] = (cost, transit)
        return self._transits[mode]

    def _add_travel_cost(self) -> None:
        for a, agent in enumerate(self.problem.agents):
            cost, _ = self._register_matrices(agent.mode)
            self.routing.SetArcCostEvaluatorOfVehicle(cost, a)
            if self.settings.vehicle_fixed_cost_s:
                self.routing.SetFixedCostOfVehicle(self.settings.vehicle_fixed_cost_s, a)

    def _add_time_dimension(self) -> None:
        transits = [self._register_matrices(agent.mode)[1] for agent in self.problem.agents]
        slack_max = self.horizon  # waiting is allowed anywhere
        capacity = self.horizon
        fix_start_cumul_to_zero = False
        self.routing.AddDimensionWithVehicleTransits(
            transits, slack_max, capacity, fix_start_cumul_to_zero, "Time"
        )
        self.time = self.routing.GetDimensionOrDie("Time")
        for i in range(self.problem.num_visits):
            window = self.problem.window(i)
            index = self.manager.NodeToIndex(i)
            self.time.CumulVar(index).SetRange(window.start_s, min(window.end_s, self.horizon))
        for a, agent in enumerate(self.problem.agents):
            for index in (self.routing.Start(a), self.routing.End(a)):
                self.time.CumulVar(index).SetRange(agent.shift.start_s, agent.shift.end_s)
            # Come back as early as possible. Leaving as late as the first appointment
            # allows is set in _extract: maximising the start here makes OR-Tools fail to
            # complete feasible routes whose break is tight (docs/benchmarks.md).
            self.routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(self.routing.End(a)))

    def _add_breaks(self) -> None:
        solver = self.routing.solver()
        visit_transit = [
            self.service[self.manager.IndexToNode(index)] for index in range(self.routing.Size())
        ]
        for a, agent in enumerate(self.problem.agents):
            rule = agent.break_rule
            if rule is None:
                continue
            optional = False
            interval = solver.FixedDurationIntervalVar(
                rule.window.start_s,
                rule.window.end_s,
                rule.duration_s,
                optional,
                f"break {a}",
            )
            self.breaks[a] = interval
            self.time.SetBreakIntervalsOfVehicle([interval], a, visit_transit)

    def _add_allowed_agents(self) -> None:
        everyone = len(self.problem.agents)
        for i in range(self.problem.num_visits):
            # Road data can leave a visit unreachable in one mode only (no car road up
            # to it, but a footpath): only agents whose mode reaches it may take it.
            allowed = [
                a
                for a in able_agents(self.problem, i)
                if i not in self.problem.matrices[self.problem.agents[a].mode].unreachable
            ]
            if len(allowed) < everyone:
                # SetAllowedVehiclesForIndex fails from Python in OR-Tools 9.15.
                self.routing.VehicleVar(self.manager.NodeToIndex(i)).SetValues([-1, *allowed])

    def _add_max_visits(self) -> None:
        limits = [a.max_visits for a in self.problem.agents]
        if all(m is None for m in limits):
            return
        n = self.problem.num_visits
        ones = self.routing.RegisterUnaryTransitVector(
            [1] * n + [0] * (len(self.problem.points) - n)
        )
        caps = [n if m is None else m for m in limits]
        self.routing.AddDimensionWithVehicleCapacity(ones, 0, caps, True, "Visits")

    def _add_capacity(self) -> None:
        caps = [a.capacity for a in self.problem.agents]
        demands = [v.demand for v in self.problem.visits]
        if all(c is None for c in caps) and not any(demands):
            return
        total = sum(demands)
        demand = self.routing.RegisterUnaryTransitVector(
            demands + [0] * (len(self.problem.points) - len(demands))
        )
        self.routing.AddDimensionWithVehicleCapacity(
            demand, 0, [total if c is None else c for c in caps], True, "Capacity"
        )

    def _add_optional_visits(self) -> None:
        unit = drop_penalty_unit(self.problem)
        for i, visit in enumerate(self.problem.visits):
            if self.locks[i] is None:  # a locked visit is mandatory: no disjunction
                self.routing.AddDisjunction([self.manager.NodeToIndex(i)], unit * visit.priority)

    def _add_locks(self, lock_order: Sequence[Sequence[int]]) -> None:
        """Hand-locked visits (optimizer.edits): on their agent, in the dispatcher's order.

        The vehicle is fixed by its VehicleVar (without -1: the visit must be served).
        Order: each locked visit starts after the previous one of its agent, on the time
        dimension (a precedence as in OR-Tools' pickup-and-delivery samples); service
        lasts at least a second, so on one route this holds exactly when it comes later.
        """
        for i, a in enumerate(self.locks):
            if a is not None:
                self.routing.VehicleVar(self.manager.NodeToIndex(i)).SetValues([a])
        solver = self.routing.solver()
        for chain in lock_order:
            for u, v in pairwise(chain):
                first = self.time.CumulVar(self.manager.NodeToIndex(u))
                then = self.time.CumulVar(self.manager.NodeToIndex(v))
                solver.Add(first < then)

    def _add_stability(self, stability: Stability) -> None:
        """Re-planning: moving a visit to another agent or outside its told window costs.

        The agent-change cost is charged on the arc into the visit, per vehicle: every
        served visit has exactly one incoming arc, so it is charged once.
        """
        n = self.problem.num_visits
        for a, agent in enumerate(self.problem.agents):
            extra = [
                stability.agent_change_cost if p is not None and p != a else 0
                for p in stability.preferred_agent
            ] + [0] * (len(self.problem.points) - n)
            if any(extra):
                travel = self.problem.matrices[agent.mode].seconds
                cost = self.routing.RegisterTransitMatrix(as_lists(travel, column_add=extra))
                self.routing.SetArcCostEvaluatorOfVehicle(cost, a)
        for i, told in enumerate(stability.told_window):
            if told is None or not stability.told_window_cost_per_s:
                continue
            index = self.manager.NodeToIndex(i)
            self.time.SetCumulVarSoftLowerBound(index, told[0], stability.told_window_cost_per_s)
            self.time.SetCumulVarSoftUpperBound(index, told[1], stability.told_window_cost_per_s)

    def search_parameters(self) -> pywrapcp.DefaultRoutingSearchParameters:
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = getattr(
            routing_enums_pb2.FirstSolutionStrategy, self.settings.first_solution
        )
        params.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, self.settings.metaheuristic
        )
        params.time_limit.FromMilliseconds(int(budget_s(self.settings) * 1000))
        if self.settings.solution_limit is not None:
            params.solution_limit = self.settings.solution_limit
        elif self.settings.deterministic:
            params.solution_limit = self.settings.work()
        return params


def budget_s(settings: SolverSettings) -> float:
    """Wall-clock budget: the time limit, or in a deterministic run only a safety cap.

    A deterministic run stops on its work limit (``SolverSettings.work``); the clock
    only stops one that runs away, which is then no longer reproducible.
    """
    if settings.deterministic:
        return settings.time_limit_s * DETERMINISTIC_CAP
    return settings.time_limit_s


def solve(
    problem: RoutingProblem,
    settings: SolverSettings,
    *,
    on_progress: ProgressCallback | None = None,
    initial_routes: Sequence[Sequence[int]] | None = None,
    stability: Stability | None = None,
    locks: Sequence[int | None] = (),
    lock_order: Sequence[Sequence[int]] = (),
) -> Assignment:
    """Solve; raises SolverError only when OR-Tools returns no assignment at all.

    ``initial_routes`` (visit indices per agent) seeds the search, e.g. from a
    constructive heuristic or from the plan being re-planned. ``locks`` (per visit: the
    agent index it is locked to, or None) and ``lock_order`` (per agent: its locked
    visits in order) keep hand edits (optimizer.edits): locked visits are mandatory.
    """
    began = time.perf_counter()
    if not problem.agents:
        return Assignment((), tuple(range(problem.num_visits)), "NO_AGENTS", 0, 0.0)
    model = _Model(problem, settings, stability, locks, lock_order)
    routing, manager = model.routing, model.manager
    if on_progress is not None:
        callback = on_progress

        def report() -> None:
            served = sum(
                1
                for i in range(problem.num_visits)
                if routing.ActiveVar(manager.NodeToIndex(i)).Value()
            )
            callback(time.perf_counter() - began, routing.CostVar().Value(), served)

        routing.AddAtSolutionCallback(report)
    params = model.search_parameters()
    starts: list[Sequence[Sequence[int]]] = []
    if initial_routes is not None:
        starts.append(initial_routes)
    elif settings.regret_start:
        starts += regret_starts(problem)
    lns_start = starts[0] if starts and initial_routes is None and stability is None else None
    if lns_start is not None and settings.lns_fallback and settings.solution_limit is None:
        solution = _solve_from_starts(model, params, starts, began, search_on_failure=False)
        if solution is None:
            deadline = time.time() + budget_s(settings) - (time.perf_counter() - began)
            logger.info("improving the regret start with ruin-and-recreate instead")
            result = improve(
                problem,
                lns_start,
                deadline,
                seed=settings.seed,
                max_iterations=settings.work() if settings.deterministic else None,
                balance=settings.balance,
            )
            return lns_assignment(problem, result.routes, settings, time.perf_counter() - began)
    else:
        solution = _solve_from_starts(model, params, starts, began)
    status = _STATUS.get(routing.status(), str(routing.status()))
    if solution is None:
        msg = f"OR-Tools returned no plan (status {status})"
        raise SolverError(msg)
    found = _extract(model, solution, status, time.perf_counter() - began)
    if settings.balance == "none":
        return found
    # OR-Tools does not see the balance; its plan is scored with it for the comparison.
    extra = assignment_imbalance_s(problem, settings.balance, found)
    return replace(found, objective=found.objective + extra)


def lns_assignment(
    problem: RoutingProblem,
    routes: Sequence[Sequence[int]],
    settings: SolverSettings,
    wall_s: float,
    status: str = "LNS",
) -> Assignment:
    """An Assignment of routes in optimizer.solve.construct's model, timed there (no OR-Tools).

    The objective is the OR-Tools model's (travel, drop penalties, fixed costs), so
    that optimizer.solve.parallel can compare it with an OR-Tools search.
    """
    ins = Insertion(problem)
    if not ins.load(routes):
        msg = "ruin-and-recreate returned routes outside the constructive model"
        raise SolverError(msg)
    results = []
    for state in ins.routes:
        depart, starts, back, brk = ins.schedule(state)
        results.append(
            RouteResult(state.agent, tuple(state.nodes[1:-1]), tuple(starts), depart, back, brk)
        )
    dropped = tuple(int(i) for i in range(problem.num_visits) if ins.unrouted[i])
    used = sum(1 for r in results if r.visits)
    objective = (
        ins.travel_s()
        + drop_penalty_unit(problem) * sum(problem.visits[i].priority for i in dropped)
        + settings.vehicle_fixed_cost_s * used
    )
    found = Assignment(tuple(results), dropped, status, objective, wall_s)
    if settings.balance == "none":
        return found
    extra = assignment_imbalance_s(problem, settings.balance, found)
    return replace(found, objective=objective + extra)


def _solve_from_starts(
    model: _Model,
    params: routing_parameters_pb2.RoutingSearchParameters,
    starts: Sequence[Sequence[Sequence[int]]],
    began: float,
    *,
    search_on_failure: bool = True,
) -> pywrapcp.Assignment | None:
    """Search from the first start OR-Tools accepts; else from its own first solution.

    OR-Tools 9.15 sometimes fails to search from a start that it has just read as a
    complete, feasible solution (on days with breaks; its break propagation is
    incomplete), and after such a failure it reads no other start. The read start is
    then kept, and the search from OR-Tools' own first solution must beat it.
    """
    routing, manager = model.routing, model.manager
    if not starts:
        return routing.SolveWithParameters(params)
    routing.CloseModelWithParameters(params)
    limit_ms = int(budget_s(model.settings) * 1000)
    kept: pywrapcp.Assignment | None = None
    for routes in starts:
        read = routing.ReadAssignmentFromRoutes(
            [[manager.NodeToIndex(i) for i in r] for r in routes], True
        )
        if read is None:
            continue
        kept = routing.solver().Assignment(read)
        solution = routing.SolveFromAssignmentWithParameters(
            read, _with_time_left(params, limit_ms, began)
        )
        if solution is not None:
            return solution
        logger.info("OR-Tools could not search from the constructed start")
        if not search_on_failure:
            return None
        break
    solution = routing.SolveWithParameters(_with_time_left(params, limit_ms, began))
    if kept is not None and (solution is None or kept.ObjectiveValue() < solution.ObjectiveValue()):
        return kept
    return solution


def _with_time_left(
    params: routing_parameters_pb2.RoutingSearchParameters, limit_ms: int, began: float
) -> routing_parameters_pb2.RoutingSearchParameters:
    left = max(100, limit_ms - int((time.perf_counter() - began) * 1000))
    copy = routing_parameters_pb2.RoutingSearchParameters()
    copy.CopyFrom(params)
    copy.time_limit.FromMilliseconds(left)
    return copy


def _extract(
    model: _Model, solution: pywrapcp.Assignment, status: str, wall_s: float
) -> Assignment:
    routing, manager, time_dim = model.routing, model.manager, model.time
    n = model.problem.num_visits
    routes = []
    served: set[int] = set()
    for a in range(len(model.problem.agents)):
        index = solution.Value(routing.NextVar(routing.Start(a)))
        visits, starts = [], []
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            visits.append(node)
            starts.append(solution.Value(time_dim.CumulVar(index)))
            index = solution.Value(routing.NextVar(index))
        served.update(visits)
        brk = model.breaks.get(a)
        depart = solution.Value(time_dim.CumulVar(routing.Start(a)))
        break_start = solution.StartValue(brk) if brk is not None else None
        if visits and (break_start is None or break_start >= starts[0]):
            agent = model.problem.agents[a]
            first_leg = model.problem.travel_s(a, model.problem.start_node(a), visits[0])
            depart = min(max(depart, starts[0] - first_leg), agent.shift.end_s)
        routes.append(
            RouteResult(
                agent_index=a,
                visits=tuple(visits),
                service_start_s=tuple(starts),
                depart_s=depart,
                return_s=solution.Value(time_dim.CumulVar(routing.End(a))),
                break_start_s=break_start,
            )
        )
    dropped = tuple(i for i in range(n) if i not in served)
    return Assignment(tuple(routes), dropped, status, solution.ObjectiveValue(), wall_s)
