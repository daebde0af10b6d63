"""Tables written as CSV or XLSX, safe to open in a spreadsheet. Pure.

A workbook holds one sheet per topic, each with a bold, frozen header row, an autofilter, column
widths fitted to their content and number formats: dates are date cells (the caller gives them
in the town's time zone, without a zone), a figure shows its unit (`Shown`). A CSV file holds one
sheet; dates are written as the language reads them, numbers with its decimal mark.

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
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

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


@dataclass(frozen=True)
class Writing:
    """How a language's spreadsheet reads a file: CSV separator and decimal mark, dates in CSV
    text (strftime) and in XLSX cells (number formats)."""

    delimiter: str
    decimal: str
    moment: str
    day: str
    xlsx_moment: str
    xlsx_day: str


FRENCH = Writing(";", ",", "%d/%m/%Y %H:%M", "%d/%m/%Y", "dd/mm/yyyy hh:mm", "dd/mm/yyyy")
ISO = Writing(",", ".", "%Y-%m-%d %H:%M", "%Y-%m-%d", "yyyy-mm-dd hh:mm", "yyyy-mm-dd")


def writing(language: str) -> Writing:
    return FRENCH if language == "fr" else ISO


class Shown(NamedTuple):
    """A number with the XLSX number format that shows its unit ('0.0" %"': 87.5 reads
    "87,5 %", the value stays 87.5, as in the CSV file and the JSON API)."""

    value: float | int | None
    number_format: str


@dataclass(frozen=True)
class Column:
    """A column of a sheet, with what the data dictionary says of it."""

    header: str
    meaning: str = ""
    unit: str = ""
    computed: str = ""
    number_format: str = ""  # for every number of the column; a `Shown` cell says its own


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)
    frozen_columns: int = 0  # columns kept in view when scrolling sideways (the row's name)

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]


def dictionary(title: str, headers: Sequence[str], sheets: Sequence[Sheet]) -> Sheet:
    """The data dictionary: one row per column of every sheet (sheet, column, meaning, unit,
    how it is computed); `headers` are its own five column names."""
    rows = [
        [sheet.title, column.header, column.meaning, column.unit, column.computed]
        for sheet in sheets
        for column in sheet.columns
    ]
    return Sheet(title, [Column(header) for header in headers], rows, frozen_columns=2)


def to_csv(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ";",
    decimal: str = ".",
    moment: str = ISO.moment,
    day: str = ISO.day,
) -> bytes:
    """UTF-8 with a BOM (so Excel reads the accents), one header line. A French spreadsheet
    reads "92,5" as a number and "92.5" as text: `decimal=","` writes the former. Dates and
    times are written with `day` and `moment` (strftime)."""
    lines = [delimiter.join(_quoted(neutralise_csv(h)) for h in headers)]
    for row in rows:
        cells = (_csv_cell(_plain(v, moment, day), decimal) for v in row)
        lines.append(delimiter.join(_quoted(cell) for cell in cells))
    return ("\ufeff" + "".join(line + "\r\n" for line in lines)).encode("utf-8")


def sheet_csv(sheet: Sheet, style: Writing) -> bytes:
    return to_csv(
        sheet.headers,
        sheet.rows,
        delimiter=style.delimiter,
        decimal=style.decimal,
        moment=style.moment,
        day=style.day,
    )


def _plain(value: Any, moment: str, day: str) -> Any:
    if isinstance(value, Shown):
        value = value.value
    if isinstance(value, datetime):
        return value.strftime(moment)
    if isinstance(value, date):
        return value.strftime(day)
    return value


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


# Column widths, in characters: fitted to the longest cell, within these bounds.
MIN_WIDTH, MAX_WIDTH = 8, 50


def to_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet, ISO dates."""
    return to_workbook([Sheet(title, [Column(h) for h in headers], list(rows))], ISO)


def to_workbook(sheets: Sequence[Sheet], style: Writing) -> bytes:
    """One sheet per topic, in order; every text cell neutralised."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook, sheet, style)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_sheet(workbook: Workbook, sheet: Sheet, style: Writing) -> None:
    page = workbook.create_sheet(title=sheet.title[:31])
    widths = [len(str(header)) for header in sheet.headers]
    for row in sheet.rows:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], _width(value))
    for index, width in enumerate(widths, start=1):
        page.column_dimensions[get_column_letter(index)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width + 2)
        )
    last = get_column_letter(len(sheet.columns))
    page.freeze_panes = f"{get_column_letter(sheet.frozen_columns + 1)}2"
    page.auto_filter.ref = f"A1:{last}{len(sheet.rows) + 1}"
    bold, wrapped = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header_cells = []
    for header in sheet.headers:
        cell = WriteOnlyCell(page, neutralise(header))
        cell.font, cell.alignment = bold, wrapped
        header_cells.append(cell)
    page.append(header_cells)
    for row in sheet.rows:
        cells = zip(row, sheet.columns, strict=False)
        page.append([_xlsx_cell(page, value, column, style) for value, column in cells])


def _xlsx_cell(page: Any, value: Any, column: Column, style: Writing) -> Any:
    number_format = column.number_format
    if isinstance(value, Shown):
        value, number_format = value.value, value.number_format
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("an aware datetime: give the town's local time, without a zone")
        number_format = style.xlsx_moment
    elif isinstance(value, date):
        number_format = style.xlsx_day
    else:
        value = neutralise(value)
    cell = WriteOnlyCell(page, value)
    if number_format and value is not None:
        cell.number_format = number_format
    return cell


def _width(value: Any) -> int:
    if isinstance(value, Shown):
        value = value.value
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return len(f"{value:.1f}") + 4  # room for a unit shown by the number format
    text = "" if value is None else str(value)
    return max((len(part) for part in text.splitlines()), default=0)
