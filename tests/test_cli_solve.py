"""The solve and compare verbs: outputs, exit codes, flags, and plans that check out."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from commissionopt.cli import main

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_solve_json_reports_the_summary_and_the_inputs():
    r = invoke("solve", TINY, "--cut", "0.1", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1
    s = doc["summary"]
    assert s["status"] == "optimal" and s["verified"] is True
    for key in ("objective", "discounted_spend", "overspend", "outcome_value", "outcome_per_million",
                "unmet_person_years", "crisis_need_final_year", "payback_year", "mip_gap"):
        assert key in s
    assert {"build_seconds", "solve_seconds"} <= set(doc["timings"])  # timings apart from the results
    assert s["cut"] == {str(y): 0.1 for y in range(1, 6)}
    assert doc["inputs"]["instance"] == "tiny" and doc["inputs"]["model"] == "redesign"
    assert {"pyomo", "highspy", "commissionopt"} <= set(doc["inputs"]["versions"])
    # the outcome gain is the value over no provision, recomputed from the two figures
    assert s["outcome_gain"] == pytest.approx(s["outcome_value"] - s["outcome_none"])


def test_cut_by_year_carries_the_last_value_forward():
    r = invoke("solve", TINY, "--cut", "1:0.05,3:0.2", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["summary"]["cut"] == {"1": 0.05, "2": 0.05, "3": 0.2, "4": 0.2, "5": 0.2}


@pytest.mark.parametrize("cut", ["abc", "1.5", "0:0.1", "6:0.1"])  # tiny has 5 years
def test_bad_cut_is_bad_input(cut):
    r = invoke("solve", TINY, "--cut", cut)
    assert r.exit_code == 2 and "--cut" in r.stderr and cut in r.stderr


def test_out_writes_every_table_and_the_summary_last(tmp_path):
    out = tmp_path / "plan"
    r = invoke("solve", TINY, "--cut", "0.1", "--out", out, "--xlsx", tmp_path / "plan.xlsx")
    assert r.exit_code == 0, r.output
    names = {"units", "options", "need", "workforce", "buildings", "building_use", "funding", "streams",
             "pooling", "spend", "outcomes", "reserves", "shadow_prices"}
    assert names <= {p.stem for p in out.glob("*.csv")}
    assert not list(out.glob(".*tmp"))  # no temporary files left behind
    summary = json.loads((out / "summary.json").read_text())["summary"]
    spend = pd.read_csv(out / "spend.csv")
    # the summary's discounted spend, recomputed from the written table
    assert summary["discounted_spend"] == pytest.approx((spend["total"] * spend["discount_factor"]).sum())
    wb = openpyxl.load_workbook(tmp_path / "plan.xlsx", read_only=True)
    assert {"Summary", "Inputs", "units", "need", "spend"} <= set(wb.sheetnames)


def test_infeasible_run_exits_3_naming_the_duty(tmp_path):
    # child protection can grow to 80 units at most, but 103 children are in crisis in year 1
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    services = (folder / "services.csv").read_text().replace("child_protection,children,crisis,child-year,1,100,0,250",
                                                            "child_protection,children,crisis,child-year,1,80,0,80")
    (folder / "services.csv").write_text(services)
    r = invoke("solve", folder, "--out", tmp_path / "out", "--xlsx", tmp_path / "plan.xlsx")
    assert r.exit_code == 3, r.output
    assert "statutory duty child_protection (children/crisis) in year 1" in r.stderr and "child_protection" in r.stderr
    # --out keeps the status and the conflicts even without a plan; no tables, no workbook
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["summary"]["status"] == "infeasible"
    assert any("child_protection" in str(c) for c in written["summary"]["conflicts"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["instance", "run.json", "summary.json"]
    assert not (tmp_path / "plan.xlsx").exists() and "no plan (infeasible): no workbook" in r.stderr


def test_a_workbook_is_written_with_xlsx_not_a_format():
    r = invoke("solve", TINY, "--format", "xlsx")  # one convention: --format prints, --xlsx FILE writes
    assert r.exit_code == 2 and "'xlsx' is not one of 'table', 'csv', 'json'" in r.output
    assert "solving" not in r.output


def test_status_quo_is_labelled_with_the_cut_it_ran_at():
    r = invoke("solve", TINY, "--model", "status_quo", "--cut", "0.25")
    assert r.exit_code == 0, r.output
    assert "tiny / status_quo / no cut\n" in r.stdout
    r = invoke("solve", TINY, "--cut", "1:0.05,2:0.05,3:0.2")
    assert "tiny / redesign / cut 1:0.05,3:0.2\n" in r.stdout


def test_time_limit_flags_the_plan_or_exits_4():
    r = invoke("solve", TINY, "--cut", "0.25", "--time-limit", "0.001", "--format", "json")
    assert r.exit_code in (0, 4), r.output
    if r.exit_code == 0:
        assert json.loads(r.stdout)["summary"]["status"] in ("optimal", "time_limit")
    else:
        assert "time limit" in r.stderr


def test_solver_flags_beat_the_model_files_settings():
    # redesign.yaml says mip_rel_gap 0.001, time_limit 120: used unless a flag is given
    default = json.loads(invoke("solve", TINY, "--cut", "0.1", "--format", "json").stdout)["inputs"]["solver"]
    assert (default["mip_rel_gap"], default["time_limit"]) == (0.001, 120)
    r = invoke("solve", TINY, "--cut", "0.1", "--gap", "0.2", "--time-limit", "42", "--format", "json")
    assert r.exit_code == 0, r.output
    given = json.loads(r.stdout)["inputs"]["solver"]
    assert (given["mip_rel_gap"], given["time_limit"]) == (0.2, 42)


def test_compare_json_has_every_policy_on_one_accounting():
    r = invoke("compare", TINY, "--cut", "0.1", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc["policies"]) == {"status_quo", "salami", "redesign", "redesign_same_money"}
    for p in doc["policies"].values():
        for key in ("discounted_spend", "overspend", "outcome_value", "outcome_gain", "outcome_per_million",
                    "unmet_person_years", "crisis_need_final_year"):
            assert isinstance(p["summary"][key], (int, float))
    pol = {k: p["summary"] for k, p in doc["policies"].items()}
    gap = pol["redesign_same_money"]["mip_gap"] or 0.0
    # given salami's money (its overspend included), the redesign does at least as well
    assert pol["redesign_same_money"]["outcome_gain"] >= pol["salami"]["outcome_gain"] * (1 - gap) - 1e-6
    assert doc["policies"]["salami"]["inputs"]["versions"]["highspy"]
    assert doc["policies"]["status_quo"]["inputs"]["cut"] == {str(y): 0.0 for y in range(1, 6)}  # its own inputs


def test_compare_table_and_workbook(tmp_path):
    book = tmp_path / "round.xlsx"
    r = invoke("compare", TINY, "--cut", "0.1", "--xlsx", book)
    assert r.exit_code == 0, r.output
    assert "redesign_same_money" in r.stdout and "overspend against budget" in r.stdout
    wb = openpyxl.load_workbook(book, read_only=True)
    assert wb.sheetnames[:3] == ["Summary", "Inputs", "units"] and "service_changes" in wb.sheetnames


def test_generate_writes_a_valid_instance_the_same_for_the_same_seed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        r = invoke("generate", out, "--services", "12", "--years", "4", "--seed", "7")
        assert r.exit_code == 0, r.output
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for p in a.iterdir():
        assert p.read_bytes() == (b / p.name).read_bytes(), p.name
    assert invoke("validate", a).exit_code == 0
    assert invoke("generate", a, "--services", "12").exit_code != 0  # refuses to overwrite without --force


def test_scenario_applies_on_every_verb_and_its_cut_is_the_default(tmp_path):
    scenario = tmp_path / "what-if.yaml"
    scenario.write_text("name: what-if\ndescription: adult crisis arrivals up, a 10% cut\n"
                        "budget_cut: 0.1\n"
                        "changes:\n  - table: needs\n    where: {cohort: adults, level: crisis}\n"
                        "    scale: {arrivals_per_year: 2}\n")
    r = invoke("validate", TINY, "--scenario", scenario)
    assert r.exit_code == 0 and "needs.arrivals_per_year" in r.stdout and "8 -> 16" in r.stdout
    r = invoke("solve", TINY, "--scenario", scenario, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["summary"]["cut"]["1"] == 0.1 and doc["summary"]["verified"] is True
    assert any("arrivals_per_year" in c for c in doc["inputs"]["scenario_changes"])
    r = invoke("solve", TINY, "--scenario", scenario, "--cut", "0.2", "--format", "json")
    assert json.loads(r.stdout)["summary"]["cut"]["1"] == 0.2  # --cut overrides the scenario's
    bad = tmp_path / "typo.yaml"
    bad.write_text("name: typo\nchanges:\n  - table: needs\n    where: {cohort: adult}\n    scale: {arrivals_per_year: 2}\n")
    r = invoke("solve", TINY, "--scenario", bad)
    assert r.exit_code == 2 and "adults" in r.stderr  # the closest existing value is named


def test_compare_writes_the_html_report(tmp_path):
    page = tmp_path / "round.html"
    r = invoke("compare", TINY, "--cut", "0.25", "--html", page)
    assert r.exit_code == 0, r.output
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Outcome retained against the cut" in text
    assert "http://" not in text and "https://" not in text  # self-contained: works offline


def test_sweep_explain_and_questions_verbs(tmp_path):
    r = invoke("sweep", TINY, "--cuts", "0,0.2", "--workers", "1", "--out", tmp_path / "sweep")
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert sorted(zip(table["policy"], table["cut"])) == [("redesign", 0.0), ("redesign", 0.2),
                                                           ("redesign_same_money", 0.0), ("redesign_same_money", 0.2),
                                                           ("salami", 0.0), ("salami", 0.2)]
    by = table.set_index(["policy", "cut"])
    for c in (0.0, 0.2):  # on salami's money the redesign does at least as well as salami
        gap = by.loc[("redesign_same_money", c), "mip_gap"]
        assert by.loc[("redesign_same_money", c), "outcome_gain"] >= by.loc[("salami", c), "outcome_gain"] * (1 - gap) - 1e-6
    assert (tmp_path / "sweep" / "sweep.png").read_bytes()[:4] == b"\x89PNG"

    r = invoke("explain", TINY, "--cut", "0.2", "--levers", "early_intervention,mechanisms", "--workers", "1",
               "--out", tmp_path / "why")
    assert r.exit_code == 0, r.output
    attribution = pd.read_csv(tmp_path / "why" / "attribution.csv")
    subsets = pd.read_csv(tmp_path / "why" / "subsets.csv")
    assert set(attribution["lever"]) == {"early_intervention", "mechanisms"} and len(subsets) == 4
    assert "Shadow prices" in r.stdout
    assert "-> salami + early_intervention + mechanisms" in r.stdout  # a subset is not called the redesign
    changes = pd.read_csv(tmp_path / "why" / "service_changes.csv")
    assert set(changes["service"]) == {"early_help", "child_protection", "home_support", "residential_care"}
    assert changes["reason"].notna().all()
    # both crisis services meet their duty exactly: the reason says so, recomputed from the need table
    for s in ("child_protection", "residential_care"):
        assert "statutory duty" in changes.loc[changes["service"] == s, "reason"].iloc[0]

    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "more-early-help.yaml").write_text(
        "name: more-early-help\nquestion: Can early help reach more families?\n"
        "changes:\n  - table: services\n    where: {service: early_help}\n    scale: {max_units: 1.5}\n")
    (bank / "dearer-care.yaml").write_text(
        "name: dearer-care\nquestion: What if residential care costs 20% more?\n"
        "changes:\n  - table: options\n    where: {service: residential_care}\n    scale: {unit_cost: 1.2}\n")
    r = invoke("questions", TINY, bank, "--cut", "0.1", "--workers", "1", "--out", tmp_path / "answers")
    assert r.exit_code == 0, r.output
    ranked = pd.read_csv(tmp_path / "answers" / "ranked.csv")
    assert len(ranked) == 2 and ranked["feasible"].all()
    assert "Can early help reach more families?" in r.stdout


def test_threads_and_seed_reach_highs_and_are_recorded():
    from commissionopt.data import load_instance
    from commissionopt.runs.engine import Engine
    from commissionopt.solve.highs import SolveOptions
    e = Engine(load_instance(TINY), SolveOptions(seed=1), overrides={"threads": 2, "seed": 7})
    plan = e.run("redesign", 0.1)
    assert plan.status == "optimal"

    def option(name):
        return e.session.h.getOptionValue(name)[1]  # (status, value)
    assert (option("threads"), option("random_seed")) == (2, 7)
    assert (plan.inputs["solver"]["threads"], plan.inputs["solver"]["seed"]) == (2, 7)
    e.overrides = {}
    e.run("redesign", 0.1)  # back to the engine's own options: one thread, seed 1
    assert (option("threads"), option("random_seed")) == (1, 1)
