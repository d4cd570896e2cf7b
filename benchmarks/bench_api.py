"""Load benchmark of the foncier service: ``foncier serve`` on loopback, 20 concurrent clients.

Measures throughput and p50/p95 latency of ``POST /match/query`` and
``GET /layers/parcels?bbox=`` on the default sample (``data/sample``, written by
``foncier sample data/sample``), each endpoint for a bounded time.

Usage::

    python benchmarks/bench_api.py [--territory data/sample] [--workers 1] [--clients 20]
                                   [--duration 20] [--ramp 2] [--client asyncio|threads]
                                   [--endpoints all|query|bbox]
                                   [--baseline DIR [--baseline-first] [--rounds N]]

``--baseline DIR`` runs the same load, in the same run, against the service of
another checkout (e.g. the previous version) and prints the ratios.  The
resident memory of each server process (its workers) is read after the load,
and the CPU seconds each worker spent during each endpoint's load ("CPU ms/req",
all workers over every request sent): on a shared machine it depends less on the
neighbours than the latencies do.  ``--rounds N`` measures both checkouts N times,
alternating which goes first, and prints the median ratios.

``--client asyncio`` (the default) runs the clients as tasks of one event loop,
each writing HTTP/1.1 on its own keep-alive connection (about 0.1–0.2 ms of CPU a
request); ``--client threads`` runs one thread with a synchronous httpx client
each (about 1.5 ms a request), which on a 2-core machine takes a larger share of
the cores the server needs (see ``client CPU``).
``--endpoints query`` loads only ``POST /match/query``.  The clients start
one after another over ``--ramp`` seconds before the measured duration (see
:func:`load`).

Targets on a 2-core machine, for the query: p95 <= 50 ms under 20 clients with
2 workers, p50 < 10 ms with one client (``--clients 1``); for the bbox page: p95 <= 50 ms
under 20 clients with 2 workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    territory: Path, state_dir: Path, port: int, workers: int, source: Path = ROOT
) -> subprocess.Popen[bytes]:
    """``foncier serve`` of ``source`` on the territory; its output in ``state_dir/serve.log``.

    uvicorn's access log (one line a request) goes to that file too, for both
    checkouts compared.
    """
    env = {**os.environ, "PYTHONPATH": str(source)}
    cmd = [
        sys.executable, "-c", "from foncier.cli import main; main()",
        "serve", str(territory.resolve()), "--host", "127.0.0.1", "--port", str(port),
        "--state-dir", str(state_dir / "state"), "--workers", str(workers),
    ]  # fmt: skip
    with (state_dir / "serve.log").open("wb") as log:
        return subprocess.Popen(cmd, cwd=source, env=env, stdout=log, stderr=subprocess.STDOUT)


def process_tree_rss(pid: int) -> list[float]:
    """Resident memory (MiB) of a process and its children, largest first (Linux ``/proc``)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    rss = []
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss.append(round(int(line.split()[1]) / 1024, 1))
    return sorted(rss, reverse=True)


