"""The OpenAPI 3 description of API version 1, served at /api/openapi.json.

Request bodies are generated from the same pydantic models that validate them, so the document
cannot drift from what the server accepts.
"""

from __future__ import annotations

from typing import Any

from musicrec.web.api.schemas import NewArtistBody, RatingBody, SignupBody, TokenBody

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": _ref(name)}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


ERROR_TEXTS = {
    400: "Bad input; `field` names the offending field",
    401: "Not logged in, or the token was refused",
    403: "Missing or invalid CSRF token on a cookie-authenticated call",
    404: "Not found",
    409: "The username or email is taken",
    429: "Too many attempts",
    500: "Unexpected server error (never with details)",
    503: "The database is unavailable",
}

SECURED = [{"bearer": []}, {"cookie": []}]
ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}


def _artist_id_param() -> dict[str, Any]:
    return {"name": "artist_id", "in": "path", "required": True, "schema": ID}


def _int_query(name: str, low: int, high: int, default: int) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": low, "maximum": high, "default": default}
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _schemas() -> dict[str, Any]:
    artist = {
        "type": "object",
        "required": ["id", "name", "lastfm_url"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "lastfm_url": {"type": ["string", "null"]},
        },
    }
    artist_ref = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
    rating = {
        "type": "object",
        "required": ["artist", "rating", "source", "updated_at"],
        "properties": {
            "artist": _ref("Artist"),
            "rating": {"type": "integer", "minimum": 1, "maximum": 10},
            "source": {"type": "string", "enum": ["manual", "spotify", "lastfm"]},
            "updated_at": {"type": "string", "format": "date-time"},
            "rated_count": {"type": "integer"},
        },
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
            }
        },
    }
    schemas: dict[str, Any] = {
        "Artist": artist,
        "ArtistRef": artist_ref,
        "Rating": rating,
        "Error": error,
        "ArtistList": {
            "type": "object",
            "required": ["artists"],
            "properties": {"artists": {"type": "array", "items": _ref("Artist")}},
        },
        "Recommendation": {
            "type": "object",
            "required": ["artist", "score", "because"],
            "properties": {
                "artist": _ref("Artist"),
                "score": {"type": "number"},
                "because": {"type": "array", "items": _ref("ArtistRef")},
            },
        },
        "PastRecommendation": {
            "type": "object",
            "required": ["artist", "score", "model_version", "created_at", "because"],
            "properties": {
                "artist": _ref("Artist"),
                "score": {"type": "number"},
                "model_version": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "because": {"type": "array", "items": _ref("ArtistRef")},
            },
        },
    }
    for model in (SignupBody, TokenBody, RatingBody, NewArtistBody):
        schema = model.model_json_schema()
        schema["additionalProperties"] = False
        schemas[model.__name__] = schema
    return schemas


def _error_responses(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in (*statuses, 500)}


