"""Money block: funding streams, ring fences, pooling, staff and overheads, reserves, overspend.

service_funding: the direct spend of each payer class (services the same streams may pay) is paid
                 by those streams; the results share it out over the class's services
staff_funding: each role's staff, agency and redundancy costs are paid by streams that pay
               overheads or whose scope covers a service the role works for
overheads_funding: buildings, setup and pooling costs are paid by overheads streams
stream_limit: what a stream pays <= its money after the cut + reserves drawn + overspend
ring_fence: a stream pays outside its own scope only into its pooled scope, once pooled (a class
            is in a stream's pooled scope when its services are)
reserves: cumulative draws <= opening - minimum reserve (+ capital receipts if flexible); draws
          exist only before the horizon's last year: from year H on a plan lives within its money
`available[f, y]` is a mutable Param: a new cut changes only right-hand sides. Overspend
exists only on the streams that can show it (index.overspend_streams).
"""
from __future__ import annotations

import pyomo.environ as pyo

from .index import ModelData


def add_money(m: pyo.ConcreteModel, md: ModelData, cut: dict[int, float]) -> pyo.Block:
    d = md.d
    b = pyo.Block()
    m.money = b
    FY = [(f, y) for f in md.streams for y in md.years]
    b.FY = pyo.Set(dimen=2, initialize=FY, ordered=True)
    classes = d["pay_classes"]
    b.FCY = pyo.Set(dimen=3, initialize=[(f, c, y) for c, (_, payers) in classes.items() for f in payers
                                         for y in md.years], ordered=True)
    oh = [f for f in md.streams if d["pays_overheads"][f]]
    b.available = pyo.Param(b.FY, mutable=True, initialize=lambda _, f, y: d["amount"][(f, y)] * (
        1 - (cut[y] if d["subject_to_cut"][f] else 0.0)))
    b.fund = pyo.Var(b.FCY, domain=pyo.NonNegativeReals)
    b.fund_staff = pyo.Var([(f, r, y) for f, r in d["staff_pairs"] for y in md.years], domain=pyo.NonNegativeReals)
    b.fund_overheads = pyo.Var([(f, y) for f in oh for y in md.years], domain=pyo.NonNegativeReals)
    b.draw = pyo.Var([(f, y) for f in oh for y in d["draw_years"]], domain=pyo.NonNegativeReals)
    b.overspend = pyo.Var([(f, y) for f in d["overspend_streams"] for y in md.years], domain=pyo.NonNegativeReals)
    poolable = [f for f in md.streams if d["poolable"][f]]
    b.pool = pyo.Var(poolable, domain=pyo.Binary)

    b.service_funding = pyo.Constraint(list(classes), md.years, rule=lambda _, c, y: sum(
        b.fund[f, c, y] for f in classes[c][1]) == sum(m.mechanisms.direct_spend[s, y] for s in classes[c][0]))

    staff_payers = {r: [f for f, rr in d["staff_pairs"] if rr == r] for r in md.roles}
    b.staff_funding = pyo.Constraint(m.workforce.RY, rule=lambda _, r, y: sum(
        b.fund_staff[f, r, y] for f in staff_payers[r]) == m.workforce.role_cost[r, y])

    b.pooling_cost = pyo.Expression(md.years, rule=lambda _, y: sum(d["pooling_cost"][f] * b.pool[f] for f in poolable))
    b.overheads = pyo.Expression(md.years, rule=lambda _, y: m.buildings.cost[y] + m.mechanisms.setup_cost[y]
                                 + b.pooling_cost[y])
    b.overheads_funding = pyo.Constraint(md.years, rule=lambda _, y: sum(
        b.fund_overheads[f, y] for f in oh) == b.overheads[y])

    paid = {f: [c for c, (_, payers) in classes.items() if f in payers] for f in md.streams}
    roles_paid = {f: [r for ff, r in d["staff_pairs"] if ff == f] for f in md.streams}

    def limit(_, f, y):
        spend = sum(b.fund[f, c, y] for c in paid[f]) + sum(b.fund_staff[f, r, y] for r in roles_paid[f])
        if f in oh:
            spend += b.fund_overheads[f, y]
        if (f, y) in b.draw:
            spend -= b.draw[f, y]
        if (f, y) in b.overspend:
            spend -= b.overspend[f, y]
        return spend <= b.available[f, y]
    b.stream_limit = pyo.Constraint(b.FY, rule=limit)

    b.ring_fence = pyo.Constraint([(f, c, y) for f, c in sorted(d["class_pooled"]) for y in md.years],
                                  rule=lambda _, f, c, y: b.fund[f, c, y] <= d["amount"][(f, y)] * b.pool[f])

    def reserves(_, y):
        drawn = sum(b.draw[f, t] for f in oh for t in d["draw_years"] if t <= y)
        receipts = sum(m.buildings.receipts[t] for t in md.years if t <= y) if d["flexible_receipts"] else 0.0
        return drawn - receipts <= d["reserves_available"]
    b.reserves = pyo.Constraint(d["draw_years"] if oh else [], rule=reserves)

    b.spend = pyo.Expression(md.years, rule=lambda _, y: sum(
        m.mechanisms.direct_spend[s, y] for s in md.services) + m.workforce.cost[y] + b.overheads[y])
    return b
