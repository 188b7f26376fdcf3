"""Measures the bot over the wire: question pushed to a stand-in Bot API -> answer received.

    python scripts/bench_bot.py [--articles 150] [--questions 24] [--chats 8]

Builds a temporary index from the first N news articles with the real model, starts the real
PTB Application against tests/fakes/bot_api.py, then asks questions one at a time and then
from several chats at once, and prints the latencies. Loopback only; prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample_corpus(target: Path, count: int) -> list[str]:
    """Copies the first ``count`` news articles; their titles, as questions, are the workload."""
    news = ROOT / "corpora" / "news"
    records = [json.loads(line) for line in (news / "articles.jsonl").read_text().splitlines()][:count]
    for record in records:
        (target / record["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(news / record["file"], target / record["file"])
    (target / "articles.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return [f"what happened: {r['title']}?" for r in records]


def summary(label: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{label}: n={len(seconds)} median {statistics.median(seconds) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"
    )


async def measure(args: argparse.Namespace, tmp: Path) -> None:
    from newsbot.config.settings import load_settings
    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.retrieval.retriever import Retriever
    from tests.bot.conftest import running_bot

    questions = sample_corpus(tmp / "seeds", args.articles)
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    settings = load_settings(seeds_dir=tmp / "seeds", index_dir=tmp / "index", throttle_questions=10_000)
    started = time.perf_counter()
    Retriever.from_settings(settings, embedder=embedder).close()
    print(f"index of {args.articles} articles built in {time.perf_counter() - started:.1f} s")

    async with running_bot(settings, lambda s: Retriever.open(s.index_dir, embedder=embedder, settings=s)) as bot:
        api = bot.api
        sequential = []
        for question in questions[: args.questions]:
            mark = len(api.calls)
            t0 = time.monotonic()
            await api.message(question, chat_id=1, user_id=1)
            [answer] = await api.wait_for("sendMessage", after=mark, timeout=120)
            sequential.append(answer.at - t0)
        print(summary("one chat, one question at a time", sequential))

        # Fresh questions, so nothing is answered from what the first phase already computed.
        batch = questions[args.questions : args.questions + args.chats * 3]
        mark = len(api.calls)
        asked = {}
        t0 = time.monotonic()
        for n, question in enumerate(batch):
            message = await api.message(question, chat_id=100 + n % args.chats, user_id=100 + n % args.chats)
            asked[message["message_id"]] = time.monotonic()
        done = await api.wait_for("sendMessage", after=mark, count=len(batch), timeout=600)
        latencies = [c.at - asked[c.params["reply_parameters"]["message_id"]] for c in done]
        print(summary(f"{args.chats} chats, {len(batch)} questions at once (each question to its answer)", latencies))
        print(f"throughput: {len(batch) / (max(c.at for c in done) - t0):.1f} answers/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=80, help="News articles to index.")
    parser.add_argument("--questions", type=int, default=24, help="Questions asked one at a time.")
    parser.add_argument("--chats", type=int, default=8, help="Chats asking at the same time.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(args, Path(tmp)))


if __name__ == "__main__":
    main()
