"""The output policy: what foncier may write where, and how it writes it.

(Longer than most modules on purpose: the checks, the atomic writes, the
manifest and the recovery on open share one state machine; splitting them
would spread one safety argument over several files.)

One implementation for every writer (territory and scenario folders, maps,
reports, GeoPackage / GeoTIFF / CSV exports, the service's result folders):

- **never delete or overwrite a file foncier did not write.**  Every folder
  foncier writes into holds a small manifest, :data:`MANIFEST_NAME`, listing
  the files foncier wrote there with their kind and sha256.  A file is
  foncier's own only if it is listed there and unchanged since;
- a **folder output** (a territory, a scenario result) goes into a missing or
  empty folder, or replaces a foncier output of the same kind.  Any other
  non-empty folder is refused with a message saying what is there;
  ``force=True`` (``--force``) then replaces only foncier's own files and
  keeps every other file where it is;
- a **file output** (a map, a report, an export) never replaces a file
  foncier did not write, not even with ``force``; ``force`` lets it replace
  a foncier file of another kind;
- an output **inside an input folder, equal to an input file, or holding an
  input** is refused (:func:`check_separate`);
- every file is written to a temporary sibling, flushed (``fsync``) and
  renamed into place (``os.replace``); a folder is written into a temporary
  sibling folder and swapped in by two renames, so that a crash at any point
  leaves the previous version readable.  The next open
  (:func:`recover_folder`, called by ``Territory.from_folder`` and
  ``ScenarioResult.from_folder``) puts back a version left aside when the
  main one is missing and removes the leftovers of interrupted writes.

Temporary names are ``.NAME.tmp-PID-HEX`` and ``.NAME.old-PID-HEX`` (plus the
file's suffix): the leftovers of a process still running are never touched.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foncier.errors import FoncierError, OutputError

__all__ = [
    "KIND_LABELS",
    "MANIFEST_NAME",
    "Manifest",
    "atomic_write",
    "check_file",
    "check_folder",
    "check_separate",
    "describe_os_error",
    "read_manifest",
    "recover_folder",
    "write_file",
    "write_folder",
    "write_errors",
    "write_text",
]

#: Name of the manifest foncier keeps in every folder it writes into.
MANIFEST_NAME = ".foncier-manifest.json"

#: French names of the kinds of output, with their article, for the messages.
KIND_LABELS = {
    "territory": "un dossier de territoire",
    "scenario": "un résultat de scénario",
    "report": "un rapport",
    "map": "une carte",
    "land_units": "un GeoPackage d'unités foncières",
    "raster": "un raster",
    "dem": "un MNT",
    "enaf": "un fichier de consommation ENAF",
    "budgets": "un tableau des budgets ZAN",
    "files": "un dossier de sorties",
    "partitions": "des parcelles partitionnées par département (GeoParquet)",
}

#: File kinds that describe a folder output and go with it when it is replaced.
_COMPANIONS = {"scenario": ("report",)}

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<role>tmp|old)-(?P<pid>\d+)-[0-9a-f]{8}(\.[^.]*)?$")
_SHOWN = 5


def write_errors() -> tuple[type[Exception], ...]:
    """Errors of the writers translated like operating-system errors (GDAL's included).

    ``OSError`` and the I/O errors of pyogrio and rasterio when they are loaded:
    an error of a library can only come from a library already imported, so
    none is imported here (``foncier --help`` stays light).
    """
    found: list[type[Exception]] = [OSError]
    pyogrio_errors = sys.modules.get("pyogrio.errors")
    if pyogrio_errors is not None:
        found += [pyogrio_errors.DataSourceError, pyogrio_errors.DataLayerError]
    rasterio_errors = sys.modules.get("rasterio.errors")
    if rasterio_errors is not None:
        found.append(rasterio_errors.RasterioError)
    return tuple(found)


def _label(kind: str | None) -> str:
    return KIND_LABELS.get(kind or "files", f"une sortie « {kind} »")


def _written(kind: str | None) -> str:
    """``"<label> écrit(e) par foncier"``, the participle agreeing with the label."""
    label = _label(kind)
    return f"{label} {'écrite' if label.startswith('une ') else 'écrit'} par foncier"


def _the(kind: str) -> str:
    """The label with a definite article: ``"la carte"``, ``"le rapport"``."""
    label = _label(kind)
    return ("la " if label.startswith("une ") else "le ") + label.split(" ", 1)[1]


# -- manifest -------------------------------------------------------------------
@dataclass
class Manifest:
    """What foncier wrote in one folder.

    Attributes
    ----------
    kind
        Kind of the folder when it is a folder output (``"territory"``,
        ``"scenario"``), ``None`` for a folder holding file outputs only.
    files
        File name → ``{"kind": ..., "sha256": ...}``; while a file is being
        replaced its entry also holds ``"replaces"``, the previous digest.
    """

    kind: str | None = None
    files: dict[str, dict[str, str]] = field(default_factory=dict)

    def owns(self, folder: Path, name: str, *, digest: str | None = None) -> bool:
        """Whether ``folder / name`` is a file foncier wrote and nobody changed since.

        ``digest`` is the file's SHA-256 when the caller already knows it
        (:func:`foncier.units_cache.file_digests`); it is computed otherwise.
        """
        entry = self.files.get(name)
        path = folder / name
        if entry is None or path.is_symlink() or not (path.is_file() or path.is_dir()):
            return False
        digest = _sha256(path) if digest is None else digest
        return digest in (entry.get("sha256"), entry.get("replaces"))

    def to_json(self) -> str:
        """The manifest as JSON text."""
        payload: dict[str, Any] = {"generator": "foncier", "kind": self.kind, "files": self.files}
        return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)


def read_manifest(folder: str | Path) -> Manifest | None:
    """Return the manifest of ``folder``, or ``None`` if it has none (or an unreadable one).

    An unreadable manifest marks nothing as foncier's: it errs on the side of
    keeping files.
    """
    path = Path(folder) / MANIFEST_NAME
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("files"), dict):
        return None
    files = {
        str(k): {str(a): str(b) for a, b in v.items()}
        for k, v in payload["files"].items()
        if isinstance(v, dict)
    }
    kind = payload.get("kind")
    return Manifest(kind=str(kind) if kind else None, files=files)


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    atomic_write(
        folder / MANIFEST_NAME,
        lambda tmp: tmp.write_text(manifest.to_json(), encoding="utf-8"),
    )


def _sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's tree (its files' relative paths and contents)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for sub in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()):
            digest.update(f"{sub.relative_to(path).as_posix()}\0{_sha256(sub)}\0".encode())
        return digest.hexdigest()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- low-level mechanics -----------------------------------------------------------
def _temp_sibling(path: Path, role: str) -> Path:
    return path.with_name(f".{path.name}.{role}-{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # some systems cannot open folders; the data is still written
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def atomic_write(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Write one file through a temporary sibling, flushed and renamed into place.

    This is the mechanics only (no policy): use it inside a folder that
    foncier owns, e.g. the temporary folder of :func:`write_folder`.

    Parameters
    ----------
    path
        Final path of the file.
    write
        Called with the temporary path (same folder, same suffix) to write to.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    tmp = _temp_sibling(path, "tmp")
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    _fsync(path.parent)
    return path


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(path: Path) -> Iterator[tuple[Path, str]]:
    """Leftovers of interrupted writes of ``path`` by processes no longer running."""
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        m = _LEFTOVER.match(sibling.name)
        if m and m["name"] == path.name and not _pid_alive(int(m["pid"])):
            yield sibling, m["role"]


def recover_folder(path: str | Path) -> bool:
    """Finish or undo an interrupted folder write, before reading the folder.

    When ``path`` is missing and a previous version was left aside
    (``.NAME.old-*``) by a write that did not finish, that version is put
    back.  Then every leftover of interrupted writes of ``path``
    (``.NAME.tmp-*``, ``.NAME.old-*``) is removed.  Leftovers of a process
    still running are left alone.

    Parameters
    ----------
    path
        A folder output (territory, scenario result).

    Returns
    -------
    bool
        Whether a version left aside was put back.
    """
    path = Path(path).resolve()
    leftovers = list(_leftovers(path))
    restored = False
    if not path.exists():
        aside = [p for p, role in leftovers if role == "old" and p.is_dir()]
        if aside:
            best = max(aside, key=lambda p: p.stat().st_mtime)
            try:
                os.rename(best, path)
            except OSError:
                return False
            _fsync(path.parent)
            restored = True
            leftovers = [(p, r) for p, r in leftovers if p != best]
    for leftover, _ in leftovers:
        with contextlib.suppress(OSError):
            _remove(leftover)
    return restored


# -- policy -------------------------------------------------------------------------
def _shown(names: Iterable[str]) -> str:
    names = sorted(names)
    more = f" et {len(names) - _SHOWN} autres" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more


def check_separate(output: str | Path, inputs: Iterable[str | Path | None]) -> None:
    """Refuse an output equal to an input, inside an input folder, or holding an input.

    Parameters
    ----------
    output
        File or folder about to be written.
    inputs
        Files and folders read by the same command (``None`` entries are
        skipped).

    Raises
    ------
    OutputError
        The output would replace or sit among the inputs.
    """
    out = Path(output).resolve()
    sources = [Path(item).resolve() for item in inputs if item is not None]
    if out in sources:
        msg = (
            f"la sortie {out} est aussi une entrée de la commande ; l'écrire la remplacerait : "
            "choisissez un autre chemin de sortie"
        )
        raise OutputError(msg)
    for src in sources:
        if src in out.parents and src.is_dir():
            msg = (
                f"la sortie {out} est dans le dossier d'entrée {src} ; foncier n'écrit pas dans "
                "ses entrées : choisissez un chemin de sortie hors de ce dossier"
            )
            raise OutputError(msg)
        if out in src.parents:
            msg = (
                f"le dossier de sortie {out} contient l'entrée {src} ; l'écrire la remplacerait : "
                "choisissez un autre dossier de sortie"
            )
            raise OutputError(msg)


def _check_parent(path: Path) -> None:
    """Refuse a path one of whose existing ancestors is a file (before any computation)."""
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                msg = (
                    f"impossible d'écrire {path} : un élément de ce chemin est un fichier, "
                    f"pas un dossier ({ancestor}) ; choisissez un autre chemin de sortie"
                )
                raise OutputError(msg)
            return


def _make_parent(path: Path) -> None:
    _check_parent(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        msg = (
            f"impossible de créer le dossier {path.parent} : un élément de ce chemin est un "
            "fichier, pas un dossier ; choisissez un autre chemin de sortie"
        )
        raise OutputError(msg) from exc
    if not path.parent.is_dir():
        msg = f"{path.parent} n'est pas un dossier ; choisissez un autre chemin de sortie"
        raise OutputError(msg)


def describe_os_error(exc: BaseException, path: str | Path | None = None) -> str:
    """One French sentence for an operating-system or GDAL error: the path and what to do.

    Parameters
    ----------
    exc
        The error (``OSError`` or an error of pyogrio / rasterio).
    path
        The path concerned when the error does not name it.

    Returns
    -------
    str
        E.g. ``"disque plein en écrivant /data/out : libérez de la place …"``.
    """
    where = getattr(exc, "filename", None) or path
    target = f" {where}" if where else ""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code is None and "No space left" in text:
        code = errno.ENOSPC
    if code is None and "Read-only file system" in text:
        code = errno.EROFS
    if code is None and "Permission denied" in text:
        code = errno.EACCES
    if code in (errno.EACCES, errno.EPERM):
        return (
            f"permission refusée sur{target} : vérifiez les droits du fichier et de son dossier, "
            "ou choisissez un autre chemin"
        )
    if code == errno.ENOSPC or code == getattr(errno, "EDQUOT", -1):
        return (
            f"disque plein en écrivant{target} : libérez de la place ou choisissez un autre "
            "disque ; la version précédente est intacte"
        )
    if code == errno.EROFS:
        return (
            f"système de fichiers en lecture seule :{target} ne peut pas être écrit ; "
            "choisissez un chemin sur un disque accessible en écriture"
        )
    if code == errno.ENOTDIR:
        return (
            f"{where or 'un chemin'} : un élément du chemin est un fichier là où un dossier est "
            "attendu ; vérifiez le chemin"
        )
    if code == errno.EISDIR:
        return (
            f"{where or 'le chemin'} est un dossier là où un fichier est attendu ; "
            "vérifiez le chemin"
        )
    if code == errno.ENOENT:
        return f"{where or 'le chemin'} n'existe pas ; vérifiez le chemin et son dossier"
    if code == errno.EEXIST:
        return f"{where or 'le chemin'} existe déjà ; choisissez un autre chemin"
    if code is not None:
        reason = getattr(exc, "strerror", None) or text
        return f"erreur du système de fichiers sur{target} : {reason} ; vérifiez le chemin"
    return (
        f"écriture ou lecture impossible{target} : {text} ; vérifiez le chemin, les droits "
        "et la place disponible"
    )


def _fail(exc: BaseException, path: Path) -> OutputError:
    error = OutputError(describe_os_error(exc, path))
    error.errno = getattr(exc, "errno", None)
    return error


@dataclass
class _Plan:
    """What :func:`write_folder` keeps of the folder it replaces."""

    carry: list[str] = field(default_factory=list)
    carried_entries: dict[str, dict[str, str]] = field(default_factory=dict)


def _folder_plan(dest: Path, kind: str, force: bool) -> _Plan:
    if not dest.exists() and not dest.is_symlink():
        return _Plan()
    if not dest.is_dir():
        msg = (
            f"{dest} est un fichier, pas un dossier : foncier ne le remplace pas ; "
            f"choisissez un autre dossier pour {_the(kind)}"
        )
        raise OutputError(msg)
    manifest = read_manifest(dest)
    listed = manifest.files if manifest is not None else {}
    names = [p.name for p in dest.iterdir() if p.name != MANIFEST_NAME]
    if not names:
        return _Plan()
    own = [n for n in names if manifest is not None and manifest.owns(dest, n)]
    foreign = [n for n in names if n not in own]
    old_kind = manifest.kind if manifest is not None else None
    same_kind = manifest is not None and old_kind == kind
    if not force and not (same_kind and not foreign):
        parts = []
        if old_kind and not same_kind:
            parts.append(_written(old_kind))
        elif own:
            parts.append(f"{len(own)} fichier(s) écrits par foncier ({_shown(own)})")
        if foreign:
            parts.append(
                f"{len(foreign)} élément(s) que foncier n'a pas écrits ({_shown(foreign)})"
            )
        modified = [n for n in foreign if n in listed]
        if modified:
            parts.append(f"dont modifiés depuis leur écriture par foncier : {_shown(modified)}")
        msg = (
            f"{dest} n'est pas vide et n'est pas {_written(kind)} : il contient "
            f"{' ; '.join(parts)}. Choisissez un dossier nouveau ou vide, ou forcez (--force, "
            "force=True) pour ne remplacer que les fichiers écrits par foncier : les autres "
            "seront conservés"
        )
        raise OutputError(msg)
    replaced = _replaced_kinds(kind, old_kind)
    kept_own = [n for n in own if listed[n].get("kind") not in replaced]
    return _Plan([*foreign, *kept_own], {n: listed[n] for n in kept_own})


def _replaced_kinds(kind: str, old_kind: str | None) -> set[str | None]:
    kinds: set[str | None] = {kind, *_COMPANIONS.get(kind, ())}
    if old_kind:
        kinds |= {old_kind, *_COMPANIONS.get(old_kind, ())}
    return kinds


def _link_or_copy(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` too: a hard link where possible, else a copy (never a move)."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_file)
    else:
        _link_file(src, dst)


def _link_file(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def check_folder(
    dest: str | Path,
    kind: str,
    *,
    force: bool = False,
    inputs: Iterable[str | Path | None] = (),
) -> None:
    """Check, before any long computation, that :func:`write_folder` will accept ``dest``.

    Raises
    ------
    OutputError
        What :func:`write_folder` would raise for the destination itself.
    """
    path = Path(dest).resolve()
    check_separate(path, inputs)
    recover_folder(path)
    _folder_plan(path, kind, force)


def check_file(
    path: str | Path,
    kind: str,
    *,
    force: bool = False,
    inputs: Iterable[str | Path | None] = (),
) -> None:
    """Check, before any long computation, that :func:`write_file` will accept ``path``.

    Raises
    ------
    OutputError
        What :func:`write_file` would raise for the path itself.
    """
    target = Path(path).resolve()
    check_separate(target, inputs)
    _check_parent(target)
    _file_plan(target, kind, force)


def write_folder(
    dest: str | Path,
    kind: str,
    write: Callable[[Path], Any],
    *,
    force: bool = False,
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write a folder output under the output policy, atomically.

    Parameters
    ----------
    dest
        The folder to write (created, or replaced as a whole).
    kind
        Kind of output, a key of :data:`KIND_LABELS` (``"territory"``,
        ``"scenario"``).
    write
        Called with a fresh temporary folder (a sibling of ``dest``) to
        write the files into; only plain files at its top level are listed
        in the manifest.
    force
        Also replace a folder holding other things: foncier's own files are
        replaced, every other file is kept.
    inputs
        Files and folders the output must stay apart from
        (:func:`check_separate`).

    Returns
    -------
    pathlib.Path
        The folder written (absolute).

    Raises
    ------
    OutputError
        The policy refuses the destination, or the system refused the write
        (permission, disk full, read-only file system…); the previous
        version is then intact.
    """
    dest = Path(dest).resolve()
    check_separate(dest, inputs)
    _make_parent(dest)
    recover_folder(dest)
    plan = _folder_plan(dest, kind, force)
    tmp = _temp_sibling(dest, "tmp")
    try:
        tmp.mkdir()
        write(tmp)
        (tmp / MANIFEST_NAME).unlink(missing_ok=True)
        # files and folders (a partitioned GeoParquet's): a folder's entry digests its tree
        written = sorted(
            p.name for p in tmp.iterdir() if (p.is_file() or p.is_dir()) and not p.is_symlink()
        )
        clash = [n for n in plan.carry if (tmp / n).exists() or (tmp / n).is_symlink()]
        if clash:
            msg = (
                f"{dest} contient {_shown(clash)}, que foncier n'a pas écrit(s) ou qui a/ont été "
                f"modifié(s) : {_the(kind)} ne le(s) remplacera pas. Déplacez ce(s) "
                "fichier(s) ou choisissez un autre dossier"
            )
            raise OutputError(msg)
        files = {}
        for name in written:
            _fsync(tmp / name)
            files[name] = {"kind": kind, "sha256": _sha256(tmp / name)}
        for name in plan.carry:
            _link_or_copy(dest / name, tmp / name)
        files.update(plan.carried_entries)
        manifest = Manifest(kind=kind, files=files)
        (tmp / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
        _fsync(tmp / MANIFEST_NAME)
        _fsync(tmp)
        _swap(tmp, dest)
    except FoncierError:
        _remove(tmp)
        raise
    except write_errors() as exc:
        _remove(tmp)
        raise _fail(exc, dest) from exc
    except BaseException:
        _remove(tmp)
        raise
    return dest


def _swap(tmp: Path, dest: Path) -> None:
    """Put the complete folder ``tmp`` at ``dest``; the previous one stays aside until then."""
    old = None
    if dest.exists():
        old = _temp_sibling(dest, "old")
        os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except BaseException:
        if old is not None:
            os.rename(old, dest)
        raise
    _fsync(dest.parent)
    if old is not None:
        _remove(old)


def write_file(
    path: str | Path,
    kind: str,
    write: Callable[[Path], Any],
    *,
    force: bool = False,
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write one output file under the output policy, atomically.

    The file is recorded in the manifest of its folder.

    Parameters
    ----------
    path
        The file to write.
    kind
        Kind of output, a key of :data:`KIND_LABELS` (``"map"``, ``"report"``…).
    write
        Called with a temporary sibling path (same suffix) to write to.
    force
        Allow replacing a file foncier wrote as another kind of output.  A
        file foncier did not write is never replaced.
    inputs
        Files and folders the output must stay apart from.

    Returns
    -------
    pathlib.Path
        The file written (absolute).

    Raises
    ------
    OutputError
        The policy refuses the path, or the system refused the write; the
        previous file is then intact.
    """
    path = Path(path).resolve()
    check_separate(path, inputs)
    _make_parent(path)
    folder = path.parent
    for leftover, _ in _leftovers(path):
        with contextlib.suppress(OSError):
            _remove(leftover)
    manifest, previous = _file_plan(path, kind, force)
    tmp = _temp_sibling(path, "tmp")
    tmp = _temp_sibling(path, "tmp")
    try:
        write(tmp)
        _fsync(tmp)
        digest = _sha256(tmp)
        pending = {"kind": kind, "sha256": digest}
        if previous is not None:
            pending["replaces"] = previous
        manifest.files[path.name] = pending
        _write_manifest(folder, manifest)
        os.replace(tmp, path)
        _fsync(folder)
        manifest.files[path.name] = {"kind": kind, "sha256": digest}
        _write_manifest(folder, manifest)
    except FoncierError:
        _remove(tmp)
        raise
    except write_errors() as exc:
        _remove(tmp)
        raise _fail(exc, path) from exc
    except BaseException:
        _remove(tmp)
        raise
    return path


def _file_plan(path: Path, kind: str, force: bool) -> tuple[Manifest, str | None]:
    """The manifest of the file's folder and the digest of the file it replaces, if any."""
    folder = path.parent
    if path.name == MANIFEST_NAME:
        msg = f"{path} est le registre de foncier ; choisissez un autre nom de fichier"
        raise OutputError(msg)
    if path.is_dir():
        msg = (
            f"{path} est un dossier : indiquez un nom de fichier pour {_the(kind)} "
            f"(par exemple {path / _default_name(kind)})"
        )
        raise OutputError(msg)
    manifest = read_manifest(folder) or Manifest()
    entry = manifest.files.get(path.name)
    previous = None
    if path.exists() or path.is_symlink():
        if entry is None or not manifest.owns(folder, path.name):
            what = "modifié depuis son écriture par foncier" if entry else "pas écrit par foncier"
            msg = (
                f"{path} existe déjà et n'a pas été écrit par foncier ({what}) : foncier ne le "
                "remplace pas. Choisissez un autre nom de fichier, ou déplacez ce fichier"
            )
            raise OutputError(msg)
        old_kind = entry.get("kind")
        if old_kind != kind and not force:
            msg = (
                f"{path} est {_written(old_kind)}, pas {_label(kind)} ; "
                "choisissez un autre nom, ou forcez (--force, force=True) pour le remplacer"
            )
            raise OutputError(msg)
        previous = _sha256(path)
    return manifest, previous


def _default_name(kind: str) -> str:
    return {"map": "carte.html", "report": "report.html", "land_units": "units.gpkg"}.get(
        kind, "sortie"
    )


def write_text(
    path: str | Path,
    text: str,
    kind: str,
    *,
    force: bool = False,
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write a UTF-8 text output (a map page, a report, a CSV) with :func:`write_file`."""
    return write_file(
        path,
        kind,
        lambda tmp: tmp.write_text(text, encoding="utf-8"),
        force=force,
        inputs=inputs,
    )
