"""A report's parts laid out apart (`pdf_parts.py`) joined into the PDF the whole report gives:
its pages in order, its bookmarks nested as in the whole, its title and language, and on every
page its number out of the report's pages.

Run by the PDF worker processes (`pdf_layout.py`). The reports number their pages in the
bottom-right page margin (`counter(page) " / " counter(pages)`, `_report_base.html`): a part is
laid out without that number (`part_to_pdf`); once the parts are joined, WeasyPrint lays out as
many empty pages with the report's own page rules showing nothing but that number, and each is
stamped on its page. The number is drawn by the same rule, in the same font and place, as in the
whole report laid out at once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sync_server.pdf_html import report_html

_MARGIN_BOXES = [
    f"{side}-{place}"
    for side, places in (
        ("top", ("left-corner", "left", "center", "right", "right-corner")),
        ("bottom", ("left-corner", "left", "center", "right", "right-corner")),
        ("left", ("top", "middle", "bottom")),
        ("right", ("top", "middle", "bottom")),
    )
    for place in places
]
_NUMBER_BOX = "bottom-right"
_EMPTY_PAGE = '<div style="break-before: page"></div>'


def _hiding(boxes: list[str]) -> str:
    hidden = " ".join(f"@{box} {{ content: none !important }}" for box in boxes)
    return f"@page {{ {hidden} }}"


@cache
def _styles() -> dict[str, Any]:
    """WeasyPrint stylesheets parsed once per worker: the page number hidden, or alone shown."""
    from weasyprint import CSS

    return {
        "without_number": CSS(string=_hiding([_NUMBER_BOX])),
        "number_only": CSS(string=_hiding([b for b in _MARGIN_BOXES if b != _NUMBER_BOX])),
    }


def part_to_pdf(html: str) -> bytes:
    """The PDF of one part of a report (a whole document, see `pdf_parts.split`), without page
    numbers."""
    return report_html(html).write_pdf(stylesheets=[_styles()["without_number"]])


def page_numbers(head: str, pages: int) -> bytes:
    """`pages` pages, each blank but for its number out of `pages`, laid out by the page rules
    of the report whose `head` (`pdf_parts.head`) is given."""
    html = f"{head}<body>{_EMPTY_PAGE * pages}</body></html>"
    return report_html(html).write_pdf(stylesheets=[_styles()["number_only"]])


@dataclass
class Bookmark:
    """One entry of a PDF's outline, its page counted from the joined document's start."""

    title: str
    page: int
    left: Any
    top: Any
    zoom: Any
    children: list[Bookmark] = field(default_factory=list)


def bookmarks(reader: Any, first_page: int) -> list[Bookmark]:
    """The outline of the PDF `reader` reads, pages shifted by `first_page`."""

    def read(items: list[Any]) -> list[Bookmark]:
        found: list[Bookmark] = []
        for item in items:
            if isinstance(item, list):
                found[-1].children = read(item)
            else:
                page = reader.get_destination_page_number(item) + first_page
                found.append(Bookmark(item.title, page, item.left, item.top, item.zoom))
        return found

    return read(reader.outline)


def joined_outline(parts: list[list[Bookmark]]) -> list[Bookmark]:
    """The whole report's outline from its parts': a report's title is its one top-level
    bookmark, and the later parts, cut inside the report, hold what comes under it."""
    whole = list(parts[0])
    for later in parts[1:]:
        if len(whole) == 1:
            whole[0].children.extend(later)
        else:
            whole.extend(later)
    return whole


def join(parts: list[bytes], head: str) -> bytes:
    """One PDF of `parts` (each from `part_to_pdf`, in order) numbered "page / pages" as the
    report whose `head` is given numbers its pages."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import Fit, NameObject

    readers = [PdfReader(io.BytesIO(part)) for part in parts]
    writer = PdfWriter()
    outlines, first_page = [], 0
    for reader in readers:
        outlines.append(bookmarks(reader, first_page))
        for page in reader.pages:
            writer.add_page(page)
        first_page += len(reader.pages)
    numbers = PdfReader(io.BytesIO(page_numbers(head, len(writer.pages))))
    if len(numbers.pages) != len(writer.pages):
        raise ValueError(f"{len(numbers.pages)} page numbers for {len(writer.pages)} pages")
    for page, number in zip(writer.pages, numbers.pages, strict=True):
        page.merge_page(number)
        page.compress_content_streams()  # merging left the page's drawing uncompressed

    def add(items: list[Bookmark], parent: Any) -> None:
        for item in items:
            fit = Fit.xyz(item.left, item.top, item.zoom)
            added = writer.add_outline_item(
                title=item.title, page_number=item.page, parent=parent, fit=fit
            )
            add(item.children, added)

    add(joined_outline(outlines), None)
    first = readers[0]
    writer.add_metadata({key: value for key, value in (first.metadata or {}).items()})
    language = first.trailer["/Root"].get("/Lang")
    if language is not None:
        writer.root_object[NameObject("/Lang")] = language
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
