"""The root ``foncier`` group and the options shared by its commands."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from foncier import __version__
from foncier.errors import FoncierError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["handle_errors", "load_territory", "main", "territory_argument"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="foncier")
def main() -> None:
    """Foncier industriel et ZAN: land for industrial projects under the ZAN law."""


def handle_errors(func: F) -> F:
    """Turn foncier's errors into a clean one-line CLI error (exit code 2), no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FoncierError as exc:
            click.secho(f"Erreur : {exc}", fg="red", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


#: The TERRITORY argument: a territory folder (see :class:`foncier.territory.Territory`).
territory_argument = click.argument("territory", type=click.Path(file_okay=False, path_type=Path))


def load_territory(path: Path) -> Any:
    """Load a territory folder for a command (errors handled by :func:`handle_errors`)."""
    from foncier.territory import Territory

    return Territory.from_folder(path)
