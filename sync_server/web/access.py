"""Page access: the dependencies every staff page declares, and the answer to a refused visitor.

What each role may do is the table of `sync_server.access`; here it becomes dependencies. A page
names the permission it needs through an alias (`IndicatorReader`, `TargetForm`…) and
receives the signed-in user (and, for a posted form, the form with its CSRF token checked).
A refused request never reaches the page: nobody signed in is sent to the login page, which
brings them back to the address they asked for; a signed-in user without the permission, or
asking for another service than theirs, gets the 403 page with their own menu.

Someone signed in with a password an administrator chose is sent to `OWN_PASSWORD_PAGE` from
every page until they have replaced it (`SignedIn` is the one dependency that lets them through).

The export downloads are the one kind of page a personal API token opens (`ExportReader`): a
spreadsheet or BI tool is answered as the JSON API answers it, with a problem, never a page.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the dependencies'
# `__call__`, which a class instance cannot resolve from strings.

from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from sync_server.access import TOKEN_PERMISSION, Permission, home, may, may_see, permissions
from sync_server.api.deps import StorageDep, not_allowed, session_user, token_user
from sync_server.api.problems import ApiError
from sync_server.storage import Storage, User, projection
from sync_server.storage.projection import Lag
from sync_server.web.csrf import CsrfError, check_csrf, csrf_token
from sync_server.web.templating import render


class Refused(Exception):
    """Raised by the access dependencies; the app answers it with `refusal`."""

    def __init__(
        self,
        user: User | None,
        error: Literal["forbidden", "csrf"] = "forbidden",
        elsewhere: str | None = None,
    ):
        super().__init__(error)
        self.user = user
        self.error = error
        self.elsewhere = elsewhere


@dataclass(frozen=True)
class PageAccess:
    """Dependency of a page: the signed-in user whose role grants `permission`; else Refused.

    `scoped`: the service named in the address (`/service/{service}`, `?service=…`), if any,
    must be within the user's reach too. `elsewhere`: where a signed-in user without the
    permission is sent instead of the 403 page. `tokens`: a personal API token may stand for
    its owner (`sync_server.api.deps.token_user`); a refusal is then an `ApiError`."""

    permission: Permission
    scoped: bool = False
    elsewhere: str | None = None
    tokens: bool = False

    def __call__(self, request: Request, storage: StorageDep) -> User:
        holder = token_user(request, storage) if self.tokens else None
        if holder is not None:
            return self._token_holder(request, holder)
        user = SignedIn()(request, storage)
        if user.must_change_password:
            raise Refused(user, elsewhere=OWN_PASSWORD_PAGE)
        if not may(user, self.permission):
            elsewhere = home(user) if self.elsewhere == HOME else self.elsewhere
            raise Refused(user, elsewhere=elsewhere)
        if self.scoped and not may_see_asked(request, user):
            raise Refused(user)
        return user

    def _token_holder(self, request: Request, user: User) -> User:
        if not may(user, self.permission):
            raise not_allowed(self.permission)
        if self.scoped and not may_see_asked(request, user):
            raise ApiError(403, "forbidden", "Not allowed", "this service is not among yours")
        return user


# `PageAccess.elsewhere` meaning the first page of the user's role (`sync_server.access.home`).
HOME = "home"
OWN_PASSWORD_PAGE = "/account/password"  # noqa: S105 (an address, not a password)


class SignedIn:
    """Dependency of the pages every signed-in user has (their own password): the user, else
    Refused (the login page)."""

    def __call__(self, request: Request, storage: StorageDep) -> User:
        user = session_user(request, storage)
        if user is None:
            raise Refused(None)
        return user


def may_see_asked(request: Request, user: User) -> bool:
    """Whether the service the address names, if any, is within `user`'s reach."""
    service = request.path_params.get("service", request.query_params.get("service"))
    return not service or may_see(user, service)


class StaffForm(NamedTuple):
    user: User
    form: FormData


@dataclass(frozen=True)
class FormAccess:
    """Dependency of a posted form: its user, as `PageAccess` checks them, and the form, whose
    CSRF token must be the session's (else Refused: a 403 page, nothing changed)."""

    permission: Permission

    async def __call__(self, request: Request, storage: StorageDep) -> StaffForm:
        user = PageAccess(self.permission)(request, storage)
        form = await request.form()
        try:
            check_csrf(request, form.get("csrf_token"))
        except CsrfError:
            raise Refused(user, "csrf") from None
        return StaffForm(user, form)


