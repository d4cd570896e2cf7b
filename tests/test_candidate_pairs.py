"""The candidate pairs against a straightforward reference: every (project, unit) pair tested.

:func:`foncier.feasibility.candidate_pairs` screens projects grouped by their
requirements and reads the area requirement from units sorted by net area;
here each pair is tested one at a time, as the module docstring states the
requirements, and the pairs, scores, ENAF costs, rejection counts and
closest units must come out the same, in the same order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foncier import feasibility
from foncier.assignment import OBJECTIVES, objective_coefficients
from foncier.feasibility import (
    LEAD_YEARS,
    REQUIREMENTS,
    Thresholds,
    candidate_pairs,
    unverified_labels,
)
from foncier.scoring import Weights, pair_criteria, score, unit_criteria
from foncier.zan.charging import EnafCharging, categories

NAN = float("nan")
STAGES = [*LEAD_YEARS, "inconnu", None]


def _units(draw: Any, n: int) -> pd.DataFrame:
    pick = lambda values: [draw(st.sampled_from(values)) for _ in range(n)]  # noqa: E731
    return pd.DataFrame(
        {
            "unit_id": [f"U{i}" for i in range(n)],
            "insee": pick(["30001", "30002", None]),
            "zone_type": pick(["U", "AUc", "AUs", "A", None]),
            "servicing_stage": pick(STAGES),
            # few values: ties on the area and on the score
            "net_area_ha": pick([NAN, 0.0, 0.5, 1.0, 2.0, 4.0]),
            "slope_mean_pct": pick([NAN, 1.0, 4.0, 9.0]),
            "dist_interchange_km": pick([NAN, 0.5, 4.0, 12.0]),
            "dist_rail_freight_km": pick([NAN, 1.0, 3.0]),
            "dist_housing_km": pick([NAN, 0.2, 1.0]),
            "enaf_share": pick([NAN, 0.0, 0.5, 1.0]),
            "is_friche": pick([False, True]),
            "flood_share": pick([0.0, 0.3]),
            "natura2000_share": 0.0,
            "compactness": pick([0.5, 0.8]),
            "completeness": 1.0,
        }
    )


def _projects(draw: Any, n: int) -> pd.DataFrame:
    pick = lambda values: [draw(st.sampled_from(values)) for _ in range(n)]  # noqa: E731
    return pd.DataFrame(
        {
            "project_id": [f"P{i}" for i in range(n)],
            "name": "projet",
            "sector": "industrie",
            "area_min_ha": pick([NAN, 0.5, 1.0, 2.0, 3.0]),
            "area_max_ha": pick([NAN, 1.0, 2.5]),
            "jobs": pick([0, 5, 20]),
            "needs_rail": pick([False, True]),
            "max_dist_interchange_km": pick([NAN, 5.0, 15.0]),
            "max_slope_pct": pick([NAN, 3.0, 10.0]),
            "seveso": pick([False, True]),
            "preferred_insee": pick([None, "30001", "39999"]),
            "is_pene": pick([False, True]),
            "category": pick([None, "industrie verte", " "]),
            "earliest_year": pick([NAN, 2026.0, 2028.0, 2031.0]),
        }
    )


def _unit_ok(req: str, unit: pd.Series, project: pd.Series, th: Thresholds) -> float:
    """1 when ``unit`` meets the requirement, 0 when it fails, NaN when unknown."""

    def at_most(value: float, limit: float) -> float:
        return NAN if math.isnan(value) else float(value <= limit)

    def at_least(value: float, limit: float) -> float:
        return NAN if math.isnan(value) else float(value >= limit)

    if req == "zone":
        zone = unit["zone_type"]
        return NAN if pd.isna(zone) else float(zone in th.compatible_zones)
    if req == "area":
        area = 0.0 if math.isnan(unit["net_area_ha"]) else unit["net_area_ha"]
        return 1.0 if math.isnan(project["area_min_ha"]) else float(area >= project["area_min_ha"])
    if req == "slope":
        limit = project["max_slope_pct"]
        return 1.0 if math.isnan(limit) else at_most(unit["slope_mean_pct"], limit)
    if req == "interchange":
        limit = project["max_dist_interchange_km"]
        return 1.0 if math.isnan(limit) else at_most(unit["dist_interchange_km"], limit)
    if req == "rail":
        return (
            at_most(unit["dist_rail_freight_km"], th.rail_max_km) if project["needs_rail"] else 1.0
        )
    if req == "seveso":
        return (
            at_least(unit["dist_housing_km"], th.seveso_min_housing_km)
            if project["seveso"]
            else 1.0
        )
    stage = unit["servicing_stage"]
    lead = NAN if pd.isna(stage) else LEAD_YEARS.get(stage, NAN)
    lead += (th.aus_lead_years if unit["zone_type"] == "AUs" else 0.0) + (
        th.friche_lead_years if unit["is_friche"] else 0.0
    )
    earliest = project["earliest_year"]
    if math.isnan(earliest):
        # no stated year: only a unit that can never be built on fails
        return 0.0 if lead == math.inf else 1.0
    return at_most(th.reference_year + lead, earliest)


def _reference(
    projects: pd.DataFrame,
    units: pd.DataFrame,
    th: Thresholds,
    weights: Weights,
    charging: EnafCharging,
    top_n: int | None,
    objective: str,
) -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    """Pairs kept, first-failure counts and fewest failed requirements, pair by pair."""
    n_r = len(REQUIREMENTS)
    counts = np.zeros((len(projects), n_r + 1), dtype=np.int64)
    fewest: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for p, project in projects.iterrows():
        for u, unit in units.iterrows():
            ok = [_unit_ok(r, unit, project, th) for r in REQUIREMENTS]
            failed = [i for i, v in enumerate(ok) if v == 0.0]
            counts[p, failed[0] if failed else n_r] += 1
            if failed:
                pid = project["project_id"]
                fewest[pid] = min(fewest.get(pid, n_r), len(failed))
                continue
            bits = sum(1 << i for i, v in enumerate(ok) if math.isnan(v))
            rows.append({"p": p, "u": u, "unverified_bits": bits})
    for pid in projects["project_id"][counts[:, n_r] > 0]:
        fewest.pop(pid, None)
    pairs = pd.DataFrame(rows, columns=["p", "u", "unverified_bits"]).astype(np.int64)
    p, u = pairs["p"].to_numpy(), pairs["u"].to_numpy()
    pr, un = projects.iloc[p].reset_index(drop=True), units.iloc[u].reset_index(drop=True)
    stage_lead = un["servicing_stage"].map(dict(LEAD_YEARS)).astype(float).to_numpy()
    lead = (
        stage_lead
        + np.where(un["zone_type"] == "AUs", th.aus_lead_years, 0.0)
        + np.where(un["is_friche"], th.friche_lead_years, 0.0)
    )
    base = unit_criteria(
        slope_pct=un["slope_mean_pct"].to_numpy(dtype=float),
        dist_interchange_km=un["dist_interchange_km"].to_numpy(dtype=float),
        lead_years=lead,
        enaf_share=un["enaf_share"].to_numpy(dtype=float),
        is_friche=un["is_friche"].to_numpy(dtype=bool),
        flood_share=un["flood_share"].to_numpy(dtype=float),
        natura2000_share=un["natura2000_share"].to_numpy(dtype=float),
        compactness=un["compactness"].to_numpy(dtype=float),
        completeness=un["completeness"].to_numpy(dtype=float),
    )
    area_min = pr["area_min_ha"].to_numpy(dtype=float)
    area_max = pr["area_max_ha"].to_numpy(dtype=float)
    bits = pairs["unverified_bits"].to_numpy()
    crit = pair_criteria(
        base,
        area_max_ha=np.where(np.isnan(area_max), area_min, area_max),
        net_area_ha=np.nan_to_num(un["net_area_ha"].to_numpy(dtype=float), nan=0.0),
        preferred_insee=pr["preferred_insee"].to_numpy(dtype=object),
        insee=un["insee"].to_numpy(dtype=object),
        n_unverified=np.array([bin(b).count("1") for b in bits], dtype=float),
    )
    excluded = charging.excluded(categories(pr))
    is_pene = pr["is_pene"].to_numpy(dtype=bool)
    is_friche = un["is_friche"].to_numpy(dtype=bool)
    core = {
        "p": p,
        "u": u,
        "score": score(crit, weights),
        "area_ha": area_min,
        "enaf_ha": charging.charge(
            area_min, un["enaf_share"].to_numpy(dtype=float), is_pene, is_friche, excluded
        ),
        "jobs": pr["jobs"].to_numpy(dtype=float),
        "is_friche": is_friche,
        "is_pene": is_pene,
        "is_excluded": excluded,
        "unverified_bits": bits,
    }
    frame = pd.DataFrame(
        {
            "project_id": pd.Series(pr["project_id"].to_numpy(dtype=object), dtype=object),
            "unit_id": pd.Series(un["unit_id"].to_numpy(dtype=object), dtype=object),
            **core,
            **{f"c_{name}": values for name, values in crit.items()},
        }
    )
    if top_n is not None and len(frame):
        key = objective_coefficients(frame, objective) + 1e-6 * frame["score"].to_numpy()
        # the pruning helper itself, on pairs in project then unit order
        keep = (
            feasibility._top_mask(p, None, key, top_n)
            | feasibility._top_mask(p, frame["enaf_ha"].to_numpy(), key, top_n)
            | feasibility._top_mask(p, None, frame["score"].to_numpy(), top_n)
        )
        frame = frame[keep].reset_index(drop=True)
    frame["unverified"] = unverified_labels(frame["unverified_bits"].to_numpy())
    return frame, counts, fewest


@st.composite
def instances(draw: Any) -> dict[str, Any]:
    return {
        "units": _units(draw, draw(st.integers(0, 12))),
        "projects": _projects(draw, draw(st.integers(1, 8))),
        "top_n": draw(st.sampled_from([None, 1, 2, 3])),
        "objective": draw(st.sampled_from(OBJECTIVES)),
        "charging": EnafCharging(
            pene_excluded=draw(st.booleans()),
            friches_count=draw(st.booleans()),
            artificialised_counts=draw(st.booleans()),
            excluded_categories=draw(st.sampled_from([(), ("industrie verte",)])),
        ),
        "tiny_blocks": draw(st.booleans()),
    }


@settings(max_examples=60, deadline=None)
@given(case=instances())
def test_candidate_pairs_match_a_pair_by_pair_reference(case: dict[str, Any]) -> None:
    _check(case)


@pytest.mark.parametrize(("n_projects", "n_units"), [(3, 1), (1, 3), (1, 1), (4, 2)])
@pytest.mark.parametrize("tiny_blocks", [False, True])
def test_blocks_of_one_project_or_one_unit(
    n_projects: int, n_units: int, tiny_blocks: bool
) -> None:
    # projects of one group and units large enough for all: blocks of one row or column
    units = pd.DataFrame(
        {
            "unit_id": [f"U{i}" for i in range(n_units)],
            "insee": "30001",
            "zone_type": "U",
            "servicing_stage": STAGES[0],
            "net_area_ha": [4.0 + i for i in range(n_units)],
            "slope_mean_pct": 1.0,
            "dist_interchange_km": [0.5 * (i + 1) for i in range(n_units)],
            "dist_rail_freight_km": 1.0,
            "dist_housing_km": 1.0,
            "enaf_share": [0.5, 1.0, 0.0][:n_units] + [0.0] * max(0, n_units - 3),
            "is_friche": False,
            "flood_share": 0.0,
            "natura2000_share": 0.0,
            "compactness": 0.5,
            "completeness": 1.0,
        }
    )
    projects = pd.DataFrame(
        {
            "project_id": [f"P{i}" for i in range(n_projects)],
            "name": "projet",
            "sector": "industrie",
            "area_min_ha": [1.0 + 0.5 * i for i in range(n_projects)],
            "area_max_ha": NAN,
            "jobs": [10 * (i + 1) for i in range(n_projects)],
            "needs_rail": False,
            "max_dist_interchange_km": NAN,
            "max_slope_pct": NAN,
            "seveso": False,
            "preferred_insee": "30001",
            "is_pene": False,
            "category": None,
            "earliest_year": NAN,
        }
    )
    case = {
        "units": units,
        "projects": projects,
        "top_n": 1,
        "objective": "min_enaf",
        "charging": EnafCharging(),
        "tiny_blocks": tiny_blocks,
    }
    pairs = _check(case)
    # every unit fits every project: each keeps its best pair and its least-ENAF one
    per_project = pairs.groupby("project_id").size()
    assert per_project.index.tolist() == projects["project_id"].tolist()
    assert per_project.between(1, min(n_units, 2)).all()


def _check(case: dict[str, Any]) -> pd.DataFrame:
    """Compare :func:`candidate_pairs` with :func:`_reference` on ``case``; return the pairs."""
    projects, units = case["projects"], case["units"]
    th, weights = Thresholds(), Weights()
    objective, top_n, charging = case["objective"], case["top_n"], case["charging"]
    expected, counts, fewest = _reference(projects, units, th, weights, charging, top_n, objective)
    with pytest.MonkeyPatch.context() as mp:
        if case["tiny_blocks"]:
            # several blocks of groups and of projects, even on a dozen units
            mp.setattr(feasibility, "_CELLS", 5)
            mp.setattr(feasibility, "_GROUP_CELLS", 3)
            mp.setattr(feasibility, "_BLOCK_CELLS", 4)
            mp.setattr(feasibility, "_PAIRS", 3)
        pairs, rejections = candidate_pairs(
            projects,
            units,
            weights=weights,
            thresholds=th,
            top_n=top_n,
            rank=lambda f: objective_coefficients(f, objective) + 1e-6 * f["score"].to_numpy(),
            charging=charging,
        )
    pd.testing.assert_frame_equal(pairs, expected, check_exact=True)
    assert rejections.counts.to_numpy().tolist() == counts.tolist()
    assert rejections.counts.columns.tolist() == [*REQUIREMENTS, "feasible"]
    closest = rejections.closest
    assert sorted(closest.index) == sorted(fewest)
    assert {pid: int(closest.loc[pid, "n_failed"]) for pid in closest.index} == fewest
    assert closest["lacks"].str.len().gt(0).all()
    return pairs
