"""Workforce block: staff hours, FTE balance, hire and release limits, agency, redundancy.

Instances start from tests/modelkit.Case. In-house options use staff hours (option_staff);
their unit cost is only what is not staff.
"""
from __future__ import annotations

import pytest

import modelkit as mk


def role(c: mk.Case, **kw) -> mk.Case:
    row = dict(role="sw", fte_base=1, hours_per_fte=1000, cost_per_fte=40000, max_hire=0, max_release=0,
               redundancy_cost=10000, agency_cost_per_hour=50, max_agency_hours=0)
    row.update(kw)
    return c.add("workforce", **row)


def test_hours_beyond_hiring_come_from_agency_up_to_its_cap(tmp_path):
    # help in-house needs 100 sw hours a unit; need 1,000 a year, money plenty (£1m), so staff
    # hours are what limit the units. fte_base 1, max_hire 0.5 a year, 1,000 h/FTE, agency cap 800 h:
    #   year y: fte = 1 + 0.5 y -> 1.5, 2.0, 2.5; hours = 1,000 fte + 800
    #   units = (1,500 + 800)/100 = 23, (2,000 + 800)/100 = 28, (2,500 + 800)/100 = 33
    # staff cost 40,000 fte = 60,000 / 80,000 / 100,000; agency 800 x 50 = 40,000 a year.
    c = mk.Case()
    c.set("needs", dict(level="emerging"), population_base=1000, arrivals_per_year=1000)
    c.set("funding", dict(stream="general"), base_amount=1000000)
    c.set("services", dict(service="help"), base_units=10)
    role(c, max_hire=0.5, max_release=0.2, max_agency_hours=800)
    c.add("option_staff", service="help", mechanism="in_house", role="sw", hours_per_unit=100)
    plan = mk.run(c.load(tmp_path), "redesign")
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([23, 28, 33])
    wf = plan.tables["workforce"]
    assert mk.series(wf, "fte") == mk.approx([1.5, 2.0, 2.5])
    assert mk.series(wf, "hires") == mk.approx([0.5] * 3)
    assert mk.series(wf, "agency_hours") == mk.approx([800] * 3)
    assert mk.series(wf, "hours_needed") == mk.approx([2300, 2800, 3300])
    assert mk.series(wf, "staff_cost") == mk.approx([60000, 80000, 100000])
    assert mk.series(wf, "agency_cost") == mk.approx([40000] * 3)
    assert mk.series(plan.tables["spend"], "staff") == mk.approx([100000, 120000, 140000])


def test_a_duty_takes_agency_only_until_hiring_catches_up(tmp_path):
    # care (statutory, 20 people in crisis a year) needs 100 sw hours a unit: 2,000 hours a year.
    # fte_base 1, max_hire 0.5. An FTE hour costs 40,000/1,000 = £40, an agency hour £50, and money
    # not spent on staff buys help (gain), so the plan hires as fast as it can and fills the rest
    # with agency:
    #   year 1: fte 1.5 (1,500 h) + agency 500 h;  years 2-3: fte 2.0, no agency.
    # help gets the rest of £200,000: care 20 x £100 = 2,000 a year;
    #   year 1: 200,000 - 60,000 - 25,000 - 2,000 = 113,000 -> 1,130 units
    #   years 2-3: 200,000 - 80,000 - 2,000 = 118,000 -> 1,180 units
    c = mk.Case()
    c.set("needs", dict(level="emerging"), population_base=10000, arrivals_per_year=10000)
    c.set("needs", dict(level="crisis"), statutory_coverage=1, population_base=20, arrivals_per_year=20)
    c.set("funding", dict(stream="general"), base_amount=200000)
    c.set("services", dict(service="help"), max_units=5000)
    c.add("services", service="care", cohort="people", level="crisis", people_per_unit=1, base_units=20,
          min_units=0, max_units=100, tags="statutory")
    c.add("gains", service="care", domain="wellbeing", gain_per_unit=1)
    c.add("options", service="care", mechanism="in_house", current="true", unit_cost=100)
    role(c, max_hire=0.5, max_release=0.2, max_agency_hours=800)
    c.add("option_staff", service="care", mechanism="in_house", role="sw", hours_per_unit=100)
    plan = mk.run(c.load(tmp_path), "redesign")
    wf = plan.tables["workforce"]
    assert mk.series(plan.tables["units"], "units", service="care") == mk.approx([20] * 3)
    assert mk.series(wf, "fte") == mk.approx([1.5, 2.0, 2.0])
    assert mk.series(wf, "agency_hours") == mk.approx([500, 0, 0])
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([1130, 1180, 1180])


