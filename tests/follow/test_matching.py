"""Topics against new articles (fake embedder): restricted search, matching, alerts claimed once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from newsbot.follow.alerts import AlertLimits, new_alerts
from newsbot.follow.matching import THRESHOLD_FILE, calibrated_threshold, match_topic, match_topics
from newsbot.follow.store import SqliteFollowStore
from newsbot.index.builder import IndexBuilder
from newsbot.retrieval.retriever import Retriever
from tests.conftest import write_article
from tests.retrieval.conftest import news_index, retriever  # noqa: F401 (fixtures)

NOW = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
# The fake embedder's scores are not the real model's: a threshold that parts its matches.
LIMITS = AlertLimits(threshold=0.9, per_hour=10)


def ids_by_path(retriever: Retriever) -> dict[str, str]:
    return {a.path: a.id for a in retriever.reader.chunks.all_articles()}


def test_answer_within_cites_only_the_chosen_article(retriever: Retriever) -> None:
    ids = ids_by_path(retriever)
    answer = retriever.answer_within("where does Macron travel?", [ids["gas-jan20.txt"]])
    assert answer.citations and {c.path for c in answer.citations} == {"gas-jan20.txt"}
    unrestricted = retriever.answer("where does Macron travel?")
    assert "gas-jan20.txt" not in {c.path for c in unrestricted.citations}


def test_a_restriction_to_no_chunks_finds_nothing(retriever: Retriever) -> None:
    ranking = retriever.rank("gas prices", retriever.mode, 5, within=np.zeros(0, dtype=np.int64))
    assert ranking.hits == []
    assert retriever.answer_within("gas prices", ["no-such-article"]).citations == []


def test_a_date_in_the_topic_narrows_within_the_restriction_but_never_to_nothing(retriever: Retriever) -> None:
    ids = ids_by_path(retriever)
    troops = [ids["troops-feb10.txt"], ids["troops-mar01.txt"]]
    within = retriever.chunks_of(troops)
    march = retriever.rank("news about troops in March 2022", retriever.mode, 5, within=within)
    assert {h.article.path for h in march.hits} == {"troops-mar01.txt"}
    june = retriever.rank("news about troops in June 2022", retriever.mode, 5, within=within)
    assert {h.article.path for h in june.hits} == {"troops-feb10.txt", "troops-mar01.txt"}
    # A date only mentioned (preferred, see tests/retrieval/test_dates.py) keeps the rest of the restriction.
    mentioned = retriever.rank("troops in March 2022", retriever.mode, 5, within=within)
    assert {h.article.path for h in mentioned.hits} == {"troops-feb10.txt", "troops-mar01.txt"}


def test_a_topic_matches_the_articles_about_it_and_not_the_others(retriever: Retriever) -> None:
    ids = ids_by_path(retriever)
    new = [ids["gas-jan20.txt"], ids["troops-feb10.txt"], ids["scholz-feb12.txt"]]
    [gas] = match_topic(retriever, "gas prices europe", new, LIMITS.threshold)
    assert gas.article_id == ids["gas-jan20.txt"] and gas.score >= LIMITS.threshold
    assert gas.citation.path == "gas-jan20.txt" and "Gas prices" in gas.citation.excerpt
    assert match_topic(retriever, "volcano eruption iceland", new, LIMITS.threshold) == []
    both = match_topics(retriever, ["gas prices europe", "volcano eruption iceland", "gas prices europe"], new, 0.9)
    assert list(both) == ["gas prices europe", "volcano eruption iceland"]  # each topic scored once


def test_many_new_articles_are_narrowed_by_one_search_first(retriever: Retriever) -> None:
    retriever.top_k = 2  # fewer than the new articles: only those the topic's search finds are scored
    everything = list(ids_by_path(retriever).values())
    found = match_topic(retriever, "troops near ukraine border", everything, LIMITS.threshold)
    assert {m.citation.path for m in found} == {"troops-feb10.txt", "troops-mar01.txt"}


def test_the_shipped_threshold_is_a_probability_with_its_fit_recorded() -> None:
    threshold = calibrated_threshold()
    assert 0 < threshold < 1
    shipped = json.loads(THRESHOLD_FILE.read_text(encoding="utf-8"))
    assert "dev" in shipped["fitted"] and shipped["test"]["precision"] >= 0 and shipped["script"]


def test_a_bad_threshold_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "threshold.json"
    bad.write_text('{"threshold": 7}')
    with pytest.raises(ValueError, match="threshold must be a number from 0 to 1"):
        calibrated_threshold(bad)


# --- alerts after a rebuild --------------------------------------------------------------------


@pytest.fixture
def growing(tmp_path: Path, fake_embedder):
    """Seeds with two articles, and a way to add one and reopen the index."""
    seeds = tmp_path / "seeds"
    write_article(seeds, "gas.txt", "Gas prices in Europe", "Gas prices in Europe rose by 30 percent in January.")
    write_article(seeds, "rain.txt", "Rain in the north", "Heavy rain is expected across the north this weekend.")

    def build() -> Retriever:
        IndexBuilder(fake_embedder, chunk_tokens=64).build(seeds, tmp_path / "index")
        return Retriever.open(tmp_path / "index", embedder=fake_embedder)

    return seeds, build


def test_new_articles_raise_one_alert_per_matching_topic_and_never_again(growing, tmp_path: Path) -> None:
    seeds, build = growing
    store = SqliteFollowStore(tmp_path / "follows.sqlite")
    gas = store.follow(1, "gas prices europe", 10, NOW).topics[0]
    store.follow(2, "volcano eruption", 10, NOW)
    first = new_alerts(store, build(), LIMITS, NOW)
    assert first.alerts == () and first.new_articles == 0  # a first look takes the archive as seen

    write_article(seeds, "gas2.txt", "Gas prices in Europe fall", "Gas prices in Europe fell by 10 percent in March.")
    write_article(seeds, "okapi.txt", "A baby okapi", "The city zoo announced the birth of a baby okapi.")
    retriever = build()
    found = new_alerts(store, retriever, LIMITS, NOW)
    assert found.new_articles == 2
    [alert] = found.alerts
    assert alert.topic == gas and alert.citation.path == "gas2.txt"
    assert new_alerts(store, retriever, LIMITS, NOW).alerts == ()  # looked at: not new any more


class ForgetfulStore(SqliteFollowStore):
    """Loses what it looked at, as a crash between sending and recording it would."""

    def add_known(self, article_ids) -> None:
        if self.known_articles() is None:
            super().add_known(article_ids)


def test_a_lost_look_sends_nothing_twice(growing, tmp_path: Path) -> None:
    seeds, build = growing
    store = ForgetfulStore(tmp_path / "follows.sqlite")
    store.follow(1, "gas prices europe", 10, NOW)
    new_alerts(store, build(), LIMITS, NOW)
    write_article(seeds, "gas2.txt", "Gas prices in Europe fall", "Gas prices in Europe fell by 10 percent in March.")
    retriever = build()
    assert len(new_alerts(store, retriever, LIMITS, NOW).alerts) == 1
    store.close()
    again = new_alerts(ForgetfulStore(tmp_path / "follows.sqlite"), retriever, LIMITS, NOW)
    assert again.new_articles == 1 and again.alerts == () and again.sent_before == 1


def test_the_hourly_limit_holds_alerts_back(growing, tmp_path: Path) -> None:
    seeds, build = growing
    store = SqliteFollowStore(tmp_path / "follows.sqlite")
    store.follow(1, "gas prices europe", 10, NOW)
    new_alerts(store, build(), LIMITS, NOW)
    for n in range(3):
        write_article(seeds, f"gas{n}.txt", f"Gas prices in Europe, day {n}", f"Gas prices in Europe rose {n} percent.")
    found = new_alerts(store, build(), AlertLimits(LIMITS.threshold, per_hour=2), NOW)
    assert len(found.alerts) == 2 and found.over_limit == 1
