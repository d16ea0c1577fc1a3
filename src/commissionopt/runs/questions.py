"""Commissioning questions: each question a scenario, answered by feasibility, return and plan.

A question is a scenario file (docs/scenarios.md) with a `question:` text. For each one the
model (redesign by default) is solved on the scenario-applied instance and compared with the
same model on the base instance at the same cut: the outcome it adds, the discounted spend it
adds or saves, when it pays back, and the implementation plan it implies (options adopted with
their lead times, staff hired and released, buildings closed). The questions are ranked.
Definitions: docs/questions.md. Nothing is printed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.instance import Instance
from ..data.scenario import apply_scenario
from ..errors import InputError, Problem
from ..results.summary import payback_year
from ..solve.status import Status
from . import arguments
from .engine import as_spec
from .parallel import Task, run_tasks

MONEY_TOL = 10_000.0   # £: discounted spend or overspend changes smaller than this are "no change"
OUTCOME_REL_TOL = 1e-4  # outcome changes within this share of the base gain (or the MIP gap) are noise
FTE_TOL = 0.05          # FTE differences smaller than this are not listed in a plan
BASE_KEY = "__base__"

COLUMNS = ("rank", "question", "file", "name", "feasible", "status", "why_infeasible", "cut",
           "outcome_change", "outcome_value_change", "spend_change", "overspend_change", "verdict",
           "return_per_million", "cost_per_outcome_point", "saving", "payback_year", "base_payback_year",
           "options_adopted", "options_dropped", "fte_hires_change", "fte_releases_change",
           "buildings_closed", "buildings_kept", "base_status", "mip_gap", "error")
PLAN_COLUMNS = ("kind", "item", "detail", "year", "base", "answer", "change", "lead_years", "setup_cost")
DRAW_COLUMNS = ("p_positive_return", "draws_answered", "draws_failed")  # with draws: docs/questions.md
RANKINGS = ("return", "probability")


@dataclass
class Answers:
    """The ranked table (one row a question) and each question's implementation plan."""
    table: pd.DataFrame
    plans: dict = field(default_factory=dict)  # file -> DataFrame (PLAN_COLUMNS)
    settings: dict = field(default_factory=dict)  # file -> the scenario's settings


def question_files(questions) -> list[Path]:
    """A folder (its *.yaml and *.yml, sorted), one file, or a list of files."""
    if isinstance(questions, (str, Path)):
        p = Path(questions)
        if p.is_dir():
            files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not files:
                raise InputError(Problem(str(p), None, None, None, "a folder holding question files (*.yaml)"))
            return files
        return [p]
    return [Path(q) for q in questions]


def _cut_key(cut) -> str:
    if cut is None or isinstance(cut, (int, float)):
        return json.dumps(None if cut is None else float(cut))
    return json.dumps(sorted((int(k), float(v)) for k, v in dict(cut).items()))


def _has_plan(res: dict) -> bool:
    return res is not None and res["summary"].get("status") in Status.HAS_PLAN and "spend" in res.get("tables", {})


