"""gunicorn's access log without the secrets some URLs carry (issue 18, defect 15).

A password-reset link is ``/reset-password/<token>``, and Spotify sends its OAuth ``code``
and ``state`` back as query values of ``/spotify/callback``: logged as they are, anyone who
reads the log could reset that password or complete the link. Every URL the log prints (the
request line, the path, the query, the Referer, which a page opened from such a link sends) is
logged with those parts replaced by ``[redacted]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
SECRET_PATH = re.compile(r"(/reset-password/)[^/?#]+", re.IGNORECASE)
SECRET_QUERY_KEYS = frozenset(
    {"code", "state", "token", "access_token", "refresh_token", "id_token", "password", "key"}
)
URL_ENVIRON_KEYS = ("RAW_URI", "PATH_INFO", "QUERY_STRING", "HTTP_REFERER", "REQUEST_URI")


def redact_query(query: str) -> str:
    """``query`` with the value of every secret-bearing key replaced."""
    pairs = []
    for pair in query.split("&"):
        name, sep, _value = pair.partition("=")
        if sep and unquote(name.replace("+", " ")).strip().lower() in SECRET_QUERY_KEYS:
            pair = f"{name}={REDACTED}"
        pairs.append(pair)
    return "&".join(pairs)


def redact_url(url: str) -> str:
    """``url`` (a path, a path and query, or an absolute URL) without secrets in it."""
    path, sep, query = url.partition("?")
    path = SECRET_PATH.sub(rf"\g<1>{REDACTED}", path)
    if sep:
        query, hash_sep, fragment = query.partition("#")
        return f"{path}?{redact_query(query)}{hash_sep}{fragment}"
    return path


def _redacted_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        (name, redact_url(value) if name.lower() == "referer" else value) for name, value in headers
    ]


def _redacted_environ(environ: dict[str, Any]) -> dict[str, Any]:
    redacted = dict(environ)
    for key in URL_ENVIRON_KEYS:
        value = environ.get(key)
        if isinstance(value, str):
            redacted[key] = redact_query(value) if key == "QUERY_STRING" else redact_url(value)
    return redacted


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, handing its access log only redacted URLs."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        headers = getattr(req, "headers", req) or []
        super().access(resp, _redacted_headers(headers), _redacted_environ(environ), request_time)
