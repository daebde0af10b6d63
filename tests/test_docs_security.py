"""docs/security.md names, for each protection, a test that exists."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "security.md").read_text("utf-8")


def test_every_test_named_in_the_security_page_exists():
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", PAGE)
    assert len(named) >= 20
    missing = []
    for path, name in named:
        tree = ast.parse((ROOT / path).read_text("utf-8"))
        if name not in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}:
            missing.append(f"{path}::{name}")
    assert missing == []


# ASVS 5.0.0's level-1 requirements (V10.4.1 to V10.4.5 share one line).
ASVS_LEVEL_1 = [
    "V1.2.1",
    "V1.2.2",
    "V1.2.3",
    "V1.2.4",
    "V1.2.5",
    "V1.3.1",
    "V1.3.2",
    "V1.5.1",
    "V2.1.1",
    "V2.2.1",
    "V2.2.2",
    "V2.3.1",
    "V3.2.1",
    "V3.2.2",
    "V3.3.1",
    "V3.4.1",
    "V3.4.2",
    "V3.5.1",
    "V3.5.2",
    "V3.5.3",
    "V4.1.1",
    "V4.4.1",
    "V5.2.1",
    "V5.2.2",
    "V5.3.1",
    "V5.3.2",
    "V6.1.1",
    "V6.2.1",
    "V6.2.2",
    "V6.2.3",
    "V6.2.4",
    "V6.2.5",
    "V6.2.6",
    "V6.2.7",
    "V6.2.8",
    "V6.3.1",
    "V6.3.2",
    "V6.4.1",
    "V6.4.2",
    "V7.2.1",
    "V7.2.2",
    "V7.2.3",
    "V7.2.4",
    "V7.4.1",
    "V7.4.2",
    "V8.1.1",
    "V8.2.1",
    "V8.2.2",
    "V8.3.1",
    "V9.1.1",
    "V9.1.2",
    "V9.1.3",
    "V9.2.1",
    "V10.4.1",
    "V11.3.1",
    "V11.3.2",
    "V11.4.1",
    "V12.1.1",
    "V12.2.1",
    "V12.2.2",
    "V13.4.1",
    "V14.2.1",
    "V14.3.1",
    "V15.1.1",
    "V15.2.1",
    "V15.3.1",
]


def test_every_asvs_level_1_requirement_has_its_line():
    checklist = PAGE.split("## OWASP ASVS 5.0, level 1", 1)[1]
    lines = re.findall(r"^\| (V[\d.]+)", checklist, re.MULTILINE)
    assert len(ASVS_LEVEL_1) == 66
    assert [requirement for requirement in ASVS_LEVEL_1 if requirement not in lines] == []
