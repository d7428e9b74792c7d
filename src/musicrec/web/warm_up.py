"""A worker's start: build what every request shares, then take it out of the garbage collector's
sight.

A worker holds about 170,000 long-lived objects (the modules' functions and classes, the search
index's entries). CPython's cyclic collector walks all of them in each full collection: 100 to
280 ms in which the worker answers nobody, so at saturation every connection on that worker
waited at once (a shared ~350 ms maximum in wrk's per-connection figures). ``gc.freeze()``
moves the objects alive at that moment into a permanent generation that collections skip; what
requests create afterwards is collected as before. Reference counting still frees frozen
objects that are dropped (an old search index), only frozen *cycles* would stay.
"""

from __future__ import annotations

import gc
import logging

from flask import Flask

from musicrec.web import extensions
from musicrec.web.db import READ_MOSTLY_ENGINE

log = logging.getLogger("musicrec.warm_up")


def warm_up(app: Flask) -> int:
    """Build the search index and load the model now rather than on the first request, then
    freeze every object alive (``gc.freeze``); returns how many. A database that does not
    answer yet only skips the index (the first search builds it)."""
    sessions = app.extensions["musicrec.sessions"]
    with app.app_context(), sessions(bind=app.extensions[READ_MOSTLY_ENGINE]) as session:
        try:
            app.extensions[extensions.CATALOGUE].search_cache.index(session)
        except Exception as error:  # noqa: BLE001 (start serving anyway; logged)
            log.warning("search index not built at start-up: %r", error)
        finally:
            session.rollback()  # end the read at once
        app.extensions[extensions.RECOMMENDATIONS].current_version()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