def worker_pids(pid: int) -> list[int]:
    """The worker processes of ``foncier serve`` (the server itself when it has none)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(c) for c in children.read_text().split()] if children.exists() else []
    # with --workers, the parent's first child is the multiprocessing resource tracker
    workers = [c for c in found if "resource_tracker" not in _cmdline(c)]
    return workers or [pid]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process so far (Linux ``/proc/PID/stat``)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        out[p] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 600.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise SystemExit(f"server exited with code {proc.returncode}:\n{tail}")
        try:
            r = httpx.get(f"{base}/health", timeout=2.0)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server not ready in time")


def territory_bounds(base: str) -> tuple[float, float, float, float]:
    body = httpx.get(f"{base}/layers/communes?limit=5000", timeout=60).json()
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for sub in c:
                walk(sub)

    for f in body["features"]:
        walk(f["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


Request = Callable[[random.Random], tuple[str, str, dict[str, Any] | None]]


def match_request(rng: random.Random) -> tuple[str, str, dict[str, Any] | None]:
    body: dict[str, Any] = {"area_min_ha": round(rng.uniform(0.3, 8.0), 2), "k": 5}
    if rng.random() < 0.5:
        body["max_slope_pct"] = rng.choice([4, 6, 8, 10])
    if rng.random() < 0.4:
        body["max_dist_interchange_km"] = rng.choice([3, 5, 10])
    if rng.random() < 0.2:
        body["seveso"] = True
    if rng.random() < 0.2:
        body["pool"] = rng.choice(["epci", "scot"])
    return "POST", "/match/query", body


def bbox_request(bounds: tuple[float, float, float, float]) -> Request:
    minx, miny, maxx, maxy = bounds
    w, h = (maxx - minx) / 10, (maxy - miny) / 10

    def make(rng: random.Random) -> tuple[str, str, dict[str, Any] | None]:
        x, y = rng.uniform(minx, maxx - w), rng.uniform(miny, maxy - h)
        return "GET", f"/layers/parcels?bbox={x:.6f},{y:.6f},{x + w:.6f},{y + h:.6f}", None

    return make


class _Tally:
    """Latencies, error codes and feature counts of the requests of a load's window."""

    def __init__(self, window: tuple[float, float]) -> None:
        self.window = window
        self.latencies: list[float] = []
        self.errors: dict[int, int] = {}
        self.features: list[int] = []
        self.sent = 0  # every request, the ramp's too
        self.lock = threading.Lock()

    def add(self, mine: list[tuple[float, float, int, str, bytes]]) -> None:
        with self.lock:
            self.sent += len(mine)
            for started, seconds, status, url, content in mine:
                if started < self.window[0]:
                    continue  # sent during the ramp
                self.latencies.append(seconds)
                if status != 200:
                    self.errors[status] = self.errors.get(status, 0) + 1
                elif url.startswith("/layers"):
                    self.features.append(content.count(b'"Feature"'))


def _threads(base: str, make: Request, clients: int, starts: list[float], tally: _Tally) -> None:
    """``clients`` threads, each with a synchronous client on its own keep-alive connection."""

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        time.sleep(max(0.0, starts[seed] - time.perf_counter()))
        with httpx.Client(base_url=base, timeout=60.0) as http:
            while (t0 := time.perf_counter()) < tally.window[1]:
                method, url, body = make(rng)
                r = http.request(method, url, json=body)
                mine.append((t0, time.perf_counter() - t0, r.status_code, url, r.content))
        tally.add(mine)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))


def _asyncio(base: str, make: Request, clients: int, starts: list[float], tally: _Tally) -> None:
    """``clients`` tasks of one event loop, each on its own keep-alive HTTP/1.1 connection.

    The requests are written and the answers read (status line, headers,
    ``Content-Length`` body) on asyncio streams: ``httpx.AsyncClient`` takes
    more CPU per request than the threads of synchronous clients, this about
    a tenth of it.
    """
    host, port = base.removeprefix("http://").split(":")

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        await asyncio.sleep(max(0.0, starts[seed] - time.perf_counter()))
        reader, writer = await asyncio.open_connection(host, int(port))
        while (t0 := time.perf_counter()) < tally.window[1]:
            method, url, body = make(rng)
            data = b"" if body is None else json.dumps(body).encode()
            head = f"{method} {url} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            writer.write(head.encode() + b"\r\n" + data)
            lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            headers = dict(line.lower().split(b":", 1) for line in lines[1:] if b":" in line)
            content = await reader.readexactly(int(headers[b"content-length"]))
            status = int(lines[0].split()[1])
            mine.append((t0, time.perf_counter() - t0, status, url, content))
        writer.close()
        await writer.wait_closed()
        tally.add(mine)

    async def run() -> None:
        await asyncio.gather(*(worker(seed) for seed in range(clients)))

    asyncio.run(run())


CLIENTS = {"asyncio": _asyncio, "threads": _threads}


