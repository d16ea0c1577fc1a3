"""What-if scenario files read and checked: the parsing half of data/scenario.py.

A scenario file is read as written (data.yamltext: composed, never constructed, so `0123`
and `NO` stay text until a column's kind converts them) and checked as strictly as an
instance: unknown keys, tables and columns fail listing the allowed names; values are
converted by the column's kind and checked against its range and plausible size. The
`extends` chain is resolved here, kept inside the scenario's own folder tree (and the
instance's) unless allowed outside, and cycles are refused. Every problem found is
reported, not only the first. Applying a parsed chain is data/scenario.py's job.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem
from .load import convert_value
from .plausible import meta_error, value_error
from .schema import BOOL, INTEGER, LIST, META_KEYS, NUMBER, RESERVE_KEYS, TABLES, TEXT, Column, Table
from .yamltext import Map, Seq, read_mapping

# The keys of a scenario file and of one change, with what each is (used in messages).
SCENARIO_KEYS = {
    "name": "short name of the scenario (default: the file name without .yaml)",
    "description": "what the scenario changes, in a sentence or two",
    "question": "the commissioning question the scenario answers (free text)",
    "extends": "another scenario file applied first, relative to this file",
    "budget_cut": "the cut to run: one share for every year (0.1) or {year: share} (the last carries forward)",
    "set": "instance.yaml keys to change (base_year, price_year, horizon_years, discount_rate, reserves)",
    "changes": "a list of table changes, applied in order",
}
CHANGE_KEYS = {
    "table": "the table to change",
    "where": "{column: value} choosing the rows (all rows when left out)",
    "set": "{column: value} to give the chosen rows",
    "scale": "{column: factor} to multiply the chosen rows' numbers by",
    "add": "a list of rows, each {column: value}",
    "remove": "true to remove the chosen rows",
    "note": "free text for the reader, ignored",
}
OPERATIONS = ("set", "scale", "add", "remove")
# instance.yaml keys a scenario may set; `levels` (every table names them), `name` and
# `sources` (they describe the data, not a what-if) may not.
SETTABLE_META = ("base_year", "price_year", "horizon_years", "discount_rate", "reserves")
MAPPING_FILE = "scenario"  # how a scenario given as a mapping is named in messages
MAX_CHAIN = 50  # extends deeper than this is surely a mistake (cycles are caught earlier)

# --- reading: YAML composed, every scalar as its text -------------------------------------

def read_scenario_yaml(path: str | Path) -> dict:
    """A scenario file's keys with every value as written (text, lists, mappings).

    Safe: composed, never constructed, so nothing is executed and `0123`, `NO` and `1e6`
    stay the text typed; duplicate keys, anchors, aliases and deep nesting are errors with
    their line; only a regular file of bounded size is read."""
    return read_mapping(path, None, "name, description, changes, ...")


def _as_text(value, line: int = 0):
    """A mapping given in Python, made like a composed file: scalars as text."""
    if isinstance(value, Map | Seq):
        return value
    if isinstance(value, dict):
        out = Map()
        out.line, out.lines = line, {}
        for k, v in value.items():
            out[str(k)], out.lines[str(k)] = _as_text(v), line
        return out
    if isinstance(value, list | tuple):
        out = Seq(_as_text(v) for v in value)
        out.line, out.lines = line, [line] * len(out)
        return out
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)

# --- problems ------------------------------------------------------------------------------

class _Report:
    """Problems about one scenario file, by line."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int | None, where: str | None, value, expected: str) -> None:
        self.problems.append(Problem(self.file, line or None, where, value, expected))


def nearest(value, choices, n: int = 1) -> list[str]:
    return difflib.get_close_matches(str(value), sorted({str(c) for c in choices}), n=n, cutoff=0.6)


def _did_you_mean(value, choices) -> str:
    close = nearest(value, choices)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _allowed(names) -> str:
    return ", ".join(names)

# --- values ----------------------------------------------------------------------------------

