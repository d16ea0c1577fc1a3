"""The library embeds in a host: threads, stdout, matplotlib, the public names, the defaults."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import commissionopt
from commissionopt import Comparison, compare, load_instance

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"


def run_python(code: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter (its own stdout file descriptor, its own matplotlib)."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)


def test_four_threads_solve_at_once_while_the_host_prints_and_nothing_is_lost():
    # before: 3 of 4 threads died in Pyomo's compiler ('NoneType' object is not callable), and
    # new_highs() pointed fd 1 at /dev/null, so the host lost lines printed meanwhile
    r = run_python(f"""
        import sys, threading, time
        from commissionopt import load_instance, solve
        inst = load_instance({str(TINY)!r})
        statuses, errors, stop = [], [], threading.Event()
        def host():
            n = 0
            while not stop.is_set():
                print(f"host line {{n}}", flush=True)
                n += 1
                time.sleep(0.0005)
            print(f"host printed {{n}}", file=sys.stderr)
        def work():
            try:
                statuses.append(solve(inst, "redesign", 0.1).status)
            except Exception as e:
                errors.append(repr(e))
        printer = threading.Thread(target=host)
        printer.start()
        workers = [threading.Thread(target=work) for _ in range(4)]
        [t.start() for t in workers]
        [t.join() for t in workers]
        stop.set()
        printer.join()
        print("RESULT", statuses, errors, file=sys.stderr)
    """)
    assert r.returncode == 0, r.stderr
    assert "RESULT ['optimal', 'optimal', 'optimal', 'optimal'] []" in r.stderr
    printed = int(r.stderr.split("host printed ")[1].split()[0])
    lines = r.stdout.splitlines()
    assert printed > 0 and lines == [f"host line {n}" for n in range(printed)]  # every line, in order, nothing else
    assert "Running HiGHS" not in r.stdout


def test_importing_every_module_leaves_the_hosts_matplotlib_backend_alone():
    r = run_python("""
        import importlib, pkgutil, sys
        import matplotlib
        matplotlib.use("svg")
        import commissionopt
        for m in pkgutil.walk_packages(commissionopt.__path__, "commissionopt."):
            importlib.import_module(m.name)
        from commissionopt.reports import charts
        import pandas as pd
        png = charts.waterfall(pd.DataFrame({"lever": ["a"], "contribution": [1.0]}))
        print(matplotlib.get_backend(), png[:4] == b"\\x89PNG")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["svg", "True"]


def test_charts_leave_the_hosts_style_as_it_was():
    import matplotlib

    from commissionopt.reports import charts
    before = dict(matplotlib.rcParams)
    charts.waterfall(pd.DataFrame({"lever": ["a", "b"], "contribution": [1.0, -2.0]}))
    assert dict(matplotlib.rcParams) == before


def test_import_is_quick_and_loads_no_solver():
    r = run_python("""
        import sys, time
        t = time.perf_counter()
        import commissionopt
        took = time.perf_counter() - t
        print(round(took, 3), "pyomo" in sys.modules, "highspy" in sys.modules, "pandas" in sys.modules)
    """)
    assert r.returncode == 0, r.stderr
    took, *loaded = r.stdout.split()
    assert loaded == ["False", "False", "False"]  # the names load on first use


def test_every_public_name_resolves_and_solve_is_the_function():
    import commissionopt.solve.highs  # noqa: F401  (the subpackage must not take the name back)
    for name in commissionopt.__all__:
        assert getattr(commissionopt, name) is not None, name
    assert callable(commissionopt.solve) and commissionopt.solve.__name__ == "solve"
    for name in ("solve", "compare", "sweep", "explain", "report", "Plan", "Comparison", "SolveOptions",
                 "InputError", "load_instance", "load_run", "diff_runs"):
        assert name in commissionopt.__all__
    assert (Path(commissionopt.__file__).parent / "py.typed").exists()


def test_version_matches_the_package_metadata():
    from importlib.metadata import version
    assert commissionopt.__version__ == version("commissionopt")


@pytest.fixture(scope="module")
def tiny_round():
    inst = load_instance(TINY)
    return inst, compare(inst, 0.25)


