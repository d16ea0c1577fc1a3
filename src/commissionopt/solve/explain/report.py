"""Why no plan exists: the conflicting constraints of an infeasible run, in the analyst's words.

`explain_infeasible(session, md)` works on copies of the model a HighsSession holds (its
current policy bounds included; the session itself is never changed):

1. **The first year with no plan.** The model is causal (a year's rows involve that year and
   earlier ones), so the LP relaxation of the rows up to year t is feasible before the first
   conflict and infeasible from it on: searched galloping then by bisection, small LPs first.
   Integer decisions are relaxed: a conflict of the relaxation is a conflict of every integer
   plan, and the report says so.
2. **The IIS** of that LP from HiGHS (`iis_strategy` = from-LP + irreducible, bounded by
   `iis_time_limit` and a wall-clock watchdog). Each IIS row and bound is mapped back to its
   Pyomo family and key (`duty_met[child_protection,4]`, the upper bound of
   `x[child_protection,in_house,4]`).
3. **Amounts.** For each member, the least relaxation of it (with the other forms of the same
   data limit: a service's maximum is the service_max row, the policy cap and each option's
   tight bound U; a role's hours are the staff_hours row and each in-house option's U) that
   ends the conflict, measured with every constraint up to that year in force (falling back to
   the IIS rows alone). A statutory duty (or a duty's minimum share, a service minimum or a
   policy floor) is the anchor; the limit on its own services is said with its amount,
   converted through the duty's shortfall where that is unambiguous: "statutory duty
   child_protection (children/crisis) in year 3 needs 174 staff hours of social_worker more
   than hiring and agency limits allow".
4. **Fallback.** With no IIS in time (HiGHS then returns `valid_ = True`, status "time limit"
   and every row: the status must be checked) or when the relaxation is feasible (infeasible
   only through integer decisions), an elastic re-solve keeps the integer decisions and the
   accounting identities hard and gives every other row penalised slack
   (`Highs.feasibilityRelaxation`), reporting which families needed slack and how much; with
   integer decisions, the IIS of the LP with them fixed at that nearest plan follows.

`describe(con, md)` turns one constraint into words, `describe_bound(var, side, value, md)` one
variable bound; the reports reuse both.
"""
from __future__ import annotations

import time
from collections import defaultdict

import highspy
import numpy as np

from .search import IDENTITIES, Explanation, _Explainer
from .words import (
    _LABEL,
    _ORDER,
    TOL,
    Member,
    _amount_words,
    _kl,
    _md,
    _natural,
    _ranges,
    _staff_reach,
    _x_cause,
    _year,
    money,
    num,
    violation_words,
)

MAX_LISTED = 12  # members listed one by one before the rest are summarised
# families that ask for more (the anchor of a conflict), by priority
ANCHORS = ("added_row", "duty_met", "duty_mix_min", "service_min", "policy_units")


# ---------------------------------------------------------------------------------------
# saying a conflict
# ---------------------------------------------------------------------------------------
def _anchor(members: list[Member]) -> Member | None:
    cands = []
    for m in members:
        if m.kind != "row":
            continue
        f = m.family
        if f in ("added_row", "duty_met", "duty_mix_min", "service_min") or (f == "policy_units" and m.side == "lower"):
            cands.append((ANCHORS.index(f), _year(m.key) or 0, m))
    if not cands:
        return None
    cands.sort(key=lambda t: (t[0], t[1]))
    return cands[0][2]


