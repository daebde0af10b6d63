"""How deeply a JSON text nests, measured on the bytes before any parser recurses into it.

Python's `json` module parses recursively: a body of 200,000 opening brackets exhausts the stack
before any model sees it. Counting brackets outside strings first lets the server refuse such a
body with a clear error. The protocol's own messages nest six levels deep at most.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 32

# A JSON string (escapes included), or one bracket outside strings. An unterminated string
# leaves its brackets counted: the text is not JSON anyway and will be refused.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")


def nests_deeper_than(text: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of `text` nest more than `limit` levels deep."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if len(token) != 1:
            continue  # a string
        if token[0] in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
