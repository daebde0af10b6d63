"""The security lint (ruff's flake8-bandit rules, `S`) guards the product's code as a class: no
`eval`/`exec`, no pickle or unsafe YAML or XML parsing, no MD5/SHA-1, no shell commands, no SQL
built from strings, no hard-coded secrets. `./dev test` runs `ruff check`; these tests keep the
rule set switched on and every exception to it reviewed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("sync_server", "qualivilles", "kiosk")
# Each reviewed exception: (file, rule) and why it is safe.
REVIEWED = {
    ("sync_server/settings.py", "S105"): (
        "the public development secret, refused in production; the command that makes a secret"
    ),
    ("sync_server/web/access.py", "S105"): "an address, not a password",
    ("sync_server/web/templating.py", "S704"): (
        "a CSS string for the PDFs' page margins: every character that could end it is escaped"
    ),
    ("sync_server/storage/db.py", "S608"): "table and column names from the schema, values bound",
    ("sync_server/demo/data.py", "S311"): "made-up demo data, not secrets",
    ("sync_server/demo/cycle.py", "S311"): "made-up demo data, not secrets",
    ("sync_server/demo/command.py", "S603"): "the demo starts our own interpreter and module",
    ("kiosk/platform/speech.py", "S603"): "a fixed binary, the text passed after --",
    ("kiosk/core/store.py", "S608"): "only ? placeholders are formatted in",
}


def test_the_security_rules_are_switched_on_for_the_product():
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    assert [rule for rule in lint.get("ignore", []) if rule.startswith("S")] == ["S101"]
    for pattern, ignored in lint.get("per-file-ignores", {}).items():
        if "S" in ignored:
            assert pattern.split("/")[0] in {"tests", "bench"}, pattern


def test_every_exception_to_the_security_rules_is_reviewed():
    found = set()
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line in path.read_text("utf-8").splitlines():
                for rules in re.findall(r"noqa:\s*([A-Z0-9, ]+)", line):
                    for rule in re.findall(r"S\d+", rules):
                        found.add((str(path.relative_to(ROOT)), rule))
    assert found - set(REVIEWED) == set()
    assert found  # the walk reads the sources
