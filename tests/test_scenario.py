"""Scenario files: each operation on the resulting tables, extends chains, the errors that
name what exists, the change log, the shipped scenarios, and a verified solve."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from commissionopt.data import load_instance
from commissionopt.data.scenario import apply_scenario, apply_scenarios
from commissionopt.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"
SHIRE = ROOT / "instances" / "shire_county"
SHIPPED = sorted((SHIRE / "scenarios").glob("*.yaml"))
LOG = re.compile(r"^[a-z_]+\.[a-z_]+\[[^\]]+\]: .+ -> .+ \(.+\)$")  # table.column[row]: old -> new (file)
LOG_ANY = re.compile(r"^([a-z_]+\.[a-z_]+\[[^\]]+\]: .+ -> .+|[a-z_]+\[[^\]]+\]: (added|removed)"
                     r"|instance\.[a-z_.]+: .+ -> .+) \([\w.-]+\.yaml\)$")


@pytest.fixture(scope="module")
def tiny():
    return load_instance(TINY)


@pytest.fixture(scope="module")
def shire():
    return load_instance(SHIRE)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def errors(excinfo) -> str:
    return "\n".join(str(p) for p in excinfo.value.problems)


def row(inst, table: str, **key):
    df = inst[table]
    mask = True
    for k, v in key.items():
        mask = mask & (df[k] == v)
    rows = df[mask]
    assert len(rows) == 1, f"{table} {key}: {len(rows)} rows"
    return rows.iloc[0]


# --- each operation --------------------------------------------------------------------

def test_set_converts_by_the_column_kind(tiny, tmp_path):
    path = write(tmp_path, "s.yaml", """
name: s
changes:
  - table: buildings
    where: {building: riverside_school}
    set: {extendable_hours: 900, can_close: "yes", locality: 0123}
  - table: funding
    where: {stream: better_care_fund}
    set: {poolable: "true", pooled_scope: [early_help, children], partner: NO}
""")
    new, settings = apply_scenario(tiny, path)
    school = row(new, "buildings", building="riverside_school")
    assert school["extendable_hours"] == 900.0 and bool(school["can_close"])
    assert school["locality"] == "0123"  # a text column keeps the code as written
    bcf = row(new, "funding", stream="better_care_fund")
    assert bool(bcf["poolable"]) and bcf["pooled_scope"] == "early_help;children" and bcf["partner"] == "NO"
    # the other building is untouched
    assert row(new, "buildings", building="town_family_hub")["extendable_hours"] == 0.0
    assert settings["name"] == "s" and settings["budget_cut"] is None


def test_scale_without_where_scales_every_row(tiny):
    new, _ = apply_scenario(tiny, {"changes": [{"table": "workforce", "scale": {"agency_cost_per_hour": 2}}]})
    assert list(new["workforce"]["agency_cost_per_hour"]) == [120.0, 80.0]
    assert list(tiny["workforce"]["agency_cost_per_hour"]) == [60.0, 40.0]


def test_scale_a_text_column_fails(tiny):
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"changes": [{"table": "services", "scale": {"tags": 2}}]})
    assert "numeric column" in errors(e) and "services.tags is list" in errors(e)


def test_scale_out_of_range_fails_naming_the_rows(tiny):
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"changes": [{"table": "options", "where": {"service": "early_help"},
                                            "scale": {"failure_demand": 15}}]})
    text = errors(e)
    assert "between 0 and 1" in text and "early_help/in_house (0.1 x 15 = 1.5)" in text


def test_add_rows_with_defaults(tiny):
    new, settings = apply_scenario(tiny, {"changes": [{"table": "options", "add": [
        {"service": "home_support", "mechanism": "grant_vcs", "unit_cost": 2500, "quality": 1.1}]}]})
    added = row(new, "options", service="home_support", mechanism="grant_vcs")
    assert added["unit_cost"] == 2500.0 and added["quality"] == 1.1
    assert not added["current"] and added["max_share"] == 1.0 and added["effect_escalation"] == 0.0  # defaults
    assert len(new["options"]) == len(tiny["options"]) + 1
    assert settings["changes"] == ["options[home_support/grant_vcs]: added (scenario)"]


def test_add_needs_every_required_column_and_a_new_key(tiny):
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"changes": [{"table": "options", "add": [{"service": "home_support", "mechanism": "grant_vcs"}]}]})
    assert "required column 'unit_cost' is missing" in errors(e)
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"changes": [{"table": "options", "add": [
            {"service": "early_help", "mechanism": "in_house", "unit_cost": 1}]}]})
    assert "early_help/in_house is already a row" in errors(e)


def test_remove_rows(tiny):
    new, settings = apply_scenario(tiny, {"changes": [
        {"table": "options", "where": {"service": "home_support", "mechanism": "personal_budget"}, "remove": True}]})
    assert len(new["options"]) == len(tiny["options"]) - 1
    assert not ((new["options"]["service"] == "home_support") & (new["options"]["mechanism"] == "personal_budget")).any()
    assert settings["changes"] == ["options[home_support/personal_budget]: removed (scenario)"]


def test_remove_needs_a_where(tiny):
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"changes": [{"table": "options", "remove": True}]})
    assert "a where choosing the options rows to remove" in errors(e)


def test_remove_leaving_a_dangling_reference_says_so(tiny, tmp_path):
    path = write(tmp_path, "drop.yaml", """
