"""Request bodies of the JSON API: strict types, unknown fields refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SignupBody(_Body):
    username: str = Field(max_length=200)
    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)


class TokenBody(_Body):
    username: str = Field(max_length=320, description="Username or email address")
    password: str = Field(max_length=4096)


class RatingBody(_Body):
    rating: int = Field(ge=1, le=10)


class NewArtistBody(_Body):
    name: str = Field(min_length=1, max_length=200)
