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

__all__ = [
    "EXISTING_FILE",
    "committed_option",
    "decisions_option",
    "format_option",
    "handle_errors",
    "load_territory",
    "main",
    "objective_option",
    "output_option",
    "pool_option",
    "quiet_option",
    "rules_option",
    "territory_argument",
]


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


# -- options shared by several commands ---------------------------------------------------
# Each is defined once here, with its choices taken from the library, so that a
# command spells an option the way the others do.  The library modules are
# imported by the factories, when the command modules are imported: only light
# modules (no folium, matplotlib, scipy or rasterio) may be imported here.

#: An existing file given as an option value.
EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def rules_option(func: F) -> F:
    """``--rules`` (parameter ``rules_name``): a built-in rule set name or a TOML/YAML file."""
    from foncier.zan.rules import DEFAULT_RULES

    return click.option(
        "--rules",
        "rules_name",
        default=None,
        help=f"Built-in rule set name or a TOML/YAML rule file (default: {DEFAULT_RULES}).",
    )(func)


def pool_option(default: str | None = None, help: str | None = None) -> Callable[[F], F]:
    """``--pool``: the level ZAN budgets are pooled at, one of the library's pool levels.

    Parameters
    ----------
    default
        The command's default level; ``None`` leaves it to the rule set.
    help
        Help text; by default it names the default.
    """
    from foncier.zan.rules import POOL_LEVELS

    if help is None:
        help = (
            "Pooling level of the budgets (default: the rule set's)."
            if default is None
            else "Level at which ZAN budgets are enforced."
        )
    return click.option(
        "--pool",
        type=click.Choice(POOL_LEVELS),
        default=default,
        show_default=default is not None,
        help=help,
    )


def objective_option(func: F) -> F:
    """``--objective``: what the assignment maximises, one of the library's objectives."""
    from foncier.assignment import OBJECTIVES

    return click.option(
        "--objective",
        type=click.Choice(OBJECTIVES),
        default=OBJECTIVES[0],
        show_default=True,
        help="What the assignment maximises.",
    )(func)


def committed_option(func: F) -> F:
    """``--committed``: a CSV of projects already committed (:func:`foncier.zan.read_committed`)."""
    return click.option(
        "--committed",
        type=EXISTING_FILE,
        help="CSV of committed projects: insee, committed_ha [, label].",
    )(func)


def decisions_option(func: F) -> F:
    """``--decisions``: the working group's decisions (:func:`foncier.decisions.read_decisions`)."""
    return click.option(
        "--decisions",
        type=EXISTING_FILE,
        help="CSV of the working group's decisions (project_id, unit_id, insee, decision, "
        "area_ha, enaf_ha): validated placements are committed and their area taken off "
        "their unit.",
    )(func)


def format_option(
    choices: tuple[str, ...] = ("table", "csv", "json"), default: str = "table"
) -> Callable[[F], F]:
    """``--format`` (parameter ``fmt``): how a command prints its table.

    Parameters
    ----------
    choices
        Formats the command can print, text for people first.
    default
        The default format.
    """
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def output_option(
    dest: str = "output",
    *,
    folder: bool = False,
    required: bool = False,
    default: Path | str | None = None,
    help: str,
) -> Callable[[F], F]:
    """``-o/--output``: where a command writes, a file or a folder.

    Parameters
    ----------
    dest
        Name of the command's parameter.
    folder
        The output is a folder (otherwise a file).
    required
        The option must be given.
    default
        Default path (shown in the help).
    help
        Help text.
    """
    path = (
        click.Path(file_okay=False, path_type=Path)
        if folder
        else click.Path(dir_okay=False, path_type=Path)
    )
    return click.option(
        "-o",
        "--output",
        dest,
        required=required,
        default=default,
        show_default=default is not None,
        type=path,
        help=help,
    )


def quiet_option(func: F) -> F:
    """``--quiet``: no progress bars."""
    return click.option("--quiet", is_flag=True, help="No progress bars.")(func)
