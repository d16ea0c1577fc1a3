"""Money block: ring fences, pooling, the cut on streams subject to it, reserves.

Instances start from tests/modelkit.Case. Overspend is minimised first and held at its least
value plus 1e-6 relative (or 1e-6 model units), so "no overspend" is checked to the pound.
"""
from __future__ import annotations

import pytest

import modelkit as mk

POUND = 1.0  # "no overspend": to the pound (the overspend hold allows 1e-6 model units)


def two_streams(c: mk.Case, *, general: float, bcf: float, help_need: float, care_need: float,
                care_gain: float = 0.5, poolable: bool = False, pooling_cost: float = 0) -> mk.Case:
    """help (tag early_help, people/emerging) and care (tag adult_care, people/crisis), both
    in-house at £100 a unit, no transitions. general pays early_help only (and overheads);
    bcf pays adult_care only, is not cut, and may be pooled into early_help."""
    c.set("needs", dict(level="emerging"), population_base=help_need, arrivals_per_year=help_need)
    c.set("needs", dict(level="crisis"), population_base=care_need, arrivals_per_year=care_need)
    c.add("services", service="care", cohort="people", level="crisis", people_per_unit=1, base_units=10,
          min_units=0, max_units=10000, tags="adult_care")
    c.add("gains", service="care", domain="wellbeing", gain_per_unit=care_gain)
    c.add("options", service="care", mechanism="in_house", current="true", unit_cost=100)
    c.set("funding", dict(stream="general"), base_amount=general, scope="early_help")
    c.add("funding", stream="bcf", base_amount=bcf, subject_to_cut="false", scope="adult_care", overheads="false",
          poolable=str(poolable).lower(), pooled_scope="early_help", pooling_cost=pooling_cost, partner="nhs")
    return c


# --- ring fence --------------------------------------------------------------------------------

@pytest.fixture
def ring_fenced(tmp_path):
    # general £100,000 for early_help; bcf £5,000 for adult_care. help need 100, care need 1,000.
    c = two_streams(mk.Case(), general=100000, bcf=5000, help_need=100, care_need=1000)
    return c.load(tmp_path)


def test_ring_fence_limits_a_service_to_the_streams_that_may_pay_it(ring_fenced):
    # care can only be paid by bcf: 5,000 / 100 = 50 units, although general has
    # 100,000 - 100 x 100 = 90,000 left over every year. help serves all its 100.
    plan = mk.run(ring_fenced, "redesign")
    units = plan.tables["units"]
    assert mk.series(units, "units", service="care") == mk.approx([50] * 3)
    assert mk.series(units, "units", service="help") == mk.approx([100] * 3)
    assert plan.summary["overspend_nominal"] == mk.approx(0, abs=POUND)
    funding = plan.tables["funding"]
    assert not ((funding["stream"] == "general") & (funding["service"] == "care")).any()
    assert funding[funding["service"] == "care"]["amount"].sum() == mk.approx(15000, abs=POUND)


def test_cut_applies_only_to_streams_subject_to_it(ring_fenced):
    # Cut 40%: general (subject_to_cut) has 60,000; bcf (partner money, not subject) keeps 5,000,
    # so care still gets its 50 units and help its 100 (10,000 <= 60,000).
    for model in ("salami", "redesign"):
        plan = mk.run(ring_fenced, model, 0.4)
        streams = plan.tables["streams"]
        assert mk.series(streams, "available", stream="general") == mk.approx([60000] * 3)
        assert mk.series(streams, "available", stream="bcf") == mk.approx([5000] * 3)
    assert mk.series(plan.tables["units"], "units", service="care") == mk.approx([50] * 3)
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([100] * 3)


# --- pooling -----------------------------------------------------------------------------------------

def pooled_case(tmp_path, pooling_cost):
    # general £10,000 (early_help + overheads); bcf £10,000 (adult_care), poolable into early_help.
    # care: need 50, gain 0.8 a unit (better than help's 0.5): always its 50 units = 5,000 of bcf.
    # help: need 1,000, so money limits it.
    c = two_streams(mk.Case(), general=10000, bcf=10000, help_need=1000, care_need=50, care_gain=0.8,
                    poolable=True, pooling_cost=pooling_cost)
    return c.load(tmp_path, name=f"pool{pooling_cost}")


def test_pooling_is_chosen_when_worth_its_cost(tmp_path):
    # Pooling costs 2,000 a year, paid from general (an overhead): help = (10,000 - 2,000)/100
    # + bcf's spare 5,000/100 = 80 + 50 = 130 units, against 100 unpooled.
    inst = pooled_case(tmp_path, 2000)
    plan = mk.run(inst, "redesign")
    assert bool(mk.value(plan.tables["pooling"], "pooled", stream="bcf")) is True
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([130] * 3)
    assert mk.series(plan.tables["units"], "units", service="care") == mk.approx([50] * 3)
    assert mk.series(plan.tables["spend"], "pooling") == mk.approx([2000] * 3)
    funding = plan.tables["funding"]
    assert mk.series(funding, "amount", stream="bcf", service="help") == mk.approx([5000] * 3)
    assert mk.series(funding, "amount", stream="general", service="overheads") == mk.approx([2000] * 3)
    # the pooling lever off: no pooling, help 100
    off = mk.run(inst, mk.spec(pooling=False))
    assert bool(mk.value(off.tables["pooling"], "pooled", stream="bcf")) is False
    assert mk.series(off.tables["units"], "units", service="help") == mk.approx([100] * 3)


