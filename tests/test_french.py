"""One language for users: French help pages, French labels with English aliases, no slips."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from foncier._format import fr_number
from foncier.assignment import OBJECTIVES
from foncier.cli import main
from foncier.cli._main import LabelChoice, objective_option
from foncier.decisions import validated_placements
from foncier.errors import LayerSchemaError
from foncier.labels import DECISION_LABELS, OBJECTIVE_LABELS, code_of, fr_datetime
from foncier.scenarios import ScenarioResult
from tests._html_text import visible_texts

#: Slips and English words that must never reach a reader, each with what it is.
SLIPS: dict[str, re.Pattern[str]] = {
    "a singular count with a plural": re.compile(r"\bses 1 \w+|\b1 terrains\b"),
    "a plural noun with a singular adjective": re.compile(r"\bbudgets mutualisé\b"),
    "a negative zero": re.compile(r"(?<![\w/.-])-0(?:,0+)?(?![\d,/])"),
    "an objective code after « objectif »": re.compile(
        r"objectif «?\s*(?:jobs|min_enaf|friches_first)\b"
    ),
    "an ISO timestamp": re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    "English words": re.compile(
        r"\b(?:built-in|rule set|at risk|on track|exceeded|validated|rejected|"
        r"min_enaf|friches_first|Usage:|Show this message|default:|required\])"
    ),
}


def slips_in(text: str) -> list[str]:
    """Each slip of :data:`SLIPS` found in ``text``, with some context."""
    return [
        f"{what}: …{text[max(0, m.start() - 50) : m.end() + 30]}…".replace("\n", " ")
        for what, pattern in SLIPS.items()
        for m in pattern.finditer(text)
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("supplanté : ses 1 terrain possible sont occupés", 1),
        ("budgets mutualisé par EPCI", 1),
        ("reste -0,00 ha", 1),
        ("reste -0,5 ha et -10 ha", 0),
        ("objectif jobs", 1),
        ("objectif « emplois », budgets mutualisés par EPCI", 0),
        ("calculé le 2026-12-02T04:28:29+00:00", 1),
        ("built-in rule set 'x'", 2),
        ("statut : à risque", 0),
    ],
)
def test_the_slip_scan_finds_the_known_slips(text: str, found: int) -> None:
    assert len(slips_in(text)) == found


# -- CLI help ----------------------------------------------------------------------------


def _help_pages() -> dict[str, str]:
    runner = CliRunner()
    pages = {"foncier": runner.invoke(main, ["--help"]).output}
    for name in main.commands:
        pages[name] = runner.invoke(main, [name, "--help"]).output
    return pages


def test_every_help_page_is_french() -> None:
    pages = _help_pages()
    assert len(pages) == len(main.commands) + 1
    for name, page in pages.items():
        assert page.startswith("Utilisation : "), name
        assert "Options :" in page and "Affiche cette aide et quitte." in page, name
        assert slips_in(page) == [], (name, slips_in(page))
        # click's type names are translated
        assert not re.search(r"\b(TEXT|FILE|DIRECTORY|INTEGER|FLOAT)\b", page), name
    assert "Commandes :" in pages["foncier"]
    assert "[obligatoire]" in pages["match"] and "[défaut\u00a0: emplois]" in pages["match"]


def test_help_lists_the_french_objectives() -> None:
    page = _help_pages()["match"]
    assert "[emplois|score|sobriété|friches d'abord]" in page
    # the English docstring of the command is not what users read
    assert "Place the projects" not in page


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("emplois", "jobs"),
        ("jobs", "jobs"),
        ("sobriété", "min_enaf"),
        ("Sobriete", "min_enaf"),
        ("min_enaf", "min_enaf"),
        ("friches d'abord", "friches_first"),
        ("friches-dabord", "friches_first"),
        ("friches_first", "friches_first"),
        ("score", "score"),
    ],
)
def test_objective_option_takes_labels_and_codes(given: str, code: str) -> None:
    @click.command()
    @objective_option
    def show(objective: str) -> None:
        click.echo(objective)

    result = CliRunner().invoke(show, ["--objective", given])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == code


def test_objective_option_default_is_the_first_objective() -> None:
    @click.command()
    @objective_option
    def show(objective: str) -> None:
        click.echo(objective)

    assert CliRunner().invoke(show, []).output.strip() == OBJECTIVES[0]


def test_an_unknown_objective_is_one_french_line() -> None:
    result = CliRunner().invoke(main, ["match", ".", "-o", "x", "--objective", "profit"])
    assert result.exit_code == 2
    assert "« profit » n'est pas une valeur possible" in result.output
    assert "« sobriété »" in result.output


def test_label_choice_lists_every_objective() -> None:
    choice = LabelChoice(OBJECTIVE_LABELS)
    assert list(choice.choices) == ["emplois", "score", "sobriété", "friches d'abord"]
    assert set(OBJECTIVE_LABELS) == set(OBJECTIVES)


# -- labels ------------------------------------------------------------------------------


def test_code_of_round_trips_every_label_and_code() -> None:
    for labels in (OBJECTIVE_LABELS, DECISION_LABELS):
        for code, label in labels.items():
            assert code_of(label, labels) == code
            assert code_of(code, labels) == code
            assert code_of(label.upper(), labels) == code
    assert code_of("validee", DECISION_LABELS) == "validated"
    assert code_of("peut-être", DECISION_LABELS) is None


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        ("2026-12-02T13:05:00+00:00", "2 décembre 2026 à 14 h 05"),  # winter: UTC+1
        ("2026-07-14T08:30:59+00:00", "14 juillet 2026 à 10 h 30"),  # summer: UTC+2
        ("2026-03-01T00:00:00", "1er mars 2026 à 1 h 00"),  # naive: UTC
        ("2026-12-31T23:30:00+00:00", "1er janvier 2027 à 0 h 30"),  # the next day in Paris
    ],
)
def test_dates_are_written_the_french_way(moment: str, text: str) -> None:
    assert fr_datetime(moment) == text


def test_no_negative_zero() -> None:
    assert fr_number(-0.004, 2, "ha") == "0,00\xa0ha"
    assert fr_number(-0.006, 2) == "-0,01"
    assert fr_number(-1e-12, 0) == "0"


def test_decisions_accept_french_labels_and_codes() -> None:
    log = pd.DataFrame(
        {
            "project_id": ["P1", "P2", "P3", "P2"],
            "unit_id": ["U1", "U2", "U3", "U2"],
            "insee": ["30007"] * 4,
            "decision": ["Validée", "validated", "rejetée", "REJECTED"],
            "area_ha": [1.0, 2.0, 3.0, 2.0],
            "enaf_ha": [0.5, 1.0, 1.5, 1.0],
        }
    )
    assert validated_placements(log)["project_id"].tolist() == ["P1"]
    with pytest.raises(LayerSchemaError, match="« validée » \\(validated\\)"):
        validated_placements(log.assign(decision="accepted"))


# -- API ---------------------------------------------------------------------------------


def test_api_enums_accept_french_labels_and_keep_codes() -> None:
    from api.models import DecisionIn, ScenarioIn

    assert ScenarioIn(objective="sobriété").objective == "min_enaf"
    assert ScenarioIn(objective="friches d'abord").objective == "friches_first"
    assert ScenarioIn(objective="jobs").objective == "jobs"
    decision = DecisionIn(project_id="P-1", decision="rejetée", author="GT")
    assert decision.model_dump()["decision"] == "rejected"
    schema = ScenarioIn.model_json_schema()["properties"]["objective"]
    assert {"sobriété", "min_enaf"} <= set(schema["enum"])


def test_api_refused_enum_lists_the_french_labels() -> None:
    from pydantic import ValidationError

    from api.errors import validation_body
    from api.models import ScenarioIn

    with pytest.raises(ValidationError) as info:
        ScenarioIn(objective="profit")
    from fastapi.exceptions import RequestValidationError

    exc = RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in info.value.errors()])
    detail = validation_body(exc)["detail"]
    assert "« sobriété » (min_enaf)" in detail and "« emplois » (jobs)" in detail
    assert slips_in(detail.replace("(min_enaf)", "").replace("(friches_first)", "")) == []


# -- generated texts on the sample ---------------------------------------------------------


def test_generated_texts_have_no_slip(scenario_dir: Path, sample_folder: Path, tmp_path: Path):
    """The report (its map popups included), unmatched reasons and CLI outputs of the sample."""
    runner = CliRunner()
    texts: dict[str, str] = {}
    report = tmp_path / "rapport.html"
    result = runner.invoke(main, ["report", str(scenario_dir), "-o", str(report)])
    assert result.exit_code == 0, result.output
    texts["report"] = "\n".join(visible_texts(report.read_text(encoding="utf-8")))
    scenario = ScenarioResult.from_folder(scenario_dir)
    unmatched = scenario.unmatched
    assert len(unmatched) > 0
    texts["unmatched"] = "\n".join(
        unmatched["explanation"].astype(str) + " → " + unmatched["hint"].fillna("").astype(str)
    )
    texts["summary"] = scenario.summary_fr()
    commands = (
        ["zan", str(sample_folder)],
        ["info", str(sample_folder)],
        ["diagnostic", str(sample_folder)],
        ["query", str(sample_folder), "--area", "2", "--jobs", "20"],
        ["query", str(sample_folder), "--area", "500"],
    )
    for command in commands:
        out = runner.invoke(main, command)
        assert out.exit_code == 0, out.output
        texts[" ".join(command[:2] if command[0] != "query" else command)] = out.output
    found = {name: slips_in(text) for name, text in texts.items()}
    assert found == {name: [] for name in texts}
    zan = texts[f"zan {sample_folder}"]
    assert "calculé le " in zan and " h " in zan.splitlines()[1]
    assert "dont activité" in texts[f"diagnostic {sample_folder}"]
    # what the slips were is now written right
    assert "Objectif emplois" in " ".join(texts["report"].split())
    assert "objectif « emplois »" in texts["report"] and "objectif « emplois »" in texts["summary"]
    assert re.search(r"Calculé le\s+\d{1,2}(?:er)? \w+ 20\d\d à \d{1,2} h \d\d", texts["report"])
