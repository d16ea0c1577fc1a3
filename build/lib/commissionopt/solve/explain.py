"""Why no plan exists: the conflicting constraints of an infeasible run, in the analyst's words.

`explain_infeasible(session, md)` works on copies of the model a HighsSession holds (its
current policy bounds included; the session itself is never changed):

1. **The first year with no plan.** The model is causal (a year's rows involve that year and
   earlier ones), so the LP relaxation of the rows up to year t is feasible before the first
   conflict and infeasible from it on: searched galloping then by bisection, small LPs first.
   Integer decisions are relaxed: a conflict of the relaxation is a conflict of every integer
   plan, and the report says so.
2. **The IIS** of that LP from HiGHS (`iis_strategy` = from-LP + irreducible, bounded by
   `iis_time_limit` and a wall-clock watchdog). Each IIS row and bound is mapped back to its
   Pyomo family and key (`statutory_duty[children,crisis,4]`, the upper bound of
   `x[child_protection,in_house,4]`).
3. **Amounts.** For each member, the least relaxation of it (with the other forms of the same
   data limit: a service's maximum is the service_max row, the policy cap and each option's
   tight bound U; a role's hours are the staff_hours row and each in-house option's U) that
   ends the conflict, measured with every constraint up to that year in force (falling back to
   the IIS rows alone). A statutory duty (or a service minimum or policy floor) is the anchor;
   the limit on its own services is said with its amount, converted through the duty's
   shortfall where that is unambiguous: "statutory duty for children/crisis in year 3 needs 174
   staff hours of social_worker more than hiring and agency limits allow".
4. **Fallback.** With no IIS in time (HiGHS then returns `valid_ = True`, status "time limit"
   and every row: the status must be checked) or when the relaxation is feasible (infeasible
   only through integer decisions), an elastic re-solve keeps the integer decisions and the
   accounting identities hard and gives every other row penalised slack
   (`Highs.feasibilityRelaxation`), reporting which families needed slack and how much; with
   integer decisions, the IIS of the LP with them fixed at that nearest plan follows.

`describe(con, md)` turns one constraint into words, `describe_bound(var, side, value, md)` one
variable bound; the reports reuse both.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

INF = highspy.kHighsInf
TOL = 1e-6
MAX_AMOUNT_MEMBERS = 40  # members whose amounts are measured (each is one small LP)
MAX_LISTED = 12  # members listed one by one before the rest are summarised
WATCHDOG_FACTOR, WATCHDOG_GRACE = 1.2, 2.0  # seconds past a limit before a HiGHS call is cancelled

# rows that only do the accounting: they are never "the" conflict, and stay hard when elastic
IDENTITIES = {"need_flow", "fte_balance", "building_hours", "service_funding", "overheads_funding"}
# families that ask for more (the anchor of a conflict), by priority
ANCHORS = ("added_row", "statutory_duty", "service_min", "policy_units")
_IIS_STATUS = {-1: "feasible", 0: "unknown", 1: "time limit", 2: "reducible", 3: "irreducible"}


# ---------------------------------------------------------------------------------------
# numbers and names
# ---------------------------------------------------------------------------------------
def num(v: float) -> str:
    """A count as an analyst reads it: 1,240 / 12.5 / 0.35."""
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:,.1f}".rstrip("0").rstrip(".")
    return f"{v:,.2f}".rstrip("0").rstrip(".") or "0"


def money(v_model: float, md=None) -> str:
    """Model money (pounds / money_scale) in pounds: £3.1m, £450k, £900."""
    pounds = v_model * (md.money_scale if md is not None else 1.0)
    a = abs(pounds)
    if a >= 1e6:
        return f"£{pounds / 1e6:,.1f}m"
    if a >= 1e4:
        return f"£{pounds / 1e3:,.0f}k"
    return f"£{pounds:,.0f}"


def _key(obj) -> tuple:
    idx = obj.index()
    if idx is None:
        return ()
    return idx if isinstance(idx, tuple) else (idx,)


def family_of(obj) -> str:
    """'statutory_duty' for demand.statutory_duty[children,crisis,4]."""
    return obj.parent_component().local_name


def _md(md, name, *key, default=None):
    if md is None:
        return default
    try:
        table = getattr(md, name)
    except AttributeError:
        return default
    k = key[0] if len(key) == 1 else key
    return table.get(k, default) if isinstance(table, dict) else default


def _kl(k, l) -> str:
    return f"{k}/{l}"


# ---------------------------------------------------------------------------------------
# one constraint, one bound, in words
# ---------------------------------------------------------------------------------------
def describe(con, md=None, side: str | None = None) -> str:
    """One constraint in the analyst's words (family, cohort/service/role, year, the numbers).

    `side` ("lower" / "upper") narrows a ranged row such as policy_units to the bound meant.
    """
    fam = family_of(con)
    key = _key(con)
    lo = pyo.value(con.lower) if con.has_lb() else None
    up = pyo.value(con.upper) if con.has_ub() else None
    try:
        if fam == "statutory_duty":
            k, l, y = key
            cov = _md(md, "coverage", (k, l))
            share = f" (serve {cov:.0%} of people in need)" if cov is not None else ""
            return f"statutory duty for {_kl(k, l)} in year {y}{share}"
        if fam == "need_flow":
            k, l, y = key
            return (f"need flow for {_kl(k, l)} in year {y} (people in need = new arrivals + need carried "
                    f"over or escalating from earlier years, less what services prevented)")
        if fam == "coverage":
            k, l, y = key
            return f"coverage of {_kl(k, l)} in year {y} (no more people served than are in need)"
        if fam == "service_max":
            s, y = key
            return f"maximum of {num(up)} units of {s} in year {y}"
        if fam == "service_min":
            s, y = key
            return f"minimum of {num(lo)} units of {s} in year {y}"
        if fam == "policy_units":
            s, y = key
            if side == "lower":
                return f"the policy's floor of {num(lo)} units of {s} in year {y}"
            if side == "upper":
                return f"the policy's cap of {num(up)} units of {s} in year {y}"
            return f"the policy's bounds on {s} in year {y} ({num(lo)} to {num(up)} units)"
        if fam == "reach":
            s, m, y = key
            share = _md(md, "max_share", (s, m))
            kl = _md(md, "service_need", s)
            what = f"{share:.0%} of {_kl(*kl)} need" if share is not None and kl else "its share of need"
            return f"reach of {s} via {m} in year {y} (at most {what})"
        if fam == "option_link":
            s, m, y = key
            return f"{s} via {m} in year {y} only if that option is adopted"
        if fam == "staff_hours":
            r, y = key
            hpf = _md(md, "hours_per_fte", r)
            per = f"{num(hpf)} h per FTE" if hpf is not None else "hours per FTE"
            return f"staff hours of {r} in year {y} (in-house hours needed <= {per} x FTE + agency hours)"
        if fam == "fte_balance":
            r, y = key
            return f"FTE balance of {r} in year {y} (FTE = previous year's + hires - releases)"
        if fam == "building_hours":
            s, y = key
            return f"building hours of {s} in year {y} (placed in compatible buildings)"
        if fam == "building_capacity":
            b, y = key
            hrs = _md(md, "hours_available", b)
            h = f"{num(hrs)} h a year when open" if hrs is not None else "its hours when open"
            return f"capacity of {b} in year {y} ({h}, plus extended hours)"
        if fam == "extended_hours":
            b, y = key
            ext = _md(md, "extendable_hours", b)
            e = f"at most {num(ext)} h" if ext is not None else "limited"
            return f"extended hours of {b} in year {y} ({e}, only while open)"
        if fam == "closure":
            b, y = key
            return f"{b} cannot reopen once closed (year {y})"
        if fam == "stream_limit":
            f, y = key
            avail = f"{money(up, md)} available" if up is not None else "its money"
            return f"money of {f} in year {y} ({avail} after the cut, + reserves drawn + overspend)"
        if fam == "service_funding":
            s, y = key
            return f"funding of {s} in year {y} (its direct spend paid by streams whose scope covers it)"
        if fam == "overheads_funding":
            (y,) = key
            return f"overheads in year {y} (staff, buildings, setup and pooling paid by the overheads streams)"
        if fam == "ring_fence":
            f, s, y = key
            return f"ring fence of {f}: it pays {s} in year {y} only once pooled"
        if fam == "reserves":
            (y,) = key
            return f"reserves drawn up to year {y} (at most {money(up, md)} above the minimum reserve)" \
                if up is not None else f"reserves drawn up to year {y}"
    except (TypeError, ValueError):
        pass
    return con.name


def _x_cause(md, s, m, y, ub):
    """Which term of the tight bound U made x[s,m,y] <= ub: (kind, detail dict)."""
    if md is None:
        return None, {}
    d = md.d
    terms = []
    for r, h in d.get("staff_hours", {}).get((s, m), {}).items():
        hours = d["hours_per_fte"][r] * (d["fte_base"][r] + y * d["max_hire"][r]) + d["max_agency_hours"][r]
        terms.append((hours / h, "staff", {"role": r, "per_unit": h, "hours": hours, "fte_base": d["fte_base"][r],
                                           "max_hire": d["max_hire"][r], "hpf": d["hours_per_fte"][r],
                                           "agency": d["max_agency_hours"][r], "year": y}))
    terms.append((d["max_units"][s], "max_units", {"max": d["max_units"][s]}))
    kl = d["service_need"][s]
    spu = d["served_per_unit"][(s, m)]
    if spu > 0:
        terms.append((d["max_share"][(s, m)] * d["nmax"][(*kl, y)] / spu, "reach",
                      {"share": d["max_share"][(s, m)], "nmax": d["nmax"][(*kl, y)], "need": kl}))
    if d["unit_price"][(s, m)] > 0:
        terms.append((None, "money", {}))
    for val, kind, det in terms:
        if val is not None and abs(val - ub) <= 1e-7 * max(1.0, abs(ub)):
            return kind, det
    return ("money", {}) if any(k == "money" for _, k, _ in terms) else (None, {})


def _staff_reach(det) -> str:
    y = det.get("year")
    if y is not None and det["max_hire"] > 0:
        hires = f"{num(det['fte_base'])} FTE now + up to {num(y * det['max_hire'])} hired by year {y}"
    else:
        hires = f"{num(det['fte_base'])} FTE now + {num(det['max_hire'])} hires a year"
    return f"{hires}, x {num(det['hpf'])} h, + {num(det['agency'])} agency hours"


def describe_bound(var, side: str, value: float, md=None, policy: bool = False) -> str:
    """One variable bound in words; `policy` says the bound was set by the policy, not the data."""
    fam = family_of(var)
    key = _key(var)
    by = " (set by the policy)" if policy else ""
    try:
        if fam == "x":
            s, m, y = key
            if side == "upper":
                if policy:
                    return f"{s} via {m} in year {y}: at most {num(value)} units (set by the policy)"
                kind, det = _x_cause(md, s, m, y, value)
                if kind == "staff":
                    return (f"{s} via {m} in year {y}: at most {num(value)} units, by the {det['role']} hours "
                            f"it can have ({num(det['per_unit'])} h a unit, at most {num(det['hours'])} h: "
                            f"{_staff_reach(det)})")
                if kind == "max_units":
                    return f"{s} via {m} in year {y}: at most {num(value)} units (the service's maximum)"
                if kind == "reach":
                    return (f"{s} via {m} in year {y}: at most {num(value)} units (its reach: "
                            f"{det['share']:.0%} of at most {num(det['nmax'])} people in {_kl(*det['need'])} need)")
                if kind == "money":
                    return f"{s} via {m} in year {y}: at most {num(value)} units (all the money there is)"
                return f"{s} via {m} in year {y}: at most {num(value)} units"
            return f"{s} via {m} in year {y}: at least {num(value)} units{by}"
        if fam == "n":
            k, l, y = key
            if side == "upper":
                return f"need of {_kl(k, l)} in year {y}: at most {num(value)} people (forward bound on need)"
            return f"need of {_kl(k, l)} in year {y} cannot be below {num(value)}"
        if fam == "fte":
            r, y = key
            if side == "lower":
                return f"at least {num(value)} FTE of {r} in year {y}{by}"
            return f"at most {num(value)} FTE of {r} in year {y}{by}"
        if fam == "hire":
            r, y = key
            if side == "upper":
                return f"at most {num(value)} FTE of {r} hired in year {y}{by or ' (hiring limit)'}"
            return f"at least {num(value)} FTE of {r} hired in year {y}{by}"
        if fam == "release":
            r, y = key
            if side == "upper":
                return f"at most {num(value)} FTE of {r} released in year {y}{by or ' (release limit)'}"
            return f"at least {num(value)} FTE of {r} released in year {y}{by}"
        if fam == "agency":
            r, y = key
            if side == "upper":
                return f"at most {num(value)} agency hours of {r} in year {y}{by or ' (agency limit)'}"
            return f"at least {num(value)} agency hours of {r} in year {y}{by}"
        if fam == "adopt":
            s, m = key
            if side == "upper" and value < 0.5:
                return f"{s} via {m} is not allowed{by or ''}" + ("" if policy else " (fixed off)")
            if side == "lower" and value > 0.5:
                return f"{s} via {m} must be adopted{by}"
            return f"{s} via {m} adopted or not ({'at most' if side == 'upper' else 'at least'} {num(value)})"
        if fam == "open":
            b, y = key
            if side == "lower" and value > 0.5:
                return f"{b} must stay open in year {y}" + (by or " (it cannot close)")
            if side == "upper" and value < 0.5:
                return f"{b} closed in year {y}{by}"
            return f"{b} open or closed in year {y} ({'at most' if side == 'upper' else 'at least'} {num(value)})"
        if fam == "extra":
            b, y = key
            if side == "upper":
                if value <= 0:
                    return f"no extended hours at {b} in year {y}{by}"
                return f"at most {num(value)} extended hours at {b} in year {y}{by}"
        if fam == "draw":
            f, y = key
            if side == "upper" and value <= 0:
                return f"no reserves drawn through {f} in year {y}{by}"
        if fam == "pool":
            (f,) = key
            if side == "upper" and value < 0.5:
                return f"{f} not pooled{by}"
            if side == "lower" and value > 0.5:
                return f"{f} pooled{by}"
            return f"{f} pooled or not ({'at most' if side == 'upper' else 'at least'} {num(value)})"
    except (TypeError, ValueError):
        pass
    noun = _var_noun(fam, key, md)
    if noun is None:
        noun = var.name
    if side == "lower" and abs(value) <= TOL and not policy:
        return f"{noun} cannot be negative"
    word = {"upper": "at most", "lower": "at least"}.get(side, "bounded by")
    shown = money(value, md) if fam in _MONEY_VARS else num(value)
    return f"{noun}: {word} {shown}{by}"


_MONEY_VARS = {"fund", "fund_overheads", "overspend", "draw"}


def _var_noun(fam: str, key: tuple, md=None) -> str | None:
    """A variable as a noun phrase: 'extended hours at riverside_school in year 2'."""
    try:
        if fam == "x":
            s, m, y = key
            return f"units of {s} via {m} in year {y}"
        if fam == "n":
            k, l, y = key
            return f"need of {_kl(k, l)} in year {y}"
        if fam in ("fte", "hire", "release", "agency"):
            r, y = key
            return {"fte": f"FTE of {r}", "hire": f"FTE of {r} hired", "release": f"FTE of {r} released",
                    "agency": f"agency hours of {r}"}[fam] + f" in year {y}"
        if fam == "adopt":
            s, m = key
            return f"adoption of {s} via {m}"
        if fam == "open":
            b, y = key
            return f"{b} open in year {y}"
        if fam == "use":
            s, b, y = key
            return f"hours of {s} at {b} in year {y}"
        if fam == "extra":
            b, y = key
            return f"extended hours at {b} in year {y}"
        if fam == "fund":
            f, s, y = key
            return f"money from {f} to {s} in year {y}"
        if fam == "fund_overheads":
            f, y = key
            return f"overheads paid by {f} in year {y}"
        if fam == "draw":
            f, y = key
            return f"reserves drawn through {f} in year {y}"
        if fam == "overspend":
            f, y = key
            return f"overspend of {f} in year {y}"
        if fam == "pool":
            (f,) = key
            return f"pooling of {f}"
    except (TypeError, ValueError):
        return None
    return None


# ---------------------------------------------------------------------------------------
# members of a conflict
# ---------------------------------------------------------------------------------------
@dataclass
class Member:
    """One row or column bound of a conflict, with the amount it would have to give alone."""
    kind: str  # "row" | "col"
    index: int
    side: str  # "lower" | "upper" | "both" | "free"
    obj: object  # ConstraintData / VarData, None for a row added outside the Pyomo model
    lower: float
    upper: float
    amount: float | None = None  # least relaxation of this member alone (its own units)
    extremum: float | None = None  # the row activity / column value at that relaxation
    policy: bool = False  # a column bound set by the policy
    fixed: bool = False  # an integer decision fixed at a plan (the fallback's second step)
    level: int | None = None  # where the amount was measured (see _Variant.level)
    unit: str | None = None  # None: the member's own units; "service_units" / "role_hours": the limit's

    @property
    def family(self) -> str:
        return family_of(self.obj) if self.obj is not None else "added_row"

    @property
    def key(self) -> tuple:
        return _key(self.obj) if self.obj is not None else ()

    @property
    def bound(self) -> float:
        return self.upper if self.side == "upper" else self.lower

    def words(self, md=None) -> str:
        if self.obj is None:
            return "a row added for this run (an objective hold or outcome target)"
        if self.kind == "row":
            return describe(self.obj, md, self.side)
        if self.fixed:
            return describe_bound(self.obj, self.side, self.bound, md, False) + " (as fixed in that plan)"
        return describe_bound(self.obj, self.side, self.bound, md, self.policy)


def violation_words(mem: Member, v: float, md=None) -> str:
    """How much member `mem` is over (or under) by `v` of its own units."""
    fam, key = mem.family, mem.key
    try:
        if mem.kind == "row":
            if fam == "statutory_duty":
                return f"short by {num(v)} people"
            if fam in ("coverage",):
                return f"{num(v)} more people served than are in need"
            if fam == "need_flow":
                return f"need {num(v)} people away from what the flow gives"
            if fam == "reach":
                return f"{num(v)} people beyond its reach"
            if fam in ("service_max", "service_min", "policy_units", "option_link"):
                over = mem.side == "upper"
                return f"{num(v)} units {'over' if over else 'under'} it"
            if fam == "staff_hours":
                return f"{num(v)} hours of {key[0]} more than staff and agency provide"
            if fam == "fte_balance":
                return f"{num(v)} FTE of {key[0]} unaccounted for"
            if fam in ("building_hours", "building_capacity", "extended_hours"):
                return f"{num(v)} building hours over"
            if fam in ("stream_limit", "service_funding", "overheads_funding", "ring_fence", "reserves"):
                return f"{money(v, md)} over"
        else:
            unit = {"x": "units", "n": "people", "fte": "FTE", "hire": "FTE", "release": "FTE",
                    "agency": "hours", "extra": "hours", "use": "hours"}.get(fam)
            if fam in ("fund", "fund_overheads", "overspend", "draw"):
                return f"{money(v, md)} {'over' if mem.side == 'upper' else 'under'} it"
            if unit:
                return f"{num(v)} {unit} {'over' if mem.side == 'upper' else 'under'} it"
    except (TypeError, ValueError, IndexError):
        pass
    return f"violated by {num(v)}"


# ---------------------------------------------------------------------------------------
# LP helpers (all on copies; the session's Highs object is never changed)
# ---------------------------------------------------------------------------------------
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
    try:  # the solver border's silent constructor (the banner would corrupt --format json)
        from .highs import new_highs
        h = new_highs()
    except ImportError:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
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


def _year(key):
    return key[-1] if key and isinstance(key[-1], (int, np.integer)) else None


def _ranges(years) -> str:
    ys = sorted(set(years))
    if not ys:
        return ""
    parts, a, b = [], ys[0], ys[0]
    for y in ys[1:]:
        if y == b + 1:
            b = y
            continue
        parts.append(f"{a}" if a == b else f"{a}-{b}")
        a = b = y
    parts.append(f"{a}" if a == b else f"{a}-{b}")
    return ("year " if len(ys) == 1 else "years ") + ", ".join(parts)


def _anchor(members: list[Member]) -> Member | None:
    cands = []
    for m in members:
        if m.kind != "row":
            continue
        f = m.family
        if f in ("added_row", "statutory_duty", "service_min") or (f == "policy_units" and m.side == "lower"):
            cands.append((ANCHORS.index(f), _year(m.key) or 0, m))
    if not cands:
        return None
    cands.sort(key=lambda t: (t[0], t[1]))
    return cands[0][2]


def _limit_phrase(m: Member, md) -> tuple[int, str, str, str] | None:
    """(rank, what is needed more, what does not allow it, detail) for a limiting member with an amount."""
    v = m.amount
    if v is None or v <= TOL:
        return None
    f, key = m.family, m.key
    if m.kind == "col" and f == "x" and m.side == "upper":
        s, mm, y = key
        if m.policy:
            return 3, f"{num(v)} units of {s} via {mm}", f"the policy's limit of {num(m.bound)} units", ""
        kind, det = _x_cause(md, s, mm, y, m.bound)
        if kind == "staff" and m.unit == "role_hours":
            return (0, f"{num(v)} staff hours of {det['role']}", "hiring and agency limits",
                    f"at least {num(det['hours'] + v)} h of {det['role']} needed in year {y}, at most "
                    f"{num(det['hours'])} h to be had ({_staff_reach(det)})")
        if kind == "staff":
            hours = v * det["per_unit"]
            need = (m.bound + v) * det["per_unit"]
            return (0, f"{num(hours)} staff hours of {det['role']}", "hiring and agency limits",
                    f"at least {num(need)} h of {det['role']} for {num(m.bound + v)} units of {s} via {mm} "
                    f"({num(det['per_unit'])} h a unit), at most {num(det['hours'])} h to be had "
                    f"({_staff_reach(det)})")
        if kind == "max_units":
            return 1, f"{num(v)} units of {s}", f"its maximum of {num(det['max'])} units", ""
        if kind == "reach":
            return (2, f"{num(v)} units of {s} via {mm}", f"that option's reach",
                    f"{det['share']:.0%} of at most {num(det['nmax'])} people in need")
        return 4, f"{num(v)} units of {s} via {mm}", f"its limit of {num(m.bound)} units", ""
    if m.kind == "row":
        if f == "staff_hours":
            r, y = key
            detail = ""
            if md is not None and r in md.d.get("hours_per_fte", {}):
                d = md.d
                det = {"fte_base": d["fte_base"][r], "max_hire": d["max_hire"][r], "hpf": d["hours_per_fte"][r],
                       "agency": d["max_agency_hours"][r], "year": y}
                hours = det["hpf"] * (det["fte_base"] + y * det["max_hire"]) + det["agency"]
                detail = f"at most {num(hours)} h of {r} to be had in year {y} ({_staff_reach(det)})"
            return 0, f"{num(v)} staff hours of {r}", "staff, hiring and agency limits", detail
        if f == "service_max":
            s, y = key
            return 1, f"{num(v)} units of {s}", f"its maximum of {num(m.upper)} units", ""
        if f == "policy_units" and m.side == "upper":
            s, y = key
            return 2, f"{num(v)} units of {s}", f"the policy's cap of {num(m.upper)} units", ""
        if f == "reach":
            s, mm, y = key
            return 2, f"{num(v)} people reached by {s} via {mm}", "that option's reach", ""
        if f in ("building_capacity", "extended_hours"):
            b, y = key
            return 3, f"{num(v)} building hours", f"{b}'s hours", ""
        if f == "stream_limit":
            fs, y = key
            return 5, money(v, md), f"the money of {fs}", ""
    if m.kind == "col" and m.side == "upper" and f in ("hire", "agency"):
        r, y = key
        unit = "FTE hired" if f == "hire" else "agency hours"
        return 1, f"{num(v)} {unit} of {r}", f"the {'hiring' if f == 'hire' else 'agency'} limit", ""
    if m.kind == "col" and f == "adopt" and m.side == "upper" and m.bound < 0.5:
        s, mm = key
        return 3, None, f"{s} via {mm}, which {'the policy does' if m.policy else 'the data do'} not allow", ""
    return None


def _limit_identity(m: Member, anchor: Member, md):
    """Which data limit an own-need member of the anchor's year stands for: ("service", s), ("role", r),
    ("x", (s, m)); None when it is not a limit on the anchor's own services in the anchor's year."""
    if md is None or anchor.family != "statutory_duty":
        return None
    k, l, y = anchor.key
    own = set(md.d["services_of_need"].get((k, l), ()))
    f, key = m.family, m.key
    try:
        if m.kind == "col" and f == "x" and m.side == "upper" and key[0] in own and key[2] == y:
            if m.policy:
                return ("x", (key[0], key[1]))
            kind, det = _x_cause(md, key[0], key[1], y, m.bound)
            if kind == "max_units":
                return ("service", key[0])
            if kind == "staff":
                return ("role", det["role"])
            return ("x", (key[0], key[1]))
        if m.kind == "row" and f == "service_max" and key[0] in own and key[1] == y:
            return ("service", key[0])
        if m.kind == "row" and f == "policy_units" and m.side == "upper" and key[0] in own and key[1] == y:
            return ("service", key[0])
        if m.kind == "row" and f == "staff_hours" and key[1] == y:
            if any(key[0] in md.d["staff_hours"].get(o, {}) for s in own for o in md.d["options_of"][s]):
                return ("role", key[0])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _through_anchor(anchor: Member, lim: Member, limits: list[Member], md):
    """(amount, unit) of the limit implied by the anchor's shortfall (people short -> units -> hours).

    The anchor's shortfall is measured on every constraint up to its year, so where the limit is the
    only one on the duty's own services in that year, this is the amount the data imply. None where
    that is ambiguous (several different limits, or options serving different numbers per unit).
    """
    if md is None or anchor.family != "statutory_duty" or anchor.amount is None or anchor.amount <= TOL:
        return None
    mine = _limit_identity(lim, anchor, md)
    if mine is None:
        return None
    if any(_limit_identity(m, anchor, md) not in (None, mine) for m in limits):
        return None
    k, l, y = anchor.key
    own = md.d["services_of_need"].get((k, l), ())
    kind, what = mine
    if kind == "x":
        spu = md.d["served_per_unit"][what]
        return (anchor.amount / spu, None) if spu > 0 else None
    if kind == "service":
        spus = {md.d["served_per_unit"][o] for o in md.d["options_of"][what]}
        if len(spus) != 1 or min(spus) <= 0:
            return None
        return anchor.amount / spus.pop(), ("service_units" if lim.kind == "col" else None)
    users = [o for s in own for o in md.d["options_of"][s] if what in md.d["staff_hours"].get(o, {})]
    ratios = {md.d["staff_hours"][o][what] / md.d["served_per_unit"][o] for o in users
              if md.d["served_per_unit"][o] > 0}
    if len(ratios) != 1:
        return None
    return anchor.amount * ratios.pop(), ("role_hours" if lim.kind == "col" else None)


def _anchor_words(a: Member, md) -> str:
    f, key = a.family, a.key
    if f == "added_row":
        return "the row added for this run (an outcome target or objective hold)"
    if f == "statutory_duty":
        k, l, y = key
        return f"statutory duty for {_kl(k, l)} in year {y}"
    if f == "service_min":
        s, y = key
        return f"the minimum of {num(a.lower)} units of {s} in year {y}"
    s, y = key
    return f"the policy's floor of {num(a.lower)} units of {s} in year {y}"


def _iis_lines(ex: _Explainer, members: list[Member], variants=None) -> list[str]:
    md = ex.md
    lines: list[str] = []
    anchor = _anchor(members)
    limits = [m for m in members if m is not anchor and m.family not in IDENTITIES]
    ranked = sorted((p for p in ((_limit_phrase(m, md), m) for m in limits) if p[0] is not None),
                    key=lambda t: (t[0][0], -(t[1].amount or 0)))
    # prefer a limit in the anchor's own service/need and year
    if anchor is not None and ranked:
        ay = _year(anchor.key)
        same = [t for t in ranked if _year(t[1].key) == ay]
        ranked = same + [t for t in ranked if t not in same]
    used = set()
    if anchor is not None and ranked:
        # say the primary limit's amount through the anchor's own shortfall (measured on the whole model
        # up to the conflict's year) where the limit is the anchor's own service in the same year
        lim = ranked[0][1]
        res = _through_anchor(anchor, lim, limits, md)
        if res is not None:
            lim.amount, lim.unit = res
            again = _limit_phrase(lim, md)
            if again is not None:
                ranked[0] = (again, lim)
    if anchor is not None:
        head = _anchor_words(anchor, md)
        others = [m for m in members if m is not anchor and _anchor([m]) is not None]
        if len(others) == 1:
            o = _anchor_words(others[0], md)
            head += f" together with {o if o.startswith('the ') else 'the ' + o}"
            used.add(id(others[0]))
        elif others:
            count = defaultdict(int)
            for m in others:
                count[m.family] += 1
            words = {"added_row": ("added row", "added rows"),
                     "statutory_duty": ("statutory duty", "statutory duties"),
                     "service_min": ("service minimum", "service minimums"),
                     "policy_units": ("policy floor", "policy floors")}
            order = sorted(count.items(), key=lambda t: ANCHORS.index(t[0]))
            parts = [f"{c} other {words[f][c > 1]}" for f, c in order]
            head += " together with " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) \
                + " (below)"
        detail = []
        if anchor.family == "statutory_duty" and anchor.amount is not None:
            k, l, y = anchor.key
            blk = anchor.obj.parent_block()
            nvar = getattr(blk, "n", None)
            if nvar is not None and (k, l, y) in nvar:
                j = ex.s.col_of.get(id(nvar[k, l, y]))
                least = None
                for var in (variants or []):
                    if j is None or ex.left() <= 0:
                        break
                    if anchor.kind == "row" and anchor.index not in var.pos:
                        continue
                    least = var.least(j, anchor)
                    if least is not None:
                        break
                if least is not None:
                    cov = _md(md, "coverage", (k, l), default=None)
                    duty = f" (the duty covers {cov:.0%})" if cov is not None and cov < 1 else ""
                    detail.append(f"at least {num(least)} people in {_kl(k, l)} need in year {y}{duty}")
            detail.append(violation_words(anchor, anchor.amount, md))
        idents = {_limit_identity(m, anchor, md) for m in limits} - {None}
        if len(idents) > 1 and all(i[0] == "service" for i in idents) and anchor.amount:
            # several services of the duty's need, each at its maximum: say the gap once, in people
            names = sorted(i[1] for i in idents)
            lines.append(f"{head} needs {num(anchor.amount)} more people served than the maximums of "
                         f"{', '.join(names[:-1])} and {names[-1]} allow: " + ", ".join(detail[:-1] or detail))
            used.update(id(m) for m in limits if _limit_identity(m, anchor, md) is not None)
        elif ranked:
            (rank, more, allow, why), lim = ranked[0]
            used.add(id(lim))
            tail = "; ".join(p for p in (why, ", ".join(detail)) if p)
            if more is None:
                lines.append(f"{head} cannot be met without {allow}" + (f": {tail}" if tail else ""))
            else:
                lines.append(f"{head} needs {more} more than {allow} allow" + (f": {tail}" if tail else ""))
        else:
            tail = f": {', '.join(detail)}" if detail else ""
            lines.append(f"{head} cannot be met{tail}")
        used.add(id(anchor))
        lead = _lead_note(ex, anchor)
        if lead:
            lines.append(lead)
    elif ranked:
        (rank, more, allow, why), lim = ranked[0]
        used.add(id(lim))
        if more is None:
            lines.append(f"the constraints below cannot be met without {allow}")
        else:
            lines.append(f"the constraints below need {more} more than {allow} allow" + (f": {why}" if why else ""))
    rest = [m for m in limits if id(m) not in used]
    natural = [m for m in rest if _natural(m)]
    rest = [m for m in rest if not _natural(m)]
    rest.sort(key=lambda m: (_ORDER.index(m.family) if m.family in _ORDER else len(_ORDER), m.family,
                             str(m.key)))
    for m in rest[:MAX_LISTED]:
        amt = ""
        if m.amount and m.amount > TOL:
            aside = "" if m.level == 0 else ", other limits aside"
            amt = f" (relaxing it by {_amount_words(m, md)} would resolve this conflict{aside})"
        lines.append(f"also binding: {m.words(md)}{amt}")
    if len(rest) > MAX_LISTED:
        fams = defaultdict(int)
        for m in rest[MAX_LISTED:]:
            fams[m.family] += 1
        lines.append("also binding: " + ", ".join(f"{c} more {_LABEL.get(f, f)}" for f, c in sorted(fams.items())))
    flows = defaultdict(list)
    parts = []
    for m in members:
        if m.family in IDENTITIES and m.kind == "row":
            k = m.key
            flows[(m.family, k[:-1])].append(_year(k))
    if flows:
        for (fam, sub), ys in sorted(flows.items(), key=lambda t: (t[0][0], str(t[0][1]))):
            label = {"need_flow": "need flow", "fte_balance": "FTE balance", "building_hours": "building hours",
                     "service_funding": "funding", "overheads_funding": "overheads"}.get(fam, fam)
            who = "/".join(str(x) for x in sub)
            yrs = _ranges([y for y in ys if y is not None])
            parts.append(" ".join(p for p in (label, who, yrs) if p))
    if natural:
        parts.append(f"the natural range of {len(natural)} variable(s) ("
                     + ", ".join(m.obj.name for m in natural[:4]) + (", ..." if len(natural) > 4 else "") + ")")
    if parts:
        lines.append("through: " + "; ".join(parts))
    return lines


# the order in which "also binding" members are listed: other demands first, then the limits
_ORDER = ("statutory_duty", "service_min", "policy_units", "coverage", "service_max", "staff_hours", "hire",
          "agency", "release", "fte", "x", "reach", "option_link", "adopt", "building_capacity", "extended_hours",
          "open", "extra", "closure", "stream_limit", "ring_fence", "reserves", "pool", "draw")
_LABEL = {"x": "limits on units of an option", "n": "bounds on need", "statutory_duty": "statutory duties",
          "service_min": "service minimums", "service_max": "service maximums", "policy_units": "policy bounds",
          "staff_hours": "staff-hour rows", "hire": "hiring limits", "agency": "agency limits",
          "release": "release limits", "fte": "FTE bounds", "reach": "reach limits", "option_link": "option links",
          "adopt": "adoption fixings", "building_capacity": "building capacities", "extended_hours":
          "extended-hour limits", "open": "building fixings", "extra": "extended-hour bounds",
          "coverage": "coverage rows", "closure": "closure rows", "stream_limit": "stream limits"}


def _natural(m: Member) -> bool:
    """A variable's own range (units cannot be negative, a building is at most fully open): not a choice."""
    if m.kind != "col" or m.policy or m.fixed:
        return False
    if m.side == "lower" and abs(m.bound) <= TOL:
        return True
    return m.side == "upper" and m.family in ("open", "adopt", "pool") and m.bound >= 1 - TOL