changes:
  - table: options
    where: {service: early_help, mechanism: grant_vcs}
    remove: true
""")
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, path)
    text = errors(e)
    # option_buildings still names the removed option: the file, the scenario, the change
    assert "option_buildings.csv after scenario drop.yaml" in text
    assert "early_help/grant_vcs (removed by drop.yaml line 3)" in text
    assert "must also remove or change the rows that refer to it" in text


def test_top_level_set(tiny):
    new, settings = apply_scenario(tiny, {"set": {"discount_rate": 0.05, "horizon_years": 4,
                                                  "reserves": {"minimum": 100000}}})
    assert new.discount_rate == 0.05 and new.horizon == 4
    assert new.reserves == {"opening": 400000.0, "minimum": 100000.0, "flexible_capital_receipts": True}
    assert "instance.reserves.minimum: 200000 -> 100000 (scenario)" in settings["changes"]
    assert tiny.horizon == 5 and tiny.reserves["minimum"] == 200000.0


def test_top_level_set_refuses_levels_and_unknown_keys(tiny):
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"set": {"levels": ["a", "b"], "discount": 0.1, "horizon_years": 40}})
    text = errors(e)
    assert "levels cannot change" in text
    assert "did you mean 'discount_rate'?" in text and "horizon_years, discount_rate, reserves" in text
    assert "between 1 and 30" in text


def test_budget_cut_forms(tiny):
    assert apply_scenario(tiny, {"budget_cut": 0.1})[1]["budget_cut"] == 0.1
    assert apply_scenario(tiny, {"budget_cut": {2: 0.1, 1: "0.05"}})[1]["budget_cut"] == {1: 0.05, 2: 0.1}
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"budget_cut": {0: 0.1, 2: 1.2}})
    assert "a year from 1" in errors(e) and "from 0 up to (not including) 1" in errors(e)
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"budget_cut": {7: 0.1}})  # tiny's horizon is 5 years
    assert "within the horizon (1-5)" in errors(e)


# --- where --------------------------------------------------------------------------------

def test_where_on_a_list_column_matches_a_contained_item(tiny):
    new, settings = apply_scenario(tiny, {"changes": [
        {"table": "services", "where": {"tags": "statutory"}, "scale": {"max_units": 2}}]})
    assert set(new["services"].loc[new["services"]["max_units"] != tiny["services"]["max_units"], "service"]) == \
        {"child_protection", "residential_care"}


def test_where_numbers_compare_numerically_and_lists_mean_any(tiny):
    new, _ = apply_scenario(tiny, {"changes": [
        {"table": "needs", "where": {"population_base": "150.0"}, "set": {"future_cost": 1}},
        {"table": "cohorts", "where": {"cohort": ["children", "adults"]}, "set": {"description": "x"}}]})
    assert row(new, "needs", cohort="adults", level="crisis")["future_cost"] == 1.0
    assert (new["cohorts"]["description"] == "x").all()


def test_misspelt_where_value_names_the_closest(shire, tmp_path):
    path = write(tmp_path, "typo.yaml", """
name: typo
changes:
  - table: needs
    where: {cohort: older_85_pls}
    scale: {arrivals_per_year: 1.04}
""")
    with pytest.raises(InputError) as e:
        apply_scenario(shire, path)
    (problem,) = e.value.problems
    assert problem.file == "typo.yaml" and problem.row == 5
    assert problem.value == "cohort=older_85_pls"
    assert "of needs" in problem.expected and "'older_85_plus'" in problem.expected


def test_where_conditions_that_only_fail_together_list_what_exists(shire):
    with pytest.raises(InputError) as e:
        apply_scenario(shire, {"changes": [{"table": "options", "where": {
            "service": "family_information_service", "mechanism": "outcomes_based"}, "set": {"quality": 2}}]})
    assert "rows with service=family_information_service have mechanism: co_production, in_house, nudge" in errors(e)


# --- strictness ---------------------------------------------------------------------------

def test_unknown_table_column_and_key_list_the_allowed(tiny, tmp_path):
    path = write(tmp_path, "bad.yaml", """
name: bad
budgetcut: 0.1
changes:
  - table: need
    set: {x: 1}
  - table: needs
    where: {cohrt: children}
    set: {arrivals_per_yr: 3}
    because: reasons
