"""Sparse index sets and coefficients: the instance as the model sees it.

Plain Python and pandas only. Money is divided by `money_scale` (a power of ten
near a thousandth of the total funding) so that HiGHS sees numbers near 1-1000
whatever the size of the area; results are scaled back to pounds.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from ..data.instance import Instance, split_list

TERMINAL_YEARS = 10  # years of harm counted after the horizon (docs/formulation.md)


def money_scale_for(total_money: float) -> float:
    """A power of ten that puts the total yearly money between 1,000 and 9,999 model units."""
    if total_money <= 0:
        return 1.0
    return 10.0 ** (math.floor(math.log10(total_money)) - 3)


def cut_by_year(cut, years) -> dict[int, float]:
    """A cut as a number for every year, or {year: share} with the last value carrying forward."""
    if cut is None:
        return {y: 0.0 for y in years}
    if isinstance(cut, (int, float)):
        return {y: float(cut) for y in years}
    given = {int(k): float(v) for k, v in dict(cut).items()}
    beyond = sorted(y for y in given if y not in years)
    if beyond:  # a year past the horizon would silently mean no cut at all
        from ..errors import InputError, Problem
        text = ",".join(f"{k}:{v:g}" for k, v in sorted(given.items()))
        raise InputError(Problem("--cut", None, None, text,
                                 f"years of the instance's horizon, {min(years)} to {max(years)} (not {beyond[0]})"))
    out, last = {}, 0.0
    for y in years:
        last = given.get(y, last)
        out[y] = last
    return out


def parse_cut(text: str | float | None):
    """'0.2' (every year) or '1:0.05,2:0.1,4:0.25' (by year, the last carrying forward)."""
    from ..errors import InputError, Problem
    if text is None or isinstance(text, (int, float)):
        return text
    text = str(text).strip()
    try:
        if ":" not in text:
            value = float(text)
            parts = {1: value}
        else:
            parts = {int(k): float(v) for k, v in (p.split(":") for p in text.split(",") if p.strip())}
    except ValueError:
        raise InputError(Problem("--cut", None, None, text, "a share such as 0.25, or year:share pairs such as 1:0.05,2:0.1,4:0.25")) from None
    bad = [v for v in parts.values() if not 0 <= v < 1] + [k for k in parts if k < 1]
    if bad:
        raise InputError(Problem("--cut", None, None, text, "shares from 0 up to (not including) 1, for years from 1"))
    return parts[1] if ":" not in text else parts


def matches(scope: list[str], service: str, tags: list[str]) -> bool:
    return "*" in scope or service in scope or any(t in scope for t in tags)


@dataclass
class ModelData:
    """Everything the Pyomo blocks need, in dicts keyed by the instance's names."""
    years: list
    delta: dict
    money_scale: float
    needs: list
    services: list
    options: list
    roles: list
    buildings: list
    streams: list
    d: dict = field(default_factory=dict)  # named coefficient dicts, see build_data

    def __getattr__(self, item):
        try:
            return self.__dict__["d"][item]
        except KeyError:
            raise AttributeError(item) from None


