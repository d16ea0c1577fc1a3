"""Read an instance folder (CSV tables + instance.yaml) into typed tables.

Text is read as text first (`NA`, `null` and `0123` stay as written), then each
column is converted by its schema kind; every problem is collected, not only the first.
"""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError

from ..errors import InputError, Problem
from .cells import unescape_csv_text
from .source import read_bytes
from .instance import Instance
from .schema import BOOL, FALSE_WORDS, INTEGER, LIST, NUMBER, TABLES, TEXT, TRUE_WORDS, Table


def read_yaml(path: Path) -> object:
    """Safe YAML (a model file): no code, duplicate keys rejected with their line; a
    regular file of bounded size and depth (see yamltext)."""
    from .yamltext import check_depth, read_text, yaml_problem
    path = Path(path)
    text = read_text(path)
    check_depth(text, path.name)
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except DuplicateKeyError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise InputError(Problem(path.name, line, None, None, f"duplicate key in YAML ({yaml_problem(e)})")) from None
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(Problem(path.name, mark.line + 1 if mark else None, None, None,
                                 f"not valid YAML: {yaml_problem(e)}")) from None


def convert_value(text: str, kind: str) -> tuple[object, str | None]:
    """Convert one cell from text; returns (value, error or None)."""
    s = text.strip()
    if kind in (TEXT, LIST):
        return s, None
    if kind == BOOL:
        low = s.lower()
        if low in TRUE_WORDS:
            return True, None
        if low in FALSE_WORDS:
            return False, None
        return None, "true or false"
    # Commas only as thousands separators: "1,200" is 1200, but "1,5" is an error, not 15.
    if "," in s and THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    try:
        v = float(s)
    except ValueError:
        return None, "a number" if kind == NUMBER else "a whole number"
    if not math.isfinite(v):
        return None, "a finite number (not NaN or infinity)"
    if kind == INTEGER:
        if not v.is_integer():
            return None, "a whole number"
        v = int(v)
    return v, None


THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")
# Control characters (NUL and the like) are never data; tab and line breaks may be, in text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def row_numbers(df: pd.DataFrame):
    """Row as the analyst sees it, by position: header on row 1, so data from row 2,
    unless the reader skipped blank rows and recorded the real ones in attrs["rows"]."""
    rows = df.attrs.get("rows")
    if rows is not None and len(rows) == len(df):
        return lambda i: rows[i]
    return lambda i: i + 2


def convert_table(spec: Table, raw: pd.DataFrame, file: str, row_of, problems: list[Problem]) -> pd.DataFrame:
    """Typed DataFrame from a table of text; `row_of(i)` says the row as the analyst sees it."""
    raw = _read_aliases(spec, raw, file, problems)
    unknown = [c for c in raw.columns if c not in spec.names]
    for c in unknown:
        problems.append(Problem(file, 1, c, c, f"a known column of {spec.name} (allowed: {', '.join(spec.names)})"))
    for col in spec.columns:
        if col.required and col.name not in raw.columns:
            problems.append(Problem(file, 1, col.name, None, f"required column '{col.name}' is missing ({col.doc})"))
    out = {}
    for col in spec.columns:
        if col.name not in raw.columns:
            out[col.name] = [col.default] * len(raw)
            continue
        values = []
        for i, text in enumerate(raw[col.name].tolist()):
            if CONTROL.search(text):
                problems.append(Problem(file, row_of(i), col.name, text,
                                        "text without control characters (a NUL byte or the like was found)"))
                text = CONTROL.sub("", text)  # read on without them: no echo of the same fault downstream
            if text.strip() == "" and not col.required:
                values.append(col.default)
                continue
            if text.strip() == "" and col.kind not in (TEXT, LIST):
                problems.append(Problem(file, row_of(i), col.name, text, f"{col.kind} ({col.unit}): {col.doc}; the cell is empty"))
                values.append(None)
                continue
            v, err = convert_value(text, col.kind)
            if err:
                problems.append(Problem(file, row_of(i), col.name, text, f"{err} ({col.unit})"))
            elif col.kind in (NUMBER, INTEGER) and ((col.min is not None and v < col.min) or (col.max is not None and v > col.max)):
                rng = f"between {col.min:g} and {col.max:g}" if col.min is not None and col.max is not None else (
                    f"at least {col.min:g}" if col.min is not None else f"at most {col.max:g}")
                problems.append(Problem(file, row_of(i), col.name, text, f"{rng} ({col.unit}): {col.doc}"))
            values.append(v)
        out[col.name] = values
    df = pd.DataFrame(out, columns=spec.names)
    if "rows" in raw.attrs:  # keep the analyst's row numbers for the validator
        df.attrs["rows"] = list(raw.attrs["rows"])
    for col in spec.columns:
        if col.kind == NUMBER:
            df[col.name] = pd.to_numeric(df[col.name], errors="coerce").astype(float)
        elif col.kind == INTEGER:
            df[col.name] = pd.to_numeric(df[col.name], errors="coerce").fillna(0).astype(int)
        elif col.kind == BOOL:
            df[col.name] = df[col.name].fillna(False).astype(bool)
        else:
            df[col.name] = df[col.name].fillna("").astype(str)
    # unique keys
    keys = list(spec.key)
    if all(k in raw.columns for k in keys) and len(df):
        dup = df.duplicated(keys, keep="first")
        for i in df.index[dup]:
            key = ", ".join(f"{k}={df.at[i, k]}" for k in keys)
            problems.append(Problem(file, row_of(i), keys[-1], key, f"a unique key: ({', '.join(keys)}) appears more than once"))
    return df