def _amount_words(m: Member, md) -> str:
    """An amount in the member's own units (for "raising it by ...")."""
    v, f = m.amount, m.family
    if m.kind == "col":
        if f == "x":
            kind, det = _x_cause(md, *m.key, m.bound) if m.side == "upper" and not m.policy else (None, {})
            if m.unit == "role_hours" and kind == "staff":
                return f"{num(v)} h of {det['role']}"
            if m.unit == "service_units":
                return f"{num(v)} units of {m.key[0]} in all"
            if kind == "staff":
                return f"{num(v)} units ({num(v * det['per_unit'])} h of {det['role']})"
            return f"{num(v)} units"
        unit = {"n": "people", "fte": "FTE", "hire": "FTE", "release": "FTE", "agency": "hours",
                "extra": "hours", "use": "hours"}.get(f)
        if f in ("fund", "fund_overheads", "overspend", "draw"):
            return money(v, md)
        return f"{num(v)} {unit}" if unit else num(v)
    unit = {"statutory_duty": "people", "coverage": "people", "reach": "people", "need_flow": "people",
            "service_max": "units", "service_min": "units", "policy_units": "units", "option_link": "units",
            "staff_hours": "hours", "fte_balance": "FTE", "building_hours": "hours",
            "building_capacity": "hours", "extended_hours": "hours"}.get(f)
    if f in ("stream_limit", "service_funding", "overheads_funding", "ring_fence", "reserves"):
        return money(v, md)
    return f"{num(v)} {unit}" if unit else num(v)


