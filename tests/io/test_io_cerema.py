from __future__ import annotations

import csv

import geopandas as gpd
import pandas as pd
import pytest
from _io_helpers import real, squares, write_geojson
from click.testing import CliRunner

from foncier.cli import main
from foncier.errors import DataSourceError
from foncier.io import EnafVintage, code_mismatch, read_cerema_enaf, write_cerema_enaf
from foncier.io.assemble import TerritorySources, build_territory
from foncier.scenarios import Scenario
from foncier.supply import land_units
from foncier.territory import Territory

USES = ("act", "hab", "mix", "rou", "fer", "inc")


def cerema_rows(first=2009, end=2021, communes=("30007", "30028"), epci_col="epci21"):
    """A small Cerema-like table: per year, act=100*(k+1)+y, hab=10, others 0, naf = their sum."""
    rows = []
    for k, code in enumerate(communes):
        row = {"idcom": code, "idcomtxt": f"Commune {k}", epci_col: "200066918", "scot": "S"}
        for y in range(first, end):
            yy, zz = f"{y % 100:02d}", f"{(y + 1) % 100:02d}"
            act = 100 * (k + 1) + (y - 2000)
            values = {"act": act, "hab": 10, "mix": 0, "rou": 0, "fer": 0, "inc": 0}
            row[f"naf{yy}art{zz}"] = sum(values.values())
            for u in USES:
                row[f"art{yy}{u}{zz}"] = values[u]
        rows.append(row)
    return pd.DataFrame(rows)


def write(table, path, *, sep=";", bom=False):
    text = table.to_csv(sep=sep, index=False)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_reads_tidy_table_and_vintage(tmp_path):
    tidy = read_cerema_enaf(write(cerema_rows(), tmp_path / "c.csv"))
    assert tidy.attrs["vintage"] == EnafVintage(2009, 2021)
    assert tidy.attrs["vintage"].label == "Cerema 2009-2021"
    assert len(tidy) == 2 * 12
    row = tidy[(tidy["insee"] == "30028") & (tidy["year"] == 2015)].iloc[0]
    assert row["activity_m2"] == 215 and row["housing_m2"] == 10 and row["enaf_m2"] == 225
    communes = tidy.attrs["communes"]
    assert communes["epci"].tolist() == ["200066918", "200066918"]
    assert tidy.attrs["load_report"].rows_rejected == []


@pytest.mark.parametrize("end", [2021, 2022, 2023, 2024, 2025, 2026])
def test_every_known_vintage_with_its_epci_column(tmp_path, end):
    table = cerema_rows(end=end, epci_col=f"epci{end % 100}")
    tidy = read_cerema_enaf(write(table, tmp_path / "c.csv"))
    assert tidy.attrs["vintage"].end_year == end
    assert sorted(tidy["year"].unique()) == list(range(2009, end))
    assert tidy.attrs["communes"]["epci"].notna().all()


def test_bom_extra_columns_and_upper_case_headers(tmp_path):
    table = cerema_rows()
    table["groupe"] = "x"
    table["taux_artif"] = "1,5"
    table.columns = [c.upper() if c.startswith("naf") else c for c in table.columns]
    tidy = read_cerema_enaf(write(table, tmp_path / "c.csv", bom=True))
    assert len(tidy) == 24
    assert "groupe" not in tidy.columns


def test_minus_one_rounding_values_are_zero_and_noted(tmp_path):
    table = cerema_rows()
    # Cerema writes -1 to make the uses add up to the rounded naf.
    table.loc[0, "art15mix16"] = -1
    table.loc[0, "art15act16"] += 1
    tidy = read_cerema_enaf(write(table, tmp_path / "c.csv"))
    row = tidy[(tidy["insee"] == "30007") & (tidy["year"] == 2015)].iloc[0]
    assert row["mixed_m2"] == 0
    notes = " ".join(tidy.attrs["load_report"].notes)
    assert "1 valeur(s) de destination à -1 m²" in notes
    assert "differs" not in notes  # the published figures add up


