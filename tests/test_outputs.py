"""The output policy: nothing foncier did not write is lost, replaced or mixed with an input.

Every case asserts the error type (library) or exit code (CLI), French key
words of the message, and the sha256 of every file present before (inputs
and previous outputs) unchanged after.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pytest
import rasterio
import rasterio.errors
from click.testing import CliRunner
from rasterio.transform import from_origin

from foncier.cli import main
from foncier.errors import DataSourceError, OutputError
from foncier.io.cerema import read_cerema_enaf, write_cerema_enaf
from foncier.io.dem import reproject_dem
from foncier.layers import empty_layer
from foncier.outputs import (
    MANIFEST_NAME,
    check_separate,
    read_manifest,
    recover_folder,
    write_file,
    write_folder,
    write_text,
)
from foncier.terrain import write_suitability_raster
from foncier.territory import GPKG_NAME, PROJECTS_NAME, Territory

USER_TEXT = "mes notes, à ne pas perdre\n"


# -- helpers ------------------------------------------------------------------------
def tree_hashes(*roots: Path) -> dict[str, str]:
    """sha256 of every file under the roots (hidden ones included), by path."""
    out = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in paths:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def dead_pid() -> int:
    """The id of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def mini(grid_parcels) -> Territory:
    """A territory of nine 1 ha parcels (fast to write)."""
    return Territory(
        "mini", {"parcels": grid_parcels}, empty_layer("enaf_consumption"), empty_layer("projects")
    )


@pytest.fixture
def mini_folder(mini: Territory, tmp_path: Path) -> Path:
    return mini.to_folder(tmp_path / "territoire")


