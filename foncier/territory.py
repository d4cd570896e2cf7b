"""The territory: the bundle of layers a study works on, and its folder store.

A territory folder holds:

- ``territory.gpkg``: one layer per spatial layer name (communes, parcels,
  plu_zones, zae, zae_plots, friches, constraints, infrastructure), in
  EPSG:2154; it opens in QGIS as is;
- ``dem.tif``: the terrain model (optional);
- ``enaf_consumption.csv``: ENAF consumption in the Cerema format;
- ``projects.csv``: the industrial projects;
- ``planning_docs.csv``: the planning documents of the communes and their
  dates (optional; they decide the garantie communale);
- ``territory.json``: name, provenance (e.g. "synthetic sample") and notes.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import rasterio.errors
import rasterio.warp
import shapely

from foncier.errors import CRSError, DataSourceError, NotFoundError
from foncier.io._common import CONTENT_LABELS, check_content, sniff_content
from foncier.io.cerema import EnafVintage, read_cerema_enaf, write_cerema_enaf
from foncier.io.planning import read_planning_docs
from foncier.layers import (
    CRS_L93,
    SCHEMAS,
    Col,
    LoadReport,
    empty_layer,
    validate_layer,
)
from foncier.outputs import read_manifest, recover_folder, write_folder
from foncier.projects import check_preferred_communes, read_projects
from foncier.styles import add_layer_styles, territory_metadata

__all__ = ["REQUIRED_LAYERS", "SPATIAL_LAYERS", "Territory", "check_overlap", "dem_report"]

GPKG_NAME = "territory.gpkg"
DEM_NAME = "dem.tif"
ENAF_NAME = "enaf_consumption.csv"
PROJECTS_NAME = "projects.csv"
PLANNING_NAME = "planning_docs.csv"
META_NAME = "territory.json"
#: Key of ``territory.json`` saying the GeoPackage's geometries were valid when foncier wrote it.
VALID_KEY = "geometries_valid"

#: Spatial layers stored in the GeoPackage, in the order of DESIGN.md.
SPATIAL_LAYERS: tuple[str, ...] = tuple(n for n, s in SCHEMAS.items() if s.geometry is not None)
#: Layers a territory GeoPackage must hold (possibly empty): every ZAN figure is per commune.
REQUIRED_LAYERS: tuple[str, ...] = ("communes",)
#: Margin around the communes' bounds within which another layer must fall (m): at least
#: this, or a tenth of the territory's extent.
OVERLAP_MARGIN_M = 10_000.0


def _geopackage_layers(gpkg: Path) -> set[str]:
    """Layer names of a territory GeoPackage, after checking its content is one."""
    kind = sniff_content(gpkg)
    if kind != "sqlite":
        msg = (
            f"impossible d'ouvrir {gpkg} : ce n'est pas un GeoPackage, le fichier contient "
            f"{CONTENT_LABELS[kind]}. Recréez le territoire avec `foncier import` ou "
            "`foncier sample` (un GeoJSON renommé en .gpkg n'est pas un GeoPackage)."
        )
        raise DataSourceError(msg)
    try:
        available = {row[0] for row in pyogrio.list_layers(gpkg)}
    except Exception as exc:
        msg = f"impossible d'ouvrir {gpkg} : {exc}"
        raise DataSourceError(msg) from exc
    missing = [n for n in REQUIRED_LAYERS if n not in available]
    if missing:
        msg = (
            f"{gpkg} : la couche {', '.join(missing)} manque (couches présentes : "
            f"{', '.join(sorted(available)) or 'aucune'}). Les budgets ZAN se calculent par "
            "commune : ajoutez-la (foncier import --communes …)."
        )
        raise DataSourceError(msg)
    return available


def _unchanged(folder: Path, *names: str) -> bool:
    """Whether foncier wrote these files of a territory folder and nobody changed them since."""
    from foncier.units_cache import file_digests

    manifest = read_manifest(folder)
    if manifest is None or manifest.kind != "territory":
        return False
    paths = [folder / name for name in names]
    if not all(p.is_file() and not p.is_symlink() for p in paths):
        return False
    # digests through the folder's stamp: a file whose size, inode and times are unchanged
    # is not read again
    digests = file_digests(folder, paths)
    return all(
        manifest.owns(folder, name, digest=d) for name, d in zip(names, digests, strict=True)
    )


def _bounds_text(bounds: Any) -> str:
    return "[" + ", ".join(f"{float(b):.0f}" for b in bounds) + "]"


def dem_report(dem: Path) -> LoadReport:
    """Load report of a territory's DEM: size, cell, bounds; refuses a DEM without data.

    Parameters
    ----------
    dem
        The territory's ``dem.tif`` (EPSG:2154).

    Returns
    -------
    foncier.layers.LoadReport
        Layer ``"dem"``, with a note giving its grid and bounds.

    Raises
    ------
    DataSourceError
        The file is not a raster or holds no elevation at all.
    """
    check_content(dem, "MNT")
    try:
        with rasterio.open(dem) as src:
            step = max(1, int(np.ceil(max(src.width, src.height) / 2048)))
            shape = (max(1, src.height // step), max(1, src.width // step))
            data = src.read(1, out_shape=shape, masked=True)
            bounds = rasterio.warp.transform_bounds(src.crs, CRS_L93, *src.bounds)
            size = f"{src.width}x{src.height} cellules de {abs(src.transform.a):g} m"
    except rasterio.errors.RasterioError as exc:
        msg = f"impossible de lire le MNT {dem} : {exc} ; est-ce un GeoTIFF complet ?"
        raise DataSourceError(msg) from exc
    valid = ~np.ma.getmaskarray(data) & np.isfinite(np.ma.getdata(data))
    if not valid.any():
        msg = (
            f"le MNT {dem} ne contient aucune altitude (toutes ses cellules sont sans donnée) ; "
            "remplacez-le, ou supprimez-le pour travailler sans pentes."
        )
        raise DataSourceError(msg)
    report = LoadReport("dem", source=str(dem), rows_read=int(data.size), crs_in=CRS_L93)
    report.notes.append(f"{size}, emprise {_bounds_text(bounds)} (EPSG:2154)")
    return report


def check_overlap(layers: dict[str, gpd.GeoDataFrame], dem: Path | None = None) -> None:
    """Refuse layers (and a DEM) that lie away from the territory's communes.

    Every non-empty layer's bounds, and the DEM's, must meet the communes'
    bounds widened by :data:`OVERLAP_MARGIN_M` (or a tenth of their extent):
    parcels 500 km from the communes, or a DEM of another region, are a
    wrong file or a wrong CRS, not a territory.

    Parameters
    ----------
    layers
        Validated layers by name (EPSG:2154); nothing is checked without
        communes.
    dem
        The DEM (EPSG:2154 GeoTIFF), if any.

    Raises
    ------
    CRSError
        A layer or the DEM does not overlap the communes; the message gives
        both bounds.
    """
    communes = layers.get("communes")
    if communes is None or communes.empty:
        return
    cb = np.asarray(communes.total_bounds, dtype="float64")
    margin = max(OVERLAP_MARGIN_M, 0.1 * max(cb[2] - cb[0], cb[3] - cb[1]))
    wide = cb + np.array([-margin, -margin, margin, margin])

    def refuse(what: str, bounds: Any) -> None:
        b = np.asarray(bounds, dtype="float64")
        apart = b[0] > wide[2] or b[2] < wide[0] or b[1] > wide[3] or b[3] < wide[1]
        if apart:
            dx = max(b[0] - cb[2], cb[0] - b[2], 0.0)
            dy = max(b[1] - cb[3], cb[1] - b[3], 0.0)
            msg = (
                f"{what} ne recouvre pas les communes du territoire : emprise "
                f"{_bounds_text(b)}, communes {_bounds_text(cb)} (EPSG:2154), à "
                f"{np.hypot(dx, dy) / 1000:.0f} km. Fichier d'un autre territoire, ou SCR "
                "mal déclaré ? Vérifiez la source de cette couche."
            )
            raise CRSError(msg)

    for name, layer in layers.items():
        if name != "communes" and not layer.empty:
            refuse(f"la couche {name}", layer.total_bounds)
    if dem is not None:
        with rasterio.open(dem) as src:
            bounds = rasterio.warp.transform_bounds(src.crs, CRS_L93, *src.bounds)
        refuse(f"le MNT {dem}", bounds)


@dataclass
class Territory:
    """A study territory: validated layers in EPSG:2154, ENAF data, projects.

    Attributes
    ----------
    name
        Display name, e.g. ``"Alès Agglomération"``.
    layers
        Spatial layers by name (see :data:`SPATIAL_LAYERS`); a layer the
        source did not provide is empty, and said so in ``reports``.
    enaf_consumption
        Tidy ENAF consumption table (``insee``, ``year``, ``enaf_m2``, …).
    projects
        The industrial projects (``projects`` layer schema).
    dem_path
        Path of the DEM GeoTIFF, or ``None``.
    metadata
        Free-form provenance: ``synthetic`` (bool), ``description``, ``seed``…
    reports
        One :class:`~foncier.layers.LoadReport` per layer loaded.
    enaf_vintage
        Years covered by ``enaf_consumption``.
    planning_docs
        Planning documents of the communes (``planning_docs`` table; empty
        when unknown): they decide the garantie communale.
    folder
        The folder the territory was read from or last written to, if any.
    """

    name: str
    layers: dict[str, gpd.GeoDataFrame]
    enaf_consumption: pd.DataFrame
    projects: pd.DataFrame
    dem_path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    reports: dict[str, LoadReport] = field(default_factory=dict)
    enaf_vintage: EnafVintage | None = None
    planning_docs: pd.DataFrame = field(default_factory=lambda: empty_layer("planning_docs"))
    folder: Path | None = None

    def __post_init__(self) -> None:
        for name in SPATIAL_LAYERS:
            if name not in self.layers:
                self.layers[name] = empty_layer(name)
                self.reports.setdefault(name, LoadReport(name, notes=["layer not provided"]))
        if len(self.projects) and len(self.layers["communes"]):
            check_preferred_communes(self.projects, self.layers["communes"])

    # -- access -----------------------------------------------------------------
    def __getattr__(self, item: str) -> gpd.GeoDataFrame:
        # territory.parcels, territory.communes, ...: a layer by name.
        layers = self.__dict__.get("layers", {})
        if item in layers:
            return layers[item]
        raise AttributeError(item)

    def layer(self, name: str) -> gpd.GeoDataFrame | pd.DataFrame:
        """Return a layer or table by name.

        Raises
        ------
        NotFoundError
            If the name is not a layer of the territory.
        """
        if name in self.layers:
            return self.layers[name]
        if name == "enaf_consumption":
            return self.enaf_consumption
        if name == "projects":
            return self.projects
        if name == "planning_docs":
            return self.planning_docs
        known = [*self.layers, "enaf_consumption", "projects", "planning_docs"]
        msg = f"couche inconnue « {name} » ; couches connues : {', '.join(known)}"
        raise NotFoundError(msg)

    def site_labels(self, origin: pd.Series, site_id: pd.Series) -> pd.Series:
        """French label of the site of each land unit: its ZAE or friche by name.

        Parameters
        ----------
        origin, site_id
            The units' ``origin`` and ``site_id`` columns (aligned).

        Returns
        -------
        pandas.Series
            E.g. « ZAE Les Prés », « friche Ancienne filature », « zone
            d'activités du PLU »; the id is given where a site has no name.
        """
        from foncier.layers import ORIGIN_FRICHE, ORIGIN_ZAE_PLOT

        def names(layer: pd.DataFrame) -> pd.Series:
            named = layer[Col.NAME].astype("string").fillna("").str.strip()
            return pd.Series(named.to_numpy(), index=layer[Col.SITE_ID].astype(str).to_numpy())

        ids = site_id.fillna("").astype(str)
        zae = ids.map(names(self.layers["zae"])).astype("string").fillna("")
        friche = ids.map(names(self.layers["friches"])).astype("string").fillna("")
        zae = zae.where(zae != "", ids)
        friche = friche.where(friche != "", ids)
        label = np.select(
            [origin.to_numpy() == ORIGIN_ZAE_PLOT, origin.to_numpy() == ORIGIN_FRICHE],
            ["ZAE " + zae.to_numpy(dtype=object), "friche " + friche.to_numpy(dtype=object)],
            default="zone d'activités du PLU",
        )
        return pd.Series(label, index=origin.index, dtype="str")

    def iter_layers(self) -> Iterator[tuple[str, gpd.GeoDataFrame]]:
        """Yield ``(name, layer)`` for every spatial layer."""
        yield from self.layers.items()

    def commune_table(self) -> pd.DataFrame:
        """Return the communes as a table without geometry (``insee``, ``name``, ``epci``…).

        From the communes layer when it has rows; otherwise from the Cerema
        ENAF file, which names each commune, its EPCI and its SCoT (a
        territory imported from that file alone).

        Returns
        -------
        pandas.DataFrame
            One row per commune; empty when the territory has neither.
        """
        communes = self.layers["communes"]
        if len(communes) or not self.communes_from_enaf:
            return pd.DataFrame(communes.drop(columns=Col.GEOMETRY))
        table = self.enaf_consumption.attrs["communes"]
        return pd.DataFrame(table).reset_index(drop=True)

    @property
    def communes_from_enaf(self) -> bool:
        """Whether the communes are only known from the Cerema file (no commune geometries)."""
        named = self.enaf_consumption.attrs.get("communes")
        return not len(self.layers["communes"]) and named is not None and len(named) > 0

    def require_commune_geometries(self, task: str) -> None:
        """Refuse a task that needs the commune geometries when the territory has none.

        Parameters
        ----------
        task
            What needs them, in French (e.g. ``"l'offre foncière"``).

        Raises
        ------
        DataSourceError
            When the communes layer is empty.
        """
        if len(self.layers["communes"]):
            return
        known = (
            f" (ses {len(self.commune_table())} communes ne sont connues que par le fichier "
            "Cerema, sans contours)"
            if self.communes_from_enaf
            else ""
        )
        msg = (
            f"le territoire « {self.name} » n'a pas de géométries de communes{known} : "
            f"{task} en a besoin. Importez les contours communaux avec "
            "`foncier import --communes FICHIER` (par exemple Admin Express ou "
            "communes-<département>.geojson)."
        )
        raise DataSourceError(msg)

    @property
    def synthetic(self) -> bool:
        """Whether the territory is the generated synthetic sample."""
        return bool(self.metadata.get("synthetic", False))

    @property
    def data_label(self) -> str:
        """Provenance label shown on every output (``"échantillon synthétique"``...)."""
        vintage = f"données {self.enaf_vintage.label}" if self.enaf_vintage else "sans données ENAF"
        kind = (
            "échantillon synthétique, " if self.synthetic and "synthétique" not in self.name else ""
        )
        return f"{self.name} ({kind}{vintage})"

    # -- folder store -----------------------------------------------------------
    @classmethod
    def from_folder(
        cls,
        path: str | Path,
        *,
        read_parcels: Callable[[Path, dict[str, gpd.GeoDataFrame]], pd.DataFrame] | None = None,
    ) -> Territory:
        """Load and validate a territory folder.

        Parameters
        ----------
        path
            Folder with ``territory.gpkg`` and optionally ``dem.tif``,
            ``enaf_consumption.csv``, ``projects.csv``, ``territory.json``.
        read_parcels
            Reader of the raw ``parcels`` layer, called with the GeoPackage
            and the other layers already validated (e.g. to read only the
            parcels a stage needs: :func:`foncier.partitioned.supply_parcels`);
            ``None`` reads them all.

        Returns
        -------
        Territory
            Every layer validated; ``reports`` says what was found, repaired
            or missing.

        Raises
        ------
        DataSourceError
            The folder or its GeoPackage is missing or unreadable;
            ``territory.gpkg`` is not a GeoPackage (its content, not its
            name, is checked), lacks a layer of :data:`REQUIRED_LAYERS`, or
            has only empty layers and no ENAF table; the DEM holds no data.
        LayerSchemaError, CRSError, GeometryError
            A layer breaks its schema, lies outside the area of use of its
            CRS, or does not overlap the communes (see :func:`check_overlap`).
        """
        folder = Path(path)
        recover_folder(folder)
        gpkg = folder / GPKG_NAME
        if not folder.is_dir():
            msg = (
                f"le dossier de territoire {folder} n'existe pas ; "
                "créez-en un avec `foncier sample` ou `foncier import`"
            )
            raise DataSourceError(msg)
        if not gpkg.is_file():
            msg = (
                f"{folder} n'est pas un dossier de territoire : {GPKG_NAME} absent ; "
                "créez-en un avec `foncier sample` ou `foncier import`"
            )
            raise DataSourceError(msg)
        available = _geopackage_layers(gpkg)
        meta: dict[str, Any] = {}
        if (folder / META_NAME).is_file():
            try:
                meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                msg = f"{folder / META_NAME} n'est pas du JSON valide : {exc}"
                raise DataSourceError(msg) from exc
        known_valid = bool(meta.pop(VALID_KEY, False)) and _unchanged(folder, GPKG_NAME, META_NAME)
        layers: dict[str, gpd.GeoDataFrame] = {}
        reports: dict[str, LoadReport] = {}
        names = [n for n in SPATIAL_LAYERS if n in available]
        if read_parcels is not None and "parcels" in names:  # read once the others are known
            names = [n for n in names if n != "parcels"] + ["parcels"]
        for name in names:
            report = LoadReport(name, source=f"{gpkg}:{name}")
            try:
                if name == "parcels" and read_parcels is not None:
                    raw = read_parcels(gpkg, layers)
                else:
                    raw = pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True)
            except Exception as exc:
                msg = f"impossible de lire la couche « {name} » de {gpkg} : {exc}"
                raise DataSourceError(msg) from exc
            layers[name] = validate_layer(name, raw, report=report, known_valid=known_valid)
            reports[name] = report
        enaf_path = folder / ENAF_NAME
        vintage = None
        if enaf_path.is_file():
            enaf = read_cerema_enaf(enaf_path)
            vintage = enaf.attrs["vintage"]
            reports["enaf_consumption"] = enaf.attrs["load_report"]
        else:
            enaf = empty_layer("enaf_consumption")
            reports["enaf_consumption"] = LoadReport(
                "enaf_consumption", notes=[f"{ENAF_NAME} not provided"]
            )
        if enaf.empty and all(layer.empty for layer in layers.values()):
            # a territory of ENAF figures alone (communes from the Cerema file) is usable
            msg = (
                f"{gpkg} : toutes ses couches ({', '.join(sorted(layers))}) sont vides et le "
                f"dossier n'a pas de {ENAF_NAME} ; ce n'est pas un territoire utilisable. "
                "Recréez-le avec `foncier import` ou `foncier sample`."
            )
            raise DataSourceError(msg)
        projects_path = folder / PROJECTS_NAME
        if projects_path.is_file():
            projects = read_projects(projects_path, communes=layers["communes"])
            reports["projects"] = projects.attrs["load_report"]
        else:
            projects = empty_layer("projects")
            reports["projects"] = LoadReport("projects", notes=[f"{PROJECTS_NAME} not provided"])
        planning = folder / PLANNING_NAME
        planning_docs = (
            read_planning_docs(planning) if planning.is_file() else empty_layer("planning_docs")
        )
        if planning.is_file():
            reports["planning_docs"] = planning_docs.attrs["load_report"]
        dem = folder / DEM_NAME
        if dem.is_file():
            reports["dem"] = dem_report(dem)
        check_overlap(layers, dem if dem.is_file() else None)
        layers = {n: layers[n] for n in SPATIAL_LAYERS if n in layers}
        return cls(
            name=str(meta.get("name", folder.name)),
            layers=layers,
            enaf_consumption=enaf,
            projects=projects,
            dem_path=dem if dem.is_file() else None,
            metadata=meta,
            reports=reports,
            enaf_vintage=vintage,
            planning_docs=planning_docs,
            folder=folder.resolve(),
        )

    def to_folder(
        self,
        path: str | Path,
        *,
        force: bool = False,
        inputs: Iterable[str | Path | None] = (),
    ) -> Path:
        """Write the territory to a folder, atomically, under the output policy.

        Everything is written to a temporary sibling folder which then
        replaces ``path`` by renames: an interrupted write never leaves a
        half-written territory, and the previous content stays readable
        (:meth:`from_folder` puts it back if the write was interrupted
        between the renames).  See :mod:`foncier.outputs`.

        Parameters
        ----------
        path
            Destination folder: missing, empty, or a territory folder
            written by foncier (replaced).
        force
            Also write into a folder holding other things: only foncier's
            own files are replaced, every other file is kept.
        inputs
            Files and folders the territory was built from: the destination
            may not be one of them, lie inside one, or hold one.

        Returns
        -------
        pathlib.Path
            The folder written.

        Raises
        ------
        OutputError
            The destination holds files foncier did not write (or another
            kind of output) and ``force`` is not set, it is or holds an
            input, or the system refused the write.
        """
        dest = write_folder(path, "territory", self._write_contents, force=force, inputs=inputs)
        if self.dem_path is not None:
            self.dem_path = dest / DEM_NAME
        self.folder = dest
        return dest

    def _write_contents(self, folder: Path) -> None:
        gpkg = folder / GPKG_NAME
        for name, gdf in self.layers.items():
            out = gdf
            if out.crs is None or out.crs.to_epsg() != 2154:
                out = out.to_crs(CRS_L93)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                pyogrio.write_dataframe(
                    out, gpkg, layer=name, driver="GPKG", promote_to_multi=False
                )
        # checked once here, so that reading the folder back does not check it again
        valid = all(
            bool(shapely.is_valid(gdf.geometry.to_numpy()).all()) for gdf in self.layers.values()
        )
        self.write_tables(folder, geometries_valid=valid)

    def write_tables(self, folder: Path, *, geometries_valid: bool) -> None:
        """Write everything of a territory folder but the GeoPackage's layers.

        The layer styles and provenance of the GeoPackage's layers (already
        written), the ENAF, projects and planning tables, the DEM and
        ``territory.json``.  For writers that write the layers themselves
        (e.g. appending the parcels of a large territory part by part),
        inside the folder given by :func:`foncier.outputs.write_folder`.

        Parameters
        ----------
        folder
            The folder being written, holding ``territory.gpkg``.
        geometries_valid
            Whether every geometry of the GeoPackage's layers is valid
            (recorded so that reading the folder back does not check it again).
        """
        add_layer_styles(folder / GPKG_NAME, metadata=territory_metadata(self))
        if len(self.enaf_consumption):
            write_cerema_enaf(
                self.enaf_consumption,
                folder / ENAF_NAME,
                communes=self.metadata_communes(),
            )
        self.projects.to_csv(folder / PROJECTS_NAME, index=False)
        if len(self.planning_docs):
            self.planning_docs.to_csv(folder / PLANNING_NAME, index=False)
        if self.dem_path is not None:
            shutil.copyfile(self.dem_path, folder / DEM_NAME)
        meta = {"name": self.name, **{k: v for k, v in self.metadata.items() if k != "name"}}
        meta[VALID_KEY] = geometries_valid
        (folder / META_NAME).write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
        )

    def metadata_communes(self) -> pd.DataFrame:
        """Commune names, région, EPCI and SCoT, as the Cerema file's descriptive columns."""
        table = self.commune_table()
        cols = [Col.INSEE, Col.NAME, Col.REGION, Col.EPCI, "epci_name", Col.SCOT]
        return table[[c for c in cols if c in table.columns]]

    # -- summary ----------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Figures shown by ``foncier info``: counts, areas, ENAF years, projects.

        Returns
        -------
        dict
            ``name``, ``synthetic``, ``crs``, ``layers`` (name → count and
            area in ha for polygon layers), ``dem``, ``enaf_years``,
            ``enaf_communes``, ``communes_source`` (``layer``, ``enaf`` when
            the communes come from the Cerema file alone, or ``None``),
            ``planning_docs`` (communes listed in the planning documents),
            ``projects`` (count, jobs, investment, area needs).
        """
        layers = {}
        for name, gdf in self.layers.items():
            entry: dict[str, Any] = {"features": len(gdf)}
            if len(gdf) and gdf.geom_type.isin(["Polygon", "MultiPolygon"]).any():
                entry["area_ha"] = round(float(gdf.area.sum()) / 1e4, 1)
            layers[name] = entry
        p = self.projects
        return {
            "name": self.name,
            "synthetic": self.synthetic,
            "crs": CRS_L93,
            "layers": layers,
            "dem": str(self.dem_path) if self.dem_path else None,
            "enaf_years": self.enaf_vintage.label if self.enaf_vintage else None,
            "enaf_communes": int(self.enaf_consumption[Col.INSEE].nunique()),
            "communes_source": (
                "enaf" if self.communes_from_enaf else "layer" if len(self.communes) else None
            ),
            "planning_docs": int(self.planning_docs[Col.INSEE].nunique()),
            "projects": {
                "count": len(p),
                "jobs": int(p[Col.JOBS].sum()) if len(p) else 0,
                "investment_eur": float(p[Col.INVESTMENT_EUR].sum()) if len(p) else 0.0,
                "area_min_ha": round(float(p[Col.AREA_MIN_HA].sum()), 1) if len(p) else 0.0,
                "area_max_ha": round(float(p[Col.AREA_MAX_HA].sum()), 1) if len(p) else 0.0,
            },
        }
