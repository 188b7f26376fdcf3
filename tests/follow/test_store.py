"""The follows store: topics and limits per chat, alerts claimed once, all of it across reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsbot.config.settings import load_settings
from newsbot.follow.store import Claim, Followed, SqliteFollowStore, store_path

NOW = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "follows.sqlite"


def test_topics_are_kept_per_chat_in_order_and_survive_reopening(path: Path) -> None:
    store = SqliteFollowStore(path)
    assert store.follow(1, "scholz  kyiv visit", 10, NOW).outcome is Followed.ADDED
    assert store.follow(1, "gas prices", 10, NOW).outcome is Followed.ADDED
    assert store.follow(2, "volcano", 10, NOW).outcome is Followed.ADDED
    store.close()
    again = SqliteFollowStore(path)
    assert [t.words for t in again.topics(1)] == ["scholz kyiv visit", "gas prices"]
    assert [t.words for t in again.topics(2)] == ["volcano"]
    assert [t.chat_id for t in again.all_topics()] == [1, 1, 2]
    assert again.topics(3) == ()


def test_the_same_topic_twice_is_one_and_the_limit_is_per_chat(path: Path) -> None:
    store = SqliteFollowStore(path)
    store.follow(1, "Scholz Kyiv", 2, NOW)
    already = store.follow(1, "  scholz   KYIV ", 2, NOW)
    assert already.outcome is Followed.ALREADY and len(already.topics) == 1
    assert store.follow(1, "gas prices", 2, NOW).outcome is Followed.ADDED
    full = store.follow(1, "volcano", 2, NOW)
    assert full.outcome is Followed.FULL and [t.words for t in full.topics] == ["Scholz Kyiv", "gas prices"]
    assert store.follow(2, "volcano", 2, NOW).outcome is Followed.ADDED  # another chat has its own limit


def test_unfollow_removes_only_the_chats_own_topic(path: Path) -> None:
    store = SqliteFollowStore(path)
    mine = store.follow(1, "gas prices", 10, NOW).topics[0]
    assert store.unfollow(2, mine.id) is False  # another chat cannot remove it
    assert store.unfollow(1, mine.id) is True
    assert store.unfollow(1, mine.id) is False
    assert store.topics(1) == ()


def test_an_alert_is_claimed_once_also_after_reopening_and_refollowing(path: Path) -> None:
    store = SqliteFollowStore(path)
    topic = store.follow(1, "gas prices", 10, NOW).topics[0]
    assert store.claim_alert(topic, "article-a", 10, NOW) is Claim.CLAIMED
    assert store.claim_alert(topic, "article-a", 10, NOW) is Claim.SENT_BEFORE
    assert store.claim_alert(topic, "article-b", 10, NOW) is Claim.CLAIMED
    store.unfollow(1, topic.id)
    store.close()
    again = SqliteFollowStore(path)
    refollowed = again.follow(1, "Gas  Prices", 10, NOW).topics[0]
    assert refollowed.id != topic.id
    assert again.claim_alert(refollowed, "article-a", 10, NOW) is Claim.SENT_BEFORE
    other_chat = again.follow(2, "gas prices", 10, NOW).topics[0]
    assert again.claim_alert(other_chat, "article-a", 10, NOW) is Claim.CLAIMED


def test_alerts_per_hour_are_limited_per_chat_over_a_sliding_hour(path: Path) -> None:
    store = SqliteFollowStore(path)
    gas = store.follow(1, "gas prices", 10, NOW).topics[0]
    other = store.follow(2, "gas prices", 10, NOW).topics[0]
    assert store.claim_alert(gas, "a", 2, NOW) is Claim.CLAIMED
    assert store.claim_alert(gas, "b", 2, NOW + timedelta(minutes=30)) is Claim.CLAIMED
    assert store.claim_alert(gas, "c", 2, NOW + timedelta(minutes=59)) is Claim.OVER_LIMIT
    assert store.claim_alert(other, "c", 2, NOW + timedelta(minutes=59)) is Claim.CLAIMED
    # An hour after the first alert one place is free again, and a held-back article may go.
    assert store.claim_alert(gas, "c", 2, NOW + timedelta(minutes=61)) is Claim.CLAIMED
    assert store.claim_alert(gas, "d", 2, NOW + timedelta(minutes=62)) is Claim.OVER_LIMIT


def test_known_articles_start_unknown_and_are_kept(path: Path) -> None:
    store = SqliteFollowStore(path)
    assert store.known_articles() is None  # never looked: a first start
    store.add_known([])
    assert store.known_articles() == frozenset()
    store.add_known(["a", "b"])
    store.add_known(["b", "c"])
    store.close()
    assert SqliteFollowStore(path).known_articles() == {"a", "b", "c"}


def test_times_without_a_zone_are_refused(path: Path) -> None:
    store = SqliteFollowStore(path)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.follow(1, "gas", 10, datetime(2024, 3, 5, 12, 0))


def test_the_file_sits_beside_the_index_unless_configured(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))
    settings = load_settings(index_dir=tmp_path / "data" / "index")
    assert store_path(settings) == (tmp_path / "data" / "follows.sqlite").resolve()
    chosen = tmp_path / "elsewhere.sqlite"
    assert store_path(settings.model_copy(update={"follows_file": chosen})) == chosen
