"""The infeasibility explainer: conflicts named in the analyst's words, with amounts that are right.

Instances are instances/tiny copied to tmp_path and edited (only the columns a test relies on),
then loaded through the ordinary loader and solved through the public Engine.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

from commissionopt.data.load import load_instance
from commissionopt.runs.engine import Engine
from commissionopt.solve.explain import describe, describe_bound, explain, explain_infeasible, family_of
from commissionopt.solve.highs import HighsSession

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def edited_tiny(tmp_path: Path, name: str, **edits) -> Path:
    """instances/tiny copied to tmp_path/name, each table passed through its edit function."""
    folder = tmp_path / name
    shutil.copytree(TINY, folder)
    for table, fn in edits.items():
        path = folder / f"{table}.csv"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        fn(df).to_csv(path, index=False)
    return folder


def _rows(df, **match):
    mask = np.ones(len(df), bool)
    for col, val in match.items():
        mask &= (df[col] == val).to_numpy()
    assert mask.any(), f"no row {match}"
    return mask


def staff_limited(tmp_path, agency_hours=0.0, name="staff", early_help_resolves=0.0):
    """Child protection in-house only, 60 social-worker hours a child, 5 FTE, no hiring, no agency
    (unless `agency_hours`), and crisis arrivals growing 50% a year: the duty outgrows the staff.
    `early_help_resolves`: early help's effect_resolution (it also keeps children out of emerging need)."""
    def workforce(df):
        m = _rows(df, role="social_worker")
        df.loc[m, ["fte_base", "hours_per_fte", "max_hire", "max_release", "max_agency_hours"]] = \
            ["5", "1500", "0", "0", repr(float(agency_hours))]
        return df

    def option_staff(df):
        df.loc[_rows(df, service="child_protection", mechanism="in_house", role="social_worker"),
               "hours_per_unit"] = "60"
        return df

    def options(df):
        keep = ~((df["service"] == "child_protection") & (df["mechanism"] != "in_house"))
        df = df[keep].copy()
        df.loc[_rows(df, service="child_protection", mechanism="in_house"), ["failure_demand", "effect_escalation"]] = ["0", "0"]
        df.loc[df["service"] == "early_help", "effect_resolution"] = repr(float(early_help_resolves))
        return df

    def needs(df):
        df.loc[_rows(df, cohort="children", level="crisis"),  # tiny's duty child_protection covers it all
               ["population_base", "arrivals_per_year", "arrivals_growth"]] = ["100", "10", "0.5"]
        return df

    def services(df):
        df.loc[_rows(df, service="child_protection"), ["people_per_unit", "max_units"]] = ["1", "1000"]
        return df

    return load_instance(edited_tiny(tmp_path, name, workforce=workforce, option_staff=option_staff,
                                     options=options, needs=needs, services=services))


def infeasible_engine(inst, policy="redesign"):
    e = Engine(inst)
    plan = e.run(policy, 0.0, verify=False)
    assert plan.summary["status"] == "infeasible"
    return e


HOURS = re.compile(r"needs ([\d,.]+) staff hours of social_worker more than hiring and agency limits allow")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


# ---------------------------------------------------------------------------------------
def test_statutory_duty_against_staff_limits_is_named_with_the_hour_shortfall(tmp_path):
    e = infeasible_engine(staff_limited(tmp_path))
    ex = explain(e.session, e.md)
    assert ex.method == "iis" and ex.relaxed_integrality
    head = ex.lines[0]
    year = ex.first_year
    assert year is not None and year > 1, "need rises: the first years are feasible"
    assert head.startswith(f"statutory duty child_protection (children/crisis) in year {year} needs ")
    m = HOURS.search(head)
    assert m, head
    hours = _number(m.group(1))
    assert hours > 0
    # what can be had: 5 FTE x 1,500 h, no hires, no agency
    assert "at most 7,500 h to be had (5 FTE now + 0 hires a year, x 1,500 h, + 0 agency hours)" in head
    # the hours the duty needs at minimum, and the people short, say the same shortfall
    need_h = _number(re.search(r"at least ([\d,.]+) h of social_worker", head).group(1))
    assert need_h - 7500 == pytest.approx(hours, abs=1.0)
    short = _number(re.search(r"short by ([\d,.]+) people", head).group(1))
    assert short * 60 == pytest.approx(hours, rel=0.02)
    # the members map back to the named families
    fams = {mem.family for mem in ex.members}
    assert "duty_met" in fams and "need_flow" in fams
    assert any(mem.family == "x" and mem.key[:2] == ("child_protection", "in_house") for mem in ex.members) \
        or "staff_hours" in fams
    assert "IIS" in ex.lines[-1] and "relaxation" in ex.lines[-1]
    assert explain_infeasible(e.session, e.md) == ex.lines


