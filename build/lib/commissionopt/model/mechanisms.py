"""Mechanisms block: units delivered by each option, adoption, lead times, setup cost.

Families: option_link (x <= U * adopt for options that are not current), lead_time
(no x variable exists inside a new option's lead time), setup (setup cost paid over
the lead time). Several options of one service can run at once: a package.
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

    def link(_, s, mm, y):
        if (s, mm) not in d["setup"] or d["current"][(s, mm)]:
            return pyo.Constraint.Skip
        return b.x[s, mm, y] <= d["U"][(s, mm, y)] * b.adopt[s, mm]
    b.option_link = pyo.Constraint(b.OY, rule=link)

    # setup cost, spread over the lead time (at least year 1): the invest-to-save dip
    def setup_cost(_, y):
        terms = []
        for o in b.NEW:
            years = max(1, d["lead"][o])
            if y <= years and d["setup"][o] > 0:
                terms.append((d["setup"][o] / years) * b.adopt[o])
        return sum(terms) if terms else 0.0
    b.setup_cost = pyo.Expression(md.years, rule=setup_cost)

    # policy_units: a policy's floor and ceiling on a service's total units (mutable
    # Params, so a policy or a new cut changes row bounds only, never the matrix).
    # `idle` is capacity a fixed policy keeps paying for when need falls below it (a block
    # contract still paid in full): priced at the current option, serving nobody.
    b.policy_min = pyo.Param(md.services, md.years, mutable=True, initialize=0.0)
    b.policy_max = pyo.Param(md.services, md.years, mutable=True, initialize=lambda _, s, y: d["max_units"][s])
    b.idle = pyo.Var(md.services, md.years, domain=pyo.NonNegativeReals, bounds=lambda _, s, y: (0.0, d["max_units"][s]))
    b.policy_units = pyo.Constraint(md.services, md.years, rule=lambda _, s, y: pyo.inequality(
        b.policy_min[s, y], sum(units(b, o, y) for o in d["options_of"][s]) + b.idle[s, y], b.policy_max[s, y]))

    def direct(_, s, y):
        return (sum(d["unit_price"][o] * b.x[(*o, y)] for o in d["options_of"][s] if (*o, y) in b.x)
                + d["unit_price"][d["current_of"][s]] * b.idle[s, y])
    b.direct_spend = pyo.Expression(md.services, md.years, rule=direct)
    return b


def units(b: pyo.Block, o, y):
    """x[o, y], or 0 inside the lead time."""
    i = (*o, y)
    return b.x[i] if i in b.x else 0.0
