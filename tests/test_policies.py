"""The historic answers to a cut as policies on the one model (policies/levers.py).

thresholds, procurement_squeeze, back_office and freeze_posts each find the saving
cut x (base money of the streams subject to the cut) their own way; whatever they do not
find, or a statutory duty forces back, shows as overspend. Instances start from
tests/modelkit.Case (one cohort, horizon 3, discount 0) and the answers are worked out by
hand in the comments. The last tests run every shipped model file on instances/tiny and
instances/shire_county at a 25% cut and check the plan with the independent verifier.

Two rules change coefficients (procurement_squeeze: prices and quality; freeze_posts:
redundancy cost): their model is built on `spec.transform(instance)`, which `engine_for`
does here (and the Engine does for itself once it routes such specs).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import modelkit as mk
from commissionopt.data.load import load_instance
from commissionopt.errors import InputError
from commissionopt.model.build import build_model
from commissionopt.model.index import cut_by_year
from commissionopt.policies.levers import apply_policy
from commissionopt.policies.spec import POLICIES, builtin_spec, parse_spec
from commissionopt.runs.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
NEW = ("thresholds", "procurement_squeeze", "back_office", "freeze_posts")


def engine_for(inst, spec) -> Engine:
    """The engine a spec runs on: built on the rule's changed copy of the instance, if any."""
    return Engine(spec.transform(inst))


def run(inst, name, cut, expect="optimal"):
    spec = builtin_spec(name)
    return mk.run(inst, spec, cut, engine=engine_for(inst, spec), expect=expect)


def overspend_by_year(plan) -> list[float]:
    st = plan.tables["streams"]
    return [float(st[st["year"] == y]["overspend"].sum()) for y in sorted(st["year"].unique())]


# --- thresholds -------------------------------------------------------------------------------

@pytest.fixture
def ladder(tmp_path):
    """people at three levels: universal < emerging < crisis (statutory, coverage 1).

    uni (universal) and help (emerging): in-house, £100 a unit, 100 base units each;
    care (crisis): in-house, £200 a unit, 50 base units. Base spend 10,000 + 10,000 + 10,000
    = the £30,000 of `general`. help has effect 1 and unmet emerging need escalates to crisis
    a year later at rate 0.2; in the base year help served all 100, so nothing escalated."""
    c = mk.Case()
    c.meta["levels"] = ["universal", "emerging", "crisis"]
    c.replace("needs", [
        dict(cohort="people", level="universal", population_base=100, arrivals_per_year=100,
             arrivals_growth=0, statutory_coverage=0, future_cost=0),
        dict(cohort="people", level="emerging", population_base=100, arrivals_per_year=100,
             arrivals_growth=0, statutory_coverage=0, future_cost=0),
        dict(cohort="people", level="crisis", population_base=50, arrivals_per_year=50,
             arrivals_growth=0, statutory_coverage=1, future_cost=0)])
    c.replace("transitions", [dict(from_cohort="people", from_level="emerging", to_cohort="people",
                                   to_level="crisis", lag_years=1, rate=0.2)])
    c.replace("harms", [
        dict(cohort="people", level="universal", domain="wellbeing", harm_per_person_year=0.5),
        dict(cohort="people", level="emerging", domain="wellbeing", harm_per_person_year=1),
        dict(cohort="people", level="crisis", domain="wellbeing", harm_per_person_year=4)])
    c.replace("services", [
        dict(service="uni", cohort="people", level="universal", people_per_unit=1, base_units=100,
             min_units=0, max_units=1000, building_types="", tags="community"),
        dict(service="help", cohort="people", level="emerging", people_per_unit=1, base_units=100,
             min_units=0, max_units=1000, building_types="", tags="early_help"),
        dict(service="care", cohort="people", level="crisis", people_per_unit=1, base_units=50,
             min_units=0, max_units=1000, building_types="", tags="statutory")])
    c.replace("gains", [dict(service=s, domain="wellbeing", gain_per_unit=0.5) for s in ("uni", "help", "care")])
    c.replace("options", [
        dict(service="uni", mechanism="in_house", current="true", unit_cost=100, quality=1, effect_escalation=0,
             failure_demand=0, setup_cost=0, max_share=1),
        dict(service="help", mechanism="in_house", current="true", unit_cost=100, quality=1, effect_escalation=1,
             failure_demand=0, setup_cost=0, max_share=1),
        dict(service="care", mechanism="in_house", current="true", unit_cost=200, quality=1, effect_escalation=0,
             failure_demand=0, setup_cost=0, max_share=1)])
    c.set("funding", dict(stream="general"), base_amount=30000)
    return c.load(tmp_path)