def _lead_note(ex: _Explainer, anchor: Member) -> str | None:
    """Options for the anchor's need that do not exist yet in its year (lead times)."""
    md = ex.md
    if md is None or anchor.family != "statutory_duty":
        return None
    k, l, y = anchor.key
    waiting = []
    for s in md.d.get("services_of_need", {}).get((k, l), ()):
        for o in md.d["options_of"][s]:
            lead = md.d["lead"][o]
            if lead >= y:
                waiting.append(f"{o[0]} via {o[1]} (lead time: from year {lead + 1})")
    if not waiting:
        return None
    more = f"; and {len(waiting) - 4} more" if len(waiting) > 4 else ""
    return "not yet available in that year: " + "; ".join(waiting[:4]) + more


def _slack_lines(ex: _Explainer, rslack, cslack, top: int = MAX_LISTED) -> tuple[list[str], list[tuple[str, float]]]:
    md = ex.md
    items = []
    for i in np.flatnonzero(np.abs(rslack) > 1e-6):
        obj = ex.row_obj(int(i))
        side = "upper" if rslack[i] > 0 else "lower"
        m = Member("row", int(i), side, obj, ex.row_lower[i], ex.row_upper[i], amount=abs(float(rslack[i])))
        items.append(m)
    for j in np.flatnonzero(np.abs(cslack) > 1e-6):
        side = "upper" if cslack[j] > 0 else "lower"
        m = Member("col", int(j), side, ex.col_obj(int(j)), ex.col_lower[j], ex.col_upper[j],
                   amount=abs(float(cslack[j])), policy=ex.is_policy(int(j), side))
        items.append(m)
    items.sort(key=lambda m: (ANCHORS.index(m.family) if m.family in ANCHORS else 9, _year(m.key) or 0,
                              -m.amount))
    lines = []
    for m in items[:top]:
        lines.append(f"{m.words(md)}: {violation_words(m, m.amount, md)}")
    fams = defaultdict(list)
    for m in items:
        fams[m.family].append(m)
    if len(items) > top or len(fams) > 1:
        summ = []
        for f, ms in sorted(fams.items()):
            yrs = _ranges([_year(m.key) for m in ms if _year(m.key) is not None])
            summ.append(f"{f}: {len(ms)} {'row' if ms[0].kind == 'row' else 'bound'}(s)"
                        + (f" in {yrs}" if yrs else ""))
        lines.append("slack needed by family: " + "; ".join(summ))
    names = [((m.obj.name if m.obj is not None else f"row {m.index}"), m.amount) for m in items]
    return lines, names