def build_data(inst: Instance) -> ModelData:
    H = inst.horizon
    years = list(range(1, H + 1))
    r = inst.discount_rate
    delta = {y: (1 + r) ** -y for y in years}
    levels = inst.levels

    funding = inst["funding"]
    total_money = float(funding["base_amount"].sum())
    S = money_scale_for(total_money)
    d: dict = {}

    # --- need -------------------------------------------------------------------------
    needs_df = inst["needs"]
    needs = list(zip(needs_df["cohort"], needs_df["level"]))
    d["pop_base"] = dict(zip(needs, needs_df["population_base"]))
    cover = inst.statutory_coverage()
    d["coverage"] = {kl: cover.get(kl, 0.0) for kl in needs}
    d["future_cost"] = {kl: v / S for kl, v in zip(needs, needs_df["future_cost"])}
    d["arrivals"] = {(k, l, y): a * (1 + g) ** y for (k, l), a, g in
                     zip(needs, needs_df["arrivals_per_year"], needs_df["arrivals_growth"]) for y in years}
    d["level_rank"] = {kl: levels.index(kl[1]) for kl in needs}

    tr = inst["transitions"]
    inflows = defaultdict(list)
    persistence = defaultdict(float)
    for fk, fl, tk, tl, g, rate in zip(tr["from_cohort"], tr["from_level"], tr["to_cohort"], tr["to_level"],
                                       tr["lag_years"], tr["rate"]):
        if rate <= 0:
            continue
        inflows[(tk, tl)].append(((fk, fl), int(g), float(rate)))
        if (fk, fl) == (tk, tl) and int(g) == 1:
            persistence[(fk, fl)] += float(rate)
    d["inflows"] = dict(inflows)

    # harm per person-year, weighted over domains
    weights = dict(zip(inst["outcomes"]["domain"], inst["outcomes"]["weight"]))
    harms = inst["harms"]
    harm = defaultdict(float)
    for k, l, dom, h in zip(harms["cohort"], harms["level"], harms["domain"], harms["harm_per_person_year"]):
        harm[(k, l)] += weights.get(dom, 0.0) * h
    d["harm"] = {kl: harm.get(kl, 0.0) for kl in needs}
    dH = delta[H]
    q = 1 / (1 + r)
    d["terminal_harm"] = {kl: dH * d["harm"][kl] * sum((q * persistence[kl]) ** t for t in range(1, TERMINAL_YEARS + 1))
                          for kl in needs}
    d["terminal_cost"] = {kl: dH * d["future_cost"][kl] for kl in needs}

    # --- services and options ----------------------------------------------------------
    sv = inst["services"]
    services = list(sv["service"])
    d["service_need"] = {s: (k, l) for s, k, l in zip(services, sv["cohort"], sv["level"])}
    for col in ("people_per_unit", "base_units", "min_units", "max_units"):
        d[col] = dict(zip(services, sv[col].astype(float)))
    d["service_tags"] = {s: split_list(t) for s, t in zip(services, sv["tags"])}
    d["service_building_types"] = {s: split_list(t) for s, t in zip(services, sv["building_types"])}
    d["statutory_service"] = {s: d["coverage"].get(d["service_need"][s], 0.0) > 0 for s in services}

    mech = inst.indexed("mechanisms")
    op = inst["options"]
    options = list(zip(op["service"], op["mechanism"]))
    gains = inst["gains"]
    gain_value = defaultdict(float)
    for s, dom, g in zip(gains["service"], gains["domain"], gains["gain_per_unit"]):
        gain_value[s] += weights.get(dom, 0.0) * g
    d["current"] = dict(zip(options, op["current"].astype(bool)))
    d["mechanism_lead"] = {m: int(mech.at[m, "lead_years"]) for m in mech.index}
    fam = dict(mech["family"]) if "family" in mech.columns else {}
    d["mechanism_family"] = {m: (fam[m].strip() if isinstance(fam.get(m), str) else "") or m
                             for m in mech.index}  # no family given: the mechanism's own name
    d["unit_price"] = {}
    d["served_per_unit"] = {}
    d["gain"] = {}
    for (s, m), uc, qual, fd in zip(options, op["unit_cost"], op["quality"], op["failure_demand"]):
        d["unit_price"][(s, m)] = (1 + float(mech.at[m, "transaction_rate"])) * uc / S
        d["served_per_unit"][(s, m)] = d["people_per_unit"][s] * (1 - fd)
        d["gain"][(s, m)] = gain_value[s] * qual * (1 - fd)
    d["effect"] = dict(zip(options, op["effect_escalation"]))
    d["max_share"] = dict(zip(options, op["max_share"]))
    d["setup"] = {o: (0.0 if d["current"][o] else c / S) for o, c in zip(options, op["setup_cost"])}
    d["lead"] = {(s, m): (0 if d["current"][(s, m)] else d["mechanism_lead"][m]) for (s, m) in options}
    d["option_years"] = {o: [y for y in years if y > d["lead"][o]] for o in options}
    d["options_of"] = defaultdict(list)
    for o in options:
        d["options_of"][o[0]].append(o)
    d["current_of"] = {o[0]: o for o in options if d["current"][o]}
    d["services_of_need"] = defaultdict(list)
    for s in services:
        d["services_of_need"][d["service_need"][s]].append(s)

    # base-year history standing in for years <= 0
    base_served = defaultdict(float)
    base_prevented = defaultdict(float)
    for o in options:
        if d["current"][o]:
            s = o[0]
            people = d["served_per_unit"][o] * d["base_units"][s]
            base_served[d["service_need"][s]] += people
            base_prevented[d["service_need"][s]] += d["effect"][o] * people
    d["base_served"] = {kl: base_served[kl] for kl in needs}
    d["base_source"] = {kl: d["pop_base"][kl] - base_prevented[kl] for kl in needs}

    # --- workforce -----------------------------------------------------------------------
    wf = inst["workforce"]
    roles = list(wf["role"])
    for col in ("fte_base", "hours_per_fte", "max_hire", "max_release", "max_agency_hours"):
        d[col] = dict(zip(roles, wf[col].astype(float)))
    for col in ("cost_per_fte", "redundancy_cost", "agency_cost_per_hour"):
        d[col] = {rr: v / S for rr, v in zip(roles, wf[col].astype(float))}
    d["role_tags"] = {rr: split_list(t) for rr, t in zip(roles, wf["tags"])}
    staff = inst["option_staff"]
    d["staff_hours"] = defaultdict(dict)
    for s, m, rr, h in zip(staff["service"], staff["mechanism"], staff["role"], staff["hours_per_unit"]):
        if h > 0:
            d["staff_hours"][(s, m)][rr] = float(h)
    d["staff_hours"] = dict(d["staff_hours"])

    # --- buildings -----------------------------------------------------------------------
    bd = inst["buildings"]
    buildings = list(bd["building"])
    d["building_type"] = dict(zip(buildings, bd["type"]))
    for col in ("hours_available", "extendable_hours"):
        d[col] = dict(zip(buildings, bd[col].astype(float)))
    for col in ("fixed_cost", "cost_per_hour", "closure_cost", "capital_receipt", "extended_cost_per_hour"):
        d[col] = {b: v / S for b, v in zip(buildings, bd[col].astype(float))}
    d["can_close"] = dict(zip(buildings, bd["can_close"].astype(bool)))
    ob = inst["option_buildings"]
    d["building_hours"] = {(s, m): float(h) for s, m, h in zip(ob["service"], ob["mechanism"], ob["hours_per_unit"]) if h > 0}
    d["service_sites"] = {}
    for s in services:
        types = d["service_building_types"][s]
        if any((s, m) in d["building_hours"] for (_, m) in d["options_of"][s]):
            d["service_sites"][s] = [b for b in buildings if "*" in types or d["building_type"][b] in types]

    # --- money ---------------------------------------------------------------------------
    streams = list(funding["stream"])
    d["amount"] = {f: a / S for f, a in zip(streams, funding["base_amount"])}
    d["subject_to_cut"] = dict(zip(streams, funding["subject_to_cut"].astype(bool)))
    d["pays_overheads"] = dict(zip(streams, funding["overheads"].astype(bool)))
    d["poolable"] = dict(zip(streams, funding["poolable"].astype(bool)))
    d["pooling_cost"] = {f: c / S for f, c in zip(streams, funding["pooling_cost"])}
    scope = {f: split_list(x) for f, x in zip(streams, funding["scope"])}
    pooled = {f: split_list(x) for f, x in zip(streams, funding["pooled_scope"])}
    d["fund_pairs"] = [(f, s) for f in streams for s in services if matches(scope[f], s, d["service_tags"][s])]
    in_scope = set(d["fund_pairs"])
    d["pooled_pairs"] = [(f, s) for f in streams if d["poolable"][f] for s in services
                         if (f, s) not in in_scope and matches(pooled[f], s, d["service_tags"][s])]
    res = inst.reserves
    d["reserves_available"] = max(0.0, res["opening"] - res["minimum"]) / S
    d["flexible_receipts"] = res["flexible_capital_receipts"]
    d["changes"] = list(inst.changes)  # scenario and policy data changes (policies/levers.py checks its own)

    md = ModelData(years=years, delta=delta, money_scale=S, needs=needs, services=services, options=options,
                   roles=roles, buildings=buildings, streams=streams, d=d)
    _bounds(md)
    return md


