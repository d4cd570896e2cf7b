"""The deterministic synthetic sample territory.

(Longer than most modules: one generator whose layers share one random
stream and one geography, so that the same seed always gives the same
territory; nothing else in foncier depends on its internals.)

A fictional agglomeration modelled on the scale of Alès Agglomération (Gard):
communes around a main town in a river valley, foothills rising to the west,
a motorway with interchanges on the plain, a rail line with a freight station,
business parks (ZAE) with plots, brownfields, flood zones, Natura 2000 and
ZNIEFF areas, a DEM, ENAF consumption in the Cerema 2009-2023 format, and 131
industrial projects (586 jobs, 177 M€).

Every name is invented and every output built from it says "échantillon
synthétique".  The same seed gives identical tables and geometries.

The ENAF figures are calibrated so that the ZAN budget binds, as it does in
reality: the territory's remaining 2021-2031 envelope is smaller than the ENAF
that placing every project on greenfield land would take, a few communes have
already exceeded their envelope, and a few small ones rely on the 1 ha
garantie communale.  Their planning documents are given explicitly (a
``planning_docs`` table: a PLU, PLUi or carte communale approved before 2026
for most communes, the RNU for a few), so no guarantee rests on an assumption.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
import shapely.affinity
from rasterio.transform import from_origin

from foncier.io.cerema import EnafVintage
from foncier.layers import CRS_L93, DESTDOMI_ACTIVITY, Col, validate_layer
from foncier.outputs import check_folder
from foncier.territory import Territory

__all__ = ["SAMPLE_NAME", "make_sample", "write_sample"]

SAMPLE_NAME = "Agglomération de Valbrune (échantillon synthétique)"
_DESCRIPTION = (
    "Échantillon synthétique : territoire fictif à l'échelle d'Alès Agglomération. "
    "Toutes les communes, parcelles, zones, friches et projets sont inventés."
)
#: Lower-left corner and size of the sample's bounding box, in Lambert-93 (m).
_X0, _Y0 = 770_000.0, 6_325_000.0
_WIDTH, _HEIGHT = 36_000.0, 28_000.0
_CX, _CY = _X0 + _WIDTH / 2, _Y0 + _HEIGHT / 2
_DEM_RES = 25.0
_EPCI_MAIN = ("200099901", "Agglomération de Valbrune")
_EPCI_EDGE = ("200099902", "Communauté de communes des Serres")
_SCOTS = ("SCoT du Piémont de Valbrune", "SCoT des Garrigues")
#: Codes of metropolitan départements (Corsica's 2A and 2B, not 20).
_DEPARTEMENT_RE = re.compile(r"0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]")

_ROOTS = (
    "Valbrune",
    "Castelrieu",
    "Montferrand",
    "Roquebelle",
    "Aiguevive",
    "Bellegarde",
    "Cazalmont",
    "Fontcouverte",
    "Lavalade",
    "Malcombe",
    "Peyrolles",
    "Sauveterre",
    "Vergèze",
    "Cendras",
    "Aubrac",
    "Brignon",
    "Cassagnes",
    "Durfort",
    "Estagel",
    "Ferrières",
    "Galargues",
    "Lédignan",
    "Massanes",
    "Navacelles",
    "Orthoux",
    "Pompignan",
    "Quissac",
    "Ribaute",
    "Salindres",
    "Tornac",
    "Vabres",
    "Vézénobres",
)
_PREFIXES = ("", "Saint-Jean-de-", "Sainte-Croix-de-", "Le Pont-de-", "Les Mages-de-")

_SECTORS: tuple[tuple[str, int, float, float, float], ...] = (
    # sector, count, min ha, max ha, jobs factor
    ("logistique", 12, 1.0, 8.0, 0.8),
    ("agroalimentaire", 18, 0.2, 2.5, 1.3),
    ("mécanique et métallurgie", 20, 0.2, 3.0, 1.2),
    ("chimie et matériaux", 8, 0.5, 4.0, 1.0),
    ("énergie et hydrogène", 6, 0.5, 5.0, 0.7),
    ("recyclage", 12, 0.3, 3.0, 0.8),
    ("bois et construction", 10, 0.3, 2.0, 1.0),
    ("textile", 6, 0.1, 1.0, 1.4),
    ("numérique et électronique", 9, 0.1, 1.0, 1.8),
    ("artisanat de production", 30, 0.05, 0.5, 1.0),
)
_TOTAL_JOBS = 586
_TOTAL_INVESTMENT_EUR = 177_000_000
_TOTAL_AREA_MIN_HA = 100.0
#: ENAF consumed 2011-2020 in the whole sample, and what the 2021-2031 envelope has left.
_BASELINE_M2 = 2_000_000.0
_REMAINING_HA = 62.0


@dataclass(frozen=True)
class _Town:
    insee: str
    name: str
    x: float
    y: float
    radius_m: float  # extent of the built-up area
    weight: float  # share of population / activity


def _boundary(rng: np.random.Generator) -> shapely.Polygon:
    """An irregular oval territory outline."""
    theta = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    phase = rng.uniform(0, 2 * np.pi, 3)
    r = 1 + 0.07 * np.sin(3 * theta + phase[0]) + 0.04 * np.cos(5 * theta + phase[1])
    r += 0.02 * np.sin(9 * theta + phase[2])
    xs = _CX + 0.47 * _WIDTH * r * np.cos(theta)
    ys = _CY + 0.47 * _HEIGHT * r * np.sin(theta)
    return shapely.Polygon(np.column_stack([xs, ys]))


def _commune_names(n: int) -> list[str]:
    names = []
    for p in _PREFIXES:
        for root in _ROOTS:
            names.append(f"{p}{root}")
    return names[:n]


def _towns(
    rng: np.random.Generator, boundary: shapely.Polygon, n: int, departement: str
) -> list[_Town]:
    """Commune seats: the main town on the valley floor, others spread out."""
    minx, miny, maxx, maxy = boundary.bounds
    pts = [(_CX + 2_500.0, _CY - 1_000.0)]
    while len(pts) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not boundary.buffer(-1_200).contains(shapely.Point(x, y)):
            continue
        if min(np.hypot(x - px, y - py) for px, py in pts) < 2_600:
            continue
        pts.append((x, y))
    names = _commune_names(n)
    order = np.argsort([np.hypot(x - pts[0][0], y - pts[0][1]) for x, y in pts])
    towns = []
    for rank, i in enumerate(order):
        x, y = pts[i]
        if rank == 0:
            radius, weight = 2_200.0, 30.0
        elif rank <= 4:
            radius, weight = rng.uniform(700, 1_100), rng.uniform(4, 7)
        else:
            radius, weight = rng.uniform(250, 550), rng.uniform(0.3, 2.0)
        insee = f"{departement}{900 + rank:03d}"
        towns.append(_Town(insee, names[rank], x, y, radius, weight))
    return towns


def _communes(towns: list[_Town], boundary: shapely.Polygon) -> gpd.GeoDataFrame:
    seeds = shapely.points([(t.x, t.y) for t in towns])
    cells = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=boundary.buffer(5_000), ordered=True
    )
    geoms = shapely.intersection(np.asarray(shapely.get_parts(cells)), boundary)
    n = len(towns)
    edge = {t.insee for t in towns if t.x > _CX + 9_000}  # a small EPCI on the eastern edge
    north = np.array([t.y for t in towns]) > _CY + 3_000
    no_doc = {t.insee for i, t in enumerate(towns) if i > 4 and i % 9 == 4}
    return gpd.GeoDataFrame(
        {
            Col.INSEE: [t.insee for t in towns],
            Col.NAME: [t.name for t in towns],
            Col.EPCI: [(_EPCI_EDGE if t.insee in edge else _EPCI_MAIN)[0] for t in towns],
            "epci_name": [(_EPCI_EDGE if t.insee in edge else _EPCI_MAIN)[1] for t in towns],
            Col.SCOT: [_SCOTS[0] if north[i] or i == 0 else _SCOTS[1] for i in range(n)],
            Col.HAS_PLANNING_DOC: [t.insee not in no_doc for t in towns],
        },
        geometry=geoms,
        crs=CRS_L93,
    )


def _planning_docs(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Planning documents: a PLU, PLUi or carte communale approved before 2026, or the RNU.

    Deterministic from the commune's rank, so the sample's random draws are unchanged.
    """
    rank = np.arange(len(communes))
    doc = communes[Col.HAS_PLANNING_DOC].to_numpy(dtype=bool)
    kinds = np.where(rank % 5 == 3, "CC", np.where(rank % 3 == 1, "PLUi", "PLU"))
    years = 2008 + rank * 7 % 16  # 2008 … 2023
    approved = [f"{y}-{1 + k % 12:02d}-{1 + k * 11 % 28:02d}" for k, y in enumerate(years)]
    prescribed = [f"{y - 3}-{1 + k * 5 % 12:02d}-15" for k, y in enumerate(years)]
    return pd.DataFrame(
        {
            Col.INSEE: communes[Col.INSEE].to_numpy(),
            Col.DOC_TYPE: np.where(doc, kinds, "RNU"),
            Col.PRESCRIPTION_DATE: pd.Series(prescribed).where(doc),
            Col.ARRET_DATE: None,
            Col.APPROVAL_DATE: pd.Series(approved).where(doc),
        }
    )


