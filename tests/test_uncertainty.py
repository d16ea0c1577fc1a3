"""Uncertainty runs: the Latin hypercube, collapsed ranges giving the deterministic answer in every
draw, the same tables on one and two workers, a failed check as a failed draw, an infeasible draw
as an answer, the committed plan keeping its decisions, and the robust model on Blocks."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import commissionopt
from commissionopt.cli import main
from commissionopt.data.load import load_instance
from commissionopt.errors import InputError
from commissionopt.reports.uncertainty import sentence
from commissionopt.runs.draws import draw_names, drawn_instance, latin_hypercube, plan_decisions
from commissionopt.runs.engine import Engine
from commissionopt.runs.robust import solve_robust
from commissionopt.runs.uncertainty import _kept, uncertainty

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"
CUT = 0.25
FIGURES = ["status", "outcome_gain", "overspend", "discounted_spend", "crisis_need_final_year"]


@pytest.fixture(scope="module")
def tiny():
    return load_instance(TINY)


def collapsed(inst):
    """The instance with every range at its central value (low = central = high)."""
    out = inst.copy()
    r = inst.tables["ranges"].copy()
    r["low"], r["high"] = r["central"], r["central"]
    r.attrs = dict(inst.tables["ranges"].attrs)
    out.tables["ranges"] = r
    return out


# ---- draws ----------------------------------------------------------------------------------
def test_latin_hypercube_has_one_draw_in_each_stratum_and_depends_on_the_seed(tiny):
    names = draw_names(tiny)
    assert names == ["row 2", "row 3", "spot_market", "row 6"]  # a group is one draw
    d = latin_hypercube(names, 8, seed=3)
    assert list(d.index) == list(range(1, 9)) and list(d.columns) == names
    for name in names:
        assert sorted(np.floor(d[name] * 8).astype(int)) == list(range(8))
    pd.testing.assert_frame_equal(d, latin_hypercube(names, 8, seed=3))
    assert not d.equals(latin_hypercube(names, 8, seed=4))


def test_a_group_moves_together_at_one_quantile(tiny):
    drawn = drawn_instance(tiny, {"spot_market": 0.5})
    op, mech = drawn["options"].set_index(["service", "mechanism"]), drawn["mechanisms"].set_index("mechanism")
    assert op.at[("residential_care", "spot_purchase"), "unit_cost"] == pytest.approx(30000 * 1.05)
    assert op.at[("child_protection", "spot_purchase"), "unit_cost"] == pytest.approx(52000 * 1.05)
    assert mech.at["spot_purchase", "transaction_rate"] == pytest.approx(0.07 * 0.95)
    assert drawn["options"].loc[0, "unit_cost"] == tiny["options"].loc[0, "unit_cost"]  # other figures central


# ---- collapsed ranges: every draw is the deterministic answer ------------------------------
@pytest.fixture(scope="module")
def flat(tiny):
    return uncertainty(collapsed(tiny), CUT, draws=3, seed=5, robust=2, fan_cuts=(0.1,))


def test_collapsed_ranges_give_the_deterministic_answer_in_every_draw(tiny, flat):
    engine = Engine(tiny)
    plain = {p: engine.run(p, CUT).summary for p in ("salami", "redesign")}
    res = flat.results.set_index(["draw", "policy"])
    for draw in range(1, 4):
        for policy, expected in (("salami", "salami"), ("redesign", "redesign"), ("committed", "redesign"),
                                 ("robust", "redesign")):
            got = res.loc[(draw, policy)]
            central = flat.central.plans[expected].summary
            for k in FIGURES:
                if policy in ("salami", "redesign") or k == "status":  # the same solve on the same model
                    assert got[k] == central[k] == plain[expected][k], (draw, policy, k)
                else:  # the central decisions fixed and the LP solved again: the same plan
                    assert got[k] == pytest.approx(central[k], rel=1e-9, abs=1e-6), (draw, policy, k)


def test_collapsed_ranges_move_nothing(flat):
    assert flat.tornado["swing"].abs().max() < 1e-6 * max(1.0, abs(flat.tornado.attrs["central_lead"]))
    sel = flat.selection
    assert set(sel["share"]) <= {0.0, 1.0}
    assert (sel["share"] == sel["used_centrally"].astype(float)).all()
    q = flat.quantiles.set_index(["policy", "measure"])
    assert (q["p5"] == q["p95"]).all()
    assert flat.failed.empty
    robust = flat.robust.set_index("plan")
    assert robust.at["robust", "gain_at_central"] == pytest.approx(robust.at["committed", "gain_at_central"], rel=1e-9)


# ---- the same on any number of workers -----------------------------------------------------
@pytest.fixture(scope="module")
def serial_run(tiny):
    return uncertainty(tiny, CUT, draws=4, seed=11, fan_cuts=(0.1,), workers=0)


@pytest.mark.slow  # a local Dask cluster
def test_same_seed_same_tables_with_one_and_two_workers(tiny, serial_run):
    on_dask = uncertainty(tiny, CUT, draws=4, seed=11, fan_cuts=(0.1,), workers=2)
    a, b = serial_run.tables(), on_dask.tables()
    assert list(a) == list(b)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


def test_draws_differ_and_every_plan_is_verified(serial_run):
    r = serial_run.results
    assert set(r["policy"]) == {"salami", "redesign", "committed"}
    assert (r["outcome"] == "plan").all() and r["verified"].all()
    assert r.groupby("policy")["outcome_gain"].nunique().min() > 1  # the evidence moved the answer
    p = serial_run.probabilities.set_index("measure")
    assert set(p.index) == {"redesign_beats_salami", "redesign_within_money", "committed_beats_salami",
                            "committed_within_money"}
    assert (p["draws"] == 4).all() and (p["failed"] == 0).all()
    # the redesign re-optimised is never beaten by the same decisions kept from the central plan
    red, com = (r[r["policy"] == k].set_index("draw") for k in ("redesign", "committed"))
    better_or_equal = (red["overspend"] <= com["overspend"] + red["overspend_tolerance"]) | (
        red["outcome_gain"] >= com["outcome_gain"] * (1 - 2e-3))
    assert better_or_equal.all()


# ---- failures and infeasible draws ---------------------------------------------------------
def test_a_plan_failing_the_check_is_a_failed_draw_never_averaged(tiny, monkeypatch):
    import importlib
    verify_module = importlib.import_module("commissionopt.solve.verify")
    design = latin_hypercube(draw_names(tiny), 3, seed=2)
    target = drawn_instance(tiny, design.loc[2]).changes
    real = verify_module.verify

    def check(instance, plan, *args, **kwargs):
        out = real(instance, plan, *args, **kwargs)
        if plan.summary.get("policy") == "redesign" and instance.changes == target:
            out = out + ["duty_met: made to fail for this test"]
        return out
    monkeypatch.setattr(verify_module, "verify", check)
    u = uncertainty(tiny, CUT, draws=3, seed=2, tornado=False)
    assert list(zip(u.failed["draw"], u.failed["policy"])) == [(2, "redesign")]
    assert "made to fail" in u.failed["why"].iloc[0]
    row = u.results.set_index(["draw", "policy"]).loc[(2, "redesign")]
    assert row["outcome"] == "failed" and np.isnan(row["outcome_gain"])
    p = u.probabilities.set_index("measure")
    assert p.at["redesign_beats_salami", "draws"] == 2 and p.at["redesign_beats_salami", "failed"] == 1
    assert p.at["committed_beats_salami", "draws"] == 3  # the committed plan of draw 2 still counts
    q = u.quantiles.set_index(["policy", "measure"])
    assert q.at[("redesign", "outcome_gain"), "draws"] == 2 and q.at[("redesign", "outcome_gain"), "failed"] == 1
    assert set(u.selection["draws"]) == {2}
    assert "1 draw had a plan that failed a check" in sentence(u) and "of the 2 draws answered (of 3)" in sentence(u)


def test_a_committed_plan_that_did_not_keep_its_decisions_is_caught(tiny):
    plan = Engine(tiny).run("redesign", CUT)
    result = {"summary": plan.summary, "tables": plan.tables, "inputs": plan.inputs, "violations": []}
    decisions = plan_decisions(plan)
    assert _kept(result, decisions) == []
    flipped = {**decisions, "adopt": {k: 1 - v for k, v in decisions["adopt"].items()}}
    assert len(_kept(result, flipped)) == len(decisions["adopt"])


@pytest.fixture
def harsh(tmp_path, tiny):
    """tiny with the arrivals into children's crisis ranged up to far beyond what child protection
    can take (max_units 250): the draws at the top of that range have no plan meeting the duty."""
    folder = tmp_path / "harsh"
    shutil.copytree(TINY, folder)
    with open(folder / "ranges.csv", "a", encoding="utf-8") as f:
        f.write("needs,cohort=children;level=crisis,arrivals_per_year,value,10,10,400,uniform,,D,test\n")
    return load_instance(folder)


def test_an_infeasible_draw_is_an_answer_shown_and_counted(harsh):
    u = uncertainty(harsh, CUT, draws=4, seed=1, tornado=False)
    r = u.results
    infeasible = r[(r["policy"] == "salami") & (r["outcome"] == "infeasible")]
    assert len(infeasible) >= 2
    assert infeasible["why"].str.len().min() > 0 and infeasible["outcome_gain"].isna().all()
    assert u.failed.empty
    q = u.quantiles.set_index(["policy", "measure"])
    assert q.at[("salami", "outcome_gain"), "infeasible"] == len(infeasible)
    assert q.at[("salami", "outcome_gain"), "draws"] == 4 - len(infeasible)
    p = u.probabilities.set_index("measure")
    assert p.at["redesign_beats_salami", "draws"] == 4 and p.at["redesign_beats_salami", "failed"] == 0


# ---- the committed plan and the robust model ------------------------------------------------
def test_engine_keeps_fixed_decisions(tiny):
    engine = Engine(tiny)
    free = engine.run("redesign", CUT)
    decisions = plan_decisions(free)
    decisions["adopt"][("early_help", "grant_vcs")] = 1
    decisions["open"].update({("town_family_hub", y): 0 for y in (3, 4, 5)})
    plan = engine.run("redesign", CUT, fixed=decisions, name="committed")
    assert plan.status == "optimal" and plan.summary["verified"]
    assert plan_decisions(plan) == decisions
    assert plan.inputs["decisions_fixed"] == {k: len(v) for k, v in decisions.items()}
    with pytest.raises(ValueError, match="decisions this model does not have"):
        engine.run("redesign", CUT, fixed={"adopt": {("no_such", "option"): 1}})


def test_robust_model_on_one_draw_is_the_redesign(tiny):
    """The model's blocks built on a Block, one copy: the deterministic redesign's plan."""
    flat = collapsed(tiny)
    plan = Engine(flat).run("redesign", CUT)
    r = solve_robust(flat, CUT, latin_hypercube(draw_names(flat), 1, seed=0))
    assert r.summary["status"] == "optimal"
    gap = 1e-3 * abs(plan.summary["outcome_gain"])
    assert r.summary["mean_outcome_gain"] == pytest.approx(plan.summary["outcome_gain"], abs=gap)
    assert r.summary["mean_overspend"] == pytest.approx(plan.summary["overspend"], abs=plan.summary["overspend_tolerance"])
    assert r.summary["integers"] == Engine(flat).session.integer.sum()  # copies' decisions follow the shared ones


@pytest.mark.parametrize("risk", ["mean", "cvar"])
def test_robust_plan_is_no_worse_than_the_central_plan_on_its_draws(tiny, risk):
    central = plan_decisions(Engine(tiny).run("redesign", CUT))
    r = solve_robust(tiny, CUT, latin_hypercube(draw_names(tiny), 3, seed=(0, 1)), risk=risk, start=central)
    s = r.summary
    assert s["status"] == "optimal" and s["draws"] == 3
    assert s["mean_overspend"] <= s["start_mean_overspend"] + 10_000
    aim = "mean_outcome_gain" if risk == "mean" else "cvar_outcome_gain"
    if s["mean_overspend"] >= s["start_mean_overspend"] - 10_000:  # as little overspend: at least as much gain
        assert s[aim] >= s[f"start_{aim}"] - 1e-3 * abs(s[f"start_{aim}"])
    assert set(r.decisions) == {"adopt", "open", "pool"}


# ---- the front doors -----------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, name", [({"draws": 0}, "draws"), ({"seed": -1}, "seed"), ({"robust": 0}, "robust"),
                                          ({"risk": "worst"}, "risk")])
def test_bad_arguments_are_named(tiny, kwargs, name):
    with pytest.raises(InputError, match=name):
        commissionopt.uncertainty(tiny, CUT, **kwargs)


def test_an_instance_without_ranges_is_refused_by_name(tmp_path):
    folder = tmp_path / "plain"
    shutil.copytree(TINY, folder)
    (folder / "ranges.csv").unlink()
    res = CliRunner().invoke(main, ["uncertainty", str(folder), "--draws", "2", "--workers", "0"])
    assert res.exit_code == 2
    assert "ranges.csv" in res.output and "nothing to draw" in res.output


def test_cli_prints_json_and_writes_every_report(tmp_path):
    out, html, xlsx, tidy = tmp_path / "run", tmp_path / "u.html", tmp_path / "u.xlsx", tmp_path / "u.csv"
    args = ["uncertainty", "tiny", "--cut", "0.25", "--draws", "3", "--seed", "4", "--workers", "0", "--no-tornado",
            "--fan-cuts", "0.1", "--format", "json", "--out", str(out), "--html", str(html), "--xlsx", str(xlsx),
            "--tidy", str(tidy)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["draws"] == 3 and doc["seed"] == 4 and doc["schema_version"] == 1
    assert set(doc["probabilities"]) >= {"redesign_beats_salami", "redesign_within_money", "committed_beats_salami"}
    assert set(doc["quantiles"]) == {"salami", "redesign", "committed"}
    assert set(doc["quantiles"]["redesign"]["outcome_gain"]) >= {"p5", "p50", "p95"}
    assert set(doc["quantiles"]["salami"]) == {"outcome_gain", "overspend", "discounted_spend", "crisis_need_final_year"}
    assert {"core", "borderline", "rare", "selection", "tornado", "fan", "failed", "central"} <= set(doc)
    saved = json.loads((out / "uncertainty.json").read_text())
    assert {k: v for k, v in saved.items() if k != "timings"} == {k: v for k, v in doc.items() if k != "timings"}
    assert {"probabilities.csv", "quantiles.csv", "selection.csv", "draw_results.csv"} <= {p.name for p in out.iterdir()}
    page = html.read_text()
    assert 'id="uncertainty"' in page and doc["sentence"].split(";")[0] in page.replace("&#x27;", "'")
    assert page.index('id="uncertainty"') > page.index('id="comparison"')
    import openpyxl
    sheets = openpyxl.load_workbook(xlsx, read_only=True).sheetnames
    assert {"probabilities", "quantiles", "selection", "draw_results"} <= set(sheets)
    rows = pd.read_csv(tidy, keep_default_na=False)
    probs = rows[rows["table"] == "uncertainty_probabilities"]
    assert set(probs.loc[probs["measure"] == "probability", "key"]) == set(doc["probabilities"])
    again = CliRunner().invoke(main, args)
    assert again.exit_code != 0 and "--force" in again.output  # nothing replaced without --force


# ---- questions ranked by the probability of a positive return ------------------------------
DEARER_HELP = """\
name: dearer-help
question: What if council family workers cost half as much again?
changes:
  - table: options
    where: {service: early_help, mechanism: in_house}
    set: {unit_cost: 750}