""")
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, path)
    text = errors(e)
    assert "bad.yaml, row 3, column 'budgetcut'" in text and "allowed: name, description, question, extends" in text
    assert "did you mean 'budget_cut'?" in text
    assert "a table of the instance (allowed: cohorts, needs," in text and "did you mean 'needs'?" in text
    assert "column 'changes[2].where.cohrt'" in text and "a column of needs (allowed: cohort, level," in text
    assert "changes[2].set.arrivals_per_yr" in text
    assert "a change key (allowed: table, where, set, scale, add, remove, note)" in text


def test_values_converted_and_range_checked(tiny):
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"changes": [{"table": "options", "where": {"service": "early_help"},
                                            "set": {"quality": 9, "current": "maybe", "unit_cost": "cheap"}}]})
    text = errors(e)
    assert "between 0 and 5" in text and "true or false" in text and "a number" in text


def test_one_operation_per_change_and_no_key_columns(tiny):
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, {"changes": [{"table": "workforce", "set": {"max_hire": 2}, "scale": {"fte_base": 2}},
                                           {"table": "options", "where": {"service": "early_help"},
                                            "set": {"mechanism": "grant_vcs"}}]})
    text = errors(e)
    assert "exactly one operation" in text and "not part of the key of options" in text


def test_duplicate_yaml_key_refused_with_its_line(tiny, tmp_path):
    path = write(tmp_path, "dup.yaml", "name: dup\nbudget_cut: 0.1\nbudget_cut: 0.2\n")
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, path)
    (problem,) = e.value.problems
    assert problem.row == 3 and "duplicate key 'budget_cut' (first on line 2)" in problem.expected


def test_result_is_validated_as_an_instance(tiny):
    with pytest.raises(InputError) as e:  # base_units above max_units: only the instance checks see it
        apply_scenario(tiny, {"changes": [{"table": "services", "where": {"service": "early_help"},
                                            "set": {"max_units": 10}}]})
    assert "services.csv after the scenario, row 2, column 'base_units'" in errors(e)


# --- extends --------------------------------------------------------------------------------

def test_extends_chain_resolves_relative_to_each_file(tiny, tmp_path):
    write(tmp_path / "base", "root.yaml", """
name: root
budget_cut: 0.2
changes:
  - table: workforce
    where: {role: social_worker}
    set: {agency_cost_per_hour: 100}
""")
    write(tmp_path / "base", "middle.yaml", "name: middle\nextends: root.yaml\nset: {discount_rate: 0.05}\n")
    child = write(tmp_path / "mine", "child.yaml", """
name: child
extends: ../base/middle.yaml
budget_cut: {1: 0.1}
changes:
  - table: workforce
    where: {role: social_worker}
    scale: {agency_cost_per_hour: 1.5}
