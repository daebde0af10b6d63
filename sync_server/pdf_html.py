"""WeasyPrint's HTML document for our reports, with a user-agent stylesheet that styles only the
pseudo-elements a report can have.

WeasyPrint's own user-agent stylesheet (`html5_ua.css`) gives six pseudo-elements to every element
(`::marker`, and the footnote and note calls and markers): their styles are computed for each of
a report's thousands of elements, six times more styles than the elements' own, though a report
has no list item and no footnote to show one. Here `::marker` is styled where HTML has markers
(list items, a details' summary) and the footnote and note rules are left out (the reports have
no `float: footnote` nor notes); every other rule is WeasyPrint's. The pages come out the same,
with a tenth less time spent.

Run in the PDF worker processes only (it imports WeasyPrint).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Rules of `html5_ua.css` that apply to every element's pseudo-element, and what they become.
UNIVERSAL_MARKER = "\n::marker {"
LIST_MARKER = "\n:is(li, summary)::marker {"
NOTE_RULE = re.compile(r"\n::(?:footnote|note)-[a-z]+ \{[^}]*\}")


def reports_ua(ua: str) -> str:
    """WeasyPrint's user-agent CSS `ua` with markers on list items only, without note rules."""
    return NOTE_RULE.sub("", ua.replace(UNIVERSAL_MARKER, LIST_MARKER))


@cache
def _document_class() -> Any:
    from weasyprint import CSS, HTML
    from weasyprint.html import UA, UA_COUNTER_STYLE

    sheet = CSS(string=reports_ua(UA), counter_style=UA_COUNTER_STYLE)

    class ReportHTML(HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet]

    return ReportHTML


def report_html(html: str) -> Any:
    """The WeasyPrint document of a report's self-contained HTML (CSS inline, nothing fetched)."""
    return _document_class()(string=html, base_url=None)
