"""The synthetic région: départements side by side in one territory folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from foncier.partitioned import departement, read_supply_territory
from foncier.region_sample import write_region_sample
from foncier.sample import make_sample
from foncier.supply import land_units
from foncier.territory import Territory
from tests.test_partitioned import same_units


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two départements of about 2,000 parcels each."""
    folder = tmp_path_factory.mktemp("region") / "territory"
    return write_region_sample(folder, departements=2, parcels_each=2_000, n_communes=20)


@pytest.fixture(scope="module")
def territory(region: Path) -> Territory:
    return Territory.from_folder(region)


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Territory:
    """The région's second département drawn alone, where the sample lies."""
    dem = tmp_path_factory.mktemp("dem")
    return make_sample(2_000, seed=1, n_communes=20, dem_dir=dem, departement="34")


def _shift(territory: Territory, alone: Territory) -> np.ndarray:
    """Offset of ``alone``'s communes in the région (the same communes, moved)."""
    moved = territory.communes[territory.communes["insee"].str.startswith("34")]
    here = shapely.get_coordinates(moved.geometry.to_numpy())
    there = shapely.get_coordinates(alone.communes.geometry.to_numpy())
    assert here.shape == there.shape
    shift = here[0] - there[0]
    np.testing.assert_allclose(here - there, np.broadcast_to(shift, here.shape), atol=1e-6)
    return shift


def test_departements_have_their_own_codes_and_ids(territory: Territory) -> None:
    assert sorted(set(departement(territory.communes["insee"]))) == ["30", "34"]
    for name in ("parcels", "plu_zones", "friches"):
        codes = departement(territory.layers[name]["insee"])
        assert sorted(set(codes)) == ["30", "34"]
    parcels = territory.parcels
    assert (parcels["idu"].str[:5] == parcels["insee"]).all()
    assert parcels["idu"].is_unique
    for name, column in [
        ("zae", "site_id"),
        ("zae_plots", "plot_id"),
        ("constraints", "constraint_id"),
        ("infrastructure", "infra_id"),
        ("friches", "site_id"),
    ]:
        ids = territory.layers[name][column]
        assert ids.is_unique, name
        assert sorted(set(ids.str[:2])) == ["30", "34"], name
    assert territory.projects["project_id"].is_unique
    assert len(territory.projects) == 2 * 131
    epci = territory.communes.groupby(departement(territory.communes["insee"]))["epci"]
    assert not set(epci.get_group("30")) & set(epci.get_group("34"))
    scot = territory.communes.groupby(departement(territory.communes["insee"]))["scot"]
    assert not set(scot.get_group("30")) & set(scot.get_group("34"))


def test_departements_do_not_overlap(territory: Territory) -> None:
    communes = territory.communes
    code = departement(communes["insee"])
    gard = shapely.union_all(communes.geometry[code == "30"].to_numpy())
    herault = shapely.union_all(communes.geometry[code == "34"].to_numpy())
    assert shapely.intersection(gard, herault).area == 0
    assert shapely.distance(gard, herault) > 1_000
    parcels = territory.parcels
    outside = ~shapely.covered_by(
        parcels.geometry.to_numpy(),
        np.where(departement(parcels["insee"]) == "30", gard.buffer(1e-3), herault.buffer(1e-3)),
    )
    assert not outside.any()


def test_a_departement_is_the_sample_moved(territory: Territory, second: Territory) -> None:
    shift = _shift(territory, second)
    assert np.abs(shift).max() > 30_000
    moved = territory.parcels[departement(territory.parcels["insee"]) == "34"]
    assert moved["idu"].tolist() == second.parcels["idu"].tolist()
    back = shapely.transform(moved.geometry.to_numpy(), lambda xy: xy - shift)
    assert shapely.equals_exact(back, second.parcels.geometry.to_numpy(), tolerance=1e-6).all()


def test_one_dem_holds_every_departement(territory: Territory, second: Territory) -> None:
    shift = _shift(territory, second)
    assert second.dem_path is not None and territory.dem_path is not None
    points = shapely.get_coordinates(second.parcels.geometry.representative_point().to_numpy())
    with rasterio.open(second.dem_path) as alone, rasterio.open(territory.dem_path) as whole:
        assert whole.res == alone.res
        z_alone = np.array([v[0] for v in alone.sample(points)])
        z_whole = np.array([v[0] for v in whole.sample(points + shift)])
    np.testing.assert_array_equal(z_whole, z_alone)
    assert (z_alone > 0).all()


