"""Policies as fixings on the one model: what each lever frees, and each rule for the levers that are off.

Every policy is the same Pyomo model; a rule only sets the `policy_units` Params of the
services (a floor and a ceiling on a service's units) and column bounds (FTE floors, hiring,
adoption, buildings, pooling, reserves). Two rules also change coefficients, on a copy of the
instance made before the model is built (`transform_instance`; see ModelSpec.transform).

All levers off is salami slicing: every service's units, every role's FTE, cut by the
same share as the money; mechanisms, buildings, pooling and reserves unchanged;
statutory services still meet their duty (so any overspend it forces shows). The status
quo is the same rule with no cut. Turning a lever on frees what it governs.
Lever `early_intervention` governs services at the lower half of the need levels,
`reallocate` those at the upper half.

The other historic answers to a cut each find the same saving their own way (the saving in
year y is the cut share times the base money of the streams subject to the cut):
  thresholds          provision withdrawn from the lowest need level up until the saving is found
  procurement_squeeze external prices and quality renegotiated down; the rest sliced as salami
  back_office         support and management FTE cut by the share that finds the saving
  freeze_posts        no hiring; leavers not replaced until the saving is found
and whatever a rule does not find, or a statutory duty forces back, shows as overspend.
docs/formulation.md (Policies) gives the arithmetic.
"""
from __future__ import annotations

from ..model.index import ModelData
from .spec import ModelSpec

IN_HOUSE = "in_house"  # the mechanism family of council-delivered options


def is_preventive(md: ModelData, s: str, levels: list[str]) -> bool:
    return md.level_rank[md.service_need[s]] < len(levels) // 2


def is_in_house(md: ModelData, o) -> bool:
    return md.d.get("mechanism_family", {}).get(o[1], o[1]) == IN_HOUSE


def salami_fte(md: ModelData, r: str, cut: dict[int, float], hire: bool = True) -> dict[int, float]:
    """Each year's FTE under a uniform cut, as near as hire and release limits allow (no hiring
    at all when `hire` is false: the FTE then never rises)."""
    out, prev = {}, md.fte_base[r]
    up = md.max_hire[r] if hire else 0.0
    for y in md.years:
        target = (1 - cut[y]) * md.fte_base[r]
        prev = min(max(target, prev - md.max_release[r]), prev + up)
        out[y] = prev
    return out


# ---- the saving and what things cost in the base year (model money units) -----------------
def cut_money(md: ModelData, y: int = 1) -> float:
    """Money in year y (before any cut) of the streams subject to the cut."""
    return sum(md.amount[(f, y)] for f in md.streams if md.subject_to_cut[f])


def money_saving(md: ModelData, cut: dict[int, float]) -> dict[int, float]:
    """The saving each year's cut asks for: cut_y x that year's money of the streams it applies to."""
    return {y: cut[y] * cut_money(md, y) for y in md.years}


def staff_cost_per_unit(md: ModelData, o) -> float:
    """The in-house staff cost of one unit of option o: hours x cost_per_fte / hours_per_fte."""
    return sum(h * md.cost_per_fte[r] / md.hours_per_fte[r] for r, h in md.staff_hours.get(o, {}).items())


def full_unit_cost(md: ModelData, s: str) -> float:
    """What a unit of service s costs as delivered in the base year: the current option's unit
    price (transaction costs included) plus the staff it uses."""
    o = md.current_of[s]
    return md.base_price[o] + staff_cost_per_unit(md, o)


def staff_cost(md: ModelData, roles) -> float:
    return sum(md.fte_base[r] * md.cost_per_fte[r] for r in roles)


def share_of_cost(md: ModelData, saving: dict[int, float], cost: float) -> dict[int, float]:
    """The share of a yearly cost that finds each year's saving (at most all of it)."""
    return {y: (min(1.0, saving[y] / cost) if cost > 0 else 0.0) for y in md.years}


def cut_streams_pay(md: ModelData, s: str) -> bool:
    """True when some stream subject to the cut may pay service s."""
    return any(ss == s and md.subject_to_cut[f] for f, ss in md.fund_pairs)


# ---- the rules ---------------------------------------------------------------------------------
def statutory_threshold(md: ModelData, levels: list[str]) -> int:
    """The rank of the lowest need level at which some need carries a statutory duty (the
    number of levels when none does): thresholds rise no higher than this."""
    return min((md.level_rank[kl] for kl in md.needs if md.coverage[kl] > 0), default=len(levels))


