"""A run as an Excel workbook an analyst can filter, sum and chart.

Sheets, in order:
- **Summary**: the headline, then a table of every summary figure, a row a measure (with
  its unit) and a column a policy; the first row is the cut each policy ran at.
- **Inputs**: instance, years, prices, outcome unit, the cut, scenario changes, each
  policy's model file, objective, levers and solver settings, package versions.
- one sheet per result table (`units`, `need`, `spend`, ...): every policy's rows in one
  long table with a `policy` column (and the year's financial-year label);
- any extra tables given (service changes, a sweep, ...), each a sheet of its own.

Every table is an Excel table (filter buttons, banded rows) under a bold, frozen header
that names each column's unit ("direct_spend (£)"); money is formatted in £, shares as %,
numbers stay numbers. Sheet names are safe and unique. Text cells that a spreadsheet would
run as a formula are neutralised.

    write_run_workbook("round.xlsx", comparison.plans, inst, headline=headline(comparison),
                       extra={"service_changes": changes})
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .labels import (
    POUNDS,
    SHARE,
    column_unit,
    cut_text,
    cut_words,
    measure_label,
    outcome_unit,
    summary_unit,
    with_unit,
    year_label,
)
from .output import safe_text, sheet_names

MONEY_FORMAT = '"£"#,##0;-"£"#,##0'
SHARE_FORMAT = "0.0%"
NUMBER_FORMAT = "#,##0.00"
WHOLE_FORMAT = "#,##0"
YEAR_FORMAT = "0"
SHARE_COLUMNS = {"mip_gap", "change_share", "outcome_retained", "share", "max_share", "cut", "budget_cut"}
SUMMARY_SHEET, INPUTS_SHEET = "Summary", "Inputs"
SKIPPED = ("policy", "unmet_by_level", "cut", "levers", "conflicts", "solver_message")  # shown otherwise, or not figures


# ----------------------------------------------------------------------------- content
def long_tables(plans: dict, meta: dict | None = None) -> dict[str, pd.DataFrame]:
    """Each result table once, every policy's rows stacked with a `policy` column first
    (and `financial_year` after `year`), in the order the plans list their tables."""
    names = list(dict.fromkeys(t for p in plans.values() for t in p.tables))
    out = {}
    for t in names:
        parts = []
        for policy, p in plans.items():
            if t in p.tables:
                df = p.tables[t].copy()
                df.insert(0, "policy", policy)
                if "year" in df.columns:
                    df.insert(df.columns.get_loc("year") + 1, "financial_year",
                              [year_label(meta or {}, y) for y in df["year"]])
                parts.append(df)
        out[t] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return out


def summary_rows(plans: dict, meta: dict | None, outcome: str) -> pd.DataFrame:
    """Every summary figure of every plan: measure, key, unit, then a column a policy."""
    from ..runs.compare import MEASURES
    seen = [k for p in plans.values() for k in p.summary if k not in SKIPPED and not k.endswith("_seconds")]
    keys = list(dict.fromkeys([k for k in MEASURES if k in seen] + seen))
    levels = list(dict.fromkeys(lv for p in plans.values() for lv in (p.summary.get("unmet_by_level") or {})))
    rows = [{"measure": "cut", "key": "cut", "unit": "year:share",
             **{k: cut_text(p.summary.get("cut")) for k, p in plans.items()}}]
    for key in keys:
        rows.append({"measure": measure_label(key, outcome).split(" (")[0], "key": key,
                     "unit": summary_unit(key, outcome),
                     **{k: _cell(key, p.summary.get(key), meta) for k, p in plans.items()}})
        if key == "unmet_person_years":
            for lv in levels:
                rows.append({"measure": f"unmet need at {lv}", "key": f"unmet_{lv}", "unit": "person-years",
                             **{k: (p.summary.get("unmet_by_level") or {}).get(lv) for k, p in plans.items()}})
    return pd.DataFrame(rows, columns=["measure", "key", "unit", *plans])


def _cell(key: str, v, meta: dict | None):
    if key == "payback_year" and v is not None:
        return year_label(meta or {}, v)
    if isinstance(v, (dict, list)):
        return str(v)
    return v


def input_rows(plans: dict, inst) -> pd.DataFrame:
    """What was run, one item a row."""
    meta = inst.meta if inst is not None else {}
    first = next(iter(plans.values()), None)
    cut = next((p.summary.get("cut") for p in plans.values() if p.summary.get("policy") != "status_quo"),
               first.summary.get("cut") if first else None)
    rows = [("instance", getattr(inst, "name", "") or (first.inputs.get("instance") if first else "")),
            ("description", " ".join(str(meta.get("description", "")).split())),
            ("source", str(getattr(inst, "source", "") or (first.inputs.get("source") if first else ""))),
            ("price year", meta.get("price_year", "")),
            ("base year", meta.get("base_year", "")),
            ("years", f"{year_label(meta, 1)} to {year_label(meta, getattr(inst, 'horizon', 0) or 1)}"),
            ("discount rate", meta.get("discount_rate", "")),
            ("outcome unit", outcome_unit(inst)),
            ("budget cut", cut_text(cut)),
            ("budget cut in words", f"{cut_words(cut)}; the status quo runs with no cut")]
    scenarios = (first.inputs.get("scenarios") if first else None) or []
    rows += [("scenario file", str(s)) for s in scenarios]
    changes = list(getattr(inst, "changes", None) or (first.inputs.get("scenario_changes", []) if first else []))
    rows += [("scenario change", c) for c in changes] or [("scenario change", "none (the base instance)")]
    for name, p in plans.items():
        i, s = p.inputs, p.summary
        rows.append((f"{name}: model", f"{i.get('model', name)} ({i.get('model_file') or 'built in'})"))
        rows.append((f"{name}: objective and free levers",
                     f"{s.get('objective', '-')}; {', '.join(s.get('levers') or []) or 'none'}"))
        rows.append((f"{name}: solver", ", ".join(f"{k} {v}" for k, v in (i.get("solver") or {}).items())))
    versions = (first.inputs.get("versions") if first else None) or {}
    rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": str})


# ----------------------------------------------------------------------------- writing
def write_run_workbook(path: str | Path, plans: dict, inst, headline: str = "",
                       extra: dict[str, pd.DataFrame] | None = None, force: bool = False) -> Path:
    """The workbook of a run (see the module doc): one plan or several, on one instance.
    An existing file is replaced only with `force`."""
    from ..atomic import atomic_file

    meta = inst.meta if inst is not None else {}
    outcome = outcome_unit(inst)
    tables = long_tables({k: p for k, p in plans.items() if p.tables}, meta)
    tables.update(extra or {})
    names = sheet_names([SUMMARY_SHEET, INPUTS_SHEET, *tables])
    path = Path(path)
    with atomic_file(path, force) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            title = f"{getattr(inst, 'name', '')}: {', '.join(plans)}"
            _summary_sheet(xw, names[0], title, headline, summary_rows(plans, meta, outcome))
            _table_sheet(xw, names[1], input_rows(plans, inst), {}, outcome)
            for sheet, df in zip(names[2:], tables.values()):
                _table_sheet(xw, sheet, df, {}, outcome)
    return path


def _summary_sheet(xw, sheet: str, title: str, headline: str, rows: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font

    top = 4  # the table's header row: title and headline above it
    safe_text(rows).to_excel(xw, sheet_name=sheet, index=False, startrow=top - 1)
    ws = xw.sheets[sheet]
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = headline or "(no headline: the run has no salami or redesign plan to compare)"
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A2"].font = Font(bold=True)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(4, rows.shape[1]))
    ws.row_dimensions[2].height = 15 * max(2, len(headline) // 110 + 1)
    for r, unit in enumerate(rows["unit"], start=top + 1):
        fmt = MONEY_FORMAT if unit == POUNDS else SHARE_FORMAT if unit == SHARE else NUMBER_FORMAT
        for c in range(4, rows.shape[1] + 1):
            cell = ws.cell(r, c)
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = WHOLE_FORMAT if float(cell.value).is_integer() and fmt == NUMBER_FORMAT else fmt
    _as_excel_table(ws, sheet, rows, top, [str(c) for c in rows.columns])
    ws.freeze_panes = ws.cell(top + 1, 4)


def _table_sheet(xw, sheet: str, df: pd.DataFrame, units: dict, outcome: str) -> None:
    headers = [with_unit(str(c), units.get(c) or (column_unit(str(c), outcome) if _is_number(df[c]) else ""))
               for c in df.columns]
    safe_text(df).to_excel(xw, sheet_name=sheet, index=False, header=headers)
    ws = xw.sheets[sheet]
    for i, col in enumerate(df.columns, start=1):
        fmt = _column_format(str(col), df[col], outcome)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, max_row=len(df) + 1, min_col=i, max_col=i):
                cell.number_format = fmt
    _as_excel_table(ws, sheet, df, 1, headers)
    ws.freeze_panes = "A2"


def _is_number(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _column_format(col: str, s: pd.Series, outcome: str) -> str | None:
    if not _is_number(s):
        return None
    if col == "year":
        return YEAR_FORMAT
    if col in SHARE_COLUMNS:
        return SHARE_FORMAT
    if column_unit(col, outcome) == POUNDS:
        return MONEY_FORMAT
    if pd.api.types.is_integer_dtype(s):
        return WHOLE_FORMAT
    return NUMBER_FORMAT


def _as_excel_table(ws, sheet: str, df: pd.DataFrame, header_row: int, headers: list[str]) -> None:
    """The block from the header down as an Excel table, bold header, widths to fit."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    ncol = max(1, df.shape[1])
    for c in range(1, ncol + 1):
        ws.cell(header_row, c).font = Font(bold=True)
        values = [headers[c - 1]] + [_shown(v) for v in df.iloc[:200, c - 1]] if df.shape[1] else [""]
        ws.column_dimensions[get_column_letter(c)].width = min(60, max(len(v) for v in values) + 2)
    if df.shape[1] == 0 or len(set(h.lower() for h in headers)) != len(headers):
        return  # Excel tables need a distinct header for every column
    last = header_row + max(1, len(df))
    ref = f"A{header_row}:{get_column_letter(ncol)}{last}"
    taken = {t.lower() for w in ws.parent.worksheets for t in w.tables}
    name, n = _table_name(sheet), 1
    while name.lower() in taken:
        n += 1
        name = f"{_table_name(sheet)}_{n}"
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)


def _shown(v) -> str:
    return f"{v:,.2f}" if isinstance(v, float) else str(v)


def _table_name(sheet: str) -> str:
    """An Excel table name from a sheet name: letters, digits and _, starting with a letter."""
    return "t_" + re.sub(r"\W", "_", sheet)
