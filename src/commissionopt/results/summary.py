"""The headline figures of a plan, computed from its tables (docs/results.md)."""
from __future__ import annotations

import pandas as pd

from ..model.index import ModelData


def summarise(md: ModelData, tables: dict[str, pd.DataFrame], levels: list[str], tolerance: float = 0.0) -> dict:
    """Figures over every modelled year (1..E) unless a key says otherwise; the plan's 'final year'
    is the horizon H, the last year of decisions. `tolerance`: the overspend (£) a plan may carry
    and still count as living within its money (the solve's overspend tolerance)."""
    spend, need, out = tables["spend"], tables["need"], tables["outcomes"]
    H, E = md.horizon, md.years[-1]
    last = need[need["year"] == E]
    terminal_harm = sum(md.terminal_harm[(k, l)] * v for k, l, v in zip(last["cohort"], last["level"], last["need"]))
    terminal_cost = sum(md.terminal_cost[(k, l)] * v for k, l, v in zip(last["cohort"], last["level"], last["need"])) * md.money_scale
    value = float((out["value"] * out["discount_factor"]).sum() - terminal_harm)
    disc_spend = float((spend["total"] * spend["discount_factor"]).sum())
    streams = tables["streams"]
    delta = streams["year"].map(md.delta)
    gain = value - md.outcome_none
    final = need[need["year"] == H]
    wf, bd, opts = tables["workforce"], tables["buildings"], tables["options"]
    unmet_by_level = need.groupby("level")["unmet"].sum()
    by_year = streams.groupby("year")["overspend"].sum()
    from_horizon = float(by_year[by_year.index >= H].sum())
    return {
        "discounted_spend": disc_spend,
        "overspend": float((streams["overspend"] * delta).sum()),
        "overspend_nominal": float(streams["overspend"].sum()),
        "overspend_by_year": {int(y): float(v) for y, v in by_year.items()},
        "overspend_from_horizon": from_horizon,
        "sustainable": from_horizon <= tolerance,
        "reserves_drawn": float(streams["reserves_drawn"].sum()),
        "outcome_value": value,
        "outcome_none": md.outcome_none,
        "outcome_gain": gain,
        "outcome_per_million": gain / disc_spend * 1e6 if disc_spend > 0 else None,
        "terminal_harm": float(terminal_harm),
        "terminal_cost": float(terminal_cost),
        "unmet_person_years": float(need["unmet"].sum()),
        "unmet_by_level": {lv: float(unmet_by_level.get(lv, 0.0)) for lv in levels},
        "crisis_need_final_year": float(final[final["level"] == levels[-1]]["need"].sum()),
        "fte_change": float(wf[wf["year"] == H]["fte"].sum() - sum(md.fte_base.values())) if len(wf) else 0.0,
        "buildings_closed": int((bd[bd["year"] == H]["open"] == 0).sum()) if len(bd) else 0,
        "mechanisms_switched": int((opts["adopted"] & ~opts["current"]).sum()),
    }


def payback_year(plan_spend: pd.DataFrame, base_spend: pd.DataFrame) -> int | None:
    """First year from which cumulative discounted spend (overspend and reserve draws included:
    they are spend) stays at or below the reference plan's (salami at the same cut)."""
    a = (plan_spend["total"] * plan_spend["discount_factor"]).cumsum().to_numpy()
    b = (base_spend["total"] * base_spend["discount_factor"]).cumsum().to_numpy()
    years = plan_spend["year"].to_numpy()
    tol = 1e-6 * max(1.0, abs(b[-1]))
    ok = a <= b + tol
    for i in range(len(ok)):
        if ok[i:].all():
            return int(years[i])
    return None
