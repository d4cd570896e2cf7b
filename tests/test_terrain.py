"""Terrain: DEM reading and reprojection, slope, zonal statistics, suitability raster."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer

from foncier.errors import CRSError, DataSourceError, LayerSchemaError
from foncier.terrain import read_dem, slope_pct, write_suitability_raster, zonal_slope

X0, Y0 = 700_000.0, 6_300_000.0
RES = 25.0


def write_dem(
    path: Path,
    z: np.ndarray,
    transform: Affine,
    crs: str | None = "EPSG:2154",
    nodata: float | None = -9999.0,
) -> Path:
    profile = {
        "driver": "GTiff",
        "width": z.shape[1],
        "height": z.shape[0],
        "count": 1,
        "dtype": str(z.dtype),
        "transform": transform,
        "nodata": nodata,
    }
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path


def plane(gradient_pct: float, shape: tuple[int, int] = (80, 80)) -> tuple[np.ndarray, Affine]:
    """A plane rising eastwards by ``gradient_pct`` %, 25 m cells from (X0 - 500, Y0 + 1500)."""
    transform = Affine(RES, 0, X0 - 500, 0, -RES, Y0 + 1500)
    cols = np.arange(shape[1]) * RES
    z = np.tile(100.0 + cols * gradient_pct / 100.0, (shape[0], 1)).astype("float32")
    return z, transform


def units_of(*geoms: shapely.Geometry) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(geoms), crs="EPSG:2154")


@pytest.fixture
def plane_dem(tmp_path: Path) -> Path:
    z, transform = plane(5.0)
    return write_dem(tmp_path / "plane.tif", z, transform)


class TestSlope:
    @pytest.mark.parametrize("gradient", [0.0, 2.0, 5.0, 12.5])
    def test_plane_eastwards(self, gradient: float) -> None:
        z, transform = plane(gradient, (10, 10))
        assert slope_pct(z, transform) == pytest.approx(np.full((10, 10), gradient), abs=1e-3)

    def test_plane_diagonal(self) -> None:
        # 3 % east and 4 % north: 5 % steepest slope
        transform = Affine(10, 0, 0, 0, -10, 100)
        rows, cols = np.mgrid[0:10, 0:10]
        z = cols * 10 * 0.03 + (9 - rows) * 10 * 0.04
        assert slope_pct(z, transform) == pytest.approx(np.full((10, 10), 5.0), abs=1e-6)

    def test_nodata_propagates_to_neighbours_only(self) -> None:
        z, transform = plane(5.0, (7, 7))
        z = z.astype("float64")
        z[3, 3] = np.nan
        s = slope_pct(z, transform)
        assert np.isnan(s[3, 3]) and np.isnan(s[3, 2]) and np.isnan(s[2, 3])
        assert s[0, 0] == pytest.approx(5.0, abs=1e-3)

    def test_too_small_grid_is_nan(self) -> None:
        assert np.isnan(slope_pct(np.ones((1, 5)), Affine(1, 0, 0, 0, -1, 0))).all()


class TestReadDem:
    def test_l93_read_as_is(self, plane_dem: Path) -> None:
        dem = read_dem(plane_dem)
        assert dem.crs == "EPSG:2154" and dem.source_crs == "EPSG:2154"
        assert dem.elevation.shape == (80, 80)
        assert dem.transform == Affine(RES, 0, X0 - 500, 0, -RES, Y0 + 1500)

    def test_window_on_bounds(self, plane_dem: Path) -> None:
        dem = read_dem(plane_dem, bounds=(X0, Y0, X0 + 100, Y0 + 100))
        # 4 cells plus one of margin each side, on the source grid
        assert dem.elevation.shape == (6, 6)
        assert dem.transform.c == X0 - RES and dem.transform.f == Y0 + 100 + RES
        assert dem.elevation[0, 0] == pytest.approx(100 + (500 - RES) * 0.05)

    def test_nodata_becomes_nan(self, tmp_path: Path) -> None:
        z, transform = plane(5.0, (10, 10))
        z[2, 2] = -9999.0
        dem = read_dem(write_dem(tmp_path / "nd.tif", z, transform))
        assert np.isnan(dem.elevation[2, 2]) and np.isfinite(dem.elevation).sum() == 99

    @pytest.mark.parametrize("crs", ["EPSG:32631", "EPSG:4326"])
    def test_other_crs_is_reprojected(self, tmp_path: Path, crs: str) -> None:
        # the same 5 % plane, defined in EPSG:2154 and sampled on a grid in `crs`
        to_src = Transformer.from_crs("EPSG:2154", crs, always_xy=True)
        to_l93 = Transformer.from_crs(crs, "EPSG:2154", always_xy=True)
        minx, miny = to_src.transform(X0 - 2000, Y0 - 2000)
        maxx, maxy = to_src.transform(X0 + 2000, Y0 + 2000)
        n = 160
        transform = Affine((maxx - minx) / n, 0, minx, 0, -(maxy - miny) / n, maxy)
        rows, cols = np.mgrid[0:n, 0:n]
        xs, ys = transform @ (cols + 0.5, rows + 0.5)
        lx, _ = to_l93.transform(xs, ys)
        z = (100.0 + (lx - X0) * 0.05).astype("float32")
        path = write_dem(tmp_path / "other.tif", z, transform, crs=crs)
        dem = read_dem(path)
        assert dem.crs == "EPSG:2154" and dem.source_crs == crs
        slopes = zonal_slope(units_of(shapely.box(X0 - 500, Y0 - 500, X0 + 500, Y0 + 500)), path)
        assert slopes["slope_mean_pct"].iloc[0] == pytest.approx(5.0, abs=0.1)

    def test_dem_without_crs_is_refused(self, tmp_path: Path) -> None:
        z, transform = plane(5.0, (10, 10))
        path = write_dem(tmp_path / "nocrs.tif", z, transform, crs=None)
        with pytest.raises(CRSError, match="pas de système de coordonnées"):
            read_dem(path)
        with pytest.raises(CRSError, match="pas de système de coordonnées"):
            zonal_slope(units_of(shapely.box(X0, Y0, X0 + 50, Y0 + 50)), path)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(DataSourceError, match="n'existe pas"):
            read_dem(tmp_path / "absent.tif")

    def test_not_a_raster(self, tmp_path: Path) -> None:
        path = tmp_path / "dem.tif"
        path.write_text("not a raster")
        with pytest.raises(DataSourceError, match="impossible de lire"):
            read_dem(path)

    def test_bounds_outside_dem(self, plane_dem: Path) -> None:
        dem = read_dem(plane_dem, bounds=(X0 + 50_000, Y0, X0 + 50_100, Y0 + 100))
        assert dem.elevation.shape == (0, 0)


class TestZonalSlope:
    def test_plane_five_percent(self, plane_dem: Path) -> None:
        units = units_of(
            shapely.box(X0, Y0, X0 + 300, Y0 + 200),
            shapely.box(X0 + 400, Y0 + 400, X0 + 410, Y0 + 410),  # smaller than a cell
        )
        slopes = zonal_slope(units, plane_dem)
        assert list(slopes.columns) == ["slope_mean_pct", "slope_max_pct"]
        assert slopes.to_numpy() == pytest.approx(np.full((2, 2), 5.0), abs=0.1)

    def test_mean_and_max_of_two_planes(self, tmp_path: Path) -> None:
        # west half flat, east half 10 %: a unit straddling both has mean between, max 10
        transform = Affine(RES, 0, X0, 0, -RES, Y0 + 1000)
        cols = np.arange(40) * RES
        z = np.tile(np.where(cols < 500, 100.0, 100.0 + (cols - 500) * 0.10), (40, 1))
        path = write_dem(tmp_path / "two.tif", z.astype("float32"), transform)
        slopes = zonal_slope(
            units_of(
                shapely.box(X0 + 100, Y0 + 100, X0 + 400, Y0 + 900),
                shapely.box(X0 + 600, Y0 + 100, X0 + 900, Y0 + 900),
                shapely.box(X0 + 300, Y0 + 100, X0 + 700, Y0 + 900),
            ),
            path,
        )
        assert slopes["slope_mean_pct"].iloc[0] == pytest.approx(0.0, abs=1e-6)
        assert slopes["slope_mean_pct"].iloc[1] == pytest.approx(10.0, abs=1e-3)
        assert 0 < slopes["slope_mean_pct"].iloc[2] < 10
        assert slopes["slope_max_pct"].iloc[2] == pytest.approx(10.0, abs=1e-3)

    def test_outside_partly_outside_and_nodata(self, tmp_path: Path) -> None:
        z, transform = plane(5.0)
        z[:, :20] = -9999.0  # west 500 m without data
        path = write_dem(tmp_path / "holes.tif", z, transform)
        units = units_of(
            shapely.box(X0 + 50_000, Y0, X0 + 50_100, Y0 + 100),  # fully outside
            shapely.box(X0 - 400, Y0, X0 - 200, Y0 + 100),  # on nodata only
            shapely.box(X0 + 1400, Y0, X0 + 1700, Y0 + 100),  # half outside (east edge 1500)
            shapely.box(X0, Y0, X0 + 100, Y0 + 100),  # fully covered
        )
        slopes = zonal_slope(units, path)
        assert slopes["slope_mean_pct"].isna().tolist() == [True, True, False, False]
        assert slopes.iloc[2:].to_numpy() == pytest.approx(np.full((2, 2), 5.0), abs=0.1)

    def test_dem_not_covering_gives_nan_not_crash(self, plane_dem: Path) -> None:
        units = units_of(shapely.box(X0 + 90_000, Y0, X0 + 90_100, Y0 + 100))
        assert zonal_slope(units, plane_dem).isna().all().all()

    def test_no_dem_and_no_units(self, plane_dem: Path) -> None:
        units = units_of(shapely.box(X0, Y0, X0 + 100, Y0 + 100))
        assert zonal_slope(units, None).isna().all().all()
        assert zonal_slope(units.iloc[:0], plane_dem).empty

    def test_index_is_kept(self, plane_dem: Path) -> None:
        units = units_of(shapely.box(X0, Y0, X0 + 100, Y0 + 100)).set_axis([42])
        assert zonal_slope(units, plane_dem).index.tolist() == [42]


@pytest.mark.slow
def test_real_srtm_near_ales(real_data: Path) -> None:
    path = real_data / "dem" / "srtm30_cevennes_utm31n.tif"
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True).transform(4.0806, 44.1250)
    units = units_of(
        shapely.box(x - 150, y - 150, x + 150, y + 150),
        shapely.box(x - 5, y - 5, x + 5, y + 5),
    )
    slopes = zonal_slope(units, path)
    assert np.isfinite(slopes.to_numpy()).all()
    assert (slopes["slope_mean_pct"] >= 0).all() and (slopes["slope_max_pct"] < 100).all()
    assert (slopes["slope_max_pct"] >= slopes["slope_mean_pct"] - 1e-9).all()
    dem = read_dem(path, bounds=(x - 100, y - 100, x + 100, y + 100))
    assert dem.source_crs == "EPSG:32631"
    assert np.nanmean(dem.elevation) == pytest.approx(135, abs=40)


class TestSuitabilityRaster:
    def test_values_burnt(self, tmp_path: Path) -> None:
        units = gpd.GeoDataFrame(
            {"net_area_ha": [1.0, 4.0], "score": [0.2, np.nan]},
            geometry=[
                shapely.box(X0, Y0, X0 + 100, Y0 + 100),
                shapely.box(X0 + 200, Y0, X0 + 400, Y0 + 200),
            ],
            crs="EPSG:2154",
        )
        path = write_suitability_raster(units, tmp_path / "u.tif")
        with rasterio.open(path) as src:
            assert src.crs.to_epsg() == 2154 and src.res == (25.0, 25.0)
            band = src.read(1)
            assert band.shape == (8, 16)
            assert np.nansum(band) == pytest.approx(16 * 1.0 + 64 * 4.0)
            assert np.isnan(band).sum() == 8 * 16 - 16 - 64
        path = write_suitability_raster(units, tmp_path / "s.tif", column="score", resolution=50)
        with rasterio.open(path) as src:
            assert np.nansum(src.read(1)) == pytest.approx(4 * 0.2)

    def test_bad_column(self, tmp_path: Path) -> None:
        units = units_of(shapely.box(X0, Y0, X0 + 100, Y0 + 100))
        with pytest.raises(LayerSchemaError, match="colonne 'nope'"):
            write_suitability_raster(units, tmp_path / "u.tif", column="nope")
