"""Faults: a territory write and a scenario write killed (SIGKILL) at random points.

A forked child process writes the other version of the folder and is killed
after a random delay in [0, 1.2 x typical write duration] (seeded).  After each
kill, the next open loads one complete version (the previous one, or the new
one when the write had finished), never a mix, and leaves no ``.tmp-*`` /
``.old-*`` behind.  One more kill lands exactly between the two renames of
the swap, the worst point, where only the version set aside remains.
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from foncier.sample import make_sample
from foncier.scenarios import ScenarioResult
from foncier.territory import Territory

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")

KILLS = 10
SEED = 20261201


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def in_child(action: Callable[[], Any], *, kill_between_renames: bool = False) -> int:
    """Fork a child running ``action`` and exiting; return its pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            if kill_between_renames:
                real = os.rename

                def rename(src: Any, dst: Any) -> None:
                    real(src, dst)
                    if ".old-" in str(dst):
                        os.kill(os.getpid(), signal.SIGKILL)

                os.rename = rename  # type: ignore[assignment]
            action()
        finally:
            os._exit(0)
    return pid


def write_killed(action: Callable[[], Any], delay: float) -> None:
    pid = in_child(action)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def timed_write(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    pid = in_child(action)
    os.waitpid(pid, 0)
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> tuple[Territory, Territory]:
    """Two versions of a small sample territory (1,000 parcels), read back from folders."""
    root = tmp_path_factory.mktemp("faults")
    a = make_sample(1_000, seed=0, n_communes=20, dem_dir=root)
    b = dataclasses.replace(
        a,
        name=f"{a.name} v2",
        layers={**a.layers, "parcels": a.parcels.iloc[:-100]},
        projects=a.projects.iloc[: len(a.projects) // 2].reset_index(drop=True),
    )
    return (
        Territory.from_folder(a.to_folder(root / "ref-a")),
        Territory.from_folder(b.to_folder(root / "ref-b")),
    )


def same_territory(t: Territory, ref: Territory) -> bool:
    return (
        t.name == ref.name
        and t.projects.equals(ref.projects)
        and t.enaf_consumption.equals(ref.enaf_consumption)
        and t.parcels.to_wkb().equals(ref.parcels.to_wkb())
        and t.dem_path is not None
        and t.dem_path.read_bytes() == ref.dem_path.read_bytes()  # type: ignore[union-attr]
    )


def test_killed_territory_writes_leave_a_complete_version(versions, tmp_path: Path):
    a, b = versions
    dest = a.to_folder(tmp_path / "territoire")
    current = 0
    duration = timed_write(lambda: b.to_folder(tmp_path / "scratch"))
    rng = random.Random(SEED)
    outcomes = []
    for _ in range(KILLS):
        new = 1 - current
        write_killed(lambda v=versions[new]: v.to_folder(dest), rng.uniform(0, 1.2 * duration))
        loaded = Territory.from_folder(dest)
        assert leftovers(tmp_path) == []
        if same_territory(loaded, versions[current]):
            outcomes.append("previous")
        else:
            assert same_territory(loaded, versions[new])
            outcomes.append("new")
            current = new
    before, after = outcomes.count("previous"), outcomes.count("new")
    print(f"territory: {before} kills before the swap, {after} after; write {duration:.2f} s")
    assert "previous" in outcomes  # at least one kill landed before the swap

    pid = in_child(lambda: versions[1 - current].to_folder(dest), kill_between_renames=True)
    os.waitpid(pid, 0)
    assert not dest.exists() and any(".old-" in n for n in leftovers(tmp_path))
    assert same_territory(Territory.from_folder(dest), versions[current])
    assert leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def results(versions) -> tuple[ScenarioResult, ScenarioResult]:
    from foncier.scenarios import Scenario

    first = Scenario(versions[0], time_limit=30).run()
    second = dataclasses.replace(
        first,
        assignments=first.assignments.iloc[: len(first.assignments) // 2],
        totals={**first.totals, "projects_placed": len(first.assignments) // 2},
    )
    return first, second


def same_result(r: ScenarioResult, ref: ScenarioResult) -> bool:
    cols = ["project_id", "unit_id"]
    return (
        r.totals == ref.totals
        and r.assignments[cols]
        .astype(str)
        .reset_index(drop=True)
        .equals(ref.assignments[cols].astype(str).reset_index(drop=True))
        and len(r.placements) == len(ref.placements)
        and len(r.unmatched) == len(ref.unmatched)
    )


def test_killed_scenario_writes_leave_a_complete_version(results, tmp_path: Path):
    dest = results[0].to_folder(tmp_path / "scenario")
    refs = [ScenarioResult.from_folder(results[i].to_folder(tmp_path / f"ref{i}")) for i in (0, 1)]
    current = 0
    duration = timed_write(lambda: results[1].to_folder(tmp_path / "scratch"))
    rng = random.Random(SEED + 1)
    outcomes = []
    for _ in range(KILLS):
        new = 1 - current
        write_killed(lambda r=results[new]: r.to_folder(dest), rng.uniform(0, 1.2 * duration))
        loaded = ScenarioResult.from_folder(dest)
        assert leftovers(tmp_path) == []
        if same_result(loaded, refs[current]):
            outcomes.append("previous")
        else:
            assert same_result(loaded, refs[new])
            outcomes.append("new")
            current = new
    before, after = outcomes.count("previous"), outcomes.count("new")
    print(f"scenario: {before} kills before the swap, {after} after; write {duration:.2f} s")
    assert "previous" in outcomes

    pid = in_child(lambda: results[1 - current].to_folder(dest), kill_between_renames=True)
    os.waitpid(pid, 0)
    assert not dest.exists()
    assert same_result(ScenarioResult.from_folder(dest), refs[current])
    assert leftovers(tmp_path) == []
    pd.testing.assert_frame_equal(
        ScenarioResult.from_folder(dest).zan_balance, refs[current].zan_balance
    )