def _wavy_line(
    rng: np.random.Generator, start: tuple[float, float], end: tuple[float, float], amp: float
) -> shapely.LineString:
    t = np.linspace(0, 1, 200)
    x = start[0] + (end[0] - start[0]) * t
    y = start[1] + (end[1] - start[1]) * t
    dx, dy = end[0] - start[0], end[1] - start[1]
    norm = np.hypot(dx, dy)
    nx, ny = -dy / norm, dx / norm
    wave = amp * (
        np.sin(2 * np.pi * 2.3 * t + rng.uniform(0, 6)) + 0.4 * np.sin(2 * np.pi * 5.1 * t)
    )
    return shapely.LineString(np.column_stack([x + nx * wave, y + ny * wave]))


def _networks(rng: np.random.Generator, main: _Town) -> dict[str, shapely.Geometry]:
    """River, motorway, rail line, positioned relative to the main town."""
    river = _wavy_line(
        rng, (_X0 - 1_000, _Y0 + _HEIGHT * 0.85), (_X0 + _WIDTH + 1_000, _Y0 + _HEIGHT * 0.15), 900
    )
    # make the river pass through the main town
    shift = (
        shapely.Point(main.x, main.y).y
        - river.interpolate(river.project(shapely.Point(main.x, main.y))).y
    )
    river = shapely.affinity.translate(river, 0, shift)
    tributary = _wavy_line(
        rng, (main.x - 4_000, _Y0 + _HEIGHT + 500), (main.x - 300, main.y + 200), 500
    )
    motorway = _wavy_line(
        rng, (main.x + 5_500, _Y0 - 1_000), (main.x + 8_500, _Y0 + _HEIGHT + 1_000), 1_200
    )
    rail = _wavy_line(
        rng, (main.x - 2_000, _Y0 + _HEIGHT + 1_000), (main.x + 6_000, _Y0 - 1_000), 700
    )
    rail = shapely.affinity.translate(
        rail, main.x - rail.interpolate(rail.project(shapely.Point(main.x, main.y))).x + 300, 0
    )
    return {"river": river, "tributary": tributary, "motorway": motorway, "rail": rail}


