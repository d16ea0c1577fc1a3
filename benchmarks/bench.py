"""Benchmarks of the modelling layer against the solve, on generated instances.

    python benchmarks/bench.py --sizes 10k,100k [--out benchmarks/README.md]
    python benchmarks/bench.py --smoke            # < 60 s, for CI

For each size (model variables: 10k, 100k, 1m, or a plain number) a child process
generates an instance (commissionopt.data.generate, sized by the measured rule in
benchmarks/README.md), loads it, and measures:

- Pyomo build time (build_model) and hand-off time (HighsSession: compile + passModel),
  wall and CPU seconds;
- the LP relaxation of the redesign run at a 25% cut (the engine's two lexicographic
  phases: least overspend, then most outcome gain with the overspend held), with each
  HiGHS algorithm asked for (simplex, ipm, hipo, pdlp; HiPO through `--hipo-python`, an
  interpreter whose highspy has the highspy-extras package); the best is the one with
  the least CPU time that ends optimal in both phases;
- the MILP itself (Engine configuration of `redesign` at a 25% cut, the session's
  lexicographic solve) with a time limit and a relative gap target, its HiGHS gap and
  that gap measured against the outcome gain over no provision;
- peak memory: the child's peak resident set size (`resource.getrusage(RUSAGE_SELF)
  .ru_maxrss`, which counts HiGHS's C++ memory too) after the hand-off and at the end.

One process per size, so each size's peak memory is its own. HiGHS runs with one
thread and seed 0. With `--out`, the measured block of the README (between the
`bench:start NAME` / `bench:end NAME` markers, NAME from `--block`) is replaced and
everything else is kept.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATED = HERE / "generated"

# Measured rule (benchmarks/README.md): variables ~= areas * E * (services * (2.7 mechanisms + 4.7) + 260),
# E the modelled years (the horizon and the evaluation years after it)
PER_OPTION = 2.7  # variables per option and modelled year (units, and units past full effect)
PER_SERVICE_EXTRA = 4.7
PER_AREA_YEAR = 260.0
AREA_SIZE = 250_000  # above 500k variables, one area per 250k

# build + hand-off against the solve: the targets of the brief, by size label
RATIO_TARGETS = {10_000: 3.0, 100_000: 0.3, 1_000_000: 0.15}
MEMORY_TARGET_MB = 2500.0  # 1M variables
MILP_TARGET = dict(services=200, years=10, mechanisms=5, gap=0.01, seconds=300.0)
CUT = 0.25
LARGE = 50_000  # --lp-algos-large applies from here
MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"


# --- sizes -----------------------------------------------------------------------------
def parse_size(text: str) -> int:
    t = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def modelled_years(years: int) -> int:
    """The horizon plus the evaluation years after it, for a generated instance (longest lag 10)."""
    return max(years + 10, 2 * years)


def size_params(target: int, years: int, mechanisms: int) -> tuple[int, int]:
    """(services per area, areas) for about `target` variables."""
    areas = 1 if target < 2 * AREA_SIZE else math.ceil(target / AREA_SIZE)
    per_area_year = target / (areas * modelled_years(years))
    services = (per_area_year - PER_AREA_YEAR) / (PER_OPTION * mechanisms + PER_SERVICE_EXTRA)
    return max(1, round(services)), areas


def rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- the child: one size ---------------------------------------------------------------
def run_child(a) -> dict:
    rec: dict = {"target": a.target, "services": a.services, "areas": a.areas, "years": a.years,
                 "mechanisms": a.mechanisms, "seed": a.seed, "load_before": os.getloadavg()[0]}
    t = time.perf_counter()
    import scipy.sparse  # noqa: F401  (Pyomo's standard-form compiler imports it on first use)
    import highspy

    import commissionopt.runs.engine as engine_mod
    from commissionopt.data.generate import generate_instance
    from commissionopt.data.load import load_instance
    from commissionopt.model.build import model_cut
    from commissionopt.solve.highs import SolveOptions
    rec["import_seconds"] = time.perf_counter() - t
    sys.path.insert(0, str(HERE))
    from lp_worker import lexicographic_lp

    folder = Path(a.workdir) / f"s{a.services}_y{a.years}_a{a.areas}_m{a.mechanisms}_seed{a.seed}"
    t = time.perf_counter()
    generate_instance(folder, a.services, a.years, a.areas, a.seed, a.mechanisms)
    rec["generate_seconds"] = time.perf_counter() - t
    rec["instance_mb"] = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    t = time.perf_counter()
    try:
        inst = load_instance(folder)
        rec["validated"] = True
    except Exception as e:  # the validator is being extended; measure anyway
        if type(e).__name__ == "InputError":
            raise
        inst = load_instance(folder, validate=False)
        rec["validated"] = f"not run ({type(e).__name__}: {e})"
    rec["load_seconds"] = time.perf_counter() - t
    rec["rss_after_load_mb"] = rss_mb()

    # time build and hand-off separately (wall and CPU) by wrapping the engine's two steps
    stages = {}

    def timed(name, fn):
        def wrapper(*args, **kw):
            w, c = time.perf_counter(), time.process_time()
            out = fn(*args, **kw)
            stages[name] = (time.perf_counter() - w, time.process_time() - c, rss_mb())
            return out
        return wrapper
    engine_mod.build_model = timed("build", engine_mod.build_model)
    engine_mod.HighsSession = timed("handoff", engine_mod.HighsSession)
    opts = SolveOptions(threads=1, seed=0, time_limit=a.milp_time_limit, mip_rel_gap=a.gap)
    engine = engine_mod.Engine(inst, opts)
    s = engine.session
    rec.update(variables=int(s.num_col), rows=int(s.num_row), integers=int(s.integer.sum()),
               nonzeros=int(len(s.lp.a_matrix_.value_)))
    rec["build_seconds"], rec["build_cpu"], rec["rss_after_build_mb"] = stages["build"]
    rec["handoff_seconds"], rec["handoff_cpu"], rec["rss_after_handoff_mb"] = stages["handoff"]
    rec["model_seconds"] = rec["build_seconds"] + rec["handoff_seconds"]
    rec["model_cpu"] = rec["build_cpu"] + rec["handoff_cpu"]

    # redesign at a 25% cut, configured as Engine.run does it
    spec = engine_mod.as_spec("redesign")
    cuts = model_cut(engine.md, CUT)
    engine._configure(spec, cuts)
    # the engine's objectives: least overspend, then most outcome gain ("gain": the outcome
    # row less the no-provision constant, where the engine has it), then its polish LP
    secondary = {"gain": 1.0} if "gain" in s.objective_rows else {"outcome": 1.0}
    c1, _ = s.objective_vector({"overspend": 1.0})
    c2, off2 = s.objective_vector(secondary)

    # LP relaxation: the same rows and (configured) bounds, integrality dropped
    rec["lp"] = []
    if a.lp_algos:
        lp = s.h.getLp()
        lp.integrality_ = []
        for algo in a.lp_algos:
            if algo == "hipo" and a.hipo_python:
                rec["lp"].append(_external_lp(lp, c1, c2, a))
                continue
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("threads", 1)
            h.setOptionValue("random_seed", 0)
            h.passModel(lp)
            res = lexicographic_lp(h, c1, c2, algo, a.lp_time_limit)
            res["rss_mb"] = rss_mb()
            rec["lp"].append(res)
            del h
        del lp
        ok = [r for r in rec["lp"] if r.get("ok")]
        best = min(ok, key=lambda r: r["cpu"]) if ok else None  # CPU: the machine may be shared
        rec["lp_best"] = best["algorithm"] if best else None
        rec["lp_seconds"] = best["seconds"] if best else None
        rec["lp_cpu"] = best["cpu"] if best else None
    rec["rss_after_lp_mb"] = rss_mb()

    # the MILP, as the engine solves it
    if a.milp_time_limit > 0:
        s.options = dataclasses.replace(s.options, time_limit=a.milp_time_limit, mip_rel_gap=a.gap, threads=1)
        w, c = time.perf_counter(), time.process_time()
        sol = engine._solve(secondary, polish=engine_mod.POLISH)  # the engine's own solve strategy
        rec["milp_seconds"], rec["milp_cpu"] = time.perf_counter() - w, time.process_time() - c
        rec["milp_status"] = str(sol.status)
        rec["milp_gap"] = sol.mip_gap
        rec["milp_objectives"] = f"overspend (weighted, certified), then {next(iter(secondary))}, then polish"
        if sol.values is not None:
            outcome = -(float(s.objective_rows["outcome"][0] @ sol.values) + s.objective_rows["outcome"][1])
            gain = outcome - engine.md.outcome_none
            rec["outcome_gain"] = gain
            rec["milp_gap_vs_gain"] = sol.mip_gap  # the strategy measures its gap on the gain
    rec["peak_rss_mb"] = rss_mb()
    rec["load_after"] = os.getloadavg()[0]
    return rec


def _external_lp(lp, c1, c2, a) -> dict:
    """The relaxed LP through another interpreter (HiPO): written as MPS, phase-2 costs as .npy."""
    import highspy
    import numpy as np
    with tempfile.TemporaryDirectory(dir=a.workdir) as tmp:
        mps, cost2 = Path(tmp) / "lp.mps", Path(tmp) / "c2.npy"
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        lp.col_cost_ = c1
        h.passModel(lp)
        h.writeModel(str(mps))
        np.save(cost2, c2)
        del h
        try:
            out = subprocess.run([a.hipo_python, str(HERE / "lp_worker.py"), str(mps), str(cost2), "hipo",
                                  str(a.lp_time_limit)], capture_output=True, text=True,
                                 timeout=4 * a.lp_time_limit + 120)
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
            res = json.loads(lines[-1]) if lines else {"algorithm": "hipo", "available": False,
                                                        "error": out.stderr[-500:]}
        except subprocess.TimeoutExpired:
            res = {"algorithm": "hipo", "available": True, "ok": False, "error": "timeout"}
    res["external"] = True
    return res


# --- the variable-count rule ---------------------------------------------------------------
GRID = [  # services, years, mechanisms, areas
    (25, 10, 5, 1), (50, 10, 5, 1), (100, 10, 5, 1), (200, 10, 5, 1), (400, 10, 5, 1), (800, 10, 5, 1),
    (200, 5, 5, 1), (200, 20, 5, 1), (200, 10, 3, 1), (200, 10, 8, 1), (100, 10, 5, 2), (100, 10, 5, 4),
]


def run_grid(a) -> list[dict]:
    """Variables and constraints of build_model over a grid of sizes, and the fitted rule."""
    import numpy as np

    from commissionopt.data.generate import generate_instance
    from commissionopt.data.load import load_instance
    from commissionopt.model.build import build_model
    out = []
    for services, years, mechanisms, areas in GRID:
        folder = Path(a.workdir) / f"grid_s{services}_y{years}_a{areas}_m{mechanisms}_seed{a.seed}"
        generate_instance(folder, services, years, areas, a.seed, mechanisms)
        m, _ = build_model(load_instance(folder, validate=False))
        out.append({"services": services, "years": years, "mechanisms": mechanisms, "areas": areas,
                    "variables": m.nvariables(), "constraints": m.nconstraints(),
                    "binaries": sum(1 for v in m.component_data_objects(ctype=__import__("pyomo.environ").environ.Var)
                                    if v.is_integer())})
    # vars / (areas * years) - services * mechanisms = services * c + d
    X = np.array([[r["services"], 1.0] for r in out])
    y = np.array([r["variables"] / (r["areas"] * r["years"]) - r["services"] * r["mechanisms"] for r in out])
    (c, d), *_ = np.linalg.lstsq(X, y, rcond=None)
    for r in out:
        r["rule"] = r["areas"] * r["years"] * (r["services"] * (r["mechanisms"] + c) + d)
    return [{"fit": {"per_service_extra": float(c), "per_area_year": float(d)}}] + out


def grid_report(grid: list[dict]) -> str:
    fit, rows = grid[0]["fit"], grid[1:]
    ratio = sorted(r["constraints"] / r["variables"] for r in rows)[len(rows) // 2]
    L = [f"Fitted: variables ~= areas x years x (services x (mechanisms + {fit['per_service_extra']:.2f}) + "
         f"{fit['per_area_year']:.0f}); constraints ~= {ratio:.2f} x variables (median).", "",
         "| services | years | mechanisms | areas | variables | rule | rule error | constraints | binaries |",
         "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        L.append(f"| {r['services']} | {r['years']} | {r['mechanisms']} | {r['areas']} | {r['variables']:,} | "
                 f"{r['rule']:,.0f} | {r['rule'] / r['variables'] - 1:+.1%} | {r['constraints']:,} | {r['binaries']:,} |")
    return "\n".join(L)


# --- profiling -----------------------------------------------------------------------------
def run_profile(a) -> dict:
    import cProfile
    import pstats

    import scipy.sparse  # noqa: F401
    from commissionopt.data.generate import generate_instance
    from commissionopt.data.load import load_instance
    from commissionopt.model.build import build_model
    from commissionopt.solve.highs import HighsSession

    folder = Path(a.workdir) / f"s{a.services}_y{a.years}_a{a.areas}_m{a.mechanisms}_seed{a.seed}"
    generate_instance(folder, a.services, a.years, a.areas, a.seed, a.mechanisms)
    inst = load_instance(folder, validate=False)
    out = {"services": a.services, "areas": a.areas, "years": a.years, "mechanisms": a.mechanisms}
    # CPU seconds per block without a profiler (cProfile inflates many small calls), best of two
    import commissionopt.model.build as build_mod
    blocks = [n for n in ("build_data", "add_mechanisms", "add_demand", "add_workforce", "add_buildings",
                          "add_money", "add_outcomes") if hasattr(build_mod, n)]
    best: dict = {}
    originals = {n: getattr(build_mod, n) for n in blocks}
    for _ in range(2):
        seen: dict = {}
        for n in blocks:
            def wrap(*args, _f=originals[n], _n=n, **kw):
                c = time.process_time()
                r = _f(*args, **kw)
                seen[_n] = time.process_time() - c
                return r
            setattr(build_mod, n, wrap)
        c = time.process_time()
        build_mod.build_model(inst)
        seen["total"] = time.process_time() - c
        for k, v in seen.items():
            best[k] = min(best.get(k, v), v)
    for n, f in originals.items():
        setattr(build_mod, n, f)
    out["blocks_cpu"] = best
    for name, call in (("build", lambda: build_model(inst)), ("handoff", None)):
        pr = cProfile.Profile()
        if name == "build":
            pr.enable()
            m, _ = call()
            pr.disable()
        else:
            pr.enable()
            HighsSession(m)
            pr.disable()
        st = pstats.Stats(pr)
        total = st.total_tt
        rows = []
        for (file, line, fn), (cc, nc, tt, ct, _) in st.stats.items():
            rows.append({"file": file, "line": line, "function": fn, "calls": nc, "tottime": tt, "cumtime": ct})
        ours = [r for r in rows if "/commissionopt/" in r["file"]]
        for r in ours:
            r["file"] = r["file"][r["file"].index("/commissionopt/") + 1:]
        out[name] = {
            "total": total,
            "ours_by_cumtime": sorted(ours, key=lambda r: -r["cumtime"])[:a.profile_top],
            "all_by_tottime": [dict(r, file=_short(r["file"])) for r in sorted(rows, key=lambda r: -r["tottime"])[:a.profile_top]],
        }
    return out


def _short(path: str) -> str:
    for key in ("/site-packages/", "/commissionopt/"):
        if key in path:
            return path[path.index(key) + len(key):] if key == "/site-packages/" else path[path.index(key) + 1:]
    return path


# --- the parent ------------------------------------------------------------------------
def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", cpu)
        info["cpu"] = m.group(1).strip() if m else "unknown"
        mem = Path("/proc/meminfo").read_text()
        m = re.search(r"MemTotal:\s*(\d+) kB", mem)
        info["memory_gib"] = round(int(m.group(1)) / 1024 ** 2, 1) if m else None
    except OSError:
        pass
    from importlib.metadata import version
    info["versions"] = {}
    for pkg in ("commissionopt", "pyomo", "highspy", "numpy", "scipy", "pandas"):
        try:
            info["versions"][pkg] = version(pkg)
        except Exception:
            info["versions"][pkg] = "unknown"
    return info


def spawn(mode: str, a, target: int, services: int, areas: int, years: int, mechanisms: int, timeout: float) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    cmd = [sys.executable, str(Path(__file__).resolve()), f"--{mode}", "--json", out, "--target", str(target),
           "--services", str(services), "--areas", str(areas), "--years", str(years), "--mechanisms", str(mechanisms),
           "--seed", str(a.seed), "--workdir", str(a.workdir), "--gap", str(a.gap),
           "--lp-algos", ",".join(a.lp_algos) if a.lp_algos else "none",
           "--lp-time-limit", str(a.lp_time_limit), "--milp-time-limit", str(a.milp_time_limit),
           "--profile-top", str(a.profile_top)]
    if a.hipo_python:
        cmd += ["--hipo-python", a.hipo_python]
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        rec = json.loads(Path(out).read_text()) if p.returncode == 0 and Path(out).stat().st_size else {
            "error": f"exit {p.returncode}: {p.stderr[-2000:]}"}
    except subprocess.TimeoutExpired:
        rec = {"error": f"timed out after {timeout:.0f} s"}
    finally:
        if os.path.exists(out):
            os.unlink(out)
    rec["wall_total"] = time.perf_counter() - t
    rec.setdefault("target", target)
    return rec


def fmt(v, spec=".1f", none="-"):
    if v is None:
        return none
    if isinstance(v, str):
        return v
    return format(v, spec)


def report(results: list[dict], target_milp: dict | None, profile: dict | None, info: dict, command: str,
           a, started: str) -> str:
    L = []
    L.append(f"Measured {started} by `{command}`.")
    L.append("")
    v = info["versions"]
    L.append(f"Machine: {info.get('cpu', '?')}, {info['nproc']} cores (nproc), {info.get('memory_gib', '?')} GiB; "
             f"Python {info['python']}, Pyomo {v['pyomo']}, highspy {v['highspy']}, numpy {v['numpy']}, "
             f"scipy {v['scipy']}, pandas {v['pandas']}, commissionopt {v['commissionopt']}. "
             f"HiGHS: 1 thread, seed 0. Load average (1 min) at each size's start/end is in the table: "
             f"the machine is shared, so wall seconds above CPU seconds mean contention.")
    L.append("")
    L.append(f"Instances: `generate_instance(services, years={a.years}, areas, seed={a.seed}, "
             f"mechanisms={a.mechanisms})`; solve: `redesign` at a {int(CUT * 100)}% cut, lexicographic "
             f"as the engine runs it ({next((r['milp_objectives'] for r in results if 'milp_objectives' in r), '-')}). MILP: relative gap target {a.gap:g}, time limit "
             f"{a.milp_time_limit:g} s. LP: time limit {a.lp_time_limit:g} s per phase. "
             "Memory: peak RSS of the size's own process (`ru_maxrss`, includes HiGHS).")
    L.append("")
    L.append("| size | services x areas | variables | rows | integers | build s (cpu) | hand-off s (cpu) | "
             "LP best | LP s (cpu) | MILP s (cpu) | MILP status | HiGHS gap | gap vs gain | RSS after hand-off MB | "
             "peak RSS MB | load start/end |")
    L.append("|" + "---|" * 16)
    for r in results:
        if "error" in r:
            L.append(f"| {size_label(r['target'])} | {r.get('services', '?')} x {r.get('areas', '?')} | "
                     f"error: {r['error'][:300]!s} |" + " |" * 13)
            continue
        L.append(
            f"| {size_label(r['target'])} | {r['services']} x {r['areas']} | {r['variables']:,} | {r['rows']:,} | "
            f"{r['integers']:,} | {fmt(r['build_seconds'])} ({fmt(r['build_cpu'])}) | "
            f"{fmt(r['handoff_seconds'])} ({fmt(r['handoff_cpu'])}) | {r.get('lp_best') or '-'} | "
            f"{fmt(r.get('lp_seconds'))} ({fmt(r.get('lp_cpu'))}) | {fmt(r.get('milp_seconds'))} "
            f"({fmt(r.get('milp_cpu'))}) | {r.get('milp_status', '-')} | {fmt(r.get('milp_gap'), '.2%')} | "
            f"{fmt(r.get('milp_gap_vs_gain'), '.2%')} | {fmt(r['rss_after_handoff_mb'], '.0f')} | "
            f"{fmt(r['peak_rss_mb'], '.0f')} | {r['load_before']:.1f}/{r['load_after']:.1f} |")
    L.append("")
    L.append("Other stages per size: " + "; ".join(
        f"{size_label(r['target'])}: imports {fmt(r.get('import_seconds'))} s, generate {fmt(r.get('generate_seconds'))} s "
        f"({fmt(r.get('instance_mb'))} MB of CSV), load {fmt(r.get('load_seconds'))} s, validated: {r.get('validated')}, "
        f"peak RSS after load / build / hand-off / LP {fmt(r.get('rss_after_load_mb'), '.0f')} / "
        f"{fmt(r.get('rss_after_build_mb'), '.0f')} / {fmt(r.get('rss_after_handoff_mb'), '.0f')} / "
        f"{fmt(r.get('rss_after_lp_mb'), '.0f')} MB"
        for r in results if "error" not in r) + ".")
    L.append("")
    # ratios
    L.append("Modelling layer (build + hand-off) against the solve, CPU seconds (wall in brackets):")
    L.append("")
    L.append("| size | build + hand-off s | / LP relaxation | / MILP | target | met (vs LP) | met (vs MILP) |")
    L.append("|---|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            continue
        tgt = RATIO_TARGETS.get(r["target"])
        rl = r["model_cpu"] / r["lp_cpu"] if r.get("lp_cpu") else None
        rm = r["model_cpu"] / r["milp_cpu"] if r.get("milp_cpu") else None
        rlw = r["model_seconds"] / r["lp_seconds"] if r.get("lp_seconds") else None
        rmw = r["model_seconds"] / r["milp_seconds"] if r.get("milp_seconds") else None

        # a solve stopped by its time limit took longer than measured: the true ratio is lower
        lp_cut = not r.get("lp_cpu") and any(x.get("phase1_seconds") for x in r.get("lp", []))
        if lp_cut:
            longest = max((x.get("phase1_cpu", 0) + x.get("phase2_cpu", 0)) for x in r["lp"])
            wall = max((x.get("phase1_seconds", 0) + x.get("phase2_seconds", 0)) for x in r["lp"])
            rl, rlw = r["model_cpu"] / longest, r["model_seconds"] / wall
        milp_cut = r.get("milp_status") in ("time_limit", "no_plan")

        def met(x, cut=False):
            if tgt is None or x is None:
                return "-"
            if x <= tgt:
                return "met"
            return "unknown (solve stopped at its limit)" if cut else "not met"

        def ratio(x, xw, cut):
            if x is None:
                return "-"
            return f"{'< ' if cut else ''}{fmt(x, '.2f')}x ({'< ' if cut else ''}{fmt(xw, '.2f')}x)"
        L.append(f"| {size_label(r['target'])} | {fmt(r['model_cpu'])} ({fmt(r['model_seconds'])}) | "
                 f"{ratio(rl, rlw, lp_cut)} | {ratio(rm, rmw, milp_cut)} | "
                 f"{fmt(tgt, 'g')}{'x' if tgt else ''} | {met(rl, lp_cut)} | {met(rm, milp_cut)} |")
    L.append("")
    big = [r for r in results if "error" not in r and r["target"] >= 1_000_000]
    for r in big:
        ok = r["peak_rss_mb"] <= MEMORY_TARGET_MB
        L.append(f"Memory target (1M variables under {MEMORY_TARGET_MB / 1000:g} GB): peak RSS {r['peak_rss_mb']:.0f} MB "
                 f"(after hand-off {r['rss_after_handoff_mb']:.0f} MB): {'met' if ok else 'not met'}.")
    if not big:
        L.append("Memory target (1M variables under 2.5 GB): not run at 1M in this command.")
    L.append("")
    if target_milp is not None:
        r = target_milp
        if "error" in r:
            L.append(f"MILP target (200 services, 5 mechanisms, 10 years, 1% gap within 5 minutes): error {r['error'][:300]}")
        else:
            ok = r.get("milp_gap") is not None and r["milp_gap"] <= MILP_TARGET["gap"] + 1e-12 and \
                r["milp_seconds"] <= MILP_TARGET["seconds"]
            L.append(f"MILP target (200 services, 5 mechanisms, 10 years: {r['variables']:,} variables, "
                     f"{r['integers']:,} integers; 1% gap within 5 minutes): {r['milp_status']}, HiGHS gap "
                     f"{fmt(r.get('milp_gap'), '.2%')} (vs gain {fmt(r.get('milp_gap_vs_gain'), '.2%')}) in "
                     f"{r['milp_seconds']:.1f} s wall ({r['milp_cpu']:.1f} s CPU): {'met' if ok else 'not met'}.")
        L.append("")
    # LP algorithms
    L.append("LP relaxation by HiGHS algorithm (phase 1 + phase 2, wall seconds; phase 2 continues in the same "
             "HiGHS object; `hipo` runs in another interpreter, see README):")
    L.append("")
    L.append("| size | algorithm | phase 1 s | phase 2 s | total s (cpu) | status | iterations | phase-2 objective |")
    L.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        for x in r.get("lp", []):
            if not x.get("available", True):
                L.append(f"| {size_label(r['target'])} | {x['algorithm']} | - | - | - | not available | - | - |")
                continue
            L.append(f"| {size_label(r['target'])} | {x['algorithm']}{' (highspy ' + x['highspy'] + ')' if x.get('external') and x.get('highspy') else ''} | "
                     f"{fmt(x.get('phase1_seconds'), '.2f')} | {fmt(x.get('phase2_seconds'), '.2f')} | "
                     f"{fmt(x.get('seconds'), '.2f')} ({fmt(x.get('cpu'), '.2f')}) | "
                     f"{x.get('phase1_status', x.get('error', '?'))}/{x.get('phase2_status', '-')} | "
                     f"{x.get('phase1_iterations', '-')}+{x.get('phase2_iterations', '-')} | "
                     f"{fmt(x.get('phase2_objective'), '.6g')} |")
    L.append("")
    if profile is not None:
        if "error" in profile:
            L.append(f"Profile: error {profile['error'][:300]}")
        else:
            bc = profile.get("blocks_cpu", {})
            if bc:
                L.append(f"Build CPU seconds by block at {profile['services']} services x {profile['areas']} area(s), "
                         f"{profile['years']} years, no profiler (best of two builds): " + ", ".join(
                             f"{k.removeprefix('add_')} {v:.2f}" for k, v in bc.items() if k != "total")
                         + f"; total {bc.get('total', 0):.2f}.")
                L.append("")
            L.append(f"cProfile of the build and the hand-off at {profile['services']} services x {profile['areas']} "
                     f"area(s), {profile['years']} years (times include cProfile's own overhead, about 2x): "
                     f"build {profile['build']['total']:.1f} s, hand-off {profile['handoff']['total']:.1f} s.")
            L.append("")
            for stage in ("build", "handoff"):
                L.append(f"{stage}: commissionopt functions by cumulative time")
                L.append("")
                L.append("| function | file:line | calls | own s | cumulative s |")
                L.append("|---|---|---|---|---|")
                for x in profile[stage]["ours_by_cumtime"]:
                    L.append(f"| {x['function']} | {x['file']}:{x['line']} | {x['calls']:,} | {x['tottime']:.2f} | "
                             f"{x['cumtime']:.2f} |")
                L.append("")
                L.append(f"{stage}: all functions by own time")
                L.append("")
                L.append("| function | file:line | calls | own s | cumulative s |")
                L.append("|---|---|---|---|---|")
                for x in profile[stage]["all_by_tottime"]:
                    L.append(f"| {x['function']} | {x['file']}:{x['line']} | {x['calls']:,} | {x['tottime']:.2f} | "
                             f"{x['cumtime']:.2f} |")
                L.append("")
    return "\n".join(L)


def write_readme(path: Path, block: str, name: str = "main") -> None:
    """Replace the block between `<!-- bench:start NAME -->` and `<!-- bench:end NAME -->`."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    start, end = f"{MARK_START[:-4]} {name} -->", f"{MARK_END[:-4]} {name} -->"
    new = f"{start}\n{block}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + new + tail
    else:
        text = text.rstrip("\n") + f"\n\n## Measured ({name})\n\n" + new + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10k,100k", help="comma-separated variable counts: 10k,100k,1m")
    p.add_argument("--out", help="README to write the measured block into")
    p.add_argument("--block", default="main", help="name of the README block to replace (several commands, several blocks)")
    p.add_argument("--smoke", action="store_true", help="one ~1k-variable instance, short limits (< 60 s)")
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--mechanisms", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gap", type=float, default=0.01, help="MILP relative gap target")
    p.add_argument("--lp-algos", default="simplex,ipm,hipo", help="HiGHS algorithms for the LP relaxation (simplex, ipm, hipo, pdlp), or none")
    p.add_argument("--lp-algos-large", help=f"algorithms for sizes from {LARGE:,} variables (default: --lp-algos; "
                   "at 1M the best of the smaller sizes)")
    p.add_argument("--lp-time-limit", type=float, default=300.0, help="per phase, wall seconds")
    p.add_argument("--milp-time-limit", type=float, default=300.0)
    p.add_argument("--hipo-python", help="interpreter whose highspy has highspy-extras (HiPO)")
    p.add_argument("--no-target-milp", action="store_true", help="skip the 200 x 5 x 10 MILP target run")
    p.add_argument("--profile", default="auto", help="size to profile (cProfile), 'auto' (the one nearest 100k) or none")
    p.add_argument("--profile-top", type=int, default=12)
    p.add_argument("--workdir", default=str(GENERATED))
    p.add_argument("--timeout", type=float, default=3600.0, help="wall limit per child process")
    p.add_argument("--grid", action="store_true", help="also measure variables over a grid of sizes and fit the rule")
    # child-only
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    p.add_argument("--target", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--services", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--areas", type=int, default=1, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    def algos(text):
        return [] if text in ("", "none") else [x.strip() for x in text.split(",") if x.strip()]
    a.lp_algos = algos(a.lp_algos)
    a.lp_algos_large = None if a.lp_algos_large is None else algos(a.lp_algos_large)
    if not a.hipo_python and "hipo" in a.lp_algos:
        pass  # tried in-process: reported "not available" where the build lacks it
    Path(a.workdir).mkdir(parents=True, exist_ok=True)

    if a.child or a.profile_child:
        rec = run_child(a) if a.child else run_profile(a)
        Path(a.json).write_text(json.dumps(rec, default=str))
        return 0

    started = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    command = "python benchmarks/bench.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if a.smoke:
        a.years = min(a.years, 3)
        sizes = [1_000]
        a.lp_algos = [x for x in a.lp_algos if x in ("simplex", "ipm")] or ["simplex"]
        a.lp_time_limit, a.milp_time_limit = min(a.lp_time_limit, 10.0), min(a.milp_time_limit, 10.0)
        a.no_target_milp, a.profile = True, "none"
        a.timeout = min(a.timeout, 120.0)
        a.workdir = tempfile.mkdtemp(prefix="commissionopt-bench-")
    else:
        sizes = [parse_size(x) for x in a.sizes.split(",") if x.strip()]
    info = machine()
    results = []
    best_algo = None
    for n in sizes:
        services, areas = size_params(n, a.years, a.mechanisms)
        child_args = a
        if n >= LARGE and a.lp_algos_large is not None:
            child_args = argparse.Namespace(**{**vars(a), "lp_algos": a.lp_algos_large})
        elif n >= 1_000_000 and best_algo and a.lp_algos and len(a.lp_algos) > 1:
            child_args = argparse.Namespace(**{**vars(a), "lp_algos": [best_algo]})  # the best one only
        print(f"[bench] {size_label(n)}: {services} services x {areas} area(s), {a.years} years, "
              f"{a.mechanisms} mechanisms ...", file=sys.stderr, flush=True)
        rec = spawn("child", child_args, n, services, areas, a.years, a.mechanisms, a.timeout)
        results.append(rec)
        if rec.get("lp_best"):
            best_algo = rec["lp_best"]
        print(f"[bench] {size_label(n)}: " + (rec["error"] if "error" in rec else
              f"{rec['variables']:,} variables, build {rec['build_seconds']:.1f} s, hand-off {rec['handoff_seconds']:.1f} s, "
              f"LP {fmt(rec.get('lp_seconds'))} s ({rec.get('lp_best')}), MILP {fmt(rec.get('milp_seconds'))} s "
              f"gap {fmt(rec.get('milp_gap'), '.2%')}, peak RSS {rec['peak_rss_mb']:.0f} MB"), file=sys.stderr, flush=True)
    target = None
    if not a.no_target_milp:
        t = MILP_TARGET
        print("[bench] MILP target: 200 services x 5 mechanisms x 10 years ...", file=sys.stderr, flush=True)
        ta = argparse.Namespace(**{**vars(a), "lp_algos": [], "gap": t["gap"], "milp_time_limit": t["seconds"]})
        target = spawn("child", ta, 0, t["services"], 1, t["years"], t["mechanisms"], a.timeout)
    profile = None
    if a.profile != "none" and sizes:
        n = min(sizes, key=lambda x: abs(math.log(x / 100_000))) if a.profile == "auto" else parse_size(a.profile)
        services, areas = size_params(n, a.years, a.mechanisms)
        print(f"[bench] profiling the build at {size_label(n)} ...", file=sys.stderr, flush=True)
        profile = spawn("profile-child", a, n, services, areas, a.years, a.mechanisms, a.timeout)
    block = report(results, target, profile, info, command, a, started)
    if not a.smoke:  # the raw measurements, next to the (git-ignored) generated instances
        raw = {"command": command, "started": started, "machine": info, "results": results, "target_milp": target,
               "profile": profile}
        (Path(a.workdir) / f"results-{a.block}.json").write_text(json.dumps(raw, indent=1, default=str))
    if a.grid:
        print("[bench] variable-count grid ...", file=sys.stderr, flush=True)
        block += "\n\nVariable count over a grid of generated instances (build_model, `m.nvariables()`):\n\n"
        block += grid_report(run_grid(a)) + "\n"
    print(block)
    if a.out:
        write_readme(Path(a.out), block, a.block)
    failed = [r for r in results if "error" in r]
    return 1 if failed and a.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
