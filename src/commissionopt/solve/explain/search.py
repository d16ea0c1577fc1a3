"""The search behind an explanation: the first year with no plan, its IIS, the amounts each member
would have to give, and the elastic fallback. Everything works on copies of the LP a
HighsSession holds (its current policy bounds included); the session itself is never changed."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from ..highs import new_highs
from .words import Member, _key, _natural, _x_cause, _year, family_of

INF = highspy.kHighsInf
MAX_AMOUNT_MEMBERS = 40  # members whose amounts are measured (each is one small LP)
WATCHDOG_FACTOR, WATCHDOG_GRACE = 1.2, 2.0  # seconds past a limit before a HiGHS call is cancelled
# rows that only do the accounting: they are never "the" conflict, and stay hard when elastic
IDENTITIES = {"need_flow", "fte_balance", "building_hours", "service_funding", "staff_funding", "overheads_funding"}
_IIS_STATUS = {-1: "feasible", 0: "unknown", 1: "time limit", 2: "reducible", 3: "irreducible"}



def _matrix(lp) -> sp.csr_matrix:
    a = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    data, index, start = np.asarray(a.value_, float), np.asarray(a.index_), np.asarray(a.start_)
    if a.format_ == highspy.MatrixFormat.kRowwise:
        return sp.csr_matrix((data, index, start), shape=shape)
    return sp.csc_matrix((data, index, start), shape=shape).tocsr()


@contextmanager
def _watchdog(h: highspy.Highs, seconds: float):
    """Cancel a HiGHS call a little after `seconds` of wall clock: HiGHS does not always honour
    time_limit / iis_time_limit (HiGHS #885, #2226). Uses highspy's user-interrupt callback."""
    try:
        h.HandleUserInterrupt = True
    except Exception:  # an old highspy without the interrupt property
        yield
        return
    timer = threading.Timer(WATCHDOG_FACTOR * seconds + WATCHDOG_GRACE, h.cancelSolve)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        try:
            h.HandleUserInterrupt = False
        except Exception:
            pass


def _new_highs(time_limit: float, seed: int = 0) -> highspy.Highs:
    h = new_highs()  # the solver border's silent constructor (the banner would corrupt --format json)
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("time_limit", float(max(1e-3, time_limit)))
    return h


def _make_lp(A: sp.csr_matrix, row_lower, row_upper, col_lower, col_upper, integrality=None) -> highspy.HighsLp:
    A = A.tocsc()
    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = A.shape
    lp.col_cost_ = np.zeros(A.shape[1])
    lp.col_lower_, lp.col_upper_ = np.asarray(col_lower, float), np.asarray(col_upper, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lower, float), np.asarray(row_upper, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    if integrality is not None and len(integrality):
        lp.integrality_ = list(integrality)
    return lp


@dataclass
class Explanation:
    """What explain() found: the lines for the analyst, and how they were found."""
    lines: list[str]
    method: str  # "iis" | "elastic" | "elastic+iis_fixed" | "none"
    relaxed_integrality: bool = False
    members: list[Member] = field(default_factory=list)
    slacks: list[tuple[str, float]] = field(default_factory=list)  # (row name, slack) from the elastic
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    first_year: int | None = None  # the first year in which no plan exists (IIS method)


class _Explainer:
    def __init__(self, session, md, time_limit: float):
        self.s = session
        self.md = md
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + float(time_limit)
        self.seed = int(getattr(getattr(session, "options", None), "seed", 0) or 0)
        lp = session.h.getLp()  # a copy: current (policy) bounds, and any row added for this run
        self.lp = lp
        self.A = _matrix(lp)
        self.row_lower, self.row_upper = np.array(lp.row_lower_, float), np.array(lp.row_upper_, float)
        self.col_lower, self.col_upper = np.array(lp.col_lower_, float), np.array(lp.col_upper_, float)
        self.integer = np.zeros(lp.num_col_, bool)
        if len(lp.integrality_):
            self.integer = np.array([t != highspy.HighsVarType.kContinuous for t in lp.integrality_], bool)
        self.notes: list[str] = []

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    # ---- objects --------------------------------------------------------------------
    def row_obj(self, i):
        cons = self.s.cons
        return cons[i] if i < len(cons) else None

    def col_obj(self, j):
        return self.s.columns[j]

    def is_policy(self, j, side) -> bool:
        base = getattr(self.s, "base_col_upper" if side == "upper" else "base_col_lower", None)
        if base is None or j >= len(base):
            return False
        now = self.col_upper[j] if side == "upper" else self.col_lower[j]
        return not np.isclose(now, base[j], rtol=1e-9, atol=1e-9)

    # ---- IIS ------------------------------------------------------------------------
    def row_years(self) -> np.ndarray:
        """The year of each row (its key's last element), -1 for rows without one."""
        out = np.full(self.lp.num_row_, -1, dtype=np.int64)
        for i in range(self.lp.num_row_):
            obj = self.row_obj(i)
            if obj is not None:
                y = _year(_key(obj))
                if y is not None:
                    out[i] = int(y)
        return out

    def sub_lp(self, rows, col_lower=None, col_upper=None) -> highspy.HighsLp:
        cl = self.col_lower if col_lower is None else col_lower
        cu = self.col_upper if col_upper is None else col_upper
        return _make_lp(self.A[rows], self.row_lower[rows], self.row_upper[rows], cl, cu)

    def solve_lp(self, lp, budget: float):
        """(Highs holding `lp` after run(), its model status)."""
        budget = max(1e-3, min(budget, self.left()))
        h = _new_highs(budget, self.seed)
        h.passModel(lp)
        with _watchdog(h, budget):
            h.run()
        return h, h.getModelStatus()

    def earliest_year(self, col_lower=None, col_upper=None, budget: float | None = None):
        """Find the first year with no plan: (status, year, rows up to it, the Highs that proved it).

        status: "found" (rows up to `year` are infeasible, all earlier prefixes feasible), "feasible"
        (the whole LP is), "unknown" (out of time or a solver failure), "no_years" (rows carry no year).
        The model is causal (a year's rows involve that year and earlier ones), so the rows up to
        year t are feasible for every t before the first conflict and infeasible from it on. Years are
        searched galloping (1, 2, 4, 8, ..., H) then by bisection: an early conflict costs small LPs.
        """
        ry = self.row_years()
        years = sorted(set(int(y) for y in ry if y >= 0))
        if len(years) < 2:
            return "no_years", None, np.arange(self.lp.num_row_), None
        end = self.left() if budget is None else min(budget, self.left())
        stop = time.perf_counter() + end
        seen: dict[int, tuple] = {}

        def infeasible(k: int):
            if k in seen:
                return seen[k][0]
            left = stop - time.perf_counter()
            if left <= 0:
                return None
            rows = np.flatnonzero(ry <= years[k])
            h, ms = self.solve_lp(self.sub_lp(rows, col_lower, col_upper), left)
            if ms == highspy.HighsModelStatus.kOptimal:
                r = False
            elif ms in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                r = True
            else:
                r = None
                self.notes.append(f"the LP up to year {years[k]} ended '{h.modelStatusToString(ms)}'")
            seen[k] = (r, rows, h if r else None)
            return r

        last = len(years) - 1
        lo, k = -1, 0  # lo: the largest index known feasible
        while True:
            r = infeasible(k)
            if r is None:
                return "unknown", None, None, None
            if r:
                break
            lo = k
            if k == last:
                return "feasible", None, None, None
            k = min(last, 2 * k + 1)
        hi = k
        while hi - lo > 1:
            mid = (lo + hi) // 2
            r = infeasible(mid)
            if r is None:
                return "unknown", None, None, None
            if r:
                hi = mid
            else:
                lo = mid
        _, rows, h = seen[hi]
        return "found", years[hi], rows, h

    def iis(self, h: highspy.Highs, budget: float):
        """(HighsIis or None, reason) of the infeasible LP held (and already run) in `h`."""
        budget = max(1e-3, min(budget, self.left()))
        h.setOptionValue("iis_strategy", int(highspy.IisStrategy.kIisStrategyFromLp)
                         | int(highspy.IisStrategy.kIisStrategyIrreducible))
        h.setOptionValue("iis_time_limit", float(budget))
        h.setOptionValue("time_limit", float(budget))
        try:
            with _watchdog(h, budget):
                st, iis = h.getIis()
        except Exception as exc:  # an old highspy (1.12 had it broken)
            return None, f"getIis failed ({exc})"
        status = int(iis.status_)
        if st == highspy.HighsStatus.kError or not iis.valid_:
            return None, f"HiGHS returned no valid IIS (status {_IIS_STATUS.get(status, status)})"
        # on its time limit HiGHS returns valid_ = True, status 1 and *every* row: check the status
        if status not in (2, 3) or (len(iis.row_index_) + len(iis.col_index_)) == 0:
            return None, f"HiGHS returned no IIS (status {_IIS_STATUS.get(status, status)})"
        return iis, _IIS_STATUS.get(status, str(status))

    def find_conflict(self, col_lower=None, col_upper=None, use_iis: bool = True):
        """(iis, reason, first year, rows the IIS indexes) for the LP with the given column bounds."""
        status, first, rows, h = self.earliest_year(col_lower, col_upper, budget=0.45 * self.left())
        if status == "no_years":
            rows = np.arange(self.lp.num_row_)
            h, ms = self.solve_lp(self.sub_lp(rows, col_lower, col_upper), 0.45 * self.left())
            if ms == highspy.HighsModelStatus.kOptimal:
                status = "feasible"
            elif ms in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                status = "found"
            else:
                status = "unknown"
                self.notes.append(f"the LP ended '{h.modelStatusToString(ms)}'")
        if status == "feasible":
            return None, "feasible", None, None
        if status == "unknown":
            return None, f"the LP relaxation could not be solved within the time ({'; '.join(self.notes)})", \
                None, None
        if not use_iis:
            return None, "IIS not asked for", first, rows
        iis, reason = self.iis(h, 0.75 * self.left())
        return iis, reason, first, rows

    def members(self, iis, col_lower, col_upper, rows=None) -> list[Member]:
        """IIS rows (mapped through `rows` when the IIS is of a row subset) and bounds as Members."""
        side_of = {2: "lower", 3: "upper", 4: "both", 1: "free"}
        out = []
        for i, b in zip(iis.row_index_, iis.row_bound_):
            b = int(b)
            if b in (-1, 0, 1):
                continue
            i = int(rows[i]) if rows is not None else int(i)
            out.append(Member("row", i, side_of[b], self.row_obj(i), self.row_lower[i], self.row_upper[i]))
        for j, b in zip(iis.col_index_, iis.col_bound_):
            b = int(b)
            if b in (-1, 0, 1):
                continue
            j = int(j)
            side = side_of[b]
            if side == "both":  # a fixed column: the side is found when its amount is measured
                side = "upper" if col_upper[j] <= col_lower[j] else "both"
            out.append(Member("col", j, side, self.col_obj(j), col_lower[j], col_upper[j],
                              policy=self.is_policy(j, "upper" if side != "lower" else "lower")))
        return out

    # ---- the same data limit in its other forms --------------------------------------
    def companions(self, m: Member) -> list[tuple[str, int, str]]:
        """Other rows and bounds that state the same limit as `m` (relaxed with it).

        A service's maximum is both the service_max row, the policy_units cap (where the policy leaves
        it at the maximum) and each option's tight bound U = min(max_units, ...); a role's hours are the
        staff_hours row and each in-house option's U. Relaxing one form alone would leave the others
        binding, and the amount would mean nothing.
        """
        if m.obj is None or self.md is None or m.side != "upper":
            return []
        key = getattr(self, "_companions", None)
        if key is None:
            self._companions = key = {}
        ck = (m.kind, m.index)
        if ck in key:
            return key[ck]
        out: list[tuple[str, int, str]] = []
        try:
            model = m.obj.model()
            d = self.md.d
            mech = model.mechanisms
            f = m.family

            def row(con):
                i = self.s.row_of.get(id(con))
                if i is not None:
                    out.append(("row", i, "upper"))

            def col_if(var, kind):
                j = self.s.col_of.get(id(var))
                if j is None or self.is_policy(j, "upper"):
                    return
                s_, mm, y_ = _key(var)
                if _x_cause(self.md, s_, mm, y_, self.col_upper[j])[0] == kind:
                    out.append(("col", j, "upper"))

            def service_forms(s_, y_):
                row(model.demand.service_max[s_, y_])
                if abs(pyo.value(mech.policy_max[s_, y_]) - d["max_units"][s_]) <= 1e-9 * max(1.0, d["max_units"][s_]):
                    row(mech.policy_units[s_, y_])
                for o in d["options_of"][s_]:
                    if (*o, y_) in mech.x:
                        col_if(mech.x[(*o, y_)], "max_units")

            def role_forms(r, y_):
                row(model.workforce.staff_hours[r, y_])
                for o, hours in d["staff_hours"].items():
                    if r in hours and (*o, y_) in mech.x:
                        col_if(mech.x[(*o, y_)], "staff")

            if m.kind == "col" and f == "x" and not m.policy:
                s_, mm, y_ = m.key
                kind, det = _x_cause(self.md, s_, mm, y_, m.bound)
                if kind == "max_units":
                    service_forms(s_, y_)
                elif kind == "staff":
                    role_forms(det["role"], y_)
            elif m.kind == "row" and f == "service_max":
                service_forms(*m.key)
            elif m.kind == "row" and f == "policy_units":
                s_, y_ = m.key
                if abs(m.upper - d["max_units"][s_]) <= 1e-9 * max(1.0, d["max_units"][s_]):
                    service_forms(s_, y_)
            elif m.kind == "row" and f == "staff_hours":
                role_forms(*m.key)
        except (AttributeError, KeyError, TypeError, ValueError):
            out = []
        out = [c for c in out if not (c[0] == m.kind and c[1] == m.index)]
        key[ck] = out
        return out

    # ---- amounts on the IIS ------------------------------------------------------------
    def _variants(self, members, col_lower, col_upper, base_rows=None):
        """Where amounts are measured, in order: the model up to the conflict's year (all rows and
        bounds: the amount the data imply), the IIS rows with every bound, the IIS alone."""
        rows = sorted({m.index for m in members if m.kind == "row"})
        cl, cu = np.array(col_lower, float), np.array(col_upper, float)
        bl, bu = np.full(len(cl), -INF), np.full(len(cu), INF)
        for m in members:
            if m.kind == "col":
                if m.side in ("lower", "both"):
                    bl[m.index] = cl[m.index]
                if m.side in ("upper", "both"):
                    bu[m.index] = cu[m.index]
        out = []
        if base_rows is not None and self.A[base_rows].nnz <= FULL_AMOUNT_NNZ:
            out.append(_Variant(self, np.asarray(base_rows), cl, cu, 0))
        if rows:
            out.append(_Variant(self, np.asarray(rows), cl, cu, 1))
            out.append(_Variant(self, np.asarray(rows), bl, bu, 2))
        return out

    def amounts(self, members: list[Member], col_lower, col_upper, base_rows=None) -> list:
        """For each member that is not an identity: the least relaxation of it alone that ends the conflict.

        Tried on each variant in turn (see _variants) until one becomes feasible with the member relaxed.
        """
        variants = self._variants(members, col_lower, col_upper, base_rows)
        todo = [m for m in members if m.side in ("lower", "upper") and m.family not in IDENTITIES
                and not _natural(m)][:MAX_AMOUNT_MEMBERS]
        for m in todo:
            if self.left() <= 0:
                self.notes.append("time ran out before every amount was measured")
                break
            for var in variants:
                res = var.relax(m)
                if res is not None:
                    m.amount, m.extremum, m.unit = res
                    m.level = var.level
                    break
        return variants


    # ---- elastic fallback ----------------------------------------------------------
    def elastic(self, budget: float):
        """Least penalised slack on the soft rows (integers kept); (rows with slack, cols, values) or None."""
        nrow = self.lp.num_row_
        pen = np.ones(nrow)
        for i in range(nrow):
            obj = self.row_obj(i)
            if obj is not None and family_of(obj) in IDENTITIES:
                pen[i] = -1.0
        for soft_cols in (False, True):
            if self.left() <= 0:
                return None
            h = _new_highs(max(1e-3, min(budget, self.left())), self.seed)
            lp = self.s.h.getLp()
            lp.col_cost_ = np.zeros(lp.num_col_)
            h.passModel(lp)
            g = 1.0 if soft_cols else -1.0
            try:
                with _watchdog(h, max(1e-3, min(budget, self.left()))):
                    st = h.feasibilityRelaxation(g, g, 1.0, None, None, pen)
            except Exception as exc:  # an old highspy without it
                self.notes.append(f"feasibilityRelaxation failed ({exc})")
                return None
            # HiGHS leaves the model status kNotset and primal_solution_status 1 (the point is
            # infeasible for the original model, as it must be): check the point ourselves
            sol = h.getSolution()
            if st == highspy.HighsStatus.kError or not sol.value_valid or len(sol.col_value) != self.lp.num_col_:
                continue
            x = np.array(sol.col_value)
            if not np.all(np.isfinite(x)):
                continue
            act = self.A @ x
            rslack = act - np.clip(act, self.row_lower, self.row_upper)
            cslack = x - np.clip(x, self.col_lower, self.col_upper)
            scale = 1e-6 * (1.0 + np.abs(act))
            hard_rows = pen < 0
            if np.any(np.abs(rslack[hard_rows]) > scale[hard_rows]):
                continue  # an identity was broken: not a relaxation we asked for
            if not soft_cols and np.any(np.abs(cslack) > 1e-6 * (1.0 + np.abs(x))):
                continue
            if self.integer.any() and np.any(np.abs(x[self.integer] - np.round(x[self.integer])) > 1e-5):
                continue
            rslack[np.abs(rslack) <= scale] = 0.0
            cslack[np.abs(cslack) <= 1e-6 * (1.0 + np.abs(x))] = 0.0
            return rslack, cslack, x, soft_cols, st
        return None


FULL_AMOUNT_NNZ = 2_000_000  # measure amounts on the whole model up to the conflict's year below this size



class _Variant:
    """One LP (a row subset with given column bounds) in which members are relaxed one at a time."""

    def __init__(self, ex: "_Explainer", rows, cl, cu, level: int):
        self.ex, self.rows, self.cl, self.cu = ex, rows, cl, cu
        self.level = level  # 0: every row up to the conflict's year; 1: IIS rows, all bounds; 2: the IIS alone
        self.A = ex.A[rows]
        self.rl, self.ru = ex.row_lower[rows].copy(), ex.row_upper[rows].copy()
        self.pos = {int(i): p for p, i in enumerate(rows)}
        self._h = None

    @property
    def h(self):
        if self._h is None:
            self._h = _new_highs(1.0, self.ex.seed)
            self._h.passModel(_make_lp(self.A, self.rl, self.ru, self.cl, self.cu))
        return self._h

    def _set(self, kind, idx, side, relaxed: bool):
        h = self.h
        if kind == "row":
            p = self.pos.get(idx)
            if p is None:
                return
            if not relaxed:
                h.changeRowBounds(p, self.rl[p], self.ru[p])
            elif side == "lower":
                h.changeRowBounds(p, -INF, self.ru[p])
            else:
                h.changeRowBounds(p, self.rl[p], INF)
        elif not relaxed:
            h.changeColBounds(idx, self.cl[idx], self.cu[idx])
        elif side == "upper":
            h.changeColBounds(idx, self.cl[idx], INF)
        else:
            h.changeColBounds(idx, -INF, self.cu[idx])

    def optimise(self, cost, relax: Member | None = None):
        """Minimise cost with `relax` (and the other forms of the same limit) relaxed; the value or None."""
        h, n = self.h, self.A.shape[1]
        h.setOptionValue("time_limit", float(max(1e-3, min(10.0, self.ex.left()))))
        changed = []
        if relax is not None:
            changed = [(relax.kind, relax.index, relax.side)] + self.ex.companions(relax)
            for kind, idx, side in changed:
                self._set(kind, idx, side, True)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, float))
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        try:
            with _watchdog(h, max(1e-3, min(10.0, self.ex.left()))):
                h.run()
            ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            return float(h.getInfo().objective_function_value) if ok else None
        finally:
            for kind, idx, side in changed:
                self._set(kind, idx, side, False)

    def measure(self, m: Member):
        """(cost vector, bound, unit) of what relaxing `m` lets grow: the member's own row activity or
        column value, or, for an option's tight bound, the limit it stands for (the service's total
        units; the role's staff-hour row), so that relaxing all its forms is measured on the whole."""
        n = self.A.shape[1]
        md, ex = self.ex.md, self.ex
        if m.kind == "col" and m.family == "x" and m.side == "upper" and not m.policy and not m.fixed \
                and md is not None:
            s_, mm, y_ = m.key
            kind, det = _x_cause(md, s_, mm, y_, m.bound)
            try:
                mech = m.obj.model().mechanisms
                if kind == "max_units":
                    cost = np.zeros(n)
                    for o in md.d["options_of"][s_]:
                        if (*o, y_) in mech.x:
                            cost[ex.s.col_of[id(mech.x[(*o, y_)])]] = 1.0
                    return cost, md.d["max_units"][s_], "service_units"
                if kind == "staff":
                    i = ex.s.row_of.get(id(m.obj.model().workforce.staff_hours[det["role"], y_]))
                    if i is not None and i in self.pos:
                        p = self.pos[i]
                        return self.A[p].toarray().ravel(), self.ru[p], "role_hours"
            except (AttributeError, KeyError):
                pass
        if m.kind == "row":
            p = self.pos[m.index]
            coef = self.A[p].toarray().ravel()
            return (coef, self.ru[p], None) if m.side == "upper" else (-coef, self.rl[p], None)
        cost = np.zeros(n)
        if m.side == "upper":
            cost[m.index] = 1.0
            return cost, self.cu[m.index], None
        cost[m.index] = -1.0
        return cost, self.cl[m.index], None

    def relax(self, m: Member):
        """(violation, activity, unit) at the least relaxation of `m`, or None (still infeasible here)."""
        if m.kind == "row" and m.index not in self.pos:
            return None
        cost, bound, unit = self.measure(m)
        val = self.optimise(cost, m)
        if val is None:
            return None
        ext = val if m.side == "upper" else -val
        v = ext - bound if m.side == "upper" else bound - ext
        return max(0.0, v), ext, unit

    def least(self, j: int, relax: Member) -> float | None:
        """Least value of column j with `relax` relaxed (e.g. the least need in the conflict's year)."""
        cost = np.zeros(self.A.shape[1])
        cost[j] = 1.0
        return self.optimise(cost, relax)

