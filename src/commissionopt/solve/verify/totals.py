"""Independent checks of the totals: spend by year, outcomes by year, every summary figure, and
that no figure of the plan is infinite or NaN."""
from __future__ import annotations

import math

from .context import (RESULT_COLUMNS, _Ctx, _adopted, _arrivals, _building_rows, _costs, _gbp, _idle, _need, _num,
                      _q, _served, _terminal_factor, _units)

def _direct_by_year(ctx: _Ctx) -> dict:
    units = _units(ctx)
    idle = _idle(ctx)
    return {y: sum(ctx.p["price"][(*o, y)] * (units[(*o, y)] + idle[(*o, y)]) for o in ctx.p["options"])
            for y in ctx.years}


def _check_spend(ctx: _Ctx) -> list[str]:
    out = []
    sp = ctx.keyed("spend", ("year",), RESULT_COLUMNS["spend"][1:])
    costs, units = _costs(ctx), _units(ctx)
    if sp is None or costs is None or units is None:
        return out
    direct = _direct_by_year(ctx)
    for y in ctx.years:
        if (y,) not in sp:
            out.append(f"spend: the spend table has no row for year {y}")
            continue
        v = sp[(y,)]
        expected = {"direct": direct[y], "staff": costs["staff"][y], "buildings": costs["buildings"][y],
                    "setup": costs["setup"][y], "pooling": costs["pooling"][y]}
        expected["total"] = sum(expected.values())
        for col, e in expected.items():
            if ctx.money_off(_num(v[col]), e):
                out.append(f"spend: year {y} reports {col} {_gbp(_num(v[col]))}, recomputed {_gbp(e)}")
        if ctx.off(_num(v["discount_factor"]), ctx.df[y]):
            out.append(f"spend: year {y} discount_factor {_num(v['discount_factor']):.6g} != "
                       f"(1+r)^-y = {ctx.df[y]:.6g}")
    return out


def _total_spend(ctx: _Ctx) -> dict | None:
    costs = _costs(ctx)
    if costs is None or _units(ctx) is None:
        return None
    direct = _direct_by_year(ctx)
    return {y: direct[y] + sum(costs[k][y] for k in ("staff", "buildings", "setup", "pooling")) for y in ctx.years}


def _outcome_parts(ctx: _Ctx) -> tuple[dict, dict] | None:
    """Recomputed {year: gain}, {year: harm} from the plan's units and need."""
    p = ctx.p
    need, units = _need(ctx), _units(ctx)
    if need is None or units is None:
        return None
    gain = {y: sum(p["gain"][o] * units[(*o, y)] for o in p["options"]) for y in ctx.years}
    harm = {y: sum(p["harm"].get(kl, 0.0) * need.get((*kl, y), 0.0) for kl in p["needs"]) for y in ctx.years}
    return gain, harm


def _need_with_nobody_served(ctx: _Ctx) -> dict:
    """The need flow with units = 0 from year 1 (base-year history as observed)."""
    p, n0 = ctx.p, {}
    for y in ctx.years:
        for kl in p["needs"]:
            v = _arrivals(ctx, kl, y)
            for src, g, rate, ch in p["inflows"].get(kl, ()):
                t = y - g
                v += rate * (p["base_source"].get((src, ch, g), 0.0) if t <= 0 else n0.get((*src, t), 0.0))
            n0[(*kl, y)] = max(0.0, v)
    return n0


def _outcome_none(ctx: _Ctx) -> float:
    n0 = _need_with_nobody_served(ctx)
    p = ctx.p
    return (-sum(ctx.dq[y] * p["harm"].get(kl, 0.0) * n0[(*kl, y)] for kl in p["needs"] for y in ctx.years)
            - sum(_terminal_factor(ctx, kl) * n0[(*kl, ctx.E)] for kl in p["needs"]))


def _check_outcomes(ctx: _Ctx) -> list[str]:
    out = []
    ot = ctx.keyed("outcomes", ("year",), RESULT_COLUMNS["outcomes"][1:])
    parts = _outcome_parts(ctx)
    if ot is None or parts is None:
        return out
    gain, harm = parts
    for y in ctx.years:
        if (y,) not in ot:
            out.append(f"outcomes: the outcomes table has no row for year {y}")
            continue
        v = ot[(y,)]
        for col, e in (("gain", gain[y]), ("harm", harm[y]), ("value", gain[y] - harm[y]),
                       ("discount_factor", ctx.dq[y])):
            if ctx.off(_num(v[col]), e):
                out.append(f"outcomes: year {y} reports {col} {_num(v[col]):,.6g}, recomputed {e:,.6g}")
    return out


