"""The Flask side: one blueprint per area, a database session per request, JSON API errors."""

from __future__ import annotations

import logging

from flask import Flask, Response, abort, g, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from musicrec.config import Settings
from musicrec.db.session import READ_MOSTLY, make_engine, make_session_factory
from musicrec.services.catalogue import Catalogue
from musicrec.services.model_loader import web_model_loader
from musicrec.services.passwords import use_fast_hashing
from musicrec.services.popular_artists import PopularArtists
from musicrec.services.recommending import RecommendationService
from musicrec.web import extensions
from musicrec.web.avatars import init_avatars
from musicrec.web.db import READ_METHODS, READ_MOSTLY_ENGINE
from musicrec.web.security import init_security

MAX_ROW_ID = 2**31 - 1
# Database connections a web process keeps open, and how many more it may open at a busy
# moment. A gevent worker serves many requests at once: with SQLAlchemy's default (5 kept),
# 8 requests in flight per worker opened and closed a connection every ~85 requests (a new
# PostgreSQL backend each time). 2 workers x 16 stay well inside PostgreSQL's 100.
POOL_SIZE, POOL_OVERFLOW = 8, 8


class DatabaseId(IntegerConverter):
    """A row id in URLs: any integer here, ``_ids_in_range`` turns impossible ones into 404."""

    def __init__(self, url_map: object) -> None:
        super().__init__(url_map, signed=True)  # type: ignore[arg-type]


def init_app(app: Flask, settings: Settings) -> None:
    use_fast_hashing(settings.fast_password_hashing)
    engine = make_engine(settings.database_url, pool=(POOL_SIZE, POOL_OVERFLOW))
    sessions = make_session_factory(engine)
    app.extensions["musicrec.engine"] = engine
    app.extensions["musicrec.sessions"] = sessions
    app.extensions[READ_MOSTLY_ENGINE] = engine.execution_options(**{READ_MOSTLY: True})
    popular = PopularArtists()
    catalogue = app.extensions[extensions.CATALOGUE] = Catalogue(popular)
    loader = web_model_loader(settings, engine)  # MUSICREC_MODEL_STORE, the nodes table
    recommendations = RecommendationService(settings.model_dir, popular, catalogue, loader)
    recommendations.current_version()  # load the model once, as each worker starts
    app.extensions[extensions.RECOMMENDATIONS] = recommendations
    logging.getLogger("musicrec").setLevel(logging.INFO)

    init_security(app, settings)
    init_avatars(app)
    app.url_map.converters["id"] = DatabaseId
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_error_handlers(app)


def _register_blueprints(app: Flask) -> None:
    from musicrec.web.admin import blueprint as admin
    from musicrec.web.api import api, docs
    from musicrec.web.auth import blueprint as auth
    from musicrec.web.main import blueprint as main
    from musicrec.web.ratings import blueprint as ratings
    from musicrec.web.recommendations import blueprint as recommendations
    from musicrec.web.spotify import blueprint as spotify

    for blueprint in (main, auth, ratings, recommendations, spotify, admin, api, docs):
        app.register_blueprint(blueprint)


def _register_request_hooks(app: Flask) -> None:
    from musicrec.web.auth.guard import load_current_user

    @app.before_request
    def read_body_first() -> None:
        """Read a request's whole body (at most ``MAX_CONTENT_LENGTH``) before any query.

        Otherwise the token check opens a transaction, which on SQLite holds the write lock for
        anything but a GET, and then the view waits on the socket for the body: a client that
        trickles it would keep every other writer waiting.
        """
        if request.method not in READ_METHODS:
            request.get_data(cache=True, parse_form_data=True)

    app.before_request(load_current_user)

    @app.url_value_preprocessor
    def _ids_in_range(_endpoint: str | None, values: dict[str, object] | None) -> None:
        """An id no database column can hold names no row: 404, never a database error.

        (Checked here rather than by the converter: werkzeug answers 405 when a converter
        refuses a path that other methods' rules share.)
        """
        for name, value in (values or {}).items():
            if name.endswith("_id") and isinstance(value, int) and not 1 <= value <= MAX_ROW_ID:
                abort(404)

    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    @app.context_processor
    def page_globals() -> dict[str, object]:
        from musicrec.web.auth.guard import current_user, rated_count

        try:
            rated = rated_count()
        except DBAPIError:  # the error page of a failed database must still render
            rated = None
        return {"current_user": current_user(), "nav_rated_count": rated}


def _discard_failed_transaction() -> None:
    """A failed statement aborts the transaction (PostgreSQL): roll back before rendering."""
    session = g.get("db_session")
    if session is not None:
        try:
            session.rollback()
        except DBAPIError:
            session.invalidate()


def _register_error_handlers(app: Flask) -> None:
    from musicrec.web.api import (
        database_error_status,
        handle_database_error,
        handle_http_error,
        handle_unexpected,
        is_api_request,
    )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[Response | str, int]:
        if is_api_request():
            return handle_http_error(error)
        status = error.code or 500
        return render_template("error.html", status=status, error=error), status

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> tuple[Response | str, int]:
        _discard_failed_transaction()
        if is_api_request():
            return handle_database_error(error)
        status = database_error_status(error)
        if status == 503:
            logging.getLogger("musicrec").error("database unavailable")
        return render_template("error.html", status=status, error=None), status

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        _discard_failed_transaction()
        if is_api_request():
            return handle_unexpected(error)
        logging.getLogger("musicrec").exception("unexpected error")
        return render_template("error.html", status=500, error=None), 500
