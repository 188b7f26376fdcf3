"""Polite, bounded HTTP fetching (httpx): checked addresses, a deadline, a size cap, paced hosts.

Redirects are followed here rather than by httpx, so that every hop's host is resolved and
checked before anything is sent to it; each request then goes to the very address that was
checked (DNS cannot answer differently in between), with the host name in the Host header and in
TLS (SNI and certificate check). Connections are not kept alive, so a pooled connection to an
address is never reused for another host name that shares it.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import httpx

from newsbot.feeds.records import Fetched
from newsbot.feeds.safety import AddressGuard, FetchError, IPAddress, resolve

if TYPE_CHECKING:
    from newsbot.config.settings import Settings

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
_REDIRECTS = {301, 302, 303, 307, 308}

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


def user_agent() -> str:
    try:
        version = metadata.version("newsbot")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"newsbot/{version} (feed reader of a news question-answering bot; fetches only feeds its operator added)"


class HostPacer:
    """Spaces requests to one host by ``delay`` seconds; safe for concurrent tasks on one loop."""

    def __init__(
        self,
        delay: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.delay = delay
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}

    async def wait(self, host: str) -> None:
        now = self._clock()
        # The slot is taken before sleeping, so two tasks never get the same one.
        start = max(now, self._next.get(host, now))
        self._next[host] = start + self.delay
        if start > now:
            await self._sleep(start - now)


class Fetcher:
    """GETs feeds and pages within the fetch settings; every failure is a FetchError with one line."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
        host_delay: float = 1.0,
        guard: AddressGuard | None = None,
        resolver: Resolver = resolve,
        pacer: HostPacer | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.guard = guard or AddressGuard()
        self.resolver = resolver
        self.pacer = pacer or HostPacer(host_delay)
        self.verify = verify
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kw: Any) -> Fetcher:
        return cls(
            timeout=settings.feed_timeout_seconds,
            max_bytes=settings.feed_max_bytes,
            max_redirects=settings.feed_max_redirects,
            host_delay=settings.feed_host_delay_seconds,
            guard=AddressGuard(settings.feed_allow_private),
            **kw,
        )

    async def __aenter__(self) -> Fetcher:
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent()},
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            trust_env=False,  # a proxy would connect to addresses the guard never saw
            limits=httpx.Limits(max_keepalive_connections=0),
            verify=self.verify,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(self, url: str, *, accept: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The answer to GET ``url`` after redirects; 304 when the validators still match."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url, headers)
        except (TimeoutError, httpx.TimeoutException):
            raise FetchError(f"timed out after {self.timeout:g} s (feed_timeout_seconds)") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc or 'connection failed'}") from None

    async def _follow(self, url: str, headers: dict[str, str]) -> Fetched:
        visited = [url]
        current = url
        for _ in range(self.max_redirects + 1):
            answer = await self._once(current, headers)
            if answer.status not in _REDIRECTS:
                return answer
            location = answer.location
            if not location:
                raise FetchError(f"HTTP {answer.status} redirect from {current} without a Location header")
            target = urljoin(current, location)
            if target in visited:
                raise FetchError(f"redirect loop: {current} redirects back to {target}")
            visited.append(target)
            current = target
        raise FetchError(f"more than {self.max_redirects} redirects (feed_max_redirects); the last went to {current}")

    async def _once(self, url: str, headers: dict[str, str]) -> Fetched:
        """One request to a checked address; a redirect comes back as it is, with its Location."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FetchError(f"bad address {url!r} ({exc})") from None
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise FetchError(f"will not fetch {url!r}: only http:// and https:// addresses with a host")
        host = parsed.raw_host.decode("ascii")
        addresses = await self.resolver(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        self.guard.check(host, addresses)
        await self.pacer.wait(host)
        failure: Exception | None = None
        for ip in addresses:
            try:
                return await self._send(parsed, ip, headers)
            except httpx.ConnectError as exc:
                failure = exc  # another address of the same host may answer
        raise FetchError(f"cannot connect to {host}: {failure}")

    async def _send(self, parsed: httpx.URL, ip: IPAddress, headers: dict[str, str]) -> Fetched:
        if self._client is None:
            raise RuntimeError("use the Fetcher as `async with Fetcher(...)`")
        host = parsed.raw_host.decode("ascii")
        pinned = parsed.copy_with(host=str(ip))
        extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
        request_headers = {**headers, "Host": parsed.netloc.decode("ascii")}
        async with self._client.stream("GET", pinned, headers=request_headers, extensions=extensions) as response:
            status = response.status_code
            # Only a 200 has a body worth reading; an error page or a 304 says nothing newsbot needs.
            body = await self._read(response) if status == 200 else b""
            return Fetched(
                url=str(parsed),
                status=status,
                body=body,
                content_type=response.headers.get("content-type", ""),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                location=response.headers.get("location") if status in _REDIRECTS else None,
            )

    async def _read(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(
                f"body is {int(declared):,} bytes, over the {self.max_bytes:,}-byte limit (feed_max_bytes)"
            )
        parts, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:  # also catches a body that lies about its length or unzips big
                raise FetchError(f"body is over the {self.max_bytes:,}-byte limit (feed_max_bytes); stopped reading")
            parts.append(chunk)
        return b"".join(parts)