def answer_questions(inst: Instance, questions, cut=None, model="redesign", workers: int | None = 0,
                     scheduler: str | None = None, progress=None, options=None, mip_rel_gap: float | None = None,
                     overrides: dict | None = None, allow_outside: bool = False, draws: int | None = None,
                     seed: int = 0, rank_by: str | None = None) -> Answers:
    """Answer every question (scenario file) against `inst` at `cut`.

    `questions`: a folder of question files, one file, or a list of files. A question's own
    `budget_cut` overrides `cut` for that question, and its base is then solved at that cut
    too (the base is solved once per distinct cut). Solves run through `run_tasks` (one
    task per question, each on its own scenario-applied instance; `workers`, `scheduler` as there).
    `mip_rel_gap` overrides the model's own gap, `overrides` (SolveOptions fields) its other
    solver settings. `workers` 0 (the default) solves in this process. `allow_outside`: as in apply_scenario.
    `draws`: also answer each question in that many draws of the instance's ranges.csv (a Latin
    hypercube, `seed`; runs/draws.py), each question against the base in the same draw, and add
    DRAW_COLUMNS: the share of the draws in which the question has a positive return.
    `rank_by`: "return" (the central answer, docs/questions.md) or "probability" (the share of
    draws with a positive return first); default "probability" with draws, else "return".
    Returns Answers(table, plans, settings): the table ranked (docs/questions.md), plans by file.
    A file that does not apply is an InputError naming every problem, before anything is solved.
    """
    arguments.whole(draws, "draws", 1, "draws", optional=True)
    rank_by = rank_by or ("probability" if draws else "return")
    if rank_by not in RANKINGS or (rank_by == "probability" and not draws):
        raise InputError(Problem("argument 'rank_by'", None, None, rank_by,
                                 "'return', or 'probability' with draws of the ranges"))
    files = question_files(questions)
    model = as_spec(model)
    if overrides:
        model = replace(model, solver={**model.solver, **overrides})
    if mip_rel_gap is not None:
        model = replace(model, solver={**model.solver, "mip_rel_gap": float(mip_rel_gap)})
    insts: dict = {BASE_KEY: inst}
    settings: dict = {}
    problems: list[Problem] = []
    cuts: dict = {}  # file -> cut to run
    for f in files:
        try:
            new, s = apply_scenario(inst, f, allow_outside=allow_outside)
        except InputError as e:
            problems += list(getattr(e, "problems", []) or [Problem(f.name, None, None, None, str(e))])
            continue
        key = str(f)
        insts[key], settings[key] = new, s
        cuts[key] = s["budget_cut"] if s.get("budget_cut") is not None else cut
    if problems:
        raise InputError(problems)
    base_cuts = {_cut_key(c): c for c in cuts.values()}
    tasks = [Task(model=model, cut=c, tables="all", instance=BASE_KEY, tag=("base", k)) for k, c in base_cuts.items()]
    tasks += [Task(model=model, cut=cuts[k], tables="all", instance=k, tag=("question", k)) for k in settings]
    if draws:
        tasks += draw_tasks(inst, model, base_cuts, cuts, draws, seed)
    results = run_tasks(insts, tasks, workers=workers, scheduler=scheduler, progress=progress, options=options)
    bases = {r["tag"][1]: r for r in results if r["tag"][0] == "base"}
    rows, plans = [], {}
    for r in results:
        if r["tag"][0] != "question":
            continue
        key = r["tag"][1]
        base = bases[_cut_key(cuts[key])]
        row, plan = _answer(key, settings[key], cuts[key], base, r, inst, insts[key])
        rows.append(row)
        plans[key] = plan
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "rank"])
    if draws:
        shares = positive_returns(results, cuts)
        keys = [r["tag"][1] for r in results if r["tag"][0] == "question"]
        for c in DRAW_COLUMNS:
            table[c] = [shares[k][c] for k in keys]
    return Answers(table=rank(table, by=rank_by), plans=plans, settings=settings)


# ---- the answers across evidence draws -------------------------------------------------
def draw_tasks(inst: Instance, model, base_cuts: dict, cuts: dict, draws: int, seed: int) -> list[Task]:
    """Each draw of the ranges: the base at each distinct cut, and every question, on that draw."""
    from .draws import as_draw, latin_hypercube, require_ranges
    design = latin_hypercube(require_ranges(inst), draws, seed)
    tasks = []
    for i, row in design.iterrows():
        d = as_draw(row)
        tasks += [Task(model=model, cut=c, instance=BASE_KEY, draw=d, tag=("draw_base", k, i))
                  for k, c in base_cuts.items()]
        tasks += [Task(model=model, cut=cuts[k], instance=k, draw=d, tag=("draw_question", k, i)) for k in cuts]
    return tasks


def positive_return(question: dict, base: dict) -> bool | None:
    """One draw's answer: True for a positive return (more outcome at no more overspend, or less
    spend or overspend at no less outcome; or a plan where the base has none), False when not,
    None when either solve failed (no plan in the time, a failed check, an error)."""
    q, b = question["summary"], base["summary"]
    ok = [s.get("status") in Status.HAS_PLAN and s.get("verified") is not False for s in (q, b)]
    failed = [not o and s.get("status") != Status.INFEASIBLE for o, s in zip(ok, (q, b))]
    if any(failed):
        return None
    if not ok[0]:
        return False
    if not ok[1]:
        return True
    tol = max(OUTCOME_REL_TOL, q.get("mip_gap") or 0.0, b.get("mip_gap") or 0.0) * max(1.0, abs(b["outcome_gain"]))
    d_out, d_spend, d_over = (q[k] - b[k] for k in ("outcome_gain", "discounted_spend", "overspend"))
    if d_over > MONEY_TOL or d_out < -tol:
        return False
    return d_out > tol or d_spend < -MONEY_TOL or d_over < -MONEY_TOL


def positive_returns(results: list[dict], cuts: dict) -> dict:
    """{question key: DRAW_COLUMNS}: each question's share of draws with a positive return (over the
    draws where both its solve and the base's answered), and the draws answered and failed."""
    bases = {(r["tag"][1], r["tag"][2]): r for r in results if r["tag"][0] == "draw_base"}
    counts: dict = {}
    for r in results:
        if r["tag"][0] != "draw_question":
            continue
        _, key, i = r["tag"]
        verdict = positive_return(r, bases[(_cut_key(cuts[key]), i)])
        c = counts.setdefault(key, [0, 0, 0])  # positive, answered, failed
        c[0] += bool(verdict)
        c[1] += verdict is not None
        c[2] += verdict is None
    return {k: {"p_positive_return": (p / n) if n else np.nan, "draws_answered": n, "draws_failed": f}
            for k, (p, n, f) in counts.items()}


