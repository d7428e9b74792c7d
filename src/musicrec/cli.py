"""The ``musicrec`` command: thin wrappers over the services."""

from __future__ import annotations

import os
import signal
import subprocess  # nosec B404: `musicrec run` starts its own two commands, no shell
import sys
import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from musicrec.config import ConfigurationError, Settings, bound_origin
from musicrec.datasets import DatasetError, ListeningData, load_lastfm
from musicrec.db import migrate
from musicrec.db.session import make_engine, read_transaction, transaction

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
@click.option(
    "--storage",
    help="The tuning study's database URL (default: tuning.sqlite3 in the instance folder); "
    "its best parameters are used for what no flag sets.",
)
@click.option(
    "--engine",
    type=click.Choice(["embedded", "spark"]),
    default="embedded",
    show_default=True,
    help="Who trains: this process, or Apache Spark (needs the spark extra).",
)
@click.option(
    "--spark-master",
    help="Spark master URL, e.g. spark://HOST:7077 (default: spark-submit's, else local[*]).",
)
@click.option(
    "--spark-checkpoint-dir",
    type=click.Path(path_type=Path),
    help="Spark's checkpoint folder; on a cluster, storage every worker sees "
    "[default: <instance>/spark-checkpoints].",
)
@click.pass_obj
def train(
    settings: Settings,
    kind: str,
    factors: int | None,
    iterations: int | None,
    regularization: float | None,
    alpha: float | None,
    storage: str | None,
    engine: str,
    spark_master: str | None,
    spark_checkpoint_dir: Path | None,
) -> None:
    """Train on every rating in the database and publish a new model version.

    Implicit ALS starts from the best parameters of `musicrec tune` when a study exists,
    else from the defaults; flags override either (as the worker's training jobs do)."""
    from musicrec.services.training import SparkTarget, train_and_publish
    from musicrec.services.training_settings import InvalidTrainingSettings, plan_training

    overrides: dict[str, Any] = {
        "factors": factors,
        "iterations": iterations,
        "regularization": regularization,
    }
    if alpha is not None:
        if kind != "implicit":
            raise click.UsageError("--alpha applies to --kind implicit only.")
        overrides["alpha"] = alpha
    try:
        plan = plan_training(settings.instance_dir, kind, overrides, storage)
    except InvalidTrainingSettings as error:
        raise click.UsageError(str(error)) from None
    if plan.tuned_from is not None:
        source = plan.tuned_from
        click.echo(
            f"Using the tuned parameters of study {source['study']} (trial {source['trial']}, "
            f"validation ndcg@10 {source['ndcg@10']:.4f}) where no flag sets them."
        )
    spark = None
    if engine == "spark":
        from musicrec.engine.spark_als import INSTALL_HINT, spark_available

        if not spark_available():
            raise click.ClickException(INSTALL_HINT)
        # The JVM must bind to an address that exists; a cluster driver sets its own.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        spark = SparkTarget(
            spark_master, spark_checkpoint_dir or settings.instance_dir / "spark-checkpoints"
        )
    elif spark_master or spark_checkpoint_dir:
        raise click.UsageError("--spark-master and --spark-checkpoint-dir need --engine spark.")
    try:
        report = train_and_publish(
            _database(settings),
            settings.model_dir,
            kind,
            keep_versions=settings.keep_models,
            base=plan.base,
            engine=engine,
            spark=spark,
            model_store=settings.model_store,
            **plan.overrides,
        )
    except ValueError as error:
        raise click.ClickException(f"{error} The current model stays in place.") from None
    click.echo(
        f"Published model {report.version} ({report.kind} ALS, {report.model_settings.factors} "
        f"factors) from {report.ratings} ratings of {report.users} users and {report.artists} "
        f"artists in {report.seconds:.1f} s."
    )


@main.command("export-ratings")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def export_ratings(settings: Settings, path: Path) -> None:
    """Write every rating to a Parquet snapshot at PATH (user_id, artist_id, rating)."""
    from musicrec.services.exporting import ExportUnavailable
    from musicrec.services.exporting import export_ratings as write_snapshot

    try:
        with transaction(_database(settings)) as session:
            report = write_snapshot(session, path)
    except ExportUnavailable as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {report.ratings} ratings to {report.path}.")


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


# The dataset an offline evaluation reads (the database is not touched).
dataset_option = click.option(
    "--dataset",
    "dataset",
    type=click.Path(path_type=Path),
    required=True,
    help="The CSV pair or the hetrec zip/folder.",
)


