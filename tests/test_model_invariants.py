"""Properties every plan must have, whatever the numbers: scale, row order, determinism,
policy nesting (status quo / salami / redesign) and the sign of the outcome gain.

Most run on instances/tiny (copied to a tmp dir, changed there); one Engine per instance is
built once per module and re-solved for each policy and cut, as the library does.
"""
from __future__ import annotations

import random

import pandas as pd
import pytest

import modelkit as mk
from commissionopt.data.load import load_instance
from commissionopt.runs.engine import Engine

# result tables compared between runs, with their keys
KEYS = {
    "units": ["service", "mechanism", "year"],
    "options": ["service", "mechanism"],
    "need": ["cohort", "level", "year"],
    "workforce": ["role", "year"],
    "buildings": ["building", "year"],
    "building_use": ["service", "building", "year"],
    "pooling": ["stream"],
    "spend": ["year"],
    "outcomes": ["year"],
    "reserves": ["year"],
}
MONEY = {  # money columns of the result tables (docs/results.md)
    "units": ["direct_spend"],
    "options": ["setup_cost"],
    "workforce": ["staff_cost", "agency_cost", "redundancy_cost"],
    "buildings": ["fixed_cost", "hours_cost", "extended_cost", "closure_cost", "capital_receipt"],
    "pooling": ["pooling_cost"],
    "spend": ["direct", "staff", "buildings", "setup", "pooling", "total"],
    "reserves": ["drawn", "receipts", "available_cumulative"],
}


def sorted_table(plan, name):
    return plan.tables[name].sort_values(KEYS[name]).reset_index(drop=True)


def assert_same_plan(a, b, money_factor: float = 1.0, rtol: float = 1e-7, atol: float = 1e-6,
                     money_atol: float = 1.0):
    """Every table of plan b equals plan a's; b's money columns times money_factor equal a's.

    Money columns get an absolute tolerance of `money_atol` pounds: HiGHS holds the least
    overspend with a give of 1e-6 model units (about a penny on tiny) and solves to 1e-7,
    so in a plan that overspends, where the reserves are drawn can move by pennies between
    equally good plans. People, units and hours stay at atol."""
    for name in KEYS:
        x, y = sorted_table(a, name), sorted_table(b, name).copy()
        money = MONEY.get(name, [])
        for col in money:
            y[col] = y[col] * money_factor
        rest = [c for c in x.columns if c not in money]
        pd.testing.assert_frame_equal(x[rest], y[rest], check_exact=False, rtol=rtol, atol=atol * max(1.0, money_factor),
                                      obj=name)
        if money:
            pd.testing.assert_frame_equal(x[money], y[money], check_exact=False, rtol=rtol, atol=money_atol,
                                          obj=f"{name} (money)")


@pytest.fixture(scope="module")
def tiny_folder():
    return mk.read_folder(mk.TINY)


@pytest.fixture(scope="module")
def tiny_engine():
    return Engine(load_instance(mk.TINY))


def copy_tiny(tmp_path_factory, tiny_folder, name, change=None):
    meta, tables = tiny_folder
    meta = dict(meta)
    tables = {k: [dict(r) for r in v] for k, v in tables.items()}
    if change:
        change(meta, tables)
    return load_instance(mk.write_folder(tmp_path_factory.mktemp(name) / name, meta, tables))


# --- scale and order -----------------------------------------------------------------------

def divide_money(meta, tables, by=1000.0):
    meta["reserves"] = {k: (v / by if k in ("opening", "minimum") else v) for k, v in meta["reserves"].items()}
    for table, cols in mk.money_columns().items():
        for row in tables.get(table, []):
            for col in cols:
                if row.get(col, "") != "":
                    row[col] = repr(float(row[col]) / by)


@pytest.fixture(scope="module")
def tiny_in_thousands(tmp_path_factory, tiny_folder):
    return Engine(copy_tiny(tmp_path_factory, tiny_folder, "thousands", divide_money))


