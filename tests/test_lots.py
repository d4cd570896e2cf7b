"""Lots: each placed project's own contiguous parcels inside its unit (foncier.lots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foncier.assignment import PLACEMENT_VALUE, SolveReport
from foncier.layers import check_table
from foncier.lots import (
    MAX_ROUNDS,
    NO_LOT_HINT,
    lay_out_lots,
    lot_parcels,
    piece_adjacency,
    place_with_lots,
    unit_pieces,
)
from foncier.matching import match_projects
from foncier.scenarios import ScenarioResult
from foncier.zan.charging import EnafCharging
from tests.conftest import grid

IDU = [f"30007000AB{i + 1:04d}" for i in range(9)]


def _parcels(geoms: list, **columns: object) -> gpd.GeoDataFrame:
    n = len(geoms)
    base = {
        "idu": [f"30007000AB{i + 1:04d}" for i in range(n)],
        "insee": "30007",
        "section": "AB",
        "numero": [f"{i + 1:04d}" for i in range(n)],
        "contenance_m2": shapely.area(np.asarray(geoms)),
        "owner_kind": "private",
        "land_cover": "enaf",
    }
    base.update(columns)
    return gpd.GeoDataFrame(base, geometry=geoms, crs="EPSG:2154")


def _unit(parcels: gpd.GeoDataFrame, geometry: object = None, **columns: object):
    values = {
        "unit_id": "U1",
        "idus": "|".join(parcels["idu"]),
        "origin": "activity_zone",
        "owner_kind": "private",
        "enaf_share": 1.0,
        "is_friche": False,
    }
    values.update(columns)
    geom = shapely.union_all(parcels.geometry.to_numpy()) if geometry is None else geometry
    return gpd.GeoDataFrame({k: [v] for k, v in values.items()}, geometry=[geom], crs="EPSG:2154")


def _placed(areas: dict[str, float], unit: str = "U1", **columns: object) -> pd.DataFrame:
    return pd.DataFrame(
        {"project_id": list(areas), "unit_id": unit, "area_ha": list(areas.values()), **columns}
    )


def _check_lots(lots: gpd.GeoDataFrame, units: gpd.GeoDataFrame, placed: pd.DataFrame) -> None:
    """The invariants of every layout: disjoint, one piece each, inside the unit, big enough."""
    geoms = lots.geometry.to_numpy()
    i, j = np.triu_indices(len(geoms), k=1)
    assert (shapely.area(shapely.intersection(geoms[i], geoms[j])) < 1.0).all()
    # one connected piece: the pieces' gaps are below the tolerance of 0.5 m
    assert (shapely.get_num_geometries(shapely.buffer(geoms, 0.25)) == 1).all()
    host = units.set_index("unit_id").geometry.reindex(lots["unit_id"]).to_numpy()
    assert (shapely.area(shapely.difference(geoms, host)) < 1.0).all()
    need = placed.set_index("project_id")["area_ha"].reindex(lots["project_id"]).to_numpy()
    assert (lots["lot_area_ha"].to_numpy() >= need - 1e-6).all()
    assert np.allclose(lots["lot_area_ha"], shapely.area(geoms) / 1e4)


def test_three_by_three_grid_three_projects_whole_parcels() -> None:
    """Nine 1 ha parcels, projects of 4, 3 and 2 ha: a 2x2 corner, the right column, the rest."""
    parcels = _parcels(
        grid(),
        owner_kind=["public"] * 3 + ["private"] * 6,
        land_cover=["enaf"] * 5 + ["artificialised"] * 4,
    )
    units = _unit(parcels, enaf_share=5 / 9)
    placed = _placed({"P2": 2.0, "P3": 3.0, "P4": 4.0})
    layout = lay_out_lots(placed, units, parcels)
    lots = layout.lots.set_index("project_id")
    assert layout.failed.empty
    # largest first, from the lower-left corner (the first of the four farthest cells)
    assert lots.loc["P4", "idus"] == "|".join(IDU[k] for k in (0, 1, 3, 4))
    assert lots.loc["P3", "idus"] == "|".join(IDU[k] for k in (2, 5, 8))
    assert lots.loc["P2", "idus"] == "|".join(IDU[k] for k in (6, 7))
    assert lots["lot_area_ha"].to_dict() == pytest.approx({"P4": 4.0, "P3": 3.0, "P2": 2.0})
    assert lots["n_parcels"].to_dict() == {"P4": 4, "P3": 3, "P2": 2}
    # public parcels are 1-3 (the bottom row): P4 holds two, P3 one
    assert lots["public_share"].to_dict() == pytest.approx({"P4": 0.5, "P3": 1 / 3, "P2": 0.0})
    assert lots.loc["P4", "owner_kinds"] == "private|public"
    # ENAF parcels are 1-5: P4 all four, P3 parcel 3 only, P2 none
    assert lots["enaf_ha"].to_dict() == pytest.approx({"P4": 4.0, "P3": 1.0, "P2": 0.0})
    assert not lots["split"].any()
    assert lots["n_owners"].isna().all()  # no owner_id in the parcels: the kinds say what is known
    assert (shapely.get_type_id(layout.lots.geometry.to_numpy()) == 3).all()
    _check_lots(layout.lots, units, placed)
    check_table(layout.lots, "lots")


def test_a_parcel_is_cut_only_where_needed() -> None:
    """Two 4.5 ha projects on nine 1 ha parcels: one parcel is cut in two, the others are whole."""
    parcels = _parcels(grid(), owner_id=["A", "A", "B", "B", "C", "C", "D", "D", "E"])
    units = _unit(parcels)
    placed = _placed({"P1": 4.5, "P2": 4.5})
    layout = lay_out_lots(placed, units, parcels)
    assert layout.failed.empty
    lots = layout.lots.set_index("project_id")
    assert lots["split"].all()
    assert lots["lot_area_ha"].to_numpy() == pytest.approx([4.5, 4.5], abs=1e-6)
    split = layout.pieces[layout.pieces["split"]]
    assert split["idu"].nunique() == 1 and len(split) == 2  # one parcel, one straight cut
    assert shapely.area(split.geometry.to_numpy()) == pytest.approx([5000.0, 5000.0], abs=0.01)
    # owners counted from owner_id: P1 takes parcels 1, 2, 4, 5 and half of 3 (owners A, B, C)
    assert lots.loc["P1", "n_owners"] == 3
    _check_lots(layout.lots, units, placed)
    # a 2.5 ha project alone takes three whole parcels; capped at 2.5 ha it cuts one
    whole = lay_out_lots(_placed({"P": 2.5}), units, parcels).lots
    assert whole["lot_area_ha"].iloc[0] == pytest.approx(3.0) and not whole["split"].iloc[0]
    capped = lay_out_lots(_placed({"P": 2.5}, area_max_ha=2.5), units, parcels).lots
    assert capped["lot_area_ha"].iloc[0] == pytest.approx(2.5, abs=1e-6) and capped["split"].iloc[0]


def test_a_parcel_no_straight_cut_can_slice_is_never_taken_whole_past_the_maximum() -> None:
    """An H-shaped 1.32 ha parcel and a 0.3 ha project (0.3 ha at most).

    Taken whole it passes the maximum; a straight cut across its long axis, from either
    end, gives the tips of both legs (two polygons): no lot, said so.  A straight strip of
    the same area gives its 0.3 ha slice.
    """
    x0, y0 = 700_000, 6_300_000
    legs = [shapely.box(x0, y0, x0 + 30, y0 + 200), shapely.box(x0 + 70, y0, x0 + 100, y0 + 200)]
    h = shapely.union_all([*legs, shapely.box(x0 + 30, y0 + 85, x0 + 70, y0 + 115)])
    strip = shapely.box(x0, y0, x0 + 30, y0 + 440)
    placed = _placed({"P1": 0.3}, area_max_ha=0.3)
    parcels = _parcels([h])
    layout = lay_out_lots(placed, _unit(parcels), parcels)
    assert layout.lots.empty
    assert layout.failed[["project_id", "unit_id"]].values.tolist() == [["P1", "U1"]]
    assert layout.failed["explanation"].iloc[0] == (
        "aucun lot d'un seul tenant de 0,3 ha ne peut être découpé dans les parcelles encore "
        "libres de l'unité U1 (1,32 ha libres)"
    )
    parcels = _parcels([strip])
    lots = lay_out_lots(placed, _unit(parcels), parcels).lots
    assert lots["lot_area_ha"].iloc[0] == pytest.approx(0.3, abs=1e-6) and lots["split"].iloc[0]


def test_a_unit_without_listed_parcels_is_cut_in_straight_slices() -> None:
    """A 9 ha ZAE plot drawn by its own polygon: three slices, no parcel ids."""
    parcels = _parcels(grid())
    units = _unit(parcels, idus="", origin="zae_plot", enaf_share=0.5)
    placed = _placed({"P2": 2.0, "P3": 3.0, "P4": 4.0}, area_max_ha=[2.0, 3.0, 4.0])
    layout = lay_out_lots(placed, units, parcels)
    assert layout.failed.empty
    lots = layout.lots.set_index("project_id")
    assert (lots["idus"] == "").all() and (lots["n_parcels"] == 0).all()
    assert lots["enaf_ha"].to_dict() == pytest.approx({"P4": 2.0, "P3": 1.5, "P2": 1.0}, abs=1e-6)
    _check_lots(layout.lots, units, placed)


def test_no_contiguous_lot_is_a_failure_naming_the_project() -> None:
    """Two parcels touching by a corner hold 2 ha, but no 2 ha lot of one piece."""
    cells = grid()
    parcels = _parcels([cells[0], cells[4]])
    units = _unit(parcels)
    i, _ = piece_adjacency(unit_pieces(units, parcels).geometry.to_numpy(), np.zeros(2, dtype=int))
    assert len(i) == 0  # a corner is not a common border
    layout = lay_out_lots(_placed({"P": 2.0, "Q": 0.5}), units, parcels)
    assert layout.failed["project_id"].tolist() == ["P"]
    assert "2 ha" in layout.failed["explanation"].iloc[0]
    assert layout.lots["project_id"].tolist() == ["Q"]


def test_exclusions_are_left_out_of_the_lots() -> None:
    """The net area (a PPRI hole removed) bounds the lots; the lot's ENAF share is its own."""
    parcels = _parcels(grid(), land_cover=["artificialised"] * 4 + ["enaf"] * 5)
    hole = shapely.Point(700_150, 6_300_150).buffer(40)
    net = shapely.difference(shapely.union_all(parcels.geometry.to_numpy()), hole)
    units = _unit(parcels, geometry=net)
    placed = _placed({"P": 8.0})
    layout = lay_out_lots(placed, units, parcels)
    lot = layout.lots.iloc[0]
    assert shapely.area(shapely.intersection(lot.geometry, hole)) < 1.0
    assert lot["lot_area_ha"] == pytest.approx(shapely.area(net) / 1e4)  # every piece needed
    assert lot["enaf_share"] == pytest.approx(
        (5e4 - shapely.area(shapely.intersection(hole, parcels.geometry[4]))) / shapely.area(net)
    )
    _check_lots(layout.lots, units, placed)


