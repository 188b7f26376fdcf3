"""`newsbot serve` and webhook mode: token checks, the secret, and the command end to end."""

from __future__ import annotations

import asyncio
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from typer.testing import CliRunner, Result

from newsbot.command import app
from newsbot.config.settings import Settings
from newsbot.testing.bot_api import FakeBotApi, Faults
from tests.bot.conftest import ROOT_DIR, run, running_bot, serve_process


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_refuses_a_missing_or_malformed_token_without_echoing_it() -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["serve"], env={"TELEGRAM_BOT_TOKEN": ""})
    assert missing.exit_code == 2 and "TELEGRAM_BOT_TOKEN is not set" in missing.output
    bad = "not-a-token-s3cr3t"
    malformed = runner.invoke(app, ["serve"], env={"TELEGRAM_BOT_TOKEN": bad})
    assert malformed.exit_code == 2 and "malformed" in malformed.output and bad not in malformed.output
    no_secret = runner.invoke(
        app,
        ["serve", "--webhook", "https://example.org/hook"],
        env={"TELEGRAM_BOT_TOKEN": "123:abc", "NEWSBOT_WEBHOOK_SECRET": ""},
    )
    assert no_secret.exit_code == 2 and "NEWSBOT_WEBHOOK_SECRET" in no_secret.output


def test_webhook_refuses_updates_without_the_secret(bot_settings: Settings) -> None:
    port = free_port()

    async def scenario() -> None:
        async with running_bot(bot_settings, polling=False) as bot:
            url = f"http://127.0.0.1:{port}/telegram"
            await bot.app.updater.start_webhook(
                listen="127.0.0.1", port=port, url_path="telegram", webhook_url=url, secret_token="s3cret-value"
            )
            assert bot.api.webhook["url"] == url and bot.api.webhook["secret_token"] == "s3cret-value"
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 31, "type": "private"},
                    "from": {"id": 31, "is_bot": False, "first_name": "A"},
                    "text": "/help",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                },
            }
            async with aiohttp.ClientSession() as http:
                async with http.post(url, json=update) as response:
                    assert response.status == 403
                wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
                async with http.post(url, json=update, headers=wrong) as response:
                    assert response.status == 403
                right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
                async with http.post(url, json=update | {"update_id": 2}, headers=right) as response:
                    assert response.status == 200
            [sent] = await bot.api.wait_for("sendMessage")
            assert sent.params["chat_id"] == 31 and "/sources" in sent.params["text"]
            assert len(bot.api.sent()) == 1

    run(scenario())


def test_newsbot_serve_answers_over_long_polling_and_keeps_the_token_out_of_logs(tmp_path: Path) -> None:
    from tests.bot.conftest import ARTICLES, write_corpus

    seeds = write_corpus(tmp_path / "seeds", ARTICLES)
    # The command itself, in its own process, with only the embedder swapped for the fake one.
    launcher = textwrap.dedent("""
        import sys
        import newsbot.bot.serve
        import newsbot.command
        from tests.fakes.embedder import FakeEmbedder
        newsbot.bot.serve.make_embedder = lambda settings: FakeEmbedder()
        sys.argv = ["newsbot", "serve", "--verbose"]
        newsbot.command.main()
    """)

    async def scenario() -> str:
        async with FakeBotApi() as api:
            argv = [sys.executable, "-c", launcher]
            async with serve_process(
                api, seeds, tmp_path / "index", argv, tmp_path, NEWSBOT_MIN_CONFIDENCE="0.05", PYTHONPATH=str(ROOT_DIR)
            ) as served:
                await api.message("when does Scholz visit Kyiv?")
                [sent] = await api.wait_for("sendMessage", timeout=120)
                assert "February 14" in sent.params["text"]
            assert served.process.returncode == 0, served.output
            return served.output

    output = run(scenario())
    assert "serving 3 articles by long polling" in output
    assert "123456:" not in output and "TEST-token_abc" not in output
    assert "Traceback" not in output


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`serve` configures the root logger for its process; in-process runs must put it back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def serve_until_it_fails(tmp_path: Path, api: FakeBotApi, token: str) -> Result:
    """`newsbot serve` in this process (fake embedder) against ``api``, run on a loop of its own
    for as long as serve runs; for starts that fail, since serve returns only then."""
    import threading

    from tests.bot.conftest import ARTICLES, write_corpus

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(api.start(), loop).result(10)
    # run_polling runs on this thread's event loop and closes it when done: one per serve.
    asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        return CliRunner().invoke(
            app,
            ["serve"],
            env={
                "TELEGRAM_BOT_TOKEN": token,
                "NEWSBOT_TELEGRAM_API_URL": api.base_url,
                "NEWSBOT_SEEDS_DIR": str(write_corpus(tmp_path / "seeds", ARTICLES)),
                "NEWSBOT_INDEX_DIR": str(tmp_path / "index"),
            },
        )
    finally:
        asyncio.set_event_loop(None)
        asyncio.run_coroutine_threadsafe(api.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import newsbot.bot.serve
    from tests.fakes.embedder import FakeEmbedder

    monkeypatch.setattr(newsbot.bot.serve, "make_embedder", lambda settings: FakeEmbedder())


@pytest.mark.usefixtures("restore_logging", "fake_model")
def test_a_token_the_api_rejects_is_one_clear_line_and_never_printed(tmp_path: Path) -> None:
    api = FakeBotApi()
    wrong = "987654:WRONG-secret_value"
    result = serve_until_it_fails(tmp_path, api, wrong)
    assert result.exit_code == 1, result.output
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in result.output
    assert wrong not in result.output and "WRONG-secret" not in result.output
    assert "Traceback" not in result.output
    assert [c.status for c in api.calls if c.method == "getMe"] == [401]


@pytest.mark.usefixtures("restore_logging", "fake_model")
@pytest.mark.parametrize(
    "kind, said",
    [("malformed", "its reply is not JSON: '<html><body><h1>Welcome to nginx!"), ("no_result", "not a Bot API reply")],
)
def test_a_reply_that_is_not_bot_api_json_stops_serve_with_one_clear_line(tmp_path: Path, kind: str, said: str) -> None:
    api = FakeBotApi()
    api.inject(Faults({}, script={"getMe": [kind]}))
    result = serve_until_it_fails(tmp_path, api, api.token)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: cannot use the Bot API at {api.base_url}: ") and said in line, line
    assert "Traceback" not in result.output


def test_the_logs_hide_the_state_servers_and_the_databases_urls_and_passwords() -> None:
    from pydantic import SecretStr

    from newsbot.bot.serve import state_secrets

    settings = Settings(
        redis_url=SecretStr("redis://:r3dis-pw@127.0.0.1:6379/0"),
        database_url=SecretStr("postgresql://newsbot:pg-pw@127.0.0.1:5432/news"),
    )
    hidden = state_secrets(settings)
    assert {"r3dis-pw", "pg-pw"} <= set(hidden)
    assert "postgresql://newsbot:pg-pw@127.0.0.1:5432/news" in hidden
    assert state_secrets(Settings()) == []
