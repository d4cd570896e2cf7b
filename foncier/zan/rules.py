"""ZAN rule sets: the law as versioned data, not code.

A rule set names everything the ZAN accounting depends on: the reference and
target periods, the reduction rate and its territorialisation per commune,
EPCI or SCoT, the garantie communale, what is charged to the local envelope
(PENE, friches, land already artificialised, renaturation) and the level at
which budgets are pooled.  Built-in rule sets are TOML files shipped in
``foncier/rules/``; users write their own in TOML or YAML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from foncier.choices import (
    DEFAULT_RULES,
    GUARANTEE_UNKNOWN_CHOICES,
    POOL_LEVELS,
    PoolLevel,
)
from foncier.errors import DataSourceError, NotFoundError, RuleSetError
from foncier.layers import Col, normalise_insee

__all__ = [
    "DEFAULT_RULES",
    "GUARANTEE_UNKNOWN_CHOICES",
    "POOL_LEVELS",
    "PoolLevel",
    "RuleSet",
    "TerritorialRate",
    "UNKNOWN_COVER_CHOICES",
    "available_rules",
    "check_guarantee_unknown",
    "load_rates",
    "load_rules",
    "rate_per_commune",
]

#: A level at which budgets are pooled and rates territorialised.
UnknownCover = Literal["enaf", "artificialised"]
#: Values of ``unknown_land_cover``: how land of unknown cover is charged.
UNKNOWN_COVER_CHOICES: tuple[str, ...] = ("enaf", "artificialised")
GuaranteeUnknown = Literal["refuse", "apply"]
_RULE_SUFFIXES = {".toml", ".yaml", ".yml"}
_RATE_COLUMNS = ("level", "code", "reduction_rate")


@dataclass(frozen=True)
class TerritorialRate:
    """A reduction rate set for one commune, EPCI or SCoT.

    Parameters
    ----------
    level
        ``commune``, ``epci`` or ``scot``.
    code
        INSEE code of the commune, SIREN of the EPCI, or SCoT code/name as
        written in the communes layer's ``scot`` column.
    rate
        Reduction rate in [0, 1], e.g. 0.5447.
    """

    level: PoolLevel
    code: str
    rate: float


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned set of ZAN accounting rules.

    Attributes
    ----------
    name, version, description
        Identity of the rule set, shown on every result.
    reference_period
        ``(start, end)`` years of the baseline: flows from 1 Jan ``start`` to
        1 Jan ``end`` (2011, 2021).
    target_period
        ``(start, end)`` years the envelope covers (2021, 2031).
    reduction_rate
        Default reduction rate of the baseline (0.50).
    territorial_rates
        Rates per commune, EPCI or SCoT; the most specific level wins.
    communal_guarantee_ha
        Floor of the envelope of a commune eligible to the garantie communale
        (1 ha).
    guarantee_deadline
        A commune is eligible when it is covered by a PLU, a document en
        tenant lieu or a carte communale prescribed, arrêté or approved
        before this date (22 August 2026: loi 2021-1104 art. 194 III 3° as
        amended by loi 2023-630 art. 4).
    guarantee_unknown
        ``refuse`` (default): a commune whose planning status is unknown gets
        no guarantee; ``apply``: it gets it, and every table says so.
    guarantee_pooled
        Whether the guarantee is mutualised at EPCI level: commune rows then
        show the unlifted envelope and the lifts are added to EPCI and SCoT pools.
    pene_excluded
        Whether PENE projects are left out of the local envelope.
    friches_count, artificialised_counts
        Whether building on a friche, or on land already artificialised,
        counts as ENAF consumption.
    renaturation_credit
        Whether renatured hectares are deducted from committed consumption.
    unknown_land_cover
        How land of unknown cover (a parcel no building, OCS GE or ZAE
        inventory describes) is charged: ``enaf`` (the cautious default: as
        if building on it consumed ENAF) or ``artificialised``.
    pool
        Default pooling level: ``commune``, ``epci`` or ``scot``.
    """

    name: str
    version: str
    description: str = ""
    reference_period: tuple[int, int] = (2011, 2021)
    target_period: tuple[int, int] = (2021, 2031)
    reduction_rate: float = 0.50
    territorial_rates: tuple[TerritorialRate, ...] = ()
    communal_guarantee_ha: float = 1.0
    guarantee_deadline: dt.date = dt.date(2026, 8, 22)
    guarantee_unknown: GuaranteeUnknown = "refuse"
    guarantee_pooled: bool = False
    pene_excluded: bool = True
    friches_count: bool = False
    artificialised_counts: bool = False
    renaturation_credit: bool = True
    unknown_land_cover: UnknownCover = "enaf"
    pool: PoolLevel = "commune"
    source: str = field(default="", compare=False)

    def with_rates(self, rates: Iterable[TerritorialRate]) -> RuleSet:
        """Return a copy whose territorialised rates are overridden by ``rates``.

        A rate for the same level and code replaces the rule set's one; others
        are added.

        Parameters
        ----------
        rates
            Rates, e.g. from :func:`load_rates`.

        Returns
        -------
        RuleSet
            A new rule set; ``self`` is unchanged.
        """
        merged = {(r.level, r.code): r for r in self.territorial_rates}
        merged.update({(r.level, r.code): r for r in rates})
        return dataclasses.replace(self, territorial_rates=tuple(merged.values()))

    def to_dict(self) -> dict[str, Any]:
        """The rule set as plain data, in the keys of a rule file (for ``scenario.json``).

        :meth:`from_dict` reads it back: a result carries its rules, so that
        a rule file may later move or change without changing the result.

        Examples
        --------
        >>> rules = load_rules()
        >>> RuleSet.from_dict(rules.to_dict(), "copie") == rules
        True
        """
        return {name: _plain_value(getattr(self, name)) for name in _FIELDS} | {
            "source": self.source
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str) -> RuleSet:
        """Read a rule set written by :meth:`to_dict` (checked like a rule file).

        Parameters
        ----------
        data
            The mapping.
        origin
            Where it comes from, for messages (e.g. the ``scenario.json`` path).

        Raises
        ------
        RuleSetError
            A key or a value is wrong.
        """
        body = {k: v for k, v in data.items() if k != "source"}
        rules = _rules_from_mapping(body, origin)
        return dataclasses.replace(rules, source=str(data.get("source", origin)))

    def rates_table(self) -> pd.DataFrame:
        """Territorialised rates as a table with columns ``level, code, reduction_rate``."""
        return pd.DataFrame(
            [(r.level, r.code, r.rate) for r in self.territorial_rates],
            columns=list(_RATE_COLUMNS),
        ).astype({"level": "str", "code": "str", "reduction_rate": "float64"})