def test_a_whole_parcel_is_taken_when_it_fits() -> None:
    """A 0.5 ha strip then two 1 ha squares; a project of 0.9 to 1.1 ha.

    Grown from the farthest piece (the strip, 0.5 ha), the lot needs 0.4 ha more
    and its 1 ha neighbour would make it 1.5 ha: cut.  Whole parcels first, the
    farthest square that completes the lot alone is taken whole (1 ha).
    """
    x0, y0 = 700_000, 6_300_000
    geoms = [
        shapely.box(x0, y0, x0 + 50, y0 + 100),
        shapely.box(x0 + 50, y0, x0 + 150, y0 + 100),
        shapely.box(x0 + 150, y0, x0 + 250, y0 + 100),
    ]
    parcels = _parcels(geoms)
    units = _unit(parcels)
    placed = _placed({"P1": 0.9}, area_max_ha=1.1)
    whole = lay_out_lots(placed, units, parcels).lots.iloc[0]
    assert not whole["split"] and whole["n_parcels"] == 1
    assert whole["idus"] == IDU[2] and whole["lot_area_ha"] == pytest.approx(1.0)
    tight_layout = lay_out_lots(placed, units, parcels, whole_parcels=False)
    tight = tight_layout.lots.iloc[0]
    assert tight["split"] and tight["idus"] == f"{IDU[0]}|{IDU[1]}"
    assert tight["lot_area_ha"] == pytest.approx(0.9, abs=1e-3)
    # the land officer's list: the strip whole, 0.4 ha cut from the square next to it
    listed = lot_parcels(tight_layout.pieces)
    assert listed["idu"].tolist() == [IDU[0], IDU[1]]
    assert listed["taken_ha"].to_numpy() == pytest.approx([0.5, 0.4], abs=1e-3)
    assert listed["split"].tolist() == [False, True]
    assert listed["owner_kind"].tolist() == ["private", "private"]
    assert listed["owner_id"].isna().all()
    # without room above the minimum the whole parcel is not taken either
    capped = lay_out_lots(_placed({"P1": 0.9}, area_max_ha=0.95), units, parcels).lots.iloc[0]
    assert capped["split"] and capped["lot_area_ha"] == pytest.approx(0.9, abs=1e-3)
    # nor when the unit's next project needs the land (0.9 + 1.5 ha of 2.5 ha)
    two = _placed({"P1": 1.5, "P2": 0.9}, area_max_ha=[1.6, 1.1])
    lots = lay_out_lots(two, units, parcels).lots.set_index("project_id")
    assert lots["lot_area_ha"].sum() <= 2.5 + 1e-6 and len(lots) == 2


