"""Figure 6: the real bot under load, end to end, against the fake Bot API in a process of its own.

The fake server and the question driver run in a child process (newsbot.bench.bot_driver), so
they never take the bot's GIL and their work is not counted as the bot's; this process runs only
the PTB Application. Each question is timed from its push to the bot's first message in reply.
The rate limiter is wrapped to record how long each answer waited for the send budget, so the p99
at Telegram's 30 messages/s can be given with that queueing subtracted, beside the raw one.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbot.bench.bot_driver import DriverPlan, Timed
from newsbot.bench.records import BenchReport, Row
from newsbot.bench.timing import Percentiles, percentiles

if TYPE_CHECKING:
    from telegram.ext import Application

    from newsbot.bot.state import RetrieverFactory
    from newsbot.bot.workers import Opener
    from newsbot.config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 1800.0  # the whole run of one send rate


@dataclass(frozen=True, slots=True)
class Queued:
    """One sendMessage's stay in the rate limiter (monotonic seconds)."""

    chat: int
    entered: float
    released: float


@dataclass
class SendClock:
    """Records, for every sendMessage, when it asked the rate limiter to send and when it was let go."""

    queued: list[Queued] = field(default_factory=list)

    def install(self, application: Application) -> None:
        limiter = application.bot.rate_limiter
        if limiter is None:
            raise RuntimeError("the bot has no rate limiter to time")
        original = limiter.process_request

        async def timed(*, callback: Any, data: dict[str, Any], endpoint: str, **rest: Any) -> Any:
            if endpoint != "sendMessage":
                return await original(callback=callback, data=data, endpoint=endpoint, **rest)
            entered = time.monotonic()

            async def released(*args: Any, **kwargs: Any) -> Any:
                self.queued.append(Queued(int(data.get("chat_id") or 0), entered, time.monotonic()))
                return await callback(*args, **kwargs)

            return await original(callback=released, data=data, endpoint=endpoint, **rest)

        limiter.process_request = timed  # this bench's instrument only

    def queueing(self, t: Timed) -> float:
        """Seconds the first message answering ``t`` waited for the send budget."""
        mine = [q for q in self.queued if q.chat == t.chat and t.pushed <= q.entered and q.released <= t.answered]
        if not mine:
            return 0.0
        last = max(mine, key=lambda q: q.released)  # the answer's first piece: later ones leave after it
        return last.released - last.entered


@dataclass(frozen=True, slots=True)
class Burst:
    """One run at one send rate: every question's timing and the limiter's record."""

    timed: list[Timed]
    clock: SendClock

    @property
    def rounds(self) -> list[Timed]:
        return [t for t in self.timed if t.round >= 0]

    @property
    def answers_per_second(self) -> float:
        burst = self.rounds
        return len(burst) / (max(t.answered for t in burst) - min(t.pushed for t in burst))

    def latency(self, *, without_queueing: bool = False, alone: bool = False) -> Percentiles:
        chosen = [t for t in self.timed if t.round == -1] if alone else self.rounds
        return percentiles(
            t.answered - t.pushed - (self.clock.queueing(t) if without_queueing else 0.0) for t in chosen
        )


async def _serve_until_done(
    settings: Settings, factory: RetrieverFactory, plan: DriverPlan, opener: Opener | None = None
) -> Burst:
    from pydantic import SecretStr

    from newsbot.bot.app import build_application
    from newsbot.bot.workers import open_for_answers

    with tempfile.TemporaryDirectory(prefix="newsbot-botbench-") as tmp:
        log = (Path(tmp) / "driver.log").open("w+")
        driver = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "newsbot.bench.bot_driver",
            str(plan.save(Path(tmp) / "plan.json")),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            cwd=ROOT,
        )
        if driver.stdout is None or driver.stdin is None:  # asked for above; here for the type checker
            raise RuntimeError("the driver process has no pipes")
        try:
            where = json.loads((await driver.stdout.readline()) or b"null")
            if where is None:
                raise RuntimeError(f"the fake Bot API did not start: {_tail(log)}")
            settings = settings.model_copy(
                update={"telegram_api_url": where["base_url"], "telegram_bot_token": SecretStr(where["token"])}
            )
            app = build_application(settings, factory, answer_opener=opener or open_for_answers)
            clock = SendClock()
            clock.install(app)
            line = await _run_bot(app, driver.stdout)
            if not line:
                raise RuntimeError(f"the bot benchmark's driver failed: {_tail(log)}")
            timed = [Timed(**t) for t in json.loads(line)["timed"]]
        finally:
            driver.stdin.close()
            try:
                await asyncio.wait_for(driver.wait(), 30)
            except TimeoutError:
                driver.kill()
                await driver.wait()
            log.close()
    return Burst(timed, clock)


