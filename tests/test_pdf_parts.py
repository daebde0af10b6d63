"""A long report laid out in parts then joined gives the pages the whole report gives: cut only at
its part breaks into parts of about the same size, its pages and text the same, its bookmarks
nested as in the whole, and every page numbered out of the whole report's pages."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from sync_server.pdf_join import bookmarks, join, part_to_pdf
from sync_server.pdf_layout import html_to_pdf
from sync_server.pdf_parts import PART_BREAK, balanced, head, split
from sync_server.storage import User
from sync_server.web.figures import today
from sync_server.web.pages.reports import monthly_html
from sync_server.web.period_choice import choose
from tests.fixtures.server import DATABASE_FILE, open_town_storage, server_settings_for

HEAD = '<!doctype html><html lang="fr"><head><title>T</title></head>'


def document(*pieces: str, cut: str = PART_BREAK) -> str:
    return f"{HEAD}<body>{cut.join(pieces)}</body></html>"


def test_a_report_is_cut_at_its_breaks_into_whole_documents_of_about_the_same_size():
    town, *desks = ["<section>" + "x" * size + "</section>" for size in (200, 50, 50, 50, 50)]
    parts = split(document(town, *desks), 2)
    assert parts == [document(town), document(*desks, cut="")]
    assert [head(part) for part in parts] == [HEAD, HEAD]
    assert split(document(town, *desks), 3) == [document(town), document(*desks[:2], cut=""),
                                                document(*desks[2:], cut="")]  # fmt: skip


def test_a_report_without_breaks_or_asked_in_one_part_stays_whole():
    assert split(document("<p>a</p>"), 2) == [document("<p>a</p>")]
    assert split(document("<p>a</p>", "<p>b</p>"), 1) == [document("<p>a</p>", "<p>b</p>")]
    assert split("<p>a</p>" + PART_BREAK + "<p>b</p>", 2) == ["<p>a</p>" + PART_BREAK + "<p>b</p>"]


@given(st.lists(st.text(max_size=30), min_size=1, max_size=12), st.integers(1, 5))
def test_groups_keep_every_piece_in_order_none_empty_at_most_as_many_as_asked(pieces, count):
    groups = balanced(pieces, count)
    assert [piece for group in groups for piece in group] == pieces
    assert len(groups) == min(count, len(pieces))
    assert all(groups)


def flat(items, depth=0) -> list[tuple]:
    found = []
    for item in items:
        found.append((depth, item.title, item.page, round(float(item.top), 2)))
        found += flat(item.children, depth + 1)
    return found


def test_the_monthly_pack_in_two_parts_joined_is_the_whole_pack_numbered_page_by_page(
    seeded_demo, tmp_path
):
    seeded_demo.copy_to(tmp_path / DATABASE_FILE)
    settings = server_settings_for(tmp_path)
    storage = open_town_storage(settings)
    try:
        month = choose("month", None, today(settings), "fr").period
        html = monthly_html(storage, settings, User("q", "quality_manager"), month, "fr")
    finally:
        storage.close()
    parts = split(html, 2)
    assert len(parts) == 2
    pdfs = [part_to_pdf(part) for part in parts]
    pieces = [PdfReader(io.BytesIO(pdf)) for pdf in pdfs]
    assert all(len(piece.pages) >= 2 for piece in pieces)
    whole = PdfReader(io.BytesIO(html_to_pdf(html)))
    joined = PdfReader(io.BytesIO(join(pdfs, head(html))))

    texts = [page.extract_text() for page in joined.pages]
    count = len(texts)
    assert count == sum(len(piece.pages) for piece in pieces) == len(whole.pages)
    # Every page ends with its number out of the whole pack's pages, once.
    assert [text.split()[-3:] for text in texts] == [[str(n), "/", str(count)] for n in
                                                     range(1, count + 1)]  # fmt: skip
    assert all(text.count(f" / {count}") == 1 for text in texts)
    assert texts == [page.extract_text() for page in whole.pages]
    assert flat(bookmarks(joined, 0)) == flat(bookmarks(whole, 0))
    assert flat(bookmarks(joined, 0))[0][:2] == (0, whole.metadata.title)
    assert joined.metadata.title == whole.metadata.title
    assert joined.trailer["/Root"]["/Lang"] == "fr"
