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

The interpreters read their bytecode from a cache written by one untimed run
(as an installed package has it), even when ``PYTHONDONTWRITEBYTECODE`` is set.

Wall-clock times and CPU times are both printed: on a shared machine the wall
clock mostly measures the neighbours, while CPU time (user + system, the
PostgreSQL server's processes included for the peer) measures the work.

The supply ratio is taken against the peer's load + index alone: its SQL
screening would only add to the peer's time, so the ratio printed is an upper
bound of the ratio to a complete PostGIS supply.  Both sides are checked to
hold the same rows per layer.

Usage::

    python benchmarks/bench_load.py /tmp/t1m /tmp/t200k [--repeat 3] [--baseline /path/to/main]

(``--baseline`` also times ``foncier supply`` of another checkout in the same
turns, and compares its land units with this one's: before/after figures.)

(make the folders once with ``foncier sample --parcels 1000000 /tmp/t1m``).
Targets: load <= 0.75x the peer's load + index, supply <= 0.7x.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyogrio

ROOT = Path(__file__).resolve().parents[1]
#: Bytecode of the timed interpreters (``PYTHONPYCACHEPREFIX``), written by an untimed first run.
PYCACHE = tempfile.mkdtemp(prefix="bench-load-pycache-")
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


def children_cpu() -> float:
    """CPU seconds of this process's finished children (user + system)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def server_cpu(data: Path) -> float:
    """CPU seconds of a PostgreSQL server: postmaster, live processes and finished backends."""
    pid = int((data / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(proc.name) == pid:  # with its finished children (the backends that exited)
            total += sum(int(x) for x in fields[11:15]) / tick
        elif int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass(frozen=True)
class Peer:
    """The PostGIS database: its OGR connection and its data folder."""

    conn: str
    data: Path


@contextmanager
def postgis() -> Iterator[Peer]:
    """A PostGIS database on loopback for the duration of the block."""
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
        yield Peer(f"PG:host=127.0.0.1 port={port} dbname=bench user={PG_USER}", data)
    finally:
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(tmp, ignore_errors=True)


def peer_load(gpkg: Path, peer: Peer) -> tuple[float, float]:
    """``ogr2ogr`` every layer into PostGIS with a GiST index on each; wall and CPU seconds."""
    cpu = children_cpu() + server_cpu(peer.data)
    start = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "PostgreSQL", peer.conn, str(gpkg), "-overwrite",
         "-lco", "SPATIAL_INDEX=GIST", "-lco", "GEOMETRY_NAME=geometry",
         "--config", "PG_USE_COPY", "YES"],
        check=True, capture_output=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    return wall, children_cpu() + server_cpu(peer.data) - cpu


def peer_counts(peer: Peer, layers: list[str]) -> dict[str, int]:
    """Rows of each table in PostGIS, by ``psql``."""
    conn = dict(kv.split("=", 1) for kv in peer.conn.removeprefix("PG:").split())
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


def timed(code: str, *args: str, root: Path = ROOT) -> tuple[float, float, str]:
    """Run Python code in a fresh interpreter on foncier of ``root``: wall, CPU seconds, stdout."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        # bytecode as an installed package has it, kept out of the checkouts
        "PYTHONPYCACHEPREFIX": PYCACHE,
    }
    cpu = children_cpu()
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, env=env
    )
    return time.perf_counter() - start, children_cpu() - cpu, out.stdout


