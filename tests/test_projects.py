"""Tests of the projects table: reading, validation beyond the schema, requirements."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from foncier.errors import DataSourceError, LayerSchemaError
from foncier.feasibility import Thresholds
from foncier.projects import project_frame, project_requirements, read_projects, validate_projects

CSV = """\
project_id,name,sector,area_min_ha,area_max_ha,jobs,needs_rail,max_slope_pct,seveso,\
preferred_insee,earliest_year
P1,Usine A,chimie,2.5,3,40,oui,6,true,30007,2028
P2,Entrepôt B,logistique,10,15,25,non,,false,,
"""


def test_read_projects_csv(tmp_path):
    path = tmp_path / "projects.csv"
    path.write_text(CSV, encoding="utf-8")
    projects = read_projects(path, communes=["30007", "30008"])
    assert projects["project_id"].tolist() == ["P1", "P2"]
    assert projects["needs_rail"].tolist() == [True, False]
    assert projects["area_min_ha"].tolist() == [2.5, 10.0]
    assert projects["jobs"].dtype == np.int64
    assert projects.attrs["load_report"].rows_read == 2


def test_read_projects_geojson(tmp_path):
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [4.08, 44.13]},
            "properties": {
                "project_id": "P1",
                "name": "Usine",
                "sector": "bois",
                "area_min_ha": 1.5,
                "area_max_ha": 2.0,
                "jobs": 12,
            },
        }
    ]
    path = tmp_path / "projects.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    projects = read_projects(path)
    assert projects.loc[0, "area_max_ha"] == 2.0
    assert "geometry" not in projects.columns


def test_unknown_preferred_commune_is_refused(tmp_path):
    path = tmp_path / "projects.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(LayerSchemaError, match=r"preferred_insee.*P1 -> 30007"):
        read_projects(path, communes=pd.DataFrame({"insee": ["30008"]}))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"area_min_ha": 5.0, "area_max_ha": 3.0}, "area_min_ha supérieure à area_max_ha"),
        ({"jobs": -3}, "jobs"),
        ({"area_min_ha": 0.0}, "area_min_ha"),
    ],
)
def test_bad_values_are_refused(change, match):
    table = pd.DataFrame(
        {
            "project_id": ["P1"],
            "name": ["a"],
            "sector": ["b"],
            "area_min_ha": [2.0],
            "area_max_ha": [3.0],
            "jobs": [3],
        }
    )
    for key, value in change.items():
        table[key] = [value]
    with pytest.raises(LayerSchemaError, match=match):
        validate_projects(table)


def test_missing_file_is_a_data_source_error(tmp_path):
    with pytest.raises(DataSourceError, match="impossible de lire le fichier de projets"):
        read_projects(tmp_path / "absent.csv")


def test_project_requirements_numbers_and_text():
    table = validate_projects(
        pd.DataFrame(
            {
                "project_id": ["P1", "P2"],
                "name": ["a", "b"],
                "sector": ["x", "y"],
                "area_min_ha": [2.5, 10.0],
                "area_max_ha": [3.0, 12.0],
                "jobs": [40, 5],
                "needs_rail": [True, False],
                "max_slope_pct": [6.0, None],
                "seveso": [False, True],
                "earliest_year": [2028, None],
                "max_dist_interchange_km": [None, 8.0],
            }
        )
    )
    req = project_requirements(table, Thresholds(rail_max_km=3.0))
    assert req.loc["P1", "max_dist_rail_km"] == 3.0
    assert np.isnan(req.loc["P2", "max_dist_rail_km"])
    assert req.loc["P2", "min_dist_housing_km"] == 0.5
    assert req.loc["P1", "text"] == (
        "surface ≥ 2,5 ha ; pente ≤ 6 % ; fret ferroviaire à ≤ 3 km ; terrain prêt en 2028"
    )
    assert (
        req.loc["P2", "text"]
        == "surface ≥ 10 ha ; échangeur à ≤ 8 km ; habitations à ≥ 0,5 km (Seveso)"
    )


def test_project_frame_fills_identification_defaults():
    frame = project_frame({"area_min_ha": 3, "max_slope_pct": 5})
    assert frame.loc[0, "project_id"] == "requête"
    assert frame.loc[0, "area_max_ha"] == 3.0
    assert frame.loc[0, "jobs"] == 0