# What the pages declare, one alias per permission.
AnyStaff = Annotated[User, Depends(SignedIn())]
IndicatorReader = Annotated[User, Depends(PageAccess(Permission.READ_INDICATORS))]
# Administrators look after the devices, not the visitors' answers: their home is the fleet;
# an internal auditor's is their audits.
OverviewReader = Annotated[User, Depends(PageAccess(Permission.READ_INDICATORS, elsewhere=HOME))]
ServiceReader = Annotated[User, Depends(PageAccess(Permission.READ_INDICATORS, scoped=True))]
# A spreadsheet or BI tool downloads the exports with a personal API token, as the user would.
ExportReader = Annotated[
    User, Depends(PageAccess(Permission.READ_INDICATORS, scoped=True, tokens=True))
]
TokenHolder = Annotated[User, Depends(PageAccess(TOKEN_PERMISSION))]
FleetWatcher = Annotated[User, Depends(PageAccess(Permission.WATCH_FLEET))]
CodePrinter = Annotated[User, Depends(PageAccess(Permission.PRINT_CODES))]
TargetSetter = Annotated[User, Depends(PageAccess(Permission.SET_TARGETS))]
SurveyManager = Annotated[User, Depends(PageAccess(Permission.MANAGE_SURVEYS))]
AccountReader = Annotated[User, Depends(PageAccess(Permission.READ_ACCOUNTS))]
AccountManager = Annotated[User, Depends(PageAccess(Permission.MANAGE_ACCOUNTS))]
AuditReader = Annotated[User, Depends(PageAccess(Permission.READ_AUDIT))]
PlanReader = Annotated[User, Depends(PageAccess(Permission.PLAN_ACTIONS, scoped=True))]
InternalAuditReader = Annotated[User, Depends(PageAccess(Permission.READ_INTERNAL_AUDITS))]
ReferentialReader = Annotated[User, Depends(PageAccess(Permission.MANAGE_REFERENTIAL))]
CommentForm = Annotated[StaffForm, Depends(FormAccess(Permission.HANDLE_COMMENTS))]
ReviewForm = Annotated[StaffForm, Depends(FormAccess(Permission.REVIEW_FLAGGED))]
StaffNamesReader = Annotated[User, Depends(PageAccess(Permission.LIST_STAFF_NAMES))]
StaffNamesForm = Annotated[StaffForm, Depends(FormAccess(Permission.LIST_STAFF_NAMES))]
TargetForm = Annotated[StaffForm, Depends(FormAccess(Permission.SET_TARGETS))]
ActionForm = Annotated[StaffForm, Depends(FormAccess(Permission.RECORD_ACTIONS))]
SurveyForm = Annotated[StaffForm, Depends(FormAccess(Permission.MANAGE_SURVEYS))]
AccountForm = Annotated[StaffForm, Depends(FormAccess(Permission.MANAGE_ACCOUNTS))]
TokenForm = Annotated[StaffForm, Depends(FormAccess(TOKEN_PERMISSION))]
NoticeForm = Annotated[StaffForm, Depends(FormAccess(Permission.READ_AUDIT))]
PlanForm = Annotated[StaffForm, Depends(FormAccess(Permission.PLAN_ACTIONS))]
FindingForm = Annotated[StaffForm, Depends(FormAccess(Permission.ENTER_FINDINGS))]
AuditPlanForm = Annotated[StaffForm, Depends(FormAccess(Permission.PLAN_INTERNAL_AUDITS))]
ReferentialForm = Annotated[StaffForm, Depends(FormAccess(Permission.MANAGE_REFERENTIAL))]
MysteryReader = Annotated[User, Depends(PageAccess(Permission.READ_INDICATORS, scoped=True))]
MysteryEvaluator = Annotated[User, Depends(PageAccess(Permission.EVALUATE_MYSTERY))]
MysteryForm = Annotated[StaffForm, Depends(FormAccess(Permission.EVALUATE_MYSTERY))]
MeetingReader = Annotated[User, Depends(PageAccess(Permission.READ_MEETINGS))]
MeetingForm = Annotated[StaffForm, Depends(FormAccess(Permission.LEAD_MEETINGS))]
# The AFNOR evidence pack: the certification's evidence, the quality manager's alone.
EvidencePackReader = Annotated[User, Depends(PageAccess(Permission.MANAGE_REFERENTIAL))]


def login_address(request: Request) -> str:
    """The login page, to come back to this very address (its whole query) once signed in."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='/')}"


def refusal(request: Request, refused: Refused) -> Response:
    """The answer to a refused request: the login page, `elsewhere`, or the 403 page."""
    if refused.user is None:
        return RedirectResponse(login_address(request), status_code=303)
    if refused.elsewhere is not None:
        return RedirectResponse(refused.elsewhere, status_code=303)
    context = {**nav_context(request, refused.user), "error": refused.error}
    return render(request, "error.html", context, status_code=403)


def install(app: FastAPI) -> None:
    """Answer every `Refused` raised by a page's dependencies with `refusal`."""

    @app.exception_handler(Refused)
    async def _refused(request: Request, refused: Refused) -> Response:
        return refusal(request, refused)


def forbidden(request: Request, user: User) -> Response:
    """The 403 page, with the user's own menu so they can go on from there."""
    return refusal(request, Refused(user))


def nav_context(request: Request, user: User) -> dict[str, object]:
    """What the staff layout needs: the user, what their role may do (for the menu and the
    forms a page offers), the CSRF token, and for those who read figures how far behind the
    records received they are."""
    can = [] if user.must_change_password else sorted(p.value for p in permissions(user))
    return {
        "user": user.username,
        # Until they have chosen their own password, nothing but that page opens: no menu.
        "can": can,
        "csrf_token": csrf_token(request),
        "path": request.url.path,
        "figures_lag": figures_lag(request.app.state.storage)
        if Permission.READ_INDICATORS.value in can
        else None,
    }


def figures_lag(storage: Storage) -> Lag | None:
    """The records received and not yet in the figures, None when there are none."""
    with storage.read() as connection:
        lag = projection.lag(connection)
    return lag if lag.behind else None