def _limit_phrase(m: Member, md) -> tuple[int, str, str, str] | None:
    """(rank, what is needed more, what does not allow it, detail) for a limiting member with an amount."""
    v = m.amount
    if v is None or v <= TOL:
        return None
    f, key = m.family, m.key
    if m.kind == "col" and f == "x" and m.side == "upper":
        s, mm, y = key
        if m.policy:
            return 3, f"{num(v)} units of {s} via {mm}", f"the policy's limit of {num(m.bound)} units", ""
        kind, det = _x_cause(md, s, mm, y, m.bound)
        if kind == "staff" and m.unit == "role_hours":
            return (0, f"{num(v)} staff hours of {det['role']}", "hiring and agency limits",
                    f"at least {num(det['hours'] + v)} h of {det['role']} needed in year {y}, at most "
                    f"{num(det['hours'])} h to be had ({_staff_reach(det)})")
        if kind == "staff":
            hours = v * det["per_unit"]
            need = (m.bound + v) * det["per_unit"]
            return (0, f"{num(hours)} staff hours of {det['role']}", "hiring and agency limits",
                    f"at least {num(need)} h of {det['role']} for {num(m.bound + v)} units of {s} via {mm} "
                    f"({num(det['per_unit'])} h a unit), at most {num(det['hours'])} h to be had "
                    f"({_staff_reach(det)})")
        if kind == "max_units":
            return 1, f"{num(v)} units of {s}", f"its maximum of {num(det['max'])} units", ""
        return 4, f"{num(v)} units of {s} via {mm}", f"its limit of {num(m.bound)} units", ""
    if m.kind == "row":
        if f == "staff_hours":
            r, y = key
            detail = ""
            if md is not None and r in md.d.get("hours_per_fte", {}):
                d = md.d
                det = {"fte_base": d["fte_base"][r], "max_hire": d["max_hire"][r], "hpf": d["hours_per_fte"][r],
                       "agency": d["max_agency_hours"][r], "year": y}
                hours = det["hpf"] * (det["fte_base"] + y * det["max_hire"]) + det["agency"]
                detail = f"at most {num(hours)} h of {r} to be had in year {y} ({_staff_reach(det)})"
            return 0, f"{num(v)} staff hours of {r}", "staff, hiring and agency limits", detail
        if f == "service_max":
            s, y = key
            return 1, f"{num(v)} units of {s}", f"its maximum of {num(m.upper)} units", ""
        if f == "policy_units" and m.side == "upper":
            s, y = key
            return 2, f"{num(v)} units of {s}", f"the policy's cap of {num(m.upper)} units", ""
        if f == "share_cap":
            s, mm, y = key
            return 2, f"{num(v)} units of {s} via {mm}", "that option's share of the service", ""
        if f == "option_link":
            s, mm, y = key
            return 3, None, f"{s} via {mm}, an option the plan has not adopted", ""
        if f == "pace_growth":
            s, y = key
            return 1, f"{num(v)} units of {s}", "the pace at which it can grow", ""
        if f in ("pace_decline", "exit_rate"):
            s, y = key
            return 1, f"{num(v)} fewer units of {s}", "the pace at which it can shrink", ""
        if f == "duty_mix_max":
            duty, s, y = key
            return 2, f"{num(v)} people served by {s}", f"its share of duty {duty}", ""
        if f in ("building_capacity", "extended_hours"):
            b, y = key
            return 3, f"{num(v)} building hours", f"{b}'s hours", ""
        if f == "stream_limit":
            fs, y = key
            return 5, money(v, md), f"the money of {fs}", ""
    if m.kind == "col" and f == "above" and m.side == "upper" and md is not None:
        s, y = key
        return 1, f"{num(v)} units of {s}", f"its maximum of {num(md.d['max_units'][s])} units", ""
    if m.kind == "col" and m.side == "upper" and f in ("hire", "agency"):
        r, y = key
        unit = "FTE hired" if f == "hire" else "agency hours"
        return 1, f"{num(v)} {unit} of {r}", f"the {'hiring' if f == 'hire' else 'agency'} limit", ""
    if m.kind == "col" and f == "adopt" and m.side == "upper" and m.bound < 0.5:
        s, mm = key
        return 3, None, f"{s} via {mm}, which {'the policy does' if m.policy else 'the data do'} not allow", ""
    return None


def _duty_anchor(anchor: Member, md):
    """(need (k, l), year, the duty's services) of a duty_met anchor, None otherwise."""
    if md is None or anchor.family != "duty_met":
        return None
    duty, y = anchor.key
    info = _md(md, "duties", duty)
    if info is None:
        return None
    return info["need"], y, set(info["services"])


