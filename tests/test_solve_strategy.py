"""The solve strategy (solve/strategy.py): one weighted MIP with a certified weight gives the
lexicographic answer (least overspend, then most outcome gain), and a weight too small to do so
is noticed and raised.

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


def test_the_weighted_strategy_gives_the_lexicographic_answer(engine):
    least, best = lexicographic_by_hand(engine)
    (c1, off1), (c2, off2) = vectors(engine)
    sol = strategy.solve(engine.session, (c1, off1), (c2, off2), engine.tolerance)
    assert sol.status == "optimal" and sol.extra["certified"]
    assert least > 1.0  # overspend is really forced: the weight matters
    assert float(c1 @ sol.values) == pytest.approx(least, abs=engine.tolerance)
    gain, best_gain = -(float(c2 @ sol.values) + off2), -best
    assert gain == pytest.approx(best_gain, rel=2e-4)  # within the gap asked for (1e-4), both ways
    assert sol.mip_gap <= 1e-4 + 1e-9


def test_a_weight_too_small_is_noticed_and_raised(engine):
    least, _ = lexicographic_by_hand(engine)
    (c1, off1), (c2, off2) = vectors(engine)
    # W = 1e-6: the first MIP all but ignores overspend and buys gain with it
    sol = strategy.solve(engine.session, (c1, off1), (c2, off2), engine.tolerance, weight=1e-6)
    assert sol.extra["rounds"] >= 2 and sol.extra["weight"] > 1.0
    assert sol.extra["certified"] and sol.status == "optimal"
    assert float(c1 @ sol.values) == pytest.approx(least, abs=engine.tolerance)


def test_a_weight_never_certified_is_not_called_optimal(engine, monkeypatch):
    monkeypatch.setattr(strategy, "W_ROUNDS", 1)
    (c1, off1), (c2, off2) = vectors(engine)
    sol = strategy.solve(engine.session, (c1, off1), (c2, off2), engine.tolerance, weight=1e-6)
    assert not sol.extra["certified"]
    assert sol.status == "suboptimal" and "could not be certified" in sol.message


def test_every_plan_reports_its_tolerance_weight_and_gap():
    plan = Engine(load_instance(TINY)).run("redesign", CUT)
    s = plan.summary
    assert s["verified"] and s["status"] == "optimal"
    assert s["overspend_tolerance"] == pytest.approx(10_000.0)  # max(£10k, 1e-6 of the money)
    assert s["overspend_weight"] > 1.0
    assert 0.0 <= s["mip_gap"] <= 1e-3  # redesign.yaml asks 0.001


def test_an_lp_policy_needs_no_weight():
    # salami fixes every integer decision: the LP is solved lexicographically, with no weight and no gap
    plan = Engine(load_instance(TINY)).run("salami", CUT)
    assert plan.summary["overspend_weight"] is None and plan.summary["mip_gap"] == 0.0
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
