"""Workforce block: staff hours, FTE balance, hire and release limits, agency.

staff_hours: in-house hours needed <= hours_per_fte * fte + agency hours
fte_balance: fte[y] = fte[y-1] + hire[y] - release[y], fte[0] = fte_base
hire_limit / release_limit / agency_limit are the variables' bounds.
role_cost: staff, agency and redundancy costs of a role in a year (the money block says who pays them).
"""
from __future__ import annotations

import pyomo.environ as pyo

from .index import ModelData
from .mechanisms import units


def add_workforce(m: pyo.ConcreteModel, md: ModelData) -> pyo.Block:
    d = md.d
    x = m.mechanisms
    b = pyo.Block()
    m.workforce = b
    RY = [(r, y) for r in md.roles for y in md.years]
    b.RY = pyo.Set(dimen=2, initialize=RY, ordered=True)
    b.fte = pyo.Var(b.RY, domain=pyo.NonNegativeReals)
    b.hire = pyo.Var(b.RY, domain=pyo.NonNegativeReals, bounds=lambda _, r, y: (0.0, d["max_hire"][r]))
    b.release = pyo.Var(b.RY, domain=pyo.NonNegativeReals, bounds=lambda _, r, y: (0.0, d["max_release"][r]))
    b.agency = pyo.Var(b.RY, domain=pyo.NonNegativeReals, bounds=lambda _, r, y: (0.0, d["max_agency_hours"][r]))

    users = {r: [] for r in md.roles}
    for o, hours in d["staff_hours"].items():
        for r, h in hours.items():
            users[r].append((o, h))

    def staff_hours(_, r, y):
        need = sum(h * units(x, o, y) for o, h in users[r])
        return need <= d["hours_per_fte"][r] * b.fte[r, y] + b.agency[r, y]
    b.staff_hours = pyo.Constraint(b.RY, rule=staff_hours)

    def balance(_, r, y):
        prev = d["fte_base"][r] if y == md.years[0] else b.fte[r, y - 1]
        return b.fte[r, y] == prev + b.hire[r, y] - b.release[r, y]
    b.fte_balance = pyo.Constraint(b.RY, rule=balance)

    b.role_cost = pyo.Expression(b.RY, rule=lambda _, r, y: (
        d["cost_per_fte"][r] * b.fte[r, y] + d["agency_cost_per_hour"][r] * b.agency[r, y]
        + d["redundancy_cost"][r] * b.release[r, y]))
    b.cost = pyo.Expression(md.years, rule=lambda _, y: sum(b.role_cost[r, y] for r in md.roles))
    return b
