"""The instance as one .xlsx workbook: read it (safely) and write it.

Layout (docs/instance-format.md says the same to analysts):
- one sheet per table, named as the table (case does not matter); row 1 holds the
  column names (each header cell carries a note with the unit and meaning); data
  start on row 2; blank rows are skipped; messages give the Excel row;
- a sheet `instance` with columns key | value | description, one key a row:
  `levels` as a ';'-list, reserves as `reserves.opening`, `reserves.minimum`,
  `reserves.flexible_capital_receipts`; an empty value means the key is not given;
- a sheet `README` (written by `commissionopt template`) is ignored; any other sheet
  is ignored with a warning.
Every cell is turned into text and typed by `load.convert_table`, exactly as a CSV
cell is, so both forms load to identical tables and give the same errors.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree.ElementTree import ParseError

import openpyxl
import pandas as pd
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..errors import InputError, Problem
from .cells import excel_cell_text, is_blank_number, is_formula_like, is_text_kind
from .instance import Instance
from .load import convert_table, drop_blank_rows, row_numbers
from .meta import flat_keys, flatten, nest, type_meta
from .schema import BOOL, INTEGER, NUMBER, TABLES
from .source import refusal
from .write import atomic_file

META_SHEET = "instance"
README_SHEET = "README"
# A workbook is a zip of XML: refuse to unpack one that would inflate absurdly.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024  # below this much XML no ratio can hurt


def sheet_file(book: Path, sheet: str) -> str:
    """How problems name a sheet: 'area.xlsx sheet cohorts'."""
    return f"{book.name} sheet {sheet}"


def zip_problem(path: Path) -> Problem | None:
    """Refuse a zip bomb before parsing: declared sizes are checked here, and Python's
    zipfile will not inflate a member past its declared size."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        return Problem(path.name, None, None, None, f"an Excel .xlsx workbook ({e})")
    unpacked = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if unpacked > MAX_UNPACKED_BYTES:
        return Problem(path.name, None, None, f"{unpacked / 1e6:.0f} MB unpacked",
                       f"a workbook of at most {MAX_UNPACKED_BYTES / 1e6:.0f} MB unpacked; refused unread")
    if unpacked > RATIO_FLOOR_BYTES and unpacked / packed > MAX_RATIO:
        return Problem(path.name, None, None, f"compressed {unpacked / packed:.0f}:1",
                       f"a workbook compressed at most {MAX_RATIO}:1 (this looks like a zip bomb); refused unread")
    return None


# --- reading -----------------------------------------------------------------

def _cells(ws) -> dict[tuple[int, int], object]:
    """(row, column) -> cell, for cells that hold something (read-only mode skips the rest)."""
    ws.reset_dimensions()  # a writer's <dimension> tag may be wrong: read every row there is
    return {(c.row, c.column): c for row in ws.iter_rows() for c in row
            if getattr(c, "row", None) is not None and c.value is not None}


def read_sheet(values_ws, formulas_ws, file: str, problems: list[Problem]) -> tuple[pd.DataFrame, set]:
    """A sheet as a table of text (header from row 1) with attrs["rows"] = Excel rows.

    Returns the table and the cells already reported (so they are not reported twice).
    """
    cells = _cells(values_ws)
    formulas = {pos: c.value for pos, c in _cells(formulas_ws).items() if c.data_type == "f"}
    width = max((col for (row, col) in cells if row == 1), default=0)
    header = [excel_cell_text(cells[(1, col)].value).strip() if (1, col) in cells else "" for col in range(1, width + 1)]
    rows = sorted({row for (row, col) in [*cells, *formulas] if row > 1})  # rows with anything in them
    bad: set = set()
    columns: dict[int, str] = {}
    for col, name in enumerate(header, start=1):
        if not name:
            continue
        if name in columns.values():
            problems.append(Problem(file, 1, name, name, "each column once: this header appears twice"))
            continue
        columns[col] = name
    data = {name: [] for name in columns.values()}
    for row in rows:
        for col, name in columns.items():
            data[name].append(_cell_text(cells.get((row, col)), formulas.get((row, col)),
                                         file, row, name, problems, bad))
    for (row, col), cell in cells.items():
        if row > 1 and col not in columns and excel_cell_text(cell.value).strip():
            problems.append(Problem(file, row, get_column_letter(col), excel_cell_text(cell.value),
                                    f"a value under a named column: column {get_column_letter(col)} has no header in row 1"))
    raw = pd.DataFrame(data, columns=list(columns.values()), dtype=object)
    return drop_blank_rows(raw, rows), bad


