"""What-if scenario files: small YAML overrides of an instance.

A scenario names the instance rows to change (`where`) and how (`set`, `scale`, `add`,
`remove`), may change instance.yaml keys (`set`), may give the budget cut to run
(`budget_cut`) and may extend another scenario (`extends`). The semantics are written
down once, in docs/scenarios.md; this module implements exactly that.

The file is read as written (YAML composed, never constructed: `0123` and `NO` stay
text until a column's kind converts them), validated as strictly as an instance
(unknown keys, tables and columns fail listing the allowed names; values are converted
by the column's kind and checked against its range), applied to a copy of the
instance, and the result is validated again as an instance. Every problem found is
reported, not only the first. Nothing is printed.
"""
from __future__ import annotations

import difflib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..errors import InputError, Problem
from .instance import Instance, split_list
from .load import convert_value
from .schema import BOOL, INTEGER, LIST, META_KEYS, NUMBER, RESERVE_KEYS, TABLES, TEXT, Column, Table

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

class _Map(dict):
    """A YAML mapping with the line of the mapping and of each key."""
    line: int = 0
    lines: dict


class _Seq(list):
    """A YAML sequence with the line of the sequence and of each item."""
    line: int = 0
    lines: list


NULL_TAG = "tag:yaml.org,2002:null"


def _plain(node, file: str, seen: set[int]):
    if id(node) in seen:  # an alias: refused (also stops 'billion laughs' expansion)
        raise InputError(Problem(file, node.start_mark.line + 1, None, None,
                                 "plain values: YAML anchors and aliases (&, *) are not allowed in a scenario"))
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        return None if str(node.tag) == NULL_TAG else node.value
    if isinstance(node, SequenceNode):
        out = _Seq(_plain(item, file, seen) for item in node.value)
        out.line, out.lines = node.start_mark.line + 1, [item.start_mark.line + 1 for item in node.value]
        return out
    out = _Map()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = _plain(key_node, file, seen)
        if not isinstance(key, str):
            raise InputError(Problem(file, key_node.start_mark.line + 1, None, None,
                                     "a plain key (a name or a number)"))
        line = key_node.start_mark.line + 1
        if key in out:
            raise InputError(Problem(file, line, key, key,
                                     f"each key once: duplicate key '{key}' (first on line {out.lines[key]})"))
        out[key], out.lines[key] = _plain(value_node, file, seen), line
    return out


def read_scenario_yaml(path: str | Path) -> dict:
    """A scenario file's keys with every value as written (text, lists, mappings).

    Safe: composed, never constructed, so nothing is executed and `0123`, `NO` and `1e6`
    stay the text typed; duplicate keys, anchors and aliases are errors with their line."""
    path = Path(path)
    file = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(Problem(file, None, None, str(path), "a scenario file that exists")) from None
    except UnicodeDecodeError as e:
        raise InputError(Problem(file, None, None, None, f"UTF-8 text (bad byte at position {e.start})")) from None
    try:
        root = YAML(typ="safe", pure=True).compose(io.StringIO(text))
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(Problem(file, mark.line + 1 if mark else None, None, None,
                                 f"valid YAML: {getattr(e, 'problem', None) or e}")) from None
    if root is None:
        raise InputError(Problem(file, 1, None, None,
                                 "a mapping of keys (name, description, changes, ...); the file is empty"))
    if not isinstance(root, MappingNode):
        raise InputError(Problem(file, root.start_mark.line + 1, None, None,
                                 "a mapping of keys (name, description, changes, ...)"))
    return _plain(root, file, set())


def _as_text(value, line: int = 0):
    """A mapping given in Python, made like a composed file: scalars as text."""
    if isinstance(value, _Map | _Seq):
        return value
    if isinstance(value, dict):
        out = _Map()
        out.line, out.lines = line, {}
        for k, v in value.items():
            out[str(k)], out.lines[str(k)] = _as_text(v), line
        return out
    if isinstance(value, list | tuple):
        out = _Seq(_as_text(v) for v in value)
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


def _nearest(value, choices, n: int = 1) -> list[str]:
    return difflib.get_close_matches(str(value), sorted({str(c) for c in choices}), n=n, cutoff=0.6)


def _did_you_mean(value, choices) -> str:
    close = _nearest(value, choices)
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


def _range_text(col: Column) -> str:
    low, high = col.min, col.max
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}" if high is not None else "any number"


def _range_error(col: Column, v) -> str | None:
    if col.kind not in (NUMBER, INTEGER):
        return None
    if (col.min is not None and v < col.min) or (col.max is not None and v > col.max):
        return f"{_range_text(col)} ({col.unit}): {col.doc}"
    return None


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
    bad = _range_error(col, v)
    return (None, bad) if bad else (v, None)