def test_comparison_table_is_numeric_with_plain_column_names(tiny_round):
    inst, round_ = tiny_round
    table = round_.table()
    assert list(table.index) == ["status_quo", "salami", "redesign", "redesign_same_money"]
    assert table.index.name == "policy"
    assert table["status"].tolist() == ["optimal"] * 4
    numeric = table.drop(columns="status")
    assert all(pd.api.types.is_numeric_dtype(numeric[c]) for c in numeric.columns), numeric.dtypes
    assert {"discounted_spend", "overspend", "outcome_gain", "mip_gap"} | {f"unmet_{lv}" for lv in inst.levels} \
        <= set(table.columns)
    for name, plan in round_.plans.items():  # the same figures as the summaries
        assert table.loc[name, "overspend"] == plan.summary["overspend"]
        assert table.loc[name, "outcome_gain"] == plan.summary["outcome_gain"]
    assert pd.isna(table.loc["status_quo", "payback_year"])  # none: shown as missing, not 0
    assert str(table["payback_year"].dtype) == "Int64"
    # plain names: a sum across policies needs no parsing
    assert table["discounted_spend"].sum() == pytest.approx(sum(p.summary["discounted_spend"]
                                                                for p in round_.plans.values()))


def test_a_comparison_without_a_plan_has_missing_figures(tiny_round):
    _, round_ = tiny_round
    from commissionopt.results.plan import Plan
    plans = dict(round_.plans)
    plans["broken"] = Plan(summary={"status": "infeasible", "policy": "broken"})
    plans["broken"].summary["mip_gap"] = 0.0  # a solver's gap without a plan is no figure
    table = Comparison(plans=plans, cut=0.25).table()
    assert table.loc["broken", "status"] == "infeasible" and pd.isna(table.loc["broken", "outcome_gain"])
    assert pd.isna(table.loc["broken", "mip_gap"])


def test_the_library_solves_in_process_by_default():
    from commissionopt import sweep
    table = sweep(load_instance(TINY), [0.0, 0.2], ["salami"])
    assert table.attrs["mode"] == "serial" and table.attrs["processes"] == [table.attrs["processes"][0]]


@pytest.mark.slow
def test_a_script_without_a_main_guard_is_told_so(tmp_path):
    # spawned workers import the script again; without a guard each would start a cluster of its own
    script = tmp_path / "no_guard.py"
    script.write_text(textwrap.dedent(f"""
        from commissionopt import load_instance, sweep
        print(sweep(load_instance({str(TINY)!r}), [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], ["salami"], workers=2))
    """))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode != 0
    assert 'if __name__ == "__main__":' in r.stderr.splitlines()[-1]  # the last line says what to do
    assert "workers=0" in r.stderr.splitlines()[-1]
    assert len(r.stderr.splitlines()) < 200  # it was 512 lines of Dask tracebacks


def test_shipped_models_and_instances_are_found_by_name():
    from commissionopt.policies.spec import builtin_spec
    from commissionopt.shipped import instance_names, instance_path, model_names
    assert {"tiny", "shire_county", "metro_total_place"} <= set(instance_names())
    assert {"min_cost", "redesign", "salami", "status_quo"} <= set(model_names())
    assert instance_path("tiny") == TINY and instance_path("../tiny") is None and instance_path("nope") is None
    assert builtin_spec("min_cost").objective == "min_cost"
    with pytest.raises(commissionopt.InputError) as e:
        builtin_spec("min_cots")
    assert "min_cost" in str(e.value) and "min_cots" in str(e.value)


def test_plan_json_keeps_timings_apart(tiny_round):
    from commissionopt.reports.output import plan_document, plan_from_json
    _, round_ = tiny_round
    plan = round_.plans["salami"]
    doc = json.loads(json.dumps(plan_document(plan)))
    assert doc["schema_version"] == 1 and set(doc) == {"schema_version", "summary", "inputs", "violations", "timings"}
    assert set(doc["timings"]) == {"build_seconds", "handoff_seconds", "solve_seconds"}
    assert not any(k.endswith("_seconds") for k in doc["summary"])
    back = plan_from_json(doc)
    assert back.summary["solve_seconds"] == plan.summary["solve_seconds"]
    assert back.summary["overspend"] == plan.summary["overspend"]


def test_json_on_stdout_is_only_json_even_when_a_conflict_is_explained(tmp_path):
    # the explanation of an infeasible run builds solvers of its own: none may print HiGHS' banner
    # on the process's stdout (file descriptor 1, which the CLI's own capture cannot see)
    import shutil
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    services = folder / "services.csv"
    services.write_text(services.read_text().replace("child_protection,children,crisis,child-year,1,100,0,250",
                                                     "child_protection,children,crisis,child-year,1,80,0,80"))
    r = subprocess.run([sys.executable, "-m", "commissionopt.cli", "solve", str(folder), "--format", "json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 3, r.stderr
    assert json.loads(r.stdout)["summary"]["status"] == "infeasible"  # stdout is the JSON and nothing else
    assert "Running HiGHS" not in r.stdout
