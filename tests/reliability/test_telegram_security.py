"""Security of the bot: refusals logged without text, the token never shown, question limits.

The webhook's secret check (403 without X-Telegram-Bot-Api-Secret-Token) is tested end to end in
tests/bot/test_serve.py::test_webhook_refuses_updates_without_the_secret.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from newsbot.bot.serve import TOKEN_SHAPE, configure_logging
from newsbot.config.settings import Settings
from newsbot.retrieval.records import Answer
from newsbot.retrieval.retriever import Retriever
from newsbot.testing.bot_api import FakeBotApi, Faults
from tests.bot.conftest import ADMIN, bot_settings, fake_factory, run, running_bot  # noqa: F401 (fixture)
from tests.reliability.test_telegram_load import start_bot, stop_bot

QUESTION = "when does Scholz visit Kyiv?"
# A token shaped like a real one, with a part no log line could contain by chance.
CANARY = "987654321:AAE-newsbot_LEAK-canary-7f3a"
CANARY_PART = "LEAK-canary-7f3a"


class RecordList(logging.Handler):
    """Keeps every record as it was emitted, before any formatter sees it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def text_of(record: logging.LogRecord) -> str:
    """Everything a handler could write for ``record``: message, arguments and traceback."""
    return logging.Formatter("%(name)s %(message)s").format(record)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The test configures logging as `newsbot serve --verbose` does; put everything back after."""
    names = ["", "aiohttp", "httpx", "httpcore", "telegram"]
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level) for n in names}
    try:
        yield
    finally:
        for name, (handlers, level) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).setLevel(level)


def test_refusals_are_logged_without_the_message_text(bot_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    settings = bot_settings.model_copy(update={"allowed_chat_ids": [5, ADMIN]})
    private = "SECRET-words"

    async def scenario() -> None:
        async with running_bot(settings) as bot:
            await bot.api.message(f"/reindex {private} one", chat_id=5, user_id=5)
            await bot.api.message(f"{private} two", chat_id=6, user_id=6)
            await bot.api.message(f"{private} three", chat_id=6, user_id=6)
            await bot.api.inline(f"{private} four", user_id=6)
            await bot.api.wait_for("sendMessage", count=2)
            await bot.api.wait_for("answerInlineQuery")
            await bot.api.settle()
            texts = {c.params["chat_id"]: c.params["text"] for c in bot.api.sent()}
            assert "only the bot's admins" in texts[5] and "only answers in the chats" in texts[6]
            assert private not in "".join(texts.values())

    with caplog.at_level(logging.DEBUG):
        run(scenario())
    refusals = [
        r.getMessage() for r in caplog.records if r.name == "newsbot.bot.access" and "refused" in r.getMessage()
    ]
    assert any("/reindex from user 5 in chat 5" in m for m in refusals), refusals
    assert sum("from chat 6 (user 6)" in m for m in refusals) == 2, refusals
    assert sum("from chat - (user 6)" in m for m in refusals) == 1, refusals  # the inline query
    # newsbot's own records at any level, and everyone's at INFO and above (what `newsbot serve`
    # logs without --verbose). PTB's DEBUG records do carry update payloads: --verbose is for
    # debugging and logs message texts.
    shown = [text_of(r) for r in caplog.records if r.name.startswith("newsbot.bot") or r.levelno >= logging.INFO]
    assert shown and not [line for line in shown if private in line]


@pytest.mark.usefixtures("restore_logging")
def test_the_token_never_reaches_a_log_line_or_a_user(bot_settings: Settings, tmp_path: Path) -> None:
    assert TOKEN_SHAPE.match(CANARY)

    class Leaky(Retriever):
        """Fails with the token in its error, as a careless library might."""

        def answer(self, question: str, history: list[Answer] | None = None, k: int | None = None) -> Answer:
            if "explode" in question:
                raise RuntimeError(f"could not answer with token {CANARY} at https://api.telegram.org/bot{CANARY}/")
            return super().answer(question, history=history, k=k)

    def factory(settings: Settings) -> Retriever:
        plain = fake_factory()(settings)
        return Leaky(plain.reader, plain.embedder, top_k=plain.top_k)

    # What `newsbot serve --verbose` sets up, with the HTTP clients' loggers opened up to DEBUG as well.
    configure_logging([CANARY], verbose=True)
    out = io.StringIO()
    [handler] = logging.getLogger().handlers
    handler.setStream(out)  # type: ignore[attr-defined]
    raw = RecordList()
    logging.getLogger().addHandler(raw)
    for name in ("aiohttp", "httpx", "httpcore", "telegram"):
        logging.getLogger(name).setLevel(logging.DEBUG)

    async def scenario() -> list[str]:
        async with FakeBotApi(token=CANARY) as api:
            settings = bot_settings.model_copy(
                update={"telegram_api_url": api.base_url, "telegram_bot_token": SecretStr(CANARY)}
            )
            bot = await start_bot(api, settings, factory)
            try:
                faults = api.inject(
                    Faults(
                        {"getUpdates": {"server_error": 0.2, "drop_after": 0.2}},
                        script={"sendMessage": ["drop_before"] * 5},
                    )
                )
                await api.message(QUESTION, chat_id=51, user_id=51)  # its answer fails five times
                await api.wait_for("sendMessage", timeout=60)
                assert faults.injected["sendMessage/drop_before"] == 5
                await api.message("explode please", chat_id=52, user_id=52)
                await api.message(QUESTION, chat_id=53, user_id=53)
                await api.wait_for("sendMessage", count=3, timeout=60)
                await api.settle()
            finally:
                await stop_bot(bot.app)
            return [str(c.params.get("text", "")) for c in api.calls if c.method == "sendMessage"]

    sent = run(scenario())
    apologies = [t for t in sent if "something went wrong" in t]
    assert len(apologies) == 2  # the answer lost to the network, and the exploding question
    assert not [t for t in sent if CANARY_PART in t or "could not answer" in t]
    # The canary did reach the logging system (the exploding question's traceback holds it; the
    # aiohttp connection logs no URLs, and the feeds' httpx logs no Bot API URL) ...
    assert any(CANARY_PART in text_of(r) for r in raw.records)
    assert any(r.exc_info and CANARY_PART in str(r.exc_info[1]) for r in raw.records)
    # ... and every line written is free of it, tracebacks included.
    written = out.getvalue()
    assert "Traceback" in written and "<redacted>" in written
    assert CANARY_PART not in written and "987654321" not in written


def test_question_length_is_limited_before_anything_reads_the_question(bot_settings: Settings) -> None:
    seen: list[str] = []

    class Spy(Retriever):
        def answer(self, question: str, history: list[Answer] | None = None, k: int | None = None) -> Answer:
            seen.append(question)
            return super().answer(question, history=history, k=k)

    def factory(settings: Settings) -> Retriever:
        plain = fake_factory()(settings)
        return Spy(plain.reader, plain.embedder, top_k=plain.top_k)

    limit = bot_settings.max_question_chars
    at_limit = (QUESTION + " ") * (limit // len(QUESTION))
    at_limit = at_limit.ljust(limit, "x")
    too_long = at_limit + "y"
    document = {
        "document": {
            "file_id": "big",
            "file_unique_id": "bigu",
            "file_name": "news.zip",
            "mime_type": "application/zip",
            "file_size": 2_000_000_000,
        }
    }

    async def scenario() -> None:
        async with running_bot(bot_settings, factory) as bot:
            await bot.api.message(too_long, chat_id=61, user_id=61)
            await bot.api.message(f"/ask {too_long}", chat_id=62, user_id=62)
            await bot.api.message(f"@{bot.api.username} {too_long}", chat_id=-63, chat_type="group", user_id=63)
            await bot.api.inline(too_long, user_id=64)
            await bot.api.message(None, extra=document, chat_id=65, user_id=65)
            await bot.api.message(at_limit, chat_id=66, user_id=66)
            await bot.api.wait_for("sendMessage", count=5)
            await bot.api.wait_for("answerInlineQuery")
            await bot.api.settle()
            texts = {c.params["chat_id"]: c.params["text"] for c in bot.api.sent()}
            for chat in (61, 62, -63):
                assert f"{len(too_long)} characters long" in texts[chat] and f"under {limit}" in texts[chat]
                assert QUESTION not in texts[chat]  # the question is not echoed back
            assert bot.api.sent("answerInlineQuery")[0].params["results"] == []
            assert "only read text" in texts[65]
            assert not [c for c in bot.api.calls if c.method == "getFile"]  # files are never fetched
            assert "February 14" in texts[66]

    run(scenario())
    assert seen == [at_limit.strip()]
