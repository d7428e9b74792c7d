"""Request bodies of the JSON API: strict types, unknown fields refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SignupBody(_Body):
    # The rules below are checked by the accounts service (with friendlier messages than a
    # pattern mismatch); they are declared here so the OpenAPI document states them.
    username: str = Field(
        max_length=200,
        json_schema_extra={"pattern": "^[A-Za-z0-9_.-]{3,32}$"},
        description="3 to 32 letters, digits, '.', '_' or '-'; unique whatever its case",
    )
    email: str = Field(max_length=320, json_schema_extra={"format": "email"})
    password: str = Field(
        max_length=4096,
        json_schema_extra={"minLength": 8},
        description="At least 8 characters; not the username, not a very common password",
    )


class TokenBody(_Body):
    username: str = Field(max_length=320, description="Username or email address")
    password: str = Field(max_length=4096)


class RatingBody(_Body):
    rating: int = Field(ge=1, le=10)


class NewArtistBody(_Body):
    name: str = Field(min_length=1, max_length=200)
