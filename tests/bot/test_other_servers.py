"""Bot API servers that are not quite Telegram's: a refused setMyCommands, updates PTB cannot
read, and the reasons behind python-telegram-bot's own error lines.

A reply that is not Bot API JSON at start is in test_serve.py (`newsbot serve` exits with one line).
"""

from __future__ import annotations

import logging
import sys

import pytest
from telegram.error import NetworkError

from newsbot.bot.serve import RedactingFormatter
from newsbot.config.settings import Settings
from newsbot.testing.bot_api import Faults
from tests.bot.conftest import run, running_bot

QUESTION = "when does Scholz visit Kyiv?"


@pytest.mark.parametrize("kind, status", [("bad_request", 400), ("not_found", 404)])
def test_a_server_that_refuses_set_my_commands_still_gets_a_working_bot(
    bot_settings: Settings, caplog: pytest.LogCaptureFixture, kind: str, status: int
) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings, faults=Faults({}, script={"setMyCommands": [kind]})) as bot:
            await bot.api.message(QUESTION)
            [sent] = await bot.api.wait_for("sendMessage")
            assert "February 14" in sent.params["text"]
            assert [c.status for c in bot.api.calls if c.method == "setMyCommands"] == [status]

    with caplog.at_level(logging.INFO):
        run(scenario())
    warned = [r.getMessage() for r in caplog.records if r.name == "newsbot.bot.app" and r.levelno == logging.WARNING]
    assert len(warned) == 1 and "setMyCommands failed" in warned[0] and "commands still work" in warned[0]


def test_an_update_ptb_cannot_read_is_skipped_with_a_warning_and_the_next_one_answered(
    bot_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    private = "PRIVATE-words"

    async def scenario() -> int:
        async with running_bot(bot_settings) as bot:
            bad = await bot.api.push(
                {
                    "message": {
                        "message_id": 5,
                        "date": "yesterday",  # an integer in the Bot API
                        "chat": {"id": 100, "type": "private"},
                        "text": private,
                    }
                }
            )
            await bot.api.message(QUESTION)
            [sent] = await bot.api.wait_for("sendMessage")
            assert "February 14" in sent.params["text"]
            return bad["update_id"]

    with caplog.at_level(logging.INFO):
        bad_id = run(scenario())
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("newsbot")]
    assert [m for m in warned if m.startswith(f"skipped update {bad_id}: python-telegram-bot cannot read it (")]
    assert not [r for r in caplog.records if private in r.getMessage()]  # the update's text is never logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_telegram_record_keeps_the_reason_when_its_traceback_is_left_out() -> None:
    try:
        raise NetworkError("Bad Gateway\nat https://api.example/bot123:secret/getUpdates")
    except NetworkError:
        record = logging.LogRecord(
            "telegram.ext.Updater", logging.ERROR, __file__, 1, "polling failed %s", ("once",), sys.exc_info()
        )
    plain = RedactingFormatter("%(name)s: %(message)s", ["123:secret"]).format(record)
    assert plain == (
        "telegram.ext.Updater: polling failed once "
        "(NetworkError: Bad Gateway at https://api.example/bot<redacted>/getUpdates)"
    )
    verbose = RedactingFormatter("%(message)s", ["123:secret"], verbose=True).format(record)
    assert "Traceback" in verbose and "123:secret" not in verbose
