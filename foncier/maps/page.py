"""The page around the layers: Leaflet (linked or inlined), panes, scale, panels, notices."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any, cast

import folium
import pandas as pd
from branca.element import Figure
from jinja2 import Template

from foncier.labels import LAYER_NAMES, POOL_LABELS, collapsible, esc
from foncier.maps.geojson import bounds_wgs84
from foncier.maps.layer import MapLayer, pane
from foncier.maps.style import PANES

__all__ = ["OFFLINE_NOTICE", "finish", "map_html", "new_map", "rules_line"]

#: Shown over the map when background tiles cannot be loaded (no network).
OFFLINE_NOTICE = "Fond de carte indisponible hors ligne : les couches de l'étude restent affichées."
_LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/"
_CSS = """
.foncier-panel{position:fixed;z-index:1000;background:rgba(255,255,255,.94);padding:6px 10px;
 border:1px solid #999;border-radius:4px;font:12px/1.35 sans-serif}
.foncier-panel>details>summary{cursor:pointer}
.foncier-label span{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;
 font:600 11px/1 sans-serif;color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}
@media print{.leaflet-control-layers,.leaflet-control-zoom{display:none}}
#foncier-offline{display:none;bottom:30px;left:50%;transform:translateX(-50%);max-width:28%;
 background:#fff3cd;border-color:#b8860b;font-weight:bold}
"""


def _figure(m: folium.Map) -> Figure:
    return cast(Figure, m.get_root())


class _TileNotice(folium.MacroElement):
    """Show :data:`OFFLINE_NOTICE` while the parent tile layer fails to load its tiles."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var notice = document.getElementById("foncier-offline");
            {{ this._parent.get_name() }}.on("tileerror", function () {
                notice.style.display = "block";
            });
            {{ this._parent.get_name() }}.on("tileload", function () {
                notice.style.display = "none";
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "TileNotice"


class _MetricScale(folium.MacroElement):
    """A scale bar in metres and kilometres only."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


class _FoldOnSmallScreens(folium.MacroElement):
    """Fold the panels when the window is narrow, so that they do not hide the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if (window.innerWidth < 800) {
            document.querySelectorAll(".foncier-panel > details[open]")
                .forEach(function (d) { d.removeAttribute("open"); });
        }
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "FoldOnSmallScreens"


def _add_leaflet(m: folium.Map, inline_assets: bool) -> None:
    """Link Leaflet on its CDN, or inline the copy shipped in ``foncier/templates/leaflet``."""
    if not inline_assets:
        m.default_js = [("leaflet", _LEAFLET_CDN + "leaflet.js")]
        m.default_css = [("leaflet_css", _LEAFLET_CDN + "leaflet.css")]
        return
    m.default_js, m.default_css = [], []
    folder = resources.files("foncier") / "templates" / "leaflet"
    css = (folder / "leaflet.css").read_text(encoding="utf-8")
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    root = _figure(m)
    root.header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet")


def new_map(territory: Any, inline_assets: bool) -> folium.Map:
    """An empty map of ``territory``: tiles, panes, metric scale, offline notice, page title."""
    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=False)
    tiles = folium.TileLayer(
        "OpenStreetMap", name=LAYER_NAMES["tiles"], attr="© contributeurs OpenStreetMap"
    )
    _TileNotice().add_to(tiles)
    tiles.add_to(m)
    _add_leaflet(m, inline_assets)
    root = _figure(m)
    root.header.add_child(folium.Element('<meta charset="utf-8">'), name="charset")
    root.header.add_child(
        folium.Element(f"<title>{esc(territory.name)} : carte foncier / ZAN</title>"), name="title"
    )
    root.header.add_child(folium.Element(f"<style>{_CSS}</style>"), name="foncier_css")
    for name, z_index in PANES.items():
        clickable = name != "labels"  # labels let clicks through to the layers below
        folium.map.CustomPane(pane(name), z_index=z_index, pointer_events=clickable).add_to(m)
    _MetricScale().add_to(m)
    _panel(m, esc(OFFLINE_NOTICE), "", "offline")
    communes = territory.communes
    if not communes.empty:
        m.fit_bounds(bounds_wgs84(communes))
    return m


def _panel(m: folium.Map, body: str, position: str, name: str) -> None:
    div = f"<div id='foncier-{name}' class='foncier-panel' style='{position}'>{body}</div>"
    _figure(m).html.add_child(folium.Element(div), name=name)


def rules_line(budgets: pd.DataFrame) -> str:
    """The rule set, its version and the pooling of a budget table, in French."""
    rules = budgets.attrs.get("rules", "?")
    version = budgets.attrs.get("rules_version", "")
    pool = str(budgets.attrs.get("pool", ""))
    text = f"règles ZAN {rules}" + (f" (version {version})" if version else "")
    return text + (f", budgets {POOL_LABELS.get(pool, pool)}" if pool else "")


def _title(territory: Any, subtitle: str, rules: str) -> str:
    synthetic = (
        "<div style='color:#b2182b'><b>Échantillon synthétique : données fictives</b></div>"
        if territory.synthetic
        else ""
    )
    return collapsible(
        f"<b style='font-size:14px'>{esc(subtitle)}</b>",
        f"<div>{esc(territory.data_label)}, {esc(rules)}</div>{synthetic}",
    )


def finish(
    m: folium.Map,
    territory: Any,
    subtitle: str,
    budgets: pd.DataFrame,
    layers: list[MapLayer],
    hypotheses: Sequence[Any] | None = None,
) -> folium.Map:
    """Add ``layers`` in order, then the title, legend and panels (all collapsible).

    The legend lists the layers' blocks in the same order as the layer
    control; a layer's panel (the projects left out) goes bottom right.  The
    assumptions the figures rest on (:mod:`foncier.assumptions`) fold under
    the title.
    """
    from foncier.assumptions import assumptions_html

    for layer in layers:
        layer.add_to(m)
    title = _title(territory, subtitle, rules_line(budgets))
    if hypotheses is not None:
        title += collapsible(
            f"<b>Hypothèses ({len(hypotheses)})</b>",
            assumptions_html(hypotheses, heading="span"),
            open_=False,
        )
    _panel(m, title, "top:10px;left:50px;max-width:45%;", "title")
    legend = "<br>".join(layer.legend_html for layer in layers if layer.legend_html)
    _panel(
        m,
        collapsible("<b>Légende</b>", "<br>" + legend),
        "bottom:48px;left:10px;max-height:50vh;overflow:auto;",
        "legend",
    )
    for body in (layer.panel_html for layer in layers if layer.panel_html):
        _panel(
            m,
            body,
            "bottom:30px;right:10px;max-width:34%;max-height:40vh;overflow:auto;",
            "unmatched",
        )
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _FoldOnSmallScreens().add_to(m)
    return m


def map_html(m: folium.Map) -> str:
    """The complete HTML page of a map (what ``m.save`` writes).

    Parameters
    ----------
    m
        A map of :func:`~foncier.maps.territory_map` or :func:`~foncier.maps.scenario_map`.

    Returns
    -------
    str
        The page, UTF-8 text.
    """
    return str(m.get_root().render())
