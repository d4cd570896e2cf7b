"""``foncier import --from-cache``: a territory from what ``fetch`` downloaded (real files)."""

from __future__ import annotations

import hashlib
import json

import pytest
from _io_helpers import REAL
from click.testing import CliRunner
from test_io_fetch import LOCAL, server  # noqa: F401  (the local HTTP server fixture)

from foncier.cli import main
from foncier.errors import DataSourceError
from foncier.io import fetch_territory
from foncier.io.assemble import sources_from_cache
from foncier.territory import Territory


def _fetch(cache, url, **kwargs):
    return fetch_territory(cache, base_url=url, urls=LOCAL, progress=False, **kwargs)


def test_epci_cache_gives_its_communes_and_says_the_cadastre_is_missing(tmp_path, server):  # noqa: F811
    cache = tmp_path / "cache"
    _fetch(cache, server, epci="200066918", sources=["epci", "communes", "cadastre"])
    sources, layers = sources_from_cache(cache)
    by_source = {item.source: item for item in layers}
    assert sources.epci == "200066918" and sources.epci_json is not None
    assert len(sources.communes) == 1 and not sources.cadastre
    assert len(by_source["cadastre"].missing) == 72 and not by_source["cadastre"].files
    out = tmp_path / "territory"
    args = ["import", "--from-cache", str(cache), "--name", "Alès", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "communes (communes) : 1 fichier(s) trouvé(s)" in result.output
    assert (
        "parcelles (cadastre) : 0 fichier(s) trouvé(s) ; 72 absent(s) du serveur" in result.output
    )
    assert "zonage PLU (zoning) : absent du cache" in result.output
    assert "Couche absente : parcelles (parcels)" in result.output
    territory = Territory.from_folder(out)
    assert len(territory.communes) == 72 and territory.parcels.empty
    assert set(territory.communes["epci"]) == {"200066918"}


def test_cadastre_cache_with_other_files_added(tmp_path, server):  # noqa: F811
    cache = tmp_path / "cache"
    _fetch(cache, server, insee=["91027", "91326"], sources=["communes", "cadastre"])
    out = tmp_path / "territory"
    friches = REAL / "friches" / "cartofriches_points_gard30_20231002.geojson"
    args = ["import", "--from-cache", str(cache), "--friches", str(friches)]
    result = CliRunner().invoke(main, [*args, "--name", "Essonne", "-o", str(out)])
    assert result.exit_code == 0, result.output
    # communes-{insee}.geojson are not on the test server: reported missing by code
    assert "communes (communes) : 0 fichier(s) trouvé(s) ; 2 absent(s) du serveur" in (
        result.output
    )
    assert "91027, 91326" in result.output
    territory = Territory.from_folder(out)
    # every parcel of the two real Etalab files, and the friches given besides the cache
    assert len(territory.parcels) == 6759 + 2859
    assert set(territory.parcels["insee"]) == {"91027", "91326"}
    assert len(territory.friches) == 276
    sources = json.loads((out / "territory.json").read_text(encoding="utf-8"))
    text = json.dumps(sources, ensure_ascii=False)
    assert "cadastre-91027-parcelles.json" in text and "cadastre-91326-parcelles.json" in text


def test_changed_or_absent_cache_is_refused(tmp_path, server):  # noqa: F811
    cache = tmp_path / "cache"
    _fetch(cache, server, insee=["91479"], sources=["cadastre"])
    parcels = cache / "cadastre" / "cadastre-91479-parcelles.json"
    parcels.write_text(parcels.read_text(encoding="utf-8")[:-10], encoding="utf-8")
    with pytest.raises(DataSourceError, match="ne correspond plus à son sha256"):
        sources_from_cache(cache)
    parcels.unlink()
    result = CliRunner().invoke(
        main, ["import", "--from-cache", str(cache), "--name", "X", "-o", str(tmp_path / "t")]
    )
    assert result.exit_code == 2 and "a disparu" in result.output
    assert result.output.startswith("Erreur")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataSourceError, match="pas un cache écrit par `foncier fetch`"):
        sources_from_cache(empty)


def test_zoning_file_without_zone_is_reported_empty(tmp_path):
    """A commune without a document on the GPU: API Carto answers an empty collection."""
    cache = tmp_path / "cache"
    (cache / "plu").mkdir(parents=True)
    empty = cache / "plu" / "zone_urba-30014.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    entry = {
        "source": "zoning",
        "key": "30014",
        "url": "https://apicarto.ign.fr/api/gpu/zone-urba?partition=DU_30014",
        "path": "plu/zone_urba-30014.geojson",
        "status": "downloaded",
        "sha256": hashlib.sha256(empty.read_bytes()).hexdigest(),
        "bytes": empty.stat().st_size,
    }
    manifest = {"request": {"epci": None, "insee": ["30014"]}, "files": [entry]}
    (cache / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    sources, layers = sources_from_cache(cache)
    assert not sources.zoning
    assert layers[0].empty == ["30014"] and layers[0].layer == "plu_zones"
