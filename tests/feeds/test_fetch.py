"""Fetching stays polite and bounded: checked addresses, conditional GET, caps on size, time and redirects."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl

import pytest
import trustme

from newsbot.feeds.fetch import FEED_ACCEPT, Fetcher, HostPacer
from newsbot.feeds.safety import AddressGuard, FetchError, address_kind
from tests.fakes.feed_server import FeedServer, Page


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


def fetch(url: str, **kw):
    options = {"guard": AddressGuard(allow_private=True), "host_delay": 0.0, **kw}
    etag = options.pop("etag", None)

    async def go():
        async with Fetcher(**options) as fetcher:
            return await fetcher.get(url, accept=FEED_ACCEPT, etag=etag)

    return asyncio.run(go())


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4 inside IPv6 is judged as IPv4
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("100.64.0.1", "not publicly routable"),
        ("224.0.0.1", "multicast"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_kinds(address, kind):
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_a_private_address_is_refused_without_the_setting_and_nothing_is_sent(server):
    server.routes["/feed.xml"] = Page(b"<rss/>")
    with pytest.raises(FetchError, match=r"refused 127\.0\.0\.1: a loopback address.*feed_allow_private"):
        fetch(server.url("/feed.xml"), guard=AddressGuard(allow_private=False))
    assert server.requests == []


def test_a_redirect_to_a_refused_address_is_checked_before_it_is_followed(server):
    class RefuseOther(AddressGuard):
        def check(self, host, addresses):  # 127.0.0.1 plays the public site, 127.0.0.2 the private one
            if ipaddress.ip_address("127.0.0.2") in addresses:
                raise FetchError(f"refused {host}")

    server.routes["/feed.xml"] = Page(status=302, location=f"http://127.0.0.2:{server.port}/admin")
    with pytest.raises(FetchError, match=r"refused 127\.0\.0\.2"):
        fetch(server.url("/feed.xml"), guard=RefuseOther())
    assert [p for p, _ in server.requests] == ["/feed.xml"]


def test_every_resolved_address_is_checked(server):
    async def two_addresses(host, port):
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.7")]

    server.routes["/feed.xml"] = Page(b"<rss/>")
    with pytest.raises(FetchError, match=r"refused localhost \(10\.0\.0\.7\): a private address"):
        fetch(f"http://localhost:{server.port}/feed.xml", guard=AddressGuard(False), resolver=two_addresses)
    assert server.requests == []


def test_conditional_get_answers_304_and_sends_an_honest_user_agent(server):
    server.routes["/feed.xml"] = Page(b"<rss/>", "application/rss+xml", etag='"v1"')
    first = fetch(server.url("/feed.xml"))
    assert (first.status, first.body, first.etag) == (200, b"<rss/>", '"v1"')
    second = fetch(server.url("/feed.xml"), etag='"v1"')
    assert second.status == 304 and second.body == b""
    headers = server.hits("/feed.xml")
    assert headers[1]["if-none-match"] == '"v1"'
    assert headers[0]["user-agent"].startswith("newsbot/")


def test_redirects_are_followed_up_to_the_cap_and_loops_are_named(server):
    server.routes["/old"] = Page(status=301, location="/new")
    server.routes["/new"] = Page(b"<rss/>")
    assert fetch(server.url("/old")).url == server.url("/new")
    server.routes["/loop"] = Page(status=302, location="/loop2")
    server.routes["/loop2"] = Page(status=302, location="/loop")
    with pytest.raises(FetchError, match="redirect loop"):
        fetch(server.url("/loop"))
    for n in range(4):
        server.routes[f"/r{n}"] = Page(status=307, location=f"/r{n + 1}")
    server.routes["/r4"] = Page(b"<rss/>")
    with pytest.raises(FetchError, match=r"more than 2 redirects \(feed_max_redirects\)"):
        fetch(server.url("/r0"), max_redirects=2)


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_50_mb_body_is_abandoned_at_the_size_limit(server, declare_length):
    server.routes["/huge.xml"] = Page(stream_bytes=50_000_000, declare_length=declare_length)
    with pytest.raises(FetchError, match=r"over the 1,000,000-byte limit \(feed_max_bytes\)"):
        fetch(server.url("/huge.xml"), max_bytes=1_000_000)


def test_a_server_that_never_answers_times_out(server):
    server.routes["/slow.xml"] = Page(b"<rss/>", stall=60)
    with pytest.raises(FetchError, match=r"timed out after 0\.5 s \(feed_timeout_seconds\)"):
        fetch(server.url("/slow.xml"), timeout=0.5)


def test_a_closed_port_and_a_non_http_address_fail_with_a_reason(server):
    with pytest.raises(FetchError, match="cannot connect"):
        fetch("http://127.0.0.1:9/feed.xml")
    with pytest.raises(FetchError, match="only http:// and https://"):
        fetch("file:///etc/passwd")


def test_the_pacer_spaces_requests_to_one_host_only():
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = HostPacer(2.0, clock=lambda: now[0], sleep=sleep)

    async def go():
        await pacer.wait("a.example")
        await pacer.wait("b.example")
        await pacer.wait("a.example")
        now[0] += 0.5
        await pacer.wait("a.example")

    asyncio.run(go())
    assert slept == [2.0, 3.5]  # the second "a" waits 2 s; the third waits for the slot after it


def test_https_goes_to_the_checked_address_with_the_host_name_in_tls_and_host_header():
    ca = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("feeds.test").configure_cert(tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    resolved: list[str] = []

    async def feeds_test_is_loopback(host, port):
        resolved.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    with FeedServer(tls=tls) as server:
        server.routes["/feed.xml"] = Page(b"<rss/>", "application/rss+xml")
        answer = fetch(f"https://feeds.test:{server.port}/feed.xml", resolver=feeds_test_is_loopback, verify=client_tls)
        assert (answer.status, answer.body) == (200, b"<rss/>")
        assert server.hits("/feed.xml")[0]["host"] == f"feeds.test:{server.port}"
        # The certificate is checked against the name, not the address connected to.
        with pytest.raises(FetchError, match=r"certificate is not valid for 'other\.test'"):
            fetch(f"https://other.test:{server.port}/feed.xml", resolver=feeds_test_is_loopback, verify=client_tls)
    assert resolved == ["feeds.test", "other.test"]
