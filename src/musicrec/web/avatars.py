"""Generated artist avatars: initials and one of ``COLOURS`` colours, both from the name.

static/app.js computes the same for cards it builds (``avatarParts``): keep the two in step.
"""

from __future__ import annotations

from flask import Flask

COLOURS = 12  # .avatar-0 .. .avatar-11 in app.css


def avatar_colour(name: str) -> int:
    """A colour index that is the same for a name every time: h = h * 31 + code point."""
    value = 0
    for char in name:
        value = (value * 31 + ord(char)) & 0xFFFFFFFF
    return value % COLOURS


def initials(name: str) -> str:
    """The first letter or digit of the first and last words ("The Beatles" -> "TB"); a name
    with none ("!!!") shows its first two characters."""
    words = ["".join(c for c in word if c.isalnum()) for word in name.split()]
    words = [word for word in words if word]
    if not words:
        return name.strip()[:2]
    if len(words) == 1:
        return words[0][0].upper()
    return (words[0][0] + words[-1][0]).upper()


def init_avatars(app: Flask) -> None:
    app.add_template_global(initials, "avatar_initials")
    app.add_template_global(avatar_colour, "avatar_colour")