def test_more_negative_values_reject_the_commune_year(tmp_path):
    table = cerema_rows()
    table.loc[1, "art12hab13"] = -50
    tidy = read_cerema_enaf(write(table, tmp_path / "c.csv"))
    assert tidy.attrs["load_report"].rows_rejected == [("30028/2012", "consommation négative")]
    assert len(tidy) == 23


def test_naf_differing_from_the_sum_is_reported(tmp_path):
    table = cerema_rows()
    table.loc[0, "naf10art11"] += 5
    tidy = read_cerema_enaf(write(table, tmp_path / "c.csv"))
    notes = tidy.attrs["load_report"].notes
    assert any("1 ligne(s) où naf diffère" in n and "30007/2010" in n for n in notes)
    row = tidy[(tidy["insee"] == "30007") & (tidy["year"] == 2010)].iloc[0]
    assert row["enaf_m2"] == row[["activity_m2", "housing_m2"]].sum() + 5  # naf kept


def test_blank_cell_rejects_the_commune_year(tmp_path):
    table = cerema_rows().astype(str)
    table.loc[0, "art18rou19"] = ""
    tidy = read_cerema_enaf(write(table, tmp_path / "c.csv"))
    assert tidy.attrs["load_report"].rows_rejected == [("30007/2018", "chiffres manquants")]


def test_missing_year_column(tmp_path):
    table = cerema_rows().drop(columns=["naf14art15"])
    with pytest.raises(DataSourceError, match=r"c.csv.*naf14art15.*manquent"):
        read_cerema_enaf(write(table, tmp_path / "c.csv"))


def test_missing_destination_column(tmp_path):
    table = cerema_rows().drop(columns=["art14fer15"])
    with pytest.raises(DataSourceError, match=r"art14fer15.*2014"):
        read_cerema_enaf(write(table, tmp_path / "c.csv"))


def test_wrong_separator(tmp_path):
    with pytest.raises(DataSourceError, match=r"c.csv.*séparé par des ';'.*virgules"):
        read_cerema_enaf(write(cerema_rows(), tmp_path / "c.csv", sep=","))


def test_text_in_numeric_column(tmp_path):
    table = cerema_rows().astype(str)
    table.loc[1, "naf16art17"] = "12,5"
    with pytest.raises(DataSourceError, match=r"naf16art17.*texte.*30028.*12,5"):
        read_cerema_enaf(write(table, tmp_path / "c.csv"))


def test_truncated_file(tmp_path):
    path = write(cerema_rows(), tmp_path / "c.csv")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(DataSourceError, match=r"c.csv.*tronqué.*30028"):
        read_cerema_enaf(path)


def test_any_vintage_is_named_from_its_columns(tmp_path):
    tidy = read_cerema_enaf(write(cerema_rows(first=2012), tmp_path / "c.csv"))
    assert tidy.attrs["vintage"] == EnafVintage(2012, 2021)
    assert tidy.attrs["vintage"].label == "Cerema 2012-2021"
    assert sorted(tidy["year"].unique()) == list(range(2012, 2021))


def test_renamed_idcom_and_no_flow_columns(tmp_path):
    with pytest.raises(DataSourceError, match="pas de colonne 'idcom'"):
        read_cerema_enaf(write(cerema_rows().rename(columns={"idcom": "code"}), tmp_path / "a.csv"))
    table = cerema_rows()[["idcom", "idcomtxt"]]
    with pytest.raises(DataSourceError, match="aucune colonne de flux annuel"):
        read_cerema_enaf(write(table, tmp_path / "b.csv"))


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataSourceError, match="vide"):
        read_cerema_enaf(tmp_path / "e.csv")
    with pytest.raises(DataSourceError, match="impossible de lire"):
        read_cerema_enaf(tmp_path / "absent.csv")


def test_round_trip_through_the_writer(tmp_path):
    tidy = read_cerema_enaf(write(cerema_rows(end=2023), tmp_path / "c.csv"))
    out = write_cerema_enaf(tidy, tmp_path / "out.csv", communes=tidy.attrs["communes"])
    again = read_cerema_enaf(out)
    pd.testing.assert_frame_equal(again, tidy, check_like=True)


