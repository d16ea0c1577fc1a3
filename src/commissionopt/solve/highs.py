"""The solver border: the only module that knows HiGHS.

The Pyomo model is compiled once to matrices (LinearStandardFormCompiler) and passed to
HiGHS in memory with row and column names. Afterwards everything is done on the HiGHS
side: policies change column bounds, a new cut changes the right-hand sides of the
rows that hold mutable Params, and objectives are combinations of the compiled
objective rows. No solve ever raises on a non-optimal end: it returns a Status.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse  # noqa: F401  (see _compiler_ready below)
from pyomo.repn.plugins import standard_form as _standard_form
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

# Pyomo's compiler sets its scipy hooks on first use, and not thread-safely: two threads
# compiling at once could find one of them still None. Set them now, under the import lock.
_compiler_ready = _standard_form._LinearStandardFormCompiler_impl(None)

from .status import Status

INF = highspy.kHighsInf
POLISH_TOL = 1e-7  # relative give on the objective when polishing a plan
HOLD_TOLS, HOLD_ABS = (1e-9, 1e-6), 1e-6  # give on the first phase's optimum while the second runs
WATCHDOG_FACTOR, WATCHDOG_GRACE = 1.2, 5.0  # seconds past the time limit before cancelling


@dataclass
class SolveOptions:
    time_limit: float = 300.0
    mip_rel_gap: float = 1e-3
    threads: int = 1
    solver: str = "choose"  # HiGHS 'solver' option: choose | simplex | ipm | hipo
    seed: int = 0
    output: bool = False


@dataclass
class Solution:
    status: str
    values: np.ndarray | None
    objective: float | None = None
    mip_gap: float | None = None
    seconds: float = 0.0
    message: str = ""
    row_duals: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kInterrupt: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kSolutionLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.TIME_LIMIT,
}


class _QuietHighs(highspy.Highs):
    """highspy.Highs with its output off before its constructor enables the callbacks, where
    HiGHS prints its banner on the process's stdout (a host's or `--format json`'s)."""

    def enableCallbacks(self):
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


def new_highs() -> highspy.Highs:
    """A silent Highs object, made without touching the process's file descriptors."""
    h = _QuietHighs()
    h.setOptionValue("output_flag", False)
    return h


