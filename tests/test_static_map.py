"""The printable map: communes named, placements in the palette's colours, scale, north."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.colors import to_hex
from matplotlib_scalebar.scalebar import ScaleBar

from foncier.palette import sector_colour
from foncier.scenarios import ScenarioResult
from foncier.static_map import is_landscape, scenario_figure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result(scenario_dir: Path) -> ScenarioResult:
    return ScenarioResult.from_folder(scenario_dir)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def test_map_names_communes_and_colours_sectors(sample, result):
    fig = scenario_figure(sample, result, synthetic=True)
    ax = fig.axes[0]
    texts = _texts(fig)
    for name in sample.communes["name"]:
        assert name in texts
    assert any(t.startswith("Échantillon synthétique") for t in texts)
    north = [a for a in ax.texts if a.get_text() == "N"]
    assert len(north) == 1 and north[0].arrow_patch is not None  # the north arrow
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    placed = sorted(set(result.assignments["sector"]))
    assert sorted(labels[: len(placed)]) == placed
    for handle, label in zip(legend.legend_handles, labels, strict=True):
        if label in placed:
            assert to_hex(handle.get_markerfacecolor()) == sector_colour(label)
    over = result.zan_balance["over_budget"].any()
    assert ("Enveloppe ZAN dépassée" in labels) == bool(over)
    bars = [a for a in ax.artists if isinstance(a, ScaleBar)]
    assert len(bars) == 1 and bars[0].units == "m" and bars[0].dx == 1.0  # Lambert-93 metres


def test_real_territory_map_says_nothing_of_a_sample(sample, result):
    fig = scenario_figure(sample, result, synthetic=False)
    assert not any("synthétique" in t for t in _texts(fig))


def test_orientation_follows_the_territory():
    assert is_landscape((0, 0, 30_000, 10_000))
    assert not is_landscape((0, 0, 10_000, 30_000))
    assert not is_landscape((0, 0, 10_000, 10_000))
