"""A per-test fake of the HTTP session the clients use: routes answer canned replies and
every request is recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]]
Handler = Callable[[str, str, dict[str, Any]], Reply]


def reply(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


@dataclass
class FakeSession:
    """Answers by path; a route is a handler or a list of replies given in turn."""

    routes: dict[str, Handler | list[Reply]] = field(default_factory=dict)
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.sent.append((method, url, kwargs))
        path = urlsplit(url).path
        route = self.routes.get(f"{method} {path}")
        if route is None:
            return reply(404, {"error": {"status": 404, "message": "no such route"}})
        answer = route.pop(0) if isinstance(route, list) else route(method, url, kwargs)
        if isinstance(answer, Exception):
            raise answer
        return reply(*answer)

    def paths(self) -> list[str]:
        return [f"{method} {urlsplit(url).path}" for method, url, _ in self.sent]
