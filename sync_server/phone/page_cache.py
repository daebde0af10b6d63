"""Phone survey pages rendered once per process, with each visitor's state put in afterwards.

A question's page is the same for every visitor of a desk in a language but for the signed state
it carries (`phone.answers.pack`). Its HTML is kept under everything it is made from: the
template, the language and the page's whole context (desk names, survey id and version, question,
step, notice, error), rendered with `STATE` where the state goes; `render` then puts the
visitor's state in its place. A desk renamed or another survey version made current gives another
key, never a stale page; templates and catalogues do not change while the process runs.
"""

from __future__ import annotations

import json
import re
import secrets
from functools import lru_cache
from typing import Any

from sync_server.web.templating import environment

# Desks × languages × questions × notices: a few thousand pages at most; the oldest go first.
MAX_PAGES = 2048
# Stands for the state while a page is rendered: made of characters that HTML and URL encoding
# leave alone, and random, so that no survey text can contain it.
STATE = f"qvstate{secrets.token_hex(16)}"
# What a signed state is made of (URL-safe base64 and dots): it too goes in unchanged.
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]+")


def takes_state(state: str | None) -> bool:
    """Whether a page carrying `state` can come from the cache."""
    return state is None or _PLAIN.fullmatch(state) is not None


def render(template: str, context: dict[str, Any], language: str, state: str | None) -> str:
    """`template` rendered with `context` (plain JSON values; `STATE` where the state goes) in
    `language`, with `state` in place of `STATE`."""
    if not takes_state(state):
        raise ValueError("a state with characters that encoding would change")
    html = _rendered(template, language, json.dumps(context, sort_keys=True))
    return html if state is None else html.replace(STATE, state)


@lru_cache(maxsize=MAX_PAGES)
def _rendered(template: str, language: str, context: str) -> str:
    return environment(language).get_template(template).render(**json.loads(context))