def shown(value) -> str:
    """A value as the change log and messages write it."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if value is None or value == "":
        return "''"
    return str(value)


def range_text(col: Column) -> str:
    low, high = col.min, col.max
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}" if high is not None else "any number"


def range_error(col: Column, v) -> str | None:
    """Why a number does not fit its column (the column's range, a plausible size), or None."""
    if col.kind not in (NUMBER, INTEGER):
        return None
    if (col.min is not None and v < col.min) or (col.max is not None and v > col.max):
        return f"{range_text(col)} ({col.unit}): {col.doc}"
    implausible = value_error(col.unit, float(v))
    return f"{implausible}: {col.doc}" if implausible else None


def _column_value(col: Column, raw) -> tuple[object, str | None]:
    """A value for a column from the scenario's text: (typed value, error or None)."""
    if isinstance(raw, list):
        if col.kind != LIST:
            return None, f"one {col.kind} value, not a list ({col.doc})"
        if any(isinstance(x, dict | list) or x is None for x in raw):
            return None, f"a list of names ({col.doc})"
        raw = ";".join(str(x).strip() for x in raw)
    elif isinstance(raw, dict):
        return None, f"one {col.kind} value, not a mapping ({col.doc})"
    text = "" if raw is None else str(raw)
    if text.strip() == "":
        if not col.required:
            return col.default, None
        if col.kind in (TEXT, LIST):
            return None, f"a value ({col.doc}); it is required"
        return None, f"{col.kind} ({col.unit}): {col.doc}; the value is empty"
    v, err = convert_value(text, col.kind)
    if err:
        return None, f"{err} ({col.unit}): {col.doc}"
    bad = range_error(col, v)
    return (None, bad) if bad else (v, None)


def where_value(col: Column, raw) -> tuple[list, str | None]:
    """The values a where accepts for a column (a YAML list = any of them)."""
    items = list(raw) if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if isinstance(item, dict | list):
            return [], "a value or a list of values"
        text = "" if item is None else str(item).strip()
        if col.kind in (TEXT, LIST):
            out.append(text)
            continue
        v, err = convert_value(text, col.kind) if text else (None, f"{col.kind} ({col.unit}); the value is empty")
        if err:
            return [], err
        out.append(v)
    if not out:
        return [], "at least one value"
    return out, None

# --- the parsed scenario ------------------------------------------------------------------

@dataclass
class Change:
    """One parsed change of a scenario file."""
    index: int  # 1-based position in the file's changes
    line: int  # of the change (its `- table:` item)
    table: str
    op: str
    where: dict = field(default_factory=dict)  # column -> list of accepted values
    where_text: str = ""
    where_line: int = 0
    op_line: int = 0
    values: dict = field(default_factory=dict)  # set: column -> value; scale: column -> factor
    rows: list = field(default_factory=list)  # add: [(line, {column: value})]

    @property
    def label(self) -> str:
        return f"changes[{self.index}]"


@dataclass
class ScenarioFile:
    """One file of an extends chain, parsed and typed (not yet applied)."""
    label: str  # file name as messages give it
    path: Path | None
    name: str
    description: str
    question: str | None
    extends: Path | None
    extends_line: int
    budget_cut: object  # None, a share, or {year: share}
    budget_cut_line: int
    meta: dict  # instance.yaml keys to set (reserves: a partial mapping)
    changes: list[Change]


def _text(raw: Map, key: str, report: _Report) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, dict | list):
        report.add(raw.lines.get(key), key, None, f"text: {SCENARIO_KEYS[key]}")
        return None
    return str(value).strip()


