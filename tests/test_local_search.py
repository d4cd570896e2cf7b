"""The local search improving the solver's start: moves, evictions, chains; feasible, monotone."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foncier import assignment
from foncier.assignment import (
    _is_feasible,
    _StallCheck,
    greedy_assignment,
    improve_scores,
    local_search,
    solve_assignment,
)
from tests.test_assignment_folding import brute_force, fold_of, pairs_of


def placed(pairs: pd.DataFrame, chosen: np.ndarray) -> dict[int, int]:
    """Project → unit of a selection."""
    p, u = pairs["p"].to_numpy()[chosen], pairs["u"].to_numpy()[chosen]
    return dict(zip(p.tolist(), u.tolist(), strict=True))


def test_pool_relocation_places_the_project_greedy_leaves_out():
    # pool 0 (units 0 and 1) has 1 ha of ZAN budget; unit 2 (pool 1) is ENAF-free.
    # project 0 (10 jobs, 1 ha) scores best on unit 0 and takes the budget in greedy;
    # project 1 (8 jobs, 1 ha of ENAF) can only go to unit 1, in the same pool.
    pairs, value = pairs_of([(0, 0, 1.0, 1.0, 10.0), (0, 2, 1.0, 0.0, 10.0), (1, 1, 1.0, 1.0, 8.0)])
    pairs["score"] = [0.9, 0.5, 0.7]
    capacity, pools, budget = np.array([2.0, 2.0, 2.0]), np.array([0, 0, 1]), np.array([1.0, 0.0])
    greedy = greedy_assignment(pairs, capacity, pools, budget, value)
    assert placed(pairs, greedy) == {0: 0}
    out = local_search(greedy, pairs, capacity, pools, budget, value)
    # project 0 moves to the ENAF-free unit 2, freeing the budget for project 1: 18 jobs
    assert placed(pairs, out) == {0: 2, 1: 1}
    assert value[out].sum() == pytest.approx(18.0)


def test_eviction_replaces_a_placement_by_a_more_valuable_one():
    # unit 0 (2 ha) holds project 0 (3 jobs, 2 ha, nowhere else); project 1 (10 jobs,
    # 2 ha) has only unit 0: evicting project 0 gains 7
    pairs, value = pairs_of([(0, 0, 2.0, 0.0, 3.0), (1, 0, 2.0, 0.0, 10.0)])
    capacity, pools, budget = np.array([2.0]), np.array([0]), np.array([0.0])
    out = local_search(np.array([0]), pairs, capacity, pools, budget, value)
    assert placed(pairs, out) == {1: 0}


def test_chain_clears_a_unit_for_a_larger_project():
    # unit 0 (2 ha) holds projects 0 and 1 (1 ha, 2 jobs each), which may also go to
    # units 1 and 2 (1 ha each); project 2 (2 ha, 5 jobs) fits only on unit 0
    rows = [(0, 0, 1.0, 0.0, 2.0), (0, 1, 1.0, 0.0, 2.0), (1, 0, 1.0, 0.0, 2.0)]
    rows += [(1, 2, 1.0, 0.0, 2.0), (2, 0, 2.0, 0.0, 5.0)]
    pairs, value = pairs_of(rows)
    capacity, pools, budget = np.array([2.0, 1.0, 1.0]), np.array([0, 0, 0]), np.array([0.0])
    out = local_search(np.array([0, 2]), pairs, capacity, pools, budget, value)
    assert placed(pairs, out) == {0: 1, 1: 2, 2: 0}
    assert value[out].sum() == pytest.approx(9.0)


def test_fixed_pairs_stay_where_they_are():
    # same as the eviction case, project 0 fixed on unit 0: nothing may change
    pairs, value = pairs_of([(0, 0, 2.0, 0.0, 3.0), (1, 0, 2.0, 0.0, 10.0)])
    capacity, pools, budget = np.array([2.0]), np.array([0]), np.array([0.0])
    out = local_search(np.array([0]), pairs, capacity, pools, budget, value, fixed=np.array([0]))
    assert out.tolist() == [0]


def random_instance(seed: int, n_projects: int, n_units: int):
    """Projects of random size and value on random subsets of units in two ZAN pools."""
    rng = np.random.default_rng(seed)
    capacity = np.round(rng.uniform(0.5, 4.0, n_units), 1)
    pools = rng.integers(-1, 2, n_units)
    budget = np.round(rng.uniform(0.0, 3.0, 2), 1)
    share = rng.choice([0.0, 0.5, 1.0], n_units)
    rows = []
    for p in range(n_projects):
        area = round(float(rng.uniform(0.3, 3.0)), 1)
        jobs = float(rng.integers(1, 20))
        units = np.flatnonzero(rng.uniform(size=n_units) < 0.6)
        rows += [
            (p, int(u), area, area * share[u], jobs + float(rng.integers(0, 3))) for u in units
        ]
    pairs, value = pairs_of(rows)
    pairs["score"] = np.round(rng.uniform(size=len(pairs)), 2)
    return pairs, value, capacity, pools, budget


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n_projects=st.integers(1, 6), n_units=st.integers(1, 4))
def test_property_local_search_is_feasible_monotone_deterministic(seed, n_projects, n_units):
    pairs, value, capacity, pools, budget = random_instance(seed, n_projects, n_units)
    if pairs.empty:
        return
    greedy = greedy_assignment(pairs, capacity, pools, budget, value)
    greedy = improve_scores(greedy, pairs, capacity, pools, budget, value, passes=0)
    out = local_search(greedy, pairs, capacity, pools, budget, value)
    assert _is_feasible(out, pairs, capacity, pools, budget)
    # units without a pool: a pool of zero budget for the brute force
    best = brute_force(
        pairs, value, capacity, np.where(pools < 0, 2, pools), np.append(budget, 0.0)
    )
    assert value[greedy].sum() - 1e-9 <= value[out].sum() <= best + 1e-9
    assert local_search(greedy, pairs, capacity, pools, budget, value).tolist() == out.tolist()
    # the solve started from it reaches the optimum
    _, report = solve_assignment(pairs, capacity, pools, budget, value, mip_rel_gap=0.0)
    assert report.objective == pytest.approx(best, abs=1e-6)


class _Subscription:
    """One callback type of a fake HiGHS: what ``subscribe`` was given."""

    def __init__(self) -> None:
        self.callbacks: list = []

    def subscribe(self, callback) -> None:
        self.callbacks.append(callback)


class _FakeHighs:
    def __init__(self) -> None:
        self.cbMipImprovingSolution = _Subscription()
        self.cbMipInterrupt = _Subscription()


class _Event:
    """A HiGHS callback event: bounds in HiGHS's minimisation sign, optional solution."""

    def __init__(self, value: float, bound: float, solution: np.ndarray | None = None) -> None:
        self.data_out = SimpleNamespace(
            mip_primal_bound=-value, mip_dual_bound=-bound, mip_solution=solution
        )
        self.interrupted = False

    def interrupt(self) -> None:
        self.interrupted = True


