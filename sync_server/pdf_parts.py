"""A long report cut into parts that worker processes lay out at once, to be joined into one PDF
(`pdf_join.py`).

A report marks with `PART_BREAK` where it may be cut: just before a section that starts a page of
its own (the monthly pack: before each desk's page). `split` cuts the document there into parts
of about the same size, each a whole document with the report's head (title, language, CSS and
page margins). As each part starts on a new page, the parts' pages are the whole report's pages;
only the page numbers ("page / pages") must count the whole report, which `pdf_join` stamps once
the parts are joined.

Pure string work on our own templates' HTML: no WeasyPrint here (the server imports this module).
"""

from __future__ import annotations

from itertools import pairwise

PART_BREAK = "<!--pdf-part-->"
BODY = "<body>"


def head(html: str) -> str:
    """The document up to its body: doctype, title, language, style."""
    return html.partition(BODY)[0]


def split(html: str, count: int) -> list[str]:
    """`html` cut at its part breaks into at most `count` documents of about the same length, in
    order; `[html]` when it has no break or `count` is below 2."""
    before, found, rest = html.partition(BODY)
    body, closed, tail = rest.rpartition("</body>")
    pieces = body.split(PART_BREAK)
    if not found or not closed or count < 2 or len(pieces) < 2:
        return [html]
    groups = balanced(pieces, count)
    return [f"{before}{BODY}{''.join(group)}</body>{tail}" for group in groups]


def balanced(pieces: list[str], count: int) -> list[list[str]]:
    """`pieces` in at most `count` consecutive non-empty groups, each cut placed where the length
    so far comes nearest an equal share."""
    count = min(count, len(pieces))
    ends = []
    total = 0
    for piece in pieces:
        total += len(piece)
        ends.append(total)
    cuts = [0]
    for share in range(1, count):
        goal = total * share / count
        # Nearest end to the goal that leaves a piece for each group still to come.
        choices = range(cuts[-1] + 1, len(pieces) - (count - share) + 1)
        cuts.append(min(choices, key=lambda i: abs(ends[i - 1] - goal)))
    cuts.append(len(pieces))
    return [pieces[start:end] for start, end in pairwise(cuts)]