def test_thresholds_withdraw_the_universal_level_first(ladder):
    # cut 0.25: saving 0.25 x 30,000 = 7,500 a year. uni (universal, lowest) is worth
    # 100 x £100 = 10,000, more than the saving: it gives up 7,500 / 10,000 = 75% -> 25 units;
    # help (emerging) keeps its 100 units, so nobody escalates and care stays at 50.
    # Spend 2,500 + 10,000 + 10,000 = 22,500 = the money after the cut: no overspend.
    plan = run(ladder, "thresholds", 0.25)
    u = plan.tables["units"]
    assert mk.series(u, "units", service="uni") == mk.approx([25] * 3)
    assert mk.series(u, "units", service="help") == mk.approx([100] * 3)
    assert mk.series(u, "units", service="care") == mk.approx([50] * 3)
    assert plan.summary["overspend"] == mk.approx(0)


def test_thresholds_reach_the_emerging_level_and_the_duty_forces_an_overspend(ladder):
    # cut 0.5: saving 15,000 a year. uni is withdrawn whole (10,000); the 5,000 left comes
    # from help: 5,000 / 10,000 = half -> 50 units. Crisis need: year 1 = 50 (the base year
    # had no unmet emerging need); years 2-3 = 50 + 0.2 x (100 - 50) = 60. The duty holds:
    # care = 50, 60, 60 units at £200 = 10,000, 12,000, 12,000.
    # Spend 5,000 + care = 15,000, 17,000, 17,000 against 15,000: overspend 0, 2,000, 2,000.
    plan = run(ladder, "thresholds", 0.5)
    u = plan.tables["units"]
    assert mk.series(u, "units", service="uni") == mk.approx([0] * 3)
    assert mk.series(u, "units", service="help") == mk.approx([50] * 3)
    assert mk.series(plan.tables["need"], "need", level="crisis") == mk.approx([50, 60, 60])
    assert mk.series(u, "units", service="care") == mk.approx([50, 60, 60])
    assert overspend_by_year(plan) == mk.approx([0, 2000, 2000])
    assert plan.summary["overspend"] == mk.approx(4000)


def test_salami_at_the_same_cut_cuts_every_level_alike(ladder):
    # for contrast: salami at 0.5 takes half of uni and of help (50 units each) and the duty
    # alone sets care (50, 60, 60: the same escalation from 50 unserved at emerging)
    plan = run(ladder, "salami", 0.5)
    u = plan.tables["units"]
    assert mk.series(u, "units", service="uni") == mk.approx([50] * 3)
    assert mk.series(u, "units", service="help") == mk.approx([50] * 3)
    assert mk.series(u, "units", service="care") == mk.approx([50, 60, 60])


# --- procurement_squeeze ---------------------------------------------------------------------

@pytest.fixture
def bought(tmp_path):
    """help is bought on a block contract (family block), own is in-house: £100 a unit, 100
    base units and a gain of 1 a unit each, need plenty. general: £20,000 = base spend."""
    c = mk.Case()
    c.set("needs", dict(level="emerging"), population_base=1000, arrivals_per_year=1000)
    c.replace("mechanisms", [dict(mechanism="in_house", transaction_rate=0, lead_years=0, family="in_house"),
                             dict(mechanism="block", transaction_rate=0, lead_years=0, family="block")])
    c.set("services", dict(service="help"), base_units=100)
    c.add("services", service="own", cohort="people", level="emerging", people_per_unit=1, base_units=100,
          min_units=0, max_units=1000, building_types="", tags="early_help")
    c.replace("gains", [dict(service="help", domain="wellbeing", gain_per_unit=1),
                        dict(service="own", domain="wellbeing", gain_per_unit=1)])
    c.replace("options", [
        dict(service="help", mechanism="block", current="true", unit_cost=100, quality=1, effect_escalation=0,
             failure_demand=0, setup_cost=0, max_share=1),
        dict(service="own", mechanism="in_house", current="true", unit_cost=100, quality=1, effect_escalation=0,
             failure_demand=0, setup_cost=0, max_share=1)])
    c.set("funding", dict(stream="general"), base_amount=20000)
    return c.load(tmp_path)


