"""How every plan is solved: the least overspend the duties force, then the most of the plan's
own objective (outcome gain, or least spend), then the cheapest of the plans equally good.

`primary` is the overspend row (plus the charges on idle and above-rule capacity); `secondary`
the plan's objective, both minimised; `tolerance` how far above its least value the primary
may end, in model money (the engine gives max(£10k, 1e-6 of the yearly money)).

- When every integer decision is fixed (status quo, salami and the other rules), the problem is
  an LP and is solved lexicographically: least primary; then the secondary with the primary
  held at its least (a give of 1e-3 model units or 1e-7 of it, far above HiGHS's feasibility
  tolerance); then the polish with both held.
- Otherwise (the redesign) a repaired lexicographic MIP in two phases. The LP relaxation first:
  a bound on the least primary. A zero-overspend run is tried only when that bound allows one.
  Phase 1, the least primary, starts from the relaxation's decisions rounded up and stops at
  mip_rel_gap of it or at `tolerance`, with at most half the time; phase 2, the secondary with
  the primary held at phase 1's plan plus the give above, starts from that plan. The plan's
  integer decisions are then fixed and the LP solved lexicographically, so the plan reported is
  exactly the least-overspend, best-objective plan for those decisions. The overspend tolerance
  reported is max(`tolerance`, phase 1's plan minus its bound): what the plan may overspend
  beyond the least possible.
docs/formulation.md ("Solving") gives the reasons (a weighted single MIP was measured and dropped)
and benchmarks/README.md the measurements.
"""
from __future__ import annotations

import time

import numpy as np

from .highs import HighsSession, Solution
from .status import Status

HOLD_GIVE, HOLD_GIVE_SHARE = 1e-3, 1e-7  # model units, and share of the value held: well above HiGHS's
# feasibility tolerance (a give equal to it is what made presolve call the old hold infeasible)
POLISH_TOL = 1e-7  # relative give on the objective while polishing


def tolerance_for(total_money: float, money_scale: float, pounds: float = 10_000.0, share: float = 1e-6) -> float:
    """The overspend tolerance in model money: max(£10k, 1e-6 of the yearly money)."""
    return max(pounds, share * total_money) / money_scale


def solve(session: HighsSession, primary: tuple[np.ndarray, float], secondary: tuple[np.ndarray, float],
          tolerance: float, polish: np.ndarray | None = None, start: np.ndarray | None = None,
          scale: float | None = None) -> Solution:
    """The plan: least primary (within tolerance), then least secondary, then least polish.
    `start`: a plan to begin the MIP from (a sweep's previous point); `scale`: a size for the
    secondary's gap where its value may be near 0 (Dinkelbach's iterations): an absolute gap of
    mip_rel_gap x scale is then accepted as well as the relative one."""
    t_end = time.perf_counter() + session.options.time_limit
    if session.has_free_integers():
        return _two_phase(session, primary, secondary, tolerance, polish, start, t_end, scale)
    # every integer column is fixed by its bounds: an LP, solved exactly and cold, so that a plan
    # is the same whatever the session solved before (an LP is cheap; warmth would only move digits)
    session.clear()
    with session.relaxed():
        return _lexicographic(session, primary, secondary, tolerance, polish, t_end)


def _left(t_end: float) -> float:
    return max(1.0, t_end - time.perf_counter())


def _give(value: float) -> float:
    """How far a held objective may move: a little, relative to its size, never near zero."""
    return max(HOLD_GIVE, HOLD_GIVE_SHARE * abs(value))


def _lexicographic(session, primary, secondary, tolerance, polish, t_end) -> Solution:
    """Least primary; then least secondary with the primary held; then the polish (an LP run each)."""
    (c1, off1), (c2, off2) = primary, secondary
    first = session.run(c1, off1, _left(t_end))
    if first.values is None:
        return first
    least = float(c1 @ first.values)
    with session.holding(c1, least + _give(least)) as row:
        second = session.run(c2, off2, _left(t_end))
        if second.values is None:  # the hold is never tighter than a plan just found: a solver failure
            first.status = Status.SUBOPTIMAL if first.status == Status.OPTIMAL else first.status
            first.message = f"the objective's run ended {second.message}; the least-overspend plan is shown"
            first.extra.update(primary_value=least + off1, overspend_tolerance=tolerance)
            return first
        duals = second.row_duals
        second.extra["marginal"] = max(0.0, -float(duals[row])) if duals is not None else None
        second.row_duals = duals[:session.num_row] if duals is not None else None
        if polish is not None:
            value = float(c2 @ second.values)
            with session.holding(c2, value + POLISH_TOL * max(1.0, abs(value))):
                third = session.run(polish, 0.0, _left(t_end))
            if third.status == Status.OPTIMAL and third.values is not None:
                second.values = third.values
                second.extra["polished"] = True
    second.seconds += first.seconds
    second.extra.update(primary_value=float(c1 @ second.values) + off1, overspend_tolerance=tolerance)
    if first.status != Status.OPTIMAL and second.status == Status.OPTIMAL:
        second.status = first.status
    return second


