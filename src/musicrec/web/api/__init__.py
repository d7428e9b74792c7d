"""The JSON API, version 1: Bearer or cookie authentication, JSON errors, OpenAPI document."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from annotated_types import Ge, Le, MaxLen
from flask import Blueprint, Response, g, jsonify, request
from flask_wtf.csrf import CSRFError
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from musicrec.services.errors import (
    Conflict,
    FieldError,
    LimitReached,
    NoRatings,
    NotFound,
    Refused,
    UnknownReference,
)
from musicrec.web.api.error_answers import ApiError, error_response
from musicrec.web.security import csrf

api = Blueprint("api", __name__, url_prefix="/api/v1")
docs = Blueprint("api_docs", __name__, url_prefix="/api")
log = logging.getLogger("musicrec.api")

Body = TypeVar("Body", bound=BaseModel)
Query = TypeVar("Query", bound=BaseModel)
Bound = TypeVar("Bound", Ge, Le, MaxLen)
View = TypeVar("View", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Bearer calls need no CSRF token; cookie calls are checked in protect_cookie_calls below.
csrf.exempt(api)  # nosemgrep: security.csrf-exempt


# Calls that authenticate from their JSON body, whoever the cookie names: a cross-site page
# cannot send them (a JSON body needs a CORS preflight we never grant), so a browser that
# already holds a session cookie may log in again or sign up without a CSRF token.
CREDENTIAL_ENDPOINTS = frozenset({"api.token", "api.signup"})


@api.before_request
def protect_cookie_calls() -> None:
    """Bearer calls need no CSRF token; cookie-authenticated state changes do."""
    if request.endpoint in CREDENTIAL_ENDPOINTS:
        return
    if request.method not in SAFE_METHODS and g.get("auth_via") == "cookie":
        csrf.protect()


def require_user(view: View) -> View:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            log.info("denied anonymous %s %s", request.method, request.path)
            raise ApiError(401, "unauthorized", "Log in first: send a valid Bearer token.")
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def parse_body(model: type[Body]) -> Body:
    """The request's JSON body as ``model``; 400 naming the first bad field otherwise."""
    if not request.is_json:
        raise ApiError(400, "invalid_body", "Send a JSON body with Content-Type: application/json.")
    payload = request.get_json(silent=True)
    if payload is None:
        raise ApiError(400, "invalid_body", "The body is not valid JSON.")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = "Unknown field." if first["type"] == "extra_forbidden" else first["msg"]
        raise ApiError(400, "invalid_input", message, field) from None


def parse_query(model: type[Query]) -> Query:
    """The query string as ``model``, within the bounds it declares; 400 naming a bad parameter.

    Parameters are checked in the model's field order and the first bad one is reported; a
    parameter the model does not declare is refused too (the document allows no other).
    """
    unknown = sorted(set(request.args) - set(model.model_fields))
    if unknown:
        raise ApiError(400, "invalid_input", f"Unknown parameter {unknown[0]!r}.", unknown[0])
    values: dict[str, int | str] = {}
    for name, field in model.model_fields.items():
        raw = request.args.get(name)
        if raw is not None:
            read = _whole_number if field.annotation is int else _text
            values[name] = read(name, raw, field)
    try:
        return model.model_validate(values)
    except ValidationError as error:  # a rule the readers above do not check (a pattern)
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        description = model.model_fields[name].description if name in model.model_fields else None
        raise ApiError(
            400, "invalid_input", f"{name}: {description or first['msg']}.", name
        ) from None


def _whole_number(name: str, raw: str, field: FieldInfo) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_input", f"{name} must be a whole number.", name) from None
    low, high = cast(int, _bound(field, Ge).ge), cast(int, _bound(field, Le).le)
    if not low <= value <= high:
        raise ApiError(400, "invalid_input", f"{name} must be from {low} to {high}.", name)
    return value


def _text(name: str, raw: str, field: FieldInfo) -> str:
    value = raw.strip()
    longest = _bound(field, MaxLen).max_length
    if len(value) > longest:
        raise ApiError(400, "invalid_input", f"{name} must be at most {longest} characters.", name)
    return value


def _bound(field: FieldInfo, kind: type[Bound]) -> Bound:
    return next(rule for rule in field.metadata if isinstance(rule, kind))


@api.errorhandler(ApiError)
def api_error(error: ApiError) -> tuple[Response, int]:
    return error_response(error.status, error.code, error.message, error.field)


@api.errorhandler(FieldError)
def field_error(error: FieldError) -> tuple[Response, int]:
    if isinstance(error, Conflict):
        status, code = 409, "conflict"
    elif isinstance(error, Refused):
        status, code = 422, "refused"
    elif isinstance(error, UnknownReference):
        status, code = 404, "not_found"
    else:
        status, code = 400, "invalid_input"
    return error_response(status, code, error.message, error.field)


@api.errorhandler(LimitReached)
def limit_reached(error: LimitReached) -> tuple[Response, int]:
    return error_response(429, "too_many_requests", error.message)


@api.errorhandler(NotFound)
def not_found(error: NotFound) -> tuple[Response, int]:
    return error_response(404, "not_found", error.message)


@api.errorhandler(NoRatings)
def no_ratings(error: NoRatings) -> tuple[Response, int]:
    return error_response(409, "no_ratings", error.message)


@api.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> tuple[Response, int]:
    log.warning("denied %s %s: %s", request.method, request.path, error.description)
    return error_response(403, "csrf_failed", "Missing or invalid CSRF token (X-CSRFToken).")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def handle_http_error(error: HTTPException) -> tuple[Response, int]:
    code = (error.name or "error").lower().replace(" ", "_")
    status = error.code or 500
    if status == 429:
        response, status = error_response(
            429, "too_many_requests", "Too many attempts; try again later."
        )
    else:
        response, status = error_response(status, code, error.description or error.name)
    for name, value in error.get_headers():  # Allow on 405, Retry-After on 429 ...
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def database_error_status(error: DBAPIError) -> int:
    """400 for a value the database refused (a NUL byte in text...), 409 for a constraint a
    request broke, 503 only when the database cannot be reached or is busy."""
    if isinstance(error, DataError):
        return 400
    if isinstance(error, IntegrityError):
        return 409
    return 503


def handle_database_error(error: DBAPIError) -> tuple[Response, int]:
    status = database_error_status(error)
    if status == 400:
        log.warning("value refused by the database: %s", type(error.orig).__name__)
        return error_response(400, "invalid_input", "A value in the request cannot be stored.")
    if status == 409:
        log.warning("constraint refused the request: %s", type(error.orig).__name__)
        return error_response(409, "conflict", "The request conflicts with the stored data.")
    log.error("database unavailable: %s", type(error.orig).__name__)
    return error_response(503, "database_unavailable", "The database is unavailable; retry soon.")


def handle_unexpected(error: Exception) -> tuple[Response, int]:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "Something went wrong on our side.")


@docs.get("/openapi.json")
def openapi_document() -> Response:
    from musicrec.web.api.spec import document

    return jsonify(document())


from musicrec.web.api import (  # noqa: E402,F401  (registers the routes)
    job_routes,
    routes,
    spotify_routes,
    taste_routes,
)
