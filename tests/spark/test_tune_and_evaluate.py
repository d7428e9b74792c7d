"""`musicrec tune --engine spark` and `musicrec evaluate --engine spark`: the same study and the
same JSON as the embedded engine, with each model trained on Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from musicrec.engine import tuning
from musicrec.engine.evaluate import evaluate_dataset
from musicrec.engine.tuning import trainer_for
from musicrec.engine.validation import split_listens
from tests.engine.test_evaluate import tiny_listening_data

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_a_study_tuned_on_spark_stores_finished_trials(spark: Any, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'tuning.sqlite3'}"
    split = split_listens(tiny_listening_data())
    name = tuning.study_name("spark", split.data_key)
    study = tuning.open_study(storage, name, resume=False)

    ran = tuning.run_study(study, split, trials=2, trainer=trainer_for("spark"))

    finished = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert ran == 2 and len(finished) == 2
    assert all(0.0 <= t.value <= 1.0 for t in finished)  # type: ignore[operator]
    assert tuning.best_settings(storage, name) is not None


def test_evaluate_on_spark_reports_the_same_shape(spark: Any) -> None:
    data = tiny_listening_data()
    on_spark = evaluate_dataset(data, (11,), trainer=trainer_for("spark"), protocols=("holdout",))
    embedded = evaluate_dataset(data, (11,), protocols=("holdout",))

    assert on_spark.keys() == embedded.keys()
    spark_models = on_spark["protocols"]["holdout"]
    assert spark_models.keys() == embedded["protocols"]["holdout"].keys()
    ndcg = spark_models["implicit-als"]["ndcg@10"]["mean"]
    assert np.isfinite(ndcg) and 0.0 <= ndcg <= 1.0
