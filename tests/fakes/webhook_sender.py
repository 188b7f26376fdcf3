"""Telegram's side of a webhook: posts each update to a replica, and re-delivers it to the next
one until some replica answers 200 (a load balancer in front of replicas, as Telegram sees it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt: which replica, and its HTTP status (0: the connection broke)."""

    update_id: int
    replica: int
    status: int


@dataclass
class WebhookSender:
    urls: list[str]
    secret: str
    attempts: int = 6
    timeout: float = 60.0
    deliveries: list[Delivery] = field(default_factory=list)

    async def deliver(self, update: dict[str, Any], replica: int) -> int:
        """Posts ``update`` to ``replica`` first, then round the others; returns the one that took it."""
        headers = {SECRET_HEADER: self.secret}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for attempt in range(self.attempts):
                target = (replica + attempt) % len(self.urls)
                try:
                    async with http.post(self.urls[target], json=update, headers=headers) as response:
                        status = response.status
                except (TimeoutError, aiohttp.ClientError):
                    status = 0
                self.deliveries.append(Delivery(update["update_id"], target, status))
                if status == 200:
                    return target
                await asyncio.sleep(0.2)  # Telegram waits before it retries, too
        raise AssertionError(f"update {update['update_id']} was not taken: {self.deliveries[-self.attempts :]}")
