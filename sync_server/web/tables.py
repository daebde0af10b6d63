"""Tables written as CSV or XLSX, safe to open in a spreadsheet. Pure.

A text cell starting with =, +, -, @ (or a tab or carriage return) would be read as a formula by
Excel or LibreOffice: it gets a leading apostrophe, so it stays text. Numbers stay numbers.

A CSV file may be opened with the other separator than the one it was written with (a French
`;` file read with `,`), which splits a text cell wherever the other separator is, quotes or
not: in CSV, a formula character after either separator or a line break gets its apostrophe
too, and a text cell holding a separator, a quote or a line break is quoted.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | bool | None
# A formula character at the start of a cell, even behind spaces or a quote.
_FORMULA_AT_START = re.compile(r'^([ "]*)([=+\-@\t\r])')
# In CSV, also wherever a reader using the other separator could start a cell: after either
# separator or a line break.
_FORMULA_AFTER_A_BREAK = re.compile(r'(?<![^;,\r\n])([ "]*)([=+\-@\t\r])')


def neutralise(value: Any) -> Cell:
    """A cell no spreadsheet reads as a formula: text starting with a formula character gets an
    apostrophe before it. Numbers and other values are kept."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, str):
        return _FORMULA_AT_START.sub(r"\1'\2", value)
    return value


def neutralise_csv(value: Any) -> Cell:
    """As `neutralise`, and an apostrophe before every formula character that follows a
    separator (`;` or `,`) or a line break: the ticket `abc,=2+5,` read with `,` cannot give
    the cell `=2+5`."""
    if isinstance(value, str):
        return _FORMULA_AFTER_A_BREAK.sub(r"\1'\2", value)
    return neutralise(value)


def to_csv(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ";",
    decimal: str = ".",
) -> bytes:
    """UTF-8 with a BOM (so Excel reads the accents), one header line. A French spreadsheet
    reads "92,5" as a number and "92.5" as text: `decimal=","` writes the former."""
    lines = [delimiter.join(_quoted(neutralise_csv(h)) for h in headers)]
    for row in rows:
        lines.append(delimiter.join(_quoted(_csv_cell(v, decimal)) for v in row))
    return ("\ufeff" + "".join(line + "\r\n" for line in lines)).encode("utf-8")


# A text cell holding one of these is quoted, whichever separator the file uses.
MUST_QUOTE = frozenset(';,"\r\n')


def _quoted(cell: Cell | str) -> str:
    text = "" if cell is None else str(cell)
    is_text = isinstance(cell, str) and not isinstance(cell, _Number)
    if is_text and (MUST_QUOTE & set(text) or text != text.strip()):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_cell(value: Any, decimal: str) -> Cell | str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _Number(repr(value).replace(".", decimal))  # a number, never neutralised
    return neutralise_csv(value)


class _Number(str):
    """A number written with the file's decimal mark: never quoted, never neutralised."""


def to_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([neutralise(h) for h in headers])
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
