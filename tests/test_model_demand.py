"""Demand block: need flow with lags, coverage, service effect, statutory duty, terminal value.

Every instance is built from tests/modelkit.Case (one cohort, emerging/crisis, one service
`help` in-house at £100 a unit, £100,000 a year, horizon 3, discount 0) with only what the
test needs changed. Expected values are worked out by hand in the comments.
"""
from __future__ import annotations

import pytest

import modelkit as mk


# --- need flow ------------------------------------------------------------------------------

@pytest.fixture
def life_course(tmp_path):
    """young/emerging feeds itself (lag 1, rate 0.5) and old/crisis (lag 2, rate 0.1).

    help serves young/emerging: 40 base units, people_per_unit 1, failure_demand 0.25 (so 0.75
    people served per unit), effect 0.5. old/crisis has no service and no persistence.
    """
    c = mk.Case()
    c.meta["horizon_years"] = 4
    c.replace("cohorts", [dict(cohort="young", age_from=0, age_to=17), dict(cohort="old", age_from=18, age_to=99)])
    c.replace("needs", [
        dict(cohort="young", level="emerging", population_base=100, arrivals_per_year=100),
        dict(cohort="old", level="crisis", population_base=20, arrivals_per_year=5)])
    c.replace("transitions", [
        dict(from_cohort="young", from_level="emerging", to_cohort="young", to_level="emerging", lag_years=1, rate=0.5),
        dict(from_cohort="young", from_level="emerging", to_cohort="old", to_level="crisis", lag_years=2, rate=0.1)])
    c.replace("harms", [
        dict(cohort="young", level="emerging", domain="wellbeing", harm_per_person_year=1),
        dict(cohort="old", level="crisis", domain="wellbeing", harm_per_person_year=4)])
    c.set("services", dict(service="help"), cohort="young", base_units=40)
    c.set("options", dict(service="help"), failure_demand=0.25, **mk.every_move(0.5))
    return c.load(tmp_path)


def test_need_flow_with_a_lag_two_life_course_link(life_course):
    # Status quo: 40 units x 0.75 = 30 people served a year; prevented = 0.5 x 30 = 15.
    # Base year (years <= 0): source = population_base - prevented = 100 - 15 = 85.
    # young/emerging, n[y] = 100 + 0.5 (n[y-1] - 15):
    #   y1 = 100 + 0.5 x 85            = 142.5
    #   y2 = 100 + 0.5 (142.5 - 15)    = 163.75
    #   y3 = 100 + 0.5 (163.75 - 15)   = 174.375
    #   y4 = 100 + 0.5 (174.375 - 15)  = 179.6875
    # old/crisis, n[y] = 5 + 0.1 (young n[y-2] - 15), base year standing in for y-2 <= 0:
    #   y1 = y2 = 5 + 0.1 x 85         = 13.5
    #   y3 = 5 + 0.1 (142.5 - 15)      = 17.75
    #   y4 = 5 + 0.1 (163.75 - 15)     = 19.875
    plan = mk.run(life_course, "status_quo")
    need = plan.tables["need"]
    assert mk.series(need, "need", cohort="young") == mk.approx([142.5, 163.75, 174.375, 179.6875])
    assert mk.series(need, "need", cohort="old") == mk.approx([13.5, 13.5, 17.75, 19.875])
    assert mk.series(need, "served", cohort="young") == mk.approx([30.0] * 4)
    assert mk.series(need, "unmet", cohort="young") == mk.approx([112.5, 133.75, 144.375, 149.6875])
    assert mk.series(plan.tables["units"], "people_served", service="help") == mk.approx([30.0] * 4)


def test_need_flow_follows_the_plan_not_the_base_year(life_course):
    # Salami at 50%: help 20 units -> 15 people served, 7.5 prevented. The base year (source 85)
    # still stands in for years <= 0.
    #   young y1 = 100 + 0.5 x 85           = 142.5   (as in the status quo)
    #   young y2 = 100 + 0.5 (142.5 - 7.5)  = 167.5   (status quo 163.75)
    #   young y3 = 100 + 0.5 (167.5 - 7.5)  = 180
    #   old y3   = 5 + 0.1 (142.5 - 7.5)    = 18.5    (status quo 17.75)
    #   old y4   = 5 + 0.1 (167.5 - 7.5)    = 21
    plan = mk.run(life_course, "salami", 0.5)
    need = plan.tables["need"]
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([20.0] * 4)
    assert mk.series(need, "need", cohort="young")[:3] == mk.approx([142.5, 167.5, 180.0])
    assert mk.series(need, "need", cohort="old") == mk.approx([13.5, 13.5, 18.5, 21.0])


# --- coverage -------------------------------------------------------------------------------

