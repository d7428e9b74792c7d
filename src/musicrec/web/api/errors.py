"""JSON errors for the API: ``{"error": {"code", "message"[, "field"]}}``, never a traceback."""

from __future__ import annotations

from flask import Response, jsonify


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(
    status: int, code: str, message: str, field: str | None = None
) -> tuple[Response, int]:
    body: dict[str, object] = {"code": code, "message": message}
    if field:
        body["field"] = field
    response = jsonify({"error": body})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="musicrec"'
    return response, status
