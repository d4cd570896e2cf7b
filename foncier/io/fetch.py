"""Download a territory's open data from the official public addresses.

Sources, by default (every address is a template; all can be redirected to
another server with ``base_url`` or the ``FONCIER_FETCH_BASE_URL`` variable,
which replaces the scheme and host and keeps the official path):

- ``epci``: the ``decoupage-administratif`` EPCI list (Etalab, on unpkg);
- ``communes``: commune boundaries from geo.api.gouv.fr (one file per EPCI,
  or one per commune);
- ``cadastre``: Etalab cadastre parcels, one ``.json.gz`` per commune
  (cadastre.data.gouv.fr);
- ``buildings``: the Etalab cadastre buildings of the same distribution
  (``cadastre-{insee}-batiments.json.gz``), beside the parcels, which say
  which parcels are built (``foncier import --buildings``);
- ``zoning``: GPU ``zone_urba`` per commune from the IGN API Carto.

Downloads go to a cache folder: a file already there whose checksum matches
the manifest is not downloaded again, an interrupted download is resumed
with an HTTP ``Range`` request, and ``manifest.json`` records the address,
size and sha256 of every file.  Only the standard library is used for HTTP.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from foncier._format import fr_number
from foncier.errors import DataSourceError, NotFoundError
from foncier.io._common import PathLike, check_content, content_kinds
from foncier.io.admin import read_epci_membership
from foncier.layers import Col

__all__ = [
    "BASE_URL_ENV",
    "OFFICIAL_URLS",
    "FetchedFile",
    "Manifest",
    "fetch_territory",
    "read_manifest",
]

#: Environment variable redirecting every source to another server.
BASE_URL_ENV = "FONCIER_FETCH_BASE_URL"
_ETALAB_CADASTRE = "https://cadastre.data.gouv.fr/data/etalab-cadastre/latest/geojson/communes"
#: Official address templates; placeholders ``{insee}``, ``{dep}``, ``{epci}``.
OFFICIAL_URLS: dict[str, str] = {
    "epci": "https://unpkg.com/@etalab/decoupage-administratif/data/epci.json",
    "communes_epci": (
        "https://geo.api.gouv.fr/communes?codeEpci={epci}&fields=nom,code,codeEpci"
        "&format=geojson&geometry=contour"
    ),
    "communes": (
        "https://geo.api.gouv.fr/communes?code={insee}&fields=nom,code,codeEpci"
        "&format=geojson&geometry=contour"
    ),
    "cadastre": f"{_ETALAB_CADASTRE}/{{dep}}/{{insee}}/cadastre-{{insee}}-parcelles.json.gz",
    "buildings": f"{_ETALAB_CADASTRE}/{{dep}}/{{insee}}/cadastre-{{insee}}-batiments.json.gz",
    "zoning": "https://apicarto.ign.fr/api/gpu/zone-urba?partition=DU_{insee}",
}
MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 16
_TIMEOUT_S = 60


@dataclass
class FetchedFile:
    """One downloaded (or missing) file of the manifest.

    Attributes
    ----------
    source
        Source name (``cadastre``, ``communes``...).
    key
        What the file is about (an INSEE code, an EPCI SIREN, ``france``).
    url
        Address downloaded.
    path
        Path relative to the cache folder.
    status
        ``downloaded``, ``resumed``, ``cached`` or ``missing`` (HTTP 404).
    sha256
        Checksum of the file (empty when missing).
    bytes
        Size in bytes.
    """

    source: str
    key: str
    url: str
    path: str
    status: str
    sha256: str = ""
    bytes: int = 0


@dataclass
class Manifest:
    """What :func:`fetch_territory` downloaded, written as ``manifest.json``.

    Attributes
    ----------
    folder
        The cache folder.
    request
        The request: ``epci`` and/or ``insee`` codes.
    files
        One entry per file.
    """

    folder: Path
    request: dict[str, object] = field(default_factory=dict)
    files: list[FetchedFile] = field(default_factory=list)

    def paths(self, source: str) -> list[Path]:
        """Absolute paths of the files of one source that are present."""
        return [self.folder / f.path for f in self.files if f.source == source and f.sha256]

    @property
    def missing(self) -> list[FetchedFile]:
        """Files the server did not have."""
        return [f for f in self.files if f.status == "missing"]

    def write(self) -> Path:
        """Write ``manifest.json`` in the cache folder and return its path."""
        path = self.folder / MANIFEST_NAME
        data = {
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            "request": self.request,
            "files": [asdict(f) for f in self.files],
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        return path


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _rebase(url: str, base_url: str | None) -> str:
    if not base_url:
        return url
    parts = urllib.parse.urlsplit(url)
    base = urllib.parse.urlsplit(base_url.rstrip("/"))
    return urllib.parse.urlunsplit(
        (base.scheme, base.netloc, base.path + parts.path, parts.query, "")
    )


def _department(insee: str) -> str:
    return insee[:3] if insee.startswith("97") else insee[:2]


def _download(url: str, dest: Path, *, progress: bool) -> str:
    """Download ``url`` to ``dest``, resuming a ``.part`` file; return the status."""
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "foncier"})
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        response = urllib.request.urlopen(request, timeout=_TIMEOUT_S)  # noqa: S310
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the part file is already complete
            part.replace(dest)
            return "resumed"
        raise
    with response:
        resumed = start > 0 and response.status == 206
        mode = "ab" if resumed else "wb"
        length = response.headers.get("Content-Length")
        total = int(length) + (start if resumed else 0) if length else None
        with (
            part.open(mode) as out,
            tqdm(
                total=total,
                initial=start if resumed else 0,
                unit="B",
                unit_scale=True,
                desc=dest.name,
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            try:
                for block in iter(lambda: response.read(_CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
            except (http.client.HTTPException, OSError) as exc:
                out.flush()
                msg = (
                    f"téléchargement de {url} interrompu à {fr_number(out.tell(), 0)} octets "
                    f"({exc!r}) ; "
                    "relancez la commande pour le reprendre"
                )
                raise DataSourceError(msg) from exc
    if total is not None and part.stat().st_size != total:
        msg = (
            f"téléchargement de {url} arrêté à {fr_number(part.stat().st_size, 0)} octets sur "
            f"{fr_number(total, 0)} ; relancez la commande pour le reprendre"
        )
        raise DataSourceError(msg)
    try:
        check_content(part, f"téléchargé depuis {url}", content_kinds(dest) or None)
    except DataSourceError:
        part.unlink()  # foncier's own partial download: an error page is not data
        raise
    part.replace(dest)
    return "resumed" if resumed else "downloaded"


def _fetch_one(
    source: str,
    key: str,
    url: str,
    folder: Path,
    rel: str,
    known: Mapping[str, FetchedFile],
    *,
    progress: bool,
) -> FetchedFile:
    dest = folder / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    previous = known.get(rel)
    cached = previous is not None and previous.sha256 and dest.is_file()
    if cached and previous is not None and sha256_of(dest) == previous.sha256:
        return FetchedFile(source, key, url, rel, "cached", previous.sha256, dest.stat().st_size)
    try:
        status = _download(url, dest, progress=progress)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return FetchedFile(source, key, url, rel, "missing")
        msg = f"impossible de télécharger {url} : HTTP {exc.code} {exc.reason}"
        raise DataSourceError(msg) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        msg = (
            f"impossible de télécharger {url} : {reason}. Êtes-vous connecté ? Donnez "
            f"{BASE_URL_ENV} ou --base-url pour passer par un miroir."
        )
        raise DataSourceError(msg) from exc
    return FetchedFile(source, key, url, rel, status, sha256_of(dest), dest.stat().st_size)


def _file_name(url: str, fallback: str) -> str:
    name = Path(urllib.parse.urlsplit(url).path).name
    return name if name and "." in name else fallback


def _load_manifest(folder: Path) -> dict[str, FetchedFile]:
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = [FetchedFile(**f) for f in data.get("files", [])]
    except (json.JSONDecodeError, TypeError) as exc:
        msg = (
            f"le manifeste {path} est corrompu ({exc}) ; supprimez-le pour tout télécharger "
            "à nouveau"
        )
        raise DataSourceError(msg) from exc
    return {f.path: f for f in files}


def read_manifest(folder: PathLike) -> Manifest:
    """Read the ``manifest.json`` a :func:`fetch_territory` run wrote in a cache folder.

    Parameters
    ----------
    folder
        The cache folder.

    Returns
    -------
    Manifest
        The request and every file listed, paths relative to ``folder``.

    Raises
    ------
    DataSourceError
        No manifest in the folder, or a corrupt one.
    """
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        msg = (
            f"{folder} ne contient pas de {MANIFEST_NAME} : ce n'est pas un cache écrit par "
            "`foncier fetch` ; lancez d'abord `foncier fetch --epci SIREN -o CACHE`"
        )
        raise DataSourceError(msg)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        request = dict(data.get("request") or {})
    except (json.JSONDecodeError, TypeError, ValueError, AttributeError) as exc:
        msg = (
            f"le manifeste {path} est corrompu ({exc}) ; supprimez-le pour tout télécharger "
            "à nouveau"
        )
        raise DataSourceError(msg) from exc
    return Manifest(folder, request=request, files=list(_load_manifest(folder).values()))


def fetch_territory(
    folder: PathLike,
    *,
    epci: str | None = None,
    insee: Iterable[str] | None = None,
    base_url: str | None = None,
    urls: Mapping[str, str] | None = None,
    sources: Iterable[str] = ("epci", "communes", "cadastre", "buildings", "zoning"),
    progress: bool = True,
) -> Manifest:
    """Download the open data of an EPCI or of a list of communes into a cache folder.

    Parameters
    ----------
    folder
        Cache folder (created); files already downloaded and unchanged are kept.
    epci
        SIREN of an EPCI: its member communes are read from the EPCI list.
    insee
        INSEE codes of communes (alone or added to the EPCI's members).
    base_url
        Server replacing the official hosts (paths kept); default: the
        ``FONCIER_FETCH_BASE_URL`` environment variable, else the official hosts.
    urls
        Address templates replacing some of :data:`OFFICIAL_URLS`
        (placeholders ``{insee}``, ``{dep}``, ``{epci}``, ``{base}``).
    sources
        Which sources to download, among ``epci``, ``communes``,
        ``cadastre``, ``buildings``, ``zoning``.
    progress
        Show tqdm progress bars.

    Returns
    -------
    Manifest
        Every file with its status and sha256, also written to
        ``folder/manifest.json``.  Files the server does not have (HTTP 404)
        are listed with the status ``missing``, never replaced.

    Raises
    ------
    NotFoundError
        ``epci`` is not in the EPCI list.
    DataSourceError
        Network failure, HTTP error other than 404, interrupted download
        (run again to resume), corrupt manifest, nothing requested.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = base_url or os.environ.get(BASE_URL_ENV) or None
    templates = {k: _rebase(v, base) for k, v in OFFICIAL_URLS.items()}
    for name, template in (urls or {}).items():
        templates[name] = template.replace("{base}", (base or "").rstrip("/"))
    wanted = set(sources)
    codes = sorted({str(c).zfill(5) for c in insee or []})
    if epci is None and not codes:
        msg = "rien à télécharger : donnez le SIREN d'un EPCI (--epci) ou des codes INSEE (--insee)"
        raise DataSourceError(msg)
    known = _load_manifest(folder)
    manifest = Manifest(folder, request={"epci": epci, "insee": codes})

    def get(source: str, key: str, rel: str, template: str, code: str = "") -> FetchedFile:
        fmt = {"insee": code, "dep": _department(code), "epci": epci or ""}
        url = templates[template].format(**fmt)
        entry = _fetch_one(source, key, url, folder, rel, known, progress=progress)
        manifest.files.append(entry)
        manifest.write()
        return entry

    if epci is not None:
        url = templates["epci"]
        entry = get("epci", "france", f"admin/{_file_name(url, 'epci.json')}", "epci")
        if not entry.sha256:
            msg = f"la liste des EPCI n'est pas disponible à {url}"
            raise DataSourceError(msg)
        members = read_epci_membership(folder / entry.path)
        mine = members.loc[members[Col.EPCI] == str(epci), Col.INSEE].tolist()
        if not mine:
            msg = (
                f"l'EPCI {epci!r} n'est pas dans la liste des EPCI {url} ; vérifiez son SIREN "
                "(9 chiffres)"
            )
            raise NotFoundError(msg)
        codes = sorted(set(codes) | set(mine))
        manifest.request["insee"] = codes
        if "communes" in wanted:
            get("communes", epci, f"admin/communes-epci-{epci}.geojson", "communes_epci")
    elif "communes" in wanted:
        for code in codes:
            get("communes", code, f"admin/communes-{code}.geojson", "communes", code)
    for code in codes:
        if "cadastre" in wanted:
            url = templates["cadastre"].format(insee=code, dep=_department(code), epci=epci or "")
            name = _file_name(url, f"cadastre-{code}-parcelles.json")
            get("cadastre", code, f"cadastre/{name}", "cadastre", code)
        if "buildings" in wanted:
            url = templates["buildings"].format(insee=code, dep=_department(code), epci=epci or "")
            name = _file_name(url, f"cadastre-{code}-batiments.json")
            get("buildings", code, f"cadastre/{name}", "buildings", code)
        if "zoning" in wanted:
            get("zoning", code, f"plu/zone_urba-{code}.geojson", "zoning", code)
    manifest.write()
    return manifest
