"""The follows store, on both backends (an SQLite file; tables in a real PostgreSQL): topics and
limits per chat, alerts claimed once, all of it across reopening and, in PostgreSQL, across
stores used at once (replicas)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from newsbot.config.settings import Settings, load_settings
from newsbot.follow.pg_store import PgFollowStore
from newsbot.follow.store import Claim, Followed, FollowStore, SqliteFollowStore, open_store, store_path
from newsbot.index.manifest import DatabaseProblem
from newsbot.index.pg import connect as pgc
from newsbot.index.pg.schema import LATEST, migrate

NOW = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
Opener = Callable[[], FollowStore]


def migrated(url: str) -> Settings:
    with pgc.connect(url) as conn:
        migrate(conn, url)
    return Settings(backend="postgres", database_url=SecretStr(url))


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same store again on every call (a restart, or another replica)."""
    opened: list[FollowStore] = []
    if request.param == "sqlite":
        path = tmp_path / "state" / "follows.sqlite"

        def open_one() -> FollowStore:
            opened.append(SqliteFollowStore(path))
            return opened[-1]
    else:
        settings = migrated(request.getfixturevalue("pg_url"))

        def open_one() -> FollowStore:
            opened.append(open_store(settings))
            return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def test_topics_are_kept_per_chat_in_order_and_survive_reopening(opener: Opener) -> None:
    store = opener()
    assert store.follow(1, "scholz  kyiv visit", 10, NOW).outcome is Followed.ADDED
    assert store.follow(1, "gas prices", 10, NOW).outcome is Followed.ADDED
    assert store.follow(2, "volcano", 10, NOW).outcome is Followed.ADDED
    store.close()
    again = opener()
    assert [t.words for t in again.topics(1)] == ["scholz kyiv visit", "gas prices"]
    assert [t.words for t in again.topics(2)] == ["volcano"]
    assert [t.chat_id for t in again.all_topics()] == [1, 1, 2]
    assert again.topics(3) == ()


def test_the_same_topic_twice_is_one_and_the_limit_is_per_chat(opener: Opener) -> None:
    store = opener()
    store.follow(1, "Scholz Kyiv", 2, NOW)
    already = store.follow(1, "  scholz   KYIV ", 2, NOW)
    assert already.outcome is Followed.ALREADY and len(already.topics) == 1
    assert store.follow(1, "gas prices", 2, NOW).outcome is Followed.ADDED
    full = store.follow(1, "volcano", 2, NOW)
    assert full.outcome is Followed.FULL and [t.words for t in full.topics] == ["Scholz Kyiv", "gas prices"]
    assert store.follow(2, "volcano", 2, NOW).outcome is Followed.ADDED  # another chat has its own limit


def test_unfollow_removes_only_the_chats_own_topic(opener: Opener) -> None:
    store = opener()
    mine = store.follow(1, "gas prices", 10, NOW).topics[0]
    assert store.unfollow(2, mine.id) is False  # another chat cannot remove it
    assert store.unfollow(1, mine.id) is True
    assert store.unfollow(1, mine.id) is False
    assert store.topics(1) == ()


def test_an_alert_is_claimed_once_also_after_reopening_and_refollowing(opener: Opener) -> None:
    store = opener()
    topic = store.follow(1, "gas prices", 10, NOW).topics[0]
    assert store.claim_alert(topic, "article-a", 10, NOW) is Claim.CLAIMED
    assert store.claim_alert(topic, "article-a", 10, NOW) is Claim.SENT_BEFORE
    assert store.claim_alert(topic, "article-b", 10, NOW) is Claim.CLAIMED
    store.unfollow(1, topic.id)
    store.close()
    again = opener()
    refollowed = again.follow(1, "Gas  Prices", 10, NOW).topics[0]
    assert refollowed.id != topic.id
    assert again.claim_alert(refollowed, "article-a", 10, NOW) is Claim.SENT_BEFORE
    other_chat = again.follow(2, "gas prices", 10, NOW).topics[0]
    assert again.claim_alert(other_chat, "article-a", 10, NOW) is Claim.CLAIMED