def _parse_budget_cut(raw, line: int, report: _Report):
    def share(text, where) -> float | None:
        if text is None or isinstance(text, dict | list):
            v, err = None, "one value"
        else:
            v, err = convert_value(str(text), NUMBER)
        if err or not 0 <= v < 1:
            report.add(line, where, text, "a share of the budget from 0 up to (not including) 1, e.g. 0.25")
            return None
        return float(v)

    if raw is None:
        return None
    if isinstance(raw, dict):
        out = {}
        for key, value in raw.items():
            year, err = convert_value(str(key), INTEGER)
            if err or year < 1:
                report.add(raw.lines.get(key, line), f"budget_cut.{key}", key,
                           "a year from 1 (year 1 is the first year after the base year)")
                continue
            if year in out:
                report.add(raw.lines.get(key, line), f"budget_cut.{key}", key,
                           f"each year once (year {year} is given twice)")
                continue
            v = share(value, f"budget_cut.{key}")
            if v is not None:
                out[year] = v
        if not raw:
            report.add(line, "budget_cut", "{}", "a share, or at least one year: share")
        return dict(sorted(out.items()))
    if isinstance(raw, list):
        report.add(line, "budget_cut", None, "a share (0.1) or a mapping {year: share}, not a list")
        return None
    return share(raw, "budget_cut")


def _parse_meta(raw, line: int, report: _Report) -> dict:
    from .validate import META_RANGES
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        report.add(line, "set", None, f"a mapping of instance.yaml keys ({_allowed(SETTABLE_META)})")
        return {}
    out: dict = {}
    for key, value in raw.items():
        kline = raw.lines.get(key, line)
        if key == "levels":
            report.add(kline, f"set.{key}", key, "an instance.yaml key a scenario may set "
                       f"({_allowed(SETTABLE_META)}): levels cannot change, every table names them")
            continue
        if key not in SETTABLE_META:
            why = " (a scenario's own name goes in its top-level name)" if key == "name" else ""
            report.add(kline, f"set.{key}", key, f"an instance.yaml key a scenario may set "
                       f"({_allowed(SETTABLE_META)}){why}{_did_you_mean(key, SETTABLE_META)}")
            continue
        kind = META_KEYS[key][0]
        if kind == "mapping":
            if not isinstance(value, dict) or not value:
                report.add(kline, f"set.{key}", None, f"a mapping of {key} keys ({_allowed(RESERVE_KEYS)})")
                continue
            sub = {}
            for k, v in value.items():
                sline = value.lines.get(k, kline)
                if k not in RESERVE_KEYS:
                    report.add(sline, f"set.{key}.{k}", k,
                               f"a {key} key ({_allowed(RESERVE_KEYS)}){_did_you_mean(k, RESERVE_KEYS)}")
                    continue
                sub_kind = RESERVE_KEYS[k]
                if isinstance(v, dict | list) or v is None:
                    typed, err = None, f"one {sub_kind} value"
                else:
                    typed, err = convert_value(str(v), sub_kind)
                if not err and sub_kind == NUMBER and typed < 0:
                    err = "at least 0"
                err = err or meta_error(f"{key}.{k}", typed)
                if err:
                    report.add(sline, f"set.{key}.{k}", v, f"{err} (£)" if sub_kind == NUMBER else err)
                    continue
                sub[k] = typed
            out[key] = sub
            continue
        if isinstance(value, dict | list) or value is None or str(value).strip() == "":
            report.add(kline, f"set.{key}", value, f"one {kind} value: {META_KEYS[key][1]}")
            continue
        if kind == "text":
            out[key] = str(value).strip()
            continue
        typed, err = convert_value(str(value), kind)
        if err:
            report.add(kline, f"set.{key}", value, f"{err}: {META_KEYS[key][1]}")
            continue
        if key in META_RANGES and not META_RANGES[key][0] <= typed <= META_RANGES[key][1]:
            low, high = META_RANGES[key]
            report.add(kline, f"set.{key}", value, f"between {low:g} and {high:g}: {META_KEYS[key][1]}")
            continue
        if meta_error(key, typed):
            report.add(kline, f"set.{key}", value, f"{meta_error(key, typed)}: {META_KEYS[key][1]}")
            continue
        out[key] = typed
    return out