def _limit_identity(m: Member, anchor: Member, md):
    """Which data limit an own-service member of the anchor's year stands for: ("service", s), ("role", r),
    ("x", (s, m)); None when it is not a limit on the anchor's own services in the anchor's year."""
    found = _duty_anchor(anchor, md)
    if found is None:
        return None
    _, y, own = found
    f, key = m.family, m.key
    try:
        if m.kind == "col" and f == "x" and m.side == "upper" and key[0] in own and key[2] == y:
            if m.policy:
                return ("x", (key[0], key[1]))
            kind, det = _x_cause(md, key[0], key[1], y, m.bound)
            if kind == "max_units":
                return ("service", key[0])
            if kind == "staff":
                return ("role", det["role"])
            return ("x", (key[0], key[1]))
        if m.kind == "row" and f == "service_max" and key[0] in own and key[1] == y:
            return ("service", key[0])
        if m.kind == "col" and f == "above" and m.side == "upper" and key[0] in own and key[1] == y:
            return ("service", key[0])
        if m.kind == "row" and f == "policy_units" and m.side == "upper" and key[0] in own and key[1] == y:
            return ("service", key[0])
        if m.kind == "row" and f == "staff_hours" and key[1] == y:
            if any(key[0] in md.d["staff_hours"].get(o, {}) for s in own for o in md.d["options_of"][s]):
                return ("role", key[0])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _through_anchor(anchor: Member, lim: Member, limits: list[Member], md):
    """(amount, unit) of the limit implied by the anchor's shortfall (people short -> units -> hours).

    The anchor's shortfall is measured on every constraint up to its year, so where the limit is the
    only one on the duty's own services in that year, this is the amount the data imply. None where
    that is ambiguous (several different limits, options serving different numbers per unit, or
    services counting differently towards the duty).
    """
    found = _duty_anchor(anchor, md)
    if found is None or anchor.amount is None or anchor.amount <= TOL:
        return None
    mine = _limit_identity(lim, anchor, md)
    if mine is None:
        return None
    if any(_limit_identity(m, anchor, md) not in (None, mine) for m in limits):
        return None
    _, _, own = found
    counts = {md.d["duties"][anchor.key[0]]["services"][s][0] for s in own}
    if len(counts) != 1:
        return None
    short = anchor.amount / counts.pop()  # people served the duty is short of
    kind, what = mine
    if kind == "x":
        spu = md.d["served_per_unit"][what]
        return (short / spu, None) if spu > 0 else None
    if kind == "service":
        spus = {md.d["served_per_unit"][o] for o in md.d["options_of"][what]}
        if len(spus) != 1 or min(spus) <= 0:
            return None
        return short / spus.pop(), ("service_units" if lim.kind == "col" else None)
    users = [o for s in own for o in md.d["options_of"][s] if what in md.d["staff_hours"].get(o, {})]
    ratios = {md.d["staff_hours"][o][what] / md.d["served_per_unit"][o] for o in users
              if md.d["served_per_unit"][o] > 0}
    if len(ratios) != 1:
        return None
    return short * ratios.pop(), ("role_hours" if lim.kind == "col" else None)


def _anchor_words(a: Member, md) -> str:
    f, key = a.family, a.key
    if f == "added_row":
        return "the row added for this run (an outcome target or objective hold)"
    if f == "duty_met":
        duty, y = key
        info = _md(md, "duties", duty)
        need = f" ({_kl(*info['need'])})" if info and _kl(*info["need"]) != duty else ""
        return f"statutory duty {duty}{need} in year {y}"
    if f == "duty_mix_min":
        duty, s, y = key
        return f"{s}'s minimum share of statutory duty {duty} in year {y}"
    if f == "service_min":
        s, y = key
        return f"the minimum of {num(a.lower)} units of {s} in year {y}"
    s, y = key
    return f"the policy's floor of {num(a.lower)} units of {s} in year {y}"


