"""Decisions of the working group: validated lots take their land off later layouts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely

from foncier.assumptions import assumptions
from foncier.decisions import (
    decided_idus,
    read_decisions,
    resolve_decisions,
    units_after,
    validated_placements,
)
from foncier.lots import lay_out_lots
from tests.conftest import grid
from tests.test_land_assembly import _territory
from tests.test_lots import IDU, _parcels, _placed, _unit


def _log(idus: list[str | None], areas: list[float] | None = None) -> pd.DataFrame:
    n = len(idus)
    return pd.DataFrame(
        {
            "decision_id": range(1, n + 1),
            "project_id": [f"P{i}" for i in range(n)],
            "unit_id": "U1",
            "insee": "30007",
            "decision": "validated",
            "area_ha": areas or [1.0] * n,
            "enaf_ha": 0.5,
            "idus": idus,
        }
    )


def test_a_validated_lot_leaves_the_units_polygon_and_parcels() -> None:
    """A 3x3 unit of 1 ha parcels; the lot on the lower row (3 ha) leaves 6 ha and six parcels."""
    parcels = _parcels(grid())
    units = _unit(parcels, net_area_ha=9.0)
    decided = validated_placements(_log(["|".join(IDU[:3])], areas=[2.5]))
    after = units_after(units, decided, parcels)
    assert after["net_area_ha"].iloc[0] == pytest.approx(6.0)
    assert after["idus"].iloc[0] == "|".join(IDU[3:])
    assert shapely.area(after.geometry.iloc[0]) == pytest.approx(60_000.0)
    assert shapely.equals(
        after.geometry.iloc[0], shapely.box(700_000, 6_300_100, 700_300, 6_300_300)
    )
    assert units["net_area_ha"].iloc[0] == 9.0  # the input is not changed
    # a new 6 ha project takes exactly the land left, never the validated lot
    layout = lay_out_lots(_placed({"P9": 6.0}), after, parcels)
    lot = layout.lots.geometry.iloc[0]
    assert shapely.area(shapely.intersection(lot, shapely.union_all(parcels.geometry[:3]))) < 1.0
    assert set(layout.lots["idus"].iloc[0].split("|")) == set(IDU[3:])
    # the 9 ha the unit had before the decision are no longer there
    assert lay_out_lots(_placed({"P9": 9.0}), after, parcels).failed["project_id"].tolist() == [
        "P9"
    ]


def test_a_decision_without_idus_keeps_the_old_behaviour() -> None:
    """A log written before lots: its area off the net area, the polygon kept whole."""
    parcels = _parcels(grid())
    units = _unit(parcels, net_area_ha=9.0)
    mixed = validated_placements(_log([None, "", IDU[8]], areas=[2.0, 0.5, 1.0]))
    assert mixed["idus"].isna().tolist() == [True, True, False]
    after = units_after(units, mixed, parcels)
    # 2.5 ha of old decisions off the net area, the parcel IDU[8] (1 ha) off the polygon too
    assert after["net_area_ha"].iloc[0] == pytest.approx(9.0 - 2.5 - 1.0)
    assert shapely.area(after.geometry.iloc[0]) == pytest.approx(80_000.0)
    records = {a["code"]: a for a in assumptions(_territory(), decisions=mixed)}
    old = records["decisions_without_lot"]
    assert old["count"] == 2 and old["ha"] == pytest.approx(2.5)
    assert "sans liste de parcelles" in old["text"]
    with_lots = validated_placements(_log([IDU[0]]))
    assert "decisions_without_lot" not in {
        a["code"] for a in assumptions(_territory(), decisions=with_lots)
    }


def test_old_and_new_decision_files_are_read(tmp_path: Path) -> None:
    old = tmp_path / "old.csv"
    old.write_text(
        "decision_id;project_id;unit_id;insee;decision;area_ha;enaf_ha\n"
        "1;P1;U1;30007;validée;2,5;1,0\n",
        encoding="utf-8",
    )
    table = read_decisions(old)
    assert table["area_ha"].tolist() == [2.5] and table["idus"].isna().all()
    new = tmp_path / "new.csv"
    new.write_text(
        "decision_id,project_id,unit_id,insee,decision,area_ha,enaf_ha,idus\n"
        f"1,P1,U1,30007,validated,2.0,1.0,{IDU[0]}|{IDU[1]}\n"
        f"2,P2,U1,30007,validated,1.0,0.0,{IDU[2]}\n"
        f"3,P2,U1,30007,rejected,1.0,0.0,{IDU[2]}\n",
        encoding="utf-8",
    )
    table = read_decisions(new)
    assert table["project_id"].tolist() == ["P1"]
    assert decided_idus(table).tolist() == [IDU[0], IDU[1]]
    # a decisions table without the column (written before lots) is accepted as is
    bare = table.drop(columns="idus")
    assert resolve_decisions(bare) is bare
    assert decided_idus(bare).tolist() == []
