"""The independent plan check: every constraint and reported total, recomputed from tables.

`verify(instance, plan, cut_by_year)` reads only the instance's own tables (pandas) and
the plan's result tables and summary (docs/results.md) and returns one human-readable
message per violation beyond a tolerance. It uses no Pyomo and nothing from
`commissionopt.model`, on purpose (see context.py). Each check is a small function
`_check_<family>(ctx) -> list[str]`, grouped by concern (demand, services, money, resources,
totals); messages start with the constraint family's name (need_flow, duty_met, pace_decline,
stream_limit, fte_balance, ...) and name the keys, e.g.
    "stream_limit: general_fund year 3 spends £1,234,567 > available £1,200,000 + reserves £0 + overspend £0"

Tolerances: a quantity is wrong when |actual - expected| > tol * max(1, |expected|)
(people, units, hours, outcome points); money is wrong when the difference exceeds
`money_tol` = max(1, tol/100 * total yearly funding) pounds (£1 or 1e-6 of the money
with the default tol).
"""
from __future__ import annotations

from .context import _Ctx, _read_instance, normalise_cut
from .demand import _check_coverage, _check_duties, _check_need_accounting, _check_need_flow
from .money import (_check_direct_spend, _check_overheads_funding, _check_reserves, _check_ring_fence,
                    _check_service_funding, _check_staff_funding, _check_stream_limit)
from .resources import _check_building_hours, _check_buildings, _check_workforce
from .services import (_check_adoption, _check_full_effect, _check_lead_time, _check_pace, _check_service_bounds,
                       _check_share_cap)
from .totals import _check_finite, _check_outcomes, _check_spend, _check_summary

CHECKS = (
    _check_need_flow, _check_need_accounting, _check_coverage, _check_duties,
    _check_service_bounds, _check_share_cap, _check_pace, _check_full_effect, _check_lead_time, _check_adoption,
    _check_direct_spend, _check_service_funding, _check_staff_funding, _check_ring_fence, _check_overheads_funding,
    _check_stream_limit, _check_reserves,
    _check_workforce,
    _check_building_hours, _check_buildings,
    _check_spend, _check_outcomes, _check_summary, _check_finite,
)


def verify(instance, plan, cut_by_year: dict[int, float] | float | None = None, tol: float = 1e-4,
           extra_money: dict | None = None, draw_cap: dict | None = None) -> list[str]:
    """Every violation of the plan against the instance, one message each ([] = the plan checks out).

    `plan` is any object with `.tables` (dict of DataFrames, docs/results.md) and `.summary`
    (dict); `cut_by_year` the cut the plan was solved under ({year: share}, a number, or None);
    `extra_money` and `draw_cap` ({(stream, year): £}) the money added to the cut and the most
    reserves it could draw, when the plan was solved with them (e.g. redesign_same_money).
    """
    tables = getattr(plan, "tables", None) or {}
    summary = getattr(plan, "summary", None) or {}
    ctx = _Ctx(inst=instance, tables=tables, summary=summary, cut={}, tol=float(tol), extra_money=dict(extra_money or {}),
               draw_cap=None if draw_cap is None else dict(draw_cap))
    try:
        _read_instance(ctx)
    except Exception as e:  # an instance this check cannot read is itself a failure to verify
        return [f"verify: could not read the instance ({type(e).__name__}: {e})"]
    ctx.cut = normalise_cut(cut_by_year, ctx.years)  # a cut of the decision years carries into the evaluation years
    messages: list[str] = []
    for check in CHECKS:
        try:
            messages.extend(check(ctx))
        except Exception as e:  # a check that crashes must not pass the plan silently
            messages.append(f"verify: {check.__name__.removeprefix('_check_')} could not run "
                            f"({type(e).__name__}: {e})")
    # table-shape problems, each once, first
    seen, shape = set(), []
    for m in ctx.problems:
        if m not in seen:
            seen.add(m)
            shape.append(m)
    return shape + messages

