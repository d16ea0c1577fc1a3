"""Sweeps and the parallel runner: cuts parsed, the same table serially and on Dask, plans
verified, one compiled model per worker re-solved warm."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from commissionopt.data.load import load_instance
from commissionopt.errors import InputError
from commissionopt.runs.parallel import Task, instance_key, run_tasks
from commissionopt.runs.sweep import COLUMNS, chunk_size, parse_cuts, sweep, sweep_tasks

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"
CUTS = "0:0.25:0.05"  # six points


@pytest.fixture(scope="module")
def tiny():
    return load_instance(TINY)


# ---- parse_cuts ------------------------------------------------------------------------
def test_parse_cuts_range_includes_stop_within_float_tolerance():
    assert parse_cuts("0:0.5:0.05") == [round(0.05 * k, 10) for k in range(11)]
    assert parse_cuts("0:0.5:0.05")[-1] == 0.5
    assert parse_cuts("0.1:0.3:0.1") == [0.1, 0.2, 0.3]  # 0.1 + 2 * 0.1 is 0.30000000000000004
    assert len(parse_cuts("0:0.5:0.01")) == 51
    assert parse_cuts("0.2:0.2:0.1") == [0.2]
    assert parse_cuts("0:0.25:0.1") == [0.0, 0.1, 0.2]  # stop not on the grid: not passed


def test_parse_cuts_list_and_numbers():
    assert parse_cuts("0, 0.1,0.25") == [0.0, 0.1, 0.25]
    assert parse_cuts("0.3") == [0.3]
    assert parse_cuts([0, 0.2]) == [0.0, 0.2]
    assert parse_cuts(0.1) == [0.1]


@pytest.mark.parametrize("text", ["", "a,b", "0:0.5", "0:0.5:0", "0:0.5:-0.1", "0.5:0:0.1", "0:1:0.5", "-0.1",
                                  "1", "0:0.5:x", "nan"])
def test_bad_cuts_name_the_option_and_the_value(text):
    with pytest.raises(InputError) as e:
        parse_cuts(text)
    assert "--cuts" in str(e.value)


# ---- batches ---------------------------------------------------------------------------
def test_batches_are_contiguous_runs_of_one_policy_fixed_by_the_points_only():
    tasks = sweep_tasks(parse_cuts(CUTS), ("salami", "redesign"))
    assert chunk_size(6) == 3 and chunk_size(51) == 7
    batches = {}
    for t in tasks:
        batches.setdefault(t.batch, []).append((t.tag["policy"], t.tag["cut"]))
    assert len(batches) == 4
    for members in batches.values():
        assert len({p for p, _ in members}) == 1  # one policy a batch
        cuts = [c for _, c in members]
        assert cuts == sorted(cuts)  # a contiguous, ordered run of cuts


def test_instance_key_changes_with_the_data(tiny):
    other = tiny.copy()
    assert instance_key(other) == instance_key(tiny)
    other.tables["options"].loc[0, "unit_cost"] = other.tables["options"].loc[0, "unit_cost"] + 1
    assert instance_key(other) != instance_key(tiny)


# ---- the sweep, serially and on two Dask workers ---------------------------------------
@pytest.fixture(scope="module")
def serial(tiny):
    ticks = []
    df = sweep(tiny, CUTS, workers=1, progress=ticks.append)
    return df, ticks


@pytest.fixture(scope="module")
def on_dask(tiny):
    ticks = []
    df = sweep(tiny, CUTS, workers=2, progress=ticks.append)
    return df, ticks


def test_sweep_table_has_a_row_per_policy_and_cut(serial):
    df, ticks = serial
    assert list(df.columns) == list(COLUMNS)
    assert list(df["policy"]) == ["salami"] * 6 + ["redesign"] * 6
    assert list(df["cut"]) == parse_cuts(CUTS) * 2
    assert ticks == [1] * 12  # progress once per finished solve


def test_every_point_is_solved_and_verified(serial):
    df, _ = serial
    assert (df["status"] == "optimal").all(), df[["policy", "cut", "status"]]
    assert df["verified"].all()
    assert (df["mip_gap"] <= 1e-3 + 1e-12).all()
    assert df.attrs["errors"] == []


def test_serial_sweep_builds_one_model_and_re_solves_it(serial):
    df, _ = serial
    assert df.attrs["mode"] == "serial"
    assert df.attrs["engine_builds"] == 1
    assert len(df.attrs["processes"]) == 1


@pytest.mark.slow  # a local Dask cluster
def test_two_dask_workers_give_the_identical_table(serial, on_dask):
    a, _ = serial
    b, ticks = on_dask
    assert b.attrs["mode"] == "dask"
    assert ticks == [1] * 12
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.slow  # a local Dask cluster
def test_each_dask_worker_builds_one_model_and_re_solves_it(on_dask):
    df, _ = on_dask
    procs = df.attrs["processes"]
    assert 1 <= len(procs) <= 2
    # four batches of three points on two workers: one build per worker process, no more
    assert df.attrs["engine_builds"] == len(procs)


def test_runner_returns_results_in_task_order_with_the_tables_asked_for(tiny):
    tasks = [Task(model="redesign", cut=c, tables=("spend",), tag=i, batch=i % 2) for i, c in enumerate((0.2, 0.0, 0.1))]
    res = run_tasks(tiny, tasks, workers=0)
    assert [r["tag"] for r in res] == [0, 1, 2]
    assert [r["summary"]["cut"][1] for r in res] == [0.2, 0.0, 0.1]
    assert all(set(r["tables"]) == {"spend"} for r in res)
    assert sum(r["run"]["engine_built"] for r in res) == 1
    # tasks of one batch run in order on one engine
    assert [r["run"]["batch"] for r in res] == [0, 1, 0]
    assert [r["run"]["position_in_batch"] for r in res] == [0, 0, 1]


def test_a_failing_task_is_reported_not_raised(tiny):
    res = run_tasks(tiny, [Task(model="redesign", cut=0.1), Task(model="redesign", cut={"x": 1})], workers=0)
    assert res[0]["summary"]["status"] == "optimal"
    assert res[1]["summary"]["status"] == "error" and res[1]["error"]


def test_tasks_on_several_instances_get_one_engine_each(tiny):
    richer = tiny.copy()
    richer.tables["funding"].loc[0, "base_amount"] = richer.tables["funding"].loc[0, "base_amount"] * 1.1
    tasks = [Task(model="redesign", cut=0.1, instance=k, tag=k) for k in ("base", "richer", "base")]
    res = run_tasks({"base": tiny, "richer": richer}, tasks, workers=0)
    assert [r["tag"] for r in res] == ["base", "richer", "base"]
    assert sum(r["run"]["engine_built"] for r in res) == 2
    assert res[0]["summary"]["outcome_gain"] == res[2]["summary"]["outcome_gain"]
    assert res[1]["summary"]["outcome_gain"] > res[0]["summary"]["outcome_gain"]


def test_a_plan_failing_the_check_has_no_figures_in_the_table():
    from commissionopt.runs.sweep import sweep_table
    good = {"status": "optimal", "verified": True, "mip_gap": 0.0, "outcome_gain": 5.0, "overspend": 0.0}
    bad = {**good, "status": "error", "verified": False}
    table = sweep_table([{"summary": good, "tag": {"policy": "redesign", "cut": 0.1}},
                         {"summary": bad, "tag": {"policy": "redesign", "cut": 0.2}}])
    assert table.loc[0, "outcome_gain"] == 5.0
    assert table.loc[1, "status"] == "error" and table.loc[1, COLUMNS[3:-1]].isna().all()
