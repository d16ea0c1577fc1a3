"""Sparse index sets and coefficients: the instance as the model sees it.

Plain Python and pandas only. Money is divided by `money_scale` (a power of ten
near a thousandth of the total funding) so that HiGHS sees numbers near 1-1000
whatever the size of the area; results are scaled back to pounds.

Years: decisions are taken in years 1..H (the horizon); years H+1..E (the evaluation
years) keep the structure chosen by then and let volumes move within the pace limits,
so that need flows with long lags, and the end of the horizon, are valued by the model
itself. `md.years` is 1..E, `md.horizon` is H.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from ..data.instance import Instance, split_list

TERMINAL_YEARS = 10  # years of harm counted after the last modelled year (docs/formulation.md)
CHANNELS = ("escalation", "persistence", "none")


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


def extend_cut(cut: dict[int, float], years) -> dict[int, float]:
    """A cut given for the decision years, carried into the evaluation years at its last value."""
    last = cut[max(cut)] if cut else 0.0
    return {y: cut.get(y, last) for y in years}


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


def _number(v, default=None):
    """A cell as a float, or `default` when empty (NaN)."""
    if v is None:
        return default
    v = float(v)
    return default if math.isnan(v) else v


def evaluation_end(inst: Instance) -> int:
    """The last year modelled: instance.yaml evaluation_years, else the horizon plus the
    longest transition lag, at least twice the horizon."""
    H = inst.horizon
    given = inst.meta.get("evaluation_years")
    if isinstance(given, int) and not isinstance(given, bool):
        return max(H, given)
    lags = inst["transitions"]["lag_years"]
    longest = int(lags.max()) if len(lags) else 0
    return max(H + longest, 2 * H)


def transition_channel(from_kl, to_kl, given: str) -> str:
    """escalation | persistence | none: as given, else persistence when the cohort and level stay the same."""
    if given:
        return given
    return "persistence" if from_kl == to_kl else "escalation"


@dataclass
class ModelData:
    """Everything the Pyomo blocks need, in dicts keyed by the instance's names."""
    years: list  # 1..E: decision years then evaluation years
    horizon: int  # H: the last decision year
    delta: dict  # money discount factor by year
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

    @property
    def decision_years(self) -> list:
        return [y for y in self.years if y <= self.horizon]


