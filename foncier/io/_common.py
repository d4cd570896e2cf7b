"""Plumbing shared by the open-data readers.

Reading any vector file with pyogrio (GeoJSON, gzipped GeoJSON, GeoPackage,
shapefile...) with errors that name the file, matching field names
case-insensitively, rejecting rows with a reason, and validating the result
against its layer schema with the file named in every error.
"""

from __future__ import annotations

import csv
import gzip
import io
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from foncier.errors import CRSError, DataSourceError, FoncierError
from foncier.layers import CRS_L93, LoadReport, validate_layer

__all__ = [
    "CONTENT_LABELS",
    "PathLike",
    "as_paths",
    "blank",
    "check_content",
    "content_kinds",
    "column_getter",
    "find_column",
    "numeric",
    "read_csv_table",
    "read_vector",
    "reject_rows",
    "sniff_content",
    "validate_source",
]

PathLike = str | Path

#: What the first bytes of a file say it holds, in French, by content kind.
CONTENT_LABELS: dict[str, str] = {
    "empty": "rien (fichier vide)",
    "html": "une page HTML (souvent la page d'erreur d'un site, enregistrée à la place "
    "des données)",
    "zip": "une archive ZIP",
    "gzip": "un fichier compressé gzip",
    "sqlite": "une base SQLite / GeoPackage",
    "pdf": "un document PDF",
    "tiff": "une image TIFF / GeoTIFF",
    "shapefile": "un shapefile (.shp)",
    "xml": "du XML",
    "json": "du JSON",
    "binary": "des données binaires",
    "text": "du texte",
}
#: Content kinds a file may hold, by its suffix; other suffixes accept any non-empty content
#: that is not an HTML page or a PDF.
_KINDS_BY_SUFFIX: dict[str, frozenset[str]] = {
    ".json": frozenset({"json"}),
    ".geojson": frozenset({"json"}),
    ".gpkg": frozenset({"sqlite"}),
    ".csv": frozenset({"text"}),
    ".txt": frozenset({"text"}),
    ".tif": frozenset({"tiff"}),
    ".tiff": frozenset({"tiff"}),
    ".gz": frozenset({"gzip"}),
    ".zip": frozenset({"zip"}),
    ".shp": frozenset({"shapefile"}),
}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"%PDF", "pdf"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
    (b"\x00\x00\x27\x0a", "shapefile"),
)


