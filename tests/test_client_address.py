"""Who a client is for the rate limits (an IPv4 address, an IPv6 /64) and which reverse proxies
may say so: the pure rules, and the setting that carries them."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sync_server import cli
from sync_server.client_address import UNKNOWN, proxy_hosts, rate_limit_key, trusted_networks
from sync_server.settings import Settings

# Not ::/64: it holds the IPv4-mapped addresses (::ffff:0:0/96), which are IPv4 clients.
PREFIXES = st.integers(min_value=1, max_value=2**64 - 1)
HOSTS = st.integers(min_value=0, max_value=2**64 - 1)
IPV4 = st.integers(min_value=0, max_value=2**32 - 1).map(ipaddress.IPv4Address)


def ipv6(prefix: int, host: int) -> str:
    return str(ipaddress.IPv6Address(prefix << 64 | host))


@given(prefix=PREFIXES, first=HOSTS, second=HOSTS)
def test_every_address_of_one_64_is_one_client(prefix, first, second):
    assert rate_limit_key(ipv6(prefix, first)) == rate_limit_key(ipv6(prefix, second))


@given(first=PREFIXES, second=PREFIXES, host=HOSTS)
def test_different_64s_are_different_clients(first, second, host):
    assume(first != second)
    assert rate_limit_key(ipv6(first, host)) != rate_limit_key(ipv6(second, host))


@given(address=IPV4)
def test_an_ipv4_mapped_address_is_the_ipv4_address(address):
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert rate_limit_key(str(mapped)) == rate_limit_key(str(address)) == str(address)
    # However it is written.
    assert rate_limit_key(mapped.exploded) == str(address)


@given(first=IPV4, second=IPV4)
def test_each_ipv4_address_is_its_own_client(first, second):
    assert (rate_limit_key(str(first)) == rate_limit_key(str(second))) == (first == second)


@given(prefix=PREFIXES, host=HOSTS)
def test_any_spelling_of_an_ipv6_address_is_one_client(prefix, host):
    address = ipaddress.IPv6Address(prefix << 64 | host)
    assert rate_limit_key(address.exploded) == rate_limit_key(address.compressed)
    assert rate_limit_key(address.compressed.upper()) == rate_limit_key(address.compressed)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        (None, UNKNOWN),
        ("", UNKNOWN),
        ("testclient", UNKNOWN),
        ("[2001:db8::1]", UNKNOWN),
        ("203.0.113.7, 198.51.100.1", UNKNOWN),
    ],
)
def test_the_key_of_an_address(address, key):
    assert rate_limit_key(address) == key


@given(st.text(max_size=60))
def test_anything_that_is_no_address_is_unknown_and_nothing_fails(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        assert rate_limit_key(text) == UNKNOWN
    else:
        assert len(rate_limit_key(text)) <= 64  # fits the sign-in failures' address column


# -- trusted proxies ----------------------------------------------------------------------------


def test_no_proxy_is_trusted_by_default(monkeypatch):
    monkeypatch.delenv("QV_TRUSTED_PROXIES", raising=False)
    assert Settings().trusted_proxies == ()


def test_trusted_proxies_are_read_from_a_comma_separated_variable(monkeypatch):
    monkeypatch.setenv("QV_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert [str(network) for network in Settings().trusted_proxies] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("127.0.0.1, nginx", "'nginx' is neither an IP address nor a network"),
        ("*", "'*' is neither an IP address nor a network"),
        ("10.0.0.1/8", "'10.0.0.1/8' has host bits set: did you mean 10.0.0.0/8?"),
        ("0.0.0.0/0", "would believe any client's X-Forwarded-For"),
        ("::/0", "would believe any client's X-Forwarded-For"),
    ],
)
def test_a_bad_entry_is_refused_by_name(monkeypatch, value, message):
    with pytest.raises(ValueError, match="QV_TRUSTED_PROXIES") as refused:
        Settings(trusted_proxies=value)
    assert message in str(refused.value)
    monkeypatch.setenv("QV_TRUSTED_PROXIES", value)
    with pytest.raises(ValueError, match="QV_TRUSTED_PROXIES"):
        Settings()


def test_the_command_line_says_which_entry_is_wrong(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("QV_TRUSTED_PROXIES", "127.0.0.1,proxy.mairie.fr")
    status = cli.main(["--database-url", f"sqlite:///{tmp_path / 'server.db'}", "init-db"])
    assert status == 1
    error = capsys.readouterr().err
    assert "QV_TRUSTED_PROXIES: 'proxy.mairie.fr' is neither an IP address nor a network" in error


def test_an_ipv4_proxy_is_also_trusted_as_seen_by_a_server_on_ipv6():
    hosts = proxy_hosts(trusted_networks("127.0.0.1, 10.0.0.0/8, fd00::/8"))
    networks = [ipaddress.ip_network(host) for host in hosts]
    for peer, trusted in [
        ("127.0.0.1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.20.30.40", True),
        ("fd12::1", True),
        ("::ffff:127.0.0.2", False),
        ("::ffff:11.0.0.1", False),
    ]:
        assert any(ipaddress.ip_address(peer) in network for network in networks) is trusted
