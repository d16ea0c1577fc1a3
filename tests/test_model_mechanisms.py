"""Mechanisms block: lead time, setup cost, transaction cost, reach (max_share), adoption.

Instances start from tests/modelkit.Case (help: people/emerging, in-house at £100 a unit, gain
0.5 a unit; general: £100,000 a year; horizon 3; discount 0). Need is made large (1,000 a
year, no transitions) wherever money, not need, should be what limits the units.
"""
from __future__ import annotations

import pytest

import modelkit as mk


def big_need(c: mk.Case, people: float = 1000) -> mk.Case:
    return c.set("needs", dict(level="emerging"), population_base=people, arrivals_per_year=people)


# --- lead time, setup cost, transaction cost ----------------------------------------------------

@pytest.fixture
def lead_two(tmp_path):
    """Horizon 4, £20,000 a year. New option help/block: lead 2 years, transaction rate 0.1,
    unit cost £50 (price 55 a unit), setup £3,000."""
    c = big_need(mk.Case())
    c.meta["horizon_years"] = 4
    c.set("funding", dict(stream="general"), base_amount=20000)
    c.add("mechanisms", mechanism="block", transaction_rate=0.1, lead_years=2)
    c.add("options", service="help", mechanism="block", current="false", unit_cost=50, setup_cost=3000)
    return c.load(tmp_path)


def test_new_option_waits_for_its_lead_time_and_pays_setup_over_it(lead_two):
    # Adopting: setup 3,000 spread over the 2 lead years = 1,500 in years 1 and 2.
    #   years 1-2: block cannot deliver; in-house gets 20,000 - 1,500 = 18,500 -> 185 units
    #   years 3-4: block at 1.1 x 50 = £55 a unit -> 20,000 / 55 = 363.64 units (in-house 0)
    #   units 185 + 185 + 363.64 + 363.64 = 1,097 against 4 x 200 = 800 without it: adopt.
    plan = mk.run(lead_two, "redesign")
    units = plan.tables["units"]
    assert mk.series(units, "units", mechanism="block") == mk.approx([0, 0, 20000 / 55, 20000 / 55])
    assert mk.series(units, "units", mechanism="in_house") == mk.approx([185, 185, 0, 0])
    # transaction cost is inside direct spend: (1 + 0.1) x 50 x 363.64 = 20,000
    assert mk.series(units, "direct_spend", mechanism="block") == mk.approx([0, 0, 20000, 20000])
    spend = plan.tables["spend"]
    assert mk.series(spend, "setup") == mk.approx([1500, 1500, 0, 0])
    assert mk.series(spend, "total") == mk.approx([20000] * 4)
    opts = plan.tables["options"]
    assert bool(mk.value(opts, "adopted", mechanism="block")) is True
    assert mk.value(opts, "setup_cost", mechanism="block") == mk.approx(3000)
    assert plan.summary["mechanisms_switched"] == 1


def test_setup_cost_only_when_adopted(lead_two):
    # With the mechanisms lever off (everything else free) block cannot be adopted: no setup,
    # all 20,000 a year on in-house -> 200 units.
    plan = mk.run(lead_two, mk.spec(mechanisms=False))
    assert mk.series(plan.tables["spend"], "setup") == mk.approx([0] * 4)
    assert bool(mk.value(plan.tables["options"], "adopted", mechanism="block")) is False
    assert mk.value(plan.tables["options"], "setup_cost", mechanism="block") == 0
    assert mk.series(plan.tables["units"], "units", mechanism="in_house") == mk.approx([200] * 4)
    assert plan.summary["mechanisms_switched"] == 0


def test_transaction_cost_on_the_current_option(tmp_path):
    # The current option pays its mechanism's transaction rate too: in-house with rate 0.25 ->
    # price 1.25 x 100 = £125; £20,000 buys 160 units; direct_spend = 125 x units.
    c = big_need(mk.Case())
    c.set("mechanisms", dict(mechanism="in_house"), transaction_rate=0.25)
    c.set("funding", dict(stream="general"), base_amount=20000)
    plan = mk.run(c.load(tmp_path), "redesign")
    units = plan.tables["units"]
    assert mk.series(units, "units", service="help") == mk.approx([160] * 3)
    assert mk.series(units, "direct_spend", service="help") == mk.approx([20000] * 3)


# --- share_cap ------------------------------------------------------------------------------------

