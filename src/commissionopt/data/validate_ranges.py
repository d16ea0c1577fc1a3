"""Checks of ranges.csv: every range names real figures, is ordered, centred on the instance's
own value, and graded; no figure is ranged twice."""
from __future__ import annotations

import difflib
import math

from .instance import Instance
from .load import row_numbers
from .ranges import DISTRIBUTIONS, GRADES, KINDS, parse_where, select
from .schema import INTEGER, NUMBER, TABLES

TOLERANCE = 1e-9


def _numeric_columns(spec) -> list[str]:
    return [c.name for c in spec.columns if c.kind in (NUMBER, INTEGER) and c.name not in spec.key]


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def check_ranges(inst: Instance, r) -> None:
    """ranges.csv: table names a table and column one of its numeric columns (not a key); where's column=value pairs name that table's columns and pick at least one row; kind is value or scale; low <= central <= high; a value range's central is the instance's value in every row it covers and its low and high keep within the column's limits (a scale range's central is 1 and its factors keep every covered value within them); distribution is uniform, triangular or pert; evidence is A, B, C or D; no figure is covered by two ranges."""
    ranges = inst["ranges"]
    covered: dict[tuple, int] = {}  # (table, index, column) -> ranges row that covers it
    rows = row_numbers(ranges)
    for p, i in enumerate(ranges.index):
        row = ranges.loc[i]
        _check_words(row, i, r)
        if not row["low"] <= row["central"] <= row["high"]:
            r.row("ranges", i, "central", row["central"],
                  f"low <= central <= high (low {row['low']:g}, central {row['central']:g}, high {row['high']:g})")
        table = row["table"]
        if table not in TABLES or table == "ranges":
            names = [t for t in TABLES if t != "ranges"]
            r.row("ranges", i, "table", table, f"a table of the instance ({', '.join(names)})")
            continue
        spec, df = TABLES[table], inst[table]
        numeric = _numeric_columns(spec)
        column = spec.canonical(row["column"])
        if column not in numeric:
            r.row("ranges", i, "column", row["column"], f"a numeric column of {spec.file} that is not part of its key "
                                                        f"({', '.join(numeric) or 'it has none'})")
            continue
        try:
            pairs = parse_where(row["where"])
            unknown = [n for n, _ in pairs if spec.canonical(n) not in spec.names]
            if unknown:
                close = difflib.get_close_matches(unknown[0], spec.names, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"columns of {spec.file} ({', '.join(spec.names)}); '{unknown[0]}' is not one{hint}")
            chosen = list(df.index[select(spec, df, pairs)])
        except ValueError as e:
            r.row("ranges", i, "where", row["where"], str(e))
            continue
        if not chosen:
            r.row("ranges", i, "where", row["where"], f"a selector matching at least one row of {spec.file}: "
                                                      f"{_nearest(spec, df, pairs)}")
            continue
        col = spec.column(column)
        if row["kind"] == "value":
            _check_value_range(inst, row, i, spec, col, chosen, r)
        elif row["kind"] == "scale":
            _check_scale_range(inst, row, i, spec, col, chosen, r)
        for j in chosen:
            earlier = covered.setdefault((table, j, column), rows(p))
            if earlier != rows(p):
                key = "/".join(str(df.at[j, k]) for k in spec.key)
                r.row("ranges", i, "where", row["where"],
                      f"each figure ranged once: {table}.{column}[{key}] is also covered by row {earlier}")
                break


def _check_words(row, i, r) -> None:
    for column, allowed in (("kind", KINDS), ("distribution", DISTRIBUTIONS)):
        if row[column] not in allowed:
            r.row("ranges", i, column, row[column], f"one of {', '.join(allowed)}")
    if row["evidence"] not in GRADES:
        r.row("ranges", i, "evidence", row["evidence"],
              "a grade: " + "; ".join(f"{g} ({what})" for g, what in GRADES.items()))


def _key(spec, df, j) -> str:
    return "/".join(str(df.at[j, k]) for k in spec.key)


def _cell(spec, df, j) -> str:
    """A covered row as the analyst finds it: 'needs.csv row 5 (adults/emerging)'."""
    return f"{spec.file} row {row_numbers(df)(df.index.get_loc(j))} ({_key(spec, df, j)})"


def _check_value_range(inst, row, i, spec, col, chosen, r) -> None:
    df = inst[spec.name]
    off = [(j, float(df.at[j, col.name])) for j in chosen if not _same(float(df.at[j, col.name]), row["central"])]
    if off:
        listed = "; ".join(f"{_cell(spec, df, j)} has {v:g}" for j, v in off[:3])
        more = f" and {len(off) - 3} more" if len(off) > 3 else ""
        r.row("ranges", i, "central", row["central"],
              f"the instance's value of {spec.name}.{col.name} in every row the where picks (a value range is centred "
              f"on the instance's own figure): {listed}{more}")
    for name, limit, bad in (("low", col.min, lambda v, m: v < m), ("high", col.max, lambda v, m: v > m)):
        if limit is not None and bad(row[name], limit):
            r.row("ranges", i, name, row[name], f"within the limits of {spec.name}.{col.name} "
                                               f"({_limits(col)})")


def _check_scale_range(inst, row, i, spec, col, chosen, r) -> None:
    if not _same(row["central"], 1.0):
        r.row("ranges", i, "central", row["central"],
              "1 for a scale range: the instance's own values are the central estimate")
    df = inst[spec.name]
    values = [(j, float(df.at[j, col.name])) for j in chosen]
    for name in ("low", "high"):
        out = [(j, v * row[name]) for j, v in values
               if (col.min is not None and v * row[name] < col.min - TOLERANCE)
               or (col.max is not None and v * row[name] > col.max + TOLERANCE)]
        if out:
            j, x = out[0]
            r.row("ranges", i, name, row[name], f"a factor keeping {spec.name}.{col.name} within its limits "
                                               f"({_limits(col)}): {_cell(spec, df, j)} would be {x:g}")


def _limits(col) -> str:
    low = f"{col.min:g}" if col.min is not None else "-inf"
    high = f"{col.max:g}" if col.max is not None else "inf"
    return f"{low} to {high}"


def _nearest(spec, df, pairs) -> str:
    """What the rows have for the pairs that match nothing (as a scenario's where says it)."""
    from .scenario import closest, where_value
    parts = []
    for name, values in pairs:
        col = spec.column(name)
        typed, _ = where_value(col, values)
        if not select(spec, df, [(name, values)]).any():
            parts.append(f"no row has {name}={'|'.join(values)} ({closest(col, df[col.name], typed)})")
    return "; ".join(parts) or "each pair matches some row, but no row matches them all"
