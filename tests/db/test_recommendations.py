"""Stored recommendations, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from musicrec.db import artists, users
from musicrec.db import recommendations as stored
from musicrec.db.recommendations import NewRecommendation
from musicrec.db.types import utcnow


def _user(session: Session, name: str = "ada") -> int:
    return users.add_user(session, name, f"{name}@example.org", "hash").id


def _artists(session: Session, *names: str) -> list[int]:
    return [artists.add_artist(session, name, None).id for name in names]


def test_added_recommendations_are_stored_with_reasons(session: Session) -> None:
    ada = _user(session)
    air, muse, keane = _artists(session, "Air", "Muse", "Keane")

    added = stored.add_recommendations(
        session, ada, [NewRecommendation(muse, 0.9, (air,)), NewRecommendation(keane, 0.4)], "v1"
    )
    rows = stored.user_recommendations(session, ada)

    assert added == {muse, keane}
    assert [(r.artist_id, r.score, r.because, r.model_version) for r in rows] == [
        (muse, 0.9, [air], "v1"),
        (keane, 0.4, [], "v1"),
    ]
    assert rows[0].created_at == rows[1].created_at
    assert stored.recommended_artist_ids(session, ada) == {muse, keane}


def test_recommended_ids_are_per_user(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    air, muse = _artists(session, "Air", "Muse")
    stored.add_recommendations(session, ada, [NewRecommendation(air, 1.0)], "v1")
    stored.add_recommendations(session, bob, [NewRecommendation(air, 1.0)], "v1")
    stored.add_recommendations(session, bob, [NewRecommendation(muse, 1.0)], "v2")

    assert stored.recommended_artist_ids(session, ada) == {air}
    assert stored.recommended_artist_ids(session, bob) == {air, muse}
    assert stored.recommended_artist_ids(session, bob + 1) == set()


def test_user_recommendations_newest_batch_first_each_in_the_order_it_was_made(
    session: Session,
) -> None:
    """A batch keeps the order it was ranked in (the discovery penalty may put a lower raw
    score first), not the order of its scores."""
    ada = _user(session)
    air, muse, keane, coldplay = _artists(session, "Air", "Muse", "Keane", "Coldplay")
    stored.add_recommendations(
        session, ada, [NewRecommendation(air, 0.2), NewRecommendation(muse, 0.8)], "v1"
    )
    stored.add_recommendations(
        session, ada, [NewRecommendation(keane, 0.1), NewRecommendation(coldplay, 0.5)], "v2"
    )

    history = stored.user_recommendations(session, ada)

    assert [(r.artist.name, r.model_version, r.position) for r in history] == [
        ("Keane", "v2", 0),
        ("Coldplay", "v2", 1),
        ("Air", "v1", 0),
        ("Muse", "v1", 1),
    ]
    assert stored.newest_artist_ids(session, ada, 10) == [keane, coldplay]
    times = stored.batch_times(session, ada, 0, 5)
    assert [r.artist_id for r in stored.recommendations_made_at(session, ada, times)] == [
        keane,
        coldplay,
        air,
        muse,
    ]


def test_a_batch_stored_in_parts_continues_its_order(session: Session) -> None:
    """A second store into the same batch (picks in place of ones a concurrent request took)
    ranks after the first part, whatever the ids or scores."""
    ada = _user(session)
    air, muse, keane, coldplay = _artists(session, "Air", "Muse", "Keane", "Coldplay")
    made_at = utcnow()
    stored.add_recommendations(session, ada, [NewRecommendation(coldplay, 0.1)], "v1", made_at)
    stored.add_recommendations(
        session,
        ada,
        [NewRecommendation(keane, 0.9), NewRecommendation(air, 0.5), NewRecommendation(muse, 0.7)],
        "v1",
        made_at,
        first_position=1,
    )

    history = stored.user_recommendations(session, ada)

    assert [r.artist_id for r in history] == [coldplay, keane, air, muse]
    assert [r.position for r in history] == [0, 1, 2, 3]


def test_an_artist_is_recommended_to_a_user_only_once(session: Session) -> None:
    ada = _user(session)
    air, muse = _artists(session, "Air", "Muse")
    stored.add_recommendations(session, ada, [NewRecommendation(air, 0.5)], "v1")

    # A second store of the same artist (a concurrent request) is skipped, not an error.
    again = stored.add_recommendations(
        session, ada, [NewRecommendation(air, 0.7), NewRecommendation(muse, 0.6)], "v2"
    )

    assert again == {muse}
    assert stored.add_recommendations(session, ada, [], "v3") == set()
    history = stored.user_recommendations(session, ada)
    assert sorted((r.artist_id, r.model_version) for r in history) == [(air, "v1"), (muse, "v2")]


def test_a_users_history_holds_their_ratings_and_past_recommendations(session: Session) -> None:
    from musicrec.db import ratings

    ada, bob = _user(session, "ada"), _user(session, "bob")
    muse, keane, air = _artists(session, "Muse", "Keane", "Air")
    ratings.set_rating(session, ada, muse, 7)
    stored.add_recommendations(session, ada, [NewRecommendation(keane, 0.5)], "v1")
    stored.add_recommendations(session, bob, [NewRecommendation(air, 0.5)], "v1")
    history = stored.user_history(session, ada)
    assert (history.rated, history.ratings, history.recommended) == ([muse], [7], {keane})
    assert history.disliked == set()
    assert stored.user_history(session, bob).rated == []

    from musicrec.db import dislikes

    blur, oasis = _artists(session, "Blur", "Oasis")
    ratings.set_rating(session, ada, blur, 2)
    dislikes.add_dislikes(session, ada, [oasis])
    history = stored.user_history(session, ada)
    assert sorted(zip(history.rated, history.ratings, strict=True)) == [(muse, 7), (blur, 2)]
    assert (history.recommended, history.disliked) == ({keane}, {oasis})
    nobody = stored.user_history(session, _user(session, "cy"))
    assert (nobody.rated, nobody.ratings, nobody.recommended, nobody.disliked) == (
        [],
        [],
        set(),
        set(),
    )


def test_a_batch_of_any_size_is_one_statement_of_the_same_text(session: Session) -> None:
    """One INSERT per batch; on PostgreSQL its text and its 7 parameters are the same for any
    size (one array per column), so psycopg parses it once (it re-parses statements of over
    50 parameters every time) and the server prepares it once."""
    ada = _user(session)
    many = _artists(session, *(f"Artist {n}" for n in range(25)))
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO RECOMMENDATIONS"):
            seen.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        stored.add_recommendations(session, ada, [NewRecommendation(a, 1.0) for a in many[:3]], "v")
        stored.add_recommendations(session, ada, [NewRecommendation(a, 1.0) for a in many[3:]], "v")
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert len(seen) == 2
    assert len(stored.recommended_artist_ids(session, ada)) == 25
    if engine.dialect.name == "postgresql":
        assert seen[0][0] == seen[1][0]
        assert len(seen[0][1]) == len(seen[1][1]) == 7
