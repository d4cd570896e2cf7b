"""Assemble a territory from open-data files (what ``foncier import`` does).

Each layer is read by its reader; layers read from several files (constraints
and infrastructure of several kinds) are concatenated and validated again.
A layer without a source stays empty and is reported as missing: nothing is
invented.

The communes come from the communes layer; without one, the Cerema ENAF file
names them (code, name, EPCI, SCoT) and the territory carries no commune
geometry: the ZAN accounting works, the land supply and the matching refuse.
With both, the codes present on one side only are reported, and the import
refuses two files that share no commune.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from foncier.errors import DataSourceError
from foncier.io._common import PathLike, _gdal_path, validate_source
from foncier.io.admin import read_communes
from foncier.io.cadastre import read_buildings, read_cadastre
from foncier.io.cartofriches import read_cartofriches
from foncier.io.cerema import code_mismatch, read_cerema_enaf
from foncier.io.constraints import read_constraints, read_infrastructure
from foncier.io.dem import reproject_dem
from foncier.io.fetch import read_manifest, sha256_of
from foncier.io.gpu import read_gpu_zoning
from foncier.io.ocsge import read_ocsge
from foncier.io.planning import read_planning_docs
from foncier.io.zae import read_zae, read_zae_plots
from foncier.land_cover import DEFAULT_MIN_BUILT_SHARE, assign_land_cover
from foncier.layers import Col, LoadReport, empty_layer
from foncier.projects import read_projects
from foncier.territory import SPATIAL_LAYERS, Territory, check_overlap

__all__ = [
    "CACHE_LAYERS",
    "CachedLayer",
    "TerritorySources",
    "build_territory",
    "sources_from_cache",
]


@dataclass
class TerritorySources:
    """The files a territory is built from; every field is optional.

    Attributes
    ----------
    cadastre
        Etalab cadastre parcel files.
    enaf
        Cerema ENAF consumption CSV.
    zoning
        GPU zone_urba / carte communale sector files.
    friches
        Cartofriches file.
    zae, zae_plots
        CNIG SITE-ECO and TERRAIN-ECO files.
    constraints
        ``(kind, file)`` pairs.
    infrastructure
        ``(kind, file)`` pairs.
    communes
        Commune boundary files.
    epci_json
        ``decoupage-administratif`` EPCI JSON.
    epci
        Keep only this EPCI's communes (SIREN).
    dem
        DEM raster in any CRS.
    projects
        Projects CSV / GeoJSON.
    buildings
        Etalab cadastre building files (``cadastre-{insee}-batiments.json``):
        parcels built for at least ``min_built_share`` are artificialised.
    ocsge
        OCS GE files (``CODE_CS`` / ``CODE_US``): they decide the parcels' cover.
    min_built_share
        Share of a parcel covered by buildings from which it is artificialised.
    zone_rules
        Activity-zone rules file replacing the built-in one.
    planning_docs
        Planning documents of the communes (see
        :func:`foncier.io.planning.read_planning_docs`).
    """

    cadastre: Sequence[PathLike] = ()
    enaf: PathLike | None = None
    zoning: Sequence[PathLike] = ()
    friches: PathLike | None = None
    zae: PathLike | None = None
    zae_plots: PathLike | None = None
    constraints: Sequence[tuple[str, PathLike]] = ()
    infrastructure: Sequence[tuple[str, PathLike]] = ()
    communes: Sequence[PathLike] = ()
    epci_json: PathLike | None = None
    epci: str | None = None
    dem: PathLike | None = None
    projects: PathLike | None = None
    buildings: Sequence[PathLike] = ()
    ocsge: Sequence[PathLike] = ()
    min_built_share: float = DEFAULT_MIN_BUILT_SHARE
    zone_rules: PathLike | None = None
    planning_docs: PathLike | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


def _concat(name: str, layers: list[gpd.GeoDataFrame], label: str) -> gpd.GeoDataFrame:
    """Concatenate validated layers of one kind and validate the union."""
    reports: list[LoadReport] = [g.attrs["load_report"] for g in layers]
    if len(layers) == 1:
        return layers[0]
    merged = LoadReport(
        name,
        source="; ".join(r.source for r in reports),
        rows_read=sum(r.rows_read for r in reports),
        rows_rejected=[x for r in reports for x in r.rows_rejected],
        geometries_repaired=sum(r.geometries_repaired for r in reports),
        repaired_ids=[x for r in reports for x in r.repaired_ids],
        crs_in=", ".join(sorted({r.crs_in for r in reports if r.crs_in})),
        reprojected=any(r.reprojected for r in reports),
        notes=[n for r in reports for n in r.notes],
    )
    frames = [pd.DataFrame(g) for g in layers]
    union = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry=Col.GEOMETRY)
    union = union.set_crs(layers[0].crs)
    crs_in = merged.crs_in
    out = validate_source(name, union, merged, label)
    merged.crs_in = crs_in  # the CRS of the files, not of the already reprojected parts
    return out


def build_territory(name: str, sources: TerritorySources, dem_out: Path) -> Territory:
    """Read every given source and assemble a :class:`~foncier.territory.Territory`.

    Parameters
    ----------
    name
        Territory name.
    sources
        The input files.
    dem_out
        Where to write the reprojected DEM, if ``sources.dem`` is set.

    Returns
    -------
    Territory
        Layers read and validated; ``reports`` holds one load report per
        layer, ``metadata["missing"]`` the layers no source was given for.

    Raises
    ------
    FoncierError
        Any reader's error (the file and the problem are named).
    """
    layers: dict[str, gpd.GeoDataFrame] = {}
    reports: dict[str, LoadReport] = {}
    used: dict[str, list[str]] = {}

    def keep(layer: str, gdf: gpd.GeoDataFrame, files: Sequence[PathLike]) -> None:
        layers[layer] = gdf
        reports[layer] = gdf.attrs["load_report"]
        used[layer] = [str(f) for f in files]

    insee: list[str] | None = None
    if sources.communes:
        communes = read_communes(sources.communes, epci_json=sources.epci_json, epci=sources.epci)
        keep("communes", communes, sources.communes)
        insee = communes[Col.INSEE].tolist()
    if sources.cadastre:
        keep("parcels", read_cadastre(sources.cadastre), sources.cadastre)
    if sources.zoning:
        zoning = read_gpu_zoning(
            sources.zoning, communes=layers.get("communes"), zone_rules=sources.zone_rules
        )
        keep("plu_zones", zoning, sources.zoning)
    if sources.friches is not None:
        friches = read_cartofriches(sources.friches, parcels=layers.get("parcels"), insee=insee)
        keep("friches", friches, [sources.friches])
    if sources.zae is not None:
        keep("zae", read_zae(sources.zae), [sources.zae])
    if sources.zae_plots is not None:
        keep("zae_plots", read_zae_plots(sources.zae_plots), [sources.zae_plots])
    if (sources.buildings or sources.ocsge) and "parcels" not in layers:
        msg = (
            "le bâti (--buildings) et l'OCS GE (--ocsge) donnent la couverture des parcelles : "
            "donnez aussi le cadastre (--cadastre)"
        )
        raise DataSourceError(msg)
    if "parcels" in layers:
        covered = assign_land_cover(
            layers["parcels"],
            buildings=read_buildings(sources.buildings) if sources.buildings else None,
            ocsge=read_ocsge(sources.ocsge) if sources.ocsge else None,
            zae_plots=layers.get("zae_plots"),
            min_built_share=sources.min_built_share,
        )
        files = [*sources.cadastre, *sources.buildings, *sources.ocsge]
        keep("parcels", covered, files)
    for layer, pairs, reader in (
        ("constraints", sources.constraints, read_constraints),
        ("infrastructure", sources.infrastructure, read_infrastructure),
    ):
        if pairs:
            parts = [reader(path, kind) for kind, path in pairs]
            files = [p for _, p in pairs]
            keep(layer, _concat(layer, parts, ", ".join(map(str, files))), files)
    extra: dict[str, object] = {}
    if sources.enaf is not None:
        enaf = read_cerema_enaf(sources.enaf)
        reports["enaf_consumption"] = enaf.attrs["load_report"]
        used["enaf_consumption"] = [str(sources.enaf)]
        extra.update(_match_communes(layers.get("communes"), enaf, sources))
    else:
        enaf = empty_layer("enaf_consumption")
    planning_docs = empty_layer("planning_docs")
    if sources.planning_docs is not None:
        planning_docs = read_planning_docs(sources.planning_docs)
        reports["planning_docs"] = planning_docs.attrs["load_report"]
        used["planning_docs"] = [str(sources.planning_docs)]
    if sources.projects is not None:
        # preferred_insee must be a commune of the territory, areas within its area
        projects = read_projects(sources.projects, layers.get("communes"))
        reports["projects"] = projects.attrs["load_report"]
        used["projects"] = [str(sources.projects)]
    else:
        projects = empty_layer("projects")
    dem_path = None
    if sources.dem is not None:
        reports["dem"] = reproject_dem(sources.dem, dem_out)
        used["dem"] = [str(sources.dem)]
        dem_path = dem_out
    check_overlap(layers, dem_path)
    tables = ("enaf_consumption", "planning_docs", "projects", "dem")
    missing = [n for n in (*SPATIAL_LAYERS, *tables) if n not in used]
    metadata = {
        "synthetic": False,
        "description": "imported from open-data files",
        "imported": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": used,
        "missing": missing,
        **extra,
        **sources.extra,
    }
    territory = Territory(
        name=name,
        layers=layers,
        enaf_consumption=enaf,
        projects=projects,
        dem_path=dem_path,
        metadata=metadata,
        reports=reports,
        enaf_vintage=enaf.attrs.get("vintage"),
        planning_docs=planning_docs,
    )
    if len(planning_docs):
        _note_planning_coverage(territory)
    return territory


def _match_communes(
    communes: gpd.GeoDataFrame | None, enaf: pd.DataFrame, sources: TerritorySources
) -> dict[str, object]:
    """Compare the codes of the communes layer and of the Cerema file; note or refuse.

    Returns the metadata to record: where the communes come from and the codes
    present on one side only.
    """
    report = enaf.attrs["load_report"]
    if communes is None or not len(communes):
        named = enaf.attrs["communes"]
        report.notes.append(
            f"{len(named)} communes (code, nom, EPCI, SCoT) lues dans le fichier Cerema, "
            "sans contours : le bilan ZAN est possible, l'offre foncière et l'affectation "
            "demandent les contours communaux (--communes)"
        )
        return {"communes_source": "enaf"}
    mismatch = code_mismatch(communes[Col.INSEE], enaf[Col.INSEE])
    if mismatch.common == 0:
        files = ", ".join(str(f) for f in sources.communes)
        msg = (
            f"aucune commune en commun entre la couche communes ({files} : "
            f"{len(mismatch.only_communes)} communes, {', '.join(mismatch.only_communes[:5])}…) "
            f"et le fichier Cerema ({sources.enaf} : {len(mismatch.only_enaf)} communes, "
            f"{', '.join(mismatch.only_enaf[:5])}…) : ces fichiers ne décrivent pas le même "
            "territoire. Donnez le fichier Cerema de ce territoire (ou l'extrait national "
            "filtré sur ses communes)."
        )
        raise DataSourceError(msg)
    report.notes.extend(mismatch.lines())
    return {
        "communes_source": "layer",
        "code_mismatch": {
            "only_communes": list(mismatch.only_communes),
            "only_enaf": list(mismatch.only_enaf),
            "common": mismatch.common,
        },
    }


def _note_planning_coverage(territory: Territory) -> None:
    """Say which communes the planning-documents table leaves out, or names in excess."""
    report = territory.reports["planning_docs"]
    codes = territory.commune_table()[Col.INSEE].astype(str)
    if not len(codes):
        return
    listed = set(territory.planning_docs[Col.INSEE])
    absent = sorted(set(codes) - listed)
    foreign = sorted(listed - set(codes))
    if absent:
        report.notes.append(
            f"{len(absent)} commune(s) sans document renseigné ({', '.join(absent[:5])}"
            f"{' …' if len(absent) > 5 else ''}) : statut inconnu pour la garantie communale"
        )
    if foreign:
        report.notes.append(
            f"{len(foreign)} commune(s) de la table hors du territoire, ignorée(s) : "
            f"{', '.join(foreign[:5])}{' …' if len(foreign) > 5 else ''}"
        )


#: Sources of a ``foncier fetch`` cache: the layer each feeds and the
#: :class:`TerritorySources` field it fills (a source the running version of
#: :class:`TerritorySources` has no field for is listed as not used).
CACHE_LAYERS: dict[str, tuple[str, str]] = {
    "epci": ("communes", "epci_json"),
    "communes": ("communes", "communes"),
    "cadastre": ("parcels", "cadastre"),
    "buildings": ("parcels", "buildings"),
    "zoning": ("plu_zones", "zoning"),
}


@dataclass
class CachedLayer:
    """What a cache holds for one of its sources.

    Attributes
    ----------
    source
        Manifest source name (``communes``, ``cadastre``, ``zoning``...).
    layer
        Territory layer it feeds (``""`` when none).
    files
        Files used, present on disk with the manifest's checksum.
    missing
        Keys (INSEE codes, SIREN) the server did not have (HTTP 404).
    empty
        Keys whose file holds no feature (a commune without a GPU document).
    used
        Whether this foncier reads the source.
    """

    source: str
    layer: str
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    used: bool = True


def _n_features(path: Path) -> int:
    try:
        return int(pyogrio.read_info(_gdal_path(path))["features"])
    except Exception:  # unreadable: the layer's reader reports it with the file named
        return -1


def sources_from_cache(
    folder: PathLike, base: TerritorySources | None = None
) -> tuple[TerritorySources, list[CachedLayer]]:
    """The sources of a territory from a ``foncier fetch`` cache folder.

    ``manifest.json`` says which file holds what; each file is checked
    against its sha256.  The EPCI list and the request's EPCI select the
    communes; the communes, cadastre (and buildings) and zoning files fill
    the matching fields, added to those of ``base``.

    Parameters
    ----------
    folder
        The cache folder (``foncier fetch -o``).
    base
        Sources given besides the cache (friches, DEM, ENAF...).

    Returns
    -------
    sources : TerritorySources
        ``base`` with the cache's files added.
    layers : list of CachedLayer
        One entry per source of the manifest, with the files used, the keys
        missing on the server and the files holding no feature.

    Raises
    ------
    DataSourceError
        No or corrupt manifest; a file listed as downloaded is gone or no
        longer matches its checksum (fetch it again).
    """
    manifest = read_manifest(folder)
    sources = base if base is not None else TerritorySources()
    names = {f.name for f in fields(TerritorySources)}
    found: dict[str, CachedLayer] = {}
    for entry in manifest.files:
        layer, target = CACHE_LAYERS.get(entry.source, ("", ""))
        item = found.setdefault(entry.source, CachedLayer(entry.source, layer))
        item.used = target in names
        if entry.status == "missing" or not entry.sha256:
            item.missing.append(entry.key)
            continue
        path = manifest.folder / entry.path
        if not path.is_file() or sha256_of(path) != entry.sha256:
            state = "a disparu" if not path.is_file() else "ne correspond plus à son sha256"
            msg = (
                f"le fichier du cache {path}, listé dans {manifest.folder / 'manifest.json'}, "
                f"{state} ; relancez `foncier fetch` pour le télécharger à nouveau"
            )
            raise DataSourceError(msg)
        if entry.source != "epci" and _n_features(path) == 0:
            item.empty.append(entry.key)
            continue
        item.files.append(path)
    changes: dict[str, Any] = {}
    epci = found.get("epci")
    if epci is not None and epci.files and sources.epci_json is None:
        changes["epci_json"] = epci.files[0]
        request_epci = manifest.request.get("epci")
        if request_epci and sources.epci is None:
            changes["epci"] = str(request_epci)
    for source, item in found.items():
        target = CACHE_LAYERS.get(source, ("", ""))[1]
        if item.files and target in names and source != "epci":
            changes[target] = (*getattr(sources, target), *item.files)
    return replace(sources, **changes), list(found.values())
