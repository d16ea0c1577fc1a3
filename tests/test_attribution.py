"""Shapley attribution of the redesign's advantage over salami to the seven levers."""
from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction
from pathlib import Path

import pytest

from commissionopt.data.load import load_instance
from commissionopt.errors import InputError
from commissionopt.policies.spec import LEVERS
from commissionopt.runs.attribution import attribute, gray_order, shapley, subset_spec
from commissionopt.runs.engine import as_spec
from commissionopt.runs.parallel import Task, local_cluster, run_tasks

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"
CUT = 0.15


def subsets(players):
    return [frozenset(c) for k in range(len(players) + 1) for c in itertools.combinations(players, k)]


# ---- the Shapley arithmetic on games built by hand ---------------------------------------
def test_efficiency_holds_exactly_on_a_random_game():
    rng = random.Random(1)
    players = "abcde"
    v = {S: rng.uniform(-100, 100) for S in subsets(players)}
    phi = shapley(v, players)
    assert sum(phi.values()) == Fraction(v[frozenset(players)]) - Fraction(v[frozenset()])


def test_symmetric_players_get_the_same_value():
    # a and b are interchangeable: v depends on how many of them are in S, and on c
    def value(S):
        return 10 * len(S & {"a", "b"}) ** 2 + (7 if "c" in S else 0) + 3 * ("c" in S and "a" in S or "c" in S and "b" in S)
    v = {S: value(S) for S in subsets("abc")}
    phi = shapley(v, "abc")
    assert phi["a"] == phi["b"]


def test_a_dummy_player_gets_nothing_and_an_additive_game_is_split_by_its_parts():
    w = {"a": 3.0, "b": -1.5, "c": 0.0}
    v = {S: sum(w[p] for p in S) + 2.0 for S in subsets("abc")}
    assert shapley(v, "abc") == {p: Fraction(x) for p, x in w.items()}


def test_gray_order_visits_every_subset_one_lever_at_a_time():
    order = gray_order(7)
    assert sorted(order) == list(range(128))
    assert all(bin(a ^ b).count("1") == 1 for a, b in zip(order, order[1:]))


def test_no_levers_is_salami_and_all_levers_is_the_redesign():
    base = as_spec("redesign")
    none, every = subset_spec(base, set()), subset_spec(base, set(LEVERS))
    assert none.policy == "optimise" and none.objective == "max_outcome"
    assert none.levers == as_spec("salami").levers
    assert every.levers == base.levers and every.solver == base.solver


@pytest.mark.parametrize("levers", [(), ("reallocate", "reallocate"), ("reallocate", "magic")])
def test_bad_levers_are_bad_input(levers):
    with pytest.raises(InputError) as e:
        attribute(None, 0.1, levers=levers)
    assert "--levers" in str(e.value)


# ---- on the model -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as c:  # the runner's own local cluster, shared by the module's tests
        yield c.scheduler_address


@pytest.fixture(scope="module")
def tiny():
    return load_instance(TINY)


def assert_adds_up(att):
    total = att.v_all - att.v_empty
    assert math.fsum(att.table["contribution"]) == pytest.approx(total, rel=1e-12, abs=1e-9)
    if total != 0:
        assert math.fsum(att.table["share"]) == pytest.approx(1.0, rel=1e-12)
    # the overspend side of the same solves adds up the same way
    over = att.table.attrs["overspend_all"] - att.table.attrs["overspend_empty"]
    assert math.fsum(att.table["overspend_contribution"]) == pytest.approx(over, rel=1e-12, abs=1e-6)
    # exact in rationals, before each value is rounded to a float
    phi = shapley({frozenset(k for k in att.levers if row[k]): row["outcome_gain"]
                   for _, row in att.values.iterrows()}, att.levers)
    assert sum(phi.values()) == Fraction(att.v_all) - Fraction(att.v_empty)


@pytest.mark.slow  # a local Dask cluster
def test_three_levers_add_up_to_the_gain_from_all_three(tiny, cluster):
    levers = ("reallocate", "early_intervention", "mechanisms")
    ticks = []
    att = attribute(tiny, CUT, levers=levers, scheduler=cluster, progress=ticks.append)
    assert ticks == [1] * 8
    assert len(att.values) == 8 and list(att.table["lever"]) == list(levers)
    assert (att.values["status"] == "optimal").all() and att.values["verified"].all()
    assert_adds_up(att)
    # others held off: the empty set is salami itself
    salami = run_tasks(tiny, [Task(model="salami", cut=CUT)], scheduler=cluster)[0]["summary"]
    assert salami["status"] == "optimal"
    assert att.v_empty == pytest.approx(salami["outcome_gain"], rel=1e-9)
    assert att.held == {k: False for k in LEVERS if k not in levers}
    assert att.largest_gap == max(att.values["mip_gap"])


@pytest.mark.slow  # a local Dask cluster
def test_a_lever_that_changes_nothing_gets_nothing(tiny, cluster):
    # no stream may be pooled: the pooling lever frees nothing, so every v(S + pooling) = v(S)
    inst = tiny.copy()
    inst.tables["funding"]["poolable"] = False
    att = attribute(inst, CUT, levers=("early_intervention", "pooling"), scheduler=cluster)
    vals = {frozenset(k for k in att.levers if r[k]): r["outcome_gain"] for _, r in att.values.iterrows()}
    for S in (frozenset(), frozenset({"early_intervention"})):
        assert vals[S | {"pooling"}] == pytest.approx(vals[S], rel=1e-9)
    contrib = dict(zip(att.table["lever"], att.table["contribution"]))
    assert att.v_all > att.v_empty
    assert contrib["pooling"] == pytest.approx(0.0, abs=1e-9 * att.v_all)
    assert contrib["early_intervention"] == pytest.approx(att.v_all - att.v_empty, rel=1e-9)
    assert_adds_up(att)


@pytest.mark.slow  # a local Dask cluster
def test_all_seven_levers_in_parallel_add_up_to_redesign_minus_salami(tiny, cluster):
    att = attribute(tiny, CUT, scheduler=cluster)
    assert len(att.values) == 128 and att.values["verified"].all()
    assert set(att.values["status"]) == {"optimal"}
    assert_adds_up(att)
    red = att.values[att.values["size"] == 7].iloc[0]
    assert red["model"] == "levers:" + "+".join(LEVERS)
    assert att.largest_gap <= 1e-3 + 1e-12