def bench(folder: Path, pg: Peer, repeat: int, baseline: Path | None) -> dict[str, object]:
    gpkg = folder / "territory.gpkg"
    layers = [row[0] for row in pyogrio.list_layers(gpkg) if row[1] is not None]
    peer, load, supply, base = [], [], [], []
    peer_cpu, load_cpu, supply_cpu, base_cpu = [], [], [], []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        out = Path(tmp) / "units.gpkg"
        for root in [ROOT] if baseline is None else [ROOT, baseline]:  # bytecode written once
            timed(LOAD, str(folder), root=root)
            timed(SUPPLY, str(folder), str(Path(tmp) / "warm.gpkg"), root=root)
        for _ in range(repeat):
            wall, cpu = peer_load(gpkg, pg)
            peer.append(wall)
            peer_cpu.append(cpu)
            wall, cpu, stdout = timed(LOAD, str(folder))
            load.append(wall)
            load_cpu.append(cpu)
            counts = json.loads(stdout.strip().splitlines()[-1])
            wall, cpu, _ = timed(SUPPLY, str(folder), str(out))
            supply.append(wall)
            supply_cpu.append(cpu)
            if baseline is not None:  # the same supply by another checkout, in the same turn
                theirs_out = str(Path(tmp) / "base.gpkg")
                wall, cpu, _ = timed(SUPPLY, str(folder), theirs_out, root=baseline)
                base.append(wall)
                base_cpu.append(cpu)
        units = int(pyogrio.read_info(out, layer="land_units")["features"])
        if baseline is not None:
            same_units = pyogrio.read_dataframe(out, layer="land_units").drop(columns="geometry")
            theirs = pyogrio.read_dataframe(Path(tmp) / "base.gpkg", layer="land_units")
            gap = (same_units.select_dtypes("number") - theirs.select_dtypes("number")).abs()
            base_gap = float(gap.max().max()) if len(gap) else 0.0
            base_same = len(same_units) == len(theirs) and same_units["idus"].equals(theirs["idus"])
    in_pg = peer_counts(pg, layers)  # the tables of the last run
    same = all(in_pg[name] == counts.get(name, 0) for name in layers)
    p, lo, su, pc, lc, sc = (
        statistics.median(x) for x in (peer, load, supply, peer_cpu, load_cpu, supply_cpu)
    )
    baseline_figures = (
        {
            "baseline_supply_s": statistics.median(base),
            "baseline_supply_cpu_s": statistics.median(base_cpu),
            "baseline_same_units": base_same,
            "baseline_max_gap": base_gap,
        }
        if baseline is not None
        else {}
    )
    return {
        **baseline_figures,
        "territory": str(folder), "parcels": counts.get("parcels", 0), "units": units,
        "peer_load_index_s": p, "foncier_load_s": lo, "foncier_supply_s": su,
        "load_ratio": lo / p, "supply_ratio": su / p, "same_rows": same,
        "peer_cpu_s": pc, "load_cpu_s": lc, "supply_cpu_s": sc,
        "load_cpu_ratio": lc / pc, "supply_cpu_ratio": sc / pc,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another checkout of foncier whose supply is timed in the same turns (before/after)",
    )
    args = parser.parse_args()
    try:
        with postgis() as pg:
            results = [bench(folder, pg, args.repeat, args.baseline) for folder in args.folders]
    finally:
        shutil.rmtree(PYCACHE, ignore_errors=True)
    print(f"{'parcels':>10} {'PostGIS load+index':>19} {'foncier load':>13} {'ratio':>6} "
          f"{'foncier supply':>15} {'ratio':>6}  same rows")  # fmt: skip
    for r in results:
        print(
            f"{r['parcels']:>10,} {r['peer_load_index_s']:>17.2f} s {r['foncier_load_s']:>11.2f} s "
            f"{r['load_ratio']:>6.2f} {r['foncier_supply_s']:>13.2f} s {r['supply_ratio']:>6.2f}  "
            f"{r['same_rows']}"
        )
    print("\nCPU seconds (user + system; the PostgreSQL server's included for the peer):")
    print(f"{'parcels':>10} {'PostGIS':>9} {'load':>7} {'ratio':>6} {'supply':>7} {'ratio':>6}")
    for r in results:
        print(
            f"{r['parcels']:>10,} {r['peer_cpu_s']:>7.2f} s {r['load_cpu_s']:>5.2f} s "
            f"{r['load_cpu_ratio']:>6.2f} {r['supply_cpu_s']:>5.2f} s {r['supply_cpu_ratio']:>6.2f}"
        )
    if args.baseline is not None:
        print(f"\nsupply of the baseline {args.baseline} (same turns):")
        print(
            f"{'parcels':>10} {'wall':>8} {'ratio':>6} {'CPU':>8} {'ratio':>6}  same units, max gap"
        )
        for r in results:
            bw, bc = r["baseline_supply_s"], r["baseline_supply_cpu_s"]
            print(
                f"{r['parcels']:>10,} {bw:>6.2f} s {bw / r['peer_load_index_s']:>6.2f} "
                f"{bc:>6.2f} s {bc / r['peer_cpu_s']:>6.2f}  {r['baseline_same_units']}, "
                f"{r['baseline_max_gap']:.1e}"
            )
    print("targets: load ratio <= 0.75, supply ratio <= 0.7 (medians of "
          f"{args.repeat} alternated runs)")  # fmt: skip


if __name__ == "__main__":
    main()
