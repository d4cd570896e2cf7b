"""Supply at scale: parcels read by batches, and per département on a local Dask cluster."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import distributed
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from foncier.errors import DataSourceError, OutputError
from foncier.layers import empty_layer, validate_layer
from foncier.partitioned import (
    SOURCE_NAME,
    check_partitions,
    departement,
    partitioned_land_units,
    read_supply_territory,
    write_partitioned_parcels,
)
from foncier.sample import make_sample
from foncier.supply import candidate_areas, land_units
from foncier.territory import Territory
from foncier.testing import assert_layer_equal

#: Columns ordering units the same way whatever their numbering.
ORDER = ["origin", "site_id", "idus", "gross_area_ha"]


def same_units(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame) -> None:
    """Equal units (``unit_id`` aside: the partitioned run numbers them in its own order)."""
    a = left.sort_values(ORDER).reset_index(drop=True).drop(columns="unit_id")
    b = right.sort_values(ORDER).reset_index(drop=True).drop(columns="unit_id")
    assert_layer_equal(a, b, check_less_precise=1e-9)


@pytest.fixture(scope="module")
def cluster():
    """A local Dask cluster of two single-threaded workers, as its client."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


def test_departement_codes() -> None:
    codes = pd.Series(["30007", "34172", "2A004", "2B033", "97411", "97101"])
    assert departement(codes).tolist() == ["30", "34", "2A", "2B", "974", "971"]


def test_batches_keep_only_the_parcels_the_supply_reads(
    sample_folder: Path, sample: Territory, units: gpd.GeoDataFrame
) -> None:
    light = read_supply_territory(sample_folder, batch_size=4_000)  # several batches
    assert light.metadata["parcels_read"] == len(sample.parcels)
    kept = light.parcels
    assert light.metadata["parcels_kept"] == len(kept) < len(sample.parcels) / 10
    # every parcel kept meets a candidate area or is listed by a friche, and no other is
    areas, listed = candidate_areas(sample.plu_zones, sample.zae_plots, sample.friches)
    tree = shapely.STRtree(areas)
    geoms = sample.parcels.geometry.to_numpy()
    meets = np.zeros(len(geoms), dtype=bool)
    meets[tree.query(geoms, predicate="intersects")[0]] = True
    meets |= sample.parcels["idu"].isin(listed).to_numpy()
    assert sorted(kept["idu"]) == sorted(sample.parcels.loc[meets, "idu"])
    assert "parcelles sur" in light.reports["parcels"].notes[-1]
    assert_layer_equal(land_units(light), units)


def _relabel(territory: Territory, codes: list[str], to: str) -> None:
    """Move communes ``codes`` to département ``to``: every code, idu and list that names them."""
    pattern = (
        r"(?<![0-9A-Za-z])("
        + "|".join(c[:2] for c in codes)
        + r")("
        + "|".join(c[2:] for c in codes)
        + r")"
    )
    wanted = re.compile(pattern)

    def repl(m: re.Match[str]) -> str:
        return to + m.group(2) if m.group(0) in codes else m.group(0)

    frames = [*territory.layers.values(), territory.enaf_consumption, territory.projects]
    for frame in [*frames, territory.planning_docs]:
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                values = frame[column]
                text = values.notna() & values.map(lambda v: isinstance(v, str))
                frame.loc[text, column] = values[text].str.replace(wanted, repl, regex=True)


