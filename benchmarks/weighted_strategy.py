"""The weighted single-MIP strategy, kept for measurement only (benchmarks/strategy_bench.py).

Minimise secondary + W x primary at an absolute gap G = mip_rel_gap x |secondary of the LP
relaxation|, fix the plan's integers and solve the LP lexicographically; W is certified from the
LP relaxation's marginal gain of overspend and 2 G / tolerance, and raised (x10, at most three
rounds) when the fixed LP shows the MIP overspent beyond the tolerance or the marginal gain of
overspend exceeds W / 2. It was dropped from the library: where the duties force a large
overspend the certified W must resolve overspend to G / W, and the MIP then proves nothing about
the gain in the time (docs/formulation.md, "Solving"; benchmarks/README.md, "Solve strategy").
"""
from __future__ import annotations

import time

import numpy as np

from commissionopt.solve.status import Status
from commissionopt.solve.strategy import _left, _lexicographic

W_FLOOR = 1.0
W_SAFETY = 4.0  # W is at least this many times the marginal gain of overspend seen
W_RAISE = 10.0  # factor when a round shows W was too small
W_ROUNDS = 3
TIE_SHARE = 0.1  # the polish's weight in the MIP: at most this share of the gap


def solve(session, primary, secondary, tolerance, polish=None, start=None, scale=None, weight=None):
    t_end = time.perf_counter() + session.options.time_limit
    return _weighted(session, primary, secondary, tolerance, polish, start, t_end, scale, weight)


def _weighted(session, primary, secondary, tolerance, polish, start, t_end, scale, weight) -> Solution:
    (c1, off1), (c2, off2) = primary, secondary
    with session.relaxed():  # the LP relaxation: a bound on the objective, and the price of overspend
        relax = _lexicographic(session, primary, secondary, tolerance, None, t_end)
    if relax.values is None:
        return relax  # infeasible even with integers relaxed (or no plan): the caller explains
    scale = max(1e-9, abs(float(c2 @ relax.values) + off2) if scale is None else abs(scale))
    gap = session.options.mip_rel_gap * scale
    W = weight if weight is not None else max(W_FLOOR, W_SAFETY * (relax.extra.get("marginal") or 0.0),
                                              2 * gap / tolerance)
    # the polish as a tie-break among equally good structural decisions (which buildings close,
    # which options are adopted), weighted to move the objective by at most a tenth of the gap
    tie = np.zeros_like(c2)
    if polish is not None:
        tie = TIE_SHARE * gap / max(1e-9, abs(float(polish @ relax.values))) * polish
    spent = relax.seconds
    for round_ in range(1, W_ROUNDS + 1):
        mip = session.run(c2 + W * c1 + tie, off2 + W * off1, _left(t_end), start=start, abs_gap=gap)
        spent += mip.seconds
        if mip.values is None:
            mip.seconds = spent
            return mip
        with session.fixed(mip.values):
            plan = _lexicographic(session, primary, secondary, tolerance, polish, t_end)
        spent += plan.seconds
        if plan.values is None:  # the plan's own decisions do not solve as an LP: numerical trouble
            mip.status = Status.SUBOPTIMAL if mip.status == Status.OPTIMAL else mip.status
            mip.message = f"the plan's fixed LP ended {plan.message}"
            mip.seconds = spent
            return mip
        overspent = float(c1 @ mip.values) > plan.extra["primary_value"] - off1 + tolerance
        marginal = plan.extra.get("marginal") or 0.0
        certified = not overspent and 2 * marginal <= W
        out_of_time = time.perf_counter() >= t_end
        if certified or round_ == W_ROUNDS or out_of_time:
            break
        W = max(W * W_RAISE, W_SAFETY * marginal)
        start = mip.values
    # the gap: how far the MIP's plan may be from the best weighted value, on the secondary's scale
    # (the fixed LP after it only improves the plan at the same structural decisions)
    plan.mip_gap = max(0.0, mip.objective - mip.bound) / scale if mip.bound is not None else None
    plan.bound = mip.bound
    plan.seconds = spent
    plan.extra.update(weight=W, rounds=round_, certified=certified, mip_status=mip.status)
    if mip.status != Status.OPTIMAL or (not certified and out_of_time):
        plan.status = Status.TIME_LIMIT  # the best found in the time, flagged with its gap
    elif not certified:
        plan.status = Status.SUBOPTIMAL
        plan.message = (f"the overspend weight could not be certified in {W_ROUNDS} rounds "
                        f"(marginal gain of overspend {marginal:.4g} per unit against a weight of {W:.4g})")
    return plan


