"""The ``musicrec`` command: thin wrappers over the services."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import Engine

from musicrec.config import Settings
from musicrec.datasets import DatasetError, load_lastfm
from musicrec.db import migrate
from musicrec.db.session import make_engine

DATA_HELP = (
    "Get the public Last.fm hetrec-2011 dataset (hetrec2011-lastfm-2k.zip, published by "
    "GroupLens at https://grouplens.org/datasets/hetrec-2011/) and point STARTER_DATA at the "
    "zip file or its unzipped folder, e.g. `make run STARTER_DATA=~/hetrec2011-lastfm-2k.zip`."
)


def _database(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


def _load_dataset(path: Path) -> object:
    try:
        return load_lastfm(path)
    except DatasetError as error:
        raise click.ClickException(str(error)) from None


@click.group()
@click.pass_context
def main(context: click.Context) -> None:
    """musicrec: a music recommender."""
    context.obj = Settings.from_env()


@main.command("init-db")
@click.pass_obj
def init_db(settings: Settings) -> None:
    """Create or upgrade the database schema to the latest migration (safe to run again)."""
    migrate.upgrade(_database(settings))
    click.echo(f"Database is at migration {migrate.head_revision()}.")


@main.command("import-lastfm")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--if-new", is_flag=True, help="Skip the import when this data was imported before.")
@click.pass_obj
def import_lastfm(settings: Settings, path: Path, if_new: bool) -> None:
    """Import the Last.fm hetrec-2011 data (CSV pair, or the GroupLens zip or folder)."""
    from musicrec.services import importing

    engine = _database(settings)
    if not migrate.is_up_to_date(engine):
        raise click.ClickException("The database schema is not up to date: run `musicrec init-db`.")
    data = _load_dataset(path)
    if if_new and importing.already_imported(engine, importing.fingerprint(data)):
        click.echo(f"{path} was imported before: nothing to do.")
        return
    summary = importing.import_listening_data(
        engine, data, location=str(path), progress=sys.stderr.isatty()
    )
    click.echo(
        f"Imported {summary.users} users, {summary.artists} artists and {summary.ratings} ratings "
        f"({summary.source_rows} rows); new or changed: {summary.users_added} users, "
        f"{summary.artists_changed} artists, {summary.ratings_changed} ratings."
    )


@main.command()
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    envvar="STARTER_DATA",
    default="../shared/data/lastfm-2k",
    show_default=True,
    help="The starter data (also read from STARTER_DATA).",
)
@click.pass_context
def setup(context: click.Context, data_path: Path) -> None:
    """Prepare everything `make run` needs: schema, starter data, a first model."""
    if not data_path.exists():
        raise click.ClickException(f"No starter data at {data_path}. {DATA_HELP}")
    context.invoke(init_db)
    context.invoke(import_lastfm, path=data_path, if_new=True)
    click.echo("Skipping the first training: the recommender engine is not built yet.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Gunicorn workers (default: one per core).")
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the web app under gunicorn."""
    from musicrec.serving import serve as run_server

    run_server(host, port, workers)
