"""Every report of a run from one call: the HTML page, the workbook and the tidy table.

    report(inst, compare(inst, 0.25), html="round.html", xlsx="round.xlsx", tidy="round.csv")
    report(inst, plan, xlsx="plan.xlsx")               # one plan works too

The writers take plans and extra tables, not a kind of run, so a new kind of run (an
uncertainty analysis, say) reaches every report by passing its tables as `extra`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..results.plan import Plan
from ..runs.compare import Comparison


def as_comparison(result) -> Comparison:
    """A Comparison, or one Plan as a comparison of one."""
    if isinstance(result, Comparison):
        return result
    if isinstance(result, Plan):
        return Comparison(plans={result.summary.get("policy", "plan"): result}, cut=result.summary.get("cut"))
    raise TypeError(f"a Comparison or a Plan, not {type(result).__name__}")


def workbook_extras(inst, comparison: Comparison, sweep: pd.DataFrame | None = None,
                    attribution: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The workbook's sheets beyond the plans' tables: what the redesign changed against
    salami by service (when both have a plan), the sweep, the lever attribution."""
    plans, extra = comparison.plans, {}
    if inst is not None and all(k in plans and plans[k].tables for k in ("salami", "redesign")):
        from ..results.changes import service_changes
        extra["service_changes"] = service_changes(inst, plans["salami"], plans["redesign"])
    if sweep is not None and len(sweep):
        extra["sweep"] = sweep
    if attribution is not None and len(attribution):
        extra["attribution"] = attribution
    return extra


def report(inst, result, html: str | Path | None = None, xlsx: str | Path | None = None,
           tidy: str | Path | None = None, sweep: pd.DataFrame | None = None,
           attribution: pd.DataFrame | None = None, extra: dict[str, pd.DataFrame] | None = None,
           scenario: str = "", force: bool = False, uncertainty=None) -> dict[str, Path]:
    """Write the reports asked for; returns {"html"|"xlsx"|"tidy": path}. `result`: a
    Comparison or a Plan; `sweep`: small_sweep's or runs.sweep's table (the outcome-against-cut
    chart, a workbook sheet, tidy rows); `attribution`: runs.attribution's table (the
    waterfall); `extra`: more tables, a section of the HTML report, a sheet of the workbook and
    rows of the tidy table each; `uncertainty`: an uncertainty run (runs/uncertainty.py: its section
    of the HTML report, its tables as sheets and tidy rows); `force`: replace
    files that exist (else an existing file is an error, before anything is written)."""
    from ..atomic import check_free
    from .headline import headline
    from .labels import outcome_unit
    comparison = as_comparison(result)
    targets = {k: Path(v) for k, v in (("html", html), ("xlsx", xlsx), ("tidy", tidy)) if v is not None}
    for path in targets.values():
        check_free(path, force)
    if "tidy" in targets:
        from .tidy import check_tidy_path
        check_tidy_path(targets["tidy"])
    written = {}
    if "html" in targets:
        from .html import build_report, write_report
        written["html"] = write_report(targets["html"], build_report(inst, comparison, sweep, attribution, extra,
                                                                     uncertainty), force)
    if "xlsx" in targets:
        from .xlsx import write_run_workbook
        sheets = {**workbook_extras(inst, comparison, sweep, attribution), **(extra or {}),
                  **(uncertainty.tables() if uncertainty is not None else {})}
        written["xlsx"] = write_run_workbook(targets["xlsx"], comparison.plans, inst, headline(comparison),
                                             sheets, force)
    if "tidy" in targets:
        from .tidy import concat, melt, tidy_plans, tidy_sweep, write_tidy
        meta, outcome = (inst.meta if inst is not None else {}), outcome_unit(inst)
        parts = [tidy_plans(comparison.plans, scenario, meta, outcome)]
        if sweep is not None and len(sweep):
            parts.append(tidy_sweep(sweep, scenario, outcome))
        for name, df in (extra or {}).items():
            parts.append(melt(df, name, "", scenario, "", meta, outcome))
        if uncertainty is not None:
            from .uncertainty import tidy as uncertainty_rows
            parts.append(uncertainty_rows(uncertainty, scenario, meta, outcome))
        written["tidy"] = write_tidy(concat(parts), targets["tidy"], force)
    return written