def build_data(inst: Instance) -> ModelData:
    H = inst.horizon
    E = evaluation_end(inst)
    years = list(range(1, E + 1))
    r = inst.discount_rate
    r_out = inst.meta.get("outcome_discount_rate")
    r_out = r if r_out is None else float(r_out)
    delta = {y: (1 + r) ** -y for y in years}
    levels = inst.levels

    funding = inst["funding"]
    total_money = float(funding["base_amount"].sum())
    S = money_scale_for(total_money)
    d: dict = {"delta_outcome": {y: (1 + r_out) ** -y for y in years}, "evaluation_end": E}

    # --- need -------------------------------------------------------------------------
    needs_df = inst["needs"]
    needs = list(zip(needs_df["cohort"], needs_df["level"]))
    d["pop_base"] = dict(zip(needs, needs_df["population_base"]))
    d["future_cost"] = {kl: v / S for kl, v in zip(needs, needs_df["future_cost"])}
    d["arrivals"] = {(k, l, y): a * (1 + g) ** y for (k, l), a, g in
                     zip(needs, needs_df["arrivals_per_year"], needs_df["arrivals_growth"]) for y in years}
    d["level_rank"] = {kl: levels.index(kl[1]) for kl in needs}

    tr = inst["transitions"]
    inflows = defaultdict(list)
    persistence = defaultdict(float)
    for fk, fl, tk, tl, g, rate, ch in zip(tr["from_cohort"], tr["from_level"], tr["to_cohort"], tr["to_level"],
                                           tr["lag_years"], tr["rate"], tr["channel"]):
        if rate <= 0:
            continue
        channel = transition_channel((fk, fl), (tk, tl), ch)
        inflows[(tk, tl)].append(((fk, fl), int(g), float(rate), channel))
        if (fk, fl) == (tk, tl) and int(g) == 1:
            persistence[(fk, fl)] += float(rate)
    d["inflows"] = dict(inflows)
    # the (channel, lag) pairs on which each source's prevention is needed
    d["outflow_kinds"] = defaultdict(set)
    for dest, rows in d["inflows"].items():
        for src, g, _, ch in rows:
            d["outflow_kinds"][src].add((ch, g))

    # harm per person-year, weighted over domains
    weights = dict(zip(inst["outcomes"]["domain"], inst["outcomes"]["weight"]))
    harms = inst["harms"]
    harm = defaultdict(float)
    for k, l, dom, h in zip(harms["cohort"], harms["level"], harms["domain"], harms["harm_per_person_year"]):
        harm[(k, l)] += weights.get(dom, 0.0) * h
    d["harm"] = {kl: harm.get(kl, 0.0) for kl in needs}
    q = 1 / (1 + r_out)
    tail = {kl: sum((q * persistence[kl]) ** t for t in range(1, TERMINAL_YEARS + 1)) for kl in needs}
    d["terminal_harm"] = {kl: d["delta_outcome"][E] * d["harm"][kl] * tail[kl] for kl in needs}
    d["terminal_cost"] = {kl: delta[E] * d["future_cost"][kl] for kl in needs}

    # --- services and options ----------------------------------------------------------
    sv = inst["services"]
    services = list(sv["service"])
    d["service_need"] = {s: (k, l) for s, k, l in zip(services, sv["cohort"], sv["level"])}
    for col in ("people_per_unit", "base_units", "min_units", "max_units", "ramp_units"):
        d[col] = dict(zip(services, sv[col].astype(float)))
    d["service_tags"] = {s: split_list(t) for s, t in zip(services, sv["tags"])}
    d["service_building_types"] = {s: split_list(t) for s, t in zip(services, sv["building_types"])}
    pace = inst.meta.get("pace") or {}
    d["max_growth"] = {s: _number(v, pace.get("max_growth")) for s, v in zip(services, sv["max_growth"])}
    d["max_decline"] = {s: _number(v, pace.get("max_decline")) for s, v in zip(services, sv["max_decline"])}
    d["marginal_effect"] = dict(zip(services, sv["marginal_effect"].astype(float)))
    d["full_effect_units"] = {}
    for s, f in zip(services, sv["full_effect_units"]):
        f = _number(f)
        base = d["base_units"][s]
        d["full_effect_units"][s] = f if f is not None else (base if base > 0 else None)

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
    d["base_price"] = {}
    d["unit_price"] = {}
    d["served_per_unit"] = {}
    d["gain"] = {}
    for (s, m), uc, qual, fd, g in zip(options, op["unit_cost"], op["quality"], op["failure_demand"],
                                       op["real_cost_growth"]):
        base_price = (1 + float(mech.at[m, "transaction_rate"])) * uc / S
        d["base_price"][(s, m)] = base_price
        for y in years:
            d["unit_price"][(s, m, y)] = base_price * (1 + g) ** y
        d["served_per_unit"][(s, m)] = d["people_per_unit"][s] * (1 - fd)
        d["gain"][(s, m)] = gain_value[s] * qual * (1 - fd)
    d["effect"] = {"escalation": dict(zip(options, op["effect_escalation"].astype(float))),
                   "persistence": dict(zip(options, op["effect_resolution"].astype(float))),
                   "none": {o: 0.0 for o in options}}
    d["effect_fade"] = dict(zip(options, op["effect_fade"].astype(float)))
    d["exit_rate"] = {o: _number(e) for o, e in zip(options, op["exit_rate"]) if d["current"][o] and _number(e) is not None}
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
    # options whose effects thin out past full_effect_units (the diminishing-returns tranche)
    d["effective"] = {o for o in options if any(d["effect"][ch][o] > 0 for ch in ("escalation", "persistence"))}
    d["tranched"] = {o for o in d["effective"] if d["full_effect_units"][o[0]] is not None
                     and d["marginal_effect"][o[0]] < 1}

    _duties(inst, d, needs, services)
    _base_history(d, needs, options)

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
    d["closure_lead"] = dict(zip(buildings, bd["closure_lead_years"].astype(int)))
    ob = inst["option_buildings"]
    d["building_hours"] = {(s, m): float(h) for s, m, h in zip(ob["service"], ob["mechanism"], ob["hours_per_unit"]) if h > 0}
    d["service_sites"] = {}
    for s in services:
        types = d["service_building_types"][s]
        if any((s, m) in d["building_hours"] for (_, m) in d["options_of"][s]):
            d["service_sites"][s] = [b for b in buildings if "*" in types or d["building_type"][b] in types]
    # services that may use the same buildings place their hours together (a site class): which of
    # them uses which hall is an accounting the results make afterwards, not a decision
    d["site_classes"] = _classes({s: tuple(sites) for s, sites in d["service_sites"].items()})

    # --- money ---------------------------------------------------------------------------
    streams = list(funding["stream"])
    d["amount"] = {(f, y): a * (1 + g) ** y / S for f, a, g in zip(streams, funding["base_amount"], funding["growth"])
                   for y in years}
    d["base_amount"] = {f: a / S for f, a in zip(streams, funding["base_amount"])}
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
    # services the same streams may pay are funded together (a payer class): which stream pays which
    # of them is an accounting the results make afterwards, not a decision
    pooled_pairs = set(d["pooled_pairs"])
    payers = defaultdict(list)  # (stream, only once pooled?) of each service
    for f, s in d["fund_pairs"] + d["pooled_pairs"]:
        payers[s].append((f, (f, s) in pooled_pairs))
    by_payers = _classes({s: tuple(sorted(payers[s], key=lambda p: streams.index(p[0]))) for s in services})
    d["pay_classes"] = {c: (members, tuple(f for f, _ in key)) for c, (members, key) in by_payers.items()}
    d["class_pooled"] = {(f, c) for c, (_, key) in by_payers.items() for f, pooled in key if pooled}
    d["staff_pairs"] = staff_payers(d, streams, roles)
    d["overspend_streams"] = overspend_streams(d, streams, services)
    res = inst.reserves
    d["reserves_available"] = max(0.0, res["opening"] - res["minimum"]) / S
    d["flexible_receipts"] = res["flexible_capital_receipts"]
    d["draw_years"] = [y for y in years if y < H]  # reserves pay transition years, never the years from H on
    d["changes"] = list(inst.changes)  # scenario and policy data changes (policies/levers.py checks its own)

    md = ModelData(years=years, horizon=H, delta=delta, money_scale=S, needs=needs, services=services,
                   options=options, roles=roles, buildings=buildings, streams=streams, d=d)
    _bounds(md)
    return md


