"""Uncertainty benchmark: N draws of salami, the redesign and the committed plan on Dask workers,
against one cold redesign solve; what a draw's engine build costs against its solves; whether the
redesign's MIP gains from a start at the committed plan; the robust model's size and time.

    python benchmarks/uncertainty_bench.py --instance shire_county --draws 200 --workers 2 --gap 0.01
    python benchmarks/uncertainty_bench.py --instance shire_county --draws 0 --robust 20 --robust-time-limit 1800
    python benchmarks/uncertainty_bench.py --generate 30,6 --draws 40 --warm-start 5 --robust 5

`--generate SERVICES,YEARS` makes an instance with commissionopt.data.generate, whose ranges.csv
scales every option's effects by service, prices and transaction rates by mechanism, arrivals together. The run itself is
commissionopt.runs.uncertainty.uncertainty (no tornado, no fan): its `timings` give the wall
time of each round and the seconds the draws spent building engines and solving each policy.
Prints a Markdown block and the measurements as JSON; timings are wall seconds on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sweep_bench import load_average, machine  # noqa: E402


def generated(spec: str, seed: int) -> Path:
    """A generated instance (the generator writes its ranges.csv)."""
    from commissionopt.data.generate import generate_instance
    services, years = (int(x) for x in spec.split(","))
    folder = Path(tempfile.mkdtemp(prefix="unc_bench_")) / "area"
    generate_instance(folder, services=services, years=years, seed=seed)
    return folder


def cold_solve(inst, cut, gap: float) -> dict:
    from commissionopt.runs.engine import Engine
    t = time.perf_counter()
    engine = Engine(inst, overrides={"mip_rel_gap": gap})
    built = time.perf_counter() - t
    t = time.perf_counter()
    plan = engine.run("redesign", cut)
    return {"build_and_handoff_seconds": built, "solve_seconds": time.perf_counter() - t, "status": plan.status,
            "variables": engine.session.num_col, "constraints": engine.session.num_row,
            "integers": int(engine.session.integer.sum()), "plan": plan}


def warm_start(inst, cut, gap: float, central, n: int, seed: int) -> dict:
    """For n draws, serially: the redesign's MIP from scratch against started at the committed
    plan (the central decisions fixed, volumes re-optimised): seconds and outcome gain each way."""
    from commissionopt.runs.draws import drawn_instance, latin_hypercube, plan_decisions, require_ranges
    from commissionopt.runs.engine import POLISH, Engine, as_spec
    from commissionopt.model.build import model_cut
    from commissionopt.solve import strategy
    decisions = plan_decisions(central)
    design = latin_hypercube(require_ranges(inst), n, seed)
    rows = []
    for i, q in design.iterrows():
        drawn = drawn_instance(inst, q)
        t = time.perf_counter()
        eng = Engine(drawn, overrides={"mip_rel_gap": gap})
        eng.baseline()
        build = time.perf_counter() - t
        eng.run("salami", cut)
        t = time.perf_counter()
        free = eng.run("redesign", cut)
        t_free = time.perf_counter() - t
        t = time.perf_counter()
        eng.run("redesign", cut, fixed=decisions, name="committed")
        t_committed = time.perf_counter() - t
        start = np.array(eng.session.h.getSolution().col_value)  # the committed plan, in this engine's columns
        eng.clear()
        spec = as_spec("redesign")
        eng._configure(spec, model_cut(eng.md, cut))
        s = eng.session
        t = time.perf_counter()
        sol = strategy.solve(s, s.objective_vector(eng.primary), s.objective_vector({"gain": 1.0}), eng.tolerance,
                             polish=s.objective_vector(POLISH)[0], start=start)
        t_started = time.perf_counter() - t
        rows.append({"draw": int(i), "engine_seconds": build, "redesign_seconds": t_free,
                     "committed_seconds": t_committed, "started_seconds": t_started,
                     "gain_free": free.summary.get("outcome_gain"), "gain_started": -s.evaluate("gain", sol.values)
                     if sol.values is not None else None})
    return {"draws": rows,
            "median_redesign_seconds": statistics.median(r["redesign_seconds"] for r in rows),
            "median_started_seconds": statistics.median(r["started_seconds"] for r in rows),
            "median_engine_seconds": statistics.median(r["engine_seconds"] for r in rows),
            "median_committed_seconds": statistics.median(r["committed_seconds"] for r in rows)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instance", default="shire_county")
    p.add_argument("--generate", help="SERVICES,YEARS: a generated instance (ranges written here) instead")
    p.add_argument("--cut", default="1:0.0625,2:0.125,3:0.1875,4:0.25")
    p.add_argument("--draws", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--gap", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warm-start", type=int, default=0, help="draws on which to time the MIP started at the committed plan")
    p.add_argument("--robust", type=int, default=0, help="K: time the robust model on K draws")
    p.add_argument("--robust-time-limit", type=float, default=1800.0)
    p.add_argument("--json", help="write the measurements here")
    a = p.parse_args()

    from commissionopt.data import load_instance
    from commissionopt.model.index import parse_cut
    from commissionopt.shipped import instance_path
    path = generated(a.generate, a.seed) if a.generate else (Path(a.instance) if Path(a.instance).exists()
                                                            else instance_path(a.instance))
    inst = load_instance(path)
    cut = parse_cut(a.cut)
    out = {"instance": inst.name, "machine": machine(), "load_before": load_average(), "cut": a.cut, "gap": a.gap,
           "draws": a.draws, "workers": a.workers, "ranges_rows": len(inst["ranges"])}
    cold = cold_solve(inst, cut, a.gap)
    central = cold.pop("plan")
    out["cold"] = cold
    print(f"cold redesign solve: {cold['solve_seconds']:.1f} s ({cold['status']}), build + hand-off "
          f"{cold['build_and_handoff_seconds']:.1f} s, {cold['variables']} columns", flush=True)
    if a.draws:
        from commissionopt.runs.uncertainty import uncertainty
        t = time.perf_counter()
        u = uncertainty(inst, cut, draws=a.draws, seed=a.seed, workers=a.workers, tornado=False,
                        overrides={"mip_rel_gap": a.gap})
        wall = time.perf_counter() - t
        out["uncertainty"] = {"wall_seconds": wall, **u.timings,
                              "statuses": u.results.groupby(["policy", "status"]).size().to_dict(),
                              "failed": len(u.failed), "probabilities": dict(zip(u.probabilities["measure"],
                                                                                  u.probabilities["probability"]))}
        out["uncertainty"]["statuses"] = {f"{k[0]}:{k[1]}": int(v) for k, v in out["uncertainty"]["statuses"].items()}
        print(json.dumps(out["uncertainty"], indent=1, default=str), flush=True)
    if a.warm_start:
        out["warm_start"] = warm_start(inst, cut, a.gap, central, a.warm_start, a.seed)
        print(json.dumps({k: v for k, v in out["warm_start"].items() if k != "draws"}, indent=1), flush=True)
    if a.robust:
        from commissionopt.runs.draws import latin_hypercube, plan_decisions, require_ranges
        from commissionopt.runs.robust import solve_robust
        t = time.perf_counter()
        r = solve_robust(inst, cut, latin_hypercube(require_ranges(inst), a.robust, (a.seed, 1)),
                         overrides={"mip_rel_gap": a.gap, "time_limit": a.robust_time_limit},
                         start=plan_decisions(central))
        out["robust"] = {"wall_seconds": time.perf_counter() - t, **r.summary}
        print(json.dumps(out["robust"], indent=1, default=str), flush=True)
    out["load_after"] = load_average()
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
