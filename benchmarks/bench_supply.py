"""Benchmark of the supply step (foncier.supply.land_units) against a naive baseline.

For each sample size, a child process builds ``make_sample(n_parcels=N, seed=0)``
and times ``land_units`` stage by stage, with the peak resident memory of the
step (Linux ``VmHWM`` reset through ``/proc/self/clear_refs``, else
``ru_maxrss`` of the whole process).  On the sizes up to ``--naive-max``, the
same child also runs a naive baseline written as a GIS analyst would
(geopandas ``overlay`` of whole layers, ``sjoin``, row-wise ``apply`` for
distances, ``rasterio.mask`` per unit for the slope), checks that both give
the same units (same parcels, net areas within 1 m², same criteria) and prints
the speed ratio.

Usage::

    python benchmarks/bench_supply.py                    # 30k and 200k parcels
    python benchmarks/bench_supply.py --sizes 30000 200000 1000000
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import rasterio
import rasterio.mask
from rasterio.io import MemoryFile

from foncier.criteria import FLOOD_KINDS, completeness
from foncier.layers import CRS_L93, DESTDOMI_ACTIVITY, Col, UnitCol
from foncier.sample import make_sample
from foncier.supply import (
    ACTIVITY_ZONE_TYPES,
    AVAILABLE_OCCUPANCIES,
    DEFAULT_EXCLUDE,
    NOT_BUILDABLE,
    RECONVERTED,
    land_units,
)
from foncier.terrain import read_dem, slope_pct

COMPARED = (
    UnitCol.GROSS_AREA_HA,
    UnitCol.COMPACTNESS,
    UnitCol.SLOPE_MEAN_PCT,
    UnitCol.SLOPE_MAX_PCT,
    UnitCol.DIST_INTERCHANGE_KM,
    UnitCol.DIST_RAIL_FREIGHT_KM,
    UnitCol.DIST_SUBSTATION_KM,
    UnitCol.DIST_HOUSING_KM,
    UnitCol.ENAF_SHARE,
    UnitCol.FLOOD_SHARE,
    UnitCol.NATURA2000_SHARE,
    UnitCol.COMPLETENESS,
)
STAGE_RANK = {
    s: i
    for i, s in enumerate(
        [
            "non aménageable",
            "non aménagé, non viabilisé",
            "viabilisation en cours",
            "viabilisé non aménagé",
            "viabilisé et aménagé",
        ]
    )
}


# -- memory ---------------------------------------------------------------------------
def reset_peak() -> bool:
    """Reset the process's peak RSS (Linux); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """Peak RSS since the last reset (VmHWM), else since the process started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the naive baseline ---------------------------------------------------------------
def majority(pairs: pd.DataFrame, key: str, column: str) -> pd.Series:
    """Value of ``column`` covering the largest area per ``key``, with groupby + idxmax."""
    by_area = pairs.groupby([key, column])["area"].sum().reset_index()
    return by_area.loc[by_area.groupby(key)["area"].idxmax()].set_index(key)[column]


