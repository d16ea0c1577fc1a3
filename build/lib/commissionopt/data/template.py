"""The contract told to analysts, from schema.py: a blank workbook and the format docs.

`write_template` writes a workbook to fill in; `format_markdown` is the text of
docs/instance-format.md (regenerate it with `write_format_doc()`: see REGENERATE).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from .instance import Instance
from .load import convert_table
from .meta import flat_keys
from .schema import TABLES
from .workbook import (MAX_RATIO, MAX_UNPACKED_BYTES, META_SHEET, README_SHEET, build_workbook,
                       save_workbook)

DOC_PATH = Path("docs/instance-format.md")
REGENERATE = 'python -c "from commissionopt.data.template import write_format_doc; write_format_doc()"'


def blank_instance() -> Instance:
    """An instance with no keys and every table empty (typed, all columns)."""
    tables = {name: convert_table(spec, pd.DataFrame(columns=spec.names, dtype=object), spec.file, lambda i: i + 2, [])
              for name, spec in TABLES.items()}
    return Instance(meta={}, tables=tables)


def _range(col) -> str:
    if col.min is not None and col.max is not None:
        return f"{col.min:g} to {col.max:g}"
    if col.min is not None:
        return f">= {col.min:g}"
    return f"<= {col.max:g}" if col.max is not None else ""


def column_rows() -> list[dict]:
    """One row per column of every table: what the README sheet and the docs show."""
    return [{
        "table": spec.name, "column": col.name, "kind": col.kind, "unit": col.unit,
        "required": "yes" if col.required else f"no (default {col.default!r})",
        "range": _range(col), "refers to": f"{col.ref[0]}.{col.ref[1]}" if col.ref else "",
        "meaning": col.doc,
    } for spec in TABLES.values() for col in spec.columns]


README_LINES = [
    "commissionopt instance workbook",
    "Fill one sheet per table: row 1 holds the column names (hover over a name for its unit and meaning);",
    "data start on row 2. Blank rows are skipped. Text columns are formatted as Text so that codes such as 0123 stay as typed.",
    f"The '{META_SHEET}' sheet holds instance.yaml's keys, one a row: levels as a ';'-list, reserves as reserves.opening etc.",
    "Formulas are allowed only if Excel has saved their calculated values (open and save the file in Excel).",
    "Check the workbook with: commissionopt validate THIS.xlsx   Convert it to CSV files with: commissionopt convert THIS.xlsx FOLDER",
    "This sheet is ignored when the workbook is read. Every column:",
]


def write_template(path: str | Path) -> None:
    """A blank workbook to fill in: a README sheet, the instance sheet and a sheet per table."""
    wb = build_workbook(blank_instance())
    ws = wb.create_sheet(README_SHEET, 0)
    for line in README_LINES:
        ws.append([line])
    rows = column_rows()
    ws.append(list(rows[0]))
    for row in rows:
        ws.append(list(row.values()))
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["H"].width = 100
    wb.active = 0
    save_workbook(wb, path)


# --- docs/instance-format.md -------------------------------------------------------

def _md_table(rows: list[dict]) -> list[str]:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cols) + " |" for r in rows]
    return lines


def _first_line(fn) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0]


def format_markdown() -> str:
    """The text of docs/instance-format.md."""
    from .summary import base_year_spend
    from .validate import CHECKS, WARNINGS
    out = [
        "# The instance format",
        "",
        "<!-- Generated from src/commissionopt/data/schema.py by commissionopt.data.template.format_markdown();",
        f"     do not edit by hand. Regenerate from the project root: {REGENERATE} -->",
        "",
        "An instance is the data of one local area: a folder of CSV tables plus `instance.yaml`,",
        "or the same data as one `.xlsx` workbook. Both forms load to identical tables;",
        "`commissionopt convert` turns one into the other and `commissionopt template OUT.xlsx`",
        "writes a blank workbook. Money is in pounds per year at the instance's price year.",
        "",
        "## Reading rules",
        "",
        "- CSV files are UTF-8 (Excel's *CSV UTF-8*), with a header row of column names. Messages give",
        "  the line of the file; blank lines are skipped.",
        "- Values are read as written: text stays text (`NA`, `null`, `0123` are kept as typed);",
        "  numbers use `.` for decimals and may use `,` only between thousands (`1,200`);",
        "  NaN and infinity are refused; true/false also accept yes/no, y/n and 1/0.",
        "- List columns are `;`-separated names; `*` means any.",
        "- Columns not listed below are errors (the message lists the allowed names); optional",
        "  columns may be left out and take their default.",
        "- Written files neutralise formulas: a text cell starting with `=`, `+`, `-` or `@` is",
        "  written to CSV with a leading `'` (and to a workbook as Excel text with its quote prefix).",
        "  On reading, one leading `'` before `=`, `+`, `-`, `@` or `'` is dropped. Numbers stay numbers.",
        "",
        "## Workbook layout",
        "",
        "- One sheet per table, named as the table (case does not matter). Row 1 holds the column",
        "  names, each with a note giving its kind, unit and meaning; data start on row 2; blank rows",
        "  are skipped; messages give the Excel row.",
        f"- A sheet `{META_SHEET}` with columns `key`, `value` (and `description`, ignored): one key",
        "  of instance.yaml a row, `levels` as a `;`-list, reserves as dotted keys",
        "  (`reserves.opening`, ...). An empty value means the key is not given.",
        f"- A sheet `{README_SHEET}` (the template's notes) is ignored; any other sheet is ignored with a warning.",
        "- A formula counts only with the value Excel calculated and saved; a formula with no saved",
        "  value, or an Excel error such as `#DIV/0!`, is an error naming the sheet, row and column.",
        f"- A workbook that would unpack to more than {MAX_UNPACKED_BYTES // 2**20} MB, or (above 1 MB) is compressed",
        f"  more than {MAX_RATIO}:1, is refused before it is read.",
        "",
        "## instance.yaml",
        "",
        "Read as written (no YAML conversion of `NO` or `0123`); duplicate keys, anchors and aliases",
        "are errors. `description` and `sources` are optional.",
        "",
    ]
    out += _md_table([{"key": key, "kind": kind, "meaning": doc} for key, kind, doc in flat_keys()])
    out += ["", "## Tables", ""]
    for spec in TABLES.values():
        out += [f"### {spec.file}" + (" (optional)" if spec.optional else ""), "",
                f"{spec.doc} Key: {', '.join(spec.key)}.", ""]
        rows = [{k: v for k, v in row.items() if k != "table"} for row in column_rows() if row["table"] == spec.name]
        out += _md_table(rows) + [""]
    out += ["## Checks", "", "Errors (exit code 2; every one is listed, not only the first):", ""]
    out += [f"- {_first_line(f)}" for f in CHECKS]
    out += ["", "Warnings (legal but suspicious; the instance still loads):", ""]
    out += [f"- {_first_line(f).removeprefix('Warning: ')}" for f in WARNINGS]
    out += ["", "## Base-year spend estimate", "", "Used by the spend warning and the `validate` summary.", ""]
    out += textwrap.dedent(base_year_spend.__doc__.split("\n", 1)[1]).strip().splitlines()
    return "\n".join(out) + "\n"


def write_format_doc(path: str | Path = DOC_PATH) -> None:
    from .write import write_text
    write_text(Path(path), format_markdown())
