"""One convention across verbs; saved runs reported and compared without solving."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from commissionopt import __version__
from commissionopt.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"
SOLVING = ("solve", "compare", "sweep", "questions", "explain")
MANY = ("compare", "sweep", "questions", "explain")


def invoke(*args, catch: bool = False):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=catch)


def options(verb: str) -> dict:
    return {o: p for p in main.commands[verb].params for o in p.opts}


def test_version_and_debug_before_or_after_the_verb(tmp_path):
    r = invoke("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"commissionopt {__version__}"
    broken = tmp_path / "nothing.xlsx"
    broken.write_text("not a workbook")
    quiet = invoke("validate", broken)
    assert quiet.exit_code == 2 and "Traceback" not in quiet.output
    for args in (("--debug", "validate", broken), ("validate", broken, "--debug")):
        r = invoke(*args, catch=True)
        assert r.exit_code != 0 and r.exception is not None and not isinstance(r.exception, SystemExit), args


def test_every_verb_follows_one_option_convention():
    for verb in SOLVING:
        opts = options(verb)
        for flag in ("--scenario", "--time-limit", "--gap", "--threads", "--format", "--force", "--debug"):
            assert flag in opts, (verb, flag)
        assert list(opts["--format"].type.choices) == ["table", "csv", "json"], verb
    for verb in MANY:
        assert {"--workers", "--scheduler"} <= set(options(verb)), verb
    for verb in ("solve", "compare", "sweep", "questions"):
        assert {"--model", "--models"} <= set(options(verb)) and options(verb)["--model"].multiple, verb
    for verb in ("solve", "compare", "sweep"):
        assert "--tidy" in options(verb), verb
    for verb in ("solve", "compare", "report"):
        assert "--xlsx" in options(verb), verb
    assert list(options("diff")["--format"].type.choices) == ["table", "csv", "json"]


def test_instances_and_models_are_found_by_name_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke("solve", "tiny", "--model", "min_cost", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["summary"]["objective"] == "min_cost" and doc["inputs"]["instance"] == "tiny"
    r = invoke("solve", "tiyn")
    assert r.exit_code == 2 and "shire_county" in r.output and "tiny" in r.output
    r = invoke("solve", "tiny", "--model", "min_cots")
    assert r.exit_code == 2 and "min_cost" in r.stderr


def test_models_repeat_or_separate_with_commas():
    a = json.loads(invoke("compare", TINY, "--cut", "0.1", "--model", "salami", "--model", "status_quo",
                          "--format", "json").stdout)
    b = json.loads(invoke("compare", TINY, "--cut", "0.1", "--model", "salami,status_quo", "--format", "json").stdout)
    assert a["models"] == b["models"] == ["salami", "status_quo", "redesign_same_money"]
    r = invoke("solve", TINY, "--model", "salami,redesign")
    assert r.exit_code == 2 and "one --model" in r.output


def _without_timings(doc):
    if isinstance(doc, dict):
        return {k: _without_timings(v) for k, v in doc.items() if k != "timings"}
    return doc


def test_json_has_a_schema_version_one_plan_shape_and_is_stable_but_for_timings():
    runs = [invoke("compare", TINY, "--cut", "0.1", "--model", "status_quo,salami", "--format", "json")
            for _ in range(2)]
    assert all(r.exit_code == 0 for r in runs), runs[0].output
    docs = [json.loads(r.stdout) for r in runs]
    assert docs[0]["schema_version"] == 1 and docs[0]["cut_text"] == "0.1"
    assert docs[0]["headline"].startswith("At a 10% cut, salami slicing ")
    assert json.dumps(_without_timings(docs[0])) == json.dumps(_without_timings(docs[1]))
    assert docs[0]["policies"]["salami"]["timings"]["solve_seconds"] >= 0
    solved = json.loads(invoke("solve", TINY, "--cut", "0.1", "--model", "salami", "--format", "json").stdout)
    assert solved["schema_version"] == 1
    plan = {k: v for k, v in solved.items() if k != "schema_version"}
    assert _without_timings(plan) == _without_timings(docs[0]["policies"]["salami"])  # one shape, same plan


def test_results_print_as_csv_or_json_from_every_verb(tmp_path):
    r = invoke("compare", TINY, "--cut", "0.1", "--model", "salami", "--format", "csv")
    header = r.stdout.splitlines()[0].split(",")
    assert header[:3] == ["policy", "status", "discounted_spend"] and "unmet_crisis" in header
    r = invoke("sweep", TINY, "--cuts", "0,0.1", "--model", "salami", "--workers", "0", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["rows"]
    assert [(x["policy"], x["cut"]) for x in rows] == [("salami", 0.0), ("salami", 0.1)]
    assert rows[0]["outcome_retained"] == pytest.approx(1.0)


# ---- saved runs -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    run = base / "round"
    r = invoke("compare", TINY, "--cut", "0.2", "--out", run, "--html", base / "round.html",
               "--xlsx", base / "round.xlsx", "--tidy", base / "round.csv")
    assert r.exit_code == 0, r.output
    return base, run


def test_report_from_a_saved_run_equals_the_original_without_solving(saved, monkeypatch):
    base, run = saved
    import commissionopt.runs.engine as engine
    monkeypatch.setattr(engine.Engine, "__init__", lambda *a, **k: pytest.fail("report must not solve"))
    r = invoke("report", run, "--html", base / "again.html", "--xlsx", base / "again.xlsx",
               "--tidy", base / "again.csv")
    assert r.exit_code == 0, r.output
    original, again = (base / "round.html").read_text(), (base / "again.html").read_text()
    assert again == original  # the same figures, charts and words, byte for byte
    assert (base / "again.csv").read_bytes() == (base / "round.csv").read_bytes()
    figures = re.findall(r"£[\d,]+", original)
    assert len(figures) > 20
    r = invoke("report", run, "--html", base / "again.html")
    assert r.exit_code == 1 and "--force" in r.stderr  # never replaced without --force


def test_a_run_folder_is_self_contained(saved):
    _, run = saved
    doc = json.loads((run / "run.json").read_text())
    assert doc["schema_version"] == 1 and doc["kind"] == "compare" and doc["cut_text"] == "0.2"
    assert set(doc["policies"]) == {"status_quo", "salami", "redesign", "redesign_same_money"}
    assert doc["sweep"] == "sweep.csv" and (run / "sweep.csv").exists()
    assert invoke("validate", run / "instance").exit_code == 0  # the instance as run, valid


def test_diff_shows_what_a_scenario_changed(tmp_path):
    scenario = tmp_path / "more-crisis.yaml"
    scenario.write_text("name: more-crisis\nchanges:\n  - table: needs\n    where: {cohort: adults, level: crisis}\n"
                        "    scale: {arrivals_per_year: 2}\n")
    a, b = tmp_path / "before", tmp_path / "after"
    assert invoke("solve", TINY, "--cut", "0.1", "--out", a).exit_code == 0
    assert invoke("solve", TINY, "--cut", "0.1", "--scenario", scenario, "--out", b).exit_code == 0
    r = invoke("diff", a, b, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    before = json.loads((a / "summary.json").read_text())["summary"]
    after = json.loads((b / "summary.json").read_text())["summary"]
    rows = {x["measure"]: x for x in doc["summary"]}
    assert rows["discounted_spend"]["a"] == before["discounted_spend"]
    assert rows["discounted_spend"]["change"] == pytest.approx(after["discounted_spend"] - before["discounted_spend"])
    assert all(x["changed"] for x in doc["summary"])  # only what changed, unless --all
    assert any("arrivals_per_year" in x["scenario_change"] for x in doc["inputs"])
    assert doc["services"], "twice the adult crisis arrivals changes some service"
    r = invoke("diff", a, a)
    assert r.exit_code == 0 and "Summary figures that changed\n  (none)" in r.stdout
    r = invoke("report", a, b, "--html", tmp_path / "both.html")
    assert r.exit_code == 0, r.output
    assert "redesign (after)" in (tmp_path / "both.html").read_text()


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    r = invoke("report", tmp_path, "--html", tmp_path / "x.html")
    assert r.exit_code == 2 and "run.json" in r.stderr


@pytest.mark.slow
def test_explains_attribution_reaches_the_html_report(saved, tmp_path):
    _, run = saved
    why = tmp_path / "why"
    r = invoke("explain", TINY, "--cut", "0.2", "--levers", "early_intervention,mechanisms", "--workers", "0",
               "--out", why)
    assert r.exit_code == 0, r.output
    r = invoke("report", run, why, "--html", tmp_path / "with-levers.html")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "with-levers.html").read_text()
    advantage = page.split('<section id="advantage">')[1]
    assert "Each bar is one lever" in advantage and "accounting decomposition" not in advantage
    assert "early_intervention" in advantage and "no lever free (salami slicing)" in advantage
    shutil.rmtree(why)


@pytest.mark.slow
def test_compare_spreads_the_reports_sweep_over_workers(tmp_path):
    r = invoke("compare", TINY, "--cut", "0.2", "--workers", "2", "--out", tmp_path / "round",
               "--html", tmp_path / "round.html")
    assert r.exit_code == 0, r.output
    sweep = __import__("pandas").read_csv(tmp_path / "round" / "sweep.csv")
    assert set(sweep["policy"]) == {"salami", "redesign", "redesign_same_money"}
    assert sorted(set(sweep["cut"])) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert sweep["outcome_retained"].notna().all()
    assert "At 20% (the dotted line" in (tmp_path / "round.html").read_text()