def _parse_column_map(raw, spec: Table, what: str, change: Change, line: int, report: _Report) -> dict | None:
    """{column: raw value} of a set/scale/where, its columns checked against the table."""
    if not isinstance(raw, dict):
        report.add(line, f"{change.label}.{what}", None, f"a mapping of {spec.name} columns to values "
                   f"(allowed columns: {_allowed(spec.names)})")
        return None
    out = {}
    for name, value in raw.items():
        cline = raw.lines.get(name, line)
        name = spec.canonical(name)  # a deprecated column name means the current column
        if name not in spec.names:
            report.add(cline, f"{change.label}.{what}.{name}", name, f"a column of {spec.name} "
                       f"(allowed: {_allowed(spec.names)}){_did_you_mean(name, spec.names)}")
            continue
        out[name] = (value, cline)
    return out


def _parse_change(raw, index: int, line: int, report: _Report) -> Change | None:
    where = f"changes[{index}]"
    if not isinstance(raw, dict):
        report.add(line, where, None, f"a mapping with table and one of {', '.join(OPERATIONS)}")
        return None
    line = raw.line or line
    bad = False
    for key in raw:
        if key not in CHANGE_KEYS:
            report.add(raw.lines.get(key, line), f"{where}.{key}", key,
                       f"a change key (allowed: {_allowed(CHANGE_KEYS)}){_did_you_mean(key, CHANGE_KEYS)}")
            bad = True
    table = raw.get("table")
    if table is None or isinstance(table, dict | list):
        report.add(line, f"{where}.table", table, f"the table to change (one of {_allowed(TABLES)})")
        return None
    table = str(table).strip()
    if table not in TABLES:
        report.add(raw.lines.get("table", line), f"{where}.table", table,
                   f"a table of the instance (allowed: {_allowed(TABLES)}){_did_you_mean(table, TABLES)}")
        return None
    spec = TABLES[table]
    ops = [op for op in OPERATIONS if op in raw]
    if len(ops) != 1:
        report.add(line, where, ", ".join(ops) or None,
                   f"exactly one operation of {', '.join(OPERATIONS)} per change (split the change in two to do both)"
                   if ops else f"an operation: one of {', '.join(OPERATIONS)}")
        return None
    op = ops[0]
    oline = raw.lines.get(op, line)
    change = Change(index=index, line=line, table=table, op=op, where_line=raw.lines.get("where", line), op_line=oline)

    # where
    if "where" in raw:
        wline = raw.lines["where"]
        if op == "add":
            report.add(wline, f"{where}.where", None, "no where with add (add gives whole new rows)")
            bad = True
        elif raw["where"] is not None:
            columns = _parse_column_map(raw["where"], spec, "where", change, wline, report)
            if columns is None:
                bad = True
            else:
                parts = []
                for name, (value, cline) in columns.items():
                    values, err = where_value(spec.column(name), value)
                    if err:
                        report.add(cline, f"{where}.where.{name}", value, f"{err} ({spec.column(name).kind} column)")
                        bad = True
                        continue
                    change.where[name] = values
                    parts.append(f"{name}={'|'.join(shown(v) for v in values)}")
                change.where_text = ", ".join(parts)
                if len(columns) != len(raw["where"]):
                    bad = True
    if op == "remove":
        flag, err = convert_value(raw["remove"], BOOL) if isinstance(raw["remove"], str) else (None, "one value")
        if err or not flag:
            report.add(oline, f"{where}.remove", raw["remove"], "true (to keep the rows, leave the change out)")
            bad = True
        if not raw.get("where") and not bad:
            report.add(line, f"{where}.where", None, f"a where choosing the {table} rows to remove "
                       "(remove never empties a whole table)")
            bad = True
    elif op in ("set", "scale"):
        columns = _parse_column_map(raw[op], spec, op, change, oline, report)
        if columns is None:
            return None
        if not columns and not bad:
            report.add(oline, f"{where}.{op}", None, f"at least one column of {table} to {op}")
            bad = True
        for name, (value, cline) in columns.items():
            col = spec.column(name)
            if name in spec.key:
                report.add(cline, f"{where}.{op}.{name}", name, f"a column that is not part of the key of {table} "
                           f"({', '.join(spec.key)}): to change a key, remove the row and add a new one")
                bad = True
                continue
            if op == "set":
                v, err = _column_value(col, value)
            else:
                if col.kind not in (NUMBER, INTEGER):
                    report.add(cline, f"{where}.scale.{name}", value, f"a numeric column to scale: {table}.{name} is "
                               f"{col.kind} (use set to change it)")
                    bad = True
                    continue
                v, err = _column_value(Column(name, NUMBER, "multiplier", "a factor"), value)
                err = err and f"a number to multiply by, e.g. 1.04 ({err})"
            if err:
                report.add(cline, f"{where}.{op}.{name}", value, err)
                bad = True
                continue
            change.values[name] = v
        if len(columns) != len(raw[op]):
            bad = True
    else:  # add
        rows = raw["add"]
        if isinstance(rows, dict):
            rows = _as_text([rows], oline)
            rows.lines = [oline]
        if not isinstance(rows, list) or not rows:
            report.add(oline, f"{where}.add", None, f"a list of rows, each a mapping of {table} columns")
            return None
        for k, row in enumerate(rows, start=1):
            rline = rows.lines[k - 1] if getattr(rows, "lines", None) else oline
            label = f"{where}.add[{k}]"
            if not isinstance(row, dict):
                report.add(rline, label, None, f"a mapping of {table} columns to values")
                bad = True
                continue
            typed = {}
            for name, value in row.items():
                cline = row.lines.get(name, rline)
                name = spec.canonical(name)
                if name not in spec.names:
                    report.add(cline, f"{label}.{name}", name, f"a column of {table} "
                               f"(allowed: {_allowed(spec.names)}){_did_you_mean(name, spec.names)}")
                    bad = True
                    continue
                v, err = _column_value(spec.column(name), value)
                if err:
                    report.add(cline, f"{label}.{name}", value, err)
                    bad = True
                    continue
                typed[name] = v
            missing = [c for c in spec.columns if c.required and c.name not in typed and c.name not in row]
            for c in missing:
                report.add(rline, f"{label}.{c.name}", None, f"required column '{c.name}' is missing ({c.doc})")
                bad = True
            for c in spec.columns:
                typed.setdefault(c.name, c.default)
            change.rows.append((rline, typed))
    return None if bad else change