def load(
    base: str,
    make: Request,
    clients: int,
    duration: float,
    client: str = "asyncio",
    workers: list[int] | None = None,
    ramp: float = 0.0,
) -> dict[str, Any]:
    """Run ``clients`` concurrent clients in closed loop for ``duration`` s (see :data:`CLIENTS`).

    The clients start one after another over ``ramp`` seconds, each opening
    its connection while the others already load the server, and the
    latencies are those of the ``duration`` s after the ramp: where the
    workers share one listening socket (``uvicorn --workers``, the versions
    of ``foncier serve`` before each worker had its own ``SO_REUSEPORT``
    socket, systems other than Linux), 20 connections opened at once are all
    accepted by the worker that wakes first (an event loop accepts its whole
    backlog), which measures one worker, not the server.  ``workers``: the
    server's worker processes, whose CPU seconds during the load, ramp
    included, are reported (``worker_cpu_s``;
    ``cpu_ms_per_request`` all workers together, over every request sent).
    """
    pids = workers or []
    t_start = time.perf_counter()
    tally = _Tally((t_start + ramp, t_start + ramp + duration))
    starts = [t_start + ramp * i / clients for i in range(clients)]
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    server_start = cpu_seconds(pids)
    CLIENTS[client](base, make, clients, starts, tally)
    elapsed = time.perf_counter() - t_start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    server_end = cpu_seconds(pids)
    client_cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    worker_cpu = [round(server_end[p] - server_start[p], 2) for p in pids]
    lat = np.array(tally.latencies) * 1000
    return {
        "requests": len(lat),
        "seconds": round(duration, 1),
        "throughput_rps": round(len(lat) / duration, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "max_ms": round(float(lat.max()), 1),
        "errors": tally.errors,
        "client": client,
        "client_cpu_cores": round(client_cpu / elapsed, 2),
        "worker_cpu_s": worker_cpu,
        "cpu_ms_per_request": round(sum(worker_cpu) / tally.sent * 1000, 2) if pids else None,
        "mean_features": round(float(np.mean(tally.features)), 1) if tally.features else None,
    }


def measure(args: argparse.Namespace, source: Path) -> dict[str, Any]:
    """Start the service of ``source`` on the territory, load each endpoint, read its memory."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as state:
        t0 = time.perf_counter()
        proc = start_server(args.territory, Path(state), port, args.workers, source)
        try:
            health = wait_ready(base, proc, Path(state) / "serve.log")
            startup = time.perf_counter() - t0
            bounds = territory_bounds(base)
            # warm-up: the inputs of every pool the load asks for, in every worker (each new
            # connection may reach another one), and the first requests
            for pool in ("commune", "epci", "scot"):
                for _ in range(4 * args.workers):
                    body = {"area_min_ha": 1, "pool": pool}
                    httpx.post(f"{base}/match/query", json=body, timeout=120)
            httpx.get(f"{base}/layers/parcels?limit=1", timeout=60)
            workers = worker_pids(proc.pid)
            loads = {
                "query": ("POST /match/query", match_request),
                "bbox": ("GET /layers/parcels?bbox=", bbox_request(bounds)),
            }
            results = {
                loads[e][0]: load(
                    base, loads[e][1], args.clients, args.duration, args.client, workers, args.ramp
                )
                for e in loads
                if args.endpoints in ("all", e)
            }
            rss = process_tree_rss(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {
        "source": str(source),
        "territory": health["territory"],
        "land_units": health["land_units"],
        "startup_s": round(startup, 1),
        "rss_mib": rss,
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--territory", type=Path, default=Path("data/sample"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per endpoint")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (foncier serve --workers)"
    )
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="asyncio",
        help="load generator: tasks of one event loop, or one thread per client",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=2.0,
        help="seconds over which the clients start, before the measured duration",
    )
    parser.add_argument(
        "--endpoints", choices=["all", "query", "bbox"], default="all", help="endpoints loaded"
    )
    parser.add_argument(
        "--baseline", type=Path, default=None, help="another checkout, measured in the same run"
    )
    parser.add_argument(
        "--baseline-first", action="store_true", help="measure the baseline before this checkout"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --baseline: measure both checkouts this many times, alternating which goes "
        "first, and print the median ratios",
    )
    args = parser.parse_args()

    rounds = []
    for i in range(args.rounds if args.baseline is not None else 1):
        if args.baseline is None:
            rounds.append([measure(args, ROOT)])
        elif args.baseline_first != (i % 2 == 1):
            old = measure(args, args.baseline.resolve())
            rounds.append([measure(args, ROOT), old])
        else:
            rounds.append([measure(args, ROOT), measure(args, args.baseline.resolve())])
    report = {
        "clients": args.clients,
        "client": args.client,
        "workers": args.workers,
        "duration_s": args.duration,
        "ramp_s": args.ramp,
        "cpus": os.cpu_count(),
        "runs": rounds[0],
        "rounds": rounds,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    ratios: dict[str, list[list[float]]] = {}
    for runs in rounds:
        _print_runs(args, runs, int(report["cpus"] or 0))
        if len(runs) == 2:
            new, old = runs
            for name, r in new["results"].items():
                b = old["results"][name]
                ratios.setdefault(name, []).append(
                    [
                        r[k] / b[k]
                        for k in ("p50_ms", "p95_ms", "throughput_rps", "cpu_ms_per_request")
                    ]
                )
    if len(rounds) > 1:
        for name, values in ratios.items():
            p50, p95, rps, cpu = np.median(values, axis=0)
            print(
                f"{name}, median of {len(values)} rounds: p50 {p50:.2f}x, p95 {p95:.2f}x, "
                f"throughput {rps:.2f}x, server CPU a request {cpu:.2f}x the baseline"
            )


def _print_runs(args: argparse.Namespace, runs: list[dict[str, Any]], cpus: int) -> None:
    """Print one round: each checkout's figures, the targets met and the ratios."""
    for run in runs:
        print(
            f"{run['source']}: {run['territory']} — {run['land_units']} land units; server "
            f"ready in {run['startup_s']} s; {args.workers} workers, {args.clients} "
            f"{args.client} clients started over {args.ramp:g} s, {args.duration:g} s per "
            f"endpoint, {cpus} CPUs; "
            f"resident memory {' + '.join(f'{m:g}' for m in run['rss_mib'])} MiB"
        )
        print(
            f"{'endpoint':<28}{'req':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
            f"{'client CPU':>11}{'worker CPU s':>16}{'CPU ms/req':>11}  errors"
        )
        for name, r in run["results"].items():
            cpu = "+".join(f"{c:g}" for c in r["worker_cpu_s"])
            print(
                f"{name:<28}{r['requests']:>7}{r['throughput_rps']:>8}{r['p50_ms']:>9}"
                f"{r['p95_ms']:>9}{r['max_ms']:>9}{r['client_cpu_cores']:>11}{cpu:>16}"
                f"{r['cpu_ms_per_request']:>11}  {r['errors'] or '-'}"
            )
    stat, target = ("p50_ms", 10.0) if args.clients == 1 else ("p95_ms", 50.0)
    for name, r in runs[0]["results"].items():
        verdict = "meets" if r[stat] <= target else "MISSES"
        print(f"{name}: {stat[:3]} {r[stat]} ms, {verdict} the {target:g} ms target")
    if len(runs) == 2:
        new, old = runs
        for name, r in new["results"].items():
            b = old["results"][name]
            print(
                f"{name}: p50 {r['p50_ms'] / b['p50_ms']:.2f}x, "
                f"p95 {r['p95_ms'] / b['p95_ms']:.2f}x, "
                f"throughput {r['throughput_rps'] / b['throughput_rps']:.2f}x, "
                f"server CPU a request {r['cpu_ms_per_request'] / b['cpu_ms_per_request']:.2f}x "
                "the baseline"
            )
        print(
            f"largest process {new['rss_mib'][0] / old['rss_mib'][0]:.2f}x the baseline's "
            "resident memory"
        )


if __name__ == "__main__":
    main()
