"""Load benchmark of the foncier service: a real uvicorn server on loopback, 20 concurrent clients.

Measures throughput and p50/p95 latency of ``POST /match/query`` and
``GET /layers/parcels?bbox=`` on the default sample (``data/sample``,
generated when missing), each endpoint for a bounded time.

Usage::

    python benchmarks/bench_api.py [--territory data/sample] [--workers 1] [--clients 20]
                                   [--duration 20] [--baseline DIR [--baseline-first]]
                                   [--endpoints all|query|bbox] [--client threads|raw]
                                   [--rounds N]

``--baseline DIR`` runs the same load, in the same run, against the service of
another checkout (e.g. the previous version) and prints the ratios.  The
resident memory of each server process (its workers) is read after the load, and
the CPU time the server's processes used per request during it ("server ms"): on a
shared machine it depends less on the neighbours than the latencies do.

Targets on a 2-core machine, for the query: p95 <= 50 ms under 20 clients with
2 workers, p50 < 10 ms with one client (``--clients 1``); for the bbox page: p95 <= 50 ms
under 20 clients with 2 workers.  ``--client raw`` generates the load with ~0.1 ms of CPU
a request instead of ~1 ms, leaving the shared cores to the server.
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
    env = {
        **os.environ,
        "FONCIER_TERRITORY": str(territory.resolve()),
        "FONCIER_STATE_DIR": str(state_dir),
        "PYTHONPATH": str(source),
    }
    cmd = [
        sys.executable, "-m", "uvicorn", "api.app:app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        "--workers", str(workers),
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=source, env=env)


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


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (Linux ``/proc``)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 600.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with code {proc.returncode}")
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


def load(base: str, make: Request, clients: int, duration: float) -> dict[str, Any]:
    """Run ``clients`` threads, each with its own keep-alive connection, for ``duration`` s.

    Threads with synchronous httpx clients load the generator's CPU less than
    an asyncio client, which matters on a 2-core machine shared with the server.
    """
    latencies: list[float] = []
    errors: dict[int, int] = {}
    features: list[int] = []
    lock = threading.Lock()
    stop = time.perf_counter() + duration

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        with httpx.Client(base_url=base, timeout=60.0) as http:
            while time.perf_counter() < stop:
                method, url, body = make(rng)
                t0 = time.perf_counter()
                r = http.request(method, url, json=body)
                content = r.content
                mine.append(time.perf_counter() - t0)
                with lock:
                    if r.status_code != 200:
                        errors[r.status_code] = errors.get(r.status_code, 0) + 1
                    elif url.startswith("/layers"):
                        features.append(content.count(b'"Feature"'))
        with lock:
            latencies.extend(mine)

    t_start = time.perf_counter()
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - t_start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    lat = np.array(latencies) * 1000
    return {
        "requests": len(lat),
        "seconds": round(elapsed, 1),
        "throughput_rps": round(len(lat) / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "max_ms": round(float(lat.max()), 1),
        "errors": errors,
        "client_cpu_cores": round(client_cpu / elapsed, 2),
        "mean_features": round(float(np.mean(features)), 1) if features else None,
    }


async def _raw_clients(
    base: str, make: Request, clients: int, duration: float
) -> tuple[list[float], dict[int, int], list[int]]:
    """The closed loop of :func:`load` on raw HTTP/1.1 keep-alive connections, one event loop."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors: dict[int, int] = {}
    features: list[int] = []
    stop = time.perf_counter() + duration

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < stop:
            method, url, body = make(rng)
            data = b"" if body is None else json.dumps(body).encode()
            head = f"{method} {url} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            t0 = time.perf_counter()
            writer.write(head.encode() + b"\r\n" + data)
            lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            status = int(lines[0].split()[1])
            fields = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
            length = int({k.lower(): v for k, v in fields.items()}[b"content-length"])
            content = await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors[status] = errors.get(status, 0) + 1
            elif url.startswith("/layers"):
                features.append(content.count(b'"Feature"'))
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(worker(seed) for seed in range(clients)))
    return latencies, errors, features


