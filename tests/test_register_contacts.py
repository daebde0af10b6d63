"""Contact details a visitor leaves, with consent, to be answered about a comment: checked
(French phone numbers, e-mail addresses), kept apart from the answer (never in its payload, the
records log or an export), shown only to the people who answer, erased on request and purged
after the entry is closed, on both engines; the phone survey's form through the real pages."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from sync_server.contact_details import InvalidContact, display_phone, parse_email, parse_phone
from sync_server.phone.reply_contact import check
from sync_server.storage import Source, audit, quality, schema, uploads
from sync_server.storage.retention import Policy, purge
from sync_server.storage.sessions import Lifetime
from tests.fixtures.server import (
    SERVICE,
    SITE,
    add_user,
    answer_payload,
    log_in_client,
    make_record,
)
from tests.tools.phone_survey import send_contact, thanks_page

KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")
SURVEY = f"/s/{SITE}/{SERVICE}"
CONSENT = (
    "J'accepte que la mairie garde ces coordonnées pour me répondre au sujet de ce commentaire. "
    "Seuls le responsable qualité et le responsable du service concerné les verront. Elles seront "
    "effacées 90 jours après la clôture de ma demande et ne seront ni publiées ni transmises."
)


# -- checking what is typed (pure) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("06 12 34 56 78", "0612345678"),
        ("06.12.34.56.78", "0612345678"),
        ("06-12-34-56-78", "0612345678"),
        ("0146424242", "0146424242"),
        ("+33 6 12 34 56 78", "0612345678"),
        ("+33 (0)6 12 34 56 78", "0612345678"),
        ("0033612345678", "0612345678"),
        ("+262 262 12 34 56", "0262123456"),  # La Réunion
        ("+590 690 12 34 56", "0690123456"),  # Guadeloupe
        ("", None),
        ("   ", None),
    ],
)
def test_french_phone_numbers_are_kept_as_dialled_in_france(typed, kept):
    assert parse_phone(typed) == kept


@pytest.mark.parametrize(
    "typed",
    ["0612345", "06 12 34 56 78 9", "00 12 34 56 78", "+44 20 7946 0958", "+1 202 555 0143",
     "06 12 34 56 7a", "appelez-moi", "+33 0 12 34 56 78", "1234567890"],
)  # fmt: skip
def test_other_numbers_are_refused(typed):
    with pytest.raises(InvalidContact) as refused:
        parse_phone(typed)
    assert refused.value.field == "phone"


@given(st.from_regex(r"0[1-9]\d{8}", fullmatch=True))
def test_a_number_shown_reads_back_as_itself(digits):
    assert parse_phone(display_phone(digits)) == digits
    assert re.fullmatch(r"\d\d( \d\d){4}", display_phone(digits))


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("prenom.nom@exemple.fr", "prenom.nom@exemple.fr"),
        ("  Jean.Dupont+mairie@Mail.Example.ORG ", "Jean.Dupont+mairie@mail.example.org"),
        ("a_b-c@sous-domaine.ville.fr", "a_b-c@sous-domaine.ville.fr"),
        ("", None),
    ],
)
def test_email_addresses(typed, kept):
    assert parse_email(typed) == kept


@pytest.mark.parametrize(
    "typed",
    ["prenom.nom", "prenom@", "@exemple.fr", "prenom nom@exemple.fr", "prenom@exemple",
     "prenom..nom@exemple.fr", "prenom@-exemple.fr", "a@b.c", "<script>@x.fr",
     "x" * 65 + "@exemple.fr", "prenom@" + "a" * 250 + ".fr"],
)  # fmt: skip
def test_malformed_email_addresses_are_refused(typed):
    with pytest.raises(InvalidContact) as refused:
        parse_email(typed)
    assert refused.value.field == "email"


def test_the_form_needs_a_way_to_answer_and_the_consent():
    assert check("06 12 34 56 78", "", "yes").errors == ()
    assert check("", "prenom.nom@exemple.fr", "yes").phone is None
    assert check("", "", "yes").errors == ("missing",)
    assert check("06 12", "prenom@", None).errors == ("phone", "email", "consent")
    assert check("06 12 34 56 78", "", "").errors == ("consent",)
    too_long = check("0" * 300, "", "yes")
    assert too_long.errors == ("phone",)
    assert len(too_long.phone_typed) == 254


# -- storage, both engines ---------------------------------------------------------------------


def comment_on(storage, text: str, at: datetime) -> tuple[str, int]:
    record = make_record(answer_payload("dissatisfied", comment=text), at=at)
    uploads.store_batch(storage, [record], KIOSK, received_at=at)
    with storage.read() as connection:
        [entry] = quality.register(connection, start=at, end=at + timedelta(seconds=1))
    return str(record.id), entry.id


def leave(storage, comment_id: int, now: datetime, days: int = 90, **given) -> bool:
    with storage.write() as connection:
        return quality.leave_contact(
            connection, comment_id, phone=given.get("phone"), email=given.get("email"),
            language="fr", retention_days=days, now=now,
        )  # fmt: skip


def contact_of(storage, comment_id: int):
    with storage.read() as connection:
        return quality.contacts(connection, [comment_id]).get(comment_id)


def test_a_contact_is_kept_apart_linked_to_its_entry(any_storage):
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    answer_id, comment_id = comment_on(any_storage, "Rappelez-moi svp", now)
    with any_storage.read() as connection:
        assert quality.reply_target(connection, answer_id) == comment_id
    assert leave(any_storage, comment_id, now, phone="0612345678", email="a@exemple.fr")
    kept = contact_of(any_storage, comment_id)
    assert (kept.phone, kept.email, kept.language, kept.consented_at, kept.retention_days) == (
        "0612345678", "a@exemple.fr", "fr", now, 90)  # fmt: skip
    with any_storage.read() as connection:
        [entry] = quality.register(connection, comment_id=comment_id)
        assert entry.contact_left
        # Once given, the entry takes no other contact.
        assert quality.reply_target(connection, answer_id) is None
        payloads = [row[0] for row in connection.execute(sa.select(schema.records.c.payload))]
    assert not leave(any_storage, comment_id, now, phone="0699999999")
    assert contact_of(any_storage, comment_id).phone == "0612345678"
    assert not any("0612345678" in p or "exemple.fr" in p for p in payloads)
    with any_storage.write() as connection:
        assert quality.forget_contact(connection, comment_id)
        assert not quality.forget_contact(connection, comment_id)
    assert contact_of(any_storage, comment_id) is None


def test_a_closed_entry_takes_no_contact(any_storage):
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    answer_id, comment_id = comment_on(any_storage, "Trop tard", now)
    with any_storage.write() as connection:
        quality.update_register(connection, comment_id, action="close", by="qualite", now=now)
    with any_storage.read() as connection:
        assert quality.reply_target(connection, answer_id) is None
    assert not leave(any_storage, comment_id, now, email="a@exemple.fr")
    with pytest.raises(ValueError, match="a contact needs"):
        leave(any_storage, comment_id, now)


def policy(contact_days: int = 90) -> Policy:
    return Policy(free_text_months=12, heartbeat_days=90,
                  session_lifetime=Lifetime(timedelta(minutes=30), timedelta(hours=12)),
                  login_failure_window=timedelta(hours=1), contact_days=contact_days)  # fmt: skip


def test_contacts_are_purged_after_closure_and_with_their_text(any_storage):
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    ids = {}
    for minute, (name, received) in enumerate((("open", 20), ("closed 89 days", 120),
            ("closed 91 days", 120), ("told 30 days", 120), ("text purged", 500))):  # fmt: skip
        at = now - timedelta(days=received, minutes=minute)
        _answer, ids[name] = comment_on(any_storage, name, at)
        leave(any_storage, ids[name], at, phone="0612345678",
              days=30 if name == "told 30 days" else 90)  # fmt: skip
    for name, closed in (("closed 89 days", 89), ("closed 91 days", 91), ("told 30 days", 31)):
        with any_storage.write() as connection:
            quality.update_register(connection, ids[name], action="close", by="qualite",
                                    now=now - timedelta(days=closed))  # fmt: skip
    with any_storage.read() as connection:
        from sync_server.storage.retention import due

        assert due(connection, now, policy()).contacts == 3
    done = purge(any_storage, now, policy())
    assert done.contacts == 3
    left = {name for name, i in ids.items() if contact_of(any_storage, i) is not None}
    assert left == {"open", "closed 89 days"}
    # A town that shortens the period: the contacts already kept follow it.
    assert purge(any_storage, now, policy(contact_days=60)).contacts == 1
    assert {name for name, i in ids.items() if contact_of(any_storage, i)} == {"open"}
    with any_storage.read() as connection:
        [event] = [e for e in audit.events(connection) if e.action == "data.purged"][:1]
    assert event.details["contacts"] == 1


# -- the phone survey's form, the register, exports ---------------------------------------------


def contacts_table(client) -> list:
    with client.app.state.storage.read() as connection:
        return list(connection.execute(sa.select(schema.register_contacts)))


def test_the_thanks_page_offers_the_form_after_a_comment_only(app_client):
    _location, page = thanks_page(app_client, SURVEY, "Personne ne répond au téléphone")
    text = unescape(page)
    assert "Vous souhaitez une réponse à votre commentaire ?" in text
    assert CONSENT in re.sub(r"\s+", " ", text)
    assert 'type="checkbox" name="consent" value="yes"' in page
    assert 'name="phone" type="tel"' in page
    assert 'name="email" type="email"' in page
    assert "<script" not in page.lower()
    # No comment, nothing to answer: no form.
    plain = app_client.get(f"{SURVEY}/merci?lang=fr")
    assert "consent" not in plain.text
    forged = app_client.get(f"{SURVEY}/merci?lang=fr&r=abc")
    assert forged.status_code == 200
    assert "consent" not in forged.text


NOT_FRENCH = "Ce numéro n'est pas un numéro de téléphone français : écrivez ses 10 chiffres, "
BAD_EMAIL = "Cette adresse e-mail n'est pas valide : écrivez-la comme prenom.nom@exemple.fr."
NO_CONSENT = "Cochez la case d'accord : sans elle, vos coordonnées ne sont pas enregistrées."


@pytest.mark.parametrize(
    ("phone", "email", "consent", "message"),
    [
        ("06 12 34", "", True, NOT_FRENCH + "par exemple 06 12 34 56 78."),
        ("", "jean.dupont@", True, BAD_EMAIL),
        ("", "", True, "Indiquez un numéro de téléphone ou une adresse e-mail."),
        ("06 12 34 56 78", "", False, NO_CONSENT),
    ],
)
def test_a_wrong_form_gets_a_clear_error_keeps_what_was_typed_and_stores_nothing(
    app_client, phone, email, consent, message
):
    _location, page = thanks_page(app_client, SURVEY, "Rappelez-moi")
    refused = send_contact(app_client, SURVEY, page, phone=phone, email=email, consent=consent)
    assert refused.status_code == 400
    assert message in unescape(refused.text)
    assert 'role="alert"' in refused.text
    if phone:
        assert f'value="{phone}"' in refused.text
    assert contacts_table(app_client) == []


def test_a_contact_left_is_stored_apart_and_the_visitor_is_told(app_client):
    _location, page = thanks_page(app_client, SURVEY, "Personne ne m'a rappelé", language="en")
    response = send_contact(app_client, SURVEY, page, phone="+33 6 12 34 56 78",
                            email="jean.dupont@example.org")  # fmt: skip
    assert response.status_code == 303
    done = app_client.get(response.headers["location"])
    assert "Your contact details are saved" in done.text
    assert "consent" not in done.text  # the form is not offered again
    [row] = contacts_table(app_client)
    assert (row.phone, row.email, row.language, row.retention_days) == (
        "0612345678", "jean.dupont@example.org", "en", 90)  # fmt: skip
    # Sent twice (a double tap): kept once, the visitor told the same.
    again = send_contact(app_client, SURVEY, page, phone="07 00 00 00 00")
    assert again.status_code == 303
    assert [r.phone for r in contacts_table(app_client)] == ["0612345678"]
    storage = app_client.app.state.storage
    with storage.read() as connection:
        payloads = " ".join(r[0] for r in connection.execute(sa.select(schema.records.c.payload)))
        [event] = [e for e in audit.events(connection) if e.action == "register.contact_left"]
    assert "0612345678" not in payloads
    assert "jean.dupont" not in payloads
    assert "12 34 56 78" not in payloads
    assert (event.actor, event.object) == (audit.VISITOR, str(row.comment_id))
    assert event.details == {"service": SERVICE, "phone": True, "email": True}
    assert "0612345678" not in json.dumps(event.details)


def test_an_offer_is_for_its_desk_only(app_client):
    _location, page = thanks_page(app_client, SURVEY, "Rappelez-moi")
    other = send_contact(app_client, "/s/hotel-de-ville/etat-civil", page, phone="0612345678")
    assert other.status_code == 400
    assert "Ce formulaire n'est plus valable" in unescape(other.text)
    assert contacts_table(app_client) == []


@pytest.fixture
def left(app_client):
    """A visitor's comment at IRIS with a phone number and an e-mail address left for a reply."""
    _location, page = thanks_page(app_client, SURVEY, "Rappelez-moi pour mon dossier")
    send_contact(app_client, SURVEY, page, phone="06 12 34 56 78", email="jean@example.org")
    [row] = contacts_table(app_client)
    return app_client, row.comment_id


