from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from musicrec.cli import main
from musicrec.datasets import load_lastfm
from musicrec.engine.artifacts import ModelStore
from musicrec.services import training
from musicrec.services.model_loader import ModelLoader
from tests.factories import import_in_transaction, train_in_transaction, write_csv_pair

LISTENS = [
    (u, a, (u * 7 + a * 13) % 50 + 1) for u in range(1, 13) for a in range(1, 6) if (u + a) % 3
]


def _small_catalogue(db_engine: Engine, tmp_path: Path) -> None:
    artists = [(a, f"Artist {a}") for a in range(1, 6)]
    data = load_lastfm(write_csv_pair(tmp_path / "data", artists=artists, listens=LISTENS))
    import_in_transaction(db_engine, data, location="small")


def test_train_publishes_a_version_the_loader_serves(db_engine: Engine, tmp_path: Path) -> None:
    _small_catalogue(db_engine, tmp_path)
    models = tmp_path / "models"
    loader = ModelLoader(models)
    assert loader.current() is None

    report = train_in_transaction(db_engine, models, factors=4, iterations=3)

    assert ModelStore(models).versions() == [report.version]
    assert report.ratings == len(LISTENS)
    served = loader.current()
    assert served is not None and served.version == report.version


def test_a_newer_version_is_served_without_a_restart(db_engine: Engine, tmp_path: Path) -> None:
    _small_catalogue(db_engine, tmp_path)
    models = tmp_path / "models"
    loader = ModelLoader(models)
    first = train_in_transaction(db_engine, models, factors=4, iterations=3)
    assert loader.current().version == first.version  # type: ignore[union-attr]

    second = train_in_transaction(db_engine, models, "explicit", factors=2, iterations=2)

    assert loader.current().version == second.version  # type: ignore[union-attr]


def test_a_failed_training_leaves_the_current_model(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_catalogue(db_engine, tmp_path)
    models = tmp_path / "models"
    first = train_in_transaction(db_engine, models, factors=4, iterations=3)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise MemoryError("out of memory mid-training")

    monkeypatch.setattr(training.als, "train_arrays", broken)
    with pytest.raises(MemoryError):
        train_in_transaction(db_engine, models, factors=4, iterations=3)

    assert ModelStore(models).versions() == [first.version]
    assert ModelLoader(models).current().version == first.version  # type: ignore[union-attr]


def test_a_broken_newer_version_does_not_stop_serving(db_engine: Engine, tmp_path: Path) -> None:
    _small_catalogue(db_engine, tmp_path)
    models = tmp_path / "models"
    loader = ModelLoader(models)
    first = train_in_transaction(db_engine, models, factors=4, iterations=3)
    assert loader.current().version == first.version  # type: ignore[union-attr]
    broken = models / "29991231T235959Z-ffffffffffff"
    broken.mkdir()
    (broken / "meta.json").write_text("{not json")
    (broken / "arrays.npz").write_bytes(b"garbage")

    assert loader.current().version == first.version  # type: ignore[union-attr]


def test_training_with_no_ratings_says_so(db_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no ratings"):
        train_in_transaction(db_engine, tmp_path / "models")


def test_cli_train_and_models(settings_env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    data = write_csv_pair(
        tmp_path / "data", artists=[(a, f"A{a}") for a in range(1, 6)], listens=LISTENS
    )
    assert runner.invoke(main, ["setup", "--data", str(data)], env=settings_env).exit_code == 0

    trained = runner.invoke(
        main,
        ["train", "--kind", "explicit", "--factors", "3", "--iterations", "2"],
        env=settings_env,
    )
    listed = runner.invoke(main, ["models"], env=settings_env)
    bad = runner.invoke(main, ["train", "--kind", "explicit", "--alpha", "2"], env=settings_env)

    assert trained.exit_code == 0, trained.output
    assert "explicit ALS, 3 factors" in trained.output
    assert listed.output.count("\n") == 2  # setup's first model and this one
    assert listed.output.startswith("* ") and "explicit" in listed.output.splitlines()[0]
    assert bad.exit_code != 0 and "--alpha applies to --kind implicit only" in bad.output


def test_training_keeps_the_newest_versions_and_the_one_being_served(
    db_engine: Engine, tmp_path: Path
) -> None:
    _small_catalogue(db_engine, tmp_path)
    models = tmp_path / "models"
    loader = ModelLoader(models)
    served = train_in_transaction(db_engine, models, factors=2, iterations=1)
    assert loader.current().version == served.version  # type: ignore[union-attr]
    later = [
        train_in_transaction(db_engine, models, keep_versions=2, factors=2, iterations=1).version
        for _ in range(3)
    ]

    # The newest two, plus the version this process still serves (it has not asked again).
    assert ModelStore(models).versions() == [later[2], later[1], served.version]


def test_flags_override_the_tuned_base_settings() -> None:
    from musicrec.engine.als import settings_for

    base = settings_for("implicit", factors=40, alpha=0.5, confidence="log")
    chosen = training.settings_with_overrides("implicit", base, factors=8, alpha=None)
    assert (chosen.factors, chosen.alpha, chosen.confidence) == (8, 0.5, "log")
    assert training.settings_with_overrides("implicit", None, factors=8) == settings_for(
        "implicit", factors=8
    )
    with pytest.raises(ValueError):
        training.settings_with_overrides("explicit", base)
    with pytest.raises(ValueError):
        training.settings_with_overrides("implicit", base, nonsense=1)
