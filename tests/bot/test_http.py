"""The aiohttp connection PTB talks to the Bot API through: bodies, files, timeouts and errors."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from newsbot.bot.http import AiohttpRequest
from tests.bot.conftest import run


@asynccontextmanager
async def server(delay: float = 0.0) -> AsyncIterator[tuple[str, list[dict]]]:
    seen: list[dict] = []

    async def handle(request: web.Request) -> web.Response:
        form = await request.post()
        seen.append({k: (v.file.read() if hasattr(v, "file") else v) for k, v in form.items()})
        await asyncio.sleep(delay)
        result: dict = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "ok"}
        if request.path.endswith("/getMe"):
            result = {"id": 1, "is_bot": True, "first_name": "newsbot", "username": "newsbot_bot"}
        return web.json_response({"ok": True, "result": result})

    app = web.Application()
    app.router.add_post("/{path:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/bot", seen
    finally:
        await runner.cleanup()


def test_a_message_goes_out_with_its_parameters_and_the_reply_is_read() -> None:
    async def scenario() -> list[dict]:
        async with server() as (url, seen):
            request = AiohttpRequest(connection_pool_size=4)
            async with Bot("1:T", base_url=url, request=request, get_updates_request=request) as bot:
                sent = await bot.send_message(5, "<b>hi</b>", parse_mode="HTML")
                assert sent.text == "ok" and sent.chat.id == 5
            return seen

    [first, second] = run(scenario())  # getMe on initialize, then the message
    assert second == {"chat_id": "5", "text": "<b>hi</b>", "parse_mode": "HTML"}
    assert first == {}


def test_files_are_sent_as_multipart() -> None:
    async def scenario() -> list[dict]:
        async with server() as (url, seen):
            request = AiohttpRequest()
            await request.initialize()
            data = RequestData(
                [
                    RequestParameter.from_input("chat_id", 5),
                    RequestParameter.from_input("document", InputFile(b"abc", filename="a.txt")),
                ]
            )
            code, payload = await request.do_request(url + "1:T/sendDocument", "POST", data)
            await request.shutdown()
            assert code == 200 and json.loads(payload)["ok"]
            return seen

    [sent] = run(scenario())
    assert sent["chat_id"] == "5" and b"abc" in sent.values()


def test_a_slow_reply_is_a_timeout_and_a_closed_port_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]

    async def scenario() -> None:
        async with server(delay=2.0) as (url, _):
            request = AiohttpRequest()
            await request.initialize()
            with pytest.raises(TimedOut):
                await request.do_request(url + "1:T/getMe", "POST", read_timeout=0.2)
            with pytest.raises(NetworkError, match="aiohttp"):
                await request.do_request(f"http://127.0.0.1:{closed}/bot1:T/getMe", "POST")
            await request.shutdown()
        with pytest.raises(RuntimeError, match="not initialized"):
            await request.do_request(url + "1:T/getMe", "POST")

    run(scenario())


def test_the_pool_size_is_checked() -> None:
    with pytest.raises(ValueError, match="connection_pool_size must be at least 1, got 0"):
        AiohttpRequest(connection_pool_size=0)
