"""The internal audits' rules, pure: who reads an audit and enters its findings, what a planned
audit needs, and the kind of a joined file by its first bytes only."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.cycle.internal_audits import (
    MAGIC,
    Audit,
    attachment_kind,
    may_enter,
    may_read,
    plan_problems,
)
from sync_server.storage import User

AUDIT = Audit(id=1, service="iris", audit_on=date(2026, 6, 15), auditors=("a", "b"),
              status="planned")  # fmt: skip
TODAY = date(2026, 3, 1)


def person(name: str, role: str, services: tuple[str, ...] = ()) -> User:
    return User(username=name, role=role, services=list(services))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("who", "reads", "enters"),
    [
        (person("q", "quality_manager"), True, True),
        (person("a", "internal_auditor"), True, True),
        (
            person("c", "internal_auditor", ("iris",)),
            False,
            False,
        ),  # services give an auditor nothing
        (person("m", "service_manager", ("iris",)), True, False),
        (person("a", "service_manager", ("ccas",)), False, False),  # a name in the pair, no role
        (person("x", "admin"), False, False),
        (person("a", "admin"), False, False),
    ],
)
def test_who_reads_an_audit_and_enters_its_findings(who, reads, enters):
    assert (may_read(who, AUDIT), may_enter(who, AUDIT)) == (reads, enters)


@pytest.mark.parametrize("status", ["report_issued", "cancelled"])
def test_no_finding_once_the_report_is_issued_or_the_audit_cancelled(status):
    closed = Audit(**{**AUDIT.__dict__, "status": status})
    assert not may_enter(person("a", "internal_auditor"), closed)
    assert not may_enter(person("q", "quality_manager"), closed)


def test_a_planned_audit_needs_a_certified_service_a_near_date_and_two_auditors():
    known = {"certified": {"iris"}, "auditors": {"a", "b"}, "today": TODAY}
    assert plan_problems("iris", date(2026, 6, 1), ("a", "b"), **known) == []
    assert len(plan_problems("piscine", None, ("a", "a"), **known)) == 3
    assert plan_problems("iris", date(2040, 1, 1), ("a", "b"), **known) != []
    assert plan_problems("iris", date(2026, 6, 1), ("a", "z"), **known) != []


@given(st.binary(max_size=64))
def test_a_files_kind_comes_from_its_first_bytes_only(content):
    expected = next((k for k, magic in MAGIC.items() if content.startswith(magic)), None)
    assert attachment_kind(content) == expected


@given(st.sampled_from(sorted(MAGIC)), st.binary(max_size=64))
def test_a_file_starting_with_a_known_signature_is_of_that_kind(kind, rest):
    assert attachment_kind(MAGIC[kind] + rest) == kind
