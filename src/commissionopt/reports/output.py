"""Write a plan's tables: CSV files, an Excel workbook, a JSON summary. Atomically.

A file, or a whole result folder, is written under a temporary name beside its target
and renamed into place (commissionopt.atomic): a reader sees the previous result or
the new one, never a mix. Nothing that exists is replaced unless `force` is given.
Inside a folder summary.json is written last. Text cells that a spreadsheet would
run as formulas are neutralised; numbers stay numbers.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from ..atomic import atomic_file, atomic_folder
from ..data.cells import FORMULA_STARTS
from ..results.plan import Plan


def safe_text(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that start like a formula with an apostrophe (formula injection)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):  # pandas 3 reads text as `str`
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


SCHEMA_VERSION = 1  # of every JSON document written (docs/results.md, "JSON"); raised on a breaking change


def is_timing(key: str) -> bool:
    return key.endswith("_seconds")


def plan_json(plan: Plan) -> dict:
    """One plan as JSON, the same shape in `solve` and in `compare`'s `policies.<name>`:
    summary, inputs, violations, and the run's timings apart under `timings` (so everything
    else is the same, byte for byte, from one run to the next)."""
    summary = {k: v for k, v in plan.summary.items() if not is_timing(k)}
    timings = {k: v for k, v in plan.summary.items() if is_timing(k)}
    return jsonable({"summary": summary, "inputs": plan.inputs, "violations": plan.violations, "timings": timings})


def plan_document(plan: Plan) -> dict:
    """The JSON that `solve` prints and writes as summary.json."""
    return {"schema_version": SCHEMA_VERSION, **plan_json(plan)}


def plan_from_json(doc: dict, tables: dict | None = None) -> Plan:
    """A Plan back from plan_json's shape (timings returned to the summary)."""
    summary = {**doc.get("summary", {}), **(doc.get("timings") or {})}
    return Plan(summary=summary, tables=dict(tables or {}), inputs=doc.get("inputs", {}),
                violations=list(doc.get("violations", [])))


def write_csv_table(df: pd.DataFrame, path: str | Path, force: bool = False) -> Path:
    """One table as CSV, atomically, text cells neutralised."""
    with atomic_file(path, force) as tmp:
        safe_text(df).to_csv(tmp, index=False)
    return Path(path)


def _write(path: Path, content) -> None:
    """One file of a result folder: a DataFrame as CSV, {sheet: DataFrame} as a workbook,
    text as UTF-8, bytes as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, pd.DataFrame):
        write_csv_table(content, path)
    elif isinstance(content, dict):
        write_workbook(content, path)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(bytes(content))


def write_files(files: dict, out: str | Path, force: bool = False) -> Path:
    """A result folder, put in place whole: {relative name: content} (see `_write`), in order.
    The folder is built aside and renamed over `out` (replacing a non-empty one only if `force`)."""
    with atomic_folder(out, force) as tmp:
        for name, content in files.items():
            _write(tmp / name, content)
    return Path(out)


def plan_files(plan: Plan) -> dict:
    """A plan's result folder: every table as CSV, and summary.json (written even without a
    plan: the status and any conflicts)."""
    files: dict = {f"{name}.csv": df for name, df in plan.tables.items()}
    files["summary.json"] = json.dumps(plan_document(plan), indent=2)
    return files


def comparison_document(comparison, inst, headline: str = "", scenario: str | None = None) -> dict:
    """The JSON that `compare` prints: the instance, the cut the policies ran at (as the
    command line writes it too), the headline, the scenario, and each policy as plan_json."""
    from .labels import cut_text, outcome_unit
    cut = next((p.summary.get("cut") for p in comparison.plans.values() if p.summary.get("policy") != "status_quo"),
               comparison.cut)
    return jsonable({"schema_version": SCHEMA_VERSION, "instance": inst.name, "source": str(inst.source or ""),
                     "headline": headline, "cut": cut, "cut_text": cut_text(cut), "outcome_unit": outcome_unit(inst),
                     "scenario": scenario, "scenario_changes": list(inst.changes), "models": list(comparison.plans),
                     "policies": {k: plan_json(p) for k, p in comparison.plans.items()}})


UNSAFE_FILE = re.compile(r"[^A-Za-z0-9_.+=@ -]")


def folder_names(labels, width: int = 100) -> list[str]:
    """A file name for each label: a model file's stem, no path separators or leading dots,
    unique ignoring case (a clash gets ~2, ~3, ...)."""
    out, taken = [], set()
    for label in labels:
        label = Path(label).stem if str(label).endswith((".yaml", ".yml")) else str(label)
        base = UNSAFE_FILE.sub("_", label).lstrip(".").strip() or "result"
        name, n = base[:width], 1
        while name.lower() in taken:
            n += 1
            name = base[:width - len(f"~{n}")] + f"~{n}"
        taken.add(name.lower())
        out.append(name)
    return out


def answer_files(ranked: pd.DataFrame, plans: dict) -> dict:
    """A question bank's result folder: ranked.csv, plans/QUESTION.csv, and questions.xlsx
    (ranked, an index sheet mapping each plan's sheet to its question file, the plans)."""
    files = list(plans)
    folders = folder_names(files)
    sheets = sheet_names(folders, taken=["ranked", INDEX_SHEET])
    index = pd.DataFrame({"sheet": sheets, "file": [Path(f).name for f in files]})
    return {"ranked.csv": ranked, **{f"plans/{n}.csv": plans[f] for n, f in zip(folders, files)},
            "questions.xlsx": {"ranked": ranked, INDEX_SHEET: index, **dict(zip(sheets, plans.values()))}}


# Excel refuses these in a sheet name, and names of more than 31 characters.
UNSAFE_SHEET = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
MAX_SHEET = 31
INDEX_SHEET = "index"


def sheet_names(labels, width: int = MAX_SHEET, taken=()) -> list[str]:
    """A name for each label that Excel accepts: no []:*?/\\, at most `width` characters,
    no apostrophe at either end, unique ignoring case, also against `taken` (a clash
    gets ~2, ~3, ...)."""
    out, taken = [], {t.lower() for t in taken}
    for label in labels:
        base = UNSAFE_SHEET.sub("_", str(label)).strip().strip("'") or "sheet"
        if base.lower() == "history":  # reserved by Excel
            base += "_"
        name, n = base[:width].rstrip("'"), 1
        while name.lower() in taken:
            n += 1
            name = base[:width - len(f"~{n}")].rstrip("'") + f"~{n}"
        taken.add(name.lower())
        out.append(name)
    return out


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path, force: bool = False) -> Path:
    """One sheet per table, header bold and frozen, columns sized to their contents.
    Sheet names are made safe and unique (`sheet_names`), so no table overwrites another."""
    from openpyxl.styles import Font

    path = Path(path)
    with atomic_file(path, force) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for sheet, (name, df) in zip(sheet_names(sheets), sheets.items()):
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


def summary_frame(plan: Plan, outcome: str = "weighted outcome points") -> pd.DataFrame:
    """The summary as rows of measure, value, unit (a mapping or list as JSON text)."""
    from .labels import summary_unit
    rows = [(k, v if not isinstance(v, (dict, list)) else json.dumps(jsonable(v)), summary_unit(k, outcome))
            for k, v in plan.summary.items()]
    return pd.DataFrame(rows, columns=["measure", "value", "unit"])

