"""Commissioning questions: one row a question, ranked, with an implementation plan."""
from pathlib import Path

import pytest

from commissionopt.data import load_instance
from commissionopt.data.scenario import apply_scenario
from commissionopt.runs.questions import COLUMNS, PLAN_COLUMNS, answer_questions, question_files

ROOT = Path(__file__).resolve().parents[1]
SHIRE_QUESTIONS = sorted((ROOT / "instances" / "shire_county" / "questions").glob("*.yaml"))

HELPS = """\
name: cheap-early-help
question: Can a co-produced early help offer reach more families for less?
changes:
  - table: mechanisms
    add: [{mechanism: co_production, transaction_rate: 0.01, lead_years: 1, family: co_production}]
  - table: options
    add:
      - {service: early_help, mechanism: co_production, current: false, unit_cost: 300, quality: 1.2,
         effect_escalation: 0.45, failure_demand: 0.02, setup_cost: 15000, max_share: 1}
"""
NEUTRAL = """\
name: school-rate
question: Does a dearer after-hours rate at the school matter?
changes:
  - table: buildings
    where: {building: riverside_school}
    set: {extended_cost_per_hour: 16}
"""
INFEASIBLE = """\
name: cap-child-protection
question: Can we cap child protection at 20 children?
changes:
  - table: services
    where: {service: child_protection}
    set: {base_units: 20, max_units: 20}
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("questions")
    # file names sorted so that the helpful question is not first on disk
    (folder / "a-infeasible.yaml").write_text(INFEASIBLE)
    (folder / "b-neutral.yaml").write_text(NEUTRAL)
    (folder / "c-helps.yaml").write_text(HELPS)
    return answer_questions(load_instance(ROOT / "instances" / "tiny"), folder, cut=0.1, workers=1)


def test_one_row_a_question_ranked(answers):
    t = answers.table
    assert list(t.columns) == list(COLUMNS)
    assert len(t) == 3
    assert list(t["rank"]) == [1, 2, 3]
    assert list(t["file"]) == ["c-helps.yaml", "b-neutral.yaml", "a-infeasible.yaml"]
    assert t.loc[0, "question"].startswith("Can a co-produced early help")


def test_helpful_question_improves_on_the_base(answers):
    top = answers.table.iloc[0]
    assert top["feasible"]
    # less overspend at the same cut: the redesign's first objective
    assert top["overspend_change"] < -10_000
    assert top["verdict"].startswith("less overspend")
    # its £15,000 setup falls in year 1 (lead time 1) and it delivers from year 2: it pays back then
    assert top["payback_year"] == 2


def test_infeasible_question_last_with_its_reason(answers):
    last = answers.table.iloc[-1]
    assert not last["feasible"]
    assert last["status"] == "infeasible"
    assert "child_protection" in last["why_infeasible"]
    assert "statutory" in last["why_infeasible"]


def test_neutral_question_changes_little(answers):
    mid = answers.table.iloc[1]
    assert mid["feasible"]
    assert abs(mid["outcome_change"]) < 1e-3
    assert "no material change" in mid["verdict"]


def test_plan_lists_adopted_option_with_lead_time(answers):
    key = next(k for k in answers.plans if k.endswith("c-helps.yaml"))
    plan = answers.plans[key]
    assert list(plan.columns) == list(PLAN_COLUMNS)
    adopted = plan[plan["kind"] == "option adopted"]
    row = adopted[adopted["item"] == "early_help/co_production"].iloc[0]
    assert row["lead_years"] == 1
    assert row["setup_cost"] == 15000
    assert row["year"] >= 2  # not in use before its lead year has passed
    assert "early_help/co_production (lead 1y)" in answers.table.iloc[0]["options_adopted"]
    assert {"hires", "releases", "fte"} & set(plan["kind"])


def test_question_budget_cut_overrides(tmp_path):
    (tmp_path / "q.yaml").write_text(NEUTRAL + "budget_cut: 0.05\n")
    a = answer_questions(load_instance(ROOT / "instances" / "tiny"), tmp_path, cut=0.1, workers=1)
    row = a.table.iloc[0]
    assert row["cut"] == 0.05
    assert row["feasible"]


def test_shipped_shire_questions_apply():
    assert len(SHIRE_QUESTIONS) >= 12
    inst = load_instance(ROOT / "instances" / "shire_county")
    texts = []
    for f in SHIRE_QUESTIONS:
        _, settings = apply_scenario(inst, f)
        assert settings["question"], f.name
        texts.append(settings["question"])
    assert "Can we rationalise buildings for libraries, leisure, schools and early years?" in texts
    assert any("spin off" in q for q in texts)
    assert question_files(SHIRE_QUESTIONS[0].parent) == SHIRE_QUESTIONS


@pytest.mark.slow  # a local Dask cluster
def test_answers_on_an_existing_cluster_equal_the_serial_ones(answers, tmp_path):
    from commissionopt.runs.parallel import local_cluster
    for name, text in (("a-infeasible", INFEASIBLE), ("b-neutral", NEUTRAL), ("c-helps", HELPS)):
        (tmp_path / f"{name}.yaml").write_text(text)
    with local_cluster(2) as cluster:
        on_cluster = answer_questions(load_instance(ROOT / "instances" / "tiny"), tmp_path, cut=0.1,
                                      scheduler=cluster.scheduler_address)
    shown = ["rank", "file", "status", "outcome_change", "spend_change"]
    assert on_cluster.table[shown].equals(answers.table[shown])


def test_gap_override_reaches_every_solve(tmp_path, monkeypatch):
    import commissionopt.runs.questions as q
    seen = []

    def record(insts, tasks, **kw):
        seen.extend(tasks)
        return real(insts, tasks, **kw)
    real = q.run_tasks
    monkeypatch.setattr(q, "run_tasks", record)
    (tmp_path / "q.yaml").write_text(NEUTRAL)
    a = answer_questions(load_instance(ROOT / "instances" / "tiny"), tmp_path, cut=0.1, workers=1, mip_rel_gap=0.05)
    assert a.table.iloc[0]["feasible"]
    assert len(seen) == 2 and all(t.model.solver["mip_rel_gap"] == 0.05 for t in seen)  # the base and the question
