"""Friche footprints and the assumptions the figures rest on, on hand-built territories."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from foncier._format import footprint_label, fr_text, friche_popup_rows
from foncier.assumptions import assumptions, assumptions_html, assumptions_text
from foncier.cli import main
from foncier.io.cartofriches import parcel_footprints, read_cartofriches
from foncier.layers import empty_layer, validate_layer
from foncier.supply import friche_footprints, land_units
from foncier.territory import Territory
from tests.test_supply import INSEE, X0, Y0, box, layer, parcels_layer, territory


def idu(i: int) -> str:
    return f"{INSEE}000AB{i:04d}"


def grid() -> list[shapely.Polygon]:
    """Six 1 ha parcels in a row, far from the activity zone of the test territory."""
    return [box(5000 + i * 100, 0, 5000 + (i + 1) * 100, 100) for i in range(6)]


def friches_layer(*rows: tuple[str, shapely.Geometry, float | None, str | None]):
    """Friches ``(site_id, geometry, surface_m2, l_idpar)``, validated."""
    table = [
        {
            "site_id": s,
            "name": f"Friche {s}",
            "insee": INSEE,
            "status": "friche sans projet",
            "surface_m2": surface,
            "l_idpar": ids,
        }
        for s, _, surface, ids in rows
    ]
    return layer("friches", table, [g for _, g, *_ in rows])


def four_friches():
    """F1 lists parcels 1-2 (loaded), F2 a missing parcel, F3 is a polygon, F4 has nothing."""
    return friches_layer(
        ("F1", shapely.Point(X0 + 5100, Y0 + 50), 15_000.0, f"{{{idu(1)},{idu(2)}}}"),
        ("F2", shapely.Point(X0 + 8000, Y0), 5_000.0, f"{{{idu(3)},30007000ZZ0001}}"),
        ("F3", box(5400, 0, 5600, 100), None, None),
        ("F4", shapely.Point(X0 + 9000, Y0), None, None),
    )


class TestFootprints:
    def test_parcel_union_disc_and_outline(self) -> None:
        parcels = validate_layer("parcels", parcels_layer(grid()))
        out = friche_footprints(four_friches(), parcels).set_index("site_id")
        assert out["footprint"].to_dict() == {
            "F1": "parcels",
            "F2": "approximate",
            "F3": "declared",
        }
        assert out.attrs["without_surface"] == 1  # F4: a point with neither surface nor parcels
        # F1 is exactly parcels 1 and 2 (2 ha), not a disc of its declared 1.5 ha
        assert shapely.equals(out.loc["F1", "geometry"], box(5000, 0, 5200, 100))
        assert shapely.area(out.loc["F2", "geometry"]) == pytest.approx(5_000, rel=1e-3)
        assert shapely.area(out.loc["F3", "geometry"]) == pytest.approx(20_000)

    def test_without_cadastre_every_point_is_approximate(self) -> None:
        empty = empty_layer("parcels")
        out = friche_footprints(four_friches(), empty).set_index("site_id")
        assert out["footprint"].to_dict() == {
            "F1": "approximate",
            "F2": "approximate",
            "F3": "declared",
        }
        assert shapely.area(out.loc["F1", "geometry"]) == pytest.approx(15_000, rel=1e-3)

    def test_land_units_carry_the_footprint(self) -> None:
        t = territory(parcels_layer(grid()), friches=four_friches())
        units = land_units(t)
        friches = units[units["origin"] == "friche"].set_index("site_id")
        assert friches["footprint"].to_dict() == {
            "F1": "parcels",
            "F2": "approximate",
            "F3": "declared",
        }
        assert friches.loc["F1", "idus"] == f"{idu(1)}|{idu(2)}"  # the listed ids, normalised
        assert friches.loc["F1", "net_area_ha"] == pytest.approx(2.0)
        # the activity-zone parcels are parcels
        assert set(units.loc[units["origin"] == "activity_zone", "footprint"]) <= {"parcels"}

    def test_parcel_footprints_needs_every_parcel(self) -> None:
        parcels = validate_layer("parcels", parcels_layer(grid()))
        ids = pd.Series([[idu(1), idu(6)], [idu(2), "30007000ZZ0001"], []], index=[10, 11, 12])
        land, partial = parcel_footprints(ids, parcels)
        assert land.index.tolist() == [10] and partial.tolist() == [11]
        assert land.area.iloc[0] == pytest.approx(20_000)

    def test_reader_sets_the_footprint(self, tmp_path) -> None:
        parcels = validate_layer("parcels", parcels_layer(grid()))
        gdf = gpd.GeoDataFrame(
            {
                "site_id": ["a", "b", "c"],
                "site_statut": ["friche sans projet"] * 3,
                "site_surface": [1.0, 2.0, 3.0],
                "comm_insee": [INSEE] * 3,
                "l_idpar": [f"{{{idu(1)}}}", None, None],
            },
            geometry=[
                shapely.Point(X0 + 5050, Y0 + 50),
                shapely.Point(X0, Y0),
                box(0, 0, 10, 10),
            ],
            crs="EPSG:2154",
        )
        path = tmp_path / "friches.geojson"
        gdf.to_file(path, driver="GeoJSON", engine="pyogrio")
        friches = read_cartofriches(path, parcels=parcels).set_index("site_id")
        assert friches["footprint"].to_dict() == {
            "a": "parcels",
            "b": "approximate",
            "c": "declared",
        }


def test_labels_never_show_missing_values() -> None:
    assert fr_text(float("nan")) == "n.d." and fr_text(pd.NA) == "n.d."
    assert fr_text("None") == "n.d." and fr_text(0) == "0"
    assert footprint_label("parcels") == "emprise des parcelles cadastrales du site"
    assert footprint_label(float("nan")) == "n.d."
    row = {"status": "friche potentielle", "pollution": None, "zone_type": float("nan")}
    rows = dict(friche_popup_rows({**row, "footprint": "approximate"}, 54.08))
    assert rows["Zone"] == "n.d." and rows["Pollution"] == "n.d."
    assert rows["Surface"] == "54,08\xa0ha (surface déclarée)"
    assert rows["Emprise"].startswith("emprise approximative")
    assert dict(friche_popup_rows({**row, "footprint": "parcels"}, 2.0))["Surface"] == "2,00\xa0ha"


# -- assumptions -----------------------------------------------------------------------------
def small_territory(unknown_cover: bool = True) -> Territory:
    """Two communes, six parcels (two of unknown cover), the four friches, no DEM."""
    unknown = "unknown" if unknown_cover else "enaf"
    cover = ["enaf", unknown, unknown, "artificialised", "enaf", "enaf"]
    parcels = parcels_layer(grid())
    parcels["land_cover"] = cover  # the "unknown" value is read defensively
    communes = layer(
        "communes",
        [
            {"insee": INSEE, "name": "Alès", "epci": "200066918"},
            {"insee": "30028", "name": "Bagard", "epci": "200066918"},
        ],
        [box(-5000, -5000, 5000, 5000), box(5000, -5000, 15000, 5000)],
    )
    communes["planning_status"] = ["yes", "unknown"]
    return Territory(
        name="test",
        layers={"communes": communes, "parcels": parcels, "friches": four_friches()},
        enaf_consumption=empty_layer("enaf_consumption"),
        projects=empty_layer("projects"),
    )


def by_code(records):
    return {r["code"]: r for r in records}


class TestAssumptions:
    def test_counts(self) -> None:
        t = small_territory()
        units = land_units(t)
        got = by_code(assumptions(t, units))
        missing = got["missing_layers"]
        # plu_zones, zae, zae_plots, constraints, infrastructure, ENAF, projects, DEM
        assert missing["count"] == 8
        assert "zonage PLU" in missing["text"] and "MNT" in missing["text"]
        assert got["planning_status_unknown"]["count"] == 1
        assert "30028" in got["planning_status_unknown"]["text"]
        assert got["unknown_cover_as_enaf"]["count"] == 2
        assert got["unknown_cover_as_enaf"]["ha"] == pytest.approx(2.0)
        approx = got["approximate_footprints"]
        assert approx["count"] == 1 and "1 friche(s) sur 4" in approx["text"]
        assert approx["ha"] == pytest.approx(0.5, rel=1e-3)  # F2's 5 000 m² disc
        assert got["friches_without_surface"]["count"] == 1
        crit = got["defaulted_criteria"]
        assert crit["count"] == len(units) == 3  # no DEM, no infrastructure: none complete
        assert crit["ha"] == pytest.approx(float(units["net_area_ha"].sum()))
        assert "pente moyenne : 3" in crit["text"]
        assert "placements_on_approximate_footprints" not in got

    def test_placements_on_approximate_land(self) -> None:
        t = small_territory()
        units = land_units(t)
        f2 = units.loc[units["site_id"] == "F2", "unit_id"].iloc[0]
        placed = pd.DataFrame({"project_id": ["P1", "P2"], "unit_id": [f2, "U-99999"]})
        placed["area_ha"] = [0.4, 1.0]
        got = by_code(assumptions(t, units, assignments=placed))
        assert got["placements_on_approximate_footprints"]["count"] == 1
        assert got["placements_on_approximate_footprints"]["ha"] == pytest.approx(0.4)

    def test_budget_table_notes_and_zan_scope(self) -> None:
        t = small_territory()
        budgets = pd.DataFrame({"insee": [INSEE, "30028"], "guarantee_applied": [True, False]})
        budgets.attrs.update(pool="commune", missing_years={"30028": [2015, 2016]})
        budgets.attrs["hypotheses"] = [
            {"code": "guarantee", "text": "garantie non appliquée à 1 commune", "count": 1},
            {"code": "planning_status_unknown", "text": "déjà compté", "count": 1},
        ]
        got = assumptions(t, budgets=budgets, zan_only=True)
        codes = [r["code"] for r in got]
        # only what the ZAN table rests on; the table's own note counted once
        assert codes == ["missing_layers", "planning_status_unknown", "enaf_missing", "guarantee"]
        assert got[0]["count"] == 1 and "consommation ENAF" in got[0]["text"]
        # 30028's status is unknown and the table did not grant it the guarantee
        assert "accordée par hypothèse à 0, non accordée à 1" in got[1]["text"]
        assert got[2]["count"] == 1 and "30028" in got[2]["text"]

    def test_nothing_assumed_is_said(self) -> None:
        assert assumptions_text([]).startswith("Hypothèses : aucune")
        assert "Aucune" in assumptions_html([])
        html = assumptions_html([{"code": "x", "text": "a < b", "count": 1, "ha": None}])
        assert "<h2>Hypothèses</h2>" in html and "<li>a &lt; b</li>" in html


def test_cli_supply_states_the_assumptions(tmp_path) -> None:
    folder = small_territory(unknown_cover=False).to_folder(tmp_path / "t")
    result = CliRunner().invoke(main, ["supply", str(folder), "-o", str(tmp_path / "u.gpkg")])
    assert result.exit_code == 0, result.output
    assert "Hypothèses :" in result.stdout
    assert "1 friche(s) sur 4 connue(s) par un point" in result.stdout
    units = gpd.read_file(tmp_path / "u.gpkg", layer="land_units")
    assert sorted(units.loc[units["origin"] == "friche", "footprint"]) == [
        "approximate",
        "declared",
        "parcels",
    ]
