"""The "typing…" indicator gives way to replies waiting for the send budget."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from newsbot.bot.retry import RetryingRateLimiter
from newsbot.bot.sending import typing


async def _held(limiter: RetryingRateLimiter, gate: asyncio.Event, chat_id: int) -> Any:
    async def callback(*args: Any, **kwargs: Any) -> bool:
        await gate.wait()
        return True

    return await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat_id}, None)


def test_the_limiter_counts_the_calls_waiting_for_the_send_budget() -> None:
    async def scenario() -> list[int]:
        limiter = RetryingRateLimiter(overall_max_rate=1, overall_time_period=60)
        gate = asyncio.Event()
        calls = [asyncio.create_task(_held(limiter, gate, chat)) for chat in (1, 2, 3)]
        await asyncio.sleep(0.05)
        seen = [limiter.waiting]  # the first is let through (and held at the gate); two wait
        for call in calls[1:]:
            call.cancel()
        await asyncio.gather(*calls[1:], return_exceptions=True)
        seen.append(limiter.waiting)  # a cancelled call no longer waits
        gate.set()
        assert await calls[0] is True
        seen.append(limiter.waiting)
        return seen

    assert asyncio.run(scenario()) == [2, 0, 0]


def _context(limiter: RetryingRateLimiter, actions: list[int]) -> Any:
    async def send_chat_action(chat_id: int, action: str) -> bool:
        actions.append(chat_id)
        return True

    return SimpleNamespace(bot=SimpleNamespace(rate_limiter=limiter, send_chat_action=send_chat_action))


def test_typing_is_shown_while_the_send_budget_has_room() -> None:
    async def scenario() -> list[int]:
        actions: list[int] = []
        async with typing(_context(RetryingRateLimiter(), actions), 7, after=0.0):
            await asyncio.sleep(0.05)
        return actions

    assert asyncio.run(scenario()) == [7]


def test_typing_is_not_sent_while_replies_wait_for_the_send_budget() -> None:
    async def scenario() -> list[int]:
        limiter = RetryingRateLimiter(overall_max_rate=1, overall_time_period=60)
        gate = asyncio.Event()
        calls = [asyncio.create_task(_held(limiter, gate, chat)) for chat in (1, 2)]
        await asyncio.sleep(0.05)
        actions: list[int] = []
        async with typing(_context(limiter, actions), 7, after=0.0):
            await asyncio.sleep(0.05)
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        return actions

    assert asyncio.run(scenario()) == []
