"""Who may do what: the one table of staff roles and their permissions, read by the dashboard
pages, their menu and the JSON API alike, and the rule that narrows a user to their services.

- quality manager: every service; figures, comments (personal data included, and those triage
  flags before anyone else, with the agents' names it looks for), targets, improvement actions
  (validating them), the referential and the certified scope, the plan of internal audits
  (every audit, its findings and report), mystery visits and calls (their grid and results), the
  monthly Qualivilles meetings (preparing them, their minutes and decisions), the fleet, QR codes
  and surveys; reads the accounts, does not change them; reads the audit trail;
- service manager: the figures, comments, exports and reports of their own services (their
  mystery visits' results too), and the improvement actions they propose and carry out for
  them, and (read-only) their internal audits and the monthly meetings (their services' part
  of each preparation, and the minutes);
- internal auditor: the internal audits they are one of the pair of, and the findings they
  enter there; nothing else (no figures, no comments);
- administrator: devices, QR codes, surveys, accounts, the audit trail and the API's
  documentation pages; never the visitors' answers.

The pages declare `sync_server.web.access`'s dependencies and the API `sync_server.api.deps`'s;
both ask `may` and `visible_services` here. A personal API token acts for its owner, with the
owner's current role and services, on the few read-only routes that accept one.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from sync_server.storage import User
from sync_server.storage.models import Role


class Permission(StrEnum):
    READ_INDICATORS = "read_indicators"  # figures, comments, exports and reports
    HANDLE_COMMENTS = "handle_comments"  # categorise, acknowledge, answer, close an entry
    SEE_PERSONAL_DATA = "see_personal_data"  # names and numbers unmasked in the register
    # Read the comments triage flags before anyone else, and release them or keep them hidden.
    REVIEW_FLAGGED = "review_flagged"
    LIST_STAFF_NAMES = "list_staff_names"  # the agents' names triage looks for in comments
    SET_TARGETS = "set_targets"
    RECORD_ACTIONS = "record_actions"  # improvement actions of the annual review
    PLAN_ACTIONS = "plan_actions"  # propose and carry out the improvement actions of one's services
    VALIDATE_ACTIONS = "validate_actions"  # validate or abandon an improvement action
    MANAGE_REFERENTIAL = "manage_referential"  # the engagements, the certified scope
    # The internal audits page: each person sees the audits `cycle.internal_audits.may_read` lets.
    READ_INTERNAL_AUDITS = "read_internal_audits"
    ENTER_FINDINGS = "enter_findings"  # findings of the audits one is an auditor of
    PLAN_INTERNAL_AUDITS = "plan_internal_audits"  # the yearly plan: dates, pairs, statuses
    EVALUATE_MYSTERY = "evaluate_mystery"  # mystery visits and calls: the grid, the results
    READ_MEETINGS = "read_meetings"  # the monthly meetings: preparation (one's services), minutes
    LEAD_MEETINGS = "lead_meetings"  # plan a meeting, record its minutes and decisions, close them
    WATCH_FLEET = "watch_fleet"  # the devices' health, on the page and in the API
    PRINT_CODES = "print_codes"  # the desks' QR codes and posters
    MANAGE_SURVEYS = "manage_surveys"  # publish a survey version, choose the current one
    READ_ACCOUNTS = "read_accounts"  # who has which role and services
    MANAGE_ACCOUNTS = "manage_accounts"
    READ_AUDIT = "read_audit"  # the audit trail: who did what and when
    # The API's documentation pages, which in production map the routes for administrators only.
    READ_API_DOCS = "read_api_docs"
    # Without this one, a user reaches only the services listed in their account.
    EVERY_SERVICE = "every_service"


GRANTS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        "quality_manager": frozenset(
            {
                Permission.READ_INDICATORS,
                Permission.HANDLE_COMMENTS,
                Permission.SEE_PERSONAL_DATA,
                Permission.REVIEW_FLAGGED,
                Permission.LIST_STAFF_NAMES,
                Permission.SET_TARGETS,
                Permission.RECORD_ACTIONS,
                Permission.PLAN_ACTIONS,
                Permission.VALIDATE_ACTIONS,
                Permission.MANAGE_REFERENTIAL,
                Permission.READ_INTERNAL_AUDITS,
                Permission.ENTER_FINDINGS,
                Permission.PLAN_INTERNAL_AUDITS,
                Permission.EVALUATE_MYSTERY,
                Permission.READ_MEETINGS,
                Permission.LEAD_MEETINGS,
                Permission.WATCH_FLEET,
                Permission.PRINT_CODES,
                Permission.MANAGE_SURVEYS,
                Permission.READ_ACCOUNTS,
                Permission.READ_AUDIT,
                Permission.EVERY_SERVICE,
            }
        ),
        "service_manager": frozenset(
            {
                Permission.READ_INDICATORS,
                Permission.HANDLE_COMMENTS,
                Permission.PLAN_ACTIONS,
                Permission.READ_INTERNAL_AUDITS,
                Permission.READ_MEETINGS,
            }
        ),
        "admin": frozenset(
            {
                Permission.WATCH_FLEET,
                Permission.PRINT_CODES,
                Permission.MANAGE_SURVEYS,
                Permission.READ_ACCOUNTS,
                Permission.MANAGE_ACCOUNTS,
                Permission.READ_AUDIT,
                Permission.READ_API_DOCS,
                Permission.EVERY_SERVICE,
            }
        ),
        "internal_auditor": frozenset({Permission.READ_INTERNAL_AUDITS, Permission.ENTER_FINDINGS}),
    }
)


# What a personal API token stands for: its owner's figures and exports, read-only. Only a role
# granting this may hold a token, and a token works only while its owner's role still does.
TOKEN_PERMISSION = Permission.READ_INDICATORS


def permissions(user: User) -> frozenset[Permission]:
    """What `user`'s role grants; nothing for a role the table does not know."""
    return GRANTS.get(user.role, frozenset())


def may(user: User, permission: Permission) -> bool:
    return permission in permissions(user)


def holders(permission: Permission) -> list[Role]:
    """The roles granted `permission`, in the table's order."""
    return [role for role, granted in GRANTS.items() if permission in granted]


def home(user: User) -> str:
    """The first page of `user`'s role: the overview, the fleet, or the internal audits."""
    if may(user, Permission.READ_INDICATORS):
        return "/"
    if may(user, Permission.WATCH_FLEET):
        return "/fleet"
    return "/audits"


def may_see(user: User, service: str) -> bool:
    """Whether `service` is within `user`'s reach (all of them, or their account's)."""
    return may(user, Permission.EVERY_SERVICE) or service in user.services


def visible_services(user: User, wanted: list[str] | None = None) -> list[str] | None:
    """The services `user` may read, narrowed to `wanted`; None means all of them.

    A user limited to their own services gets a list, never None, whatever they asked for."""
    if may(user, Permission.EVERY_SERVICE):
        return wanted
    return [service for service in (wanted or user.services) if service in user.services]
