"""The solver border: the only module that knows HiGHS.

The Pyomo model is compiled once to matrices (LinearStandardFormCompiler) and passed to
HiGHS in memory with row and column names. Afterwards everything is done on the HiGHS
side: policies change column bounds, a new cut changes the right-hand sides of the
rows that hold mutable Params, and objectives are combinations of the compiled
objective rows. No solve ever raises on a non-optimal end: it returns a Status.
The session offers single runs and the temporary changes a strategy needs (integrality
relaxed, integer columns fixed at a plan, a row holding an objective); solve/strategy.py
combines them into the solve every plan gets.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
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
WATCHDOG_FACTOR, WATCHDOG_GRACE = 1.2, 5.0  # seconds past the time limit before cancelling
# HiGHS options every solve starts from (chosen by measurement: benchmarks/README.md, "Solve
# strategy"); a model file's `solver: {highs: {...}}` and SolveOptions.highs override them
DEFAULT_HIGHS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}
IPM_FROM_COLUMNS = 5000  # "choose": LPs this large go to the interior point method (benchmarks/README.md)
# options the session sets itself on every run
OWN_OPTIONS = ("output_flag", "random_seed", "threads", "time_limit", "mip_rel_gap", "mip_abs_gap", "solver")


@dataclass
class SolveOptions:
    time_limit: float = 300.0
    mip_rel_gap: float = 1e-3  # the gap on the plan's objective (outcome gain, or spend for min_cost)
    threads: int = 1
    solver: str = "choose"  # the LP algorithm (HiGHS 'solver'): choose (IPM for large LPs, else simplex) | simplex | ipm | ...
    seed: int = 0
    output: bool = False
    highs: dict = field(default_factory=dict)  # any other HiGHS option, e.g. {"presolve": "off"}


def highs_option_problems(options: dict) -> list[tuple[str, object, str]]:
    """(name, value, what was expected) for each entry that is not a HiGHS option of the right type and range."""
    h = new_highs()
    kinds = {highspy.HighsOptionType.kBool: (bool, "true or false"),
             highspy.HighsOptionType.kInt: (int, "a whole number"),
             highspy.HighsOptionType.kDouble: ((int, float), "a number"),
             highspy.HighsOptionType.kString: (str, "text")}
    out = []
    for name, value in (options or {}).items():
        status, kind = h.getOptionType(str(name))
        if status != highspy.HighsStatus.kOk:
            out.append((name, value, "the name of a HiGHS option (see the HiGHS documentation's list of options)"))
            continue
        if name in OWN_OPTIONS:
            out.append((name, value, "an option commissionopt does not set itself (use time_limit, mip_rel_gap, "
                                     "threads, seed, solver or output)"))
            continue
        types, words = kinds[kind]
        if isinstance(value, bool) and kind != highspy.HighsOptionType.kBool or not isinstance(value, types):
            out.append((name, value, words))
        elif h.setOptionValue(str(name), value) != highspy.HighsStatus.kOk:
            out.append((name, value, f"{words} within the range HiGHS allows for {name}"))
    return out


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
    bound: float | None = None  # a MIP's dual bound on its objective


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
        self.col_lower, self.col_upper = self.base_col_lower, self.base_col_upper  # as the last set_bounds left them

        # objective rows by the name of their Pyomo Objective (obj_outcome -> "outcome")
        C = sf.c.tocsr()
        self.objective_rows = {}
        for k, obj in enumerate(sf.objectives):
            name = obj.local_name.removeprefix("obj_")
            self.objective_rows[name] = (np.asarray(C[k].todense()).ravel(), float(sf.c_offset[k]))

        self.h = new_highs()
        self._threads = None
        self._relaxed = 0  # depth of `relaxed()`: integrality dropped while above 0
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
        self.col_lower, self.col_upper = lower, upper

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

    def has_free_integers(self) -> bool:
        """True when some integer column is not fixed by its current bounds (a MIP to solve)."""
        if self._relaxed:
            return False
        return bool(np.any(self.integer & (self.col_upper - self.col_lower > 0.5)))

    # ---- solving -------------------------------------------------------------------
    def _apply_options(self) -> None:
        """The settings fixed per run (the options may change between runs: a model file's
        `solver:`, a command line's flags). HiGHS takes a new thread count only when its
        global scheduler is reset."""
        h, o = self.h, self.options
        for name, value in {**DEFAULT_HIGHS, **(o.highs or {})}.items():
            h.setOptionValue(name, value)
        h.setOptionValue("output_flag", bool(o.output))
        h.setOptionValue("random_seed", int(o.seed))
        if int(o.threads) != self._threads:
            if o.threads > 1 or self._threads is not None:
                highspy.Highs.resetGlobalScheduler(True)
            h.setOptionValue("threads", int(o.threads))
            self._threads = int(o.threads)

    def run(self, cost: np.ndarray, offset: float = 0.0, time_limit: float = 60.0, start: np.ndarray | None = None,
            abs_gap: float | None = None, rel_gap: float | None = None) -> Solution:
        """Minimise cost . x + offset once on the model as it stands (a MIP if integer columns are
        free, else an LP). A MIP stops at `rel_gap` (default: the options' mip_rel_gap; none when
        only `abs_gap` is given) or at `abs_gap`, whichever comes first."""
        h = self.h
        mip = self.has_free_integers()
        self._apply_options()
        h.setOptionValue("solver", "choose" if mip else self.lp_algorithm())
        h.changeColsCost(self.num_col, np.arange(self.num_col, dtype=np.int32), cost)
        h.changeObjectiveOffset(float(offset))  # HiGHS measures the MIP gap on cost.x + offset
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        # HiGHS times an LP against the object's run time summed over all its runs, but a MIP
        # against that run alone (HiGHS 1.16, measured; tests/test_solver_border.py pins both)
        h.setOptionValue("time_limit", float((0.0 if mip else h.getRunTime()) + max(1e-3, time_limit)))
        if rel_gap is None:
            rel_gap = 0.0 if abs_gap is not None else self.options.mip_rel_gap
        h.setOptionValue("mip_rel_gap", float(rel_gap))
        h.setOptionValue("mip_abs_gap", float(max(abs_gap, 1e-9)) if abs_gap is not None else 1e-6)
        if start is not None and mip:
            h.setSolution(self.num_col, np.arange(self.num_col, dtype=np.int32), start)
        t0 = time.perf_counter()
        self._run_watched(time_limit, mip)
        ms = h.getModelStatus()
        confirmed = ""
        presolve = h.getOptionValue("presolve")
        presolve = presolve[1] if isinstance(presolve, tuple) else presolve  # (status, value) in highspy 1.16
        if ms == highspy.HighsModelStatus.kInfeasible and presolve != "off":
            # presolve's verdict is confirmed without it: on shire_county's pessimistic-evidence
            # scenario it called the status quo's LP infeasible, and the LP without it was optimal
            h.setOptionValue("presolve", "off")
            if not mip:
                h.setOptionValue("time_limit", float(h.getRunTime() + max(1.0, time_limit - (time.perf_counter() - t0))))
            try:
                self._run_watched(max(1.0, time_limit - (time.perf_counter() - t0)), mip)
            finally:
                h.setOptionValue("presolve", presolve)
            ms = h.getModelStatus()
            if ms != highspy.HighsModelStatus.kInfeasible:
                confirmed = " (presolve called it infeasible; solved again without presolve)"
        secs = time.perf_counter() - t0
        info = h.getInfo()
        status = _STATUS.get(ms, Status.ERROR)
        has_plan = info.primal_solution_status == 2
        values = np.array(h.getSolution().col_value) if has_plan else None
        if status == Status.TIME_LIMIT and not has_plan:
            status = Status.NO_PLAN
        if status == Status.OPTIMAL and not has_plan:
            status = Status.ERROR
        sol = Solution(status=status, values=values, objective=info.objective_function_value if has_plan else None,
                       mip_gap=float(info.mip_gap) if mip and has_plan else 0.0, seconds=secs,
                       message=h.modelStatusToString(ms) + confirmed)
        if mip and has_plan:
            sol.bound = float(info.mip_dual_bound)
        elif has_plan:
            sol.bound = sol.objective
            dual = h.getSolution()
            if dual.dual_valid:
                sol.row_duals = np.array(dual.row_dual)
        return sol

    def lp_algorithm(self) -> str:
        """The algorithm for an LP run: the options' own, or for "choose" the interior point method on
        large models (simplex stalls on this model's degenerate funding and building rows: measured)."""
        if self.options.solver != "choose":
            return self.options.solver
        return "ipm" if self.num_col >= IPM_FROM_COLUMNS else "simplex"

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

    # ---- temporary changes a strategy makes (each undone on leaving) -------------------
    @contextmanager
    def relaxed(self):
        """Integrality dropped: the LP relaxation."""
        idx = np.flatnonzero(self.integer).astype(np.int32)
        h = self.h
        if len(idx) and not self._relaxed:
            h.changeColsIntegrality(len(idx), idx, np.array([highspy.HighsVarType.kContinuous] * len(idx)))
        self._relaxed += 1
        try:
            yield self
        finally:
            self._relaxed -= 1
            if len(idx) and not self._relaxed:
                h.changeColsIntegrality(len(idx), idx, np.array([highspy.HighsVarType.kInteger] * len(idx)))

    @contextmanager
    def fixed(self, values: np.ndarray):
        """Integer columns fixed at a plan's (rounded) values and integrality dropped: the LP of
        the plan's structural decisions."""
        idx = np.flatnonzero(self.integer).astype(np.int32)
        if not len(idx):
            yield self
            return
        lo, up = self.col_lower[idx], self.col_upper[idx]
        at = np.clip(np.round(values[idx]), lo, up)
        self.h.changeColsBounds(len(idx), idx, at, at)
        try:
            with self.relaxed():
                yield self
        finally:
            self.h.changeColsBounds(len(idx), idx, lo, up)

    @contextmanager
    def holding(self, cost: np.ndarray, upper: float):
        """A row cost . x <= upper for the duration (its dual is the last of a run's row duals)."""
        nz = np.flatnonzero(cost)
        self.h.addRow(-INF, float(upper), len(nz), nz.astype(np.int32), cost[nz])
        row = self.h.getNumRow() - 1
        try:
            yield row
        finally:
            self.h.deleteRows(1, np.array([row], dtype=np.int32))

    def values_of(self, var_component, values: np.ndarray) -> dict:
        """{index: value} for an indexed Pyomo Var, read from a solution vector. A variable the
        compiler left out (it is in no row and no objective) takes its own value within its bounds."""
        out = {}
        for idx, v in var_component.items():
            j = self.col_of.get(id(v))
            out[idx] = float(values[j]) if j is not None else _unused_value(v)
        return out


def _unused_value(v) -> float:
    value = 0.0 if v.value is None else float(v.value)
    if v.lb is not None:
        value = max(value, float(v.lb))
    if v.ub is not None:
        value = min(value, float(v.ub))
    return value