def _stall_case(monkeypatch, bound: float):
    """The chain case (optimum 9) with HiGHS stuck on projects 0 and 1 on unit 0 (4 jobs)."""
    monkeypatch.setattr(assignment, "STALL_S", 0.0)
    rows = [(0, 0, 1.0, 0.0, 2.0), (0, 1, 1.0, 0.0, 2.0), (1, 0, 1.0, 0.0, 2.0)]
    rows += [(1, 2, 1.0, 0.0, 2.0), (2, 0, 2.0, 0.0, 5.0)]
    pairs, value = pairs_of(rows)
    capacity, pools, budget = np.array([2.0, 1.0, 1.0]), np.array([0, 0, 0]), np.array([0.0])
    folding = fold_of(pairs, value, capacity)
    polished: list[list[int]] = []

    def polish(selection: np.ndarray) -> np.ndarray:
        out = local_search(selection, pairs, capacity, pools, budget, value)
        polished.append(out.tolist())
        return out

    def proven(selection: np.ndarray, mip_dual_bound: float) -> bool:
        # HiGHS's dual bound, in its minimisation sign
        return bool(value[selection].sum() >= 0.99 * -mip_dual_bound)

    h = _FakeHighs()
    stall = _StallCheck(h, np.arange(len(pairs)), folding, polish, proven)
    (on_solution,) = h.cbMipImprovingSolution.callbacks
    (on_interrupt,) = h.cbMipInterrupt.callbacks
    on_solution(_Event(4.0, bound, folding.counts(np.array([0, 2]))))
    return stall, on_interrupt, polished


def test_a_stalled_solve_stops_once_its_polished_incumbent_is_proven_within_the_gap(monkeypatch):
    stall, on_interrupt, polished = _stall_case(monkeypatch, bound=9.0)
    event = _Event(4.0, 9.0)
    on_interrupt(event)  # no better solution since: the incumbent is polished
    assert polished == [[1, 3, 4]]
    assert event.interrupted and stall.polished.tolist() == [1, 3, 4]


def test_a_solve_is_not_polished_before_it_stalls(monkeypatch):
    stall, on_interrupt, polished = _stall_case(monkeypatch, bound=9.0)
    monkeypatch.setattr(assignment, "STALL_S", 3600.0)
    event = _Event(4.0, 9.0)
    on_interrupt(event)  # HiGHS found its incumbent just now
    assert polished == [] and not event.interrupted and stall.polished is None


def test_a_stalled_solve_goes_on_when_the_bound_does_not_prove_the_polished_incumbent(
    monkeypatch,
):
    stall, on_interrupt, polished = _stall_case(monkeypatch, bound=20.0)
    events = [_Event(4.0, 20.0) for _ in range(4)]
    for event in events:
        on_interrupt(event)
    # polished once (9 jobs, 45 % of the bound): HiGHS goes on, and the same incumbent is
    # not polished again until HiGHS finds another
    assert polished == [[1, 3, 4]]
    assert not any(e.interrupted for e in events) and stall.polished is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n_projects=st.integers(2, 6), n_units=st.integers(1, 4))
