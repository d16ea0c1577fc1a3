"""The solver border's time limits on one long-lived HiGHS object, as a sweep uses it.

A multidimensional knapsack that HiGHS cannot close in a few seconds at a zero gap stands in
for a hard point of a sweep: each MIP run must get its own time limit, however long the
object has run before, and a watchdog cancel must end that run only."""
from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo
import pytest

from commissionopt.solve import highs as border
from commissionopt.solve.highs import HighsSession, SolveOptions
from commissionopt.solve.status import Status

LIMIT = 1.0


def knapsack() -> HighsSession:
    rng = np.random.default_rng(1)
    n, k = 150, 20
    weight = rng.integers(20, 60, (k, n))
    value = rng.integers(50, 100, n)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(n), domain=pyo.Binary)
    m.cap = pyo.Constraint(range(k), rule=lambda m, i: sum(int(weight[i, j]) * m.x[j] for j in range(n))
                           <= int(weight[i].sum()) // 2)
    m.obj_value = pyo.Objective(expr=-sum(int(value[j]) * m.x[j] for j in range(n)))
    return HighsSession(m, SolveOptions(time_limit=LIMIT, mip_rel_gap=0.0))


@pytest.fixture()
def session():
    return knapsack()


def timed(session, limit=LIMIT, relaxed=False):
    cost, off = session.objective_vector({"value": 1.0})
    t = time.perf_counter()
    if relaxed:
        with session.relaxed():
            sol = session.run(cost, off, limit)
    else:
        sol = session.run(cost, off, limit)
    return sol, time.perf_counter() - t


def test_every_mip_run_gets_its_own_limit(session):
    for _ in range(3):  # 1.5 s of run time summed: later runs must not stop at once
        sol, secs = timed(session)
        assert sol.status == Status.TIME_LIMIT and sol.values is not None
        # HiGHS stopped it at its limit: not at once, not later (the watchdog: 1.2 x limit + 5 s)
        assert 0.8 * LIMIT <= secs < 1.6 * LIMIT
    # an LP on the same object is timed on the summed clock: it still gets its own time
    sol, _ = timed(session, relaxed=True)
    assert sol.status == Status.OPTIMAL


def test_a_watchdog_cancel_ends_that_run_only(session, monkeypatch):
    monkeypatch.setattr(border, "WATCHDOG_FACTOR", 0.0)
    monkeypatch.setattr(border, "WATCHDOG_GRACE", 0.3)
    sol, secs = timed(session, limit=30.0)  # HiGHS would run 30 s; the watchdog ends it
    assert secs < 5.0 and sol.status in (Status.TIME_LIMIT, Status.NO_PLAN)
    monkeypatch.setattr(border, "WATCHDOG_FACTOR", 1.2)
    monkeypatch.setattr(border, "WATCHDOG_GRACE", 5.0)
    sol, secs = timed(session)
    assert sol.status == Status.TIME_LIMIT and secs >= 0.8 * LIMIT  # not interrupted at once