def naive_candidates(t: Any) -> gpd.GeoDataFrame:
    parcels = t.parcels.copy()
    parcels["area"] = parcels.area
    points = parcels.set_geometry(parcels.representative_point())
    zones = t.plu_zones[[Col.ZONE_TYPE, Col.DESTDOMI, "geometry"]]

    friches = t.friches[t.friches[Col.STATUS] != RECONVERTED].copy()
    in_friche = gpd.sjoin(points, friches[[Col.SITE_ID, "geometry"]], predicate="within")
    pieces = gpd.overlay(friches[[Col.SITE_ID, "geometry"]], parcels, keep_geom_type=True)
    pieces["area"] = pieces.area
    f_rep = friches.set_geometry(friches.representative_point())
    f_zone = gpd.sjoin(f_rep[[Col.SITE_ID, "geometry"]], zones, predicate="within", how="left")
    f_zone = f_zone.drop_duplicates(Col.SITE_ID).set_index(Col.SITE_ID)[Col.ZONE_TYPE]
    friches["zone_type_plu"] = friches[Col.SITE_ID].map(f_zone)
    friche_land = gpd.GeoDataFrame(
        {
            Col.INSEE: friches[Col.INSEE],
            UnitCol.ORIGIN: "friche",
            Col.ZONE_TYPE: friches["zone_type_plu"].fillna(friches[Col.ZONE_TYPE]),
            Col.OWNER_KIND: friches[Col.SITE_ID]
            .map(majority(pieces, Col.SITE_ID, Col.OWNER_KIND))
            .fillna("unknown"),
            UnitCol.IDUS: friches["l_idpar"].fillna(""),
            Col.SITE_ID: friches[Col.SITE_ID],
            Col.SERVICING_STAGE: "inconnu",
        },
        geometry=friches.geometry,
        crs=CRS_L93,
    )

    plots = t.zae_plots
    plots = plots[
        plots[Col.OCCUPANCY].isin(AVAILABLE_OCCUPANCIES)
        & (plots[Col.SERVICING_STAGE] != NOT_BUILDABLE)
    ].copy()
    p_rep = plots.set_geometry(plots.representative_point())
    in_f = gpd.sjoin(p_rep[[Col.PLOT_ID, "geometry"]], friches[["geometry"]], predicate="within")
    plots = plots[~plots[Col.PLOT_ID].isin(in_f[Col.PLOT_ID])]
    p_rep = plots.set_geometry(plots.representative_point())
    p_zone = gpd.sjoin(p_rep[[Col.PLOT_ID, "geometry"]], zones, predicate="within", how="left")
    p_zone = p_zone.drop_duplicates(Col.PLOT_ID).set_index(Col.PLOT_ID)[Col.ZONE_TYPE]
    in_plot = gpd.overlay(plots[[Col.PLOT_ID, "geometry"]], parcels, keep_geom_type=True)
    in_plot["area"] = in_plot.area
    zae_land = gpd.GeoDataFrame(
        {
            Col.INSEE: plots[Col.SITE_ID].map(t.zae.set_index(Col.SITE_ID)[Col.INSEE]),
            UnitCol.ORIGIN: "zae_plot",
            Col.ZONE_TYPE: plots[Col.PLOT_ID].map(p_zone),
            Col.OWNER_KIND: plots[Col.PLOT_ID]
            .map(majority(in_plot, Col.PLOT_ID, Col.OWNER_KIND))
            .fillna("unknown"),
            UnitCol.IDUS: plots[Col.REFCAD].fillna(""),
            Col.SITE_ID: plots[Col.SITE_ID],
            Col.SERVICING_STAGE: plots[Col.SERVICING_STAGE],
        },
        geometry=plots.geometry,
        crs=CRS_L93,
    )

    # zoning of every parcel: overlay of the whole parcels and zones layers
    zoned = gpd.overlay(parcels[[Col.IDU, "area", "geometry"]], zones, keep_geom_type=True)
    zoned["piece"] = zoned.area
    zoned = zoned[
        zoned[Col.ZONE_TYPE].isin(ACTIVITY_ZONE_TYPES) & (zoned[Col.DESTDOMI] == DESTDOMI_ACTIVITY)
    ]
    share = zoned.groupby(Col.IDU)["piece"].sum() / zoned.groupby(Col.IDU)["area"].first()
    largest = zoned.sort_values("piece", ascending=False, kind="stable").drop_duplicates(Col.IDU)
    zone_type = largest.set_index(Col.IDU)[Col.ZONE_TYPE]
    chosen = points[points[Col.IDU].isin(share.index[share >= 0.5])]
    any_plot = gpd.sjoin(chosen, t.zae_plots[["geometry"]], predicate="within")
    chosen = chosen.drop(index=any_plot.index.unique())
    chosen = chosen.drop(index=in_friche.index.unique(), errors="ignore")
    chosen = parcels.loc[chosen.index]
    chosen = chosen[chosen[Col.LAND_COVER] != "artificialised"]  # built land is not free
    parcel_land = gpd.GeoDataFrame(
        {
            Col.INSEE: chosen[Col.INSEE],
            UnitCol.ORIGIN: "activity_zone",
            Col.ZONE_TYPE: chosen[Col.IDU].map(zone_type),
            Col.OWNER_KIND: chosen[Col.OWNER_KIND],
            UnitCol.IDUS: chosen[Col.IDU],
            Col.SITE_ID: "",
            Col.SERVICING_STAGE: "inconnu",
        },
        geometry=chosen.geometry,
        crs=CRS_L93,
    )
    return gpd.GeoDataFrame(
        pd.concat([zae_land, friche_land, parcel_land], ignore_index=True), crs=CRS_L93
    )