def load_raw(base: str, make: Request, clients: int, duration: float) -> dict[str, Any]:
    """:func:`load` with a lighter generator: raw HTTP/1.1 in asyncio, ~0.1 ms of CPU a request.

    The threads of httpx clients take about 1 ms of CPU per request (its
    ``AsyncClient`` about 2 ms), taken from the cores the server shares;
    these clients only write the request and read the status, headers and
    body (``Content-Length``).
    """
    t_start = time.perf_counter()
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    latencies, errors, features = asyncio.run(_raw_clients(base, make, clients, duration))
    elapsed = time.perf_counter() - t_start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    lat = np.array(latencies) * 1000
    return {
        "requests": len(lat),
        "seconds": round(elapsed, 1),
        "throughput_rps": round(len(lat) / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "max_ms": round(float(lat.max()), 1),
        "errors": errors,
        "client_cpu_cores": round(client_cpu / elapsed, 2),
        "mean_features": round(float(np.mean(features)), 1) if features else None,
    }


def measure(args: argparse.Namespace, source: Path) -> dict[str, Any]:
    """Start the service of ``source`` on the territory, load each endpoint, read its memory."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as state:
        t0 = time.perf_counter()
        proc = start_server(args.territory, Path(state), port, args.workers, source)
        try:
            health = wait_ready(base, proc)
            startup = time.perf_counter() - t0
            bounds = territory_bounds(base)
            # warm-up: the inputs of every pool the load asks for, in every worker (each new
            # connection may reach another one), and the first requests
            for pool in ("commune", "epci", "scot"):
                for _ in range(4 * args.workers):
                    body = {"area_min_ha": 1, "pool": pool}
                    httpx.post(f"{base}/match/query", json=body, timeout=120)
            httpx.get(f"{base}/layers/parcels?limit=1", timeout=60)
            generator = load if args.client == "threads" else load_raw

            def run(make: Request) -> dict[str, Any]:
                cpu = process_tree_cpu(proc.pid)
                result = generator(base, make, args.clients, args.duration)
                used = process_tree_cpu(proc.pid) - cpu
                return {**result, "server_cpu_ms": round(used / result["requests"] * 1000, 2)}

            results = {}
            if args.endpoints in ("all", "query"):
                results["POST /match/query"] = run(match_request)
            if args.endpoints in ("all", "bbox"):
                results["GET /layers/parcels?bbox="] = run(bbox_request(bounds))
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
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="another checkout, measured in the same run"
    )
    parser.add_argument(
        "--baseline-first", action="store_true", help="measure the baseline before this checkout"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--endpoints", choices=["all", "query", "bbox"], default="all", help="endpoints loaded"
    )
    parser.add_argument(
        "--client",
        choices=["threads", "raw"],
        default="threads",
        help="load generator: threads of httpx clients, or raw HTTP/1.1 in one event loop",
    )
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
        "workers": args.workers,
        "duration_s": args.duration,
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
                    [r[k] / b[k] for k in ("p50_ms", "p95_ms", "throughput_rps", "server_cpu_ms")]
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
            f"ready in {run['startup_s']} s; {args.workers} workers, {args.clients} clients, "
            f"{args.duration:g} s per endpoint, {cpus} CPUs; resident memory "
            f"{' + '.join(f'{m:g}' for m in run['rss_mib'])} MiB"
        )
        print(
            f"{'endpoint':<28}{'req':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
            f"{'client CPU':>11}{'server ms':>10}  errors"
        )
        for name, r in run["results"].items():
            print(
                f"{name:<28}{r['requests']:>7}{r['throughput_rps']:>8}{r['p50_ms']:>9}"
                f"{r['p95_ms']:>9}{r['max_ms']:>9}{r['client_cpu_cores']:>11}"
                f"{r['server_cpu_ms']:>10}  "
                f"{r['errors'] or '-'}"
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
                f"server CPU a request {r['server_cpu_ms'] / b['server_cpu_ms']:.2f}x the baseline"
            )
        print(
            f"largest process {new['rss_mib'][0] / old['rss_mib'][0]:.2f}x the baseline's "
            "resident memory"
        )


if __name__ == "__main__":
    main()
