"""A user's personal API tokens: create one for a spreadsheet or BI tool (its secret shown once,
on the answer to the form), see when each was last used, revoke one. Only a role that reads the
figures holds tokens (`TokenHolder`); what a token then opens is `sync_server.web.access`'s.
Creating and revoking are in the audit trail, by the token's number and label, never its secret.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sync_server.api.deps import StorageDep
from sync_server.storage import IssuedApiToken, Storage, User, api_tokens, audit
from sync_server.storage.api_tokens import MAX_LABEL_LENGTH, InvalidLabel, UnknownApiToken
from sync_server.web.access import TokenForm, TokenHolder, nav_context
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/account/tokens"
# The page showing a new secret must not stay in a cache or the browser's history.
NO_STORE = {"Cache-Control": "no-store"}


def _page(
    request: Request,
    storage: Storage,
    user: User,
    *,
    issued: IssuedApiToken | None = None,
    error: str | None = None,
    label: str = "",
    status_code: int = 200,
) -> Response:
    with storage.read() as connection:
        tokens = api_tokens.of_user(connection, user.username)
    context = {
        **nav_context(request, user),
        "tokens": tokens,
        "issued": issued,
        "error": error,
        "label": label,
        "max_label": MAX_LABEL_LENGTH,
        "done": "revoked" if request.query_params.get("done") == "revoked" else None,
        "base_url": str(request.base_url).rstrip("/"),
    }
    response = render(request, "api_tokens.html", context, status_code=status_code)
    if issued is not None:
        response.headers.update(NO_STORE)
    return response


@router.get(PAGE)
def tokens_page(request: Request, storage: StorageDep, user: TokenHolder) -> Response:
    return _page(request, storage, user)


@router.post(PAGE)
async def create_token(request: Request, storage: StorageDep, posted: TokenForm) -> Response:
    user, form = posted
    label = form.get("label")
    label = label if isinstance(label, str) else ""
    try:
        with storage.write() as connection:
            issued = api_tokens.create(connection, username=user.username, label=label)
            token = issued.token
            details = {"label": token.label}
            audit.record(connection, audit.by_user(user), "token.created", str(token.id), details)
    except InvalidLabel as error:
        return _page(request, storage, user, error=error.code, label=label[:200], status_code=400)
    return _page(request, storage, user, issued=issued)


@router.post(f"{PAGE}/revoke")
async def revoke_token(request: Request, storage: StorageDep, posted: TokenForm) -> Response:
    user, form = posted
    try:
        token_id = int(str(form.get("token") or ""))
        with storage.write() as connection:
            was = {t.id: t for t in api_tokens.of_user(connection, user.username)}.get(token_id)
            token = api_tokens.revoke(connection, user.username, token_id)
            if was is not None and not was.revoked:
                details = {"label": token.label}
                audit.record(
                    connection, audit.by_user(user), "token.revoked", str(token.id), details
                )
    except (ValueError, UnknownApiToken):
        context = {**nav_context(request, user), "error": "not_found"}
        return render(request, "error.html", context, status_code=404)
    return RedirectResponse(f"{PAGE}?done=revoked", status_code=303)
