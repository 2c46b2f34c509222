"""IPv6 addresses that carry an IPv4 destination (6to4, Teredo, NAT64, mapped) are judged by that address."""

import ipaddress

import pytest

from apps.core.netguard import AddressRefused, address_check


@pytest.fixture(autouse=True)
def _guard_on(settings):
    settings.TRENDSITE_OUTBOUND_ALLOW = []


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (cloud metadata)
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2002:c0a8:101::",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "2001:0:a00:1:8000:63bf:f7f7:f7f7",  # Teredo via server 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
    ],
)
def test_embedded_private_ipv4_is_refused(address):
    with pytest.raises(AddressRefused):
        address_check(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "2002:808:808::",  # 6to4 of 8.8.8.8
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo, server 65.54.227.120, client 8.8.8.8
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8 (IPv6-only network with DNS64)
        "::ffff:93.184.215.14",
    ],
)
def test_embedded_public_ipv4_is_allowed(address):
    address_check(ipaddress.ip_address(address))
