"""The synthetic sample: deterministic, realistic in scale, calibrated so that ZAN binds."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from foncier.sample import make_sample
from foncier.territory import SPATIAL_LAYERS
from foncier.testing import assert_layer_equal


def test_same_seed_same_territory():
    a = make_sample(n_parcels=3_000, seed=7, n_communes=20)
    b = make_sample(n_parcels=3_000, seed=7, n_communes=20)
    for name in SPATIAL_LAYERS:
        assert_layer_equal(a.layers[name], b.layers[name])
    assert_layer_equal(a.enaf_consumption, b.enaf_consumption)
    assert_layer_equal(a.projects, b.projects)
    c = make_sample(n_parcels=3_000, seed=8, n_communes=20)
    assert not c.parcels.geometry.geom_equals(a.parcels.geometry.iloc[: len(c.parcels)]).all()


def test_project_totals(sample_territory):
    p = sample_territory.projects
    assert len(p) == 131
    assert p["jobs"].sum() == 586
    assert p["investment_eur"].sum() == pytest.approx(177e6, rel=0.01)
    assert p["area_min_ha"].sum() == pytest.approx(100, abs=5)
    assert 0.15 <= p["france2030"].mean() <= 0.25
    assert (p["area_min_ha"] <= p["area_max_ha"]).all()
    assert p["is_pene"].sum() >= 1 and p["needs_rail"].sum() >= 3 and p["seveso"].sum() >= 3


def test_scale_and_layers(sample_territory):
    t = sample_territory
    assert 20 <= len(t.communes) <= 72
    assert 28_000 <= len(t.parcels) <= 36_000
    area = t.parcels.area
    assert area.quantile(0.01) > 150 and area.quantile(0.99) < 120_000
    assert 8 <= len(t.zae) <= 15 and 15 <= len(t.friches) <= 30
    assert set(t.plu_zones["zone_type"]) == {"U", "AUc", "AUs", "A", "N"}
    assert (t.plu_zones["destdomi"] == "02").any()
    assert {"ppri_red", "ppri_blue", "natura2000", "znieff1", "znieff2"} <= set(
        t.constraints["kind"]
    )
    assert 3 <= (t.infrastructure["kind"] == "interchange").sum() <= 4
    assert (t.infrastructure["kind"] == "rail_freight").any()
    assert (~t.communes["has_planning_doc"]).any()
    assert t.parcels["idu"].str.len().eq(14).all()
    assert (t.parcels["idu"].str[:5] == t.parcels["insee"]).all()
    # parcels tile the territory: their area equals the communes' area
    assert area.sum() == pytest.approx(t.communes.area.sum(), rel=1e-4)


def test_dem_rises_to_the_west(sample_territory):
    import rasterio

    with rasterio.open(sample_territory.dem_path) as src:
        z = src.read(1)
        assert src.crs.to_epsg() == 2154 and src.res == (25.0, 25.0)
    west, east = z[:, : z.shape[1] // 5].mean(), z[:, -z.shape[1] // 5 :].mean()
    assert west > east + 300


def test_cerema_columns_sum(sample_folder):
    with open(sample_folder / "enaf_consumption.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert "epci23" in rows[0] and "naf22art23" in rows[0] and "naf09art10" in rows[0]
    for row in rows:
        for y in range(9, 23):
            yy, zz = f"{y:02d}", f"{y + 1:02d}"
            uses = sum(
                int(row[f"art{yy}{u}{zz}"]) for u in ("act", "hab", "mix", "rou", "fer", "inc")
            )
            assert abs(int(row[f"naf{yy}art{zz}"]) - uses) <= 1


def test_zan_binds(sample_territory):
    """Remaining envelope < greenfield need; some communes exceeded; some use the guarantee."""
    t = sample_territory
    e = t.enaf_consumption
    base = e[e["year"].between(2011, 2020)].groupby("insee")["enaf_m2"].sum() / 1e4
    consumed = e[e["year"] >= 2021].groupby("insee")["enaf_m2"].sum() / 1e4
    doc = t.communes.set_index("insee")["has_planning_doc"].reindex(base.index)
    envelope = np.where(doc & (base * 0.5 < 1), 1.0, base * 0.5)
    remaining = envelope - consumed
    assert remaining.sum() < t.projects["area_min_ha"].sum()
    assert (remaining < 0).sum() >= 2
    assert (doc & (base * 0.5 < 1)).sum() >= 2