def naive_land_units(t: Any, timings: dict[str, float]) -> gpd.GeoDataFrame:
    def tick(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = now - start
        return now

    start = time.perf_counter()
    cands = naive_candidates(t)
    cands["gross_area_ha"] = cands.area / 1e4
    start = tick("candidats", start)

    excl = t.constraints[t.constraints[Col.KIND].isin(DEFAULT_EXCLUDE)][["geometry"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        net = gpd.overlay(cands, excl, how="difference")
    net = net[net.area >= 1.0].reset_index(drop=True)
    start = tick("exclusions", start)

    keys = [UnitCol.ORIGIN, Col.ZONE_TYPE, Col.OWNER_KIND, Col.SITE_ID]
    near = gpd.sjoin(net, net[[*keys, "geometry"]], predicate="dwithin", distance=0.5)
    near = near[
        (
            near[[f"{k}_left" for k in keys]].to_numpy()
            == near[[f"{k}_right" for k in keys]].to_numpy()
        ).all(axis=1)
    ]  # noqa: E501
    graph = nx.Graph()
    graph.add_nodes_from(net.index)
    graph.add_edges_from(zip(near.index, near["index_right"], strict=True))
    unit_of = {n: k for k, comp in enumerate(nx.connected_components(graph)) for n in comp}
    net["unit"] = net.index.map(unit_of)
    net["rank"] = net[Col.SERVICING_STAGE].map(STAGE_RANK)
    rank_name = {v: k for k, v in STAGE_RANK.items()}
    units = net.dissolve(
        by="unit",
        aggfunc={
            **{k: "first" for k in keys},
            UnitCol.IDUS: lambda s: "|".join(sorted({i for v in s if v for i in v.split("|")})),
            UnitCol.GROSS_AREA_HA: "sum",
            "rank": "min",
        },
    )
    largest = net.sort_values(UnitCol.GROSS_AREA_HA, ascending=False).drop_duplicates("unit")
    units[Col.INSEE] = largest.set_index("unit")[Col.INSEE]
    units[Col.SERVICING_STAGE] = units["rank"].map(rank_name).fillna("inconnu")
    units = units.reset_index(drop=True)
    start = tick("unités foncières", start)

    units[UnitCol.NET_AREA_HA] = units.area / 1e4
    units[UnitCol.COMPACTNESS] = 4 * np.pi * units.area / units.length**2
    start = tick("surfaces", start)

    dem = read_dem(t.dem_path, bounds=tuple(units.total_bounds))
    slope = slope_pct(dem.elevation, dem.transform)
    height, width = slope.shape
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1,
               "dtype": "float32", "crs": CRS_L93, "transform": dem.transform,
               "nodata": np.nan}  # fmt: skip
    with MemoryFile() as mem, mem.open(**profile) as src:
        src.write(slope, 1)

        def zonal(geom: Any) -> tuple[float, float]:
            try:
                values, _ = rasterio.mask.mask(src, [geom], crop=True, filled=True, nodata=np.nan)
                values = values[np.isfinite(values)]
            except ValueError:
                values = np.empty(0)
            if values.size == 0:
                pt = geom.representative_point()
                values = np.array([v[0] for v in src.sample([(pt.x, pt.y)])])
            return float(np.mean(values)), float(np.max(values))

        stats = units.geometry.apply(zonal)
    units[UnitCol.SLOPE_MEAN_PCT] = stats.str[0]
    units[UnitCol.SLOPE_MAX_PCT] = stats.str[1]
    start = tick("pentes", start)

    infra = t.infrastructure
    for kind, col in (
        ("interchange", UnitCol.DIST_INTERCHANGE_KM),
        ("rail_freight", UnitCol.DIST_RAIL_FREIGHT_KM),
        ("substation", UnitCol.DIST_SUBSTATION_KM),
    ):
        targets = infra[infra[Col.KIND] == kind].geometry
        units[col] = units.geometry.apply(lambda g, tg=targets: tg.distance(g).min() / 1000)
    z = t.plu_zones
    housing = z[z[Col.ZONE_TYPE].isin(ACTIVITY_ZONE_TYPES) & (z[Col.DESTDOMI] != "02")].geometry
    units[UnitCol.DIST_HOUSING_KM] = units.geometry.apply(
        lambda g: housing.distance(g).min() / 1000
    )
    start = tick("distances", start)

    units["uid"] = units.index
    inter = gpd.overlay(units[["uid", "geometry"]], t.parcels[[Col.LAND_COVER, "geometry"]],
                        how="intersection", keep_geom_type=True)  # fmt: skip
    inter["area"] = inter.area
    total = inter.groupby("uid")["area"].sum()
    enaf = inter[inter[Col.LAND_COVER] == "enaf"].groupby("uid")["area"].sum()
    share = (enaf.reindex(total.index, fill_value=0) / total).reindex(units.index)
    units[UnitCol.ENAF_SHARE] = share.where(units[UnitCol.ORIGIN] != "friche", 0.0)
    units[UnitCol.IS_FRICHE] = units[UnitCol.ORIGIN] == "friche"
    start = tick("ENAF", start)

    c = t.constraints
    for kinds, col in (
        (FLOOD_KINDS, UnitCol.FLOOD_SHARE),
        (("natura2000",), UnitCol.NATURA2000_SHARE),
    ):
        layer = c[c[Col.KIND].isin(kinds)].dissolve()[["geometry"]]
        inter = gpd.overlay(units[["uid", "geometry"]], layer, how="intersection",
                            keep_geom_type=True)  # fmt: skip
        covered = inter.set_index("uid").area.reindex(units.index, fill_value=0.0)
        units[col] = covered / units.area
    units[UnitCol.COMPLETENESS] = completeness(units)
    tick("contraintes", start)
    return units


def compare(fast: gpd.GeoDataFrame, naive: gpd.GeoDataFrame) -> dict[str, Any]:
    def keyed(u: gpd.GeoDataFrame) -> pd.DataFrame:
        key = u[UnitCol.ORIGIN] + "#" + u[Col.SITE_ID] + "#" + u[UnitCol.IDUS]
        return pd.DataFrame(u.drop(columns="geometry")).set_index(key)

    a, b = keyed(fast), keyed(naive)
    same_units = a.index.is_unique and set(a.index) == set(b.index)
    out: dict[str, Any] = {"units_fast": len(a), "units_naive": len(b), "same_units": same_units}
    if not same_units:
        out["only_fast"] = sorted(set(a.index) - set(b.index))[:5]
        out["only_naive"] = sorted(set(b.index) - set(a.index))[:5]
        return out
    b = b.loc[a.index]
    out["max_area_diff_m2"] = float(
        (a[UnitCol.NET_AREA_HA] - b[UnitCol.NET_AREA_HA]).abs().max() * 1e4
    )
    diffs = {}
    for col in COMPARED:
        x, y = a[col].astype(float).to_numpy(), b[col].astype(float).to_numpy()
        nan_mismatch = int((np.isnan(x) != np.isnan(y)).sum())
        both = ~np.isnan(x) & ~np.isnan(y)
        diffs[col] = (float(np.abs(x[both] - y[both]).max()) if both.any() else 0.0, nan_mismatch)
    out["max_criteria_diff"] = diffs
    text_cols = [Col.INSEE, Col.ZONE_TYPE, Col.OWNER_KIND, Col.SERVICING_STAGE]
    out["text_mismatches"] = int(
        (a[text_cols].astype(str) != b[text_cols].astype(str)).to_numpy().sum()
    )
    out["identical"] = (
        out["max_area_diff_m2"] < 1.0
        and out["text_mismatches"] == 0
        and all(d < 1e-6 and n == 0 for d, n in diffs.values())
    )
    return out


# -- one size, in its own process -----------------------------------------------------
def run_one(n_parcels: int, naive: bool) -> dict[str, Any]:
    start = time.perf_counter()
    # a private DEM folder: the default cache is shared by every sample of the same seed
    dem_dir = tempfile.mkdtemp(prefix=f"bench-supply-{n_parcels}-")
    t = make_sample(n_parcels=n_parcels, seed=0, dem_dir=dem_dir)
    result: dict[str, Any] = {
        "n_parcels": len(t.parcels),
        "sample_s": time.perf_counter() - start,
        "rss_before_mb": peak_mb(),
    }
    gc.collect()
    exact_peak = reset_peak()
    start = time.perf_counter()
    units = land_units(t)
    result["supply_s"] = time.perf_counter() - start
    result["supply_peak_mb"] = peak_mb()
    result["peak_is_step_only"] = exact_peak
    result["stages_s"] = units.attrs["timings"]
    result["units"] = len(units)
    result["candidates"] = units.attrs["candidates"]
    if naive:
        gc.collect()
        reset_peak()
        timings: dict[str, float] = {}
        start = time.perf_counter()
        baseline = naive_land_units(t, timings)
        result["naive_s"] = time.perf_counter() - start
        result["naive_peak_mb"] = peak_mb()
        result["naive_stages_s"] = timings
        result["comparison"] = compare(units, baseline)
    result["process_max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shutil.rmtree(dem_dir, ignore_errors=True)
    return result


def report(r: dict[str, Any]) -> None:
    print(f"\n== {r['n_parcels']:,} parcels: {r['candidates']:,} candidates, {r['units']:,} units")
    print(f"   sample built in {r['sample_s']:.1f} s (not counted)")
    peak = "step" if r["peak_is_step_only"] else "process"
    print(f"   supply step: {r['supply_s']:.2f} s, peak RSS ({peak}) {r['supply_peak_mb']:.0f} MB")
    naive = r.get("naive_stages_s", {})
    for stage, seconds in r["stages_s"].items():
        extra = (
            f"   naive {naive[stage]:8.2f} s  x{naive[stage] / max(seconds, 1e-9):6.1f}"
            if stage in naive
            else ""
        )
        print(f"     {stage:<18} {seconds:8.3f} s{extra}")
    if "naive_s" in r:
        c = r["comparison"]
        print(
            f"   naive baseline: {r['naive_s']:.2f} s, peak RSS {r['naive_peak_mb']:.0f} MB; "
            f"speed-up x{r['naive_s'] / r['supply_s']:.1f}"
        )
        print(f"   same units: {c['same_units']} ({c['units_fast']} vs {c['units_naive']})", end="")
        if c["same_units"]:
            area = c["max_area_diff_m2"]
            print(f", max net-area difference {area:.2e} m², identical: {c['identical']}")
            worst = {k: v for k, v in c["max_criteria_diff"].items() if v[0] > 1e-9 or v[1]}
            print(f"   criteria differences (max abs, NaN mismatches): {worst or 'none'}")
        else:
            print(f"\n   only fast: {c['only_fast']}\n   only naive: {c['only_naive']}")
    print(f"   process max RSS (sample included) {r['process_max_rss_mb']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 200_000])
    parser.add_argument("--naive-max", type=int, default=30_000,
                        help="run the naive baseline on sizes up to this many parcels")  # fmt: skip
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--naive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.naive)))
        return
    results = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n)] + (
            ["--naive"] if n <= args.naive_max else []
        )
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            print(f"size {n} failed:\n{proc.stderr[-3000:]}")
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        report(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
