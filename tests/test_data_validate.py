"""Reference and meaning checks, warnings, and the summary an analyst recognises."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.data import load_instance, summary, validate_instance
from commissionopt.errors import InputError

from datakit import copy_base, edit


@pytest.fixture
def base(tmp_path) -> Path:
    return copy_base(tmp_path)


def problems_of(folder: Path) -> list[str]:
    inst = load_instance(folder, validate=False)
    return [str(p) for p in validate_instance(inst)]


def has(problems: list[str], *parts: str) -> bool:
    return any(all(part in p for part in parts) for p in problems)


# name -> (file, old, new, parts of the one message expected)
ERRORS = {
    "level not in instance.yaml": ("services.csv", "older_85_plus,crisis,person-year", "older_85_plus,acute,person-year",
                                   ["error: services.csv, row 5, column 'level': value 'acute'", "universal, emerging, high, crisis"]),
    "service need not in needs": ("services.csv", "older_85_plus,emerging,episode", "older_85_plus,high,episode",
                                  ["services.csv, row 4, column 'level': value 'older_85_plus/high'", "listed in needs.csv"]),
    "transition to a need not in needs": ("transitions.csv", "older_85_plus,crisis,1,0.8", "older_85_plus,high,1,0.8",
                                          ["transitions.csv, row 7, column 'to_level': value 'older_85_plus/high'"]),
    "staff of no option": ("option_staff.csv", "reablement,in_house,care_worker", "reablement,spot_purchase,care_worker",
                           ["option_staff.csv, row 4, column 'mechanism': value 'reablement/spot_purchase'", "options.csv"]),
    "unknown role": ("option_staff.csv", "care_worker,30", "carer,30",
                     ["option_staff.csv, row 4, column 'role': value 'carer': a role listed in workforce.csv"]),
    "building hours for a service without buildings": (
        "option_buildings.csv", "family_hub,block_contract,2", "reablement,block_contract,2",
        ["option_buildings.csv, row 3, column 'service': value 'reablement'", "uses no building"]),
    "unknown building type": ("services.csv", "family_centre;school", "family_centre;scool",
                              ["services.csv, row 2, column 'building_types': value 'scool'", "did you mean 'school'?"]),
    "funding scope matches nothing": ("funding.csv", ",adult_care,false,true,", ",adult_cares,false,true,",
                                      ["funding.csv, row 4, column 'scope': value 'adult_cares'", "did you mean 'adult_care'?"]),
    "pooled scope matches nothing": ("funding.csv", "health;early_help", "health;youth",
                                     ["funding.csv, row 4, column 'pooled_scope': value 'youth'"]),
    "no current option": ("options.csv", "child_protection,in_house,true", "child_protection,in_house,false",
                          ["services.csv, row 3, column 'service': value 'child_protection'", "(found 0)"]),
    "two current options": ("options.csv", "reablement,block_contract,false", "reablement,block_contract,true",
                            ["services.csv, row 4, column 'service': value 'reablement'", "(found 2)"]),
    "base below min": ("services.csv", "person-year,1,200,150", "person-year,1,100,150",
                       ["services.csv, row 5, column 'base_units': value 100.0: at least min_units (150)"]),
    "base above max": ("services.csv", "episode,1,500,0,1000", "episode,1,1500,0,1000",
                       ["services.csv, row 4, column 'base_units': value 1500.0: at most max_units (1000)"]),
    "ages reversed": ("cohorts.csv", "older_85_plus,85,120", "older_85_plus,95,90",
                      ["cohorts.csv, row 3, column 'age_from': value 95.0: at most age_to (90)"]),
    "empty required name": ("buildings.csv", ",school,school,", ",,school,",
                            ["buildings.csv, row 3, column 'type': value '': a value"]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_reference_and_meaning_errors(base, name):
    file, old, new, parts = ERRORS[name]
    edit(base / file, old, new)
    problems = problems_of(base)
    assert has(problems, *parts), "\n".join(problems)
    assert all(p.startswith("error") for p in problems), "\n".join(problems)


def test_service_no_stream_may_pay(base):
    # the general fund's scope '*' pays anything: narrow it, and reablement (adult_care;health)
    # is still paid by the BCF; a service tagged only 'youth' is paid by no one
    edit(base / "funding.csv", "general_fund,20000000,true,*,", "general_fund,20000000,true,childrens;statutory,")
    edit(base / "services.csv", ",adult_care;health", ",youth")
    assert has(problems_of(base), "services.csv, row 4, column 'tags': value 'youth'", "no stream may pay this service")


def test_overheads_need_a_stream(base):
    edit(base / "funding.csv", "general_fund,20000000,true,*,true,", "general_fund,20000000,true,*,false,")
    assert has(problems_of(base), "funding.csv", "column 'overheads'", "at least one stream with overheads = true",
               "workforce")


def without_duties(base: Path) -> None:
    """The instance as it was before duties.csv: needs.csv statutory_coverage, met by any service at the level."""
    for f in ("duties.csv", "duty_services.csv"):
        (base / f).unlink()
    edit(base / "needs.csv", "early_years_0_4,high,300,50,0,0,", "early_years_0_4,high,300,50,0,1,")
    edit(base / "needs.csv", "older_85_plus,crisis,200,60,0.04,0,", "older_85_plus,crisis,200,60,0.04,1,")


def test_statutory_need_needs_a_service(base):
    without_duties(base)
    edit(base / "needs.csv", "older_85_plus,emerging,900,300,0.04,0,", "older_85_plus,emerging,900,300,0.04,0.5,")
    edit(base / "services.csv", "reablement,older_85_plus,emerging,", "reablement,older_85_plus,crisis,")
    assert has(problems_of(base), "needs.csv, row 4, column 'statutory_coverage': value 0.5",
               "no service can meet the duty")


def test_without_duties_any_service_at_the_level_counts(base):
    without_duties(base)
    problems = problems_of(base)
    assert problems == ["warning: needs.csv, column 'statutory_coverage': value '2 need(s)': a duties.csv naming "
                        "the services that may meet each duty: without it any service at a statutory (cohort, level) "
                        "counts towards the duty (a drug-treatment place for a home-care duty)"], problems


DUTY_ERRORS = {
    "a service of another level": ("duty_services.csv", "residential_care,residential_care,", "residential_care,reablement,",
                                   ["duty_services.csv, row 3, column 'service': value 'reablement'",
                                    "a service aimed at older_85_plus/crisis", "reablement serves older_85_plus/emerging"]),
    "min above max": ("duty_services.csv", "child_protection,child_protection,1,0,1", "child_protection,child_protection,1,0.6,0.5",
                      ["duty_services.csv, row 2, column 'min_share': value 0.6", "at most max_share (0.5)"]),
    "min shares past 1": ("duty_services.csv", "residential_care,residential_care,1,0,1",
                          "residential_care,residential_care,1,0.7,1\nresidential_care,nursing,1,0.6,1",
                          ["duty_services.csv, row 4, column 'min_share': value 1.3", "adding up to at most 1"]),
    "counts_as 0": ("duty_services.csv", "child_protection,child_protection,1,", "child_protection,child_protection,0,",
                    ["duty_services.csv, row 2, column 'counts_as': value '0'"]),
    "unknown duty": ("duty_services.csv", "child_protection,child_protection,", "child_protectoin,child_protection,",
                     ["duty_services.csv, row 2, column 'duty': value 'child_protectoin'", "did you mean 'child_protection'"]),
    "duty at an unknown need": ("duties.csv", "residential_care,older_85_plus,crisis,", "residential_care,older_85_plus,high,",
                                ["duties.csv, row 3, column 'level': value 'older_85_plus/high'", "listed in needs.csv"]),
}


@pytest.mark.parametrize("name", list(DUTY_ERRORS))
def test_duty_errors(base, name):
    file, old, new, parts = DUTY_ERRORS[name]
    if name == "min shares past 1":  # a second residential service at the same level
        edit(base / "services.csv", "residential_care,older_85_plus,crisis,person-year,1,200,150,400,,adult_care;statutory",
             "residential_care,older_85_plus,crisis,person-year,1,200,150,400,,adult_care;statutory\n"
             "nursing,older_85_plus,crisis,person-year,1,0,0,100,,adult_care;statutory")
        edit(base / "options.csv", "residential_care,block_contract,",
             "nursing,spot_purchase,true,60000,1,0,0,0,1\nresidential_care,block_contract,")
    edit(base / file, old, new.replace("\\n", "\n"))
    try:
        problems = problems_of(base)
    except InputError as e:  # a value out of its column's range is found while loading
        problems = [str(p) for p in e.problems]
    assert has(problems, *parts), "\n".join(problems)


def test_required_table_needs_rows(base):
    (base / "gains.csv").write_text("service,domain,gain_per_unit\n")
    assert problems_of(base) == ["error: gains.csv: at least one row: Outcome gained per unit of service delivered."]


def test_outgoing_rates_add_up_per_lag(base):
    path = base / "transitions.csv"
    path.write_text(path.read_text() + "older_85_plus,crisis,older_85_plus,crisis,2,0.9\n")
    assert problems_of(base) == []  # 0.8 at lag 1 and 0.9 at lag 2: each lag on its own
    edit(path, "older_85_plus,emerging,older_85_plus,crisis,1,0.2", "older_85_plus,emerging,older_85_plus,crisis,1,0.4")
    problems = problems_of(base)
    assert has(problems, "transitions.csv, row 5, column 'rate': value 1.1",
               "rates leaving older_85_plus/emerging after 1 year(s)", "rows 5, 6 add up to 1.1"), problems


@pytest.mark.parametrize("old,new,parts", [
    ("horizon_years: 5", "horizon_years: 40", ["instance.yaml, row horizon_years: value 40: between 1 and 30"]),
    ("horizon_years: 5", "horizon_years: five", ["instance.yaml, row horizon_years: value 'five': a whole number"]),
    ("discount_rate: 0.035", "discount_rate: 0.2", ["row discount_rate: value 0.2: between 0 and 0.15"]),
    ("levels: [universal, emerging, high, crisis]", "levels: [universal, universal, high, crisis]",
     ["row levels", "each named once"]),
    ("levels: [universal, emerging, high, crisis]", "levels: [crisis]", ["row levels", "at least two"]),
    ("name: tiny_test\n", "", ["instance.yaml, row name: required key 'name' is missing"]),
    ("base_year: 2025", "base_year: 2025\nbase_yaer: 2024",
     ["row base_yaer: value 'base_yaer': a known key (allowed: name, description, price_year, base_year",
      "did you mean 'base_year'?"]),
    ("minimum: 500000", "minimum: 5000000", ["row reserves.minimum: value 5000000.0: at most the opening reserves"]),
    ("  opening: 2000000\n", "", ["row reserves.opening: required reserves key 'opening' is missing"]),
    ("  opening: 2000000", "  opening: 2000000\n  closing: 1", ["row reserves.closing", "allowed: opening, minimum"]),
    ("flexible_capital_receipts: false", "flexible_capital_receipts: maybe", ["reserves.flexible_capital_receipts", "true or false"]),
])
def test_instance_yaml_checks(base, old, new, parts):
    edit(base / "instance.yaml", old, new)
    problems = problems_of(base)
    assert has(problems, *parts), "\n".join(problems)


def test_workbook_problems_name_the_sheet(base, tmp_path):
    edit(base / "services.csv", "older_85_plus,crisis,person-year", "older_85_plus,acute,person-year")
    book = tmp_path / "area.xlsx"
    assert CliRunner().invoke(main, ["convert", str(base), str(book)]).exit_code == 0
    result = CliRunner().invoke(main, ["validate", str(book)])
    assert result.exit_code == 2
    assert "error: area.xlsx sheet services, row 5, column 'level': value 'acute'" in result.stderr


# --- warnings: the instance stays valid ------------------------------------------

WARNINGS = {
    # three options, so that only the odd one out is more than 10x the median of the others
    "unit cost outlier": ("options.csv", "residential_care,block_contract,false,41000,",
                          "residential_care,in_house,false,43000,1,0,0,0,1\nresidential_care,block_contract,false,500000,",
                          ["options.csv, row 9, column 'unit_cost': value 500000.0", "within 10x", "(£44,000)"]),
    "spend above funding": ("funding.csv", "general_fund,20000000,", "general_fund,2000000,",
                            ["funding.csv, column 'base_amount': value 6000000.0",
                             "base-year spend estimate £16,080,000"]),
    "gain above harm": ("gains.csv", "reablement,health,0.1", "reablement,health,0.3",
                        ["services.csv, row 4, column 'service': value 'reablement'",
                         "weighted harm of older_85_plus/emerging (0.2)", "more need there looks like a good thing"]),
    "served above need": ("needs.csv", "older_85_plus,emerging,900,", "older_85_plus,emerging,400,",
                          ["needs.csv, row 4, column 'population_base': value 400.0", "(500)"]),
    "statutory duty under-served": ("services.csv", "child-year,1,300,", "child-year,1,250,",
                                    ["duties.csv, row 2, column 'coverage': value 1.0",
                                     "serve 250 duty person-years, below 1 x 300 = 300"]),
    "no pace limits": ("instance.yaml", "pace: {max_growth: 0.25, max_decline: 0.2}", "",
                       ["services.csv, column 'max_growth'", "pace limits"]),
    "statutory service in no duty": ("services.csv", ",adult_care;health", ",adult_care;health;statutory",
                                     ["services.csv, row 4, column 'tags'", "a duty in duty_services.csv"]),
}


@pytest.mark.parametrize("name", list(WARNINGS))
def test_warnings_keep_the_instance_valid(base, name):
    file, old, new, parts = WARNINGS[name]
    edit(base / file, old, new)
    problems = problems_of(base)
    assert has(problems, "warning: ", *parts), "\n".join(problems)
    assert len(problems) == 1, "\n".join(problems)
    result = CliRunner().invoke(main, ["validate", str(base)])
    assert result.exit_code == 0, result.output
    assert "Checks: valid, 1 warning(s)" in result.stdout and parts[0] in result.stdout


def test_summary_tables(base):
    inst = load_instance(base)
    spend = summary.base_year_spend(inst)
    # 150*800 + 3000*300 + 200*500 + 45000*200; 5% on the spot purchase; staff; the council's family centre
    assert spend == {"services": 10_120_000, "transaction": 450_000, "staff": 5_390_000,
                     "buildings": 120_000, "total": 16_080_000}
    money = summary.money(inst)
    assert list(money["stream"]) == ["general_fund", "public_health_grant", "better_care_fund"]
    assert money.set_index("stream").at["better_care_fund", "partner"] == "NHS"
    staff = summary.workforce(inst).set_index("role")
    assert staff.at["social_worker", "staff_cost"] == 60 * 52_000
    halls = summary.buildings(inst).set_index(["type", "owner"])
    assert halls.at[("family_centre", "council"), "fixed_cost"] == 120_000
    need = summary.needs(inst)
    assert list(need.index) == ["early_years_0_4", "older_85_plus"]
    assert list(need.columns) == ["emerging", "high", "crisis"]  # instance.yaml order, lowest first
    assert need.at["older_85_plus", "crisis"] == 200 and pd.isna(need.at["older_85_plus", "high"])
    assert summary.statutory(inst).at["early_years_0_4", "high"] == 1
    table = summary.spend_against_funding(inst).set_index("item")["amount"]
    assert table["headroom (funding - spend)"] == 24_000_000 - 16_080_000


def test_validate_prints_the_databases(base):
    result = CliRunner().invoke(main, ["validate", str(base)])
    assert result.exit_code == 0
    out = result.stdout
    assert "300 *" in out and "1,200" in out  # statutory need marked in the needs pivot
    assert "better_care_fund" in out and "NHS" in out
    assert "16,080,000" in out
