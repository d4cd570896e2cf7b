"""Load and ``foncier supply`` end to end against a PostGIS peer loading the same file.

A throw-away PostgreSQL cluster (Debian's ``postgresql-15-postgis-3``) is
started on loopback in a temporary folder and stopped at the end.  On each
territory folder, in turns (A, B, A, B, … so that both see the same load on a
shared machine):

- PostGIS: ``ogr2ogr`` of every layer of ``territory.gpkg`` into PostGIS, with
  its GiST index on each (the peer's load + index);
- foncier load: ``Territory.from_folder`` in a fresh interpreter (imports
  included): read, validate, check;
- foncier supply: ``foncier supply`` in a fresh interpreter (load + validate +
  screen + write the GeoPackage of land units).

The supply ratio is taken against the peer's load + index alone: its SQL
screening would only add to the peer's time, so the ratio printed is an upper
bound of the ratio to a complete PostGIS supply.  Both sides are checked to
hold the same rows per layer.

Usage::

    python benchmarks/bench_load.py /tmp/t1m /tmp/t200k [--repeat 3]

(make the folders once with ``foncier sample --parcels 1000000 /tmp/t1m``).
Targets: load <= 0.75x the peer's load + index, supply <= 0.7x.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyogrio

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"
LOAD = (
    "import json, sys\n"
    "from foncier.territory import Territory\n"
    "t = Territory.from_folder(sys.argv[1])\n"
    "print(json.dumps({k: len(v) for k, v in t.layers.items()}))\n"
)
SUPPLY = (
    "import sys\nfrom foncier.cli import main\n"
    "main(['supply', sys.argv[1], '-o', sys.argv[2], '--force'], prog_name='foncier')\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def as_postgres(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool as the ``postgres`` user when we are root (initdb refuses root)."""
    prefix = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


@contextmanager
def postgis() -> Iterator[str]:
    """A PostGIS database on loopback for the duration of the block; its OGR connection."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-postgis-"))
    data = tmp / "data"
    if os.geteuid() == 0:
        shutil.chown(tmp, PG_USER, PG_USER)
    port = free_port()
    as_postgres(
        [str(PG_BIN / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8"]
    )
    opts = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off -c synchronous_commit=off"
    )
    as_postgres(
        [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(tmp / "log"), "start"]
    )
    try:
        psql = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, "-v", "ON_ERROR_STOP=1"]
        subprocess.run([*psql, "-c", "CREATE DATABASE bench"], check=True, capture_output=True)
        subprocess.run(
            [*psql, "-d", "bench", "-c", "CREATE EXTENSION postgis"],
            check=True,
            capture_output=True,
        )
        yield f"PG:host=127.0.0.1 port={port} dbname=bench user={PG_USER}"
    finally:
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(tmp, ignore_errors=True)


def peer_load(gpkg: Path, pg: str) -> float:
    """``ogr2ogr`` every layer into PostGIS with a GiST index on each (the default)."""
    start = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "PostgreSQL", pg, str(gpkg), "-overwrite", "-lco", "SPATIAL_INDEX=GIST",
         "-lco", "GEOMETRY_NAME=geometry", "--config", "PG_USE_COPY", "YES"],
        check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - start


def peer_counts(pg: str, layers: list[str]) -> dict[str, int]:
    """Rows of each table in PostGIS, by ``psql``."""
    conn = dict(kv.split("=", 1) for kv in pg.removeprefix("PG:").split())
    psql = [
        "psql",
        "-h",
        conn["host"],
        "-p",
        conn["port"],
        "-U",
        conn["user"],
        "-d",
        conn["dbname"],
    ]
    counts = {}
    for name in layers:
        out = subprocess.run(
            [*psql, "-At", "-c", f'SELECT count(*) FROM "{name}"'],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        counts[name] = int(out.stdout.strip())
    return counts


def timed(code: str, *args: str) -> tuple[float, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, env=env
    )
    return time.perf_counter() - start, out.stdout


def bench(folder: Path, pg: str, repeat: int) -> dict[str, object]:
    gpkg = folder / "territory.gpkg"
    layers = [row[0] for row in pyogrio.list_layers(gpkg) if row[1] is not None]
    peer, load, supply = [], [], []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        out = Path(tmp) / "units.gpkg"
        for _ in range(repeat):
            peer.append(peer_load(gpkg, pg))
            seconds, stdout = timed(LOAD, str(folder))
            load.append(seconds)
            counts = json.loads(stdout.strip().splitlines()[-1])
            supply.append(timed(SUPPLY, str(folder), str(out))[0])
        units = int(pyogrio.read_info(out, layer="land_units")["features"])
    in_pg = peer_counts(pg, layers)  # the tables of the last run
    same = all(in_pg[name] == counts.get(name, 0) for name in layers)
    p, lo, su = (statistics.median(x) for x in (peer, load, supply))
    return {
        "territory": str(folder), "parcels": counts.get("parcels", 0), "units": units,
        "peer_load_index_s": p, "foncier_load_s": lo, "foncier_supply_s": su,
        "load_ratio": lo / p, "supply_ratio": su / p, "same_rows": same,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with postgis() as pg:
        results = [bench(folder, pg, args.repeat) for folder in args.folders]
    print(f"{'parcels':>10} {'PostGIS load+index':>19} {'foncier load':>13} {'ratio':>6} "
          f"{'foncier supply':>15} {'ratio':>6}  same rows")  # fmt: skip
    for r in results:
        print(
            f"{r['parcels']:>10,} {r['peer_load_index_s']:>17.2f} s {r['foncier_load_s']:>11.2f} s "
            f"{r['load_ratio']:>6.2f} {r['foncier_supply_s']:>13.2f} s {r['supply_ratio']:>6.2f}  "
            f"{r['same_rows']}"
        )
    print("targets: load ratio <= 0.75, supply ratio <= 0.7 (medians of "
          f"{args.repeat} alternated runs)")  # fmt: skip


if __name__ == "__main__":
    main()
