"""Independent checks of the workforce and the buildings: staff hours, FTE balance and limits;
building hours, capacity, extended hours, closures (one way, after their lead time, none after
the horizon) and their costs."""
from __future__ import annotations

from collections import defaultdict

from .context import RESULT_COLUMNS, _Ctx, _building_rows, _closes, _gbp, _num, _q, _units, _use

def _check_workforce(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    wf = ctx.keyed("workforce", ("role", "year"), RESULT_COLUMNS["workforce"][2:])
    units = _units(ctx)
    if wf is None or units is None:
        return out
    for rl in set(p["staff_hours"]) - set(p["roles"]):
        if any(ctx.over(h * units[(*o, y)], 0.0) for o, h in p["staff_hours"][rl].items() for y in ctx.years):
            out.append(f"staff_hours: options use hours of role '{rl}', which is not in the workforce table")
    for rl in p["roles"]:
        prev = p["fte_base"][rl]
        for y in ctx.years:
            if (rl, y) not in wf:
                out.append(f"fte_balance: the workforce table has no row for {rl} year {y}")
                prev = None
                continue
            v = wf[(rl, y)]
            fte, hires, rel, agency = (_num(v[c]) for c in ("fte", "hires", "releases", "agency_hours"))
            needed = sum(h * units[(*o, y)] for o, h in p["staff_hours"].get(rl, {}).items())
            if ctx.off(_num(v["hours_needed"]), needed):
                out.append(f"staff_hours: {rl} year {y} reports hours_needed {_q(_num(v['hours_needed']))}, "
                           f"the units need {_q(needed)}")
            have = p["hours_per_fte"][rl] * fte + agency
            if ctx.over(needed, have):
                out.append(f"staff_hours: {rl} year {y} needs {_q(needed)} hours > {_q(p['hours_per_fte'][rl])} x "
                           f"{_q(fte)} FTE + {_q(agency)} agency hours = {_q(have)}")
            if prev is not None and ctx.off(fte, prev + hires - rel):
                out.append(f"fte_balance: {rl} year {y} has {_q(fte)} FTE != {_q(prev)} + hires {_q(hires)} "
                           f"- releases {_q(rel)} = {_q(prev + hires - rel)}")
            for name, val, cap, fam in (("hires", hires, p["max_hire"][rl], "hire_limit"),
                                        ("releases", rel, p["max_release"][rl], "release_limit"),
                                        ("agency hours", agency, p["max_agency_hours"][rl], "agency_limit")):
                if ctx.over(val, cap):
                    out.append(f"{fam}: {rl} year {y} {name} {_q(val)} > {_q(cap)}")
                if val < -ctx.tol:
                    out.append(f"{fam}: {rl} year {y} has negative {name} {_q(val)}")
            if fte < -ctx.tol:
                out.append(f"fte_balance: {rl} year {y} has negative FTE {_q(fte)}")
            for col, expected in (("staff_cost", p["cost_per_fte"][rl] * fte),
                                  ("agency_cost", p["agency_cost_per_hour"][rl] * agency),
                                  ("redundancy_cost", p["redundancy_cost"][rl] * rel)):
                if ctx.money_off(_num(v[col]), expected):
                    out.append(f"workforce_cost: {rl} year {y} reports {col} {_gbp(_num(v[col]))}, "
                               f"expected {_gbp(expected)}")
            prev = fte
    return out


def _check_building_hours(ctx: _Ctx) -> list[str]:
    """Per service and year, building_use hours = the hours its options need, in compatible buildings."""
    p, out = ctx.p, []
    use, units = _use(ctx), _units(ctx)
    if use is None or units is None:
        return out
    placed = defaultdict(float)
    for (s, b, y), h in use.items():
        placed[(s, y)] += h
        if h < -ctx.tol:
            out.append(f"building_hours: {s} uses negative hours {_q(h)} in {b} year {y}")
        if not ctx.over(abs(h), 0.0):
            continue
        if b not in p["building_type"]:
            out.append(f"building_hours: {s} uses {_q(h)} hours in '{b}', which is not a building, year {y}")
            continue
        if s not in p["building_types"]:
            out.append(f"building_hours: '{s}' is not a service but uses {_q(h)} hours in {b} year {y}")
            continue
        types = p["building_types"][s]
        if not ("*" in types or p["building_type"][b] in types):
            out.append(f"building_type: {s} uses {_q(h)} hours in {b} (a {p['building_type'][b]}) in year {y}, "
                       f"not among its building types [{';'.join(types)}]")
    for s in p["services"]:
        for y in ctx.years:
            needed = sum(p["building_hours"].get(o, 0.0) * units[(*o, y)] for o in p["options_of"][s])
            if ctx.off(placed[(s, y)], needed):
                out.append(f"building_hours: {s} year {y} is placed for {_q(placed[(s, y)])} building hours, "
                           f"its units need {_q(needed)}")
    return out


def _check_buildings(ctx: _Ctx) -> list[str]:
    """Capacity, extended hours, open flags one-way, buildings that may not close, and the cost columns."""
    p, out = ctx.p, []
    rows, use = _building_rows(ctx), _use(ctx)
    if rows is None:
        return out
    used = defaultdict(float)
    for (s, b, y), h in (use or {}).items():
        used[(b, y)] += h
    for b in p["buildings"]:
        prev_open = 1.0  # open in the base year
        for y in ctx.years:
            if (b, y) not in rows:
                out.append(f"building_open: the buildings table has no row for {b} year {y}")
                continue
            v = rows[(b, y)]
            op, ext = _num(v["open"]), _num(v["extended_hours"])
            if min(abs(op), abs(op - 1)) > ctx.tol:
                out.append(f"building_open: {b} year {y} has open = {op:g}, not 0 or 1")
            if op - prev_open > ctx.tol:
                out.append(f"closure: {b} reopens in year {y} (open {op:g} after {prev_open:g})")
            if not p["can_close"][b] and op < 1 - ctx.tol:
                out.append(f"closure: {b} may not close but is closed in year {y}")
            elif op < 1 - ctx.tol and y <= p["closure_lead"].get(b, 0):
                out.append(f"closure_lead: {b} is closed in year {y}, inside its {p['closure_lead'][b]}-year "
                           f"consultation before a closure can take effect")
            if y > ctx.H and op < prev_open - ctx.tol:
                out.append(f"closure: {b} closes in year {y}, after the horizon (year {ctx.H}): closures are decisions")
            prev_open = op
            if use is not None and ctx.off(_num(v["hours_used"]), used[(b, y)]):
                out.append(f"building_capacity: {b} year {y} reports hours_used {_q(_num(v['hours_used']))}, "
                           f"building_use sums to {_q(used[(b, y)])}")
            cap = p["b_hours_available"][b] * op + ext
            if use is not None and ctx.over(used[(b, y)], cap):
                out.append(f"building_capacity: {b} year {y} uses {_q(used[(b, y)])} hours > "
                           f"{_q(p['b_hours_available'][b])} x open {op:g} + extended {_q(ext)} = {_q(cap)}")
            if ctx.over(ext, p["b_extendable_hours"][b] * op):
                out.append(f"extended_hours: {b} year {y} extends {_q(ext)} hours > extendable "
                           f"{_q(p['b_extendable_hours'][b])} x open {op:g}")
            if ext < -ctx.tol:
                out.append(f"extended_hours: {b} year {y} has negative extended hours {_q(ext)}")
            closes = _closes(ctx, b, y)
            hours = used[(b, y)] if use is not None else _num(v["hours_used"])
            for col, expected in (("fixed_cost", p["b_fixed_cost"][b] * op),
                                  ("hours_cost", p["b_cost_per_hour"][b] * hours),
                                  ("extended_cost", p["b_extended_cost_per_hour"][b] * ext),
                                  ("closure_cost", p["b_closure_cost"][b] * closes),
                                  ("capital_receipt", p["b_capital_receipt"][b] * closes)):
                if ctx.money_off(_num(v[col]), expected):
                    out.append(f"building_cost: {b} year {y} reports {col} {_gbp(_num(v[col]))}, "
                               f"expected {_gbp(expected)}")
    for (b, y) in rows:
        if b not in p["building_type"]:
            out.append(f"building_open: the buildings table has a row for '{b}', which is not a building")
    return out