def test_squeeze_lowers_external_prices_and_quality_by_the_share(bought):
    # no cut: units at base. The block contract's price falls 5%: 100 x £95 = 9,500 a year
    # (in-house stays 10,000); its quality falls 5%: gain 100 x 0.95 + 100 x 1 = 195 a year.
    plan = run(bought, "procurement_squeeze", 0.0)
    u = plan.tables["units"]
    assert mk.series(u, "units", service="help") == mk.approx([100] * 3)
    assert mk.series(u, "direct_spend", service="help") == mk.approx([9500] * 3)
    assert mk.series(u, "direct_spend", service="own") == mk.approx([10000] * 3)
    assert mk.series(plan.tables["outcomes"], "gain") == mk.approx([195] * 3)
    assert any("procurement_squeeze" in str(c) for c in plan.inputs["scenario_changes"])


def test_squeeze_counts_toward_the_cut_and_the_rest_is_sliced(bought):
    # cut 0.1: saving 2,000 a year. The squeeze finds 5% of the external base spend 10,000 =
    # 500, i.e. 500 / 20,000 = 0.025 of the money, so salami slices 0.1 - 0.025 = 0.075:
    # 92.5 units each. help 92.5 x £95 = 8,787.5; own 92.5 x £100 = 9,250; together
    # 18,037.5 against 18,000: 37.5 a year over (the slice is taken off squeezed lines).
    # Gain 92.5 x 0.95 + 92.5 = 180.375 a year.
    plan = run(bought, "procurement_squeeze", 0.1)
    u = plan.tables["units"]
    assert mk.series(u, "units", service="help") == mk.approx([92.5] * 3)
    assert mk.series(u, "units", service="own") == mk.approx([92.5] * 3)
    assert mk.series(u, "direct_spend", service="help") == mk.approx([8787.5] * 3)
    assert overspend_by_year(plan) == mk.approx([37.5] * 3)
    assert mk.series(plan.tables["outcomes"], "gain") == mk.approx([180.375] * 3)


def test_squeeze_parameters_come_from_the_rule(bought):
    # price_cut 0.1, quality_cut 0: 100 x £90 = 9,000 a year; gain 100 + 100 = 200
    spec = parse_spec({"name": "hard", "policy": "procurement_squeeze",
                       "rule": {"price_cut": 0.1, "quality_cut": 0}}, "hard")
    plan = mk.run(bought, spec, 0.0, engine=engine_for(bought, spec))
    assert mk.series(plan.tables["units"], "direct_spend", service="help") == mk.approx([9000] * 3)
    assert mk.series(plan.tables["outcomes"], "gain") == mk.approx([200] * 3)


def test_a_data_changing_rule_refuses_a_model_built_on_the_unchanged_instance(bought):
    spec = builtin_spec("procurement_squeeze")
    m, md = build_model(bought)
    with pytest.raises(RuntimeError, match="transform"):
        apply_policy(m, md, spec, cut_by_year(0.1, md.years), bought.levels)
    once = spec.transform(bought)
    assert spec.is_transformed(once) and not spec.is_transformed(bought)
    assert spec.transform(once) is once  # never squeezed twice
    assert list(bought["options"]["unit_cost"]) == [100, 100]  # the original is untouched


# --- back_office --------------------------------------------------------------------------------

def _role(c: mk.Case, **kw) -> mk.Case:
    row = dict(role="sw", fte_base=1, hours_per_fte=1000, cost_per_fte=40000, max_hire=0, max_release=0,
               redundancy_cost=0, agency_cost_per_hour=0, max_agency_hours=0, tags="frontline")
    row.update(kw)
    return c.add("workforce", **row)


