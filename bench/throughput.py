"""Figure 6: 100 chats asking at once through the fake Bot API server in tests/, end to end.

The fake server lives with the tests (tests/fakes/bot_api.py); a source checkout has it beside
this package. Without it (an installed wheel) the figure is skipped and the report says so.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from newsbot.bench.records import BenchReport, Row
from newsbot.bench.timing import percentiles

ROOT = Path(__file__).resolve().parent.parent


def _fake_api():
    if str(ROOT) not in sys.path and (ROOT / "tests" / "fakes" / "bot_api.py").is_file():
        sys.path.append(str(ROOT))
    try:
        from tests.fakes.bot_api import FakeBotApi
    except ImportError:
        return None
    return FakeBotApi


async def _burst(settings, factory: Callable, questions: list[str], chats: int, rounds: int):
    from pydantic import SecretStr

    from newsbot.bot.app import build_application

    async with _fake_api()() as api:
        settings = settings.model_copy(
            update={"telegram_api_url": api.base_url, "telegram_bot_token": SecretStr(api.token)}
        )
        app = build_application(settings, factory)
        await app.initialize()
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            await api.message(questions[0], chat_id=1, user_id=1)  # warm-up: first answer loads lazily
            await api.wait_for("sendMessage", lambda c: int(c.params.get("chat_id", 0)) == 1, timeout=120)
            latencies, started = [], time.monotonic()
            for r in range(rounds):
                mark, pushed = len(api.calls), {}
                for i in range(chats):
                    chat = 10_000 + i
                    pushed[chat] = time.monotonic()
                    await api.message(questions[(r * chats + i) % len(questions)], chat_id=chat, user_id=chat)
                sent = await api.wait_for(
                    "sendMessage",
                    lambda c, pushed=pushed: int(c.params.get("chat_id", 0)) in pushed,
                    count=chats,
                    after=mark,
                    timeout=300,
                )
                first: dict[int, float] = {}
                for call in sent:
                    first.setdefault(int(call.params["chat_id"]), call.at)
                latencies += [first[c] - pushed[c] for c in pushed if c in first]
            elapsed = time.monotonic() - started
        finally:
            if app.updater.running:
                await app.updater.stop()
            await app.stop()
            await app.shutdown()
    return latencies, elapsed


def bench_bot(
    report: BenchReport, settings, factory: Callable, questions: list[str], *, chats: int = 100, rounds: int = 2
) -> None:
    """Twice: at Telegram's free send rate (the default setting), and with the rate of a bot that
    pays for broadcasts, which shows what newsbot itself can answer."""
    if _fake_api() is None:
        report.notes.append("bot throughput skipped: tests/fakes/bot_api.py (the fake Bot API) is not here")
        return
    settings = settings.model_copy(update={"throttle_questions": 10_000, "allowed_chat_ids": []})
    for rate in dict.fromkeys((settings.send_rate, 1000.0)):
        limited = settings.model_copy(update={"send_rate": rate})
        latencies, elapsed = asyncio.run(_burst(limited, factory, questions, chats, rounds))
        p = percentiles(latencies)
        answers = len(latencies) / elapsed
        label = f"{chats} concurrent chats, send_rate {rate:g}/s"
        report.add(
            Row(
                "bot",
                f"{label}: answers/s ({rounds} rounds)",
                round(answers, 1),
                "answers/s",
                target=">= 50 answers/s",
                met=answers >= 50,
                note=f"{len(latencies)} answers in {elapsed:.1f} s",
            )
        )
        report.add(
            Row(
                "bot",
                f"{label}: p99 latency",
                round(p.p99_ms, 1),
                "ms",
                target="p99 <= 1000 ms",
                met=p.p99_ms <= 1000,
                note=f"p50 {p.p50_ms:.0f} ms",
            )
        )