def explain(session, md=None, time_limit: float = 30.0, use_iis: bool = True) -> Explanation:
    """The conflict behind an infeasible session, found and said (see the module docstring).

    `use_iis=False` goes straight to the elastic re-solve (as when HiGHS gives no IIS in time).
    """
    ex = _Explainer(session, md, time_limit)
    has_int = bool(ex.integer.any())
    iis, reason, first, rows = ex.find_conflict(use_iis=use_iis)
    if iis is not None:
        members = ex.members(iis, ex.col_lower, ex.col_upper, rows)
        variants = ex.amounts(members, ex.col_lower, ex.col_upper, rows)
        lines = _iis_lines(ex, members, variants)
        what = "the LP" if not has_int else (
            "the LP relaxation (integer decisions such as options adopted, buildings open and pooling allowed "
            "to be fractional: a conflict there is a conflict for every integer plan)")
        when = f"; year {first} is the first year with no plan" if first is not None else ""
        lines.append(f"(found by the HiGHS IIS, {reason}, {len(members)} constraints and bounds, on {what}{when}; "
                     f"each amount is the least relaxation of that one constraint with every other constraint up "
                     f"to that year in force; resolving this conflict may reveal further ones)")
        return Explanation(lines, "iis", has_int, members, seconds=time.perf_counter() - ex.t0, notes=ex.notes,
                           first_year=first)

    # fallback: elastic re-solve with integers kept
    if reason == "feasible" and not has_int:
        lines = ["the model as the session holds it is feasible: there is no conflict to explain (was a row "
                 "added for the run, such as an outcome target, removed before this call?)"]
        return Explanation(lines, "none", has_int, seconds=time.perf_counter() - ex.t0, notes=ex.notes)
    why = "the LP relaxation is feasible" if reason == "feasible" else reason
    res = ex.elastic(max(1e-3, ex.left()))
    if res is None:
        lines = [f"no conflict could be identified within {time_limit:g} s ({why})"]
        return Explanation(lines, "none", has_int, seconds=time.perf_counter() - ex.t0, notes=ex.notes)
    if reason == "feasible" and (np.any(res[0]) or np.any(res[1])):
        why += (": the model is infeasible only through its integer decisions (options adopted, buildings open, "
                "pooling)")
    rslack, cslack, xval, soft_cols, est = res
    body, names = _slack_lines(ex, rslack, cslack)
    if not body:
        lines = [f"the model as the session holds it has a plan: an elastic re-solve needed no slack ({why}); "
                 f"there is no conflict to explain"]
        return Explanation(lines, "none", has_int, seconds=time.perf_counter() - ex.t0, notes=ex.notes)
    kept = "integer decisions kept, " if has_int else ""
    cols = "and variable bounds " if soft_cols else ""
    lines = body + [f"(no IIS: {why}; an elastic re-solve ({kept}accounting identities hard) found the least "
                    f"slack on the other constraints {cols}that makes the model feasible"
                    f"{'' if est == highspy.HighsStatus.kOk else ' (HiGHS warned: the slack may not be the least)'}; "
                    f"amounts in each constraint's own units)"]
    method = "elastic"
    members: list[Member] = []
    # with integers: the conflict given the integer decisions of that nearest plan
    if has_int and use_iis and ex.left() > 0:
        cl, cu = ex.col_lower.copy(), ex.col_upper.copy()
        vals = np.clip(np.round(xval[ex.integer]), cl[ex.integer], cu[ex.integer])
        cl[ex.integer], cu[ex.integer] = vals, vals
        fiis, freason, first, rows = ex.find_conflict(cl, cu)
        if fiis is not None:
            members = ex.members(fiis, cl, cu, rows)
            for m in members:
                if m.kind == "col" and ex.integer[m.index]:
                    m.fixed = True
            variants = ex.amounts(members, cl, cu, rows)
            flines = _iis_lines(ex, members, variants)
            lines += ["with the integer decisions fixed as in that nearest plan: " + flines[0]] + flines[1:]
            when = f"; year {first} is the first year with no plan" if first is not None else ""
            lines.append(f"(HiGHS IIS, {freason}, on the LP with integer decisions fixed at the elastic plan{when})")
            method = "elastic+iis_fixed"
    return Explanation(lines, method, has_int, members, slacks=names, seconds=time.perf_counter() - ex.t0,
                       notes=ex.notes)


def explain_infeasible(session, md=None, time_limit: float = 30.0) -> list[str]:
    """The conflicting constraints of an infeasible session, one sentence each (the last says how)."""
    return explain(session, md, time_limit).lines
