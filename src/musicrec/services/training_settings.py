"""Which settings a training uses, the same for ``musicrec train`` and the worker's training
job: the values asked for explicitly, else the tuning study's best (implicit ALS, when a study
exists), else the kind's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musicrec.engine.settings import ModelSettings
from musicrec.services.errors import ServiceError
from musicrec.services.hyperparameters import tuned_settings
from musicrec.services.training import settings_with_overrides


class InvalidTrainingSettings(ServiceError):
    """A setting asked for is unknown or out of range (the message names it)."""


@dataclass(frozen=True)
class TrainingPlan:
    """What ``train_and_publish`` is given: ``base`` (the study's best, None: the defaults)
    and the explicit ``overrides``; ``settings`` is what they resolve to."""

    kind: str
    base: ModelSettings | None
    overrides: dict[str, Any]
    settings: ModelSettings
    tuned_from: dict[str, Any] | None  # study, trial and its validation value, when tuned


def plan_training(
    instance_dir: Path, kind: str, overrides: dict[str, Any], storage: str | None = None
) -> TrainingPlan:
    """Resolve the settings of a training of ``kind``: ``overrides`` (None values ignored) over
    the best settings of the embedded engine's study in ``storage`` (default: the instance
    folder's) for implicit ALS, over the defaults. Raises InvalidTrainingSettings."""
    explicit = {name: value for name, value in overrides.items() if value is not None}
    tuned = tuned_settings(instance_dir, storage) if kind == "implicit" else None
    base = tuned[0] if tuned is not None else None
    try:
        settings = settings_with_overrides(kind, base, **explicit)
    except (ValueError, TypeError) as error:  # the settings classes' own checks, worded for us
        raise InvalidTrainingSettings(str(error)) from None
    return TrainingPlan(kind, base, explicit, settings, tuned[1] if tuned is not None else None)
