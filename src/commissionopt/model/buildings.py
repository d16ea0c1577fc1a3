"""Buildings block: hours by site, open/close one way, closure lead time, cost, receipts, extended hours.

building_hours: hours the services of a site class (those that may use the same buildings) need are
                placed in their open buildings; the results share them out over the services
building_capacity: hours used <= hours_available * open + extra
extended_hours: extra <= extendable_hours * open (a school site after 18:00)
site_open: a site class's hours in a building that may close <= the most it could need there x open
closure: open[b, y] <= open[b, y-1]; closing costs closure_cost, may yield a receipt
closure_lead: a building is open in every year up to its closure_lead_years (consultation)
Closures are decisions: `open` exists for the decision years 1..H only, and every evaluation
year uses the year-H value (no closure after the horizon).
"""
from __future__ import annotations

import pyomo.environ as pyo

from .index import ModelData
from .mechanisms import units


def add_buildings(m: pyo.ConcreteModel, md: ModelData) -> pyo.Block:
    d = md.d
    x = m.mechanisms
    H = md.horizon
    b = pyo.Block()
    m.buildings = b
    BY = [(bb, y) for bb in md.buildings for y in md.years]
    b.BY = pyo.Set(dimen=2, initialize=BY, ordered=True)
    classes = d["site_classes"]
    KBY = [(k, bb, y) for k, (_, sites) in classes.items() for bb in sites for y in md.years]
    b.KBY = pyo.Set(dimen=3, initialize=KBY, ordered=True)
    b.open = pyo.Var([(bb, y) for bb in md.buildings for y in md.decision_years], domain=pyo.Binary, initialize=1)
    for bb in md.buildings:
        for y in md.decision_years:
            if not d["can_close"][bb] or y <= d["closure_lead"][bb]:
                b.open[bb, y].setlb(1)
    b.use = pyo.Var(b.KBY, domain=pyo.NonNegativeReals)  # hours of a site class's services in a building
    b.extra = pyo.Var(b.BY, domain=pyo.NonNegativeReals, bounds=lambda _, bb, y: (0.0, d["extendable_hours"][bb]))

    def is_open(bb, y):
        return b.open[bb, min(y, H)]

    def hours(_, k, y):
        need = sum(d["building_hours"][o] * units(x, o, y) for s in classes[k][0] for o in d["options_of"][s]
                   if o in d["building_hours"])
        return sum(b.use[k, bb, y] for bb in classes[k][1]) == need
    b.building_hours = pyo.Constraint(list(classes), md.years, rule=hours)

    users = {bb: [] for bb in md.buildings}
    for k, (_, sites) in classes.items():
        for bb in sites:
            users[bb].append(k)

    def capacity(_, bb, y):
        return sum(b.use[k, bb, y] for k in users[bb]) <= d["hours_available"][bb] * is_open(bb, y) + b.extra[bb, y]
    b.building_capacity = pyo.Constraint(b.BY, rule=capacity)
    ext = [(bb, y) for bb, y in BY if d["extendable_hours"][bb] > 0]
    b.extended_hours = pyo.Constraint(ext, rule=lambda _, bb, y: b.extra[bb, y] <= d["extendable_hours"][bb] * is_open(bb, y))

    # site_open: no class's hours in a building that is closed, per class (the aggregate capacity row
    # alone lets the LP relaxation half-close a building and keep using it: this is the strong
    # facility-location form, and it closes much of the integrality gap of closures)
    def most(k, bb, y):
        need = sum(d["building_hours"][o] * d["U"].get((*o, y), 0.0) for s in classes[k][0]
                   for o in d["options_of"][s] if o in d["building_hours"])
        return min(need, d["hours_available"][bb] + d["extendable_hours"][bb])
    shut = [(k, bb, y) for k, bb, y in KBY if d["can_close"][bb] and most(k, bb, y) > 0]
    b.site_open = pyo.Constraint(shut, rule=lambda _, k, bb, y: b.use[k, bb, y] <= most(k, bb, y) * is_open(bb, y))

    def closed_in(bb, y):  # 1 in the year the building closes (never after the horizon)
        if y > H or not d["can_close"][bb]:
            return 0
        prev = 1 if y == md.years[0] else b.open[bb, y - 1]
        return prev - b.open[bb, y]
    b.closure = pyo.Constraint([(bb, y) for bb in md.buildings if d["can_close"][bb] for y in md.decision_years[1:]],
                               rule=lambda _, bb, y: b.open[bb, y] <= b.open[bb, y - 1])

    b.cost = pyo.Expression(md.years, rule=lambda _, y: sum(
        d["fixed_cost"][bb] * is_open(bb, y) + d["extended_cost_per_hour"][bb] * b.extra[bb, y]
        + d["cost_per_hour"][bb] * sum(b.use[k, bb, y] for k in users[bb])
        + d["closure_cost"][bb] * closed_in(bb, y) for bb in md.buildings))
    b.receipts = pyo.Expression(md.years, rule=lambda _, y: sum(
        d["capital_receipt"][bb] * closed_in(bb, y) for bb in md.buildings))
    return b


def open_in(md: ModelData, y: int) -> int:
    """The decision year whose `open` holds in year y (the year-H value after the horizon)."""
    return min(y, md.horizon)
