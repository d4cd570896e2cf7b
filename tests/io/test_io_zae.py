from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from _io_helpers import squares

from foncier.errors import DataSourceError
from foncier.io import read_zae, read_zae_plots


def geojson_text(geom_l93):
    """GeoJSON text of an EPSG:2154 geometry, in EPSG:4326 as the CNIG CSV requires."""
    geom = gpd.GeoSeries([geom_l93], crs=2154).to_crs(4326).iloc[0]
    return json.dumps(shapely.geometry.mapping(geom))


def cnig_cell(text):
    """A CSV cell as in the CNIG examples: quotes escaped both with \\ and doubled."""
    return '"' + text.replace('"', '\\""') + '"'


SITE_HEADER = (
    "site_id,site_nom,site_type,site_surf_brute,site_surf_utile,site_comm_insee,site_geomsurf"
)
PLOT_HEADER = (
    "terr_id,site_id,terr_refcad,terr_surf_brute,terr_stade_amngt,terr_etat_occup,"
    "terr_geomsurf,terr_m2_prix"
)


def test_site_eco_csv_with_geojson_column(tmp_path):
    big = shapely.box(700_000, 6_300_000, 700_300, 6_300_300)
    geom = cnig_cell(geojson_text(big))
    zae = "zone d'activité économique"
    lines = [
        SITE_HEADER,
        f"30007_SITE-ECO_00001,ZA Croupillac,{zae},9,7.5,30007,{geom}",
        f"30007_SITE-ECO_00002,,{zae},n/a,,30007,{geom}",
        "30007_SITE-ECO_00003,Sans géométrie,zone d'activité économique,1,1,30007,",
    ]
    path = tmp_path / "site_eco.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    zae = read_zae(path)
    assert zae["site_id"].tolist() == ["30007_SITE-ECO_00001"]
    row = zae.iloc[0]
    assert row["name"] == "ZA Croupillac" and row["insee"] == "30007"
    assert row["surf_brute_ha"] == 9 and row["surf_utile_ha"] == 7.5
    assert row.geometry.area == pytest.approx(90_000, rel=1e-4)
    assert dict(zae.attrs["load_report"].rows_rejected) == {
        "30007_SITE-ECO_00002": "site_surf_brute non numérique",
        "30007_SITE-ECO_00003": "géométrie absente ou illisible",
    }


def test_terrain_eco_semicolon_csv_accents_and_unknown_values(tmp_path):
    cells = squares()
    rows = [
        (
            "T1",
            "S1",
            "30007000AB0001|30007000AB0002",
            "2",
            "Viabilisé et aménagé",
            "VACANT",
            "12,5",
        ),
        ("T2", "S1", "", "1", "viabilise non amenage", "inoccupé", ""),
        ("T3", "S1", "", "1", "en travaux", "occupé", ""),
        ("T4", "S1", "", "1", "inconnu", "occupé", "cher"),
    ]
    lines = [PLOT_HEADER.replace(",", ";")]
    for i, (tid, sid, ref, surf, stage, occ, price) in enumerate(rows):
        geom = geojson_text(cells[i]).replace('"', '""')
        lines.append(f'{tid};{sid};{ref};{surf};{stage};{occ};"{geom}";{price}')
    path = tmp_path / "terrain_eco.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    plots = read_zae_plots(path)
    assert plots["plot_id"].tolist() == ["T1", "T2"]
    assert plots["servicing_stage"].tolist() == ["viabilisé et aménagé", "viabilisé non aménagé"]
    assert plots["occupancy"].tolist() == ["vacant", "inoccupé"]
    assert plots["price_eur_m2"].iloc[0] == 12.5
    assert plots["refcad"].iloc[0] == "30007000AB0001|30007000AB0002"
    assert plots["surf_brute_ha"].tolist() == [2.0, 1.0]
    assert dict(plots.attrs["load_report"].rows_rejected) == {
        "T3": "unknown terr_stade_amngt 'en travaux'",
        "T4": "terr_m2_prix non numérique",
    }
    assert plots.crs.to_epsg() == 2154


def test_terrain_eco_vector_file(tmp_path):
    gdf = gpd.GeoDataFrame(
        {
            "TERR_ID": ["T1"],
            "SITE_ID": ["S1"],
            "TERR_STADE_AMNGT": ["non aménagé, non viabilisé"],
            "TERR_ETAT_OCCUP": ["inoccupé"],
        },
        geometry=[squares()[0]],
        crs="EPSG:2154",
    )
    gdf.to_file(tmp_path / "terrain.gpkg", engine="pyogrio")
    plots = read_zae_plots(tmp_path / "terrain.gpkg")
    assert plots["servicing_stage"].tolist() == ["non aménagé, non viabilisé"]
    assert plots.geometry.area.iloc[0] == pytest.approx(10_000)


def test_missing_columns_and_bad_files(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("terr_id,site_id,terr_geomsurf\nT1,S1,\n")
    with pytest.raises(DataSourceError, match=r"t.csv.*'terr_stade_amngt'"):
        read_zae_plots(path)
    (tmp_path / "s.csv").write_text("site_id,site_comm_insee\nS1,30007\n")
    with pytest.raises(DataSourceError, match=r"s.csv.*'site_geomsurf'"):
        read_zae(tmp_path / "s.csv")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataSourceError, match="e.csv est vide"):
        read_zae(tmp_path / "e.csv")
    with pytest.raises(DataSourceError, match="n'existe pas"):
        read_zae(tmp_path / "absent.csv")
    (tmp_path / "latin.csv").write_bytes("site_id,site_nom\nS1,Zone d'activité\n".encode("cp1252"))
    with pytest.raises(DataSourceError, match="pas du texte UTF-8"):
        read_zae(tmp_path / "latin.csv")
