"""How deeply a JSON text nests, measured on the bytes before any parser recurses into it.

Python's `json` module parses recursively: a body of 200,000 opening brackets exhausts the stack
before any model sees it. Counting brackets outside strings first lets the server refuse such a
body with a clear error. The protocol's own messages nest six levels deep at most.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 32

# A JSON string, escapes included. An unterminated string is not matched: its brackets are
# counted, and the text is not JSON anyway and will be refused.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # runs of plain bytes at once
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENING = frozenset(b"[{")


def nests_deeper_than(text: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of `text` nest more than `limit` levels deep."""
    # Strings dropped, then everything but brackets, in C: the loop sees only the brackets (a
    # 50-record batch holds a few hundred of them among tens of kilobytes).
    brackets = _STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