def _iis_lines(ex: _Explainer, members: list[Member], variants=None) -> list[str]:
    md = ex.md
    lines: list[str] = []
    anchor = _anchor(members)
    limits = [m for m in members if m is not anchor and m.family not in IDENTITIES]
    # limits whose amount holds with every other limit in force first (level 0), then by kind and size
    ranked = sorted((p for p in ((_limit_phrase(m, md), m) for m in limits) if p[0] is not None),
                    key=lambda t: (bool(t[1].level), t[0][0], -(t[1].amount or 0)))
    # prefer a limit on the anchor's own services in its year, then any limit in its year
    if anchor is not None and ranked:
        ay = _year(anchor.key)
        own = [t for t in ranked if _limit_identity(t[1], anchor, md) is not None]
        same = [t for t in ranked if _year(t[1].key) == ay and t not in own]
        ranked = own + same + [t for t in ranked if t not in own and t not in same]
    used = set()
    if anchor is not None and ranked:
        # say the primary limit's amount through the anchor's own shortfall (measured on the whole model
        # up to the conflict's year) where the limit is the anchor's own service in the same year
        lim = ranked[0][1]
        res = _through_anchor(anchor, lim, limits, md)
        if res is not None:
            lim.amount, lim.unit = res
            again = _limit_phrase(lim, md)
            if again is not None:
                ranked[0] = (again, lim)
    if anchor is not None:
        head = _anchor_words(anchor, md)
        others = [m for m in members if m is not anchor and _anchor([m]) is not None]
        if len(others) == 1:
            o = _anchor_words(others[0], md)
            head += f" together with {o if o.startswith('the ') else 'the ' + o}"
            used.add(id(others[0]))
        elif others:
            count = defaultdict(int)
            for m in others:
                count[m.family] += 1
            words = {"added_row": ("added row", "added rows"),
                     "duty_met": ("statutory duty", "statutory duties"),
                     "duty_mix_min": ("duty minimum share", "duty minimum shares"),
                     "service_min": ("service minimum", "service minimums"),
                     "policy_units": ("policy floor", "policy floors")}
            order = sorted(count.items(), key=lambda t: ANCHORS.index(t[0]))
            parts = [f"{c} other {words[f][c > 1]}" for f, c in order]
            head += " together with " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) \
                + " (below)"
        detail = []
        found = _duty_anchor(anchor, md)
        if found is not None and anchor.amount is not None:
            (k, l), y, _ = found
            blk = anchor.obj.parent_block()
            nvar = getattr(blk, "n", None)
            if nvar is not None and (k, l, y) in nvar:
                j = ex.s.col_of.get(id(nvar[k, l, y]))
                least = None
                for var in (variants or []):
                    if j is None or ex.left() <= 0:
                        break
                    if anchor.kind == "row" and anchor.index not in var.pos:
                        continue
                    least = var.least(j, anchor)
                    if least is not None:
                        break
                if least is not None:
                    cov = md.d["duties"][anchor.key[0]]["coverage"]
                    duty = f" (the duty covers {cov:.0%})" if cov < 1 else ""
                    detail.append(f"at least {num(least)} people in {_kl(k, l)} need in year {y}{duty}")
            detail.append(violation_words(anchor, anchor.amount, md))
        idents = {_limit_identity(m, anchor, md) for m in limits} - {None}
        if len(idents) > 1 and all(i[0] == "service" for i in idents) and anchor.amount:
            # several services of the duty's need, each at its maximum: say the gap once, in people
            names = sorted(i[1] for i in idents)
            lines.append(f"{head} needs {num(anchor.amount)} more people served than the maximums of "
                         f"{', '.join(names[:-1])} and {names[-1]} allow: " + ", ".join(detail[:-1] or detail))
            used.update(id(m) for m in limits if _limit_identity(m, anchor, md) is not None)
        elif ranked:
            (rank, more, allow, why), lim = ranked[0]
            used.add(id(lim))
            tail = "; ".join(p for p in (why, ", ".join(detail)) if p)
            if more is None:
                lines.append(f"{head} cannot be met without {allow}" + (f": {tail}" if tail else ""))
            else:
                lines.append(f"{head} needs {more} more than {allow} allow" + (f": {tail}" if tail else ""))
        else:
            tail = f": {', '.join(detail)}" if detail else ""
            lines.append(f"{head} cannot be met{tail}")
        used.add(id(anchor))
        lead = _lead_note(ex, anchor)
        if lead:
            lines.append(lead)
    elif ranked:
        (rank, more, allow, why), lim = ranked[0]
        used.add(id(lim))
        if more is None:
            lines.append(f"the constraints below cannot be met without {allow}")
        else:
            lines.append(f"the constraints below need {more} more than {allow} allow" + (f": {why}" if why else ""))
    rest = [m for m in limits if id(m) not in used]
    natural = [m for m in rest if _natural(m)]
    rest = [m for m in rest if not _natural(m)]
    rest.sort(key=lambda m: (_ORDER.index(m.family) if m.family in _ORDER else len(_ORDER), m.family,
                             str(m.key)))
    for m in rest[:MAX_LISTED]:
        amt = ""
        if m.amount and m.amount > TOL:
            aside = "" if m.level == 0 else ", other limits aside"
            amt = f" (relaxing it by {_amount_words(m, md)} would resolve this conflict{aside})"
        lines.append(f"also binding: {m.words(md)}{amt}")
    if len(rest) > MAX_LISTED:
        fams = defaultdict(int)
        for m in rest[MAX_LISTED:]:
            fams[m.family] += 1
        lines.append("also binding: " + ", ".join(f"{c} more {_LABEL.get(f, f)}" for f, c in sorted(fams.items())))
    flows = defaultdict(list)
    parts = []
    for m in members:
        if m.family in IDENTITIES and m.kind == "row":
            k = m.key
            flows[(m.family, k[:-1])].append(_year(k))
    if flows:
        for (fam, sub), ys in sorted(flows.items(), key=lambda t: (t[0][0], str(t[0][1]))):
            label = {"need_flow": "need flow", "fte_balance": "FTE balance", "building_hours": "building hours",
                     "service_funding": "funding", "staff_funding": "staff funding",
                     "overheads_funding": "overheads"}.get(fam, fam)
            who = "/".join(str(x) for x in sub)
            yrs = _ranges([y for y in ys if y is not None])
            parts.append(" ".join(p for p in (label, who, yrs) if p))
    if natural:
        parts.append(f"the natural range of {len(natural)} variable(s) ("
                     + ", ".join(m.obj.name for m in natural[:4]) + (", ..." if len(natural) > 4 else "") + ")")
    if parts:
        lines.append("through: " + "; ".join(parts))
    return lines


