"""Cerema ENAF consumption files ("fichiers fonciers", consommation d'espaces NAF).

The national file has one row per commune and, for every year ``YY`` it
covers, the flow of ENAF consumed from 1 Jan 20YY to 1 Jan 20YY+1 in m²
(``naf{YY}art{YY+1}``) and its split by destination
(``art{YY}{act,hab,mix,rou,fer,inc}{YY+1}``: activity, housing, mixed, roads,
rail, unknown).  Vintages differ by their years and by the name of the EPCI
column (``epci23``, ``epci24``…), so the years are detected from the columns.

foncier's tidy table has one row per commune and year (``year`` = ``YY``, the
start of the flow) with ``enaf_m2`` and the split by use.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from foncier.errors import DataSourceError, LayerSchemaError
from foncier.io._common import check_content
from foncier.layers import Col, LoadReport, normalise_insee, validate_layer
from foncier.outputs import write_file

__all__ = [
    "DEMOGRAPHY_RE",
    "USES",
    "CodeMismatch",
    "EnafVintage",
    "code_mismatch",
    "read_cerema_enaf",
    "write_cerema_enaf",
]

#: Cerema destination codes and the tidy column each one goes to.
USES: dict[str, str] = {
    "act": Col.ACTIVITY_M2,
    "hab": Col.HOUSING_M2,
    "mix": Col.MIXED_M2,
    "rou": Col.ROAD_M2,
    "fer": Col.RAIL_M2,
    "inc": Col.UNKNOWN_M2,
}
#: ``naf{YY}art{ZZ}``: the annual flow when ``ZZ = YY + 1``, a total over the years otherwise.
_FLOW_RE = re.compile(r"^naf(\d{2})art(\d{2})$")
#: ``nafart{YY}{ZZ}``: the total over the years as some vintages name it.
_TOTAL_RE = re.compile(r"^nafart(\d{2})(\d{2})$")
#: The EPCI column of a vintage (``epci23``, ``epci24``…) and its name column.
_EPCI_RE = re.compile(r"^epci(\d{2})?$")
_SCOT_RE = re.compile(r"^scot(\d{2})?$")
#: Census figures of a vintage: population, households and jobs of year ``YY``
#: (``pop15``, ``men21``, ``emp21``…) and their change (``pop1521``…), kept per
#: commune for the efficiency ratios.
DEMOGRAPHY_RE = re.compile(r"^(?:pop|men|emp)\d{2}(?:\d{2})?$")
#: Tolerance of the check naf = act + hab + mix + rou + fer + inc, in m².
SUM_TOLERANCE_M2 = 1.0
#: Cerema writes -1 in a destination column as a rounding correction; values
#: down to this are read as 0, anything more negative rejects the row.
_ROUNDING_SENTINEL = -1.0


@dataclass(frozen=True)
class EnafVintage:
    """Years covered by an ENAF consumption table.

    ``first_year`` is the start of the first flow, ``end_year`` the 1 January
    that closes the last one: the Cerema "2009-2023" file has
    ``first_year=2009`` and ``end_year=2023`` (flows 2009 … 2022).
    """

    first_year: int
    end_year: int

    @property
    def label(self) -> str:
        """Human-readable label, e.g. ``"Cerema 2009-2023"``."""
        return f"Cerema {self.first_year}-{self.end_year}"

    @property
    def years(self) -> list[int]:
        """Years (flow starts) covered."""
        return list(range(self.first_year, self.end_year))


def _first_codes(codes: tuple[str, ...], n: int = 5) -> str:
    shown = ", ".join(codes[:n])
    return shown + (" …" if len(codes) > n else "")


@dataclass(frozen=True)
class CodeMismatch:
    """Commune codes of a communes layer and of an ENAF table that do not match.

    Attributes
    ----------
    only_communes
        Codes of the communes layer with no row in the ENAF table (sorted).
    only_enaf
        Codes of the ENAF table that are not in the communes layer (sorted).
    common
        Number of codes present in both.
    """

    only_communes: tuple[str, ...]
    only_enaf: tuple[str, ...]
    common: int

    def __bool__(self) -> bool:
        return bool(self.only_communes or self.only_enaf)

    def lines(self) -> list[str]:
        """The mismatch in French, one line per side (empty when the codes match)."""
        out = []
        if self.only_communes:
            n = len(self.only_communes)
            out.append(
                f"{n} commune(s) de la couche communes absente(s) du fichier Cerema "
                f"({_first_codes(self.only_communes)}) : leur budget ZAN est laissé vide"
            )
        if self.only_enaf:
            n = len(self.only_enaf)
            out.append(
                f"{n} commune(s) du fichier Cerema absente(s) de la couche communes "
                f"({_first_codes(self.only_enaf)}) : leur consommation n'est pas comptée"
            )
        return out


def code_mismatch(communes_insee: Iterable[str], enaf_insee: Iterable[str]) -> CodeMismatch:
    """Compare the commune codes of a communes layer and of an ENAF table.

    Parameters
    ----------
    communes_insee
        INSEE codes of the communes layer.
    enaf_insee
        INSEE codes of the ENAF consumption table (repeated codes are fine).

    Returns
    -------
    CodeMismatch
        The codes present on one side only; false when every code matches.

    Examples
    --------
    >>> m = code_mismatch(["30007", "30028"], ["30007", "07010"])
    >>> m.only_communes, m.only_enaf, m.common
    (('30028',), ('07010',), 1)
    """
    ours = set(normalise_insee(pd.Series(list(communes_insee), dtype=object)).dropna())
    theirs = set(normalise_insee(pd.Series(list(enaf_insee), dtype=object)).dropna())
    return CodeMismatch(
        tuple(sorted(ours - theirs)), tuple(sorted(theirs - ours)), len(ours & theirs)
    )


def _read_text_table(path: Path) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"impossible de lire le fichier de consommation d'ENAF {path} : {exc.strerror or exc}"
        raise DataSourceError(msg) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if not text.strip():
        msg = f"le fichier de consommation d'ENAF {path} est vide"
        raise DataSourceError(msg)
    header = text.splitlines()[0]
    if ";" not in header:
        seps = {",": "des virgules", "\t": "des tabulations"}
        found = next((name for s, name in seps.items() if s in header), None)
        hint = f" Il semble séparé par {found}." if found else ""
        msg = (
            f"{path} : un fichier Cerema séparé par des ';' est attendu (en-tête "
            f"'idcom;idcomtxt;…').{hint} Exportez-le à nouveau avec ';' comme séparateur."
        )
        raise DataSourceError(msg)
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=";", dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        msg = f"{path} : le fichier est mal formé ou tronqué ({exc})"
        raise DataSourceError(msg) from exc
    # pandas pads short lines with empty strings: count the fields of each line instead.
    lines = [r for r in csv.reader(io.StringIO(text), delimiter=";") if r][1:]
    n_fields = np.array([len(r) for r in lines], dtype=int)
    short = n_fields < table.shape[1]
    if len(lines) and short[-1]:
        msg = (
            f"{path} : le fichier est tronqué : sa dernière ligne (idcom {lines[-1][0]}) a "
            f"{n_fields[-1]} champs sur {table.shape[1]}. Téléchargez-le ou exportez-le à nouveau."
        )
        raise DataSourceError(msg)
    if short.any():
        rows = [r[0] for r, s in zip(lines, short, strict=True) if s]
        msg = (
            f"{path} : {int(short.sum())} ligne(s) ont moins de champs que l'en-tête "
            f"(idcom {', '.join(rows[:5])}) ; le fichier est mal formé, a-t-il été modifié "
            "à la main ?"
        )
        raise DataSourceError(msg)
    return table


def _detect_years(columns: list[str], path: Path) -> list[int]:
    """Years of the annual flows, from the column names (any vintage)."""
    starts = []
    for c in columns:
        m = _FLOW_RE.match(c)
        if m and int(m.group(2)) == int(m.group(1)) + 1:
            starts.append(2000 + int(m.group(1)))
    if not starts:
        msg = (
            f"{path} : aucune colonne de flux annuel 'naf{{YY}}art{{YY+1}}' "
            "(par ex. 'naf11art12') ; est-ce un fichier Cerema de consommation d'espaces NAF ?"
        )
        raise DataSourceError(msg)
    starts.sort()
    missing = sorted(set(range(starts[0], starts[-1] + 1)) - set(starts))
    if missing:
        cols = [f"naf{y % 100:02d}art{(y + 1) % 100:02d}" for y in missing]
        msg = (
            f"{path} : les colonnes de flux {', '.join(cols)} manquent entre {starts[0]} "
            f"et {starts[-1]}"
        )
        raise DataSourceError(msg)
    return starts


def _total_column(columns: list[str], vintage: EnafVintage) -> str | None:
    """The column of the total over the vintage (``naf09art24`` or ``nafart0924``), if any."""
    first, end = vintage.first_year % 100, vintage.end_year % 100
    for c in columns:
        m = _FLOW_RE.match(c) or _TOTAL_RE.match(c)
        if m and (int(m.group(1)), int(m.group(2))) == (first, end) and end != first + 1:
            return c
    return None


def _last(columns: list[str], pattern: re.Pattern[str]) -> str | None:
    """The column matching ``pattern`` with the latest two-digit year (``epci24`` > ``epci23``)."""
    found = sorted((int(m.group(1) or 0), c) for c in columns if (m := pattern.match(c)))
    return found[-1][1] if found else None


def _commune_table(raw: pd.DataFrame) -> pd.DataFrame:
    """Code, name, EPCI, SCoT, département and census figures of each commune, as published."""
    columns = list(raw.columns)
    epci = _last(columns, _EPCI_RE)
    scot = _last(columns, _SCOT_RE)
    sources = {
        Col.NAME: "idcomtxt",
        Col.EPCI: epci,
        "epci_name": f"{epci}txt" if epci else None,
        Col.SCOT: scot,
        "dep": "iddep",
        "dep_name": "iddeptxt",
        Col.REGION: "idreg",
    }
    table = pd.DataFrame({Col.INSEE: raw["idcom"]})
    for target, source in sources.items():
        if source is None or source not in raw.columns:
            table[target] = pd.Series(pd.NA, index=raw.index, dtype="str")
            continue
        text = raw[source].astype(str).str.strip()
        table[target] = text.where(text != "")
    census = [c for c in columns if DEMOGRAPHY_RE.match(c)]
    figures = raw[census].apply(lambda s: pd.to_numeric(s.str.strip(), errors="coerce"))
    return pd.concat([table, figures.astype(float)], axis=1)


def _numeric(df: pd.DataFrame, cols: list[str], path: Path) -> pd.DataFrame:
    # every cell of the columns in one pass (column after column), not one pass per column
    text = pd.Series(df[cols].to_numpy(dtype=object).ravel(order="F")).str.strip()
    values = pd.to_numeric(text.mask(text == ""), errors="coerce")

    def frame(flat: pd.Series, dtype: str) -> pd.DataFrame:
        grid = flat.to_numpy(dtype=dtype).reshape(len(cols), len(df)).T
        return pd.DataFrame(grid, index=df.index, columns=cols)

    out = frame(values, "float64")
    bad = frame(values.isna() & (text != ""), "bool")
    if bad.any().any():
        col = bad.any()[lambda s: s].index[0]
        rows = df.loc[bad[col], "idcom"].tolist()
        vals = df.loc[bad[col], col].tolist()
        msg = (
            f"{path} : la colonne « {col} » contient du texte là où des nombres (m²) sont "
            f"attendus, communes {', '.join(rows[:5])} (valeurs {', '.join(vals[:5])}). Les "
            "chiffres du Cerema sont des m² entiers écrits en chiffres : corrigez ou videz "
            "ces cellules."
        )
        raise DataSourceError(msg)
    return out


def read_cerema_enaf(path: str | Path) -> pd.DataFrame:
    """Read a Cerema ENAF consumption CSV into foncier's tidy table.

    Parameters
    ----------
    path
        A ``;``-separated Cerema file (UTF-8, with or without BOM) of any
        vintage: the years are read from the flow columns ``naf{YY}art{YY+1}``
        and ``art{YY}{act,hab,mix,rou,fer,inc}{YY+1}`` (2009-2024, 2009-2025,
        2011-2026…), the EPCI from the latest ``epci{YY}`` column; extra
        columns are ignored and column names are matched case-insensitively.
        When the file has the total over the vintage (``naf09art24`` or
        ``nafart0924``), the annual flows are checked against it (a
        difference is noted, the annual flows are kept).
        A destination value of -1 m² (a Cerema rounding correction) is read
        as 0 and counted in the notes; a more negative value, or a negative
        ``naf``, rejects the commune-year.

    Returns
    -------
    pandas.DataFrame
        One row per commune and year, columns of the ``enaf_consumption``
        layer.  ``attrs`` holds ``vintage`` (:class:`EnafVintage`),
        ``communes`` (``insee``, ``name``, ``epci``, ``epci_name``, ``scot``,
        ``dep``, ``dep_name`` and the census figures ``pop{YY}``,
        ``men{YY}``, ``emp{YY}`` of the file, as published; missing values
        are NA)
        and ``load_report`` (:class:`~foncier.layers.LoadReport`): rows whose
        figures are unusable are rejected and listed there, never read as
        zero; rows where ``naf`` differs from the sum of uses by more than
        1 m² are kept (``naf`` is the official figure) and listed in its notes.

    Raises
    ------
    DataSourceError
        Unreadable, empty or truncated file, wrong separator, missing or
        non-consecutive flow years, missing ``idcom`` column, text in a
        numeric column.
    """
    path = Path(path)
    check_content(path, "de consommation d'ENAF", {"text"})
    raw = _read_text_table(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if "idcom" not in raw.columns:
        msg = (
            f"{path} : pas de colonne 'idcom' (le code INSEE de la commune) ; colonnes "
            f"trouvées : {', '.join(list(raw.columns)[:8])}… Une colonne a-t-elle été renommée ?"
        )
        raise DataSourceError(msg)
    years = _detect_years(list(raw.columns), path)
    report = LoadReport("enaf_consumption", source=str(path), rows_read=len(raw))
    raw["idcom"] = normalise_insee(raw["idcom"])
    flows = []  # per year: its naf column, then its use columns in the order of USES
    for y in years:
        yy, zz = f"{y % 100:02d}", f"{(y + 1) % 100:02d}"
        uses = [f"art{yy}{u}{zz}" for u in USES]
        missing = [c for c in uses if c not in raw.columns]
        if missing:
            msg = (
                f"{path} : les colonnes de destination {', '.join(missing)} de l'année {y} manquent"
            )
            raise DataSourceError(msg)
        flows.append([f"naf{yy}art{zz}", *uses])
    # every year's figures parsed at once, then stacked year after year
    num = _numeric(raw, [c for year in flows for c in year], path).to_numpy()
    by_year = num.reshape(len(raw), len(years), 1 + len(USES)).transpose(1, 0, 2)
    stacked = by_year.reshape(len(years) * len(raw), 1 + len(USES))
    tidy = pd.DataFrame(stacked, columns=[Col.ENAF_M2, *USES.values()])
    tidy.insert(0, Col.YEAR, np.repeat(np.asarray(years, dtype="int64"), len(raw)))
    insee = np.tile(raw["idcom"].to_numpy(dtype=object), len(years))
    tidy.insert(0, Col.INSEE, pd.Series(insee, dtype=raw["idcom"].dtype))
    tidy = tidy.sort_values([Col.INSEE, Col.YEAR], kind="stable")
    tidy = tidy.reset_index(drop=True)
    use_cols = list(USES.values())
    missing_rows = tidy[[Col.ENAF_M2, *use_cols]].isna().any(axis=1)
    rounding = (tidy[use_cols] < 0) & (tidy[use_cols] >= _ROUNDING_SENTINEL)
    negative = (tidy[[Col.ENAF_M2, *use_cols]] < _ROUNDING_SENTINEL).any(axis=1) | (
        tidy[Col.ENAF_M2] < 0
    )
    for i in tidy.index[missing_rows | negative]:
        reason = "chiffres manquants" if missing_rows[i] else "consommation négative"
        label = str(tidy.at[i, Col.INSEE]) + "/" + str(tidy.at[i, Col.YEAR])
        report.rows_rejected.append((label, reason))
    tidy = tidy[~(missing_rows | negative)].copy()
    # The check naf = sum of uses is made on the published figures, -1 corrections included.
    gap = (tidy[Col.ENAF_M2] - tidy[use_cols].sum(axis=1)).abs()
    off = gap > SUM_TOLERANCE_M2 + 1e-9
    if off.any():
        labels = (tidy.loc[off, Col.INSEE] + "/" + tidy.loc[off, Col.YEAR].astype(str)).tolist()
        report.notes.append(
            f"{int(off.sum())} ligne(s) où naf diffère de act+hab+mix+rou+fer+inc de plus de "
            f"{SUM_TOLERANCE_M2:g} m² (naf gardé) : {', '.join(labels[:5])}"
        )
    n_rounding = int(rounding.loc[tidy.index].to_numpy().sum())
    if n_rounding:
        report.notes.append(
            f"{n_rounding} valeur(s) de destination à -1 m² (corrections d'arrondi du Cerema) "
            "lues comme 0"
        )
        tidy[use_cols] = tidy[use_cols].clip(lower=0)
    try:
        out = validate_layer("enaf_consumption", tidy, report=report)
    except LayerSchemaError as exc:
        msg = f"{path} : {exc}"
        raise DataSourceError(msg) from exc
    vintage = EnafVintage(years[0], years[-1] + 1)
    total = _total_column(list(raw.columns), vintage)
    if total is not None:
        by_commune = tidy.groupby(Col.INSEE)[Col.ENAF_M2]
        complete = by_commune.count() == len(years)  # communes with a rejected year are skipped
        sums = by_commune.sum()[complete]
        published = _numeric(raw, [total], path)[total].set_axis(raw["idcom"])
        gap = (sums - published.reindex(sums.index)).abs()
        off = gap[gap > SUM_TOLERANCE_M2 * len(years) + 1e-9]
        if len(off):
            report.notes.append(
                f"{len(off)} commune(s) dont les flux annuels ne font pas le total {total} "
                f"(flux annuels gardés) : {', '.join(off.index.tolist()[:5])}"
            )
    communes = _commune_table(raw)
    out.attrs["vintage"] = vintage
    out.attrs["communes"] = communes
    return out


def write_cerema_enaf(
    tidy: pd.DataFrame,
    path: str | Path,
    *,
    communes: pd.DataFrame | None = None,
    force: bool = False,
) -> Path:
    """Write a tidy ENAF table in the Cerema column format.

    The columns follow the national file: ``idcom``, ``idcomtxt``, ``idreg``,
    ``epci{YY}``, ``epci{YY}txt``, ``scot``, then per year ``naf`` and the six
    destinations, then the totals over the whole period.  Values are whole m².

    Parameters
    ----------
    tidy
        A valid ``enaf_consumption`` table covering consecutive years.
    path
        Output file; written UTF-8 without BOM, ``;``-separated.
    communes
        Optional table with ``insee``, ``name``, ``region``, ``epci``,
        ``epci_name``, ``scot``, ``dep``, ``dep_name`` to fill the descriptive
        columns; what it lacks (the département, the census figures
        ``pop{YY}``…) is taken from the communes of ``tidy.attrs`` (the file
        read), so that they survive a territory folder.
    force
        See :func:`foncier.outputs.write_file`: a file foncier did not write
        is never replaced.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutputError
        ``path`` is a file foncier did not write, or the system refused the write.
    """
    path = Path(path)
    years = sorted(tidy[Col.YEAR].unique().tolist())
    first, end = years[0], years[-1] + 1
    e = f"{end % 100:02d}"
    insee = sorted(tidy[Col.INSEE].unique())
    out = pd.DataFrame({"idcom": insee})
    meta = communes.set_index(Col.INSEE) if communes is not None else pd.DataFrame(index=insee)
    published = tidy.attrs.get("communes")
    if published is not None and len(published):
        # what ``communes`` lacks (département, census figures) comes from the file read
        extra = [c for c in published.columns if c not in meta.columns and c != Col.INSEE]
        meta = meta.join(published.drop_duplicates(Col.INSEE).set_index(Col.INSEE)[extra])
    for target, source in (
        ("idcomtxt", Col.NAME),
        ("idreg", Col.REGION),
        (f"epci{e}", Col.EPCI),
        (f"epci{e}txt", "epci_name"),
        ("scot", Col.SCOT),
        ("iddep", "dep"),
        ("iddeptxt", "dep_name"),
    ):
        mapped = out["idcom"].map(meta[source]) if source in meta.columns else pd.Series(pd.NA)
        out[target] = mapped.astype(object).fillna("")
    census = [c for c in meta.columns if DEMOGRAPHY_RE.match(str(c))]
    wide = tidy.set_index([Col.INSEE, Col.YEAR])
    cols: dict[str, pd.Series] = {}
    for y in years:
        yy, zz = f"{y % 100:02d}", f"{(y + 1) % 100:02d}"
        block = wide.xs(y, level=Col.YEAR).reindex(insee)
        cols[f"naf{yy}art{zz}"] = block[Col.ENAF_M2]
        for u, tidy_col in USES.items():
            cols[f"art{yy}{u}{zz}"] = block[tidy_col]
    f = f"{first % 100:02d}"
    totals = wide.groupby(level=Col.INSEE).sum().reindex(insee)
    cols[f"naf{f}art{e}"] = totals[Col.ENAF_M2]
    for u in ("act", "hab", "mix", "inc", "rou", "fer"):
        cols[f"art{f}{u}{e}"] = totals[USES[u]]
    values = pd.DataFrame(cols).round().astype("int64").reset_index(drop=True)
    out = pd.concat([out, values], axis=1)
    for c in census:
        out[c] = pd.to_numeric(out["idcom"].map(meta[c])).round().astype("Int64")
    return write_file(
        path,
        "enaf",
        lambda tmp: out.to_csv(tmp, sep=";", index=False, encoding="utf-8"),
        force=force,
    )
