"""Land assembly: the best contiguous sites of X ha across land units (foncier.land_assembly)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from fastapi.testclient import TestClient
from shapely.geometry import box

from foncier.errors import FoncierError
from foncier.land_assembly import assemble_sites, site_parcels
from foncier.layers import check_table, empty_layer, validate_layer
from foncier.territory import Territory
from tests.conftest import grid

INSEE = "30007"
PUBLIC = (0, 1, 3, 4)  # the lower-left 2x2 block
OWNERS = ["COMMUNE", "COMMUNE", "A", "COMMUNE", "COMMUNE", "B", "C", "D", "E"]


def _territory() -> Territory:
    geoms = grid()
    parcels = gpd.GeoDataFrame(
        {
            "idu": [f"{INSEE}000AB{i + 1:04d}" for i in range(9)],
            "insee": INSEE,
            "section": "AB",
            "numero": [f"{i + 1:04d}" for i in range(9)],
            "contenance_m2": 10_000.0,
            "owner_kind": ["public" if i in PUBLIC else "private" for i in range(9)],
            "land_cover": ["unknown"] * 8 + ["enaf"],
            "owner_id": OWNERS,
        },
        geometry=geoms,
        crs="EPSG:2154",
    )
    communes = gpd.GeoDataFrame(
        {"insee": [INSEE], "name": ["Alès"], "epci": ["200066918"]},
        geometry=[box(690_000, 6_290_000, 710_000, 6_310_000)],
        crs="EPSG:2154",
    )
    zones = gpd.GeoDataFrame(
        {"zone_id": ["Z1"], "insee": INSEE, "libelle": "UX", "zone_type": "U", "destdomi": "02"},
        geometry=[box(699_000, 6_299_000, 701_000, 6_301_000)],
        crs="EPSG:2154",
    )
    # one interchange 10 km east of the block
    interchange = gpd.GeoDataFrame(
        {"infra_id": ["I1"], "kind": ["interchange"]},
        geometry=[shapely.Point(710_300, 6_300_150)],
        crs="EPSG:2154",
    )
    return Territory(
        name="test",
        layers={
            "communes": validate_layer("communes", communes),
            "parcels": validate_layer("parcels", parcels),
            "plu_zones": validate_layer("plu_zones", zones),
            "infrastructure": validate_layer("infrastructure", interchange),
        },
        enaf_consumption=validate_layer("enaf_consumption", _consumption()),
        projects=empty_layer("projects"),
    )


def _consumption() -> pd.DataFrame:
    """5 ha of ENAF a year since 2011: envelope 25 ha, 10 ha consumed in 2021-2022."""
    years = np.arange(2011, 2023)
    zero = np.zeros(len(years))
    return pd.DataFrame(
        {
            "insee": INSEE,
            "year": years,
            "enaf_m2": 50_000.0,
            "activity_m2": 50_000.0,
            **{c: zero for c in ("housing_m2", "mixed_m2", "road_m2", "rail_m2", "unknown_m2")},
        }
    )


IDU = [f"{INSEE}000AB{i + 1:04d}" for i in range(9)]


def test_the_public_block_is_the_best_4_ha_site() -> None:
    """4 ha: the four public parcels of one owner beat every mix of private ones."""
    sites = assemble_sites(_territory(), 4.0, k=3)
    check_table(sites, "assembled_sites")
    best = sites.iloc[0]
    assert best["idus"] == "|".join(IDU[i] for i in PUBLIC)
    assert best["n_owners"] == 1 and best["public_share"] == pytest.approx(1.0)
    assert best["lot_area_ha"] == pytest.approx(4.0) and not best["split"]
    assert shapely.equals(best.geometry, box(700_000, 6_300_000, 700_200, 6_300_200))
    assert sites["site_rank"].tolist() == list(range(1, len(sites) + 1))
    # every site is 4 ha of one piece, ranked by owners then public share
    assert (sites["lot_area_ha"] >= 4.0 - 1e-6).all()
    assert (shapely.get_num_geometries(sites.geometry.to_numpy()) == 1).all()
    key = list(zip(sites["n_owners"], -sites["public_share"], sites["enaf_ha"], strict=True))
    assert key == sorted(key)


def test_a_6_ha_site_crosses_the_units_boundaries() -> None:
    """No unit has 6 ha (public 4 ha, private 5 ha); the public block and two private parcels do."""
    t = _territory()
    sites = assemble_sites(t, 6.0, k=5)
    best = sites.iloc[0]
    idus = set(best["idus"].split("|"))
    assert {IDU[i] for i in PUBLIC} <= idus and len(idus) == 6
    assert best["n_owners"] == 3  # the commune and two private owners: the fewest possible
    assert best["public_share"] == pytest.approx(4 / 6)
    assert best["owner_kinds"] == "private|public"
    # unknown land cover counts as ENAF (the default rule set): the whole site, 6 ha
    assert best["enaf_ha"] == pytest.approx(6.0)
    assert best["commune"] == "Alès"
    assert assemble_sites(t, 6.0, max_owners=2).empty
    assert assemble_sites(t, 9.5).empty  # 9 ha of candidate land in all
    assert best["dist_interchange_km"] == pytest.approx(10.0, abs=0.3)
    assert assemble_sites(t, 6.0, {"max_dist_interchange_km": 5.0}).empty
    with pytest.raises(FoncierError, match="surface"):
        assemble_sites(t, 0.0)


def test_the_land_officers_list_names_each_parcel_and_owner() -> None:
    """6 ha: four public parcels of the commune and two private ones, each with its owner."""
    t = _territory()
    sites = assemble_sites(t, 6.0, k=2)
    listed = site_parcels(sites, t.parcels)
    check_table(listed, "site_parcels")
    best = listed[listed["site_rank"] == 1]
    assert best["idu"].tolist() == sorted(sites["idus"].iloc[0].split("|"))
    assert best["taken_ha"].to_numpy() == pytest.approx([1.0] * 6)
    assert not best["split"].any()
    owner_of = dict(zip(IDU, OWNERS, strict=True))
    assert best["owner_id"].tolist() == [owner_of[i] for i in best["idu"]]
    kinds = ["public" if IDU.index(i) in PUBLIC else "private" for i in best["idu"]]
    assert best["owner_kind"].tolist() == kinds
    assert best["owner_id"].nunique() == sites["n_owners"].iloc[0]
    # a site cut from one parcel lists its part of it
    half = assemble_sites(t, 0.5, k=1)
    one = site_parcels(half, t.parcels)
    assert one["split"].tolist() == [True]
    assert one["taken_ha"].to_numpy() == pytest.approx([0.5], abs=1e-6)
    assert one["owner_id"].tolist() == ["COMMUNE"]


def test_validated_lots_are_not_assembled_again() -> None:
    """The public block validated for a project: the next 4 ha site is made of other parcels."""
    t = _territory()
    log = pd.DataFrame(
        {
            "project_id": ["P1"],
            "unit_id": ["U1"],
            "insee": INSEE,
            "decision": "validée",
            "area_ha": 4.0,
            "enaf_ha": 4.0,
            "idus": "|".join(IDU[i] for i in PUBLIC),
        }
    )
    sites = assemble_sites(t, 4.0, k=5, decisions=log)
    assert not sites.empty
    taken = sites["idus"].str.split("|").explode()
    assert not taken.isin([IDU[i] for i in PUBLIC]).any()
    block = box(700_000, 6_300_000, 700_200, 6_300_200)
    assert (shapely.area(shapely.intersection(sites.geometry.to_numpy(), block)) < 1.0).all()
    # five parcels are left (5 ha): a 4 ha site uses four of them, each of another owner
    assert sites["public_share"].eq(0.0).all() and (sites["n_parcels"] == 4).all()
    assert assemble_sites(t, 5.5, decisions=log).empty


def test_a_site_smaller_than_a_parcel_cuts_it() -> None:
    """0.5 ha: half of one parcel, cut by one straight line."""
    sites = assemble_sites(_territory(), 0.5, k=1)
    best = sites.iloc[0]
    assert best["split"] and best["n_parcels"] == 1
    assert best["lot_area_ha"] == pytest.approx(0.5, abs=1e-6)
    assert best["idus"] in {IDU[i] for i in PUBLIC}  # public land first


def test_cli_assemble_prints_the_sites(tmp_path: Path) -> None:
    from foncier.cli import main

    folder = tmp_path / "t"
    _territory().to_folder(folder)
    runner = CliRunner()
    out = runner.invoke(main, ["assemble", str(folder), "--area", "6", "-k", "2"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split()[:3] == ["rang", "commune", "surface"]
    assert lines[1].split()[:4] == ["1", "Alès", "6,00", "6"]
    # one line per parcel of the site: its area, owner kind and owner
    assert "    parcelle 30007000AB0001 : 1,00 ha, propriétaire public (COMMUNE)" in lines[2:8]
    assert sum("parcelle 30007000AB" in line for line in lines[2:8]) == 6
    geo = runner.invoke(main, ["assemble", str(folder), "--area", "4", "--format", "geojson"])
    assert geo.exit_code == 0, geo.output
    import json

    features = json.loads(geo.output)["features"]
    assert features[0]["properties"]["n_owners"] == 1
    assert features[0]["geometry"]["type"] == "Polygon"
    bad = runner.invoke(main, ["assemble", str(folder), "--area", "4", "--max-owners", "0"])
    assert bad.exit_code == 2 and "Erreur" in bad.output


def test_api_assemble_answers_sites_with_their_geometry(tmp_path: Path) -> None:
    from api.app import create_app
    from api.models import AssemblyResponse, ErrorOut
    from api.settings import Settings

    folder = tmp_path / "t"
    _territory().to_folder(folder)
    app = create_app(Settings(territory=folder, state_dir=tmp_path / "state"))
    with TestClient(app) as client:
        response = client.post("/assemble", json={"area_min_ha": 6, "k": 2})
        assert response.status_code == 200, response.text
        body = AssemblyResponse.model_validate(response.json())
        assert body.sites[0].n_owners == 3
        assert body.sites[0].geometry["type"] == "Polygon"
        lon, lat = np.asarray(body.sites[0].geometry["coordinates"][0]).mean(axis=0)
        assert 0 < lon < 10 and 40 < lat < 52  # WGS84
        refused = client.post("/assemble", json={"area_min_ha": 6, "max_owners": 0})
        assert refused.status_code == 422
        ErrorOut.model_validate(refused.json())