def _lead_note(ex: _Explainer, anchor: Member) -> str | None:
    """Options for the anchor's need that do not exist yet in its year (lead times)."""
    md = ex.md
    found = _duty_anchor(anchor, md)
    if found is None:
        return None
    _, y, own = found
    waiting = []
    for s in sorted(own):
        for o in md.d["options_of"][s]:
            lead = md.d["lead"][o]
            if lead >= y:
                waiting.append(f"{o[0]} via {o[1]} (lead time: from year {lead + 1})")
    if not waiting:
        return None
    more = f"; and {len(waiting) - 4} more" if len(waiting) > 4 else ""
    return "not yet available in that year: " + "; ".join(waiting[:4]) + more


def _slack_lines(ex: _Explainer, rslack, cslack, top: int = MAX_LISTED) -> tuple[list[str], list[tuple[str, float]]]:
    md = ex.md
    items = []
    for i in np.flatnonzero(np.abs(rslack) > 1e-6):
        obj = ex.row_obj(int(i))
        side = "upper" if rslack[i] > 0 else "lower"
        m = Member("row", int(i), side, obj, ex.row_lower[i], ex.row_upper[i], amount=abs(float(rslack[i])))
        items.append(m)
    for j in np.flatnonzero(np.abs(cslack) > 1e-6):
        side = "upper" if cslack[j] > 0 else "lower"
        m = Member("col", int(j), side, ex.col_obj(int(j)), ex.col_lower[j], ex.col_upper[j],
                   amount=abs(float(cslack[j])), policy=ex.is_policy(int(j), side))
        items.append(m)
    items.sort(key=lambda m: (ANCHORS.index(m.family) if m.family in ANCHORS else 9, _year(m.key) or 0,
                              -m.amount))
    lines = []
    for m in items[:top]:
        lines.append(f"{m.words(md)}: {violation_words(m, m.amount, md)}")
    fams = defaultdict(list)
    for m in items:
        fams[m.family].append(m)
    if len(items) > top or len(fams) > 1:
        summ = []
        for f, ms in sorted(fams.items()):
            yrs = _ranges([_year(m.key) for m in ms if _year(m.key) is not None])
            summ.append(f"{f}: {len(ms)} {'row' if ms[0].kind == 'row' else 'bound'}(s)"
                        + (f" in {yrs}" if yrs else ""))
        lines.append("slack needed by family: " + "; ".join(summ))
    names = [((m.obj.name if m.obj is not None else f"row {m.index}"), m.amount) for m in items]
    return lines, names


def _first_things_first(members: list[Member], md) -> list[Member]:
    """Members in the order their amounts are worth measuring (only the first MAX_AMOUNT_MEMBERS are):
    the anchor, then the limits on its own services, then the rest as HiGHS listed them."""
    anchor = _anchor(members)
    if anchor is None:
        return members
    own = [m for m in members if m is not anchor and _limit_identity(m, anchor, md) is not None]
    return [anchor] + own + [m for m in members if m is not anchor and m not in own]


