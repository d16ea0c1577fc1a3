"""Tidy result tables from a solution vector (docs/results.md is the spec).

Reads the solution through the session's column map, not through Pyomo's Var values,
and scales money back to pounds.
"""
from __future__ import annotations

import pandas as pd

from ..model.index import ModelData


def _vals(session, comp, values):
    return session.values_of(comp, values)


def extract_tables(m, md: ModelData, session, values) -> dict[str, pd.DataFrame]:
    d, S, Y = md.d, md.money_scale, md.years
    x = _vals(session, m.mechanisms.x, values)
    adopt = _vals(session, m.mechanisms.adopt, values)
    n = _vals(session, m.demand.n, values)

    units = pd.DataFrame([(s, mm, y, x.get((s, mm, y), 0.0)) for (s, mm) in md.options for y in Y],
                         columns=["service", "mechanism", "year", "units"])
    o_keys = list(zip(units["service"], units["mechanism"]))
    idle = _vals(session, m.mechanisms.idle, values)
    beyond = _vals(session, m.mechanisms.beyond, values)
    units["idle_units"] = [idle[(o[0], y)] if d["current"][o] else 0.0 for o, y in zip(o_keys, units["year"])]
    units["units_beyond_full_effect"] = [beyond.get((*o, y), 0.0) for o, y in zip(o_keys, units["year"])]
    units["people_served"] = [d["served_per_unit"][o] * u for o, u in zip(o_keys, units["units"])]
    units["direct_spend"] = [d["unit_price"][(*o, y)] * S * (u + i)
                             for o, y, u, i in zip(o_keys, units["year"], units["units"], units["idle_units"])]

    used = units.groupby(["service", "mechanism"])["units"].sum()
    options = pd.DataFrame([(s, mm, bool(d["current"][(s, mm)]),
                             bool(used.get((s, mm), 0.0) > 1e-9 if d["current"][(s, mm)] else round(adopt.get((s, mm), 0.0)) == 1),
                             0.0 if d["current"][(s, mm)] else round(adopt.get((s, mm), 0.0)) * d["setup"][(s, mm)] * S)
                            for (s, mm) in md.options],
                           columns=["service", "mechanism", "current", "adopted", "setup_cost"])

    served = units.assign(cohort=[d["service_need"][s][0] for s in units["service"]],
                          level=[d["service_need"][s][1] for s in units["service"]]) \
        .groupby(["cohort", "level", "year"])["people_served"].sum()
    need = pd.DataFrame([(k, l, y, n[(k, l, y)]) for (k, l) in md.needs for y in Y],
                        columns=["cohort", "level", "year", "need"])
    need["served"] = [served.get((k, l, y), 0.0) for k, l, y in zip(need["cohort"], need["level"], need["year"])]
    need["unmet"] = need["need"] - need["served"]

    wf = m.workforce
    fte, hire, rel, ag = (_vals(session, c, values) for c in (wf.fte, wf.hire, wf.release, wf.agency))
    hours_needed = {(r, y): 0.0 for r in md.roles for y in Y}
    for o, hrs in d["staff_hours"].items():
        for r, h in hrs.items():
            for y in Y:
                hours_needed[(r, y)] += h * x.get((*o, y), 0.0)
    workforce = pd.DataFrame([(r, y, fte[(r, y)], hire[(r, y)], rel[(r, y)], ag[(r, y)], hours_needed[(r, y)],
                               fte[(r, y)] * d["cost_per_fte"][r] * S, ag[(r, y)] * d["agency_cost_per_hour"][r] * S,
                               rel[(r, y)] * d["redundancy_cost"][r] * S) for r in md.roles for y in Y],
                             columns=["role", "year", "fte", "hires", "releases", "agency_hours", "hours_needed",
                                      "staff_cost", "agency_cost", "redundancy_cost"])

    bb = m.buildings
    op, use, extra = (_vals(session, c, values) for c in (bb.open, bb.use, bb.extra))
    hours_of = {}  # building hours each service needs, by year
    for o, h in d["building_hours"].items():
        for y in Y:
            hours_of[(o[0], y)] = hours_of.get((o[0], y), 0.0) + h * x.get((*o, y), 0.0)
    building_use = pd.DataFrame(shared_out({(b, k, y): h for (k, b, y), h in use.items()}, d["site_classes"], hours_of),
                                columns=["service", "building", "year", "hours"])
    used = building_use.groupby(["building", "year"])["hours"].sum()
    rows = []
    H = md.horizon
    for b in md.buildings:
        prev = 1
        for y in Y:
            o = round(op[(b, min(y, H))])  # after the horizon, as chosen by then
            closed = max(0, prev - o)
            rows.append((b, y, o, used.get((b, y), 0.0), extra[(b, y)], o * d["fixed_cost"][b] * S,
                         used.get((b, y), 0.0) * d["cost_per_hour"][b] * S, extra[(b, y)] * d["extended_cost_per_hour"][b] * S,
                         closed * d["closure_cost"][b] * S, closed * d["capital_receipt"][b] * S))
            prev = o
    buildings = pd.DataFrame(rows, columns=["building", "year", "open", "hours_used", "extended_hours", "fixed_cost",
                                            "hours_cost", "extended_cost", "closure_cost", "capital_receipt"])

    mo = m.money
    fund, fund_staff, fund_oh, draw, over = (_vals(session, c, values) for c in (
        mo.fund, mo.fund_staff, mo.fund_overheads, mo.draw, mo.overspend))
    pool = _vals(session, mo.pool, values)
    spend_of = units.groupby(["service", "year"])["direct_spend"].sum().to_dict()
    funding = pd.DataFrame([(f, s, "", y, v * S) for s, f, y, v in shared_out(fund, d["pay_classes"], spend_of)] +
                           [(f, "staff", r, y, v * S) for (f, r, y), v in fund_staff.items()] +
                           [(f, "overheads", "", y, v * S) for (f, y), v in fund_oh.items()],
                           columns=["stream", "service", "role", "year", "amount"])
    spent = funding.groupby(["stream", "year"])["amount"].sum()
    streams = pd.DataFrame([(f, y, mo.available[f, y].value * S, spent.get((f, y), 0.0), draw.get((f, y), 0.0) * S,
                             over.get((f, y), 0.0) * S) for f in md.streams for y in Y],
                           columns=["stream", "year", "available", "spent", "reserves_drawn", "overspend"])
    pooling = pd.DataFrame([(f, bool(round(pool[f])), d["pooling_cost"][f] * S) for f in pool],
                           columns=["stream", "pooled", "pooling_cost"])

    setup = options.merge(pd.DataFrame({"mechanism": list(d["mechanism_lead"]),
                                        "lead": list(d["mechanism_lead"].values())}), on="mechanism")
    setup_by_year = {y: sum(c / max(1, L) for c, L in zip(setup["setup_cost"], setup["lead"]) if y <= max(1, L))
                     for y in Y}
    direct = units.groupby("year")["direct_spend"].sum()
    staff = workforce.groupby("year")[["staff_cost", "agency_cost", "redundancy_cost"]].sum().sum(axis=1)
    bcost = buildings.groupby("year")[["fixed_cost", "hours_cost", "extended_cost", "closure_cost"]].sum().sum(axis=1)
    pool_cost = float((pooling["pooled"] * pooling["pooling_cost"]).sum()) if len(pooling) else 0.0
    spend = pd.DataFrame({"year": Y, "direct": [direct.get(y, 0.0) for y in Y], "staff": [staff.get(y, 0.0) for y in Y],
                          "buildings": [bcost.get(y, 0.0) for y in Y], "setup": [setup_by_year[y] for y in Y],
                          "pooling": [pool_cost] * len(Y)})
    spend["total"] = spend[["direct", "staff", "buildings", "setup", "pooling"]].sum(axis=1)
    spend["discount_factor"] = [md.delta[y] for y in Y]
    spend["phase"] = [phase(md, y) for y in Y]

    gain = {y: sum(d["gain"][o] * x.get((*o, y), 0.0) for o in md.options) for y in Y}
    harm = {y: sum(d["harm"][kl] * n[(*kl, y)] for kl in md.needs) for y in Y}
    outcomes = pd.DataFrame({"year": Y, "gain": [gain[y] for y in Y], "harm": [harm[y] for y in Y]})
    outcomes["value"] = outcomes["gain"] - outcomes["harm"]
    outcomes["discount_factor"] = [d["delta_outcome"][y] for y in Y]
    outcomes["phase"] = spend["phase"]

    receipts = buildings.groupby("year")["capital_receipt"].sum()
    drawn = streams.groupby("year")["reserves_drawn"].sum()
    reserves = pd.DataFrame({"year": Y, "drawn": [drawn.get(y, 0.0) for y in Y],
                             "receipts": [receipts.get(y, 0.0) if d["flexible_receipts"] else 0.0 for y in Y]})
    reserves["available_cumulative"] = d["reserves_available"] * S + reserves["receipts"].cumsum() - reserves["drawn"].cumsum()

    return {"units": units, "options": options, "need": need, "workforce": workforce, "buildings": buildings,
            "building_use": building_use, "funding": funding, "streams": streams, "pooling": pooling,
            "spend": spend, "outcomes": outcomes, "reserves": reserves}


