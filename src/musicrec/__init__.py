"""musicrec: rate artists, get recommendations from an ALS model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicrec.config import Settings

MAX_REQUEST_BYTES = 2 * 1024 * 1024  # the largest body any form or API call needs

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app from ``settings`` (read from the environment when not given).

    Flask is imported here, not at the top: ``import musicrec.engine`` must not load the web.
    """
    from flask import Flask

    from musicrec.web import init_app
    from musicrec.web.json_limits import DepthLimitedJSONProvider

    settings = settings or Settings.from_env()
    settings.check()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_dir),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.json = DepthLimitedJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MUSICREC_SETTINGS=settings,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
    )
    init_app(app, settings)
    if settings.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app
