"""Buttons, inline mode, allow-list, admin commands, flood control and odd messages, end to end."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from newsbot.config.settings import Settings
from newsbot.retrieval.records import Answer
from newsbot.retrieval.retriever import Retriever
from tests.bot.conftest import ADMIN, ARTICLES, fake_factory, run, running_bot, write_corpus

QUESTION = "when does Scholz visit Kyiv?"


def test_sources_and_more_buttons_are_answered_and_expand(bot_settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            await bot.api.message(QUESTION)
            [answer] = await bot.api.wait_for("sendMessage")
            message = answer.result
            mark = len(bot.api.calls)
            await bot.api.press(message, "s:1")
            [edit] = await bot.api.wait_for("editMessageText", after=mark)
            assert "paragraph" in edit.params["text"] and "score" in edit.params["text"]
            assert [b["text"] for b in edit.params["reply_markup"]["inline_keyboard"][0]] == ["More"]
            await bot.api.press(message, "m:1")
            more = await bot.api.wait_for("sendMessage", lambda c: "More on" in c.params["text"], after=mark)
            cited = answer.params["text"].count("<blockquote>")
            assert f"[{cited + 1}]" in more[0].params["text"]  # numbering goes on after the citations
            await bot.api.press(message, "s:999")  # an answer long forgotten
            await bot.api.press(message, "x" * 64)
            answered = await bot.api.wait_for("answerCallbackQuery", count=4, after=mark)
            assert sum("too old" in (c.params.get("text") or "") for c in answered) == 2

    run(scenario())


def test_sources_command_and_follow_up_history(bot_settings: Settings) -> None:
    seen: list[list[Answer] | None] = []
    embedder_factory = fake_factory()

    class Spy(Retriever):
        def answer(self, question: str, history: list[Answer] | None = None, k: int | None = None) -> Answer:
            seen.append(history)
            return super().answer(question, history=history, k=k)

    def factory(settings: Settings) -> Retriever:
        plain = embedder_factory(settings)
        return Spy(plain.reader, plain.embedder, top_k=plain.top_k, mode=plain.mode)

    async def scenario() -> None:
        async with running_bot(bot_settings, factory) as bot:
            await bot.api.message("/sources")
            [none] = await bot.api.wait_for("sendMessage")
            assert "no answer in this chat yet" in none.params["text"]
            await bot.api.message(QUESTION)
            await bot.api.wait_for("sendMessage", count=2)
            await bot.api.message("and Moscow?")
            await bot.api.wait_for("sendMessage", count=3)
            await bot.api.message("/sources")
            sources = await bot.api.wait_for("sendMessage", count=4)
            assert "Sources for “and Moscow?”" in sources[-1].params["text"]
        assert seen[0] == [] and [a.question for a in seen[1]] == [QUESTION]

    run(scenario())


def test_inline_query_offers_the_answer_as_articles(bot_settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            for typed in ("wh", "when does Sch", QUESTION):  # one query per keystroke
                await bot.api.inline(typed)
            await bot.api.inline("", user_id=101)
            calls = await bot.api.wait_for("answerInlineQuery", count=2)
            await bot.api.settle()
            assert len(bot.api.sent("answerInlineQuery")) == 2  # the half-typed ones are dropped
            results = next(c.params["results"] for c in calls if c.params["results"])
            assert all(r["type"] == "article" for r in results)
            content = results[0]["input_message_content"]
            assert content["parse_mode"] == "HTML" and "February 14" in content["message_text"]
            assert len({r["id"] for r in results}) == len(results)
            assert QUESTION in content["message_text"]

    run(scenario())


def test_allow_list_refuses_other_chats_once(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"allowed_chat_ids": [5]})

    async def scenario() -> None:
        async with running_bot(settings) as bot:
            await bot.api.message(QUESTION, chat_id=6, user_id=6)
            await bot.api.message(QUESTION, chat_id=6, user_id=6)
            await bot.api.message(QUESTION, chat_id=5, user_id=5)
            await bot.api.inline(QUESTION, user_id=6)
            await bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 5)
            await bot.api.wait_for("answerInlineQuery")
            await bot.api.settle()
            refused = bot.api.sent(chat_id=6)
            assert len(refused) == 1 and "only answers in the chats" in refused[0].params["text"]
            assert bot.api.sent("answerInlineQuery")[0].params["results"] == []
            assert "February 14" in bot.api.sent(chat_id=5)[0].params["text"]

    run(scenario())


def test_reindex_is_refused_to_non_admins_and_picks_up_a_new_article(bot_settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            old = bot.newsbot.retriever
            await bot.api.message("/reindex", chat_id=9, user_id=9)
            [refusal] = await bot.api.wait_for("sendMessage")
            assert "only the bot's admins" in refusal.params["text"]

            articles = [
                *ARTICLES,
                {
                    "title": "Zookeepers welcome a baby okapi",
                    "date": "2022-02-20",
                    "text": "The city zoo announced the birth of a baby okapi named Kito.",
                },
            ]
            write_corpus(Path(bot_settings.seeds_dir), articles)
            await bot.api.message("/reindex", chat_id=ADMIN, user_id=ADMIN)
            await bot.api.message(QUESTION, chat_id=ADMIN, user_id=ADMIN)  # still answered meanwhile
            done = await bot.api.wait_for("sendMessage", lambda c: "new index is in use" in c.params["text"])
            assert "added 1" in done[0].params["text"] and "4 articles" in done[0].params["text"]
            assert bot.newsbot.retriever is not old

            await bot.api.message("what is the name of the baby okapi?", chat_id=ADMIN, user_id=ADMIN)
            okapi = await bot.api.wait_for("sendMessage", lambda c: "okapi" in c.params["text"])
            assert "Kito" in okapi[0].params["text"]
            await bot.api.message("/start", chat_id=ADMIN, user_id=ADMIN)
            start = await bot.api.wait_for("sendMessage", lambda c: "Hi!" in c.params["text"])
            assert "4 news articles" in start[0].params["text"] and "20 Feb 2022" in start[0].params["text"]

    run(scenario())


def test_429_retry_after_is_honoured(bot_settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            flood = bot.api.flood("sendMessage", retry_after=1, times=1)
            await bot.api.message(QUESTION)
            [sent] = await bot.api.wait_for("sendMessage")
            refused = [c for c in bot.api.calls if c.method == "sendMessage" and c.status == 429]
            assert len(refused) == 1 and flood.early_retries == 0
            assert "February 14" in sent.params["text"]

    run(scenario())


def test_flood_from_one_user_gets_one_friendly_note(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"throttle_questions": 2, "throttle_seconds": 600})

    async def scenario() -> None:
        async with running_bot(settings) as bot:
            for _ in range(6):
                await bot.api.message(QUESTION, user_id=11, chat_id=11)
            await bot.api.message(QUESTION, user_id=12, chat_id=12)
            await bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 12)
            await bot.api.settle()
            texts = [c.params["text"] for c in bot.api.sent(chat_id=11)]
            assert sum("faster than I can read" in t for t in texts) == 1
            assert sum("February 14" in t for t in texts) == 2

    run(scenario())


def test_odd_messages_get_a_friendly_reply_or_silence(bot_settings: Settings) -> None:
    sticker = {
        "sticker": {
            "file_id": "f",
            "file_unique_id": "u",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    }
    voice = {"voice": {"file_id": "v", "file_unique_id": "vu", "duration": 2}}

    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            await bot.api.message(None, extra=sticker, chat_id=20, user_id=20)
            await bot.api.message(None, extra=voice, chat_id=-20, chat_type="group", user_id=20)
            await bot.api.message("/ask", chat_id=21, user_id=21)
            await bot.api.message("x" * (bot_settings.max_question_chars + 1), chat_id=22, user_id=22)
            await bot.api.message('<b>when</b> does "Scholz" & co visit <a href="x">Kyiv</a>?', chat_id=23, user_id=23)
            await bot.api.message("/frobnicate", chat_id=24, user_id=24)
            await bot.api.wait_for("sendMessage", count=5)
            await bot.api.settle()
            by_chat = {c.params["chat_id"]: c.params["text"] for c in bot.api.sent()}
            assert "only read text" in by_chat[20] and -20 not in by_chat
            assert "What would you like to know" in by_chat[21]
            assert f"under {bot_settings.max_question_chars}" in by_chat[22]
            assert "February 14" in by_chat[23]
            assert "/help" in by_chat[24]
            assert not [c for c in bot.api.calls if c.status == 400]

    run(scenario())


def test_a_failing_answer_is_logged_and_the_user_gets_an_apology(
    bot_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Retriever):
        def answer(self, question: str, history: list[Answer] | None = None, k: int | None = None) -> Answer:
            raise RuntimeError("index on fire")

    def factory(settings: Settings) -> Retriever:
        plain = fake_factory()(settings)
        return Broken(plain.reader, plain.embedder)

    async def scenario() -> None:
        async with running_bot(bot_settings, factory) as bot:
            await bot.api.message(QUESTION)
            [sent] = await bot.api.wait_for("sendMessage")
            assert "something went wrong" in sent.params["text"] and "fire" not in sent.params["text"]

    with caplog.at_level(logging.ERROR):
        run(scenario())
    failed = [r for r in caplog.records if r.exc_info and "index on fire" in str(r.exc_info[1])]
    assert failed


def test_start_and_help_describe_the_bot(bot_settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            await bot.api.message("/start")
            await bot.api.message("/help")
            texts = [c.params["text"] for c in await bot.api.wait_for("sendMessage", count=2)]
            start = next(t for t in texts if t.startswith("Hi!"))
            assert "3 news articles" in start and "1 Feb 2022 to 11 Feb 2022" in start
            assert bot_settings.example_question in start
            assert any("/reindex" in t and "/sources" in t for t in texts)

    run(scenario())


def test_start_says_one_article_in_the_singular_and_one_date_once(bot_settings: Settings, tmp_path: Path) -> None:
    seeds = write_corpus(tmp_path / "one", ARTICLES[:1])
    settings = bot_settings.model_copy(update={"seeds_dir": seeds, "index_dir": tmp_path / "one-index"})

    async def scenario() -> None:
        async with running_bot(settings) as bot:
            await bot.api.message("/start")
            [start] = await bot.api.wait_for("sendMessage")
            assert "questions from 1 news article, dated 11 Feb 2022, and cite" in start.params["text"]

    run(scenario())


def test_inline_queries_spend_the_same_per_user_budget_as_questions(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"throttle_questions": 2, "throttle_seconds": 600})

    async def scenario() -> None:
        async with running_bot(settings) as bot:
            await bot.api.message(QUESTION, chat_id=70, user_id=70)
            await bot.api.wait_for("sendMessage")
            for n, user in enumerate((70, 70, 70, 71), 1):  # each settles before the next is typed
                await bot.api.inline(QUESTION, user_id=user)
                await bot.api.wait_for("answerInlineQuery", count=n)
            allowed, warned, dropped, other = bot.api.sent("answerInlineQuery")
            assert allowed.params["results"] and other.params["results"]
            assert warned.params["results"] == [] and "Asking too fast" in warned.params["button"]
            assert dropped.params["results"] == [] and "button" not in dropped.params
            assert warned.params["is_personal"] and dropped.params["is_personal"]  # not cached for others

    run(scenario())


def test_fake_api_reads_json_bodies_too(bot_settings: Settings) -> None:
    import aiohttp

    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            async with aiohttp.ClientSession() as http:
                url = f"{bot.api.base_url}{bot.api.token}/sendMessage"
                async with http.post(url, json={"chat_id": 1, "text": "<b>x</b>", "parse_mode": "HTML"}) as r:
                    assert (await r.json())["result"]["text"] == "x"
                async with http.post(url, data={"chat_id": "1", "text": "<b>x", "parse_mode": "HTML"}) as r:
                    assert r.status == 400 and "can't parse entities" in (await r.json())["description"]
                async with http.post(f"{bot.api.base_url}0:bad/getMe") as r:
                    assert r.status == 401
            assert json.dumps(bot.api.calls[-1].params)

    run(scenario())


def test_a_slow_question_does_not_hold_up_other_chats(bot_settings: Settings) -> None:
    release = threading.Event()

    class Slow(Retriever):
        def answer(self, question: str, history: list[Answer] | None = None, k: int | None = None) -> Answer:
            if "slow" in question:
                release.wait(30)
            return super().answer(question, history=history, k=k)

    def factory(settings: Settings) -> Retriever:
        plain = fake_factory()(settings)
        return Slow(plain.reader, plain.embedder, top_k=plain.top_k)

    async def scenario() -> None:
        async with running_bot(bot_settings, factory) as bot:
            await bot.api.message("a slow question about Kyiv", chat_id=40, user_id=40)
            await bot.api.wait_for("sendChatAction", lambda c: c.params["chat_id"] == 40)
            await bot.api.message(QUESTION, chat_id=41, user_id=41)
            await bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 41)
            assert bot.api.sent(chat_id=40) == []  # still thinking, while chat 41 got its answer
            release.set()
            await bot.api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 40)

    try:
        run(scenario())
    finally:
        release.set()