def user_folder(path: Path, *names: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name in names or ("notes.txt",):
        (path / name).write_text(USER_TEXT, encoding="utf-8")
    return path


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def one_error_line(result: click.testing.Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Erreur : ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output and "Usage:" not in result.output
    return errors[0]


# -- library: territory folders ----------------------------------------------------------
def test_a_written_territory_is_marked_with_its_files_and_hashes(mini_folder: Path):
    manifest = read_manifest(mini_folder)
    assert manifest is not None and manifest.kind == "territory"
    assert set(manifest.files) == {GPKG_NAME, PROJECTS_NAME, "territory.json"}
    for name, entry in manifest.files.items():
        assert entry["sha256"] == hashlib.sha256((mini_folder / name).read_bytes()).hexdigest()
    assert leftovers(mini_folder.parent) == []


def test_rewriting_a_foncier_territory_replaces_it(mini: Territory, mini_folder: Path):
    mini.name = "mini bis"
    mini.to_folder(mini_folder)
    assert Territory.from_folder(mini_folder).name == "mini bis"
    assert leftovers(mini_folder.parent) == []


def _scenario_like(folder: Path) -> None:
    write_folder(folder, "scenario", lambda tmp: (tmp / "scenario.json").write_text("{}"))


REFUSED_FOLDERS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "user files": (lambda d: user_folder(d, "notes.txt", "budget.xlsx"), ["notes.txt", "budget"]),
    "user folder inside": (
        lambda d: user_folder(d / "photos", "a.jpg"),
        ["photos", "que foncier n'a pas écrits"],
    ),
    "other kind of output": (_scenario_like, ["résultat de scénario"]),
    "hidden user file": (lambda d: user_folder(d, ".env"), [".env"]),
    "corrupt manifest": (
        lambda d: (
            user_folder(d, GPKG_NAME),
            (d / MANIFEST_NAME).write_text("{not json"),
        ),
        [GPKG_NAME],
    ),
}


@pytest.mark.parametrize("case", REFUSED_FOLDERS)
def test_territory_into_a_folder_not_its_own_is_refused(mini: Territory, tmp_path: Path, case):
    make, words = REFUSED_FOLDERS[case]
    dest = tmp_path / "dest"
    make(dest)
    before = tree_hashes(dest)
    with pytest.raises(OutputError) as info:
        mini.to_folder(dest)
    message = str(info.value)
    assert "n'est pas vide" in message and "--force" in message
    for word in words:
        assert word in message
    assert tree_hashes(dest) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("case", ["user files", "user folder inside", "other kind of output"])
def test_force_replaces_only_foncier_files(mini: Territory, tmp_path: Path, case):
    make, _ = REFUSED_FOLDERS[case]
    dest = tmp_path / "dest"
    make(dest)
    manifest = read_manifest(dest)
    theirs = {
        k: v
        for k, v in tree_hashes(dest).items()
        if manifest is None or Path(k).name not in manifest.files and Path(k).name != MANIFEST_NAME
    }
    mini.to_folder(dest, force=True)
    after = tree_hashes(dest)
    assert {k: after.get(k) for k in theirs} == theirs  # every other file kept, unchanged
    back = Territory.from_folder(dest)
    assert len(back.parcels) == 9
    assert not (dest / "scenario.json").exists() or case != "other kind of output"
    assert leftovers(tmp_path) == []


def test_force_never_overwrites_a_user_file_of_the_same_name(mini: Territory, tmp_path: Path):
    dest = user_folder(tmp_path / "dest", PROJECTS_NAME, "notes.txt")
    before = tree_hashes(dest)
    with pytest.raises(OutputError, match=r"projects\.csv.*ne le\(s\) remplacera pas"):
        mini.to_folder(dest, force=True)
    assert tree_hashes(dest) == before
    assert leftovers(tmp_path) == []


def test_a_file_changed_by_the_user_is_no_longer_foncier_s(mini: Territory, mini_folder: Path):
    projects = mini_folder / PROJECTS_NAME
    projects.write_text(projects.read_text() + "\n", encoding="utf-8")
    before = tree_hashes(mini_folder)
    with pytest.raises(OutputError, match="modifiés depuis leur écriture"):
        mini.to_folder(mini_folder)
    with pytest.raises(OutputError, match="projects.csv"):
        mini.to_folder(mini_folder, force=True)
    assert tree_hashes(mini_folder) == before


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("file", ["est un fichier, pas un dossier"]),
        ("file parent", ["un élément de ce chemin est un fichier"]),
    ],
)
def test_a_file_where_a_folder_is_expected(mini: Territory, tmp_path: Path, where, words):
    blocker = tmp_path / "blocker"
    blocker.write_text(USER_TEXT)
    dest = blocker if where == "file" else blocker / "sub" / "territoire"
    before = tree_hashes(tmp_path)
    with pytest.raises(OutputError) as info:
        mini.to_folder(dest)
    for word in words:
        assert word in str(info.value)
    assert tree_hashes(tmp_path) == before


def test_a_missing_parent_is_created(mini: Territory, tmp_path: Path):
    dest = tmp_path / "a" / "b" / "territoire"
    mini.to_folder(dest)
    assert len(Territory.from_folder(dest).parcels) == 9


@pytest.mark.parametrize(
    ("output", "inputs", "words"),
    [
        ("in/territoire", ["in/communes.geojson"], "contient l'entrée"),
        ("in/sub", ["in"], "dans le dossier d'entrée"),
        ("in/communes.geojson", ["in/communes.geojson"], "est aussi une entrée"),
    ],
)
def test_an_output_among_the_inputs_is_refused(mini: Territory, tmp_path, output, inputs, words):
    user_folder(tmp_path / "in", "communes.geojson")
    if output == "in/territoire":
        user_folder(tmp_path / "in" / "territoire", "communes.geojson")
        inputs = ["in/territoire/communes.geojson"]
    before = tree_hashes(tmp_path)
    with pytest.raises(OutputError, match=words):
        mini.to_folder(tmp_path / output, force=True, inputs=[tmp_path / i for i in inputs])
    assert tree_hashes(tmp_path) == before