@st.composite
def _random_unit(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    nx, ny = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    widths = draw(st.lists(st.floats(20, 150), min_size=nx, max_size=nx))
    heights = draw(st.lists(st.floats(20, 150), min_size=ny, max_size=ny))
    xs = 700_000 + np.concatenate([[0.0], np.cumsum(widths)])
    ys = 6_300_000 + np.concatenate([[0.0], np.cumsum(heights)])
    cells = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(ny) for i in range(nx)]
    keep = draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))
    kept = [c for c, k in zip(cells, keep, strict=True) if k] or cells[:1]
    parcels = _parcels(kept, land_cover=draw(st.sampled_from(["enaf", "artificialised"])))
    whole = shapely.union_all(parcels.geometry.to_numpy())
    if draw(st.booleans()):  # an exclusion bites into the unit
        x, y = draw(st.floats(xs[0], xs[-1])), draw(st.floats(ys[0], ys[-1]))
        whole = shapely.difference(whole, shapely.Point(x, y).buffer(draw(st.floats(5, 60))))
    units = _unit(parcels, geometry=whole)
    total = shapely.area(whole) / 1e4
    shares = draw(st.lists(st.floats(0.05, 1.0), min_size=1, max_size=4))
    fill = draw(st.floats(0.2, 0.95))
    areas = {f"P{k}": total * fill * s / sum(shares) for k, s in enumerate(shares)}
    caps = draw(st.sampled_from([None, 1.0, 1.3]))
    placed = _placed(areas)
    if caps is not None:
        placed["area_max_ha"] = placed["area_ha"] * caps
    return parcels, units, placed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_random_unit())