""")
    new, settings = apply_scenario(tiny, "mine/child.yaml", base_dir=tmp_path)
    # the parent's set runs first, then the child's scale: 100 x 1.5
    assert row(new, "workforce", role="social_worker")["agency_cost_per_hour"] == 150.0
    assert new.discount_rate == 0.05
    assert settings["budget_cut"] == {1: 0.1}  # the child's cut replaces the root's
    assert settings["name"] == "child"
    assert [Path(f).name for f in settings["files"]] == ["root.yaml", "middle.yaml", "child.yaml"]
    assert Path(settings["files"][-1]) == child


def test_extends_cycle_refused(tiny, tmp_path):
    write(tmp_path, "a.yaml", "name: a\nextends: sub/b.yaml\n")
    write(tmp_path / "sub", "b.yaml", "name: b\nextends: ../a.yaml\n")
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, tmp_path / "a.yaml")
    assert "a chain without cycles: a.yaml -> b.yaml -> a.yaml" in errors(e)
    write(tmp_path, "self.yaml", "extends: self.yaml\n")
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, tmp_path / "self.yaml")
    assert "self.yaml -> self.yaml" in errors(e)


def test_extends_missing_file(tiny, tmp_path):
    path = write(tmp_path, "child.yaml", "extends: nowhere.yaml\n")
    with pytest.raises(InputError) as e:
        apply_scenario(tiny, path)
    assert "child.yaml, row 1, column 'extends'" in errors(e) and "a scenario file that exists" in errors(e)


# --- the log and the input -----------------------------------------------------------------

def test_change_log_format_and_instance_changes(tiny):
    new, settings = apply_scenario(tiny, {"changes": [
        {"table": "needs", "where": {"cohort": "adults"}, "set": {"arrivals_growth": 0.04}}]})
    assert settings["changes"] == [
        "needs.arrivals_growth[adults/emerging]: 0.02 -> 0.04 (scenario)",
        "needs.arrivals_growth[adults/crisis]: 0.02 -> 0.04 (scenario)"]
    assert new.changes == settings["changes"]
    assert all(LOG.match(c) for c in settings["changes"])
    again, _ = apply_scenario(new, {"budget_cut": 0.1, "changes": [
        {"table": "workforce", "where": {"role": "family_worker"}, "scale": {"fte_base": 2}}]})
    assert again.changes == new.changes + ["workforce.fte_base[family_worker]: 3 -> 6 (scenario)"]


def test_input_instance_unchanged(shire):
    before_tables = {k: v.copy() for k, v in shire.tables.items()}
    before_meta = repr(shire.meta)
    for name in ("no-payment-by-results", "peer-parent-information", "reserves-held", "raise-thresholds"):
        apply_scenario(shire, SHIRE / "scenarios" / f"{name}.yaml")  # remove, add, set at the top, scale
    assert repr(shire.meta) == before_meta and shire.changes == []
    for name, df in before_tables.items():
        assert df.equals(shire.tables[name]), name


def test_apply_scenarios_in_order(tiny, tmp_path):
    write(tmp_path, "one.yaml", "name: one\nbudget_cut: 0.1\nchanges:\n  - table: workforce\n"
          "    set: {agency_cost_per_hour: 10}\n")
    write(tmp_path, "two.yaml", "name: two\nbudget_cut: 0.3\nchanges:\n  - table: workforce\n"
          "    scale: {agency_cost_per_hour: 3}\n")
    write(tmp_path, "three.yaml", "name: three\nquestion: why?\n")
    new, settings = apply_scenarios(tiny, ["one.yaml", "two.yaml", "three.yaml"], base_dir=tmp_path)
    assert list(new["workforce"]["agency_cost_per_hour"]) == [30.0, 30.0]  # set, then scaled
    assert settings["budget_cut"] == 0.3 and settings["name"] == "one + two + three"
    assert settings["question"] == "why?" and len(settings["scenarios"]) == 3
    assert new.changes == settings["changes"] and len(new.changes) == 4


# --- shipped scenarios ------------------------------------------------------------------------

def test_at_least_eight_shipped_scenarios_one_extending():
    assert len(SHIPPED) >= 8
    texts = [p.read_text(encoding="utf-8") for p in SHIPPED]
    assert any(re.search(r"^extends:", t, re.M) for t in texts)
    for name in ("cut-10", "cut-25", "cut-50"):
        assert (SHIRE / "scenarios" / f"{name}.yaml").exists()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_applies_and_validates(shire, path):
    new, settings = apply_scenario(shire, path)
    assert settings["name"] == path.stem
    assert settings["description"] and settings["question"]
    assert not [w for w in new.warnings if w.severity == "error"]
    if settings["budget_cut"] is None:
        assert new.changes, f"{path.name} changes nothing"
    assert all(LOG_ANY.match(c) for c in new.changes), new.changes


def test_shipped_cuts(shire):
    folder = SHIRE / "scenarios"
    assert apply_scenario(shire, folder / "cut-10.yaml")[1]["budget_cut"] == 0.1
    assert apply_scenario(shire, folder / "cut-25.yaml")[1]["budget_cut"] == {1: 0.05, 2: 0.1, 3: 0.2, 4: 0.25}
    assert max(apply_scenario(shire, folder / "cut-50.yaml")[1]["budget_cut"].values()) == 0.5


def test_docs_example_applies(shire, tmp_path):
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    shutil.copy(SHIRE / "scenarios" / "pool-bcf.yaml", tmp_path / "pool-bcf.yaml")
    new, settings = apply_scenario(shire, write(tmp_path, "example.yaml", example))
    assert settings["budget_cut"] == {1: 0.05, 2: 0.1, 3: 0.2, 4: 0.25} and new.horizon == 8
    assert not (new["options"]["mechanism"] == "outcomes_based").any()


# --- a run ---------------------------------------------------------------------------------------

def test_solve_tiny_with_a_scenario_gives_a_verified_plan(tiny, tmp_path):
    from commissionopt.runs.engine import Engine
    path = write(tmp_path, "what-if.yaml", """
name: what-if
description: Agency premium doubles; the school opens longer; early help pooled cheaply
budget_cut: {1: 0.05, 2: 0.1}
changes:
  - table: workforce
    scale: {agency_cost_per_hour: 2}
  - table: buildings
    where: {building: riverside_school}
    set: {extendable_hours: 900}
  - table: funding
    where: {stream: better_care_fund}
    set: {pooling_cost: 5000}
""")
    new, settings = apply_scenario(tiny, path)
    plan = Engine(new).run("redesign", settings["budget_cut"], verify=True)
    assert plan.summary["status"] == "optimal", plan.summary
    assert plan.summary["verified"] and not plan.violations
    assert plan.inputs["scenario_changes"] == new.changes and len(new.changes) == 4
