"""``foncier serve``: options, clean errors, the application handed to uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from foncier.cli import main


def test_serve_missing_territory_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(tmp_path / "absent")])
    assert result.exit_code == 2
    assert "n'existe pas" in result.output or "does not exist" in result.output
    assert "Traceback" not in result.output


def test_serve_starts_uvicorn(
    api_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv("FONCIER_API_TOKEN", raising=False)
    result = CliRunner().invoke(
        main,
        [
            "serve",
            str(api_territory),
            "--port",
            "8123",
            "--state-dir",
            str(tmp_path / "state"),
            "--allow-anonymous-writes",
        ],
    )
    assert result.exit_code == 0, result.output
    ((app, kwargs),) = calls
    assert kwargs == {"host": "127.0.0.1", "port": 8123}
    settings = app.state.settings
    assert settings.territory == api_territory
    assert settings.allow_anonymous_writes is True
    assert settings.resolved_state_dir == tmp_path / "state"


def test_serve_workers_use_the_import_string(
    api_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    for name in ("FONCIER_TERRITORY", "FONCIER_STATE_DIR", "FONCIER_ALLOW_ANONYMOUS_WRITES"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["serve", str(api_territory), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "FONCIER_API_TOKEN" in result.output
    ((app, kwargs),) = calls
    assert app == "api.app:app" and kwargs["workers"] == 2
    import os

    assert os.environ["FONCIER_TERRITORY"] == str(api_territory)
    assert os.environ["FONCIER_STATE_DIR"].endswith("territory-state")
