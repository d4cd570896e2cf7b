"""Styles and provenance of the GeoPackages foncier writes, for QGIS.

Every GeoPackage foncier writes gets a ``layer_styles`` table (the table
QGIS reads and writes, one default style per layer, as QML and SLD) drawn
with the colours and classes of the maps, taken from their one palette
(:mod:`foncier.palette`) and labels (:mod:`foncier.labels`): land units by origin, placements
by sector, communes plain or by ZAN status when the budget columns are
there, friches by status, constraints and infrastructure by kind.  The
provenance of the data (territory, data label, ENAF vintage, rule set,
synthetic flag) goes into the GeoPackage metadata tables
(``gpkg_metadata``, ``gpkg_metadata_reference``) in the form GDAL reads as
layer metadata (``ogrinfo``, :func:`pyogrio.read_info`), so QGIS shows it in
the layer properties.

:func:`add_layer_styles` is called once per GeoPackage, after its layers are
written.

Examples
--------
>>> add_layer_styles("out/land_units.gpkg", metadata={"DONNEES": "échantillon"})  # doctest: +SKIP
['land_units']
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from foncier.errors import DataSourceError
from foncier.labels import CONSTRAINT_KIND_LABELS, INFRA_KIND_LABELS, ORIGIN_LABELS
from foncier.layers import Col, TableCol, UnitCol

__all__ = [
    "STYLE_NAME",
    "Category",
    "LayerStyle",
    "Rule",
    "add_layer_styles",
    "layer_style",
    "qml",
    "result_metadata",
    "sld",
    "territory_metadata",
]

#: ``styleName`` of the styles foncier writes (replaced when a file is styled again).
STYLE_NAME = "foncier"
_STYLES_TABLE = "layer_styles"
_GDAL_MD_URI = "http://gdal.org"
#: Legend of the two budget states drawn apart (as on the territory map).
_STATUS_LABELS = {"exceeded": "enveloppe dépassée", "incomplete": "données incomplètes"}


# -- styles as data ---------------------------------------------------------------------------

SymbolKind = Literal["fill", "line", "marker"]
Condition = tuple[str, Literal["=", "!=", "<", ">="], str | float]


@dataclass(frozen=True)
class Category:
    """One class of a categorised style: features whose column equals ``value``.

    ``value`` ``None`` is the class of every other value.
    """

    value: str | None
    label: str
    colour: str


@dataclass(frozen=True)
class Rule:
    """One class of a rule-based style: features meeting every condition (AND)."""

    label: str
    colour: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class LayerStyle:
    """How a layer is drawn: one symbol, classes of a column, or rules.

    Attributes
    ----------
    title
        French description of the style (shown by QGIS in the style manager).
    symbol
        ``fill`` (polygons), ``line`` or ``marker`` (points).
    colour
        Colour of the single symbol (when neither ``column`` nor ``rules``).
    column, categories
        Categorised style: the column and its classes.
    rules
        Rule-based style (ZAN budget classes).
    fill_opacity
        Opacity of the fill, 0 for outlines only.
    outline
        Outline colour; ``None`` draws the outline in the fill colour.
    width
        Outline (or line) width in millimetres.
    """

    title: str
    symbol: SymbolKind
    colour: str = "#737373"
    column: str | None = None
    categories: tuple[Category, ...] = ()
    rules: tuple[Rule, ...] = ()
    fill_opacity: float = 0.6
    outline: str | None = None
    width: float = 0.4

    def classes(self) -> list[tuple[str, str, str | None]]:
        """``(label, colour, key)`` of each class, in drawing order."""
        if self.rules:
            return [(r.label, r.colour, None) for r in self.rules]
        if self.column is not None:
            return [(c.label, c.colour, c.value) for c in self.categories]
        return [(self.title, self.colour, None)]


def _rgba(colour: str, alpha: float = 1.0) -> str:
    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * alpha)}"


def _budget_rules(remaining: str, status: str) -> tuple[Rule, ...]:
    """The ZAN classes of the territory map: no data, over budget, then remaining-budget classes."""
    from foncier import palette

    rules = [
        Rule(_STATUS_LABELS["incomplete"], palette.INCOMPLETE, ((status, "=", "incomplete"),)),
        Rule(_STATUS_LABELS["exceeded"], palette.EXCEEDED, ((status, "=", "exceeded"),)),
    ]
    breaks = palette.BUDGET_BREAKS_HA
    for k, (colour, label) in enumerate(palette.budget_class_labels()):
        conditions: list[Condition] = [(remaining, ">=", breaks[k])]
        if k + 1 < len(breaks):
            conditions.append((remaining, "<", breaks[k + 1]))
        for value in ("incomplete", "exceeded"):
            conditions.append((status, "!=", value))
        rules.append(Rule(f"reste {label}", colour, tuple(conditions)))
    return tuple(rules)


def _categories(
    colours: Mapping[str, str], labels: Mapping[str, str], other: str
) -> tuple[Category, ...]:
    cats = [Category(value, labels.get(value, value), colour) for value, colour in colours.items()]
    return (*cats, Category(None, "autre", other))


def layer_style(
    layer: str, columns: Sequence[str], symbol: SymbolKind, values: Mapping[str, Sequence[str]]
) -> LayerStyle:
    """The style of a foncier layer, with the maps' colours and classes.

    Parameters
    ----------
    layer
        Layer name (``communes``, ``parcels``, …, ``land_units``, ``placements``).
    columns
        Its columns: communes are drawn by ZAN status when ``remaining_ha``
        and ``status`` are there.
    symbol
        Symbol kind of its geometry type.
    values
        Distinct values of the categorised columns found in the data (the
        sectors of the placements get a class each).

    Returns
    -------
    LayerStyle
        A plain outline for a layer foncier does not draw in colour.
    """
    from foncier import palette

    other = palette.OTHER
    if layer == "communes":
        if TableCol.REMAINING_HA in columns and TableCol.STATUS in columns:
            return LayerStyle(
                "Communes : budget ZAN restant",
                symbol,
                rules=_budget_rules(TableCol.REMAINING_HA, TableCol.STATUS),
                fill_opacity=0.55,
                outline="#555555",
                width=0.26,
            )
        return LayerStyle("Communes", symbol, "#555555", fill_opacity=0.0, width=0.4)
    if layer == "land_units" and UnitCol.ORIGIN in columns:
        return LayerStyle(
            "Unités foncières (origine)",
            symbol,
            column=UnitCol.ORIGIN,
            categories=_categories(palette.ORIGIN_COLOURS, ORIGIN_LABELS, other),
            fill_opacity=0.75,
        )
    if layer == "placements" and Col.SECTOR in columns:
        sectors = sorted({str(s) for s in values.get(Col.SECTOR, ())})
        cats = tuple(Category(s, s, palette.sector_colour(s)) for s in sectors)
        return LayerStyle(
            "Implantations des projets (secteur)",
            symbol,
            column=Col.SECTOR,
            categories=(*cats, Category(None, "autre", other)),
            fill_opacity=0.35,
            width=0.8,
        )
    if layer == "friches" and Col.STATUS in columns:
        return LayerStyle(
            "Friches (statut)",
            symbol,
            column=Col.STATUS,
            categories=_categories(palette.FRICHE_COLOURS, {}, other),
        )
    if layer == "constraints" and Col.KIND in columns:
        colours = {
            kind: colour for colour, kinds, _ in palette.CONSTRAINT_STYLE.values() for kind in kinds
        }
        return LayerStyle(
            "Contraintes (type)",
            symbol,
            column=Col.KIND,
            categories=_categories(colours, CONSTRAINT_KIND_LABELS, other),
            fill_opacity=0.3,
        )
    if layer == "infrastructure" and Col.KIND in columns:
        return LayerStyle(
            "Infrastructures (type)",
            symbol,
            column=Col.KIND,
            categories=_categories(palette.INFRA_COLOURS, INFRA_KIND_LABELS, other),
            fill_opacity=0.9,
        )
    if layer == "zae":
        return LayerStyle("Zones d'activités (ZAE)", symbol, palette.ZAE_COLOUR, fill_opacity=0.05)
    titles = {"parcels": "Parcelles", "plu_zones": "Zones du PLU", "zae_plots": "Lots de ZAE"}
    return LayerStyle(titles.get(layer, layer), symbol, other, fill_opacity=0.0, width=0.2)


# -- QML (QGIS) -------------------------------------------------------------------------------


def _symbol_element(style: LayerStyle, name: str, colour: str) -> ET.Element:
    outline = style.outline or colour
    if style.symbol == "fill":
        cls = "SimpleFill"
        props = {
            "color": _rgba(colour, style.fill_opacity),
            "style": "solid" if style.fill_opacity > 0 else "no",
            "outline_color": _rgba(outline),
            "outline_style": "solid",
            "outline_width": str(style.width),
            "outline_width_unit": "MM",
            "joinstyle": "bevel",
        }
    elif style.symbol == "line":
        cls = "SimpleLine"
        props = {
            "line_color": _rgba(colour),
            "line_style": "solid",
            "line_width": str(max(style.width, 0.6)),
            "line_width_unit": "MM",
            "capstyle": "round",
            "joinstyle": "round",
        }
    else:
        cls = "SimpleMarker"
        props = {
            "color": _rgba(colour, style.fill_opacity or 1.0),
            "name": "circle",
            "outline_color": _rgba(style.outline or "#333333"),
            "outline_style": "solid",
            "outline_width": "0.2",
            "size": "2.6",
            "size_unit": "MM",
        }
    symbol = ET.Element(
        "symbol",
        {"type": style.symbol, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    layer = ET.SubElement(
        symbol, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"}
    )
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    for key, value in props.items():
        ET.SubElement(options, "Option", {"name": key, "type": "QString", "value": value})
    for key, value in props.items():  # QGIS before 3.26 reads these
        ET.SubElement(layer, "prop", {"k": key, "v": value})
    return symbol


def _expression(conditions: Iterable[Condition]) -> str:
    parts = []
    for column, op, value in conditions:
        literal = f"'{value}'" if isinstance(value, str) else f"{value:g}"
        parts.append(f'"{column}" {"<>" if op == "!=" else op} {literal}')
    return " AND ".join(parts)


def qml(style: LayerStyle) -> str:
    """The style as a QGIS QML document (renderer only).

    Examples
    --------
    >>> text = qml(LayerStyle("Communes", "fill", "#555555", fill_opacity=0.0))
    >>> 'renderer-v2 type="singleSymbol"' in text
    True
    """
    root = ET.Element("qgis", {"version": "3.22.0", "styleCategories": "Symbology"})
    symbols = ET.Element("symbols")
    if style.rules:
        renderer = ET.SubElement(
            root, "renderer-v2", {"type": "RuleRenderer", "symbollevels": "0", "forceraster": "0"}
        )
        rules = ET.SubElement(renderer, "rules", {"key": "{foncier-root}"})
        for i, rule in enumerate(style.rules):
            ET.SubElement(
                rules,
                "rule",
                {
                    "key": f"{{foncier-{i}}}",
                    "filter": _expression(rule.conditions),
                    "symbol": str(i),
                    "label": rule.label,
                },
            )
            symbols.append(_symbol_element(style, str(i), rule.colour))
    elif style.column is not None:
        renderer = ET.SubElement(
            root,
            "renderer-v2",
            {
                "type": "categorizedSymbol",
                "attr": style.column,
                "symbollevels": "0",
                "forceraster": "0",
            },
        )
        categories = ET.SubElement(renderer, "categories")
        for i, cat in enumerate(style.categories):
            ET.SubElement(
                categories,
                "category",
                {
                    "value": "" if cat.value is None else cat.value,
                    "symbol": str(i),
                    "label": cat.label,
                    "render": "true",
                },
            )
            symbols.append(_symbol_element(style, str(i), cat.colour))
    else:
        renderer = ET.SubElement(
            root, "renderer-v2", {"type": "singleSymbol", "symbollevels": "0", "forceraster": "0"}
        )
        symbols.append(_symbol_element(style, "0", style.colour))
    renderer.append(symbols)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body


# -- SLD (other GIS, GeoServer) ---------------------------------------------------------------

_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"
_OGC_OPS = {
    "=": "PropertyIsEqualTo",
    "!=": "PropertyIsNotEqualTo",
    "<": "PropertyIsLessThan",
    ">=": "PropertyIsGreaterThanOrEqualTo",
}


def _se(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{_SE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _svg(parent: ET.Element, name: str, value: str) -> None:
    _se(parent, "SvgParameter", value).set("name", name)


def _symbolizer(rule: ET.Element, style: LayerStyle, colour: str) -> None:
    outline = style.outline or colour
    if style.symbol == "fill":
        sym = _se(rule, "PolygonSymbolizer")
        if style.fill_opacity > 0:
            fill = _se(sym, "Fill")
            _svg(fill, "fill", colour)
            _svg(fill, "fill-opacity", f"{style.fill_opacity:g}")
        stroke = _se(sym, "Stroke")
        _svg(stroke, "stroke", outline)
        _svg(stroke, "stroke-width", f"{style.width * 3.78:.2f}")
    elif style.symbol == "line":
        stroke = _se(_se(rule, "LineSymbolizer"), "Stroke")
        _svg(stroke, "stroke", colour)
        _svg(stroke, "stroke-width", f"{max(style.width, 0.6) * 3.78:.2f}")
    else:
        graphic = _se(_se(rule, "PointSymbolizer"), "Graphic")
        mark = _se(graphic, "Mark")
        _se(mark, "WellKnownName", "circle")
        _svg(_se(mark, "Fill"), "fill", colour)
        _svg(_se(mark, "Stroke"), "stroke", style.outline or "#333333")
        _se(graphic, "Size", "10")


def _ogc_filter(rule: ET.Element, conditions: Sequence[Condition]) -> None:
    filt = ET.SubElement(rule, f"{{{_OGC}}}Filter")
    parent = ET.SubElement(filt, f"{{{_OGC}}}And") if len(conditions) > 1 else filt
    for column, op, value in conditions:
        comparison = ET.SubElement(parent, f"{{{_OGC}}}{_OGC_OPS[op]}")
        ET.SubElement(comparison, f"{{{_OGC}}}PropertyName").text = column
        ET.SubElement(comparison, f"{{{_OGC}}}Literal").text = (
            value if isinstance(value, str) else f"{value:g}"
        )


def sld(style: LayerStyle, layer: str) -> str:
    """The style as an SLD 1.1 document (Symbology Encoding).

    Examples
    --------
    >>> "PolygonSymbolizer" in sld(LayerStyle("Communes", "fill", "#555555"), "communes")
    True
    """
    ET.register_namespace("", _SLD)
    ET.register_namespace("se", _SE)
    ET.register_namespace("ogc", _OGC)
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", {"version": "1.1.0"})
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    _se(named, "Name", layer)
    user = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    _se(user, "Name", style.title)
    fts = _se(user, "FeatureTypeStyle")
    for i, (label, colour, key) in enumerate(style.classes()):
        rule = _se(fts, "Rule")
        _se(rule, "Name", label)
        _se(_se(rule, "Description"), "Title", label)
        if style.rules:
            _ogc_filter(rule, style.rules[i].conditions)
        elif style.column is not None:
            if key is None:
                _se(rule, "ElseFilter")
            else:
                _ogc_filter(rule, [(style.column, "=", key)])
        _symbolizer(rule, style, colour)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# -- provenance -------------------------------------------------------------------------------


def territory_metadata(territory: Any) -> dict[str, str]:
    """Provenance of a territory's data for the GeoPackage metadata.

    Parameters
    ----------
    territory
        A :class:`foncier.territory.Territory`.

    Returns
    -------
    dict
        ``TERRITOIRE``, ``DONNEES`` (data label), ``MILLESIME_ENAF``,
        ``DONNEES_SYNTHETIQUES`` (``oui``/``non``), ``VERSION_FONCIER``.
    """
    from foncier import __version__

    vintage = territory.enaf_vintage
    return {
        "TERRITOIRE": str(territory.name),
        "DONNEES": str(territory.data_label),
        "MILLESIME_ENAF": vintage.label if vintage is not None else "pas de données ENAF",
        "DONNEES_SYNTHETIQUES": "oui" if territory.synthetic else "non",
        "VERSION_FONCIER": __version__,
    }


def result_metadata(audit: Mapping[str, Any]) -> dict[str, str]:
    """Provenance of a scenario result (its audit record) for the GeoPackage metadata.

    Returns
    -------
    dict
        ``SCENARIO``, ``TERRITOIRE``, ``DONNEES``, ``MILLESIME_ENAF``,
        ``REGLES_ZAN`` (name and version), ``OBJECTIF``, ``MUTUALISATION``,
        ``DONNEES_SYNTHETIQUES``, ``VERSION_FONCIER``, ``CALCULE_LE``.
    """
    fields = {
        "SCENARIO": audit.get("name"),
        "TERRITOIRE": audit.get("territory"),
        "DONNEES": audit.get("data_label"),
        "MILLESIME_ENAF": audit.get("enaf_vintage") or "pas de données ENAF",
        "REGLES_ZAN": f"{audit.get('rules', '')} v{audit.get('rules_version', '')}",
        "OBJECTIF": audit.get("objective"),
        "MUTUALISATION": audit.get("pool"),
        "DONNEES_SYNTHETIQUES": "oui" if audit.get("synthetic") else "non",
        "VERSION_FONCIER": audit.get("foncier_version"),
        "CALCULE_LE": audit.get("started_at"),
    }
    return {k: str(v) for k, v in fields.items() if v is not None}


# -- writing into a GeoPackage ----------------------------------------------------------------

_STYLES_DDL = f"""
CREATE TABLE IF NOT EXISTS {_STYLES_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""
_METADATA_DDL = """
CREATE TABLE IF NOT EXISTS gpkg_metadata (
    id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
    md_scope TEXT NOT NULL DEFAULT 'dataset',
    md_standard_uri TEXT NOT NULL,
    mime_type TEXT NOT NULL DEFAULT 'text/xml',
    metadata TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
    reference_scope TEXT NOT NULL,
    table_name TEXT,
    column_name TEXT,
    row_id_value INTEGER,
    timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    md_file_id INTEGER NOT NULL,
    md_parent_id INTEGER,
    CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
    CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id)
);
"""
_METADATA_EXTENSION = "http://www.geopackage.org/spec120/#extension_metadata"
_SYMBOLS: dict[str, SymbolKind] = {
    "POINT": "marker",
    "MULTIPOINT": "marker",
    "LINESTRING": "line",
    "MULTILINESTRING": "line",
    "CURVE": "line",
    "MULTICURVE": "line",
    "COMPOUNDCURVE": "line",
}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def _distinct(conn: sqlite3.Connection, table: str, column: str) -> list[str]:
    rows = conn.execute(
        f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL LIMIT 200'
    )
    return [str(row[0]) for row in rows]


def _write_metadata(conn: sqlite3.Connection, table: str, metadata: Mapping[str, str]) -> None:
    """Merge ``metadata`` into the GDAL metadata record of ``table`` (created if missing)."""
    conn.executescript(_METADATA_DDL)
    for name in ("gpkg_metadata", "gpkg_metadata_reference"):
        known = conn.execute(
            "SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = ?",
            (name, "gpkg_metadata"),
        ).fetchone()
        if not known:
            conn.execute(
                "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, "
                "definition, scope) VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')",
                (name, _METADATA_EXTENSION),
            )
    row = conn.execute(
        "SELECT m.id, m.metadata FROM gpkg_metadata m JOIN gpkg_metadata_reference r "
        "ON r.md_file_id = m.id WHERE r.reference_scope = 'table' AND r.table_name = ? "
        "AND m.md_standard_uri = ? AND m.mime_type = 'text/xml'",
        (table, _GDAL_MD_URI),
    ).fetchone()
    root = ET.fromstring(row[1]) if row else ET.Element("GDALMultiDomainMetadata")
    domain = next((m for m in root.findall("Metadata") if not m.get("domain")), None)
    if domain is None:
        domain = ET.SubElement(root, "Metadata")
    items = {item.get("key"): item for item in domain.findall("MDI")}
    for key, value in metadata.items():
        item = items.get(key)
        if item is None:
            item = ET.SubElement(domain, "MDI", {"key": key})
        item.text = value
    text = ET.tostring(root, encoding="unicode")
    if row:
        conn.execute("UPDATE gpkg_metadata SET metadata = ? WHERE id = ?", (text, row[0]))
        return
    cur = conn.execute(
        "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
        "VALUES ('dataset', ?, 'text/xml', ?)",
        (_GDAL_MD_URI, text),
    )
    conn.execute(
        "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) "
        "VALUES ('table', ?, ?)",
        (table, cur.lastrowid),
    )


def add_layer_styles(
    path: str | Path,
    layers: Iterable[str] | None = None,
    *,
    metadata: Mapping[str, str] | None = None,
) -> list[str]:
    """Give the layers of a GeoPackage foncier's default QGIS style, and record provenance.

    Writes one row per layer in the ``layer_styles`` table (QML and SLD,
    ``useAsDefault`` true, ``styleName`` :data:`STYLE_NAME`; a style written
    before by foncier is replaced, other styles are kept) and registers the
    table in ``gpkg_contents`` as an attribute table, as QGIS does.  With
    ``metadata``, the keys are merged into each layer's GDAL metadata.

    Parameters
    ----------
    path
        A GeoPackage written by foncier.
    layers
        Layers to style; ``None`` styles every feature layer of the file.
    metadata
        Provenance fields (see :func:`territory_metadata`, :func:`result_metadata`).

    Returns
    -------
    list of str
        The layers styled.

    Raises
    ------
    DataSourceError
        The file is not a GeoPackage or a layer is not in it.
    """
    gpkg = Path(path)
    if not gpkg.is_file():
        msg = f"GeoPackage introuvable : {gpkg}"
        raise DataSourceError(msg)
    try:
        with closing(sqlite3.connect(gpkg)) as conn, conn:
            geometry = {
                str(table): (str(column), str(kind).upper())
                for table, column, kind in conn.execute(
                    "SELECT table_name, column_name, geometry_type_name FROM gpkg_geometry_columns"
                )
            }
            wanted = list(geometry) if layers is None else list(layers)
            missing = [name for name in wanted if name not in geometry]
            if missing:
                msg = (
                    f"{gpkg} : couche(s) {missing} absente(s) du GeoPackage "
                    f"(couches présentes : {sorted(geometry)})"
                )
                raise DataSourceError(msg)
            conn.execute(_STYLES_DDL)
            conn.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description, last_change) VALUES (?, 'attributes', ?, "
                "'Styles des couches (QGIS)', strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                (_STYLES_TABLE, _STYLES_TABLE),
            )
            for name in wanted:
                column, kind = geometry[name]
                columns = _columns(conn, name)
                values = {c: _distinct(conn, name, c) for c in (Col.SECTOR,) if c in columns}
                # mixed geometries: infrastructure is mostly points (interchanges, stations)
                default: SymbolKind = "marker" if name == "infrastructure" else "fill"
                style = layer_style(name, columns, _SYMBOLS.get(kind, default), values)
                conn.execute(
                    f"DELETE FROM {_STYLES_TABLE} WHERE f_table_name = ? AND styleName = ?",
                    (name, STYLE_NAME),
                )
                conn.execute(
                    f"UPDATE {_STYLES_TABLE} SET useAsDefault = 0 WHERE f_table_name = ?", (name,)
                )
                conn.execute(
                    f"INSERT INTO {_STYLES_TABLE} (f_table_catalog, f_table_schema, "
                    "f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                    "useAsDefault, description, owner, ui) "
                    "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, 'foncier', '')",
                    (name, column, STYLE_NAME, qml(style), sld(style, name), style.title),
                )
                if metadata:
                    _write_metadata(conn, name, metadata)
    except sqlite3.DatabaseError as exc:
        msg = f"impossible d'ajouter les styles à {gpkg} (GeoPackage illisible) : {exc}"
        raise DataSourceError(msg) from exc
    return wanted
