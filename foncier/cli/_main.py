"""The root ``foncier`` group and the options shared by its commands.

Errors: a user mistake or an operating-system error (permission, missing
path, disk full, read-only file system, a GDAL write error) prints one line
``Erreur : …`` in French and exits with code 2; so do usage errors (missing
argument, unknown option, bad value).  An unexpected internal error prints
one line saying it is a bug, with the path of a log file holding the
traceback, and exits with code 1.  Progress bars are closed first.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from foncier import __version__
from foncier.choices import DEFAULT_RULES, OBJECTIVE_LABELS, OBJECTIVES, POOL_LEVELS, code_of
from foncier.errors import FoncierError
from foncier.outputs import describe_os_error, write_errors

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "EXISTING_FILE",
    "EXIT_BUG",
    "EXIT_USER",
    "FoncierCommand",
    "FoncierContext",
    "FoncierGroup",
    "FrenchHelpFormatter",
    "LabelChoice",
    "committed_option",
    "decisions_option",
    "force_option",
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

#: Exit code of a user mistake, an operating-system error or a usage error.
EXIT_USER = 2
#: Exit code of an unexpected internal error (a bug).
EXIT_BUG = 1

#: English messages of click's usage errors and their French wording.
_USAGE_FR: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french)
    for pattern, french in (
        (r"^'(?P<v>.*)' is not one of (?P<c>.+)\.$", "« {v} » n'est pas une valeur possible ({c})"),
        (r"^'(?P<v>.*)' is not (?P<c>'.*')\.$", "« {v} » n'est pas une valeur possible ({c})"),
        (
            r"^'(?P<v>.*)' is not a valid integer(?: range)?\.$",
            "« {v} » n'est pas un nombre entier",
        ),
        (r"^'(?P<v>.*)' is not a valid float(?: range)?\.$", "« {v} » n'est pas un nombre"),
        (r"^'(?P<v>.*)' is not a valid boolean\.$", "« {v} » n'est ni oui ni non (true/false)"),
        (r"^(?P<v>.+) is not in the range (?P<c>.+)\.$", "{v} est hors de l'intervalle {c}"),
        (
            r"^(?:File|Directory|Path) '(?P<v>.*)' does not exist\.$",
            "le chemin « {v} » n'existe pas",
        ),
        (
            r"^(?:File|Path) '(?P<v>.*)' is a directory\.$",
            "« {v} » est un dossier, un fichier est attendu",
        ),
        (r"^Directory '(?P<v>.*)' is a file\.$", "« {v} » est un fichier, un dossier est attendu"),
        (
            r"^(?:File|Directory|Path) '(?P<v>.*)' is not (?P<c>readable|writable|executable)\.$",
            "« {v} » n'est pas accessible ({c}) : vérifiez les droits",
        ),
        (r"^No such command '(?P<v>.*)'\.$", "commande inconnue « {v} »"),
        (r"^Got unexpected extra arguments? \((?P<v>.*)\)$", "argument(s) en trop : {v}"),
        (r"^Missing command\.$", "commande manquante"),
        (
            r"^Option '(?P<v>.*)' requires (?:an argument|\d+ arguments)\.$",
            "l'option {v} attend une valeur",
        ),
        (r"^Option '(?P<v>.*)' does not take a value\.$", "l'option {v} ne prend pas de valeur"),
    )
)


def _french(message: str) -> str:
    text = message.strip()
    for pattern, french in _USAGE_FR:
        m = pattern.match(text)
        if m:
            return french.format(**m.groupdict())
    return text


def _param_hint(exc: click.MissingParameter | click.BadParameter) -> str:
    param, ctx = exc.param, exc.ctx
    if param is not None and ctx is not None:
        return param.get_error_hint(ctx)
    hint = exc.param_hint
    if hint is None:
        return ""
    return hint if isinstance(hint, str) else " / ".join(hint)


def usage_message(exc: click.UsageError) -> str:
    """One French line for a click usage error (missing argument, unknown option, bad value)."""
    ctx = exc.ctx
    command = ctx.command_path if ctx is not None else "foncier"
    see = f" ; voir « {command} -h »"
    if isinstance(exc, click.MissingParameter):
        param = exc.param
        hint = _param_hint(exc)
        what = (
            "l'argument"
            if param is not None and param.param_type_name == "argument"
            else "l'option"
        )
        return f"{what} {hint} est obligatoire{see}"
    if isinstance(exc, click.NoSuchOption):
        alts = sorted(exc.possibilities or ())
        guess = f" (vouliez-vous dire {' ou '.join(alts)} ?)" if alts else ""
        return f"option inconnue {exc.option_name}{guess}{see}"
    if isinstance(exc, click.BadParameter):
        hint = _param_hint(exc)
        where = f" pour {hint}" if hint else ""
        return f"valeur invalide{where} : {_french(exc.message)}{see}"
    return f"{_french(exc.message)}{see}"


def _close_progress_bars() -> None:
    """Close the progress bars still open, so that a message starts on its own line."""
    std = sys.modules.get("tqdm.std")
    if std is None:
        return
    for bar in list(getattr(std.tqdm, "_instances", ())):
        try:
            bar.close()
        except Exception:  # noqa: BLE001 - a broken bar must not hide the error
            continue


def _log_folder() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for folder in (Path(cache) / "foncier" / "logs", Path(tempfile.gettempdir()) / "foncier-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    return Path(tempfile.gettempdir())


def write_bug_log(exc: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to a log file; return its path."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    lines = [
        f"foncier {__version__}, {dt.datetime.now().isoformat(timespec='seconds')}",
        f"commande : {' '.join(sys.argv)}",
        "",
        *traceback.format_exception(type(exc), exc, exc.__traceback__),
    ]
    try:
        path = _log_folder() / f"erreur-{stamp}-{os.getpid()}.log"
        path.write_text("\n".join(lines), encoding="utf-8")
    except OSError:
        return None
    return path


def fail(exc: BaseException) -> NoReturn:
    """Print the one-line French error for ``exc`` and exit (code 2, or 1 for a bug)."""
    _close_progress_bars()
    if isinstance(exc, FoncierError):
        click.secho(f"Erreur : {exc}", fg="red", err=True)
        sys.exit(EXIT_USER)
    if isinstance(exc, write_errors()):
        click.secho(f"Erreur : {describe_os_error(exc)}", fg="red", err=True)
        sys.exit(EXIT_USER)
    log = write_bug_log(exc)
    where = f" ; le détail est écrit dans {log}" if log else ""
    click.secho(
        f"Erreur : erreur interne de foncier, un bogue et non une erreur de votre part "
        f"({type(exc).__name__} : {exc}){where} ; merci de le signaler avec ce fichier",
        fg="red",
        err=True,
    )
    sys.exit(EXIT_BUG)


#: click's own words in a help page (section titles, option extras) and their French wording.
_HELP_FR: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french)
    for pattern, french in (
        (r"^Show this message and exit\.$", "Affiche cette aide et quitte."),
        (r"^Show the version and exit\.$", "Affiche la version et quitte."),
        (r"\[default: ", "[défaut : "),
        (r"(\[[^\]]*?); ", r"\1 ; "),
        # a non-breaking space keeps « » and the space before ; : on the line of their word
        (r"« ", "«\u00a0"),
        (r" »", "\u00a0»"),
        (r" ([;:])(?=\s)", "\u00a0\\1"),
        (r"\brequired\]", "obligatoire]"),
        (r"\benv var: ", "variable d'environnement : "),
        (r"\(dynamic\)", "(calculé)"),
        (r"\(DEPRECATED\)", "(OBSOLÈTE)"),
    )
)
#: click's type names in the option column and the usage line, in French.
_METAVAR_FR: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b{english}\b"), french)
    for english, french in (
        ("INTEGER RANGE", "ENTIER"),
        ("FLOAT RANGE", "NOMBRE"),
        ("INTEGER", "ENTIER"),
        ("FLOAT", "NOMBRE"),
        ("TEXT", "TEXTE"),
        ("FILE", "FICHIER"),
        ("DIRECTORY", "DOSSIER"),
        ("PATH", "CHEMIN"),
        ("BOOLEAN", "OUI/NON"),
        ("COMMAND", "COMMANDE"),
    )
)
_SECTIONS_FR = {
    "Options": "Options",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Arguments": "Arguments",
}


def _sub(text: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    for pattern, french in table:
        text = pattern.sub(french, text)
    return text


class FrenchHelpFormatter(click.HelpFormatter):
    """click's help formatter writing click's own words in French.

    The commands give their help in French; this formatter translates what
    click adds: ``Usage:``, the section titles, ``[default: …]``,
    ``[required]``, the help of ``--help`` and the type names (``FILE``,
    ``INTEGER``…).
    """

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """Write the usage line, « Utilisation : foncier … »."""
        super().write_usage(prog, _sub(args, _METAVAR_FR), prefix or "Utilisation : ")

    def write_heading(self, heading: str) -> None:
        """Write a section title in French, « Commandes : »."""
        self.write(f"{'':>{self.current_indent}}{_SECTIONS_FR.get(heading, heading)} :\n")

    def write_text(self, text: str) -> None:
        """Write a paragraph, French spacing kept across line breaks."""
        super().write_text(_sub(text, _HELP_FR))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        """Write the option list, click's words and type names in French."""
        french = [(_sub(term, _METAVAR_FR), _sub(text, _HELP_FR)) for term, text in rows]
        super().write_dl(french, col_max, col_spacing)


