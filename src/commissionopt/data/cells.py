"""How a typed value becomes cell text and back, exactly, in CSV and Excel.

Readers turn every cell into text and let `load.convert_table` type it, so a CSV
file and a workbook go through the same conversion and the same errors. Writers
must therefore produce text that converts back to the very same value.
"""
from __future__ import annotations

import datetime as dt
import math

from .schema import BOOL, INTEGER, LIST, NUMBER, TEXT

# A spreadsheet treats a cell starting with one of these as a formula (formula injection).
FORMULA_STARTS = ("=", "+", "-", "@")


def number_text(value: float | int) -> str:
    """Shortest text that reads back as the same number: 12.0 -> '12', 0.1 -> '0.1'."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def excel_cell_text(value: object) -> str:
    """Text of a cell value as openpyxl reads it (numbers exactly, booleans as Excel shows them)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def escape_csv_text(text: str) -> str:
    """Neutralise a text cell for CSV: a leading apostrophe stops a spreadsheet running it.

    Text that already starts with an apostrophe followed by a formula start (or another
    apostrophe) gets one too, so that `unescape_csv_text` always gives back the original.
    """
    if is_formula_like(text) or (text[:1] == "'" and text[1:2] in (*FORMULA_STARTS, "'")):
        return "'" + text
    return text


def unescape_csv_text(text: str) -> str:
    """Inverse of `escape_csv_text`, applied to every CSV cell on reading."""
    if text[:1] == "'" and text[1:2] in (*FORMULA_STARTS, "'"):
        return text[1:]
    return text


def value_text(value: object, kind: str) -> str:
    """Text of a typed table value for a CSV cell (not yet escaped)."""
    if kind == BOOL:
        return "true" if bool(value) else "false"
    if kind in (NUMBER, INTEGER):
        return "" if is_blank_number(value) else number_text(value)
    return "" if value is None else str(value)


def is_blank_number(value: object) -> bool:
    """An empty number cell: None or NaN (an optional column whose empty cell means 'no limit')."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_text_kind(kind: str) -> bool:
    return kind in (TEXT, LIST)
