"""Build once, solve many: the one model of an instance, run under any policy and cut.

An Engine compiles the Pyomo model into HiGHS once. A policy is a set of column bounds
and policy-row bounds; a cut changes the stream_limit right-hand sides. Objectives are
lexicographic: first the least discounted overspend, then the model's own objective.
"""
from __future__ import annotations

import time
from dataclasses import asdict, replace
from importlib.metadata import version

import numpy as np

from ..data.instance import Instance
from ..model.build import build_model, set_cut
from ..model.index import cut_by_year
from ..policies.levers import apply_policy
from ..policies.spec import ModelSpec, builtin_spec, load_spec
from ..results.extract import extract_tables, shadow_prices
from ..results.plan import Plan
from ..results.summary import payback_year, summarise
from ..solve.highs import HighsSession, SolveOptions
from ..solve.status import Status
from . import arguments

DINKELBACH_ITERATIONS = 12
IDLE_PENALTY = 10.0
POLISH = {"spend": 1.0, "reserves_drawn": 1.0}  # among equally good plans, the cheapest


def _versions() -> dict:
    out = {}
    for pkg in ("commissionopt", "pyomo", "highspy", "pandas", "numpy"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # a package not installed as a distribution
            out[pkg] = "unknown"
    return out


def full_unit_cost(md) -> float:
    """The most any unit of any option costs with its staff and building hours (model money)."""
    worst = 0.0
    for o in md.options:
        staff = sum(h * md.cost_per_fte[r] / md.hours_per_fte[r] for r, h in md.staff_hours.get(o, {}).items())
        agency = sum(h * md.agency_cost_per_hour[r] for r, h in md.staff_hours.get(o, {}).items())
        hours = md.building_hours.get(o, 0.0) * max([md.cost_per_hour[b] + md.extended_cost_per_hour[b]
                                                     for b in md.buildings] or [0.0])
        worst = max(worst, md.unit_price[o] + max(staff, agency) + hours)
    return worst


def as_spec(model) -> ModelSpec:
    """A ModelSpec, a model file path, or a shipped model's name."""
    if isinstance(model, ModelSpec):
        return model
    if str(model).endswith((".yaml", ".yml")):
        return load_spec(model)
    return builtin_spec(str(model))


class Engine:
    """The compiled model of one instance, re-solved for each policy and cut."""

    def __init__(self, inst: Instance, options: SolveOptions | None = None, overrides: dict | None = None):
        """`options`: the solver settings a model file's own `solver:` may change; `overrides`:
        settings (SolveOptions fields) that beat every model file's, as given on a command line."""
        inst, options, overrides = arguments.engine(inst, options, overrides)
        self.inst = inst
        self.options = options or SolveOptions()
        self.overrides = dict(overrides or {})
        self.m, self.md = build_model(inst)
        self.build_seconds = self.m.build_seconds
        self.session = HighsSession(self.m, self.options,
                                    mutable_rows=(self.m.money.stream_limit, self.m.mechanisms.policy_units))
        self.handoff_seconds = self.session.handoff_seconds
        # the outcome row as -(outcome_value - outcome_none): HiGHS then measures its MIP gap
        # on what the decisions achieve, not on the large constant harm of all need
        row, off = self.session.objective_rows["outcome"]
        self.session.objective_rows["gain"] = (row, off + self.md.outcome_none)
        # Idle capacity is paid for but serves nobody; it only exists so that a fixed policy stays
        # feasible when need falls below its floor. It is cheaper than delivering (no staff or
        # building hours), so the first phase charges it more than any unit's full cost: idle
        # units appear only where need leaves no other way to meet the floor.
        self.primary = {"overspend": 1.0, "idle": IDLE_PENALTY * full_unit_cost(self.md)}
        self._baseline: dict = {}
        self._changed: dict = {}  # engines built on a rule's changed copy of the instance, by transform_note

    def clear(self) -> None:
        """A fresh start for the next solve (same answers whatever ran before): this engine's
        session and those of the engines it keeps for data-changing rules."""
        for eng in (self, *self._changed.values()):
            eng.session.clear()

    def engine_for(self, spec: ModelSpec) -> "Engine":
        """The engine a spec runs on: this one, or, for a rule that changes coefficients
        (spec.transforms_data), one built once on spec.transform(self.inst) and kept."""
        if not spec.transforms_data or spec.is_transformed(self.inst):
            return self
        key = spec.transform_note
        if key not in self._changed:
            eng = Engine(spec.transform(self.inst), self.options, self.overrides)
            eng.baseline = self.baseline  # payback and min_cost targets against the true status quo
            self._changed[key] = eng
        return self._changed[key]

    # ------------------------------------------------------------------------------
    def _configure(self, spec: ModelSpec, cut: dict[int, float], extra_money: dict | None = None) -> None:
        set_cut(self.m, self.md, cut, extra_money)
        self.session.refresh_rows(self.m.money.stream_limit)
        bounds = apply_policy(self.m, self.md, spec, cut, self.inst.levels)
        self.session.refresh_rows(self.m.mechanisms.policy_units)
        self.session.set_bounds(bounds)
        self.session.options = replace(self.options, **{**spec.solver, **self.overrides})

    def run(self, model="redesign", cut=None, verify: bool = True, target: float | None = None,
            extra_money: dict | None = None, name: str | None = None) -> Plan:
        """Solve one policy at one cut; returns a Plan whatever the status.

        `extra_money` {(stream, year): pounds} is added to the money after the cut."""
        spec, cut = arguments.model(model), arguments.cut(cut)
        eng = self.engine_for(spec)
        if eng is not self:
            return eng.run(spec, cut, verify=verify, target=target, extra_money=extra_money, name=name)
        cuts = cut_by_year(0.0 if spec.policy == "status_quo" else cut, self.md.years)
        self._configure(spec, cuts, extra_money)
        t0 = time.perf_counter()
        if spec.objective == "min_cost":
            if target is None:
                target = self.baseline().summary["outcome_value"]
                self._configure(spec, cuts, extra_money)
            sol = self._min_cost(target)
        elif spec.objective == "max_efficiency":
            sol = self._max_efficiency()
        else:
            sol = self.session.lexicographic(self.primary, {"gain": 1.0}, polish=POLISH)
        summary = {"status": sol.status, "policy": name or spec.name, "objective": spec.objective,
                   "cut": {int(y): float(c) for y, c in cuts.items()}, "levers": spec.free_levers,
                   "mip_gap": sol.mip_gap, "build_seconds": self.build_seconds,
                   "handoff_seconds": self.handoff_seconds, "solve_seconds": time.perf_counter() - t0,
                   "variables": self.session.num_col, "constraints": self.session.num_row,
                   "integers": int(self.session.integer.sum()), "solver_message": sol.message}
        inputs = {"instance": self.inst.name, "source": str(self.inst.source or ""), "model": spec.name,
                  "model_file": spec.source, "cut": summary["cut"], "solver": asdict(self.session.options),
                  "versions": _versions(),
                  "scenario_changes": list(self.inst.changes)}
        if sol.status == Status.INFEASIBLE:  # before anything else changes the session's bounds
            summary["conflicts"] = sol.extra.get("conflicts") or self._explain()
        if sol.values is None:
            return Plan(summary=summary, inputs=inputs)
        tables = extract_tables(self.m, self.md, self.session, sol.values)
        tables["shadow_prices"] = shadow_prices(self.m, self.md, self.session, sol.row_duals)
        summary.update(summarise(self.md, tables, self.inst.levels))
        summary["objective_value"] = sol.objective
        plan = Plan(summary=summary, tables=tables, inputs=inputs)
        if spec.policy != "status_quo":
            base = self.baseline()
            if base.status in Status.HAS_PLAN:
                summary["payback_year"] = payback_year(tables["spend"], base.tables["spend"])
        else:
            summary["payback_year"] = None
        if verify:
            from ..solve.verify import verify as check
            plan.violations = check(self.inst, plan, cuts, extra_money=extra_money)
            summary["verified"] = not plan.violations
            if plan.violations:
                summary["status"] = Status.ERROR
        return plan

    def baseline(self) -> Plan:
        """The status quo (cached): base activity continuing, no cut."""
        if "status_quo" not in self._baseline:
            self._baseline["status_quo"] = self.run("status_quo", verify=False)
        return self._baseline["status_quo"]

    # ------------------------------------------------------------------------------
    def _min_cost(self, target: float):
        """Least discounted spend plus terminal cost, outcome held at least `target`."""
        s = self.session
        row, off = s.objective_rows["outcome"]  # row . x + off = -outcome_value
        gain = target - self.md.outcome_none
        nz = np.flatnonzero(row)
        s.h.addRow(-np.inf, -target - off + 1e-6 * max(1.0, abs(gain)), len(nz), nz.astype(np.int32), row[nz])
        try:
            sol = s.lexicographic(self.primary, {"spend": 1.0, "terminal_cost": 1.0})
            if sol.status == Status.INFEASIBLE:  # the outcome target may be part of the conflict
                sol.extra["conflicts"] = self._explain()
            return sol
        finally:
            s.h.deleteRows(1, np.array([s.num_row], dtype=np.int32))

    def _explain(self) -> list[str]:
        from ..solve.explain import explain_infeasible
        return explain_infeasible(self.session, self.md, time_limit=min(30.0, self.session.options.time_limit))

    def _max_efficiency(self):
        """Outcome gain per pound, by Dinkelbach iterations on max gain - lambda * spend."""
        s = self.session
        sol = s.lexicographic(self.primary, {"gain": 1.0})
        lam = 0.0
        for _ in range(DINKELBACH_ITERATIONS):
            if sol.values is None:
                return sol
            gain = -s.evaluate("gain", sol.values)
            spend = s.evaluate("spend", sol.values)
            if spend <= 0:
                return sol
            new = gain / spend
            if abs(new - lam) <= 1e-6 * max(1.0, abs(new)):
                break
            lam = new
            sol = s.lexicographic(self.primary, {"gain": 1.0, "spend": lam})
        sol.extra["efficiency_per_model_unit"] = lam
        return sol


def solve(inst: Instance, model="redesign", cut=None, options: SolveOptions | None = None, verify: bool = True,
          overrides: dict | None = None) -> Plan:
    """Solve one instance under one model file at one cut: the library's front door.

    `options` are the settings a model file's `solver:` may change (every shipped model sets
    its gap and time limit); `overrides` ({"mip_rel_gap": 0.01, ...}) beat the model file's."""
    return Engine(inst, options, overrides).run(model, cut, verify=verify)
