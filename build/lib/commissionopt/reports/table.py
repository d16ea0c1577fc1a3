"""Terminal tables: numbers an analyst reads at a glance (pounds with commas, flags shown)."""
from __future__ import annotations

import pandas as pd

from ..runs.compare import MEASURES
from ..results.plan import Plan

MONEY = {"discounted_spend", "overspend", "overspend_total", "terminal_cost", "reserves_drawn"}
LABELS = dict(MEASURES)


def fmt(key: str, v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "-"
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    if key == "mip_gap":
        return f"{v:.2%}"
    if key in MONEY or "£" in key:
        return f"£{v:,.0f}"
    if isinstance(v, int) or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.3f}"


def summary_table(plan: Plan) -> str:
    keys = [k for k, _ in MEASURES] + ["reserves_drawn", "build_seconds", "handoff_seconds", "solve_seconds",
                                       "variables", "constraints", "integers", "verified"]
    rows = [(LABELS.get(k, k.replace("_", " ")), fmt(k, plan.summary.get(k))) for k in keys if k in plan.summary]
    width = max(len(r[0]) for r in rows)
    flag = "" if plan.status == "optimal" else f"\n  ** {plan.status}: not proven optimal **" if plan.status == "time_limit" else ""
    return "\n".join(f"  {label:<{width}}  {value}" for label, value in rows) + flag


def comparison_table(table: pd.DataFrame) -> str:
    """The comparison (rows = measures, columns = policies) with formatted cells."""
    keys = {label: key for key, label in MEASURES}
    shown = table.copy().astype(object)
    for label in shown.index:
        key = keys.get(label.strip(), label)
        shown.loc[label] = [fmt(key, v) for v in table.loc[label]]
    return shown.to_string()
