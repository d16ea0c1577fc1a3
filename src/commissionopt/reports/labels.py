"""How figures are named for an analyst: the cut as the command line writes it, financial
years, the outcome's unit and the unit of every result column and summary figure.

One place, so that the terminal, the HTML report, the workbook and the tidy table say the
same thing. Nothing here reads a Pyomo model: only summaries, tables and instance metadata.
"""
from __future__ import annotations

import math
import re

import pandas as pd

NO_CUT = "no cut"
POUNDS = "£"
SHARE = "share"
NUMBERS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


# ----------------------------------------------------------------------------- the cut
def cut_by_year(cut) -> dict[int, float] | None:
    """{year: share} from a summary's cut (keys may be text, as in JSON), or None for a number."""
    if isinstance(cut, dict):
        return {int(y): float(v) for y, v in sorted(cut.items(), key=lambda kv: int(kv[0]))}
    return None


def cut_text(cut) -> str:
    """The cut as the CLI takes it: `0.25`, or `1:0.05,3:0.2` (the years where it changes);
    `no cut` when every year's share is 0."""
    if cut is None:
        return NO_CUT
    by_year = cut_by_year(cut)
    if by_year is None:
        return NO_CUT if float(cut) == 0 else f"{float(cut):g}"
    shares = list(by_year.values())
    if not shares or all(v == 0 for v in shares):
        return NO_CUT
    if len(set(shares)) == 1:
        return f"{shares[0]:g}"
    out, last = [], None
    for y, v in by_year.items():
        if v != last:
            out.append(f"{y}:{v:g}")
            last = v
    return ",".join(out)


def percent(share: float) -> str:
    """0.25 -> '25%', 0.0625 -> '6.25%'."""
    return f"{float(share) * 100:.4g}%"


def cut_words(cut) -> str:
    """The cut in a sentence: 'a 25% cut', 'a 25% cut phased over four years',
    'a cut of 5% in year 1 rising to 20% by year 3', or 'no cut'."""
    by_year = cut_by_year(cut)
    if by_year is None:
        return NO_CUT if not cut else f"a {percent(cut)} cut"
    text = cut_text(by_year)
    if text == NO_CUT:
        return NO_CUT
    shares = list(by_year.values())
    final, years = shares[-1], list(by_year)
    if len(set(shares)) == 1:
        return f"a {percent(final)} cut"
    reached = next(y for y, v in by_year.items() if v == final)
    rising = all(b >= a for a, b in zip(shares, shares[1:]))
    if rising and final == max(shares):
        first_year = next(y for y, v in by_year.items() if v > 0)
        span = reached - first_year + 1
        steps = [by_year[y] for y in range(first_year, reached + 1)]
        even = all(math.isclose(v, final * (i + 1) / span, rel_tol=1e-6) for i, v in enumerate(steps))
        if even and first_year == years[0]:
            n = NUMBERS[span] if span < len(NUMBERS) else str(span)
            return f"a {percent(final)} cut phased over {n} years"
        return f"a cut rising to {percent(final)} by year {reached}"
    return f"a cut of {text} (year:share)"


# ----------------------------------------------------------------------------- years
def financial_year(base_year, year: int) -> str:
    """Year y after the base year as a UK financial year: base_year 2025, year 1 -> '2026-27'."""
    try:
        start = int(base_year) + int(year)
    except (TypeError, ValueError):
        return str(year)
    return f"{start}-{(start + 1) % 100:02d}"


def year_label(meta: dict, year) -> str:
    """A plan year for a reader: its financial year when the instance has a base year."""
    if year is None or (isinstance(year, float) and math.isnan(year)):
        return "-"
    base = (meta or {}).get("base_year")
    return financial_year(base, year) if base is not None else str(year)


# ----------------------------------------------------------------------------- units
def outcome_unit(inst) -> str:
    """The outcome value's unit: 'weighted <unit>' when every domain of outcomes.csv is
    measured in the same unit, else 'weighted outcome points'."""
    table = getattr(inst, "tables", {}).get("outcomes") if inst is not None else None
    units = []
    if table is not None and "unit" in table.columns:
        units = sorted({str(u).strip() for u in table["unit"] if str(u).strip()})
    return f"weighted {units[0]}" if len(units) == 1 else "weighted outcome points"


# result-table columns whose unit the column name alone does not say
COLUMN_UNITS = {
    "units": "service units", "idle_units": "service units", "people_served": "people",
    "need": "people", "served": "people", "unmet": "people",
    "fte": "FTE", "hires": "FTE", "releases": "FTE",
    "open": "1 = open", "current": "true/false", "adopted": "true/false", "pooled": "true/false",
    "discount_factor": "factor", "amount": POUNDS, "available": POUNDS, "spent": POUNDS,
    "direct": POUNDS, "staff": POUNDS, "buildings": POUNDS, "setup": POUNDS, "pooling": POUNDS,
    "total": POUNDS, "drawn": POUNDS, "receipts": POUNDS, "available_cumulative": POUNDS,
    "capital_receipt": POUNDS, "reserves_drawn": POUNDS,
}
OUTCOME_COLUMNS = {"gain", "harm", "value"}
MONEY_PATTERN = re.compile(r"(^|_)(cost|costs|spend|overspend|amount|receipts?)($|_)")


