"""The ``musicrec`` command: thin wrappers over the services."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import Engine

from musicrec.config import Settings
from musicrec.datasets import DatasetError, ListeningData, load_lastfm
from musicrec.db import migrate
from musicrec.db.session import make_engine, transaction

DATA_HELP = (
    "Get the public Last.fm hetrec-2011 dataset (hetrec2011-lastfm-2k.zip, published by "
    "GroupLens at https://grouplens.org/datasets/hetrec-2011/) and point STARTER_DATA at the "
    "zip file or its unzipped folder, e.g. `make run STARTER_DATA=~/hetrec2011-lastfm-2k.zip`."
)


def _database(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


def _load_dataset(path: Path) -> ListeningData:
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
    with transaction(engine) as session:
        if if_new and importing.already_imported(session, importing.import_fingerprint(data)):
            click.echo(f"{path} was imported before: nothing to do.")
            return
        summary = importing.import_listening_data(
            session, data, location=str(path), progress=sys.stderr.isatty()
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
    from musicrec.services.training import has_model

    settings: Settings = context.obj
    if has_model(settings.model_dir):
        click.echo(f"A model is already published in {settings.model_dir}: not training again.")
    else:
        context.invoke(train)


@main.command()
@click.option(
    "--kind",
    type=click.Choice(["implicit", "explicit"]),
    default="implicit",
    show_default=True,
    help="ALS formulation.",
)
@click.option("--factors", type=click.IntRange(min=1), help="Latent factors (rank).")
@click.option("--iterations", type=click.IntRange(min=1), help="ALS sweeps.")
@click.option("--regularization", type=click.FloatRange(min=0), help="L2 regularisation.")
@click.option("--alpha", type=click.FloatRange(min=0), help="Confidence scale (implicit only).")
@click.pass_obj
def train(
    settings: Settings,
    kind: str,
    factors: int | None,
    iterations: int | None,
    regularization: float | None,
    alpha: float | None,
) -> None:
    """Train on every rating in the database and publish a new model version."""
    from musicrec.services.training import train_and_publish

    overrides = {"factors": factors, "iterations": iterations, "regularization": regularization}
    if alpha is not None:
        if kind != "implicit":
            raise click.UsageError("--alpha applies to --kind implicit only.")
        overrides["alpha"] = alpha
    try:
        with transaction(_database(settings)) as session:
            report = train_and_publish(
                session,
                settings.model_dir,
                kind,
                keep_versions=settings.keep_models,
                **overrides,
            )
    except ValueError as error:
        raise click.ClickException(f"{error} The current model stays in place.") from None
    click.echo(
        f"Published model {report.version} ({report.kind} ALS, {report.model_settings.factors} "
        f"factors) from {report.ratings} ratings of {report.users} users and {report.artists} "
        f"artists in {report.seconds:.1f} s."
    )


@main.command()
@click.pass_obj
def models(settings: Settings) -> None:
    """List the published model versions, newest (the one served) first."""
    from musicrec.engine.artifacts import ModelStore

    store = ModelStore(settings.model_dir)
    names = store.versions()
    if not names:
        click.echo(f"No model published in {settings.model_dir} yet: run `musicrec train`.")
        return
    for position, name in enumerate(names):
        meta = store.meta(name)
        marker = "*" if position == 0 else " "
        click.echo(
            f"{marker} {name}  {meta['kind']:<8} factors={meta['settings'].get('factors')}  "
            f"users={meta.get('n_users')} artists={meta.get('n_items')}  {meta['created_at']}"
        )


@main.command()
@click.option(
    "--dataset",
    "dataset",
    type=click.Path(path_type=Path),
    required=True,
    help="The CSV pair or the hetrec zip/folder.",
)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(dataset: Path, seed: int, as_json: bool) -> None:
    """Offline evaluation of the models on a dataset (the database is not touched)."""
    import json

    from musicrec.engine.evaluate import evaluate_dataset, format_report

    data = _load_dataset(dataset)
    result = evaluate_dataset(data, seed, dataset_name=str(dataset))  # type: ignore[arg-type]
    click.echo(json.dumps(result, indent=2) if as_json else format_report(result))


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option(
    "--restore",
    is_flag=True,
    help="Restore DEST, a backup made by this command, into the configured database instead "
    "(PostgreSQL: an empty database; SQLite: stop the server first).",
)
@click.pass_obj
def backup(settings: Settings, dest: Path, restore: bool) -> None:
    """Back up the database to DEST while it serves (SQLite: online backup; PostgreSQL:
    pg_dump, custom format), or with --restore load DEST back."""
    from musicrec.services.backup import BackupError, backup_database, restore_database

    engine = _database(settings)
    try:
        if restore:
            rows = restore_database(engine, dest)
            click.echo(f"Restored {dest}: {sum(rows.values())} rows in {len(rows)} tables.")
            return
        report = backup_database(engine, dest)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
    click.echo(
        f"Backed up {report.total_rows} rows in {len(report.rows)} tables to {report.path} "
        f"({report.kind})."
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Gunicorn workers (default: one per core).")
@click.option(
    "--worker-class",
    type=click.Choice(["gevent", "gthread", "sync"]),
    default="gevent",
    show_default=True,
    help="gunicorn worker class (gevent: slow clients cannot hold a worker).",
)
def serve(host: str, port: int, workers: int | None, worker_class: str) -> None:
    """Serve the web app under gunicorn."""
    from musicrec.web.server import serve as run_server

    run_server(host, port, workers, worker_class)