class FoncierContext(click.Context):
    """The context of every foncier command: French help pages."""

    formatter_class = FrenchHelpFormatter


class FoncierCommand(click.Command):
    """A foncier command: French help pages (see :class:`FrenchHelpFormatter`)."""

    context_class = FoncierContext


class LabelChoice(click.Choice):
    """A choice among codes, given by their French label or, for scripts, the code itself.

    The help lists the French labels; the command receives the code.  Case,
    accents and punctuation do not matter (see :func:`foncier.labels.code_of`).

    Parameters
    ----------
    labels
        Code → French label.
    """

    name = "choice"

    def __init__(self, labels: Mapping[str, str]) -> None:
        super().__init__(list(labels.values()))
        self.labels = dict(labels)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The code named by ``value`` (a code or its label); a usage error otherwise."""
        if value in self.labels:
            return value
        code = code_of(str(value), self.labels)
        if code is None:
            shown = ", ".join(f"« {label} »" for label in self.labels.values())
            self.fail(f"« {value} » n'est pas une valeur possible ({shown})", param, ctx)
        return code


#: Raised by click 8.2+ for a group invoked without a command.
_NO_ARGS_IS_HELP: type[click.UsageError] = getattr(
    click.exceptions, "NoArgsIsHelpError", type("_Never", (click.UsageError,), {})
)


class FoncierGroup(click.Group):
    """The ``foncier`` group: every error, usage errors included, as one French line.

    Its commands are :class:`FoncierCommand`: help pages in French.
    """

    context_class = FoncierContext
    command_class = FoncierCommand

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; see :class:`click.Group` (exit codes in the module doc)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # `foncier` alone: its help, not an error
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            _close_progress_bars()
            click.secho(f"Erreur : {usage_message(exc)}", fg="red", err=True)
            sys.exit(EXIT_USER)
        except click.ClickException as exc:
            _close_progress_bars()
            click.secho(f"Erreur : {_french(exc.format_message())}", fg="red", err=True)
            sys.exit(EXIT_USER)
        except click.Abort:
            _close_progress_bars()
            click.secho("Interrompu : les sorties précédentes sont intactes.", fg="red", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - every error ends as one line
            fail(exc)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(
    cls=FoncierGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Foncier industriel et ZAN : du terrain pour les projets industriels sous la loi ZAN.",
)
@click.version_option(
    __version__,
    prog_name="foncier",
    message="%(prog)s, version %(version)s",
    help="Affiche la version et quitte.",
)
def main() -> None:
    """Find land for industrial projects under the ZAN law (the ``foncier`` command)."""


def handle_errors(func: F) -> F:
    """Turn every error of a command into one French line (see the module doc), no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - every error ends as one line
            fail(exc)

    return wrapper  # type: ignore[return-value]


