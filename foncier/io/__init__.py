"""Readers and writers of foncier's stores and of the official open-data formats.

One module per source; each reader returns a validated layer whose
``attrs["load_report"]`` is a :class:`foncier.layers.LoadReport` (rows read,
rows rejected with their reason, geometries repaired, CRS transformed):

- :mod:`~foncier.io.cadastre`: Etalab cadastre parcels and buildings;
- :mod:`~foncier.io.cerema`: Cerema ENAF consumption files;
- :mod:`~foncier.io.planning`: the communes' planning documents (PLU, carte communale…);
- :mod:`~foncier.io.gpu`: GPU zoning (PLU ``zone_urba``, carte communale sectors) and the
  classification of activity zones;
- :mod:`~foncier.io.ocsge`: OCS GE land cover, mapped to ENAF / artificialised;
- :mod:`~foncier.io.cartofriches`: Cartofriches friches;
- :mod:`~foncier.io.zae`: CNIG SITE-ECO / TERRAIN-ECO business parks and plots;
- :mod:`~foncier.io.constraints`: constraints and infrastructure from any vector file;
- :mod:`~foncier.io.admin`: communes and EPCI membership;
- :mod:`~foncier.io.dem`: DEM reprojection to EPSG:2154;
- :mod:`~foncier.io.fetch`: download of the sources from their official addresses.
"""

from foncier.io.admin import read_communes, read_epci_membership
from foncier.io.cadastre import read_buildings, read_cadastre
from foncier.io.cartofriches import read_cartofriches
from foncier.io.cerema import (
    CodeMismatch,
    EnafVintage,
    code_mismatch,
    read_cerema_enaf,
    write_cerema_enaf,
)
from foncier.io.constraints import DEFAULT_EFFECTS, read_constraints, read_infrastructure
from foncier.io.dem import reproject_dem
from foncier.io.fetch import Manifest, fetch_territory
from foncier.io.gpu import classify_zones, load_zone_rules, read_gpu_zoning
from foncier.io.ocsge import read_ocsge
from foncier.io.planning import read_planning_docs
from foncier.io.zae import read_zae, read_zae_plots

__all__ = [
    "DEFAULT_EFFECTS",
    "CodeMismatch",
    "EnafVintage",
    "Manifest",
    "classify_zones",
    "code_mismatch",
    "fetch_territory",
    "load_zone_rules",
    "read_buildings",
    "read_cadastre",
    "read_cartofriches",
    "read_cerema_enaf",
    "read_communes",
    "read_constraints",
    "read_epci_membership",
    "read_gpu_zoning",
    "read_infrastructure",
    "read_ocsge",
    "read_planning_docs",
    "read_zae",
    "read_zae_plots",
    "reproject_dem",
    "write_cerema_enaf",
]
