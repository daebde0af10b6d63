"""A visitor who wants an answer to their comment may leave a phone number or an e-mail address
on the thanks page, with their explicit consent.

The thanks page after an answer with a comment carries a signed offer naming that comment (the
register entry), valid as long as the survey's own state (`STATE_MAX_AGE_SECONDS`) and for that
desk only. The details are posted once, in the form's body (never in an address), checked here,
and kept apart from the answer (`quality.leave_contact`): neither the answer's payload nor the
records log holds them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer

from sync_server.contact_details import InvalidContact, parse_email, parse_phone
from sync_server.phone.answers import STATE_MAX_AGE_SECONDS

_SALT = "phone-reply-contact"
# What the visitor types, at most (a longer value is refused as malformed, never cut).
MAX_FIELD = 254


class OfferInvalid(Exception):
    """Not an offer this server made for this desk, or older than STATE_MAX_AGE_SECONDS."""


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def offer(secret: str, binding: str, comment_id: int) -> str:
    """The signed offer to leave contact details for `comment_id` at the desk `binding`."""
    return _serializer(secret).dumps({"b": binding, "c": comment_id})


def read_offer(secret: str, binding: str, token: str) -> int:
    """The comment an offer names; OfferInvalid if it is not one for `binding` or too old."""
    try:
        data = _serializer(secret).loads(token, max_age=STATE_MAX_AGE_SECONDS)
        if data["b"] != binding or not isinstance(data["c"], int):
            raise OfferInvalid
        return int(data["c"])
    except (BadSignature, KeyError, TypeError):
        raise OfferInvalid from None


@dataclass(frozen=True)
class ContactForm:
    """The contact form as posted: what was typed (shown back on an error), what it means, and
    the problems found (codes the page words: missing, phone, email, consent)."""

    phone_typed: str = ""
    email_typed: str = ""
    consent: bool = False
    phone: str | None = None
    email: str | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return not self.errors


def check(phone: str | None, email: str | None, consent: str | None) -> ContactForm:
    """The posted fields checked: at least one of a French phone number and an e-mail address,
    each well formed, and the consent box ticked."""
    phone_typed, email_typed = (phone or "").strip(), (email or "").strip()
    errors: list[str] = []
    parsed: dict[str, str | None] = {"phone": None, "email": None}
    for name, typed, parse in (
        ("phone", phone_typed, parse_phone),
        ("email", email_typed, parse_email),
    ):
        try:
            if len(typed) > MAX_FIELD:
                raise InvalidContact(name, "too long")
            parsed[name] = parse(typed)
        except InvalidContact:
            errors.append(name)
    if not phone_typed and not email_typed:
        errors.append("missing")
    given = consent == "yes"
    if not given:
        errors.append("consent")
    return ContactForm(
        phone_typed=phone_typed[:MAX_FIELD],
        email_typed=email_typed[:MAX_FIELD],
        consent=given,
        phone=parsed["phone"],
        email=parsed["email"],
        errors=tuple(errors),
    )