@main.command()
@dataset_option
@click.option(
    "--seeds",
    default=None,
    help="Comma-separated split seeds (default: the five report seeds, never used to choose "
    "a setting).",
)
@click.option(
    "--storage",
    help="Evaluate implicit ALS with the best parameters of the study tuned on this dataset's "
    "selection group (`musicrec tune --dataset`) in this database URL instead of the defaults.",
)
@click.option(
    "--curve",
    is_flag=True,
    help="Also the curve of how many ratings a new user needs (report group, report seeds).",
)
@click.option(
    "--engine",
    type=click.Choice(["embedded", "spark"]),
    default="embedded",
    show_default=True,
    help="Who trains the ALS models (spark: one local Spark session, or --spark-master).",
)
@click.option("--spark-master", help="Spark master URL for --engine spark.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def evaluate(
    settings: Settings,
    dataset: Path,
    seeds: str | None,
    storage: str | None,
    engine: str,
    spark_master: str | None,
    curve: bool,
    as_json: bool,
) -> None:
    """Offline evaluation of the models on a dataset (the database is not touched): each
    metric's mean, spread and per-seed values over the report seeds, on the report group of
    users only (the selection group chose the settings)."""
    import json

    from musicrec.engine import tuning
    from musicrec.engine.als import settings_for
    from musicrec.engine.evaluate import evaluate_dataset, format_report
    from musicrec.engine.validation import REPORT_SEEDS, split_listens

    try:
        chosen = tuple(int(s) for s in seeds.split(",")) if seeds else REPORT_SEEDS
    except ValueError:
        raise click.BadParameter("seeds must be integers separated by commas") from None
    try:
        trainer = tuning.trainer_for(engine, spark_master)
    except tuning.EngineUnavailable as error:
        raise click.ClickException(str(error)) from None
    data = _load_dataset(dataset)
    model_settings = {kind: settings_for(kind) for kind in ("implicit", "explicit")}
    if storage is not None:
        name = tuning.study_name(engine, split_listens(data).data_key)
        tuned = tuning.best_settings(storage, name)
        if tuned is None:
            raise click.ClickException(
                f"No finished study {name} (tuned on this dataset's selection group) in "
                f"{storage}: run `musicrec tune --dataset {dataset} --storage {storage}`."
            )
        model_settings["implicit"] = tuned[0]
    result = evaluate_dataset(
        data, chosen, settings=model_settings, trainer=trainer, with_curve=curve
    )
    click.echo(json.dumps(result, indent=2) if as_json else format_report(result))


@main.command("evaluate-taste")
@dataset_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_taste_command(dataset: Path, as_json: bool) -> None:
    """Offline evaluation of the taste controls (discovery setting, "not for me"): chosen on
    one half of the listeners, reported on the other (the database is not touched)."""
    import json

    from musicrec.engine.evaluate_taste import evaluate_taste, format_taste_report

    result = evaluate_taste(_load_dataset(dataset))
    click.echo(json.dumps(result, indent=2) if as_json else format_taste_report(result))


