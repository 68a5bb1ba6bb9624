"""OR-Tools behaviours the model relies on or works around, pinned to the installed version.

optimizer.solve.ortools is written around what OR-Tools 9.15 does: an upgrade that
changes any of these should fail here, loudly, so the workaround is looked at again
rather than silently wrong (docs/benchmarks.md, "Findings that shaped the code").
"""

from __future__ import annotations

import pytest
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

H = 3600


def _model(
    n_nodes: int, travel: int = 600
) -> tuple[pywrapcp.RoutingIndexManager, pywrapcp.RoutingModel]:
    """One vehicle from node n-1 back to it; every leg takes ``travel`` seconds."""
    depot = n_nodes - 1
    manager = pywrapcp.RoutingIndexManager(n_nodes, 1, [depot], [depot])
    routing = pywrapcp.RoutingModel(manager)
    matrix = [[0 if i == j else travel for j in range(n_nodes)] for i in range(n_nodes)]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(matrix))
    return manager, routing


def _params(seconds: int = 2) -> pywrapcp.DefaultRoutingSearchParameters:
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.time_limit.FromSeconds(seconds)
    params.solution_limit = 50
    return params


def test_set_allowed_vehicles_for_index_is_unusable_from_python() -> None:
    # The model restricts agents through VehicleVar(...).SetValues([-1, *allowed]) instead.
    manager = pywrapcp.RoutingIndexManager(4, 2, [2, 3], [2, 3])
    routing = pywrapcp.RoutingModel(manager)
    with pytest.raises(TypeError, match="SetAllowedVehiclesForIndex"):
        routing.SetAllowedVehiclesForIndex([1], manager.NodeToIndex(0))


def test_a_dropped_visit_costs_exactly_its_disjunction_penalty() -> None:
    # The lexicographic objective (served priority first) rests on this: the objective
    # is travel plus the penalties of the dropped visits, nothing scaled.
    manager, routing = _model(3, travel=600)
    transit = routing.RegisterTransitMatrix(
        [[0 if i == j else 600 for j in range(3)] for i in range(3)]
    )
    routing.AddDimension(transit, 0, 1300, True, "Time")  # room for one visit only
    penalty_low, penalty_high = 10_000, 30_000
    routing.AddDisjunction([manager.NodeToIndex(0)], penalty_low)
    routing.AddDisjunction([manager.NodeToIndex(1)], penalty_high)
    solution = routing.SolveWithParameters(_params())
    assert solution is not None
    served = [
        node
        for node in (0, 1)
        if solution.Value(routing.NextVar(manager.NodeToIndex(node))) != manager.NodeToIndex(node)
    ]
    assert served == [1]  # the higher penalty is kept
    assert solution.ObjectiveValue() == 2 * 600 + penalty_low


def test_a_break_outside_the_route_span_is_taken_after_the_return() -> None:
    # A morning-only route owes no break: with a non-optional break interval whose
    # window lies after the route, OR-Tools still solves and the route's times are
    # untouched (the break sits after the return). The model relies on this instead
    # of making breaks optional.
    manager, routing = _model(2, travel=600)
    service = [1800, 0]
    transit = routing.RegisterTransitCallback(
        lambda i, j: 0 if i == j else 600 + service[manager.IndexToNode(i)]
    )
    routing.AddDimension(transit, 24 * H, 24 * H, False, "Time")
    time = routing.GetDimensionOrDie("Time")
    start, end = routing.Start(0), routing.End(0)
    time.CumulVar(start).SetRange(8 * H, 17 * H)
    time.CumulVar(end).SetRange(8 * H, 17 * H)
    time.CumulVar(manager.NodeToIndex(0)).SetRange(9 * H, 9 * H)  # the visit: 09:00
    routing.AddDisjunction([manager.NodeToIndex(0)], 10**6)
    solver = routing.solver()
    brk = solver.FixedDurationIntervalVar(12 * H, 13 * H, 45 * 60, False, "lunch")
    visit_transit = [service[manager.IndexToNode(i)] for i in range(routing.Size())]
    time.SetBreakIntervalsOfVehicle([brk], 0, visit_transit)
    routing.AddVariableMinimizedByFinalizer(time.CumulVar(end))
    solution = routing.SolveWithParameters(_params())
    assert solution is not None
    assert solution.Value(routing.NextVar(start)) == manager.NodeToIndex(0)
    back = solution.Value(time.CumulVar(end))
    assert back == 9 * H + 1800 + 600  # straight home after the visit
    assert solution.StartValue(brk) >= back


def test_a_break_inside_the_route_span_delays_the_next_visit() -> None:
    # The other half of the rule: a route out across the break window takes the break
    # between two visits and the later visit waits for its end.
    manager, routing = _model(3, travel=600)
    service = [1800, 1800, 0]
    transit = routing.RegisterTransitCallback(
        lambda i, j: 0 if i == j else 600 + service[manager.IndexToNode(i)]
    )
    routing.AddDimension(transit, 24 * H, 24 * H, False, "Time")
    time = routing.GetDimensionOrDie("Time")
    for index in (routing.Start(0), routing.End(0)):
        time.CumulVar(index).SetRange(8 * H, 17 * H)
    time.CumulVar(manager.NodeToIndex(0)).SetRange(11 * H, 11 * H + 1800)
    time.CumulVar(manager.NodeToIndex(1)).SetRange(12 * H, 14 * H)
    for node in (0, 1):
        routing.AddDisjunction([manager.NodeToIndex(node)], 10**6)
    solver = routing.solver()
    brk = solver.FixedDurationIntervalVar(12 * H, 12 * H, 45 * 60, False, "lunch")
    visit_transit = [service[manager.IndexToNode(i)] for i in range(routing.Size())]
    time.SetBreakIntervalsOfVehicle([brk], 0, visit_transit)
    solution = routing.SolveWithParameters(_params())
    assert solution is not None
    second = solution.Value(time.CumulVar(manager.NodeToIndex(1)))
    first = solution.Value(time.CumulVar(manager.NodeToIndex(0)))
    assert first < second
    # The second visit could start at 12:00, but the break (12:00-12:45) comes first.
    assert second == 12 * H + 45 * 60
