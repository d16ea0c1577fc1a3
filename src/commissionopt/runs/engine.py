"""Build once, solve many: the one model of an instance, run under any policy and cut.

An Engine compiles the Pyomo model into HiGHS once. A policy is a set of column bounds
and policy-row bounds; a cut changes the stream_limit right-hand sides. Every plan is the
least overspend the duties force, then the model's own objective (solve/strategy.py).
"""
from __future__ import annotations

import time
from dataclasses import asdict, replace
from importlib.metadata import version


from ..data.instance import Instance
from ..model.build import build_model, model_cut, set_cut
from ..model.decisions import decision_bounds, unknown_decisions
from ..policies.levers import apply_policy
from ..policies.spec import ModelSpec, builtin_spec, load_spec
from ..results.extract import extract_tables, shadow_prices
from ..results.plan import Plan
from ..results.summary import payback_year, summarise
from ..solve import strategy
from ..solve.highs import HighsSession, SolveOptions
from ..solve.status import Status
from . import arguments

DINKELBACH_ITERATIONS = 12
IDLE_PENALTY = 10.0
POLISH = {"spend": 1.0, "reserves_drawn": 1.0}  # among equally good plans, the cheapest
REFERENCES_KEPT = 8  # salami plans kept for payback, by cut


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
        worst = max(worst, max(md.unit_price[(*o, y)] for y in md.years) + max(staff, agency) + hours)
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
        # Idle capacity is paid for but serves nobody; it exists so that pace limits and a fixed
        # policy's floor stay feasible when need falls away. It is cheaper than delivering (no staff
        # or building hours), so the first objective charges it more than any unit's full cost: idle
        # units appear only where need leaves no other way. Capacity above a rule's units (a
        # statutory service growing with its duty) is charged the same: only what the duty needs.
        penalty = IDLE_PENALTY * full_unit_cost(self.md)
        self.primary = {"overspend": 1.0, "idle": penalty, "above": penalty}
        money = sum(self.md.amount[(f, 1)] for f in self.md.streams) * self.md.money_scale
        self.tolerance = strategy.tolerance_for(money, self.md.money_scale)
        self.living_within = max(1.0, 1e-6 * money)  # £ of overspend from year H on that still counts as none
        self._baseline: dict = {}
        self._references: dict = {}  # salami plans by cut, for payback
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
            eng.baseline = self.baseline  # min_cost targets against the true status quo
            eng.reference = self.reference  # payback against the true salami
            self._changed[key] = eng
        return self._changed[key]

    # ------------------------------------------------------------------------------
    def _configure(self, spec: ModelSpec, cut: dict[int, float], extra_money: dict | None = None,
                   draw_cap: dict | None = None, fixed: dict | None = None) -> None:
        set_cut(self.m, self.md, cut, extra_money)
        self.session.refresh_rows(self.m.money.stream_limit)
        bounds = apply_policy(self.m, self.md, spec, cut, self.inst.levels)
        if fixed:  # structural decisions taken elsewhere (model/decisions.py): volumes re-optimised
            bounds += decision_bounds(self.m, fixed)
        if draw_cap is not None:  # at most these reserves a year (£): another plan's reserve use
            mo = self.m.money
            bounds += [(mo.draw[k], None, max(0.0, draw_cap.get(k, 0.0)) / self.md.money_scale) for k in mo.draw]
        self.session.refresh_rows(self.m.mechanisms.policy_units)
        self.session.set_bounds(bounds)
        self.session.options = replace(self.options, **{**spec.solver, **self.overrides})

    def run(self, model="redesign", cut=None, verify: bool = True, target: float | None = None,
            extra_money: dict | None = None, name: str | None = None, draw_cap: dict | None = None,
            fixed: dict | None = None) -> Plan:
        """Solve one policy at one cut; returns a Plan whatever the status.

        `extra_money` {(stream, year): pounds} is added to the money after the cut; `draw_cap`
        {(stream, year): pounds} caps the reserves drawn (e.g. at another plan's draws); `fixed`
        {kind: {index: 0|1}} fixes structural decisions (options adopted, buildings open, streams
        pooled: model/decisions.py), on top of the policy's own fixings."""
        spec, cut = arguments.model(model), arguments.cut(cut)
        eng = self.engine_for(spec)
        if eng is not self:
            return eng.run(spec, cut, verify=verify, target=target, extra_money=extra_money, name=name,
                           draw_cap=draw_cap, fixed=fixed)
        if fixed and unknown_decisions(self.m, fixed):
            raise ValueError(f"decisions this model does not have: {', '.join(unknown_decisions(self.m, fixed)[:5])}")
        cuts = model_cut(self.md, 0.0 if spec.policy == "status_quo" else cut)
        self._configure(spec, cuts, extra_money, draw_cap, fixed)
        t0 = time.perf_counter()
        if spec.objective == "min_cost":
            if target is None:
                target = self.baseline().summary["outcome_value"]
                self._configure(spec, cuts, extra_money, draw_cap, fixed)
            sol = self._min_cost(target)
        elif spec.objective == "max_efficiency":
            sol = self._max_efficiency()
        else:
            sol = self._solve({"gain": 1.0}, polish=POLISH)
        H = self.md.horizon
        summary = {"status": sol.status, "policy": name or spec.name, "objective": spec.objective,
                   "cut": {int(y): float(c) for y, c in cuts.items() if y <= H}, "levers": spec.free_levers,
                   "horizon_years": H, "evaluation_years": self.md.years[-1],
                   "mip_gap": sol.mip_gap,
                   "overspend_tolerance": sol.extra.get("overspend_tolerance", self.tolerance) * self.md.money_scale,
                   "overspend_gap": sol.extra.get("overspend_gap"),
                   "build_seconds": self.build_seconds,
                   "handoff_seconds": self.handoff_seconds, "solve_seconds": time.perf_counter() - t0,
                   "variables": self.session.num_col, "constraints": self.session.num_row,
                   "integers": int(self.session.integer.sum()), "solver_message": sol.message}
        inputs = {"instance": self.inst.name, "source": str(self.inst.source or ""), "model": spec.name,
                  "model_file": spec.source, "cut": summary["cut"], "solver": asdict(self.session.options),
                  "versions": _versions(),
                  "scenario_changes": list(self.inst.changes)}
        if fixed:
            inputs["decisions_fixed"] = {k: len(v) for k, v in fixed.items()}
        if sol.status == Status.INFEASIBLE:  # before anything else changes the session's bounds
            summary["conflicts"] = sol.extra.get("conflicts") or self._explain()
        if sol.values is None:
            return Plan(summary=summary, inputs=inputs)
        tables = extract_tables(self.m, self.md, self.session, sol.values)
        tables["shadow_prices"] = shadow_prices(self.m, self.md, self.session, sol.row_duals)
        summary.update(summarise(self.md, tables, self.inst.levels, self.living_within))
        summary["objective_value"] = sol.objective
        plan = Plan(summary=summary, tables=tables, inputs=inputs)
        if verify:
            from ..solve.verify import verify as check
            plan.violations = check(self.inst, plan, cuts, extra_money=extra_money, draw_cap=draw_cap)
            summary["verified"] = not plan.violations
            if plan.violations:
                summary["status"] = Status.ERROR
        if spec.policy == "salami" and not extra_money and draw_cap is None:
            self._keep_reference(cuts, plan)
        summary["payback_year"] = None
        if spec.policy not in ("status_quo", "salami") and plan.status in Status.HAS_PLAN:
            ref = self.reference(cuts)
            if ref.status in Status.HAS_PLAN:
                summary["payback_year"] = payback_year(tables["spend"], ref.tables["spend"])
        return plan

    def baseline(self) -> Plan:
        """The status quo (cached): base activity continuing, no cut."""
        if "status_quo" not in self._baseline:
            self._baseline["status_quo"] = self.run("status_quo", verify=False)
        return self._baseline["status_quo"]

    def reference(self, cuts: dict[int, float]) -> Plan:
        """Salami slicing at the same cut (cached): what payback is measured against."""
        key = tuple(sorted(cuts.items()))
        if key not in self._references:
            self._keep_reference(cuts, self.run("salami", cuts, verify=False))
        return self._references[key]

    def _keep_reference(self, cuts: dict, plan: Plan) -> None:
        self._references[tuple(sorted(cuts.items()))] = plan
        while len(self._references) > REFERENCES_KEPT:
            self._references.pop(next(iter(self._references)))

    # ------------------------------------------------------------------------------
    def _solve(self, secondary: dict[str, float], polish: dict[str, float] | None = None, scale: float | None = None):
        s = self.session
        return strategy.solve(s, s.objective_vector(self.primary), s.objective_vector(secondary), self.tolerance,
                              polish=s.objective_vector(polish)[0] if polish else None, scale=scale)

    def _min_cost(self, target: float):
        """Least discounted spend plus terminal cost, outcome held at least `target`."""
        s = self.session
        row, off = s.objective_rows["outcome"]  # row . x + off = -outcome_value
        gain = target - self.md.outcome_none
        with s.holding(row, -target - off + 1e-6 * max(1.0, abs(gain))):
            sol = self._solve({"spend": 1.0, "terminal_cost": 1.0})
            if sol.status == Status.INFEASIBLE:  # the outcome target may be part of the conflict
                sol.extra["conflicts"] = self._explain()
        return sol

    def _explain(self) -> list[str]:
        from ..solve.explain import explain_infeasible
        return explain_infeasible(self.session, self.md, time_limit=min(30.0, self.session.options.time_limit))

    def _max_efficiency(self):
        """Outcome gain per pound, by Dinkelbach iterations on max gain - lambda * spend."""
        s = self.session
        sol = self._solve({"gain": 1.0})
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
            sol = self._solve({"gain": 1.0, "spend": lam}, scale=gain)  # the gap measured on the gain
        sol.extra["efficiency_per_model_unit"] = lam
        return sol


def solve(inst: Instance, model="redesign", cut=None, options: SolveOptions | None = None, verify: bool = True,
          overrides: dict | None = None) -> Plan:
    """Solve one instance under one model file at one cut: the library's front door.

    `options` are the settings a model file's `solver:` may change (every shipped model sets
    its gap and time limit); `overrides` ({"mip_rel_gap": 0.01, ...}) beat the model file's."""
    return Engine(inst, options, overrides).run(model, cut, verify=verify)
