"""Who is calling, by network address: the socket's peer, or what trusted proxies say it was.

Behind a load balancer every request comes from the balancer's address, so rate limits and
lockouts by address need the client's address from ``X-Forwarded-For`` or ``Forwarded``
(RFC 7239). Those headers are whatever the client wrote, except the entries our own proxies
appended: only a peer in ``WALLET_TRUSTED_PROXIES`` is believed, and the chain is read from
the right, skipping trusted proxies, up to the first address that is not one of ours. With
no trusted proxies (the default) the headers are ignored.

A *source* is the unit that limits count: an IPv4 address, or the /64 network of an IPv6
address (one subscriber's allocation; counting single IPv6 addresses would give an
attacker 2**64 fresh sources).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from wallet_api.asgi import Scope

__all__ = ["TrustedProxies", "caller_source", "client_address", "source_of", "trusted_proxies"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TrustedProxies:
    """The networks whose forwarding headers are believed."""

    def __init__(self, networks: Iterable[_Network]) -> None:
        self.networks = tuple(networks)

    def __contains__(self, address: _Address) -> bool:
        return any(address in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)


@functools.lru_cache(maxsize=8)
def trusted_proxies(setting: str) -> TrustedProxies:
    """Parse ``WALLET_TRUSTED_PROXIES`` (comma-separated addresses or CIDR networks); ValueError if malformed."""
    return TrustedProxies(
        ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()
    )


def _parse(value: str) -> _Address | None:
    """An address from a forwarding header entry (RFC 7239 quoting, brackets and ports allowed)."""
    value = value.strip().strip('"')
    if value.startswith("["):  # "[2001:db8::1]:4711"
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:  # "192.0.2.1:4711"
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None  # "unknown", an obfuscated "_id", garbage


def _forwarded_chain(scope: Scope) -> list[str]:
    """The forwarded-for entries, client first: ``Forwarded`` if sent, else ``X-Forwarded-For``."""
    forwarded: list[str] = []
    x_forwarded: list[str] = []
    for name, raw in scope["headers"]:
        if name == b"forwarded":
            for element in raw.decode("latin-1").split(","):
                for pair in element.split(";"):
                    key, _, val = pair.partition("=")
                    if key.strip().lower() == "for":
                        forwarded.append(val)
        elif name == b"x-forwarded-for":
            x_forwarded.extend(raw.decode("latin-1").split(","))
    return forwarded or x_forwarded


def client_address(scope: Scope, trusted: TrustedProxies) -> str:
    """The client's address: the socket peer unless it is a trusted proxy that says otherwise."""
    client = scope.get("client")
    if not trusted:
        return str(client[0]) if client else "unknown"
    peer = _parse(str(client[0])) if client else None
    if peer is None:
        return str(client[0]) if client else "unknown"
    if peer not in trusted:
        return str(peer)
    nearest = peer
    for entry in reversed(_forwarded_chain(scope)):
        hop = _parse(entry)
        if hop is None:
            break  # an entry no proxy of ours wrote: the last proxy's view is all we know
        nearest = hop
        if hop not in trusted:
            break
    return str(nearest)


@functools.lru_cache(maxsize=65536)
def source_of(address: str) -> str:
    """The unit limits count by: the IPv4 address, or the IPv6 address's /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def caller_source(scope: Scope, trusted_setting: str) -> str:
    """The source a request counts against, given ``WALLET_TRUSTED_PROXIES``."""
    return source_of(client_address(scope, trusted_proxies(trusted_setting)))
