"""The Bot API side of the bot benchmark, in a process of its own: ``python -m newsbot.bench.bot_driver PLAN``.

It serves the fake Bot API (newsbot.testing.bot_api), prints one JSON line saying where, waits
for the bot to poll, then asks the plan's questions (one chat at a time, then ``chats`` chats at
once for ``rounds`` rounds) and times each question from its push to the bot's first message in
reply, on this process's clock. It prints the timings as one JSON line and keeps serving until its
stdin closes, so the bot can stop cleanly. Being its own process, the server never competes with
the bot for the GIL, and nothing it does counts as the bot's work.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from newsbot.testing.bot_api import Call, FakeBotApi

WARM_CHAT = 1
SEQUENTIAL_CHAT = 2
FIRST_CHAT = 10_000
TIMEOUT = 600.0  # per phase: a shared 2-core machine can be very slow, but not forever


@dataclass(frozen=True, slots=True)
class DriverPlan:
    """What to ask: questions are used in order, one per (chat, round)."""

    questions: list[str]
    chats: int
    rounds: int
    sequential: int  # questions asked one at a time before the burst

    def __post_init__(self) -> None:
        if not self.questions:
            raise ValueError("the bot benchmark needs at least one question")
        if self.chats < 1 or self.rounds < 1 or self.sequential < 0:
            raise ValueError(
                f"chats and rounds must be at least 1 and sequential 0 or more, got "
                f"{self.chats}, {self.rounds} and {self.sequential}"
            )

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self)))
        return path

    @classmethod
    def read(cls, path: Path) -> DriverPlan:
        return cls(**json.loads(path.read_text()))


@dataclass(frozen=True, slots=True)
class Timed:
    """One question: its chat, its round (-1: asked alone), pushed and first-answered (monotonic s)."""

    chat: int
    round: int
    pushed: float
    answered: float
    failed: bool  # the bot replied with its error message instead of an answer


ERROR_REPLY = "Sorry, something went wrong"  # newsbot.bot.app.error's reply


def _first_to(chats: set[int], calls: list[Call]) -> dict[int, Call]:
    first: dict[int, Call] = {}
    for call in calls:
        chat = int(call.params.get("chat_id", 0))
        if chat in chats:
            first.setdefault(chat, call)
    return first


def _timed(chat: int, round_: int, pushed: float, call: Call) -> Timed:
    return Timed(chat, round_, pushed, call.at, str(call.params.get("text", "")).startswith(ERROR_REPLY))


async def _ask(api: FakeBotApi, question: str, chat: int, round_: int = -1) -> Timed:
    mark = len(api.calls)
    pushed = time.monotonic()
    await api.message(question, chat_id=chat, user_id=chat)
    first = await _answered(api, {chat}, mark)
    return _timed(chat, round_, pushed, first[chat])


async def drive(api: FakeBotApi, plan: DriverPlan) -> list[Timed]:
    """Warm-up, the lone questions, then the rounds; the bot must be polling ``api``."""
    await api.wait_for("getUpdates", timeout=TIMEOUT)
    asked = itertools.cycle(plan.questions)
    await _ask(api, next(asked), WARM_CHAT)  # the first answer pays for lazy loading
    timed: list[Timed] = []
    for _ in range(plan.sequential):
        timed.append(await _ask(api, next(asked), SEQUENTIAL_CHAT))
    chats = set(range(FIRST_CHAT, FIRST_CHAT + plan.chats))
    for r in range(plan.rounds):
        mark = len(api.calls)
        pushed: dict[int, float] = {}
        for chat in sorted(chats):
            pushed[chat] = time.monotonic()
            await api.message(next(asked), chat_id=chat, user_id=chat)
        first = await _answered(api, chats, mark)
        timed += [_timed(chat, r, pushed[chat], first[chat]) for chat in sorted(chats)]
    return timed


async def _answered(api: FakeBotApi, chats: set[int], mark: int) -> dict[int, Call]:
    """When each chat got its first message after call ``mark``, once every chat has one. Polls: an
    answer may come in pieces, so counting messages is not counting chats. Times are the calls'
    own, so the polling interval does not enter them."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        first = _first_to(chats, [c for c in api.calls[mark:] if c.method == "sendMessage" and c.accepted])
        if len(first) == len(chats):
            return first
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(chats) - len(first)} of {len(chats)} chats got no answer in {TIMEOUT:.0f} s")
        await asyncio.sleep(0.02)


async def _serve(plan: DriverPlan) -> None:
    async with FakeBotApi() as api:
        print(json.dumps({"base_url": api.base_url, "token": api.token}), flush=True)
        timed = await drive(api, plan)
        print(json.dumps({"timed": [asdict(t) for t in timed]}), flush=True)
        # Serve on until the bot has stopped polling and closes our stdin.
        await asyncio.to_thread(sys.stdin.read)


def main(argv: list[str]) -> None:
    asyncio.run(_serve(DriverPlan.read(Path(argv[0]))))


if __name__ == "__main__":
    main(sys.argv[1:])
