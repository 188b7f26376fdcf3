"""Bot state in this process's memory: the default for one bot process, bounded and expiring.

Each table is a TTLCache: an entry lives for its kind's expiry after it was last written, and
past ``max_entries`` the stalest entries go first, so a flood of new users or chats costs a fixed
amount of memory rather than growing the process.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from cachetools import TTLCache

from newsbot.bot.shared import StateLimits, Turn, Verdict
from newsbot.retrieval.records import Answer


@dataclass(frozen=True, slots=True)
class _Kept:
    """A turn as kept: the answer as UTF-8 JSON, a sixth of the memory the live record takes
    (about 2 KB against 12 KB, measured on the seed answers), and a snapshot no one can change."""

    answer: bytes
    more_shown: int = 0

    def turn(self) -> Turn:
        return Turn(Answer.model_validate_json(self.answer), self.more_shown)


@dataclass
class _Chat:
    turns: OrderedDict[int, _Kept] = field(default_factory=OrderedDict)
    next_id: int = 1


class LocalState:
    """BotState in memory. Single-threaded by design: only the event loop calls it."""

    def __init__(self, limits: StateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        size = limits.max_entries
        self._chats: TTLCache[int, _Chat] = TTLCache(size, limits.memory_seconds, timer=clock)
        self._stamps: TTLCache[int, deque[float]] = TTLCache(size, limits.throttle_seconds, timer=clock)
        self._warned: TTLCache[int, bool] = TTLCache(size, limits.throttle_seconds, timer=clock)
        self._inline: TTLCache[int, str] = TTLCache(size, limits.inline_seconds, timer=clock)
        self._refused: TTLCache[int, bool] = TTLCache(size, limits.refused_seconds, timer=clock)

    async def remember(self, chat_id: int, answer: Answer) -> int:
        chat = self._chats.get(chat_id) or _Chat()
        turn_id, chat.next_id = chat.next_id, chat.next_id + 1
        chat.turns[turn_id] = _Kept(answer.model_dump_json().encode())
        while len(chat.turns) > self.limits.turns_kept:
            chat.turns.popitem(last=False)
        self._chats[chat_id] = chat  # written again, so its expiry starts over
        return turn_id

    async def history(self, chat_id: int, turns: int) -> list[Answer]:
        chat = self._chats.get(chat_id)
        if chat is None or turns <= 0:
            return []
        return [Answer.model_validate_json(kept.answer) for kept in list(chat.turns.values())[-turns:]]

    async def turn(self, chat_id: int, turn_id: int) -> Turn | None:
        chat = self._chats.get(chat_id)
        kept = chat.turns.get(turn_id) if chat is not None else None
        return kept.turn() if kept is not None else None

    async def shown_more(self, chat_id: int, turn_id: int, count: int) -> None:
        chat = self._chats.get(chat_id)
        if chat is not None and turn_id in chat.turns:
            old = chat.turns[turn_id]
            chat.turns[turn_id] = _Kept(old.answer, old.more_shown + count)

    async def check(self, user_id: int) -> Verdict:
        now = self.clock()
        window, limit = self.limits.throttle_seconds, self.limits.throttle_questions
        stamps = self._stamps.get(user_id) or deque()
        while stamps and now - stamps[0] >= window:
            stamps.popleft()
        if len(stamps) < limit:
            stamps.append(now)
            self._stamps[user_id] = stamps
            self._warned.pop(user_id, None)
            return Verdict.ALLOW
        if user_id in self._warned:
            return Verdict.DROP
        self._warned[user_id] = True
        return Verdict.WARN

    async def note_inline(self, user_id: int, query_id: str) -> None:
        self._inline[user_id] = query_id

    async def latest_inline(self, user_id: int) -> str | None:
        return self._inline.get(user_id)

    async def refuse(self, chat_id: int) -> bool:
        if chat_id in self._refused:
            return False
        self._refused[chat_id] = True
        return True

    async def was_refused(self, chat_id: int) -> bool:
        return chat_id in self._refused

    async def lead(self, holder: str, seconds: float) -> bool:
        return True

    async def step_down(self, holder: str) -> None:
        return None

    async def close(self) -> None:
        return None

    def sizes(self) -> dict[str, int]:
        """Entries held per table (what a memory check looks at)."""
        return {
            "chats": len(self._chats),
            "throttle": len(self._stamps),
            "inline": len(self._inline),
            "refused": len(self._refused),
        }
