"""ZAN rule sets: the law as versioned data, not code.

A rule set names everything the ZAN accounting depends on: the reference and
target periods, the reduction rate and its territorialised targets (a rate or
hectares per commune, EPCI, SCoT or région, with their source, date and
status), the garantie communale (floor, communes nouvelles, pooling on
request), what is charged to the local envelope (PENE, excluded project
categories, friches, land already artificialised, renaturation), national
envelopes, a local overshoot allowance, the decades after the target period
and the level at which budgets are pooled; and whether it is the law in force
or a bill (a what-if).  Built-in rule sets are TOML files shipped in
``foncier/rules/`` (``climat-resilience-2023``, the law in force;
``trace-senat-2025`` and ``simplification-2025``, bills); users write their
own in TOML or YAML.
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
from typing import Any, Literal, get_args

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
    "METRICS",
    "METRIC_LABELS",
    "Decade",
    "LEGAL_STATUSES",
    "LEGAL_STATUS_LABELS",
    "Exclusion",
    "NationalEnvelope",
    "GUARANTEE_UNKNOWN_CHOICES",
    "POOL_LEVELS",
    "TARGET_LEVELS",
    "TARGET_STATUSES",
    "PoolLevel",
    "RuleSet",
    "TerritorialRate",
    "UNKNOWN_COVER_CHOICES",
    "available_rules",
    "check_guarantee_unknown",
    "load_rates",
    "load_rules",
]

#: A level at which a target is territorialised (SRADDET: région; SCoT; PLUi: EPCI; PLU).
TargetLevel = Literal["commune", "epci", "scot", "region"]
#: The target levels, most specific first: the most specific target of a commune applies.
TARGET_LEVELS: tuple[TargetLevel, ...] = get_args(TargetLevel)
TargetStatus = Literal["adopted", "draft", "suggested"]
#: Legal status of a territorialised target: adopted (in force), draft (arrêté, under
#: consultation), suggested (a figure put forward, e.g. by a study or a working group).
TARGET_STATUSES: tuple[TargetStatus, ...] = get_args(TargetStatus)
UnknownCover = Literal["enaf", "artificialised"]
#: Values of ``unknown_land_cover``: how land of unknown cover is charged.
UNKNOWN_COVER_CHOICES: tuple[str, ...] = ("enaf", "artificialised")
GuaranteeUnknown = Literal["refuse", "apply"]
_RULE_SUFFIXES = {".toml", ".yaml", ".yml"}
_RATE_COLUMNS = ("level", "code", "reduction_rate")
_TARGET_EXTRA = ("envelope_ha", "source", "date", "status", "guarantee_included")
_TARGET_KEYS = {"level", "code", "rate", *_TARGET_EXTRA}


@dataclass(frozen=True)
class TerritorialRate:
    """A territorialised target: a reduction rate or an envelope in hectares, with its source.

    Parameters
    ----------
    level
        ``commune``, ``epci``, ``scot`` or ``region``.
    code
        INSEE code of the commune, SIREN of the EPCI, SCoT as written in the
        communes layer's ``scot`` column, or INSEE code of the région
        (``region`` column, the Cerema file's ``idreg``).
    rate
        Reduction rate in [0, 1] of the baseline, e.g. 0.5; ``None`` when the
        target is an envelope.
    envelope_ha
        ENAF consumption allowed over the target period for the whole
        ``code`` (ha); ``None`` when the target is a rate.  It is shared
        among the communes it governs pro rata of their baseline, after the
        envelopes of members governed by a more specific target are taken out.
    source
        The document that sets it (e.g. ``"SRADDET …, règle n° …"``).
    date
        Date of that document (adoption, arrêt or proposal).
    status
        ``adopted``, ``draft`` or ``suggested``.
    guarantee_included
        Whether ``envelope_ha`` already includes the garantie communale of
        the communes it governs: their floors are then taken from it, the
        other communes sharing what is left; otherwise (and for a rate) the
        guarantee lifts envelopes on top of it.
    """

    level: TargetLevel
    code: str
    rate: float | None = None
    envelope_ha: float | None = None
    source: str = ""
    date: dt.date | None = None
    status: TargetStatus = "adopted"
    guarantee_included: bool = False


LegalStatus = Literal["in_force", "bill"]
#: Legal status of a rule (a whole rule set, an exclusion, an envelope, an allowance).
LEGAL_STATUSES: tuple[LegalStatus, ...] = get_args(LegalStatus)
#: French label of each legal status, shown with every figure that rests on it.
LEGAL_STATUS_LABELS: dict[str, str] = {
    "in_force": "en vigueur",
    "bill": "proposition de loi, non en vigueur",
}


@dataclass(frozen=True)
class Exclusion:
    """A category of projects left out of the local count (charged to a national envelope).

    Parameters
    ----------
    category
        The category, as written in the ``category`` column of committed
        projects and placements (e.g. ``"industrie_verte"``).
    description
        What it covers, in French.
    legal_status
        ``in_force`` or ``bill``.
    article
        The text that provides it.
    """

    category: str
    description: str = ""
    legal_status: LegalStatus = "in_force"
    article: str = ""


@dataclass(frozen=True)
class NationalEnvelope:
    """An envelope held at national (or regional) level, off local budgets.

    Parameters
    ----------
    name
        E.g. ``"PENE"``.
    envelope_ha
        Its hectares for the whole country (12 500 ha for the PENE, 2021-2031).
    categories
        The project categories it receives (``"pene"``: the PENE list; other
        names: the :class:`Exclusion` categories).
    legal_status, article
        As for :class:`Exclusion`.
    """

    name: str
    envelope_ha: float
    categories: tuple[str, ...] = ()
    legal_status: LegalStatus = "in_force"
    article: str = ""


Metric = Literal["enaf", "artificialisation"]
#: What a period's target counts: ENAF consumption (2021-2031) or net artificialisation
#: measured on OCS GE (from 2031, décret 2023-1096).
METRICS: tuple[Metric, ...] = get_args(Metric)
#: French names of the metrics.
METRIC_LABELS: dict[str, str] = {
    "enaf": "consommation d'ENAF",
    "artificialisation": "artificialisation nette",
}


@dataclass(frozen=True)
class Decade:
    """A period after the target period with its reduction relative to the previous one.

    Parameters
    ----------
    period
        ``(start, end)`` years, e.g. ``(2031, 2041)``.
    reduction_rate
        Reduction of the yearly pace allowed relative to the previous
        period's (0.5: half of it).
    metric
        ``enaf`` or ``artificialisation`` (what the pace counts).
    article
        The text that sets it (the SRADDET sets the figures per région:
        loi 2021-1104 art. 194 I 1°, L.4251-1 CGCT).
    """

    period: tuple[int, int]
    reduction_rate: float
    metric: Metric = "artificialisation"
    article: str = ""


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
        Targets (a rate or hectares, with source, date and status) per
        commune, EPCI, SCoT or région; the most specific level wins (see
        :func:`foncier.zan.targets.commune_targets`).
    communal_guarantee_ha
        Floor of the envelope of a commune eligible to the garantie communale
        (1 ha).
    guarantee_per_delegated_commune_ha
        What each commune déléguée of a commune nouvelle adds to its floor
        (0.5 ha); the count comes from the planning-documents table.
    guarantee_deadline
        A commune is eligible when it is covered by a PLU, a document en
        tenant lieu or a carte communale prescribed, arrêté or approved
        before this date (22 August 2026: loi 2021-1104 art. 194 III 3° as
        amended by loi 2023-630 art. 4).
    guarantee_unknown
        ``refuse`` (default): a commune whose planning status is unknown gets
        no guarantee; ``apply``: it gets it, and every table says so.
    guarantee_pooled
        The law pools a commune's guaranteed hectares at intercommunal level
        only at its request (the ``guarantee_pooling`` flag of the
        planning-documents table); this is what is assumed for a commune
        whose request is not recorded (``False``: it did not ask).  In an
        EPCI or SCoT budget the guaranteed hectares of a commune that did not
        ask stay its own: only the part its own consumption and committed
        projects used enters the pool, the rest is ``guarantee_reserved_ha``.
    pene_excluded
        Whether PENE projects are left out of the local envelope.
    friches_count
        Whether building on a friche counts its ENAF part as consumption: the
        share of the friche on parcels whose cover is ENAF (a friche
        agricole); false: a friche costs nothing (code de l'urbanisme
        L.111-26, décret 2023-1259: a friche is land already used).
    artificialised_counts
        Whether building on land already artificialised counts as ENAF
        consumption.
    renaturation_credit
        Whether renatured hectares are deducted from committed consumption.
    unknown_land_cover
        How land of unknown cover (a parcel no building, OCS GE or ZAE
        inventory describes) is charged: ``enaf`` (the cautious default: as
        if building on it consumed ENAF) or ``artificialised``.
    pool
        Default pooling level: ``commune``, ``epci`` or ``scot``.
    exclusions
        Categories of projects left out of the local count (:class:`Exclusion`).
    national_envelopes
        Envelopes off local budgets (:class:`NationalEnvelope`); a budget table
        says how many hectares the territory draws from each.
    local_overshoot_pct
        Allowance to exceed the local envelope, in % of it (0: none); its
        ``local_overshoot_status`` and ``local_overshoot_article`` say which
        text provides it.
    legal_status
        ``in_force`` (the law) or ``bill`` (a what-if: every output says
        "proposition de loi, non en vigueur").
    decades
        The periods after the target period up to net zero (:class:`Decade`),
        contiguous from its end; the trajectory's allowed pace is cut by each
        one's ``reduction_rate`` in turn and reaches 0 (net zero) in 2050.
    """

    name: str
    version: str
    description: str = ""
    reference_period: tuple[int, int] = (2011, 2021)
    target_period: tuple[int, int] = (2021, 2031)
    reduction_rate: float = 0.50
    territorial_rates: tuple[TerritorialRate, ...] = ()
    communal_guarantee_ha: float = 1.0
    guarantee_per_delegated_commune_ha: float = 0.5
    guarantee_deadline: dt.date = dt.date(2026, 8, 22)
    guarantee_unknown: GuaranteeUnknown = "refuse"
    guarantee_pooled: bool = False
    pene_excluded: bool = True
    friches_count: bool = False
    artificialised_counts: bool = False
    renaturation_credit: bool = True
    unknown_land_cover: UnknownCover = "enaf"
    pool: PoolLevel = "commune"
    exclusions: tuple[Exclusion, ...] = ()
    national_envelopes: tuple[NationalEnvelope, ...] = ()
    local_overshoot_pct: float = 0.0
    local_overshoot_status: LegalStatus = "in_force"
    local_overshoot_article: str = ""
    legal_status: LegalStatus = "in_force"
    decades: tuple[Decade, ...] = (
        Decade((2031, 2041), 0.5, "artificialisation"),
        Decade((2041, 2050), 0.5, "artificialisation"),
    )
    source: str = field(default="", compare=False)

    @property
    def excluded_categories(self) -> frozenset[str]:
        """Project categories the local count leaves out."""
        return frozenset(e.category for e in self.exclusions)

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
        """Territorialised targets as a table: ``level, code, reduction_rate`` and provenance."""
        return pd.DataFrame(
            [
                (
                    r.level,
                    r.code,
                    r.rate,
                    r.envelope_ha,
                    r.source,
                    r.date,
                    r.status,
                    r.guarantee_included,
                )
                for r in self.territorial_rates
            ],  # fmt: skip
            columns=[*_RATE_COLUMNS, *_TARGET_EXTRA],
        ).astype({"level": "str", "code": "str", "reduction_rate": "float64"})


_FIELDS = {f.name: f for f in dataclasses.fields(RuleSet) if f.name != "source"}
_BOOL_KEYS = (
    "guarantee_pooled",
    "pene_excluded",
    "friches_count",
    "artificialised_counts",
    "renaturation_credit",
)


_HA_KEYS = ("communal_guarantee_ha", "guarantee_per_delegated_commune_ha")


def _check_choice(value: Any, choices: tuple[str, ...], where: str, origin: str) -> Any:
    if value not in choices:
        msg = f"{origin} : {where} doit valoir l'une des valeurs {list(choices)} ; reçu {value!r}"
        raise RuleSetError(msg)
    return value


def _decades(value: Any, target: tuple[int, int], origin: str) -> tuple[Decade, ...]:
    decades = tuple(
        Decade(
            _check_period(e["period"], f"{w}.period", origin),
            _check_rate(e["reduction_rate"], f"{w}.reduction_rate", origin),
            _check_choice(e.get("metric", "artificialisation"), METRICS, f"{w}.metric", origin),
            str(e.get("article", "")),
        )
        for w, e in _tables_of(value, "decades", Decade, origin)
    )
    starts = [d.period[0] for d in decades]
    ends = [target[1], *(d.period[1] for d in decades[:-1])]
    if starts != ends:
        msg = (
            f"{origin} : les décennies (decades) doivent se suivre à partir de la fin de "
            f"target_period ({target[1]}) : débuts {starts}, attendus {ends}"
        )
        raise RuleSetError(msg)
    return decades


def _tables_of(
    value: Any, key: str, kind: type, origin: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """The tables of a list key (``[[exclusions]]``…), their keys checked against ``kind``."""
    names = [f.name for f in dataclasses.fields(kind)]
    required = [f.name for f in dataclasses.fields(kind) if f.default is dataclasses.MISSING]
    if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
        msg = f"{origin} : {key} doit être une liste de tables aux clés {names}"
        raise RuleSetError(msg)
    out = []
    for i, entry in enumerate(value):
        where = f"{key}[{i}]"
        unknown = sorted(set(entry) - set(names))
        missing = [k for k in required if k not in entry]
        if unknown or missing:
            msg = (
                f"{origin} : {where} a des clés inconnues {unknown} ou il lui manque {missing} ; "
                f"clés permises : {names}"
            )
            raise RuleSetError(msg)
        out.append((where, entry))
    return out


def _check_ha(value: Any, where: str, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        msg = f"{origin} : {where} doit être un nombre d'hectares positif ou nul ; reçu {value!r}"
        raise RuleSetError(msg)
    return float(value)


def _plain_value(value: Any) -> Any:
    """A TOML/JSON-ready value: tuples become lists, dataclasses mappings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain_value(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, tuple | list):
        return [_plain_value(v) for v in value]
    return value


def _check_rate(value: Any, where: str, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{origin} : {where} doit être un nombre entre 0 et 1 ; reçu {value!r}"
        raise RuleSetError(msg)
    if not 0.0 <= float(value) <= 1.0:
        msg = (
            f"{origin} : {where} = {value!r} est hors de [0, 1] ; "
            "écrivez un taux de réduction en fraction, par exemple 0.5 pour 50 %"
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
        msg = (
            f"{origin} : {key} doit être deux années [début, fin] avec début < fin ; reçu {value!r}"
        )
        raise RuleSetError(msg)
    return (int(value[0]), int(value[1]))


def _check_level(value: Any, where: str, origin: str) -> PoolLevel:
    if value not in POOL_LEVELS:
        msg = f"{origin} : {where} doit valoir l'un de {list(POOL_LEVELS)} ; reçu {value!r}"
        raise RuleSetError(msg)
    level: PoolLevel = value
    return level


def _check_target_level(value: Any, where: str, origin: str) -> TargetLevel:
    if value not in TARGET_LEVELS:
        msg = f"{origin} : {where} doit valoir l'un de {list(TARGET_LEVELS)} ; reçu {value!r}"
        raise RuleSetError(msg)
    level: TargetLevel = value
    return level


def _target(entry: Mapping[str, Any], where: str, origin: str) -> TerritorialRate:
    """One territorialised target from a mapping (a rule file table, a CSV row)."""
    unknown = sorted(set(entry) - _TARGET_KEYS)
    missing = sorted({"level", "code"} - set(entry))
    if unknown or missing:
        msg = (
            f"{origin} : {where} a des clés inconnues {unknown} ou il lui manque {missing} ; "
            f"clés permises : {sorted(_TARGET_KEYS)} (level, code et rate ou envelope_ha)"
        )
        raise RuleSetError(msg)
    rate, hectares = entry.get("rate"), entry.get("envelope_ha")
    if (rate is None) == (hectares is None):
        msg = (
            f"{origin} : {where} doit donner soit rate (un taux de réduction), soit "
            f"envelope_ha (des hectares sur la période cible), pas les deux ; reçu {dict(entry)}"
        )
        raise RuleSetError(msg)
    status = entry.get("status", "adopted")
    if status not in TARGET_STATUSES:
        msg = (
            f"{origin} : {where}.status doit valoir l'un de {list(TARGET_STATUSES)} ; "
            f"reçu {status!r}"
        )
        raise RuleSetError(msg)
    included = entry.get("guarantee_included", False)
    if not isinstance(included, bool):
        msg = f"{origin} : {where}.guarantee_included doit valoir true ou false ; reçu {included!r}"
        raise RuleSetError(msg)
    date = entry.get("date")
    return TerritorialRate(
        _check_target_level(entry["level"], f"{where}.level", origin),
        str(entry["code"]),
        None if rate is None else _check_rate(rate, f"{where}.rate", origin),
        None if hectares is None else _check_ha(hectares, f"{where}.envelope_ha", origin),
        str(entry.get("source", "")),
        None if date in (None, "") else _check_date(date, origin, f"{where}.date"),
        status,
        included,
    )


def _territorial_rates(value: Any, origin: str) -> tuple[TerritorialRate, ...]:
    if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
        msg = (
            f"{origin} : territorial_rates doit être une liste de tables avec level, code et "
            "rate ou envelope_ha"
        )
        raise RuleSetError(msg)
    rates = tuple(_target(e, f"territorial_rates[{i}]", origin) for i, e in enumerate(value))
    seen = [(r.level, r.code) for r in rates]
    dup = sorted({k for k in seen if seen.count(k) > 1})
    if dup:
        msg = (
            f"{origin} : territorial_rates donne plusieurs cibles pour {dup} ; gardez-en une "
            "par niveau et par code"
        )
        raise RuleSetError(msg)
    return rates


def _rules_from_mapping(data: Any, origin: str) -> RuleSet:
    if not isinstance(data, Mapping):
        msg = (
            f"{origin} : un jeu de règles doit être une table de clés ; reçu {type(data).__name__}"
        )
        raise RuleSetError(msg)
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        msg = (
            f"{origin} : clé(s) inconnue(s) {unknown} dans le jeu de règles ; "
            f"clés permises : {sorted(_FIELDS)}"
        )
        raise RuleSetError(msg)
    missing = [k for k in ("name", "version") if k not in data]
    if missing:
        msg = (
            f"{origin} : il manque au jeu de règles la ou les clés {missing}, qui le "
            "nomment dans les résultats"
        )
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
    for key in _HA_KEYS:
        if key in data:
            kw[key] = _check_ha(data[key], key, origin)
    for key in ("legal_status", "local_overshoot_status"):
        if key in data:
            kw[key] = _check_choice(data[key], LEGAL_STATUSES, key, origin)
    for key in ("local_overshoot_article",):
        if key in data:
            kw[key] = str(data[key])
    if "local_overshoot_pct" in data:
        pct = _check_ha(data["local_overshoot_pct"], "local_overshoot_pct", origin)
        kw["local_overshoot_pct"] = pct
    if "decades" in data:
        kw["decades"] = _decades(data["decades"], kw.get("target_period", (2021, 2031)), origin)
    if "exclusions" in data:
        kw["exclusions"] = tuple(
            Exclusion(
                str(e["category"]),
                str(e.get("description", "")),
                _check_choice(e.get("legal_status", "in_force"), LEGAL_STATUSES, w, origin),
                str(e.get("article", "")),
            )
            for w, e in _tables_of(data["exclusions"], "exclusions", Exclusion, origin)
        )
    if "national_envelopes" in data:
        kw["national_envelopes"] = tuple(
            NationalEnvelope(
                str(e["name"]),
                _check_ha(e["envelope_ha"], f"{w}.envelope_ha", origin),
                tuple(str(c) for c in e.get("categories", ())),
                _check_choice(e.get("legal_status", "in_force"), LEGAL_STATUSES, w, origin),
                str(e.get("article", "")),
            )
            for w, e in _tables_of(data["national_envelopes"], "national_envelopes",
                                   NationalEnvelope, origin)
        )  # fmt: skip
    for key in _BOOL_KEYS:
        if key in data:
            if not isinstance(data[key], bool):
                msg = f"{origin} : {key} doit valoir true ou false ; reçu {data[key]!r}"
                raise RuleSetError(msg)
            kw[key] = data[key]
    if "pool" in data:
        kw["pool"] = _check_level(data["pool"], "pool", origin)
    if "unknown_land_cover" in data:
        if data["unknown_land_cover"] not in UNKNOWN_COVER_CHOICES:
            msg = (
                f"{origin} : unknown_land_cover doit valoir l'un de "
                f"{list(UNKNOWN_COVER_CHOICES)} ; reçu {data['unknown_land_cover']!r}"
            )
            raise RuleSetError(msg)
        kw["unknown_land_cover"] = data["unknown_land_cover"]
    if "guarantee_deadline" in data:
        kw["guarantee_deadline"] = _check_date(
            data["guarantee_deadline"], origin, "guarantee_deadline"
        )
    if "guarantee_unknown" in data:
        kw["guarantee_unknown"] = check_guarantee_unknown(data["guarantee_unknown"], origin)
    return RuleSet(**kw, source=origin)


def _check_date(value: Any, origin: str, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        msg = (
            f"{origin} : {key} doit être une date AAAA-MM-JJ "
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
        msg = f"{origin} : fichier {suffix.lstrip('.').upper()} invalide : {exc}"
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
        origin = f"jeu de règles « {name_or_path} » fourni avec foncier"
        return _rules_from_mapping(
            _parse_rule_text(res.read_text("utf-8"), ".toml", origin), origin
        )
    if not path.is_file():
        msg = (
            f"jeu de règles inconnu « {name_or_path} » : ni un jeu fourni avec foncier "
            f"({', '.join(available_rules())}) ni un fichier existant. Donnez l'un de ces noms "
            "ou le chemin d'un fichier de règles .toml / .yaml."
        )
        raise NotFoundError(msg)
    suffix = path.suffix.lower()
    if suffix not in _RULE_SUFFIXES:
        msg = (
            f"fichier de règles {path} : un fichier .toml, .yaml ou .yml est attendu ; "
            f"reçu {path.suffix!r}"
        )
        raise RuleSetError(msg)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"impossible de lire le fichier de règles {path} : {exc}"
        raise DataSourceError(msg) from exc
    origin = f"fichier de règles {path}"
    return _rules_from_mapping(_parse_rule_text(text, suffix, origin), origin)


def _known_codes(communes: pd.DataFrame) -> dict[str, set[str]]:
    known = {"commune": set(communes[Col.INSEE].astype(str))}
    for level, col in (("epci", Col.EPCI), ("scot", Col.SCOT), ("region", Col.REGION)):
        known[level] = set(communes[col].dropna().astype(str)) if col in communes else set()
    return known


def _number(text: str) -> Any:
    """A CSV cell as a number (``,`` decimal allowed), ``None`` when blank, else the text."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


def load_rates(
    path: str | Path, *, communes: pd.DataFrame | None = None
) -> tuple[TerritorialRate, ...]:
    """Read a territorialised targets table (CSV with ``level, code, reduction_rate``).

    Parameters
    ----------
    path
        A ``,`` or ``;``-separated UTF-8 CSV; ``level`` is ``commune``,
        ``epci``, ``scot`` or ``region``; commune codes are zero-padded to 5
        characters.  Each row gives ``reduction_rate`` or ``envelope_ha``
        (optional column: hectares over the target period), and optionally
        ``source``, ``date`` (AAAA-MM-JJ), ``status`` (``adopted``, ``draft``,
        ``suggested``) and ``guarantee_included`` (true / false).
    communes
        The territory's communes layer; when given, every code must name one
        of its communes, EPCI, SCoT or régions.

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
    origin = f"table des taux {path}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"impossible de lire {origin} : {exc}"
        raise DataSourceError(msg) from exc
    sep = ";" if ";" in text.partition("\n")[0] else ","
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("level", "code") if c not in table.columns]
    if missing or not {"reduction_rate", "envelope_ha"} & set(table.columns):
        msg = (
            f"{origin} : colonne(s) manquante(s) {missing or ['reduction_rate']} ; "
            f"attendu {list(_RATE_COLUMNS)} (ou envelope_ha au lieu de reduction_rate), "
            f"reçu {list(table.columns)}"
        )
        raise RuleSetError(msg)
    entries = []
    for i, row in table.iterrows():
        level = row["level"].strip().lower()
        code = row["code"].strip()
        if level == "commune":
            code = str(normalise_insee(pd.Series([code])).iloc[0])
        entry: dict[str, Any] = {"level": level, "code": code}
        for key, col in (("rate", "reduction_rate"), ("envelope_ha", "envelope_ha")):
            if col in row and (value := _number(row[col])) is not None:
                entry[key] = value
        for key in ("source", "date", "status"):
            if key in row and row[key].strip():
                entry[key] = row[key].strip()
        if "guarantee_included" in row and row["guarantee_included"].strip():
            flag = row["guarantee_included"].strip().lower()
            entry["guarantee_included"] = {"true": True, "oui": True, "1": True}.get(
                flag, False if flag in ("false", "non", "0") else flag
            )
        entries.append((f"row {int(str(i)) + 2} ({level} {code})", entry))
    rates_t = tuple(_target(e, where, origin) for where, e in entries)
    _territorial_rates([dataclasses.asdict(r) for r in rates_t], origin)
    if communes is not None:
        known = _known_codes(communes)
        unknown = [(r.level, r.code) for r in rates_t if r.code not in known[r.level]]
        if unknown:
            msg = (
                f"{origin} : code(s) {unknown[:5]} absent(s) de la couche des communes du "
                "territoire (codes INSEE des communes, SIREN des EPCI, SCoT comme dans la colonne "
                "'scot', codes de région comme dans la colonne 'region')"
            )
            raise NotFoundError(msg)
    return rates_t
