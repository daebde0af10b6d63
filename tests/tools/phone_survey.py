"""A visitor on the phone survey, in-process: an answer with a comment through the real pages,
then the thanks page's form to leave contact details for a reply."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's (first) form."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def answer_with_comment(
    client: TestClient, survey: str, comment: str, main: str = "dissatisfied", language: str = "fr"
) -> Response:
    """Answer `main`, skip every follow-up up to the comment, write `comment` and send; the
    response of the redirect to the thanks page (not followed)."""
    page = client.get(f"{survey}?lang={language}").text
    data: dict[str, Any] = {**hidden_fields(page), "action": "next", "answer": main}
    response = client.post(survey, data=data, follow_redirects=False)
    while "/merci" not in response.headers.get("location", ""):
        assert response.status_code == 303, response.text
        page = client.get(response.headers["location"]).text
        fields = hidden_fields(page)
        if fields["q"] == "comment":
            data = {**fields, "action": "next", "answer": comment}
        else:
            data = {**fields, "action": "skip"}
        response = client.post(survey, data=data, follow_redirects=False)
    assert response.status_code == 303
    return response


def thanks_page(client: TestClient, survey: str, comment: str, **kw: Any) -> tuple[str, str]:
    """The thanks page after an answer with `comment`: (its address, its HTML)."""
    location = answer_with_comment(client, survey, comment, **kw).headers["location"]
    page = client.get(location)
    assert page.status_code == 200, page.text
    return location, page.text


def send_contact(
    client: TestClient,
    survey: str,
    thanks_html: str,
    *,
    phone: str = "",
    email: str = "",
    consent: bool = True,
) -> Response:
    """Post the thanks page's contact form as the visitor fills it in (not followed)."""
    data = {**hidden_fields(thanks_html), "phone": phone, "email": email}
    if consent:
        data["consent"] = "yes"
    return client.post(f"{survey}/merci", data=data, follow_redirects=False)
