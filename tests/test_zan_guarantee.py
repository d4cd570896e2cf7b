"""Garantie communale eligibility, ZAN from the Cerema file alone, and the table's assumptions."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from foncier.cli import main
from foncier.errors import DataSourceError, LayerSchemaError, RuleSetError
from foncier.io.planning import read_planning_docs
from foncier.layers import empty_layer, validate_layer
from foncier.territory import Territory
from foncier.zan import (
    BUDGET_COLUMNS,
    MissingEnafWarning,
    RuleSet,
    budget_table,
    commune_budgets,
    guarantee_eligibility,
    load_rules,
)

CEREMA_RIVES = "conso_enaf/cerema_conso2009_2024_data_scot_rives_du_rhone.csv"
EPCI = "200066918"


def cli(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def docs_table(rows: list[tuple]) -> pd.DataFrame:
    """A planning_docs table from (insee, type, prescription, arret, approval) tuples."""
    frame = pd.DataFrame(
        rows, columns=["insee", "doc_type", "prescription_date", "arret_date", "approval_date"]
    )
    return validate_layer("planning_docs", frame)


# -- hand-checked eligibility ------------------------------------------------------------------

# Five communes, each with the same small baseline: 1.2 ha over 2011-2020 -> 0.6 ha envelope,
# lifted to 1 ha (guaranteed 0.4 ha) only when eligible.
CODES = ["30001", "30002", "30003", "30004", "30005"]
DOCS = [
    ("30001", "PLU", None, None, "2019-06-01"),  # PLU approved 2019 -> yes
    ("30002", "CC", "2027-01-15", None, None),  # CC prescribed 2027 -> no
    # 30003: absent from the table -> unknown, no guarantee
    ("30004", "RNU", None, None, None),  # RNU -> no
    ("30005", "RNU", None, None, None),  # RNU, but a PLUi prescribed 2025 -> yes
    ("30005", "PLUi", "2025-03-01", None, None),
]


@pytest.fixture
def communes() -> pd.DataFrame:
    return pd.DataFrame({"insee": CODES, "name": list("ABCDE"), "epci": EPCI, "scot": "SCoT X"})


@pytest.fixture
def enaf() -> pd.DataFrame:
    rows = [
        (c, y, 1_200.0 if 2011 <= y <= 2020 else 500.0) for c in CODES for y in range(2009, 2024)
    ]
    return pd.DataFrame(rows, columns=["insee", "year", "enaf_m2"])


def test_eligibility_hand_checked(communes: pd.DataFrame) -> None:
    status = guarantee_eligibility(communes, docs_table(DOCS))
    assert status["guarantee_status"].to_dict() == {
        "30001": "yes",
        "30002": "no",
        "30003": "unknown",
        "30004": "no",
        "30005": "yes",
    }
    reasons = status["guarantee_reason"]
    assert reasons["30001"] == "PLU : approbation le 01/06/2019 (avant le 22/08/2026)"
    assert reasons["30002"] == "CC : prescription le 15/01/2027 (pas avant le 22/08/2026)"
    assert reasons["30003"] == "aucune information sur le document d'urbanisme"
    assert reasons["30004"].startswith("règlement national d'urbanisme")
    assert reasons["30005"] == "PLUi : prescription le 01/03/2025 (avant le 22/08/2026)"


def test_the_deadline_is_strict_and_the_earliest_date_counts(communes: pd.DataFrame) -> None:
    docs = docs_table(
        [
            ("30001", "PLU", "2026-08-21", "2027-05-01", "2028-01-01"),  # prescribed the day before
            ("30002", "PLU", "2026-08-22", None, None),  # prescribed on the day: too late
            ("30003", "PLU", None, None, None),  # a PLU with no date at all
            ("30004", "POS", None, None, "1990-01-01"),  # lapsed
        ]
    )
    status = guarantee_eligibility(communes, docs)["guarantee_status"]
    assert status.tolist() == ["yes", "no", "unknown", "no", "unknown"]
    later = guarantee_eligibility(communes, docs, dt.date(2026, 8, 23))["guarantee_status"]
    assert later["30002"] == "yes"


def test_has_planning_doc_column_used_where_the_table_is_silent(communes: pd.DataFrame) -> None:
    communes["has_planning_doc"] = pd.array([False, True, True, None, None], dtype="boolean")
    status = guarantee_eligibility(communes, docs_table(DOCS[:1]))["guarantee_status"]
    # 30001 from the table (overrides the column), 30002-30003 from the column, 30004 unknown;
    # 30005 not in this table and blank in the column: unknown
    assert status.tolist() == ["yes", "yes", "yes", "unknown", "unknown"]


def test_budgets_apply_the_guarantee_to_eligible_communes_only(
    communes: pd.DataFrame, enaf: pd.DataFrame
) -> None:
    table = commune_budgets(communes, enaf, planning_docs=docs_table(DOCS)).set_index("insee")
    assert list(table.columns[: len(BUDGET_COLUMNS) - 1]) == list(BUDGET_COLUMNS[1:])
    assert table["guarantee_status"].tolist() == ["yes", "no", "unknown", "no", "yes"]
    assert table["envelope_ha"].tolist() == pytest.approx([1.0, 0.6, 0.6, 0.6, 1.0])
    assert table["guaranteed_ha"].tolist() == pytest.approx([0.4, 0, 0, 0, 0.4])
    assert table["guarantee_applied"].tolist() == [True, False, False, False, True]
    # consumed 3 x 0.05 ha since 2021
    assert table["remaining_ha"].tolist() == pytest.approx([0.85, 0.45, 0.45, 0.45, 0.85])
    refused = [a for a in table.attrs["assumptions"] if a["key"] == "guarantee_unknown_refused"]
    assert len(refused) == 1 and refused[0]["communes"] == ["30003"] and refused[0]["count"] == 1
    assert "non appliquée" in refused[0]["text"] and "0,40\u00a0ha" in refused[0]["text"]
    assert table.attrs["guarantee_unknown"] == "refuse"
    # applied on request: the unknown commune is lifted, and the table says so
    applied = commune_budgets(
        communes, enaf, planning_docs=docs_table(DOCS), guarantee_unknown="apply"
    ).set_index("insee")
    assert applied.loc["30003", "envelope_ha"] == pytest.approx(1.0)
    assert applied.loc["30002", "envelope_ha"] == pytest.approx(0.6)
    keys = [a["key"] for a in applied.attrs["assumptions"]]
    assert "guarantee_unknown_applied" in keys and "guarantee_unknown_refused" not in keys
    by_rule = commune_budgets(
        communes, enaf, RuleSet("x", "1", guarantee_unknown="apply"), planning_docs=docs_table(DOCS)
    )
    assert by_rule["envelope_ha"].tolist() == applied["envelope_ha"].tolist()
    with pytest.raises(RuleSetError, match="guarantee_unknown"):
        commune_budgets(communes, enaf, guarantee_unknown="maybe")


def test_pooled_rows_sum_the_guaranteed_hectares(
    communes: pd.DataFrame, enaf: pd.DataFrame
) -> None:
    epci = commune_budgets(communes, enaf, planning_docs=docs_table(DOCS), pool="epci").iloc[0]
    assert epci["guaranteed_ha"] == pytest.approx(0.8)
    # neither lifted commune asked to pool: their 0.4 ha each (unused by their own 0.15 ha)
    # stay theirs, out of the pooled 3.8 ha
    assert epci["guarantee_reserved_ha"] == pytest.approx(0.8)
    assert epci["envelope_ha"] == pytest.approx(3.0)
    assert epci["guarantee_status"] == "mixed"


# -- the planning-documents file ---------------------------------------------------------------


def test_planning_docs_reader_aliases_formats_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "Code_INSEE,TYPEDOC,DATPRESCR,date_arret,DATAPPRO\n"
        "30007,plu,01/03/2012,,20170203\n"
        "30028,Carte communale,2027-01-15,,\n"
        "30035,PLUiH,,,\n"
        "30036,RNU,,,\n",
        encoding="utf-8",
    )
    docs = read_planning_docs(path)
    assert docs["doc_type"].tolist() == ["PLU", "CC", "PLUi", "RNU"]
    assert docs.loc[0, "prescription_date"] == "2012-03-01"
    assert docs.loc[0, "approval_date"] == "2017-02-03"
    assert docs["arret_date"].isna().all()
    assert docs.attrs["load_report"].rows_read == 4
    path.write_text("insee;type\n30007;SCOT\n", encoding="utf-8")
    with pytest.raises(LayerSchemaError, match=r"docs.csv.*colonne type.*'SCOT'.*30007"):
        read_planning_docs(path)
    path.write_text("insee;type;date_approbation\n30007;PLU;2017-13-45\n", encoding="utf-8")
    with pytest.raises(LayerSchemaError, match=r"date_approbation.*2017-13-45.*AAAA-MM-JJ"):
        read_planning_docs(path)
    path.write_text("commune;type\n30007;PLU\n", encoding="utf-8")
    with pytest.raises(DataSourceError, match="pas de colonne du code INSEE"):
        read_planning_docs(path)


def test_rule_set_guarantee_keys(tmp_path: Path) -> None:
    rules = load_rules()
    assert rules.guarantee_deadline == dt.date(2026, 8, 22)
    assert rules.guarantee_unknown == "refuse"
    path = tmp_path / "r.toml"
    path.write_text(
        'name = "r"\nversion = "1"\nguarantee_deadline = 2027-01-01\nguarantee_unknown = "apply"\n',
        encoding="utf-8",
    )
    custom = load_rules(path)
    assert custom.guarantee_deadline == dt.date(2027, 1, 1) and custom.guarantee_unknown == "apply"
    path.write_text('name = "r"\nversion = "1"\nguarantee_unknown = "oui"\n', encoding="utf-8")
    with pytest.raises(RuleSetError, match="guarantee_unknown"):
        load_rules(path)
    path.write_text('name = "r"\nversion = "1"\nguarantee_deadline = "bientôt"\n', encoding="utf-8")
    with pytest.raises(RuleSetError, match="guarantee_deadline"):
        load_rules(path)


# -- a territory folder with planning documents, through the CLI -------------------------------


@pytest.fixture
def folder(tmp_path: Path, communes: pd.DataFrame, enaf: pd.DataFrame) -> Path:
    layer = gpd.GeoDataFrame(
        communes,
        geometry=[
            shapely.box(700_000 + i * 1e3, 6.3e6, 701_000 + i * 1e3, 6.301e6) for i in range(5)
        ],
        crs="EPSG:2154",
    )
    tidy = enaf.copy()
    tidy["activity_m2"] = tidy["enaf_m2"]
    for col in ("housing_m2", "mixed_m2", "road_m2", "rail_m2", "unknown_m2"):
        tidy[col] = 0.0
    t = Territory(
        name="Test",
        layers={"communes": validate_layer("communes", layer)},
        enaf_consumption=validate_layer("enaf_consumption", tidy),
        projects=empty_layer("projects"),
        planning_docs=docs_table(DOCS),
    )
    return t.to_folder(tmp_path / "t")


def test_planning_docs_are_stored_and_shown(folder: Path, tmp_path: Path) -> None:
    again = Territory.from_folder(folder)
    assert len(again.planning_docs) == len(DOCS)
    assert again.summary()["planning_docs"] == 4
    result = cli("zan", folder)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    line = {code: next(x for x in lines if x.startswith(code)) for code in CODES}
    assert " oui " in line["30001"] and " non " in line["30002"] and "inconnu" in line["30003"]
    assert "Hypothèses :" in lines
    assert any(x.startswith("- 1 commune(s) sans information") for x in lines)
    assert lines[-1].startswith("Total : enveloppe 3,80\u00a0ha")
    csv = cli("zan", folder, "--format", "csv", "--assumptions", tmp_path / "h.csv")
    table = pd.read_csv(io.StringIO(csv.stdout), dtype={"insee": str}).set_index("insee")
    assert table["guarantee_status"].tolist() == ["yes", "no", "unknown", "no", "yes"]
    assert table["guaranteed_ha"].tolist() == pytest.approx([0.4, 0, 0, 0, 0.4])
    assert "- 1 commune(s) sans information" in csv.stderr
    sidecar = pd.read_csv(tmp_path / "h.csv", sep=";", dtype=str)
    assert sidecar["key"].tolist() == ["guarantee_unknown_refused", "enaf_vintage"]
    assert sidecar.loc[0, "communes"] == "30003" and sidecar.loc[0, "count"] == "1"
    applied = cli("zan", folder, "--format", "json", "--guarantee-unknown", "apply")
    payload = json.loads(applied.stdout)
    assert payload["guarantee_unknown"] == "apply"
    rows = {r["insee"]: r for r in payload["budgets"]}
    assert rows["30003"]["envelope_ha"] == pytest.approx(1.0)
    assert [a["key"] for a in payload["assumptions"]] == [
        "guarantee_unknown_applied",
        "enaf_vintage",
    ]
    assert payload["code_mismatch"] == {"only_communes": [], "only_enaf": [], "common": 5}


def test_import_planning_docs_option(tmp_path: Path, real_data: Path) -> None:
    enaf = real_data / CEREMA_RIVES
    docs = tmp_path / "docs.csv"
    docs.write_text(
        "insee;type;date_prescription;date_arret;date_approbation\n"
        "07160;PLU;;;2019-04-02\n"  # Monestier: 0,06 ha baseline -> 1 ha
        "07128;CC;2027-02-01;;\n"  # Lalouvesc: prescribed too late
        "99999;PLU;;;2019-04-02\n",  # not in the territory
        encoding="utf-8",
    )
    out = tmp_path / "t"
    result = cli("import", "--enaf", enaf, "--planning-docs", docs, "--name", "R", "-o", out)
    assert result.exit_code == 0, result.output
    assert "150 commune(s) sans document renseigné" in result.output
    assert "1 commune(s) de la table hors du territoire, ignorée(s) : 99999" in result.output
    table = budget_table(Territory.from_folder(out)).set_index("insee")
    assert table.loc["07160", "guarantee_status"] == "yes"
    assert table.loc["07160", "envelope_ha"] == pytest.approx(1.0)
    assert table.loc["07128", "guarantee_status"] == "no"
    assert (table["guarantee_status"] == "unknown").sum() == 150


# -- ZAN from the real Cerema file alone, recomputed independently -----------------------------


def _independent(path: Path) -> pd.DataFrame:
    """The 2021-2031 ZAN table recomputed with pandas from the raw Cerema CSV (ha)."""
    raw = pd.read_csv(path, sep=";", dtype={"idcom": str, "epci24": str}, encoding="utf-8-sig")
    raw = raw.set_index("idcom")
    ref = [f"naf{y:02d}art{y + 1:02d}" for y in range(11, 21)]
    since = [f"naf{y:02d}art{y + 1:02d}" for y in range(21, 24)]
    out = pd.DataFrame(index=raw.index)
    out["epci"] = raw["epci24"]
    out["baseline_ha"] = raw[ref].sum(axis=1) / 1e4
    out["envelope_ha"] = out["baseline_ha"] / 2
    out["consumed_ha"] = raw[since].sum(axis=1) / 1e4
    out["remaining_ha"] = out["envelope_ha"] - out["consumed_ha"]
    out["pace_ha_per_year"] = out["consumed_ha"] / 3
    out["projected_end_ha"] = out["consumed_ha"] + out["pace_ha_per_year"] * (2031 - 2024)
    return out


FIGURES = ["baseline_ha", "envelope_ha", "consumed_ha", "remaining_ha", "pace_ha_per_year",
           "projected_end_ha"]  # fmt: skip


def test_real_rives_du_rhone_zan_from_the_cerema_file_alone(
    tmp_path: Path, real_data: Path
) -> None:
    path = real_data / CEREMA_RIVES
    out = tmp_path / "rives"
    result = cli("import", "--enaf", path, "--name", "Rives du Rhône", "-o", out)
    assert result.exit_code == 0, result.output
    assert "152 communes lues dans le fichier Cerema" in result.output
    zan = cli("zan", out, "--format", "csv")
    assert zan.exit_code == 0, zan.output
    table = pd.read_csv(io.StringIO(zan.stdout), dtype={"insee": str}).set_index("insee")
    expected = _independent(path)
    assert len(table) == 152 and sorted(table.index) == sorted(expected.index)
    # no planning documents: every status unknown, no guarantee (the 1 ha floor is not added)
    assert (table["guarantee_status"] == "unknown").all() and not table["guarantee_applied"].any()
    diff = (table[FIGURES] - expected.loc[table.index, FIGURES]).abs()
    assert diff.max().max() < 0.01
    assert (expected["envelope_ha"] < 1).sum() == 18  # communes the guarantee would lift
    assert "- 152 commune(s) sans information" in zan.stderr
    # with the guarantee applied by assumption, the 1 ha floor comes back
    applied = cli("zan", out, "--format", "csv", "--guarantee-unknown", "apply")
    lifted = pd.read_csv(io.StringIO(applied.stdout), dtype={"insee": str}).set_index("insee")
    floor = expected["envelope_ha"].clip(lower=1.0).loc[lifted.index]
    assert (lifted["envelope_ha"] - floor).abs().max() < 0.01
    assert lifted["guarantee_applied"].sum() == 18
    # pooled by EPCI (the file's epci24 column), and the info and table views work
    epci = cli("zan", out, "--format", "csv", "--pool", "epci")
    pooled = pd.read_csv(io.StringIO(epci.stdout), dtype={"insee": str}).set_index("insee")
    sums = expected.groupby("epci")[["envelope_ha", "consumed_ha"]].sum()
    assert (
        pooled[["envelope_ha", "consumed_ha"]] - sums.loc[pooled.index]
    ).abs().max().max() < 0.01
    assert pooled.loc["200072015", "name"] == "Communauté d'agglomération Annonay Rhône Agglo"
    shown = cli("zan", out)
    assert "Annonay" in shown.output and "enveloppe 677,84\u00a0ha" in shown.output
    assert "- 152 communes, leur EPCI et leur SCoT lus dans le fichier Cerema" in shown.output
    info = cli("info", out)
    assert "Communes : 152 lues dans le fichier Cerema, sans contours" in info.output
    supply = cli("supply", out, "-o", tmp_path / "u.gpkg")
    assert supply.exit_code == 2 and "géométries de communes" in supply.output


def test_zan_outputs_report_codes_on_one_side_only(
    tmp_path: Path, communes: pd.DataFrame, enaf: pd.DataFrame
) -> None:
    partial = enaf[enaf["insee"] != "30005"].copy()
    partial = pd.concat([partial, enaf[enaf["insee"] == "30001"].assign(insee="30099")])
    with pytest.warns(MissingEnafWarning, match="30005"):
        table = commune_budgets(communes, partial, planning_docs=docs_table(DOCS))
    assert table.attrs["code_mismatch"] == {
        "only_communes": ["30005"],
        "only_enaf": ["30099"],
        "common": 4,
    }
    by_key = {a["key"]: a for a in table.attrs["assumptions"]}
    assert by_key["communes_without_enaf"]["communes"] == ["30005"]
    assert "absente(s) du fichier Cerema (30005)" in by_key["communes_without_enaf"]["text"]
    assert by_key["enaf_without_commune"]["communes"] == ["30099"]
    with pytest.raises(DataSourceError, match="aucun code INSEE en commun"):
        commune_budgets(communes, enaf.assign(insee="07010"))
