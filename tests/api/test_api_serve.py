"""``foncier serve``: options, clean errors, the application handed to uvicorn, its workers."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner

from foncier.cli import main

ROOT = Path(__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances connections on Linux"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_missing_territory_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(tmp_path / "absent")])
    assert result.exit_code == 2
    assert "n'existe pas" in result.output or "does not exist" in result.output
    assert "Traceback" not in result.output


def test_serve_starts_uvicorn(
    api_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv("FONCIER_API_TOKEN", raising=False)
    port = free_port()
    result = CliRunner().invoke(
        main,
        [
            "serve",
            str(api_territory),
            "--port",
            str(port),
            "--state-dir",
            str(tmp_path / "state"),
            "--allow-anonymous-writes",
        ],
    )
    assert result.exit_code == 0, result.output
    ((app, kwargs),) = calls
    assert kwargs == {"host": "127.0.0.1", "port": port}
    settings = app.state.settings
    assert settings.territory == api_territory
    assert settings.allow_anonymous_writes is True
    assert settings.resolved_state_dir == tmp_path / "state"


@linux_only
def test_serve_workers_get_a_socket_each_and_their_settings(
    api_territory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.workers

    seen: list[tuple[list[tuple[str, int]], list[int], int]] = []

    def fake_serve_workers(sockets: list[socket.socket], workers: int, echo: Any) -> None:
        seen.append(
            (
                [s.getsockname() for s in sockets],
                [s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets],
                workers,
            )
        )

    monkeypatch.setattr(api.workers, "serve_workers", fake_serve_workers)
    for name in ("FONCIER_TERRITORY", "FONCIER_STATE_DIR", "FONCIER_ALLOW_ANONYMOUS_WRITES"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    result = CliRunner().invoke(
        main, ["serve", str(api_territory), "--workers", "2", "--port", str(port)]
    )
    assert result.exit_code == 0, result.output
    assert "FONCIER_API_TOKEN" in result.output
    assert seen == [([("127.0.0.1", port)] * 2, [1, 1], 2)]
    assert os.environ["FONCIER_TERRITORY"] == str(api_territory)
    assert os.environ["FONCIER_STATE_DIR"].endswith("territory-state")
    assert os.environ["FONCIER_ALLOW_ANONYMOUS_WRITES"] == "false"
    # the sockets are closed once the workers are done: the port is free again
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_port_in_use_is_a_clean_error(api_territory: Path, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main, ["serve", str(api_territory), "--port", str(port), "--workers", workers]
        )
    assert result.exit_code == 2, result.output
    assert f"Erreur : le port {port} de 127.0.0.1 est déjà utilisé" in result.output
    assert "Chargement" not in result.output  # refused before the territory's load


def test_serve_port_zero_is_refused(api_territory: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(api_territory), "--port", "0"])
    assert result.exit_code == 2
    assert "valeur invalide pour '--port' : 0 est hors de l'intervalle" in result.output


def _start_serve(territory: Path, port: int, state: Path, out: Path) -> subprocess.Popen[bytes]:
    """``foncier serve TERRITORY --workers 2`` in a process of its own, output in ``out``."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from foncier.cli import main; main()",
                "serve",
                str(territory),
                "--workers",
                "2",
                "--port",
                str(port),
                "--state-dir",
                str(state),
                "--allow-anonymous-writes",
            ],  # fmt: skip
            stdout=stdout,
            stderr=stderr,
            env=env,
        )


def _wait_for(out: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while text not in out.read_text(encoding="utf-8"):
        assert proc.poll() is None, out.with_suffix(".err").read_text(encoding="utf-8")
        assert time.monotonic() < deadline, f"no « {text} » in time"
        time.sleep(0.2)


def _workers(proc: subprocess.Popen[bytes]) -> list[Any]:
    children = psutil.Process(proc.pid).children()
    return [c for c in children if "spawn_main" in " ".join(c.cmdline())]


@linux_only
def test_serve_spreads_connections_over_workers_and_stops_them_on_sigterm(
    api_territory: Path, tmp_path: Path
) -> None:
    # which worker holds each connection is read from the kernel's table of each worker's
    # sockets (psutil), not from the service: nothing in its answers says which process served
    port, out = free_port(), tmp_path / "serve.out"
    proc = _start_serve(api_territory, port, tmp_path / "state", out)
    try:
        _wait_for(out, "Prêt : 2 processus serveurs", proc)
        workers = _workers(proc)
        assert len(workers) == 2
        listening = {
            w.pid: [
                os.stat(f"/proc/{w.pid}/fd/{c.fd}").st_ino
                for c in w.net_connections("tcp")
                if c.status == psutil.CONN_LISTEN and c.laddr.port == port
            ]
            for w in workers
        }
        # one listening socket each, not one shared socket
        assert sorted(len(inodes) for inodes in listening.values()) == [1, 1]
        assert len({inode for inodes in listening.values() for inode in inodes}) == 2

        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(40)]
        for connection in connections:
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert response.status == 200 and response.read()
        ports = {c.sock.getsockname()[1] for c in connections}
        served = sorted(
            sum(1 for c in w.net_connections("tcp") if c.raddr and c.raddr.port in ports)
            for w in workers
        )
        # a hash of each connection's ports: fewer than 8 of 40 on a worker is a 1 in 50,000 draw
        assert sum(served) == 40 and served[0] >= 8, served
        for connection in connections:
            connection.close()

        # a worker that dies once serving is started again
        workers[0].kill()
        _wait_for(
            out, f"Le processus serveur {workers[0].pid} s'est arrêté (tué par le signal 9)", proc
        )
        renewed = _workers(proc)
        assert len(renewed) == 2 and workers[0].pid not in {w.pid for w in renewed}

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0
        assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in renewed)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_worker_failing_at_startup_stops_the_service_with_an_error(
    api_territory: Path, tmp_path: Path
) -> None:
    # the workers open the state folder; a file where its parent folder should be stops them
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    out = tmp_path / "serve.out"
    proc = _start_serve(api_territory, free_port(), blocker / "state", out)
    try:
        code = proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    errors = [
        line
        for line in out.with_suffix(".err").read_text(encoding="utf-8").splitlines()
        if line.startswith("Erreur : ")
    ]
    assert code == 2
    assert len(errors) == 1
    assert "s'est arrêté au démarrage (code 3) : service arrêté" in errors[0]
