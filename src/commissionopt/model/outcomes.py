"""Outcomes block: outcome value, terminal harm and cost, discounting, and the objective rows.

V[y] = sum_o gain_o * x[o, y] - sum_kl harm_kl * n[k, l, y]   (harm falls on all need)
outcome_value = sum_y delta_outcome_y V[y] - terminal harm of need left at the last modelled year
The objective rows (outcome, spend, overspend, terminal cost, idle and above-rule capacity,
reserves drawn) are Pyomo Objectives, all compiled at once; the solver border combines them.
"""
from __future__ import annotations

import pyomo.environ as pyo

from .index import ModelData
from .mechanisms import units


def add_outcomes(m: pyo.ConcreteModel, md: ModelData) -> pyo.Block:
    d = md.d
    x, n = m.mechanisms, m.demand.n
    b = pyo.Block()
    m.outcomes = b
    E = md.years[-1]
    dq = d["delta_outcome"]
    b.value = pyo.Expression(md.years, rule=lambda _, y: sum(
        d["gain"][o] * units(x, o, y) for o in md.options if d["gain"][o] != 0 and (*o, y) in d["oy"])
        - sum(d["harm"][kl] * n[(*kl, y)] for kl in md.needs if d["harm"][kl] != 0))
    b.terminal_harm = pyo.Expression(expr=sum(d["terminal_harm"][kl] * n[(*kl, E)] for kl in md.needs))
    b.terminal_cost = pyo.Expression(expr=sum(d["terminal_cost"][kl] * n[(*kl, E)] for kl in md.needs))
    b.outcome_value = pyo.Expression(expr=sum(dq[y] * b.value[y] for y in md.years) - b.terminal_harm)
    b.discounted_spend = pyo.Expression(expr=sum(md.delta[y] * m.money.spend[y] for y in md.years))
    b.discounted_overspend = pyo.Expression(expr=sum(md.delta[y] * v for (_, y), v in m.money.overspend.items()))

    # objective rows, all minimised; the solver border picks and combines them
    b.obj_outcome = pyo.Objective(expr=-b.outcome_value, sense=pyo.minimize)
    b.obj_spend = pyo.Objective(expr=b.discounted_spend, sense=pyo.minimize)
    b.obj_overspend = pyo.Objective(expr=b.discounted_overspend, sense=pyo.minimize)
    b.obj_terminal_cost = pyo.Objective(expr=b.terminal_cost, sense=pyo.minimize)
    b.obj_idle = pyo.Objective(expr=sum(md.delta[y] * v for (_, y), v in x.idle.items()), sense=pyo.minimize)
    b.obj_above = pyo.Objective(expr=sum(md.delta[y] * v for (_, y), v in x.above.items()), sense=pyo.minimize)
    b.obj_reserves_drawn = pyo.Objective(expr=sum(md.delta[y] * v for (f, y), v in m.money.draw.items()), sense=pyo.minimize)
    return b


OBJECTIVE_ROWS = ("outcome", "spend", "overspend", "terminal_cost", "idle", "above", "reserves_drawn")
