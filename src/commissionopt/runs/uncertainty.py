"""Uncertainty: how likely the redesign is to beat salami across the evidence of ranges.csv, which
services are core, and what committing to the central plan today risks (docs/uncertainty.md).

    u = uncertainty(inst, cut=0.25, draws=200, seed=1, workers=2)
    u.probabilities      # redesign_beats_salami, redesign_within_money, committed_beats_salami, ...
    u.quantiles          # p5, p50, p95 of each policy's outcome gain, overspend, spend, crisis need
    u.selection          # how often the redesign uses each option and closes each building: core, borderline, rare

The run, in two rounds on the parallel runner (runs/parallel.py):
1. the central plans (status quo, salami, redesign on the instance's own figures) and the tornado
   (each draw name at its low and at its high, the rest central: salami and the redesign);
2. the draws, a Latin hypercube (runs/draws.py), each on an engine of its own built on its drawn
   instance: salami, the redesign re-optimised, the **committed** plan (the central redesign's
   structural decisions fixed, volumes re-optimised: an LP), the robust plan's decisions fixed
   (with `robust`), and salami and the redesign at each of `fan_cuts`.
With `robust=K`, between the rounds, the robust redesign is solved on K draws of its own
(runs/robust.py) and then evaluated, like the central plan, on the N draws: out of sample.

Every plan is verified independently; a committed plan is also checked to keep the decisions it
was given. A draw whose plan fails a check, or that ends without a plan, is failed: reported in
`failed`, never averaged. An infeasible draw is an answer, counted (runs/draw_summary.py).
Draws are batches fixed by the draw, so the tables are the same on any number of workers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import pandas as pd

from ..data.instance import Instance
from ..errors import InputError, Problem
from ..solve.highs import SolveOptions
from ..solve.status import Status
from . import arguments, draw_summary
from .compare import Comparison
from .draws import as_draw, latin_hypercube, plan_choices, plan_decisions, require_ranges
from .parallel import Task, as_plan, run_tasks

FAN_GAP = 0.01  # the fan's solves: a looser gap than the run's, as the report's sweep has
DECISION_TABLES = ("options", "buildings", "pooling")
RESULT_COLUMNS = ["draw", "policy", "status", "outcome", "outcome_gain", "outcome_retained", "overspend",
                  "discounted_spend", "crisis_need_final_year", "overspend_tolerance", "mip_gap", "verified", "why"]


@dataclass
class Uncertainty:
    """An uncertainty run's tables (docs/uncertainty.md) and the central comparison."""
    instance: str
    cut: object
    draws: int
    seed: int
    central: Comparison
    design: pd.DataFrame        # a row a draw, a column a draw name: its quantile
    results: pd.DataFrame       # a row per (draw, policy)
    probabilities: pd.DataFrame
    quantiles: pd.DataFrame
    selection: pd.DataFrame
    tornado: pd.DataFrame
    fan: pd.DataFrame
    failed: pd.DataFrame
    robust: pd.DataFrame | None = None  # the central and robust plans across the draws
    robust_summary: dict | None = None  # the robust solve: size, seconds, status
    timings: dict = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name (the workbook's sheets, the tidy table's and --out's files)."""
        out = {"probabilities": self.probabilities, "quantiles": self.quantiles, "selection": self.selection,
               "tornado": self.tornado, "draw_results": self.results,
               "draw_design": self.design.reset_index(), "failed_draws": self.failed}
        if len(self.fan):
            out["fan"] = self.fan
        if self.robust is not None:
            out["robust"] = self.robust
        return out

    def probability(self, measure: str) -> float | None:
        row = self.probabilities[self.probabilities["measure"] == measure]
        return None if row.empty or pd.isna(row["probability"].iloc[0]) else float(row["probability"].iloc[0])


def uncertainty(inst: Instance, cut=0.25, draws: int = 100, seed: int = 0, model="redesign",
                workers: int | None = 0, scheduler: str | None = None, robust: int | None = None,
                risk: str = "mean", fan_cuts=(), tornado: bool = True, progress=None,
                options: SolveOptions | None = None, overrides: dict | None = None) -> Uncertainty:
    """Draw the instance's ranges `draws` times (Latin hypercube, `seed`) and solve salami, the
    redesign and the committed central plan in each, at `cut`.

    `model`: the redesign's model (a shipped name, a model file or a ModelSpec); `robust`: K draws
    for a robust redesign (`risk` "mean" or "cvar": the mean gain of the worst 10% of its draws);
    `fan_cuts`: cuts at which each draw also solves salami and the redesign (the report's fan
    chart); `tornado`: each draw name at its low and high. `workers`, `scheduler`, `progress`
    (called once per solve) as in `run_tasks`; `overrides` (SolveOptions fields) beat the model
    files' solver settings. Raises InputError when the instance has no ranges.csv."""
    t0 = time.perf_counter()
    inst, cut = arguments.instance(inst), arguments.cut(cut)
    spec = arguments.model(model)
    workers = arguments.workers(workers)
    _check(draws, seed, robust, risk)
    fan_cuts = [float(arguments.cut(c, "fan_cuts")) for c in (fan_cuts or ())]
    overrides = arguments.settings(dict(overrides or {}), "overrides")
    names = require_ranges(inst)
    design = latin_hypercube(names, draws, seed)
    redesign, salami, status_quo = (replace(m, solver={**m.solver, **overrides})
                                    for m in (spec, arguments.model("salami"), arguments.model("status_quo")))
    run = dict(workers=workers, scheduler=scheduler, progress=progress, options=options)

    # round 1: the central plans, and the tornado
    roles = {"salami": salami, "redesign": redesign}  # tags say the role, whatever a model file's name
    first = [Task(model=m, cut=c, tables="all", batch="central", tag=("central", label))
             for label, m, c in (("status_quo", status_quo, None), ("salami", salami, cut), ("redesign", redesign, cut))]
    what = _draw_what(inst) if tornado else pd.DataFrame(columns=["draw", "what", "evidence"])
    for name in what["draw"]:
        for end, q in (("low", 0.0), ("high", 1.0)):
            first += [Task(model=m, cut=cut, batch=("tornado", name, end), draw=((name, q),),
                           tag=("tornado", name, end, label)) for label, m in roles.items()]
    res1 = run_tasks(inst, first, **run)
    central = {r["tag"][1]: as_plan(r) for r in res1 if r["tag"][0] == "central"}
    central_plan = central.get("redesign")
    decisions = plan_decisions(central_plan) if _has_plan(central_plan) else None
    t1 = time.perf_counter()

    # the robust plan, on K draws of its own
    robust_plan = None
    if robust:
        from .robust import solve_robust
        robust_plan = solve_robust(inst, cut, latin_hypercube(names, robust, (seed, 1)), model=redesign,
                                   risk=risk, options=options, overrides=overrides, start=decisions)
    t2 = time.perf_counter()

    # round 2: the draws
    fixed = {"committed": decisions}
    if robust_plan is not None and robust_plan.decisions is not None:
        fixed["robust"] = robust_plan.decisions
    fan_specs = {label: replace(m, solver={**m.solver, "mip_rel_gap": max(FAN_GAP, m.solver.get("mip_rel_gap", 0))})
                 for label, m in roles.items()} if fan_cuts else {}
    second = []
    for i, row in design.iterrows():
        d = as_draw(row)
        second += [Task(model=salami, cut=cut, batch=("draw", i), draw=d, tag=("draw", i, "salami")),
                   Task(model=redesign, cut=cut, batch=("draw", i), draw=d, tables=DECISION_TABLES, name="redesign",
                        tag=("draw", i, "redesign"))]
        second += [Task(model=redesign, cut=cut, batch=("draw", i), draw=d, tables=DECISION_TABLES, fixed=f,
                        name=p, tag=("draw", i, p)) for p, f in fixed.items() if f is not None]
        second += [Task(model=m, cut=c, batch=("draw", i), draw=d, tag=("fan", i, label, c))
                   for c in fan_cuts for label, m in fan_specs.items()]
    if "robust" in fixed:  # the robust plan at central evidence
        second.append(Task(model=redesign, cut=cut, fixed=fixed["robust"], name="robust", tag=("central", "robust")))
    res2 = run_tasks(inst, second, **run)
    t3 = time.perf_counter()
    return _assemble(inst, cut, draws, seed, design, what, central, fixed, res1, res2, robust_plan,
                     {"central_and_tornado_seconds": t1 - t0, "robust_seconds": t2 - t1, "draws_seconds": t3 - t2,
                      "total_seconds": t3 - t0, **_work(res2)})


def _work(results: list[dict]) -> dict:
    """Seconds the draws spent building their engines and solving each policy (summed over workers)."""
    out = {"draw_engine_seconds": sum(r.get("run", {}).get("build_seconds", 0.0) for r in results
                                      if r["tag"][0] == "draw")}
    for r in results:
        key = f"draw_{r['tag'][2] if r['tag'][0] == 'draw' else 'fan'}_solve_seconds"
        if r["tag"][0] in ("draw", "fan"):
            out[key] = out.get(key, 0.0) + r.get("seconds", 0.0)
    return out


def _check(draws, seed, robust, risk) -> None:
    from .robust import RISKS
    arguments.whole(draws, "draws", 1, "draws")
    arguments.whole(seed, "seed", 0, "")
    arguments.whole(robust, "robust", 1, "draws", optional=True)
    if risk not in RISKS:
        raise InputError(Problem("argument 'risk'", None, None, risk, f"one of {', '.join(RISKS)}"))


def _has_plan(plan) -> bool:
    return plan is not None and plan.status in Status.HAS_PLAN and not plan.violations


def _draw_what(inst: Instance) -> pd.DataFrame:
    """draw, what (the figures each draw name moves), evidence (its rows' grades)."""
    from ..data.load import row_numbers
    from .draws import draw_names
    r = inst["ranges"]
    rows_of = row_numbers(r)
    name_of = {rows_of(p): g or f"row {rows_of(p)}" for p, g in enumerate(r["group"])}
    out = []
    for name in draw_names(inst):
        mine = [p for p in range(len(r)) if name_of[rows_of(p)] == name]
        what = [f"{r['table'].iloc[p]}.{r['column'].iloc[p]}" + (f" [{r['where'].iloc[p]}]" if r["where"].iloc[p] else "")
                for p in mine]
        grades = dict.fromkeys(str(r["evidence"].iloc[p]) for p in mine)
        out.append({"draw": name, "what": "; ".join(what), "evidence": ",".join(grades)})
    return pd.DataFrame(out, columns=["draw", "what", "evidence"])


def _row(r: dict, base_gain: float | None) -> dict:
    """A result as a row of `results` (figures only for a plan that passed every check)."""
    s = r["summary"]
    status, verified = s.get("status"), s.get("verified")
    state = draw_summary.outcome(status, verified)
    why = ""
    if status == Status.INFEASIBLE:
        why = "; ".join(str(c) for c in (s.get("conflicts") or [])[:1]) or "infeasible"
    elif state == "failed":
        why = r.get("error") or "; ".join(r.get("violations", [])[:2]) or s.get("solver_message") or status
    row = {"status": status, "outcome": state, "verified": verified, "why": why,
           "overspend_tolerance": s.get("overspend_tolerance"), "mip_gap": s.get("mip_gap")}
    for k in ("outcome_gain", "overspend", "discounted_spend", "crisis_need_final_year"):
        row[k] = s.get(k) if state == "plan" else None
    g = row["outcome_gain"]
    row["outcome_retained"] = g / base_gain if g is not None and base_gain else None
    return row


def _kept(r: dict, decisions: dict) -> list[str]:
    """The decisions a committed plan did not keep (an independent check: from its tables)."""
    if r["summary"].get("status") not in Status.HAS_PLAN or not r["tables"]:
        return []
    got = plan_decisions(as_plan(r))
    return [f"{kind} {idx}: fixed at {v}, the plan has {got[kind].get(idx)}" for kind, values in decisions.items()
            for idx, v in values.items() if got[kind].get(idx) != v]


def _assemble(inst, cut, draws, seed, design, what, central, fixed, res1, res2, robust_plan, timings) -> Uncertainty:
    sq = central.get("status_quo")
    base_gain = sq.summary.get("outcome_gain") if _has_plan(sq) else None
    policies = ["salami", "redesign", *[p for p, f in fixed.items() if f is not None]]
    rows, fan_rows, choices = [], [], {}
    for r in res2:
        tag = r["tag"]
        if tag[0] == "fan":
            fan_rows.append({"policy": tag[2], "cut": tag[3], **_row(r, base_gain)})
            continue
        if tag[0] != "draw":
            continue
        _, i, policy = tag
        if policy in fixed and r["summary"].get("status") in Status.HAS_PLAN:
            missed = _kept(r, fixed[policy])
            if missed:  # the solve did not keep the decisions it was given: a failed check
                r = {**r, "violations": [f"decisions: {m}" for m in missed[:3]],
                     "summary": {**r["summary"], "status": Status.ERROR, "verified": False}}
        row = {"draw": i, "policy": policy, **_row(r, base_gain)}
        rows.append(row)
        if policy == "redesign" and row["outcome"] == "plan":
            choices[i] = plan_choices(as_plan(r))
    results = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    for c in ("outcome_gain", "outcome_retained", "overspend", "discounted_spend", "crisis_need_final_year",
              "overspend_tolerance", "mip_gap"):
        results[c] = pd.to_numeric(results[c], errors="coerce").astype(float)
    failed = results[results["outcome"] == "failed"][["draw", "policy", "status", "why"]].reset_index(drop=True)

    tornado_rows = [{"draw": r["tag"][1], "end": r["tag"][2], "policy": r["tag"][3], **_row(r, base_gain)}
                    for r in res1 if r["tag"][0] == "tornado"]
    sal, red = central.get("salami"), central.get("redesign")
    lead = (red.summary["outcome_gain"] - sal.summary["outcome_gain"]) if _has_plan(sal) and _has_plan(red) else None
    closable = set(inst["buildings"].loc[inst["buildings"]["can_close"].astype(bool), "building"])
    selection = (draw_summary.selection(choices, plan_choices(red), closable) if _has_plan(red)
                 else draw_summary.selection(choices, {}, closable))
    robust_table = None
    if robust_plan is not None:
        at_central = {"committed": red.summary if _has_plan(red) else {}}
        for r in res2:
            if r["tag"] == ("central", "robust"):
                rp = as_plan(r)
                at_central["robust"] = rp.summary if _has_plan(rp) else {}
        robust_table = pd.DataFrame([draw_summary.plan_spread(results, p, at_central.get(p, {}))
                                     for p in ("committed", "robust") if p in policies])
    return Uncertainty(
        instance=inst.name, cut=cut, draws=draws, seed=seed,
        central=Comparison(plans=central, cut=cut, inputs={"instance": inst.name, "models": list(central)}),
        design=design, results=results,
        probabilities=draw_summary.probabilities(results, policies),
        quantiles=draw_summary.quantiles(results, policies),
        selection=selection,
        tornado=draw_summary.tornado(pd.DataFrame(tornado_rows, columns=["draw", "end", "policy", *RESULT_COLUMNS[2:]]),
                                     what, lead),
        fan=draw_summary.fan(pd.DataFrame(fan_rows, columns=["policy", "cut", *RESULT_COLUMNS[2:]]), base_gain),
        failed=failed, robust=robust_table,
        robust_summary=robust_plan.summary if robust_plan is not None else None, timings=timings)