def test_the_hour_shortfall_is_exact(tmp_path):
    """Agency hours just below the reported shortfall leave the same first year infeasible; just above
    it, that year becomes feasible (the conflict moves later or disappears)."""
    e = infeasible_engine(staff_limited(tmp_path))
    ex = explain(e.session, e.md)
    hours = _number(HOURS.search(ex.lines[0]).group(1))
    year = ex.first_year

    below = Engine(staff_limited(tmp_path, agency_hours=0.98 * hours, name="below"))
    assert below.run("redesign", 0.0, verify=False).summary["status"] == "infeasible"
    assert explain(below.session, below.md).first_year == year

    above = Engine(staff_limited(tmp_path, agency_hours=1.02 * hours, name="above"))
    plan = above.run("redesign", 0.0, verify=False)
    if plan.summary["status"] == "infeasible":
        assert explain(above.session, above.md).first_year > year


def test_salami_fails_earlier_and_names_the_policy_cap(tmp_path):
    """Salami slicing holds early help at its cut level: the same duty fails no later, and the policy's
    cap on early_help is part of the conflict. (Early help must matter for that: with its escalation
    effect alone even the most of it cannot avert this duty's shortfall, so here it also resolves 80%
    of the emerging need of those it serves.)"""
    inst = staff_limited(tmp_path, early_help_resolves=0.8)
    e = infeasible_engine(inst, "redesign")
    redesign_year = explain(e.session, e.md).first_year
    plan = e.run("salami", 0.0, verify=False)
    assert plan.summary["status"] == "infeasible"
    ex = explain(e.session, e.md)
    assert ex.first_year <= redesign_year
    text = "\n".join(ex.lines)
    assert f"statutory duty child_protection (children/crisis) in year {ex.first_year}" in ex.lines[0]
    assert "the policy's cap of" in text and "units of early_help" in text


def test_service_maximum_below_the_duty(tmp_path):
    def services(df):
        df.loc[_rows(df, service="child_protection"), ["base_units", "max_units", "people_per_unit"]] = \
            ["80", "80", "1"]
        return df

    def options(df):
        df.loc[df["service"] == "child_protection", "failure_demand"] = "0"
        return df

    inst = load_instance(edited_tiny(tmp_path, "maxu", services=services, options=options))
    for policy in ("redesign", "salami"):
        e = infeasible_engine(inst, policy)
        ex = explain(e.session, e.md)
        year = ex.first_year
        head = ex.lines[0]
        m = re.search(rf"statutory duty child_protection \(children/crisis\) in year {year} needs ([\d,.]+) units of "
                      r"child_protection more than its maximum of 80 units allow", head)
        assert m, head
        # in year 1 nothing the plan does changes need: the shortfall is need minus 80, from the data
        if year == 1:
            need = e.md.nmax[("children", "crisis", 1)]
            assert _number(m.group(1)) == pytest.approx(need - 80, abs=0.06)
        assert any(mem.family in ("service_max", "x") for mem in ex.members)


def test_elastic_fallback_reports_slack_by_family(tmp_path):
    """As when HiGHS gives no IIS in time: the elastic re-solve names the duty and how far short it falls."""
    e = infeasible_engine(staff_limited(tmp_path))
    first = explain(e.session, e.md).first_year
    ex = explain(e.session, e.md, use_iis=False)
    assert ex.method == "elastic"
    assert ex.lines[0].startswith(f"statutory duty child_protection (children/crisis) in year {first} ")
    assert re.search(r"short by [\d,.]+ people", ex.lines[0])
    assert ex.slacks and all(v > 0 for _, v in ex.slacks)
    assert any(name.startswith("demand.duty_met[child_protection,") for name, _ in ex.slacks)
    assert "elastic re-solve" in ex.lines[-1] and "integer decisions kept" in ex.lines[-1]


