"""Folium maps for the working group: ZAN budgets, available land, placements.

Two maps, in French, each naming its data (rule set, data vintage and, for
the generated sample, "échantillon synthétique"):

- :func:`territory_map`: communes coloured by the ZAN budget they have left
  and their names, land units, ZAE, friches, constraints and infrastructure;
- :func:`scenario_map`: the same base plus the projects placed by a scenario
  and a panel listing the projects left out, with their reasons.

How the package is laid out
---------------------------
One function per layer, each receiving the tables it draws (it computes no
supply and no budget) and returning a :class:`MapLayer` (its Leaflet layers,
its legend block, its panel): :mod:`~foncier.maps.communes` (budgets,
names), :mod:`~foncier.maps.units`, :mod:`~foncier.maps.context` (ZAE,
friches, constraints, infrastructure), :mod:`~foncier.maps.placements`
(placements, projects left out).  :mod:`~foncier.maps.territory` and
:mod:`~foncier.maps.scenario` gather the tables and assemble the layers;
:mod:`~foncier.maps.page` builds the page around them.  French labels and
the HTML helpers are in :mod:`foncier.labels`.

Stable cartography
------------------
Colours and classes are fixed in :mod:`foncier.maps.style`, not taken from
the data drawn: a sector, a budget class (:data:`BUDGET_BREAKS_HA`), a friche
status or an origin has the same colour on every map, so two scenario maps
can be compared side by side.  The scale is metric only; the title, legend
and panels fold (and start folded on a narrow window).

Size
----
Maps stay light.  Commune boundaries are simplified together with
:func:`shapely.coverage_simplify` (neighbours keep a common edge, no gaps or
slivers appear), other polygons are simplified one by one, coordinates are
rounded to 5 decimals in WGS84 (about 1 m), and parcels are only drawn where
they matter: as the land units they form, never the whole cadastre.  The map
of the default sample (30 000 parcels, 40 communes, about 150 land units) is
about 0.4 MB of HTML, its scenario map about 0.85 MB (0.16 MB more each with
Leaflet inlined), built in about 2 s and drawn in about a second by headless
Chromium.

Limits: every feature is embedded in the page as GeoJSON and drawn as an SVG
path, which stays fluid up to a few thousand land units and a few hundred
communes (an EPCI or a département).  Beyond that (a région, or every parcel
of a territory), serve the layers as vector tiles or through the API's
paginated GeoJSON endpoints with a bbox filter instead of embedding them, or
raise ``tolerance_m``.

Offline
-------
By default the library links Leaflet on its CDN (as Folium does);
``inline_assets=True`` embeds the copy of Leaflet 1.9.3 shipped in
``foncier/templates/leaflet`` (BSD 2-Clause licence) so that the map opens
with no network; ``foncier map``, the service's map pages and the report use
it.  No plugin is needed and point features are drawn as SVG circles, never
as marker images.  Background tiles (OpenStreetMap) need the network; when
they cannot load, the page says "Fond de carte indisponible hors ligne" and
every layer of the study is still drawn.
"""

from __future__ import annotations

from foncier.labels import LAYER_NAMES, ORIGIN_LABELS, REASON_LABELS
from foncier.maps.layer import MapLayer
from foncier.maps.page import OFFLINE_NOTICE, map_html
from foncier.maps.scenario import scenario_map
from foncier.maps.style import BUDGET_BREAKS_HA, FRICHE_COLOURS, SECTOR_COLOURS, sector_colour
from foncier.maps.territory import territory_map

__all__ = [
    "BUDGET_BREAKS_HA",
    "FRICHE_COLOURS",
    "LAYER_NAMES",
    "OFFLINE_NOTICE",
    "ORIGIN_LABELS",
    "REASON_LABELS",
    "SECTOR_COLOURS",
    "MapLayer",
    "map_html",
    "scenario_map",
    "sector_colour",
    "territory_map",
]
