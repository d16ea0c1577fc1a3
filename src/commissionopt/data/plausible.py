"""Plausible magnitudes: numbers that no real area has (1e308 people, a weight of 1e20,
base year 1e20) are bad input, named with their file, row and column, before they reach
the solver. The limits come from each column's unit (schema.plausible_limit), so a
column added to the schema is covered without a change here.
"""
from __future__ import annotations

import math

import numpy as np

from .schema import INTEGER, NUMBER, TABLES, plausible_limit

BASE_YEARS = (1900, 2200)
MONEY_LIMIT = plausible_limit("£")


def value_error(unit: str, value) -> str | None:
    """Why a number in `unit` is implausible, or None."""
    limit = plausible_limit(unit)
    if math.isnan(value):  # an empty optional number ("no limit"), not a figure
        return None
    if math.isinf(value):
        return f"a finite number ({unit})"
    if abs(value) >= limit:
        return f"a plausible figure: less than {limit:g} in size ({unit}); this looks like a typo"
    return None


def meta_error(key: str, value) -> str | None:
    """Why an instance.yaml number is implausible (base_year, reserves.*), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # its kind is the validator's business
    if key == "base_year" and not BASE_YEARS[0] <= value <= BASE_YEARS[1]:
        return f"a calendar year from {BASE_YEARS[0]} to {BASE_YEARS[1]}"
    if key.startswith("reserves."):
        return value_error("£", value)
    return None


def check_plausible(inst, r) -> None:
    """Every number of a plausible size for its unit (money below £1e13, people below 1e10, hours below 1e9, weights, harms and gains below 1e6, ...); base_year a calendar year."""
    for name, spec in TABLES.items():
        df = inst.tables[name]
        for col in spec.columns:
            if col.kind not in (NUMBER, INTEGER) or col.name not in df or df.empty:
                continue
            values = np.asarray(df[col.name], dtype=float)
            bad = np.abs(np.nan_to_num(values, nan=0.0)) >= plausible_limit(col.unit)  # NaN: empty, no limit
            for i in df.index[bad]:
                r.row(name, i, col.name, df.at[i, col.name], value_error(col.unit, float(df.at[i, col.name])))
    reserves = inst.meta.get("reserves")
    flat = {"base_year": inst.meta.get("base_year"),
            **{f"reserves.{k}": v for k, v in (reserves if isinstance(reserves, dict) else {}).items()}}
    for key, value in flat.items():
        err = meta_error(key, value)
        if err:
            r.meta(key, value, err)
