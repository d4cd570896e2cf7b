"""The communes coloured by the ENAF they consumed over the reference period (2011-2021)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from foncier._format import fr_number
from foncier.labels import LAYER_NAMES, esc, ha, popup_html
from foncier.layers import Col, DiagnosisCol, destination_column
from foncier.maps.geojson import COMMUNE_TOLERANCE_M
from foncier.maps.layer import MapLayer, geojson_layer
from foncier.palette import INCOMPLETE, consumption_class_labels, consumption_colour, swatch
from foncier.zan.diagnosis import DESTINATION_LABELS, ZanDiagnosis

__all__ = ["consumption_layer"]


def _m2(value: float) -> str:
    return fr_number(value, 0, "m²")


def consumption_layer(
    communes: gpd.GeoDataFrame, diagnosis: ZanDiagnosis, *, show: bool = False
) -> MapLayer:
    """Communes filled by the ENAF they consumed over the reference period, in fixed classes.

    Parameters
    ----------
    communes
        The communes layer (``insee``, ``name``, geometry).
    diagnosis
        The territory's :func:`foncier.zan.diagnosis.zan_diagnosis`.
    show
        Show the layer when the map opens (otherwise it is listed in the
        layer control, switched off, under the budget layer).

    Returns
    -------
    MapLayer
        The layer (popup: consumption 2011-2021 by destination, since 2021,
        m² per new inhabitant) and its legend
        (:data:`foncier.palette.CONSUMPTION_BREAKS_HA`).
    """
    start, end = diagnosis.reference_years
    rows = (
        diagnosis.communes.set_index(Col.INSEE)
        .reindex(communes[Col.INSEE].astype(str).to_numpy())
        .reset_index()
    )
    consumed = rows[DiagnosisCol.REFERENCE_HA].astype(float)
    names = communes[Col.NAME].astype(str).to_numpy()
    popups = []
    for name, record in zip(names, rows.to_dict("records"), strict=True):
        code = record[Col.INSEE]
        figures = [(f"Consommé {start}-{end}", ha(record[DiagnosisCol.REFERENCE_HA], 2))]
        figures += [
            (
                f"dont {label}",
                ha(record[destination_column(DiagnosisCol.REFERENCE_HA, d)], 2),
            )
            for d, label in DESTINATION_LABELS.items()
        ]
        figures.append((f"Consommé depuis {end}", ha(record[DiagnosisCol.SINCE_2021_HA], 2)))
        figures.append(("m² par nouvel habitant", _m2(record[DiagnosisCol.M2_PER_NEW_INHABITANT])))
        popups.append(popup_html(f"{name} ({code})", figures))
    tips = [
        f"{esc(n)} : {ha(c, 1)} consommés {start}-{end}"
        for n, c in zip(names, consumed, strict=True)
    ]
    props = pd.DataFrame(
        {
            DiagnosisCol.REFERENCE_HA: consumed.round(4).to_numpy(),
            "fill": [consumption_colour(v) for v in consumed],
            "tooltip": tips,
            "popup": popups,
        }
    )
    layer = geojson_layer(
        communes,
        props,
        name=LAYER_NAMES["consumption"],
        pane_name="communes",
        style=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.7,
        },
        show=show,
        tolerance_m=COMMUNE_TOLERANCE_M,
        coverage=True,
        highlight=True,
    )
    items = [swatch(colour, label) for colour, label in consumption_class_labels()]
    if consumed.isna().any():
        items.append(swatch(INCOMPLETE, "données incomplètes"))
    legend = f"<b>Consommation d'ENAF {start}-{end}</b>" + "".join(items)
    return MapLayer((layer,), legend)
