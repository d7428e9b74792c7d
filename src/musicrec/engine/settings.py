"""The settings of each ALS formulation: typed, validated, with the defaults the app trains with.

The defaults were chosen by the offline evaluation (docs/evaluation.md), not by habit. Model
versions store their settings as JSON (:func:`settings_to_json`); :func:`settings_from_json`
also reads the ``params`` dicts of versions published before these classes existed.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

CONFIDENCE_WEIGHTINGS = ("bm25", "linear", "log")


def _normalise_types(settings: object) -> None:
    """Check each field against its declared type; integers given for floats become floats
    (so the settings compare and serialise the same however they were written)."""
    for field in dataclasses.fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, field.name)
        if field.type == "bool":
            ok = isinstance(value, bool)
        elif field.type == "str":
            ok = isinstance(value, str)
        else:
            wanted = numbers.Integral if field.type == "int" else numbers.Real
            ok = isinstance(value, wanted) and not isinstance(value, bool)
            if ok:
                value = int(value) if field.type == "int" else float(value)
                object.__setattr__(settings, field.name, value)
        if not ok:
            raise TypeError(f"{field.name} must be {field.type}, not {value!r}")


def _check_common(factors: int, iterations: int, regularization: float) -> None:
    if factors < 1 or iterations < 1:
        raise ValueError("factors and iterations must be at least 1")
    if regularization < 0:
        raise ValueError("regularization must be >= 0")


@dataclass(frozen=True)
class ImplicitSettings:
    """Implicit-feedback ALS (``implicit_als``): confidence c = alpha * weighting(rating)."""

    kind: ClassVar[str] = "implicit"

    factors: int = 48
    iterations: int = 15
    regularization: float = 1.0
    alpha: float = 0.2
    confidence: str = "bm25"  # one of CONFIDENCE_WEIGHTINGS
    bm25_k1: float = 100.0
    bm25_b: float = 0.8
    seed: int = 42  # the random seed of the initial factors
    threads: int = 0  # implicit's worker threads; 0 = one per core

    def __post_init__(self) -> None:
        _normalise_types(self)
        _check_common(self.factors, self.iterations, self.regularization)
        if self.confidence not in CONFIDENCE_WEIGHTINGS:
            raise ValueError(f"confidence must be one of {CONFIDENCE_WEIGHTINGS}")
        if self.alpha < 0:
            raise ValueError("alpha must be >= 0")
        if self.bm25_k1 < 0 or not 0 <= self.bm25_b <= 1:
            raise ValueError("bm25_k1 must be >= 0 and bm25_b within 0..1")
        if self.threads < 0:
            raise ValueError("threads must be >= 0 (0 = one per core)")


@dataclass(frozen=True)
class ExplicitSettings:
    """Explicit ALS with biases (``explicit_als``); ``rating_calibration`` turns on its
    rating-scale layer."""

    kind: ClassVar[str] = "explicit"

    factors: int = 16
    iterations: int = 15
    regularization: float = 2.0
    user_bias_regularization: float = 10.0
    item_bias_regularization: float = 25.0
    rating_calibration: bool = True
    seed: int = 42  # the random seed of the initial factors and of the layer's held-out part

    def __post_init__(self) -> None:
        _normalise_types(self)
        _check_common(self.factors, self.iterations, self.regularization)
        if self.user_bias_regularization < 0 or self.item_bias_regularization < 0:
            raise ValueError("bias regularization must be >= 0")


ModelSettings: TypeAlias = ImplicitSettings | ExplicitSettings
SETTINGS_CLASSES: dict[str, type[ModelSettings]] = {
    ImplicitSettings.kind: ImplicitSettings,
    ExplicitSettings.kind: ExplicitSettings,
}
KINDS = tuple(SETTINGS_CLASSES)
# Fields added after versions were published: the value those versions were trained with.
LEGACY_VALUES: dict[str, dict[str, Any]] = {"explicit": {"rating_calibration": False}}


def settings_class(kind: str) -> type[ModelSettings]:
    """The settings class of a model kind (ValueError for an unknown kind)."""
    if kind not in SETTINGS_CLASSES:
        raise ValueError(f"unknown model kind {kind!r}; use one of {KINDS}")
    return SETTINGS_CLASSES[kind]


def field_names(cls: type[ModelSettings]) -> set[str]:
    return {field.name for field in dataclasses.fields(cls)}


def settings_to_json(settings: ModelSettings) -> dict[str, Any]:
    """The settings as a JSON-ready dict, ``kind`` included."""
    return {"kind": settings.kind, **dataclasses.asdict(settings)}


def settings_from_json(data: Mapping[str, Any]) -> ModelSettings:
    """Rebuild settings from :func:`settings_to_json` output or an older version's ``params``."""
    values = dict(data)
    cls = settings_class(values.pop("kind"))
    missing = field_names(cls) - set(values)
    values.update({k: v for k, v in LEGACY_VALUES.get(cls.kind, {}).items() if k in missing})
    unknown = set(values) - field_names(cls)
    if unknown:
        raise ValueError(f"unknown setting(s) for {cls.kind} ALS: {', '.join(sorted(unknown))}")
    return cls(**values)
