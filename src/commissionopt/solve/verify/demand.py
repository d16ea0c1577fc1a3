"""Independent checks of demand: need flow (effects by channel, fading with the lag, thinning past
full_effect_units), people served and unmet, coverage, and the statutory duties."""
from __future__ import annotations

from .context import _Ctx, _arrivals, _need, _num, _prevented, _q, _served, _service_served, _units

def _check_need_flow(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    need, units = _need(ctx), _units(ctx)
    if need is None or units is None:
        return out
    for kl in p["needs"]:
        for y in ctx.years:
            if (*kl, y) not in need:
                out.append(f"need_flow: no need row for {kl[0]}/{kl[1]} year {y}")
                continue
            expected = _arrivals(ctx, kl, y)
            complete = True
            for src, g, rate, ch in p["inflows"].get(kl, ()):
                t = y - g
                if t <= 0:
                    expected += rate * p["base_source"].get((src, ch, g), 0.0)
                elif (*src, t) in need:
                    expected += rate * (need[(*src, t)] - _prevented(ctx, src, t, ch, g))
                elif src in p["population_base"]:
                    complete = False  # the source row's absence is reported on its own
            if complete and ctx.off(need[(*kl, y)], expected):
                out.append(f"need_flow: {kl[0]}/{kl[1]} year {y} need {_q(need[(*kl, y)])} != "
                           f"arrivals + transitions {_q(expected)}")
    return out


def _check_need_accounting(ctx: _Ctx) -> list[str]:
    """units.people_served, need.served and need.unmet against their definitions."""
    p, out = ctx.p, []
    rows = ctx.keyed("units", ("service", "mechanism", "year"), ("units", "people_served", "direct_spend"))
    if rows is not None:
        for (s, m, y), v in rows.items():
            if (s, m) not in p["spu"]:
                out.append(f"option_link: units for {s}/{m} year {y}, which is not an option of the instance")
                continue
            u = _num(v["units"])
            if u < -ctx.tol:
                out.append(f"service_bounds: {s}/{m} year {y} has negative units {_q(u)}")
            expected = p["spu"][(s, m)] * u
            if ctx.off(_num(v["people_served"]), expected):
                out.append(f"people_served: {s}/{m} year {y} reports {_q(_num(v['people_served']))} people, "
                           f"people_per_unit x (1 - failure_demand) x units = {_q(expected)}")
    need_rows = ctx.keyed("need", ("cohort", "level", "year"), ("need", "served", "unmet"))
    if need_rows is not None and rows is not None:
        for (k, l, y), v in need_rows.items():
            if (k, l) not in p["population_base"]:
                out.append(f"need_flow: need row for {k}/{l}, which is not a need of the instance")
                continue
            served = _served(ctx, (k, l), y)
            n = _num(v["need"])
            if n < -ctx.tol:
                out.append(f"coverage: {k}/{l} year {y} has negative need {_q(n)}")
            if ctx.off(_num(v["served"]), served):
                out.append(f"served: {k}/{l} year {y} reports served {_q(_num(v['served']))}, "
                           f"the units serve {_q(served)}")
            if ctx.off(_num(v["unmet"]), n - served):
                out.append(f"unmet: {k}/{l} year {y} reports unmet {_q(_num(v['unmet']))}, "
                           f"need - served = {_q(n - served)}")
    return out


def _check_coverage(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    need, units = _need(ctx), _units(ctx)
    if need is None or units is None:
        return out
    for kl in p["needs"]:
        for y in ctx.years:
            if (*kl, y) not in need:
                continue
            n, served = need[(*kl, y)], _served(ctx, kl, y)
            if ctx.over(served, n):
                out.append(f"coverage: {kl[0]}/{kl[1]} year {y} serves {_q(served)} people > need {_q(n)}")
    return out


def _check_duties(ctx: _Ctx) -> list[str]:
    """duty_met: the duty's own services (counts_as each) serve coverage x need; duty_mix: each within its shares."""
    p, out = ctx.p, []
    need, units = _need(ctx), _units(ctx)
    if need is None or units is None:
        return out
    for duty, d in p["duties"].items():
        k, l = d["need"]
        for y in ctx.years:
            if (k, l, y) not in need:
                continue
            n = need[(k, l, y)]
            due = d["coverage"] * n
            met = sum(counts * _service_served(ctx, s, y) for s, (counts, _, _) in d["services"].items())
            if ctx.over(due, met):
                out.append(f"duty_met: duty {duty} ({k}/{l}) year {y}: its services count for {_q(met)} "
                           f"person-years < coverage {d['coverage']:g} x need {_q(n)} = {_q(due)}")
            for s, (_, lo, hi) in d["services"].items():
                served = _service_served(ctx, s, y)
                if lo > 0 and ctx.over(lo * due, served):
                    out.append(f"duty_mix: {s} serves {_q(served)} people in year {y} < min_share {lo:g} of duty "
                               f"{duty}'s {_q(due)}")
                if hi < 1 and ctx.over(served, hi * n):
                    out.append(f"duty_mix: {s} serves {_q(served)} people in year {y} > max_share {hi:g} x need "
                               f"{_q(n)} of {k}/{l}")
    return out
