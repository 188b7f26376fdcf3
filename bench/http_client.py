"""The bot's HTTP client alone: CPU time per Bot API request, httpx (PTB's default) against aiohttp.

    python -m newsbot.bench.http_client [--requests N] [--runs R]

Both send the same sendMessage calls through PTB's own Bot, concurrently, to the stand-in Bot API
running in a child process, so only the client's work is counted (this process's CPU time). The
runs alternate between the two clients; the medians are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from newsbot.bot.http import AiohttpRequest

SERVER = (
    "import asyncio, json, sys\n"
    "from newsbot.testing.bot_api import FakeBotApi\n"
    "async def main():\n"
    "    async with FakeBotApi() as api:\n"
    "        print(json.dumps([api.base_url, api.token]), flush=True)\n"
    "        await asyncio.to_thread(sys.stdin.read)\n"
    "asyncio.run(main())\n"
)
TEXT = "Scholz will travel to Kyiv and Moscow on February 14-15. " * 8  # an answer's length
CONNECTIONS = 32  # as the bot's (newsbot.bot.app.CONNECTIONS)


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


async def _cpu_ms_per_request(request: BaseRequest, base_url: str, token: str, n: int) -> float:
    bot = Bot(token, base_url=base_url, request=request, get_updates_request=request)
    async with bot:
        await bot.send_message(1, "warm up")
        started = _cpu()
        await asyncio.gather(*(bot.send_message(10_000 + i % 100, TEXT) for i in range(n)))
        return (_cpu() - started) / n * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="sendMessage calls per run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each client, alternating")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.runs < 1:
        parser.error("--requests and --runs must be at least 1")
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if server.stdout is None:
            raise RuntimeError("the stand-in Bot API has no stdout")
        base_url, token = json.loads(server.stdout.readline())
        clients = {
            "httpx (PTB's HTTPXRequest)": lambda: HTTPXRequest(connection_pool_size=CONNECTIONS),
            "aiohttp (newsbot.bot.http)": lambda: AiohttpRequest(connection_pool_size=CONNECTIONS),
        }
        figures: dict[str, list[float]] = {name: [] for name in clients}
        for run in range(args.runs):
            order = list(clients) if run % 2 == 0 else list(reversed(clients))
            for name in order:
                figures[name].append(asyncio.run(_cpu_ms_per_request(clients[name](), base_url, token, args.requests)))
        with open("/proc/loadavg") as load:
            print(f"{args.requests} sendMessage calls, {args.runs} runs each; load {load.read().split()[0]}")
        for name, values in figures.items():
            print(
                f"{name}: median {statistics.median(values):.2f} ms CPU per request ({', '.join(f'{v:.2f}' for v in values)})"
            )
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