# ---- one answer ---------------------------------------------------------------------
def _answer(key: str, s: dict, cut, base: dict, res: dict, base_inst: Instance, inst: Instance):
    sm, bs = res["summary"], base["summary"]
    status = sm.get("status")
    row = {"question": s.get("question") or s.get("description") or s.get("name"), "file": Path(key).name,
           "name": s.get("name"), "feasible": status in Status.HAS_PLAN, "status": status,
           "why_infeasible": None, "cut": cut, "base_status": bs.get("status"), "mip_gap": sm.get("mip_gap"),
           "error": res.get("error")}
    if status == Status.INFEASIBLE:
        row["why_infeasible"] = "; ".join(str(c) for c in (sm.get("conflicts") or [])) or "infeasible (no conflict found)"
    elif not row["feasible"]:
        row["why_infeasible"] = sm.get("solver_message") or status
    if not (_has_plan(res) and _has_plan(base)):
        if row["feasible"] and not _has_plan(base):
            row["error"] = f"the base plan at this cut has no plan ({bs.get('status')}): nothing to compare"
        return row, pd.DataFrame(columns=PLAN_COLUMNS)
    d_out = sm["outcome_gain"] - bs["outcome_gain"]
    d_val = sm["outcome_value"] - bs["outcome_value"]
    d_spend = sm["discounted_spend"] - bs["discounted_spend"]
    d_over = sm["overspend"] - bs["overspend"]
    tol = max(OUTCOME_REL_TOL, sm.get("mip_gap") or 0.0, bs.get("mip_gap") or 0.0) * max(1.0, abs(bs["outcome_gain"]))
    out_sign = 0 if abs(d_out) <= tol else int(np.sign(d_out))
    spend_sign = 0 if abs(d_spend) <= MONEY_TOL else int(np.sign(d_spend))
    row.update(outcome_change=d_out, outcome_value_change=d_val, spend_change=d_spend, overspend_change=d_over,
               verdict=_verdict(out_sign, spend_sign, d_over),
               return_per_million=d_out / (d_spend / 1e6) if spend_sign > 0 else np.nan,
               cost_per_outcome_point=d_spend / d_out if spend_sign > 0 and out_sign > 0 else np.nan,
               saving=-d_spend if spend_sign < 0 else 0.0,
               payback_year=payback_year(res["tables"]["spend"], base["tables"]["spend"]),
               base_payback_year=bs.get("payback_year"))
    plan = implementation_plan(base["tables"], res["tables"], inst)
    row["options_adopted"] = "; ".join(
        f"{r.item} (lead {int(r.lead_years)}y)" for r in plan[plan["kind"] == "option adopted"].itertuples())
    row["options_dropped"] = "; ".join(plan.loc[plan["kind"] == "option dropped", "item"])
    row["fte_hires_change"] = float(plan.loc[plan["kind"] == "hires", "change"].sum())
    row["fte_releases_change"] = float(plan.loc[plan["kind"] == "releases", "change"].sum())
    row["buildings_closed"] = "; ".join(f"{r.item} (year {int(r.year)})"
                                        for r in plan[plan["kind"] == "building closed"].itertuples())
    row["buildings_kept"] = "; ".join(plan.loc[plan["kind"] == "building kept open", "item"])
    return row, plan


def _verdict(out_sign: int, spend_sign: int, d_over: float = 0.0) -> str:
    prefix = "less overspend; " if d_over < -MONEY_TOL else "more overspend; " if d_over > MONEY_TOL else ""
    return prefix + {(1, -1): "better and cheaper", (1, 0): "better at the same spend", (1, 1): "better, costs more",
            (0, -1): "same outcome, cheaper", (0, 0): "no material change", (0, 1): "same outcome, costs more",
            (-1, -1): "cheaper, worse outcome", (-1, 0): "worse at the same spend",
            (-1, 1): "worse and costs more"}[(out_sign, spend_sign)]


# ---- the implementation plan ---------------------------------------------------------
def _close_year(bd: pd.DataFrame) -> dict:
    """Each building's year of closing (first year shut, staying shut), or None."""
    out = {}
    for b, g in bd.sort_values("year").groupby("building", sort=False):
        shut = (g["open"].to_numpy() < 0.5)
        years = g["year"].to_numpy()
        out[b] = next((int(years[i]) for i in range(len(shut)) if shut[i:].all()), None)
    return out