def _duties(inst: Instance, d: dict, needs: list, services: list) -> None:
    """d["duties"]: {duty: {need, coverage, services: {s: (counts_as, min_share, max_share)}}}.

    Without duties.csv every (cohort, level) with statutory_coverage > 0 is one duty that any
    service aimed at it meets (counts_as 1, no shares): the meaning before duties.csv existed."""
    duties = {}
    if inst.has_duties:
        ds = inst["duty_services"]
        for duty, k, l, c in zip(inst["duties"]["duty"], inst["duties"]["cohort"], inst["duties"]["level"],
                                 inst["duties"]["coverage"]):
            rows = ds[ds["duty"] == duty]
            duties[duty] = {"need": (k, l), "coverage": float(c),
                            "services": {s: (float(a), float(lo), float(hi)) for s, a, lo, hi in
                                         zip(rows["service"], rows["counts_as"], rows["min_share"], rows["max_share"])}}
    else:
        n = inst["needs"]
        for k, l, c in zip(n["cohort"], n["level"], n["statutory_coverage"]):
            if c > 0:
                duties[f"{k}/{l}"] = {"need": (k, l), "coverage": float(c),
                                      "services": {s: (1.0, 0.0, 1.0) for s in d["services_of_need"].get((k, l), [])}}
    d["duties"] = duties
    cover = defaultdict(float)
    for duty in duties.values():
        cover[duty["need"]] = min(1.0, cover[duty["need"]] + duty["coverage"])
    d["coverage"] = {kl: cover.get(kl, 0.0) for kl in needs}
    in_duty = {s for duty in duties.values() for s in duty["services"]}
    d["statutory_service"] = {s: s in in_duty for s in services}


def prevention_coefficient(d: dict, o, channel: str, lag: int) -> float:
    """People a unit of option o keeps off a transition of this channel and lag (at full effect)."""
    return d["effect"][channel][o] * (1 - d["effect_fade"][o]) ** (lag - 1) * d["served_per_unit"][o]


