"""The solve strategy, measured: the repaired lexicographic solve (two MIPs: least overspend to the
gap, then most gain with it held) against one weighted MIP with a certified weight, on the redesign
at each cut (the library's solve/strategy.py; the weighted MIP, dropped from the library, is kept
here in benchmarks/weighted_strategy.py).

    python benchmarks/strategy_bench.py instances/shire_county --cuts 0,0.1,0.2,0.3,0.4,0.5 --gap 0.01
    python benchmarks/strategy_bench.py instances/shire_county --cuts 0.3 --highs-defaults   # RINS/RENS on

Each (cut, strategy) runs in a fresh Engine (a cold solve), strategies alternating so that the
machine's drift hits both alike. Prints a markdown table and one line of ratios.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from commissionopt.data.load import load_instance  # noqa: E402
from commissionopt.model.build import model_cut  # noqa: E402
from commissionopt.runs.engine import POLISH, Engine, as_spec  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
import weighted_strategy  # noqa: E402


def run_one(inst, cut: float, which: str, gap: float, time_limit: float, highs_defaults: bool) -> dict:
    overrides = {"mip_rel_gap": gap, "time_limit": time_limit, "threads": 1}
    if highs_defaults:
        overrides["highs"] = {"mip_heuristic_run_rins": True, "mip_heuristic_run_rens": True}
    t0 = time.perf_counter()
    engine = Engine(inst, overrides=overrides)
    engine._configure(as_spec("redesign"), model_cut(engine.md, cut))
    engine.session.options = replace(engine.session.options, **overrides)
    t1 = time.perf_counter()
    if which == "weighted":
        s = engine.session
        sol = weighted_strategy.solve(s, s.objective_vector(engine.primary), s.objective_vector({"gain": 1.0}),
                                      engine.tolerance, polish=s.objective_vector(POLISH)[0])
    else:
        sol = engine._solve({"gain": 1.0}, polish=POLISH)
    phases = sol.extra.get("phases")
    seconds = time.perf_counter() - t1
    s = engine.session
    row = {"cut": cut, "strategy": which, "status": sol.status, "seconds": seconds, "build": t1 - t0,
           "gap": sol.mip_gap, "rounds": sol.extra.get("rounds"), "weight": sol.extra.get("weight"),
           "phases": ",".join(phases) if phases else "", "overspend_gap": sol.extra.get("overspend_gap")}
    if sol.values is not None:
        row["overspend_gbp"] = s.evaluate("overspend", sol.values) * engine.md.money_scale
        row["gain"] = -s.evaluate("gain", sol.values)
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("instance")
    p.add_argument("--cuts", default="0,0.1,0.2,0.3,0.4,0.5")
    p.add_argument("--gap", type=float, default=0.01)
    p.add_argument("--time-limit", type=float, default=300.0)
    p.add_argument("--strategies", default="lexicographic,weighted")
    p.add_argument("--highs-defaults", action="store_true", help="RINS and RENS on (HiGHS's own defaults)")
    a = p.parse_args()
    inst = load_instance(a.instance)
    cuts = [float(c) for c in a.cuts.split(",")]
    which = a.strategies.split(",")
    rows = []
    for k, cut in enumerate(cuts):
        order = which if k % 2 == 0 else which[::-1]
        for w in order:
            r = run_one(inst, cut, w, a.gap, a.time_limit, a.highs_defaults)
            rows.append(r)
            print(f"  {cut:.2f} {w:13s} {r['status']:10s} {r['seconds']:7.1f} s  gain {r.get('gain', float('nan')):12,.1f}"
                  f"  overspend £{r.get('overspend_gbp', float('nan')):,.0f}  gap {r['gap']}  {r['phases']}",
                  file=sys.stderr, flush=True)
    print("| cut | strategy | status | seconds | overspend (£, disc.) | overspend gap | outcome gain | gain gap | W rounds / phases |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        extra = r["phases"] if r["strategy"] != "weighted" else f"{r['rounds']} (W {r['weight']:.3g})"
        print(f"| {r['cut']:.2f} | {r['strategy']} | {r['status']} | {r['seconds']:.1f} | "
              f"{r.get('overspend_gbp', float('nan')):,.0f} | "
              f"{'-' if r['overspend_gap'] is None else format(r['overspend_gap'], '.2%')} | {r.get('gain', float('nan')):,.1f} | "
              f"{(r['gap'] or 0):.3%} | {extra} |")
    if len(which) == 2:
        a_s = {r["cut"]: r["seconds"] for r in rows if r["strategy"] == which[0]}
        b_s = {r["cut"]: r["seconds"] for r in rows if r["strategy"] == which[1]}
        ratios = [b_s[c] / a_s[c] for c in cuts if a_s[c] > 0]
        print(f"\n{which[1]} / {which[0]} seconds: median {statistics.median(ratios):.2f}x, "
              f"worst {which[0]} {max(a_s.values()):.1f} s, worst {which[1]} {max(b_s.values()):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
