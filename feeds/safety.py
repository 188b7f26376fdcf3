"""Which addresses a feed fetch may reach: public ones, unless the operator allows private ones too.

A feed (or a redirect it sends, or an item link in it) could point newsbot at a service on its own
machine or network (an admin page, a cloud metadata endpoint). So every host is resolved first and
every address it resolves to is checked; the fetch then connects to exactly the address checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Exception):
    """Why one fetch failed, as one line for the report."""


def address_kind(ip: IPAddress) -> str | None:
    """Why an address is not a public one ('loopback', 'private', ...), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address inside are judged by that address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_kind(embedded)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "not publicly routable"
    return None


@dataclass(frozen=True, slots=True)
class AddressGuard:
    """Refuses addresses that are not public unless ``allow_private`` (setting feed_allow_private)."""

    allow_private: bool = False

    def check(self, host: str, addresses: list[IPAddress]) -> None:
        if self.allow_private:
            return
        for ip in addresses:
            kind = address_kind(ip)
            if kind is not None:
                shown = host if host == str(ip) else f"{host} ({ip})"
                raise FetchError(
                    f"refused {shown}: a {kind} address; newsbot fetches feeds only from public addresses "
                    "unless feed_allow_private = true (NEWSBOT_FEED_ALLOW_PRIVATE=1)"
                )


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an address literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r} ({exc.strerror})") from None
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop an IPv6 zone id
        if ip not in found:
            found.append(ip)
    if not found:
        raise FetchError(f"host {host!r} resolves to no address")
    return found
