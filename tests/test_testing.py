"""The public test helpers: assert_layer_equal and tiny_territory."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from foncier.scenarios import Scenario
from foncier.supply import land_units
from foncier.territory import Territory
from foncier.testing import TINY_ORIGIN, assert_layer_equal, tiny_territory
from foncier.zan import budget_table


@pytest.fixture(scope="module")
def tiny() -> Territory:
    return tiny_territory()


@pytest.fixture(scope="module")
def tiny_units(tiny: Territory) -> gpd.GeoDataFrame:
    return land_units(tiny)


def layer(**columns: object) -> gpd.GeoDataFrame:
    geoms = columns.pop("geometry", [shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    base = {"id": ["a", "b"], "v": [1.0, 2.0]}
    return gpd.GeoDataFrame({**base, **columns}, geometry=geoms, crs="EPSG:2154")


# -- assert_layer_equal -------------------------------------------------------------------
def test_equal_layers_pass_and_ring_start_does_not_matter():
    a = layer()
    # the same square, its ring starting at another vertex and turning the other way
    b = layer(geometry=[shapely.Polygon([(0, 0), (0, 10), (10, 10), (10, 0)]), a.geometry[1]])
    assert_layer_equal(a, b)
    assert_layer_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(a[["id", "v"]]))


def test_geometry_difference_names_the_column_and_row_and_respects_the_tolerance():
    a = layer()
    b = layer(geometry=[a.geometry[0], shapely.box(10, 0, 20, 10.0005)])
    with pytest.raises(AssertionError, match=r"geometry column 'geometry' differs at rows \[1\]"):
        assert_layer_equal(a, b)
    assert_layer_equal(a, b, check_less_precise=True)  # 0.5 mm < 1 mm
    with pytest.raises(AssertionError, match="differs at rows"):
        assert_layer_equal(a, b, check_less_precise=1e-4)  # 0.1 mm


def test_missing_geometries_must_match():
    a = layer()
    b = layer(geometry=[a.geometry[0], None])
    with pytest.raises(AssertionError, match=r"missing geometries differ at rows \[1\]"):
        assert_layer_equal(a, b)


def test_value_difference_names_the_column():
    a, b = layer(), layer(v=[1.0, 2.0 + 1e-7])
    with pytest.raises(AssertionError, match="column 'v'"):
        assert_layer_equal(a, b)
    assert_layer_equal(a, b, check_less_precise=True)
    with pytest.raises(AssertionError, match="column 'id'"):
        assert_layer_equal(a, layer(id=["a", "c"]))


def test_crs_columns_dtypes_and_kind_are_checked():
    a = layer()
    with pytest.raises(AssertionError, match="the CRS differ"):
        assert_layer_equal(a, a.to_crs(4326))
    with pytest.raises(AssertionError, match=r"only in left \['v'\]"):
        assert_layer_equal(a, a.drop(columns="v"))
    with pytest.raises(AssertionError, match="column 'v' has dtype float64 and float32"):
        assert_layer_equal(a, a.astype({"v": "float32"}))
    assert_layer_equal(a, a.astype({"v": "float32"}), check_dtype=False, check_less_precise=True)
    with pytest.raises(AssertionError, match="one layer is a GeoDataFrame, the other a DataFrame"):
        assert_layer_equal(a, pd.DataFrame(a))
    with pytest.raises(AssertionError, match="2 and 1 rows"):
        assert_layer_equal(a, a.iloc[:1])


def test_column_and_row_order_with_check_like():
    a = layer()
    shuffled = a[["v", "geometry", "id"]].iloc[::-1]
    with pytest.raises(AssertionError, match="another order"):
        assert_layer_equal(a, shuffled)
    assert_layer_equal(a, shuffled, check_like=True)
    with pytest.raises(AssertionError, match="layer index"):
        assert_layer_equal(a, a.set_axis([5, 6]))
    assert_layer_equal(a, a.set_axis([5, 6]), check_index=False)


# -- tiny_territory -----------------------------------------------------------------------
def test_tiny_territory_is_deterministic_and_survives_a_round_trip(tiny, tmp_path):
    again = tiny_territory()
    for name, gdf in tiny.iter_layers():
        assert_layer_equal(gdf, again.layers[name])
    assert_layer_equal(tiny.projects, again.projects)
    tiny.to_folder(tmp_path / "t")
    back = Territory.from_folder(tmp_path / "t")
    for name, gdf in tiny.iter_layers():
        assert_layer_equal(back.layers[name], gdf, check_dtype=False)
    assert_layer_equal(back.enaf_consumption, tiny.enaf_consumption)
    assert (
        back.data_label == "Territoire de test (échantillon synthétique, données Cerema 2009-2023)"
    )


def test_tiny_territory_shapes():
    t = tiny_territory(3, parcels_per_side=3, commune_side_m=600)
    x0, y0 = TINY_ORIGIN
    assert t.communes.total_bounds.tolist() == [x0, y0, x0 + 1800, y0 + 600]
    assert len(t.parcels) == 27 and t.parcels.area.tolist() == pytest.approx([200 * 200] * 27)
    # parcels tile the communes
    assert t.parcels.area.sum() == pytest.approx(t.communes.area.sum())
    assert len(t.friches) == 1 and len(tiny_territory(1).friches) == 0
    with pytest.raises(ValueError, match="n_communes"):
        tiny_territory(0)
    with pytest.raises(ValueError, match="parcels_per_side"):
        tiny_territory(parcels_per_side=2)


def test_tiny_territory_land_units_by_hand(tiny_units):
    units = tiny_units.set_index(["insee", "origin"])
    step = 250.0 * 250.0 / 1e4  # 6.25 ha parcels
    assert units["net_area_ha"].to_dict() == pytest.approx(
        {
            ("30001", "zae_plot"): step,  # the vacant plot; the occupied one is left out
            ("30001", "activity_zone"): 2 * step,  # the other two parcels of the activity row
            ("30002", "friche"): step,
            # three parcels of the activity row, half of one under Natura 2000
            ("30002", "activity_zone"): 2.5 * step,
        }
    )
    assert units.loc[("30001", "activity_zone"), "flood_share"] == pytest.approx(0.5)
    assert units.loc[("30002", "friche"), "enaf_share"] == 0.0
    assert units.loc[("30001", "zae_plot"), "dist_interchange_km"] == pytest.approx(0.0)
    assert units["dist_rail_freight_km"].tolist() == pytest.approx([0.05] * 4)
    assert units["slope_mean_pct"].isna().all()  # no DEM


def test_tiny_territory_budgets_and_scenario(tiny, tiny_units):
    budgets = budget_table(tiny).set_index("insee")
    assert budgets["envelope_ha"].tolist() == pytest.approx([5.0, 5.0])
    assert budgets["remaining_ha"].tolist() == pytest.approx([4.0, 4.0])
    result = Scenario(tiny, units=tiny_units).run()
    placed = result.assignments.set_index("project_id")
    origin = tiny_units.set_index("unit_id")["origin"]
    # P1 (5 ha) fits the friche at no ZAN cost; P2 (2 ha, rail) takes the vacant ZAE plot
    assert origin[placed.loc["P1", "unit_id"]] == "friche"
    assert placed.loc["P1", "enaf_ha"] == 0.0
    assert origin[placed.loc["P2", "unit_id"]] == "zae_plot"
    assert placed.loc["P2", "enaf_ha"] == pytest.approx(2.0)
    assert result.unmatched.set_index("project_id").loc["P3", "reason_code"] == "infeasible"


def test_tiny_territory_dem_gives_the_slope(tmp_path):
    t = tiny_territory(dem_dir=tmp_path, slope_pct=3.0)
    assert t.dem_path == tmp_path / "dem.tif"
    slopes = land_units(t)["slope_mean_pct"].to_numpy()
    assert np.allclose(slopes, 3.0, atol=0.2)
