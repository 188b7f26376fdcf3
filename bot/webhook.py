"""Webhook updates answered before they are acknowledged, so a killed replica loses none.

Telegram re-delivers a webhook update until it gets a 200. PTB's webhook handler puts the update
on ``update_queue`` and answers 200 at once, before any handler ran: a replica killed while
answering has acknowledged an update it never answered, and the question is lost. The handler
awaits ``update_queue.put(update)``, so this queue's ``put`` processes the update there (under
the application's concurrency limit, as the queue's reader would have) and returns when the
handlers are done: the 200 goes out after the answer. Anything else put on the queue (PTB's
stop signal) is queued as usual. Only webhook mode uses it: long polling puts updates one after
another, and would answer them one at a time.
"""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application


class AnsweringQueue(asyncio.Queue[object]):
    """An update queue whose ``put`` returns once the update has been processed."""

    def __init__(self) -> None:
        super().__init__()
        self.application: Application | None = None

    async def put(self, item: object) -> None:
        app = self.application
        if app is None or not isinstance(item, Update):
            await super().put(item)
            return
        # Errors in handlers go to the application's error handler (the user gets an apology);
        # what escapes is a failure to process at all, and then no 200: Telegram will retry.
        await app.update_processor.process_update(item, app.process_update(item))