def test_coverage_caps_people_served_at_the_need(tmp_path):
    # emerging need: 30 arrivals, no transitions -> n = 30 every year.
    # help: people_per_unit 2, failure_demand 0.25 -> 1.5 people served per unit.
    # Money is plenty (£100,000 vs £100 a unit) and every unit gains, so the redesign serves all
    # of the need and no more: units = 30 / 1.5 = 20, served 30, unmet 0.
    c = mk.Case()
    c.set("needs", dict(level="emerging"), population_base=30, arrivals_per_year=30)
    c.set("services", dict(service="help"), people_per_unit=2, base_units=10)
    c.set("options", dict(service="help"), failure_demand=0.25)
    plan = mk.run(c.load(tmp_path), "redesign")
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([20.0] * 3)
    need = plan.tables["need"]
    assert mk.series(need, "served", level="emerging") == mk.approx([30.0] * 3)
    assert mk.series(need, "unmet", level="emerging") == mk.approx([0.0] * 3)
    assert (need["served"] <= need["need"] + 1e-6).all()


def test_status_quo_when_need_falls_below_base_activity(tmp_path):
    # 50 base units, but need falls to 30 a year (30 arrivals, no transitions). The status quo
    # continues base activity; it cannot serve more people than there are, so it serves all 30.
    c = mk.Case()
    c.set("needs", dict(level="emerging"), population_base=100, arrivals_per_year=30)
    plan = mk.run(c.load(tmp_path), "status_quo", expect=None)
    assert plan.status == "optimal"
    assert mk.series(plan.tables["need"], "served", level="emerging") == mk.approx([30.0] * 3)


# --- service effect ----------------------------------------------------------------------------

@pytest.mark.parametrize("effect, crisis", [
    # crisis n[y] = 10 arrivals + 0.2 x (emerging source - effect x 50 served), source = 100:
    (0.0, 30.0),   # 10 + 0.2 x 100              = 30
    (0.4, 26.0),   # 10 + 0.2 x (100 - 0.4 x 50) = 26: 0.2 x 0.4 x 50 = 4 fewer a year
])
def test_service_effect_cuts_onward_need(tmp_path, effect, crisis):
    # emerging: 100 arrivals, no persistence -> n = 100; base year population 100.
    # escalation emerging -> crisis, lag 1, rate 0.2. help serves 50 a year (status quo).
    # The base year's prevention (effect x 50 base units) stands in for year 0, so year 1 is
    # reduced too; emerging need itself is untouched (it has no inflow).
    c = mk.Case()
    c.replace("transitions", [dict(from_cohort="people", from_level="emerging", to_cohort="people",
                                   to_level="crisis", lag_years=1, rate=0.2)])
    c.set("options", dict(service="help"), effect_escalation=effect)
    plan = mk.run(c.load(tmp_path), "status_quo")
    need = plan.tables["need"]
    assert mk.series(need, "need", level="emerging") == mk.approx([100.0] * 3)
    assert mk.series(need, "need", level="crisis") == mk.approx([crisis] * 3)


# --- statutory duty -------------------------------------------------------------------------------

@pytest.fixture
def duty(tmp_path):
    """crisis: coverage 1, population 40, 20 arrivals, persistence 0.5 -> n = 20 + 0.5 x 40 = 40 a year.

    care serves people/crisis, people_per_unit 2 (a unit is a household of two), £1,000 a unit,
    20 base units. help: 10 base units at £500. general: £25,000 a year (= base spend 20,000 + 5,000).
    """
    c = mk.Case()
    c.set("needs", dict(level="crisis"), statutory_coverage=1, population_base=40, arrivals_per_year=20)
    c.set("transitions", dict(from_level="crisis"), rate=0.5)
    c.set("services", dict(service="help"), base_units=10)
    c.set("options", dict(service="help"), unit_cost=500)
    c.add("services", service="care", cohort="people", level="crisis", people_per_unit=2, base_units=20,
          min_units=0, max_units=100, tags="statutory")
    c.add("gains", service="care", domain="wellbeing", gain_per_unit=1)
    c.add("options", service="care", mechanism="in_house", current="true", unit_cost=1000)
    c.set("funding", dict(stream="general"), base_amount=25000)
    return c.load(tmp_path)


def test_statutory_duty_holds_at_a_cut_and_the_overspend_shows(duty):
    # Salami at 50%: available = 25,000 x 0.5 = 12,500. help is cut to 10 x 0.5 = 5 units (£2,500).
    # The duty serves all 40 people in crisis: units = 40 / 2 = 20 (not 20 x 0.5 = 10), £20,000.
    # Spent 22,500 -> overspend 22,500 - 12,500 = 10,000 a year, 30,000 over 3 years (discount 0).
    plan = mk.run(duty, "salami", 0.5)
    units = plan.tables["units"]
    assert mk.series(units, "units", service="care") == mk.approx([20.0] * 3)
    assert mk.series(units, "units", service="help") == mk.approx([5.0] * 3)
    need = plan.tables["need"]
    assert mk.series(need, "need", level="crisis") == mk.approx([40.0] * 3)
    assert mk.series(need, "unmet", level="crisis") == mk.approx([0.0] * 3)
    streams = plan.tables["streams"]
    assert mk.series(streams, "available", stream="general") == mk.approx([12500.0] * 3)
    assert mk.series(streams, "spent", stream="general") == mk.approx([22500.0] * 3)
    assert mk.series(streams, "overspend", stream="general") == mk.approx([10000.0] * 3)
    assert plan.summary["overspend_nominal"] == mk.approx(30000.0)
    assert plan.summary["overspend"] == mk.approx(30000.0)