def test_back_office_releases_only_support_roles(tmp_path):
    # sw (frontline): 1 FTE of 500 h at £20,000, all of it needed by help (50 units x 10 h).
    # office (support): 2 FTE at £10,000, used by no service, at most 0.5 released a year,
    # £1,000 redundancy each. Base spend: help 5,000 + staff 40,000 = the £45,000 of general.
    # cut 0.2: saving 9,000 a year = 0.45 of the back office's 20,000 -> target 2 x 0.55 = 1.1 FTE,
    # reached as fast as releases allow: 1.5, 1.1, 1.1 (releases 0.5, 0.4, 0). sw and help at base.
    # Spend: 5,000 + 20,000 + office 15,000 / 11,000 / 11,000 + redundancy 500 / 400 / 0
    #      = 40,500, 36,400, 36,000 against 36,000: overspend 4,500, 400, 0.
    c = mk.Case()
    c.set("services", dict(service="help"), base_units=50)
    c.set("funding", dict(stream="general"), base_amount=45000)
    _role(c, role="sw", hours_per_fte=500, cost_per_fte=20000, max_release=1)
    _role(c, role="office", fte_base=2, cost_per_fte=10000, max_release=0.5, redundancy_cost=1000, tags="support")
    c.add("option_staff", service="help", mechanism="in_house", role="sw", hours_per_unit=10)
    plan = run(c.load(tmp_path), "back_office", 0.2)
    wf = plan.tables["workforce"]
    assert mk.series(wf, "releases", role="sw") == mk.approx([0] * 3)
    assert mk.series(wf, "fte", role="sw") == mk.approx([1] * 3)
    assert mk.series(wf, "releases", role="office") == mk.approx([0.5, 0.4, 0])
    assert mk.series(wf, "fte", role="office") == mk.approx([1.5, 1.1, 1.1])
    assert mk.series(plan.tables["units"], "units", service="help") == mk.approx([50] * 3)
    assert overspend_by_year(plan) == mk.approx([4500, 400, 0])


# --- freeze_posts ---------------------------------------------------------------------------------

@pytest.fixture
def growing_duty(tmp_path):
    """care (crisis, statutory, in-house, £100 a unit + 100 sw hours) faces 10 x 1.1^y people:
    11, 12.1, 13.31. help (emerging, in-house, £50 a unit + 100 fw hours) has 20 base units.
    sw: 1 FTE of 1,000 h at £40,000, hire 1 / release 0.2 a year, £10,000 redundancy, agency
    £50 an hour up to 500 h. fw: 2 FTE at £30,000, release 0.5 a year, £5,000 redundancy.
    general: £100,000."""
    c = mk.Case()
    c.set("needs", dict(level="crisis"), statutory_coverage=1, population_base=10, arrivals_per_year=10,
          arrivals_growth=0.1)
    c.set("services", dict(service="help"), base_units=20)
    c.set("options", dict(service="help"), unit_cost=50)
    c.add("services", service="care", cohort="people", level="crisis", people_per_unit=1, base_units=10,
          min_units=0, max_units=100, building_types="", tags="statutory")
    c.add("gains", service="care", domain="wellbeing", gain_per_unit=1)
    c.add("options", service="care", mechanism="in_house", current="true", unit_cost=100, quality=1, effect_escalation=0,
          failure_demand=0, setup_cost=0, max_share=1)
    _role(c, role="sw", max_hire=1, max_release=0.2, redundancy_cost=10000, agency_cost_per_hour=50,
          max_agency_hours=500)
    _role(c, role="fw", fte_base=2, cost_per_fte=30000, max_hire=1, max_release=0.5, redundancy_cost=5000)
    c.add("option_staff", service="care", mechanism="in_house", role="sw", hours_per_unit=100)
    c.add("option_staff", service="help", mechanism="in_house", role="fw", hours_per_unit=100)
    return c.load(tmp_path)


def test_status_quo_hires_for_the_growing_duty(growing_duty):
    # for contrast: an FTE hour costs £40, an agency hour £50, so the status quo hires sw as the
    # duty grows: 1,100 / 1,210 / 1,331 hours -> FTE 1.1, 1.21, 1.331 (hires 0.1, 0.11, 0.121)
    wf = run(growing_duty, "status_quo", None).tables["workforce"]
    assert mk.series(wf, "hires", role="sw") == mk.approx([0.1, 0.11, 0.121])


