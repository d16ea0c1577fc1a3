"""Pace of change (pace_growth, pace_decline, exit_rate) and an option's share of its service (share_cap).

Built on tests/modelkit.Case: one service `help` at people/emerging, in-house at £100 a unit.
"""
from __future__ import annotations

import pytest

import modelkit as mk


def big_need(c: mk.Case) -> mk.Case:
    """Emerging need of 2,000 a year (no persistence), £1m of money: help would serve its maximum
    (1,000 units) at once if nothing stopped it (each unit gains 0.5 and costs £100)."""
    c.set("needs", dict(level="emerging"), population_base=2000, arrivals_per_year=2000)
    c.set("funding", dict(stream="general"), base_amount=1_000_000)
    c.set("services", dict(service="help"), base_units=500)
    return c


def test_without_a_growth_limit_help_jumps_to_its_maximum(tmp_path):
    plan = mk.run(big_need(mk.Case()).load(tmp_path), "redesign")
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([1000.0] * 3)


def test_pace_growth_early_help_at_max_growth_01_reaches_550_not_1000(tmp_path):
    # 500 base units, at most 10% more a year: 550, 605, 665.5.
    c = big_need(mk.Case())
    c.set("services", dict(service="help"), max_growth=0.1)
    plan = mk.run(c.load(tmp_path), "redesign")
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([550.0, 605.0, 665.5])


def test_pace_growth_instance_default_and_ramp_units(tmp_path):
    # instance.yaml pace gives 10% where services.csv is empty; ramp_units 100 adds 10 units a year
    # on top (0.1 x 100), so a service can grow from little: 500 -> 560 -> 626 -> 698.6.
    c = big_need(mk.Case())
    c.meta["pace"] = {"max_growth": 0.1}
    c.set("services", dict(service="help"), ramp_units=100)
    plan = mk.run(c.load(tmp_path), "redesign")
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([560.0, 626.0, 698.6])


def test_pace_decline_paid_capacity_follows_a_falling_need(tmp_path):
    # Need falls to 100 a year (arrivals 100, nobody stays) from a base of 500 units; help may
    # shrink at most 20% a year: 400, 320, 256 units of capacity, of which 100 serve people and
    # the rest is idle capacity still paid for (at £100 a unit).
    c = mk.Case()
    c.set("needs", dict(level="emerging"), population_base=500, arrivals_per_year=100)
    c.set("services", dict(service="help"), base_units=500, max_decline=0.2)
    c.set("funding", dict(stream="general"), base_amount=1_000_000)
    plan = mk.run(c.load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", service="help") == mk.approx([100.0] * 3)
    assert mk.series(u, "idle_units", service="help") == mk.approx([300.0, 220.0, 156.0])
    assert mk.series(u, "direct_spend", service="help") == mk.approx([40000.0, 32000.0, 25600.0])


@pytest.fixture
def switching(tmp_path):
    """help is bought spot (current, £200 a unit) and could move to a block contract at £100 from
    year 1 (no lead time, no setup): the redesign wants every unit on the block."""
    c = mk.Case()
    c.replace("mechanisms", [dict(mechanism="spot", transaction_rate=0, lead_years=0),
                             dict(mechanism="block", transaction_rate=0, lead_years=0)])
    c.replace("options", [
        dict(service="help", mechanism="spot", current="true", unit_cost=200, quality=1, effect_escalation=0,
             failure_demand=0, setup_cost=0, max_share=1),
        dict(service="help", mechanism="block", current="false", unit_cost=100, quality=1, effect_escalation=0,
             failure_demand=0, setup_cost=0, max_share=1)])
    c.set("services", dict(service="help"), base_units=100, max_units=100)
    c.set("needs", dict(level="emerging"), population_base=100, arrivals_per_year=100)
    return c


def test_without_an_exit_rate_everyone_moves_in_year_one(switching, tmp_path):
    plan = mk.run(switching.load(tmp_path), "redesign")
    assert mk.series(plan.tables["units"], "units", mechanism="spot") == mk.approx([0.0] * 3)


def test_exit_rate_a_current_spot_option_keeps_80pc_of_last_years_units(switching, tmp_path):
    # exit_rate 0.2: at least 80, 64, 51.2 units stay on spot; the block takes the rest of the 100.
    switching.set("options", dict(mechanism="spot"), exit_rate=0.2)
    plan = mk.run(switching.load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", mechanism="spot") == mk.approx([80.0, 64.0, 51.2])
    assert mk.series(u, "units", mechanism="block") == mk.approx([20.0, 36.0, 48.8])


def test_share_cap_max_share_03_holds_on_the_services_units(switching, tmp_path):
    # The block may deliver at most 30% of help's units: of 100 units, 30 on the block, 70 spot.
    # (max_share used to cap a share of the level's need: 30% of the need, not of the service.)
    switching.set("options", dict(mechanism="block"), max_share=0.3)
    switching.set("needs", dict(level="emerging"), population_base=1000, arrivals_per_year=1000)
    plan = mk.run(switching.load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", mechanism="block") == mk.approx([30.0] * 3)
    assert mk.series(u, "units", mechanism="spot") == mk.approx([70.0] * 3)


def test_salami_follows_the_pace_too(tmp_path):
    # A 50% cut in year 1 asks help to go from 50 to 25 units; at most 20% a year it goes
    # 40, 32, 25.6 -> 25 (the cut's target) and the saving it cannot find shows as overspend.
    c = mk.Case()
    c.set("services", dict(service="help"), max_decline=0.2)
    c.set("funding", dict(stream="general"), base_amount=5000)
    plan = mk.run(c.load(tmp_path), "salami", 0.5)
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([40.0, 32.0, 25.6])
    # money after the cut: £2,500 a year; spend 4,000, 3,200, 2,560
    assert plan.summary["overspend"] == pytest.approx(1500 + 700 + 60, abs=1.0)
