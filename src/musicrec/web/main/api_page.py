"""The API's reference for people, read from the OpenAPI document the API serves: each
operation with its method, path, summary, inputs and answers, grouped by tag.

Rendered by the server (no script, no outside assets): the machine-readable document stays at
``/api/openapi.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from musicrec.web.api.spec import document

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # path, query, header, cookie
    required: bool
    kind: str  # the schema's type, or the model it names
    description: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    body: str | None  # the model's name, when the answer has a JSON body


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    signed_in: bool
    parameters: list[Parameter]
    body: str | None
    answers: list[Answer]

    @property
    def anchor(self) -> str:
        """A fragment id for links to this operation."""
        cleaned = "".join(c if c.isalnum() else "-" for c in self.path.strip("/"))
        return f"{self.method}-{cleaned}".strip("-")


@dataclass(frozen=True)
class Section:
    tag: str
    description: str
    operations: list[Operation]


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    sections: list[Section]


def _model_name(schema: dict[str, Any] | None) -> str | None:
    if not schema:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        inner = _model_name(schema.get("items"))
        return f"list of {inner}" if inner else "array"
    kind = schema.get("type")
    return str(kind) if kind else None


def _json_schema(content: dict[str, Any] | None) -> dict[str, Any] | None:
    for media, body in (content or {}).items():
        if "json" in media:
            schema: dict[str, Any] | None = body.get("schema")
            return schema
    return None


def _operation(path: str, method: str, spec: dict[str, Any]) -> Operation:
    parameters = [
        Parameter(
            name=str(item.get("name", "")),
            where=str(item.get("in", "")),
            required=bool(item.get("required", False)),
            kind=_model_name(item.get("schema")) or "",
            description=str(item.get("description", "")),
        )
        for item in spec.get("parameters", [])
    ]
    body = _model_name(_json_schema(spec.get("requestBody", {}).get("content")))
    answers = [
        Answer(
            str(status),
            str(answer.get("description", "")),
            _model_name(_json_schema(answer.get("content"))),
        )
        for status, answer in sorted(spec.get("responses", {}).items())
    ]
    return Operation(
        method=method.upper(),
        path=path,
        summary=str(spec.get("summary", "")),
        description=str(spec.get("description", "")),
        signed_in=bool(spec.get("security")),
        parameters=parameters,
        body=body,
        answers=answers,
    )


def reference() -> Reference:
    """The document as sections, one per tag in the document's order."""
    doc = document()
    by_tag: dict[str, list[Operation]] = {tag["name"]: [] for tag in doc.get("tags", [])}
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = _operation(path, method, item[method])
                for tag in item[method].get("tags") or ["other"]:
                    by_tag.setdefault(tag, []).append(operation)
    descriptions = {tag["name"]: tag.get("description", "") for tag in doc.get("tags", [])}
    sections = [
        Section(tag, descriptions.get(tag, ""), sorted(ops, key=lambda op: (op.path, op.method)))
        for tag, ops in by_tag.items()
        if ops
    ]
    info = doc.get("info", {})
    return Reference(str(info.get("title", "API")), str(info.get("version", "")), sections)
