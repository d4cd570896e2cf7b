"""Assemble a territory from open-data files (what ``foncier import`` does).

Each layer is read by its reader; layers read from several files (constraints
and infrastructure of several kinds) are concatenated and validated again.
A layer without a source stays empty and is reported as missing: nothing is
invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from foncier.io._common import PathLike, validate_source
from foncier.io.admin import read_communes
from foncier.io.cadastre import read_cadastre
from foncier.io.cartofriches import read_cartofriches
from foncier.io.cerema import read_cerema_enaf
from foncier.io.constraints import read_constraints, read_infrastructure
from foncier.io.dem import reproject_dem
from foncier.io.gpu import read_gpu_zoning
from foncier.io.zae import read_zae, read_zae_plots
from foncier.layers import Col, LoadReport, empty_layer
from foncier.projects import read_projects
from foncier.territory import SPATIAL_LAYERS, Territory, check_overlap

__all__ = ["TerritorySources", "build_territory"]


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
        zoning = read_gpu_zoning(sources.zoning, communes=layers.get("communes"))
        keep("plu_zones", zoning, sources.zoning)
    if sources.friches is not None:
        friches = read_cartofriches(sources.friches, parcels=layers.get("parcels"), insee=insee)
        keep("friches", friches, [sources.friches])
    if sources.zae is not None:
        keep("zae", read_zae(sources.zae), [sources.zae])
    if sources.zae_plots is not None:
        keep("zae_plots", read_zae_plots(sources.zae_plots), [sources.zae_plots])
    for layer, pairs, reader in (
        ("constraints", sources.constraints, read_constraints),
        ("infrastructure", sources.infrastructure, read_infrastructure),
    ):
        if pairs:
            parts = [reader(path, kind) for kind, path in pairs]
            files = [p for _, p in pairs]
            keep(layer, _concat(layer, parts, ", ".join(map(str, files))), files)
    if sources.enaf is not None:
        enaf = read_cerema_enaf(sources.enaf)
        reports["enaf_consumption"] = enaf.attrs["load_report"]
        used["enaf_consumption"] = [str(sources.enaf)]
    else:
        enaf = empty_layer("enaf_consumption")
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
    missing = [n for n in (*SPATIAL_LAYERS, "enaf_consumption", "projects", "dem") if n not in used]
    metadata = {
        "synthetic": False,
        "description": "imported from open-data files",
        "imported": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": used,
        "missing": missing,
        **sources.extra,
    }
    return Territory(
        name=name,
        layers=layers,
        enaf_consumption=enaf,
        projects=projects,
        dem_path=dem_path,
        metadata=metadata,
        reports=reports,
        enaf_vintage=enaf.attrs.get("vintage"),
    )
