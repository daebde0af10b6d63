"""Tables written as CSV or XLSX, safe to open in a spreadsheet. Pure.

A text cell starting with =, +, -, @ (or a tab or carriage return) would be read as a formula by
Excel or LibreOffice: it gets a leading apostrophe, so it stays text. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | bool | None


def neutralise(value: Any) -> Cell:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ";",
    decimal: str = ".",
) -> bytes:
    """UTF-8 with a BOM (so Excel reads the accents), one header line. A French spreadsheet
    reads "92,5" as a number and "92.5" as text: `decimal=","` writes the former."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(v, decimal) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: Any, decimal: str) -> Cell:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value).replace(".", decimal)  # a number, never neutralised
    return neutralise(value)


def to_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([neutralise(h) for h in headers])
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