def _check_summary(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    total = _total_spend(ctx)
    if total is not None:
        ds = sum(ctx.df[y] * total[y] for y in ctx.years)
        got = ctx.summary_value("discounted_spend")
        if got is not None and ctx.money_off(got, ds):
            out.append(f"discounted_spend: summary reports {_gbp(got)}, recomputed {_gbp(ds)}")
        mine_ds = ds
    else:
        mine_ds = None

    st = ctx.keyed("streams", ("stream", "year"), ("available", "spent", "reserves_drawn", "overspend"))
    if st is not None:
        over = sum(ctx.df[y] * _num(v["overspend"]) for (f, y), v in st.items())
        over_total = sum(_num(v["overspend"]) for v in st.values())
        got = ctx.summary_value("overspend")
        if got is not None and ctx.money_off(got, over):
            out.append(f"overspend: summary reports {_gbp(got)} discounted, the streams table gives {_gbp(over)}")
        got = ctx.summary_value("overspend_nominal", required=False)
        if got is not None and ctx.money_off(got, over_total):
            out.append(f"overspend: summary reports overspend_nominal {_gbp(got)}, the streams table gives "
                       f"{_gbp(over_total)}")

    parts, need = _outcome_parts(ctx), _need(ctx)
    if parts is None or need is None:
        return out
    gain, harm = parts
    terminal = sum(_terminal_factor(ctx, kl) * need.get((*kl, ctx.E), 0.0) for kl in p["needs"])
    value = sum(ctx.dq[y] * (gain[y] - harm[y]) for y in ctx.years) - terminal
    none = _outcome_none(ctx)
    gain_total = value - none
    checks = [("outcome_value", value, True), ("outcome_none", none, True), ("outcome_gain", gain_total, True),
              ("terminal_harm", terminal, False)]
    for key, e, req in checks:
        got = ctx.summary_value(key, required=req)
        if got is not None and ctx.off(got, e):
            out.append(f"{key}: summary reports {got:,.6g}, recomputed {e:,.6g}")
    if gain_total < -ctx.tol * max(1.0, abs(none)):
        out.append(f"outcome_gain: the plan's outcome {value:,.6g} is below the outcome with nobody served "
                   f"{none:,.6g} (serving must never make need worse)")
    tc = ctx.df[ctx.E] * sum(p["future_cost"][kl] * need.get((*kl, ctx.E), 0.0) for kl in p["needs"])
    got = ctx.summary_value("terminal_cost", required=False)
    if got is not None and ctx.money_off(got, tc):
        out.append(f"terminal_cost: summary reports {_gbp(got)}, recomputed {_gbp(tc)}")
    got = ctx.summary_value("outcome_per_million", required=False)
    if got is not None and mine_ds is not None and mine_ds > ctx.money_tol:
        e = gain_total / mine_ds * 1e6
        if ctx.off(got, e):
            out.append(f"outcome_per_million: summary reports {got:,.6g}, recomputed {e:,.6g}")
    units = _units(ctx)
    if units is not None:
        unmet = sum(need.get((*kl, y), 0.0) - _served(ctx, kl, y) for kl in p["needs"] for y in ctx.years)
        got = ctx.summary_value("unmet_person_years", required=False)
        if got is not None and ctx.off(got, unmet):
            out.append(f"unmet_person_years: summary reports {_q(got)}, need - served over the years = {_q(unmet)}")
    wf = ctx.keyed("workforce", ("role", "year"), RESULT_COLUMNS["workforce"][2:])
    got = ctx.summary_value("fte_change", required=False)
    if got is not None and wf is not None:
        e = sum(_num(wf.get((rl, ctx.H), {}).get("fte", 0.0)) - p["fte_base"][rl] for rl in p["roles"])
        if ctx.off(got, e):
            out.append(f"fte_change: summary reports {_q(got)} FTE, the workforce table gives {_q(e)}")
    bd = _building_rows(ctx)
    got = ctx.summary_value("buildings_closed", required=False)
    if got is not None and bd is not None:
        e = sum(1 for b in p["buildings"] if _num(bd.get((b, ctx.H), {}).get("open", 1.0), 1.0) < 0.5)
        if ctx.off(got, e):
            out.append(f"buildings_closed: summary reports {got:g}, the buildings table has {e} closed in year {ctx.H}")
    adopted = _adopted(ctx)
    got = ctx.summary_value("mechanisms_switched", required=False)
    if got is not None and adopted is not None:
        e = sum(1 for o in p["options"] if adopted.get(o, False) and not p["current"][o])
        if ctx.off(got, e):
            out.append(f"mechanisms_switched: summary reports {got:g}, the options table adopts {e} new options")
    top = p["levels"][-1] if p["levels"] else None
    got = ctx.summary_value("crisis_need_final_year", required=False)
    if got is not None and top is not None:
        e = sum(need.get((k, l, ctx.H), 0.0) for k, l in p["needs"] if l == top)
        if ctx.off(got, e):
            out.append(f"crisis_need_final_year: summary reports {_q(got)}, need at '{top}' in year {ctx.H} is {_q(e)}")
    return out



def _check_finite(ctx: _Ctx) -> list[str]:
    """Every figure of the summary and every number in the tables is finite (an infinite outcome is an error, never a result)."""
    out = []
    for key, v in (ctx.summary or {}).items():
        values = v.values() if isinstance(v, dict) else [v]
        if any(isinstance(x, float) and not math.isfinite(x) for x in values):
            out.append(f"finite: summary '{key}' is not a finite number ({v!r})")
    for name, df in (ctx.tables or {}).items():
        numbers = df.select_dtypes("number")
        if len(numbers.columns) and not numbers.apply(lambda c: c.map(lambda x: math.isfinite(float(x)))).all().all():
            out.append(f"finite: the '{name}' table holds an infinite or NaN number")
    return out