def test_property_a_solve_stopped_at_a_stall_is_within_the_gap_of_the_optimum(
    seed, n_projects, n_units
):
    pairs, value, capacity, pools, budget = random_instance(seed, n_projects, n_units)
    if pairs.empty:
        return
    best = brute_force(
        pairs, value, capacity, np.where(pools < 0, 2, pools), np.append(budget, 0.0)
    )
    gap = 0.2
    with pytest.MonkeyPatch.context() as mp:
        # every interrupt after a solution polishes it: the solve stops once it is proven
        mp.setattr(assignment, "STALL_S", 0.0)
        chosen, report = solve_assignment(pairs, capacity, pools, budget, value, mip_rel_gap=gap)
    assert _is_feasible(chosen, pairs, capacity, pools, budget)
    assert report.objective == pytest.approx(value[chosen].sum())
    assert (1 - gap) * best - 1e-6 <= report.objective <= best + 1e-6
    # the bound reported is a bound: never below the optimum, even when HiGHS was cut short
    assert report.dual_bound >= best - 1e-6
    assert report.gap <= gap + 1e-9


def _chain_case_fractional():
    """The chain case with fractional values (optimum 9.25, an integral LP bound of 9.25).

    Units of 2, 1 and 1 ha; projects 0 and 1 (1 ha) fit on unit 0 or on
    units 1 and 2, project 2 (2 ha) only on unit 0.  Placing projects 0 and
    1 on unit 0 (4.4) leaves project 2 out; the optimum places all three.
    """
    rows = [(0, 0, 1.0, 0.0, 2.1), (0, 1, 1.0, 0.0, 2.0), (1, 0, 1.0, 0.0, 2.3)]
    rows += [(1, 2, 1.0, 0.0, 2.2), (2, 0, 2.0, 0.0, 5.05)]
    pairs, value = pairs_of(rows)
    capacity, pools, budget = np.array([2.0, 1.0, 1.0]), np.array([0, 0, 0]), np.array([0.0])
    return pairs, value, capacity, pools, budget


def _spy_highs(monkeypatch) -> list[tuple[bool, bool]]:
    """Record each HiGHS model built: (integer, costs integral)."""
    built: list[tuple[bool, bool]] = []
    real = assignment._highs

    def spy(a, row_upper, folding, options, columns, *, integer):
        costs = folding.value[columns]
        built.append((integer, bool(np.allclose(costs, np.round(costs)))))
        return real(a, row_upper, folding, options, columns, integer=integer)

    monkeypatch.setattr(assignment, "_highs", spy)
    return built


def test_a_start_within_the_gap_of_the_lp_bound_is_returned_without_branch_and_bound(
    monkeypatch,
):
    pairs, value, capacity, pools, budget = _chain_case_fractional()
    built = _spy_highs(monkeypatch)
    chosen, report = solve_assignment(pairs, capacity, pools, budget, value)
    assert placed(pairs, chosen) == {0: 1, 1: 2, 2: 0}
    assert report.status == "optimal"
    assert report.objective == pytest.approx(9.25)
    assert report.dual_bound == pytest.approx(9.25) and report.gap == pytest.approx(0.0)
    # the LP relaxation only: its rounding is the optimum, nothing left to prove
    assert built == [(False, False)]


def test_a_start_leaving_projects_out_is_lifted_by_placing_as_many_as_possible(monkeypatch):
    pairs, value, capacity, pools, budget = _chain_case_fractional()
    built = _spy_highs(monkeypatch)

    def weak_rounding(a, row_upper, folding, options, worth, incumbent, *args):
        # the LP's bound, but its rounding no better than the start given
        h = assignment._highs(a, row_upper, folding, options, np.arange(folding.n_columns),
                              integer=False)  # fmt: skip
        h.run()
        return incumbent, -float(h.getInfo().objective_function_value)

    monkeypatch.setattr(assignment, "_heuristic", weak_rounding)
    chosen, report = solve_assignment(pairs, capacity, pools, budget, value, start=np.array([0, 2]))
    assert placed(pairs, chosen) == {0: 1, 1: 2, 2: 0}
    assert report.status == "optimal" and report.objective == pytest.approx(9.25)
    # the LP, then one MILP of integral costs (the count of placed projects, with its own
    # LP first); never the branch and bound of the fractional objective
    assert built == [(False, False), (False, True), (True, True)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n_projects=st.integers(1, 6), n_units=st.integers(1, 4))
def test_property_most_placed_places_as_many_projects_as_brute_force(seed, n_projects, n_units):
    pairs, value, capacity, pools, budget = random_instance(seed, n_projects, n_units)
    if pairs.empty:
        return
    usable = np.ones(len(pairs), bool)
    greedy = greedy_assignment(pairs, capacity, pools, budget, value)
    none = np.zeros(0, dtype=int)
    most = assignment._most_placed(pairs, capacity, pools, budget, usable, greedy, none, None, True)
    assert _is_feasible(most, pairs, capacity, pools, budget)
    # one per pair: the brute force's best value is the most projects placed at once
    ones = np.ones(len(pairs))
    best = brute_force(pairs, ones, capacity, np.where(pools < 0, 2, pools), np.append(budget, 0.0))
    assert len(most) == round(best)
