"""Time beyond the decisions (evaluation years) and a sustainable budget (no reserves from year H on).

Built on tests/modelkit.Case (horizon 3, no discounting).
"""
from __future__ import annotations

import pytest

import modelkit as mk


def lagged(c: mk.Case) -> mk.Case:
    """help gains nothing by itself; its only worth is escalation kept off a lag-3 link from
    emerging need (rate 0.5) into crisis, which harms 10 a person-year. Money is plentiful."""
    c.replace("transitions", [dict(from_cohort="people", from_level="emerging", to_cohort="people",
                                   to_level="crisis", lag_years=3, rate=0.5)])
    c.set("gains", dict(service="help"), gain_per_unit=0)
    c.set("options", dict(service="help"), effect_escalation=0.5)
    c.set("harms", dict(level="crisis"), harm_per_person_year=10)
    c.set("needs", dict(level="crisis"), arrivals_per_year=0, population_base=0)
    return c


def test_without_evaluation_years_a_lag_longer_than_the_years_left_is_never_valued(tmp_path):
    # Horizon 3 and nothing modelled after it: help bought in any year changes crisis need only
    # from year 4 on, which nobody sees; the cheapest plan buys none.
    plan = mk.run(lagged(mk.Case()).load(tmp_path), "redesign")
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([0.0] * 3)


def test_evaluation_years_make_early_help_in_the_last_horizon_year_worth_buying(tmp_path):
    # evaluation_years left to its default: horizon + the longest lag = 6. Help bought in year 3
    # keeps 0.5 x 0.5 x 100 = 25 people out of crisis in year 6, worth 250 of harm: it is bought in
    # full (all 100 in emerging need) in every year, the last decision year included.
    c = lagged(mk.Case())
    c.meta["evaluation_years"] = None
    plan = mk.run(c.load(tmp_path), "redesign")
    u = plan.tables["units"]
    assert sorted(set(u["year"])) == [1, 2, 3, 4, 5, 6]
    assert mk.series(u, "units", service="help")[:3] == mk.approx([100.0] * 3)
    assert plan.summary["evaluation_years"] == 6 and plan.summary["horizon_years"] == 3
    assert list(plan.tables["spend"]["phase"]) == ["decision"] * 3 + ["evaluation"] * 3


def test_evaluation_years_keep_the_structure_chosen_by_the_horizon(tmp_path):
    # A building that may close: closed or open, its year-3 state holds in years 4-6.
    c = mk.Case()
    c.meta["evaluation_years"] = 6
    c.add("buildings", building="hall", type="hall", owner="council", hours_available=100, fixed_cost=5000,
          can_close="true", closure_cost=0, capital_receipt=0)
    plan = mk.run(c.load(tmp_path), "redesign")
    opened = mk.series(plan.tables["buildings"], "open", building="hall")
    assert opened[3:] == [opened[2]] * 3
    assert opened == [0.0] * 6  # nothing uses it: closed from year 1, never reopened


def reserves_case(c: mk.Case) -> mk.Case:
    """Money £4,000 a year, spend £5,000 (help fixed at 50 units, at £100); £10,000 of usable reserves."""
    c.set("funding", dict(stream="general"), base_amount=4000)
    c.meta["reserves"] = {"opening": 10000, "minimum": 0, "flexible_capital_receipts": False}
    c.set("services", dict(service="help"), min_units=50, max_units=50)
    return c


def test_a_plan_cannot_draw_reserves_in_year_h(tmp_path):
    # The £1,000 a year gap: reserves pay it in years 1 and 2 (transition years); from year 3 (the
    # horizon) the plan must live within its money, so year 3 shows £1,000 of overspend.
    plan = mk.run(reserves_case(mk.Case()).load(tmp_path), "redesign")
    st = plan.tables["streams"]
    assert mk.series(st, "reserves_drawn", stream="general") == mk.approx([1000.0, 1000.0, 0.0])
    assert mk.series(st, "overspend", stream="general") == mk.approx([0.0, 0.0, 1000.0])
    assert plan.summary["sustainable"] is False
    assert plan.summary["overspend_from_horizon"] == pytest.approx(1000.0, abs=1.0)


def test_overspend_shows_on_the_stream_that_was_cut(tmp_path):
    # A grant that was not cut pays help too; the cut general fund is where the overspend shows.
    c = mk.Case()
    c.add("funding", stream="grant", base_amount=3000, subject_to_cut="false", scope="*", overheads="false",
          poolable="false", pooled_scope="", pooling_cost=0, partner="government")
    c.set("funding", dict(stream="general"), base_amount=2000)
    c.set("services", dict(service="help"), base_units=60, min_units=60, max_units=60)  # £6,000 against £5,000
    plan = mk.run(c.load(tmp_path), "redesign")
    st = plan.tables["streams"]
    assert mk.series(st, "overspend", stream="grant") == mk.approx([0.0] * 3)
    assert mk.series(st, "overspend", stream="general") == mk.approx([1000.0] * 3)


def test_outcome_discount_rate_is_its_own(tmp_path):
    # Money at 3.5%, outcomes at 1.5%: the outcomes table's factors are 1.015^-y.
    c = mk.Case()
    c.meta["discount_rate"] = 0.035
    c.meta["outcome_discount_rate"] = 0.015
    plan = mk.run(c.load(tmp_path), "status_quo")
    assert list(plan.tables["outcomes"]["discount_factor"]) == mk.approx([1.015 ** -y for y in (1, 2, 3)])
    assert list(plan.tables["spend"]["discount_factor"]) == mk.approx([1.035 ** -y for y in (1, 2, 3)])