def threshold_units(md: ModelData, saving: dict[int, float], candidates: list[str]) -> dict[tuple, float]:
    """Units left to each candidate service each year when thresholds rise from the lowest level.

    Walk the levels from the lowest; at each, every candidate service can give up its units
    above min_units, worth (base_units - min_units) x full_unit_cost. A level that the saving
    still left to find covers is withdrawn whole; the level where the saving runs out gives up
    the same share of each of its services' withdrawable units; levels above it keep base."""
    by_rank: dict[int, list[str]] = {}
    for s in candidates:
        by_rank.setdefault(md.level_rank[md.service_need[s]], []).append(s)
    room = {s: max(0.0, md.base_units[s] - md.min_units[s]) for s in candidates}
    worth = {s: room[s] * full_unit_cost(md, s) for s in candidates}
    out = {}
    for y in md.years:
        left = saving[y]
        for rank in sorted(by_rank):
            group = by_rank[rank]
            total = sum(worth[s] for s in group)
            if left <= 0 or total <= 0:
                share = 0.0
            elif left >= total:
                share, left = 1.0, left - total
            else:
                share, left = left / total, 0.0
            for s in group:
                out[(s, y)] = md.base_units[s] - share * room[s]
    return out


def withdrawn_share(md: ModelData, units: dict[tuple, float]) -> dict[str, dict[int, float]]:
    """Each role's share of its base-year hours that the withdrawn units used (its FTE cut)."""
    base = {r: 0.0 for r in md.roles}
    for s in md.services:
        for r, h in md.staff_hours.get(md.current_of[s], {}).items():
            base[r] += h * md.base_units[s]
    out = {}
    for r in md.roles:
        out[r] = {}
        for y in md.years:
            gone = sum(h * (md.base_units[s] - units[(s, yy)]) for (s, yy) in units if yy == y
                       for rr, h in md.staff_hours.get(md.current_of[s], {}).items() if rr == r)
            out[r][y] = min(1.0, gone / base[r]) if base[r] > 0 else 0.0
    return out


def external_base_spend(md: ModelData) -> float:
    """Base-year direct spend on services whose current option is not in-house (model prices)."""
    return sum(md.base_units[s] * md.base_price[md.current_of[s]] for s in md.services
               if not is_in_house(md, md.current_of[s]))


def squeeze_slice(md: ModelData, cut: dict[int, float], price_cut: float) -> dict[int, float]:
    """The salami share left after the squeeze: cut_y - squeeze saving / cut money, at least 0.

    The model is built on the squeezed prices, so the saving is price_cut / (1 - price_cut)
    times the external base spend at those prices (= price_cut times it at the old ones)."""
    found = price_cut / (1 - price_cut) * external_base_spend(md)
    return {y: (max(0.0, cut[y] - found / cut_money(md, y)) if cut_money(md, y) > 0 else cut[y]) for y in md.years}


def back_office_roles(md: ModelData, tags) -> list[str]:
    return [r for r in md.roles if set(md.role_tags.get(r, ())) & set(tags)]


def staff_left(md: ModelData, s: str, path: dict[str, dict[int, float]], y: int) -> float:
    """The share of its base units service s can deliver with the staff a path leaves: the
    least FTE share among the roles its current option uses (1 if it uses none)."""
    shares = [path[r][y] / md.fte_base[r] for r in md.staff_hours.get(md.current_of[s], {})
              if md.fte_base[r] > 0]
    return min(shares, default=1.0)


def paced(md: ModelData, s: str, target: dict[int, float]) -> dict[int, float]:
    """A rule's units for a service, year by year, as near its target as the pace allows: within
    min_units and max_units, changing at most max_growth (with ramp_units) and at most the
    smaller of max_decline and the current option's exit_rate of last year's units."""
    g = md.max_growth[s]
    falls = [v for v in (md.max_decline[s], md.exit_rate.get(md.current_of[s])) if v is not None]
    fall = min(falls) if falls else None
    out, prev = {}, md.base_units[s]
    for y in md.years:
        u = min(max(target[y], md.min_units[s]), md.max_units[s])
        if g is not None:
            u = min(u, (1 + g) * prev + g * md.ramp_units[s])
        if fall is not None:
            u = max(u, (1 - fall) * prev)
        out[y] = prev = u
    return out