def test_freeze_posts_hires_nothing_and_leavers_cost_no_redundancy(growing_duty):
    # cut 0.1: saving 10,000 a year = 0.1 of the staff cost (40,000 + 60,000). Leavers are not
    # replaced down to 0.9 of each role: sw floor max(0.9, 1 - 0.2) = 0.9, fw max(1.8, 2 - 0.5) = 1.8.
    # help is delivered with the fw left: 20 x 1.8/2 = 18 units (1,800 h = 1.8 FTE), so fw
    # releases 0.2 in year 1, at no redundancy cost. care meets the duty (11, 12.1, 13.31 units);
    # with no hiring its sw hours come from the 1 FTE kept (cheaper than agency: an FTE kept
    # saves £50 of agency an hour for £40) and agency 100, 210, 331 h, within the 500 h cap.
    plan = run(growing_duty, "freeze_posts", 0.1)
    wf, u = plan.tables["workforce"], plan.tables["units"]
    assert float(wf["hires"].sum()) == mk.approx(0)
    assert mk.series(wf, "fte", role="sw") == mk.approx([1, 1, 1])
    assert mk.series(wf, "agency_hours", role="sw") == mk.approx([100, 210, 331])
    assert mk.series(wf, "fte", role="fw") == mk.approx([1.8, 1.8, 1.8])
    assert mk.series(wf, "releases", role="fw") == mk.approx([0.2, 0, 0])
    assert float(wf["redundancy_cost"].sum()) == mk.approx(0)
    assert mk.series(u, "units", service="help") == mk.approx([18] * 3)
    assert mk.series(u, "units", service="care") == mk.approx([11, 12.1, 13.31])
    # spend: care 1,100 / 1,210 / 1,331 + help 900 + sw 40,000 + agency 5,000 / 10,500 / 16,550
    #        + fw 54,000 = 101,000 / 106,610 / 112,781 against 90,000
    assert overspend_by_year(plan) == mk.approx([11000, 16610, 22781])


# --- model files -------------------------------------------------------------------------------

def test_model_files_parse_and_builtin_names_resolve():
    for name in NEW:
        spec = builtin_spec(name)
        assert spec.policy == name and spec.source.endswith(f"{name}.yaml")
        assert not spec.free_levers
    assert set(NEW) <= set(POLICIES)
    assert builtin_spec("procurement_squeeze").rule == {"price_cut": 0.05, "quality_cut": 0.05}
    assert builtin_spec("back_office").rule == {"role_tags": ["support", "management"]}


@pytest.mark.parametrize("raw, key", [
    ({"policy": "procurement_squeeze", "rule": {"price_cut": 1.5}}, "rule.price_cut"),
    ({"policy": "procurement_squeeze", "rule": {"price_cut": "5%"}}, "rule.price_cut"),
    ({"policy": "procurement_squeeze", "rule": {"squeeze": 0.05}}, "rule.squeeze"),
    ({"policy": "back_office", "rule": {"role_tags": "support"}}, "rule.role_tags"),
    ({"policy": "thresholds", "rule": {"order": "levels"}}, "rule.order"),
    ({"policy": "salami", "rule": []}, "rule"),
])
def test_rule_parameters_are_validated(raw, key):
    with pytest.raises(InputError) as err:
        parse_spec(raw, "m.yaml")
    assert key in str(err.value)


@pytest.fixture(scope="module")
def instances():
    return {name: load_instance(ROOT / "instances" / name) for name in ("tiny", "shire_county")}


@pytest.fixture(scope="module")
def base_engines(instances):
    return {name: Engine(inst) for name, inst in instances.items()}


@pytest.mark.parametrize("instance", ["tiny", "shire_county"])
@pytest.mark.parametrize("model", NEW)
def test_every_new_model_file_runs_and_verifies_at_a_25pc_cut(instances, base_engines, instance, model):
    inst = instances[instance]
    spec = replace(builtin_spec(model), solver={"mip_rel_gap": 1e-3, "time_limit": 60})
    eng = engine_for(inst, spec) if spec.transforms_data else base_engines[instance]
    plan = eng.run(spec, 0.25)
    if (model, instance) == ("freeze_posts", "shire_county"):
        # a finding, not a failure: with children's high need growing 2.5% a year, a recruitment freeze
        # leaves too few residential childcare workers for the short-breaks duty within a few years
        assert plan.summary["status"] == "infeasible"
        first = plan.summary["conflicts"][0]
        assert first.startswith("statutory duty short_breaks_5_11") and "residential_childcare_worker" in first
        assert any("set by the policy" in c for c in plan.summary["conflicts"])
        return
    assert plan.summary["status"] == "optimal", (plan.summary.get("solver_message"), plan.summary.get("conflicts"))
    assert plan.summary["verified"] is True, plan.violations[:5]
    assert plan.summary["policy"] == model


def test_the_engine_routes_a_data_changing_rule_itself(instances, base_engines):
    # the front door: Engine(inst).run(model, cut) for every model file, the instance unchanged
    eng = base_engines["tiny"]
    for model in ("procurement_squeeze", "freeze_posts"):
        plan = eng.run(model, 0.25)
        assert plan.summary["status"] == "optimal" and plan.summary["verified"] is True
        assert any(model in str(c) for c in plan.inputs["scenario_changes"])
    assert not instances["tiny"].changes