def _bounds(md: ModelData) -> None:
    """Forward bounds on need (Nmax) and per-option unit bounds U: the tight linking of the design.

    Nmax is the need flow with nobody served from year 1 (every source at its own bound);
    serving never makes need worse, so it bounds n, and it is also the need of `outcome_none`. U[o, y] is the least of the
    service's capacity, the need the option can reach and the staff hours that hiring
    and agency could supply. Money is no bound: overspend is measured, never forbidden.
    """
    d = md.d
    nmax = {}
    for y in md.years:
        for kl in md.needs:
            v = d["arrivals"][(*kl, y)]
            for src, g, rate in d["inflows"].get(kl, ()):
                v += rate * (d["base_source"][src] if y - g <= 0 else nmax[(*src, y - g)])
            nmax[(*kl, y)] = v
    d["nmax"] = nmax
    U = {}
    for o in md.options:
        s = o[0]
        kl = d["service_need"][s]
        for y in d["option_years"][o]:
            u = d["max_units"][s]
            spu = d["served_per_unit"][o]
            if spu > 0:
                u = min(u, d["max_share"][o] * nmax[(*kl, y)] / spu)
            for rr, h in d["staff_hours"].get(o, {}).items():
                hours = d["hours_per_fte"][rr] * (d["fte_base"][rr] + y * d["max_hire"][rr]) + d["max_agency_hours"][rr]
                u = min(u, hours / h)
            U[(*o, y)] = max(0.0, u)
    d["U"] = U
    d["oy"] = set(U)
    # outcome with no provision from year 1 on: Nmax is exactly that need flow
    n0 = d["need_no_provision"] = nmax
    H = md.years[-1]
    d["outcome_none"] = (-sum(md.delta[y] * d["harm"][kl] * n0[(*kl, y)] for kl in md.needs for y in md.years)
                         - sum(d["terminal_harm"][kl] * n0[(*kl, H)] for kl in md.needs))
