"""Listeners' spellings of shared artists (``db.spellings``) and migration 0015, on both
databases: a spelling enough distinct users propose renames the artist, one that folds to
another name never does, and the votes go with their accounts."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, inspect, select, text
from sqlalchemy.orm import Session

from musicrec.db import artists, migrate, spellings, users
from musicrec.db.models import Artist, ArtistSpelling, User
from musicrec.db.session import make_engine
from musicrec.names import fold_name


def _users(session: Session, count: int) -> list[int]:
    return [users.add_user(session, f"u{n}", f"u{n}@example.org", "hash").id for n in range(count)]


def _artist(session: Session, name: str, confirmed: bool = True, owner: int | None = None) -> int:
    return session.execute(
        insert(Artist)
        .values(name=name, name_key=fold_name(name), confirmed=confirmed, added_by=owner)
        .returning(Artist.id)
    ).scalar_one()


def _name(session: Session, artist_id: int) -> str:
    return session.execute(select(Artist.name).where(Artist.id == artist_id)).scalar_one()


def _votes(session: Session, artist_id: int) -> dict[int, str]:
    rows = session.execute(
        select(ArtistSpelling.user_id, ArtistSpelling.spelling).where(
            ArtistSpelling.artist_id == artist_id
        )
    )
    return {user_id: spelling for user_id, spelling in rows}


def _propose(session: Session, voters: list[int], artist_id: int, spelling: str) -> None:
    for user_id in voters:
        spellings.record_proposals(session, user_id, {artist_id: spelling})


def test_a_users_newer_proposal_replaces_theirs(session: Session) -> None:
    ada, bob = _users(session, 2)
    sigur, acdc = _artist(session, "Sigur Ros"), _artist(session, "Ac/Dc")

    spellings.record_proposals(session, ada, {sigur: "SIGUR ROS", acdc: "AC/DC"})
    spellings.record_proposals(session, ada, {sigur: "Sigur Rós"})
    spellings.record_proposals(session, bob, {sigur: "Sigur Rós"})
    spellings.record_proposals(session, bob, {})

    assert _votes(session, sigur) == {ada: "Sigur Rós", bob: "Sigur Rós"}
    assert _votes(session, acdc) == {ada: "AC/DC"}


def test_a_spelling_is_applied_once_enough_distinct_users_propose_it(session: Session) -> None:
    ada, bob, eve = _users(session, 3)
    sigur = _artist(session, "Sigur Ros")
    before = artists.catalogue_version(session)

    _propose(session, [ada, bob], sigur, "Sigur Rós")
    _propose(session, [ada], sigur, "Sigur Rós")  # the same user twice is one vote
    assert spellings.apply_agreed(session, [sigur], 3) == 0
    assert _name(session, sigur) == "Sigur Ros"

    _propose(session, [eve], sigur, "Sigur Rós")
    assert spellings.apply_agreed(session, [sigur], 3) == 1
    assert _name(session, sigur) == "Sigur Rós"
    assert spellings.apply_agreed(session, [sigur], 3) == 0  # already so: no second rename

    after = artists.catalogue_version(session)
    assert after[:3] == before[:3] and after[3] == before[3] + 1  # a rename changes the version


def test_ties_go_to_the_most_votes_then_the_smallest_spelling(session: Session) -> None:
    voters = _users(session, 7)
    most, tie = _artist(session, "Sigur Ros"), _artist(session, "Bjork")

    _propose(session, voters[:3], most, "SIGUR RÓS")
    _propose(session, voters[3:7], most, "Sigur Rós")
    _propose(session, voters[:3], tie, "björk")
    _propose(session, voters[3:6], tie, "Björk")

    assert spellings.apply_agreed(session, [most, tie], 3) == 2
    assert _name(session, most) == "Sigur Rós"  # 4 votes against 3
    assert _name(session, tie) == "Björk"  # 3 each: "B" < "b"


def test_a_spelling_that_folds_to_another_name_is_never_applied(session: Session) -> None:
    voters = _users(session, 4)
    kesha = _artist(session, "Ke$Ha")

    _propose(session, voters, kesha, "Kesha")

    assert spellings.agreed_spellings(session, [kesha], 3) == {}
    assert spellings.apply_agreed(session, [kesha], 3) == 0
    assert _name(session, kesha) == "Ke$Ha"


def test_an_unconfirmed_artist_is_never_renamed(session: Session) -> None:
    owner, *voters = _users(session, 4)
    mine = _artist(session, "sigur ros", confirmed=False, owner=owner)

    _propose(session, voters, mine, "Sigur Rós")

    assert spellings.apply_agreed(session, [mine], 3) == 0
    assert _name(session, mine) == "sigur ros"


def test_only_the_given_artists_are_renamed(session: Session) -> None:
    voters = _users(session, 3)
    sigur, bjork = _artist(session, "Sigur Ros"), _artist(session, "Bjork")
    _propose(session, voters, sigur, "Sigur Rós")
    _propose(session, voters, bjork, "Björk")

    assert spellings.apply_agreed(session, [sigur], 3) == 1

    assert (_name(session, sigur), _name(session, bjork)) == ("Sigur Rós", "Bjork")


def test_deleting_a_user_or_an_artist_deletes_their_votes(session: Session) -> None:
    ada, bob, eve = _users(session, 3)
    sigur, bjork = _artist(session, "Sigur Ros"), _artist(session, "Bjork")
    _propose(session, [ada, bob, eve], sigur, "Sigur Rós")
    _propose(session, [ada], bjork, "Björk")

    users.delete_user(session, bob)
    session.execute(delete(Artist).where(Artist.id == bjork))

    assert _votes(session, sigur) == {ada: "Sigur Rós", eve: "Sigur Rós"}
    assert session.execute(select(ArtistSpelling).where(ArtistSpelling.user_id == ada)).all()
    assert spellings.apply_agreed(session, [sigur], 3) == 0  # two votes left


def test_migration_0015_goes_down_and_up_again_keeping_the_artists(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        _seed(engine)

        migrate.downgrade(engine, "0014")
        inspector = inspect(engine)
        assert "artist_spellings" not in inspector.get_table_names()
        assert "renames" not in {c["name"] for c in inspector.get_columns("artists")}
        migrate.upgrade(engine)

        with Session(engine) as session:
            assert _name(session, 1) == "Sigur Rós"
            assert session.get(Artist, 1).renames == 0  # type: ignore[union-attr]
            assert session.execute(select(User.id)).scalars().all() == [1]
            assert _votes(session, 1) == {}
    finally:
        engine.dispose()


def _seed(engine: Engine) -> None:
    """A user, a renamed artist and a vote, written as the app would."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, username_key, created_at)"
                " VALUES (1, 'ada', 'ada', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO artists (id, name, name_key, created_at, renames)"
                " VALUES (1, 'Sigur Rós', 'sigur ros', '2026-01-01 00:00:00', 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO artist_spellings (artist_id, user_id, spelling, created_at)"
                " VALUES (1, 1, 'Sigur Rós', '2026-01-01 00:00:00')"
            )
        )


def test_importing_the_data_again_keeps_a_respelled_name(session: Session) -> None:
    """The starter data merged again (``bulk_import``) leaves the listeners' spelling while
    the data's name folds to the same key; a name that folds otherwise is still the data's."""
    from musicrec.db.bulk_import import StagedRows, merge_rows
    from musicrec.db.types import utcnow

    def merge(name: str) -> None:
        row = (301, name, fold_name(name), "https://www.last.fm/music/x")
        merge_rows(session, StagedRows([row], [], []), source="lastfm", now=utcnow())

    merge("Sigur Ros")
    sigur = session.execute(select(Artist.id).where(Artist.lastfm_id == 301)).scalar_one()
    _propose(session, _users(session, 3), sigur, "Sigur Rós")
    assert spellings.apply_agreed(session, [sigur], 3) == 1

    merge("Sigur Ros")
    session.expire_all()
    assert _name(session, sigur) == "Sigur Rós"
    merge("Sigur Ros Band")  # the data renamed it: another name, taken
    session.expire_all()
    assert _name(session, sigur) == "Sigur Ros Band"