def test_max_share_limits_an_option_to_its_share_of_the_service(tmp_path):
    # need 1,000 a year; new option help/budget: £50 a unit, no setup, max_share 0.3 of help's units.
    # budget is twice as good per pound but delivers at most 30% of the service: b = 0.3 (b + i),
    # so b = 3/7 i, and £20,000 buys 50 b + 100 i = (150/7 + 100) i: i = 140,000 / 850 = 164.71,
    # b = 70.59 (it used to be 30% of the need, 300 units: more than the service itself delivers).
    c = big_need(mk.Case())
    c.set("funding", dict(stream="general"), base_amount=20000)
    c.add("mechanisms", mechanism="budget", transaction_rate=0, lead_years=0)
    c.add("options", service="help", mechanism="budget", current="false", unit_cost=50, max_share=0.3)
    plan = mk.run(c.load(tmp_path), "redesign")
    units = plan.tables["units"]
    assert mk.series(units, "units", mechanism="in_house") == mk.approx([140000 / 850] * 3)
    assert mk.series(units, "units", mechanism="budget") == mk.approx([60000 / 850] * 3)


# --- adoption: pays back or not ------------------------------------------------------------------

@pytest.mark.parametrize("unit_cost, setup, adopted, units", [
    # £10,000 a year, 3 years; without the new option: 100 in-house units a year (300 in all).
    # £50 a unit, setup 2,000 (year 1): 8,000/50 = 160, then 200, 200 = 560 units > 300: adopt.
    (50, 2000, True, {"contract": [160, 200, 200], "in_house": [0, 0, 0]}),
    # £99 a unit, setup 3,000: 7,000/99 + 2 x 10,000/99 = 272.7 units < 300: do not adopt.
    (99, 3000, False, {"contract": [0, 0, 0], "in_house": [100, 100, 100]}),
])
def test_option_is_adopted_only_when_it_pays_back(tmp_path, unit_cost, setup, adopted, units):
    c = big_need(mk.Case())
    c.set("funding", dict(stream="general"), base_amount=10000)
    c.add("mechanisms", mechanism="contract", transaction_rate=0, lead_years=0)
    c.add("options", service="help", mechanism="contract", current="false", unit_cost=unit_cost, setup_cost=setup)
    plan = mk.run(c.load(tmp_path), "redesign")
    assert bool(mk.value(plan.tables["options"], "adopted", mechanism="contract")) is adopted
    for mech, expected in units.items():
        assert mk.series(plan.tables["units"], "units", mechanism=mech) == mk.approx(expected)
    assert mk.series(plan.tables["spend"], "setup") == mk.approx([setup if adopted else 0, 0, 0])


def test_min_cost_adopts_the_option_that_pays_back_and_not_the_other(tmp_path):
    # Two services, each held at its 100 base units (max_units = base_units), so min_cost must
    # keep every unit to keep the status quo's outcome; it only chooses mechanisms.
    #   help: in-house £100 -> contract £50, setup 2,000: saves 50 x 100 x 3 = 15,000 > 2,000: adopt
    #   care: in-house £100 -> grant £90,    setup 5,000: saves 10 x 100 x 3 =  3,000 < 5,000: keep
    # Spend: 3 x (100 x 50 + 100 x 100) + 2,000 = 47,000 (status quo 60,000). Payback in year 1:
    # year-1 spend 17,000 <= 20,000 already.
    c = mk.Case()
    c.set("needs", dict(level="emerging"), population_base=1000, arrivals_per_year=1000)
    c.set("needs", dict(level="crisis"), population_base=200, arrivals_per_year=200)
    c.set("services", dict(service="help"), base_units=100, max_units=100)
    c.add("services", service="care", cohort="people", level="crisis", people_per_unit=1, base_units=100,
          min_units=0, max_units=100, tags="care")
    c.add("gains", service="care", domain="wellbeing", gain_per_unit=0.5)
    c.add("options", service="care", mechanism="in_house", current="true", unit_cost=100)
    c.add("mechanisms", mechanism="contract", transaction_rate=0, lead_years=0)
    c.add("mechanisms", mechanism="grant", transaction_rate=0, lead_years=0)
    c.add("options", service="help", mechanism="contract", current="false", unit_cost=50, setup_cost=2000)
    c.add("options", service="care", mechanism="grant", current="false", unit_cost=90, setup_cost=5000)
    inst = c.load(tmp_path)
    plan = mk.run(inst, "min_cost")
    opts = plan.tables["options"]
    assert bool(mk.value(opts, "adopted", mechanism="contract")) is True
    assert bool(mk.value(opts, "adopted", mechanism="grant")) is False
    units = plan.tables["units"]
    # (min_cost holds the outcome at the target less 1e-6 relative: a hundredth of a unit may go)
    assert mk.series(units, "units", mechanism="contract") == mk.approx([100] * 3, abs=0.05)
    assert mk.series(units, "units", service="care", mechanism="in_house") == mk.approx([100] * 3, abs=0.05)
    assert plan.summary["discounted_spend"] == mk.approx(47000, abs=5)
    assert mk.run(inst, "status_quo").summary["discounted_spend"] == mk.approx(60000)
    assert plan.summary["payback_year"] == 1