ENOSPC = OSError(errno.ENOSPC, "No space left on device")
EROFS = OSError(errno.EROFS, "Read-only file system")
EACCES = PermissionError(errno.EACCES, "Permission denied")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ENOSPC, "disque plein"),
        (EROFS, "lecture seule"),
        (EACCES, "permission refusée"),
        (pyogrio.errors.DataSourceError("No space left on device"), "disque plein"),
        (rasterio.errors.RasterioIOError("write failed"), "écriture ou lecture impossible"),
    ],
)
def test_a_failed_territory_write_keeps_the_previous_one(
    mini: Territory, mini_folder: Path, monkeypatch, error, words
):
    before = tree_hashes(mini_folder)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(pyogrio, "write_dataframe", fail)
    with pytest.raises(OutputError, match=words) as info:
        mini.to_folder(mini_folder)
    assert str(mini_folder) in str(info.value)
    assert tree_hashes(mini_folder) == before
    assert leftovers(mini_folder.parent) == []
    assert len(Territory.from_folder(mini_folder).parcels) == 9


def test_a_read_only_folder_is_a_clear_error(mini: Territory, tmp_path: Path, monkeypatch):
    dest = tmp_path / "territoire"
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.parent == tmp_path and ".tmp-" in self.name:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(OutputError, match="lecture seule"):
        mini.to_folder(dest)
    assert not dest.exists() and leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not apply to root")
def test_a_folder_without_write_permission(mini: Territory, tmp_path: Path):  # pragma: no cover
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="permission refusée"):
            mini.to_folder(locked / "territoire")
    finally:
        locked.chmod(0o755)


# -- library: recovery ------------------------------------------------------------------
def test_a_version_left_aside_is_recovered_on_open(mini_folder: Path):
    pid = dead_pid()
    aside = mini_folder.with_name(f".{mini_folder.name}.old-{pid}-0123abcd")
    mini_folder.rename(aside)
    half = mini_folder.with_name(f".{mini_folder.name}.tmp-{pid}-4567cdef")
    half.mkdir()
    (half / GPKG_NAME).write_bytes(b"half written")
    back = Territory.from_folder(mini_folder)
    assert len(back.parcels) == 9
    assert leftovers(mini_folder.parent) == []


def test_leftovers_of_a_running_process_are_left_alone(mini_folder: Path):
    mine = mini_folder.with_name(f".{mini_folder.name}.tmp-{os.getpid()}-89abcdef")
    mine.mkdir()
    assert recover_folder(mini_folder) is False
    assert mine.is_dir()


def test_a_missing_folder_without_version_aside_stays_an_error(tmp_path: Path):
    with pytest.raises(DataSourceError, match="n'existe pas"):
        Territory.from_folder(tmp_path / "nope")


# -- library: single files ------------------------------------------------------------------
def test_a_file_output_never_replaces_a_user_file(tmp_path: Path):
    user_folder(tmp_path, "carte.html")
    before = tree_hashes(tmp_path)
    for force in (False, True):
        with pytest.raises(OutputError, match="n'a pas été écrit par foncier"):
            write_text(tmp_path / "carte.html", "<html></html>", "map", force=force)
    assert tree_hashes(tmp_path) == before


def test_a_file_output_replaces_its_own_and_force_another_kind(tmp_path: Path):
    target = tmp_path / "sortie.html"
    write_text(target, "v1", "map")
    write_text(target, "v2", "map")
    assert target.read_text() == "v2"
    with pytest.raises(OutputError, match="est une carte écrite par foncier, pas un rapport"):
        write_text(target, "rapport", "report")
    assert target.read_text() == "v2"
    write_text(target, "rapport", "report", force=True)
    assert target.read_text() == "rapport"
    entry = read_manifest(tmp_path).files["sortie.html"]  # type: ignore[union-attr]
    assert entry["kind"] == "report" and "replaces" not in entry
    assert leftovers(tmp_path) == []


