"""JSON bodies nested deeper than any request needs are refused before they are parsed.

Python's parser recurses once per level, so a body of 1,000 nested brackets raised
RecursionError (a 500) on any JSON endpoint. Counting brackets first is cheap: the full scan
runs only when the body holds more brackets than the limit allows.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32


def nesting_depth(data: str) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in data:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing (as invalid JSON, so a 400) bodies nested beyond ``MAX_DEPTH``."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8", "replace") if isinstance(s, bytes) else s
        if text.count("[") + text.count("{") > MAX_DEPTH and nesting_depth(text) > MAX_DEPTH:
            raise ValueError(f"JSON nested more than {MAX_DEPTH} levels deep")
        return super().loads(s, **kwargs)