def sniff_content(path: PathLike) -> str:
    """What a file holds, from its first bytes (not its name).

    Parameters
    ----------
    path
        An existing file.

    Returns
    -------
    str
        A key of :data:`CONTENT_LABELS`: ``"html"``, ``"zip"``, ``"sqlite"``,
        ``"json"``, ``"text"``…

    Raises
    ------
    DataSourceError
        The file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "projets.json"
    >>> _ = p.write_text("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>")
    >>> sniff_content(p)
    'html'
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        msg = f"impossible de lire le fichier {path} : {exc.strerror or exc}"
        raise DataSourceError(msg) from exc
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"\x00" in head:
        return "binary"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    if not text:
        return "empty"
    if text.startswith(("<!doctype html", "<html", "<head", "<body")) or "<html" in text[:512]:
        return "html"
    if text.startswith("<?xml") or text.startswith("<"):
        return "xml"
    if text.startswith(("{", "[")):
        return "json"
    return "text"


def content_kinds(path: PathLike) -> frozenset[str]:
    """Content kinds a file's suffix promises (empty: any but HTML, PDF or nothing).

    Examples
    --------
    >>> sorted(content_kinds("parcelles.geojson"))
    ['json']
    """
    return _KINDS_BY_SUFFIX.get(Path(path).suffix.lower(), frozenset())


def check_content(path: PathLike, what: str, kinds: Iterable[str] | None = None) -> str:
    """Refuse a file whose content is not what its reader expects.

    An HTML error page saved as ``.json`` or ``.csv``, a ZIP renamed, a
    GeoJSON saved as ``.gpkg``, an empty file: refused before any parser
    sees it, with a message naming the file and what it holds.

    Parameters
    ----------
    path
        The file.
    what
        What the file should hold, for messages (e.g. ``"cadastre"``).
    kinds
        Content kinds accepted (keys of :data:`CONTENT_LABELS`); by default
        those of the file's suffix (``.json`` → JSON, ``.gpkg`` → SQLite, …),
        and any content but HTML, PDF or nothing for other suffixes.

    Returns
    -------
    str
        The content kind found; ``"missing"`` when there is no such file
        (the reader says so in its own words).

    Raises
    ------
    DataSourceError
        Content of another kind.
    """
    path = Path(path)
    if not path.is_file():
        return "missing"
    kind = sniff_content(path)
    allowed = frozenset(kinds) if kinds is not None else content_kinds(path)
    if kind == "empty" and (not allowed or "text" in allowed):
        return kind  # the text readers say "empty" themselves
    refused = kind in {"empty", "html", "pdf"} or (allowed and kind not in allowed)
    if refused:
        expected = " ou ".join(CONTENT_LABELS[k] for k in sorted(allowed)) if allowed else None
        wanted = f" ; attendu : {expected}" if expected else ""
        msg = (
            f"le fichier {what} {path} contient {CONTENT_LABELS[kind]}{wanted}. "
            "Vérifiez le fichier (ouvrez-le dans un éditeur) ou téléchargez-le à nouveau."
        )
        raise DataSourceError(msg)
    return kind


def as_paths(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    """Return one path or a sequence of paths as a list of :class:`~pathlib.Path`.

    Parameters
    ----------
    paths
        A path or several.

    Returns
    -------
    list of pathlib.Path
        At least one path.

    Raises
    ------
    DataSourceError
        If no path is given.
    """
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        msg = "aucun fichier d'entrée ; donnez au moins un chemin"
        raise DataSourceError(msg)
    return out


def _gdal_path(path: Path) -> str:
    """GDAL path of a file, through ``/vsigzip/`` for gzip-compressed files."""
    if path.suffix.lower() == ".gz":
        return f"/vsigzip/{path}"
    return str(path)


def _check_gzip(path: Path, what: str) -> None:
    """Read a ``.gz`` file to its end so that truncation is reported clearly."""
    try:
        with gzip.open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        msg = (
            f"le fichier {what} {path} n'est pas un fichier gzip complet ({exc}) ; "
            "il est peut-être tronqué : téléchargez-le à nouveau"
        )
        raise DataSourceError(msg) from exc


def read_vector(
    path: PathLike,
    *,
    what: str,
    layer: str | int | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file with pyogrio, turning every failure into a clear error.

    Parameters
    ----------
    path
        Any file GDAL reads (GeoJSON, ``.geojson.gz`` / ``.json.gz``,
        GeoPackage, shapefile, FlatGeobuf...).
    what
        What the file should hold, for messages (e.g. ``"cadastre"``).
    layer
        Layer of a multi-layer file; the first layer by default.
    encoding
        Text encoding of the attributes, when the file does not declare it
        (a shapefile without ``.cpg``); GDAL's guess by default.

    Returns
    -------
    geopandas.GeoDataFrame
        The features as read, in their own CRS.

    Raises
    ------
    DataSourceError
        Missing, empty, truncated or corrupt file, or a file without geometry.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"le fichier {what} {path} n'existe pas"
        raise DataSourceError(msg)
    if path.stat().st_size == 0:
        msg = f"le fichier {what} {path} est vide"
        raise DataSourceError(msg)
    check_content(path, what)
    if path.suffix.lower() == ".gz":
        _check_gzip(path, what)
    try:
        with warnings.catch_warnings():
            # A mixed-type field (text in a numeric column) is read as text and checked later.
            warnings.filterwarnings(
                "ignore", message="Could not parse column", category=UserWarning
            )
            # Arrow: columns arrive as arrays, not built row by row (2-3x faster on large files)
            gdf = pyogrio.read_dataframe(
                _gdal_path(path), layer=layer, encoding=encoding, use_arrow=True
            )
    except Exception as exc:  # pyogrio raises several DataSourceError/FieldError types
        msg = (
            f"impossible de lire le fichier {what} {path} : {exc}. Est-ce un fichier vectoriel "
            "complet (GeoJSON, GeoPackage, shapefile) ? Un téléchargement tronqué est à refaire."
        )
        raise DataSourceError(msg) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        msg = f"le fichier {what} {path} n'a pas de géométrie ; attendu une couche vectorielle"
        raise DataSourceError(msg)
    return gdf


def read_csv_table(path: Path, what: str) -> pd.DataFrame:
    """Read a UTF-8 CSV (optional BOM; ``,``, ``;`` or tab separated) as text columns.

    Parameters
    ----------
    path
        The file.
    what
        What the file should hold, for messages.

    Returns
    -------
    pandas.DataFrame
        Every column as strings, blanks kept as ``""``.

    Raises
    ------
    DataSourceError
        Unreadable, empty, non-UTF-8 or malformed file.
    """
    check_content(path, what, {"text"})
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        msg = f"impossible de lire le fichier {what} {path} : {exc.strerror or exc}"
        raise DataSourceError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = (
            f"le fichier {what} {path} n'est pas du texte UTF-8 ({exc}) ; "
            "exportez-le à nouveau en UTF-8"
        )
        raise DataSourceError(msg) from exc
    if not text.strip():
        msg = f"le fichier {what} {path} est vide"
        raise DataSourceError(msg)
    header = text.splitlines()[0]
    sep = max([",", ";", "\t"], key=header.count)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, csv.Error) as exc:
        msg = f"le fichier {what} {path} est mal formé ou tronqué ({exc})"
        raise DataSourceError(msg) from exc


def find_column(
    columns: Iterable[str],
    *candidates: str,
    required: bool = False,
    source: str = "",
) -> str | None:
    """Find the first of ``candidates`` among ``columns``, ignoring case and a BOM.

    Parameters
    ----------
    columns
        Column names of a table.
    *candidates
        Accepted names, in order of preference.
    required
        Raise if none is found.
    source
        File or layer named in the error.

    Returns
    -------
    str or None
        The actual column name, or ``None`` when absent and not required.

    Raises
    ------
    DataSourceError
        If ``required`` and no candidate is present.

    Examples
    --------
    >>> find_column(["LIBELLE", "TYPEZONE"], "typezone")
    'TYPEZONE'
    """
    cols = list(columns)
    lower = {str(c).lstrip("\ufeff").strip().lower(): c for c in cols}
    for cand in candidates:
        if cand.lower() in lower:
            return str(lower[cand.lower()])
    if required:
        names = " ou ".join(repr(c) for c in candidates)
        msg = (
            f"{source} : aucune colonne {names} (sans tenir compte de la casse) ; colonnes "
            f"trouvées : {[str(c) for c in cols if c != 'geometry']}. Une colonne a-t-elle été "
            "renommée ?"
        )
        raise DataSourceError(msg)
    return None


def column_getter(raw: pd.DataFrame, source: str) -> Callable[..., pd.Series]:
    """Return ``col(*names, required=False)``: the first of ``names`` in ``raw``.

    The column is matched as :func:`find_column` does; an absent optional
    column comes back as a Series of ``None``.

    Parameters
    ----------
    raw
        The table read from the source.
    source
        File or layer named in the errors.

    Returns
    -------
    callable
        ``col(*names, required=False) -> pandas.Series``.
    """

    def col(*names: str, required: bool = False) -> pd.Series:
        name = find_column(raw.columns, *names, required=required, source=source)
        return raw[name] if name is not None else pd.Series(None, index=raw.index, dtype=object)

    return col


def reject_rows(
    df: pd.DataFrame, bad: pd.Series, reason: str, ids: pd.Series, report: LoadReport
) -> pd.DataFrame:
    """Drop rows flagged ``bad``, recording ``(id, reason)`` of each in the report.

    Parameters
    ----------
    df
        The table.
    bad
        Boolean Series on ``df``'s index, ``True`` on rows to drop.
    reason
        Why they are dropped.
    ids
        Row labels (Series on the same index) written in the report.
    report
        Report to fill.

    Returns
    -------
    pandas.DataFrame
        ``df`` without the rejected rows.
    """
    mask = bad.fillna(True).astype(bool).to_numpy()
    if mask.any():
        labels = ids.astype(object).where(ids.notna(), df.index.to_series().astype(str))
        report.rows_rejected.extend((str(i), reason) for i in labels[mask])
    return df.loc[~mask]


def blank(s: pd.Series) -> pd.Series:
    """Whether values are missing or blank strings."""
    return s.isna() | (s.astype(str).str.strip() == "")


def validate_source(
    name: str, data: pd.DataFrame, report: LoadReport, sources: Sequence[Path] | str
) -> gpd.GeoDataFrame:
    """Validate a layer read from files, naming the files in any error.

    Parameters
    ----------
    name
        Layer name.
    data
        The layer built by a reader.
    report
        The reader's report (rows read and rejected so far).
    sources
        Files the rows came from.

    Returns
    -------
    geopandas.GeoDataFrame
        The validated layer with ``attrs["load_report"]``.

    Raises
    ------
    LayerSchemaError, CRSError, GeometryError
        As :func:`foncier.layers.validate_layer`, the message prefixed with the files.
    """
    label = sources if isinstance(sources, str) else ", ".join(str(p) for p in sources)
    try:
        out = validate_layer(name, data, report=report)
    except FoncierError as exc:
        msg = f"{label} : {exc}"
        raise type(exc)(msg) from exc
    assert isinstance(out, gpd.GeoDataFrame)
    _check_extent(out, name, label)
    return out


#: Area of use of EPSG:2154 (metropolitan France), lon/lat, with a margin.
_L93_AREA = (-11.0, 40.0, 12.0, 53.0)


def _check_extent(gdf: gpd.GeoDataFrame, name: str, label: str) -> None:
    """Refuse a layer lying outside metropolitan France: a wrongly declared CRS."""
    if gdf.empty:
        return
    lon_lat = gpd.GeoSeries(
        gpd.points_from_xy(*np.array(gdf.total_bounds).reshape(2, 2).T), crs=gdf.crs
    ).to_crs("EPSG:4326")
    xmin, ymin, xmax, ymax = _L93_AREA
    inside = lon_lat.x.between(xmin, xmax) & lon_lat.y.between(ymin, ymax)
    if not bool(inside.all()):
        report = gdf.attrs.get("load_report")
        crs_in = report.crs_in if report is not None else "?"
        msg = (
            f"{label} : la couche {name} est hors de la France métropolitaine une fois lue en "
            f"{crs_in} (emprise {np.round(gdf.total_bounds, 1).tolist()} en EPSG:2154) ; "
            "le SCR déclaré par le fichier est-il juste ? Corrigez-le (par exemple son .prj)."
        )
        raise CRSError(msg)


def numeric(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse numbers, accepting a decimal comma and spaces between thousands.

    Parameters
    ----------
    s
        Raw values (numbers or strings).

    Returns
    -------
    (pandas.Series, pandas.Series)
        Float values (NaN where missing or unparsable) and ``True`` where a
        non-blank value could not be parsed.
    """
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        values = s.astype("float64")
        return values, pd.Series(np.zeros(len(s), dtype=bool), index=s.index)
    cleaned = s.astype(str).str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.replace(",", ".")
    text = s.astype(object).where(s.isna(), cleaned)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    return values, values.isna() & ~blank(s)


