"""Bot state in one Redis server that several replicas share, every step atomic on the server.

Keys, under ``prefix`` (the user or chat id in braces, so one id's keys share a cluster slot):

    PREFIX:chat:{ID}      hash: next (last turn number), a:N (turn N's answer, JSON), m:N (More shown)
    PREFIX:seen:{ID}      sorted set: the user's questions in the throttle window, scored by time (ms)
    PREFIX:warned:{ID}    set once the user was told they ask too fast, for one window
    PREFIX:inline:{ID}    the user's newest inline query id
    PREFIX:refused:{ID}   the chat was told it is outside the allow-list
    PREFIX:lease          which replica polls feeds and sends alerts (its holder id)

Every key carries an expiry, renewed when written, so an idle chat or user leaves nothing behind.
Answers are stored as JSON (pydantic's own dump of the Answer record), never pickled.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from newsbot.bot.shared import StateLimits, Turn, Verdict
from newsbot.retrieval.records import Answer

# KEYS[1] chat hash; ARGV: answer JSON, turns kept, expiry (ms). Returns the new turn number.
REMEMBER = """
local id = redis.call('HINCRBY', KEYS[1], 'next', 1)
redis.call('HSET', KEYS[1], 'a:' .. id, ARGV[1])
local gone = id - tonumber(ARGV[2])
if gone > 0 then redis.call('HDEL', KEYS[1], 'a:' .. gone, 'm:' .. gone) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id
"""
# KEYS[1] chat hash; ARGV: how many turns. Returns the answers' JSON, oldest first (missing: nil).
HISTORY = """
local last = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
local fields = {}
for id = math.max(1, last - tonumber(ARGV[1]) + 1), last do fields[#fields + 1] = 'a:' .. id end
if #fields == 0 then return {} end
return redis.call('HMGET', KEYS[1], unpack(fields))
"""
# KEYS[1] chat hash; ARGV: turn number, count. Only for a turn still kept: a bare HINCRBY on an
# expired chat would make a key without an expiry.
SHOWN_MORE = """
if redis.call('HEXISTS', KEYS[1], 'a:' .. ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'm:' .. ARGV[1], ARGV[2])
end
return 0
"""
# KEYS[1] seen, KEYS[2] warned; ARGV: now (ms), window (ms), limit, a unique member.
# The sliding window of Throttle: drop stamps a window old, count, then admit, warn or drop.
CHECK = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('DEL', KEYS[2])
  return 'allow'
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 'warn' end
return 'drop'
"""

# KEYS[1] lease; ARGV: holder, expiry (ms). Renews the holder's lease, or takes a free one.
LEAD = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not held then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
# KEYS[1] lease; ARGV: holder. Only the holder may give it up.
STEP_DOWN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisState:
    """BotState in Redis. ``clock`` (wall time, which replicas share) stamps throttle entries."""

    def __init__(
        self, client: Redis, limits: StateLimits, *, prefix: str = "newsbot", clock: Callable[[], float] = time.time
    ) -> None:
        self.client = client
        self.limits = limits
        self.prefix = prefix
        self.clock = clock
        self._remember = client.register_script(REMEMBER)
        self._history = client.register_script(HISTORY)
        self._check = client.register_script(CHECK)
        self._shown_more = client.register_script(SHOWN_MORE)
        self._lead = client.register_script(LEAD)
        self._step_down = client.register_script(STEP_DOWN)

    @classmethod
    def from_url(cls, url: str, limits: StateLimits, **options: Any) -> RedisState:
        client = Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, limits, **options)

    def _key(self, kind: str, some_id: int) -> str:
        return f"{self.prefix}:{kind}:{{{some_id}}}"

    async def remember(self, chat_id: int, answer: Answer) -> int:
        args: list[str | int] = [answer.model_dump_json(), self.limits.turns_kept, _ms(self.limits.memory_seconds)]
        return int(await self._remember(keys=[self._key("chat", chat_id)], args=args))

    async def history(self, chat_id: int, turns: int) -> list[Answer]:
        if turns <= 0:
            return []
        found = await self._history(keys=[self._key("chat", chat_id)], args=[turns])
        return [Answer.model_validate_json(raw) for raw in found if raw is not None]

    async def turn(self, chat_id: int, turn_id: int) -> Turn | None:
        raw, more = await self.client.hmget(self._key("chat", chat_id), [f"a:{turn_id}", f"m:{turn_id}"])
        if raw is None:
            return None
        return Turn(Answer.model_validate_json(raw), int(more or 0))

    async def shown_more(self, chat_id: int, turn_id: int, count: int) -> None:
        await self._shown_more(keys=[self._key("chat", chat_id)], args=[turn_id, count])

    async def check(self, user_id: int) -> Verdict:
        now, window = round(self.clock() * 1000), _ms(self.limits.throttle_seconds)
        keys = [self._key("seen", user_id), self._key("warned", user_id)]
        member = f"{now}-{secrets.token_hex(4)}"  # two questions in one millisecond both count
        verdict = await self._check(keys=keys, args=[now, window, self.limits.throttle_questions, member])
        return Verdict(verdict)

    async def note_inline(self, user_id: int, query_id: str) -> None:
        await self.client.set(self._key("inline", user_id), query_id, px=_ms(self.limits.inline_seconds))

    async def latest_inline(self, user_id: int) -> str | None:
        value = await self.client.get(self._key("inline", user_id))
        return str(value) if value is not None else None

    async def refuse(self, chat_id: int) -> bool:
        return bool(
            await self.client.set(self._key("refused", chat_id), "1", nx=True, px=_ms(self.limits.refused_seconds))
        )

    async def was_refused(self, chat_id: int) -> bool:
        return bool(await self.client.exists(self._key("refused", chat_id)))

    async def lead(self, holder: str, seconds: float) -> bool:
        return bool(await self._lead(keys=[f"{self.prefix}:lease"], args=[holder, _ms(seconds)]))

    async def step_down(self, holder: str) -> None:
        await self._step_down(keys=[f"{self.prefix}:lease"], args=[holder])

    async def close(self) -> None:
        await self.client.aclose()


def shown_url(url: str) -> str:
    """The URL as logs and errors may show it: whatever stands before ``@`` but a user name is ***."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, has_password, _ = userinfo.partition(":")
    shown = f"{user}:***" if has_password and user else "***"
    return urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """Connects, authenticates and pings once; raises StateUnavailable saying what to fix."""
    from redis import Redis as SyncRedis

    shown = shown_url(url)
    try:
        with SyncRedis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout) as client:
            client.ping()
    except redis_errors.AuthenticationError as exc:
        raise StateUnavailable(
            f"Redis at {shown} refused the credentials in redis_url (NEWSBOT_REDIS_URL): {exc}"
        ) from None
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        raise StateUnavailable(f"cannot reach Redis at {shown} (redis_url): {exc}") from None
    except redis_errors.ResponseError as exc:  # e.g. NOPERM: an ACL user without PING
        raise StateUnavailable(f"Redis at {shown} refused the connection check: {exc}") from None
    except ValueError as exc:  # a URL redis-py cannot parse (bad port, bad db number)
        raise StateUnavailable(f"redis_url {shown} is not usable: {exc}") from None


class StateUnavailable(Exception):
    """The configured shared-state server cannot be used; the message says why and what to fix."""