PHASE_ONE_SHARE = 0.5  # of the time left, at most, for the least-overspend MIP


def _two_phase(session, primary, secondary, tolerance, polish, start, t_end, scale=None) -> Solution:
    """The least primary by one MIP (to mip_rel_gap of it, or `tolerance`), then the best secondary
    by a second MIP with the primary held at the first's plan, then the fixed LP in order."""
    (c1, off1), (c2, off2) = primary, secondary
    gap = session.options.mip_rel_gap
    abs_gap = gap * abs(scale) if scale else None  # on the secondary
    with session.relaxed():  # a bound on the least primary, and a structure to start from
        relax = session.run(c1, off1, _left(t_end))
    if relax.values is None:
        return relax  # infeasible even with integers relaxed (or no plan): the caller explains
    spent, phases = relax.seconds, ["relaxation"]
    # the fixed LP at the end (three LP runs at most) must have time: keep back a few relaxations' worth
    reserve = max(5.0, 2.0 * relax.seconds)
    def left() -> float:
        return max(1.0, t_end - reserve - time.perf_counter())
    first = second = None
    least = least_bound = None
    if float(c1 @ relax.values) <= _give(0.0):  # the duties may force no overspend: try the objective at once
        with session.holding(c1, _give(0.0)):
            second = session.run(c2, off2, left() * PHASE_ONE_SHARE, start=start, rel_gap=gap,
                                 abs_gap=abs_gap)
        spent += second.seconds
        phases.append("objective within the tolerance")
        if second.values is not None:
            least, least_bound = float(c1 @ second.values), 0.0
        else:
            second = None
    if second is None:
        begin = start if start is not None else _rounded_up(session, relax.values, c1, off1, t_end)
        first = session.run(c1, off1, max(1.0, left() * PHASE_ONE_SHARE), start=begin, rel_gap=gap,
                            abs_gap=tolerance)
        spent += first.seconds
        phases.append("least overspend")
        if first.values is None:
            first.seconds = spent
            return first
        least = float(c1 @ first.values)
        # overspend is never negative, so 0 bounds it where HiGHS proved nothing (its bound is -inf then)
        bound = first.bound if first.bound is not None and np.isfinite(first.bound) else off1
        least_bound = max(0.0, bound - off1)
        with session.holding(c1, least + _give(least)):
            second = session.run(c2, off2, left(), start=first.values, rel_gap=gap, abs_gap=abs_gap)
        spent += second.seconds
        phases.append("objective")
        if second.values is None:  # the first plan stands, flagged
            second = first
    with session.fixed(second.values):
        plan = _lexicographic(session, primary, secondary, tolerance, polish, t_end)
    spent += plan.seconds
    if plan.values is None:
        second.status = Status.SUBOPTIMAL if second.status == Status.OPTIMAL else second.status
        second.message = f"the plan's fixed LP ended {plan.message}"
        second.seconds = spent
        return second
    held = max(tolerance, least - least_bound + _give(least))  # the hold's give included
    # no gap where none was proven (HiGHS gives inf when stopped before it had a bound): unknown, not 0
    plan.mip_gap = second.mip_gap if second is not first and np.isfinite(second.mip_gap or 0.0) else None
    plan.bound = second.bound
    plan.seconds = spent
    plan.extra.update(overspend_tolerance=held, phases=phases,
                      overspend_gap=(least - least_bound) / abs(least) if least else 0.0)
    statuses = [r.status for r in (first, second) if r is not None]
    if any(st != Status.OPTIMAL for st in statuses) or second is first:
        plan.status = Status.TIME_LIMIT if Status.TIME_LIMIT in statuses or second is first else Status.SUBOPTIMAL
    return plan


def _rounded_up(session, values: np.ndarray, c1: np.ndarray, off1: float, t_end: float) -> np.ndarray | None:
    """A first plan: every structural decision the LP relaxation uses at all taken (an option it adopts
    in part adopted, a building it keeps in part kept), the rest solved as an LP. None if that fails."""
    taken = np.where(values > 1e-4, 1.0, 0.0)
    with session.fixed(taken):
        plan = session.run(c1, off1, max(1.0, _left(t_end) * 0.2))
    return plan.values