def test_random_units_lots_are_disjoint_connected_inside_and_big_enough(
    case: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame],
) -> None:
    parcels, units, placed = case
    layout = lay_out_lots(placed, units, parcels)
    laid = set(layout.lots["project_id"])
    assert laid | set(layout.failed["project_id"]) == set(placed["project_id"])
    assert not laid & set(layout.failed["project_id"])
    _check_lots(layout.lots, units, placed)
    # a unit in one piece always holds one project that fits its area
    one = placed.iloc[[0]].assign(area_ha=min(placed["area_ha"].iloc[0], units.area.iloc[0] / 1e4))
    if shapely.get_num_geometries(units.geometry.iloc[0]) == 1:
        assert lay_out_lots(one, units, parcels).failed.empty
    # whole parcels first never leaves a project out that lots cut to the minimum place,
    # and a lot of whole parcels stays within the project's largest area
    tight = lay_out_lots(placed, units, parcels, whole_parcels=False)
    assert len(layout.failed) <= len(tight.failed)
    if "area_max_ha" in placed.columns:
        most = placed.set_index("project_id")["area_max_ha"].reindex(layout.lots["project_id"])
        uncut = ~layout.lots["split"].to_numpy()
        assert (layout.lots["lot_area_ha"].to_numpy()[uncut] <= most.to_numpy()[uncut] + 1e-6).all()
    # deterministic
    again = lay_out_lots(placed, units, parcels)
    assert again.lots.drop(columns="geometry").equals(layout.lots.drop(columns="geometry"))
    assert shapely.equals_exact(
        again.lots.geometry.to_numpy(), layout.lots.geometry.to_numpy(), 1e-9
    ).all()