def _infrastructure(rng: np.random.Generator, nets: dict, towns: list[_Town]) -> gpd.GeoDataFrame:
    motorway, rail = nets["motorway"], nets["rail"]
    rows = [
        ("A-1", "motorway", "Autoroute A99 (fictive)", motorway),
        ("F-1", "rail_line", "Ligne ferroviaire", rail),
    ]
    for i, frac in enumerate((0.2, 0.42, 0.63, 0.85)):
        rows.append(
            (
                f"E-{i + 1}",
                "interchange",
                f"Échangeur n°{i + 1}",
                motorway.interpolate(frac, normalized=True),
            )
        )
    main = towns[0]
    station = rail.interpolate(rail.project(shapely.Point(main.x, main.y)) + 1_500)
    rows.append(("G-1", "rail_freight", "Gare de fret de Valbrune", station))
    rows.append(
        (
            "G-2",
            "rail_freight",
            "Embranchement ferroviaire sud",
            rail.interpolate(0.8, normalized=True),
        )
    )
    for i, t in enumerate(towns[:4]):
        rows.append(
            (
                f"P-{i + 1}",
                "substation",
                f"Poste source {t.name}",
                shapely.Point(t.x + rng.uniform(-900, 900), t.y + rng.uniform(-900, 900)),
            )
        )
    return gpd.GeoDataFrame(
        {
            Col.INFRA_ID: [r[0] for r in rows],
            Col.KIND: [r[1] for r in rows],
            Col.NAME: [r[2] for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs=CRS_L93,
    )


def _constraints(
    rng: np.random.Generator, nets: dict, boundary: shapely.Polygon
) -> gpd.GeoDataFrame:
    rows: list[tuple[str, str, str, str, shapely.Geometry]] = []
    for i, (river, red_w, blue_w) in enumerate(
        ((nets["river"], 180, 480), (nets["tributary"], 90, 250))
    ):
        red = shapely.intersection(river.buffer(red_w), boundary)
        blue = shapely.difference(shapely.intersection(river.buffer(blue_w), boundary), red)
        rows.append((f"PPRI-R-{i + 1}", "ppri_red", "exclude", "PPRI zone rouge", red))
        rows.append((f"PPRI-B-{i + 1}", "ppri_blue", "penalise", "PPRI zone bleue", blue))
    minx, miny, maxx, maxy = boundary.bounds
    natura = shapely.Point(minx + 5_500, _CY + 2_000).buffer(4_200)
    natura = shapely.intersection(shapely.affinity.scale(natura, 1.0, 1.4), boundary)
    rows.append(("N2000-1", "natura2000", "exclude", "Site Natura 2000 des Hautes Serres", natura))
    z2 = [
        shapely.affinity.scale(shapely.Point(minx + 8_000, _CY - 5_000).buffer(4_000), 1.5, 0.8),
        shapely.affinity.scale(shapely.Point(maxx - 6_000, miny + 6_000).buffer(3_000), 1.2, 1.0),
    ]
    for i, g in enumerate(z2):
        rows.append(
            (
                f"ZNIEFF2-{i + 1}",
                "znieff2",
                "penalise",
                f"ZNIEFF de type 2 n°{i + 1}",
                shapely.intersection(g, boundary),
            )
        )
    inner = boundary.buffer(-1_500)
    for i in range(7):
        c = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        while not inner.contains(c):
            c = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        g = shapely.affinity.scale(c.buffer(rng.uniform(400, 1_000)), rng.uniform(0.6, 1.6), 1.0)
        rows.append(
            (
                f"ZNIEFF1-{i + 1}",
                "znieff1",
                "penalise",
                f"ZNIEFF de type 1 n°{i + 1}",
                shapely.intersection(g, boundary),
            )
        )
    return gpd.GeoDataFrame(
        {
            Col.CONSTRAINT_ID: [r[0] for r in rows],
            Col.KIND: [r[1] for r in rows],
            Col.EFFECT: [r[2] for r in rows],
            Col.NAME: [r[3] for r in rows],
        },
        geometry=[r[4] for r in rows],
        crs=CRS_L93,
    )


def _zae_sites(
    rng: np.random.Generator, towns: list[_Town], infra: gpd.GeoDataFrame, nets: dict
) -> list[tuple[str, shapely.Geometry]]:
    """Business parks: next to interchanges, the freight station and towns."""
    anchors: list[tuple[float, float, float]] = []
    for p in infra.loc[infra[Col.KIND].isin(["interchange", "rail_freight"]), "geometry"]:
        anchors.append(
            (p.x + rng.uniform(-600, 600), p.y + rng.uniform(-600, 600), rng.uniform(220, 420))
        )
    for t in towns[1:6]:
        anchors.append((t.x + t.radius_m * 1.3, t.y - t.radius_m * 0.5, rng.uniform(150, 260)))
    main = towns[0]
    anchors.append((main.x + 2_600, main.y - 1_400, 450))
    red = nets["river"].buffer(180)
    sites = []
    for i, (x, y, r) in enumerate(anchors[:15]):
        shape = shapely.affinity.rotate(
            shapely.affinity.scale(
                shapely.Point(x, y).buffer(r, quad_segs=6), rng.uniform(0.7, 1.5), 1.0
            ),
            rng.uniform(0, 180),
        )
        if shape.intersection(red).area > 0.5 * shape.area:
            shape = shapely.affinity.translate(shape, 0, 900)
        sites.append((f"ZAE-{i + 1:02d}", shape))
    return sites


def _plu_zones(
    rng: np.random.Generator,
    communes: gpd.GeoDataFrame,
    towns: list[_Town],
    zae_sites: list[tuple[str, shapely.Geometry]],
) -> gpd.GeoDataFrame:
    """PLU zones: U around towns, AUc/AUs rings, activity zones, A / N elsewhere."""
    rows = []
    zae_union = shapely.union_all([g for _, g in zae_sites])
    west_line = _X0 + _WIDTH * 0.33
    for town, (_, com) in zip(towns, communes.iterrows(), strict=True):
        if not com[Col.HAS_PLANNING_DOC]:
            continue
        cgeom = com.geometry
        insee = town.insee
        center = shapely.Point(town.x, town.y)
        u = shapely.intersection(center.buffer(town.radius_m * 1.3, quad_segs=12), cgeom)
        activity = shapely.intersection(zae_union, cgeom)
        # the existing part of each ZAE is Ux, its extension (east half) AUx
        ext_cut = shapely.box(town.x + town.radius_m * 0.3 + 500, -1e9, 1e9, 1e9)
        aux = (
            shapely.intersection(activity, ext_cut)
            if insee != towns[0].insee
            else shapely.intersection(activity, shapely.box(-1e9, -1e9, 1e9, town.y - 1_800))
        )
        ux = shapely.difference(activity, aux)
        if 5 <= towns.index(town) <= 12:
            # a small artisanal zone at the edge of the village, not inventoried as a ZAE
            spot = shapely.Point(town.x - town.radius_m * 1.6, town.y + town.radius_m * 0.4)
            small = shapely.intersection(spot.buffer(rng.uniform(180, 320), quad_segs=6), cgeom)
            ux = shapely.union(ux, shapely.difference(small, activity))
            activity = shapely.union(activity, small)
        u = shapely.difference(u, activity)
        auc = shapely.difference(
            shapely.intersection(
                shapely.Point(town.x + town.radius_m, town.y + town.radius_m * 0.6).buffer(
                    town.radius_m * 0.7
                ),
                cgeom,
            ),
            shapely.union_all([u, activity]),
        )
        aus = shapely.difference(
            shapely.intersection(
                shapely.Point(town.x - town.radius_m * 1.1, town.y - town.radius_m * 0.8).buffer(
                    town.radius_m * 0.5
                ),
                cgeom,
            ),
            shapely.union_all([u, activity, auc]),
        )
        rest = shapely.difference(cgeom, shapely.union_all([u, activity, auc, aus]))
        west = shapely.box(-1e9, -1e9, west_line + rng.uniform(-2_000, 2_000), 1e9)
        n_zone = shapely.intersection(rest, west)
        a_zone = shapely.difference(rest, west)
        parts = [
            ("U", "Ua", None, u),
            ("U", "Ux", DESTDOMI_ACTIVITY, ux),
            ("AUc", "AUx", DESTDOMI_ACTIVITY, aux),
            ("AUc", "AU", "01", auc),
            ("AUs", "AU0", "01", aus),
            ("A", "A", "05", a_zone),
            ("N", "N", "06", n_zone),
        ]
        for k, (ztype, lib, dest, geom) in enumerate(parts):
            geom = _polygonal(geom)
            if geom is None or geom.area < 500:
                continue
            rows.append((f"{insee}-{k}-{lib}", insee, lib, ztype, dest, geom))
    return gpd.GeoDataFrame(
        {
            Col.ZONE_ID: [r[0] for r in rows],
            Col.INSEE: [r[1] for r in rows],
            Col.LIBELLE: [r[2] for r in rows],
            Col.ZONE_TYPE: [r[3] for r in rows],
            Col.DESTDOMI: [r[4] for r in rows],
        },
        geometry=[r[5] for r in rows],
        crs=CRS_L93,
    )


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 1]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _parcel_seeds(
    rng: np.random.Generator, n: int, towns: list[_Town], boundary: shapely.Polygon
) -> np.ndarray:
    """Seed points: dense in towns (small parcels), sparse in the countryside."""
    weights = np.array([t.weight for t in towns])
    n_town = int(n * 0.45)
    counts = rng.multinomial(n_town, weights / weights.sum())
    pts = [
        rng.normal([t.x, t.y], t.radius_m * 0.75, size=(c, 2))
        for t, c in zip(towns, counts, strict=True)
    ]
    town_xy = np.vstack(pts)
    town_xy = town_xy[shapely.contains_xy(boundary, town_xy[:, 0], town_xy[:, 1])]
    minx, miny, maxx, maxy = boundary.bounds
    need = n - len(town_xy)
    # the oval fills about 3/4 of its bounding box: draw enough, keep the first inside
    rural = rng.uniform([minx, miny], [maxx, maxy], size=(int(need * 1.5) + 100, 2))
    rural = rural[shapely.contains_xy(boundary, rural[:, 0], rural[:, 1])][:need]
    return np.vstack([town_xy, rural])


def _section_codes(k: np.ndarray) -> np.ndarray:
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    first = np.where(k < 26, "0", letters[np.clip((k - 26) // 26, 0, 25)])
    second = np.where(k < 26, letters[k % 26], letters[(k - 26) % 26])
    return np.char.add(first.astype(str), second.astype(str))


def _parcels(
    rng: np.random.Generator,
    seeds: np.ndarray,
    communes: gpd.GeoDataFrame,
    boundary: shapely.Polygon,
) -> gpd.GeoDataFrame:
    """Voronoi cells of the seeds, cut along commune boundaries."""
    cells = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=boundary.buffer(2_000), ordered=True
    )
    cells = np.asarray(shapely.get_parts(cells))
    tree = shapely.STRtree(communes.geometry.to_numpy())
    cell_idx, com_idx = tree.query(cells, predicate="intersects")
    com_geoms = communes.geometry.to_numpy()
    inside = shapely.contains_properly(com_geoms[com_idx], cells[cell_idx])
    pieces = cells[cell_idx].copy()
    cross = ~inside
    pieces[cross] = shapely.intersection(cells[cell_idx][cross], com_geoms[com_idx][cross])
    parts, part_idx = shapely.get_parts(pieces, return_index=True)
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 20)
    parts, owner = parts[keep], com_idx[part_idx[keep]]
    insee = communes[Col.INSEE].to_numpy()[owner]
    # sections: chunks of up to 2,000 parcels along a 600 m grid within each commune
    cx, cy = shapely.get_x(shapely.centroid(parts)), shapely.get_y(shapely.centroid(parts))
    cell = (np.floor((cy - _Y0) / 600) * 1_000 + np.floor((cx - _X0) / 600)).astype(np.int64)
    order = np.lexsort((cx, cell, insee))
    parts, insee, cx, cy = parts[order], insee[order], cx[order], cy[order]
    rank = pd.Series(np.arange(len(parts))).groupby(insee).cumcount().to_numpy()
    section = _section_codes(rank // 2_000)
    numero = np.char.zfill((rank % 2_000 + 1).astype(str), 4)
    idu = np.char.add(np.char.add(np.char.add(insee.astype(str), "000"), section), numero)
    area = shapely.area(parts)
    contenance = np.round(area * rng.normal(1.0, 0.015, len(parts)))
    owner_kind = rng.choice(["private", "public", "unknown"], size=len(parts), p=[0.88, 0.08, 0.04])
    return gpd.GeoDataFrame(
        {
            Col.IDU: idu,
            Col.INSEE: insee,
            Col.SECTION: section,
            Col.NUMERO: numero,
            Col.CONTENANCE_M2: contenance,
            Col.OWNER_KIND: owner_kind,
            Col.LAND_COVER: "enaf",
        },
        geometry=parts,
        crs=CRS_L93,
    )


def _zone_of_parcels(parcels: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """Zone of each parcel's representative point (left join, NaN outside any zone)."""
    pts = gpd.GeoDataFrame(geometry=parcels.geometry.representative_point(), crs=CRS_L93)
    hit = gpd.sjoin(
        pts,
        zones[[Col.ZONE_ID, Col.ZONE_TYPE, Col.DESTDOMI, Col.LIBELLE, "geometry"]],
        predicate="within",
        how="left",
    )
    hit = hit[~hit.index.duplicated(keep="first")]
    return hit.reindex(parcels.index)


def _land_cover(
    rng: np.random.Generator, parcels: gpd.GeoDataFrame, zone: pd.DataFrame
) -> np.ndarray:
    lib = zone[Col.LIBELLE].fillna("RNU").to_numpy()
    u = rng.uniform(size=len(parcels))
    art = np.select(
        [lib == "Ua", lib == "Ux", lib == "AUx", np.isin(lib, ["AU", "AU0"]), lib == "RNU"],
        [u < 0.93, u < 0.75, u < 0.08, u < 0.15, u < 0.06],
        default=u < 0.04,
    )
    return np.where(art, "artificialised", "enaf")


def _zae_layers(
    rng: np.random.Generator,
    sites: list[tuple[str, shapely.Geometry]],
    parcels: gpd.GeoDataFrame,
    zone: pd.DataFrame,
    communes: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    site_ids = [s for s, _ in sites]
    site_geoms = np.array([g for _, g in sites])
    rep = parcels.geometry.representative_point().to_numpy()
    tree = shapely.STRtree(site_geoms)
    p_idx, s_idx = tree.query(rep, predicate="within")
    in_activity = zone[Col.DESTDOMI].to_numpy()[p_idx] == DESTDOMI_ACTIVITY
    p_idx, s_idx = p_idx[in_activity], s_idx[in_activity]
    plots = parcels.iloc[p_idx]
    aux = zone[Col.LIBELLE].to_numpy()[p_idx] == "AUx"
    n = len(plots)
    u = rng.uniform(size=n)
    occupancy = np.where(
        aux,
        "inoccupé",
        np.select(
            [u < 0.82, u < 0.90, u < 0.95, u < 0.98],
            ["occupé", "vacant", "inoccupé", "occupation en transition"],
            "friche",
        ),
    )
    v = rng.uniform(size=n)
    servicing = np.where(
        occupancy == "occupé",
        "viabilisé et aménagé",
        np.where(
            aux,
            np.where(v < 0.7, "non aménagé, non viabilisé", "viabilisation en cours"),
            np.select(
                [v < 0.45, v < 0.75, v < 0.9],
                ["viabilisé et aménagé", "viabilisé non aménagé", "viabilisation en cours"],
                "inconnu",
            ),
        ),
    )
    sites_by_idx = np.array(site_ids)[s_idx]
    plot_ids = [f"{s}-T{i + 1:04d}" for i, s in enumerate(sites_by_idx)]
    zae_plots = gpd.GeoDataFrame(
        {
            Col.PLOT_ID: plot_ids,
            Col.SITE_ID: sites_by_idx,
            Col.REFCAD: plots[Col.IDU].to_numpy(),
            Col.SERVICING_STAGE: servicing,
            Col.OCCUPANCY: occupancy,
            Col.PRICE_EUR_M2: np.round(rng.uniform(12, 55, n), 1),
        },
        geometry=plots.geometry.to_numpy(),
        crs=CRS_L93,
    )
    # site geometry = union of its plots (the ZAE as inventoried)
    site_union = zae_plots.dissolve(by=Col.SITE_ID)
    com_tree = shapely.STRtree(communes.geometry.to_numpy())
    reps = site_union.geometry.representative_point().to_numpy()
    idx = com_tree.query(reps, predicate="within")
    com_of = np.empty(len(site_union), dtype=object)
    com_of[idx[0]] = communes[Col.INSEE].to_numpy()[idx[1]]
    names = communes.set_index(Col.INSEE)[Col.NAME]
    gross = site_union.area / 1e4
    occupied_share = (
        zae_plots.assign(a=zae_plots.area)
        .groupby(Col.SITE_ID)
        .apply(lambda g: g.loc[g[Col.OCCUPANCY] != "occupé", "a"].sum() / 1e4, include_groups=False)
    )
    zae = gpd.GeoDataFrame(
        {
            Col.SITE_ID: site_union.index.to_numpy(),
            Col.NAME: [
                f"Parc d'activités de {names[c]}" if i % 2 else f"Zone industrielle {names[c]}"
                for i, c in enumerate(com_of)
            ],
            Col.INSEE: com_of,
            Col.SURF_BRUTE_HA: np.round(gross.to_numpy(), 2),
            Col.SURF_UTILE_HA: np.round(occupied_share.reindex(site_union.index).to_numpy(), 2),
        },
        geometry=site_union.geometry.to_numpy(),
        crs=CRS_L93,
    )
    # the name may repeat when two parks share a commune: number them
    dup = zae[Col.NAME].duplicated(keep=False)
    zae.loc[dup, Col.NAME] = (
        zae.loc[dup, Col.NAME] + " " + zae.loc[dup].groupby(Col.NAME).cumcount().add(1).astype(str)
    )
    return zae, zae_plots


def _friches(
    rng: np.random.Generator,
    parcels: gpd.GeoDataFrame,
    zone: pd.DataFrame,
    n: int,
) -> gpd.GeoDataFrame:
    """Brownfields: clusters of parcels in towns (old workshops) and ex-mining land."""
    lib = zone[Col.LIBELLE].fillna("RNU").to_numpy()
    area = parcels.area.to_numpy()
    in_town = np.flatnonzero((lib == "Ua") & (area > 1_500) & (area < 20_000))
    rural = np.flatnonzero(np.isin(lib, ["A", "N"]) & (area > 2_500) & (area < 40_000))
    n_town = min(n // 2, len(in_town))
    seeds = np.concatenate(
        [
            rng.choice(in_town, size=n_town, replace=False),
            rng.choice(rural, size=min(n - n_town, len(rural)), replace=False),
        ]
    )
    tree = parcels.sindex
    used: set[int] = set()
    rows = []
    statuses = (
        ["friche sans projet"] * 8
        + ["friche potentielle"] * 8
        + ["friche avec projet"] * 4
        + ["friche reconvertie"] * 3
        + ["site avec projet"] * 1
    )
    town_names = ("Ancienne usine", "Ancien dépôt", "Ancienne filature", "Ancien garage")
    rural_names = ("Ancien carreau de mine", "Ancienne scierie", "Ancienne carrière")
    for k, s in enumerate(seeds):
        if s in used:
            continue
        urban = lib[s] == "Ua"
        neigh = tree.query(parcels.geometry.iloc[s], predicate="touches")
        n_more = rng.integers(0, 4)
        take = [s] + [
            int(i) for i in neigh[:n_more] if int(i) not in used and lib[int(i)] == lib[s]
        ]
        used.update(take)
        geom = shapely.union_all(parcels.geometry.to_numpy()[take])
        names = town_names if urban else rural_names
        rows.append(
            {
                Col.SITE_ID: f"{parcels[Col.INSEE].iloc[s]}_{100 + k}",
                Col.NAME: f"{names[k % len(names)]} n°{k + 1}",
                Col.INSEE: parcels[Col.INSEE].iloc[s],
                Col.STATUS: statuses[k % len(statuses)],
                Col.POLLUTION: ["oui", "non", "inconnu"][int(rng.integers(0, 3))],
                Col.ZONE_TYPE: {"Ua": "U", "A": "A", "N": "N"}[lib[s]],
                Col.SURFACE_M2: round(float(geom.area)),
                Col.APPROXIMATE: False,
                "l_idpar": "|".join(parcels[Col.IDU].to_numpy()[take]),
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS_L93)


def _write_dem(path: Path, rng: np.random.Generator, nets: dict, boundary: shapely.Polygon) -> Path:
    """Foothills rising to the west, a river valley, gentle noise; 25 m, float32."""
    minx, miny, maxx, maxy = boundary.buffer(1_000).bounds
    ncols = int(np.ceil((maxx - minx) / _DEM_RES))
    nrows = int(np.ceil((maxy - miny) / _DEM_RES))
    xs = minx + (np.arange(ncols) + 0.5) * _DEM_RES
    ys = maxy - (np.arange(nrows) + 0.5) * _DEM_RES
    gx, gy = np.meshgrid(xs, ys)
    west = 1.0 / (1.0 + np.exp((gx - (_X0 + _WIDTH * 0.3)) / 4_000.0))
    z = 90.0 + 650.0 * west + 40.0 * (gy - _Y0) / _HEIGHT
    k = rng.uniform(0, 2 * np.pi, 6)
    z += 35.0 * np.sin(gx / 2_300.0 + k[0]) * np.cos(gy / 1_900.0 + k[1])
    z += 90.0 * west * np.sin(gx / 900.0 + k[2]) * np.sin(gy / 1_100.0 + k[3])
    z += 8.0 * np.sin(gx / 400.0 + k[4]) * np.cos(gy / 350.0 + k[5])
    dist = shapely.distance(nets["river"], shapely.points(gx.ravel(), gy.ravel())).reshape(gx.shape)
    z -= 25.0 * np.exp(-((dist / 1_200.0) ** 2))
    return write_dem_grid(path, z, minx, maxy)


#: Value of the sample DEMs' cells outside every département.
DEM_NODATA = -9999.0


def write_dem_grid(path: Path, z: np.ndarray, left: float, top: float) -> Path:
    """Write heights on the sample's 25 m Lambert-93 grid as a tiled float32 GeoTIFF.

    ``z`` holds rows from north to south, its first cell's corner at
    (``left``, ``top``); cells without a height hold :data:`DEM_NODATA`.  The
    file is written beside ``path`` and renamed, so that concurrent builds
    never read a half-written DEM.
    """
    height, width = z.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": CRS_L93,
        "transform": from_origin(left, top, _DEM_RES, _DEM_RES),
        "nodata": DEM_NODATA,
        "compress": "deflate",
        "tiled": True,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(z.astype("float32"), 1)
    os.replace(tmp, path)
    return path


def _enaf_consumption(
    rng: np.random.Generator, communes: gpd.GeoDataFrame, towns: list[_Town]
) -> pd.DataFrame:
    """Cerema-like flows 2009-2022 (vintage 2009-2023), calibrated so that ZAN binds."""
    years = np.arange(2009, 2023)
    weights = np.array([t.weight for t in towns])
    per_year = _BASELINE_M2 / 10 * weights / weights.sum()
    per_year = per_year * rng.uniform(0.6, 1.5, len(towns))
    # a few small communes consume little (they rely on the garantie communale)
    order = np.argsort(weights)
    small = order[:6]
    per_year[small] = rng.uniform(400, 1_800, len(small))
    # pace since 2021: most communes slow down, a few accelerate (those exceed their envelope)
    trend = rng.uniform(0.4, 1.3, len(towns))
    hot = order[-12:-8]
    trend[hot] = rng.uniform(2.8, 3.4, len(hot))
    level = per_year[:, None] * np.where(years >= 2021, trend[:, None], 1.0)
    naf = rng.gamma(4.0, level / 4.0)
    # calibrate the totals: baseline 2011-2020 and what is left of the envelope
    ref = (years >= 2011) & (years <= 2020)
    naf[:, ref] *= _BASELINE_M2 / naf[:, ref].sum()
    baseline_ha = naf[:, ref].sum(axis=1) / 1e4
    doc = communes[Col.HAS_PLANNING_DOC].to_numpy()
    envelope_ha = np.where(doc, np.maximum(baseline_ha * 0.5, 1.0), baseline_ha * 0.5)
    recent = years >= 2021
    naf[:, recent] *= (envelope_ha.sum() - _REMAINING_HA) * 1e4 / naf[:, recent].sum()
    naf = np.round(naf)
    rows = []
    for i, t in enumerate(towns):
        for k, y in enumerate(years):
            shares = rng.dirichlet([6, 12, 0.4, 1.0, 0.05, 0.3])
            uses = np.floor(naf[i, k] * shares)
            uses[1] += naf[i, k] - uses.sum()  # the remainder to housing: naf = sum of uses
            rows.append((t.insee, int(y), float(naf[i, k]), *map(float, uses)))
    return pd.DataFrame(
        rows,
        columns=[
            Col.INSEE,
            Col.YEAR,
            Col.ENAF_M2,
            Col.ACTIVITY_M2,
            Col.HOUSING_M2,
            Col.MIXED_M2,
            Col.ROAD_M2,
            Col.RAIL_M2,
            Col.UNKNOWN_M2,
        ],
    )


def _largest_remainder(weights: np.ndarray, total: int, minimum: int = 1) -> np.ndarray:
    base = np.full(len(weights), minimum)
    share = weights / weights.sum() * (total - base.sum())
    out = base + np.floor(share).astype(int)
    rest = total - out.sum()
    out[np.argsort(-(share - np.floor(share)), kind="stable")[:rest]] += 1
    return out


def _projects(
    rng: np.random.Generator, communes: gpd.GeoDataFrame, zae: gpd.GeoDataFrame
) -> pd.DataFrame:
    rows = []
    for sector, count, lo, hi, jf in _SECTORS:
        for _ in range(count):
            area = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            rows.append({"sector": sector, "area": area, "jf": jf})
    df = pd.DataFrame(rows)
    # the PENE project: a large national-scale plant
    df.loc[df.index[df.sector == "énergie et hydrogène"][0], "area"] = 12.0
    df["area"] = df["area"] * _TOTAL_AREA_MIN_HA / df["area"].sum()
    df["area"] = np.maximum(np.round(df["area"] / 0.05) * 0.05, 0.05)
    n = len(df)
    jobs = _largest_remainder(
        df["area"].to_numpy() ** 0.6 * df["jf"].to_numpy() * rng.uniform(0.6, 1.4, n), _TOTAL_JOBS
    )
    invest = jobs * rng.uniform(0.5, 1.5, n) * (1 + df["area"].to_numpy())
    invest = np.round(invest / invest.sum() * _TOTAL_INVESTMENT_EUR / 10_000) * 10_000
    invest[np.argmax(invest)] += _TOTAL_INVESTMENT_EUR - invest.sum()
    zae_communes = sorted(zae[Col.INSEE].dropna().unique())
    is_log = (df.sector == "logistique").to_numpy()
    is_chem = (df.sector == "chimie et matériaux").to_numpy()
    pene = np.zeros(n, dtype=bool)
    pene[df.index[df.sector == "énergie et hydrogène"][0]] = True
    needs_rail = np.zeros(n, dtype=bool)
    needs_rail[np.flatnonzero(is_log)[:3]] = True
    needs_rail[np.flatnonzero(df.sector == "recyclage")[:2]] = True
    needs_rail[np.flatnonzero(df.sector == "bois et construction")[:1]] = True
    seveso = np.zeros(n, dtype=bool)
    seveso[np.flatnonzero(is_chem)[:4]] = True
    seveso[pene] = True
    max_dist = np.where(
        is_log,
        rng.choice([3.0, 5.0, 8.0, 10.0], n),
        np.where(rng.uniform(size=n) < 0.25, rng.choice([5.0, 10.0, 15.0], n), np.nan),
    )
    max_slope = np.where(
        df["area"] > 2, rng.choice([2.0, 3.0, 5.0], n), rng.choice([5.0, 8.0, 10.0, np.nan], n)
    )
    preferred = pd.Series(rng.choice(zae_communes, n)).where(rng.uniform(size=n) < 0.3)
    f2030 = np.zeros(n, dtype=bool)
    f2030[rng.choice(n, size=26, replace=False)] = True
    names = []
    for i, s in enumerate(df.sector):
        names.append(f"Projet {s} n°{(df.sector[: i + 1] == s).sum()}")
    out = pd.DataFrame(
        {
            Col.PROJECT_ID: [f"P-{i + 1:03d}" for i in range(n)],
            Col.NAME: names,
            Col.SECTOR: df.sector,
            Col.AREA_MIN_HA: df["area"].round(2),
            Col.AREA_MAX_HA: (df["area"] * rng.uniform(1.0, 1.5, n))
            .round(2)
            .clip(lower=df["area"].round(2)),
            Col.JOBS: jobs,
            Col.INVESTMENT_EUR: invest,
            Col.NEEDS_RAIL: needs_rail,
            Col.MAX_DIST_INTERCHANGE_KM: max_dist,
            Col.MAX_SLOPE_PCT: max_slope,
            Col.SEVESO: seveso,
            Col.PREFERRED_INSEE: preferred,
            Col.IS_PENE: pene,
            Col.FRANCE2030: f2030,
            Col.EARLIEST_YEAR: rng.choice(
                [2026, 2027, 2028, 2029, 2030], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]
            ),
        }
    )
    return (
        out.sample(frac=1.0, random_state=int(rng.integers(0, 2**31)))
        .reset_index(drop=True)
        .assign(**{Col.PROJECT_ID: [f"P-{i + 1:03d}" for i in range(n)]})
    )


def make_sample(
    n_parcels: int = 30_000,
    seed: int = 0,
    *,
    n_communes: int = 40,
    dem_dir: str | Path | None = None,
    departement: str = "30",
) -> Territory:
    """Generate the synthetic sample territory in memory.

    Parameters
    ----------
    n_parcels
        Approximate number of cadastral parcels (1,000 to 10,000,000): parcels
        are Voronoi cells cut along commune boundaries, so the exact count is
        a little higher.
    seed
        Random seed; the same seed gives identical tables and geometries.
    n_communes
        Number of communes (20 to 64).
    dem_dir
        Folder where the DEM GeoTIFF is written (a cache folder in the
        system's temporary directory by default).
    departement
        Code of the communes' département, the first two characters of
        their INSEE codes (``"30"``, the Gard, by default); the geometries
        and every random draw are the same whatever the code.

    Returns
    -------
    Territory
        Every layer validated, ``metadata["synthetic"]`` set.

    Examples
    --------
    >>> t = make_sample(n_parcels=2_000, seed=1, n_communes=20)
    >>> len(t.projects), int(t.projects["jobs"].sum())
    (131, 586)
    """
    if not 1_000 <= n_parcels <= 10_000_000:
        msg = f"n_parcels doit être entre 1 000 et 10 000 000 ; reçu {n_parcels}"
        raise ValueError(msg)
    if not 20 <= n_communes <= 64:
        msg = f"n_communes doit être entre 20 et 64 ; reçu {n_communes}"
        raise ValueError(msg)
    if not _DEPARTEMENT_RE.fullmatch(departement):
        msg = (
            "departement doit être le code d'un département métropolitain (01 à 95, 2A, 2B) ; "
            f"reçu {departement!r}"
        )
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    boundary = _boundary(rng)
    towns = _towns(rng, boundary, n_communes, departement)
    communes = _communes(towns, boundary)
    nets = _networks(rng, towns[0])
    infra = _infrastructure(rng, nets, towns)
    constraints = _constraints(rng, nets, boundary)
    sites = _zae_sites(rng, towns, infra, nets)
    zones = _plu_zones(rng, communes, towns, sites)
    parcels = _parcels(rng, _parcel_seeds(rng, n_parcels, towns, boundary), communes, boundary)
    zone = _zone_of_parcels(parcels, zones)
    parcels[Col.LAND_COVER] = _land_cover(rng, parcels, zone)
    zae, zae_plots = _zae_layers(rng, sites, parcels, zone, communes)
    friches = _friches(rng, parcels, zone, n=24)
    # vacant ZAE plots were mostly never built: building them consumes ENAF
    free_plots = zae_plots.loc[zae_plots[Col.OCCUPANCY] != "occupé", Col.REFCAD]
    never_built = parcels[Col.IDU].isin(free_plots) & (rng.uniform(size=len(parcels)) < 0.7)
    parcels.loc[never_built, Col.LAND_COVER] = "enaf"
    in_friche = parcels[Col.IDU].isin(set("|".join(friches["l_idpar"]).split("|")))
    parcels.loc[in_friche, Col.LAND_COVER] = "artificialised"
    dem_folder = (
        Path(dem_dir)
        if dem_dir
        else Path(tempfile.gettempdir()) / f"foncier-sample-{seed}-{n_communes}-{n_parcels}"
    )
    dem_path = _write_dem(dem_folder / "dem.tif", rng, nets, boundary)
    enaf = _enaf_consumption(rng, communes, towns)
    projects = _projects(rng, communes, zae)
    layers = {
        "communes": communes,
        "parcels": parcels,
        "plu_zones": zones,
        "zae": zae,
        "zae_plots": zae_plots,
        "friches": friches,
        "constraints": constraints,
        "infrastructure": infra,
    }
    layers = {name: validate_layer(name, gdf) for name, gdf in layers.items()}
    return Territory(
        name=SAMPLE_NAME,
        layers=layers,
        enaf_consumption=validate_layer("enaf_consumption", enaf),
        projects=validate_layer("projects", projects),
        dem_path=dem_path,
        metadata={
            "synthetic": True,
            "description": _DESCRIPTION,
            "seed": seed,
            "n_parcels": n_parcels,
            "n_communes": n_communes,
            "generator": "foncier.sample",
        },
        enaf_vintage=EnafVintage(2009, 2023),
        planning_docs=validate_layer("planning_docs", _planning_docs(communes)),
    )


def write_sample(
    outdir: str | Path,
    n_parcels: int = 30_000,
    seed: int = 0,
    *,
    n_communes: int = 40,
    force: bool = False,
) -> Territory:
    """Generate the sample and write it as a territory folder, then load it back.

    Parameters
    ----------
    outdir
        Destination folder: missing, empty, or a territory folder written by
        foncier (replaced atomically).
    n_parcels, seed, n_communes
        See :func:`make_sample`.
    force
        Also write into a folder holding other things, replacing only
        foncier's own files (see :meth:`Territory.to_folder`).

    Returns
    -------
    Territory
        The territory as read back from ``outdir``.

    Raises
    ------
    OutputError
        ``outdir`` holds files foncier did not write, and ``force`` is not set.
    """
    check_folder(outdir, "territory", force=force)
    with tempfile.TemporaryDirectory() as tmp:
        territory = make_sample(n_parcels, seed, n_communes=n_communes, dem_dir=tmp)
        territory.to_folder(outdir, force=force)
    return Territory.from_folder(outdir)
