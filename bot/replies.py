"""Bot API replies checked before python-telegram-bot reads them, for servers other than Telegram's.

PTB takes every reply for Bot API JSON. One that is not (a web server's page at the configured
URL, JSON of another shape) would surface as a KeyError or a logged traceback; here it becomes
UnreadableReply, one line saying what came back, which `newsbot serve` reports when it happens
at start.

An update PTB cannot parse is worse: it logs the whole batch and fetches the same batch again,
forever, so no later update is ever answered. Such an update is swapped for an empty one with
the same id, which lets the offset move past it, and the warning says which one and why.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError

from newsbot.bot.http import AiohttpRequest

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
SHOWN = 80  # characters of an unreadable reply quoted in the error


class UnreadableReply(TelegramError):
    """A reply from the Bot API server that is not the Bot API's JSON."""


def bot_api_json(payload: bytes) -> JSONDict:
    """The reply as Bot API JSON (an object with "ok", and "result" when ok), or UnreadableReply."""
    text = payload.decode("utf-8", "replace")
    shown = text[:SHOWN] + ("…" if len(text) > SHOWN else "")
    try:
        data = json.loads(text)
    except ValueError:
        raise UnreadableReply(f"its reply is not JSON: {shown!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool) or (data["ok"] and "result" not in data):
        raise UnreadableReply(f'its reply is JSON but not a Bot API reply ({{"ok": …, "result": …}}): {shown!r}')
    return data


def readable_updates(result: object) -> list[JSONDict]:
    """getUpdates' result with every update PTB cannot parse replaced by an empty one (same id)."""
    if not isinstance(result, list) or not all(
        isinstance(u, dict) and isinstance(u.get("update_id"), int) for u in result
    ):
        raise UnreadableReply("its getUpdates result is not a list of updates with ids")
    readable = []
    for update in result:
        try:
            Update.de_json(update, None)
        except Exception as exc:  # noqa: BLE001 - a bad field raises whatever its parser raises
            # The id and the reason, never the update: it may hold a stranger's message.
            log.warning(
                "skipped update %s: python-telegram-bot cannot read it (%s: %s)",
                update["update_id"],
                type(exc).__name__,
                exc,
            )
            update = {"update_id": update["update_id"]}
        readable.append(update)
    return readable


class BotApiRequest(AiohttpRequest):
    """PTB's HTTP client, with each reply checked to be Bot API JSON."""

    @staticmethod  # as PTB declares it
    def parse_json_payload(payload: bytes) -> JSONDict:
        return bot_api_json(payload)


class UpdatesRequest(BotApiRequest):
    """The client that fetches updates: also drops, with a warning, each update PTB cannot read."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        data = bot_api_json(payload)
        if data["ok"]:
            data["result"] = readable_updates(data["result"])
        return data
