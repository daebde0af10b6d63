"""Password fields mask what is typed, tell password managers what they hold, and never block
pasting; a new server has no account anybody could know the password of."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from sync_server import cli
from sync_server.storage import Storage, users
from sync_server.web.templating import TEMPLATES_DIR
from tests.fixtures.server import TOWN_FILE


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.found.append(dict(attrs))


def password_inputs() -> list[tuple[str, dict[str, str | None]]]:
    found = []
    for path in sorted(TEMPLATES_DIR.glob("*.html")):
        parser = _Inputs()
        parser.feed(path.read_text("utf-8"))
        for attrs in parser.found:
            if "password" in (attrs.get("name") or "") or attrs.get("type") == "password":
                found.append((path.name, attrs))
    return found


def test_every_password_field_is_masked_named_for_managers_and_pasteable():
    fields = password_inputs()
    assert len(fields) >= 6  # login, own password (3), the administrator's two forms
    for template, attrs in fields:
        assert attrs.get("type") == "password", (template, attrs)
        assert attrs.get("autocomplete") in {"current-password", "new-password"}, template
        assert not any(name.startswith("on") for name in attrs), template
        assert "readonly" not in attrs, template


def test_a_new_server_has_no_account(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'new.db'}"
    for argv in (["init-db"], ["load-town", str(TOWN_FILE)]):
        assert cli.main(["--database-url", db_url, *argv], out=io.StringIO()) == 0
    storage = Storage.from_url(db_url)
    with storage.read() as connection:
        assert users.accounts(connection) == []
    storage.close()