@pytest.mark.parametrize("model, cut", [("salami", 0.25), ("redesign", 0.1), ("redesign", 0.25)])
def test_plan_does_not_depend_on_the_unit_of_money(tiny_engine, tiny_in_thousands, model, cut):
    # Every £ figure / 1000 (unit costs, setup, funding, pooling, staff, buildings, future cost,
    # reserves): the same units, need, FTE and buildings; every money column / 1000; the same
    # outcome (harm and gain are not money).
    a = mk.run(None, model, cut, engine=tiny_engine)
    b = mk.run(None, model, cut, engine=tiny_in_thousands)
    assert_same_plan(a, b, money_factor=1000.0)
    assert b.summary["outcome_value"] == pytest.approx(a.summary["outcome_value"], rel=1e-9)
    assert b.summary["outcome_gain"] == pytest.approx(a.summary["outcome_gain"], rel=1e-7)
    assert b.summary["discounted_spend"] * 1000 == pytest.approx(a.summary["discounted_spend"], rel=1e-9)
    assert b.summary["overspend"] * 1000 == pytest.approx(a.summary["overspend"], rel=1e-6, abs=1.0)


@pytest.mark.parametrize("seed", [1, 2])
def test_plan_does_not_depend_on_row_order(tiny_engine, tmp_path_factory, tiny_folder, seed):
    def shuffle(meta, tables):
        rng = random.Random(seed)
        for rows in tables.values():
            rng.shuffle(rows)
    shuffled = Engine(copy_tiny(tmp_path_factory, tiny_folder, f"shuffled{seed}", shuffle))
    for model, cut in (("salami", 0.25), ("redesign", 0.25)):
        a = mk.run(None, model, cut, engine=tiny_engine)
        b = mk.run(None, model, cut, engine=shuffled)
        assert_same_plan(a, b)
        assert b.summary["outcome_value"] == pytest.approx(a.summary["outcome_value"], rel=1e-9)


def test_same_plan_from_run_to_run(tiny_engine):
    # A fresh Engine on the same instance, and the same Engine after other solves, give the
    # very same tables (to the last bit).
    first = mk.run(None, "redesign", 0.25, engine=tiny_engine)
    mk.run(None, "salami", 0.5, engine=tiny_engine)
    again = mk.run(None, "redesign", 0.25, engine=tiny_engine)
    fresh = mk.run(None, "redesign", 0.25, engine=Engine(load_instance(mk.TINY)))
    for other in (again, fresh):
        for name in KEYS:
            pd.testing.assert_frame_equal(first.tables[name], other.tables[name], check_exact=True, obj=name)
        assert other.summary["outcome_value"] == first.summary["outcome_value"]


# --- policies nest --------------------------------------------------------------------------------

def test_salami_at_no_cut_is_the_status_quo(tiny_engine):
    sq = mk.run(None, "status_quo", engine=tiny_engine)
    salami = mk.run(None, "salami", 0.0, engine=tiny_engine)
    assert_same_plan(sq, salami)
    for key in ("outcome_value", "discounted_spend", "overspend"):
        assert salami.summary[key] == pytest.approx(sq.summary[key], rel=1e-9, abs=1e-6)


def test_status_quo_ignores_the_cut(tiny_engine):
    # status_quo is "no cut" whatever cut is asked for
    a = mk.run(None, "status_quo", 0.0, engine=tiny_engine)
    b = mk.run(None, "status_quo", 0.3, engine=tiny_engine)
    assert_same_plan(a, b)


def richer_tiny(meta, tables):
    # general fund x 1.5, so that salami needs no overspend at small cuts
    for row in tables["funding"]:
        if row["stream"] == "general_fund":
            row["base_amount"] = repr(float(row["base_amount"]) * 1.5)


@pytest.fixture(scope="module")
def rich_engine(tmp_path_factory, tiny_folder):
    return Engine(copy_tiny(tmp_path_factory, tiny_folder, "rich", richer_tiny))


@pytest.mark.parametrize("cut", [0.0, 0.1, 0.2])
def test_redesign_does_at_least_as_well_as_salami_when_salami_is_affordable(rich_engine, cut):
    # Every salami plan is a redesign plan (the redesign only frees bounds), so where salami needs
    # no overspend the redesign, also at no overspend, reaches at least salami's outcome
    # (up to the 0.1% MIP gap of the model files, measured on the outcome gain).
    salami = mk.run(None, "salami", cut, engine=rich_engine)
    assert salami.summary["overspend_nominal"] == pytest.approx(0, abs=1.0)
    redesign = mk.run(None, "redesign", cut, engine=rich_engine)
    assert redesign.summary["overspend_nominal"] == pytest.approx(0, abs=1.0)  # the hold: 1e-6 model units
    tol = 1e-3 * abs(redesign.summary["outcome_gain"])
    assert redesign.summary["outcome_value"] >= salami.summary["outcome_value"] - tol


