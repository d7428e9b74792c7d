"""JSON errors for the API: ``{"error": {"code", "message"[, "field"]}}``, never a traceback."""

from __future__ import annotations

from flask import Response, jsonify

from musicrec.web.api.answers import Error, ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(
    status: int, code: str, message: str, field: str | None = None
) -> tuple[Response, int]:
    body = Error(error=ErrorDetail(code=code, message=message, field=field or None))
    response = jsonify(body.model_dump(mode="json", exclude_none=True))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="musicrec"'
    return response, status