def _cell_text(cell, formula, file, row, column, problems, bad) -> str:
    """Text of one cell; a formula with no saved value or an Excel error is a problem."""
    if formula is not None and cell is None:
        problems.append(Problem(file, row, column, formula,
                                "a value: this formula has no calculated value saved in the file "
                                "(open and save the workbook in Excel, or type the value)"))
        bad.add((row, column))
        return ""
    if cell is None:
        return ""
    if cell.data_type == "e":
        problems.append(Problem(file, row, column, cell.value, f"a value, not the Excel error {cell.value}"))
        bad.add((row, column))
        return ""
    return excel_cell_text(cell.value)


def read_meta_sheet(raw: pd.DataFrame, file: str, problems: list[Problem]) -> dict:
    """The `instance` sheet (key | value rows) as instance.yaml's keys, typed."""
    if not {"key", "value"} <= set(raw.columns):
        problems.append(Problem(file, 1, None, ", ".join(raw.columns), "headers 'key' and 'value' in row 1"))
        return {}
    row_of = row_numbers(raw)
    flat, where = {}, {}
    for i, (key, value) in enumerate(zip(raw["key"].str.strip(), raw["value"].str.strip())):
        if not key or key in where:
            problems.append(Problem(file, row_of(i), "key", key, f"a key named once (also on row {where[key]})"
                                    if key else "a key naming the value in column 'value'"))
            continue
        where[key] = row_of(i)
        if value:
            flat[key] = value
    return type_meta(nest(flat))


def _check_zip(path: Path) -> None:
    problem = zip_problem(path)
    if problem:
        raise InputError(problem)


def _open_both(path: Path):
    """The workbook twice: cached values, and formulas (to spot formulas with no value)."""
    try:
        return (openpyxl.load_workbook(path, read_only=True, data_only=True),
                openpyxl.load_workbook(path, read_only=True, data_only=False))
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise InputError(Problem(path.name, None, None, None, f"a readable .xlsx workbook ({_short(e)})")) from None


def _short(e: Exception) -> str:
    """An exception's name and the start of its text (never a whole line of the file)."""
    text = str(e)
    return f"{type(e).__name__}: {text[:100]}{'...' if len(text) > 100 else ''}"


def load_workbook_tables(path: Path) -> tuple[dict, dict[str, pd.DataFrame], list[Problem]]:
    """Meta, typed tables and every problem found, like load.load_folder."""
    path = Path(path)
    problem = refusal(path, path.name)  # a FIFO would block the zip reader, a device fill the memory
    if problem:
        raise InputError(problem)
    _check_zip(path)
    values_wb, formulas_wb = _open_both(path)
    try:
        return _read_book(path, values_wb, formulas_wb)
    finally:
        values_wb.close()
        formulas_wb.close()


def _read_book(path: Path, values_wb, formulas_wb):
    problems: list[Problem] = []
    sheets = {name.strip().lower(): name for name in values_wb.sheetnames}
    for low, name in sheets.items():
        if low not in {META_SHEET, README_SHEET.lower(), *TABLES}:
            problems.append(Problem(path.name, None, None, name, f"a sheet named after a table or '{META_SHEET}' "
                                    f"(this one is ignored; tables: {', '.join(TABLES)})", severity="warning"))
    texts, reported = {}, {}
    for sheet in [META_SHEET, *TABLES]:
        if sheet not in sheets:
            continue
        file, ws = sheet_file(path, sheet), values_wb[sheets[sheet]]
        if not hasattr(ws, "iter_rows"):
            problems.append(Problem(file, None, None, None, "a worksheet of rows and columns, not a chart sheet"))
            continue
        try:
            texts[sheet], reported[sheet] = read_sheet(ws, formulas_wb[sheets[sheet]], file, problems)
        except Exception as e:  # the sheet's XML: an entity, an expansion bomb, a damaged part
            why = _short(e) if isinstance(e, ParseError) else type(e).__name__  # never the cells' text
            problems.append(Problem(file, None, None, None, f"a sheet of plain cells that reads ({why})"))
            texts[sheet], reported[sheet] = pd.DataFrame(dtype=object), set()
    meta: dict = {}
    if META_SHEET in texts:
        meta = read_meta_sheet(texts[META_SHEET], sheet_file(path, META_SHEET), problems)
    else:
        problems.append(Problem(path.name, None, None, None, f"a sheet named '{META_SHEET}' holding instance.yaml's keys"))
    tables = {}
    for name, spec in TABLES.items():
        raw = texts.get(name)
        if raw is None:
            if not spec.optional:
                problems.append(Problem(path.name, None, None, None, f"a sheet named '{name}' ({spec.doc})"))
            raw = pd.DataFrame(columns=[c.name for c in spec.columns if c.required], dtype=object)
        found: list[Problem] = []
        tables[name] = convert_table(spec, raw, sheet_file(path, name), row_numbers(raw), found)
        problems.extend(p for p in found if (p.row, p.column) not in reported.get(name, set()))
    return meta, tables, problems


