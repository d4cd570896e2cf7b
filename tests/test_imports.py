"""Cheap imports: `import foncier` and `foncier --help` load none of the heavy libraries.

The modules are checked by name in a fresh interpreter (``sys.modules``), never
by timing.  Also: the lazy public API keeps every name, and the CLI's shared
options take their choices from the library.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from click.testing import CliRunner

import foncier
from foncier.assignment import OBJECTIVES
from foncier.choices import OBJECTIVE_LABELS
from foncier.cli import main
from foncier.zan.rules import POOL_LEVELS

#: Never loaded by `import foncier` nor by `foncier --help`.
HEAVY = ("folium", "matplotlib", "scipy", "rasterio")
#: Kept out as well (maps, service).
ALSO_OUT = ("branca", "mapclassify", "networkx", "fastapi", "uvicorn")
#: The data stack: loaded by a command when it runs, never to print a help page.
DATA_STACK = ("geopandas", "pandas", "shapely", "pyogrio", "pyproj", "numpy", "pyarrow")

ROOT = Path(foncier.__file__).resolve().parents[1]


def loaded_modules(code: str) -> tuple[set[str], str]:
    """Run ``code`` in a fresh interpreter with ``-X importtime``; modules loaded, import log."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    modules = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    return modules, proc.stderr


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def imported_in_log(log: str) -> set[str]:
    """Top-level package names in a ``-X importtime`` log."""
    names = set()
    for line in log.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_import_foncier_loads_no_heavy_library():
    modules, log = loaded_modules("import foncier")
    assert "foncier" in modules
    loaded = top_level(modules) | imported_in_log(log)
    assert "foncier" in imported_in_log(log)  # the log was read
    assert not loaded & {*HEAVY, *ALSO_OUT}


@pytest.mark.parametrize(
    "args", [["--help"], ["supply", "--help"], ["zan", "--help"], ["match", "--help"]]
)
def test_cli_help_loads_no_heavy_library(args):
    code = (
        "from foncier.cli import main\n"
        "try:\n"
        f"    main({args!r}, prog_name='foncier')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )
    modules, log = loaded_modules(code)
    assert "foncier.cli.match" in modules and "foncier.cli.zan" in modules
    assert "click" in imported_in_log(log)  # the log was read
    loaded = top_level(modules) | imported_in_log(log)
    assert not loaded & {*HEAVY, *ALSO_OUT, *DATA_STACK}


def test_every_public_name_resolves_lazily():
    for name in foncier.__all__:
        assert getattr(foncier, name) is not None, name
    assert set(foncier.__all__) <= set(dir(foncier))
    assert set(foncier._EXPORTS) == set(foncier.__all__) - {"__version__"}
    from foncier import Scenario, Territory, budget_table

    assert Scenario.__module__ == "foncier.scenarios"
    assert Territory.__module__ == "foncier.territory"
    assert budget_table.__module__ == "foncier.zan.budgets"
    assert foncier.zan.load_rules is foncier.load_rules  # submodules as attributes
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = foncier.no_such_name


def test_star_import_gives_the_public_api():
    namespace: dict[str, object] = {}
    exec("from foncier import *", namespace)
    assert set(foncier.__all__) <= set(namespace)


# -- one list of pools and objectives -----------------------------------------------------
def test_cli_choices_come_from_the_library():
    runner = CliRunner()
    match_help = runner.invoke(main, ["match", "--help"], terminal_width=200).output
    zan_help = runner.invoke(main, ["zan", "--help"], terminal_width=200).output
    # the objectives by their French labels, in the library's order
    assert f"[{'|'.join(OBJECTIVE_LABELS[o] for o in OBJECTIVES)}]" in match_help
    for page in (match_help, zan_help):
        assert f"[{'|'.join(POOL_LEVELS)}]" in page
        assert "--rules" in page and "--committed" in page


def test_service_literals_are_the_library_lists():
    from api.models import ScenarioIn

    fields = ScenarioIn.model_fields
    assert typing.get_args(fields["pool"].annotation) == POOL_LEVELS
    assert typing.get_args(fields["objective"].annotation) == OBJECTIVES
