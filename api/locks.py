"""Kernel file locks shared by the service's worker processes."""

from __future__ import annotations

from typing import IO

try:
    import fcntl
except ImportError:  # Windows: no kernel file locks, see lock_file
    fcntl = None  # type: ignore[assignment]

__all__ = ["lock_file"]


def lock_file(file: IO[bytes], *, shared: bool = False, wait: bool = True) -> bool:
    """Lock an open lock file (``flock``: the kernel releases it when its holder dies).

    Returns ``False`` when ``wait`` is off and another open file holds a
    conflicting lock.  Where the system has no ``fcntl`` (Windows) every lock
    is granted: what it guards must then stay correct without it (the served
    file's atomic rename, SQLite's own locking for the state database).
    """
    if fcntl is None:
        return True
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(file.fileno(), mode)
    except BlockingIOError:
        return False
    return True
