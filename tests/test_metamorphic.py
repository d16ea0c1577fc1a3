"""Metamorphic relations of the redesign: a tighter limit never makes the plan better.

The plan's order is the solve's: least overspend first, then most outcome gain. So after a
tightening, the least overspend never falls and, where it stays the same, the outcome gain
never rises (both within the solve's tolerances). Checked for every pace limit of instances/tiny
and for taking a service out of a duty (fewer services may count towards it).
"""
from __future__ import annotations

from pathlib import Path

import pytest

import modelkit as mk
from commissionopt.data.load import load_instance
from commissionopt.runs.engine import Engine

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"
CUT = 0.2
GAP = 1e-3  # redesign.yaml's


def no_better(tight: dict, loose: dict, tolerance: float = 10_000.0) -> None:
    """The tighter plan is no better in the solve's order (overspend, then outcome gain)."""
    assert tight["overspend"] >= loose["overspend"] - tolerance, (tight["overspend"], loose["overspend"])
    if abs(tight["overspend"] - loose["overspend"]) <= tolerance:
        assert tight["outcome_gain"] <= loose["outcome_gain"] * (1 + 2 * GAP) + 1e-6, \
            (tight["outcome_gain"], loose["outcome_gain"])


def redesign(inst) -> dict:
    plan = Engine(inst).run("redesign", CUT)
    assert plan.summary["verified"], plan.violations
    return plan.summary


@pytest.fixture(scope="module")
def tiny_plan():
    return redesign(load_instance(TINY))


def tightened(change):
    inst = load_instance(TINY).copy()
    change(inst)
    return inst


def _pace(key, value):
    def change(inst):
        inst.meta["pace"] = {**inst.meta["pace"], key: value}
    return change


def _exit(value):
    def change(inst):
        op = inst.tables["options"]
        inst.tables["options"] = op.assign(exit_rate=op["exit_rate"].where(op["exit_rate"].isna(), value))
    return change


def _service(column, service, value):
    def change(inst):
        sv = inst.tables["services"]
        sv.loc[sv["service"] == service, column] = value
    return change


TIGHTER = {
    "growth 25% -> 10% a year": _pace("max_growth", 0.10),
    "decline 20% -> 5% a year": _pace("max_decline", 0.05),
    "placements' exit rates -> 10% a year": _exit(0.10),
    "early help: growth 0 (no growth at all)": _service("max_growth", "early_help", 0.0),
    "home support: decline 0": _service("max_decline", "home_support", 0.0),
}


@pytest.mark.parametrize("name", list(TIGHTER))
def test_tightening_a_pace_limit_never_improves_the_redesign(tiny_plan, name):
    no_better(redesign(tightened(TIGHTER[name])), tiny_plan)


def test_taking_a_service_out_of_a_duty_never_improves_the_redesign(tmp_path):
    from test_model_duties import crisis_case
    both = crisis_case()
    both.add("duty_services", duty="care_duty", service="chat", counts_as=1, min_share=0, max_share=1)
    both.set("funding", dict(stream="general"), base_amount=9000)  # money binds: overspend matters
    care_only = crisis_case()
    care_only.set("funding", dict(stream="general"), base_amount=9000)
    loose = mk.run(both.load(tmp_path, "both"), "redesign").summary
    tight = mk.run(care_only.load(tmp_path, "care_only"), "redesign").summary
    no_better(tight, loose, tolerance=1.0)
    assert tight["overspend"] > loose["overspend"] + 1.0  # and here it really costs: care is dearer
