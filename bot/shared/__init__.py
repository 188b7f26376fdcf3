"""What the bot keeps between updates, behind one protocol any replica can share.

Four kinds of state, each with an expiry so none grows without bound, and one lease:

- chat memory: a chat's recent answers, which feed its follow-ups and the buttons under them
  (kept ``chat_memory_hours`` after the chat's last answer);
- the throttle: each user's recent questions (kept one throttle window);
- inline queries: the query each user typed last (kept ``INLINE_SECONDS``);
- refused chats: chats outside the allow-list that were told so once (kept ``REFUSED_SECONDS``);
- the lease on the bot's own work: which replica polls the feeds and sends alerts (it expires
  unless its holder renews it, so a killed holder is replaced).

``LocalState`` (this process's memory, the default) and ``RedisState`` (one Redis server that
several replicas share) implement it; ``open_state`` picks one from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from newsbot.retrieval.records import Answer

if TYPE_CHECKING:
    from newsbot.config.settings import Settings

TURNS_KEPT = 32  # answers whose buttons still work, per chat
INLINE_SECONDS = 60.0  # far longer than the settle pause; the entry only has to outlive it
# A refused chat hears it once a day at most: often enough to learn why, rarely enough not to nag.
REFUSED_SECONDS = 24 * 3600.0


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first question over the limit: tell the user once
    DROP = "drop"  # further ones in the same window: stay quiet rather than queue them


@dataclass(frozen=True, slots=True)
class Turn:
    """One answer a chat got, with how many extra passages "More" has shown so far."""

    answer: Answer
    more_shown: int = 0


@dataclass(frozen=True, slots=True)
class StateLimits:
    """How long each kind of state lives, and how much of it one chat or user may hold."""

    memory_seconds: float
    turns_kept: int
    throttle_questions: int
    throttle_seconds: float
    max_entries: int  # in-process only: Redis evicts by expiry alone
    inline_seconds: float = INLINE_SECONDS
    refused_seconds: float = REFUSED_SECONDS

    def __post_init__(self) -> None:
        if self.throttle_questions < 1:
            raise ValueError(f"throttle limit must be at least 1, got {self.throttle_questions}")
        if self.throttle_seconds <= 0:
            raise ValueError(f"throttle window must be positive seconds, got {self.throttle_seconds}")
        sizes = (self.memory_seconds, self.turns_kept, self.max_entries, self.inline_seconds, self.refused_seconds)
        if min(sizes) <= 0:
            raise ValueError(
                "memory_seconds, turns_kept, max_entries, inline_seconds and refused_seconds must be positive, "
                f"got {', '.join(map(str, sizes))}"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> StateLimits:
        return cls(
            memory_seconds=settings.chat_memory_hours * 3600,
            # Follow-ups read the last history_turns answers; buttons work on the last TURNS_KEPT.
            turns_kept=max(TURNS_KEPT, settings.history_turns),
            throttle_questions=settings.throttle_questions,
            throttle_seconds=settings.throttle_seconds,
            max_entries=settings.state_max_entries,
        )


class BotState(Protocol):
    """The bot's state between updates. Every method is one atomic step, safe across replicas."""

    async def remember(self, chat_id: int, answer: Answer) -> int:
        """Keeps ``answer`` as the chat's newest turn and returns its turn number (1, 2, ...)."""
        ...

    async def history(self, chat_id: int, turns: int) -> list[Answer]:
        """The chat's last ``turns`` answers, oldest first."""
        ...

    async def turn(self, chat_id: int, turn_id: int) -> Turn | None:
        """Turn ``turn_id`` of the chat, or None once it is too old (or the chat's memory expired)."""
        ...

    async def shown_more(self, chat_id: int, turn_id: int, count: int) -> None:
        """Adds ``count`` to the passages "More" has shown under that turn."""
        ...

    async def check(self, user_id: int) -> Verdict:
        """Counts one question of the user against the throttle and says whether to answer it."""
        ...

    async def note_inline(self, user_id: int, query_id: str) -> None:
        """Records the user's newest inline query."""
        ...

    async def latest_inline(self, user_id: int) -> str | None:
        """The user's newest inline query id (None once expired)."""
        ...

    async def refuse(self, chat_id: int) -> bool:
        """Marks the chat as refused; True when it was not already (so it is told once)."""
        ...

    async def was_refused(self, chat_id: int) -> bool: ...

    async def lead(self, holder: str, seconds: float) -> bool:
        """Takes the lease on the bot's own work (feed polls, alerts) for ``holder`` when no one
        holds it, or renews it when ``holder`` does, for ``seconds``; whether ``holder`` holds it.
        In-process state has no one to share it with: always True."""
        ...

    async def step_down(self, holder: str) -> None:
        """Gives the lease up now, if ``holder`` holds it, so another replica need not wait out its expiry."""
        ...

    async def close(self) -> None:
        """Releases connections (in-process state: nothing)."""
        ...


def open_state(settings: Settings) -> BotState:
    """The state backend the settings name (a Redis client connects on first use)."""
    limits = StateLimits.from_settings(settings)
    if settings.state_backend == "redis":
        from newsbot.bot.shared.redis_state import RedisState

        if settings.redis_url is None:  # the settings refuse this; kept for the type checker
            raise ValueError("state_backend 'redis' needs redis_url")
        return RedisState.from_url(settings.redis_url.get_secret_value(), limits, prefix=settings.state_prefix)
    from newsbot.bot.shared.local import LocalState

    return LocalState(limits)