@dataclass
class _Match:
    """A solver's answer without candidate pairs: what :func:`place_with_lots` reads of it."""

    assignments: pd.DataFrame
    solve: SolveReport = field(
        default_factory=lambda: SolveReport("optimal", "", 0.0, 0.0, 0.0, 0.0, 0, 0)
    )
    setup: None = None
    unmatched: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                c: pd.Series(dtype=object)
                for c in ("project_id", "reason_code", "unit_id", "explanation", "hint")
            }
        )
    )


def test_place_with_lots_solves_again_without_pairs_it_cannot_lay_out() -> None:
    """The first solution's unit has no 2 ha lot of one piece; the second is laid out."""
    cells = grid()
    far = [shapely.affinity.translate(c, 1_000) for c in cells]
    parcels = _parcels([cells[0], cells[4], *far])
    u1 = _unit(parcels.iloc[:2])
    u2 = _unit(parcels.iloc[2:], unit_id="U2")
    units = pd.concat([u1, u2], ignore_index=True)
    projects = pd.DataFrame({"project_id": ["P"], "area_max_ha": [9.0], "is_pene": [False]})
    calls: list[list[tuple[str, str]]] = []

    def solve(forbidden: pd.DataFrame, start: pd.DataFrame | None = None) -> _Match:
        banned = list(map(tuple, forbidden[["project_id", "unit_id"]].to_numpy().tolist()))
        calls.append(banned)
        unit = "U2" if ("P", "U1") in banned else "U1"
        return _Match(_placed({"P": 2.0}, unit=unit, enaf_ha=2.0))

    remaining = pd.Series({"30007": 10.0})
    unit_pool = pd.Series({"U1": "30007", "U2": "30007"})
    match, layout, forbidden = place_with_lots(
        solve, units, parcels, remaining, unit_pool, projects
    )
    assert calls == [[], [("P", "U1")]]
    assert forbidden["project_id"].tolist() == ["P"] and forbidden["unit_id"].tolist() == ["U1"]
    assert layout.lots["unit_id"].tolist() == ["U2"]
    assert match.assignments["unit_id"].tolist() == ["U2"]


def test_place_with_lots_takes_out_what_it_still_cannot_lay_out_after_its_last_solve() -> None:
    """A solver that keeps the same impossible pair: after MAX_ROUNDS it is taken out, no_lot."""
    cells = grid()
    parcels = _parcels([cells[0], cells[4]])
    units = _unit(parcels)
    projects = pd.DataFrame({"project_id": ["P"], "area_max_ha": [9.0], "is_pene": [False]})
    starts: list[int | None] = []

    def solve(forbidden: pd.DataFrame, start: pd.DataFrame | None = None) -> _Match:
        starts.append(None if start is None else len(start))
        return _Match(_placed({"P": 2.0}, unit="U1", enaf_ha=2.0))

    match, layout, forbidden = place_with_lots(
        solve, units, parcels, pd.Series({"30007": 10.0}), pd.Series({"U1": "30007"}), projects
    )
    # each solve after the first starts from the previous solution without the refused pair
    assert starts == [None] + [0] * (MAX_ROUNDS - 1)
    assert layout.solves == MAX_ROUNDS and layout.lots.empty
    assert match.assignments.empty
    row = match.unmatched.set_index("project_id").loc["P"]
    assert row["reason_code"] == "no_lot" and row["unit_id"] == "U1"
    assert row["hint"] == NO_LOT_HINT and row["explanation"]
    assert forbidden[["project_id", "unit_id"]].drop_duplicates().values.tolist() == [["P", "U1"]]