def _base_history(d: dict, needs: list, options: list) -> None:
    """The base year standing in for years <= 0: for each source need and (channel, lag), the people
    in need minus those the current options kept off such transitions (base units, their tranche split)."""
    src = {}
    for kl in needs:
        for ch, g in d["outflow_kinds"].get(kl, ()):
            prevented = 0.0
            for s in d["services_of_need"].get(kl, ()):
                o = d["current_of"].get(s)
                if o is None:
                    continue
                units = d["base_units"][s]
                beyond = max(0.0, units - d["full_effect_units"][s]) if o in d["tranched"] else 0.0
                coef = prevention_coefficient(d, o, ch, g)
                prevented += coef * (units - (1 - d["marginal_effect"][s]) * beyond)
            src[(kl, ch, g)] = d["pop_base"][kl] - prevented
    d["base_source"] = src


def _classes(key_of: dict) -> dict:
    """{class number: (its members, the key they share)} grouping members with equal keys, in first-seen order."""
    out, number = {}, {}
    for member, key in key_of.items():
        if key not in number:
            number[key] = len(number)
            out[number[key]] = ([], key)
        out[number[key]][0].append(member)
    return out


def staff_payers(d: dict, streams: list, roles: list) -> list:
    """(stream, role) pairs: a stream may pay a role's staff costs when it pays overheads, or when its
    scope covers a service that one of the role's options delivers (a public health grant paying its
    own in-house public health staff)."""
    payers = []
    works_for = defaultdict(set)
    for o, hours in d["staff_hours"].items():
        for r in hours:
            works_for[r].add(o[0])
    scoped = defaultdict(set)
    for f, s in d["fund_pairs"]:
        scoped[f].add(s)
    for f in streams:
        for r in roles:
            if d["pays_overheads"][f] or works_for[r] & scoped[f]:
                payers.append((f, r))
    return payers


def overspend_streams(d: dict, streams: list, services: list) -> list:
    """Streams that can show overspend: those subject to the cut (what the cut took is what is missing),
    or, where no stream subject to the cut may pay a service, that service's own payers; with no
    stream subject to the cut at all, the overheads streams (else every stream)."""
    cut = [f for f in streams if d["subject_to_cut"][f]]
    if not cut:
        cut = [f for f in streams if d["pays_overheads"][f]] or list(streams)
    out = set(cut)
    payers = defaultdict(set)
    for f, s in d["fund_pairs"] + d["pooled_pairs"]:
        payers[s].add(f)
    for s in services:
        if not payers[s] & out:
            out |= payers[s]
    return [f for f in streams if f in out]


def _bounds(md: ModelData) -> None:
    """Forward bounds on need (Nmax) and per-option unit bounds U: the tight linking of the design.

    Nmax is the need flow with nobody served from year 1 (every source at its own bound);
    serving never makes need worse, so it bounds n, and it is also the need of `outcome_none`. U[o, y] is the least of the
    service's capacity, the option's share of it and the staff hours that hiring
    and agency could supply. Money is no bound: overspend is measured, never forbidden.
    """
    d = md.d
    nmax = {}
    for y in md.years:
        for kl in md.needs:
            v = d["arrivals"][(*kl, y)]
            for src, g, rate, ch in d["inflows"].get(kl, ()):
                v += rate * (d["base_source"][(src, ch, g)] if y - g <= 0 else nmax[(*src, y - g)])
            nmax[(*kl, y)] = max(0.0, v)
    d["nmax"] = nmax
    U = {}
    for o in md.options:
        s = o[0]
        kl = d["service_need"][s]
        for y in d["option_years"][o]:
            u = d["max_units"][s] * min(1.0, d["max_share"][o])
            spu = d["served_per_unit"][o]
            if spu > 0:
                u = min(u, nmax[(*kl, y)] / spu)
            for rr, h in d["staff_hours"].get(o, {}).items():
                hours = d["hours_per_fte"][rr] * (d["fte_base"][rr] + y * d["max_hire"][rr]) + d["max_agency_hours"][rr]
                u = min(u, hours / h)
            U[(*o, y)] = max(0.0, u)
    d["U"] = U
    d["oy"] = set(U)
    # outcome with no provision from year 1 on: Nmax is exactly that need flow
    n0 = d["need_no_provision"] = nmax
    E = md.years[-1]
    dq = d["delta_outcome"]
    d["outcome_none"] = (-sum(dq[y] * d["harm"][kl] * n0[(*kl, y)] for kl in md.needs for y in md.years)
                         - sum(d["terminal_harm"][kl] * n0[(*kl, E)] for kl in md.needs))
