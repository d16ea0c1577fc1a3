"""Solve the LP relaxation of a lexicographic run with one HiGHS algorithm, and time it.

Used in-process by bench.py and, for algorithms the project's highspy build lacks
(HiPO needs the `highspy-extras` package, published for highspy 1.15 only), as a
script run by another interpreter:

    OTHER_PYTHON benchmarks/lp_worker.py MODEL.mps PHASE2_COST.npy ALGORITHM TIME_LIMIT

It needs only highspy and numpy, and prints one JSON line. Phase 1 minimises the
model's costs as given (overspend); phase 2 holds phase 1's optimum (as the engine
does: a row `c1 . x <= best + max(1e-6, 1e-6 |best|)`) and minimises the phase-2
cost (minus the outcome), continuing in the same HiGHS object (simplex warm-starts
from phase 1's basis, as the engine's re-solves do).
"""
from __future__ import annotations

import json
import sys
import time

import highspy
import numpy as np

INF = highspy.kHighsInf


def lexicographic_lp(h: "highspy.Highs", c1: np.ndarray, c2: np.ndarray, algorithm: str, time_limit: float) -> dict:
    """Run both phases on a Highs object already holding the relaxed LP; return timings and values."""
    n = len(c1)
    idx = np.arange(n, dtype=np.int32)
    out = {"algorithm": algorithm, "available": True}
    st = h.setOptionValue("solver", algorithm)
    if st != highspy.HighsStatus.kOk:
        return {"algorithm": algorithm, "available": False}
    # HiGHS' time_limit is checked against the object's cumulative run time (getRunTime
    # counts every run, even after clearSolver), so each phase gets the clock now + limit
    h.setOptionValue("time_limit", h.getRunTime() + float(time_limit))
    h.changeColsCost(n, idx, c1)
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    w0, c0 = time.perf_counter(), time.process_time()
    h.run()
    out["phase1_seconds"] = time.perf_counter() - w0
    out["phase1_cpu"] = time.process_time() - c0
    out["phase1_status"] = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    out["phase1_iterations"] = int(info.simplex_iteration_count) + int(info.ipm_iteration_count) + int(
        getattr(info, "pdlp_iteration_count", 0))
    if info.primal_solution_status != 2:
        out["ok"] = False
        return out
    x = np.array(h.getSolution().col_value)
    best = float(c1 @ x)
    out["phase1_objective"] = best
    nz = np.flatnonzero(c1)
    h.addRow(-INF, best + max(1e-6, 1e-6 * abs(best)), len(nz), nz.astype(np.int32), c1[nz])
    h.changeColsCost(n, idx, c2)
    h.setOptionValue("time_limit", h.getRunTime() + float(time_limit))
    w0, c0 = time.perf_counter(), time.process_time()
    h.run()
    out["phase2_seconds"] = time.perf_counter() - w0
    out["phase2_cpu"] = time.process_time() - c0
    out["phase2_status"] = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    out["phase2_iterations"] = int(info.simplex_iteration_count) + int(info.ipm_iteration_count) + int(
        getattr(info, "pdlp_iteration_count", 0))
    out["phase2_objective"] = float(info.objective_function_value) if info.primal_solution_status == 2 else None
    out["seconds"] = out["phase1_seconds"] + out["phase2_seconds"]
    out["cpu"] = out["phase1_cpu"] + out["phase2_cpu"]
    out["ok"] = out["phase1_status"] == "Optimal" and out["phase2_status"] == "Optimal"
    return out


def main(argv: list[str]) -> None:
    mps, cost2, algorithm, time_limit = argv[1], argv[2], argv[3], float(argv[4])
    import resource
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.readModel(mps)
    lp = h.getLp()
    c1 = np.array(lp.col_cost_)
    c2 = np.load(cost2)
    out = lexicographic_lp(h, c1, c2, algorithm, time_limit)
    from importlib.metadata import version
    out["highspy"] = version("highspy")
    out["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
