"""The Flask side: database session per request and one blueprint per area."""

from __future__ import annotations

from flask import Flask, g

from musicrec.config import Settings
from musicrec.db.session import make_engine, make_session_factory


def init_app(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    app.extensions["musicrec.engine"] = engine
    app.extensions["musicrec.sessions"] = session_factory

    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    from musicrec.web.main import blueprint as main_blueprint

    app.register_blueprint(main_blueprint)
