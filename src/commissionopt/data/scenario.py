"""What-if scenario files: small YAML overrides of an instance.

A scenario names the instance rows to change (`where`) and how (`set`, `scale`, `add`,
`remove`), may change instance.yaml keys (`set`), may give the budget cut to run
(`budget_cut`) and may extend another scenario (`extends`). The semantics are written
down once, in docs/scenarios.md; this module and data/scenario_read.py implement exactly that.

A file is read and checked by data/scenario_read.py (every problem reported, not only the
first); here its chain is applied to a copy of the instance, each scaled value checked
against its column's range and plausible size, and the result validated again as an
instance. Nothing is printed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError, Problem
from .instance import Instance, split_list
from .schema import BOOL, INTEGER, LIST, NUMBER, TABLES, Column, Table, plausible_limit
from .scenario_read import (MAPPING_FILE, Change, ScenarioFile, nearest, range_error, range_text, read_chain,
                            read_scenario_yaml, shown, where_value)

__all__ = ["apply_scenario", "apply_scenarios", "read_chain", "read_scenario_yaml", "cell_matches", "closest",
           "where_value"]


# --- matching rows ----------------------------------------------------------------------------

def cell_matches(col: Column, series: pd.Series, wanted: list) -> pd.Series:
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


def closest(col: Column, series: pd.Series, wanted: list) -> str:
    """The existing values nearest to those a where asked for."""
    values = _existing(col, series)
    if not values:
        return "the table has no rows"
    if col.kind in (NUMBER, INTEGER):
        near = sorted(values, key=lambda x: min(abs(x - float(w)) for w in wanted))[:3]
        return "closest: " + ", ".join(shown(x) for x in near)
    near = []
    for w in wanted:
        near += [c for c in nearest(w, values, n=3) if c not in near]
    if near:
        return "closest: " + ", ".join(f"'{c}'" for c in near)
    listed = ", ".join(f"'{v}'" for v in values[:12])
    more = f" and {len(values) - 12} more" if len(values) > 12 else ""
    return f"existing: {listed}{more}"


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
        single[name] = cell_matches(spec.column(name), df[name], wanted)
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
                parts.append(f"no row has {name}={asked} ({closest(spec.column(name), df[name], wanted)})")
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
                if (col.kind == INTEGER and not isinstance(new, int)) or range_error(col, new):
                    failed.append(f"{key} ({shown(old)} x {shown(value)} = {shown(new)})")
                    continue
            out.at[i, name] = new
            state.record(f"{spec.name}.{name}[{key}]: {shown(old)} -> {shown(new)}", source)
        if failed:
            want = (("a whole number " if col.kind == INTEGER else "") + range_text(col)
                    + f", below {plausible_limit(col.unit):g} in size")
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


def apply_scenario(inst: Instance, path_or_mapping, base_dir: str | Path | None = None,
                   allow_outside: bool = False) -> tuple[Instance, dict]:
    """A new instance with the scenario applied (the input is not changed), and its run settings.

    `path_or_mapping` is a scenario file (a relative path resolves against `base_dir`,
    else the working folder) or the same keys as a mapping (its `extends` resolves
    against `base_dir`). Settings: name, description, question (or None), budget_cut
    (None, a share, or {year: share}), files (the extends chain, furthest ancestor
    first) and changes (the log, also appended to the new instance's `changes`).
    `extends` stays inside the scenario's folder tree (base_dir's, when given) or the
    instance's, unless `allow_outside`. Raises InputError naming the scenario file for any
    problem in it, or in the instance it produces."""
    from .validate import validate_instance

    chain, problems = read_chain(path_or_mapping, base_dir, roots=_instance_tree(inst), allow_outside=allow_outside)
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


def _instance_tree(inst: Instance) -> list[Path]:
    """The folder holding the instance's data: scenarios may extend files in it."""
    source = inst.source
    if source is None:
        return []
    source = Path(source)
    return [source if source.is_dir() else source.parent]


def apply_scenarios(inst: Instance, paths, base_dir: str | Path | None = None,
                    allow_outside: bool = False) -> tuple[Instance, dict]:
    """Several scenarios applied in order (as `--scenario` repeated); the input is not changed.

    Each is applied to the result of the one before and its result validated. Settings:
    name and description joined (' + ', '; '); the last question and the last
    budget_cut given (a later scenario's cut replaces an earlier one's, never adds to
    it); files and changes of all, in order; `scenarios`: each one's own settings."""
    current = inst.copy()
    each = []
    for item in paths:
        current, settings = apply_scenario(current, item, base_dir, allow_outside)
        each.append(settings)
    cut = next((s["budget_cut"] for s in reversed(each) if s["budget_cut"] is not None), None)
    question = next((s["question"] for s in reversed(each) if s["question"]), None)
    return current, {"name": " + ".join(s["name"] for s in each) or None,
                     "description": "; ".join(s["description"] for s in each if s["description"]),
                     "question": question, "budget_cut": cut,
                     "files": [f for s in each for f in s["files"]],
                     "changes": [c for s in each for c in s["changes"]], "scenarios": each}
