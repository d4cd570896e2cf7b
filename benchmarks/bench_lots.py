"""Benchmark of the lot layout (foncier.lots) against the solve it follows, in the same run.

Two instances:

1. the default sample territory: a scenario end to end; the layout (every
   round of :func:`foncier.lots.place_with_lots`) against the solves;
2. a large synthetic instance: the 1,000 projects of ``bench_matching`` on
   its synthetic units, each unit given a block of square parcels of its net
   area (only the units hosting a project are drawn); one solve, then one
   layout of its assignment.

Printed: time per placed project of the layout, and the layout's time as a
ratio to the solve's (machines differ; the ratio is what to compare).

Run::

    /work/venv/bin/python benchmarks/bench_lots.py [--units 30000] [--projects 1000]

Measured on 2 shared cores (2 Dec 2026, objective jobs): sample, 124 projects placed, layout
2.7 s over 3 solves (22 ms per placed project), 0.07 of the solves' time (two pairs had no lot
and were solved again); large instance, 999 projects on 975 units of 6,213 parcels, layout 3.0 s
(3 ms per project), 0.07 of the solve, every project laid out.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from bench_matching import large_instance

from foncier.lots import lay_out_lots
from foncier.matching import match_projects
from foncier.scenarios import Scenario
from foncier.supply import union_by_label

#: Typical parcel of the synthetic blocks (ha), and the lattice step between units (m).
_PARCEL_HA = 0.4
_STEP_M = 3_000.0


def _line(label: str, placed: int, layout_s: float, solve_s: float, extra: str = "") -> str:
    per = 1e3 * layout_s / max(placed, 1)
    return (
        f"{label:<22} placed {placed:>5} | layout {layout_s:7.2f} s ({per:6.2f} ms/project) | "
        f"solve {solve_s:7.2f} s | layout / solve {layout_s / solve_s:6.3f}{extra}"
    )


def bench_sample() -> None:
    from foncier.sample import make_sample
    from foncier.supply import land_units

    territory = make_sample()
    units = land_units(territory)
    result = Scenario(territory, units=units).run()
    t = result.audit["timings_s"]
    split = int(result.assignments["split"].sum())
    print(
        _line(
            "sample",
            len(result.assignments),
            t["lots"],
            t["match"],
            f" | solves {result.audit['solves']} | lots with a cut parcel {split}",
        )
    )


def _blocks(units: pd.DataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Each unit as a block of near-square parcels of its net area, on a lattice."""
    area_m2 = units["net_area_ha"].to_numpy(float) * 1e4
    n = np.clip(np.round(area_m2 / (_PARCEL_HA * 1e4)), 1, 64).astype(int)
    cols = np.ceil(np.sqrt(n)).astype(int)
    side = np.sqrt(area_m2 / n)
    unit = np.repeat(np.arange(len(units)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    col, row = k % cols[unit], k // cols[unit]
    lattice = int(np.ceil(np.sqrt(len(units))))
    x0 = 700_000 + (np.arange(len(units)) % lattice) * _STEP_M
    y0 = 6_300_000 + (np.arange(len(units)) // lattice) * _STEP_M
    x, y, s = x0[unit] + col * side[unit], y0[unit] + row * side[unit], side[unit]
    geoms = shapely.box(x, y, x + s, y + s)
    idu = np.char.add(np.char.add("P", unit.astype(str)), np.char.add("-", k.astype(str)))
    parcels = gpd.GeoDataFrame(
        {"idu": idu, "owner_kind": "private", "land_cover": "enaf"}, geometry=geoms, crs=2154
    )
    idus = pd.Series(idu).groupby(unit).agg("|".join).to_numpy()
    blocks = gpd.GeoDataFrame(
        units.assign(idus=idus, owner_kind="private"),
        geometry=union_by_label(geoms, unit, len(units)),
        crs=2154,
    )
    return blocks, parcels


def bench_large(n_units: int, n_projects: int, time_limit: float, gap: float) -> None:
    projects, units, remaining, unit_pool = large_instance(n_units, n_projects)
    start = time.perf_counter()
    match = match_projects(
        projects, units, remaining, unit_pool, time_limit=time_limit, mip_rel_gap=gap
    )
    solve_s = time.perf_counter() - start
    hosts = units[units["unit_id"].isin(match.assignments["unit_id"])].reset_index(drop=True)
    blocks, parcels = _blocks(hosts)
    area_max = projects.set_index("project_id")["area_max_ha"]
    placed = match.assignments.assign(
        area_max_ha=area_max.reindex(match.assignments["project_id"]).to_numpy()
    )
    start = time.perf_counter()
    layout = lay_out_lots(placed, blocks, parcels)
    layout_s = time.perf_counter() - start
    extra = (
        f" | units {len(hosts)}, parcels {len(parcels)} | not laid out {len(layout.failed)}"
        f" | lots with a cut parcel {int(layout.lots['split'].sum())}"
    )
    print(_line(f"large ({n_projects} projects)", len(layout.lots), layout_s, solve_s, extra))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=30_000)
    parser.add_argument("--projects", type=int, default=1_000)
    parser.add_argument("--time-limit", type=float, default=110.0)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--skip-sample", action="store_true")
    args = parser.parse_args()
    if not args.skip_sample:
        bench_sample()
    bench_large(args.units, args.projects, args.time_limit, args.gap)


if __name__ == "__main__":
    main()