def integrality_only_session():
    """fte integer, fte = 1 + hire with hire <= 0.8, and 1,500 h x fte >= 2,250 h with no agency:
    fte = 1.5 solves the LP, no integer fte does. The Engine's own model cannot be infeasible only
    through integers (rounding every binary up keeps every row satisfied), so it is built here."""
    m = pyo.ConcreteModel()
    m.workforce = pyo.Block()
    w = m.workforce
    RY = [("social_worker", 1)]
    w.fte = pyo.Var(RY, domain=pyo.NonNegativeIntegers)
    w.hire = pyo.Var(RY, domain=pyo.NonNegativeReals, bounds=(0, 0.8))
    w.agency = pyo.Var(RY, domain=pyo.NonNegativeReals, bounds=(0, 0))
    w.fte_balance = pyo.Constraint(RY, rule=lambda b, r, y: b.fte[r, y] == 1 + b.hire[r, y])
    w.staff_hours = pyo.Constraint(RY, rule=lambda b, r, y: 2250 <= 1500 * b.fte[r, y] + b.agency[r, y])
    m.obj_cost = pyo.Objective(expr=w.fte["social_worker", 1])
    s = HighsSession(m)
    s.h.run()
    assert s.h.getModelStatus() == highspy.HighsModelStatus.kInfeasible
    return s


def test_infeasible_only_through_integers_uses_the_elastic_fallback():
    s = integrality_only_session()
    ex = explain(s, None)
    assert ex.method == "elastic+iis_fixed"
    assert ex.lines[0].startswith("staff hours of social_worker in year 1")
    assert "750 hours of social_worker more than staff and agency provide" in ex.lines[0]
    assert "infeasible only through its integer decisions" in ex.lines[1]
    fixed = "\n".join(ex.lines[2:])
    assert "750 staff hours of social_worker" in fixed and "(as fixed in that plan)" in fixed


def test_time_limit_is_kept_and_nothing_raises(tmp_path):
    e = infeasible_engine(staff_limited(tmp_path))
    ex = explain(e.session, e.md, time_limit=0.001)
    assert ex.seconds < 5.0
    assert ex.lines and ex.method in ("none", "elastic", "iis")


def test_the_session_is_left_as_it_was(tmp_path):
    e = infeasible_engine(staff_limited(tmp_path))
    before = e.session.h.getLp()
    explain(e.session, e.md)
    after = e.session.h.getLp()
    assert after.num_row_ == before.num_row_ and after.num_col_ == before.num_col_
    assert np.array_equal(after.col_lower_, before.col_lower_)
    assert np.array_equal(after.col_upper_, before.col_upper_)
    assert np.array_equal(after.row_lower_, before.row_lower_)
    assert list(after.integrality_) == list(before.integrality_)
    assert e.run("redesign", 0.0, verify=False).summary["status"] == "infeasible"


def test_every_family_has_words(tmp_path):
    inst = load_instance(TINY)
    e = Engine(inst)
    families = set()
    for con in e.m.component_data_objects(pyo.Constraint, active=True):
        words = describe(con, e.md)
        assert words != con.name and "[" not in words, (con.name, words)
        families.add(family_of(con))
    assert {"duty_met", "need_flow", "coverage", "service_max", "policy_units", "staff_hours",
            "fte_balance", "building_capacity", "stream_limit", "service_funding", "staff_funding",
            "overheads_funding", "reserves", "pace_growth", "pace_decline", "exit_rate", "share_cap",
            "full_effect", "beyond_link"} <= families
    for v in e.session.columns:
        if family_of(v) in ("x", "n", "hire", "release", "agency", "fte", "adopt", "open", "extra", "pool", "above",
                            "idle", "beyond", "fund_staff"):
            for side, val in (("upper", v.ub), ("lower", v.lb)):
                if val is not None:
                    words = describe_bound(v, side, val, e.md)
                    assert "[" not in words, (v.name, side, words)