def _where_value(col: Column, raw) -> tuple[list, str | None]:
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


def _cell_matches(col: Column, series: pd.Series, wanted: list) -> pd.Series:
    if col.kind == LIST:
        return series.map(lambda cell: any(w in split_list(cell) for w in wanted)).astype(bool)
    if col.kind in (NUMBER, INTEGER):
        return series.map(lambda cell: any(math.isclose(float(cell), float(w), rel_tol=1e-9, abs_tol=1e-12)
                                           for w in wanted)).astype(bool)
    if col.kind == BOOL:
        return series.astype(bool).isin([bool(w) for w in wanted])
    return series.astype(str).str.strip().isin([str(w) for w in wanted])


def _existing(col: Column, series: pd.Series) -> list:
    if col.kind == LIST:
        return sorted({item for cell in series for item in split_list(cell)})
    if col.kind in (NUMBER, INTEGER):
        return sorted({float(x) for x in series})
    return sorted({shown(x) if col.kind == BOOL else str(x) for x in series})


def _closest(col: Column, series: pd.Series, wanted: list) -> str:
    """The existing values nearest to those a where asked for."""
    values = _existing(col, series)
    if not values:
        return "the table has no rows"
    if col.kind in (NUMBER, INTEGER):
        near = sorted(values, key=lambda x: min(abs(x - float(w)) for w in wanted))[:3]
        return "closest: " + ", ".join(shown(x) for x in near)
    near = []
    for w in wanted:
        near += [c for c in _nearest(w, values, n=3) if c not in near]
    if near:
        return "closest: " + ", ".join(f"'{c}'" for c in near)
    listed = ", ".join(f"'{v}'" for v in values[:12])
    more = f" and {len(values) - 12} more" if len(values) > 12 else ""
    return f"existing: {listed}{more}"


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


def _text(raw: _Map, key: str, report: _Report) -> str | None:
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
                    values, err = _where_value(spec.column(name), value)
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
                err = err and "a number to multiply by, e.g. 1.04"
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


def read_chain(path_or_mapping, base_dir: str | Path | None = None) -> tuple[list[ScenarioFile], list[Problem]]:
    """The scenario and every file it extends, parsed (the furthest ancestor first), and
    the problems found in them. A change with a problem is left out of its file's changes.

    Relative paths (the scenario's own, when base_dir is given, and every `extends`)
    resolve against the folder of the file that names them; a cycle is refused."""
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
    while True:
        if path is not None:
            resolved = path.resolve()
            if resolved in seen:
                cycle = " -> ".join(p.name for p in seen[seen.index(resolved):] + [resolved])
                previous = chain[-1]
                problems.append(Problem(previous.label, previous.extends_line, "extends", str(previous.extends),
                                        f"a chain without cycles: {cycle}"))
                raise InputError(problems)
            if len(seen) >= MAX_CHAIN:
                problems.append(Problem(label, None, "extends", None, f"at most {MAX_CHAIN} files in an extends chain"))
                raise InputError(problems)
            seen.append(resolved)
            if not path.is_file():
                if chain:
                    previous = chain[-1]
                    problems.append(Problem(previous.label, previous.extends_line, "extends", str(previous.extends),
                                            f"a scenario file that exists (looked for {path})"))
                else:
                    problems.append(Problem(label, None, None, str(path), "a scenario file that exists"))
                raise InputError(problems)
            try:
                raw = read_scenario_yaml(path)
            except InputError as e:  # with what the files extending it already showed
                raise InputError(problems + e.problems) from None
        parsed, found = parse_scenario(raw, label, path, folder)
        problems += found
        chain.append(parsed)
        if parsed.extends is None:
            break
        path = parsed.extends
        label, folder = path.name, path.parent
    return chain[::-1], problems


# --- applying ---------------------------------------------------------------------------------

def _row_key(spec: Table, df: pd.DataFrame, i) -> str:
    return "/".join(str(df.at[i, k]) for k in spec.key)


def _typed_frame(spec: Table, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=spec.names)
    for col in spec.columns:
        if col.kind == NUMBER:
            df[col.name] = df[col.name].astype(float)
        elif col.kind == INTEGER:
            df[col.name] = df[col.name].astype(int)
        elif col.kind == BOOL:
            df[col.name] = df[col.name].astype(bool)
        else:
            df[col.name] = df[col.name].fillna("").astype(str)
    return df


@dataclass
class _Applying:
    """The state of one apply_scenario call."""
    inst: Instance
    log: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    removed: dict = field(default_factory=dict)  # (table, key text) -> what removed it

    def record(self, entry: str, source: ScenarioFile) -> None:
        self.log.append(f"{entry} ({source.label})")


