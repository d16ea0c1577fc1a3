"""Policies as fixings on the one model: what each lever frees, and the salami rule when it is off.

All levers off is salami slicing: every service's units, every role's FTE, cut by the
same share as the money; mechanisms, buildings, pooling and reserves unchanged;
statutory services still meet their duty (so any overspend it forces shows). The status
quo is the same rule with no cut. Turning a lever on frees what it governs.
Lever `early_intervention` governs services at the lower half of the need levels,
`reallocate` those at the upper half.
"""
from __future__ import annotations

from ..model.index import ModelData
from .spec import ModelSpec


def is_preventive(md: ModelData, s: str, levels: list[str]) -> bool:
    return md.level_rank[md.service_need[s]] < len(levels) // 2


def salami_fte(md: ModelData, r: str, cut: dict[int, float]) -> dict[int, float]:
    """Each year's FTE under a uniform cut, as near as hire and release limits allow."""
    out, prev = {}, md.fte_base[r]
    for y in md.years:
        target = (1 - cut[y]) * md.fte_base[r]
        prev = min(max(target, prev - md.max_release[r]), prev + md.max_hire[r])
        out[y] = prev
    return out


def apply_policy(m, md: ModelData, spec: ModelSpec, cut: dict[int, float], levels: list[str]) -> list:
    """Set the policy rows' Params and return the column bounds [(VarData, lb, ub)] it fixes."""
    lv = spec.levers
    bounds = []
    mech, wf, bd, mo = m.mechanisms, m.workforce, m.buildings, m.money
    for s in md.services:
        free = lv["early_intervention"] if is_preventive(md, s, levels) else lv["reallocate"]
        for y in md.years:
            lo, hi = 0.0, md.max_units[s]
            if not free:
                lo = min(md.max_units[s], (1 - cut[y]) * md.base_units[s])
                if not md.statutory_service[s]:
                    hi = lo  # cut like every other line; a statutory service may need more
            mech.policy_min[s, y] = lo
            mech.policy_max[s, y] = hi
            if free:  # idle capacity exists only where a fixed policy pays for it
                bounds.append((mech.idle[s, y], 0, 0))
    if not lv["mechanisms"]:
        for o in mech.adopt:
            bounds.append((mech.adopt[o], 0, 0))
    if not lv["workforce"]:
        for r in md.roles:
            for y, f in salami_fte(md, r, cut).items():
                bounds.append((wf.fte[r, y], f, None))  # hiring only where a duty needs it
    if not lv["buildings"]:  # every building stays open; partner sites' extra hours stay usable
        for k in bd.open:
            bounds.append((bd.open[k], 1, 1))
    if not lv["pooling"]:
        for f in mo.pool:
            bounds.append((mo.pool[f], 0, 0))
    if not lv["reserves"]:
        for k in mo.draw:
            bounds.append((mo.draw[k], 0, 0))
    return bounds
