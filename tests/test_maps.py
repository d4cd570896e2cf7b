"""Tests of the Folium maps: hand-checked budgets and popups, size and content on the sample."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from foncier._format import fr_number
from foncier.cli import main
from foncier.errors import LayerSchemaError, NotFoundError
from foncier.layers import FRICHE_STATUSES, empty_layer
from foncier.maps import LAYER_NAMES, map_html, scenario_map, territory_map
from foncier.maps.geojson import COORD_DECIMALS
from foncier.maps.geojson import coverage_simplified as _coverage_simplified
from foncier.palette import (
    BUDGET_BREAKS_HA,
    BUDGET_PALETTE,
    FRICHE_COLOURS,
    SECTOR_COLOURS,
    sector_colour,
)
from foncier.palette import budget_colour as _budget_colour
from foncier.scenarios import ScenarioResult
from foncier.territory import Territory
from foncier.zan import budget_table

MAX_MAP_BYTES = 8_000_000
_ADD = re.compile(r"^\s*(geo_json_\w+)_add\((\{.*\})\);\s*$", re.MULTILINE)


# -- helpers -------------------------------------------------------------------------------


def geojson_layers(page: str) -> list[dict]:
    """Every GeoJSON FeatureCollection embedded in a Folium page."""
    return [json.loads(m.group(2)) for m in _ADD.finditer(page)]


def layer_names(page: str) -> set[str]:
    """Names listed in the layer control of a Folium page."""
    block = page[page.index("overlays :") :]
    block = block[: block.index("}")]
    base = page[page.index("base_layers :") :]
    base = base[: base.index("}")]
    return {json.loads(f'"{n}"') for n in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', base + block)}


def features_with(page: str, key: str) -> dict[str, dict]:
    """Properties of the embedded features carrying ``key``, by the value of ``key``."""
    out = {}
    for layer in geojson_layers(page):
        for feature in layer["features"]:
            props = feature["properties"]
            if key in props:
                out[str(props[key])] = props
    return out


def _square(x: float, y: float, size: float) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


X0, Y0 = 770_000.0, 6_325_000.0


@pytest.fixture
def tiny_territory() -> Territory:
    """Two 1 km communes: A on track (0,4 ha left), B over its envelope (3 ha over)."""
    communes = gpd.GeoDataFrame(
        {
            "insee": ["30001", "30002"],
            "name": ["Alpha", "Béta"],
            "epci": ["200000001", "200000001"],
            "scot": ["SCoT Un", "SCoT Un"],
            "has_planning_doc": [True, True],
        },
        geometry=[_square(X0, Y0, 1000), _square(X0 + 1000, Y0, 1000)],
        crs="EPSG:2154",
    )
    years = list(range(2011, 2023))
    # Alpha: 0,2 ha a year in 2011-2020 -> envelope max(1, 1) = 1 ha; 0,3 ha a year since -> 0,6 ha.
    # Béta: 1 ha a year -> envelope 5 ha; 4 ha a year since 2021 -> 8 ha consumed, 3 ha over.
    enaf = pd.DataFrame(
        {
            "insee": ["30001"] * len(years) + ["30002"] * len(years),
            "year": years * 2,
            "enaf_m2": [2_000.0 if y < 2021 else 3_000.0 for y in years]
            + [10_000.0 if y < 2021 else 40_000.0 for y in years],
        }
    )
    layers = {"communes": communes}
    return Territory(
        name="Deux communes (échantillon synthétique)",
        layers=layers,
        enaf_consumption=enaf,
        projects=empty_layer("projects"),
        metadata={"synthetic": True},
    )


@pytest.fixture
def tiny_units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "unit_id": ["U-1", "U-2"],
            "insee": ["30001", "30002"],
            "origin": ["zae_plot", "friche"],
            "zone_type": ["U", "U"],
            "servicing_stage": ["viabilisé et aménagé", "inconnu"],
            "net_area_ha": [2.0, 0.5],
            "enaf_share": [0.25, 0.0],
            "slope_mean_pct": [3.2, np.nan],
            "dist_interchange_km": [1.5, 4.0],
            "completeness": [0.75, 0.5],
        },
        geometry=[_square(X0 + 100, Y0 + 100, 141.42), _square(X0 + 1200, Y0 + 200, 70.71)],
        crs="EPSG:2154",
    )


# -- hand-checked figures ------------------------------------------------------------------


def test_commune_popups_show_the_budget_figures(tiny_territory, tiny_units):
    page = map_html(territory_map(tiny_territory, tiny_units))
    communes = features_with(page, "insee")
    alpha, beta = communes["30001"], communes["30002"]
    assert alpha["remaining_ha"] == pytest.approx(0.4)
    assert beta["remaining_ha"] == pytest.approx(-3.0)
    for text in ("Enveloppe 2021-2031", fr_number(1.0, 1, "ha"), fr_number(0.6, 1, "ha")):
        assert text in alpha["popup"]
    assert fr_number(0.4, 1, "ha") in alpha["popup"]
    assert fr_number(5.0, 1, "ha") in beta["popup"]
    assert fr_number(8.0, 1, "ha") in beta["popup"]
    assert fr_number(-3.0, 1, "ha") in beta["popup"]
    assert "dépassée" in beta["popup"]
    assert beta["fill"] == _budget_colour(-3.0, "exceeded", [0.0, 1.0])
    assert alpha["fill"] != beta["fill"]
    assert "enveloppe dépassée (1 commune)" in page


def test_unit_popups_show_area_zan_cost_criteria_completeness(tiny_territory, tiny_units):
    page = map_html(territory_map(tiny_territory, tiny_units))
    units = features_with(page, "unit_id")
    u1, u2 = units["U-1"]["popup"], units["U-2"]["popup"]
    assert fr_number(2.0, 2, "ha") in u1  # surface nette
    assert fr_number(0.5, 2, "ha") + " d'ENAF" in u1  # 2 ha x 25 %
    assert fr_number(25, 0, "%") in u1
    assert fr_number(3.2, 1, "%") in u1 and fr_number(1.5, 1, "km") in u1
    assert "Complétude des données" in u1 and fr_number(75, 0, "%") in u1
    assert "lot de ZAE" in u1 and "Alpha" in u1
    assert fr_number(0.0, 2, "ha") + " d'ENAF" in u2 and "friche" in u2
    assert "pente moyenne n.d." in u2  # unknown slope shown as not available


def test_title_names_data_label_and_rule_set(tiny_territory, tiny_units):
    page = map_html(territory_map(tiny_territory, tiny_units))
    assert tiny_territory.data_label in page
    assert "échantillon synthétique" in page.lower()
    assert "climat-resilience-2023" in page


def test_pooled_budgets_show_the_pool_figures(tiny_territory, tiny_units):
    pooled = budget_table(tiny_territory, pool="epci")
    page = map_html(territory_map(tiny_territory, tiny_units, budgets=pooled))
    communes = features_with(page, "insee")
    # Both communes share the EPCI pool: 6 ha envelope - 8,6 ha consumed = -2,6 ha.
    assert communes["30001"]["remaining_ha"] == pytest.approx(-2.6)
    assert communes["30002"]["remaining_ha"] == pytest.approx(-2.6)
    assert "Budget mutualisé" in communes["30001"]["popup"]


def test_colour_by_numeric_column(tiny_territory, tiny_units):
    page = map_html(territory_map(tiny_territory, tiny_units, colour_by="completeness"))
    units = features_with(page, "unit_id")
    assert units["U-1"]["fill"] != units["U-2"]["fill"]
    assert "complétude des données" in page


def test_bad_colour_by_and_budgets_are_refused(tiny_territory, tiny_units):
    with pytest.raises(LayerSchemaError, match="colour_by"):
        territory_map(tiny_territory, tiny_units, colour_by="no_such_column")
    with pytest.raises(LayerSchemaError, match="remaining_ha"):
        territory_map(tiny_territory, tiny_units, budgets=pd.DataFrame({"pool_id": ["30001"]}))


def test_inline_assets_need_no_network(tiny_territory, tiny_units):
    cdn = map_html(territory_map(tiny_territory, tiny_units))
    inline = map_html(territory_map(tiny_territory, tiny_units, inline_assets=True))
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in cdn
    assert not re.search(r"<script[^>]+src=", inline)
    assert not re.search(r"<link[^>]+stylesheet", inline)
    assert "Leaflet 1.9.3" in inline  # leaflet.js banner


# -- stable cartography, offline page -----------------------------------------------------


class _Result:
    """The tables of a scenario result a map reads, placing projects of given sectors."""

    def __init__(self, placed: dict[str, str]) -> None:
        n = len(placed)
        self.assignments = pd.DataFrame(
            {
                "project_id": [f"P-{i}" for i in range(n)],
                "unit_id": list(placed),
                "name": [f"Projet {i}" for i in range(n)],
                "sector": list(placed.values()),
                "area_ha": [0.5] * n,
                "enaf_ha": [0.1] * n,
                "jobs": [10] * n,
            }
        )
        self.unmatched = pd.DataFrame(
            {
                "project_id": ["P-9"],
                "name": ["Usine orpheline"],
                "reason_code": ["infeasible"],
                "explanation": ["aucun terrain assez grand"],
                "hint": ["chercher 3 ha"],
            }
        )


def test_sector_colours_are_the_same_on_every_scenario_map(tiny_territory, tiny_units):
    one = map_html(
        scenario_map(
            tiny_territory, _Result({"U-1": "logistique", "U-2": "aéronautique"}), tiny_units
        )
    )
    two = map_html(
        scenario_map(tiny_territory, _Result({"U-1": "aéronautique", "U-2": "textile"}), tiny_units)
    )
    fills_one = {p["unit_id"]: p["fill"] for p in features_with(one, "project_ids").values()}
    fills_two = {p["unit_id"]: p["fill"] for p in features_with(two, "project_ids").values()}
    assert fills_one["U-1"] == SECTOR_COLOURS["logistique"] == "#377eb8"
    assert fills_two["U-2"] == SECTOR_COLOURS["textile"]
    # A sector outside the vocabulary keeps its colour whatever else is placed.
    assert fills_one["U-2"] == fills_two["U-1"] == sector_colour("Aéronautique")
    assert "Usine orpheline" in one and "chercher 3 ha" in one  # the result's own project fields


@pytest.mark.slow
def test_every_sample_sector_and_friche_status_has_its_own_colour(sample):
    sectors = set(sample.projects["sector"])
    assert sectors <= set(SECTOR_COLOURS)
    assert len(set(SECTOR_COLOURS.values())) == len(SECTOR_COLOURS)
    assert set(FRICHE_COLOURS) == set(FRICHE_STATUSES)
    assert len(set(FRICHE_COLOURS.values())) == len(FRICHE_STATUSES)


def test_budget_classes_do_not_depend_on_the_other_communes(tiny_territory, tiny_units):
    # Béta consumes nothing since 2021: 5 ha left instead of 3 ha over, so the largest
    # remainder changes; Alpha (0,4 ha left) keeps its class and the legend stays the same.
    enaf = tiny_territory.enaf_consumption.copy()
    enaf.loc[(enaf["insee"] == "30002") & (enaf["year"] >= 2021), "enaf_m2"] = 0.0
    other = Territory(
        name=tiny_territory.name,
        layers={"communes": tiny_territory.communes},
        enaf_consumption=enaf,
        projects=empty_layer("projects"),
        metadata={"synthetic": True},
    )
    first = map_html(territory_map(tiny_territory, tiny_units))
    second = map_html(territory_map(other, tiny_units))
    a1, a2 = features_with(first, "insee")["30001"], features_with(second, "insee")["30001"]
    b2 = features_with(second, "insee")["30002"]
    assert a1["fill"] == a2["fill"] == BUDGET_PALETTE[0]  # 0 – 0,5 ha
    assert b2["remaining_ha"] == pytest.approx(5.0) and b2["fill"] == BUDGET_PALETTE[4]  # 5 – 10
    for page in (first, second):
        for label in ("0 – 0,5 ha", "0,5 – 1 ha", "10 – 20 ha", "20 ha et plus"):
            assert label in page
    assert len(BUDGET_BREAKS_HA) == len(BUDGET_PALETTE)


def test_commune_names_scale_panels_and_offline_notice(tiny_territory, tiny_units):
    page = map_html(territory_map(tiny_territory, tiny_units))
    assert LAYER_NAMES["commune_names"] in layer_names(page)
    labels = json.loads(re.search(r"(\[\[.*?\]\])\.forEach", page).group(1))
    assert [name for _, _, name in labels] == ["Alpha", "Béta"]
    for (lat, lon, _), commune in zip(labels, tiny_territory.communes.geometry, strict=True):
        point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(2154)[0]
        assert commune.buffer(2).contains(point)  # written inside its commune
    assert "imperial: false" in page and "L.control.scale()" not in page
    assert "<details open><summary><b>Légende</b>" in page
    assert "Fond de carte indisponible hors ligne" in page
    assert '.on("tileerror"' in page


def test_friche_points_are_drawn_as_circles(tiny_territory, tiny_units):
    friches = gpd.GeoDataFrame(
        {
            "site_id": ["30001_1", "30002_7"],
            "name": ["Ancienne filature", None],
            "insee": ["30001", "30002"],
            "status": ["friche sans projet", "friche reconvertie"],
            "surface_m2": [12_500.0, np.nan],
        },
        geometry=[shapely.Point(X0 + 500, Y0 + 500), shapely.Point(X0 + 1500, Y0 + 500)],
        crs="EPSG:2154",
    )
    territory = Territory(
        name=tiny_territory.name,
        layers={"communes": tiny_territory.communes, "friches": friches},
        enaf_consumption=tiny_territory.enaf_consumption,
        projects=empty_layer("projects"),
    )
    page = map_html(territory_map(territory, tiny_units, inline_assets=True))
    shown = features_with(page, "popup")
    spinning = next(p for k, p in shown.items() if "Ancienne filature" in k)
    assert spinning["fill"] == FRICHE_COLOURS["friche sans projet"]
    assert fr_number(1.25, 2, "ha") in spinning["popup"] and "30001_1" in spinning["popup"]
    unnamed = next(p for k, p in shown.items() if "30002_7" in k)
    assert unnamed["fill"] == FRICHE_COLOURS["friche reconvertie"] != spinning["fill"]
    assert "None" not in unnamed["popup"] and "Surface</th><td>n.d." in unnamed["popup"]
    assert "new L.Marker(" not in page and "L.AwesomeMarkers" not in page
    assert "new L.CircleMarker(latlng, opts)" in page


def test_coordinates_rounded(tiny_territory, tiny_units):
    page = map_html(territory_map(tiny_territory, tiny_units))
    coords = re.findall(r"-?\d+\.\d+", json.dumps(geojson_layers(page)[0]["features"][0]))
    assert coords
    assert max(len(c.split(".")[1]) for c in coords) <= COORD_DECIMALS


def test_coverage_simplification_keeps_shared_edges():
    # Two communes sharing a zig-zag edge of 200 teeth 3 m deep: a 20 m tolerance flattens it.
    xs = np.linspace(0, 1000, 401)
    ys = 500 + np.where(np.arange(401) % 2 == 0, 0.0, 3.0)
    edge = list(zip(xs, ys, strict=True))
    south = shapely.Polygon([(0, 0), (1000, 0), *edge[::-1]])
    north = shapely.Polygon([*edge, (1000, 1000), (0, 1000)])
    geoms = np.array([south, north])
    assert shapely.coverage_is_valid(geoms)
    out = _coverage_simplified(geoms, 20.0)
    assert shapely.coverage_is_valid(out)  # no gap, no overlap
    assert shapely.get_num_coordinates(out).sum() < shapely.get_num_coordinates(geoms).sum() / 10
    assert shapely.area(shapely.union_all(out)) == pytest.approx(1e6, rel=1e-9)
    assert shapely.area(out) == pytest.approx(shapely.area(geoms), abs=1000)


# -- the default sample --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_result(scenario_dir: Path) -> ScenarioResult:
    return ScenarioResult.from_folder(scenario_dir)


@pytest.mark.slow
def test_sample_territory_map_is_light_and_complete(sample, units):
    page = map_html(territory_map(sample, units))
    assert len(page.encode("utf-8")) < MAX_MAP_BYTES
    names = layer_names(page)
    assert LAYER_NAMES["tiles"] in names
    for key in (
        "communes",
        "units",
        "zae",
        "friches",
        "ppri_red",
        "ppri_blue",
        "natura2000",
        "znieff",
        "infrastructure",
    ):
        assert LAYER_NAMES[key] in names, key
    assert "échantillon synthétique" in page
    # Parcels are not drawn one by one: the embedded features are far fewer than the parcels.
    n_features = sum(len(layer["features"]) for layer in geojson_layers(page))
    assert n_features < len(sample.parcels) / 50


@pytest.mark.slow
def test_sample_popups_match_budget_table_and_units(sample, units):
    page = map_html(territory_map(sample, units))
    budgets = budget_table(sample, pool="commune").set_index("insee")
    communes = features_with(page, "insee")
    assert set(communes) == set(sample.communes["insee"])
    for insee, props in communes.items():
        row = budgets.loc[insee]
        assert props["remaining_ha"] == pytest.approx(row.remaining_ha, abs=1e-4)
        assert f"Reste</th><td>{fr_number(row.remaining_ha, 1, 'ha')}" in props["popup"]
        assert fr_number(row.envelope_ha, 1, "ha") in props["popup"]
        assert fr_number(row.consumed_ha, 1, "ha") in props["popup"]
    unit_features = features_with(page, "unit_id")
    assert set(unit_features) == set(units["unit_id"])
    for row in units.itertuples():
        popup = unit_features[row.unit_id]["popup"]
        assert f"Surface nette</th><td>{fr_number(row.net_area_ha, 2, 'ha')}" in popup
        share = 1.0 if np.isnan(row.enaf_share) else row.enaf_share
        assert fr_number(row.net_area_ha * share, 2, "ha") + " d'ENAF" in popup


@pytest.mark.slow
def test_sample_scenario_map(sample, units, sample_result):
    page = map_html(scenario_map(sample, sample_result, units))
    assert len(page.encode("utf-8")) < MAX_MAP_BYTES
    assert LAYER_NAMES["placements"] in layer_names(page)
    hosts = features_with(page, "project_ids")
    placed = sample_result.assignments
    assert {p["unit_id"] for p in hosts.values()} == set(placed["unit_id"].astype(str))
    by_unit = {p["unit_id"]: p["popup"] for p in hosts.values()}
    for row in placed.itertuples():
        popup = by_unit[str(row.unit_id)]
        assert row.project_id in popup
        assert row.zan_cost.replace("'", "&#x27;") in popup
        assert fr_number(row.area_ha, 2, "ha") in popup
    first = placed.iloc[0]
    contrib = sample_result.contributions.query(
        "project_id == @first.project_id and unit_id == @first.unit_id"
    )
    best = contrib.loc[contrib["contribution"].idxmax()]
    assert f"{best.label} +{fr_number(best.contribution, 2)}" in by_unit[first.unit_id]
    for pid in sample_result.unmatched["project_id"]:
        assert f"<b>{pid}</b>" in page
    assert "Projets non placés" in page
    communes = features_with(page, "insee")
    after = sample_result.zan_balance.set_index("pool_id")["remaining_after_ha"]
    for insee, props in communes.items():
        assert props["remaining_ha"] == pytest.approx(after[insee], abs=1e-4)
        assert "Reste après le scénario" in props["popup"]


@pytest.mark.slow
def test_scenario_map_reads_everything_from_the_result(sample, sample_result, monkeypatch):
    import foncier.supply
    import foncier.zan

    def refuse(*args, **kwargs):
        raise AssertionError("the scenario map must not recompute what the result carries")

    for module, name in (
        (foncier.supply, "land_units"),
        (foncier.zan, "budget_table"),
        (foncier.zan, "load_rules"),
    ):
        monkeypatch.setattr(module, name, refuse)
    # No projects in the territory: names and sectors can only come from the result.
    territory = dataclasses.replace(sample, projects=empty_layer("projects"))
    page = map_html(scenario_map(territory, sample_result))
    drawn = features_with(page, "unit_id")
    assert set(sample_result.units["unit_id"]) <= set(drawn)
    hosts = {p["unit_id"]: p for p in features_with(page, "project_ids").values()}
    for row in sample_result.assignments.itertuples():
        assert html.escape(row.name) in hosts[row.unit_id]["popup"]
        assert html.escape(row.sector) in hosts[row.unit_id]["popup"]
    # Each host is drawn in the sector of its largest project (the first listed on a tie).
    by_area = sample_result.assignments.sort_values("area_ha", ascending=False, kind="stable")
    for unit_id, sector in by_area.groupby("unit_id")["sector"].first().items():
        assert hosts[unit_id]["fill"] == sector_colour(sector)
    for row in sample_result.unmatched.itertuples():
        assert f"<b>{row.project_id}</b> {html.escape(row.name)}" in page
    # Each placed project's lot is drawn over its unit, with what the lot says.
    lots = features_with(page, "project_id")
    for row in sample_result.assignments.itertuples():
        lot = lots[row.project_id]
        assert lot["fill"] == sector_colour(row.sector)
        assert f"lot de {fr_number(row.lot_area_ha, 2)}" in lot["tooltip"]
        first_idu = str(row.idus).split("|")[0] if isinstance(row.idus, str) else ""
        assert first_idu in lot["popup"] and "Part publique" in lot["popup"]
    # ... and each of its parcels with the area taken and the owner kind (parcelles.csv)
    listed = sample_result.lot_parcels
    assert len(listed)
    for row in listed.head(20).itertuples():
        part = " (partie)" if row.split else ""
        kind = {"public": "public", "private": "privé", "unknown": "inconnu"}[row.owner_kind]
        line = f"{row.idu or 'hors parcellaire'} : {fr_number(row.taken_ha, 2, 'ha')}{part}, {kind}"
        assert html.escape(line) in lots[row.project_id]["popup"]


def test_scenario_map_needs_the_units_of_the_placements(tiny_territory, tiny_units):
    class Result:
        assignments = pd.DataFrame(
            {
                "project_id": ["P-1"],
                "unit_id": ["U-404"],
                "area_ha": [1.0],
                "enaf_ha": [0.0],
                "jobs": [3],
            }
        )
        unmatched = pd.DataFrame(columns=["project_id", "reason_code", "explanation", "hint"])

    with pytest.raises(NotFoundError, match="U-404"):
        scenario_map(tiny_territory, Result(), tiny_units)


@pytest.mark.slow
def test_cli_map_writes_the_page(sample_folder, sample_result, tmp_path):
    runner = CliRunner()
    out = tmp_path / "carte.html"
    done = runner.invoke(main, ["map", str(sample_folder), "-o", str(out), "--offline"])
    default = tmp_path / "par-defaut.html"
    assert runner.invoke(main, ["map", str(sample_folder), "-o", str(default)]).exit_code == 0
    assert not re.search(r"<script[^>]+src=", default.read_text(encoding="utf-8"))
    assert done.exit_code == 0, done.output
    assert "Carte écrite" in done.output and out.stat().st_size < MAX_MAP_BYTES
    folder = tmp_path / "scenario"
    sample_result.to_folder(folder)
    out2 = tmp_path / "scenario.html"
    done = runner.invoke(
        main, ["map", str(sample_folder), "--scenario", str(folder), "-o", str(out2)]
    )
    assert done.exit_code == 0, done.output
    assert LAYER_NAMES["placements"] in layer_names(out2.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_real_ales_communes_without_enaf(real_data):
    from foncier.io.admin import read_communes

    admin = real_data / "admin"
    communes = read_communes(
        admin / "communes_ales_agglomeration_2018geom.geojson",
        epci_json=admin / "epci_france_decoupage_administratif.json",
    )
    geoms = communes.geometry.to_numpy()
    simplified = _coverage_simplified(geoms, 20.0)
    assert shapely.coverage_is_valid(simplified)  # this file is already simplified (mapshaper)
    assert shapely.get_num_coordinates(simplified).sum() <= shapely.get_num_coordinates(geoms).sum()
    territory = Territory(
        name="Alès Agglomération",
        layers={"communes": communes},
        enaf_consumption=pd.DataFrame(columns=["insee", "year", "enaf_m2"]),
        projects=empty_layer("projects"),
    )
    no_units = gpd.GeoDataFrame(geometry=[], crs="EPSG:2154")
    page = map_html(territory_map(territory, no_units))
    shown = features_with(page, "insee")
    assert len(shown) == 72 and shown["30007"]["name"] == "Alès"
    assert {p["status"] for p in shown.values()} == {"incomplete"}
    assert "données incomplètes" in shown["30007"]["popup"]
    assert "échantillon synthétique" not in page.lower()