def test_a_failed_file_write_keeps_the_previous_file(tmp_path: Path):
    target = write_text(tmp_path / "carte.html", "v1", "map")
    before = tree_hashes(tmp_path)

    def full(tmp: Path) -> None:
        tmp.write_text("v2 partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))

    with pytest.raises(OutputError, match="disque plein"):
        write_file(target, "map", full)
    assert tree_hashes(tmp_path) == before and leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["dossier", MANIFEST_NAME])
def test_a_file_output_on_a_folder_or_the_manifest(tmp_path: Path, name):
    (tmp_path / "dossier").mkdir()
    with pytest.raises(OutputError, match="est un dossier|registre"):
        write_text(tmp_path / name, "x", "map")


def test_check_separate_accepts_distinct_paths(tmp_path: Path):
    user_folder(tmp_path / "in", "a.csv")
    check_separate(tmp_path / "out", [tmp_path / "in", tmp_path / "in" / "a.csv", None])


# -- library: scenario results ------------------------------------------------------------
def _tiny_result():
    from foncier.scenarios import Scenario
    from foncier.testing import tiny_territory

    return Scenario(tiny_territory()).run()


def test_rewriting_a_scenario_replaces_it_with_its_report(tmp_path: Path):
    from foncier.scenarios import ScenarioResult

    result = _tiny_result()
    dest = result.to_folder(tmp_path / "out")
    write_text(dest / "report.html", "<html>rapport</html>", "report")
    assert read_manifest(dest).files["report.html"]["kind"] == "report"  # type: ignore[union-attr]
    result.totals = {"projects": 2, "projects_placed": 0}
    result.to_folder(dest)  # same kind, only foncier's files: replaced without force
    assert ScenarioResult.from_folder(dest).totals["projects_placed"] == 0
    assert not (dest / "report.html").exists()  # the report of the previous result goes with it
    assert leftovers(tmp_path) == []


def test_scenario_folder_refuses_user_files_and_keeps_them_with_force(tmp_path, monkeypatch):
    from foncier.scenarios import ScenarioResult

    result = _tiny_result()
    dest = user_folder(tmp_path / "out", "notes.txt")
    before = tree_hashes(dest)
    with pytest.raises(OutputError, match="notes.txt"):
        result.to_folder(dest)
    assert tree_hashes(dest) == before
    result.to_folder(dest, force=True)
    assert (dest / "notes.txt").read_text(encoding="utf-8") == USER_TEXT
    back = ScenarioResult.from_folder(dest)
    assert back.totals == json.loads(json.dumps(result.totals))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    before = tree_hashes(dest)
    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    with pytest.raises(OutputError, match="disque plein"):
        result.to_folder(dest, force=True)
    assert tree_hashes(dest) == before and leftovers(tmp_path) == []


# -- CLI ----------------------------------------------------------------------------------
def test_cli_sample_keeps_user_files(tmp_path: Path):
    dest = user_folder(tmp_path / "d", "notes.txt", "carte.qgz")
    before = tree_hashes(dest)
    res = run("sample", dest, "--parcels", "1000", "--communes", "20")
    assert res.exit_code == 2
    line = one_error_line(res)
    assert "n'est pas vide" in line and "notes.txt" in line and "--force" in line
    assert tree_hashes(dest) == before


def test_cli_import_into_the_folder_of_its_inputs(tmp_path: Path):
    d = user_folder(tmp_path / "d", "communes.geojson", "parcelles.geojson")
    before = tree_hashes(d)
    for extra in ([], ["--force"]):
        res = run(
            "import",
            "--communes",
            d / "communes.geojson",
            "--cadastre",
            d / "parcelles.geojson",
            "--name",
            "x",
            "-o",
            d,
            *extra,
        )
        assert res.exit_code == 2
        assert "contient l'entrée" in one_error_line(res)
    assert tree_hashes(d) == before


def _scenario_dir(tmp_path: Path) -> Path:
    return user_folder(tmp_path / "scenario", "assignments.csv")


