"""The territory folder store: loading, atomic writing, lossless round trip."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from foncier.errors import DataSourceError, GeometryRepairedWarning, LayerSchemaError, NotFoundError
from foncier.layers import empty_layer
from foncier.territory import SPATIAL_LAYERS, VALID_KEY, Territory
from foncier.testing import assert_layer_equal


def test_round_trip_is_lossless(sample_territory, tmp_path):
    sample_territory.to_folder(tmp_path / "t")
    back = Territory.from_folder(tmp_path / "t")
    for name in SPATIAL_LAYERS:
        assert_layer_equal(back.layers[name], sample_territory.layers[name], check_dtype=False)
    assert_layer_equal(back.enaf_consumption, sample_territory.enaf_consumption)
    assert_layer_equal(back.projects, sample_territory.projects, check_dtype=False)
    assert back.enaf_vintage == sample_territory.enaf_vintage
    assert back.synthetic and back.name == sample_territory.name
    assert (
        back.dem_path is not None
        and back.dem_path.read_bytes() == sample_territory.dem_path.read_bytes()
    )


def test_interrupted_write_keeps_previous_territory(sample_territory, tmp_path, monkeypatch):
    dest = tmp_path / "t"
    sample_territory.to_folder(dest)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("foncier.territory.write_cerema_enaf", boom)
    with pytest.raises(KeyboardInterrupt):
        sample_territory.to_folder(dest)
    after = {p.name: p.read_bytes() for p in dest.iterdir()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["t"]  # no temporary folder left behind


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataSourceError, match="n'existe pas"):
        Territory.from_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSourceError, match="territory.gpkg absent"):
        Territory.from_folder(tmp_path / "empty")


def test_corrupt_geopackage_is_a_clear_error(tmp_path):
    (tmp_path / "territory.gpkg").write_bytes(b"not a geopackage at all")
    with pytest.raises(DataSourceError, match="impossible d'ouvrir"):
        Territory.from_folder(tmp_path)


def test_missing_layers_are_reported_not_invented(grid_parcels, tmp_path):
    t = Territory(
        "mini", {"parcels": grid_parcels}, empty_layer("enaf_consumption"), empty_layer("projects")
    )
    t.to_folder(tmp_path / "mini")
    back = Territory.from_folder(tmp_path / "mini")
    assert len(back.parcels) == 9 and len(back.friches) == 0
    assert back.enaf_vintage is None
    assert "enaf_consumption.csv not provided" in back.reports["enaf_consumption"].notes


def test_bad_projects_file_names_file_and_column(sample_territory, tmp_path):
    dest = sample_territory.to_folder(tmp_path / "t")
    df = pd.read_csv(dest / "projects.csv")
    df.loc[3, "area_min_ha"] = -2
    df.to_csv(dest / "projects.csv", index=False)
    with pytest.raises(LayerSchemaError, match=r"projects.csv.*area_min_ha"):
        Territory.from_folder(dest)


def test_layer_lookup(sample_territory):
    assert sample_territory.layer("parcels") is sample_territory.parcels
    assert isinstance(sample_territory.communes, gpd.GeoDataFrame)
    with pytest.raises(NotFoundError, match="couches connues"):
        sample_territory.layer("roads")


def _bow_tie(geom) -> shapely.Polygon:
    x0, y0, x1, y1 = geom.bounds
    return shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])


def test_a_folder_foncier_wrote_is_trusted_only_while_unchanged(sample_territory, tmp_path):
    dest = tmp_path / "t"
    sample_territory.to_folder(dest)
    assert json.loads((dest / "territory.json").read_text())[VALID_KEY] is True
    assert VALID_KEY not in Territory.from_folder(dest).metadata
    # a parcel drawn invalid in a GIS after foncier wrote the file: checked and repaired again
    parcels = sample_territory.parcels.copy()
    parcels.loc[parcels.index[0], "geometry"] = _bow_tie(parcels.geometry.iloc[0])
    pyogrio.write_dataframe(parcels, dest / "territory.gpkg", layer="parcels", driver="GPKG")
    with pytest.warns(
        GeometryRepairedWarning, match=r"couche parcels : 1 géométrie\(s\) invalide\(s\) réparée"
    ):
        back = Territory.from_folder(dest)
    assert back.reports["parcels"].geometries_repaired == 1
    assert shapely.is_valid(back.parcels.geometry.to_numpy()).all()


def test_a_territory_written_with_invalid_geometries_is_not_stamped_valid(
    sample_territory, tmp_path
):
    parcels = sample_territory.parcels.copy()
    parcels.loc[parcels.index[0], "geometry"] = _bow_tie(parcels.geometry.iloc[0])
    layers = {**sample_territory.layers, "parcels": parcels}
    t = sample_territory
    Territory(t.name, layers, t.enaf_consumption, t.projects).to_folder(tmp_path / "t")
    assert json.loads((tmp_path / "t" / "territory.json").read_text())[VALID_KEY] is False
    with pytest.warns(
        GeometryRepairedWarning, match=r"couche parcels : 1 géométrie\(s\) invalide\(s\) réparée"
    ):
        Territory.from_folder(tmp_path / "t")
