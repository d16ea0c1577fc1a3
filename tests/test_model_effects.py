"""Effects by channel (need_flow): escalation and persistence told apart, effects fading with the
lag, and diminishing returns past full_effect_units (full_effect).

Built on tests/modelkit.Case: people/emerging (100 in the base year) served by `help` (50 units
in the status quo, one person a unit), people/crisis with no service. Horizon 3, no discounting.
"""
from __future__ import annotations

import pytest

import modelkit as mk


def flows(c: mk.Case, persistence: float = 0.5, escalation: float = 0.2, lag: int = 1) -> mk.Case:
    """emerging -> emerging (rate `persistence`, lag 1) and emerging -> crisis (rate `escalation`, `lag`)."""
    c.replace("transitions", [
        dict(from_cohort="people", from_level="emerging", to_cohort="people", to_level="emerging", lag_years=1,
             rate=persistence),
        dict(from_cohort="people", from_level="emerging", to_cohort="people", to_level="crisis", lag_years=lag,
             rate=escalation)])
    c.set("needs", dict(level="emerging"), arrivals_per_year=50)
    c.set("needs", dict(level="crisis"), arrivals_per_year=0, population_base=0)
    return c


def test_effect_escalation_cuts_escalation_not_persistence(tmp_path):
    # effect_escalation 0.4 on 50 served: 20 people kept off the escalation (rate 0.2): 4 fewer in
    # crisis a year; persistence untouched. Base year: emerging source 100 for persistence,
    # 100 - 20 = 80 for escalation.
    #   emerging: y1 = 50 + 0.5 x 100 = 100, and 100 every year after
    #   crisis:   y = 0.2 x (100 - 20) = 16 every year
    c = flows(mk.Case())
    c.set("options", dict(service="help"), effect_escalation=0.4)
    need = mk.run(c.load(tmp_path), "status_quo").tables["need"]
    assert mk.series(need, "need", level="emerging") == mk.approx([100.0] * 3)
    assert mk.series(need, "need", level="crisis") == mk.approx([16.0] * 3)


def test_effect_resolution_cuts_persistence_only(tmp_path):
    # effect_resolution 0.4: 20 of the 50 served leave emerging need instead of staying:
    #   emerging: y1 = 50 + 0.5 x (100 - 20) = 90; y2 = 50 + 0.5 x (90 - 20) = 85; y3 = 82.5
    #   crisis:   y1 = 0.2 x 100 = 20; y2 = 0.2 x 90 = 18; y3 = 0.2 x 85 = 17
    c = flows(mk.Case())
    c.set("options", dict(service="help"), effect_resolution=0.4)
    need = mk.run(c.load(tmp_path), "status_quo").tables["need"]
    assert mk.series(need, "need", level="emerging") == mk.approx([90.0, 85.0, 82.5])
    assert mk.series(need, "need", level="crisis") == mk.approx([20.0, 18.0, 17.0])


def test_a_transition_channel_can_be_set(tmp_path):
    # The same persistence move marked channel=escalation is cut by effect_escalation instead.
    c = flows(mk.Case())
    c.set("transitions", dict(to_level="emerging"), channel="escalation")
    c.set("options", dict(service="help"), effect_escalation=0.4)
    need = mk.run(c.load(tmp_path), "status_quo").tables["need"]
    assert mk.series(need, "need", level="emerging") == mk.approx([90.0, 85.0, 82.5])


def test_effect_fade_with_the_lag(tmp_path):
    # escalation after 3 years; effect 0.4 fading 50% a year beyond the first: 0.4 x 0.5^2 = 0.1.
    # 50 served -> 5 kept off; crisis every year = 0.2 x (100 - 5) = 19 (the base year stands in
    # for every source year <= 0).
    c = flows(mk.Case(), lag=3)
    c.set("options", dict(service="help"), effect_escalation=0.4, effect_fade=0.5)
    need = mk.run(c.load(tmp_path), "status_quo").tables["need"]
    assert mk.series(need, "need", level="crisis") == mk.approx([19.0] * 3)


def test_full_effect_units_past_them_the_effect_halves(tmp_path):
    # help at 80 units (a floor and a ceiling: the status quo with base 80), full_effect_units 60,
    # marginal_effect 0.5, effect_escalation 0.4: 60 x 0.4 + 20 x 0.2 = 28 kept off escalation.
    # Year 1 uses the base year (80 units, 20 beyond): the same 28. crisis = 0.2 x (100 - 28) = 14.4.
    c = flows(mk.Case())
    c.set("services", dict(service="help"), base_units=80, full_effect_units=60, marginal_effect=0.5)
    c.set("options", dict(service="help"), effect_escalation=0.4)
    plan = mk.run(c.load(tmp_path), "status_quo")
    assert mk.series(plan.tables["need"], "need", level="crisis") == mk.approx([14.4] * 3)
    assert mk.series(plan.tables["units"], "units_beyond_full_effect", service="help") == mk.approx([20.0] * 3)


def test_diminishing_returns_default_is_base_units_at_half_effect(tmp_path):
    # Not given: full_effect_units = base units (50), marginal_effect 0.5. The redesign serves all
    # 100 in emerging need from year 1 (plenty of money, gain 0.5 a unit): 50 at 0.4 and 50 at 0.2
    # -> 30 kept off; crisis y2 = 0.2 x (100 - 30) = 14 (y1 uses the base year: 0.2 x (100 - 20)).
    c = flows(mk.Case())
    c.replace("services", [dict(service="help", cohort="people", level="emerging", people_per_unit=1,
                                base_units=50, min_units=0, max_units=1000, building_types="", tags="early_help")])
    c.set("options", dict(service="help"), effect_escalation=0.4)
    plan = mk.run(c.load(tmp_path), "redesign")
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([100.0] * 3)
    assert mk.series(plan.tables["need"], "need", level="crisis")[:2] == mk.approx([16.0, 14.0])