def test_the_people_who_answer_see_the_contact_and_nobody_else(left):
    client, comment_id = left
    storage = client.app.state.storage
    log_in_client(client, "qualite")
    page = unescape(client.get("/comments").text)
    assert '<a href="tel:0612345678">06 12 34 56 78</a>' in page
    assert '<a href="mailto:jean@example.org">jean@example.org</a>' in page
    assert "effacées 90 jours après la clôture" in page
    client.cookies.clear()
    add_user(storage, "chef-iris", "service_manager", [SERVICE])
    log_in_client(client, "chef-iris", "service_manager")
    assert "06 12 34 56 78" in unescape(client.get("/comments").text)
    client.cookies.clear()
    add_user(storage, "chef-ec", "service_manager", ["etat-civil"])
    log_in_client(client, "chef-ec", "service_manager")
    other = unescape(client.get("/comments").text)
    assert "12 34 56 78" not in other
    assert "jean@example.org" not in other
    assert f'data-id="{comment_id}"' not in other
    client.cookies.clear()
    add_user(storage, "informatique", "admin")
    log_in_client(client, "informatique", "admin")
    assert client.get("/comments").status_code == 403
    # The service page's comment list, the exports and the API never carry it.
    client.cookies.clear()
    log_in_client(client, "qualite")
    month = datetime.now(UTC).strftime("%Y-%m")
    for path in (f"/service/{SERVICE}", f"/export/answers.csv?kind=month&period={month}",
                 f"/export/answers.xlsx?kind=month&period={month}", "/comments/export.csv",
                 "/comments/export.xlsx", "/api/v1/indicators"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode("utf-8", errors="replace")
        assert "0612345678" not in body, path
        assert "12 34 56 78" not in body, path
        assert "jean@example.org" not in body, path
    exported = client.get("/comments/export.csv").content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(exported), delimiter=";"))
    assert table[1][table[0].index("Réponse demandée (coordonnées laissées)")] == "oui"


def test_the_contact_is_erased_on_request_and_it_is_recorded(left):
    client, comment_id = left
    log_in_client(client, "qualite")
    page = client.get("/comments").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert 'value="forget_contact"' in page
    response = client.post(f"/comments/{comment_id}", data={"csrf_token": token,
                           "action": "forget_contact"}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    assert contacts_table(client) == []
    assert "06 12 34 56 78" not in unescape(client.get("/comments").text)
    again = client.post(f"/comments/{comment_id}", data={"csrf_token": token,
                        "action": "forget_contact"}, follow_redirects=False)  # fmt: skip
    assert again.status_code == 303  # nothing left to erase: nothing done, nothing recorded
    with client.app.state.storage.read() as connection:
        [event] = [e for e in audit.events(connection) if e.action == "register.contact_erased"]
    assert (event.actor.name, event.object) == ("qualite", str(comment_id))
