"""Constraints, bounds and conflict members in the analyst's words.

`describe(con, md)` turns one constraint into words, `describe_bound(var, side, value, md)` one
variable bound; the conflict reports and the result reports reuse both. A constraint family has
the same name here as in the model (docs/formulation.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

TOL = 1e-6

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
    """'duty_met' for demand.duty_met[looked_after_children,4]."""
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


def _site_class(md, k) -> str:
    """The services sharing one set of compatible buildings (the model places their hours together)."""
    classes = getattr(md, "d", {}).get("site_classes", {}) if md is not None else {}
    if k not in classes:
        return str(k)
    services = list(classes[k][0])
    return ", ".join(services[:3]) + (f" and {len(services) - 3} more" if len(services) > 3 else "")


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
        if fam == "duty_met":
            duty, y = key
            info = _duty(md, duty)
            if info is None:
                return f"statutory duty {duty} in year {y}"
            need = f" ({_kl(*info['need'])})" if _kl(*info["need"]) != duty else ""
            return (f"statutory duty {duty}{need} in year {y} (its services serve "
                    f"{info['coverage']:.0%} of the people in need)")
        if fam == "duty_mix_min":
            duty, s, y = key
            share = (_duty(md, duty) or {}).get("services", {}).get(s, (None, None, None))[1]
            what = f"at least {share:.0%} of what duty {duty} requires" if share is not None else f"its share of duty {duty}"
            return f"{s} in year {y} serves {what}"
        if fam == "duty_mix_max":
            duty, s, y = key
            share = (_duty(md, duty) or {}).get("services", {}).get(s, (None, None, None))[2]
            what = f"at most {share:.0%} of the people in need" if share is not None else "at most its share of need"
            return f"{s} in year {y} serves {what} (suitability, duty {duty})"
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
        if fam == "share_cap":
            s, m, y = key
            share = _md(md, "max_share", (s, m))
            what = f"{share:.0%} of {s}'s units" if share is not None else "its share of the service's units"
            return f"{s} via {m} in year {y} delivers at most {what}"
        if fam == "pace_growth":
            s, y = key
            g = _md(md, "max_growth", s)
            return f"pace of growth of {s} in year {y}" + (f" (at most {g:.0%} more units than last year)" if g is not None else "")
        if fam == "pace_decline":
            s, y = key
            d = _md(md, "max_decline", s)
            return f"pace of decline of {s} in year {y}" + (f" (at most {d:.0%} fewer units than last year)" if d is not None else "")
        if fam == "exit_rate":
            s, y = key
            cur = _md(md, "current_of", s)
            e = _md(md, "exit_rate", cur) if cur is not None else None
            return (f"people leaving {s}'s current provision in year {y}"
                    + (f" (at most {e:.0%} of last year's units)" if e is not None else ""))
        if fam == "full_effect":
            s, y = key
            f = _md(md, "full_effect_units", s)
            return (f"units of {s} at full effect in year {y}"
                    + (f" (at most {num(f)}; more reach harder-to-help people at a smaller effect)" if f is not None else ""))
        if fam == "beyond_link":
            s, m, y = key
            return f"units of {s} via {m} past full effect in year {y} (no more than it delivers)"
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
            k, y = key
            return f"building hours of {_site_class(md, k)} in year {y} (placed in compatible buildings)"
        if fam == "site_open":
            k, b, y = key
            return f"hours of {_site_class(md, k)} in {b} in year {y} (only while it is open)"
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
        if fam == "staff_funding":
            r, y = key
            return f"funding of {r}'s staff in year {y} (paid by the overheads streams or a stream covering its services)"
        if fam == "overheads_funding":
            (y,) = key
            return f"overheads in year {y} (buildings, setup and pooling paid by the overheads streams)"
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


def _duty(md, duty: str) -> dict | None:
    """The duty's {need, coverage, services: {s: (counts_as, min_share, max_share)}}, or None."""
    return _md(md, "duties", duty)


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
    share = min(1.0, d["max_share"][(s, m)])
    terms.append((d["max_units"][s] * share, "max_units", {"max": d["max_units"][s], "share": share}))
    kl = d["service_need"][s]
    spu = d["served_per_unit"][(s, m)]
    if spu > 0:
        terms.append((d["nmax"][(*kl, y)] / spu, "need", {"nmax": d["nmax"][(*kl, y)], "need": kl}))
    if d["unit_price"][(s, m, y)] > 0:
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
                    share = "" if det["share"] >= 1 else f"{det['share']:.0%} of "
                    return f"{s} via {m} in year {y}: at most {num(value)} units ({share}the service's maximum)"
                if kind == "need":
                    return (f"{s} via {m} in year {y}: at most {num(value)} units (no more than the at most "
                            f"{num(det['nmax'])} people in {_kl(*det['need'])} need)")
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
        if fam == "above":
            s, y = key
            if side == "upper":
                return f"{s} in year {y}: at most {num(value)} units above the policy's{by}"
        if fam == "idle":
            s, y = key
            if side == "upper":
                return f"at most {num(value)} idle units of {s} in year {y}{by}"
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


