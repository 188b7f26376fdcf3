"""Bot state on both backends: in-process memory and a real Redis; bounded, expiring, shared."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date

import pytest
from redis.asyncio import Redis

from newsbot.bot.shared import BotState, StateLimits, Verdict
from newsbot.bot.shared.local import LocalState
from newsbot.bot.shared.redis_state import RedisState, shown_url
from newsbot.retrieval.records import AlsoIn, Answer, Citation, Mention
from tests.bot.conftest import run
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures

LIMITS = StateLimits(memory_seconds=3600, turns_kept=3, throttle_questions=2, throttle_seconds=30, max_entries=100)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def answer(question: str, n: int = 1) -> Answer:
    also = AlsoIn(title="Same story", source=None, date=date(2022, 2, 12), url=None, path="b.md")
    cited = Citation(
        n=1,
        title="Scholz to travel",
        source="Wire",
        date=date(2022, 2, 11),
        url="https://example.org/a",
        path="a.md",
        paragraph=0,
        excerpt="Scholz will visit Kyiv on February 14.",
        score=0.9,
        start=0,
        end=38,
        article_id="a1",
        chunk_id=n,
        also_in=(also,),
    )
    return Answer(
        question=question,
        answer="February 14",
        confident=True,
        citations=[cited],
        answer_start=29,
        answer_end=40,
        answer_citation=1,
        as_of=date(2022, 2, 11),
        answer_type="date",
        confidence=0.8,
        mentions=[Mention(text="Scholz", label="PERSON")],
    )


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_state(backend: str, request: pytest.FixtureRequest) -> Callable[..., object]:
    """``make_state(limits, clock)``: an async context manager giving a state of this backend."""
    url = request.getfixturevalue("redis_url") if backend == "redis" else None

    @asynccontextmanager
    async def make(limits: StateLimits = LIMITS, clock: Clock | None = None) -> AsyncIterator[BotState]:
        clock = clock or Clock()
        state: BotState = (
            LocalState(limits, clock) if url is None else RedisState.from_url(url, limits, prefix="t", clock=clock)
        )
        try:
            yield state
        finally:
            await state.close()

    return make


def test_chat_memory_keeps_the_last_turns_and_their_more_counts(make_state) -> None:
    async def scenario() -> None:
        async with make_state() as state:
            ids = [await state.remember(5, answer(f"question {n}", n)) for n in range(1, 5)]
            assert ids == [1, 2, 3, 4]
            assert [a.question for a in await state.history(5, 2)] == ["question 3", "question 4"]
            assert [a.question for a in await state.history(5, 10)] == ["question 2", "question 3", "question 4"]
            assert await state.history(5, 0) == [] and await state.history(6, 3) == []
            assert await state.turn(5, 1) is None  # past turns_kept (3): its buttons are too old
            turn = await state.turn(5, 2)
            assert turn is not None and turn.answer == answer("question 2", 2) and turn.more_shown == 0
            await state.shown_more(5, 2, 3)
            await state.shown_more(5, 2, 2)
            assert (await state.turn(5, 2)).more_shown == 5
            assert (await state.turn(5, 3)).more_shown == 0
            assert await state.turn(6, 2) is None  # chats do not see each other's turns
            await state.shown_more(6, 2, 1)  # a turn no longer kept: nothing to count, nothing made
            await state.shown_more(5, 1, 1)
            assert await state.turn(6, 2) is None and await state.turn(5, 1) is None
            assert await state.history(6, 3) == []

    run(scenario())


def test_throttle_allows_the_limit_warns_once_then_drops_until_the_window_passes(make_state) -> None:
    clock = Clock()

    async def scenario() -> None:
        async with make_state(clock=clock) as state:
            seen = [await state.check(11) for _ in range(4)]
            assert seen == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN, Verdict.DROP]
            assert await state.check(12) is Verdict.ALLOW  # another user has a budget of their own
            clock.now += 29.9
            assert await state.check(11) is Verdict.DROP
            clock.now += 0.1  # the first two questions are a window old now
            assert [await state.check(11) for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN]

    run(scenario())


def test_inline_latest_and_refused_chats(make_state) -> None:
    async def scenario() -> None:
        async with make_state() as state:
            assert await state.latest_inline(7) is None
            await state.note_inline(7, "iq1")
            await state.note_inline(7, "iq2")
            await state.note_inline(8, "iq3")
            assert await state.latest_inline(7) == "iq2" and await state.latest_inline(8) == "iq3"
            assert not await state.was_refused(-100)
            assert await state.refuse(-100) is True
            assert await state.refuse(-100) is False  # told once
            assert await state.was_refused(-100) and not await state.was_refused(-101)

    run(scenario())


def test_every_kind_of_in_process_state_expires() -> None:
    clock = Clock()
    limits = replace(LIMITS, memory_seconds=600, inline_seconds=60, refused_seconds=3600)

    async def scenario() -> None:
        state = LocalState(limits, clock)
        await state.remember(5, answer("q"))
        await state.note_inline(7, "iq1")
        await state.refuse(-100)
        await state.check(11)
        clock.now += 61
        assert await state.latest_inline(7) is None and await state.turn(5, 1) is not None
        clock.now += 540
        assert await state.turn(5, 1) is None and await state.history(5, 3) == []
        assert await state.was_refused(-100)
        clock.now += 3000
        assert not await state.was_refused(-100) and await state.refuse(-100)
        # Expired entries are gone from the tables, not merely hidden.
        assert state.sizes() == {"chats": 0, "throttle": 0, "inline": 0, "refused": 1}

    run(scenario())


def test_in_process_state_holds_at_most_max_entries_per_table() -> None:
    limits = replace(LIMITS, max_entries=50)

    async def scenario() -> None:
        state = LocalState(limits, Clock())
        for n in range(1000):  # a flood of strangers, each within every expiry
            await state.remember(n, answer("q"))
            await state.check(n)
            await state.note_inline(n, f"iq{n}")
            await state.refuse(n)
        assert state.sizes() == {"chats": 50, "throttle": 50, "inline": 50, "refused": 50}
        assert await state.turn(999, 1) is not None and await state.turn(0, 1) is None  # the stalest went

    run(scenario())


def test_every_redis_key_expires_and_answers_are_stored_as_json(redis_url: str) -> None:
    short = replace(LIMITS, memory_seconds=0.3, throttle_seconds=0.3, inline_seconds=0.3, refused_seconds=0.3)

    async def scenario() -> None:
        state = RedisState.from_url(redis_url, short, prefix="t")
        client = Redis.from_url(redis_url, decode_responses=True)
        try:
            await state.remember(5, answer("q"))
            await state.shown_more(5, 1, 2)
            for _ in range(3):
                await state.check(11)  # allow, allow, warn: the warned key too
            await state.note_inline(7, "iq1")
            await state.refuse(-100)
            await state.shown_more(6, 1, 2)  # a chat with no memory gets no key
            keys = sorted(await client.keys("t:*"))
            assert keys == ["t:chat:{5}", "t:inline:{7}", "t:refused:{-100}", "t:seen:{11}", "t:warned:{11}"]
            for key in keys:
                assert 0 < await client.pttl(key) <= 300, key  # an expiry on every key
            stored = await client.hget("t:chat:{5}", "a:1")
            assert json.loads(stored) == answer("q").to_json()
            for _ in range(100):  # bounded: the expiry is 0.3 s
                if not await client.keys("t:*"):
                    break
                await asyncio.sleep(0.05)
            assert await client.keys("t:*") == []
            assert await state.turn(5, 1) is None and await state.latest_inline(7) is None
        finally:
            await state.close()
            await client.aclose()

    run(scenario())


def test_the_throttle_counts_one_user_across_two_redis_clients_atomically(redis_url: str) -> None:
    limits = replace(LIMITS, throttle_questions=5)

    async def scenario() -> None:
        a = RedisState.from_url(redis_url, limits, prefix="t")
        b = RedisState.from_url(redis_url, limits, prefix="t")
        try:
            # Alternating replicas: one budget.
            assert [await s.check(1) for s in (a, b, a, b, a, b)] == [Verdict.ALLOW] * 5 + [Verdict.WARN]
            # Forty questions of another user at once from both: exactly the limit answered, one note.
            verdicts = await asyncio.gather(*(s.check(2) for _ in range(20) for s in (a, b)))
            assert verdicts.count(Verdict.ALLOW) == 5 and verdicts.count(Verdict.WARN) == 1
            assert verdicts.count(Verdict.DROP) == 34
            # Memory too: a turn remembered through one client is read through the other.
            turn_id = await a.remember(9, answer("asked on A"))
            assert (await b.turn(9, turn_id)).answer.question == "asked on A"
            assert [x.question for x in await b.history(9, 6)] == ["asked on A"]
        finally:
            await a.close()
            await b.close()

    run(scenario())


def test_one_replica_holds_the_lease_until_it_steps_down_or_stops_renewing(redis_url: str) -> None:
    async def scenario() -> None:
        a = RedisState.from_url(redis_url, LIMITS, prefix="t")
        b = RedisState.from_url(redis_url, LIMITS, prefix="t")
        try:
            # Both ask at once: one gets it.
            assert sorted(await asyncio.gather(a.lead("A", 30), b.lead("B", 30))) == [False, True]
            holder, other = ("A", "B") if await a.lead("A", 30) else ("B", "A")
            assert await a.lead(holder, 30) and not await b.lead(other, 30)  # renewed, still refused
            await b.step_down(other)  # not the holder: changes nothing
            assert not await a.lead(other, 30)
            await a.step_down(holder)  # given up: the other takes it at once
            assert await b.lead(other, 0.3)
            # Not renewed (its replica was killed): it runs out and the first one takes it again.
            deadline = asyncio.get_running_loop().time() + 10
            while not await a.lead(holder, 30):
                assert asyncio.get_running_loop().time() < deadline, "the lease never ran out"
                await asyncio.sleep(0.05)
            assert not await b.lead(other, 30)
        finally:
            await a.close()
            await b.close()

    run(scenario())


def test_in_process_state_always_leads() -> None:
    async def scenario() -> None:
        state = LocalState(LIMITS)
        assert await state.lead("A", 30) and await state.lead("B", 30)

    run(scenario())


def test_a_redis_url_shown_in_errors_hides_the_password() -> None:
    assert shown_url("redis://:hunter2@db:6379/0") == "redis://***@db:6379/0"
    assert shown_url("redis://bot:hunter2@db:6379/0") == "redis://bot:***@db:6379/0"
    assert shown_url("redis://hunter2@db/0") == "redis://***@db/0"
    assert shown_url("redis://db:6379/0") == "redis://db:6379/0"


def serve_with(env: dict[str, str]) -> tuple[int, str]:
    from typer.testing import CliRunner

    from newsbot.command import app

    result = CliRunner().invoke(app, ["serve"], env={"TELEGRAM_BOT_TOKEN": "123:abc"} | env)
    return result.exit_code, result.output


def test_serve_refuses_unusable_redis_settings_with_one_line_and_exit_2(tmp_path) -> None:
    from tests.redis_server import RedisServer, free_port

    guarded = RedisServer(tmp_path / "guarded", password="right-pass").start()
    try:
        cases = {
            "missing url": ({"NEWSBOT_STATE_BACKEND": "redis"}, "state_backend 'redis' needs redis_url"),
            "bad scheme": (
                {"NEWSBOT_STATE_BACKEND": "redis", "NEWSBOT_REDIS_URL": "http://:hunter2@db/0"},
                "redis_url: Value error, must start with redis://, rediss://, unix://; got scheme 'http'",
            ),
            "unreachable": (
                {"NEWSBOT_STATE_BACKEND": "redis", "NEWSBOT_REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0"},
                "cannot reach Redis at redis://***@127.0.0.1:",
            ),
            "wrong password": (
                {"NEWSBOT_STATE_BACKEND": "redis", "NEWSBOT_REDIS_URL": guarded.url.replace("right-pass", "hunter2")},
                f"Redis at redis://***@127.0.0.1:{guarded.port}/0 refused the credentials in redis_url",
            ),
            "no password": (
                {"NEWSBOT_STATE_BACKEND": "redis", "NEWSBOT_REDIS_URL": guarded.url.replace(":right-pass@", "")},
                "refused the credentials",
            ),
        }
        for name, (env, said) in cases.items():
            code, output = serve_with(env)
            lines = [line for line in output.splitlines() if line.strip()]
            assert code == 2 and len(lines) == 1 and said in lines[0], (name, output)
            assert "hunter2" not in output and "Traceback" not in output, name
    finally:
        guarded.stop()
