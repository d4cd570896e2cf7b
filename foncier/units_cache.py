"""Land units cached against the hash of their inputs.

The supply of a territory folder depends only on its files, on the supply
parameters and on the version of foncier: :func:`folder_land_units` keys the
units by the SHA-256 of all three and keeps them as GeoParquet in the user's
cache folder (``$FONCIER_CACHE_DIR``, else ``$XDG_CACHE_HOME/foncier``, else
``~/.cache/foncier``), never in the territory folder.  Any change of a file
changes the key, so a stale entry is never read; an unreadable entry is
computed again, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq

from foncier.errors import FoncierWarning
from foncier.outputs import atomic_write, write_errors

__all__ = [
    "CACHE_ENV",
    "UnitsCacheWarning",
    "cache_folder",
    "file_digests",
    "folder_land_units",
    "units_key",
]

#: Environment variable naming the cache folder.
CACHE_ENV = "FONCIER_CACHE_DIR"
_ATTRS_KEY = b"foncier_attrs"


class UnitsCacheWarning(FoncierWarning):
    """The cache of land units could not be read or written (they are computed anyway)."""


def cache_folder() -> Path:
    """Folder of the cached land units.

    Returns
    -------
    pathlib.Path
        ``$FONCIER_CACHE_DIR``, else ``$XDG_CACHE_HOME/foncier``, else
        ``~/.cache/foncier``, followed by ``land_units``.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / "land_units"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "foncier" / "land_units"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _identity(path: Path) -> list[int]:
    """Size, inode and modification and change times (ns) of a file: what a write changes."""
    st = path.stat()
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def _stamp_path(folder: Path) -> Path:
    """Stamp file of a territory folder's digests, in the cache folder (keyed by its path)."""
    name = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()
    return cache_folder().parent / "digests" / f"{name}.json"


def _digests(folder: Path, files: list[Path]) -> dict[str, str]:
    """SHA-256 of each file, read back from the folder's stamp while its identity is unchanged.

    A file whose size, inode, modification or change time differ from the
    stamp's is hashed again (and the stamp rewritten): at a million parcels
    a lookup costs a few ``stat`` calls instead of reading the GeoPackage.
    """
    stamp = _stamp_path(folder)
    try:
        known = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    record: dict[str, dict[str, Any]] = {}
    for p in files:
        identity = _identity(p)
        entry = known.get(p.name) if isinstance(known, dict) else None
        if isinstance(entry, dict) and entry.get("identity") == identity:
            record[p.name] = {"identity": identity, "sha256": str(entry["sha256"])}
        else:
            record[p.name] = {"identity": identity, "sha256": _file_digest(p)}
    kept = {**known, **record} if isinstance(known, dict) else record
    if kept != known:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(stamp, lambda tmp: tmp.write_text(json.dumps(kept), encoding="utf-8"))
        except write_errors():
            pass  # the digests are only computed again next time
    return {name: str(entry["sha256"]) for name, entry in record.items()}


def units_key(folder: str | Path, params: dict[str, Any]) -> str:
    """SHA-256 of a territory folder's files, the supply parameters and foncier's version.

    The files' digests are kept in a stamp file of the cache folder with
    each file's size, inode, modification and change times; a file whose
    identity changed is hashed again.

    Parameters
    ----------
    folder
        Territory folder; every regular file not starting with ``.`` counts.
    params
        Supply parameters (JSON-able values).

    Returns
    -------
    str
        Hexadecimal digest.
    """
    from foncier import __version__

    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
    record = {
        "version": __version__,
        "params": params,
        "files": _digests(Path(folder), files),
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def file_digests(folder: str | Path, files: Iterable[str | Path]) -> list[str]:
    """SHA-256 of files of a territory folder, through the folder's stamp (see :func:`units_key`).

    Parameters
    ----------
    folder
        The territory folder.
    files
        Files of it.

    Returns
    -------
    list of str
        Their hexadecimal digests, in order.
    """
    paths = [Path(f) for f in files]
    digests = _digests(Path(folder), paths)
    return [digests[p.name] for p in paths]


def _read(path: Path) -> gpd.GeoDataFrame:
    table = pq.read_table(path)
    units = gpd.GeoDataFrame.from_arrow(table)
    raw = (table.schema.metadata or {}).get(_ATTRS_KEY)
    units.attrs = json.loads(raw) if raw else {}
    return units


def _write(units: gpd.GeoDataFrame, path: Path) -> None:
    table = pa.table(units.to_arrow(index=False))
    attrs = json.dumps(units.attrs, default=str).encode()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _ATTRS_KEY: attrs})
    pq.write_table(table, path)


def folder_land_units(
    folder: str | Path,
    territory: Any = None,
    *,
    exclude: Iterable[str] | None = None,
    unknown_land_cover: str | None = None,
    friches_count: bool | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """:func:`foncier.supply.land_units` of a territory folder, read back when cached.

    Parameters
    ----------
    folder
        The territory folder.
    territory
        The :class:`~foncier.territory.Territory` read from ``folder`` and not
        changed since (read when the units must be computed and it is ``None``).
    exclude, unknown_land_cover, friches_count, progress
        As for :func:`~foncier.supply.land_units`.

    Returns
    -------
    geopandas.GeoDataFrame
        The land units, with their ``attrs`` (timings of the run that computed them).

    Warns
    -----
    UnitsCacheWarning
        A cached entry could not be read, or the cache could not be written.
    """
    from foncier.supply import DEFAULT_EXCLUDE, land_units
    from foncier.zan.rules import load_rules

    kinds = sorted(DEFAULT_EXCLUDE if exclude is None else exclude)
    # the defaults land_units takes, named: the same units under one key
    default = load_rules()
    unknown_land_cover = unknown_land_cover or default.unknown_land_cover
    friches_count = default.friches_count if friches_count is None else friches_count
    params = {
        "exclude": kinds,
        "unknown_land_cover": unknown_land_cover,
        "friches_count": friches_count,
    }
    path = cache_folder() / f"{units_key(folder, params)}.parquet"
    if path.is_file():
        try:
            return _read(path)
        except (OSError, ValueError, TypeError, KeyError, pa.ArrowException) as exc:
            msg = (
                f"cache des unités foncières illisible ({path}) : {exc} ; "
                "elles sont recalculées et le cache réécrit"
            )
            warnings.warn(msg, UnitsCacheWarning, stacklevel=2)
    if territory is None:
        from foncier.territory import Territory

        territory = Territory.from_folder(folder)
    units = land_units(
        territory,
        exclude=kinds,
        unknown_land_cover=unknown_land_cover,
        friches_count=friches_count,
        progress=progress,
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: _write(units, tmp))
    except write_errors() as exc:
        msg = (
            f"cache des unités foncières non écrit dans {path.parent} : {exc} ; "
            f"définissez {CACHE_ENV} vers un dossier accessible en écriture"
        )
        warnings.warn(msg, UnitsCacheWarning, stacklevel=2)
    return units
