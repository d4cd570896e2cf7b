from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from _io_helpers import real, squares
from rasterio.transform import from_origin

from foncier.errors import CRSError, DataSourceError, LayerSchemaError
from foncier.io import read_communes, read_epci_membership, reproject_dem

EPCI_JSON = "admin/epci_france_decoupage_administratif.json"
ALES = "200066918"


def epci_json(tmp_path, members=("30007", "30028")):
    data = [
        {"code": ALES, "nom": "CA Alès Agglomération", "membres": [{"code": c} for c in members]},
        {"code": "243000643", "nom": "Nîmes Métropole", "membres": [{"code": "30189"}]},
    ]
    path = tmp_path / "epci.json"
    path.write_text(json.dumps(data))
    return path


def communes_file(tmp_path, **columns):
    n = len(next(iter(columns.values())))
    gdf = gpd.GeoDataFrame(columns, geometry=squares()[:n], crs="EPSG:2154")
    path = tmp_path / "communes.gpkg"
    gdf.to_file(path, engine="pyogrio")
    return path


def test_admin_express_fields_and_epci_json(tmp_path):
    path = communes_file(tmp_path, INSEE_COM=["30007", "30028", "30189", "30999"], NOM=list("abcd"))
    communes = read_communes(path, epci_json=epci_json(tmp_path))
    assert communes["insee"].tolist() == ["30007", "30028", "30189"]
    assert communes["epci"].tolist() == [ALES, ALES, "243000643"]
    assert communes["epci_name"].iloc[0] == "CA Alès Agglomération"
    assert communes.attrs["load_report"].rows_rejected == [
        ("30999", f"not a member of any EPCI in {tmp_path / 'epci.json'}")
    ]


def test_epci_filter_and_siren_epci_field(tmp_path):
    path = communes_file(
        tmp_path, code=[30007, 30028, 30189], nom=list("abc"), SIREN_EPCI=[ALES, ALES, "243000643"]
    )
    communes = read_communes(path, epci=ALES)
    assert communes["insee"].tolist() == ["30007", "30028"]
    assert communes.attrs["load_report"].rows_read == 2
    with pytest.raises(LayerSchemaError, match="aucune commune du fichier n'appartient à l'EPCI"):
        read_communes(path, epci="123456789")


def test_no_epci_source(tmp_path):
    path = communes_file(tmp_path, code=["30007"], nom=["Alès"])
    with pytest.raises(DataSourceError, match="--epci-json"):
        read_communes(path)


def test_bad_epci_json(tmp_path):
    path = tmp_path / "epci.json"
    path.write_text('[{"code": "200066918", "membres": [{"code": "300')
    with pytest.raises(DataSourceError, match=r"epci.json.*pas un JSON valide.*tronqué"):
        read_epci_membership(path)
    path.write_text('{"code": "200066918"}')
    with pytest.raises(DataSourceError, match="attendu le JSON des EPCI de decoupage"):
        read_epci_membership(path)


def test_real_ales_communes_with_their_epci():
    communes = read_communes(
        real("admin/communes_ales_agglomeration_2018geom.geojson"), epci_json=real(EPCI_JSON)
    )
    assert len(communes) == 72 and communes["insee"].is_unique
    assert (communes["epci"] == ALES).all()
    assert "30007" in set(communes["insee"])
    assert communes.loc[communes["insee"] == "30007", "name"].iloc[0] == "Alès"
    # Independent check: the members listed in the raw JSON.
    raw = json.loads(real(EPCI_JSON).read_text())
    members = {m["code"] for e in raw if e["code"] == ALES for m in e["membres"]}
    assert set(communes["insee"]) == members


def test_real_gard_file_filtered_on_ales():
    communes = read_communes(
        real("admin/communes-30-gard.geojson"), epci_json=real(EPCI_JSON), epci=ALES
    )
    assert len(communes) == 72


def test_real_epci_membership_table():
    members = read_epci_membership(real(EPCI_JSON))
    assert members["epci"].nunique() == 1255
    assert (members.loc[members["epci"] == ALES, "insee"]).nunique() == 72


def write_raster(path, data, *, crs="EPSG:4326", transform=None, nodata=-9999.0):
    transform = transform or from_origin(4.0, 44.2, 0.001, 0.001)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    return path


def test_dem_geographic_to_lambert93_keeps_nodata(tmp_path):
    data = np.full((60, 80), 200.0, dtype="float32")
    data[:, :40] = 100.0
    data[:20, :20] = -9999.0
    src = write_raster(tmp_path / "dem4326.tif", data)
    report = reproject_dem(src, tmp_path / "dem.tif")
    assert report.crs_in == "EPSG:4326" and report.reprojected
    with rasterio.open(tmp_path / "dem.tif") as dem:
        assert dem.crs.to_epsg() == 2154
        assert dem.nodata == -9999.0
        out = dem.read(1)
    valid = out[out != -9999.0]
    assert valid.min() >= 100.0 and valid.max() <= 200.0
    assert (out == -9999.0).any()
    # Bilinear: values between the two plateaus appear along their border.
    assert ((valid > 100.5) & (valid < 199.5)).any()


def test_dem_without_crs_or_corrupt(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32"
    ) as dst:
        dst.write(np.ones((2, 2), dtype="float32"), 1)
    with pytest.raises(CRSError, match="nocrs.tif.*pas de SCR"):
        reproject_dem(path, tmp_path / "out.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00garbage")
    with pytest.raises(DataSourceError, match="bad.tif"):
        reproject_dem(bad, tmp_path / "out.tif")


@pytest.mark.slow
def test_real_srtm_reprojection_keeps_elevations(tmp_path):
    out = tmp_path / "dem.tif"
    report = reproject_dem(real("dem/srtm30_cevennes_utm31n.tif"), out)
    assert report.crs_in == "EPSG:32631" and report.reprojected
    with rasterio.open(out) as dem:
        assert dem.crs.to_epsg() == 2154
        assert dem.nodata == -32768
        assert dem.res[0] == pytest.approx(30, rel=0.01)
        values = dem.read(1)
        # Alès centre (4.0806 E, 44.1250 N) is about 135 m.
        point = gpd.GeoSeries.from_xy([4.0806], [44.1250], crs=4326).to_crs(2154).iloc[0]
        row, col = dem.index(point.x, point.y)
    valid = values[values != -32768]
    assert valid.min() >= 85 and valid.max() <= 1672
    assert values[row, col] == pytest.approx(135, abs=15)
    # Cells outside the rotated source footprint are nodata, not zeros.
    assert (values == -32768).any() and not (values == 0).any()


def test_geo_api_communes_with_code_epci(tmp_path):
    path = communes_file(tmp_path, code=["30007"], nom=["Alès"], codeEpci=[ALES])
    communes = read_communes(path)
    assert communes["epci"].tolist() == [ALES]
