"""Figure 6: 100 chats asking at once through the fake Bot API server in tests/, end to end.

The fake server lives with the tests (tests/fakes/bot_api.py); a source checkout has it beside
this package. Without it (an installed wheel) the figure is skipped and the report says so.
"""

from __future__ import annotations

import asyncio
import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from newsbot.bench.records import BenchReport, Row
from newsbot.bench.timing import percentiles

if TYPE_CHECKING:
    from newsbot.bot.state import RetrieverFactory
    from newsbot.config.settings import Settings
    from tests.fakes.bot_api import Call, FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


def _fake_api() -> type[FakeBotApi] | None:
    if str(ROOT) not in sys.path and (ROOT / "tests" / "fakes" / "bot_api.py").is_file():
        sys.path.append(str(ROOT))
    try:
        from tests.fakes.bot_api import FakeBotApi
    except ImportError:
        return None
    return FakeBotApi


async def _burst(
    fake_api: type[FakeBotApi],
    settings: Settings,
    factory: RetrieverFactory,
    questions: list[str],
    chats: int,
    rounds: int,
) -> tuple[list[float], float]:
    from pydantic import SecretStr

    from newsbot.bot.app import build_application

    async with fake_api() as api:
        settings = settings.model_copy(
            update={"telegram_api_url": api.base_url, "telegram_bot_token": SecretStr(api.token)}
        )
        app = build_application(settings, factory)
        updater = app.updater
        if updater is None or app.post_init is None:  # build_application makes both
            raise RuntimeError("the bot application has no updater or post_init to drive")
        await app.initialize()
        await app.post_init(app)
        await updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            await api.message(questions[0], chat_id=1, user_id=1)  # warm-up: first answer loads lazily
            await api.wait_for("sendMessage", lambda c: int(c.params.get("chat_id", 0)) == 1, timeout=120)
            latencies: list[float] = []
            started = time.monotonic()
            for r in range(rounds):
                mark = len(api.calls)
                pushed: dict[int, float] = {}
                for i in range(chats):
                    chat = 10_000 + i
                    pushed[chat] = time.monotonic()
                    await api.message(questions[(r * chats + i) % len(questions)], chat_id=chat, user_id=chat)
                sent = await api.wait_for(
                    "sendMessage",
                    partial(_sent_to, pushed),
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
            if updater.running:
                await updater.stop()
            await app.stop()
            await app.shutdown()
    return latencies, elapsed


def _sent_to(chats: dict[int, float], call: Call) -> bool:
    return int(call.params.get("chat_id", 0)) in chats


def bench_bot(
    report: BenchReport,
    settings: Settings,
    factory: RetrieverFactory,
    questions: list[str],
    *,
    chats: int = 100,
    rounds: int = 2,
) -> None:
    """Twice: at Telegram's free send rate (the default setting), and with the rate of a bot that
    pays for broadcasts, which shows what newsbot itself can answer."""
    fake_api = _fake_api()
    if fake_api is None:
        report.notes.append("bot throughput skipped: tests/fakes/bot_api.py (the fake Bot API) is not here")
        return
    settings = settings.model_copy(update={"throttle_questions": 10_000, "allowed_chat_ids": []})
    for rate in dict.fromkeys((settings.send_rate, 1000.0)):
        limited = settings.model_copy(update={"send_rate": rate})
        latencies, elapsed = asyncio.run(_burst(fake_api, limited, factory, questions, chats, rounds))
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
