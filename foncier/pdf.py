"""Print an HTML page to PDF with headless Chromium (Debian's ``chromium`` package).

Chromium is run as a subprocess, ``--headless --print-to-pdf``, with a
throw-away profile and every host name unresolvable (the page is printed as
on a closed network: a self-contained report needs nothing else).  The page's
CSS decides the paper (``@page``: A4, landscape pages where named); the
browser's own header and footer are off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from foncier.errors import OutputError

__all__ = ["CHROMIUM_ENV", "CHROMIUM_NAMES", "PRINT_TIMEOUT_S", "find_chromium", "print_to_pdf"]

#: Environment variable naming the browser to print with (a path or a command name).
CHROMIUM_ENV = "FONCIER_CHROMIUM"
#: Commands looked for on the ``PATH``, in order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: A page not printed within this many seconds is given up.
PRINT_TIMEOUT_S = 180.0
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--no-pdf-header-footer",
)


def find_chromium() -> Path:
    """The Chromium (or Chrome) to print with.

    ``$FONCIER_CHROMIUM`` when set, else the first of :data:`CHROMIUM_NAMES`
    found on the ``PATH``.

    Returns
    -------
    pathlib.Path
        The browser's executable.

    Raises
    ------
    OutputError
        No browser found, with how to install one.
    """
    given = os.environ.get(CHROMIUM_ENV)
    candidates = (given,) if given else CHROMIUM_NAMES
    for name in candidates:
        found = shutil.which(name)
        if found:
            return Path(found)
    where = (
        f"{CHROMIUM_ENV}={given} ne désigne aucun programme"
        if given
        else ("aucun navigateur Chromium trouvé (" + ", ".join(CHROMIUM_NAMES) + ")")
    )
    msg = (
        f"impossible d'écrire le PDF : {where}. Installez Chromium (Debian, Ubuntu : "
        "apt-get install chromium) ou indiquez son chemin dans la variable "
        f"{CHROMIUM_ENV} ; le rapport HTML, lui, est écrit et s'imprime depuis un navigateur"
    )
    raise OutputError(msg)


def print_to_pdf(page: str | Path, pdf: str | Path, chromium: str | Path) -> Path:
    """Print ``page`` to ``pdf`` with the headless ``chromium``.

    Parameters
    ----------
    page
        An HTML file.
    pdf
        The PDF file to write (a temporary path of the output policy).
    chromium
        The browser's executable (:func:`find_chromium`).

    Returns
    -------
    pathlib.Path
        ``pdf``.

    Raises
    ------
    OutputError
        Chromium failed, gave up after :data:`PRINT_TIMEOUT_S` seconds, or
        wrote no PDF.
    """
    source, target = Path(page).resolve(), Path(pdf).resolve()
    with tempfile.TemporaryDirectory(prefix="foncier-chromium-") as profile:
        command = [
            str(chromium),
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            msg = (
                f"Chromium n'a pas imprimé {source} en {PRINT_TIMEOUT_S:.0f} s : réessayez sur "
                "une machine moins chargée, ou imprimez le rapport HTML depuis un navigateur"
            )
            raise OutputError(msg) from exc
        except OSError as exc:
            msg = f"impossible de lancer Chromium ({chromium}) : {exc} ; vérifiez son installation"
            raise OutputError(msg) from exc
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        detail = lines[-1] if lines else f"code de sortie {done.returncode}"
        msg = (
            f"Chromium n'a pas écrit le PDF de {source} ({detail}) ; vérifiez son "
            "installation, ou imprimez le rapport HTML depuis un navigateur"
        )
        raise OutputError(msg)
    return target