def _read_aliases(spec: Table, raw: pd.DataFrame, file: str, problems: list[Problem]) -> pd.DataFrame:
    """A column under its deprecated name is read as the current one, with a warning; both at once is an error."""
    for col in spec.columns:
        if col.alias is None or col.alias not in raw.columns:
            continue
        if col.name in raw.columns:
            problems.append(Problem(file, 1, col.alias, col.alias,
                                    f"one of '{col.alias}' (the deprecated name) and '{col.name}', not both"))
            continue
        problems.append(Problem(file, 1, col.alias, col.alias,
                                f"'{col.name}': the deprecated column '{col.alias}' is read as {col.name}; "
                                f"rename it", severity="warning"))
        attrs = dict(raw.attrs)
        raw = raw.rename(columns={col.alias: col.name})
        raw.attrs.update(attrs)
    return raw


def undecodable(file: str, data: bytes, start: int) -> Problem:
    """Where the first byte that is not UTF-8 sits: its line, column and cell, the cell
    shown as Windows-1252 (what Excel's plain "CSV" usually wrote) would read it."""
    def begin(at: int) -> int:  # a line ends at LF, CR or CRLF
        return max(data.rfind(b"\n", 0, at), data.rfind(b"\r", 0, at)) + 1

    def line(at: int) -> str:
        ends = [e for e in (data.find(b"\n", at), data.find(b"\r", at)) if e >= 0]
        return data[begin(at):min(ends, default=len(data))].decode("cp1252", errors="replace").strip("\ufeff")

    def fields(text: str) -> list[str]:
        try:
            return next(csv.reader([text]), [])
        except csv.Error:
            return text.split(",")

    before = data[begin(start):start].decode("cp1252", errors="replace")
    line_number = len(re.findall(rb"\r\n|\r|\n", data[:start])) + 1
    index = len(fields(before)) - 1 if before else 0
    header, cells = fields(line(0)), fields(line(start))
    return Problem(file, line_number, header[index].strip() if index < len(header) else None,
                   cells[index] if index < len(cells) else None,
                   f"UTF-8 text: byte 0x{data[start]:02X} is not UTF-8; save the file as CSV UTF-8")


