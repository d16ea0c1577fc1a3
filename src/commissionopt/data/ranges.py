"""Uncertain figures (ranges.csv): which cells each range covers, and the instance a draw gives.

A range row names a table, a selector (`where`: `column=value` pairs joined by `;`, a value
may list alternatives joined by `|`), a numeric column and low <= central <= high. Kind
`value`: the drawn value replaces the cells; kind `scale`: the drawn factor multiplies the
instance's values. Rows sharing a `group` are one draw: the same quantile of each row's own
distribution. The uncertainty runs draw the quantiles; this module turns them into values:

    cells = range_cells(inst)                     # one line per (range row, cell it covers)
    values = range_values(inst, {"effects": 0.1}) # each range row's value at its draw's quantile
    drawn = apply_values(inst, values)            # a new instance with those values in its cells

Pure pandas (scipy for the Beta-PERT quantile); nothing here solves or prints.
"""
from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from .instance import Instance
from .load import row_numbers
from .schema import INTEGER, NUMBER, TABLES, Table

KINDS = ("value", "scale")
DISTRIBUTIONS = ("uniform", "triangular", "pert")
GRADES = {"A": "UK trial or meta-analysis", "B": "quasi-experimental or good administrative data",
          "C": "observational or expert judgement", "D": "assumption"}
CELL_COLUMNS = ["range", "draw", "table", "index", "key", "column", "kind", "current",
                "low", "central", "high", "distribution"]


def parse_where(text: str) -> list[tuple[str, list[str]]]:
    """`service=a|b;mechanism=c` as [("service", ["a", "b"]), ("mechanism", ["c"])]; '' selects every row.

    Raises ValueError saying what is wrong with the text."""
    pairs = []
    for part in str(text).split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name, values = name.strip(), [v.strip() for v in value.split("|")]
        if not sep or not name or not all(values):
            raise ValueError(f"column=value pairs joined by ';' (the part '{part.strip()}' is not one)")
        if name in {n for n, _ in pairs}:
            raise ValueError(f"each column once (list alternatives as {name}=a|b)")
        pairs.append((name, values))
    return pairs


def select(spec: Table, df: pd.DataFrame, pairs: list[tuple[str, list[str]]]) -> pd.Series:
    """Rows of `df` matching every pair, each value compared as the column's kind compares it
    (as a scenario's where does: numbers numerically, list columns by containment)."""
    from .scenario import cell_matches, where_value
    mask = pd.Series(True, index=df.index)
    for name, values in pairs:
        col = spec.column(name)
        typed, err = where_value(col, values)
        if err:
            raise ValueError(f"{name}: {err}")
        mask &= cell_matches(col, df[col.name], typed)
    return mask


def _draw_names(ranges: pd.DataFrame) -> pd.Series:
    """The draw each range row follows: its group, or 'row N' (N as the analyst sees it)."""
    rows = row_numbers(ranges)
    return pd.Series([g if g else f"row {rows(p)}" for p, g in enumerate(ranges["group"])], index=ranges.index)


def range_cells(inst: Instance) -> pd.DataFrame:
    """One line per cell a range covers: `range` (the ranges.csv row), `draw` (its group, or
    'row N'), the cell (`table`, `index` label, `key` text, `column`), its `current` value, and
    the row's kind, low, central, high and distribution. Assumes a validated instance."""
    ranges = inst["ranges"]
    rows, draws, out = row_numbers(ranges), _draw_names(ranges), []
    for p, i in enumerate(ranges.index):
        r = ranges.loc[i]
        spec, df = TABLES[r["table"]], inst[r["table"]]
        column = spec.canonical(r["column"])
        for j in df.index[select(spec, df, parse_where(r["where"]))]:
            out.append([rows(p), draws[i], spec.name, j, "/".join(str(df.at[j, k]) for k in spec.key), column,
                        r["kind"], float(df.at[j, column]), r["low"], r["central"], r["high"], r["distribution"]])
    return pd.DataFrame(out, columns=CELL_COLUMNS)


def quantile(low: float, central: float, high: float, distribution: str, q: float) -> float:
    """The value at quantile q (0..1) of a range: q = 0 gives low, q = 1 high; uniform on
    [low, high], triangular with its mode at central, or Beta-PERT (mode central, weight 4)."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"a quantile from 0 to 1, not {q}")
    if high <= low:
        return float(low)
    if distribution == "uniform":
        return low + q * (high - low)
    if distribution == "triangular":
        split = (central - low) / (high - low)
        if q <= split:
            return low + math.sqrt(q * (high - low) * (central - low))
        return high - math.sqrt((1 - q) * (high - low) * (high - central))
    if distribution == "pert":
        from scipy.special import betaincinv
        a = 1 + 4 * (central - low) / (high - low)
        b = 1 + 4 * (high - central) / (high - low)
        return low + float(betaincinv(a, b, q)) * (high - low)
    raise ValueError(f"a distribution of {', '.join(DISTRIBUTIONS)}, not {distribution!r}")


def range_values(inst: Instance, quantiles: Mapping[str, float]) -> dict[int, float]:
    """{ranges.csv row: value} for the draws given ({draw name: quantile}); draws not given are left out
    (their cells keep the instance's values)."""
    ranges, rows, draws = inst["ranges"], row_numbers(inst["ranges"]), _draw_names(inst["ranges"])
    unknown = set(quantiles) - set(draws)
    if unknown:
        raise KeyError(f"draws not in ranges.csv: {', '.join(sorted(unknown))} (draws: {', '.join(sorted(set(draws)))})")
    return {rows(p): quantile(r["low"], r["central"], r["high"], r["distribution"], quantiles[draws[i]])
            for p, (i, r) in enumerate(ranges.iterrows()) if draws[i] in quantiles}


def apply_values(inst: Instance, values: Mapping[int, float]) -> Instance:
    """A copy of the instance with each range row r's cells at `values[r]` (a value range sets
    them, a scale range multiplies the instance's values; whole-number columns are rounded).
    Each cell changed is logged in `changes` as `table.column[key]: old -> new (ranges.csv row r)`.
    The rows applied leave the ranges table (their figures are no longer uncertain in the new
    instance, which stays valid); range rows not in `values` leave their cells as they are."""
    cells = range_cells(inst)
    known = set(cells["range"])
    unknown = set(values) - known
    if unknown:
        raise KeyError(f"ranges.csv rows that cover no cell: {sorted(unknown)}")
    new = inst.copy()
    for c in cells[cells["range"].isin(list(values))].itertuples(index=False):
        v = float(values[c.range])
        value = v if c.kind == "value" else c.current * v
        kind = TABLES[c.table].column(c.column).kind
        if kind == INTEGER:
            value = int(round(value))
        elif kind == NUMBER:
            value = float(f"{value:.12g}")
        new.tables[c.table].at[c.index, c.column] = value
        new.changes.append(f"{c.table}.{c.column}[{c.key}]: {c.current:g} -> {value:g} (ranges.csv row {c.range})")
    ranges, rows = new.tables["ranges"], row_numbers(new.tables["ranges"])
    keep = [rows(p) not in values for p in range(len(ranges))]
    kept = ranges[keep].reset_index(drop=True)
    kept.attrs["rows"] = [rows(p) for p in range(len(ranges)) if keep[p]]
    new.tables["ranges"] = kept
    return new
