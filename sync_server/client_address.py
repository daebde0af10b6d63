"""Who a client is, as far as rate limits go, and which reverse proxies may say so.

A client's address is the peer's, unless that peer is a trusted proxy (`QV_TRUSTED_PROXIES`),
whose `X-Forwarded-For` then names it (`create_app` installs uvicorn's proxy-headers middleware).
The limits count per `rate_limit_key`: an IPv6 client holds a whole /64 (one home, one phone on a
carrier), so counting per address would let it answer again from a fresh address at will.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Network, IPv6Address, IPv6Network

# Every client whose address is missing or not an IP address (a Unix socket, a test client)
# shares this one budget.
UNKNOWN = "unknown"

ProxyNetwork = IPv4Network | IPv6Network


def rate_limit_key(address: str | None) -> str:
    """What limits count under: an IPv4 address as is, an IPv6 one as its /64 (an IPv4-mapped one
    as the IPv4 address), anything else as `UNKNOWN`."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return UNKNOWN
    if not isinstance(ip, IPv6Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    # From the integer, so that a zone (`fe80::1%eth0`) does not make another client.
    return str(IPv6Network((int(ip) >> 64 << 64, 64)))


def trusted_networks(value: str) -> tuple[ProxyNetwork, ...]:
    """The comma-separated IP addresses and networks (CIDR) of `value`; ValueError naming the
    first entry that is neither, has host bits set, or would trust every address."""
    return tuple(_network(entry) for entry in (p.strip() for p in value.split(",")) if entry)


def _network(entry: str) -> ProxyNetwork:
    try:
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError(
            f"{entry!r} is neither an IP address nor a network such as 10.0.0.0/8"
        ) from None
    if network.prefixlen == 0:
        raise ValueError(f"{entry!r} would believe any client's X-Forwarded-For: name the proxies")
    try:
        return ipaddress.ip_network(entry)
    except ValueError:
        raise ValueError(f"{entry!r} has host bits set: did you mean {network}?") from None


def proxy_hosts(networks: tuple[ProxyNetwork, ...]) -> list[str]:
    """`networks` as uvicorn's proxy-headers middleware takes them, each IPv4 one in its
    IPv4-mapped IPv6 form too: how an IPv4 proxy looks to a server listening on `::`."""
    hosts = [str(network) for network in networks]
    for network in networks:
        if isinstance(network, IPv4Network):
            mapped = IPv6Address(f"::ffff:{network.network_address}")
            hosts.append(str(IPv6Network((mapped, 96 + network.prefixlen))))
    return hosts
