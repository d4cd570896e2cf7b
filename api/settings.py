"""Service settings, read from ``FONCIER_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Configuration of the foncier service.

    Every field can be set by an environment variable named ``FONCIER_`` +
    the field name in capitals, e.g. ``FONCIER_TERRITORY=/data/ales``.

    Attributes
    ----------
    territory
        Territory folder served (see :class:`foncier.territory.Territory`).
        The default, ``data/sample``, is generated with
        :func:`foncier.sample.write_sample` when missing.
    state_dir
        Folder of the service's state: the SQLite database (projects,
        scenarios, decisions) and the scenario results.  Defaults to
        ``<territory>-state`` next to the territory folder.
    api_token
        Bearer token required by every write (projects, scenarios,
        decisions).  Without one, writes are refused unless
        ``allow_anonymous_writes`` is set.
    allow_anonymous_writes
        Accept writes without a token (local use only).
    max_body_bytes
        Largest request body accepted; larger ones get 413.
    sample_parcels
        Parcels of the sample generated when ``territory`` is missing.
    request_threads
        Threads that run the synchronous routes of one worker process (the
        rest of the requests wait their turn): computations hold the GIL, so
        a few threads answer faster than the default forty fighting over it.
    rules_files
        ZAN rule files (TOML or YAML) the service offers besides the
        built-in rule sets, each under the ``name`` it declares
        (``FONCIER_RULES_FILES='["/data/ales/regles-scot.toml"]'``).  Chosen
        by whoever runs the service: a client names a rule set, never a path.
    """

    model_config = SettingsConfigDict(env_prefix="FONCIER_", extra="ignore")

    territory: Path = Path("data/sample")
    state_dir: Path | None = None
    api_token: SecretStr | None = None
    allow_anonymous_writes: bool = False
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    sample_parcels: int = Field(default=30_000, ge=1_000, le=1_000_000)
    request_threads: int = Field(default=4, ge=1, le=64)
    rules_files: list[Path] = Field(default_factory=list)

    @property
    def resolved_state_dir(self) -> Path:
        """The state folder: ``state_dir`` or ``<territory>-state`` beside the territory."""
        if self.state_dir is not None:
            return self.state_dir
        territory = self.territory.resolve()
        return territory.with_name(f"{territory.name}-state")
