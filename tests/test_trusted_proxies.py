"""Behind a reverse proxy: `X-Forwarded-For` names the client only when the peer is a trusted proxy
(`QV_TRUSTED_PROXIES`), so rotating it does not escape the phone survey's limit nor the sign-in
throttle; an IPv6 client is one /64. The real app in-process, with the peer address a proxy or a
visitor would have, and `sync-server serve` itself on a loopback port."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sync_server import cli
from sync_server.app import create_app
from sync_server.phone.guard import Limits, PhoneGuard
from tests.fixtures.server import (
    APP_URL,
    PASSWORD,
    SERVICE,
    SITE,
    TOWN_FILE,
    add_user,
    log_in_client,
    open_town_storage,
    server_settings_for,
)
from tests.fixtures.web import form_token

SURVEY = f"/s/{SITE}/{SERVICE}"
PROXY = "127.0.0.1"  # nginx on the same machine
POSTS = 3  # the phone survey's budget per client in these tests
MANAGER = "qualite"


@contextmanager
def town_app(tmp_path: Path, **overrides: Any) -> Iterator[FastAPI]:
    """The real app on the demo town, its phone budget `POSTS` answers, its sign-in locking an
    address after 3 failures."""
    settings = server_settings_for(
        tmp_path, public_base_url=APP_URL, login_failures_per_address=3, **overrides
    )
    storage = open_town_storage(settings)
    add_user(storage, MANAGER)
    try:
        app = create_app(settings, storage)
        app.state.phone_guard = PhoneGuard(storage, Limits(max_posts=POSTS))
        yield app
    finally:
        storage.close()


@contextmanager
def peer(app: FastAPI, host: str) -> Iterator[TestClient]:
    """A client whose TCP connection comes from `host`."""
    with TestClient(app, client=(host, 40_000), follow_redirects=False) as client:
        yield client


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def survey_posts(client: httpx.Client, forwarded: Iterable[str]) -> list[int]:
    """The status of answering the main question once per `X-Forwarded-For` value."""
    form = {**hidden_fields(client.get(SURVEY).text), "answer": "satisfied"}
    return [
        client.post(SURVEY, data=form, headers={"X-Forwarded-For": value}).status_code
        for value in forwarded
    ]


def sign_in_status(client: TestClient, username: str, password: str, forwarded: str) -> int:
    token = form_token(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=data, headers={"X-Forwarded-For": forwarded}).status_code


def rotating(count: int, template: str = "198.51.100.{}") -> list[str]:
    return [template.format(n) for n in range(1, count + 1)]


ACCEPTED, REFUSED = 303, 429


# -- the phone survey ---------------------------------------------------------------------------


def test_without_trusted_proxies_x_forwarded_for_is_ignored(tmp_path):
    with town_app(tmp_path) as app, peer(app, PROXY) as client:
        statuses = survey_posts(client, rotating(POSTS + 2))
    assert statuses == [ACCEPTED] * POSTS + [REFUSED] * 2


def test_a_peer_that_is_not_a_trusted_proxy_cannot_name_a_client(tmp_path):
    with town_app(tmp_path, trusted_proxies=PROXY) as app, peer(app, "192.0.2.10") as client:
        statuses = survey_posts(client, rotating(POSTS + 2))
    assert statuses == [ACCEPTED] * POSTS + [REFUSED] * 2


def test_a_trusted_proxy_gives_each_forwarded_client_its_own_budget(tmp_path):
    with town_app(tmp_path, trusted_proxies=PROXY) as app, peer(app, PROXY) as client:
        first = survey_posts(client, ["203.0.113.1"] * (POSTS + 1))
        second = survey_posts(client, ["203.0.113.2"] * POSTS)
    assert first == [ACCEPTED] * POSTS + [REFUSED]
    assert second == [ACCEPTED] * POSTS


def test_rotating_addresses_within_one_ipv6_64_shares_one_budget(tmp_path):
    with town_app(tmp_path, trusted_proxies=PROXY) as app, peer(app, PROXY) as client:
        one_64 = survey_posts(client, rotating(POSTS + 2, "2001:db8:1:2::{:x}"))
        mapped = survey_posts(client, ["::ffff:203.0.113.1", "203.0.113.1"])
        next_64 = survey_posts(client, ["2001:db8:1:3::1"])
    assert one_64 == [ACCEPTED] * POSTS + [REFUSED] * 2
    assert mapped == [ACCEPTED, ACCEPTED]
    assert next_64 == [ACCEPTED]


def test_only_the_right_most_address_a_trusted_proxy_did_not_write_counts(tmp_path):
    # A proxy that appends (`$proxy_add_x_forwarded_for`) keeps what the client wrote on the
    # left; behind two trusted hops the client is the right-most address that is not a proxy.
    with (
        town_app(tmp_path, trusted_proxies="127.0.0.1, 10.0.0.0/8") as app,
        peer(app, PROXY) as client,
    ):
        written = [f"{spoofed}, 203.0.113.9, 10.0.0.5" for spoofed in rotating(POSTS + 1)]
        statuses = survey_posts(client, written)
    assert statuses == [ACCEPTED] * POSTS + [REFUSED]


def test_an_ipv4_proxy_is_trusted_by_a_server_listening_on_ipv6(tmp_path):
    with town_app(tmp_path, trusted_proxies=PROXY) as app, peer(app, "::ffff:127.0.0.1") as client:
        statuses = survey_posts(client, ["203.0.113.1", "203.0.113.2", "203.0.113.3"] * 2)
    assert REFUSED not in statuses


def test_a_trusted_proxy_tells_the_scheme_and_nobody_else_does(tmp_path):
    example = "/api/v1/indicators?from="
    headers = {"X-Forwarded-Proto": "https", "Host": "qualite.mairie.example"}
    with town_app(tmp_path, trusted_proxies=PROXY) as app:
        for host, scheme in [(PROXY, "https"), ("192.0.2.10", "http")]:
            with peer(app, host) as client:
                log_in_client(client, MANAGER)
                page = client.get("/account/tokens", headers=headers).text
            assert f"{scheme}://qualite.mairie.example{example}" in page


def test_hsts_follows_the_scheme_a_trusted_proxy_tells(tmp_path):
    with town_app(tmp_path, trusted_proxies=PROXY) as app:
        for host, expected in [(PROXY, True), ("192.0.2.10", False)]:
            with peer(app, host) as client:
                answer = client.get("/login", headers={"X-Forwarded-Proto": "https"})
            assert ("strict-transport-security" in answer.headers) is expected, host


# -- sign-in ------------------------------------------------------------------------------------


def test_failed_sign_ins_count_per_forwarded_client_behind_a_trusted_proxy(tmp_path):
    with town_app(tmp_path, trusted_proxies=PROXY) as app, peer(app, PROXY) as client:
        for name in ("alice", "bob", "carole"):
            assert sign_in_status(client, name, "pas le bon", "203.0.113.1") == 401
        assert sign_in_status(client, MANAGER, PASSWORD, "203.0.113.1") == 429
        assert sign_in_status(client, MANAGER, PASSWORD, "203.0.113.2") == 303


def test_failed_sign_ins_from_one_ipv6_64_count_together(tmp_path):
    with town_app(tmp_path, trusted_proxies=PROXY) as app, peer(app, PROXY) as client:
        for name, address in zip(
            ("alice", "bob", "carole"), rotating(3, "2001:db8::{}"), strict=True
        ):
            assert sign_in_status(client, name, "pas le bon", address) == 401
        assert sign_in_status(client, MANAGER, PASSWORD, "2001:db8::ffff:4") == 429
        assert sign_in_status(client, MANAGER, PASSWORD, "2001:db8:0:1::4") == 303


def test_rotating_x_forwarded_for_does_not_escape_the_sign_in_lock(tmp_path):
    with town_app(tmp_path) as app, peer(app, PROXY) as client:
        for name, address in zip(("alice", "bob", "carole"), rotating(3), strict=True):
            assert sign_in_status(client, name, "pas le bon", address) == 401
        assert sign_in_status(client, MANAGER, PASSWORD, "198.51.100.4") == 429


# -- `sync-server serve` ------------------------------------------------------------------------


@contextmanager
def served(tmp_path: Path, **environment: str) -> Iterator[httpx.Client]:
    """`sync-server serve` in a process of its own on a free loopback port, on the demo town,
    and a client of it. `environment` adds variables (`QV_*`)."""
    database = f"sqlite:///{tmp_path / 'served.db'}"
    assert cli.main(["--database-url", database, "load-town", str(TOWN_FILE)]) == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "QV_DATABASE_URL": database,
        "QV_SECRET_KEY": secrets.token_urlsafe(48),
        "QV_ENVIRONMENT": "production",
        **environment,
    }
    command = [sys.executable, "-m", "sync_server.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        waiting = threading.Event()
        for _ in range(300):  # migrations, then the socket
            try:
                client.get("/login")
                break
            except httpx.ConnectError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                waiting.wait(0.1)
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(20)


# The phone survey's own budget per client (`Limits.max_posts`): the served app has no other.
SERVED_POSTS = Limits().max_posts


def test_serve_ignores_x_forwarded_for_when_no_proxy_is_trusted(tmp_path, monkeypatch):
    # Not even from 127.0.0.1, which uvicorn itself would believe, nor with uvicorn's variable.
    monkeypatch.delenv("QV_TRUSTED_PROXIES", raising=False)
    with served(tmp_path, FORWARDED_ALLOW_IPS="*") as client:
        statuses = survey_posts(client, rotating(SERVED_POSTS + 5))
    assert statuses.count(REFUSED) == 5
    assert statuses[-5:] == [REFUSED] * 5


def test_serve_believes_the_proxies_it_is_told_to_trust(tmp_path):
    with served(tmp_path, QV_TRUSTED_PROXIES="127.0.0.1, ::1") as client:
        one_64 = survey_posts(client, rotating(SERVED_POSTS + 5, "2001:db8:7::{:x}"))
        others = survey_posts(client, ["203.0.113.1", "2001:db8:8::1"])
    assert one_64[-5:] == [REFUSED] * 5
    assert REFUSED not in one_64[:SERVED_POSTS]
    assert others == [ACCEPTED, ACCEPTED]
