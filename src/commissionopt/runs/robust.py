"""The robust redesign (`uncertainty --robust K`): one set of structural decisions that does best
across K draws of the evidence, volumes re-optimised in each.

The model is model/robust.py's (a full copy of the formulation per draw, the copies' options,
buildings and pooling tied to shared ones); it is solved as every redesign is (solve/strategy.py):
the least mean overspend, then the most mean outcome gain (`risk="mean"`) or the most mean gain of
the worst 10% of the draws (`risk="cvar"`), then the least mean spend. The MIP starts from the
central plan's decisions when they are given (they are feasible in every copy wherever the
central plan's are feasible in every draw). What the robust plan is worth is measured afterwards,
out of sample: its decisions fixed on each of the uncertainty run's own draws (runs/uncertainty.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import pandas as pd

from ..data.instance import Instance
from ..model.build import model_cut
from ..model.decisions import decision_bounds
from ..model.robust import build_robust, shared_decisions
from ..policies.levers import apply_policy
from ..solve import strategy
from ..solve.highs import HighsSession, SolveOptions
from ..solve.status import Status
from .draws import drawn_instance
from .engine import IDLE_PENALTY, POLISH, as_spec, full_unit_cost

RISKS = ("mean", "cvar")
CVAR_SHARE = 0.1  # the worst tenth of the draws


@dataclass
class RobustPlan:
    """The shared decisions ({kind: {index: 0|1}}, None without a plan) and how the solve went."""
    decisions: dict | None
    summary: dict = field(default_factory=dict)


def solve_robust(inst: Instance, cut, design: pd.DataFrame, model="redesign", risk: str = "mean",
                 options: SolveOptions | None = None, overrides: dict | None = None,
                 start: dict | None = None) -> RobustPlan:
    """The robust plan over the draws of `design` (a row a draw, a column a draw name's quantile).

    `start`: decisions to start the MIP from (the central plan's). The summary gives the model's
    size (draws, variables, constraints, integers), the seconds spent building, handing off and
    solving, the status and gap, and the fitted draws' mean outcome gain and overspend (£) for the
    robust decisions and, with `start`, for the decisions it started from."""
    if risk not in RISKS:
        raise ValueError(f"risk: one of {', '.join(RISKS)}, not {risk!r}")
    spec = as_spec(model)
    options = options or SolveOptions()
    instances = [drawn_instance(inst, row) for _, row in design.iterrows()]
    t0 = time.perf_counter()
    m, mds = build_robust(instances, cut, cvar=CVAR_SHARE if risk == "cvar" else None)
    bounds = []
    for k, md in enumerate(mds):
        bounds += apply_policy(m.draw[k], md, spec, model_cut(md, cut), instances[k].levels)
    build_seconds = time.perf_counter() - t0
    session = HighsSession(m, options)
    session.options = replace(options, **{**spec.solver, **(overrides or {})})
    row, off = session.objective_rows["outcome"]
    session.objective_rows["gain"] = (row, off + sum(md.outcome_none for md in mds) / len(mds))
    S = mds[0].money_scale
    penalty = IDLE_PENALTY * max(full_unit_cost(md) * md.money_scale / S for md in mds)
    primary = session.objective_vector({"overspend": 1.0, "idle": penalty, "above": penalty})
    secondary = session.objective_vector({"gain": 1.0} if risk == "mean" else {"cvar": 1.0})
    polish = session.objective_vector(POLISH)[0]
    tolerance = strategy.tolerance_for(sum(mds[0].amount[(f, 1)] for f in mds[0].streams) * S, S)
    shared = shared_decisions(m)
    summary = {"draws": len(mds), "risk": risk, "variables": session.num_col, "constraints": session.num_row,
               "integers": int(session.integer.sum()), "build_seconds": build_seconds,
               "handoff_seconds": session.handoff_seconds}

    def measures(values, prefix: str) -> None:
        summary[f"{prefix}mean_outcome_gain"] = -session.evaluate("gain", values)
        summary[f"{prefix}mean_overspend"] = session.evaluate("overspend", values) * S
        if risk == "cvar":
            summary[f"{prefix}cvar_outcome_gain"] = -session.evaluate("cvar", values)

    t1 = time.perf_counter()
    first = None
    if start:  # the central plan's decisions in every copy: an LP, and the MIP's first incumbent
        session.set_bounds(bounds + decision_bounds(m, start, shared))
        first = strategy.solve(session, primary, secondary, tolerance, polish=polish)
        if first.values is not None:
            measures(first.values, "start_")
        summary["start_status"] = first.status
    session.set_bounds(bounds)
    sol = strategy.solve(session, primary, secondary, tolerance, polish=polish,
                         start=first.values if first is not None else None)
    summary.update(status=sol.status, mip_gap=sol.mip_gap, solve_seconds=time.perf_counter() - t1,
                   solver_message=sol.message)
    if sol.values is None:
        return RobustPlan(decisions=None, summary=summary)
    measures(sol.values, "")
    decisions = {kind: {i: int(round(v)) for i, v in session.values_of(var, sol.values).items()}
                 for kind, var in shared.items()}
    return RobustPlan(decisions=decisions, summary=summary)


def has_plan(plan: RobustPlan) -> bool:
    return plan.decisions is not None and plan.summary.get("status") in Status.HAS_PLAN
