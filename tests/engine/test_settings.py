"""Typed model settings (the classes and the factory's ``settings_for``): defaults, overrides,
validation, JSON and older versions' params."""

from __future__ import annotations

import dataclasses
import json

import pytest

from musicrec.engine.als import DEFAULT_KIND, settings_for
from musicrec.engine.settings import (
    CONFIDENCE_WEIGHTINGS,
    ExplicitSettings,
    ImplicitSettings,
    settings_from_json,
    settings_to_json,
)

# meta.json "params" as versions published before the settings classes wrote them.
OLD_IMPLICIT_PARAMS = {
    "kind": "implicit",
    "factors": 48,
    "iterations": 15,
    "regularization": 1.0,
    "alpha": 0.2,
    "confidence": "bm25",
    "bm25_k1": 100.0,
    "bm25_b": 0.8,
    "seed": 42,
    "threads": 0,
}
OLD_EXPLICIT_PARAMS = {  # from before the rating-scale layer existed
    "kind": "explicit",
    "factors": 16,
    "iterations": 15,
    "regularization": 2.0,
    "user_bias_regularization": 10.0,
    "item_bias_regularization": 25.0,
    "seed": 42,
}


def test_settings_for_applies_overrides_and_ignores_none() -> None:
    assert settings_for() == ImplicitSettings() and DEFAULT_KIND == "implicit"
    settings = settings_for("explicit", factors=8, regularization=None)
    assert settings == ExplicitSettings(factors=8)
    assert settings.regularization == ExplicitSettings().regularization


def test_settings_for_rejects_unknown_kinds_and_names() -> None:
    with pytest.raises(ValueError, match="unknown model kind"):
        settings_for("spark")
    with pytest.raises(ValueError, match="nonsense"):
        settings_for("implicit", nonsense=1)
    with pytest.raises(ValueError, match="alpha"):
        settings_for("explicit", alpha=1.0)  # an implicit-only setting


@pytest.mark.parametrize(
    "kind, overrides",
    [
        ("implicit", {"factors": 0}),
        ("explicit", {"iterations": 0}),
        ("implicit", {"regularization": -0.1}),
        ("implicit", {"confidence": "sqrt"}),
        ("implicit", {"alpha": -1.0}),
        ("implicit", {"bm25_b": 1.5}),
        ("implicit", {"threads": -1}),
        ("explicit", {"item_bias_regularization": -1.0}),
    ],
)
def test_out_of_range_settings_are_rejected(kind: str, overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        settings_for(kind, **overrides)


def test_field_types_are_checked_and_integers_become_floats() -> None:
    settings = ImplicitSettings(regularization=5, alpha=1)
    assert isinstance(settings.regularization, float) and isinstance(settings.alpha, float)
    assert settings == ImplicitSettings(regularization=5.0, alpha=1.0)
    for wrong in ({"factors": 4.5}, {"confidence": 3}, {"seed": True}):
        with pytest.raises(TypeError):
            settings_for("implicit", **wrong)
    with pytest.raises(TypeError):
        settings_for("explicit", rating_calibration="yes")


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ImplicitSettings().factors = 3  # type: ignore[misc]


@pytest.mark.parametrize("settings", [ImplicitSettings(alpha=0.4), ExplicitSettings(factors=4)])
def test_json_round_trip(settings: ImplicitSettings | ExplicitSettings) -> None:
    data = json.loads(json.dumps(settings_to_json(settings)))
    assert data["kind"] == settings.kind
    assert settings_from_json(data) == settings


def test_old_params_dicts_load() -> None:
    assert settings_from_json(OLD_IMPLICIT_PARAMS) == ImplicitSettings()
    # Versions from before the layer existed were trained without it.
    assert settings_from_json(OLD_EXPLICIT_PARAMS) == ExplicitSettings(rating_calibration=False)
    with_layer = {**OLD_EXPLICIT_PARAMS, "rating_calibration": True}
    assert settings_from_json(with_layer) == ExplicitSettings()


def test_json_with_unknown_names_or_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="bias_regularization"):
        settings_from_json({**OLD_EXPLICIT_PARAMS, "bias_regularization": 5.0})
    with pytest.raises(ValueError, match="unknown model kind"):
        settings_from_json({**OLD_IMPLICIT_PARAMS, "kind": "spark"})


def test_every_confidence_weighting_is_accepted() -> None:
    for weighting in CONFIDENCE_WEIGHTINGS:
        assert settings_for("implicit", confidence=weighting).confidence == weighting