CLI_REFUSALS = {
    "supply into its territory": (
        lambda t, s, tmp: ["supply", t, "-o", t / GPKG_NAME],
        "dans le dossier d'entrée",
    ),
    "supply beside its territory files": (
        lambda t, s, tmp: ["supply", t, "-o", t / "units.gpkg"],
        "dans le dossier d'entrée",
    ),
    "supply raster equal to units": (
        lambda t, s, tmp: ["supply", t, "-o", tmp / "u.gpkg", "--raster", tmp / "u.gpkg"],
        "même fichier",
    ),
    "supply raster in territory": (
        lambda t, s, tmp: ["supply", t, "-o", tmp / "u.gpkg", "--raster", t / "u.tif"],
        "dans le dossier d'entrée",
    ),
    "map into its territory": (
        lambda t, s, tmp: ["map", t, "-o", t / "carte.html"],
        "dans le dossier d'entrée",
    ),
    "map over a scenario file": (
        lambda t, s, tmp: ["map", t, "--scenario", s, "-o", s / "assignments.csv"],
        "dans le dossier d'entrée",
    ),
    "map over a user file": (
        lambda t, s, tmp: ["map", t, "-o", user_folder(tmp / "docs", "c.html") / "c.html"],
        "n'a pas été écrit par foncier",
    ),
    "map over a user file, forced": (
        lambda t, s, tmp: [
            "map",
            t,
            "-o",
            user_folder(tmp / "docs", "c.html") / "c.html",
            "--force",
        ],
        "n'a pas été écrit par foncier",
    ),
    "map onto a folder": (
        lambda t, s, tmp: ["map", t, "-o", user_folder(tmp / "docs")],
        "est un dossier",
    ),
    "map below a file": (
        lambda t, s, tmp: ["map", t, "-o", s / "assignments.csv" / "c.html"],
        "fichier",
    ),
    "match into its territory": (
        lambda t, s, tmp: ["match", t, "-o", t / "resultat"],
        "dans le dossier d'entrée",
    ),
    "match into a user folder": (
        lambda t, s, tmp: ["match", t, "-o", user_folder(tmp / "docs", "notes.txt")],
        "n'est pas vide",
    ),
    "match over a file": (
        lambda t, s, tmp: ["match", t, "-o", s / "assignments.csv"],
        "est un fichier",
    ),
    "match into the territory, forced": (
        lambda t, s, tmp: ["match", t, "-o", t, "--force"],
        "est aussi une entrée",
    ),
    "sample into a scenario result": (
        lambda t, s, tmp: ["sample", s],
        "n'est pas vide",
    ),
}


@pytest.mark.parametrize("case", CLI_REFUSALS)
def test_cli_refuses_to_lose_or_mix_files(mini_folder: Path, tmp_path: Path, case):
    scenario = _scenario_dir(tmp_path)
    make, words = CLI_REFUSALS[case]
    args = make(mini_folder, scenario, tmp_path)
    before = tree_hashes(tmp_path)
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert words in one_error_line(res)
    assert tree_hashes(tmp_path) == before


def test_demo_refuses_an_output_inside_the_sample(tmp_path: Path):
    sample = user_folder(tmp_path / "sample", "notes.txt")
    before = tree_hashes(tmp_path)
    res = run("demo", "--dir", sample, "-o", sample / "demo")
    assert res.exit_code == 2 and "dans le dossier d'entrée" in one_error_line(res)
    assert tree_hashes(tmp_path) == before


