"""Write an instance as a folder (CSV + instance.yaml) or a workbook, atomically.

Every file is written to a temporary name in its own folder and moved into place
with os.replace, so a failed write never leaves a half-written file that looks
complete. Text cells that a spreadsheet would run as a formula are neutralised.
"""
from __future__ import annotations

import csv
from pathlib import Path

from ..atomic import atomic_file, atomic_folder
from .cells import escape_csv_text, is_text_kind, value_text
from .instance import Instance
from .meta import META_FILE, meta_yaml_text
from .schema import TABLES, Table


def table_rows(spec: Table, df) -> list[list[str]]:
    """Header and data rows of one table as CSV text, text cells neutralised."""
    rows = [spec.names]
    for record in df[spec.names].itertuples(index=False):
        rows.append([escape_csv_text(value_text(v, c.kind)) if is_text_kind(c.kind) else value_text(v, c.kind)
                     for v, c in zip(record, spec.columns)])
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with atomic_file(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)


def write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _fill_folder(inst: Instance, folder: Path) -> None:
    write_text(folder / META_FILE, meta_yaml_text(inst.meta))
    for name, spec in TABLES.items():
        write_csv(folder / spec.file, table_rows(spec, inst.tables[name]))


def write_folder(inst: Instance, folder: str | Path) -> None:
    """Every table as CSV plus instance.yaml. A new folder appears whole (built aside,
    then renamed); in an existing folder each file is replaced atomically."""
    folder = Path(folder)
    if folder.exists():
        _fill_folder(inst, folder)
        return
    with atomic_folder(folder) as tmp:
        _fill_folder(inst, tmp)


def write_instance(inst: Instance, dst: str | Path) -> Path:
    """Write to a workbook if `dst` ends in .xlsx, else to a folder."""
    dst = Path(dst)
    if dst.suffix.lower() == ".xlsx":
        from .workbook import write_workbook
        write_workbook(inst, dst)
    else:
        write_folder(inst, dst)
    return dst