_FIELDS = {f.name: f for f in dataclasses.fields(RuleSet) if f.name != "source"}
_BOOL_KEYS = (
    "guarantee_pooled",
    "pene_excluded",
    "friches_count",
    "artificialised_counts",
    "renaturation_credit",
)


def _plain_value(value: Any) -> Any:
    """A TOML/JSON-ready value: tuples become lists, dataclasses mappings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain_value(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, tuple | list):
        return [_plain_value(v) for v in value]
    return value


def _check_rate(value: Any, where: str, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{origin}: {where} must be a number in [0, 1]; received {value!r}"
        raise RuleSetError(msg)
    if not 0.0 <= float(value) <= 1.0:
        msg = (
            f"{origin}: {where} = {value!r} is outside [0, 1]; "
            "write a reduction rate as a fraction, e.g. 0.5447 for 54.47 %"
        )
        raise RuleSetError(msg)
    return float(value)


def _check_period(value: Any, key: str, origin: str) -> tuple[int, int]:
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and value[0] < value[1]
    )
    if not ok:
        msg = f"{origin}: {key} must be two years [start, end] with start < end; received {value!r}"
        raise RuleSetError(msg)
    return (int(value[0]), int(value[1]))


def _check_level(value: Any, where: str, origin: str) -> PoolLevel:
    if value not in POOL_LEVELS:
        msg = f"{origin}: {where} must be one of {list(POOL_LEVELS)}; received {value!r}"
        raise RuleSetError(msg)
    level: PoolLevel = value
    return level


def _territorial_rates(value: Any, origin: str) -> tuple[TerritorialRate, ...]:
    if not isinstance(value, list):
        msg = f"{origin}: territorial_rates must be a list of tables with level, code and rate"
        raise RuleSetError(msg)
    rates = []
    for i, entry in enumerate(value):
        where = f"territorial_rates[{i}]"
        if not isinstance(entry, Mapping) or set(entry) != {"level", "code", "rate"}:
            keys = sorted(entry) if isinstance(entry, Mapping) else entry
            msg = f"{origin}: {where} must have exactly the keys code, level, rate; received {keys}"
            raise RuleSetError(msg)
        level = _check_level(entry["level"], f"{where}.level", origin)
        rate = _check_rate(entry["rate"], f"{where}.rate", origin)
        rates.append(TerritorialRate(level, str(entry["code"]), rate))
    seen = [(r.level, r.code) for r in rates]
    dup = sorted({k for k in seen if seen.count(k) > 1})
    if dup:
        msg = (
            f"{origin}: territorial_rates sets several rates for {dup}; keep one per level and code"
        )
        raise RuleSetError(msg)
    return tuple(rates)


def _rules_from_mapping(data: Any, origin: str) -> RuleSet:
    if not isinstance(data, Mapping):
        msg = f"{origin}: a rule set must be a table of keys; received {type(data).__name__}"
        raise RuleSetError(msg)
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        msg = (
            f"{origin}: unknown key(s) {unknown} in the rule set; "
            f"allowed keys are {sorted(_FIELDS)}"
        )
        raise RuleSetError(msg)
    missing = [k for k in ("name", "version") if k not in data]
    if missing:
        msg = f"{origin}: the rule set needs the key(s) {missing} so that results can name it"
        raise RuleSetError(msg)
    kw: dict[str, Any] = {"name": str(data["name"]), "version": str(data["version"])}
    kw["description"] = str(data.get("description", ""))
    for key in ("reference_period", "target_period"):
        if key in data:
            kw[key] = _check_period(data[key], key, origin)
    if "reduction_rate" in data:
        kw["reduction_rate"] = _check_rate(data["reduction_rate"], "reduction_rate", origin)
    if "territorial_rates" in data:
        kw["territorial_rates"] = _territorial_rates(data["territorial_rates"], origin)
    if "communal_guarantee_ha" in data:
        g = data["communal_guarantee_ha"]
        if isinstance(g, bool) or not isinstance(g, int | float) or g < 0:
            msg = (
                f"{origin}: communal_guarantee_ha must be a number of hectares >= 0; received {g!r}"
            )
            raise RuleSetError(msg)
        kw["communal_guarantee_ha"] = float(g)
    for key in _BOOL_KEYS:
        if key in data:
            if not isinstance(data[key], bool):
                msg = f"{origin}: {key} must be true or false; received {data[key]!r}"
                raise RuleSetError(msg)
            kw[key] = data[key]
    if "pool" in data:
        kw["pool"] = _check_level(data["pool"], "pool", origin)
    if "unknown_land_cover" in data:
        if data["unknown_land_cover"] not in UNKNOWN_COVER_CHOICES:
            msg = (
                f"{origin}: unknown_land_cover must be one of {list(UNKNOWN_COVER_CHOICES)}; "
                f"received {data['unknown_land_cover']!r}"
            )
            raise RuleSetError(msg)
        kw["unknown_land_cover"] = data["unknown_land_cover"]
    if "guarantee_deadline" in data:
        kw["guarantee_deadline"] = _check_date(data["guarantee_deadline"], origin)
    if "guarantee_unknown" in data:
        kw["guarantee_unknown"] = check_guarantee_unknown(data["guarantee_unknown"], origin)
    return RuleSet(**kw, source=origin)


def _check_date(value: Any, origin: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        msg = (
            f"{origin} : guarantee_deadline doit être une date AAAA-MM-JJ "
            f"(par exemple 2026-08-22) ; reçu {value!r}"
        )
        raise RuleSetError(msg) from None


def check_guarantee_unknown(value: Any, origin: str = "guarantee_unknown") -> GuaranteeUnknown:
    """Return ``value`` if it is a valid ``guarantee_unknown`` choice.

    Parameters
    ----------
    value
        ``"refuse"`` or ``"apply"``.
    origin
        Where the value comes from, for the message.

    Returns
    -------
    str
        The value.

    Raises
    ------
    RuleSetError
        Any other value.
    """
    if value not in GUARANTEE_UNKNOWN_CHOICES:
        msg = (
            f"{origin} : guarantee_unknown doit valoir « refuse » (garantie non appliquée aux "
            f"communes au statut inconnu) ou « apply » (appliquée) ; reçu {value!r}"
        )
        raise RuleSetError(msg)
    choice: GuaranteeUnknown = value
    return choice


def available_rules() -> list[str]:
    """Names of the built-in rule sets.

    Returns
    -------
    list of str
        E.g. ``["climat-resilience-2023"]``.
    """
    folder = resources.files("foncier") / "rules"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def _parse_rule_text(text: str, suffix: str, origin: str) -> Any:
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        msg = f"{origin}: not a valid {suffix.lstrip('.').upper()} file: {exc}"
        raise RuleSetError(msg) from exc


def load_rules(name_or_path: str | Path | None = None) -> RuleSet:
    """Load a built-in rule set by name, or a rule set file (TOML or YAML).

    Parameters
    ----------
    name_or_path
        A built-in name (see :func:`available_rules`), a path to a ``.toml``,
        ``.yaml`` or ``.yml`` file, or ``None`` for
        ``climat-resilience-2023``.  A file needs ``name`` and ``version``;
        other keys default to the values of :class:`RuleSet`.

    Returns
    -------
    RuleSet
        The validated rule set.

    Raises
    ------
    RuleSetError
        Malformed file, unknown key, rate outside [0, 1], wrong type.
    NotFoundError
        Neither a built-in name nor an existing file.
    DataSourceError
        The file cannot be read.

    Examples
    --------
    >>> rules = load_rules()
    >>> rules.name, rules.reduction_rate, rules.communal_guarantee_ha
    ('climat-resilience-2023', 0.5, 1.0)
    """
    if name_or_path is None:
        name_or_path = DEFAULT_RULES
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and name_or_path in available_rules():
        res = resources.files("foncier") / "rules" / f"{name_or_path}.toml"
        origin = f"built-in rule set {name_or_path!r}"
        return _rules_from_mapping(
            _parse_rule_text(res.read_text("utf-8"), ".toml", origin), origin
        )
    if not path.is_file():
        msg = (
            f"unknown rule set {str(name_or_path)!r}: neither a built-in rule set "
            f"{available_rules()} nor an existing file. Give a built-in name or the path "
            "of a .toml / .yaml rule file."
        )
        raise NotFoundError(msg)
    suffix = path.suffix.lower()
    if suffix not in _RULE_SUFFIXES:
        msg = f"rule file {path}: expected a .toml, .yaml or .yml file; received {path.suffix!r}"
        raise RuleSetError(msg)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read the rule file {path}: {exc}"
        raise DataSourceError(msg) from exc
    origin = f"rule file {path}"
    return _rules_from_mapping(_parse_rule_text(text, suffix, origin), origin)


def _known_codes(communes: pd.DataFrame) -> dict[str, set[str]]:
    known = {"commune": set(communes[Col.INSEE].astype(str))}
    for level, col in (("epci", Col.EPCI), ("scot", Col.SCOT)):
        known[level] = set(communes[col].dropna().astype(str)) if col in communes else set()
    return known


def load_rates(
    path: str | Path, *, communes: pd.DataFrame | None = None
) -> tuple[TerritorialRate, ...]:
    """Read a territorialised rates table (CSV with ``level, code, reduction_rate``).

    Parameters
    ----------
    path
        A ``,`` or ``;``-separated UTF-8 CSV; ``level`` is ``commune``,
        ``epci`` or ``scot``; commune codes are zero-padded to 5 characters.
    communes
        The territory's communes layer; when given, every code must name one
        of its communes, EPCI or SCoT.

    Returns
    -------
    tuple of TerritorialRate
        To pass to :meth:`RuleSet.with_rates`.

    Raises
    ------
    DataSourceError
        Unreadable file.
    RuleSetError
        Missing column, unknown level, rate outside [0, 1], duplicate code.
    NotFoundError
        A code not found in ``communes``.
    """
    path = Path(path)
    origin = f"rates table {path}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read the {origin}: {exc}"
        raise DataSourceError(msg) from exc
    sep = ";" if ";" in text.partition("\n")[0] else ","
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in _RATE_COLUMNS if c not in table.columns]
    if missing:
        msg = (
            f"{origin}: missing column(s) {missing}; "
            f"expected {list(_RATE_COLUMNS)}, received {list(table.columns)}"
        )
        raise RuleSetError(msg)
    rates = []
    for i, row in table.iterrows():
        where = f"row {int(str(i)) + 2} ({row['level']} {row['code']}) reduction_rate"
        try:
            value: Any = float(row["reduction_rate"].replace(",", "."))
        except ValueError:
            value = row["reduction_rate"]
        level = _check_level(row["level"].strip().lower(), f"row {int(str(i)) + 2} level", origin)
        code = row["code"].strip()
        if level == "commune":
            code = str(normalise_insee(pd.Series([code])).iloc[0])
        rates.append(TerritorialRate(level, code, _check_rate(value, where, origin)))
    rates_t = tuple(rates)
    _territorial_rates(
        [{"level": r.level, "code": r.code, "rate": r.rate} for r in rates_t], origin
    )
    if communes is not None:
        known = _known_codes(communes)
        unknown = [(r.level, r.code) for r in rates_t if r.code not in known[r.level]]
        if unknown:
            msg = (
                f"{origin}: unknown code(s) {unknown[:5]} not found in the territory's communes "
                "layer (commune INSEE codes, EPCI SIREN, SCoT as in the 'scot' column)"
            )
            raise NotFoundError(msg)
    return rates_t


def rate_per_commune(rules: RuleSet, communes: pd.DataFrame) -> pd.Series:
    """Reduction rate of each commune: commune rate, else EPCI, else SCoT, else default.

    Parameters
    ----------
    rules
        The rule set.
    communes
        Table with ``insee``, ``epci`` and optionally ``scot``.

    Returns
    -------
    pandas.Series
        Rate per commune, on ``communes``' index.
    """
    rate = pd.Series(rules.reduction_rate, index=communes.index, dtype="float64")
    by_level: dict[str, dict[str, float]] = {
        lvl: {r.code: r.rate for r in rules.territorial_rates if r.level == lvl}
        for lvl in POOL_LEVELS
    }
    for level, col in (("scot", Col.SCOT), ("epci", Col.EPCI), ("commune", Col.INSEE)):
        if col in communes and by_level[level]:
            found = communes[col].astype(object).map(by_level[level])
            rate = found.where(found.notna(), rate).astype("float64")
    return rate