#: The ``--force`` option of the commands that write outputs.
force_option = click.option(
    "--force",
    is_flag=True,
    help=(
        "Écrit même dans un dossier qui contient autre chose : seuls les fichiers que foncier "
        "y a écrits sont remplacés, jamais les autres."
    ),
)


#: The TERRITORY argument: a territory folder (see :class:`foncier.territory.Territory`).
territory_argument = click.argument(
    "territory", metavar="TERRITOIRE", type=click.Path(file_okay=False, path_type=Path)
)


def load_territory(path: Path, *, supply_only: bool = False) -> Any:
    """Load a territory folder for a command (errors handled by :func:`handle_errors`).

    ``supply_only`` reads only the parcels the land supply needs
    (:func:`foncier.partitioned.read_supply_territory`).
    """
    if supply_only:
        from foncier.partitioned import read_supply_territory

        return read_supply_territory(path)
    from foncier.territory import Territory

    return Territory.from_folder(path)


# -- options shared by several commands ---------------------------------------------------
# Each is defined once here, with its choices taken from the library, so that a
# command spells an option the way the others do.  The choices come from
# :mod:`foncier.choices`, which imports nothing heavy: ``foncier --help`` loads
# neither pandas nor geopandas.

#: An existing file given as an option value.
EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def rules_option(func: F) -> F:
    """``--rules`` (parameter ``rules_name``): a built-in rule set name or a TOML/YAML file."""
    return click.option(
        "--rules",
        "rules_name",
        default=None,
        help=(
            f"Jeu de règles ZAN : le nom d'un jeu fourni avec foncier ou un fichier de règles "
            f"TOML/YAML (défaut : {DEFAULT_RULES})."
        ),
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
    if help is None:
        help = (
            "Niveau de mutualisation des budgets ZAN (défaut : celui du jeu de règles)."
            if default is None
            else "Niveau auquel les budgets ZAN sont tenus."
        )
    return click.option(
        "--pool",
        type=click.Choice(POOL_LEVELS),
        default=default,
        show_default=default is not None,
        help=help,
    )


def objective_option(func: F) -> F:
    """``--objective``: what the assignment maximises, one of the library's objectives.

    Given by its French label (« sobriété ») or its code (``min_enaf``); the
    command receives the code.
    """
    return click.option(
        "--objective",
        type=LabelChoice({code: OBJECTIVE_LABELS[code] for code in OBJECTIVES}),
        default=OBJECTIVE_LABELS[OBJECTIVES[0]],
        show_default=True,
        help="Ce que l'affectation maximise (les codes anglais des scripts sont aussi acceptés).",
    )(func)


def committed_option(func: F) -> F:
    """``--committed``: a CSV of projects already committed (:func:`foncier.zan.read_committed`)."""
    return click.option(
        "--committed",
        type=EXISTING_FILE,
        help="CSV des projets déjà engagés : insee, committed_ha [, label].",
    )(func)


def decisions_option(func: F) -> F:
    """``--decisions``: the working group's decisions (:func:`foncier.decisions.read_decisions`)."""
    return click.option(
        "--decisions",
        type=EXISTING_FILE,
        help="CSV des décisions du groupe de travail (project_id, unit_id, insee, decision, "
        "area_ha, enaf_ha ; decision « validée » ou « rejetée ») : les implantations validées "
        "sont engagées et leur surface retirée de leur unité foncière.",
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
        help="Format de sortie : table pour la lecture, csv ou json pour les scripts.",
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
    # no ``default=None`` given to click: it would count as a value and defeat ``required``
    extra: dict[str, Any] = {} if default is None else {"default": default, "show_default": True}
    return click.option("-o", "--output", dest, required=required, type=path, help=help, **extra)


def quiet_option(func: F) -> F:
    """``--quiet``: no progress bars."""
    return click.option("--quiet", is_flag=True, help="Sans barre de progression.")(func)
