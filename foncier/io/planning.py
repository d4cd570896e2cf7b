"""Planning documents of the communes (PLU, PLUi, carte communale, RNU) and their dates.

The garantie communale of the ZAN law (loi 2021-1104 art. 194 III 3°, as
amended by loi 2023-630) depends on the planning document covering each
commune and on the dates of its procedure, which no national open file gives
in one table.  A planner writes them in a small CSV, one row per document
(or procedure) and commune::

    insee;type;date_prescription;date_arret;date_approbation
    30007;PLU;2012-03-01;2016-05-10;2017-02-03
    30028;CC;2027-01-15;;
    30035;RNU;;;

Accepted column names (case-insensitive): ``insee`` (``code_insee``,
``codgeo``, ``insee_com``, ``idcom``), ``type`` (``doc_type``,
``type_doc``, ``typedoc``, ``document``), ``date_prescription``
(``prescription_date``, ``prescription``, ``datprescr``), ``date_arret``
(``arret_date``, ``arret``, ``datarret``), ``date_approbation``
(``approval_date``, ``approbation``, ``datappro``).  Types: ``PLU``,
``PLUi`` (also ``PLUiH``, ``PLUiD``, ``PLUiHD``, ``PLUM``), ``PSMV`` (a
document en tenant lieu), ``CC`` (``carte communale``), ``POS`` (lapsed),
``RNU``.  Dates: ``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``YYYYMMDD`` (the GPU
``DATAPPRO`` format).

Two optional per-commune columns feed the garantie communale (loi 2021-1104
art. 194 III 3° as amended by loi 2023-630 art. 4): ``mutualisation``
(``guarantee_pooling``, ``demande_mutualisation``): ``oui`` when the
commune asked to pool its guaranteed hectare at intercommunal level,
``non`` when it did not, blank when not recorded; ``communes_deleguees``
(``delegated_communes``): the number of communes déléguées of a commune
nouvelle.  A commune listed on several rows takes its values from any row
that gives them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from foncier.errors import DataSourceError, LayerSchemaError
from foncier.io._common import blank, column_getter, find_column, read_csv_table
from foncier.layers import DOC_TYPES, Col, LoadReport, normalise_insee, validate_layer

__all__ = ["DATE_COLUMNS", "read_planning_docs"]

#: The procedure dates of a planning document, in the order of the procedure.
DATE_COLUMNS: tuple[str, ...] = (Col.PRESCRIPTION_DATE, Col.ARRET_DATE, Col.APPROVAL_DATE)
_DATE_ALIASES: dict[str, tuple[str, ...]] = {
    Col.PRESCRIPTION_DATE: (
        "date_prescription",
        "prescription_date",
        "prescription",
        "datprescr",
        "date_prescr",
    ),
    Col.ARRET_DATE: ("date_arret", "arret_date", "arret", "datarret", "date_arrêt", "arrêt"),
    Col.APPROVAL_DATE: (
        "date_approbation",
        "approval_date",
        "approbation",
        "datappro",
        "date_appro",
    ),
}
_TYPE_ALIASES: dict[str, str] = {
    **{t.upper(): t for t in DOC_TYPES},
    **{k: "PLUi" for k in ("PLUIH", "PLUID", "PLUIHD", "PLUI-H", "PLUI-HD", "PLUM", "PLUIM")},
    "CARTE COMMUNALE": "CC",
    "CARTE_COMMUNALE": "CC",
    "PLAN LOCAL D'URBANISME": "PLU",
}
_FORMATS = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{2}/\d{2}/\d{4}$"), "%d/%m/%Y"),
    (re.compile(r"^\d{8}$"), "%Y%m%d"),
)


def _iso_dates(values: pd.Series, column: str, codes: pd.Series, path: Path) -> pd.Series:
    """Dates as ISO ``YYYY-MM-DD`` strings (NA when blank); a malformed date is an error."""
    text = values.astype(object).where(~blank(values), None)
    text = text.where(text.isna(), text.astype(str).str.strip())
    out = pd.Series(pd.NA, index=values.index, dtype="str")
    for pattern, fmt in _FORMATS:
        match = text.notna() & text.astype(str).str.match(pattern)
        parsed = pd.to_datetime(text[match], format=fmt, errors="coerce")
        out[match] = parsed.dt.strftime("%Y-%m-%d")
    bad = text.notna() & out.isna()
    if bad.any():
        msg = (
            f"{path} : colonne {column!r}, dates illisibles {text[bad].tolist()[:5]} "
            f"(communes {codes[bad].tolist()[:5]}). Écrivez-les AAAA-MM-JJ, JJ/MM/AAAA ou "
            "AAAAMMJJ, ou laissez la case vide."
        )
        raise LayerSchemaError(msg)
    return out


def read_planning_docs(path: str | Path) -> pd.DataFrame:
    r"""Read the planning documents of the communes (type and procedure dates).

    Parameters
    ----------
    path
        A ``,`` or ``;``-separated UTF-8 CSV (see the module docstring for
        the accepted column names, types and date formats).  Several rows per
        commune are allowed (a PLU in force and its revision, a carte
        communale then a PLU prescribed).

    Returns
    -------
    pandas.DataFrame
        The ``planning_docs`` table: ``insee``, ``doc_type`` (one of
        :data:`foncier.layers.DOC_TYPES`), ``prescription_date``,
        ``arret_date``, ``approval_date`` (ISO strings or NA),
        ``guarantee_pooling`` (boolean, NA when not recorded) and
        ``delegated_communes`` (int, 0 by default).
        ``attrs["load_report"]`` counts the rows.

    Raises
    ------
    DataSourceError
        Unreadable or empty file, no commune-code or type column.
    LayerSchemaError
        Unknown document type, malformed date or commune code.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "docs.csv"
    >>> _ = f.write_text("insee;type;date_approbation\n30007;PLU;03/02/2017\n")
    >>> read_planning_docs(f)[["insee", "doc_type", "approval_date"]].values.tolist()
    [['30007', 'PLU', '2017-02-03']]
    """
    path = Path(path)
    raw = read_csv_table(path, "des documents d'urbanisme")
    source = str(path)
    col = column_getter(raw, source)
    code_names = ("insee", "code_insee", "codgeo", "insee_com", "idcom")
    type_names = ("type", "doc_type", "type_doc", "typedoc", "document")
    for what, names in (("du code INSEE", code_names), ("du type de document", type_names)):
        if find_column(raw.columns, *names) is None:
            msg = (
                f"{path} : pas de colonne {what} ({', '.join(names)}) ; colonnes trouvées "
                f"{list(raw.columns)}. En-tête attendu : "
                "insee;type;date_prescription;date_arret;date_approbation"
            )
            raise DataSourceError(msg)
    codes, types = col(*code_names), col(*type_names)
    insee = normalise_insee(codes.astype(str).str.strip())
    key = types.astype(str).str.strip().str.upper()
    doc_type = key.map(_TYPE_ALIASES)
    unknown = doc_type.isna()
    if unknown.any():
        msg = (
            f"{path} : colonne type, types de document inconnus {sorted(set(types[unknown]))[:5]} "
            f"(communes {insee[unknown].tolist()[:5]}). Types acceptés : {', '.join(DOC_TYPES)} "
            "(PLUiH, PLUiD… comptent comme PLUi ; « carte communale » comme CC)."
        )
        raise LayerSchemaError(msg)
    table = pd.DataFrame({Col.INSEE: insee, Col.DOC_TYPE: doc_type})
    for target, aliases in _DATE_ALIASES.items():
        table[target] = _iso_dates(col(*aliases), aliases[0], insee, path)
    pooling = col("mutualisation", "guarantee_pooling", "demande_mutualisation")
    delegated = col("communes_deleguees", "delegated_communes", "nb_communes_deleguees")
    table[Col.GUARANTEE_POOLING] = pooling.to_numpy()
    table[Col.DELEGATED_COMMUNES] = delegated.where(~blank(delegated), 0).to_numpy()
    report = LoadReport("planning_docs", source=source, rows_read=len(raw))
    try:
        out = validate_layer("planning_docs", table, report=report)
    except LayerSchemaError as exc:
        msg = f"{path} : {exc}"
        raise LayerSchemaError(msg) from exc
    return out