"""


def test_questions_rank_by_the_probability_of_a_positive_return(tiny, tmp_path):
    from commissionopt.runs.questions import DRAW_COLUMNS, answer_questions
    from test_questions import HELPS
    (tmp_path / "a-dearer.yaml").write_text(DEARER_HELP)
    (tmp_path / "b-cheaper.yaml").write_text(HELPS)  # a co-produced early help offer, cheaper
    a = answer_questions(tiny, tmp_path, cut=CUT, workers=0, draws=3, seed=1)
    t = a.table.set_index("file")
    assert set(DRAW_COLUMNS) <= set(a.table.columns)
    assert (t["draws_answered"] == 3).all() and (t["draws_failed"] == 0).all()
    assert t.at["b-cheaper.yaml", "p_positive_return"] == 1.0
    assert t.at["a-dearer.yaml", "p_positive_return"] == 0.0
    assert list(a.table["file"]) == ["b-cheaper.yaml", "a-dearer.yaml"]
    with pytest.raises(InputError, match="rank_by"):
        answer_questions(tiny, tmp_path, cut=CUT, workers=0, rank_by="probability")


def test_ranking_by_probability_puts_the_surer_question_first():
    from commissionopt.runs.questions import rank
    t = pd.DataFrame({"file": ["bold.yaml", "sure.yaml", "broken.yaml"], "feasible": [True, True, False],
                      "outcome_change": [9.0, 2.0, None], "overspend_change": [0.0, 0.0, None],
                      "spend_change": [0.0, 0.0, None], "p_positive_return": [0.4, 0.9, None]})
    assert list(rank(t)["file"]) == ["bold.yaml", "sure.yaml", "broken.yaml"]  # the central return
    assert list(rank(t, by="probability")["file"]) == ["sure.yaml", "bold.yaml", "broken.yaml"]
