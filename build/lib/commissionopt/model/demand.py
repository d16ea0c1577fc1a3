"""Demand block: need flow with lagged transitions, coverage, statutory duty, service bounds.

need_flow: n[k,l,y] = arrivals + sum over transitions into (k,l) of
           rate * (n - sum_o effect_o * served_by_o)[source, y - lag]
(unmet + (1 - effect) * served = n - effect * served), with the base year standing in
for years <= 0. Terminal need at the horizon is valued in the outcomes block.
"""
from __future__ import annotations

import pyomo.environ as pyo

from .index import ModelData
from .mechanisms import units


def add_demand(m: pyo.ConcreteModel, md: ModelData) -> pyo.Block:
    d = md.d
    x = m.mechanisms
    b = pyo.Block()
    m.demand = b
    KLY = [(*kl, y) for kl in md.needs for y in md.years]
    b.KLY = pyo.Set(dimen=3, initialize=KLY, ordered=True)
    b.n = pyo.Var(b.KLY, domain=pyo.NonNegativeReals, bounds=lambda _, k, l, y: (0.0, d["nmax"][(k, l, y)]))

    opts_of_need = {kl: [o for s in d["services_of_need"].get(kl, ()) for o in d["options_of"][s]] for kl in md.needs}

    def served(_, k, l, y):
        return sum(d["served_per_unit"][o] * units(x, o, y) for o in opts_of_need[(k, l)])
    b.served = pyo.Expression(b.KLY, rule=served)

    def prevented(k, l, y):
        return sum(d["effect"][o] * d["served_per_unit"][o] * units(x, o, y) for o in opts_of_need[(k, l)]
                   if d["effect"][o] > 0)

    def need_flow(_, k, l, y):
        rhs = d["arrivals"][(k, l, y)]
        for src, g, rate in d["inflows"].get((k, l), ()):
            t = y - g
            if t <= 0:
                rhs += rate * d["base_source"][src]
            else:
                rhs += rate * (b.n[(*src, t)] - prevented(*src, t))
        return b.n[k, l, y] == rhs
    b.need_flow = pyo.Constraint(b.KLY, rule=need_flow)

    served_kly = [i for i in KLY if opts_of_need[i[:2]]]
    b.coverage = pyo.Constraint(served_kly, rule=lambda _, k, l, y: b.served[k, l, y] <= b.n[k, l, y])
    stat = [i for i in served_kly if d["coverage"][i[:2]] > 0]
    b.statutory_duty = pyo.Constraint(
        stat, rule=lambda _, k, l, y: b.served[k, l, y] >= d["coverage"][(k, l)] * b.n[k, l, y])

    def total_units(s, y):
        return sum(units(x, o, y) for o in d["options_of"][s])
    b.service_max = pyo.Constraint(md.services, md.years, rule=lambda _, s, y: total_units(s, y) <= d["max_units"][s])
    mins = [(s, y) for s in md.services for y in md.years if d["min_units"][s] > 0]
    b.service_min = pyo.Constraint(mins, rule=lambda _, s, y: total_units(s, y) >= d["min_units"][s])

    # an option reaches at most max_share of its service's need (e.g. personal-budget uptake)
    reach = [(*o, y) for o in md.options if d["max_share"][o] < 1 for y in d["option_years"][o]]
    b.reach = pyo.Constraint(reach, rule=lambda _, s, mm, y: d["served_per_unit"][(s, mm)] * x.x[s, mm, y]
                             <= d["max_share"][(s, mm)] * b.n[(*d["service_need"][s], y)])
    return b
