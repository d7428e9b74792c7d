"""Fixtures of the security properties: the web suite's app, client and catalogue."""

from __future__ import annotations

from tests.web.conftest import app, app_settings, catalogue, client

__all__ = ["app", "app_settings", "catalogue", "client"]
