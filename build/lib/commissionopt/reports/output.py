"""Write a plan's tables: CSV files, an Excel workbook, a JSON summary. Atomically.

Each file goes to a temporary name and is moved into place; summary.json is written
last, so a folder with a summary is a complete result. Text cells that a spreadsheet
would run as formulas are neutralised; numbers stay numbers.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from ..data.cells import FORMULA_STARTS
from ..data.write import atomic_file
from ..results.plan import Plan


def safe_text(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that start like a formula with an apostrophe (formula injection)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = [("'" + v) if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in out[c]]
    return out


def jsonable(obj):
    """Plain JSON types: numpy numbers become Python numbers, NaN/inf become null."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item"):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def plan_json(plan: Plan) -> dict:
    return jsonable({"summary": plan.summary, "inputs": plan.inputs, "violations": plan.violations})


def write_csv_table(df: pd.DataFrame, path: str | Path) -> Path:
    """One table as CSV, atomically, text cells neutralised."""
    with atomic_file(path) as tmp:
        safe_text(df).to_csv(tmp, index=False)
    return Path(path)


def write_csv_folder(plan: Plan, out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in plan.tables.items():
        write_csv_table(df, out / f"{name}.csv")
    with atomic_file(out / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(plan_json(plan), indent=2), encoding="utf-8")
    return out


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """One sheet per table, header bold and frozen, columns sized to their contents."""
    from openpyxl.styles import Font

    path = Path(path)
    with atomic_file(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, df in sheets.items():
                sheet = name[:31]
                safe_text(df).to_excel(xw, sheet_name=sheet, index=False)
                ws = xw.sheets[sheet]
                ws.freeze_panes = "A2"
                for cell in ws[1]:
                    cell.font = Font(bold=True)
                for i, col in enumerate(df.columns, start=1):
                    width = max([len(str(col))] + [len(f"{v:,.2f}" if isinstance(v, float) else str(v))
                                                   for v in df[col].head(200)])
                    ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, width + 2)
    return path


def summary_frame(plan: Plan) -> pd.DataFrame:
    rows = [(k, v if not isinstance(v, (dict, list)) else json.dumps(jsonable(v))) for k, v in plan.summary.items()]
    return pd.DataFrame(rows, columns=["measure", "value"])


def write_plan_workbook(plan: Plan, path: str | Path) -> Path:
    return write_workbook({"summary": summary_frame(plan), **plan.tables}, path)
