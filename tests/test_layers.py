"""Layer schemas, the CRS policy and the geometry policy."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from foncier.errors import (
    CRSError,
    GeometryError,
    GeometryRepairedWarning,
    LayerSchemaError,
    NotFoundError,
)
from foncier.layers import (
    SCHEMAS,
    LoadReport,
    empty_layer,
    normalise_insee,
    validate_layer,
    validate_record,
)


def test_valid_parcels_are_returned_clean(grid_parcels):
    out = validate_layer("parcels", grid_parcels)
    assert out.crs.to_epsg() == 2154
    assert list(out.columns[:7]) == [
        "idu",
        "insee",
        "section",
        "numero",
        "contenance_m2",
        "owner_kind",
        "land_cover",
    ]
    assert (out["owner_kind"] == "unknown").all()  # optional column filled with its default
    assert out.area.sum() == pytest.approx(90_000.0)


def test_missing_column_is_named(grid_parcels):
    with pytest.raises(LayerSchemaError, match="'idu'"):
        validate_layer("parcels", grid_parcels.drop(columns="idu"))


def test_missing_column_with_other_case_gives_hint(grid_parcels):
    with pytest.raises(LayerSchemaError, match="renommez-la en 'idu'"):
        validate_layer("parcels", grid_parcels.rename(columns={"idu": "IDU"}))


def test_duplicate_idu_refused(grid_parcels):
    dup = grid_parcels.copy()
    dup.loc[1, "idu"] = dup.loc[0, "idu"]
    with pytest.raises(LayerSchemaError, match="clés en double.*30007000AB0001"):
        validate_layer("parcels", dup)


def test_unknown_value_is_listed(grid_parcels):
    bad = grid_parcels.assign(owner_kind=["public"] * 8 + ["martian"])
    with pytest.raises(LayerSchemaError, match="owner_kind.*'martian'"):
        validate_layer("parcels", bad)


def test_negative_area_refused(grid_parcels):
    bad = grid_parcels.assign(contenance_m2=[-5.0] + [1.0] * 8)
    with pytest.raises(LayerSchemaError, match="contenance_m2.*minimum"):
        validate_layer("parcels", bad)


def test_text_in_numeric_column_refused(grid_parcels):
    bad = grid_parcels.assign(contenance_m2=["12 a"] + ["1"] * 8)
    with pytest.raises(LayerSchemaError, match="non numériques.*'12 a'"):
        validate_layer("parcels", bad)


def test_malformed_idu_refused(grid_parcels):
    bad = grid_parcels.assign(idu=[f"X{i}" for i in range(9)])
    with pytest.raises(LayerSchemaError, match="codes mal formés"):
        validate_layer("parcels", bad)


def test_unknown_layer():
    with pytest.raises(NotFoundError, match="couches connues"):
        validate_layer("roads", pd.DataFrame())


def test_integer_insee_is_normalised():
    assert normalise_insee(pd.Series([1001, 30007, "2A004", 1001.0, None])).tolist()[:4] == [
        "01001",
        "30007",
        "2A004",
        "01001",
    ]


def test_communes_accept_corsica_and_integer_codes():
    gdf = gpd.GeoDataFrame(
        {"insee": [1001, "2A004"], "name": ["A", "B"], "epci": [200066918, "200066918"]},
        geometry=[
            shapely.box(7e5, 6.3e6, 7e5 + 1, 6.3e6 + 1),
            shapely.box(7e5 + 1, 6.3e6, 7e5 + 2, 6.3e6 + 1),
        ],
        crs="EPSG:2154",
    )
    out = validate_layer("communes", gdf)
    assert out["insee"].tolist() == ["01001", "2A004"]
    assert out["epci"].tolist() == ["200066918", "200066918"]
    assert out["has_planning_doc"].isna().all()  # no planning-document information: unknown


def test_reprojection_from_wgs84_preserves_area(grid_parcels):
    wgs = grid_parcels.to_crs("EPSG:4326")
    report = LoadReport("parcels")
    out = validate_layer("parcels", wgs, report=report)
    assert report.reprojected and report.crs_in == "EPSG:4326"
    np.testing.assert_allclose(out.area, grid_parcels.area, rtol=1e-3)


def test_layer_without_crs_refused(grid_parcels):
    with pytest.raises(CRSError, match="aucun SCR"):
        validate_layer("parcels", grid_parcels.set_crs(None, allow_override=True))


def test_bow_tie_is_repaired_and_reported(grid_parcels):
    bow = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])
    bad = grid_parcels.copy()
    bad.loc[0, "geometry"] = shapely.affinity.translate(bow, 700_000, 6_300_000)
    report = LoadReport("parcels")
    with pytest.warns(GeometryRepairedWarning, match=r"1 géométrie\(s\) invalide\(s\) réparée"):
        out = validate_layer("parcels", bad, report=report)
    assert report.geometries_repaired == 1
    assert report.repaired_ids == ["30007000AB0001"]
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"
    assert out.area.iloc[0] == pytest.approx(5_000.0)
    assert len(out) == 9  # nothing dropped


def test_empty_geometry_refused_with_id(grid_parcels):
    bad = grid_parcels.copy()
    bad.loc[4, "geometry"] = shapely.Polygon()
    with pytest.raises(GeometryError, match="30007000AB0005"):
        validate_layer("parcels", bad)


def test_points_in_polygon_layer_refused(grid_parcels):
    bad = grid_parcels.copy()
    bad["geometry"] = bad.centroid
    with pytest.raises(GeometryError, match="géométries 'polygon' attendues"):
        validate_layer("parcels", bad)


def test_projects_area_min_above_max_refused():
    df = pd.DataFrame(
        {
            "project_id": ["P1"],
            "name": ["x"],
            "sector": ["s"],
            "area_min_ha": [5.0],
            "area_max_ha": [2.0],
            "jobs": [3],
        }
    )
    with pytest.raises(LayerSchemaError, match="area_min_ha supérieure à area_max_ha.*P1"):
        validate_layer("projects", df)


def test_projects_negative_area_refused():
    df = pd.DataFrame(
        {
            "project_id": ["P1"],
            "name": ["x"],
            "sector": ["s"],
            "area_min_ha": [-1.0],
            "area_max_ha": [2.0],
            "jobs": [3],
        }
    )
    with pytest.raises(LayerSchemaError, match="area_min_ha"):
        validate_layer("projects", df)


def test_booleans_accept_french_words():
    df = pd.DataFrame(
        {
            "project_id": ["P1", "P2"],
            "name": ["x", "y"],
            "sector": ["s", "s"],
            "area_min_ha": [1, 1],
            "area_max_ha": [1, 2],
            "jobs": [3, 4],
            "needs_rail": ["oui", "non"],
        }
    )
    assert validate_layer("projects", df)["needs_rail"].tolist() == [True, False]


@pytest.mark.parametrize("name", ["communes", "parcels", "friches", "projects", "enaf_consumption"])
def test_empty_layer_is_valid(name):
    out = validate_layer(name, empty_layer(name))
    assert len(out) == 0


@given(st.integers(min_value=1001, max_value=95999))
def test_numeric_insee_roundtrip(code):
    assert normalise_insee(pd.Series([code])).iloc[0] == f"{code:05d}"


_CODE_TEXT = st.one_of(st.none(), st.text(alphabet="0123456789 AB\t²٣-.", max_size=7))


@given(st.lists(_CODE_TEXT, max_size=12), st.sampled_from([0, 5, 14]))
def test_text_codes_normalise_as_value_by_value(codes, width):
    # text alone takes the vectorised string methods; a number among them, the
    # value-by-value rule: both give the same codes
    vectorised = normalise_insee(pd.Series(codes, dtype=object), width=width)
    by_value = normalise_insee(pd.Series([*codes, 7], dtype=object), width=width).iloc[:-1]
    assert vectorised.isna().tolist() == by_value.isna().tolist()
    assert vectorised.dropna().tolist() == by_value.dropna().tolist()
    assert str(vectorised.dtype) == str(by_value.dtype) == "str"


def test_missing_integer_is_a_schema_error_not_a_crash():
    df = pd.DataFrame(
        {"project_id": ["P1", "P2"], "name": ["x", "y"], "sector": ["s", "s"],
         "area_min_ha": [1, 1], "area_max_ha": [1, 2], "jobs": ["3", ""]}
    )  # fmt: skip
    with pytest.raises(LayerSchemaError, match="'jobs'.*valeurs manquantes.*'P2'"):
        validate_layer("projects", df.replace("", None))
    out = validate_layer("projects", df.iloc[:1])
    assert out["jobs"].dtype == "int64" and out["jobs"].iloc[0] == 3


def test_blank_planning_doc_flag_stays_unknown():
    gdf = gpd.GeoDataFrame(
        {"insee": ["30007", "30008", "30009"], "name": ["A", "B", "C"], "epci": "200066918",
         "has_planning_doc": ["non", "", None]},
        geometry=[shapely.box(7e5 + i, 6.3e6, 7e5 + i + 1, 6.3e6 + 1) for i in range(3)],
        crs="EPSG:2154",
    )  # fmt: skip
    flags = validate_layer("communes", gdf)["has_planning_doc"]
    assert flags.dtype == "boolean"
    assert flags.iloc[0] == False and flags.iloc[1:].isna().all()  # noqa: E712 (nullable)


@pytest.mark.parametrize(
    ("crs", "coords"),
    [("EPSG:2154", (4.08, 44.12)), ("EPSG:27572", (790_000.0, 6_340_000.0))],
)
def test_coordinates_outside_the_declared_crs_are_refused_by_default(crs, coords):
    x, y = coords
    gdf = gpd.GeoDataFrame(
        {"insee": ["30007"], "name": ["Alès"], "epci": ["200066918"]},
        geometry=[shapely.box(x, y, x + 0.01, y + 0.01)],
        crs=crs,
    )
    with pytest.raises(CRSError, match="communes"):
        validate_layer("communes", gdf)


# -- one row without a table: validate_record against validate_layer ------------------------
_PROJECT_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200_000),
    st.floats(-1e6, 1e6),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e12, 20_000.0]),
    st.sampled_from(["", " P1 ", "30007", "3007", "2A004", "oui", "non", "2.5", "abc", "1e3"]),
)
_PROJECT_COLUMNS = SCHEMAS["projects"].column_names


def _valid_project() -> dict[str, object]:
    return {
        "project_id": "P1",
        "name": "Usine",
        "sector": "chimie",
        "area_min_ha": 2.5,
        "area_max_ha": 3,
        "jobs": 40,
    }


def _outcome(validate: object) -> tuple[str, object]:
    try:
        return "ok", validate()  # type: ignore[operator]
    except LayerSchemaError as exc:
        return "error", str(exc)


@given(st.dictionaries(st.sampled_from(_PROJECT_COLUMNS), _PROJECT_VALUES, max_size=6))
def test_validate_record_agrees_with_validate_layer(changes: dict[str, object]) -> None:
    row = {**_valid_project(), **changes}
    fast = _outcome(lambda: validate_record("projects", row))
    table = _outcome(lambda: validate_layer("projects", pd.DataFrame([row])))
    assert fast[0] == table[0]
    if fast[0] == "error":
        assert fast[1] == table[1]
        return
    got = pd.DataFrame([fast[1]])
    expected = table[1]
    assert list(got.columns) == list(expected.columns)
    for col in expected.columns:
        a, b = got[col].iloc[0], expected[col].iloc[0]
        assert (pd.isna(a) and pd.isna(b)) or a == b, col


def test_validate_record_plain_row() -> None:
    row = validate_record(
        "projects", {**_valid_project(), "preferred_insee": " 1001", "max_slope_pct": 6}
    )
    assert row["preferred_insee"] == "01001"
    assert row["area_max_ha"] == 3.0 and isinstance(row["area_max_ha"], float)
    assert row["jobs"] == 40 and row["investment_eur"] == 0.0
    assert row["needs_rail"] is False and row["earliest_year"] is None


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"area_min_ha": -1.0}, "area_min_ha"),
        ({"area_min_ha": 20_000.0}, "area_min_ha"),
        ({"jobs": 2.5}, "jobs"),
        ({"area_min_ha": 5.0}, "area_min_ha"),  # above area_max_ha
        ({"preferred_insee": "ABCDE"}, "preferred_insee"),
    ],
)
def test_validate_record_errors_as_the_table(change: dict[str, object], column: str) -> None:
    row = {**_valid_project(), **change}
    with pytest.raises(LayerSchemaError, match=column) as fast:
        validate_record("projects", row)
    with pytest.raises(LayerSchemaError) as table:
        validate_layer("projects", pd.DataFrame([row]))
    assert str(fast.value) == str(table.value)


def test_missing_key_named_by_its_line() -> None:
    rows = pd.DataFrame([_valid_project(), {**_valid_project(), "project_id": None}])
    with pytest.raises(
        LayerSchemaError, match=r"project_id.*valeurs manquantes aux lignes : 'ligne 2'"
    ):
        validate_layer("projects", rows)


def test_validate_record_missing_text_stays_one_record(monkeypatch):
    """A project without a category (a nullable text) is validated without a one-row table."""
    import foncier.layers as layers_module
    from foncier.projects import project_record

    expected = project_record({"area_min_ha": 2.5, "max_slope_pct": 6})

    def no_table(*args, **kwargs):
        raise AssertionError("validate_layer called for a plain record")

    monkeypatch.setattr(layers_module, "validate_layer", no_table)
    got = project_record({"area_min_ha": 2.5, "max_slope_pct": 6})
    assert got == expected
    assert got["category"] is None
    assert got["area_max_ha"] == 2.5
