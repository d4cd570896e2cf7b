"""Land supply: candidate land, screening, land units, criteria, summary, CLI."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from foncier.cli import main
from foncier.criteria import (
    CRITERIA,
    compactness,
    completeness,
    constraint_share,
    dist_housing_km,
    dist_to,
    enaf_share,
    net_area_ha,
    overlap_area_m2,
    unknown_cover_share,
)
from foncier.errors import NotFoundError
from foncier.layers import UnitCol, empty_layer, validate_layer
from foncier.supply import (
    UNIT_COLUMNS,
    candidate_land,
    land_units,
    merge_units,
    screen,
    supply_summary,
)
from foncier.territory import Territory

X0, Y0 = 700_000.0, 6_300_000.0
INSEE = "30007"


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def grid9() -> list[shapely.Polygon]:
    """3x3 block of 100 m parcels, row-major from the lower left."""
    return [box(i * 100, j * 100, (i + 1) * 100, (j + 1) * 100) for j in range(3) for i in range(3)]


def parcels_layer(geoms: list, owner=None, cover=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "idu": [f"{INSEE}000AB{i + 1:04d}" for i in range(n)],
            "insee": INSEE,
            "section": "AB",
            "numero": [f"{i + 1:04d}" for i in range(n)],
            "contenance_m2": shapely.area(np.asarray(geoms)),
            "owner_kind": owner or ["private"] * n,
            "land_cover": cover or ["enaf"] * n,
        },
        geometry=geoms,
        crs="EPSG:2154",
    )


def layer(name: str, rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    return validate_layer(name, gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:2154"))


def zones_layer(*zones: tuple[str, str | None, shapely.Geometry]) -> gpd.GeoDataFrame:
    rows = [
        {"zone_id": f"Z{k}", "insee": INSEE, "libelle": t, "zone_type": t, "destdomi": d}
        for k, (t, d, _) in enumerate(zones)
    ]
    return layer("plu_zones", rows, [g for *_, g in zones])


def constraints_layer(*cons: tuple[str, shapely.Geometry]) -> gpd.GeoDataFrame:
    rows = [
        {"constraint_id": f"C{k}", "kind": kind, "effect": "exclude"}
        for k, (kind, _) in enumerate(cons)
    ]
    return layer("constraints", rows, [g for _, g in cons])


def territory(
    parcels: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None = None,
    constraints: gpd.GeoDataFrame | None = None,
    dem_path: Path | None = None,
    **layers: gpd.GeoDataFrame,
) -> Territory:
    communes = layer(
        "communes",
        [{"insee": INSEE, "name": "Alès", "epci": "200066918"}],
        [box(-5000, -5000, 5000, 5000)],
    )
    if zones is None:
        zones = zones_layer(("U", "02", box(-1000, -1000, 1000, 1000)))
    all_layers = {
        "communes": communes,
        "parcels": validate_layer("parcels", parcels),
        "plu_zones": zones,
        **({"constraints": constraints} if constraints is not None else {}),
        **layers,
    }
    return Territory(
        name="test",
        layers=all_layers,
        enaf_consumption=empty_layer("enaf_consumption"),
        projects=empty_layer("projects"),
        dem_path=dem_path,
    )


def units_frame(geoms: list, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:2154")


@pytest.fixture
def plane_dem(tmp_path: Path) -> Path:
    """A 5 % plane rising eastwards, 25 m cells, around the grid."""
    transform = Affine(25, 0, X0 - 500, 0, -25, Y0 + 1000)
    z = np.tile(100 + np.arange(60) * 25 * 0.05, (60, 1)).astype("float32")
    path = tmp_path / "dem.tif"
    profile = dict(driver="GTiff", width=60, height=60, count=1, dtype="float32",
                   crs="EPSG:2154", transform=transform, nodata=-9999.0)  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path


# -- screening -----------------------------------------------------------------------
class TestScreen:
    def test_red_zone_over_one_column(self) -> None:
        t = territory(parcels_layer(grid9()), constraints=constraints_layer(
            ("ppri_red", box(200, -50, 350, 350))))  # fmt: skip
        cands = candidate_land(t)
        assert len(cands) == 9 and set(cands["origin"]) == {"activity_zone"}
        net = screen(cands, t.constraints)
        # the three parcels of the east column are fully inside the red zone: dropped
        assert net.attrs["dropped"] == 3
        assert sorted(net["idus"].str[-2:].astype(int)) == [1, 2, 4, 5, 7, 8]
        assert shapely.area(net.geometry.to_numpy()) == pytest.approx(np.full(6, 10_000.0))
        assert net["gross_area_ha"].tolist() == pytest.approx([1.0] * 6)

    def test_red_zone_over_half_a_column(self) -> None:
        t = territory(parcels_layer(grid9()), constraints=constraints_layer(
            ("ppri_red", box(250, -50, 350, 350))))  # fmt: skip
        net = screen(candidate_land(t), t.constraints)
        idx = net["idus"].str[-1].astype(int)
        area = dict(zip(idx, shapely.area(net.geometry.to_numpy()), strict=True))
        assert area == pytest.approx({1: 1e4, 2: 1e4, 3: 5e3, 4: 1e4, 5: 1e4, 6: 5e3, 7: 1e4,
                                      8: 1e4, 9: 5e3})  # fmt: skip
        assert net["gross_area_ha"].sum() == pytest.approx(9.0)

    def test_overlapping_constraints_and_penalised_share(self) -> None:
        t = territory(
            parcels_layer(grid9()),
            constraints=constraints_layer(
                ("ppri_red", box(0, 0, 150, 100)),
                ("natura2000", box(100, 0, 200, 100)),  # overlaps the red zone
                ("ppri_blue", box(0, 100, 50, 200)),
            ),
        )
        net = screen(candidate_land(t), t.constraints).set_index("idus")
        assert f"{INSEE}000AB0001" not in net.index and f"{INSEE}000AB0002" not in net.index
        assert net.loc[f"{INSEE}000AB0004", "penalised_share"] == pytest.approx(0.5)
        assert net.loc[f"{INSEE}000AB0005", "penalised_share"] == 0.0

    def test_only_kinds_asked_are_excluded(self) -> None:
        t = territory(parcels_layer(grid9()), constraints=constraints_layer(
            ("natura2000", box(0, 0, 300, 300))))  # fmt: skip
        assert len(screen(candidate_land(t), t.constraints, exclude=["ppri_red"])) == 9
        assert len(screen(candidate_land(t), t.constraints)) == 0

    def test_unknown_kind(self) -> None:
        t = territory(parcels_layer(grid9()))
        with pytest.raises(NotFoundError, match="flood"):
            screen(candidate_land(t), t.constraints, exclude=["flood"])
        with pytest.raises(NotFoundError, match="flood"):
            land_units(t, exclude=["flood"])

    @settings(max_examples=25, deadline=None)
    @given(x0=st.floats(-50, 300), width=st.floats(1, 200), y0=st.floats(-50, 250))
    def test_net_area_adds_up(self, x0: float, width: float, y0: float) -> None:
        red = box(x0, y0, x0 + width, y0 + 80)
        t = territory(parcels_layer(grid9()), constraints=constraints_layer(("ppri_red", red)))
        net = screen(candidate_land(t), t.constraints, min_area_m2=0.0)
        block = box(0, 0, 300, 300)
        expected = 90_000.0 - shapely.area(shapely.intersection(block, red))
        assert shapely.area(net.geometry.to_numpy()).sum() == pytest.approx(expected, abs=1e-3)


# -- candidate land ------------------------------------------------------------------
class TestCandidates:
    def test_zone_rules(self) -> None:
        geoms = [box(0, 0, 100, 100), box(200, 0, 300, 100), box(400, 0, 500, 100),
                 box(600, 0, 700, 100)]  # fmt: skip
        zones = zones_layer(
            ("U", "02", box(-10, -10, 110, 110)),
            ("U", "01", box(190, -10, 310, 110)),  # housing
            ("A", "02", box(390, -10, 510, 110)),  # agricultural
            ("AUs", "02", box(590, -10, 710, 110)),
        )
        cands = candidate_land(territory(parcels_layer(geoms), zones))
        assert cands["idus"].str[-1].astype(int).tolist() == [1, 4]
        assert cands["zone_type"].tolist() == ["U", "AUs"]
        assert cands.index.equals(pd.RangeIndex(2))

    @pytest.mark.parametrize(("split", "expected"), [(40, []), (50, ["AUc"]), (70, ["AUc"])])
    def test_parcel_mostly_in_activity_zones(self, split: float, expected: list) -> None:
        # a parcel split between an AUc activity zone (west, `split` m wide), a U
        # activity zone (next 10 m) and a housing zone
        zones = zones_layer(
            ("AUc", "02", box(-10, -10, split - 10, 110)),
            ("U", "02", box(split - 10, -10, split, 110)),
            ("U", "01", box(split, -10, 200, 110)),
        )
        cands = candidate_land(territory(parcels_layer([box(0, 0, 100, 100)]), zones))
        assert cands["zone_type"].tolist() == expected

    def test_zae_plots_and_friches(self) -> None:
        geoms = [box(i * 100, 0, (i + 1) * 100, 100) for i in range(6)]
        plots = layer(
            "zae_plots",
            [
                {
                    "plot_id": "P1",
                    "site_id": "Z1",
                    "refcad": f"{INSEE}000AB0001",
                    "servicing_stage": "viabilisé non aménagé",
                    "occupancy": "vacant",
                },
                {
                    "plot_id": "P2",
                    "site_id": "Z1",
                    "refcad": f"{INSEE}000AB0002",
                    "servicing_stage": "viabilisé et aménagé",
                    "occupancy": "occupé",
                },
                {
                    "plot_id": "P3",
                    "site_id": "Z1",
                    "refcad": f"{INSEE}000AB0003",
                    "servicing_stage": "non aménageable",
                    "occupancy": "inoccupé",
                },
            ],  # fmt: skip
            geoms[:3],
        )
        zae = layer(
            "zae",
            [{"site_id": "Z1", "name": "ZI", "insee": INSEE, "surf_brute_ha": 3.0}],
            [box(0, 0, 300, 100)],
        )
        friches = layer(
            "friches",
            [
                {"site_id": "F1", "name": "usine", "insee": INSEE, "status": "friche sans projet"},
                {"site_id": "F2", "name": "mine", "insee": INSEE, "status": "friche reconvertie"},
                {
                    "site_id": "F3",
                    "name": "dépôt",
                    "insee": INSEE,
                    "status": "friche potentielle",
                    "surface_m2": 31_415.9,
                },
                {"site_id": "F4", "name": "point", "insee": INSEE, "status": "friche avec projet"},
            ],  # fmt: skip
            [
                box(300, 0, 400, 100),
                box(400, 0, 500, 100),
                shapely.Point(X0 + 2000, Y0),
                shapely.Point(X0 + 3000, Y0),
            ],  # fmt: skip
        )
        t = territory(parcels_layer(geoms), zae=zae, zae_plots=plots, friches=friches)
        cands = candidate_land(t)
        got = cands.set_index("site_id")
        assert cands["origin"].value_counts().to_dict() == {
            "zae_plot": 1, "friche": 2, "activity_zone": 2}  # fmt: skip
        assert got.loc["Z1", "idus"] == f"{INSEE}000AB0001"
        assert got.loc["Z1", "servicing_stage"] == "viabilisé non aménagé"
        assert got.loc["F1", "idus"] == f"{INSEE}000AB0004"  # found by location
        assert got.loc["F3", "idus"] == ""  # a disc of its surface, on no parcel
        assert shapely.area(got.loc["F3", "geometry"]) == pytest.approx(31_415.9, rel=1e-3)
        assert cands.attrs["friches_without_surface"] == 1
        # parcels 5 (reconverted friche) and 6 remain activity-zone parcels;
        # 2 and 3 are occupied or unbuildable ZAE plots, so not candidates
        activity = cands.loc[cands["origin"] == "activity_zone", "idus"]
        assert activity.str[-1].astype(int).tolist() == [5, 6]

    def test_empty_territory(self) -> None:
        t = territory(
            parcels_layer([box(0, 0, 100, 100)]), zones_layer(("A", None, box(0, 0, 1, 1)))
        )
        units = land_units(t)
        assert len(units) == 0 and list(units.columns[:-1]) == list(UNIT_COLUMNS)


# -- land units ----------------------------------------------------------------------
class TestMerge:
    def test_adjacent_merge_road_gap_does_not(self) -> None:
        geoms = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(210, 0, 310, 100)]
        units = land_units(territory(parcels_layer(geoms)))
        assert units["idus"].tolist() == [
            f"{INSEE}000AB0001|{INSEE}000AB0002",
            f"{INSEE}000AB0003",
        ]
        assert units["net_area_ha"].tolist() == pytest.approx([2.0, 1.0])
        assert units["unit_id"].tolist() == ["U-00001", "U-00002"]
        assert shapely.get_type_id(units.geometry.iloc[0]) == 3  # one polygon

    def test_owner_kind_splits_units(self) -> None:
        geoms = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)]
        units = land_units(territory(parcels_layer(geoms, owner=["public", "private", "private"])))
        assert sorted(units["net_area_ha"].round(6)) == [1.0, 2.0]
        assert set(units["owner_kind"]) == {"public", "private"}

    def test_red_zone_splits_a_block(self) -> None:
        # the middle column is excluded: two units of 3 ha, 100 m apart
        t = territory(parcels_layer(grid9()), constraints=constraints_layer(
            ("ppri_red", box(100, -10, 200, 310))))  # fmt: skip
        units = land_units(t)
        assert units["net_area_ha"].tolist() == pytest.approx([3.0, 3.0])
        assert units["gross_area_ha"].tolist() == pytest.approx([3.0, 3.0])

    def test_whole_block_is_one_unit(self) -> None:
        units = land_units(territory(parcels_layer(grid9())))
        assert len(units) == 1
        assert units["net_area_ha"].iloc[0] == pytest.approx(9.0)
        assert units["compactness"].iloc[0] == pytest.approx(np.pi / 4)
        assert len(units["idus"].iloc[0].split("|")) == 9

    def test_servicing_least_serviced_known(self) -> None:
        cands = gpd.GeoDataFrame(
            {
                "insee": INSEE,
                "origin": "zae_plot",
                "zone_type": "U",
                "owner_kind": "public",
                "idus": ["a", "b", "c"],
                "site_id": "Z",
                "servicing_stage": ["viabilisé et aménagé", "inconnu", "viabilisation en cours"],
                "gross_area_ha": [1.0, 2.0, 1.0],
            },  # fmt: skip
            geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)],
            crs="EPSG:2154",
        )
        units = merge_units(cands)
        assert units["servicing_stage"].tolist() == ["viabilisation en cours"]
        assert units["idus"].tolist() == ["a|b|c"] and units["n_candidates"].tolist() == [3]


@settings(max_examples=30, deadline=None)
@given(cells=st.lists(st.booleans(), min_size=16, max_size=16))
def test_units_are_the_connected_blocks(cells: list[bool]) -> None:
    """Units of a random set of cells of a 4x4 grid = its 8-connected components."""
    from scipy import ndimage

    chosen = np.array(cells).reshape(4, 4)
    geoms = [box(i * 100, j * 100, (i + 1) * 100, (j + 1) * 100)
             for j in range(4) for i in range(4) if chosen[j, i]]  # fmt: skip
    cands = gpd.GeoDataFrame(
        {
            "insee": INSEE,
            "origin": "activity_zone",
            "zone_type": "U",
            "owner_kind": "public",
            "idus": [f"p{k}" for k in range(len(geoms))],
            "site_id": "",
            "servicing_stage": "inconnu",
            "gross_area_ha": 1.0,
        },  # fmt: skip
        geometry=geoms,
        crs="EPSG:2154",
    )
    units = merge_units(cands)
    _, expected = ndimage.label(chosen, structure=np.ones((3, 3)))
    assert len(units) == expected
    assert units["gross_area_ha"].sum() == pytest.approx(len(geoms))
    assert shapely.area(units.geometry.to_numpy()).sum() == pytest.approx(len(geoms) * 1e4)
    assert sorted("|".join(units["idus"]).split("|")) == sorted(cands["idus"]) if geoms else True


# -- criteria ------------------------------------------------------------------------
class TestCriteria:
    def test_net_area_and_compactness(self) -> None:
        units = units_frame([box(0, 0, 100, 100), box(0, 0, 400, 100)])
        assert net_area_ha(units).tolist() == pytest.approx([1.0, 4.0])
        # Polsby-Popper: square pi/4, 4:1 rectangle 4*pi*4e4/1000**2
        assert compactness(units).tolist() == pytest.approx([np.pi / 4, 0.16 * np.pi])

    def test_distance_to_a_point_at_known_offset(self) -> None:
        units = units_frame([box(0, 0, 100, 100), box(5000, 0, 5100, 100)]).set_axis([10, 20])
        infra = layer(
            "infrastructure",
            [{"infra_id": "I1", "kind": "interchange"}, {"infra_id": "I2", "kind": "substation"}],
            [shapely.Point(X0 + 100 + 3000, Y0 + 100 + 4000), shapely.Point(X0 + 50, Y0 + 50)],
        )
        d = dist_to(units, infra, "interchange")
        assert d.name == "dist_interchange_km" and d.index.tolist() == [10, 20]
        assert d.tolist() == pytest.approx([5.0, np.hypot(1.9, 4.0)])
        assert dist_to(units, infra, "substation").tolist() == pytest.approx([0.0, 4.95])
        assert dist_to(units, infra, "rail_freight").isna().all()
        with pytest.raises(NotFoundError, match="airport"):
            dist_to(units, infra, "airport")

    def test_dist_housing(self) -> None:
        units = units_frame([box(0, 0, 100, 100)])
        zones = zones_layer(
            ("U", "02", box(-100, -100, 200, 200)),  # activity: ignored
            ("U", None, box(1100, 0, 1200, 100)),  # housing, 1 km east
            ("A", None, box(200, 0, 300, 100)),  # agricultural: ignored
        )
        assert dist_housing_km(units, zones).tolist() == pytest.approx([1.0])
        assert dist_housing_km(units, zones.iloc[:1]).isna().all()

    def test_enaf_share(self) -> None:
        parcels = parcels_layer(
            [box(0, 0, 100, 100), box(100, 0, 200, 100)], cover=["enaf", "artificialised"]
        )
        units = units_frame(
            [box(0, 0, 200, 100), box(0, 0, 200, 100), box(0, 0, 100, 100), box(900, 0, 950, 50)],
            origin=["activity_zone", "friche", "zae_plot", "activity_zone"],
        )
        assert enaf_share(units, parcels).tolist() == pytest.approx([0.5, 0.0, 1.0, np.nan],
                                                                    nan_ok=True)  # fmt: skip
        # no parcels layer: unknown, except for the friche
        empty = empty_layer("parcels")
        assert enaf_share(units, empty).isna().tolist() == [True, False, True, True]

    def test_unknown_cover_is_charged_by_the_rule_setting(self) -> None:
        parcels = parcels_layer(
            [box(x, 0, x + 100, 100) for x in (0, 100, 200, 300)],
            cover=["enaf", "artificialised", "unknown", "unknown"],
        )
        units = units_frame(
            [
                box(0, 0, 400, 100),
                box(100, 0, 300, 100),
                box(200, 0, 400, 100),
                box(0, 0, 400, 100),
            ],
            origin=["activity_zone", "zae_plot", "activity_zone", "friche"],
        )
        cautious = enaf_share(units, parcels)
        assert cautious.tolist() == pytest.approx([0.75, 0.5, 1.0, 0.0])
        lenient = enaf_share(units, parcels, unknown_as="artificialised")
        assert lenient.tolist() == pytest.approx([0.25, 0.0, 0.0, 0.0])
        assert unknown_cover_share(units, parcels).tolist() == pytest.approx([0.5, 0.5, 1.0, 0.0])
        # the difference between the two charges is exactly the unknown share
        assert (cautious - lenient).tolist() == pytest.approx([0.5, 0.5, 1.0, 0.0])
        with pytest.raises(NotFoundError, match="unknown_as"):
            enaf_share(units, parcels, unknown_as="inconnu")

    def test_land_units_carry_the_unknown_cover_share(self) -> None:
        cover = ["unknown"] * 4 + ["enaf"] * 5
        t = territory(parcels_layer(grid9(), cover=cover))
        cautious = land_units(t)
        assert UnitCol.UNKNOWN_COVER_SHARE in cautious.columns
        (unit,) = cautious.itertuples()
        assert unit.unknown_cover_share == pytest.approx(4 / 9)
        assert unit.enaf_share == pytest.approx(1.0)
        lenient = land_units(t, unknown_land_cover="artificialised")
        assert lenient["enaf_share"].tolist() == pytest.approx([5 / 9])

    def test_constraint_share(self) -> None:
        units = units_frame([box(0, 0, 100, 100), box(500, 0, 600, 100)])
        cons = constraints_layer(
            ("ppri_blue", box(50, 0, 150, 100)),
            ("ppri_blue", box(75, 0, 150, 100)),  # overlapping: not counted twice
            ("natura2000", box(0, 0, 25, 100)),
        )
        assert constraint_share(units, cons, "ppri_blue").tolist() == pytest.approx([0.5, 0.0])
        both = constraint_share(units, cons, ["ppri_blue", "natura2000"])
        assert both.tolist() == pytest.approx([0.75, 0.0])
        assert constraint_share(units, empty_layer("constraints"), "ppri_blue").isna().all()

    def test_overlap_area_shortcuts(self) -> None:
        geoms = np.array([box(0, 0, 100, 100), box(10, 10, 20, 20), box(500, 500, 510, 510)])
        layer_ = np.array([box(0, 0, 50, 100), box(50, 0, 150, 100)])
        assert overlap_area_m2(geoms, layer_).tolist() == pytest.approx([1e4, 100.0, 0.0])

    def test_completeness(self) -> None:
        full = {c: [1.0, np.nan] for c in CRITERIA}
        full.update(servicing_stage=["viabilisé", "inconnu"], zone_type=["U", None],
                    owner_kind=["public", "unknown"])  # fmt: skip
        assert completeness(pd.DataFrame(full)).tolist() == [1.0, 0.0]
        assert completeness(pd.DataFrame({"slope_mean_pct": [3.0]})).tolist() == [1 / len(CRITERIA)]


class TestLandUnits:
    def test_all_criteria_with_dem(self, plane_dem: Path) -> None:
        parcels = parcels_layer(grid9(), cover=["enaf", "artificialised", "artificialised"] * 3)
        infra = layer(
            "infrastructure",
            [{"infra_id": "I1", "kind": "interchange"}],
            [shapely.Point(X0 + 300, Y0 + 2300)],
        )
        units = land_units(territory(parcels, dem_path=plane_dem, infrastructure=infra))
        assert list(units.columns) == [*UNIT_COLUMNS, "geometry"]
        u = units.iloc[0]
        assert u["unit_id"] == "U-00001" and u["insee"] == INSEE and u["origin"] == "activity_zone"
        assert u["slope_mean_pct"] == pytest.approx(5.0, abs=0.1)
        assert u["slope_max_pct"] == pytest.approx(5.0, abs=0.1)
        # the artificialised parcels (columns 2 and 3) count as built: only column 1 is free
        assert u["idus"].split("|") == [f"{INSEE}000AB000{i}" for i in (1, 4, 7)]
        assert u["dist_interchange_km"] == pytest.approx(np.hypot(200, 2000) / 1000)
        assert u["enaf_share"] == pytest.approx(1.0)
        assert u["flood_share"] != u["flood_share"]  # no constraints layer: unknown
        assert u["servicing_stage"] == "inconnu" and not u["is_friche"]
        assert units.crs.to_epsg() == 2154 and units.index.equals(pd.RangeIndex(1))
        assert set(units.attrs["timings"]) >= {"candidats", "exclusions", "pentes"}

    def test_dem_not_covering_lowers_completeness(self, plane_dem: Path, tmp_path: Path) -> None:
        far = tmp_path / "far.tif"
        with rasterio.open(plane_dem) as src:
            profile = src.profile | {"transform": Affine(25, 0, X0 + 90_000, 0, -25, Y0 + 1000)}
            with rasterio.open(far, "w", **profile) as dst:
                dst.write(src.read())
        covered = land_units(territory(parcels_layer(grid9()), dem_path=plane_dem))
        uncovered = land_units(territory(parcels_layer(grid9()), dem_path=far))
        assert uncovered[["slope_mean_pct", "slope_max_pct"]].isna().all().all()
        drop = covered["completeness"].iloc[0] - uncovered["completeness"].iloc[0]
        assert drop == pytest.approx(2 / len(CRITERIA))

    def test_summary(self) -> None:
        geoms = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(400, 0, 500, 100)]
        friches = layer(
            "friches",
            [{"site_id": "F1", "name": "usine", "insee": INSEE, "status": "friche sans projet"}],
            [box(400, 0, 500, 100)],
        )
        units = land_units(territory(parcels_layer(geoms), friches=friches))
        communes = layer(
            "communes",
            [
                {"insee": INSEE, "name": "Alès", "epci": "200066918"},
                {"insee": "30028", "name": "Bagard", "epci": "200066918"},
            ],  # fmt: skip
            [box(-5000, -5000, 5000, 5000), box(5000, -5000, 9000, 5000)],
        )
        summary = supply_summary(units, communes).set_index("insee")
        assert summary.loc[INSEE, ["units", "available_ha", "friche_ha", "zae_ha", "enaf_ha"]
                           ].tolist() == pytest.approx([2, 3.0, 1.0, 0.0, 2.0])  # fmt: skip
        assert summary.loc["30028", "available_ha"] == 0.0
        # parcels all ENAF: nothing rests on the unknown-cover assumption; then one unknown parcel
        assert summary.loc[INSEE, "unknown_cover_ha"] == pytest.approx(0.0)
        unknown = parcels_layer(geoms, cover=["unknown", "enaf", "artificialised"])
        units = land_units(territory(unknown, friches=friches))
        summary = supply_summary(units, communes).set_index("insee")
        assert summary.loc[INSEE, ["enaf_ha", "unknown_cover_ha"]].tolist() == pytest.approx(
            [2.0, 1.0]
        )


# -- on the synthetic sample ---------------------------------------------------------
@pytest.fixture(scope="module")
def sample_units(sample_territory: Territory) -> gpd.GeoDataFrame:
    return land_units(sample_territory)


@pytest.mark.slow
class TestSample:
    def test_schema(self, sample_units: gpd.GeoDataFrame) -> None:
        u = sample_units
        assert len(u) > 20 and list(u.columns) == [*UNIT_COLUMNS, "geometry"]
        assert u["unit_id"].is_unique and u.index.equals(pd.RangeIndex(len(u)))
        assert set(u["origin"]) <= {"zae_plot", "friche", "activity_zone"}
        assert (u["net_area_ha"] <= u["gross_area_ha"] + 1e-9).all()
        for share in ("enaf_share", "flood_share", "natura2000_share", "completeness"):
            assert u[share].between(0, 1).all(), share
        assert (u.loc[u["is_friche"], "enaf_share"] == 0).all()
        assert u["slope_mean_pct"].notna().all()

    def test_units_do_not_overlap(self, sample_units: gpd.GeoDataFrame) -> None:
        geoms = sample_units.geometry.to_numpy()
        union = shapely.area(shapely.union_all(geoms))
        assert union == pytest.approx(shapely.area(geoms).sum(), rel=1e-6)

    def test_parcels_listed_exist(
        self, sample_units: gpd.GeoDataFrame, sample_territory: Territory
    ) -> None:
        idus = set("|".join(sample_units["idus"]).split("|")) - {""}
        assert idus <= set(sample_territory.parcels["idu"])


@pytest.mark.slow
def test_cli_supply(sample_folder: Path, tmp_path: Path) -> None:
    out, tif = tmp_path / "units.gpkg", tmp_path / "units.tif"
    result = CliRunner().invoke(
        main, ["supply", str(sample_folder), "-o", str(out), "--raster", str(tif)]
    )
    assert result.exit_code == 0, result.output
    assert "Disponible (ha)" in result.output and "Total" in result.output
    units = gpd.read_file(out, layer="land_units")
    assert units["unit_id"].is_unique and units.crs.to_epsg() == 2154
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 2154 and np.isfinite(src.read(1)).any()
    bad = CliRunner().invoke(main, ["supply", str(tmp_path / "nowhere"), "-o", str(out)])
    assert bad.exit_code == 2 and "Erreur" in bad.output


@pytest.mark.slow
def test_real_friches_and_srtm_dem(real_data: Path) -> None:
    """Alès Agglomération's 88 Cartofriches sites on the real SRTM DEM (west half only)."""
    from foncier.io.admin import read_communes
    from foncier.io.cartofriches import read_cartofriches

    admin = real_data / "admin"
    communes = read_communes(
        admin / "communes_ales_agglomeration_2018geom.geojson",
        epci_json=admin / "epci_france_decoupage_administratif.json",
    )
    friches = read_cartofriches(
        real_data / "friches" / "cartofriches_points_gard30_20231002.geojson",
        insee=communes["insee"],
    )
    t = Territory(
        name="Alès Agglomération",
        layers={"communes": communes, "friches": friches},
        enaf_consumption=empty_layer("enaf_consumption"),
        projects=empty_layer("projects"),
        dem_path=real_data / "dem" / "srtm30_cevennes_utm31n.tif",
    )
    units = land_units(t)
    assert len(units) == len(friches) == 88
    assert (units["origin"] == "friche").all() and (units["enaf_share"] == 0).all()
    surface = friches.set_index("site_id")["surface_m2"] / 1e4
    assert units["net_area_ha"].to_numpy() == pytest.approx(
        surface.loc[units["site_id"]].to_numpy(), rel=1e-6
    )
    # the DEM stops at about 4.122 E: friches east of it have no slope
    lon = gpd.GeoSeries(units.geometry.centroid).to_crs("EPSG:4326").x
    east, west = lon > 4.13, lon < 4.11
    assert east.any() and west.any()
    assert units.loc[east, "slope_mean_pct"].isna().all()
    assert units.loc[west, "slope_mean_pct"].between(0, 100).all()
    assert (units.loc[west, "slope_max_pct"] >= units.loc[west, "slope_mean_pct"]).all()
    assert units.loc[east, "completeness"].max() < units.loc[west, "completeness"].min()
    summary = supply_summary(units, communes)
    assert summary["friche_ha"].sum() == pytest.approx(units["net_area_ha"].sum())
    assert len(summary) == 72


def test_component_labels_number_components_as_scipy() -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from foncier.supply import component_labels

    rng = np.random.default_rng(0)
    for _ in range(200):
        n, m = int(rng.integers(1, 200)), int(rng.integers(0, 300))
        i, j = rng.integers(0, n, m), rng.integers(0, n, m)
        graph = coo_matrix((np.ones(m), (i, j)), (n, n))
        expected = connected_components(graph, directed=False)[1]
        assert component_labels(n, i, j).tolist() == expected.tolist()
    # a chain given backwards still ends in one component
    assert component_labels(4, np.array([3, 2, 1]), np.array([2, 1, 0])).tolist() == [0] * 4
