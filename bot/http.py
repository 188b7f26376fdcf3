"""PTB's connection to the Bot API over aiohttp instead of httpx.

Under load the HTTP client is a large share of the bot's own work: every answer is a
sendMessage (and often a "typing…" action), and the bot's event loop pays for each request while
it competes with the answering threads. Measured on this machine (bench/http_client.py), an
aiohttp request costs about a third of the CPU time of an httpx one, so the same loop keeps up
with more chats. aiohttp is already a dependency (the stand-in Bot API serves with it).
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUTS = {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 1.0}
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session with ``connection_pool_size`` connections; timeouts as HTTPXRequest's."""

    def __init__(self, connection_pool_size: int = 1) -> None:
        if connection_pool_size < 1:
            raise ValueError(f"connection_pool_size must be at least 1, got {connection_pool_size}")
        self.connection_pool_size = connection_pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return DEFAULT_TIMEOUTS["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Created on the running loop: PTB builds the request before the loop exists.
            connector = aiohttp.TCPConnector(limit=self.connection_pool_size)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.contains_files if request_data else False
        data = self._body(request_data)
        pool = _or(pool_timeout, DEFAULT_TIMEOUTS["pool"])
        connect = _or(connect_timeout, DEFAULT_TIMEOUTS["connect"])
        read = _or(read_timeout, DEFAULT_TIMEOUTS["read"])
        write = _or(write_timeout, MEDIA_WRITE_TIMEOUT if files else DEFAULT_TIMEOUTS["write"])
        # aiohttp has no write timeout of its own: the whole request is held to the sum of the
        # phases instead (a long poll's read timeout already covers its wait).
        phases = (pool, connect, read, write)
        total = None if None in phases else sum(p for p in phases if p is not None)
        # aiohttp's `connect` is the wait for a pooled connection plus opening one.
        acquire = None if pool is None or connect is None else pool + connect
        timeout = aiohttp.ClientTimeout(total=total, connect=acquire, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(
                method, url, data=data, headers={"User-Agent": self.USER_AGENT}, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _body(request_data: RequestData | None) -> aiohttp.FormData | None:
        if request_data is None:
            return None
        form = aiohttp.FormData(request_data.json_parameters)
        for name, (filename, content, mime) in (request_data.multipart_data or {}).items():
            form.add_field(name, content, filename=filename, content_type=mime)
        return form


def _or(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value