def test_tables_cover_every_commune(territory: Territory) -> None:
    insee = set(territory.communes["insee"])
    assert len(insee) == 40
    assert set(territory.enaf_consumption["insee"]) == insee
    assert set(territory.planning_docs["insee"]) == insee
    preferred = territory.projects["preferred_insee"].dropna()
    assert set(preferred) <= insee
    assert {"30", "34"} <= set(departement(preferred))
    per_dep = territory.enaf_consumption.groupby(departement(territory.enaf_consumption["insee"]))
    assert per_dep["enaf_m2"].sum().round().tolist() == [
        round(float(make_sample(2_000, seed=s, n_communes=20).enaf_consumption["enaf_m2"].sum()))
        for s in (0, 1)
    ]
    assert territory.metadata["departements"] == ["30", "34"]
    assert territory.synthetic


def test_supply_by_batches_is_the_supply_in_memory(region: Path, territory: Territory) -> None:
    whole = land_units(territory)
    assert sorted(set(departement(whole["insee"]))) == ["30", "34"]
    assert whole.attrs["share_without_slope"] == 0
    light = read_supply_territory(region, batch_size=500)
    assert light.metadata["parcels_read"] == len(territory.parcels)
    assert light.metadata["parcels_kept"] < len(territory.parcels) / 2
    same_units(whole, land_units(light))


def test_refused_counts(tmp_path: Path) -> None:
    for count in (0, 14):
        with pytest.raises(ValueError, match="departements doit être entre 1 et 13"):
            write_region_sample(tmp_path / "r", departements=count, parcels_each=2_000)
    assert not (tmp_path / "r").exists()


def test_sample_departement_changes_only_the_codes(tmp_path: Path) -> None:
    gard = make_sample(2_000, seed=1, n_communes=20, dem_dir=tmp_path / "a")
    other = make_sample(2_000, seed=1, n_communes=20, dem_dir=tmp_path / "b", departement="2A")
    assert set(gard.communes["insee"].str[:2]) == {"30"}
    assert set(other.communes["insee"].str[:2]) == {"2A"}
    for name, layer in gard.layers.items():
        mine = other.layers[name]
        assert shapely.equals_exact(
            layer.geometry.to_numpy(), mine.geometry.to_numpy(), tolerance=0
        ).all(), name
        # the codes and the ids built on them: only in the text columns
        text = layer.drop(columns="geometry").select_dtypes(exclude="number").astype(str)
        expected = layer.drop(columns="geometry").astype(str)
        expected[text.columns] = text.replace(r"\b30(\d{3})", r"2A\1", regex=True)
        pd.testing.assert_frame_equal(expected, mine.drop(columns="geometry").astype(str))
    for bad in ("20", "97", "3", "300", "2C"):
        with pytest.raises(ValueError, match="département métropolitain"):
            make_sample(2_000, seed=1, n_communes=20, departement=bad)


def test_sample_cli_writes_the_region(tmp_path: Path, territory: Territory) -> None:
    from click.testing import CliRunner

    from foncier.cli import main

    out = tmp_path / "r"
    res = CliRunner().invoke(
        main, ["sample", str(out), "--parcels", "4000", "--communes", "20", "--departements", "2"]
    )
    assert res.exit_code == 0, res.output
    assert "2 départements (2000 parcelles chacun, graines 0 à 1)" in res.output
    # the same région as write_region_sample's with the same counts and seed
    written = Territory.from_folder(out)
    assert set(written.communes["insee"].str[:2]) == {"30", "34"}
    pd.testing.assert_frame_equal(written.parcels, territory.parcels)
    n = len(territory.parcels)
    assert f"Écrit dans {out} : 40 communes, {n} parcelles, {len(territory.projects)} projets." in (
        res.output
    )
    # a folder holding the user's files is refused, and left as it was
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("à garder", encoding="utf-8")
    res = CliRunner().invoke(main, ["sample", str(mine), "--departements", "2"])
    assert res.exit_code == 2 and res.output.startswith("Erreur : ")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
