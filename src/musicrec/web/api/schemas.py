"""Requests of the JSON API: bodies (strict types, unknown fields refused) and query parameters."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import JsonDict

from musicrec.names import has_unprintable, unprintable_class
from musicrec.services import passwords
from musicrec.web import MAX_ROW_ID

MAX_PAGE = 50
# A row id in a URL (the app's ``id`` converter): ids outside this range name no row (404).
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


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
        max_length=passwords.MAX_LENGTH,
        json_schema_extra={"minLength": passwords.MIN_LENGTH},
        description=f"{passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters; refused with "
        "422 when it is a very common password or the username or email",
    )


def _visible_text(schema: JsonDict) -> None:
    """The document states what ``_printable`` and the catalogue refuse: any control, format,
    surrogate or private-use character."""
    schema["pattern"] = f"^[^{unprintable_class()}]*$"


def _visible_name(schema: JsonDict) -> None:
    """As ``_visible_text``, with at least one character that is not a space."""
    refused = unprintable_class()
    schema["pattern"] = f"^[^{refused}]*[^\\s{refused}][^{refused}]*$"


def _printable(value: object) -> object:
    """No account name holds a control or invisible character (and PostgreSQL cannot even
    store a NUL): refuse them as the field's error, before any query."""
    if isinstance(value, str) and has_unprintable(value):
        raise ValueError("Use visible characters only (no control characters).")
    return value


class TokenBody(_Body):
    username: Annotated[str, BeforeValidator(_printable)] = Field(
        max_length=320, description="Username or email address", json_schema_extra=_visible_text
    )
    password: str = Field(max_length=4096)


def _integral(value: object) -> object:
    """JSON Schema counts 9.0 as an integer: accept it as 9 (9.5 still fails as a non-integer)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _number(value: object) -> object:
    """Strict mode refuses the integer 1 for a float field: accept whole numbers as numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class RatingBody(_Body):
    rating: Annotated[int, BeforeValidator(_integral)] = Field(ge=1, le=10)


class SettingsBody(_Body):
    discovery: Annotated[float, BeforeValidator(_number)] = Field(
        ge=0, le=1, description="0 = familiar (popular artists), 1 = discover (less-played ones)"
    )


class NewArtistBody(_Body):
    name: str = Field(min_length=1, max_length=200, json_schema_extra=_visible_name)


class _ImportedRating(BaseModel):
    model_config = ConfigDict(extra="allow")  # an export's other columns are ignored

    artist_id: RowId
    rating: int = Field(ge=1, le=10)
    source: Any = Field(
        default=None,
        description="As exported; believed only with this account's valid signature of the row",
    )
    signature: Any = Field(
        default=None,
        description="The export's signature of the row: without it (or if the row was edited) "
        'a new rating gets the source "file" and never trains the shared model',
    )


class _ImportedDislike(BaseModel):
    model_config = ConfigDict(extra="allow")

    artist_id: RowId


class ImportBody(_Body):
    """An export's JSON (for the document: ``my_data.import_json`` reads the body itself).

    The file never decides whether a rating may train the shared model: see the route."""

    ratings: list[_ImportedRating] = Field(default_factory=list)
    dislikes: list[_ImportedDislike] = Field(default_factory=list)
    recommendations: Any = Field(default=None, description="Ignored")
    settings: Any = Field(default=None, description="Ignored")


class _Query(BaseModel):
    """Query parameters, read by ``parse_query`` with the bounds declared here."""


class SearchQuery(_Query):
    # Checked in this order: a bad limit is reported before a long q.
    limit: int = Field(default=10, ge=1, le=MAX_PAGE, description="How many artists at most")
    q: str = Field(
        default="",
        max_length=200,
        description="Search words; leading and trailing spaces are ignored",
    )


class RatingsQuery(_Query):
    page: int = Field(default=1, ge=1, le=1_000_000, description="Which page, from 1")
    per_page: int = Field(default=100, ge=1, le=100, description="How many ratings a page")
    sort: str = Field(
        default="date",
        max_length=6,
        description="date (newest first, the default), rating (highest first) or name",
        json_schema_extra={"enum": ["date", "rating", "name"]},
    )
    artist_ids: str = Field(
        default="",
        max_length=600,
        # the server's rule (routes._artist_ids) stated for clients and schemathesis alike
        pattern=rf"^([0-9]{{1,10}}(,[0-9]{{1,10}}){{0,{MAX_PAGE - 1}}})?$",
        description=f"Only my ratings of these artists: up to {MAX_PAGE} ids, separated by commas",
    )


class CountQuery(_Query):
    n: int = Field(default=10, ge=1, le=MAX_PAGE, description="How many artists at most")


class ExportQuery(_Query):
    format: str = Field(
        default="json",
        max_length=4,
        description="json (default) or csv",
        json_schema_extra={"enum": ["json", "csv"]},
    )
