"""Which body a request may send: the server's limit, or the larger one of the few form routes
that take a file (pure rule)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync_server.api.body_limit import body_limit_for, upload_route

FINDINGS = upload_route("POST", r"/audits/\d+/findings", 5_064_000)


def test_the_findings_form_takes_its_own_limit():
    assert body_limit_for("POST", "/audits/12/findings", 1_000_000, [FINDINGS]) == 5_064_000


def test_any_other_method_or_path_keeps_the_servers_limit():
    for method, path in [
        ("GET", "/audits/12/findings"),
        ("POST", "/audits/12/findings/extra"),
        ("POST", "/x/audits/12/findings"),
        ("POST", "/audits/abc/findings"),
        ("POST", "/actions"),
    ]:
        assert body_limit_for(method, path, 1_000_000, [FINDINGS]) == 1_000_000, path


@given(st.text(max_size=40), st.sampled_from(["GET", "POST", "PUT"]), st.integers(1024, 10**8))
def test_an_upload_route_never_lowers_the_servers_limit(path, method, default):
    assert body_limit_for(method, "/" + path, default, [FINDINGS]) >= default
    assert body_limit_for(method, "/" + path, default) == default
