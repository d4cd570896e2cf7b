"""End to end on a real territory: Alès Agglomération from the official files, read in place.

The 72 real communes (IGN / INSEE 2018) with their EPCI (decoupage-administratif), the 88
real Cartofriches sites of those communes, the SRTM DEM and the 53 real RTE substations of the
Gard, imported with ``foncier import``; then ``supply``, ``match``, ``map`` and ``report``.

No Cerema file of the Gard and no project list of Alès is among the real data (see
``SOURCES.md``): the test writes a flat ENAF table (1 ha a year per commune, in the Cerema
format) and three projects, so that a scenario can run; every other input is the real file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from foncier.cli import main
from tests._html_text import missing_words
from tests.conftest import REAL_DATA

pytestmark = pytest.mark.slow

COMMUNES = "admin/communes_ales_agglomeration_2018geom.geojson"
EPCI_JSON = "admin/epci_france_decoupage_administratif.json"
FRICHES = "friches/cartofriches_points_gard30_20231002.geojson"
DEM = "dem/srtm30_cevennes_utm31n.tif"
SUBSTATIONS = "energie/odre_postes_electriques_rte_gard30.geojson"
_DESTINATIONS = ("act", "hab", "mix", "rou", "fer", "inc")


def _real(rel: str) -> Path:
    path = REAL_DATA / rel
    if not path.exists():
        pytest.skip(f"real data file {path} not available")
    return path


def _flat_enaf(path: Path, codes: list[str]) -> Path:
    """1 ha of ENAF a year per commune, 2009 → 2024, 40 % activity and 60 % housing."""
    columns, values = ["idcom"], []
    for y in range(9, 24):
        flows = {"naf": 10_000, "act": 4_000, "hab": 6_000}
        for kind in ("naf", *_DESTINATIONS):
            columns.append(
                f"{kind}{y:02d}art{y + 1:02d}" if kind == "naf" else f"art{y:02d}{kind}{y + 1:02d}"
            )
            values.append(str(flows.get(kind, 0)))
    rows = [";".join(columns), *(";".join([c, *values]) for c in codes)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _projects(path: Path) -> Path:
    path.write_text(
        "project_id,name,sector,area_min_ha,area_max_ha,jobs,investment_eur,preferred_insee\n"
        "P1,Atelier de mécanique,industrie,1,3,25,2000000,30007\n"
        "P2,Plateforme logistique,logistique,5,12,60,9000000,\n"
        "P3,Usine de recyclage,industrie,2,6,40,5000000,30294\n",
        encoding="utf-8",
    )
    return path


def _run(*args: str | Path) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def ales(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("ales")
    communes = _real(COMMUNES)
    codes = [f["properties"]["code"] for f in json.loads(communes.read_text())["features"]]
    territory = work / "territory"
    imported = _run(
        "import",
        "--communes", communes,
        "--epci-json", _real(EPCI_JSON),
        "--epci", "200066918",
        "--friches", _real(FRICHES),
        "--dem", _real(DEM),
        "--infrastructure", f"substation={_real(SUBSTATIONS)}",
        "--enaf", _flat_enaf(work / "enaf.csv", codes),
        "--projects", _projects(work / "projects.csv"),
        "--name", "Alès Agglomération",
        "-o", territory,
    )  # fmt: skip
    supply = _run("supply", territory, "-o", work / "units.gpkg")
    scenario = work / "scenario"
    _run("match", territory, "-o", scenario)
    _run("map", territory, "-o", work / "carte.html", "--offline")
    _run("map", territory, "--scenario", scenario, "-o", work / "carte-scenario.html")
    _run("report", scenario, "--territory", territory)
    return {
        "import": imported,
        "supply": supply,
        "units": gpd.read_file(work / "units.gpkg", layer="land_units"),
        "record": json.loads((scenario / "scenario.json").read_text(encoding="utf-8")),
        "report": (scenario / "report.html").read_text(encoding="utf-8"),
        "maps": [
            (work / "carte.html").read_text(encoding="utf-8"),
            (work / "carte-scenario.html").read_text(encoding="utf-8"),
        ],
    }


def test_import_lists_the_absent_layers(ales: dict) -> None:
    text = ales["import"]
    assert "friches : 88/88 lignes gardées" in text
    for layer in ("parcelles (parcels)", "zonage PLU (plu_zones)", "contraintes (constraints)"):
        assert f"Couche absente : {layer}" in text


def test_every_real_friche_is_an_approximate_footprint(ales: dict) -> None:
    units = ales["units"]
    friches = units[units["origin"] == "friche"]
    # no Gard cadastre exists among the real data: every Cartofriches point stays a disc
    assert len(friches) == 88 and set(friches["footprint"]) == {"approximate"}
    assert "Hypothèses :" in ales["supply"]
    assert "88 friche(s) sur 88 connue(s) par un point" in ales["supply"]


def test_scenario_and_report_state_the_assumptions(ales: dict) -> None:
    hypotheses = {h["code"]: h for h in ales["record"]["audit"]["hypotheses"]}
    assert hypotheses["approximate_footprints"]["count"] == 88
    assert hypotheses["approximate_footprints"]["ha"] > 0
    missing = hypotheses["missing_layers"]["text"]
    assert all(n in missing for n in ("parcelles", "zonage PLU", "ZAE", "contraintes"))
    assert "échangeurs" in hypotheses["missing_infrastructure"]["text"]
    report = ales["report"]
    box = re.search(r"<section class='hypotheses'>.*?</section>", report, re.DOTALL)
    assert box is not None and box.start() < report.index("<h2>Chiffres clés</h2>")
    assert "88 friche(s) sur 88" in box.group(0)
    assert "absente(s)" in box.group(0) and "zonage PLU" in box.group(0)


def test_report_text_shows_no_missing_value(ales: dict) -> None:
    without_map = re.sub(r"<iframe[^>]*></iframe>", "", ales["report"], flags=re.DOTALL)
    assert missing_words(without_map) == []


def test_maps_show_no_missing_value(ales: dict) -> None:
    hits = [h for page in (*ales["maps"], ales["report"]) for h in missing_words(page)]
    assert hits == []
