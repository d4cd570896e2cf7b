from __future__ import annotations

import geopandas as gpd
import pytest
from _io_helpers import real, squares
from click.testing import CliRunner

from foncier.cli import main
from foncier.io.assemble import TerritorySources, build_territory
from foncier.territory import Territory


@pytest.mark.slow
def test_import_real_files_builds_a_territory(tmp_path):
    out = tmp_path / "ales"
    args = [
        "import",
        "--communes", str(real("admin/communes-30-gard.geojson")),
        "--epci-json", str(real("admin/epci_france_decoupage_administratif.json")),
        "--epci", "200066918",
        "--friches", str(real("friches/cartofriches_points_gard30_20231002.geojson")),
        "--dem", str(real("dem/srtm30_cevennes_utm31n.tif")),
        "--name", "Alès Agglomération",
        "-o", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    for line in (
        "communes : 72/72 lignes gardées",
        "friches : 88/88 lignes gardées",
        "MNT : ",
        "Couche absente : parcelles (parcels)",
        "Couche absente : ZAE (zae)",
        "Couche absente : projets (projects)",
    ):
        assert line in result.output
    territory = Territory.from_folder(out)
    assert territory.name == "Alès Agglomération"
    assert len(territory.communes) == 72 and (territory.communes["epci"] == "200066918").all()
    assert len(territory.friches) == 88 and territory.friches["approximate"].all()
    assert len(territory.constraints) == 0
    # The only real constraint files are of the Pays de Bray (Seine-Maritime), 600 km from
    # Alès: importing them with the Gard communes is refused, naming both bounds.
    bray = [
        "--constraints", f"natura2000={real('environnement/natura2000_paysdebray76.geojson')}",
        "--constraints", f"znieff2={real('environnement/znieff2_paysdebray76.geojson')}",
    ]  # fmt: skip
    refused = CliRunner().invoke(main, [*args[:-2], *bray, "-o", str(tmp_path / "mixed")])
    assert refused.exit_code == 2, refused.output
    assert "ne recouvre pas les communes" in refused.output and "constraints" in refused.output
    assert not (tmp_path / "mixed").exists()
    assert len(territory.parcels) == 0 and len(territory.zae) == 0
    assert territory.dem_path is not None and territory.dem_path.is_file()
    # no Cerema file covers Gard (one of another territory is refused: see test_io_cerema.py)
    assert territory.enaf_vintage is None and "enaf_consumption" in territory.metadata["missing"]
    assert territory.metadata["synthetic"] is False
    assert "parcels" in territory.metadata["missing"]


def test_friches_take_parcel_land_in_the_assembled_territory(tmp_path):
    idus = [f"30007000AB{i + 1:04d}" for i in range(9)]
    parcels = gpd.GeoDataFrame(
        {"id": idus, "commune": "30007", "section": "AB", "numero": "1", "contenance": 10_000},
        geometry=squares(),
        crs="EPSG:2154",
    ).to_crs(4326)
    parcels.to_file(tmp_path / "parcelles.geojson", engine="pyogrio")
    friches = gpd.GeoDataFrame(
        {
            "site_id": ["f1", "f2"],
            "site_statut": ["friche sans projet", "friche potentielle"],
            "site_surface": [1.0, 2_500.0],
            "comm_insee": ["30007", "30007"],
            "l_idpar": [f"{{{idus[0]},{idus[3]},{idus[4]}}}", None],
        },
        geometry=[squares()[0].centroid, squares()[8].centroid],
        crs="EPSG:2154",
    ).to_crs(4326)
    friches.to_file(tmp_path / "friches.geojson", engine="pyogrio")
    sources = TerritorySources(
        cadastre=[tmp_path / "parcelles.geojson"], friches=tmp_path / "friches.geojson"
    )
    territory = build_territory("t", sources, tmp_path / "dem.tif")
    friche = territory.friches.iloc[0]
    assert friche.geometry.area == pytest.approx(30_000, rel=1e-3)
    assert not friche["approximate"]
    assert set(territory.metadata["missing"]) >= {"communes", "zae", "dem", "enaf_consumption"}
    folder = territory.to_folder(tmp_path / "out")
    again = Territory.from_folder(folder)
    assert again.friches.geometry.iloc[0].area == pytest.approx(30_000, rel=1e-3)
    # The friche without parcels stays a point with its declared surface, flagged.
    assert again.friches.geom_type.tolist() == ["Polygon", "Point"]
    assert again.friches["approximate"].tolist() == [False, True]
    assert again.friches["surface_m2"].iloc[1] == 2_500
    assert len(again.parcels) == 9


def test_import_errors_are_clean(tmp_path):
    f = real("environnement/natura2000_paysdebray76.geojson")
    runner = CliRunner()
    base = ["import", "--name", "x", "-o", str(tmp_path / "t")]
    result = runner.invoke(main, [*base, "--constraints", str(f)])
    assert result.exit_code == 2 and "TYPE=FICHIER" in result.output
    result = runner.invoke(main, [*base, "--constraints", f"flood={f}"])
    assert result.exit_code == 2 and "type de contrainte inconnu 'flood'" in result.output
    result = runner.invoke(main, [*base, "--infrastructure", f"interchange={tmp_path / 'no.gpkg'}"])
    assert result.exit_code == 2 and "n'existe pas" in result.output
    (tmp_path / "cut.geojson").write_text('{"type": "FeatureCollection", "features": [{"ty')
    result = runner.invoke(main, [*base, "--friches", str(tmp_path / "cut.geojson")])
    assert result.exit_code == 2 and "cut.geojson" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "t").exists()