@pytest.fixture
def overstaffed(tmp_path):
    """sw: 5 FTE at £40,000, 1,000 h each, no hiring, at most 1 FTE released a year, £10,000
    redundancy each. help (in-house, 100 h a unit, £100, gain 1) has need for 10 units only:
    1 FTE's work. grant (external, £100 a unit, gain 0.5, 500 base units, need 10,000) takes
    whatever money staff do not. general: £260,000 a year."""
    c = mk.Case()
    c.set("needs", dict(level="emerging"), population_base=10, arrivals_per_year=10)
    c.set("needs", dict(level="crisis"), population_base=10000, arrivals_per_year=10000)
    c.set("harms", dict(level="emerging"), harm_per_person_year=2)
    c.set("gains", dict(service="help"), gain_per_unit=1)
    c.set("services", dict(service="help"), base_units=10)
    c.add("services", service="grant", cohort="people", level="crisis", people_per_unit=1, base_units=500,
          min_units=0, max_units=10000, tags="grant")
    c.add("gains", service="grant", domain="wellbeing", gain_per_unit=0.5)
    c.add("mechanisms", mechanism="grant_vcs", transaction_rate=0, lead_years=0)
    c.add("options", service="grant", mechanism="grant_vcs", current="true", unit_cost=100)
    c.set("funding", dict(stream="general"), base_amount=260000)
    role(c, fte_base=5, max_release=1)
    c.add("option_staff", service="help", mechanism="in_house", role="sw", hours_per_unit=100)
    return c.load(tmp_path)


def test_release_is_limited_per_year_and_charged_redundancy(overstaffed):
    # Releasing an FTE saves 40,000 a year for 10,000 once: worth it in every year, but at most
    # 1 a year: fte 4, 3, 2 (only 1 is needed). Redundancy 10,000 a year.
    # grant = (260,000 - staff 40,000 fte - redundancy 10,000 - help 10 x 100) / 100:
    #   year 1: (260,000 - 160,000 - 10,000 - 1,000)/100 =   890
    #   year 2: (260,000 - 120,000 - 10,000 - 1,000)/100 = 1,290
    #   year 3: (260,000 -  80,000 - 10,000 - 1,000)/100 = 1,690
    plan = mk.run(overstaffed, "redesign")
    wf = plan.tables["workforce"]
    assert mk.series(wf, "fte") == mk.approx([4, 3, 2])
    assert mk.series(wf, "releases") == mk.approx([1, 1, 1])
    assert mk.series(wf, "redundancy_cost") == mk.approx([10000] * 3)
    assert mk.series(wf, "staff_cost") == mk.approx([160000, 120000, 80000])
    assert mk.series(plan.tables["spend"], "staff") == mk.approx([170000, 130000, 90000])
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([10] * 3)
    assert mk.series(plan.tables["units"], "units", service="grant") == mk.approx([890, 1290, 1690])
    assert plan.summary["fte_change"] == mk.approx(-3)


def test_salami_cuts_fte_as_fast_as_release_limits_allow(overstaffed):
    # Salami at 50%: target fte 2.5, at most 1 released a year -> 4, 3, 2.5; redundancy
    # 10,000, 10,000, 5,000. (Money is short -- 130,000 against 195,500 -- so nothing more.)
    plan = mk.run(overstaffed, "salami", 0.5)
    wf = plan.tables["workforce"]
    assert mk.series(wf, "fte") == mk.approx([4, 3, 2.5])
    assert mk.series(wf, "redundancy_cost") == mk.approx([10000, 10000, 5000])
    assert mk.series(plan.tables["units"], "units", service="grant") == mk.approx([250] * 3)
    # spend 500 + 25,000 direct + staff: 195,500 / 155,500 / 130,500 against 130,000
    assert plan.summary["overspend_nominal"] == mk.approx(65500 + 25500 + 500, rel=1e-5)


def test_salami_fte_follows_the_cut_when_money_is_slack(tmp_path):
    # 5 FTE at £1,000 (cheap: money is never short), at most 1 released a year, no duty.
    # Salami at 50%: target 2.5 -> fte 4, 3, 2.5, whatever the money.
    c = mk.Case()
    role(c, fte_base=5, cost_per_fte=1000, max_hire=1, max_release=1, redundancy_cost=100)
    c.add("option_staff", service="help", mechanism="in_house", role="sw", hours_per_unit=10)
    plan = mk.run(c.load(tmp_path), "salami", 0.5)
    assert mk.series(plan.tables["workforce"], "fte") == mk.approx([4, 3, 2.5])