def read_surfaces(
    files: Sequence[Path], read_one: Callable[[Path], pd.DataFrame], layer: str
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, LoadReport]:
    """Read polygon files into one frame, repair its geometries, and say which are surfaces.

    The shared first step of the readers of footprints (buildings, OCS GE):
    every file is read with ``read_one`` (already in EPSG:2154), invalid
    geometries are repaired with :func:`shapely.make_valid` and counted in the
    load report.

    Parameters
    ----------
    files
        The files.
    read_one
        Reads one file into a (Geo)DataFrame in EPSG:2154.
    layer
        Name of the load report.

    Returns
    -------
    frame : geopandas.GeoDataFrame
        The rows of every file.
    geoms : numpy.ndarray
        Their geometries, repaired.
    polygonal : numpy.ndarray
        Whether each geometry is a non-empty (multi)polygon.
    report : LoadReport
        Rows read and geometries repaired; rejections are the caller's.
    """
    frame = gpd.GeoDataFrame(
        pd.concat([read_one(p) for p in files], ignore_index=True), crs=CRS_L93
    )
    report = LoadReport(layer, source=", ".join(map(str, files)), rows_read=len(frame))
    geoms = frame.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        report.geometries_repaired = int(invalid.sum())
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    return frame, geoms, polygonal, report