def test_redesign_meets_the_duty_and_cuts_elsewhere_first(duty):
    # Redesign at 50%: the duty still takes 20 units (£20,000) > 12,500 available, so help goes
    # to 0 and the least overspend is 20,000 - 12,500 = 7,500 a year (22,500 in all).
    plan = mk.run(duty, "redesign", 0.5)
    units = plan.tables["units"]
    assert mk.series(units, "units", service="care") == mk.approx([20.0] * 3)
    # (the overspend is held at its least value plus 1e-6 relative: 2.25p here, 4.5e-5 units of help)
    assert mk.series(units, "units", service="help") == mk.approx([0.0] * 3)
    assert plan.summary["overspend_nominal"] == mk.approx(22500.0, rel=1e-5)


def test_statutory_need_costing_more_than_all_the_money_is_an_overspend(tmp_path):
    # crisis: coverage 1, 40 people a year (40 arrivals, no persistence); care at £5,000 a person.
    # Status quo: care 40 units = £200,000, help 50 units = £5,000; general has £100,000.
    # Overspend = 205,000 - 100,000 = 105,000 a year, 315,000 over 3 years.
    c = mk.Case()
    c.set("needs", dict(level="crisis"), statutory_coverage=1, population_base=40, arrivals_per_year=40)
    c.add("services", service="care", cohort="people", level="crisis", people_per_unit=1, base_units=40,
          min_units=0, max_units=1000, tags="statutory")
    c.add("gains", service="care", domain="wellbeing", gain_per_unit=1)
    c.add("options", service="care", mechanism="in_house", current="true", unit_cost=5000)
    plan = mk.run(c.load(tmp_path), "status_quo", expect=None)
    assert plan.status == "optimal"
    assert mk.series(plan.tables["units"], "units", service="care") == mk.approx([40.0] * 3)
    assert plan.summary["overspend_nominal"] == mk.approx(315000.0)


# --- terminal value --------------------------------------------------------------------------------

def test_terminal_harm_and_terminal_cost(tmp_path):
    # r = 0.1, H = 2. emerging: population 100, 50 arrivals, persistence 0.5 (lag 1), harm 2,
    # future_cost £1,000 -> n = 50 + 0.5 x 100 = 100 in both years (help has 0 base units).
    # crisis: 10 a year, harm 4, future_cost £500, no persistence (its only row has rate 0).
    # docs/results.md: terminal harm = n[H] harm (1+r)^-H sum_{t=1..10} ((1+r)^-1 p)^t
    #   emerging: 100 x 2 x 1.1^-2 x sum_{t=1..10} (0.5/1.1)^t
    #           = 200 x 0.826446281 x 0.833019577 = 137.6891863
    #   crisis:   p = 0 -> 0
    # terminal cost = n[H] future_cost (1+r)^-H = (100 x 1,000 + 10 x 500) x 0.826446281 = 86,776.86
    # outcome value = sum_y delta_y V[y] - terminal harm, V[y] = -(2 x 100 + 4 x 10) = -240:
    #   = -240/1.1 - 240/1.21 - 137.6891863 = -554.2181120
    c = mk.Case()
    c.meta.update(horizon_years=2, discount_rate=0.1)
    c.set("needs", dict(level="emerging"), population_base=100, arrivals_per_year=50, future_cost=1000)
    c.set("needs", dict(level="crisis"), future_cost=500)
    c.add("transitions", from_cohort="people", from_level="emerging", to_cohort="people", to_level="emerging",
          lag_years=1, rate=0.5)
    c.set("harms", dict(level="emerging"), harm_per_person_year=2)
    c.set("services", dict(service="help"), base_units=0)
    plan = mk.run(c.load(tmp_path), "status_quo")
    assert mk.series(plan.tables["need"], "need", level="emerging") == mk.approx([100.0, 100.0])
    assert plan.summary["terminal_harm"] == mk.approx(137.6891863, rel=1e-8)
    assert plan.summary["terminal_cost"] == mk.approx(86776.8595, rel=1e-8)
    assert plan.summary["outcome_value"] == mk.approx(-554.2181120, rel=1e-8)
    # nobody is served, so the plan is the no-provision plan
    assert plan.summary["outcome_gain"] == mk.approx(0.0, abs=1e-9)