def test_pooling_is_not_chosen_when_it_costs_more_than_it_frees(tmp_path):
    # Pooling at 8,000 a year: help = 2,000/100 + 50 = 70 units < 100 unpooled: do not pool.
    plan = mk.run(pooled_case(tmp_path, 8000), "redesign")
    assert bool(mk.value(plan.tables["pooling"], "pooled", stream="bcf")) is False
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([100] * 3)
    assert mk.series(plan.tables["spend"], "pooling") == mk.approx([0] * 3)
    funding = plan.tables["funding"]
    assert funding[(funding["stream"] == "bcf") & (funding["service"] == "help")]["amount"].sum() == mk.approx(0, abs=POUND)


# --- reserves: invest to save ----------------------------------------------------------------------

@pytest.fixture
def invest_to_save(tmp_path):
    """One statutory service, care: 100 people in crisis a year (coverage 1), in-house £100 a unit,
    so the status quo spends exactly the £10,000 a year there is. A new option care/grant costs
    £60 a unit with quality 1.2 (better), but £6,000 to set up in year 1. Reserves: £5,000."""
    c = mk.Case()
    c.meta["reserves"] = {"opening": 5000, "minimum": 0, "flexible_capital_receipts": False}
    c.drop("services", service="help").drop("options", service="help").drop("gains", service="help")
    c.set("needs", dict(level="crisis"), statutory_coverage=1, population_base=100, arrivals_per_year=100)
    c.add("services", service="care", cohort="people", level="crisis", people_per_unit=1, base_units=100,
          min_units=0, max_units=1000, tags="statutory")
    c.add("gains", service="care", domain="wellbeing", gain_per_unit=0.5)
    c.add("options", service="care", mechanism="in_house", current="true", unit_cost=100)
    c.add("mechanisms", mechanism="grant", transaction_rate=0, lead_years=0)
    c.add("options", service="care", mechanism="grant", current="false", unit_cost=60, quality=1.2, setup_cost=6000)
    c.set("funding", dict(stream="general"), base_amount=10000)
    return c.load(tmp_path)


def test_reserves_bridge_an_invest_to_save_gap(invest_to_save):
    # Redesign: year 1 = setup 6,000 + 100 x 60 = 12,000 against 10,000: reserves bridge >= 2,000.
    # Years 2-3: 6,000. Cumulative spend 12,000 / 18,000 / 24,000 against the status quo's
    # 10,000 / 20,000 / 30,000: at or below it from year 2 on -> payback_year 2.
    # Outcome gain rises by 100 x 0.5 x 0.2 = 10 a year: 150 -> 180.
    plan = mk.run(invest_to_save, "redesign")
    assert bool(mk.value(plan.tables["options"], "adopted", mechanism="grant")) is True
    assert mk.series(plan.tables["units"], "units", mechanism="grant") == mk.approx([100] * 3)
    assert mk.series(plan.tables["spend"], "total") == mk.approx([12000, 6000, 6000])
    drawn = mk.series(plan.tables["reserves"], "drawn")
    assert drawn[0] >= 2000 - POUND
    assert sum(drawn) <= 5000 + POUND
    assert plan.summary["overspend_nominal"] == mk.approx(0, abs=POUND)
    assert plan.summary["payback_year"] == 2
    assert plan.summary["outcome_gain"] == mk.approx(180)


def test_without_reserves_the_invest_to_save_cannot_start(invest_to_save):
    # Reserves lever off: adopting would overspend 2,000 in year 1, and the least overspend (0)
    # comes first, so the plan stays in-house: 100 units at £100, no draw, gain 150.
    plan = mk.run(invest_to_save, mk.spec(reserves=False))
    assert bool(mk.value(plan.tables["options"], "adopted", mechanism="grant")) is False
    assert mk.series(plan.tables["units"], "units", mechanism="in_house") == mk.approx([100] * 3)
    assert mk.series(plan.tables["reserves"], "drawn") == mk.approx([0] * 3)
    assert plan.summary["overspend_nominal"] == mk.approx(0, abs=POUND)
    assert plan.summary["outcome_gain"] == mk.approx(150)


def test_reserves_drawn_are_only_what_the_plan_spends_above_its_money(invest_to_save):
    # The redesign spends 12,000 in year 1 against 10,000: it needs 2,000 of the reserves, not
    # the 5,000 there are; nothing is needed in years 2-3.
    plan = mk.run(invest_to_save, "redesign")
    assert mk.series(plan.tables["reserves"], "drawn") == mk.approx([2000, 0, 0], abs=POUND)
    assert mk.series(plan.tables["reserves"], "available_cumulative") == mk.approx([3000] * 3, abs=POUND)
