"""Sweeps: each model across a range of cuts, one row a (policy, cut), solved in parallel.

The points of one policy are cut into contiguous runs (batches); a worker solves a run
in order on its persistent Engine, each point a warm re-solve of the one before (only
the money rows' bounds change). Batches are fixed by the number of points, never by the
number of workers, so the table is the same whatever the worker count.
The chart of outcome against cut is reports/charts.py's; this module returns the table.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from ..data.instance import Instance
from ..errors import InputError, Problem
from ..solve.highs import SolveOptions
from . import arguments
from .engine import as_spec
from .parallel import Task, engine_builds, largest_gap, run_tasks

DEFAULT_MODELS = ("salami", "redesign")
COLUMNS = ("policy", "cut", "status", "mip_gap", "discounted_spend", "overspend", "outcome_value",
           "outcome_gain", "outcome_per_million", "unmet_person_years", "crisis_need_final_year", "verified")
TARGET_BATCHES = 8  # batches per policy: load balance against warm runs
MIN_CHUNK = 3       # points per batch at least (a batch starts cold)
DECIMALS = 10       # cuts from start:stop:step are rounded to this many places (0.1 + 0.2 -> 0.3)


def parse_cuts(text) -> list[float]:
    """'0:0.5:0.05' (start:stop:step, stop included within float tolerance) or '0,0.1,0.25'.

    Also accepts a number or a list of numbers. Every cut is a share in [0, 1)."""
    where = Problem("--cuts", None, None, text, "")
    expected = ("cuts as start:stop:step (e.g. 0:0.5:0.05, stop included) or a comma list "
                "(e.g. 0,0.1,0.25), every cut a share from 0 up to (not including) 1")

    def bad(why: str = "") -> InputError:
        return InputError(replace(where, expected=expected + (f"; {why}" if why else "")))

    if isinstance(text, (int, float)) and not isinstance(text, bool):
        values = [float(text)]
    elif isinstance(text, (list, tuple, np.ndarray)):
        try:
            values = [float(v) for v in text]
        except (TypeError, ValueError):
            raise bad() from None
    else:
        s = str(text).strip()
        if not s:
            raise bad("no cuts given")
        if ":" in s:
            parts = s.split(":")
            if len(parts) != 3:
                raise bad("a range needs exactly three parts")
            try:
                start, stop, step = (float(p) for p in parts)
            except ValueError:
                raise bad() from None
            if not all(math.isfinite(v) for v in (start, stop, step)):
                raise bad("start, stop and step must be finite")
            if step <= 0:
                raise bad("the step must be positive")
            if stop < start:
                raise bad("stop must not be below start")
            n = int(math.floor((stop - start) / step + 1e-9)) + 1
            values = [round(start + k * step, DECIMALS) for k in range(n)]
        else:
            try:
                values = [float(p) for p in s.split(",") if p.strip()]
            except ValueError:
                raise bad() from None
    if not values:
        raise bad("no cuts given")
    out_of_range = [v for v in values if not (math.isfinite(v) and 0 <= v < 1)]
    if out_of_range:
        raise bad(f"{out_of_range[0]} is outside [0, 1)")
    return values


def chunk_size(n_points: int) -> int:
    """Points per batch for a policy of `n_points`: a function of the points only."""
    return max(MIN_CHUNK, math.ceil(n_points / TARGET_BATCHES))


def sweep_tasks(cuts, models=DEFAULT_MODELS, mip_rel_gap: float | None = None, chunk: int | None = None,
                tables: tuple = (), overrides: dict | None = None) -> list[Task]:
    """The tasks of a sweep, policy by policy, cut by cut, in batches of `chunk` points.
    `overrides` (SolveOptions fields) beat each model file's `solver:`; `mip_rel_gap` too."""
    cuts = list(cuts)
    chunk = chunk or chunk_size(len(cuts))
    given = {**(overrides or {}), **({"mip_rel_gap": float(mip_rel_gap)} if mip_rel_gap is not None else {})}
    tasks = []
    for mi, model in enumerate(models):
        spec = as_spec(model)
        if given:
            spec = replace(spec, solver={**spec.solver, **given})
        for k, c in enumerate(cuts):
            tasks.append(Task(model=spec, cut=c, tables=tables, batch=("sweep", mi, k // chunk),
                              tag={"policy": spec.name, "cut": c}))
    return tasks


def same_money_tasks(salami: list[dict], redesign, chunk: int) -> list[Task]:
    """redesign_same_money at each cut where salami has a plan: the redesign given exactly the
    money salami used there (its overspend included) and no more of the reserves than it drew, as
    compare() does at one cut."""
    from ..solve.status import Status
    from .compare import same_money, same_reserves
    from .parallel import as_plan
    tasks = []
    for k, r in enumerate(x for x in salami if x["summary"].get("status") in Status.HAS_PLAN and "streams" in x["tables"]):
        c = r["tag"]["cut"]
        plan = as_plan(r)
        tasks.append(Task(model=redesign, cut=c, extra_money=same_money(plan), draw_cap=same_reserves(plan),
                          name="redesign_same_money", batch=("same_money", k // chunk),
                          tag={"policy": "redesign_same_money", "cut": c}))
    return tasks


def sweep_table(results: list[dict]) -> pd.DataFrame:
    rows = []
    for r in results:
        s = r["summary"]
        row = {k: s.get(k) for k in COLUMNS}
        row["policy"] = r["tag"]["policy"]
        row["cut"] = r["tag"]["cut"]
        row["verified"] = bool(s.get("verified", False))
        if row["status"] == "error":  # a plan that failed the independent check is not a result
            row.update({k: None for k in COLUMNS[3:-1]})
        rows.append(row)
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    for k in COLUMNS[3:-1]:
        df[k] = pd.to_numeric(df[k], errors="coerce").astype(float)
    return df


def sweep(inst: Instance, cuts, models=DEFAULT_MODELS, workers: int | None = 0, scheduler: str | None = None,
          progress=None, options: SolveOptions | None = None, mip_rel_gap: float | None = None,
          chunk: int | None = None, overrides: dict | None = None, same_money: bool = False) -> pd.DataFrame:
    """Solve each model at each cut; one row a (policy, cut), in the order given.

    `cuts`: text for `parse_cuts`, a list of shares (checked the same way), or a list of
    per-year profiles {year: share}. `models`: shipped model names, model files or ModelSpecs.
    `mip_rel_gap` overrides every model's gap; `overrides` (SolveOptions fields: time_limit,
    threads, ...) every model's solver settings. `same_money`: with salami and redesign among
    the models, add redesign_same_money at each cut (a second round of solves, as each needs
    salami's result at its cut). `workers` 0 (the default) solves in this process; more starts
    a local Dask cluster (from a script, under `if __name__ == "__main__":`). `chunk`: points per batch (default
    `chunk_size`, a function of the number of cuts only, so the table does not depend on
    the worker count). `workers`, `scheduler`, `progress` (called once per solve) as in
    `run_tasks`. Columns: COLUMNS; a point that raised, or whose plan failed the independent
    check, keeps its row with status "error" and no figures. The table's `attrs` say how it was run: engine_builds, largest_gap, processes,
    mode, errors."""
    inst, models, workers = arguments.instance(inst), arguments.models(models), arguments.workers(workers)
    arguments.setting("mip_rel_gap", mip_rel_gap)
    if isinstance(cuts, (list, tuple)) and any(isinstance(c, dict) for c in cuts):
        cuts = [arguments.cut(c, "cuts") for c in cuts]  # per-year profiles {year: share}
    else:
        cuts = parse_cuts(cuts)
    tasks = sweep_tasks(cuts, models, mip_rel_gap=mip_rel_gap, chunk=chunk, overrides=overrides)
    pairs = same_money and {"salami", "redesign"} <= {t.tag["policy"] for t in tasks}
    if pairs:  # salami's streams are what redesign_same_money is given
        tasks = [replace(t, tables=("streams",)) if t.tag["policy"] == "salami" else t for t in tasks]
    results = run_tasks(inst, tasks, workers=workers, scheduler=scheduler, progress=progress, options=options)
    if pairs:
        redesign = next(t.model for t in tasks if t.tag["policy"] == "redesign")
        more = same_money_tasks([r for r in results if r["tag"]["policy"] == "salami"], redesign,
                                chunk or chunk_size(len(cuts)))
        results += run_tasks(inst, more, workers=workers, scheduler=scheduler, progress=progress, options=options)
    df = sweep_table(results)
    df.attrs.update({
        "instance": inst.name,
        "engine_builds": engine_builds(results),
        "largest_gap": largest_gap(results),
        "processes": sorted({r["run"]["process"] for r in results}),
        "mode": results[0]["run"].get("mode") if results else None,
        "errors": [r["error"] for r in results if r.get("error")],
    })
    return df