# -- CLI: operating-system errors become one French line ------------------------------------
OS_ERRORS = {
    "permission": (PermissionError(errno.EACCES, "Permission denied", "/d/t"), "permission"),
    "not a directory": (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/d/t"), "dossier"),
    "is a directory": (IsADirectoryError(errno.EISDIR, "Is a directory", "/d/t"), "est un dossier"),
    "missing": (FileNotFoundError(errno.ENOENT, "No such file", "/d/t"), "n'existe pas"),
    "disk full": (OSError(errno.ENOSPC, "No space left on device", "/d/t"), "disque plein"),
    "read-only": (OSError(errno.EROFS, "Read-only file system", "/d/t"), "lecture seule"),
    "quota": (OSError(errno.EDQUOT, "Disk quota exceeded", "/d/t"), "disque plein"),
    "gdal write": (pyogrio.errors.DataSourceError("Failed to create /d/t"), "/d/t"),
    "rasterio write": (rasterio.errors.RasterioIOError("/d/t: write error"), "/d/t"),
}


@pytest.mark.parametrize("case", OS_ERRORS)
def test_cli_os_errors_are_one_french_line(mini_folder: Path, monkeypatch, case):
    error, words = OS_ERRORS[case]

    def fail(path):
        raise error

    monkeypatch.setattr("foncier.cli.info.load_territory", fail)
    res = run("info", mini_folder)
    assert res.exit_code == 2
    line = one_error_line(res)
    assert words in line and "/d/t" in line


def test_cli_bug_is_one_line_with_a_log_file(mini_folder: Path, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def bug(path):
        return {}["oops"]

    monkeypatch.setattr("foncier.cli.info.load_territory", bug)
    res = run("info", mini_folder)
    assert res.exit_code == 1
    line = one_error_line(res)
    assert "bogue" in line and "KeyError" in line
    logs = list((tmp_path / "cache" / "foncier" / "logs").glob("erreur-*.log"))
    assert len(logs) == 1 and str(logs[0]) in line
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "KeyError: 'oops'" in text


USAGE_ERRORS = {
    "missing argument": (["info"], "l'argument 'TERRITOIRE' est obligatoire"),
    "missing option": (["match", "."], "l'option '-o' / '--output' est obligatoire"),
    "unknown option": (["info", ".", "--nope"], "option inconnue --nope"),
    "close option": (["info", ".", "--jso"], "vouliez-vous dire --json"),
    "bad choice": (["match", ".", "-o", "x", "--objective", "argent"], "« argent » n'est pas"),
    "bad integer": (["sample", "x", "--parcels", "beaucoup"], "n'est pas un nombre entier"),
    "out of range": (["sample", "x", "--parcels", "5"], "hors de l'intervalle"),
    "bad float": (["supply", ".", "-o", "u.gpkg", "--raster-resolution", "fin"], "un nombre"),
    "missing file": (["zan", ".", "--rates", "/nulle/part.csv"], "n'existe pas"),
    "unknown command": (["cartographie"], "commande inconnue « cartographie »"),
    "extra argument": (["info", ".", "en-trop"], "argument(s) en trop : en-trop"),
    "option without value": (["map", ".", "-o"], "l'option -o attend une valeur"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_cli_usage_errors_are_one_french_line(case):
    args, words = USAGE_ERRORS[case]
    res = run(*args)
    assert res.exit_code == 2
    line = one_error_line(res)
    assert words in line and "-h" in line
    assert "Invalid value" not in res.output and "Missing" not in res.output


def test_cli_help_and_version_still_exit_zero():
    assert run("-h").exit_code == 0 and "Commandes" in run("-h").output
    assert run("--version").exit_code == 0
    assert run().exit_code == 0 and "Commandes" in run().output


def test_progress_bar_is_closed_before_the_message(mini_folder: Path, monkeypatch, tmp_path):
    from tqdm.auto import tqdm

    from foncier.errors import InfeasibleError
    from foncier.scenarios import Scenario

    bars = []

    def run_with_bar(self, progress=False):
        bar = tqdm(total=8, unit="étape", leave=False)
        bar.update(3)
        bars.append(bar)
        msg = "aucun terrain compatible"
        raise InfeasibleError(msg)

    monkeypatch.setattr(Scenario, "__init__", lambda self, *a, **k: None)
    monkeypatch.setattr(Scenario, "run", run_with_bar)
    res = run("match", mini_folder, "-o", tmp_path / "res")
    assert res.exit_code == 2
    line = one_error_line(res)
    assert "aucun terrain compatible" in line
    assert bars and bars[0].disable  # closed
    head = res.stderr.split("Erreur : ")[0]
    assert head == "" or head.endswith(("\n", "\r"))
    assert not (tmp_path / "res").exists()


def test_manifest_is_json_a_person_can_read(mini_folder: Path):
    payload = json.loads((mini_folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert payload["generator"] == "foncier" and payload["kind"] == "territory"


# -- library: the io writers ------------------------------------------------------------------
def _tiny_enaf() -> pd.DataFrame:
    enaf = empty_layer("enaf_consumption")
    row = {c: 1000.0 for c in enaf.columns if c.endswith("_m2")}
    return pd.DataFrame([{**row, "insee": "30007", "year": y} for y in range(2009, 2023)]).astype(
        enaf.dtypes.to_dict()
    )


def _tiny_dem(path: Path) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float32",
        crs="EPSG:2154",
        transform=from_origin(700_000, 6_300_400, 100, 100),
        nodata=-9999.0,
    ) as dst:
        dst.write(np.full((4, 4), 120.0, dtype="float32"), 1)
    return path


def _units(grid_parcels):
    return grid_parcels.assign(net_area_ha=1.0)


IO_WRITERS = {
    "cerema csv over a user file": (
        lambda tmp, g: write_cerema_enaf(_tiny_enaf(), user_folder(tmp, "conso.csv") / "conso.csv"),
        "n'a pas été écrit par foncier",
    ),
    "dem onto its source": (
        lambda tmp, g: reproject_dem(_tiny_dem(tmp / "mnt.tif"), tmp / "mnt.tif"),
        "est aussi une entrée",
    ),
    "dem over a user file": (
        lambda tmp, g: reproject_dem(
            _tiny_dem(tmp / "mnt.tif"), user_folder(tmp, "dem.tif") / "dem.tif"
        ),
        "n'a pas été écrit par foncier",
    ),
    "raster over a user file": (
        lambda tmp, g: write_suitability_raster(
            _units(g), user_folder(tmp, "u.tif") / "u.tif", force=True
        ),
        "n'a pas été écrit par foncier",
    ),
    "raster into an input folder": (
        lambda tmp, g: write_suitability_raster(
            _units(g), user_folder(tmp / "t") / "u.tif", inputs=[tmp / "t"]
        ),
        "dans le dossier d'entrée",
    ),
}


@pytest.mark.parametrize("case", IO_WRITERS)
def test_io_writers_follow_the_policy(grid_parcels, tmp_path: Path, case):
    call, words = IO_WRITERS[case]
    (tmp_path / "w").mkdir()
    folder = tmp_path / "w"
    if case.startswith("dem"):
        _tiny_dem(folder / "mnt.tif")
    before = tree_hashes(folder)
    with pytest.raises(OutputError, match=words):
        call(folder, grid_parcels)
    after = tree_hashes(folder)
    assert {k: after.get(k) for k in before} == before


def test_io_writers_write_and_rewrite_their_own_files(grid_parcels, tmp_path: Path):
    for _ in range(2):  # the second time replaces foncier's own files
        write_cerema_enaf(_tiny_enaf(), tmp_path / "conso.csv")
        reproject_dem(_tiny_dem(tmp_path / "src.tif"), tmp_path / "dem.tif")
        write_suitability_raster(_units(grid_parcels), tmp_path / "u.tif")
    assert read_cerema_enaf(tmp_path / "conso.csv")["enaf_m2"].sum() == 14 * 1000.0
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    assert {n: e["kind"] for n, e in manifest.files.items()} == {
        "conso.csv": "enaf",
        "dem.tif": "dem",
        "u.tif": "raster",
    }
    assert leftovers(tmp_path) == []
