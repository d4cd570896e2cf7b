"""Land units cached against the hash of their inputs (foncier.units_cache)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from foncier import units_cache
from foncier.supply import land_units
from foncier.territory import Territory
from foncier.testing import assert_layer_equal
from foncier.units_cache import UnitsCacheWarning, cache_folder, folder_land_units, units_key


@pytest.fixture
def folder(sample_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample folder, with a cache of its own."""
    monkeypatch.setenv("FONCIER_CACHE_DIR", str(tmp_path / "cache"))
    copy = tmp_path / "territoire"
    shutil.copytree(sample_folder, copy)
    return copy


def _entries() -> list[Path]:
    return sorted(cache_folder().glob("*.parquet"))


def test_same_inputs_read_back_identical(folder: Path) -> None:
    before = sorted(p.name for p in folder.iterdir())
    first = folder_land_units(folder)
    assert len(_entries()) == 1
    again = folder_land_units(folder)
    assert_layer_equal(again, first)
    assert again.attrs["exclude"] == first.attrs["exclude"]
    assert_layer_equal(again, land_units(Territory.from_folder(folder)))
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written there


def test_changed_input_recomputed(folder: Path) -> None:
    folder_land_units(folder)
    key = units_key(folder, {"a": 1})
    # one parcel removed: the GeoPackage changes, so do the key and the entry
    territory = Territory.from_folder(folder)
    territory.layers["parcels"] = territory.layers["parcels"].iloc[1:]
    territory.to_folder(folder, force=True)
    assert units_key(folder, {"a": 1}) != key
    units = folder_land_units(folder)
    assert len(_entries()) == 2
    assert_layer_equal(units, land_units(Territory.from_folder(folder)))


def test_parameters_are_part_of_the_key(folder: Path) -> None:
    default = folder_land_units(folder)
    wider = folder_land_units(folder, exclude=[])
    assert len(_entries()) == 2
    assert wider.attrs["exclude"] == [] and default.attrs["exclude"] != []


def test_corrupt_entry_recomputed_with_a_warning(folder: Path) -> None:
    first = folder_land_units(folder)
    (entry,) = _entries()
    entry.write_bytes(b"pas du parquet")
    with pytest.warns(UnitsCacheWarning, match="illisible"):
        units = folder_land_units(folder)
    assert_layer_equal(units, first)
    assert_layer_equal(folder_land_units(folder), first)  # rewritten, read without warning


def test_unwritable_cache_warns_and_still_answers(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("x")
    monkeypatch.setenv("FONCIER_CACHE_DIR", str(blocker))  # a file: no folder can be made in it
    with pytest.warns(UnitsCacheWarning, match="non écrit"):
        units = folder_land_units(folder)
    assert len(units) > 0


def test_scenario_on_a_folder_reads_cached_units(folder: Path) -> None:
    from foncier.scenarios import Scenario

    cached = folder_land_units(folder)
    scenario = Scenario(folder)
    scenario.inputs()
    assert len(_entries()) == 1
    assert_layer_equal(scenario.units, cached)


def test_lookup_reads_no_file_while_the_folder_is_unchanged(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = units_key(folder, {"a": 1})
    read: list[str] = []
    digest = units_cache._file_digest

    def counted(path: Path) -> str:
        read.append(path.name)
        return digest(path)

    monkeypatch.setattr(units_cache, "_file_digest", counted)
    assert units_key(folder, {"a": 1}) == key
    assert read == []  # every digest from the stamp: size, inode and times unchanged
    # the same size and modification time put back: the change time still tells
    gpkg = folder / "territory.gpkg"
    before = gpkg.stat()
    with gpkg.open("r+b") as f:
        f.seek(before.st_size - 1)
        last = f.read(1)
        f.seek(before.st_size - 1)
        f.write(bytes([last[0] ^ 0xFF]))
    os.utime(gpkg, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert gpkg.stat().st_size == before.st_size
    changed = units_key(folder, {"a": 1})
    assert read == ["territory.gpkg"]
    assert changed != key
    # a file added is hashed, the others still come from the stamp
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    assert units_key(folder, {"a": 1}) not in (key, changed)
    assert read == ["territory.gpkg", "notes.txt"]