def _rows_of(df: pd.DataFrame) -> list:
    rows = df.attrs.get("rows")
    return list(rows) if rows is not None and len(rows) == len(df) else [i + 2 for i in range(len(df))]


def _apply_meta(state: _Applying, source: ScenarioFile) -> None:
    meta = state.inst.meta
    for key, value in source.meta.items():
        if key == "reserves":
            reserves = dict(meta.get("reserves") or {})
            for k, v in value.items():
                state.record(f"instance.reserves.{k}: {shown(reserves.get(k))} -> {shown(v)}", source)
                reserves[k] = v
            meta["reserves"] = reserves
        else:
            state.record(f"instance.{key}: {shown(meta.get(key))} -> {shown(value)}", source)
            meta[key] = value


def _match(state: _Applying, source: ScenarioFile, change: Change, spec: Table, df: pd.DataFrame) -> pd.Series | None:
    """The rows a change's where chooses; None (and a problem naming the closest values) if none."""
    mask = pd.Series(True, index=df.index)
    single = {}
    for name, wanted in change.where.items():
        single[name] = _cell_matches(spec.column(name), df[name], wanted)
        mask &= single[name]
    if mask.any():
        return mask
    if df.empty:
        detail = f"{spec.name} has no rows"
    else:
        parts = []
        for name, wanted in change.where.items():
            if not single[name].any():
                asked = "|".join(shown(w) for w in wanted)
                parts.append(f"no row has {name}={asked} ({_closest(spec.column(name), df[name], wanted)})")
        if not parts:  # each condition matches some row, but not together
            for name in change.where:
                others = pd.Series(True, index=df.index)
                for other, m in single.items():
                    if other != name:
                        others &= m
                if others.any() and len(change.where) > 1:
                    values = _existing(spec.column(name), df.loc[others, name])
                    rest = ", ".join(f"{o}={'|'.join(shown(w) for w in change.where[o])}"
                                     for o in change.where if o != name)
                    listed = ", ".join(shown(v) for v in values[:12])
                    listed += f" and {len(values) - 12} more" if len(values) > 12 else ""
                    parts.append(f"rows with {rest} have {name}: {listed}")
            parts = parts or ["no row meets every condition together"]
        detail = "; ".join(parts)
    state.problems.append(Problem(source.label, change.where_line, f"{change.label}.where", change.where_text,
                                  f"a where matching at least one row of {spec.name}: {detail}"))
    return None


def _apply_change(state: _Applying, source: ScenarioFile, change: Change) -> None:
    spec = TABLES[change.table]
    df = state.inst.tables[change.table]
    rows = _rows_of(df)
    if change.op == "add":
        existing = {tuple(str(df.at[i, k]) for k in spec.key) for i in df.index}
        new, new_rows = [], []
        for line, row in change.rows:
            key = tuple(str(row[k]) for k in spec.key)
            if key in existing:
                state.problems.append(Problem(source.label, line, f"{change.label}.add", "/".join(key),
                                              f"a new row of {spec.name}: ({', '.join(spec.key)}) = "
                                              f"{'/'.join(key)} is already a row (use set to change it)"))
                continue
            existing.add(key)
            new.append(row)
            new_rows.append(f"added by {source.label} line {line}")
            state.record(f"{spec.name}[{'/'.join(key)}]: added", source)
        if new:
            out = _typed_frame(spec, df.to_dict("records") + new)
            out.attrs["rows"] = rows + new_rows
            state.inst.tables[change.table] = out
        return
    mask = _match(state, source, change, spec, df) if change.where else pd.Series(True, index=df.index)
    if mask is None:
        return
    chosen = list(df.index[mask])
    if change.op == "remove":
        for i in chosen:
            key = _row_key(spec, df, i)
            state.removed[(spec.name, key)] = f"{source.label} line {change.line}"
            state.record(f"{spec.name}[{key}]: removed", source)
        keep = ~mask
        out = df[keep].reset_index(drop=True)
        out.attrs["rows"] = [r for r, k in zip(rows, keep) if k]
        state.inst.tables[change.table] = out
        return
    out = df.copy()
    out.attrs["rows"] = rows
    for name, value in change.values.items():
        col = spec.column(name)
        failed = []  # scaled values out of the column's kind or range
        for i in chosen:
            key, old = _row_key(spec, df, i), df.at[i, name]
            new = value
            if change.op == "scale":
                new = float(f"{float(old) * value:.12g}")
                if col.kind == INTEGER and new.is_integer():
                    new = int(new)
                if (col.kind == INTEGER and not isinstance(new, int)) or _range_error(col, new):
                    failed.append(f"{key} ({shown(old)} x {shown(value)} = {shown(new)})")
                    continue
            out.at[i, name] = new
            state.record(f"{spec.name}.{name}[{key}]: {shown(old)} -> {shown(new)}", source)
        if failed:
            want = ("a whole number " if col.kind == INTEGER else "") + _range_text(col)
            listed = "; ".join(failed[:10]) + (f"; and {len(failed) - 10} more" if len(failed) > 10 else "")
            state.problems.append(Problem(source.label, change.op_line, f"{change.label}.scale.{name}", shown(value),
                                          f"a factor keeping {spec.name}.{name} {want}: {len(failed)} row(s) would not: {listed}"))
    state.inst.tables[change.table] = out


