"""Buildings block: closure one way, closure cost, capital receipts, extended hours on partner sites.

The area (tests/modelkit.Case, changed): help is a youth service at people/emerging, 10
building hours a unit, £10 a unit besides the building, gain 20 a unit (harm 40); it can run in a
council hub or a partner school. grant (people/crisis, external, £100 a unit, gain 0.5, need
10,000) takes whatever money buildings do not, so every pound saved shows as grant units.
general: £100,000 a year. Horizon 3, discount 0.

  hub:    council, 1,000 h a year, £20,000 a year open + £5 an hour, may close (closure £5,000,
          capital receipt £50,000), no extended hours
  school: partner, 0 ordinary hours, 500 extended hours at £15 an hour, cannot close
"""
from __future__ import annotations

import pytest

import modelkit as mk

POUND = 1.0  # "no overspend": to the pound (the overspend hold allows 1e-6 model units)


def area(flexible: bool = False, receipt: float = 50000, need_jump: bool = False) -> mk.Case:
    c = mk.Case()
    c.meta["reserves"] = {"opening": 0, "minimum": 0, "flexible_capital_receipts": flexible}
    c.set("needs", dict(level="emerging"), population_base=40, arrivals_per_year=40)
    c.set("needs", dict(level="crisis"), population_base=10000, arrivals_per_year=10000)
    c.set("harms", dict(level="emerging"), harm_per_person_year=40)
    c.set("gains", dict(service="help"), gain_per_unit=20)
    c.set("services", dict(service="help"), base_units=40, building_types="hub;school")
    c.set("options", dict(service="help"), unit_cost=10)
    c.add("option_buildings", service="help", mechanism="in_house", hours_per_unit=10)
    c.add("services", service="grant", cohort="people", level="crisis", people_per_unit=1, base_units=500,
          min_units=0, max_units=10000, tags="grant")
    c.add("gains", service="grant", domain="wellbeing", gain_per_unit=0.5)
    c.add("mechanisms", mechanism="grant_vcs", transaction_rate=0, lead_years=0)
    c.add("options", service="grant", mechanism="grant_vcs", current="true", unit_cost=100)
    c.add("buildings", building="hub", type="hub", owner="council", hours_available=1000, fixed_cost=20000,
          cost_per_hour=5, can_close="true", closure_cost=5000, capital_receipt=receipt, extendable_hours=0,
          extended_cost_per_hour=0)
    c.add("buildings", building="school", type="school", owner="school", hours_available=0, fixed_cost=0,
          cost_per_hour=0, can_close="false", closure_cost=0, capital_receipt=0, extendable_hours=500,
          extended_cost_per_hour=15)
    if need_jump:
        # babies (600 a year from year 1, none in the base year) reach youth need 2 years later at
        # rate 0.1: youth need = 40 + 0.1 x 0 = 40 in years 1-2 and 40 + 0.1 x 600 = 100 in year 3.
        c.add("cohorts", cohort="babies", age_from=-0.75, age_to=0)
        c.add("needs", cohort="babies", level="emerging", population_base=0, arrivals_per_year=600)
        c.add("transitions", from_cohort="babies", from_level="emerging", to_cohort="people",
              to_level="emerging", lag_years=2, rate=0.1)
    return c


