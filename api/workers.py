"""The worker processes of ``foncier serve --workers N``, each with its own listening socket.

uvicorn's multiprocess mode hands one listening socket to all its workers:
the worker whose event loop wakes first accepts most of the pending
connections, and keep-alive clients stay on it for their whole session.  On
Linux each worker here gets its own socket, bound with ``SO_REUSEPORT`` to
the same address, and the kernel spreads the new connections over the
listening sockets (by a hash of each connection's addresses and ports).
Where ``SO_REUSEPORT`` does not balance connections (not Linux), the
workers share one socket, as with ``uvicorn --workers``.

The sockets are bound by the supervising process, before the workers load
the territory; each worker is a ``uvicorn.Server`` serving ``api.app:app``
(settings from the ``FONCIER_*`` environment variables) on its socket.  A
worker that stops after it started serving is started again on the same
socket (the connections the kernel queued on it meanwhile wait for it); a
worker that stops before it served stops the service with an error.
"""

from __future__ import annotations

import errno
import multiprocessing
import signal
import socket
import sys
import threading
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType

import uvicorn

from foncier.errors import FoncierError

__all__ = ["ListenError", "WorkerStartError", "bind_sockets", "check_port", "serve_workers"]

#: The import string of the application every worker serves.
APP = "api.app:app"

_spawn = multiprocessing.get_context("spawn")


class ListenError(FoncierError, OSError):
    """The service cannot listen on the address asked for (port taken, no right, bad host)."""


class WorkerStartError(FoncierError, RuntimeError):
    """A worker process stopped before it served its first connection."""


def reuse_port_balances() -> bool:
    """Whether ``SO_REUSEPORT`` spreads connections over the sockets (Linux only)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _new_socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def _bind(sock: socket.socket, host: str, port: int) -> None:
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(
                f"le port {port} de {host} est déjà utilisé par un autre programme : "
                "arrêtez-le ou choisissez un autre port avec --port"
            ) from exc
        if exc.errno == errno.EACCES:
            raise ListenError(
                f"pas le droit d'écouter sur le port {port} de {host} (les ports sous 1024 "
                "sont réservés à l'administrateur) : choisissez un autre port avec --port"
            ) from exc
        reason = exc.strerror or str(exc)
        raise ListenError(
            f"impossible d'écouter sur {host}:{port} ({reason}) : vérifiez --host et --port"
        ) from exc


def check_port(host: str, port: int) -> None:
    """Check that ``host:port`` is free to listen on, as uvicorn binds it.

    Raises
    ------
    ListenError
        The port is taken (by any program, a ``SO_REUSEPORT`` group
        included), reserved, or the host is not an address of this machine.
    """
    with _new_socket(host) as probe:
        _bind(probe, host, port)


def bind_sockets(host: str, port: int, workers: int) -> list[socket.socket]:
    """The listening sockets of ``workers`` processes, bound and not listening yet.

    On Linux, ``workers`` sockets bound to ``host:port`` with
    ``SO_REUSEPORT``, one per worker; elsewhere one socket the workers share.
    The port is checked first without ``SO_REUSEPORT``
    (:func:`check_port`): a service already listening with it would
    otherwise accept the new sockets into its group and share its
    connections with them.

    Raises
    ------
    ListenError
        See :func:`check_port`.
    """
    check_port(host, port)
    if not reuse_port_balances():
        sock = _new_socket(host)
        _bind(sock, host, port)
        sock.set_inheritable(True)
        return [sock]
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sock = _new_socket(host)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            _bind(sock, host, port)
            sock.set_inheritable(True)
            sockets.append(sock)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class _WorkerServer(uvicorn.Server):
    """A uvicorn server that sets ``ready`` once it listens and its application started."""

    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then tell the supervisor."""
        await super().startup(sockets=sockets)
        if self.started:
            self.ready.set()


def _run_worker(sock: socket.socket, workers: int, ready: Event) -> None:
    """Body of a worker process: serve :data:`APP` on ``sock`` until SIGINT or SIGTERM."""
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(APP, host=host, port=port, workers=workers)
    _WorkerServer(config, ready).run(sockets=[sock])


class _Worker:
    """One worker process on its socket, and whether it started serving."""

    def __init__(self, sock: socket.socket, workers: int) -> None:
        self.ready = _spawn.Event()
        self.process: SpawnProcess = _spawn.Process(
            target=_run_worker, args=(sock, workers, self.ready), name="foncier-worker"
        )
        self.process.start()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None  # started in __init__
        return self.process.pid


def _ended(code: int | None) -> str:
    return f"tué par le signal {-code}" if code is not None and code < 0 else f"code {code}"


def serve_workers(sockets: list[socket.socket], workers: int, echo: Callable[[str], None]) -> None:
    """Run ``workers`` uvicorn processes on ``sockets`` until SIGINT or SIGTERM.

    Parameters
    ----------
    sockets
        From :func:`bind_sockets`: one per worker, or one they share.
    workers
        Worker processes.
    echo
        Writes a French line for the person running the service.

    Raises
    ------
    WorkerStartError
        A worker stopped before it started serving (its cause is in the
        worker's log); the other workers are stopped first.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, on_signal) for sig in handled}
    slots: list[_Worker] = []
    try:
        slots = [_Worker(sockets[i % len(sockets)], workers) for i in range(workers)]
        announced = False
        while not stop.wait(0.2):
            for i, worker in enumerate(slots):
                if worker.process.is_alive() or stop.is_set():
                    continue
                code = worker.process.exitcode
                if not worker.ready.is_set():
                    raise WorkerStartError(
                        f"le processus serveur {worker.pid} s'est arrêté au démarrage "
                        f"({_ended(code)}) : service arrêté, la cause est dans le journal "
                        "ci-dessus"
                    )
                slots[i] = _Worker(sockets[i % len(sockets)], workers)
                echo(
                    f"Le processus serveur {worker.pid} s'est arrêté ({_ended(code)}) : "
                    f"relancé ({slots[i].pid})."
                )
            if not announced and all(worker.ready.is_set() for worker in slots):
                announced = True
                sharing = (
                    "une socket d'écoute chacun (SO_REUSEPORT)"
                    if len(sockets) == workers
                    else "une socket d'écoute partagée"
                )
                pids = ", ".join(str(worker.pid) for worker in slots)
                echo(f"Prêt : {workers} processus serveurs ({pids}), {sharing}.")
    finally:
        for worker in slots:
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for worker in slots:
            worker.process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