def _baseline_from_raw(path, codes):
    """Baseline 2011-2021 (flows naf11art12 … naf20art21) read with the csv module."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = {r["idcom"]: r for r in csv.DictReader(f, delimiter=";")}
    return {
        c: sum(float(rows[c][f"naf{y:02d}art{y + 1:02d}"]) for y in range(11, 21)) for c in codes
    }


@pytest.mark.parametrize(
    ("name", "n_communes"),
    [("cc_porte_dromeardeche", 34), ("scot_rives_du_rhone", 152)],
)
def test_real_files_and_their_2011_2021_baseline(name, n_communes):
    path = real(f"conso_enaf/cerema_conso2009_2024_data_{name}.csv")
    tidy = read_cerema_enaf(path)
    assert tidy.attrs["vintage"] == EnafVintage(2009, 2024)
    assert tidy["insee"].nunique() == n_communes
    assert len(tidy) == n_communes * 15
    report = tidy.attrs["load_report"]
    assert report.rows_rejected == []
    codes = sorted(tidy["insee"].unique())[:5]
    expected = _baseline_from_raw(path, codes)
    ref = tidy[tidy["year"].between(2011, 2020) & tidy["insee"].isin(codes)]
    baseline = ref.groupby("insee")["enaf_m2"].sum().to_dict()
    assert baseline == pytest.approx(expected)
    assert tidy.attrs["communes"]["epci"].str.fullmatch(r"\d{9}").all()


def test_short_line_in_the_middle(tmp_path):
    path = write(cerema_rows(communes=("30007", "30028", "30035")), tmp_path / "c.csv")
    lines = path.read_text().splitlines()
    lines[2] = ";".join(lines[2].split(";")[:10])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataSourceError, match=r"1 ligne\(s\) ont moins de champs.*30028"):
        read_cerema_enaf(path)


def test_duplicate_commune(tmp_path):
    with pytest.raises(DataSourceError, match=r"c.csv.*clés en double.*30007"):
        read_cerema_enaf(write(cerema_rows(communes=("30007", "30007")), tmp_path / "c.csv"))


# -- any vintage, communes from the file, codes matched against a communes layer ------------


def test_vintage_2011_2026_with_renamed_columns(tmp_path):
    table = cerema_rows(first=2011, end=2026, epci_col="epci25")
    table["epci23"] = "999999999"  # an older EPCI column: the latest one wins
    table["epci25txt"] = "CA Test"
    table = table.rename(columns={"scot": "scot25"})
    # totals over the vintage in the older naming (nafart1126), one of them wrong by 50 m²
    flows = [f"naf{y % 100:02d}art{(y + 1) % 100:02d}" for y in range(2011, 2026)]
    table["nafart1126"] = table[flows].sum(axis=1)
    table.loc[1, "nafart1126"] += 50
    table.columns = [c.upper() if c.startswith("art") else c for c in table.columns]
    tidy = read_cerema_enaf(write(table, tmp_path / "c.csv"))
    assert tidy.attrs["vintage"] == EnafVintage(2011, 2026)
    assert tidy.attrs["vintage"].label == "Cerema 2011-2026"
    assert sorted(tidy["year"].unique()) == list(range(2011, 2026))
    row = tidy[(tidy["insee"] == "30028") & (tidy["year"] == 2025)].iloc[0]
    assert row["activity_m2"] == 200 + 25 and row["enaf_m2"] == 235
    communes = tidy.attrs["communes"]
    assert communes["epci"].tolist() == ["200066918", "200066918"]
    assert communes["epci_name"].tolist() == ["CA Test", "CA Test"]
    assert communes["scot"].tolist() == ["S", "S"]
    assert communes["name"].tolist() == ["Commune 0", "Commune 1"]
    notes = " ".join(tidy.attrs["load_report"].notes)
    assert "1 commune(s) dont les flux annuels ne font pas le total nafart1126" in notes
    assert "30028" in notes and "30007" not in notes


def test_code_mismatch_lists_both_sides():
    m = code_mismatch(["30007", "30028", "30035"], ["30007", "07010", "07009", "30035"])
    assert m.only_communes == ("30028",) and m.only_enaf == ("07009", "07010")
    assert m.common == 2 and bool(m)
    lines = m.lines()
    assert lines[0].startswith("1 commune(s) de la couche communes absente(s) du fichier Cerema")
    assert "(30028)" in lines[0]
    assert lines[1].startswith("2 commune(s) du fichier Cerema absente(s) de la couche communes")
    assert "07009, 07010" in lines[1]
    assert not code_mismatch(["1001"], ["01001"])  # codes normalised before comparing


RIVES = "conso_enaf/cerema_conso2009_2024_data_scot_rives_du_rhone.csv"


def test_import_from_the_cerema_file_alone(tmp_path):
    path = real(RIVES)
    territory = build_territory("Rives", TerritorySources(enaf=path), tmp_path / "dem.tif")
    assert territory.communes_from_enaf and len(territory.communes) == 0
    table = territory.commune_table()
    raw = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")
    assert table["insee"].tolist() == raw["idcom"].tolist() and len(table) == 152
    assert table.set_index("insee").loc["07010", "name"] == "Annonay"
    assert table.set_index("insee").loc["07010", "epci"] == "200072015"
    assert (table["scot"] == "SCoT des Rives du Rhône").all()
    assert territory.metadata["communes_source"] == "enaf"
    folder = territory.to_folder(tmp_path / "t")
    again = Territory.from_folder(folder)
    assert again.communes_from_enaf
    back = again.commune_table().set_index("insee")
    pd.testing.assert_frame_equal(
        back[["name", "epci", "epci_name", "scot"]],
        table.set_index("insee")[["name", "epci", "epci_name", "scot"]],
    )
    assert again.summary()["communes_source"] == "enaf"
    with pytest.raises(DataSourceError, match="géométries de communes.*152 communes.*--communes"):
        land_units(again)
    with pytest.raises(DataSourceError, match="affectation des projets.*--communes"):
        Scenario(again).run()


def test_ales_communes_with_the_rives_du_rhone_file_are_refused(tmp_path):
    communes = real("admin/communes_ales_agglomeration_2018geom.geojson")
    enaf = real(RIVES)
    epci_json = real("admin/epci_france_decoupage_administratif.json")
    sources = TerritorySources(communes=[communes], enaf=enaf, epci_json=epci_json)
    with pytest.raises(DataSourceError) as err:
        build_territory("Alès", sources, tmp_path / "dem.tif")
    msg = str(err.value)
    assert str(communes) in msg and str(enaf) in msg
    assert "72 communes, 30007, 30010" in msg and "152 communes, 07009, 07010" in msg
    assert "aucune commune en commun" in msg
    result = CliRunner().invoke(
        main,
        ["import", "--communes", str(communes), "--epci-json", str(epci_json), "--enaf", str(enaf),
         "--name", "A", "-o", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Erreur : aucune commune en commun" in result.output
    assert not (tmp_path / "out").exists()


def test_partial_code_mismatch_is_reported_at_import(tmp_path):
    enaf = write(cerema_rows(communes=("30007", "30028", "30035")), tmp_path / "c.csv")
    communes = gpd.GeoDataFrame(
        {
            "code": ["30007", "30028", "30099"],
            "nom": ["Alès", "Bagard", "Ailleurs"],
            "epci": "200066918",
        },
        geometry=squares()[:3],
        crs="EPSG:2154",
    ).to_crs("EPSG:4326")
    layer = write_geojson(tmp_path / "communes.geojson", communes)
    out = tmp_path / "t"
    result = CliRunner().invoke(
        main,
        ["import", "--communes", str(layer), "--enaf", str(enaf), "--name", "T", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert (
        "Codes communes : 1 commune(s) de la couche communes absente(s) du fichier Cerema "
        "(30099)" in result.output
    )
    assert (
        "Codes communes : 1 commune(s) du fichier Cerema absente(s) de la couche communes "
        "(30035)" in result.output
    )
    meta = Territory.from_folder(out).metadata["code_mismatch"]
    assert meta == {"only_communes": ["30099"], "only_enaf": ["30035"], "common": 2}
