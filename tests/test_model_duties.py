"""Duties per service (duty_met, duty_mix): only the services listed for a duty meet it.

Built on tests/modelkit.Case, with a crisis level that carries a duty: care (statutory, £1,000 a
unit) and chat (cheap, non-statutory, a better gain per unit) both serve people/crisis. Crisis
need is 10 a year (10 arrivals, no persistence, nobody escalates); coverage keeps the two
services together at or below it.
"""
from __future__ import annotations

import pytest

import modelkit as mk


def crisis_case(duties: bool = True) -> mk.Case:
    c = mk.Case()
    c.add("services", service="care", cohort="people", level="crisis", people_per_unit=1, base_units=10,
          min_units=0, max_units=100, building_types="", tags="statutory", marginal_effect=1)
    c.add("services", service="chat", cohort="people", level="crisis", people_per_unit=1, base_units=0,
          min_units=0, max_units=100, building_types="", tags="community", marginal_effect=1)
    c.add("gains", service="care", domain="wellbeing", gain_per_unit=0.1)
    c.add("gains", service="chat", domain="wellbeing", gain_per_unit=0.5)
    c.add("options", service="care", mechanism="in_house", current="true", unit_cost=1000, quality=1,
          effect_escalation=0, failure_demand=0, setup_cost=0, max_share=1)
    c.add("options", service="chat", mechanism="in_house", current="true", unit_cost=10, quality=1,
          effect_escalation=0, failure_demand=0, setup_cost=0, max_share=1)
    if duties:
        c.add("duties", duty="care_duty", cohort="people", level="crisis", coverage=1, legal_basis="Care Act 2014 s18")
        c.add("duty_services", duty="care_duty", service="care", counts_as=1, min_share=0, max_share=1)
    else:  # the old meaning: any service at the level counts
        c.set("needs", dict(level="crisis"), statutory_coverage=1)
    return c


def test_duty_met_a_cheap_service_at_the_level_does_not_replace_the_statutory_one(tmp_path):
    # crisis need 10 a year. With the duty on care alone, care serves all 10 every year and chat,
    # with no room left under coverage (care + chat <= 10), serves nobody.
    plan = mk.run(crisis_case().load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", service="care") == mk.approx([10.0] * 3)
    assert mk.series(u, "units", service="chat") == mk.approx([0.0] * 3)


def test_without_duties_any_service_at_the_level_meets_the_duty(tmp_path):
    # The old meaning, kept for instances without duties.csv: chat (gain 0.5 a unit) replaces care
    # (0.1) in full, and the duty is "met" with no statutory provision at all.
    plan = mk.run(crisis_case(duties=False).load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", service="chat") == mk.approx([10.0] * 3)
    assert mk.series(u, "units", service="care") == mk.approx([0.0] * 3)


def test_duty_met_counts_as_converts_episodes_into_person_years(tmp_path):
    # The duty: 45% of the 10 people in crisis, 4.5 person-years of care. care can serve at most 4;
    # chat is a six-week episode counting 0.125 of a person-year, and gains nothing on its own, so
    # the plan buys exactly the episodes the duty needs: 4 + 0.125 e = 4.5 -> e = 4 a year.
    c = crisis_case()
    c.set("duties", dict(duty="care_duty"), coverage=0.45)
    c.set("services", dict(service="care"), base_units=4, max_units=4)
    c.set("gains", dict(service="chat"), gain_per_unit=0)
    c.add("duty_services", duty="care_duty", service="chat", counts_as=0.125, min_share=0, max_share=1)
    plan = mk.run(c.load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", service="care") == mk.approx([4.0] * 3)
    # chat costs £10 a unit: the cheapest plan's precision in its units is a penny's worth
    assert mk.series(u, "units", service="chat") == mk.approx([4.0] * 3, abs=0.01)


def test_duty_mix_min_share_keeps_the_residential_floor(tmp_path):
    # Both count; care must serve at least 40% of what the duty requires: 0.4 x 10 = 4 people.
    # Without the floor the redesign would use chat for all 10 (better gain).
    c = crisis_case()
    c.add("duty_services", duty="care_duty", service="chat", counts_as=1, min_share=0, max_share=1)
    c.set("duty_services", dict(service="care"), min_share=0.4)
    plan = mk.run(c.load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", service="care") == mk.approx([4.0] * 3)
    assert mk.series(u, "units", service="chat") == mk.approx([6.0] * 3)


def test_duty_mix_max_share_limits_a_service_to_those_it_suits(tmp_path):
    # chat may serve at most 30% of the need (3 people): care serves the other 7.
    c = crisis_case()
    c.add("duty_services", duty="care_duty", service="chat", counts_as=1, min_share=0, max_share=0.3)
    plan = mk.run(c.load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", service="chat") == mk.approx([3.0] * 3)
    assert mk.series(u, "units", service="care") == mk.approx([7.0] * 3)


def test_a_duty_the_money_cannot_pay_is_overspend_not_a_smaller_duty(tmp_path):
    # £8,000 a year pays for 8 care units, the duty needs 10: the plan serves 10 and shows the
    # £2,000 a year the duty forces beyond the money (plus help's £5,000 base spend, which the
    # redesign drops first: help has no effect and a small gain).
    c = crisis_case()
    c.set("funding", dict(stream="general"), base_amount=8000)
    plan = mk.run(c.load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert mk.series(u, "units", service="care") == mk.approx([10.0] * 3)
    assert mk.series(u, "units", service="help") == mk.approx([0.0] * 3)
    assert plan.summary["overspend"] == pytest.approx(3 * 2000.0, abs=1.0)