@pytest.mark.parametrize("cut", [0.1, 0.25, 0.5])
def test_redesign_overspends_no_more_than_salami_on_tiny(tiny_engine, cut):
    salami = mk.run(None, "salami", cut, engine=tiny_engine)
    redesign = mk.run(None, "redesign", cut, engine=tiny_engine)
    assert redesign.summary["overspend"] <= salami.summary["overspend"] * (1 + 1e-6) + 1.0


@pytest.mark.parametrize("model", ["status_quo", "salami", "redesign", "min_cost", "max_efficiency"])
def test_outcome_gain_is_never_negative(tiny_engine, model):
    # Serving never makes need worse, so every plan is at least as good as serving nobody.
    for cut in (0.0, 0.25, 0.5):
        plan = mk.run(None, model, cut, engine=tiny_engine)
        assert plan.summary["outcome_gain"] >= -1e-7
        assert plan.summary["outcome_gain"] == pytest.approx(
            plan.summary["outcome_value"] - plan.summary["outcome_none"], rel=1e-12, abs=1e-9)
        need = plan.tables["need"]
        assert (need["served"] <= need["need"] + 1e-6).all()


# --- the MIP gap is a gap on the gain --------------------------------------------------------------

def many_options(crowd: float) -> mk.Case:
    """12 services at people/emerging, each with its current in-house option and two new ones
    (with setup costs; one reaching at most 30% of the need), money short: a small but real
    adoption MIP. `crowd` people a year sit at people/crisis, which no service serves: their
    harm is a constant that no decision changes."""
    rng = random.Random(3)
    c = mk.Case()
    c.drop("services").drop("options").drop("gains")
    c.set("needs", dict(level="emerging"), population_base=300, arrivals_per_year=300)
    c.set("needs", dict(level="crisis"), population_base=crowd, arrivals_per_year=crowd)
    c.set("funding", dict(stream="general"), base_amount=60000)
    c.add("mechanisms", mechanism="contract", transaction_rate=0.05, lead_years=1)
    c.add("mechanisms", mechanism="grant", transaction_rate=0.0, lead_years=0)
    for i in range(12):
        s = f"s{i}"
        c.add("services", service=s, cohort="people", level="emerging", people_per_unit=1, base_units=5,
              min_units=0, max_units=rng.choice([20, 40, 60]), tags="x")
        c.add("gains", service=s, domain="wellbeing", gain_per_unit=round(rng.uniform(0.2, 0.9), 3))
        c.add("options", service=s, mechanism="in_house", current="true", unit_cost=rng.choice([150, 200, 250]))
        c.add("options", service=s, mechanism="contract", current="false", unit_cost=rng.choice([60, 90, 120]),
              quality=round(rng.uniform(0.8, 1.3), 2), setup_cost=rng.choice([1000, 3000, 6000]))
        c.add("options", service=s, mechanism="grant", current="false", unit_cost=rng.choice([80, 110, 140]),
              quality=round(rng.uniform(0.8, 1.3), 2), setup_cost=rng.choice([1000, 2000, 5000]), max_share=0.3)
    return c


def best_gain(inst) -> float:
    return mk.run(inst, mk.spec(gap=1e-9)).summary["outcome_gain"]


def test_redesign_is_within_its_gap_of_the_best_gain(tmp_path):
    inst = many_options(10).load(tmp_path)
    plan = mk.run(inst, "redesign")
    assert plan.summary["outcome_gain"] >= best_gain(inst) * (1 - 1e-3) - 1e-6


def test_a_constant_harm_does_not_loosen_the_redesign(tmp_path):
    # The same area with a million people a year in a need nothing serves: the decisions and the
    # gain are the same problem, so the redesign must still be within 0.1% of the best gain.
    inst = many_options(1e6).load(tmp_path)
    plan = mk.run(inst, "redesign")
    assert plan.summary["outcome_gain"] >= best_gain(inst) * (1 - 1e-3) - 1e-6
