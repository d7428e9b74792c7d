"""The errors services raise: what went wrong in the domain's words, never an HTTP status.

The web layer alone maps them to answers (``InvalidInput`` -> 400, ``Refused`` -> 422 in the
API, ``UnknownReference`` -> 404 in the API, ``Conflict`` -> 409, ``NotFound`` -> 404,
``NoRatings`` -> 409 ``no_ratings``).
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""


class FieldError(ServiceError):
    """Input refused, with one message per field (the first field is the one to report)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = dict(errors)

    @property
    def field(self) -> str:
        return next(iter(self.errors))

    @property
    def message(self) -> str:
        return self.errors[self.field]


class InvalidInput(FieldError):
    """A value that can never be accepted as given."""


class Refused(InvalidInput):
    """Well formed, but refused by a rule no schema can state: a very common password, one
    equal to the username or email, an email address that cannot receive mail."""


class UnknownReference(InvalidInput):
    """A well-formed id that names no row, e.g. an imported rating's artist_id (404 in the
    API, as an unknown id in a path is)."""


class Conflict(FieldError):
    """A value that is valid but taken (a username or email in use)."""


class LimitReached(ServiceError):
    """The user did this as often as allowed for now."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """The thing named does not exist (or is not the caller's to see)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoRatings(ServiceError):
    """Recommendations asked for by a user who has rated nothing yet."""

    def __init__(
        self, message: str = "Rate a few artists first: we need them to recommend."
    ) -> None:
        super().__init__(message)
        self.message = message
