"""Mechanisms block: units delivered by each option, adoption, lead times, setup cost, the pace
at which services and options change, each option's share of its service, diminishing returns.

Families: option_link (x <= U * adopt for options that are not current), lead_time (no x
variable exists inside a new option's lead time), setup (setup cost paid over the lead time),
share_cap (an option delivers at most max_share of its service's units), pace_growth and
pace_decline (a service's units, idle capacity included, change at most max_growth /
max_decline of last year's a year), exit_rate (the current option keeps at least 1 - exit_rate
of last year's units), full_effect (units past full_effect_units reach harder-to-help people:
`beyond` counts them), policy_units (a policy's floor and ceiling on a service's units).
Several options of one service can run at once: a package.
"""
from __future__ import annotations

import pyomo.environ as pyo

from .index import ModelData


def add_mechanisms(m: pyo.ConcreteModel, md: ModelData) -> pyo.Block:
    d = md.d
    b = pyo.Block()
    m.mechanisms = b
    b.OY = pyo.Set(dimen=3, initialize=[(*o, y) for o in md.options for y in d["option_years"][o]], ordered=True)
    b.NEW = pyo.Set(dimen=2, initialize=[o for o in md.options if not d["current"][o]], ordered=True)
    b.x = pyo.Var(b.OY, domain=pyo.NonNegativeReals, bounds=lambda _, s, mm, y: (0.0, d["U"][(s, mm, y)]))
    b.adopt = pyo.Var(b.NEW, domain=pyo.Binary)

    b.option_link = pyo.Constraint([i for i in b.OY if not d["current"][i[:2]]],
                                   rule=lambda _, s, mm, y: b.x[s, mm, y] <= d["U"][(s, mm, y)] * b.adopt[s, mm])

    # setup cost, spread over the lead time (at least year 1): the invest-to-save dip
    def setup_cost(_, y):
        terms = [(d["setup"][o] / max(1, d["lead"][o])) * b.adopt[o] for o in b.NEW
                 if y <= max(1, d["lead"][o]) and d["setup"][o] > 0]
        return sum(terms) if terms else 0.0
    b.setup_cost = pyo.Expression(md.years, rule=setup_cost)

    # idle: capacity paid for at the current option's price that serves nobody (a block contract
    # still paid in full, capacity that pace or a policy's floor keeps when need falls away)
    b.idle = pyo.Var(md.services, md.years, domain=pyo.NonNegativeReals, bounds=lambda _, s, y: (0.0, d["max_units"][s]))
    # above: a fixed policy's statutory service serving more than its rule's units because its duty
    # needs it (bounded to 0 unless a policy frees it; charged so that it appears only where needed)
    statutory = [s for s in md.services if d["statutory_service"][s]]
    b.above = pyo.Var(statutory, md.years, domain=pyo.NonNegativeReals, bounds=(0.0, 0.0))
    # policy_units: a policy's floor and ceiling on a service's units (mutable Params, so a policy or
    # a new cut changes row bounds only, never the matrix)
    b.policy_min = pyo.Param(md.services, md.years, mutable=True, initialize=0.0)
    b.policy_max = pyo.Param(md.services, md.years, mutable=True, initialize=lambda _, s, y: d["max_units"][s])
    b.policy_units = pyo.Constraint(md.services, md.years, rule=lambda _, s, y: pyo.inequality(
        b.policy_min[s, y], capacity(b, d, s, y) - (b.above[s, y] if (s, y) in b.above else 0.0),
        b.policy_max[s, y]))

    _add_pace(b, md)
    _add_shares(b, md)

    def direct(_, s, y):
        cur = d["current_of"][s]
        return (sum(d["unit_price"][(*o, y)] * b.x[(*o, y)] for o in d["options_of"][s] if (*o, y) in b.x)
                + d["unit_price"][(*cur, y)] * b.idle[s, y])
    b.direct_spend = pyo.Expression(md.services, md.years, rule=direct)
    return b


def _add_pace(b: pyo.Block, md: ModelData) -> None:
    d = md.d

    def last_year(s, y):  # a service's units last year; the base year's before year 1
        return d["base_units"][s] if y == md.years[0] else capacity(b, d, s, y - 1)

    grow = [(s, y) for s in md.services if d["max_growth"][s] is not None for y in md.years]
    b.pace_growth = pyo.Constraint(grow, rule=lambda _, s, y: capacity(b, d, s, y) <= (
        (1 + d["max_growth"][s]) * last_year(s, y) + d["max_growth"][s] * d["ramp_units"][s]))
    fall = [(s, y) for s in md.services if d["max_decline"][s] is not None for y in md.years]
    b.pace_decline = pyo.Constraint(fall, rule=lambda _, s, y: capacity(b, d, s, y) >= (
        (1 - d["max_decline"][s]) * last_year(s, y)))

    def current_units(s, y):  # the current option's units, its idle capacity included
        if y == 0:
            return d["base_units"][s]
        return units(b, d["current_of"][s], y) + b.idle[s, y]
    leave = [(s, y) for (s, _), e in d["exit_rate"].items() for y in md.years]
    b.exit_rate = pyo.Constraint(leave, rule=lambda _, s, y: current_units(s, y) >= (
        (1 - d["exit_rate"][d["current_of"][s]]) * current_units(s, y - 1)))


def _add_shares(b: pyo.Block, md: ModelData) -> None:
    d = md.d
    capped = [(*o, y) for o in md.options if d["max_share"][o] < 1 for y in d["option_years"][o]]
    b.share_cap = pyo.Constraint(capped, rule=lambda _, s, mm, y: b.x[s, mm, y] <= d["max_share"][(s, mm)] * sum(
        units(b, o, y) for o in d["options_of"][s]))

    # diminishing returns: `beyond` units of an option reach people past the service's full_effect_units
    tranched = [(*o, y) for o in md.options if o in d["tranched"] for y in d["option_years"][o]]
    b.beyond = pyo.Var(tranched, domain=pyo.NonNegativeReals, bounds=lambda _, s, mm, y: (0.0, d["U"][(s, mm, y)]))
    b.beyond_link = pyo.Constraint(tranched, rule=lambda _, s, mm, y: b.beyond[s, mm, y] <= b.x[s, mm, y])
    services = sorted({i[0] for i in tranched}, key=md.services.index)
    rows = [(s, y) for s in services for y in md.years
            if any((*o, y) in b.beyond for o in d["options_of"][s])]
    b.full_effect = pyo.Constraint(rows, rule=lambda _, s, y: sum(
        b.x[(*o, y)] - b.beyond[(*o, y)] for o in d["options_of"][s] if (*o, y) in b.beyond)
        <= d["full_effect_units"][s])


def units(b: pyo.Block, o, y):
    """x[o, y], or 0 inside the lead time."""
    i = (*o, y)
    return b.x[i] if i in b.x else 0.0


def beyond(b: pyo.Block, o, y):
    """beyond[o, y], or 0 where the option has no diminishing returns."""
    i = (*o, y)
    return b.beyond[i] if i in b.beyond else 0.0


def capacity(b: pyo.Block, d: dict, s: str, y: int):
    """A service's units in all its options plus the idle capacity it pays for."""
    return sum(units(b, o, y) for o in d["options_of"][s]) + b.idle[s, y]