def _split_units(net_u5: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """U1-U4: two 1 ha parcels 100 m apart (no 2 ha lot), interchange at 1-4 km; U5: two side
    by side, interchange at 5 km, ``net_u5`` ha net."""
    from tests.test_matching import units_table

    cells = grid()
    blocks = [(cells[0], cells[2])] * 4 + [(cells[0], cells[1])]
    geoms = [
        shapely.affinity.translate(g, 1_000 * k) for k, pair in enumerate(blocks) for g in pair
    ]
    parcels = _parcels(geoms)
    idus = parcels["idu"].to_numpy()
    units = gpd.GeoDataFrame(
        units_table(
            5,
            net_area_ha=[2.0] * 4 + [net_u5],
            dist_interchange_km=[1.0, 2.0, 3.0, 4.0, 5.0],
            idus=[f"{idus[2 * k]}|{idus[2 * k + 1]}" for k in range(5)],
            origin="activity_zone",
            owner_kind="private",
        ),
        geometry=[shapely.union(geoms[2 * k], geoms[2 * k + 1]) for k in range(5)],
        crs="EPSG:2154",
    )
    return units, parcels


@pytest.mark.parametrize(("net_u5", "placed_on"), [(2.0, "U5"), (1.5, None)])
def test_a_project_taken_out_after_the_last_solve_is_put_back_where_a_lot_fits(
    net_u5: float, placed_on: str | None
) -> None:
    """P1 (2 ha, 10 jobs) prefers U1, then U2, U3, U4 (closer to the interchange): none gives a
    2 ha lot of one piece.  Each solve forbids one; after the fourth, P1 is taken out and put
    back on U5, the one unit left whose parcels give it a lot; with U5 too small it stays out,
    ``no_lot``."""
    from tests.test_matching import pools_of, projects_table

    units, parcels = _split_units(net_u5)
    projects = projects_table(1, area_min_ha=2.0, area_max_ha=2.0, jobs=10)
    remaining = pd.Series({"30007": 9.0})

    def solve(forbidden: pd.DataFrame, start: pd.DataFrame | None):
        return match_projects(
            projects,
            units,
            remaining,
            pools_of(units),
            forbidden=forbidden,
            start=start,
            unlock=False,
        )

    match, layout, forbidden = place_with_lots(
        solve, units, parcels, remaining, pools_of(units), projects
    )
    assert layout.solves == MAX_ROUNDS
    assert forbidden["unit_id"].tolist() == ["U1", "U2", "U3", "U4"]
    # the first solve, before any pair was forbidden, is kept for a later warm start
    assert layout.before_lots.values.tolist() == [["P1", "U1"]]
    assert layout.objective_before_lots == pytest.approx(10 + PLACEMENT_VALUE)
    if placed_on is None:
        assert match.assignments.empty and layout.lots.empty
        row = match.unmatched.set_index("project_id").loc["P1"]
        assert (row["reason_code"], row["unit_id"]) == ("no_lot", "U4")
        assert match.solve.objective == 0.0
        assert match.setup.chosen.tolist() == []
        return
    assert match.assignments[["project_id", "unit_id"]].values.tolist() == [["P1", placed_on]]
    assert match.unmatched.empty
    assert match.solve.objective == pytest.approx(10 + PLACEMENT_VALUE)
    # the unlocks and the sensitivity start from the solution published
    assert match.setup.pairs.iloc[match.setup.chosen]["unit_id"].tolist() == [placed_on]
    assert layout.lots[["project_id", "unit_id"]].values.tolist() == [["P1", placed_on]]
    assert layout.lots["lot_area_ha"].iloc[0] == pytest.approx(2.0)
    assert layout.failed.empty
    assert set(layout.pieces["project_id"]) == {"P1"} and len(layout.pieces) == 2
    check_table(match.assignments, "assignments")
    # the same inputs give the same result
    again = place_with_lots(solve, units, parcels, remaining, pools_of(units), projects)
    assert again[0].assignments.equals(match.assignments)
    assert again[1].lots.drop(columns="geometry").equals(layout.lots.drop(columns="geometry"))


def test_place_with_lots_keeps_the_pool_within_budget_with_the_lots_own_enaf() -> None:
    """A 2.5 ha project charged 2.5 ha takes three whole ENAF parcels: 3 ha, over 2.8 ha left."""
    parcels = _parcels(grid())
    units = _unit(parcels)
    other = _unit(
        _parcels([shapely.affinity.translate(c, 1_000) for c in grid()]),
        unit_id="U2",
        enaf_share=0.0,
    )
    parcels2 = pd.concat(
        [parcels, _parcels([shapely.affinity.translate(c, 1_000) for c in grid()])],
        ignore_index=True,
    )
    parcels2["idu"] = parcels2["idu"].where(parcels2.index < 9, "30007000AC" + parcels2["numero"])
    parcels2.loc[9:, "land_cover"] = "artificialised"
    other["idus"] = "|".join(parcels2["idu"].iloc[9:])
    both = pd.concat([units, other], ignore_index=True)
    projects = pd.DataFrame({"project_id": ["P"], "area_max_ha": [None], "is_pene": [False]})

    def solve(forbidden: pd.DataFrame, start: pd.DataFrame | None = None) -> _Match:
        unit = "U2" if len(forbidden) else "U1"
        return _Match(_placed({"P": 2.5}, unit=unit, enaf_ha=2.5 if unit == "U1" else 0.0))

    match, layout, forbidden = place_with_lots(
        solve,
        both,
        gpd.GeoDataFrame(parcels2, crs="EPSG:2154"),
        pd.Series({"30007": 2.8}),
        pd.Series({"U1": "30007", "U2": "30007"}),
        projects,
        charging=EnafCharging(),
    )
    assert forbidden["unit_id"].tolist() == ["U1"]
    assert "3 ha" in forbidden["explanation"].iloc[0]
    assert layout.lots["enaf_ha"].tolist() == [0.0]


def test_place_with_lots_cuts_to_the_minimum_rather_than_exceed_the_budget() -> None:
    """The strip and two squares of ENAF: the whole 1 ha square would charge 1 ha of 0.95 left.

    Cut to its minimal 0.9 ha the lot fits: the pair is kept, nothing is solved again.
    """
    x0, y0 = 700_000, 6_300_000
    parcels = _parcels(
        [
            shapely.box(x0, y0, x0 + 50, y0 + 100),
            shapely.box(x0 + 50, y0, x0 + 150, y0 + 100),
            shapely.box(x0 + 150, y0, x0 + 250, y0 + 100),
        ]
    )
    units = _unit(parcels)
    projects = pd.DataFrame({"project_id": ["P1"], "area_max_ha": [1.1], "is_pene": [False]})

    def solve(forbidden: pd.DataFrame, start: pd.DataFrame | None = None) -> _Match:
        return _Match(_placed({"P1": 0.9}, enaf_ha=0.9))

    for left, lot_ha in ((0.95, 0.9), (2.0, 1.0)):
        _, layout, forbidden = place_with_lots(
            solve,
            units,
            parcels,
            pd.Series({"30007": left}),
            pd.Series({"U1": "30007"}),
            projects,
            charging=EnafCharging(),
        )
        assert forbidden.empty and layout.solves == 1
        assert layout.lots["lot_area_ha"].iloc[0] == pytest.approx(lot_ha, abs=1e-3)
        assert layout.lots["enaf_ha"].iloc[0] <= left + 1e-6
        assert bool(layout.lots["split"].iloc[0]) == (lot_ha < 1.0)


def test_scenario_placements_are_lots_within_budget(scenario_dir: Path) -> None:
    """The sample scenario written out: lots inside their units, disjoint, ENAF balance exact."""
    result = ScenarioResult.from_folder(scenario_dir)
    lots, units = result.placements, result.units
    assert len(lots) == len(result.assignments) > 0
    _check_lots(
        lots.assign(lot_area_ha=shapely.area(lots.geometry.to_numpy()) / 1e4),
        units,
        result.assignments.assign(area_ha=result.assignments["area_ha"] - 1e-6),
    )
    a = result.assignments
    assert (a["lot_area_ha"] >= a["area_ha"] - 1e-6).all()
    # the balance charges the lots' own ENAF: lot area x lot ENAF share, outside friches and PENE
    charged = a["lot_area_ha"] * a["enaf_share"] * ~(a["is_friche"] | a["is_pene"])
    assert result.zan_balance["consumed_by_placements_ha"].sum() == pytest.approx(
        charged.sum(), abs=1e-6
    )
    assert a["enaf_ha"].sum() == pytest.approx(charged.sum(), abs=1e-6)
    before = result.zan_balance["remaining_before_ha"].clip(lower=0)
    assert (result.zan_balance["consumed_by_placements_ha"] <= before + 1e-6).all()
    # parcelles.csv: one row per (project, parcel), adding up to each lot
    listed = result.lot_parcels
    assert not listed.duplicated(["project_id", "idu"]).any()
    taken = listed.groupby("project_id")["taken_ha"].sum()
    lot_ha = a.set_index("project_id")["lot_area_ha"]
    assert taken.reindex(lot_ha.index).to_numpy() == pytest.approx(lot_ha.to_numpy(), abs=1e-6)
    joined = listed[listed["idu"] != ""].groupby("project_id")["idu"].agg("|".join)
    assert (joined == a.set_index("project_id")["idus"].reindex(joined.index)).all()
    split = listed.groupby("project_id")["split"].any()
    assert (split == a.set_index("project_id")["split"].reindex(split.index)).all()
    # every lot lists parcels of its unit
    unit_idus = units.set_index("unit_id")["idus"].fillna("").str.split("|")
    for pid_idus, uid in zip(a["idus"].fillna(""), a["unit_id"], strict=True):
        assert set(filter(None, pid_idus.split("|"))) <= set(unit_idus[uid])


def test_real_parcels_of_saint_martin_de_clelles(real_data: Path) -> None:
    """Real cadastre (38419): a block of contiguous parcels holds 3 projects as disjoint lots."""
    from foncier.io.cadastre import read_cadastre
    from foncier.supply import merge_units

    parcels = read_cadastre(real_data / "cadastre" / "cadastre-38419-parcelles.geojson")
    centre = shapely.centroid(shapely.union_all(parcels.geometry.to_numpy()))
    near = parcels[parcels.distance(centre) < 600].reset_index(drop=True)
    candidates = gpd.GeoDataFrame(
        {
            "insee": near["insee"],
            "origin": "activity_zone",
            "zone_type": "U",
            "owner_kind": "unknown",
            "idus": near["idu"],
            "site_id": "",
            "servicing_stage": "inconnu",
            "gross_area_ha": near.area / 1e4,
        },
        geometry=near.geometry.to_numpy(),
        crs="EPSG:2154",
    )
    merged = merge_units(candidates)
    unit = merged.iloc[[int(np.argmax(merged.area))]].reset_index(drop=True)
    unit = unit.assign(unit_id="U1", enaf_share=1.0, is_friche=False)
    total = unit.area.iloc[0] / 1e4
    assert total > 5  # a block of several hectares
    parcels = parcels.assign(owner_kind="unknown", land_cover="unknown")
    placed = _placed({"A": total * 0.4, "B": total * 0.25, "C": total * 0.15})
    layout = lay_out_lots(placed, unit, parcels)
    assert layout.failed.empty
    _check_lots(layout.lots, unit, placed)
    # whole real parcels first: most lots pieces are uncut parcels
    assert (~layout.pieces["split"]).sum() > layout.pieces["split"].sum()
    assert (layout.lots["n_parcels"] >= 1).all()


def test_a_project_left_without_a_lot_reads_no_lot() -> None:
    """A project whose only pair was forbidden is not called infeasible: it has no lot."""
    from foncier.lots import NO_LOT_HINT, explain_forbidden

    unmatched = pd.DataFrame(
        {
            "project_id": ["P", "Q"],
            "reason_code": ["infeasible", "outcompeted"],
            "requirement": ["area", None],
            "unit_id": [None, "U2"],
            "explanation": ["aucun terrain", "devancé"],
            "hint": [None, None],
        }
    )
    forbidden = pd.DataFrame(
        {
            "project_id": ["P", "Q"],
            "unit_id": ["U1", "U1"],
            "explanation": ["aucun lot d'un seul tenant de 2 ha", "aucun lot de 3 ha"],
        }
    )
    out = explain_forbidden(unmatched, forbidden)
    assert out["reason_code"].tolist() == ["no_lot", "outcompeted"]
    assert out.loc[0, "unit_id"] == "U1" and out.loc[0, "hint"] == NO_LOT_HINT
    assert out.loc[0, "explanation"] == "aucun lot d'un seul tenant de 2 ha"
    assert out.loc[1, "explanation"] == "devancé"  # still placeable elsewhere: its own reason