def read_csv_text(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """A CSV table as text cells (header from line 1), or None after adding its problems.

    Read with the csv module, not pandas, so that a row with more fields than the header
    is reported as such rather than shifting its cells into the wrong columns; a row with
    fewer fields is padded with empty cells (optional columns left out at the end)."""
    file = path.name
    try:
        data = read_bytes(path, file)
    except InputError as e:
        problems.extend(e.problems)
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        problems.append(undecodable(file, data, e.start))
        return None
    if not text.strip():
        problems.append(Problem(file, 1, None, "", "a header row naming the columns; the file is empty"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        records = list(reader)
    except csv.Error as e:
        problems.append(Problem(file, reader.line_num or None, None, None, f"a readable CSV table ({e})"))
        return None
    header = [h.strip() for h in records[0]]
    while header and not header[-1]:  # trailing commas after the last column
        header.pop()
    width, before = len(header), len(problems)
    seen: set = set()
    for k, name in enumerate(header, start=1):
        if not name:
            problems.append(Problem(file, 1, f"column {k}", "", "a name for every column in the header"))
        elif name in seen:
            problems.append(Problem(file, 1, name, name, "each column once: this header appears twice"))
        seen.add(name)
    rows = []
    for i, record in enumerate(records[1:], start=2):
        extra = [v for v in record[width:] if v.strip()]
        if extra:  # left out: its cells cannot be matched to the columns
            problems.append(Problem(file, i, None, ",".join(extra)[:80],
                                    f"row {i} has {len(record)} fields, the header {width}: one value a column "
                                    "(a comma inside a value needs the value in double quotes)"))
            continue
        rows.append(([unescape_csv_text(v) for v in record[:width]] + [""] * (width - len(record)), i))
    if len(problems) > before and not rows:
        return None
    if any(p.row == 1 for p in problems[before:]):  # the header itself is wrong
        return None
    table = pd.DataFrame([r for r, _ in rows], columns=header, dtype=object)
    return drop_blank_rows(table, [i for _, i in rows])


def drop_blank_rows(raw: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    """Rows with no value at all are skipped; attrs["rows"] keeps where the others are."""
    if raw.empty:
        return raw
    keep = [any(str(v).strip() for v in record) for record in raw.itertuples(index=False)]
    out = raw[keep].reset_index(drop=True)
    kept = [r for r, k in zip(rows, keep) if k]
    if kept != [i + 2 for i in range(len(out))]:
        out.attrs["rows"] = kept
    return out


def load_folder(folder: Path) -> tuple[dict, dict[str, pd.DataFrame], list[Problem]]:
    problems: list[Problem] = []
    meta_path = folder / "instance.yaml"
    meta: dict = {}
    if not meta_path.exists():
        problems.append(Problem("instance.yaml", None, None, None, f"an instance.yaml in {folder}"))
    else:
        from .meta import read_meta_yaml, type_meta
        try:
            meta = type_meta(read_meta_yaml(meta_path))  # values as written, then typed
        except InputError as e:  # unreadable: no check of its keys would say anything true
            problems.extend(e.problems)
            meta = None
    tables = {}
    for name, spec in TABLES.items():
        path = folder / spec.file
        if not path.exists() and not path.is_symlink():
            if not spec.optional:
                problems.append(Problem(spec.file, None, None, None, f"table '{spec.name}' is required ({spec.doc})"))
            tables[name] = convert_table(spec, pd.DataFrame(columns=[c.name for c in spec.columns if c.required]), spec.file, lambda i: i + 2, [])
            continue
        raw = read_csv_text(path, problems)
        if raw is None:
            raw = pd.DataFrame(columns=[c.name for c in spec.columns if c.required])
            tables[name] = convert_table(spec, raw, spec.file, lambda i: i + 2, [])
            continue
        tables[name] = convert_table(spec, raw, spec.file, row_numbers(raw), problems)
    return meta, tables, problems


def load_instance(path: str | Path, validate: bool = True) -> Instance:
    """Load an instance folder (or .xlsx workbook); raise InputError listing every problem."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from .workbook import load_workbook_tables
        meta, tables, problems = load_workbook_tables(path)
    elif path.is_dir():
        meta, tables, problems = load_folder(path)
    else:
        raise InputError(Problem(str(path), None, None, None, "an instance folder or an .xlsx workbook that exists"))
    inst = Instance(meta=meta if meta is not None else {}, tables=tables, source=path)
    if validate:
        from .validate import meta_file, validate_instance
        found = validate_instance(inst)
        if meta is None:  # instance.yaml did not read: its keys are not missing, only unread
            found = [p for p in found if p.file != meta_file(inst)]
        problems = problems + found
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(problems)
    inst.warnings = [p for p in problems if p.severity != "error"]
    return inst