@main.command("evaluate-similar")
@dataset_option
@click.option("--seeds", default="11,12,13", show_default=True, help="Training seeds.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_similar(dataset: Path, seeds: str, as_json: bool) -> None:
    """How well similar-artist lists match held-out listeners' co-listening, plain cosine
    against the shrinkage chosen on a separate group of users (docs/evaluation.md)."""
    import json

    from musicrec.engine.neighbour_eval import evaluate_similar as run
    from musicrec.engine.neighbour_eval import format_similar_report

    try:
        chosen = tuple(int(s) for s in seeds.split(","))
    except ValueError:
        raise click.BadParameter("seeds must be integers separated by commas") from None
    result = run(_load_dataset(dataset), chosen)
    click.echo(json.dumps(result, indent=2) if as_json else format_similar_report(result))


@main.command("confirm-artists")
@click.argument("artist_ids", nargs=-1, type=int)
@click.option("--all", "confirm_all", is_flag=True, help="Confirm every pending addition.")
@click.pass_obj
def confirm_artists(settings: Settings, artist_ids: tuple[int, ...], confirm_all: bool) -> None:
    """List the artists users added (without IDs), or confirm them for everyone."""
    from musicrec.services import catalogue

    with transaction(_database(settings)) as session:
        pending = catalogue.pending_additions(session)
        if not artist_ids and not confirm_all:
            for view, added_by in pending:
                click.echo(f"{view.id}\t{view.name}\tadded by user {added_by}")
            click.echo(f"{len(pending)} artists wait for confirmation.")
            return
        ids = [view.id for view, _ in pending] if confirm_all else list(artist_ids)
        changed = catalogue.confirm_additions(session, ids)
    click.echo(f"Confirmed {changed} artists.")


@main.command()
@click.option(
    "--engine",
    type=click.Choice(["embedded", "spark"]),
    default="embedded",
    show_default=True,
    help="The training engine to tune.",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Completed trials the study should have (a resumed study runs the rest).",
)
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop after this many seconds.")
@click.option(
    "--resume", is_flag=True, help="Continue the stored study of this engine on the same data."
)
@click.option(
    "--dataset",
    type=click.Path(path_type=Path),
    help="Tune on a Last.fm folder (CSV pair or hetrec) instead of the app's database.",
)
@click.option(
    "--storage",
    help="The study's database URL (default: sqlite:///<instance>/tuning.sqlite3; a "
    "postgresql:// URL works too).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write an HTML page of the study (metric by trial, parameter importances) here.",
)
@click.pass_obj
def tune(
    settings: Settings,
    engine: str,
    trials: int,
    timeout: float | None,
    resume: bool,
    dataset: Path | None,
    storage: str | None,
    report_dir: Path | None,
) -> None:
    """Tune implicit ALS on a validation split with Optuna; every finished trial is stored.

    One study per engine and data: on a dataset, only its selection group of users is read
    (never a reported user); other data starts another study."""
    from musicrec.engine import tuning

    try:
        trainer = tuning.trainer_for(engine)
    except tuning.EngineUnavailable as error:
        raise click.ClickException(str(error)) from None
    if dataset is not None:
        from musicrec.engine.validation import split_listens

        split = split_listens(_load_dataset(dataset))
    else:
        from musicrec.services.hyperparameters import database_split

        engine_db = _database(settings)
        if not migrate.is_up_to_date(engine_db):
            raise click.ClickException(
                "The database schema is not up to date: run `musicrec init-db`."
            )
        try:
            with read_transaction(engine_db) as session:
                split = database_split(session)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    if storage is None:
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
        storage = tuning.default_storage(settings.instance_dir)
    name = tuning.study_name(engine, split.data_key)
    try:
        study = tuning.open_study(storage, name, resume=resume)
    except tuning.StudyExists as error:
        raise click.ClickException(str(error)) from None
    done_before = tuning.completed_trials(study)
    ran = tuning.run_study(
        study,
        split,
        trials=trials,
        timeout=timeout,
        trainer=trainer,
        progress=sys.stderr.isatty(),
    )
    click.echo(
        f"Study {name} in {storage}: ran {ran} trials; {tuning.completed_trials(study)} "
        f"completed in all ({done_before} before this run)."
    )
    if tuning.completed_trials(study):
        best = study.best_trial
        click.echo(
            f"Best: trial {best.number}, validation ndcg@10 {best.value:.4f}, {best.params}. "
            "`musicrec train` uses it."
        )
    if report_dir is not None:
        click.echo(f"Report: {tuning.write_report(study, report_dir)}")


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
@click.pass_obj
def serve(settings: Settings, host: str, port: int, workers: int | None, worker_class: str) -> None:
    """Serve the web app under gunicorn."""
    from musicrec.web.server import serve as run_server

    try:
        settings.check()  # refuse here, before gunicorn starts workers that would each refuse
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None
    if not settings.public_url and not settings.is_production:
        # Development: links in mail point at the address served here (production refuses to
        # start without MUSICREC_PUBLIC_URL; a request's Host header is never used).
        os.environ["MUSICREC_PUBLIC_URL"] = bound_origin(host, port)
    run_server(host, port, workers, worker_class)


@main.command()
@click.option(
    "--poll-seconds",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Longest wait between two looks at an idle SQLite queue (Redis pushes at once).",
)
@click.pass_obj
def worker(settings: Settings, poll_seconds: float) -> None:
    """Run background jobs (trainings, tuning runs, imports) and scheduled retraining."""
    import logging

    from musicrec.services.queue import JobQueue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not migrate.is_up_to_date(_database(settings)):
        raise click.ClickException("The database schema is not up to date: run `musicrec init-db`.")
    JobQueue(settings).run_worker(poll_seconds)


@main.command("create-admin")
@click.argument("username")
@click.pass_obj
def create_admin(settings: Settings, username: str) -> None:
    """Give the existing account USERNAME the admin role (the operator's page at /admin)."""
    from musicrec.services.accounts import make_admin
    from musicrec.services.errors import NotFound

    try:
        with transaction(_database(settings)) as session:
            user = make_admin(session, username)
    except NotFound as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{user.username} is an admin: the operator's page is at /admin.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Gunicorn workers (default: one per core).")
def run(host: str, port: int, workers: int | None) -> None:
    """Serve the web app and run the job worker beside it; stopping one stops both."""
    serve_args = ["serve", "--host", host, "--port", str(port)]
    if workers is not None:
        serve_args += ["--workers", str(workers)]
    children = [
        subprocess.Popen([sys.executable, "-m", "musicrec", *args])  # nosec B603: fixed argv
        for args in (["worker"], serve_args)
    ]

    def stop(_signum: int = 0, _frame: object = None) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=40)
            except subprocess.TimeoutExpired:
                child.kill()
    code = max(child.returncode or 0 for child in children)
    if code:
        sys.exit(code)
