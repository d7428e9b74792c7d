"""A user's settings for their recommendations: discover vs familiar."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from musicrec.db import users
from musicrec.engine.discovery import DEFAULT_DISCOVERY, check_discovery
from musicrec.services.errors import InvalidInput


@dataclass(frozen=True)
class Preferences:
    discovery: float  # 0 = familiar, 1 = discover


def preferences_of(session: Session, user_id: int) -> Preferences:
    stored = users.get_discovery(session, user_id)
    return Preferences(DEFAULT_DISCOVERY if stored is None else stored)


def set_discovery(session: Session, user_id: int, value: object) -> Preferences:
    """Remember the user's discovery setting (a number from 0 to 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput({"discovery": "Give a number from 0 to 1."})
    try:
        number = check_discovery(value)
    except ValueError:
        raise InvalidInput({"discovery": "Give a number from 0 to 1."}) from None
    users.set_discovery(session, user_id, number)
    return Preferences(number)