@pytest.fixture(scope="module")
def two_departements(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with one commune moved to département 34, written as a folder.

    The commune moved is the second one of the first unit lying on two
    communes: that unit then lies on two départements.
    """
    territory = make_sample(n_parcels=3_000, seed=0, n_communes=20)
    communes = (
        land_units(territory)["idus"].str.split("|").map(lambda ids: sorted({i[:5] for i in ids}))
    )
    moved = communes[communes.map(len) > 1].iloc[0][1]
    _relabel(territory, [moved], "34")
    folder = tmp_path_factory.mktemp("two") / "territory"
    territory.to_folder(folder)
    return folder


def test_partitioned_sample_matches_single_process(
    two_departements: Path, tmp_path: Path, cluster
) -> None:
    single = land_units(Territory.from_folder(two_departements))
    assert set(departement(single["insee"])) == {"30", "34"}
    written = write_partitioned_parcels(two_departements, tmp_path / "parts", batch_size=1_000)
    assert written == ["30", "34"]
    assert sorted(p.name for p in (tmp_path / "parts").iterdir() if p.is_dir()) == [
        "departement=30",
        "departement=34",
    ]
    parts, read = partitioned_land_units(two_departements, tmp_path / "parts")
    assert parts.attrs["departements"] == ["30", "34"]
    assert len(read.parcels) == parts.attrs["parcels_kept"]
    assert set(read.parcels["idu"]) < set(Territory.from_folder(two_departements).parcels["idu"])
    # a friche on the border holds parcels of both départements: its task reads both sides
    both = single["idus"].str.split("|").map(lambda ids: len({i[:2] for i in ids if i}) > 1)
    assert both.any()
    same_units(single, parts)
    assert parts["unit_id"].tolist() == [f"U-{i:05d}" for i in range(1, len(parts) + 1)]


# -- a unit straddling a border, by hand ---------------------------------------------
X0, Y0 = 800_000.0, 6_330_000.0


def _grid_territory() -> Territory:
    """Two communes side by side (30007 west, 34001 east) of 2x4 parcels of 1 ha each.

    Each has its activity zone (U, destdomi 02) over its parcels; a friche
    spans the border on the north row's two middle parcels; all parcels are
    private and ENAF.
    """
    cells = [(c, r) for r in range(2) for c in range(4)]
    geoms = [
        box(X0 + 100 * c, Y0 + 100 * r, X0 + 100 * (c + 1), Y0 + 100 * (r + 1)) for c, r in cells
    ]
    insee = ["30007" if c < 2 else "34001" for c, _ in cells]
    numero = [f"{k + 1:04d}" for k in range(len(cells))]
    parcels = gpd.GeoDataFrame(
        {
            "idu": [f"{i}000AB{n}" for i, n in zip(insee, numero, strict=True)],
            "insee": insee,
            "section": "AB",
            "numero": numero,
            "contenance_m2": 10_000.0,
            "owner_kind": "private",
            "land_cover": "enaf",
        },
        geometry=geoms,
        crs="EPSG:2154",
    )
    west, east = box(X0, Y0, X0 + 200, Y0 + 200), box(X0 + 200, Y0, X0 + 400, Y0 + 200)
    communes = gpd.GeoDataFrame(
        {"insee": ["30007", "34001"], "name": ["Alès", "Lunel"], "epci": "200066918"},
        geometry=[
            box(X0 - 300, Y0 - 300, X0 + 200, Y0 + 500),
            box(X0 + 200, Y0 - 300, X0 + 700, Y0 + 500),
        ],
        crs="EPSG:2154",
    )
    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["Z1", "Z2"],
            "insee": ["30007", "34001"],
            "libelle": "UE",
            "zone_type": "U",
            "destdomi": "02",
        },
        geometry=[west, east],
        crs="EPSG:2154",
    )
    friches = gpd.GeoDataFrame(
        {
            "site_id": ["F1"],
            "name": ["Ancienne usine"],
            "insee": ["30007"],
            "status": "friche sans projet",
        },
        geometry=[box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 200)],
        crs="EPSG:2154",
    )
    layers = {
        "communes": validate_layer("communes", communes),
        "parcels": validate_layer("parcels", parcels),
        "plu_zones": validate_layer("plu_zones", zones),
        "friches": validate_layer("friches", friches),
    }
    return Territory(
        name="deux départements",
        layers=layers,
        enaf_consumption=empty_layer("enaf_consumption"),
        projects=empty_layer("projects"),
    )


def test_unit_straddling_a_border_is_merged(tmp_path: Path, cluster) -> None:
    folder = tmp_path / "territory"
    _grid_territory().to_folder(folder)
    single = land_units(Territory.from_folder(folder))
    write_partitioned_parcels(folder, tmp_path / "parts")
    parts, read = partitioned_land_units(folder, tmp_path / "parts")
    same_units(single, parts)
    assert parts.attrs["border_units"] == 1
    by_origin = parts.set_index("origin")
    # the six parcels outside the friche: one unit of 6 ha over both départements
    activity = by_origin.loc["activity_zone"]
    assert activity["net_area_ha"] == pytest.approx(6.0)
    assert activity["idus"] == "|".join(
        ["30007000AB0001", "30007000AB0002", "30007000AB0005", "34001000AB0003",
         "34001000AB0004", "34001000AB0008"]
    )  # fmt: skip
    assert activity["insee"] == "30007"  # of its largest candidate; ties go to the first
    assert activity["enaf_share"] == pytest.approx(1.0)
    # the friche (2 ha) lists the parcels of both sides under it
    friche = by_origin.loc["friche"]
    assert friche["net_area_ha"] == pytest.approx(2.0)
    assert friche["idus"] == "30007000AB0006|34001000AB0007"


def test_partitions_missing(two_departements: Path, tmp_path: Path, cluster) -> None:
    with pytest.raises(DataSourceError, match="partitionnées"):
        partitioned_land_units(two_departements, tmp_path / "absent")


def test_cli_supply_partitioned(two_departements: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from foncier.cli import main

    out = tmp_path / "units.gpkg"
    runner = CliRunner()
    parts = tmp_path / "parts"
    args = ["supply", str(two_departements), "-o", str(out), "--partition-by", "departement"]
    result = runner.invoke(main, [*args, "--partitions", str(parts)])
    assert result.exit_code == 0, result.output
    written = gpd.read_file(out, layer="land_units")
    single = land_units(Territory.from_folder(two_departements)).sort_values(ORDER)
    written = written.sort_values(ORDER)
    # the GeoPackage layer holds multipolygons: the shapes are compared by their areas
    assert written.area.to_numpy() == pytest.approx(single.area.to_numpy(), rel=1e-12)
    assert_layer_equal(
        pd.DataFrame(written.drop(columns=["geometry", "unit_id"])).reset_index(drop=True),
        pd.DataFrame(single.drop(columns=["geometry", "unit_id"])).reset_index(drop=True),
        check_less_precise=1e-9,
        check_dtype=False,
    )
    assert (parts / "departement=34").is_dir()
    assert "parcelles lues par l'offre" in result.output
    # a real cluster needs the partitions where its workers can read them
    result = runner.invoke(
        main, [*args[:3], str(tmp_path / "b.gpkg"), *args[4:], "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert result.exit_code == 2
    assert "Erreur : --scheduler demande --partitions" in result.output


def test_cli_refuses_partitions_of_other_parcels(two_departements: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from foncier.cli import main

    mine = Territory.from_folder(two_departements).to_folder(tmp_path / "mine")
    other = tmp_path / "other"
    changed = Territory.from_folder(mine)
    changed.layers["parcels"] = changed.layers["parcels"].iloc[2:]
    changed.to_folder(other)
    parts = tmp_path / "parts"
    assert write_partitioned_parcels(mine, parts) == ["30", "34"]
    check_partitions(mine, parts)  # written from it, unchanged: reused
    runner = CliRunner()

    def supply(folder: Path, *extra: str) -> Any:
        args = ["supply", str(folder), "-o", str(tmp_path / f"{folder.name}.gpkg")]
        args += ["--partition-by", "departement", "--partitions", str(parts), *extra]
        return runner.invoke(main, args)

    result = supply(other)
    assert result.exit_code != 0
    assert f"les parcelles partitionnées du dossier {parts}" in result.output
    assert f"d'un autre territoire ({mine.resolve()})" in result.output
    assert "relancez avec --force" in result.output
    assert not (tmp_path / "other.gpkg").exists()
    # the territory changed since: refused too, then rewritten with --force
    territory = Territory.from_folder(mine)
    territory.layers["parcels"] = territory.layers["parcels"].iloc[1:]
    territory.to_folder(mine, force=True)
    with pytest.raises(OutputError, match="version antérieure"):
        check_partitions(mine, parts)
    result = supply(mine, "--force")
    assert result.exit_code == 0, result.output + str(result.exception)
    check_partitions(mine, parts)
    (parts / SOURCE_NAME).unlink()
    with pytest.raises(OutputError, match="absent ou illisible"):
        check_partitions(mine, parts)


def test_index_and_scan_read_the_same_parcels_and_count_unknown_cover_on_all(
    sample: Territory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from foncier import partitioned
    from foncier.assumptions import assumptions

    territory = Territory.from_folder(sample.folder)
    parcels = territory.layers["parcels"]
    unknown = np.arange(0, len(parcels), 7)  # most of them far from any candidate land
    cover = parcels["land_cover"].to_numpy(dtype=object, copy=True)
    cover[unknown] = "unknown"
    territory.layers["parcels"] = parcels.assign(land_cover=cover)
    folder = territory.to_folder(tmp_path / "t")
    full = Territory.from_folder(folder)
    units = land_units(full)
    indexed = read_supply_territory(folder)
    monkeypatch.setattr(partitioned, "_indexed_rows", lambda *a: None)  # no R-tree: batches
    scanned = read_supply_territory(folder, batch_size=5_000)
    assert_layer_equal(indexed.parcels, scanned.parcels)
    assert len(indexed.parcels) < len(full.parcels) / 10
    assert "_cover_only" not in indexed.parcels.columns
    counted = indexed.metadata["parcels_unknown_cover"]
    assert counted == scanned.metadata["parcels_unknown_cover"]
    assert counted["count"] == len(unknown)
    assert counted["area_m2"] == float(full.parcels.geometry.area.to_numpy()[unknown].sum())
    assert_layer_equal(land_units(indexed), units)
    # the land-cover assumption counts every parcel of the territory, not those read
    said = assumptions(full, units)
    assert assumptions(indexed, units) == said
    said = {a["code"]: a["text"] for a in said}
    assert said["unknown_cover_as_enaf"].startswith(f"{len(unknown)} parcelle(s)")