async def _run_bot(app: Application, results: asyncio.StreamReader) -> bytes:
    """Runs the bot until the driver prints its results (or gives up); returns that line."""
    updater = app.updater
    if updater is None or app.post_init is None or app.post_stop is None or app.post_shutdown is None:
        raise RuntimeError("the bot application has no updater or post_init/stop/shutdown hooks to drive")
    await app.initialize()
    await app.post_init(app)
    await updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        return await asyncio.wait_for(results.readline(), TIMEOUT)
    finally:
        if updater.running:
            await updater.stop()
        # The hooks run_polling runs: they stop the feed poll and the index watch, and close the
        # bot state and the answer workers (left running, their processes outlived the bench).
        await app.stop()
        await app.post_stop(app)
        await app.shutdown()
        await app.post_shutdown(app)


def _tail(log: Any) -> str:
    log.seek(0)
    return " | ".join(log.read().strip().splitlines()[-3:]) or "no output"


def bench_bot(
    report: BenchReport,
    settings: Settings,
    factory: RetrieverFactory,
    questions: list[str],
    *,
    chats: int = 100,
    rounds: int = 3,
    sequential: int = 20,
    variant: str | None = None,
    opener: Opener | None = None,
) -> None:
    """At Telegram's free send rate (the default setting) and at the rate of a bot that pays for
    broadcasts (1000/s), which shows what newsbot itself can answer. A ``variant`` (an alternative
    way of answering, measured for comparison) runs at 1000/s only and has no targets. ``opener``:
    how answer workers open the index (``answer_processes``; default: as `newsbot serve` does)."""
    settings = settings.model_copy(update={"throttle_questions": 10_000, "allowed_chat_ids": []})
    plan = DriverPlan(questions, chats, rounds, sequential)
    if variant is None:
        _retriever_alone(report, settings, factory, questions[: chats * rounds])
    rates = [1000.0] if variant else sorted({settings.send_rate, 1000.0}, reverse=True)
    for rate in rates:
        burst = asyncio.run(_serve_until_done(settings.model_copy(update={"send_rate": rate}), factory, plan, opener))
        add_rows(report, burst, rate, chats, rounds, variant)


def _retriever_alone(report: BenchReport, settings: Settings, factory: RetrieverFactory, questions: list[str]) -> None:
    """The ceiling the bot works under: the same questions answered by the bot's answer threads
    with no Telegram, no PTB and no event loop."""
    from concurrent.futures import ThreadPoolExecutor

    from newsbot.bot.app import ANSWER_THREADS

    retriever = factory(settings)
    try:
        retriever.answer(questions[0])  # lazy loading is not throughput
        with ThreadPoolExecutor(ANSWER_THREADS) as pool:
            started = time.perf_counter()
            list(pool.map(retriever.answer, questions))
            seconds = time.perf_counter() - started
    finally:
        retriever.close()
    report.add(
        Row(
            "bot",
            f"the retriever alone, {ANSWER_THREADS} threads: answers/s",
            round(len(questions) / seconds, 1),
            "answers/s",
            note=f"{len(questions)} questions, all submitted at once; no Bot API, no PTB",
        )
    )


def add_rows(
    report: BenchReport, burst: Burst, rate: float, chats: int, rounds: int, variant: str | None = None
) -> None:
    label = f"{chats} chats at once, send_rate {rate:g}/s" + (f", {variant}" if variant else "")
    failed = sum(t.failed for t in burst.timed)
    answers, p = burst.answers_per_second, burst.latency()
    unlimited = rate >= 1000 and variant is None  # the targets are the shipped bot's
    report.add(
        Row(
            "bot",
            f"{label}: answers/s ({rounds} rounds)",
            round(answers, 1),
            "answers/s",
            target=">= 50 answers/s at send_rate 1000" if unlimited else None,
            met=answers >= 50 if unlimited else None,
            note=f"{len(burst.rounds)} answers, {failed} error replies"
            + ("" if rate >= 1000 else f"; the send budget caps this at {rate:g}/s"),
        )
    )
    report.add(
        Row(
            "bot",
            f"{label}: p99 question to answer",
            round(p.p99_ms, 1),
            "ms",
            target="p99 <= 1000 ms at send_rate 1000" if unlimited else None,
            met=p.p99_ms <= 1000 if unlimited else None,
            note=f"p50 {p.p50_ms:.0f} ms",
        )
    )
    if rate < 1000:
        q = burst.latency(without_queueing=True)
        report.add(
            Row(
                "bot",
                f"{label}: p99 less the wait for the send budget",
                round(q.p99_ms, 1),
                "ms",
                target="p99 <= 1000 ms once send queueing is subtracted",
                met=q.p99_ms <= 1000,
                note=f"p50 {q.p50_ms:.0f} ms; each answer's wait in the rate limiter, timed in the bot, subtracted",
            )
        )
    alone = burst.latency(alone=True)
    report.add(
        Row(
            "bot",
            f"one chat, one question at a time, send_rate {rate:g}/s{f', {variant}' if variant else ''}: p50",
            round(alone.p50_ms, 1),
            "ms",
            note=f"p99 {alone.p99_ms:.0f} ms over {alone.count} questions",
        )
    )
