"""Terminal tables: numbers an analyst reads at a glance (pounds with commas, units in the
labels, financial years, flags shown)."""
from __future__ import annotations

import pandas as pd

from ..results.plan import Plan
from ..runs.compare import MEASURES
from ..solve.status import Status
from .labels import NO_CUT, cut_text, measure_label, show

TIMINGS = ("build_seconds", "handoff_seconds", "solve_seconds")


def fmt(key: str, v, meta: dict | None = None) -> str:
    """One figure as shown (see labels.show)."""
    return show(key, v, meta)


def summary_table(plan: Plan, meta: dict | None = None, outcome: str = "weighted outcome points") -> str:
    keys = list(MEASURES) + ["reserves_drawn", *TIMINGS, "variables", "constraints", "integers", "verified"]
    rows = [(measure_label(k, outcome), show(k, plan.summary.get(k), meta)) for k in keys if k in plan.summary]
    width = max(len(r[0]) for r in rows)
    flag = f"\n  ** {plan.status}: not proven optimal **" if plan.status in Status.FLAGGED else ""
    return "\n".join(f"  {label:<{width}}  {value}" for label, value in rows) + flag


def comparison_frame(comparison, meta: dict | None = None, outcome: str = "weighted outcome points") -> pd.DataFrame:
    """The comparison as shown: a row a measure (labelled, with its unit), a column a policy,
    cells as text; the first row is the cut each policy ran at ('no cut' for the status quo)."""
    table = comparison.table()
    shown = {"cut": [cut_text(p.summary.get("cut")) if p.summary.get("cut") is not None else NO_CUT
                     for p in comparison.plans.values()]}
    for key in table.columns:
        shown[measure_label(key, outcome)] = [show(key, v, meta) for v in table[key]]
    return pd.DataFrame(shown, index=table.index).T.rename_axis(None, axis=1)


def comparison_table(comparison, meta: dict | None = None, outcome: str = "weighted outcome points") -> str:
    return comparison_frame(comparison, meta, outcome).to_string()
