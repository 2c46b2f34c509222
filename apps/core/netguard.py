"""The address guard: which IP addresses outbound fetches may reach, decided after DNS resolution."""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import lru_cache

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The host resolves to an address the guard does not let outbound fetches reach."""


class HostUnresolved(AddressRefused):
    """DNS gave no answer for the host (yet): unlike a refused address, worth trying again later."""


# getaddrinfo cannot be interrupted; a lookup that outlives its fetch's deadline finishes here, unwaited-for.
# Bounded, so a dead resolver ties up these threads, not the workers' (what waits for them fails at its limit).
_LOOKUPS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dns")


@lru_cache(maxsize=8)
def _allowed_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the IPv4 destination is the last 32 bits.
_NAT64_NETWORKS = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: IPv4-mapped, 6to4 (2002::/16), Teredo (2001::/32:
    server and client) and NAT64; empty for a native IPv6 address."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    if any(address in network for network in _NAT64_NETWORKS):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def address_is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address (no loopback, private, link-local, multicast, reserved).

    An IPv6 address that carries an IPv4 destination (mapped, 6to4, Teredo, NAT64) is judged by that IPv4
    address: ``2002:7f00:1::`` reaches 127.0.0.1 through a 6to4 relay, and ``64:ff9b::808:808`` is how an
    IPv6-only network with DNS64 reaches the public 8.8.8.8.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded:
            return all(_is_public(ipv4) for ipv4 in embedded)
    return _is_public(address)


def _is_public(address: IPAddress) -> bool:
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def address_check(address: IPAddress) -> None:
    """Raise AddressRefused unless the address is public or inside TRENDSITE_OUTBOUND_ALLOW."""
    allowed = _allowed_networks(tuple(getattr(settings, "TRENDSITE_OUTBOUND_ALLOW", []) or []))
    if any(address.version == network.version and address in network for network in allowed):
        return
    if not address_is_public(address):
        raise AddressRefused(
            f"refused to connect to {address}: loopback, private, link-local, multicast and reserved "
            "addresses are blocked (allow a CIDR with TRENDSITE_OUTBOUND_ALLOW)"
        )


def host_resolve(host: str, port: int, *, timeout: float | None = None) -> list[IPAddress]:
    """Resolve ``host`` and check every address it has; the caller connects to the first one. A lookup
    taking longer than ``timeout`` seconds is ``HostUnresolved`` (the resolver's own retries can take 20 s).

    Checking all of them (not only the first) stops a name that mixes a public and a private address from
    slipping through on a second lookup.
    """
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            if timeout is None:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            else:
                infos = _LOOKUPS.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(timeout)
        except socket.gaierror as exc:
            raise HostUnresolved(f"cannot resolve host {host!r}: {exc.strerror}") from None
        except FutureTimeout:
            raise HostUnresolved(f"cannot resolve host {host!r}: no answer within {timeout:.1f} s") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    for address in addresses:
        address_check(address)
    return addresses