def _check_cut_years(chain: list[ScenarioFile], cut, horizon) -> list[Problem]:
    if not isinstance(cut, dict) or not isinstance(horizon, int):
        return []
    source = next(s for s in reversed(chain) if s.budget_cut is not None)
    late = [y for y in cut if y > horizon]
    if late:
        return [Problem(source.label, source.budget_cut_line, "budget_cut", ", ".join(map(str, late)),
                        f"years within the horizon (1-{horizon}); a cut after it would do nothing")]
    return []


def _after(problems: list[Problem], label: str, removed: dict) -> list[Problem]:
    """Instance problems found after applying a scenario, naming the scenario."""
    out = []
    for p in problems:
        expected = p.expected
        hits = [f"{table} row {key} (removed by {where})" for (table, key), where in removed.items()
                if str(p.value) == key]
        if hits:
            expected += (f"; it names {', '.join(hits)}: the scenario must also remove or change "
                         f"the rows that refer to it")
        after = "the scenario" if label == MAPPING_FILE else f"scenario {label}"
        out.append(Problem(f"{p.file} after {after}", p.row, p.column, p.value, expected, p.severity))
    return out


def apply_scenario(inst: Instance, path_or_mapping, base_dir: str | Path | None = None) -> tuple[Instance, dict]:
    """A new instance with the scenario applied (the input is not changed), and its run settings.

    `path_or_mapping` is a scenario file (a relative path resolves against `base_dir`,
    else the working folder) or the same keys as a mapping (its `extends` resolves
    against `base_dir`). Settings: name, description, question (or None), budget_cut
    (None, a share, or {year: share}), files (the extends chain, furthest ancestor
    first) and changes (the log, also appended to the new instance's `changes`).
    Raises InputError naming the scenario file for any problem in it, or in the
    instance it produces."""
    from .validate import validate_instance

    chain, problems = read_chain(path_or_mapping, base_dir)
    leaf = chain[-1]
    new = inst.copy()
    state = _Applying(new, problems=list(problems))
    cut = None
    for source in chain:
        _apply_meta(state, source)
        for change in source.changes:
            _apply_change(state, source, change)
        if source.budget_cut is not None:
            cut = source.budget_cut
    state.problems += _check_cut_years(chain, cut, new.meta.get("horizon_years"))
    if state.problems:
        raise InputError(state.problems)
    found = _after(validate_instance(new), leaf.label, state.removed)
    if any(p.severity == "error" for p in found):
        raise InputError(found)
    new.warnings = found
    new.changes = list(inst.changes) + state.log
    settings = {"name": leaf.name, "description": leaf.description, "question": leaf.question,
                "budget_cut": cut, "files": [str(s.path) if s.path is not None else MAPPING_FILE for s in chain],
                "changes": list(state.log)}
    return new, settings


def apply_scenarios(inst: Instance, paths, base_dir: str | Path | None = None) -> tuple[Instance, dict]:
    """Several scenarios applied in order (as `--scenario` repeated); the input is not changed.

    Each is applied to the result of the one before and its result validated. Settings:
    name and description joined (' + ', '; '); the last question and the last
    budget_cut given (a later scenario's cut replaces an earlier one's, never adds to
    it); files and changes of all, in order; `scenarios`: each one's own settings."""
    current = inst.copy()
    each = []
    for item in paths:
        current, settings = apply_scenario(current, item, base_dir)
        each.append(settings)
    cut = next((s["budget_cut"] for s in reversed(each) if s["budget_cut"] is not None), None)
    question = next((s["question"] for s in reversed(each) if s["question"]), None)
    return current, {"name": " + ".join(s["name"] for s in each) or None,
                     "description": "; ".join(s["description"] for s in each if s["description"]),
                     "question": question, "budget_cut": cut,
                     "files": [f for s in each for f in s["files"]],
                     "changes": [c for s in each for c in s["changes"]], "scenarios": each}