class HighsSession:
    """One compiled model in one HiGHS object, re-solved after bound and cost changes."""

    def __init__(self, model: pyo.ConcreteModel, options: SolveOptions | None = None,
                 mutable_rows=(), names: bool = False):
        self.options = options or SolveOptions()
        t0 = time.perf_counter()
        columns = list(model.component_data_objects(pyo.Var, active=True, descend_into=True, sort=False))
        sf = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None, column_order=columns)
        self.columns = sf.columns
        self.col_of = {id(v): j for j, v in enumerate(sf.columns)}
        ncol = len(sf.columns)

        # merge the two rows of a ranged constraint into one HiGHS row [lower, upper]
        keep, lower, upper, cons = [], [], [], []
        seen = {}
        for i, (con, mult) in enumerate(sf.rows):
            rhs = float(sf.rhs[i])
            j = seen.get(id(con))
            if j is None:
                seen[id(con)] = len(cons)
                keep.append(i)
                cons.append(con)
                lower.append(rhs if mult <= 0 else -INF)
                upper.append(rhs if mult >= 0 else INF)
            elif mult > 0:
                upper[j] = rhs
            else:
                lower[j] = rhs
        self.cons = cons
        self.row_of = {id(c): i for i, c in enumerate(cons)}
        # the constant moved out of a body, to re-derive bounds after a Param change (only
        # for the families named mutable: evaluating every row again costs as much as compiling)
        self.offsets = {}
        for comp in mutable_rows:
            for c in comp.values():
                i = self.row_of.get(id(c))
                if i is not None:
                    self.offsets[i] = (pyo.value(c.upper) - upper[i]) if c.has_ub() else (pyo.value(c.lower) - lower[i])
        A = sf.A.tocsr()[keep].tocsc() if len(keep) else sf.A.tocsc()

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, len(cons)
        lp.col_lower_ = np.array([-INF if v.lb is None else v.lb for v in sf.columns], dtype=float)
        lp.col_upper_ = np.array([INF if v.ub is None else v.ub for v in sf.columns], dtype=float)
        lp.col_cost_ = np.zeros(ncol)
        lp.row_lower_, lp.row_upper_ = np.array(lower, dtype=float), np.array(upper, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(float)
        self.integer = np.array([v.is_integer() for v in sf.columns], dtype=bool)
        if self.integer.any():
            lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                               for b in self.integer]
        if names:  # Pyomo names cost a third of the hand-off; our own maps do without them
            lp.col_names_ = [v.name for v in sf.columns]
            lp.row_names_ = [c.name for c in cons]
        self.base_col_lower = np.array(lp.col_lower_)
        self.base_col_upper = np.array(lp.col_upper_)

        # objective rows by the name of their Pyomo Objective (obj_outcome -> "outcome")
        C = sf.c.tocsr()
        self.objective_rows = {}
        for k, obj in enumerate(sf.objectives):
            name = obj.local_name.removeprefix("obj_")
            self.objective_rows[name] = (np.asarray(C[k].todense()).ravel(), float(sf.c_offset[k]))

        self.h = new_highs()
        self._threads = None
        self._apply_options()
        self.h.passModel(lp)
        self.lp = lp
        self.num_col, self.num_row = ncol, len(cons)
        self.handoff_seconds = time.perf_counter() - t0

    # ---- changes -------------------------------------------------------------------
    def clear(self) -> None:
        """Forget the basis and incumbent of earlier solves; the compiled model stays."""
        self.h.clearSolver()

    def column(self, var) -> int:
        return self.col_of[id(var)]

    def set_bounds(self, bounds) -> None:
        """[(VarData, lb, ub)] on top of the model's own bounds; every other column reset to them."""
        lower, upper = self.base_col_lower.copy(), self.base_col_upper.copy()
        for v, lb, ub in bounds:
            j = self.col_of.get(id(v))
            if j is None:
                continue
            if lb is not None:
                lower[j] = lb
            if ub is not None:
                upper[j] = ub
        idx = np.arange(self.num_col, dtype=np.int32)
        self.h.changeColsBounds(self.num_col, idx, lower, upper)

    def refresh_rows(self, component) -> None:
        """Re-read the bounds of a constraint family (named in `mutable_rows`) after its Params changed."""
        rows, lo, up = [], [], []
        for c in component.values():
            i = self.row_of.get(id(c))
            if i is None:
                continue
            rows.append(i)
            lo.append(pyo.value(c.lower) - self.offsets[i] if c.has_lb() else -INF)
            up.append(pyo.value(c.upper) - self.offsets[i] if c.has_ub() else INF)
        if rows:
            self.h.changeRowsBounds(len(rows), np.array(rows, dtype=np.int32), np.array(lo), np.array(up))

    def objective_vector(self, weights: dict[str, float]) -> tuple[np.ndarray, float]:
        c = np.zeros(self.num_col)
        off = 0.0
        for name, w in weights.items():
            row, o = self.objective_rows[name]
            c += w * row
            off += w * o
        return c, off

    def evaluate(self, name: str, values: np.ndarray) -> float:
        row, off = self.objective_rows[name]
        return float(row @ values + off)

    # ---- solving -------------------------------------------------------------------
    def _apply_options(self) -> None:
        """The settings fixed per run (the options may change between runs: a model file's
        `solver:`, a command line's flags). HiGHS takes a new thread count only when its
        global scheduler is reset."""
        h, o = self.h, self.options
        h.setOptionValue("output_flag", bool(o.output))
        h.setOptionValue("random_seed", int(o.seed))
        if int(o.threads) != self._threads:
            if o.threads > 1 or self._threads is not None:
                highspy.Highs.resetGlobalScheduler(True)
            h.setOptionValue("threads", int(o.threads))
            self._threads = int(o.threads)

    def _run(self, cost: np.ndarray, offset: float, start: np.ndarray | None, time_limit: float,
             mip: bool | None = None) -> Solution:
        h = self.h
        mip = bool(self.integer.any()) if mip is None else mip
        self._apply_options()
        h.changeColsCost(self.num_col, np.arange(self.num_col, dtype=np.int32), cost)
        h.changeObjectiveOffset(float(offset))  # HiGHS measures the MIP gap on cost.x + offset
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        # HiGHS times an LP against the object's run time summed over all its runs, but a MIP
        # against that run alone (HiGHS 1.16, measured; tests/test_solver_border.py pins both)
        h.setOptionValue("time_limit", float((0.0 if mip else h.getRunTime()) + max(1e-3, time_limit)))
        h.setOptionValue("mip_rel_gap", float(self.options.mip_rel_gap))
        h.setOptionValue("solver", self.options.solver)
        if start is not None and self.integer.any():
            h.setSolution(self.num_col, np.arange(self.num_col, dtype=np.int32), start)
        t0 = time.perf_counter()
        self._run_watched(time_limit, mip)
        secs = time.perf_counter() - t0
        ms = h.getModelStatus()
        info = h.getInfo()
        status = _STATUS.get(ms, Status.ERROR)
        has_plan = info.primal_solution_status == 2
        values = np.array(h.getSolution().col_value) if has_plan else None
        if status == Status.TIME_LIMIT and not has_plan:
            status = Status.NO_PLAN
        if status == Status.OPTIMAL and not has_plan:
            status = Status.ERROR
        gap = float(info.mip_gap) if self.integer.any() and has_plan else 0.0
        return Solution(status=status, values=values, objective=info.objective_function_value if has_plan else None,
                        mip_gap=gap, seconds=secs, message=h.modelStatusToString(ms))

    def _run_relaxed(self, cost: np.ndarray, offset: float, time_limit: float) -> Solution:
        """The LP relaxation (integrality dropped for one run, then restored)."""
        idx = np.flatnonzero(self.integer).astype(np.int32)
        h = self.h
        h.changeColsIntegrality(len(idx), idx, np.array([highspy.HighsVarType.kContinuous] * len(idx)))
        try:
            sol = self._run(cost, offset, None, time_limit, mip=False)
            sol.mip_gap = 0.0
            return sol
        finally:
            h.changeColsIntegrality(len(idx), idx, np.array([highspy.HighsVarType.kInteger] * len(idx)))

    def _run_watched(self, time_limit: float, mip: bool) -> None:
        """run(), with a wall-clock watchdog for MIPs: HiGHS does not always honour
        time_limit (HiGHS #885, #2226), so the solve is cancelled a little after it.

        The watchdog raises a flag of this run only. highspy's own cancelSolve() flag is
        cleared only by startSolve(), not by run(): once raised it interrupted every later
        MIP on the object at once, so one slow solve emptied the rest of a sweep."""
        h = self.h
        if not mip:
            h.run()
            return
        stop = threading.Event()

        def interrupt(event) -> None:  # HiGHS keeps the answer between runs: always give one
            event.interrupt(stop.is_set())
        h.cbMipInterrupt += interrupt
        timer = threading.Timer(WATCHDOG_FACTOR * time_limit + WATCHDOG_GRACE, stop.set)
        timer.daemon = True
        timer.start()
        try:
            h.run()
        finally:
            timer.cancel()
            h.cbMipInterrupt -= interrupt

    def lexicographic(self, primary: dict[str, float], secondary: dict[str, float],
                      start: np.ndarray | None = None, polish: dict[str, float] | None = None) -> Solution:
        """Minimise `primary`, then `secondary` with primary held at its minimum.

        Usually the least overspend is 0, and the LP relaxation says whether it can be: then
        the second phase is tried at once with the primary held at 0, and the flat, hard
        first-phase MIP is solved only if that fails. The hold allows HOLD_TOLS of give, the
        tightest first; a looser one only if HiGHS finds the tight one numerically infeasible.
        `polish`: then, with integer decisions fixed and both held, minimise these rows (an
        LP): among plans equally good, the one that spends and draws least."""
        t_end = time.perf_counter() + self.options.time_limit
        c1, off1 = self.objective_vector(primary)
        c2, off2 = self.objective_vector(secondary)
        if self.integer.any():
            bound = self._run_relaxed(c1, off1, t_end - time.perf_counter())
            if bound.status == Status.INFEASIBLE:  # no plan even with integers relaxed
                return bound
            if bound.values is not None and float(c1 @ bound.values) <= HOLD_ABS:
                second = self._phase_two(c1, 0.0, HOLD_TOLS[0], c2, off2, start, t_end, polish)
                if second.status != Status.INFEASIBLE:
                    return self._combine(second, bound, off1)
        first = self._run(c1, off1, start, t_end - time.perf_counter())
        if first.values is None:
            return first
        best = float(c1 @ first.values)
        for rel in HOLD_TOLS:
            second = self._phase_two(c1, best, rel, c2, off2, first.values, t_end, polish)
            if second.status != Status.INFEASIBLE:
                break
        if second.values is None:  # no plan from phase 2: the phase-1 plan stands, flagged
            first.status = Status.TIME_LIMIT if first.status == Status.OPTIMAL else first.status
            first.extra["phase"] = 1
            first.message = f"objective phase ended {second.message}; the least-overspend plan is shown"
            return first
        return self._combine(second, first, best + off1)

    def _phase_two(self, c1, best, rel, c2, off2, start, t_end, polish) -> Solution:
        """Solve `c2` with `c1 . x <= best` (plus give); duals and polish while the hold stands."""
        nz = np.flatnonzero(c1)
        self.h.addRow(-INF, best + max(HOLD_ABS, rel * abs(best)), len(nz), nz.astype(np.int32), c1[nz])
        try:
            sol = self._run(c2, off2, start, t_end - time.perf_counter())
            if sol.values is not None:
                sol.row_duals = self._duals(sol.values, c2)
                if polish:
                    self._polish(sol, c2, polish)
            return sol
        finally:
            self.h.deleteRows(1, np.array([self.num_row], dtype=np.int32))

    @staticmethod
    def _combine(second: Solution, first: Solution, primary_value: float) -> Solution:
        second.seconds += first.seconds
        second.extra["primary_value"] = primary_value
        second.mip_gap = max(second.mip_gap or 0.0, first.mip_gap or 0.0)
        if second.status == Status.OPTIMAL and first.status == Status.TIME_LIMIT:
            second.status = Status.TIME_LIMIT
        return second

    def _polish(self, sol: Solution, held: np.ndarray, objective: dict[str, float]) -> None:
        """Re-solve the fixed-integer LP for the least `objective`, holding `held` at the plan's
        value (relative tolerance POLISH_TOL); keeps the plan if the LP does not solve."""
        h = self.h
        if self.integer.any():
            status, lp = h.getFixedLp()
            if status != highspy.HighsStatus.kOk:
                return
        else:
            lp = h.getLp()
        p = new_highs()
        p.setOptionValue("random_seed", int(self.options.seed))
        p.passModel(lp)
        value = float(held @ sol.values)
        nz = np.flatnonzero(held)
        p.addRow(-INF, value + POLISH_TOL * max(1.0, abs(value)), len(nz), nz.astype(np.int32), held[nz])
        c, _ = self.objective_vector(objective)
        p.changeColsCost(self.num_col, np.arange(self.num_col, dtype=np.int32), c)
        p.run()
        if p.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            sol.values = np.array(p.getSolution().col_value)
            sol.extra["polished"] = True

    def _duals(self, values: np.ndarray, cost: np.ndarray) -> np.ndarray | None:
        """Row duals of the LP with integer decisions fixed at the plan (the hold row included)."""
        h = self.h
        if not self.integer.any():
            sol = h.getSolution()
            return np.array(sol.row_dual)[: self.num_row] if sol.dual_valid else None
        status, lp = h.getFixedLp()
        if status != highspy.HighsStatus.kOk:
            return None
        fixed = new_highs()
        fixed.setOptionValue("random_seed", int(self.options.seed))
        fixed.passModel(lp)
        fixed.run()
        sol = fixed.getSolution()
        if fixed.getModelStatus() != highspy.HighsModelStatus.kOptimal or not sol.dual_valid:
            return None
        return np.array(sol.row_dual)[: self.num_row]

    def values_of(self, var_component, values: np.ndarray) -> dict:
        """{index: value} for an indexed Pyomo Var, read from a solution vector."""
        out = {}
        for idx, v in var_component.items():
            j = self.col_of.get(id(v))
            out[idx] = float(values[j]) if j is not None else (v.value or 0.0)
        return out
