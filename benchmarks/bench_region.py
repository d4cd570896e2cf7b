"""Région scale: peak memory and time of the supply, read whole or by batches, and partitioned.

On each territory folder, in a fresh interpreter each (imports included):

- in memory: ``Territory.from_folder`` then ``land_units`` (every parcel held);
- by batches: ``read_supply_territory`` (Arrow batches, only the parcels the
  supply needs kept) then ``land_units``;
- partitioned (``--partitioned``): the parcels written as GeoParquet
  partitioned by département, then ``partitioned_land_units`` on a local Dask
  cluster (2 workers, 1 thread each, in the same process so that its peak
  memory is measured as one).

Peak memory is each child's maximum resident set (``os.wait4``); times are
wall clock.  Both sides are checked to find the same units (a digest of their
parcels, areas and criteria).  The per-parcel memory is fitted on the folders
given and extrapolated linearly to 10 M parcels (a région).

With ``--region DIR``, a synthetic région is written first
(:func:`foncier.region_sample.write_region_sample`: ``--departements K``
départements of ``--parcels-each N`` parcels side by side, appended one at a
time), in a fresh interpreter whose time and peak memory are printed, and
measured with the folders given.  ``--no-memory`` leaves out the in-memory
side (≈10 GiB at 10 M parcels); the by-batches side is then the reference.

Usage::

    python benchmarks/bench_region.py /tmp/t1m /tmp/t3m [--partitioned]
    python benchmarks/bench_region.py --region /data/region --departements 4 \
        --parcels-each 2500000 --no-memory --partitioned

(make the folders with ``foncier sample --parcels 1000000 /tmp/t1m``, and
``write_sample("/tmp/t3m", 3_000_000)`` from Python beyond 1 M).
Target: a 10 M-parcel région screened within 8 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024**3
REGION = 10_000_000

RUN = """
import hashlib, json, sys, time
import numpy as np
start = time.perf_counter()
mode, folder, scratch = sys.argv[1], sys.argv[2], sys.argv[3]
from foncier.supply import land_units
if mode == "memory":
    from foncier.territory import Territory
    territory = Territory.from_folder(folder)
    units = land_units(territory)
    parcels = len(territory.parcels)
elif mode == "batches":
    from foncier.partitioned import read_supply_territory
    territory = read_supply_territory(folder)
    units = land_units(territory)
    parcels = territory.metadata["parcels_kept"]
else:
    from distributed import Client, LocalCluster
    from foncier.partitioned import partitioned_land_units, write_partitioned_parcels
    write_partitioned_parcels(folder, scratch)
    written = time.perf_counter() - start
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster, \\
            Client(cluster):
        units, _ = partitioned_land_units(folder, scratch)
    parcels = written
rows = sorted(
    zip(units["origin"], units["site_id"], units["idus"],
        np.round(units["net_area_ha"], 6), np.round(units["enaf_share"].fillna(-1), 6),
        np.round(units["slope_mean_pct"].fillna(-1), 4))
)
digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
print(json.dumps({"units": len(units), "digest": digest, "parcels": parcels,
                  "seconds": time.perf_counter() - start}))
"""

WRITE = """
import json, sys, time
start = time.perf_counter()
from foncier.region_sample import write_region_sample
write_region_sample(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), force=True)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; its JSON result with its peak RSS in bytes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak"] = usage.ru_maxrss * 1024  # kilobytes on Linux
    result["cpu"] = usage.ru_utime + usage.ru_stime
    return result


def run(mode: str, folder: Path) -> dict:
    """Run one mode in a fresh interpreter; its result with its peak RSS in bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        return child(RUN, mode, str(folder), str(Path(tmp) / "parts"))


def n_parcels(folder: Path) -> int:
    """Parcels of a territory folder (GeoPackage feature count)."""
    import pyogrio

    return int(pyogrio.read_info(folder / "territory.gpkg", layer="parcels")["features"])


def main() -> None:
    """Measure every folder given; print the figures and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--partitioned", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="leave out the in-memory side")
    parser.add_argument("--region", type=Path, help="write a synthetic région here first")
    parser.add_argument("--departements", type=int, default=4)
    parser.add_argument("--parcels-each", type=int, default=2_500_000)
    args = parser.parse_args()
    folders = list(args.folders)
    if args.region is not None:
        written = child(
            WRITE, "write", str(args.region), str(args.departements), str(args.parcels_each)
        )
        print(
            f"{args.region}: {args.departements} départements of {args.parcels_each:,} parcels "
            f"written in {written['seconds']:.0f} s ({written['cpu']:.0f} CPU s), "
            f"peak {written['peak'] / GIB:.2f} GiB"
        )
        folders.append(args.region)
    modes = ["batches"] if args.no_memory else ["memory", "batches"]
    sizes: list[int] = []
    peaks: dict[str, list[int]] = {mode: [] for mode in modes}
    for folder in folders:
        n = n_parcels(folder)
        sizes.append(n)
        results = {mode: run(mode, folder) for mode in modes}
        if args.partitioned:
            results["partitioned"] = run("partitioned", folder)
        ref, bat = results[modes[0]], results["batches"]
        for mode in peaks:
            peaks[mode].append(results[mode]["peak"])
        print(f"\n{folder}: {n:,} parcels, {bat['parcels']:,} kept by the batch reader")
        for mode, r in results.items():
            print(
                f"  {mode:<12} {r['seconds']:7.1f} s ({r['cpu']:6.1f} CPU s)  "
                f"peak {r['peak'] / GIB:6.2f} GiB  {r['units']} units  digest {r['digest']}"
            )
        same = {r["digest"] for r in results.values()} == {ref["digest"]}
        print(f"  same units: {'yes' if same else 'NO'}")
        if ref is not bat:
            print(
                f"  batches / memory: time {bat['seconds'] / ref['seconds']:.2f}x, "
                f"peak {bat['peak'] / ref['peak']:.2f}x"
            )
        if args.partitioned:
            part = results["partitioned"]
            print(
                f"  partitioned / {modes[0]}: time {part['seconds'] / ref['seconds']:.2f}x "
                f"(of which {part['parcels']:.1f} s writing the GeoParquet), "
                f"peak {part['peak'] / ref['peak']:.2f}x"
            )
    if len(sizes) > 1:
        print(f"\nLinear fit of the peak memory, extrapolated to {REGION:,} parcels:")
        for mode, values in peaks.items():
            slope = (values[-1] - values[0]) / (sizes[-1] - sizes[0])
            base = values[0] - slope * sizes[0]
            print(
                f"  {mode:<8} {slope:8.0f} bytes per parcel + {base / GIB:.2f} GiB -> "
                f"{(base + slope * REGION) / GIB:.2f} GiB at {REGION:,} parcels"
            )
        if not args.no_memory:
            m, b = peaks["memory"], peaks["batches"]
            print(f"  per-parcel slope, batches / memory: {(b[-1] - b[0]) / (m[-1] - m[0]):.3f}x")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