def explain(session, md=None, time_limit: float = 30.0, use_iis: bool = True) -> Explanation:
    """The conflict behind an infeasible session, found and said (see the module docstring).

    `use_iis=False` goes straight to the elastic re-solve (as when HiGHS gives no IIS in time).
    """
    ex = _Explainer(session, md, time_limit)
    has_int = bool(ex.integer.any())
    iis, reason, first, rows = ex.find_conflict(use_iis=use_iis)
    if iis is not None:
        members = _first_things_first(ex.members(iis, ex.col_lower, ex.col_upper, rows), md)
        variants = ex.amounts(members, ex.col_lower, ex.col_upper, rows)
        lines = _iis_lines(ex, members, variants)
        what = "the LP" if not has_int else (
            "the LP relaxation (integer decisions such as options adopted, buildings open and pooling allowed "
            "to be fractional: a conflict there is a conflict for every integer plan)")
        when = f"; year {first} is the first year with no plan" if first is not None else ""
        lines.append(f"(found by the HiGHS IIS, {reason}, {len(members)} constraints and bounds, on {what}{when}; "
                     f"each amount is the least relaxation of that one constraint with every other constraint up "
                     f"to that year in force; resolving this conflict may reveal further ones)")
        return Explanation(lines, "iis", has_int, members, seconds=time.perf_counter() - ex.t0, notes=ex.notes,
                           first_year=first)

    # fallback: elastic re-solve with integers kept
    if reason == "feasible" and not has_int:
        lines = ["the model as the session holds it is feasible: there is no conflict to explain (was a row "
                 "added for the run, such as an outcome target, removed before this call?)"]
        return Explanation(lines, "none", has_int, seconds=time.perf_counter() - ex.t0, notes=ex.notes)
    why = "the LP relaxation is feasible" if reason == "feasible" else reason
    res = ex.elastic(max(1e-3, ex.left()))
    if res is None:
        lines = [f"no conflict could be identified within {time_limit:g} s ({why})"]
        return Explanation(lines, "none", has_int, seconds=time.perf_counter() - ex.t0, notes=ex.notes)
    if reason == "feasible" and (np.any(res[0]) or np.any(res[1])):
        why += (": the model is infeasible only through its integer decisions (options adopted, buildings open, "
                "pooling)")
    rslack, cslack, xval, soft_cols, est = res
    body, names = _slack_lines(ex, rslack, cslack)
    if not body:
        lines = [f"the model as the session holds it has a plan: an elastic re-solve needed no slack ({why}); "
                 f"there is no conflict to explain"]
        return Explanation(lines, "none", has_int, seconds=time.perf_counter() - ex.t0, notes=ex.notes)
    kept = "integer decisions kept, " if has_int else ""
    cols = "and variable bounds " if soft_cols else ""
    lines = body + [f"(no IIS: {why}; an elastic re-solve ({kept}accounting identities hard) found the least "
                    f"slack on the other constraints {cols}that makes the model feasible"
                    f"{'' if est == highspy.HighsStatus.kOk else ' (HiGHS warned: the slack may not be the least)'}; "
                    f"amounts in each constraint's own units)"]
    method = "elastic"
    members: list[Member] = []
    # with integers: the conflict given the integer decisions of that nearest plan
    if has_int and use_iis and ex.left() > 0:
        cl, cu = ex.col_lower.copy(), ex.col_upper.copy()
        vals = np.clip(np.round(xval[ex.integer]), cl[ex.integer], cu[ex.integer])
        cl[ex.integer], cu[ex.integer] = vals, vals
        fiis, freason, first, rows = ex.find_conflict(cl, cu)
        if fiis is not None:
            members = ex.members(fiis, cl, cu, rows)
            for m in members:
                if m.kind == "col" and ex.integer[m.index]:
                    m.fixed = True
            variants = ex.amounts(members, cl, cu, rows)
            flines = _iis_lines(ex, members, variants)
            lines += ["with the integer decisions fixed as in that nearest plan: " + flines[0]] + flines[1:]
            when = f"; year {first} is the first year with no plan" if first is not None else ""
            lines.append(f"(HiGHS IIS, {freason}, on the LP with integer decisions fixed at the elastic plan{when})")
            method = "elastic+iis_fixed"
    return Explanation(lines, method, has_int, members, slacks=names, seconds=time.perf_counter() - ex.t0,
                       notes=ex.notes)


def explain_infeasible(session, md=None, time_limit: float = 30.0) -> list[str]:
    """The conflicting constraints of an infeasible session, one sentence each (the last says how)."""
    return explain(session, md, time_limit).lines

