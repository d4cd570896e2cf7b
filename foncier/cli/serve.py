"""``foncier serve``: the FastAPI service over a territory folder, with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import click

from foncier.cli._main import handle_errors, main, territory_argument


@main.command(
    help="""Sert TERRITOIRE en HTTP (documentation OpenAPI sous /docs).

    La lecture est ouverte ; les écritures demandent le jeton de la variable
    d'environnement FONCIER_API_TOKEN, envoyé en « Authorization: Bearer <jeton> »."""
)
@territory_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port d'écoute.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=(
        "Dossier de la base du service et des résultats de scénarios [défaut : TERRITOIRE-state]."
    ),
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help=(
        "Processus serveurs (chacun charge le territoire ; sous Linux, chacun a sa socket "
        "d'écoute et le noyau leur répartit les connexions ; un par cœur)."
    ),
)
@click.option(
    "--allow-anonymous-writes",
    is_flag=True,
    help="Accepte les écritures sans FONCIER_API_TOKEN (usage local seulement).",
)
@handle_errors
def serve(
    territory: Path,
    host: str,
    port: int,
    state_dir: Path | None,
    workers: int,
    allow_anonymous_writes: bool,
) -> None:
    """Serve TERRITORY over HTTP (OpenAPI docs at /docs).

    Reading is open; writes need the token of the FONCIER_API_TOKEN environment
    variable, sent as 'Authorization: Bearer <token>'.
    """
    import uvicorn

    from api.app import create_app
    from api.context import load_territory_data
    from api.settings import Settings
    from api.workers import bind_sockets, check_port, serve_workers

    # the port is checked, and with workers bound, before the territory's long load
    if workers == 1:
        check_port(host, port)
    sockets = bind_sockets(host, port, workers) if workers > 1 else []
    try:
        if 0 < len(sockets) < workers:
            click.echo(
                f"SO_REUSEPORT indisponible sur ce système : les {workers} processus serveurs "
                "partagent une socket d'écoute (comme avec uvicorn --workers), les connexions "
                "peuvent s'y répartir inégalement.",
                err=True,
            )
        settings = Settings(territory=territory)
        if state_dir is not None:
            settings.state_dir = state_dir
        if allow_anonymous_writes:
            settings.allow_anonymous_writes = True
        click.echo(f"Chargement du territoire {territory} et calcul de l'offre foncière…")
        load_territory_data(settings)
        if settings.api_token is None and not settings.allow_anonymous_writes:
            click.echo(
                "Écritures désactivées : définissez FONCIER_API_TOKEN "
                "(ou --allow-anonymous-writes en local).",
                err=True,
            )
        click.echo(f"Service sur http://{host}:{port} (documentation : /docs)")
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port)
            return
        # worker processes import api.app:app, which reads its settings from the environment
        os.environ["FONCIER_TERRITORY"] = str(settings.territory)
        os.environ["FONCIER_STATE_DIR"] = str(settings.resolved_state_dir)
        os.environ["FONCIER_ALLOW_ANONYMOUS_WRITES"] = str(settings.allow_anonymous_writes).lower()
        serve_workers(sockets, workers, click.echo)
    finally:
        for sock in sockets:
            sock.close()
