"""Folding identical projects in the assignment MILP: exact, deterministic, unfolded feasibly."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foncier.assignment import fold_projects, solve_assignment


def pairs_of(rows: list[tuple[int, int, float, float, float]]) -> tuple[pd.DataFrame, np.ndarray]:
    """Pairs from ``(p, u, area_ha, enaf_ha, value)`` rows, and their values."""
    frame = pd.DataFrame(rows, columns=["p", "u", "area_ha", "enaf_ha", "value"])
    frame["score"] = 0.5
    return frame.drop(columns="value"), frame["value"].to_numpy(float)


def fold_of(pairs: pd.DataFrame, value: np.ndarray, capacity: np.ndarray, fixed=None):
    flags = np.zeros(len(pairs), bool) if fixed is None else np.isin(np.arange(len(pairs)), fixed)
    return fold_projects(
        pairs["p"].to_numpy(),
        pairs["u"].to_numpy(),
        pairs["area_ha"].to_numpy(float),
        pairs["enaf_ha"].to_numpy(float),
        value,
        flags,
        capacity,
    )


def test_three_identical_projects_become_one_group_bounded_by_unit_room():
    # projects 0, 1, 2: 2 ha, 10 jobs, on units 0 (3 ha) and 1 (4 ha); project 3 differs
    rows = [(p, u, 2.0, 0.0, 10.0) for p in range(3) for u in (0, 1)]
    rows += [(3, 0, 2.0, 0.0, 7.0), (3, 1, 2.0, 0.0, 10.0)]
    pairs, value = pairs_of(rows)
    capacity = np.array([3.0, 4.0])
    f = fold_of(pairs, value, capacity)
    assert f.n_columns == 4
    assert f.size.tolist() == [3, 1]
    assert f.group.tolist() == [0, 0, 1, 1]
    assert f.unit.tolist() == [0, 1, 0, 1]
    # three projects of 2 ha: one fits on 3 ha, two on 4 ha
    assert f.upper.tolist() == [1.0, 2.0, 1.0, 1.0]
    # one on unit 0, two on unit 1: projects 0 then 1, 2 in order, project 3 nowhere
    chosen = f.unfold(np.array([1.0, 2.0, 0.0, 0.0]))
    got = sorted(zip(pairs["p"].to_numpy()[chosen], pairs["u"].to_numpy()[chosen], strict=True))
    assert got == [(0, 0), (1, 1), (2, 1)]
    assert f.counts(chosen).tolist() == [1.0, 2.0, 0.0, 0.0]


def test_projects_differing_in_one_pair_are_not_folded():
    rows = [(0, 0, 1.0, 0.5, 5.0), (0, 1, 1.0, 0.0, 5.0)]
    rows += [(1, 0, 1.0, 0.4, 5.0), (1, 1, 1.0, 0.0, 5.0)]  # other ENAF charge on unit 0
    rows += [(2, 0, 1.0, 0.5, 5.0)]  # a subset of project 0's units
    pairs, value = pairs_of(rows)
    f = fold_of(pairs, value, np.array([5.0, 5.0]))
    assert f.size.tolist() == [1, 1, 1]
    assert f.n_columns == len(pairs)


def test_a_fixed_pair_keeps_its_project_apart():
    rows = [(p, 0, 1.0, 0.0, 3.0) for p in range(3)]
    pairs, value = pairs_of(rows)
    f = fold_of(pairs, value, np.array([10.0]), fixed=[1])
    assert sorted(f.size.tolist()) == [1, 2]
    assert sorted(f.lower.tolist()) == [0.0, 1.0]


def test_folded_solve_places_identical_projects_where_the_optimum_does():
    # six identical 1.5 ha projects worth 4; unit 0 holds 2 (3 ha), unit 1 holds 3 (5 ha),
    # a ZAN pool of 1 ha shared by both units, each placement on unit 1 charges 0.5 ha
    rows = [(p, 0, 1.5, 0.0, 4.0) for p in range(6)]
    rows += [(p, 1, 1.5, 0.5, 4.0) for p in range(6)]
    pairs, value = pairs_of(rows)
    capacity, pools, budget = np.array([3.0, 5.0]), np.array([0, 0]), np.array([1.0])
    chosen, report = solve_assignment(pairs, capacity, pools, budget, value, mip_rel_gap=0.0)
    # 2 on unit 0 and only 2 on unit 1 (budget 1 ha): 4 projects, 16
    assert report.objective == pytest.approx(16.0)
    assert report.n_pairs == 12 and report.n_columns == 2
    units = pairs["u"].to_numpy()[chosen]
    assert np.bincount(units, minlength=2).tolist() == [2, 2]
    assert len(set(pairs["p"].to_numpy()[chosen])) == 4
    again, _ = solve_assignment(pairs, capacity, pools, budget, value, mip_rel_gap=0.0)
    assert again.tolist() == chosen.tolist()


def brute_force(pairs, value, capacity, pools, budget) -> float:
    options: dict[int, list[int]] = {}
    for k, p in enumerate(pairs["p"]):
        options.setdefault(int(p), []).append(k)
    u, area, enaf = pairs["u"].to_numpy(), pairs["area_ha"].to_numpy(), pairs["enaf_ha"].to_numpy()
    best = 0.0
    for combo in itertools.product(*[[None, *ks] for ks in options.values()]):
        ks = np.array([k for k in combo if k is not None], dtype=int)
        load = np.bincount(u[ks], weights=area[ks], minlength=len(capacity))
        use = np.bincount(pools[u[ks]], weights=enaf[ks], minlength=len(budget))
        if (load <= capacity + 1e-9).all() and (use <= budget + 1e-9).all():
            best = max(best, float(value[ks].sum()))
    return best


def templated_instance(seed: int, n_projects: int, n_units: int):
    """Projects drawn from a few templates, so that many are identical."""
    rng = np.random.default_rng(seed)
    capacity = np.round(rng.uniform(0.5, 6.0, n_units), 1)
    pools = rng.integers(0, 2, n_units)
    budget = np.round(rng.uniform(0.0, 3.0, 2), 1)
    share = rng.choice([0.0, 0.5, 1.0], n_units)
    templates = []
    for _ in range(3):
        units = np.flatnonzero(rng.uniform(size=n_units) < 0.6)
        templates.append((units, round(float(rng.uniform(0.5, 3.0)), 1), rng.integers(1, 20)))
    rows = []
    for p in range(n_projects):
        units, area, jobs = templates[rng.integers(0, 3)]
        rows += [(p, int(u), area, area * share[u], float(jobs)) for u in units]
    pairs, value = pairs_of(rows)
    return pairs, value, capacity, pools, budget


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n_projects=st.integers(1, 6), n_units=st.integers(1, 4))
def test_property_folded_equals_unfolded_and_brute_force(seed, n_projects, n_units):
    pairs, value, capacity, pools, budget = templated_instance(seed, n_projects, n_units)
    if pairs.empty:
        return
    folded, r_fold = solve_assignment(pairs, capacity, pools, budget, value, mip_rel_gap=0.0)
    plain, r_plain = solve_assignment(
        pairs, capacity, pools, budget, value, mip_rel_gap=0.0, fold=False
    )
    assert r_fold.objective == pytest.approx(r_plain.objective, abs=1e-6)
    assert r_fold.objective == pytest.approx(
        brute_force(pairs, value, capacity, pools, budget), abs=1e-6
    )
    assert r_fold.n_columns <= r_plain.n_columns == r_plain.n_pairs
    # the unfolded solution is feasible: one unit per project, room and budget kept
    u = pairs["u"].to_numpy()[folded]
    assert len(set(pairs["p"].to_numpy()[folded])) == len(folded)
    load = np.bincount(u, weights=pairs["area_ha"].to_numpy()[folded], minlength=n_units)
    assert (load <= capacity + 1e-6).all()
    use = np.bincount(pools[u], weights=pairs["enaf_ha"].to_numpy()[folded], minlength=2)
    assert (use <= budget + 1e-6).all()
    assert r_fold.objective == pytest.approx(value[folded].sum())
    again, _ = solve_assignment(pairs, capacity, pools, budget, value, mip_rel_gap=0.0)
    assert again.tolist() == folded.tolist()
