"""Independent checks of services and options: bounds, each option's share of its service, lead
times, adoption, the pace of change (growth, decline, exit rate) and the full-effect tranche."""
from __future__ import annotations

from .context import _Ctx, _beyond, _flag, _gbp, _idle, _num, _q, _units

def _check_service_bounds(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    units = _units(ctx)
    if units is None:
        return out
    for s in p["services"]:
        for y in ctx.years:
            total = sum(units[(*o, y)] for o in p["options_of"][s])
            lo, hi = p["min_units"][s], p["max_units"][s]
            if ctx.over(total, hi):
                out.append(f"service_bounds: {s} year {y} delivers {_q(total)} units > max_units {_q(hi)}")
            if ctx.over(lo, total):
                out.append(f"service_bounds: {s} year {y} delivers {_q(total)} units < min_units {_q(lo)}")
    return out


def _check_share_cap(ctx: _Ctx) -> list[str]:
    """share_cap: an option delivers at most max_share of its service's units."""
    p, out = ctx.p, []
    units = _units(ctx)
    if units is None:
        return out
    for o in p["options"]:
        if p["max_share"][o] >= 1:
            continue
        for y in ctx.years:
            total = sum(units[(*oo, y)] for oo in p["options_of"][o[0]])
            cap = p["max_share"][o] * total
            if ctx.over(units[(*o, y)], cap):
                out.append(f"share_cap: {o[0]}/{o[1]} year {y} delivers {_q(units[(*o, y)])} units > max_share "
                           f"{p['max_share'][o]:g} x the service's {_q(total)} units = {_q(cap)}")
    return out


def _capacity(ctx: _Ctx, s, y) -> float:
    """A service's units in all its options plus its idle capacity; base units before year 1."""
    if y == 0:
        return ctx.p["base_units"][s]
    units, idle = _units(ctx), _idle(ctx)
    return sum(units[(*o, y)] + idle[(*o, y)] for o in ctx.p["options_of"][s])


def _check_pace(ctx: _Ctx) -> list[str]:
    """pace_growth / pace_decline: a service's units (idle capacity included) change at most max_growth
    (on top of ramp_units) or max_decline of last year's; exit_rate: the current option keeps at least
    1 - exit_rate of last year's units (its idle capacity included)."""
    p, out = ctx.p, []
    units = _units(ctx)
    if units is None:
        return out
    idle = _idle(ctx)
    for s in p["services"]:
        g, d = p["max_growth"][s], p["max_decline"][s]
        for y in ctx.years:
            now, last = _capacity(ctx, s, y), _capacity(ctx, s, y - 1)
            if g is not None and ctx.over(now, (1 + g) * last + g * p["ramp_units"][s]):
                out.append(f"pace_growth: {s} year {y} has {_q(now)} units > (1 + {g:g}) x last year's {_q(last)}"
                           f" + {g:g} x ramp_units {_q(p['ramp_units'][s])}")
            if d is not None and ctx.over((1 - d) * last, now):
                out.append(f"pace_decline: {s} year {y} has {_q(now)} units < (1 - {d:g}) x last year's {_q(last)}")
    for o, e in p["exit_rate"].items():
        last = p["base_units"][o[0]]
        for y in ctx.years:
            now = units[(*o, y)] + idle[(*o, y)]
            if ctx.over((1 - e) * last, now):
                out.append(f"exit_rate: {o[0]}/{o[1]} year {y} keeps {_q(now)} units < (1 - {e:g}) x last year's {_q(last)}")
            last = now
    return out


def _check_full_effect(ctx: _Ctx) -> list[str]:
    """full_effect: a service's units at full effect (its options' units less those counted beyond) are at
    most full_effect_units; no option counts more units beyond than it delivers, none where it has no tranche."""
    p, out = ctx.p, []
    units = _units(ctx)
    if units is None:
        return out
    beyond = _beyond(ctx)
    for o in p["options"]:
        for y in ctx.years:
            b = beyond[(*o, y)]
            if b < -ctx.tol or ctx.over(b, units[(*o, y)]):
                out.append(f"full_effect: {o[0]}/{o[1]} year {y} counts {_q(b)} units beyond full effect of "
                           f"{_q(units[(*o, y)])} delivered")
            if o not in p["tranched"] and ctx.over(abs(b), 0.0):
                out.append(f"full_effect: {o[0]}/{o[1]} year {y} counts {_q(b)} units beyond full effect, "
                           f"but its service has no diminishing returns")
    for s in p["services"]:
        cap = p["full_effect_units"].get(s)
        tranched = [o for o in p["options_of"][s] if o in p["tranched"]]
        if cap is None or not tranched:
            continue
        for y in ctx.years:
            full = sum(units[(*o, y)] - beyond[(*o, y)] for o in tranched)
            if ctx.over(full, cap):
                out.append(f"full_effect: {s} year {y} has {_q(full)} units at full effect > full_effect_units {_q(cap)}")
    return out


def _check_lead_time(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    units = _units(ctx)
    if units is None:
        return out
    for o in p["options"]:
        if p["current"][o]:
            continue
        lead = p["lead_years"].get(o[1], 0)
        for y in ctx.years:
            if y <= lead and ctx.over(units[(*o, y)], 0.0):
                out.append(f"lead_time: {o[0]}/{o[1]} delivers {_q(units[(*o, y)])} units in year {y}, "
                           f"inside the {lead}-year lead time of {o[1]}")
    return out


def _check_adoption(ctx: _Ctx) -> list[str]:
    """The options table: one row per option, current as in the instance, no units unless adopted,
    setup_cost = the instance's setup cost for adopted new options (0 otherwise)."""
    p, out = ctx.p, []
    rows = ctx.keyed("options", ("service", "mechanism"), ("current", "adopted", "setup_cost"))
    units = _units(ctx)
    if rows is None:
        return out
    for o in p["options"]:
        if o not in rows:
            out.append(f"option_link: the options table has no row for {o[0]}/{o[1]}")
            continue
        v = rows[o]
        if _flag(v["current"]) != p["current"][o]:
            out.append(f"option_link: {o[0]}/{o[1]} reported current={_flag(v['current'])}, "
                       f"the instance says {p['current'][o]}")
        adopted = _flag(v["adopted"])
        if units is not None and not adopted:
            for y in ctx.years:
                if ctx.over(units[(*o, y)], 0.0):
                    out.append(f"option_link: {o[0]}/{o[1]} is not adopted but delivers {_q(units[(*o, y)])} "
                               f"units in year {y}")
        expected = p["setup_cost"][o] if (adopted and not p["current"][o]) else 0.0
        if ctx.money_off(_num(v["setup_cost"]), expected):
            out.append(f"setup: {o[0]}/{o[1]} reports setup_cost {_gbp(_num(v['setup_cost']))}, "
                       f"expected {_gbp(expected)}")
    for o in rows:
        if o not in p["current"]:
            out.append(f"option_link: the options table lists {o[0]}/{o[1]}, which is not an option of the instance")
    return out