def apply_policy(m, md: ModelData, spec: ModelSpec, cut: dict[int, float], levels: list[str]) -> list:
    """Set the policy rows' Params and return the column bounds [(VarData, lb, ub)] it fixes."""
    if spec.transforms_data and spec.transform_note not in md.d.get("changes", ()):
        raise RuntimeError(f"the {spec.policy} rule changes the data: build the model on "
                           f"spec.transform(instance), not on the instance itself")
    lv = spec.levers
    bounds = []
    mech, wf, bd, mo = m.mechanisms, m.workforce, m.buildings, m.money
    years = md.years
    zero = {y: 0.0 for y in years}
    free = {s: (lv["early_intervention"] if is_preventive(md, s, levels) else lv["reallocate"]) for s in md.services}
    fixed = [s for s in md.services if not free[s]]
    saving = money_saving(md, cut)

    # target[s][y] = the units the rule gives each service it fixes (statutory services may
    # serve more where their duty needs it); role_cut[r][y] = the FTE share each role's floor
    # is cut by; hire = whether hiring is allowed
    base = {s: {y: md.base_units[s] for y in years} for s in fixed}
    target, hire = {}, True
    if spec.policy == "thresholds":
        below = statutory_threshold(md, levels)
        candidates = [s for s in fixed if not md.statutory_service[s] and cut_streams_pay(md, s)
                      and md.level_rank[md.service_need[s]] < below]
        left = threshold_units(md, saving, candidates)
        target = {s: ({y: left[(s, y)] for y in years} if s in candidates else base[s]) for s in fixed}
        role_cut = withdrawn_share(md, left)
    elif spec.policy == "procurement_squeeze":
        c2 = squeeze_slice(md, cut, spec.rule["price_cut"])
        target = {s: {y: (1 - c2[y]) * md.base_units[s] for y in years} for s in fixed}
        role_cut = {r: c2 for r in md.roles}
    elif spec.policy == "back_office":
        target = base
        office = back_office_roles(md, spec.rule["role_tags"])
        share = share_of_cost(md, saving, staff_cost(md, office))
        role_cut = {r: (share if r in office else zero) for r in md.roles}
    elif spec.policy == "freeze_posts":
        share = share_of_cost(md, saving, staff_cost(md, md.roles))
        role_cut = {r: share for r in md.roles}
        hire = False
        path = {r: salami_fte(md, r, share, hire=False) for r in md.roles}
        target = {s: (base[s] if md.statutory_service[s] else  # delivered with the staff the freeze leaves
                      {y: staff_left(md, s, path, y) * md.base_units[s] for y in years}) for s in fixed}
    else:  # optimise (levers off), salami, status_quo
        target = {s: {y: (1 - cut[y]) * md.base_units[s] for y in years} for s in fixed}
        role_cut = {r: cut for r in md.roles}

    for s in md.services:
        units = paced(md, s, target[s]) if s in target else None
        for y in years:
            if units is None:  # a freed service: the model decides
                mech.policy_min[s, y], mech.policy_max[s, y] = 0.0, md.max_units[s]
                continue
            mech.policy_min[s, y] = mech.policy_max[s, y] = units[y]
            if md.statutory_service[s]:  # more only where its duty needs it (charged in the first objective)
                bounds.append((mech.above[s, y], 0, max(0.0, md.max_units[s] - units[y])))
    if not lv["mechanisms"]:
        for o in mech.adopt:
            bounds.append((mech.adopt[o], 0, 0))
    if not lv["workforce"]:
        for r in md.roles:
            for y, f in salami_fte(md, r, role_cut[r], hire=hire).items():
                bounds.append((wf.fte[r, y], f, None))  # hiring only where a duty needs it
                if not hire:
                    bounds.append((wf.hire[r, y], None, 0))
    if not lv["buildings"]:  # every building stays open; partner sites' extra hours stay usable
        for k in bd.open:
            bounds.append((bd.open[k], 1, 1))
    if not lv["pooling"]:
        for f in mo.pool:
            bounds.append((mo.pool[f], 0, 0))
    if not lv["reserves"]:
        for k in mo.draw:
            bounds.append((mo.draw[k], 0, 0))
    return bounds


# ---- rules that change coefficients: a copy of the instance ------------------------------------
def transform_note(spec: ModelSpec) -> str:
    """The line a rule's data change adds to Instance.changes ('' when it changes no data)."""
    if spec.policy == "procurement_squeeze":
        p, q = spec.rule["price_cut"], spec.rule["quality_cut"]
        return (f"policy procurement_squeeze: unit_cost x {1 - p:g} and quality x {1 - q:g} "
                f"for every option whose mechanism family is not {IN_HOUSE}")
    if spec.policy == "freeze_posts" and not spec.levers.get("workforce"):
        return "policy freeze_posts: redundancy_cost 0 for every role (leavers are not replaced, not made redundant)"
    return ""


def transform_instance(inst, spec: ModelSpec):
    """A copy of the instance with the rule's data changes, noted in `changes`."""
    new = inst.copy()
    if spec.policy == "procurement_squeeze":
        mech = new.tables["mechanisms"]
        fams = mech["family"] if "family" in mech.columns else [""] * len(mech)
        family = {mm: (f.strip() if isinstance(f, str) else "") or mm for mm, f in zip(mech["mechanism"], fams)}
        op = new.tables["options"].copy()
        ext = op["mechanism"].map(lambda mm: family.get(mm, mm) != IN_HOUSE).astype(bool)
        for col, share in (("unit_cost", spec.rule["price_cut"]), ("quality", spec.rule["quality_cut"])):
            op[col] = op[col].astype(float).where(~ext, op[col].astype(float) * (1 - share))
        new.tables["options"] = op
    elif spec.policy == "freeze_posts":
        wf = new.tables.get("workforce")
        if wf is not None and len(wf):
            wf = wf.copy()
            wf["redundancy_cost"] = 0.0
            new.tables["workforce"] = wf
    new.changes.append(transform_note(spec))
    return new
