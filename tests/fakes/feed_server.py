"""A small web site on 127.0.0.1 for feed tests: RSS and Atom feeds, item pages, and bad answers.

Runs http.server in a thread, so both async tests and the synchronous CLI (which runs its own
event loop) can fetch from it. Tests set ``routes[path]`` to a ``Page`` and read ``requests``.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape as xml_escape


@dataclass(frozen=True)
class Page:
    """One address's answer."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None  # a matching If-None-Match gets 304
    location: str | None = None  # for a redirect status
    stall: float = 0.0  # seconds to wait before answering (cut short when the server stops)
    stream_bytes: int = 0  # instead of ``body``: this many bytes, written in 64 KiB pieces
    declare_length: bool = True  # send Content-Length with ``stream_bytes``


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    guid: str | None = None
    published: datetime | None = None
    summary: str = ""


@dataclass
class FeedServer:
    routes: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    tls: ssl.SSLContext | None = None  # serve https with this context

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)


def _handler(server: FeedServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            page = server.routes.get(path, Page(b"not found", "text/plain", status=404))
            if page.stall:
                server.stopping.wait(page.stall)
            if page.etag and self.headers.get("If-None-Match") == page.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            if page.etag:
                self.send_header("ETag", page.etag)
            if page.location:
                self.send_header("Location", page.location)
            if page.stream_bytes:
                self._stream(page)
                return
            self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        def _stream(self, page: Page) -> None:
            if page.declare_length:
                self.send_header("Content-Length", str(page.stream_bytes))
            self.end_headers()
            piece, left = b"<" + b"x" * 65535, page.stream_bytes
            try:
                while left > 0 and not server.stopping.is_set():
                    self.wfile.write(piece[: min(left, len(piece))])
                    left -= len(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what a size limit does

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def rss(title: str, items: list[Item]) -> Page:
    entries = "".join(
        "<item>"
        f"<title>{xml_escape(i.title)}</title><link>{xml_escape(i.link)}</link>"
        + (f"<guid isPermaLink='false'>{xml_escape(i.guid)}</guid>" if i.guid else "")
        + (f"<pubDate>{format_datetime(i.published)}</pubDate>" if i.published else "")
        + (f"<description>{xml_escape(i.summary)}</description>" if i.summary else "")
        + "</item>"
        for i in items
    )
    body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{xml_escape(title)}</title><link>http://example.org/</link><description>test</description>{entries}</channel></rss>'
    return Page(body.encode(), "application/rss+xml; charset=utf-8")


def atom(title: str, items: list[Item]) -> Page:
    entries = "".join(
        "<entry>"
        f"<title>{xml_escape(i.title)}</title><link href='{xml_escape(i.link)}'/>"
        f"<id>{xml_escape(i.guid or i.link)}</id>"
        f"<updated>{(i.published or datetime(2024, 1, 1, tzinfo=UTC)).isoformat()}</updated>"
        + (f"<summary type='html'>{xml_escape(i.summary)}</summary>" if i.summary else "")
        + "</entry>"
        for i in items
    )
    body = f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{xml_escape(title)}</title><id>urn:test</id><updated>2024-01-01T00:00:00Z</updated>{entries}</feed>'
    return Page(body.encode(), "application/atom+xml; charset=utf-8")


def article_page(title: str, *paragraphs: str, site: str = "Test Gazette", when: str = "2024-03-04") -> Page:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = (
        f"<!doctype html><html><head><title>{escape(title)} | {escape(site)}</title>"
        f'<meta property="og:site_name" content="{escape(site)}"><meta name="date" content="{when}"></head>'
        f"<body><nav><a href='/'>Home</a> | <a href='/news'>News</a></nav><article><h1>{escape(title)}</h1>{body}"
        "</article><footer>All rights reserved.</footer><script>alert('never in the text')</script></body></html>"
    )
    return Page(html.encode())