def implementation_plan(base: dict, answer: dict, inst: Instance) -> pd.DataFrame:
    """What the answer does differently from the base: one row a decision (PLAN_COLUMNS).

    kinds: option adopted / option dropped / option kept (a current option the base stops
    using and the answer keeps) (with the mechanism's lead years, the setup
    cost and, as `year`, the first year with units); hires / releases / fte (role by year,
    answer - base, FTE); building closed / building kept open (the year it closes in the
    answer, or in the base); extended hours (building, hours over the horizon)."""
    rows = []
    lead = dict(zip(inst.tables["mechanisms"]["mechanism"], inst.tables["mechanisms"]["lead_years"]))
    ob, oa = (t["options"].set_index(["service", "mechanism"]) for t in (base, answer))
    units = answer["units"]
    used = units[units["units"] > 1e-6].groupby(["service", "mechanism"])["year"].min()
    for (svc, mech), r in oa.iterrows():
        was = bool(ob.loc[(svc, mech), "adopted"]) if (svc, mech) in ob.index else False
        now = bool(r["adopted"])
        if now == was:
            continue
        base_current = bool(ob.loc[(svc, mech), "current"]) if (svc, mech) in ob.index else False
        kind = ("option kept" if base_current else "option adopted") if now else "option dropped"
        rows.append({"kind": kind, "item": f"{svc}/{mech}", "detail": "current" if r["current"] else "new",
                     "year": used.get((svc, mech), np.nan) if now else np.nan, "base": float(was),
                     "answer": float(now), "change": float(now) - float(was),
                     "lead_years": float(lead.get(mech, np.nan)), "setup_cost": float(r["setup_cost"])})
    wb, wa = (t["workforce"].set_index(["role", "year"]) for t in (base, answer))
    for col, kind in (("hires", "hires"), ("releases", "releases"), ("fte", "fte")):
        d = wa[col].sub(wb[col], fill_value=0.0)
        for (role, year), v in d.items():
            if abs(v) >= FTE_TOL:
                rows.append({"kind": kind, "item": role, "detail": "FTE", "year": year,
                             "base": float(wb[col].get((role, year), 0.0)), "answer": float(wa[col].get((role, year), 0.0)),
                             "change": float(v), "lead_years": np.nan, "setup_cost": np.nan})
    cb, ca = _close_year(base["buildings"]), _close_year(answer["buildings"])
    for b in sorted(set(cb) | set(ca)):
        yb, ya = cb.get(b), ca.get(b)
        if yb == ya:
            continue
        if ya is not None and (yb is None or ya < yb):
            kind, year = "building closed", ya
        else:
            kind, year = "building kept open", yb
        rows.append({"kind": kind, "item": b, "detail": f"base closes: {yb or 'never'}; answer closes: {ya or 'never'}",
                     "year": year, "base": np.nan if yb is None else float(yb),
                     "answer": np.nan if ya is None else float(ya), "change": np.nan,
                     "lead_years": np.nan, "setup_cost": np.nan})
    eb = base["buildings"].groupby("building")["extended_hours"].sum()
    ea = answer["buildings"].groupby("building")["extended_hours"].sum()
    for b, v in ea.sub(eb, fill_value=0.0).items():
        if abs(v) >= 1.0:
            rows.append({"kind": "extended hours", "item": b, "detail": "hours over the horizon", "year": np.nan,
                         "base": float(eb.get(b, 0.0)), "answer": float(ea.get(b, 0.0)), "change": float(v),
                         "lead_years": np.nan, "setup_cost": np.nan})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


# ---- ranking --------------------------------------------------------------------------
def rank(table: pd.DataFrame, by: str = "return") -> pd.DataFrame:
    """Feasible first; then (by "probability") the largest share of draws with a positive return;
    then the least extra overspend (in £10k steps: the model's own first objective); then the
    largest outcome change; then the largest saving (least extra spend).
    Infeasible and failed questions last, in file order. Adds `rank` (1 = best)."""
    t = table.copy()
    ok = t["feasible"].astype(bool) & t["outcome_change"].notna()
    t["_k0"] = (~ok).astype(int)
    # by probability, before every central key: how often the question pays, across the evidence
    t["_kp"] = -t["p_positive_return"].fillna(-1.0) if by == "probability" else 0.0
    t["_k1"] = (t["overspend_change"].fillna(0.0) / MONEY_TOL).round().where(ok, 0.0)
    t["_k2"] = -t["outcome_change"].fillna(0.0)
    t["_k3"] = t["spend_change"].fillna(0.0)
    t["_k4"] = np.arange(len(t))
    keys = ["_k0", "_kp", "_k1", "_k2", "_k3", "_k4"]
    t = t.sort_values(keys).drop(columns=keys)
    t.insert(0, "rank", range(1, len(t) + 1))
    return t.reset_index(drop=True)