# --- writing -----------------------------------------------------------------

BOLD = Font(bold=True)


def _put(cell, value, kind: str) -> None:
    """Typed value into a cell: numbers stay numbers; text is always text and, when a
    spreadsheet would run it as a formula, gets Excel's leading apostrophe (quotePrefix)."""
    if kind in (NUMBER, INTEGER) and is_blank_number(value):
        return  # an empty optional number stays an empty cell
    if kind == BOOL:
        cell.value = bool(value)
    elif kind == NUMBER:
        cell.value = float(value)
    elif kind == INTEGER:
        cell.value = int(value)
    else:
        text = "" if value is None else str(value)
        if not text:
            return
        cell.value = text
        cell.data_type = "s"  # never a formula or an error value, whatever it starts with
        if is_formula_like(text):
            cell.quotePrefix = True


def _header(ws, names: list[str], notes: list[str], text_columns: list[bool]) -> None:
    for col, (name, note, is_text) in enumerate(zip(names, notes, text_columns), start=1):
        cell = ws.cell(row=1, column=col, value=name)
        cell.font = BOLD
        cell.comment = Comment(note, "commissionopt", width=320, height=120)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max(12, len(name) + 2)
        if is_text:  # Excel keeps typed text such as 0123 as text in a Text-formatted column
            ws.column_dimensions[letter].number_format = "@"
    ws.freeze_panes = "A2"


def column_note(col) -> str:
    need = "required" if col.required else f"optional, default {col.default!r}"
    return f"{col.kind}, {col.unit}, {need}\n{col.doc}"


def _table_sheet(wb, spec, df: pd.DataFrame) -> None:
    ws = wb.create_sheet(spec.name)
    _header(ws, spec.names, [column_note(c) for c in spec.columns], [is_text_kind(c.kind) for c in spec.columns])
    for r, record in enumerate(df[spec.names].itertuples(index=False), start=2):
        for col, (value, spec_col) in enumerate(zip(record, spec.columns), start=1):
            _put(ws.cell(row=r, column=col), value, spec_col.kind)


def _meta_sheet(wb, meta: dict) -> None:
    ws = wb.create_sheet(META_SHEET)
    _header(ws, ["key", "value", "description"], ["Key of instance.yaml", "Its value", "What it means"], [True, False, True])
    flat = flatten(meta)
    rows = flat_keys()
    rows += [(key, "text", "") for key in flat if key not in {k for k, _, _ in rows}]
    for r, (key, kind, doc) in enumerate(rows, start=2):
        _put(ws.cell(row=r, column=1), key, "text")
        ws.cell(row=r, column=1).font = BOLD
        value, cell = flat.get(key), ws.cell(row=r, column=2)
        if kind in ("text", "list"):
            cell.number_format = "@"
        if isinstance(value, list):
            value = ";".join(str(v) for v in value)
        # The value's own type decides the cell's: a value that failed to convert stays text.
        if isinstance(value, bool):
            _put(cell, value, BOOL)
        elif isinstance(value, (int, float)):
            cell.value = value
        elif value is not None:
            _put(cell, value, "text")
        _put(ws.cell(row=r, column=3), doc, "text")
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 80


def build_workbook(inst: Instance) -> openpyxl.Workbook:
    """The instance as an openpyxl Workbook: the `instance` sheet, then a sheet per table."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _meta_sheet(wb, inst.meta)
    for name, spec in TABLES.items():
        _table_sheet(wb, spec, inst.tables[name])
    return wb


def save_workbook(wb: openpyxl.Workbook, path: str | Path) -> None:
    with atomic_file(path) as tmp:
        wb.save(tmp)


def write_workbook(inst: Instance, path: str | Path) -> None:
    save_workbook(build_workbook(inst), path)