def test_alerts_per_hour_are_limited_per_chat_over_a_sliding_hour(opener: Opener) -> None:
    store = opener()
    gas = store.follow(1, "gas prices", 10, NOW).topics[0]
    other = store.follow(2, "gas prices", 10, NOW).topics[0]
    assert store.claim_alert(gas, "a", 2, NOW) is Claim.CLAIMED
    assert store.claim_alert(gas, "b", 2, NOW + timedelta(minutes=30)) is Claim.CLAIMED
    assert store.claim_alert(gas, "c", 2, NOW + timedelta(minutes=59)) is Claim.OVER_LIMIT
    assert store.claim_alert(other, "c", 2, NOW + timedelta(minutes=59)) is Claim.CLAIMED
    # An hour after the first alert one place is free again, and a held-back article may go.
    assert store.claim_alert(gas, "c", 2, NOW + timedelta(minutes=61)) is Claim.CLAIMED
    assert store.claim_alert(gas, "d", 2, NOW + timedelta(minutes=62)) is Claim.OVER_LIMIT


def test_known_articles_start_unknown_and_are_kept(opener: Opener) -> None:
    store = opener()
    assert store.known_articles() is None  # never looked: a first start
    store.add_known([])
    assert store.known_articles() == frozenset()
    store.add_known(["a", "b"])
    store.add_known(["b", "c"])
    store.close()
    assert opener().known_articles() == {"a", "b", "c"}


def test_times_without_a_zone_are_refused(opener: Opener) -> None:
    store = opener()
    with pytest.raises(ValueError, match="timezone-aware"):
        store.follow(1, "gas", 10, datetime(2024, 3, 5, 12, 0))


def test_the_file_sits_beside_the_index_unless_configured(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))
    settings = load_settings(index_dir=tmp_path / "data" / "index")
    assert store_path(settings) == (tmp_path / "data" / "follows.sqlite").resolve()
    chosen = tmp_path / "elsewhere.sqlite"
    assert store_path(settings.model_copy(update={"follows_file": chosen})) == chosen


def test_backend_postgres_keeps_follows_in_its_database(pg_url: str) -> None:
    store = open_store(migrated(pg_url))
    try:
        assert isinstance(store, PgFollowStore)
    finally:
        store.close()


def test_a_database_of_the_first_schema_is_sent_to_newsbot_index(pg_url: str) -> None:
    with pgc.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY, applied timestamptz)")
        conn.execute("INSERT INTO schema_version VALUES (1, now())")
    # The store reads the schema the rest of the index has: every migration, not only the one that made its tables.
    with pytest.raises(DatabaseProblem, match=rf"schema version 1, followed topics need {LATEST}; run `newsbot index`"):
        open_store(Settings(backend="postgres", database_url=SecretStr(pg_url)))


def test_replicas_claiming_at_once_send_each_alert_once_and_keep_the_hourly_limit(pg_url: str) -> None:
    settings = migrated(pg_url)
    replicas = [open_store(settings) for _ in range(3)]
    try:
        topic = replicas[0].follow(1, "gas prices", 10, NOW).topics[0]
        # Every replica claims every article, twice, from many threads at once.
        work = [(replicas[n % 3], f"article-{n % 8}") for n in range(48)]
        with ThreadPoolExecutor(12) as pool:
            claims = list(pool.map(lambda job: job[0].claim_alert(topic, job[1], 5, NOW), work))
        assert claims.count(Claim.CLAIMED) == 5  # the hourly limit, though 8 articles matched
        assert claims.count(Claim.OVER_LIMIT) + claims.count(Claim.SENT_BEFORE) == 43
        claimed = {article for (_, article), claim in zip(work, claims) if claim is Claim.CLAIMED}
        assert len(claimed) == 5  # never one article twice
        # One chat's limit on topics holds too, with replicas following at once.
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda n: replicas[n % 3].follow(2, f"topic {n}", 4, NOW), range(12)))
        assert sum(r.outcome is Followed.ADDED for r in results) == 4
        assert len(replicas[2].topics(2)) == 4
    finally:
        for store in replicas:
            store.close()
