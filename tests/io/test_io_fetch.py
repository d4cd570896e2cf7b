"""``fetch_territory`` against a local HTTP server serving the real files (no internet)."""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from _io_helpers import REAL, real
from click.testing import CliRunner

from foncier.cli import main
from foncier.errors import DataSourceError, NotFoundError
from foncier.io import fetch_territory
from foncier.io.fetch import OFFICIAL_URLS, _rebase

#: Templates mapping the sources onto the layout of shared/data/real/.
LOCAL = {
    "epci": "{base}/admin/epci_france_decoupage_administratif.json",
    "communes_epci": "{base}/admin/communes_ales_agglomeration_2018geom.geojson",
    "communes": "{base}/admin/communes-{insee}.geojson",
    "cadastre": "{base}/cadastre/cadastre-{insee}-parcelles.json",
}


class _Handler(BaseHTTPRequestHandler):
    """Static files of REAL with HTTP Range support; can cut a response half-way."""

    requests: list[tuple[str, str | None]] = []
    cut_next = False

    def do_GET(self) -> None:  # noqa: N802
        path = (REAL / self.path.split("?")[0].lstrip("/")).resolve()
        type(self).requests.append((self.path, self.headers.get("Range")))
        if REAL not in path.parents or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if type(self).cut_next:
            type(self).cut_next = False
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    real("cadastre")
    _Handler.requests = []
    _Handler.cut_next = False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_official_addresses_and_rebase():
    url = OFFICIAL_URLS["cadastre"].format(insee="30007", dep="30")
    assert url == (
        "https://cadastre.data.gouv.fr/data/etalab-cadastre/latest/geojson/communes/30/30007/"
        "cadastre-30007-parcelles.json.gz"
    )
    assert _rebase(url, "http://mirror:8000/x").startswith("http://mirror:8000/x/data/etalab")


def test_fetch_communes_downloads_caches_and_checksums(tmp_path, server):
    codes = ["91027", "91326"]
    manifest = fetch_territory(
        tmp_path, insee=codes, base_url=server, urls=LOCAL, sources=["cadastre"], progress=False
    )
    assert [f.status for f in manifest.files] == ["downloaded", "downloaded"]
    for code, path in zip(codes, manifest.paths("cadastre"), strict=True):
        original = REAL / "cadastre" / f"cadastre-{code}-parcelles.json"
        assert sha(path) == sha(original)
        entry = next(f for f in manifest.files if f.key == code)
        assert entry.sha256 == sha(original) and entry.bytes == original.stat().st_size
    written = json.loads((tmp_path / "manifest.json").read_text())
    assert {f["sha256"] for f in written["files"]} == {f.sha256 for f in manifest.files}
    # Second run: nothing downloaded again.
    n_requests = len(_Handler.requests)
    again = fetch_territory(
        tmp_path, insee=codes, base_url=server, urls=LOCAL, sources=["cadastre"], progress=False
    )
    assert [f.status for f in again.files] == ["cached", "cached"]
    assert len(_Handler.requests) == n_requests


def test_interrupted_download_is_resumed_with_range(tmp_path, server):
    kwargs = dict(base_url=server, urls=LOCAL, sources=["cadastre"], progress=False)
    _Handler.cut_next = True
    with pytest.raises(DataSourceError, match="relancez la commande pour le reprendre"):
        fetch_territory(tmp_path, insee=["91479"], **kwargs)
    part = tmp_path / "cadastre" / "cadastre-91479-parcelles.json.part"
    original = REAL / "cadastre" / "cadastre-91479-parcelles.json"
    partial = part.stat().st_size
    assert 0 < partial < original.stat().st_size
    manifest = fetch_territory(tmp_path, insee=["91479"], **kwargs)
    assert manifest.files[0].status == "resumed"
    assert _Handler.requests[-1][1] == f"bytes={partial}-"
    assert manifest.files[0].sha256 == sha(original)
    assert not part.exists()


def test_epci_members_and_missing_files(tmp_path, server):
    manifest = fetch_territory(
        tmp_path,
        epci="200066918",
        base_url=server,
        urls=LOCAL,
        sources=["epci", "communes", "cadastre"],
        progress=False,
    )
    assert len(manifest.request["insee"]) == 72
    assert manifest.paths("epci") and manifest.paths("communes")
    # No Gard cadastre on the test server: reported missing, nothing invented.
    missing = manifest.missing
    assert len(missing) == 72 and {f.source for f in missing} == {"cadastre"}
    assert not list((tmp_path / "cadastre").glob("*.json"))


def test_unknown_epci_and_empty_request(tmp_path, server):
    with pytest.raises(NotFoundError, match="123456789"):
        fetch_territory(tmp_path, epci="123456789", base_url=server, urls=LOCAL, progress=False)
    with pytest.raises(DataSourceError, match="rien à télécharger"):
        fetch_territory(tmp_path, progress=False)


def test_offline_error_is_clear(tmp_path):
    with pytest.raises(DataSourceError, match="Êtes-vous connecté"):
        fetch_territory(
            tmp_path,
            insee=["91027"],
            base_url="http://127.0.0.1:9",
            sources=["cadastre"],
            progress=False,
        )


def test_cli_fetch(tmp_path, server, monkeypatch):
    monkeypatch.setenv("FONCIER_FETCH_BASE_URL", server)
    args = ["fetch", "--insee", "91027", "--insee", "30007", "-o", str(tmp_path), "--quiet"]
    args += ["--source", "cadastre", "--url", "cadastre=" + LOCAL["cadastre"]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "1 téléchargés" in result.output
    assert "Absent du serveur : cadastre 30007" in result.output
    assert (tmp_path / "cadastre" / "cadastre-91027-parcelles.json").is_file()
    bad = CliRunner().invoke(main, ["fetch", "-o", str(tmp_path)])
    assert bad.exit_code == 2 and "rien à télécharger" in bad.output


def test_fetch_downloads_the_buildings_beside_the_parcels(tmp_path, server):
    real("cadastre/pci-38419-batiments.geojson")
    urls = {
        "cadastre": "{base}/cadastre/cadastre-{insee}-parcelles.geojson",
        "buildings": "{base}/cadastre/pci-{insee}-batiments.geojson",
    }
    manifest = fetch_territory(
        tmp_path,
        insee=["38419"],
        base_url=server,
        urls=urls,
        sources=["cadastre", "buildings"],
        progress=False,
    )
    assert [(f.source, f.status) for f in manifest.files] == [
        ("cadastre", "downloaded"),
        ("buildings", "downloaded"),
    ]
    (parcels,), (buildings,) = manifest.paths("cadastre"), manifest.paths("buildings")
    assert parcels.parent == buildings.parent == tmp_path / "cadastre"
    assert sha(buildings) == sha(REAL / "cadastre" / "pci-38419-batiments.geojson")
    # the official address of the buildings is the parcels' one, "batiments" for "parcelles"
    official = OFFICIAL_URLS["buildings"].format(insee="38419", dep="38")
    assert official == OFFICIAL_URLS["cadastre"].format(insee="38419", dep="38").replace(
        "parcelles", "batiments"
    )
    assert "buildings" in inspect.signature(fetch_territory).parameters["sources"].default