def _paths() -> dict[str, Any]:
    token_response = _json(
        "A session token (JWT) for the Authorization: Bearer header",
        {
            "type": "object",
            "required": ["token", "expires_at"],
            "properties": {
                "token": {"type": "string"},
                "expires_at": {"type": "string", "format": "date-time"},
            },
        },
    )
    user_schema = {
        "type": "object",
        "required": ["id", "username"],
        "properties": {"id": {"type": "integer"}, "username": {"type": "string"}},
    }
    return {
        "/api/v1/auth/signup": {
            "post": {
                "summary": "Create an account and get a token",
                "requestBody": _body("SignupBody"),
                "responses": {
                    "201": _json(
                        "Created",
                        {
                            "type": "object",
                            "required": ["user", "token"],
                            "properties": {"user": user_schema, "token": {"type": "string"}},
                        },
                    ),
                    **_error_responses(400, 409, 429, 503),
                },
            }
        },
        "/api/v1/auth/token": {
            "post": {
                "summary": "Log in: exchange a username (or email) and password for a token",
                "requestBody": _body("TokenBody"),
                "responses": {"200": token_response, **_error_responses(400, 401, 429, 503)},
            }
        },
        "/api/v1/auth/logout": {
            "post": {
                "summary": "End the session; its token is refused from then on",
                "security": SECURED,
                "responses": {
                    "204": {"description": "Logged out"},
                    **_error_responses(401, 403, 503),
                },
            }
        },
        "/api/v1/me": {
            "get": {
                "summary": "The logged-in user and how many artists they rated",
                "security": SECURED,
                "responses": {
                    "200": _json(
                        "The user",
                        {
                            "type": "object",
                            "required": ["user", "rated_count"],
                            "properties": {"user": user_schema, "rated_count": {"type": "integer"}},
                        },
                    ),
                    **_error_responses(401, 503),
                },
            }
        },
        "/api/v1/artists": {
            "get": {
                "summary": "Search the catalogue (case-, accent-, punctuation-insensitive, "
                "prefix and fuzzy); without q, the most-rated artists",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                    },
                    _int_query("limit", 1, 50, 10),
                ],
                "responses": {
                    "200": _json("Matches, best first", _ref("ArtistList")),
                    **_error_responses(400, 503),
                },
            },
            "post": {
                "summary": "Add an artist missing from the catalogue",
                "security": SECURED,
                "requestBody": _body("NewArtistBody"),
                "responses": {
                    "201": _json(
                        "Added",
                        {
                            "type": "object",
                            "required": ["artist"],
                            "properties": {"artist": _ref("Artist")},
                        },
                    ),
                    "200": _json(
                        "Already in the catalogue",
                        {
                            "type": "object",
                            "required": ["artist"],
                            "properties": {"artist": _ref("Artist")},
                        },
                    ),
                    **_error_responses(400, 401, 403, 503),
                },
            },
        },
        "/api/v1/artists/{artist_id}": {
            "get": {
                "summary": "One artist",
                "parameters": [_artist_id_param()],
                "responses": {
                    "200": _json(
                        "The artist",
                        {
                            "type": "object",
                            "required": ["artist"],
                            "properties": {"artist": _ref("Artist")},
                        },
                    ),
                    **_error_responses(404, 503),
                },
            }
        },
        "/api/v1/artists/{artist_id}/similar": {
            "get": {
                "summary": "Artists similar to this one, from the model's artist factors",
                "parameters": [_artist_id_param(), _int_query("n", 1, 50, 10)],
                "responses": {
                    "200": _json("Similar artists", _ref("ArtistList")),
                    **_error_responses(400, 404, 503),
                },
            }
        },
        "/api/v1/me/ratings": {
            "get": {
                "summary": "My ratings, most recently changed first",
                "security": SECURED,
                "responses": {
                    "200": _json(
                        "Ratings",
                        {
                            "type": "object",
                            "required": ["ratings"],
                            "properties": {"ratings": {"type": "array", "items": _ref("Rating")}},
                        },
                    ),
                    **_error_responses(401, 503),
                },
            }
        },
        "/api/v1/me/ratings/{artist_id}": {
            "put": {
                "summary": "Rate an artist 1..10, or change the rating",
                "security": SECURED,
                "parameters": [_artist_id_param()],
                "requestBody": _body("RatingBody"),
                "responses": {
                    "201": _json("Created", _ref("Rating")),
                    "200": _json("Updated", _ref("Rating")),
                    **_error_responses(400, 401, 403, 404, 503),
                },
            },
            "delete": {
                "summary": "Remove my rating of an artist",
                "security": SECURED,
                "parameters": [_artist_id_param()],
                "responses": {
                    "204": {"description": "Removed"},
                    **_error_responses(401, 403, 404, 503),
                },
            },
        },
        "/api/v1/me/recommendations": {
            "post": {
                "summary": "New recommendations: stored, and never recommended again",
                "security": SECURED,
                "parameters": [_int_query("n", 1, 50, 10)],
                "responses": {
                    "201": _json(
                        "New recommendations",
                        {
                            "type": "object",
                            "required": ["model_version", "recommendations"],
                            "properties": {
                                "model_version": {"type": "string"},
                                "recommendations": {
                                    "type": "array",
                                    "items": _ref("Recommendation"),
                                },
                            },
                        },
                    ),
                    **_error_responses(400, 401, 403, 503),
                },
            },
            "get": {
                "summary": "Every past recommendation, newest first",
                "security": SECURED,
                "responses": {
                    "200": _json(
                        "Past recommendations",
                        {
                            "type": "object",
                            "required": ["recommendations"],
                            "properties": {
                                "recommendations": {
                                    "type": "array",
                                    "items": _ref("PastRecommendation"),
                                }
                            },
                        },
                    ),
                    **_error_responses(401, 503),
                },
            },
        },
        "/api/v1/health": {
            "get": {
                "summary": "Liveness: the database and the model being served",
                "responses": {
                    "200": _json(
                        "Healthy",
                        {
                            "type": "object",
                            "required": ["status", "model_version", "database"],
                            "properties": {
                                "status": {"type": "string"},
                                "model_version": {"type": ["string", "null"]},
                                "database": {"type": "string"},
                            },
                        },
                    ),
                    "503": _json("The database is unavailable", {"type": "object"}),
                },
            }
        },
    }


def document(server: str | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "musicrec API",
            "version": "1.0.0",
            "description": "Rate artists and get recommendations. Authenticate with the token "
            "from /api/v1/auth/token as `Authorization: Bearer <token>`. Calls made with the "
            "browser's session cookie instead must send the page's CSRF token as X-CSRFToken.",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": {
                f"E{status}": _json(text, _ref("Error")) for status, text in ERROR_TEXTS.items()
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "musicrec_token"},
            },
        },
    }