def parse_scenario(raw: dict, label: str, path: Path | None, base_dir: Path) -> tuple[ScenarioFile, list[Problem]]:
    """A scenario file's keys checked and typed; the problems found (all of them)."""
    report = _Report(label)
    line = getattr(raw, "line", 0)
    lines = getattr(raw, "lines", {})
    for key in raw:
        if key not in SCENARIO_KEYS:
            report.add(lines.get(key), key, key,
                       f"a scenario key (allowed: {_allowed(SCENARIO_KEYS)}){_did_you_mean(key, SCENARIO_KEYS)}")
    name = _text(raw, "name", report) or (path.stem if path is not None else MAPPING_FILE)
    description = _text(raw, "description", report) or ""
    question = _text(raw, "question", report)
    extends, extends_line = None, lines.get("extends", line)
    if raw.get("extends") is not None:
        target = raw["extends"]
        if isinstance(target, dict | list) or not str(target).strip():
            report.add(extends_line, "extends", None, "one scenario file name, relative to this file")
        elif "\x00" in str(target):
            report.add(extends_line, "extends", None, "a file name without NUL bytes")
        else:
            extends = Path(str(target).strip())
            if not extends.is_absolute():
                extends = base_dir / extends
    budget_line = lines.get("budget_cut", line)
    budget_cut = _parse_budget_cut(raw.get("budget_cut"), budget_line, report)
    meta = _parse_meta(raw.get("set"), lines.get("set", line), report)
    changes = []
    raw_changes = raw.get("changes")
    if raw_changes is not None:
        if not isinstance(raw_changes, list):
            report.add(lines.get("changes", line), "changes", None,
                       "a list of changes (each item starting with '- table:')")
        else:
            item_lines = getattr(raw_changes, "lines", [])
            for i, item in enumerate(raw_changes, start=1):
                change = _parse_change(item, i, item_lines[i - 1] if i <= len(item_lines) else 0, report)
                if change is not None:
                    changes.append(change)
    parsed = ScenarioFile(label=label, path=path, name=name, description=description, question=question,
                          extends=extends, extends_line=extends_line, budget_cut=budget_cut,
                          budget_cut_line=budget_line, meta=meta, changes=changes)
    return parsed, report.problems


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name too long, ...
        return None


