"""A user's past recommendations grouped by the batch they came in, newest first, a page at a
time: what the recommendations page lists under "Recommended before"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy.orm import Session

from musicrec.db import ratings as rating_rows
from musicrec.db import recommendations as stored
from musicrec.services.catalogue import Catalogue
from musicrec.services.recommending import PastRecommendation, past_recommendation

BATCHES_PER_PAGE = 5


@dataclass(frozen=True)
class PastBatch:
    created_at: datetime
    items: list[PastRecommendation]


@dataclass(frozen=True)
class HistoryPage:
    batches: list[PastBatch]
    page: int  # from 1
    pages: int  # at least 1

    @property
    def has_newer(self) -> bool:
        return self.page > 1

    @property
    def has_older(self) -> bool:
        return self.page < self.pages


def history_page(
    session: Session,
    catalogue: Catalogue,
    user_id: int,
    page: int,
    per_page: int = BATCHES_PER_PAGE,
) -> HistoryPage:
    """Page ``page`` (from 1; out-of-range pages are clamped) of the user's batches; the names
    of the artists behind each come from the catalogue's in-memory index."""
    pages = max(1, -(-stored.count_batches(session, user_id) // per_page))
    page = min(max(page, 1), pages)
    times = stored.batch_times(session, user_id, (page - 1) * per_page, per_page)
    rows = stored.recommendations_made_at(session, user_id, times)
    rated, values = rating_rows.user_rating_pairs(session, user_id)
    mine = dict(zip(rated, values, strict=True))
    reasons = catalogue.views(session, {i for row in rows for i in row.because or ()})
    batches = [
        PastBatch(
            created_at,
            [past_recommendation(row, mine, reasons) for row in group],
        )
        for created_at, group in groupby(rows, key=lambda row: row.created_at)
    ]
    return HistoryPage(batches, page, pages)