@pytest.mark.parametrize("flexible", [True, False])
def test_hub_closes_and_youth_work_moves_to_the_school_after_hours(tmp_path, flexible):
    # Keeping the hub: 20,000 + 400 h x 5 = 22,000 a year. Closing it in year 1: 5,000 once, then
    # 400 extended school hours x 15 = 6,000 a year. Youth work (40 units, 400 h) carries on.
    # grant = (100,000 - buildings - 400 youth direct) / 100:
    #   year 1: (100,000 - 5,000 - 6,000 - 400) / 100 = 886;  years 2-3: (100,000 - 6,400)/100 = 936
    #   (keeping the hub would give (100,000 - 22,400)/100 = 776 a year)
    # The £50,000 capital receipt is money for the plan only with flexible_capital_receipts:
    #   flexible: drawn in full, 500 more grant units over the horizon; otherwise drawn: 0.
    plan = mk.run(area(flexible).load(tmp_path), "redesign")
    bd = plan.tables["buildings"]
    assert mk.series(bd, "open", building="hub") == [0, 0, 0]
    assert mk.series(bd, "closure_cost", building="hub") == mk.approx([5000, 0, 0])
    assert mk.series(bd, "capital_receipt", building="hub") == mk.approx([50000, 0, 0])
    assert mk.series(bd, "fixed_cost", building="hub") == mk.approx([0, 0, 0])
    assert mk.series(bd, "extended_hours", building="school") == mk.approx([400] * 3)
    assert mk.series(bd, "extended_cost", building="school") == mk.approx([6000] * 3)
    use = plan.tables["building_use"]
    assert mk.series(use, "hours", service="help", building="school") == mk.approx([400] * 3)
    assert mk.series(use, "hours", service="help", building="hub") == mk.approx([0] * 3)
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([40] * 3)
    assert mk.series(plan.tables["spend"], "buildings") == mk.approx([11000, 6000, 6000])
    assert plan.summary["buildings_closed"] == 1
    grant = mk.series(plan.tables["units"], "units", service="grant")
    reserves = plan.tables["reserves"]
    if flexible:
        assert mk.series(reserves, "receipts") == mk.approx([50000, 0, 0])
        assert sum(mk.series(reserves, "drawn")) == mk.approx(50000, abs=POUND)
        assert sum(grant) == mk.approx(886 + 936 + 936 + 500)
    else:
        assert mk.series(reserves, "receipts") == mk.approx([0, 0, 0])
        assert mk.series(reserves, "drawn") == mk.approx([0, 0, 0], abs=POUND)
        assert grant == mk.approx([886, 936, 936])


def test_closure_is_one_way(tmp_path):
    # Youth need is 40, 40, then 100 (1,000 h) in year 3: more than the school's 500 extended hours.
    # No receipt, no flexible use. Outcome = 20 x youth units + 0.5 x grant units:
    #   keep the hub open [1,1,1]: youth 40+40+100 = 180 -> 3,600; grant 776 + 776 +
    #     (100,000 - 20,000 - 5,000 - 1,000)/100 = 740 -> 2,292 x 0.5 = 1,146; total 4,746
    #   close in year 1 [0,0,0]: youth 40+40+50 -> 2,600; grant 886 + 936 +
    #     (100,000 - 7,500 - 500)/100 = 920 -> 1,371; total 3,971 (closing in year 2 or 3: less)
    #   re-opening [0,0,1] would be best of all (4,906) if closing were not one way.
    plan = mk.run(area(need_jump=True, receipt=0).load(tmp_path), "redesign")
    assert mk.series(plan.tables["need"], "need", cohort="people", level="emerging") == mk.approx([40, 40, 100])
    bd = plan.tables["buildings"]
    assert mk.series(bd, "open", building="hub") == [1, 1, 1]
    assert mk.series(bd, "hours_used", building="hub") == mk.approx([400, 400, 1000])
    assert mk.series(bd, "extended_hours", building="school") == mk.approx([0, 0, 0])
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([40, 40, 100])
    assert mk.series(plan.tables["units"], "units", service="grant") == mk.approx([776, 776, 740])
    assert plan.summary["buildings_closed"] == 0


def test_salami_keeps_every_building_open(tmp_path):
    # The buildings lever off: the hub stays open (20,000 + 400 x 5 a year) and no extended hours.
    plan = mk.run(area().load(tmp_path), "salami", 0.1)
    bd = plan.tables["buildings"]
    assert mk.series(bd, "open", building="hub") == [1, 1, 1]
    assert mk.series(bd, "extended_hours", building="school") == mk.approx([0, 0, 0])
    # youth cut by 10%: 36 units, 360 hub hours
    assert mk.series(bd, "hours_used", building="hub") == mk.approx([360] * 3)
    assert mk.series(plan.tables["spend"], "buildings") == mk.approx([21800] * 3)


def test_status_quo_of_youth_work_already_in_a_school_after_hours(tmp_path):
    # No council hub: youth work (40 units, 400 h) runs in the school's extended hours today.
    # The status quo continues it: 400 extended hours a year at £15 = 6,000.
    c = area().drop("buildings", building="hub")
    c.set("services", dict(service="help"), building_types="school")
    plan = mk.run(c.load(tmp_path), "status_quo", expect=None)
    assert plan.status == "optimal"
    assert mk.series(plan.tables["buildings"], "extended_hours", building="school") == mk.approx([400] * 3)