def _inside(path: Path, trees: list[Path]) -> bool:
    return any(path == t or t in path.parents for t in trees)


def read_chain(path_or_mapping, base_dir: str | Path | None = None, roots=(),
               allow_outside: bool = False) -> tuple[list[ScenarioFile], list[Problem]]:
    """The scenario and every file it extends, parsed (the furthest ancestor first), and
    the problems found in them. A change with a problem is left out of its file's changes.

    Relative paths (the scenario's own, when base_dir is given, and every `extends`)
    resolve against the folder of the file that names them; a cycle is refused. `extends`
    may only name files inside the folder tree of the scenario given (of base_dir, when
    given) or of one of `roots` (the instance's folder), unless `allow_outside`: a
    scenario must not make the tool read, and quote in its errors, files elsewhere."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    problems: list[Problem] = []
    chain: list[ScenarioFile] = []
    seen: list[Path] = []
    if isinstance(path_or_mapping, dict):
        raw, path, label, folder = _as_text(path_or_mapping), None, MAPPING_FILE, base
    else:
        path = Path(path_or_mapping)
        if not path.is_absolute():
            path = base / path
        raw, label, folder = None, path.name, path.parent
    trees = [t for t in (_resolved(Path(x)) for x in [folder, *([base] if base_dir is not None else []), *roots])
             if t is not None]

    def refuse(expected: str):
        if chain:
            previous = chain[-1]
            problems.append(Problem(previous.label, previous.extends_line, "extends", str(previous.extends), expected))
        else:
            problems.append(Problem(label, None, None, str(path), expected))
        return InputError(problems)

    while True:
        if path is not None:
            resolved = _resolved(path)
            if resolved is None:
                raise refuse("a file path that can be resolved (a symlink loop, or a name too long)")
            if resolved in seen:
                cycle = " -> ".join(p.name for p in seen[seen.index(resolved):] + [resolved])
                raise refuse(f"a chain without cycles: {cycle}")
            if chain and not allow_outside and not _inside(resolved, trees):
                raise refuse(f"a file inside {' or '.join(str(t) for t in trees)}: extends may not leave the "
                             "scenario's folder tree (allow_outside=True, or --allow-outside, allows it)")
            if len(seen) >= MAX_CHAIN:
                problems.append(Problem(label, None, "extends", None, f"at most {MAX_CHAIN} files in an extends chain"))
                raise InputError(problems)
            seen.append(resolved)
            if not path.exists():
                raise refuse(f"a scenario file that exists (looked for {path})" if chain else "a scenario file that exists")
            try:
                raw = read_scenario_yaml(path)
            except InputError as e:  # with what the files extending it already showed
                if chain:  # say which extends led here
                    previous = chain[-1]
                    e.problems[0:0] = [Problem(previous.label, previous.extends_line, "extends", str(previous.extends),
                                               "a scenario file that reads (see below)")]
                raise InputError(problems + e.problems) from None
        parsed, found = parse_scenario(raw, label, path, folder)
        problems += found
        chain.append(parsed)
        if parsed.extends is None:
            break
        path = parsed.extends
        label, folder = path.name, path.parent
    return chain[::-1], problems