def shared_out(by_class: dict, classes: dict, weight: dict) -> list[tuple]:
    """{(key, class, year): amount} shared over each class's members in proportion to their
    weight that year (equally when the weights are all 0): [(member, key, year, amount)].

    A class's members may all use the same buildings (or be paid by the same streams), so any
    sharing is a valid plan; this one keeps every member's share in step with its own need."""
    rows = []
    for (key, c, y), amount in by_class.items():
        members = classes[c][0]
        w = [max(0.0, weight.get((m, y), 0.0)) for m in members]
        total = sum(w)
        for m, wm in zip(members, w):
            share = wm / total if total > 0 else 1.0 / len(members)
            rows.append((m, key, y, amount * share))
    return rows


def phase(md: ModelData, y: int) -> str:
    """'decision' for years 1..H, 'evaluation' for the years after the horizon."""
    return "decision" if y <= md.horizon else "evaluation"


def shadow_prices(m, md: ModelData, session, duals) -> pd.DataFrame:
    """Outcome value of one more £ / staff hour / building hour, from the fixed-integer LP.

    HiGHS minimises -outcome, so a row's dual is d(-outcome)/d(rhs); the sign is flipped, and
    money rows are divided by the money scale to give value per pound.
    """
    cols = ["family", "key", "year", "value", "unit"]
    if duals is None:
        return pd.DataFrame(columns=cols)
    rows = []
    for comp, unit, per in ((m.money.stream_limit, "per £", 1 / md.money_scale),
                            (m.workforce.staff_hours, "per staff hour", 1.0),
                            (m.buildings.building_capacity, "per building hour", 1.0)):
        for idx, c in comp.items():
            i = session.row_of.get(id(c))
            if i is not None:
                rows.append((comp.local_name, idx[0], idx[1], -float(duals[i]) * per, unit))
    return pd.DataFrame(rows, columns=cols)
