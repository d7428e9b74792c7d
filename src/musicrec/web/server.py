"""Serve the app under gunicorn, the production WSGI server."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from musicrec import create_app

        return create_app()


def serve(host: str, port: int, workers: int | None = None) -> None:
    """Run gunicorn in this process; each worker builds its own app (and loads the model)."""
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers or max(2, (os.cpu_count() or 1)),
            "accesslog": "-",
            "timeout": 60,
        }
    ).run()