_MONEY_VARS = {"fund", "fund_staff", "fund_overheads", "overspend", "draw"}


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
        if fam == "fund_staff":
            f, r, y = key
            return f"money from {f} to {r}'s staff in year {y}"
        if fam == "idle":
            s, y = key
            return f"idle units of {s} in year {y}"
        if fam == "above":
            s, y = key
            return f"units of {s} above the policy's in year {y}"
        if fam == "beyond":
            s, m, y = key
            return f"units of {s} via {m} past full effect in year {y}"
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
            if fam in ("duty_met", "duty_mix_min"):
                return f"short by {num(v)} people"
            if fam in ("coverage",):
                return f"{num(v)} more people served than are in need"
            if fam == "need_flow":
                return f"need {num(v)} people away from what the flow gives"
            if fam == "duty_mix_max":
                return f"{num(v)} people more than its share"
            if fam in ("service_max", "service_min", "policy_units", "option_link", "share_cap", "pace_growth",
                       "pace_decline", "exit_rate", "full_effect"):
                over = mem.side == "upper"
                return f"{num(v)} units {'over' if over else 'under'} it"
            if fam == "staff_hours":
                return f"{num(v)} hours of {key[0]} more than staff and agency provide"
            if fam == "fte_balance":
                return f"{num(v)} FTE of {key[0]} unaccounted for"
            if fam in ("building_hours", "building_capacity", "extended_hours", "site_open"):
                return f"{num(v)} building hours over"
            if fam in ("stream_limit", "service_funding", "staff_funding", "overheads_funding", "ring_fence", "reserves"):
                return f"{money(v, md)} over"
        else:
            unit = {"x": "units", "n": "people", "fte": "FTE", "hire": "FTE", "release": "FTE",
                    "agency": "hours", "extra": "hours", "use": "hours"}.get(fam)
            if fam in _MONEY_VARS:
                return f"{money(v, md)} {'over' if mem.side == 'upper' else 'under'} it"
            if unit:
                return f"{num(v)} {unit} {'over' if mem.side == 'upper' else 'under'} it"
    except (TypeError, ValueError, IndexError):
        pass
    return f"violated by {num(v)}"


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


# the order in which "also binding" members are listed: other demands first, then the limits
_ORDER = ("duty_met", "duty_mix_min", "service_min", "policy_units", "coverage", "duty_mix_max", "service_max",
          "pace_growth", "pace_decline", "exit_rate", "staff_hours", "hire", "agency", "release", "fte", "x",
          "share_cap", "full_effect", "option_link", "adopt", "building_capacity", "extended_hours", "site_open", "open",
          "extra",
          "closure", "stream_limit", "ring_fence", "reserves", "pool", "draw")
_LABEL = {"x": "limits on units of an option", "n": "bounds on need", "duty_met": "statutory duties",
          "duty_mix_min": "duty minimum shares", "duty_mix_max": "duty maximum shares",
          "service_min": "service minimums", "service_max": "service maximums", "policy_units": "policy bounds",
          "pace_growth": "growth limits", "pace_decline": "decline limits", "exit_rate": "exit rates",
          "staff_hours": "staff-hour rows", "hire": "hiring limits", "agency": "agency limits",
          "release": "release limits", "fte": "FTE bounds", "share_cap": "option shares", "option_link": "option links",
          "full_effect": "full-effect limits",
          "adopt": "adoption fixings", "building_capacity": "building capacities", "extended_hours":
          "extended-hour limits", "site_open": "open-building limits", "open": "building fixings", "extra": "extended-hour bounds",
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
        if f in _MONEY_VARS:
            return money(v, md)
        return f"{num(v)} {unit}" if unit else num(v)
    unit = {"duty_met": "people", "duty_mix_min": "people", "duty_mix_max": "people", "coverage": "people",
            "need_flow": "people", "service_max": "units", "service_min": "units", "policy_units": "units",
            "option_link": "units", "share_cap": "units", "pace_growth": "units", "pace_decline": "units",
            "exit_rate": "units", "full_effect": "units",
            "staff_hours": "hours", "fte_balance": "FTE", "building_hours": "hours",
            "building_capacity": "hours", "extended_hours": "hours", "site_open": "hours"}.get(f)
    if f in ("stream_limit", "service_funding", "staff_funding", "overheads_funding", "ring_fence", "reserves"):
        return money(v, md)
    return f"{num(v)} {unit}" if unit else num(v)

