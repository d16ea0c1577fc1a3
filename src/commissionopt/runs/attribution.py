"""Where the redesign's advantage over salami comes from: Shapley values over the levers.

The game: v(S) = outcome gain of the model with exactly the levers in S free (policy
optimise, objective max_outcome, every other setting as the redesign model's), at one
cut. v({}) is salami slicing (every lever off is the salami rule) and v(all seven) is the
redesign. A lever's Shapley value is its marginal gain averaged over every order in which
the levers could be switched on:

    phi_i = sum over S not holding i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S))

The values add up to v(all) - v(empty) (efficiency); a lever that never changes v gets 0
(dummy); two levers that always add the same get the same (symmetry). They are computed
in exact rational arithmetic from the solved v(S), so the sum is exact before the final
rounding of each value to a float.

A subset of levers: `levers` are the players; every other lever is held `hold` ("off",
the default, so v(empty) is still salami and v(all) is the model with only those levers
on; or "on", so v(all) is still the redesign and v(empty) the redesign without them).

Every plan first spends as little over budget as it can, then buys the most outcome (the
engine's lexicographic objective). Where a cut forces an overspend, a lever that lowers the
overspend leaves less money for outcomes, so its outcome contribution can be negative:
`overspend_contribution` (Shapley values of the discounted overspend, the same solves) shows
the other side of that trade; read the two together.

2^n solves (128 for all seven), run through the parallel runner in Gray-code order so
that each warm re-solve differs from the one before by one lever. With MIP gaps each v(S)
is approximate: every subset is solved with the same gap and the largest gap is reported.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations

import pandas as pd

from ..data.instance import Instance
from ..errors import InputError, NoPlanError, Problem
from ..policies.spec import LEVERS, ModelSpec, parse_spec
from ..solve.highs import SolveOptions
from ..solve.status import Status
from .engine import as_spec
from .parallel import Task, engine_builds, largest_gap, run_tasks

TARGET_BATCHES = 8
MIN_CHUNK = 3


@dataclass
class Attribution:
    """`table`: lever, contribution, share (of v(all) - v(empty)), overspend_contribution;
    `values`: one row per subset (its levers, status, gap, outcome gain, overspend, spend)."""
    table: pd.DataFrame
    values: pd.DataFrame
    cut: object
    levers: tuple
    held: dict
    v_empty: float
    v_all: float
    largest_gap: float
    engine_builds: int = 0
    statuses: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.v_all - self.v_empty


def shapley(values: dict, players) -> dict:
    """Exact Shapley values of a game {frozenset(S): v(S)} over `players` (every subset given)."""
    players = list(players)
    n = len(players)
    fact = [math.factorial(k) for k in range(n + 1)]
    v = {frozenset(k): Fraction(x) for k, x in values.items()}
    out = {}
    for p in players:
        others = [q for q in players if q != p]
        total = Fraction(0)
        for k in range(n):
            w = Fraction(fact[k] * fact[n - k - 1], fact[n])
            for S in combinations(others, k):
                S = frozenset(S)
                total += w * (v[S | {p}] - v[S])
        out[p] = total
    return out


def gray_order(n: int) -> list[int]:
    """0 .. 2^n - 1 so that neighbours differ in one bit."""
    return [i ^ (i >> 1) for i in range(2 ** n)]


def subset_spec(base: ModelSpec, on: set) -> ModelSpec:
    """The model with exactly the levers in `on` free (policy optimise, objective max_outcome)."""
    name = "levers:" + ("+".join(k for k in LEVERS if k in on) or "none")
    return parse_spec({"name": name, "policy": "optimise", "objective": "max_outcome",
                       "levers": {k: (k in on) for k in LEVERS}, "solver": dict(base.solver)},
                      f"attribution {name}")


def attribute(inst: Instance, cut=0.25, levers=LEVERS, workers: int | None = 0, scheduler: str | None = None,
              progress=None, options: SolveOptions | None = None, hold: str = "off",
              mip_rel_gap: float | None = None, base="redesign", chunk: int | None = None,
              overrides: dict | None = None) -> Attribution:
    """Shapley values of the outcome gain over `levers` at `cut` (see the module docs).

    `hold`: how the levers not in `levers` are held ("off": v(empty) is salami; "on": v(all)
    is the redesign). `mip_rel_gap` overrides the gap of `base` (the model whose solver
    settings every subset uses), `overrides` (SolveOptions fields) its other settings.
    `workers` (0: in this process), `scheduler`, `progress` (called once per solve, 2^n in
    all) as in `run_tasks`. Returns an Attribution: `.table` (lever, contribution,
    share, overspend_contribution), `.values` (the 2^n subsets), v_empty, v_all, largest_gap.
    Raises NoPlanError if any subset has no verified plan."""
    levers = tuple(levers)
    if not levers or len(set(levers)) != len(levers) or any(k not in LEVERS for k in levers):
        raise InputError(Problem("--levers", None, None, ",".join(map(str, levers)),
                                 f"distinct lever names from {', '.join(LEVERS)} (at least one)"))
    if hold not in ("off", "on"):
        raise InputError(Problem("--hold", None, None, hold, "off or on (how the levers not attributed are held)"))
    base_spec = as_spec(base)
    solver = {**base_spec.solver, **(overrides or {})}
    if mip_rel_gap is not None:
        solver["mip_rel_gap"] = float(mip_rel_gap)
    base_spec = ModelSpec(name=base_spec.name, solver=solver)
    held = {k: hold == "on" for k in LEVERS if k not in levers}
    n = len(levers)
    order = gray_order(n)
    chunk = chunk or max(MIN_CHUNK, math.ceil(len(order) / TARGET_BATCHES))
    tasks = []
    for pos, mask in enumerate(order):
        S = frozenset(levers[b] for b in range(n) if mask >> b & 1)
        on = set(S) | {k for k, v in held.items() if v}
        tasks.append(Task(model=subset_spec(base_spec, on), cut=cut, batch=("attribution", pos // chunk),
                          tag={"subset": S}))
    results = run_tasks(inst, tasks, workers=workers, scheduler=scheduler, progress=progress, options=options)

    rows, v, over, statuses = [], {}, {}, {}
    for r in results:
        S, s = r["tag"]["subset"], r["summary"]
        gain = s.get("outcome_gain")
        statuses[S] = s.get("status")
        over[S] = s.get("overspend")
        row = {k: (k in S) for k in levers}
        row.update({"size": len(S), "model": s.get("policy"), "status": s.get("status"),
                    "mip_gap": s.get("mip_gap"), "outcome_gain": gain, "overspend": s.get("overspend"),
                    "discounted_spend": s.get("discounted_spend"), "verified": bool(s.get("verified", False))})
        rows.append(row)
        v[S] = gain
    failed = {S: st for S, st in statuses.items() if v[S] is None or st not in Status.HAS_PLAN}
    if failed:
        S, st = next(iter(failed.items()))
        raise NoPlanError(f"{len(failed)} of {len(v)} lever subsets have no usable plan (e.g. levers "
                          f"{'+'.join(sorted(S)) or 'none'}: {st}); Shapley values need every subset")
    values = pd.DataFrame(rows).sort_values(["size"] + list(levers), ascending=[True] + [False] * n,
                                             kind="stable").reset_index(drop=True)
    phi = shapley(v, levers)
    phi_over = shapley(over, levers)
    v_empty, v_all = v[frozenset()], v[frozenset(levers)]
    total = Fraction(v_all) - Fraction(v_empty)
    table = pd.DataFrame({
        "lever": list(levers),
        "contribution": [float(phi[k]) for k in levers],
        "share": [float(phi[k] / total) if total != 0 else float("nan") for k in levers],
        "overspend_contribution": [float(phi_over[k]) for k in levers],
    })
    table.attrs.update({"cut": cut, "v_empty": v_empty, "v_all": v_all, "largest_gap": largest_gap(results),
                        "held": held, "overspend_empty": over[frozenset()], "overspend_all": over[frozenset(levers)]})
    return Attribution(table=table, values=values, cut=cut, levers=levers, held=held, v_empty=v_empty, v_all=v_all,
                       largest_gap=largest_gap(results), engine_builds=engine_builds(results), statuses=statuses)
