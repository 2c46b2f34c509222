"""The address guard: which IP addresses outbound fetches may reach, decided after DNS resolution."""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The host resolves to an address the guard does not let outbound fetches reach."""


class HostUnresolved(AddressRefused):
    """DNS gave no answer for the host (yet): unlike a refused address, worth trying again later."""


@lru_cache(maxsize=8)
def _allowed_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def address_is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address (no loopback, private, link-local, multicast, reserved)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
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


def host_resolve(host: str, port: int) -> list[IPAddress]:
    """Resolve ``host`` and check every address it has; the caller connects to the first one.

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
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise HostUnresolved(f"cannot resolve host {host!r}: {exc.strerror}") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    for address in addresses:
        address_check(address)
    return addresses
