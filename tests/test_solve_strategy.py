"""The solve strategy (solve/strategy.py): the repaired two-phase MIP gives the lexicographic
answer (least overspend, then most outcome gain), never trades overspend for gain, and reports
the overspend tolerance it actually held.

The lexicographic answer is computed here independently of the strategy, from the session's
single runs: a MIP for the least overspend, then a MIP for the most gain with the overspend
held at it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from commissionopt.data.load import load_instance
from commissionopt.model.build import model_cut
from commissionopt.runs.engine import Engine, as_spec
from commissionopt.solve import strategy

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"
CUT = 0.3  # tiny's duties cannot be paid within the money: overspend is forced, and more money buys gain


@pytest.fixture(scope="module")
def engine():
    e = Engine(load_instance(TINY))
    e._configure(as_spec("redesign"), model_cut(e.md, CUT))
    e.session.options.mip_rel_gap = 1e-4
    assert e.session.has_free_integers()  # options to adopt, a building to close, a stream to pool
    return e


def vectors(e):
    s = e.session
    return s.objective_vector(e.primary), s.objective_vector({"gain": 1.0})


def lexicographic_by_hand(e):
    """(least primary, best secondary with the primary held at it) by two MIPs."""
    s = e.session
    (c1, off1), (c2, off2) = vectors(e)
    first = s.run(c1, off1, 120)
    least = float(c1 @ first.values)
    with s.holding(c1, least + 1e-6 * max(1.0, abs(least)) + 1e-4):
        second = s.run(c2, off2, 120)
    return least, float(c2 @ second.values) + off2


def test_the_strategy_gives_the_lexicographic_answer(engine):
    least, best = lexicographic_by_hand(engine)
    (c1, off1), (c2, off2) = vectors(engine)
    sol = strategy.solve(engine.session, (c1, off1), (c2, off2), engine.tolerance)
    assert sol.status == "optimal"
    assert least > 1.0  # overspend is really forced: more money would buy gain
    assert float(c1 @ sol.values) == pytest.approx(least, abs=sol.extra["overspend_tolerance"])
    gain, best_gain = -(float(c2 @ sol.values) + off2), -best
    assert gain == pytest.approx(best_gain, rel=2e-4)  # within the gap asked for (1e-4), both ways
    assert sol.mip_gap <= 1e-4 + 1e-9


def test_overspend_is_not_traded_for_gain(engine):
    """With the overspend free to rise the gain would be higher: the plan holds it at the least."""
    least, best = lexicographic_by_hand(engine)
    (c1, off1), (c2, off2) = vectors(engine)
    s = engine.session
    with s.holding(c1, least + 100 * engine.tolerance):
        looser = s.run(c2, off2, 120)
    assert -(float(c2 @ looser.values) + off2) > -best + 1e-6  # more overspend does buy gain here
    sol = strategy.solve(s, (c1, off1), (c2, off2), engine.tolerance)
    assert float(c1 @ sol.values) <= least + sol.extra["overspend_tolerance"] + 1e-9


def test_a_least_overspend_found_loosely_reports_the_tolerance_it_held(engine, monkeypatch):
    """At a 50% gap phase 1 may stop far from the least overspend: the plan says how far it may be."""
    least, _ = lexicographic_by_hand(engine)
    (c1, off1), (c2, off2) = vectors(engine)
    s = engine.session
    monkeypatch.setattr(s.options, "mip_rel_gap", 0.5)
    sol = strategy.solve(s, (c1, off1), (c2, off2), engine.tolerance)
    held = sol.extra["overspend_tolerance"]
    assert held >= engine.tolerance
    assert float(c1 @ sol.values) - least <= held + 1e-9
    assert sol.extra["overspend_gap"] <= 0.5 + 1e-9


def test_every_plan_reports_its_tolerance_and_gaps():
    plan = Engine(load_instance(TINY)).run("redesign", CUT)
    s = plan.summary
    assert s["verified"] and s["status"] == "optimal"
    # max(£10k, 1e-6 of the money), or what phase 1's gap leaves open (redesign.yaml asks 0.001)
    assert 10_000.0 <= s["overspend_tolerance"] <= max(10_000.0, 1e-3 * s["overspend"] * 1.5)
    assert 0.0 <= s["overspend_gap"] <= 1e-3 + 1e-9
    assert 0.0 <= s["mip_gap"] <= 1e-3 + 1e-9


def test_an_lp_policy_has_no_gap():
    # salami fixes every integer decision: the LP is solved lexicographically, exactly
    plan = Engine(load_instance(TINY)).run("salami", CUT)
    assert plan.summary["overspend_gap"] is None and plan.summary["mip_gap"] == 0.0
    assert plan.summary["verified"] and plan.summary["overspend"] > 0


def test_a_model_file_sets_any_highs_option_and_the_plan_records_it(tmp_path):
    from commissionopt.policies.spec import load_spec
    f = tmp_path / "quiet.yaml"
    f.write_text("name: quiet\nsolver: {mip_rel_gap: 0.01, highs: {presolve: 'off', mip_heuristic_effort: 0.1}}\n")
    spec = load_spec(f)
    assert spec.solver["highs"] == {"presolve": "off", "mip_heuristic_effort": 0.1}
    plan = Engine(load_instance(TINY)).run(spec, CUT)
    assert plan.summary["verified"]
    assert plan.inputs["solver"]["highs"] == {"presolve": "off", "mip_heuristic_effort": 0.1}


@pytest.mark.parametrize("text, column, expected", [
    ("{presolv: 'off'}", "solver.highs.presolv", "the name of a HiGHS option"),
    ("{presolve: 3}", "solver.highs.presolve", "text"),
    ("{mip_rel_gap: 0.5}", "solver.highs.mip_rel_gap", "an option commissionopt does not set itself"),
    ("{mip_heuristic_effort: -2.0}", "solver.highs.mip_heuristic_effort", "within the range HiGHS allows"),
])
def test_a_bad_highs_option_is_named(tmp_path, text, column, expected):
    from commissionopt.errors import InputError
    from commissionopt.policies.spec import load_spec
    f = tmp_path / "bad.yaml"
    f.write_text(f"name: bad\nsolver: {{highs: {text}}}\n")
    with pytest.raises(InputError) as e:
        load_spec(f)
    (p,) = e.value.problems
    assert p.file == str(f) and p.column == column and expected in p.expected


def test_a_mip_stopped_before_any_bound_is_a_plan_with_no_gap_not_an_infinite_one(monkeypatch):
    """HiGHS stopped before it proved a bound gives a bound of -inf and a gap of inf (seen on a
    generated 104k-column area at 300 s): the plan is still verified, its gain gap unknown (None),
    its overspend bound 0 (overspend is never negative), its status time_limit."""
    engine = Engine(load_instance(TINY))
    real = engine.session.run

    def stopped_early(*args, **kwargs):
        sol = real(*args, **kwargs)
        if engine.session.has_free_integers() and sol.values is not None:
            sol.bound, sol.mip_gap, sol.status = float("-inf"), float("inf"), "time_limit"
        return sol
    monkeypatch.setattr(engine.session, "run", stopped_early)
    plan = engine.run("redesign", CUT)
    s = plan.summary
    assert s["verified"] is True, plan.violations[:3]
    assert s["status"] == "time_limit" and s["mip_gap"] is None
    assert s["overspend_gap"] == pytest.approx(1.0)  # nothing proven: the least may be anywhere down to 0
    assert s["overspend_tolerance"] >= s["overspend"]
