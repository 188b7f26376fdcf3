"""A stand-in for the Telegram Bot API on 127.0.0.1, speaking its wire format.

Requests arrive as ``POST /bot<token>/<method>`` with form-encoded (values JSON-encoded unless
they are plain strings) or JSON bodies; replies are ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}``. Tests push updates
(``message``, ``press``, ``inline``), then wait for what the bot sent (``wait_for``).
``inject`` adds faults to chosen methods: network ones (429, 5xx, slow replies, dropped
connections) and those of a Bot API server that is not quite Telegram's (a method it refuses or
lacks, a reply that is not JSON, JSON without the Bot API's envelope).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from newsbot.testing.telegram_html import TelegramHtmlError, visible_text

BOT_ID = 4242
BOT_USERNAME = "newsbot_test_bot"
# What an administrator's ChatMember carries besides can_be_edited, is_anonymous and can_manage_chat.
ADMIN_RIGHTS = (
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
# Parameters that are strings in the Bot API; the rest carry JSON in form bodies.
STRING_PARAMS = {
    "text",
    "parse_mode",
    "url",
    "secret_token",
    "callback_query_id",
    "inline_query_id",
    "action",
    "next_offset",
    "button",
    "certificate",
    "ip_address",
    "language_code",
}


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200  # 0: the connection was dropped before the API did anything
    result: Any = None  # what the API returned, e.g. the sent Message
    fault: str | None = None  # the injected fault, if any (see Faults)

    @property
    def accepted(self) -> bool:
        """The API did what was asked (for sendMessage: the user has the message), reply or not."""
        return self.status == 200 and self.fault not in SERVER_FAULTS


@dataclass
class Flood:
    """An injected 429: the next ``times`` calls to ``method`` are refused with ``retry_after``."""

    method: str
    retry_after: int
    times: int = 1
    blocked_until: float = 0.0
    early_retries: int = 0  # calls that came back before retry_after had passed


FAULT_KINDS = (
    "too_many",
    "server_error",
    "drop_before",
    "drop_after",
    "slow",
    "bad_request",
    "not_found",
    "malformed",
    "no_result",
)
# What the API sends for the server-side kinds: HTTP status and body.
SERVER_FAULTS: dict[str, tuple[int, bytes]] = {
    "bad_request": (400, b'{"ok": false, "error_code": 400, "description": "Bad Request: method is not supported"}'),
    "not_found": (404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'),
    "malformed": (200, b"<html><body><h1>Welcome to nginx!</h1></body></html>"),  # a web server, not the API
    "no_result": (200, b'{"status": "ok"}'),  # JSON, but not the Bot API's {"ok": ..., "result": ...}
}


@dataclass
class Faults:
    """Random network faults on some methods, each kind with its own odds per call.

    ``odds`` maps a method to the odds of each kind on one call to it. ``drop_before``: the
    connection closes before the API acts (nothing happened). ``drop_after``: the API acts (a
    message is delivered), then the connection closes, so the client cannot know it worked.
    ``slow`` delays the reply by up to ``slow_seconds``. ``too_many`` (429) is capped at
    ``max_too_many`` per method, since each one pauses every sender for ``retry_after`` seconds.
    The SERVER_FAULTS kinds answer without acting: ``bad_request`` (400) and ``not_found`` (404)
    as a server that refuses or lacks the method, ``malformed`` a 200 that is not JSON,
    ``no_result`` a 200 JSON object without the Bot API's envelope.
    ``script`` lists faults the next calls to a method get, in order, before the odds apply.
    """

    odds: dict[str, dict[str, float]]
    script: dict[str, list[str]] = field(default_factory=dict)
    retry_after: int = 1
    max_too_many: int = 10
    slow_seconds: float = 1.0
    seed: int = 0
    injected: Counter[str] = field(default_factory=Counter)  # "method/kind" -> count

    def __post_init__(self) -> None:
        for method, kinds in [*self.odds.items(), *self.script.items()]:
            unknown = set(kinds) - set(FAULT_KINDS)
            if unknown:
                raise ValueError(f"unknown fault kinds {sorted(unknown)} for {method}; known: {', '.join(FAULT_KINDS)}")
        for method, odds in self.odds.items():
            if sum(odds.values()) > 1:
                raise ValueError(f"fault odds for {method} add up to {sum(odds.values())}, more than 1")
        self._random = random.Random(self.seed)

    def draw(self, method: str) -> str | None:
        if self.script.get(method):
            kind = self.script[method].pop(0)
            self.injected[f"{method}/{kind}"] += 1
            return kind
        odds = self.odds.get(method)
        if not odds:
            return None
        roll, edge = self._random.random(), 0.0
        for kind in FAULT_KINDS:
            edge += odds.get(kind, 0.0)
            if roll < edge:
                if kind == "too_many" and self.injected[f"{method}/too_many"] >= self.max_too_many:
                    return None
                self.injected[f"{method}/{kind}"] += 1
                return kind
        return None

    def delay(self) -> float:
        return self._random.uniform(0.1, self.slow_seconds)


@dataclass
class FakeBotApi:
    token: str = "123456:TEST-token_abc"
    bot_id: int = BOT_ID
    username: str = BOT_USERNAME
    calls: list[Call] = field(default_factory=list)
    floods: dict[str, Flood] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    admins: dict[int, set[int]] = field(default_factory=dict)  # group id -> its admins (getChatMember)
    port: int = 0
    faults: Faults | None = None

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.last_update_id = 0
        self.confirmed_offset = 0  # getUpdates has been called with this offset: updates below it are gone
        self._runner: web.AppRunner | None = None

    # --- server -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What NEWSBOT_TELEGRAM_API_URL (PTB's base_url) should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params, time.monotonic())
        if request.match_info["token"] != self.token:
            return await self._record(call, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        fault = self.faults.draw(method) if self.faults is not None else None
        call.fault = fault
        if fault == "slow":
            await asyncio.sleep(self.faults.delay())  # type: ignore[union-attr]
        elif fault == "too_many":
            retry_after = self.faults.retry_after  # type: ignore[union-attr]
            return await self._record(
                call,
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
            )
        elif fault == "server_error":
            return await self._record(call, 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
        elif fault == "drop_before":
            call.status = 0
            return await self._drop(request, call)
        elif fault in SERVER_FAULTS:
            status, body = SERVER_FAULTS[fault]
            return await self._record_raw(call, status, body)
        flood = self.floods.get(method)
        if flood is not None:
            if call.at < flood.blocked_until:
                flood.early_retries += 1
            if flood.times > 0 or call.at < flood.blocked_until:
                flood.times = max(0, flood.times - 1)
                flood.blocked_until = max(flood.blocked_until, call.at + flood.retry_after)
                return await self._record(
                    call,
                    429,
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {flood.retry_after}",
                        "parameters": {"retry_after": flood.retry_after},
                    },
                )
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return await self._record(call, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        try:
            result = await handler(params)
        except ApiError as exc:
            return await self._record(call, 400, {"ok": False, "error_code": 400, "description": str(exc)})
        call.result = result
        if fault == "drop_after":
            return await self._drop(request, call)
        return await self._record(call, 200, {"ok": True, "result": result})

    async def _drop(self, request: web.Request, call: Call) -> web.Response:
        """Closes the connection without a reply, as a failing network or proxy would."""
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if request.transport is not None:
            request.transport.abort()
        return web.Response()  # goes nowhere: the transport is closed

    async def _record(self, call: Call, status: int, body: dict[str, Any]) -> web.Response:
        return await self._record_raw(call, status, json.dumps(body).encode())

    async def _record_raw(self, call: Call, status: int, body: bytes) -> web.Response:
        call.status = status
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        kind = "application/json" if body.startswith((b"{", b"[")) else "text/html"
        return web.Response(body=body, status=status, content_type=kind)

    # --- methods ----------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Newsbot", "username": self.username}

    async def _m_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def _m_setWebhook(self, p: dict[str, Any]) -> bool:
        if not str(p.get("url", "")).startswith(("http://", "https://")):
            raise ApiError("Bad Request: bad webhook: an HTTPS URL must be provided for webhook")
        self.webhook = p
        return True

    async def _m_setMyCommands(self, p: dict[str, Any]) -> bool:
        for command in p.get("commands", []):
            if not 1 <= len(command["command"]) <= 32 or not 1 <= len(command["description"]) <= 256:
                raise ApiError("Bad Request: BOT_COMMAND_INVALID")
        return True

    async def _m_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        async with self._changed:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates)), timeout)
            return self._updates[:limit]

    async def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        text = _checked_text(p)
        chat_id = int(p["chat_id"])
        message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chats.get(chat_id, {"id": chat_id, "type": "private"}),
            "from": self.bot_user(),
            "text": text,
        }
        reply = p.get("reply_parameters") or (
            {"message_id": p["reply_to_message_id"]} if "reply_to_message_id" in p else None
        )
        if reply:
            original = self.messages.get((chat_id, int(reply["message_id"])))
            if original is not None:
                message["reply_to_message"] = original
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        self.messages[(chat_id, message_id)] = message
        return message

    async def _m_editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:
        key = (int(p["chat_id"]), int(p["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise ApiError("Bad Request: message to edit not found")
        text = _checked_text(p)
        if message["text"] == text and message.get("reply_markup") == p.get("reply_markup"):
            raise ApiError("Bad Request: message is not modified")
        message = message | {"text": text, "edit_date": int(time.time())}
        if "reply_markup" in p:
            message["reply_markup"] = p["reply_markup"]
        self.messages[key] = message
        return message

    async def _m_getChatMember(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = int(p["chat_id"]), int(p["user_id"])
        if chat_id not in self.chats or self.chats[chat_id]["type"] == "private":
            raise ApiError("Bad Request: chat not found")
        status = "administrator" if user_id in self.admins.get(chat_id, set()) else "member"
        member: dict[str, Any] = {"status": status, "user": self.user(user_id)}
        if status == "administrator":
            member |= {"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True}
            member |= dict.fromkeys(ADMIN_RIGHTS, True)
        return member

    async def _m_sendChatAction(self, p: dict[str, Any]) -> bool:
        return True

    async def _m_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        return True

    async def _m_answerInlineQuery(self, p: dict[str, Any]) -> bool:
        results = p.get("results", [])
        if len(results) > 50 or len({r["id"] for r in results}) != len(results):
            raise ApiError("Bad Request: RESULT_ID_DUPLICATE")
        return True

    # --- what tests do ----------------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "en"}

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        async with self._changed:
            update = {"update_id": next(self._update_ids)} | update
            self.last_update_id = update["update_id"]
            self._updates.append(update)
            self._changed.notify_all()
        return update

    async def message(
        self,
        text: str | None = None,
        *,
        chat_id: int = 100,
        user_id: int = 100,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user's message, with bot_command and mention entities as Telegram would mark them."""
        chat = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = f"Group {chat_id}"
        self.chats[chat_id] = chat
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id),
        }
        if text is not None:
            message["text"] = text
            entities = _entities(text)
            if entities:
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message |= extra or {}
        self.messages[(chat_id, message["message_id"])] = message
        await self.push({"message": message})
        return message

    async def press(self, message: dict[str, Any], data: str, user_id: int = 100) -> dict[str, Any]:
        """A press on an inline button under one of the bot's messages."""
        return await self.push(
            {
                "callback_query": {
                    "id": f"cb{next(self._update_ids)}",
                    "from": self.user(user_id),
                    "chat_instance": "ci",
                    "message": message,
                    "data": data,
                }
            }
        )

    async def inline(self, query: str, user_id: int = 100) -> dict[str, Any]:
        return await self.push(
            {
                "inline_query": {
                    "id": f"iq{next(self._update_ids)}",
                    "from": self.user(user_id),
                    "query": query,
                    "offset": "",
                    "chat_type": "sender",
                }
            }
        )

    def inject(self, faults: Faults) -> Faults:
        """Starts injecting ``faults``; ``faults.injected`` counts what was injected."""
        self.faults = faults
        return faults

    def flood(self, method: str, retry_after: int, times: int = 1) -> Flood:
        self.floods[method] = Flood(method, retry_after, times)
        return self.floods[method]

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and c.accepted and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)
        ]

    async def wait_for(
        self,
        method: str,
        match: Callable[[Call], bool] = lambda c: True,
        *,
        count: int = 1,
        after: int = 0,
        timeout: float = 20.0,
    ) -> list[Call]:
        """Waits until ``count`` successful ``method`` calls matching ``match`` arrived (from index ``after``)."""

        def found() -> list[Call]:
            return [c for c in self.calls[after:] if c.method == method and c.accepted and match(c)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(found()) >= count), timeout)
        return found()

    async def settle(self, quiet: float = 0.3) -> None:
        """Returns once the bot has made no call for ``quiet`` seconds (to check for silence)."""
        seen = -1
        while seen != len(self.calls):
            seen = len(self.calls)
            await asyncio.sleep(quiet)


class ApiError(Exception):
    """A 400 Bad Request, as the real API words it."""


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    if request.method == "GET":
        form = dict(request.query)
    else:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    return {k: _decode(k, v) for k, v in form.items()}


def _decode(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _checked_text(p: dict[str, Any]) -> str:
    """The message text as Telegram stores it, or the 400 it gives for bad text."""
    text = p.get("text") or ""
    if p.get("parse_mode") == "HTML":
        try:
            text = visible_text(text)
        except TelegramHtmlError as exc:
            raise ApiError(f"Bad Request: can't parse entities: {exc}") from None
    if not text.strip():
        raise ApiError("Bad Request: message text is empty")
    if _utf16(text) > 4096:
        raise ApiError("Bad Request: message is too long")
    return text


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[dict[str, Any]]:
    found = []
    command = re.match(r"/\w+(@\w+)?", text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": _utf16(command.group(0))})
    for m in re.finditer(r"(?<![\w/])@\w{3,}", text):
        found.append({"type": "mention", "offset": _utf16(text[: m.start()]), "length": _utf16(m.group(0))})
    return found