def column_unit(column: str, outcome: str = "weighted outcome points") -> str:
    """The unit of a result-table column ('' when it has none, e.g. a key)."""
    if column in COLUMN_UNITS:
        return COLUMN_UNITS[column]
    if column in OUTCOME_COLUMNS:
        return outcome
    if MONEY_PATTERN.search(column):
        return POUNDS
    if "hours" in column:
        return "hours"
    return ""


# summary figures: (unit, how to show it); the outcome unit is filled in from the instance
SUMMARY_UNITS = {
    "discounted_spend": POUNDS, "overspend": POUNDS, "overspend_total": POUNDS, "overspend_nominal": POUNDS,
    "reserves_drawn": POUNDS, "terminal_cost": POUNDS,
    "outcome_value": "outcome", "outcome_none": "outcome", "outcome_gain": "outcome", "terminal_harm": "outcome",
    "outcome_per_million": "outcome per £m", "unmet_person_years": "person-years",
    "crisis_need_final_year": "people", "fte_change": "FTE", "buildings_closed": "buildings",
    "mechanisms_switched": "options", "payback_year": "financial year", "mip_gap": SHARE,
    "build_seconds": "seconds", "handoff_seconds": "seconds", "solve_seconds": "seconds",
    "variables": "count", "constraints": "count", "integers": "count",
}


def summary_unit(key: str, outcome: str = "weighted outcome points") -> str:
    unit = SUMMARY_UNITS.get(key, "")
    if key.startswith("unmet_") and not unit:
        return "person-years"
    if unit == "outcome":
        return outcome
    if unit == "outcome per £m":
        return f"{outcome} per £m"
    if not unit and MONEY_PATTERN.search(key):
        return POUNDS
    return unit


def with_unit(label: str, unit: str) -> str:
    """A header with its unit: 'direct_spend (£)'; unchanged when there is no unit."""
    return f"{label} ({unit})" if unit else label


# ----------------------------------------------------------------------------- measures
MEASURE_LABELS = {
    "status": "status",
    "cut": "cut",
    "discounted_spend": "discounted spend",
    "overspend": "overspend against budget, discounted",
    "overspend_total": "overspend against budget, undiscounted",
    "overspend_nominal": "overspend against budget, undiscounted",
    "reserves_drawn": "reserves drawn",
    "outcome_value": "outcome value",
    "outcome_none": "outcome with nobody served",
    "outcome_gain": "outcome gain over no provision",
    "outcome_per_million": "outcome gain per £m spent",
    "unmet_person_years": "unmet need",
    "crisis_need_final_year": "crisis need, final year",
    "fte_change": "FTE change by the final year",
    "buildings_closed": "buildings closed",
    "mechanisms_switched": "mechanisms switched",
    "payback_year": "payback year",
    "mip_gap": "MIP gap",
    "terminal_harm": "harm of need left at the horizon",
    "terminal_cost": "cost of need left at the horizon",
    "build_seconds": "model build", "handoff_seconds": "hand-off to the solver", "solve_seconds": "solve",
}
# units a label does not repeat: shown by the value's own form (%, 2026-27) or self-evident
UNSTATED = {SHARE, "financial year", "count", "buildings", "options", ""}


def measure_label(key: str, outcome: str = "weighted outcome points") -> str:
    """'discounted spend (£)', 'outcome value (weighted person-years)', '  unmet need at crisis
    (person-years)' (indented: a part of the row above)."""
    if key.startswith("unmet_") and key != "unmet_person_years":
        return f"  unmet need at {key[len('unmet_'):]} (person-years)"
    unit = summary_unit(key, outcome)
    if key == "outcome_per_million":
        unit = outcome
    label = MEASURE_LABELS.get(key, key.replace("_", " "))
    return with_unit(label, "" if unit in UNSTATED else unit)


def show(key: str, v, meta: dict | None = None) -> str:
    """A figure as an analyst reads it: £ with commas, a gap as %, a payback year as 2026-27."""
    if v is None or (not isinstance(v, (str, dict, list)) and pd.isna(v)):
        return "-"
    if isinstance(v, (bool, str)):
        return str(v)
    if key == "mip_gap":
        return f"{v:.2%}"
    if key == "payback_year":
        return year_label(meta or {}, int(v))
    if summary_unit(key) == POUNDS or "£" in key:
        return f"£{v:,.0f}"
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.3f}"
