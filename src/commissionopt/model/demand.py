"""Demand block: need flow with lagged transitions and effects by channel, coverage, duties.

need_flow: n[k,l,y] = arrivals + sum over transitions into (k,l) of
           rate * (n[source, y - lag] - prevented[source, y - lag, channel, lag])
where prevented counts the people the source's services kept off transitions of that channel
(escalation or persistence), effects fading with the lag and thinning past full_effect_units;
the base year stands in for years <= 0. Terminal need is valued in the outcomes block.
duty_met: a duty's services, each person served counting as counts_as duty person-years,
          serve at least coverage x the need of the duty's (cohort, level);
duty_mix: each of them serves at least min_share of what the duty requires and at most
          max_share of the need.
"""
from __future__ import annotations

import pyomo.environ as pyo

from .index import ModelData, prevention_coefficient
from .mechanisms import beyond, units


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

    def prevented(kl, y, channel, lag):
        terms = []
        for o in opts_of_need[kl]:
            c = prevention_coefficient(d, o, channel, lag)
            if c > 0 and (*o, y) in d["oy"]:
                terms.append(c * units(x, o, y))
                if o in d["tranched"]:
                    terms.append(-c * (1 - d["marginal_effect"][o[0]]) * beyond(x, o, y))
        return sum(terms)

    def need_flow(_, k, l, y):
        rhs = d["arrivals"][(k, l, y)]
        for src, g, rate, ch in d["inflows"].get((k, l), ()):
            t = y - g
            if t <= 0:
                rhs += rate * d["base_source"][(src, ch, g)]
            else:
                rhs += rate * (b.n[(*src, t)] - prevented(src, t, ch, g))
        return b.n[k, l, y] == rhs
    b.need_flow = pyo.Constraint(b.KLY, rule=need_flow)

    served_kly = [i for i in KLY if opts_of_need[i[:2]]]
    b.coverage = pyo.Constraint(served_kly, rule=lambda _, k, l, y: b.served[k, l, y] <= b.n[k, l, y])

    def service_served(s, y):
        return sum(d["served_per_unit"][o] * units(x, o, y) for o in d["options_of"][s])

    duties = d["duties"]
    DY = [(duty, y) for duty in duties for y in md.years]
    b.duty_met = pyo.Constraint(DY, rule=lambda _, duty, y: sum(
        counts * service_served(s, y) for s, (counts, _, _) in duties[duty]["services"].items())
        >= duties[duty]["coverage"] * b.n[(*duties[duty]["need"], y)])
    low = [(duty, s, y) for duty in duties for s, (_, lo, _) in duties[duty]["services"].items() if lo > 0
           for y in md.years]
    b.duty_mix_min = pyo.Constraint(low, rule=lambda _, duty, s, y: service_served(s, y) >= (
        duties[duty]["services"][s][1] * duties[duty]["coverage"] * b.n[(*duties[duty]["need"], y)]))
    high = [(duty, s, y) for duty in duties for s, (_, _, hi) in duties[duty]["services"].items() if hi < 1
            for y in md.years]
    b.duty_mix_max = pyo.Constraint(high, rule=lambda _, duty, s, y: service_served(s, y) <= (
        duties[duty]["services"][s][2] * b.n[(*duties[duty]["need"], y)]))

    def total_units(s, y):
        return sum(units(x, o, y) for o in d["options_of"][s])
    b.service_max = pyo.Constraint(md.services, md.years, rule=lambda _, s, y: total_units(s, y) <= d["max_units"][s])
    mins = [(s, y) for s in md.services for y in md.years if d["min_units"][s] > 0]
    b.service_min = pyo.Constraint(mins, rule=lambda _, s, y: total_units(s, y) >= d["min_units"][s])
    return b
