"""The one parallel runner: many independent solves, on Dask workers or in-process.

Sweeps, question banks and lever attributions are all lists of small, picklable `Task`s
(a model spec, a cut, a few extra fields). `run_tasks` groups them into batches (tasks
sharing a `batch` key, in the order given), sends each batch to a worker process, and
returns one plain result dict per task, in the order of the tasks.

Each worker process builds ONE `Engine` per instance and keeps it (a small module-level
cache keyed by a hash of the instance tables and the solve options), so a batch is a run
of warm re-solves on a compiled model: a new cut only changes row bounds.

Determinism. Results do not depend on the number of workers nor on which worker gets
which batch: batches are fixed by the caller (never by the worker count); a fresh Engine
solves its status quo baseline before anything else; every batch starts from a cleared
solver (no basis or incumbent left by an earlier batch), and HiGHS runs with one thread
and a fixed seed. Within a batch each solve warm-starts from the one before, exactly as
in the serial run. One exception: a solve that reaches its time limit stops where the
wall clock says, which depends on the machine's load; its plan (flagged time_limit) may
then differ from run to run.

Processes, not threads: HiGHS' scheduler
and Pyomo's output capture are not fork- or thread-safe, so a local cluster has one
single-threaded worker process per core (started by spawn, not fork), and a lock keeps
it to one solver per process at a time even on a cluster whose workers have more
threads. `workers=0` or `1` runs every batch in this process, serially, with no Dask.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace

import pandas as pd

from ..data.instance import Instance
from ..errors import CommissionoptError
from ..policies.spec import ModelSpec
from ..solve.highs import SolveOptions
from ..solve.status import Status
from .engine import Engine, as_spec

MAX_ENGINES = 2  # compiled models a worker keeps (least recently used dropped first)
PROGRESS_TOPIC = "commissionopt-progress"
HEARTBEAT_TOPIC = "commissionopt-heartbeat"
HEARTBEAT_SECONDS = 2.0  # a running batch says it is alive this often
HEARTBEAT_TIMEOUT = 60.0  # silence after which a batch's worker counts as frozen or unreachable
QUIET = logging.ERROR  # Dask's own logging: errors only
POLL_SECONDS = 0.1  # how often the client looks for finished batches and progress


class ParallelRunError(CommissionoptError):
    """A batch of solves was lost (a worker died or the cluster could not be reached)."""
    exit_code = 1


MAIN_GUARD = ("worker processes start by importing the script that started them, so a script that solves in "
              "parallel needs its code under `if __name__ == \"__main__\":`; or pass workers=0 to solve in "
              "this process")


def _starting_a_worker() -> bool:
    """True while multiprocessing is still starting this process: a spawned worker running
    the parent's main script again, because that script has no main guard."""
    import multiprocessing
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


@dataclass(frozen=True)
class Task:
    """One solve: a model (ModelSpec, shipped model name or model file) at one cut.

    `tables`: names of Plan tables to return besides the summary ("all" for every one).
    `batch`: tasks with the same key run in order on one worker's Engine, warm (None:
    the task is a batch of its own). `tag`: anything picklable, returned as given.
    `instance`: the key of the instance to use when `run_tasks` gets a dict of them.
    `draw`: ((draw name, quantile), ...): the task runs on the instance with its ranges.csv
    drawn at these quantiles (runs/draws.py), built on the worker; tasks of one batch share it.
    `fixed`: structural decisions to fix ({kind: {index: 0|1}}, model/decisions.py).
    """
    model: ModelSpec | str = "redesign"
    cut: object = None
    extra_money: dict | None = None
    draw_cap: dict | None = None  # {(stream, year): £} most reserves drawn (another plan's draws)
    name: str | None = None
    target: float | None = None
    tables: tuple = ()
    verify: bool = True
    batch: object = None
    tag: object = None
    instance: object = None
    draw: tuple | None = None
    fixed: dict | None = None


@dataclass
class _Batch:
    index: int
    instance: object
    tasks: list  # [(task index, Task)]
    key: str = ""
    draw: tuple | None = None


# ---- the instance key ---------------------------------------------------------------
def instance_key(inst: Instance, options: SolveOptions | None = None) -> str:
    """A hash of everything an Engine is built from: meta, every table, solve options."""
    h = hashlib.sha256()
    h.update(json.dumps(inst.meta, sort_keys=True, default=str).encode())
    for name in sorted(inst.tables):
        df = inst.tables[name]
        h.update(name.encode())
        h.update(json.dumps([str(c) for c in df.columns]).encode())
        h.update(json.dumps([str(t) for t in df.dtypes]).encode())
        if len(df):
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    h.update(repr(options or SolveOptions()).encode())
    return h.hexdigest()[:20]


# ---- the worker side ----------------------------------------------------------------
_ENGINES: OrderedDict = OrderedDict()  # key -> (Engine, serial number)
_STATS = {"builds": 0}
_SOLVER_LOCK = threading.Lock()  # one solver per process at a time


def _process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _fresh_start(engine: Engine) -> None:
    """Forget the basis and incumbent of earlier solves (the compiled models stay): the
    engine's own session and those of the engines it keeps for data-changing rules."""
    engine.clear()


def _engine(cache: OrderedDict, key: str, inst: Instance, options: SolveOptions, limit: int | None):
    """The cached Engine for `key`, or a new one (its baseline solved first)."""
    if key in cache:
        cache.move_to_end(key)
        return cache[key][0], cache[key][1], False
    while limit is not None and len(cache) >= limit:
        cache.popitem(last=False)
    engine = Engine(inst, options)
    engine.baseline()  # solved before any task, so every batch sees the same history
    _STATS["builds"] += 1
    cache[key] = (engine, _STATS["builds"])
    return engine, _STATS["builds"], True


def _result(task: Task, plan, seconds: float) -> dict:
    names = list(plan.tables) if task.tables in ("all", ("all",)) else list(task.tables)
    return {"tag": task.tag, "summary": dict(plan.summary), "inputs": dict(plan.inputs),
            "violations": list(plan.violations),
            "tables": {n: plan.tables[n] for n in names if n in plan.tables},
            "seconds": seconds}


def _error_result(task: Task, exc: BaseException) -> dict:
    spec_name = task.name or getattr(task.model, "name", str(task.model))
    return {"tag": task.tag, "summary": {"status": Status.ERROR, "policy": spec_name,
                                         "solver_message": f"{type(exc).__name__}: {exc}"},
            "inputs": {}, "violations": [], "tables": {}, "seconds": 0.0,
            "error": f"{type(exc).__name__}: {exc}"}


def _run_batch(inst: Instance, key: str, options: SolveOptions, batch: list, batch_index: int,
               cache: OrderedDict | None = None, notify=None, draw: tuple | None = None) -> list[dict]:
    """Solve a batch of (task index, Task) in order on this process's Engine for `key`
    (for a `draw`, on an Engine of its own, built here on the drawn instance and not kept)."""
    with _SOLVER_LOCK:
        limit = None if cache is not None else MAX_ENGINES
        cache = _ENGINES if cache is None else cache
        t0 = time.perf_counter()
        if draw is not None:  # one draw, one batch: an engine used once is not worth keeping
            from .draws import drawn_instance
            inst, key, cache, limit = drawn_instance(inst, dict(draw)), f"{key}/draw", OrderedDict(), None
        engine, serial, built = _engine(cache, key, inst, options, limit)
        build_seconds = time.perf_counter() - t0
        _fresh_start(engine)
        out = []
        for n, (i, task) in enumerate(batch):
            t1 = time.perf_counter()
            try:
                plan = engine.run(task.model, task.cut, verify=task.verify, target=task.target,
                                  extra_money=task.extra_money, draw_cap=task.draw_cap, name=task.name,
                                  fixed=task.fixed)
                res = _result(task, plan, time.perf_counter() - t1)
            except Exception as exc:  # one bad point must not lose the batch
                res = _error_result(task, exc)
            res["run"] = {"index": i, "batch": batch_index, "process": _process_name(),
                          "engine": f"{_process_name()}#{serial}", "engine_built": built and n == 0,
                          "build_seconds": build_seconds if built and n == 0 else 0.0,
                          "position_in_batch": n}
            out.append(res)
            if notify is not None:
                notify(i)
        return out


def _log_event(worker, topic: str, msg) -> None:
    try:
        worker.log_event(topic, msg)
    except Exception:  # progress and heartbeats are courtesies: never let them fail a solve
        pass


def _run_batch_on_worker(inst, key, options, batch, batch_index, run_id, draw=None):
    """A batch on a Dask worker: progress after each solve, and a heartbeat every
    HEARTBEAT_SECONDS from a thread of its own (it beats through long solves, which release
    the GIL; it stops only if the whole process stops: frozen, or its network gone)."""
    from distributed import get_worker
    worker = get_worker()
    stop = threading.Event()

    def beat():
        while True:
            _log_event(worker, HEARTBEAT_TOPIC, {"run": run_id, "batch": batch_index})
            if stop.wait(HEARTBEAT_SECONDS):
                return

    threading.Thread(target=beat, name=f"commissionopt-heartbeat-{batch_index}", daemon=True).start()
    try:
        return _run_batch(inst, key, options, batch, batch_index,
                          notify=lambda i: _log_event(worker, PROGRESS_TOPIC, {"task": (run_id, i)}), draw=draw)
    finally:
        stop.set()


def worker_stats() -> dict:
    """This process's runner statistics: engines built and kept."""
    return {"process": _process_name(), "builds": _STATS["builds"], "engines": list(_ENGINES)}


# ---- the client side ----------------------------------------------------------------
def _batches(inst, tasks: list[Task]) -> tuple[dict, list[_Batch]]:
    insts = inst if isinstance(inst, dict) else {None: inst}
    order: dict = {}
    batches: list[_Batch] = []
    for i, t in enumerate(tasks):
        ikey = t.instance if isinstance(inst, dict) else None
        if ikey not in insts:
            raise KeyError(f"task {i} names instance {ikey!r}, not one of {sorted(map(str, insts))}")
        bkey = (ikey, t.batch, t.draw) if t.batch is not None else ("__single__", i)
        if bkey not in order:
            order[bkey] = len(batches)
            batches.append(_Batch(index=len(batches), instance=ikey, tasks=[], draw=t.draw))
        batches[order[bkey]].tasks.append((i, t))
    return insts, batches


def _resolve(task: Task) -> Task:
    """Model names and files read here, once: a remote worker needs no models/ folder."""
    return task if isinstance(task.model, ModelSpec) else replace(task, model=as_spec(task.model))


def _tick(progress, n: int = 1) -> None:
    if progress is not None:
        for _ in range(n):
            progress(1)


def run_tasks(inst: Instance | dict, tasks, workers: int | None = 0, scheduler: str | None = None,
              progress=None, options: SolveOptions | None = None,
              heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> list[dict]:
    """Run every task; one result dict per task, in the order of `tasks`.

    A result: {"tag", "summary" (the Plan's summary), "tables" {name: DataFrame} (those the
    task asked for), "violations", "inputs", "seconds", "run" {process, engine, engine_built,
    batch, ...}} and "error" if the task raised (its status is then "error").
    `inst`: one Instance, or {key: Instance} with each task naming its `instance`.
    `workers`: local worker processes; 0 (the default) or 1 runs serially here, None one per core.
    `scheduler`: the address of a running Dask scheduler to use instead of a local cluster.
    `progress`: called as progress(1) once per finished task (e.g. a click bar's update).
    `options`: each Engine's settings, under the model files' own `solver:` (to change a
    model's gap, give the task a spec with it, as sweep(mip_rel_gap=...) does).
    `heartbeat_timeout`: seconds without a heartbeat from a running batch (or without any
    word from the cluster while batches remain) after which the run stops with a
    ParallelRunError naming the lost solves: a worker frozen (SIGSTOP, a swapped-out VM) or
    cut off. A worker that dies is different: Dask reruns its batch elsewhere.
    """
    tasks = [_resolve(t) for t in tasks]
    if not tasks:
        return []
    options = options or SolveOptions()
    insts, batches = _batches(inst, tasks)
    keys = {k: instance_key(v, options) for k, v in insts.items()}
    for b in batches:
        b.key = keys[b.instance]
    n = workers if workers is not None else (os.cpu_count() or 1)
    if scheduler is None and (n <= 1 or len(batches) == 1):
        return _run_serial(insts, batches, options, progress, len(tasks))
    if scheduler is None and _starting_a_worker():  # stop here, before a cluster of clusters
        raise ParallelRunError(f"a local Dask cluster cannot start from a process that is itself starting: {MAIN_GUARD}")
    try:
        import distributed  # noqa: F401
    except ImportError:  # Dask missing: the same batches, in this process
        import warnings
        warnings.warn("dask[distributed] is not installed: running the solves serially", RuntimeWarning, stacklevel=2)
        return _run_serial(insts, batches, options, progress, len(tasks))
    return _run_dask(insts, batches, options, progress, len(tasks), min(n, len(batches)), scheduler,
                     heartbeat_timeout)


def _run_serial(insts: dict, batches: list[_Batch], options: SolveOptions, progress, total: int) -> list[dict]:
    cache: OrderedDict = OrderedDict()  # this call's engines only: nothing kept in the caller's process
    results: list = [None] * total
    for b in batches:
        for res in _run_batch(insts[b.instance], b.key, options, b.tasks, b.index, cache=cache,
                              notify=lambda i: _tick(progress), draw=b.draw):
            res["run"]["mode"] = "serial"
            results[res["run"]["index"]] = res
    return results


def local_cluster(n_workers: int):
    """A LocalCluster of single-threaded worker processes (spawned), quiet; its HTTP server
    on a free port (never 8787, which another cluster may hold).

    The workers import the engine as they start (preload), so that Pyomo's and pandas'
    import time is paid during start-up, alongside the other workers, not in the first solve."""
    from distributed import LocalCluster
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                        silence_logs=QUIET, preload=[__name__])


def describe(batch: _Batch, most: int = 8) -> str:
    """The solves of a batch as an analyst reads them: 'salami at cut 0, 0.05, 0.1'."""
    groups: dict = {}
    for _, task in batch.tasks:
        name = task.name or getattr(task.model, "name", str(task.model))
        if isinstance(task.tag, str):
            name += f" ({task.tag})"
        groups.setdefault(name, []).append(f"{task.cut:g}" if isinstance(task.cut, float) else str(task.cut))
    def cuts(values):
        return ", ".join(values[:most]) + (f" and {len(values) - most} more" if len(values) > most else "")
    return "; ".join(f"{name} at cut {cuts(values)}" for name, values in groups.items())


def _run_dask(insts: dict, batches: list[_Batch], options: SolveOptions, progress, total: int,
              n_workers: int, scheduler: str | None, heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> list[dict]:
    from distributed import Client

    cluster = None
    try:
        if scheduler is None:
            cluster = local_cluster(n_workers)
            client = Client(cluster, set_as_default=False)
        else:
            client = Client(scheduler, set_as_default=False, timeout="30s")
    except Exception as exc:
        if cluster is not None:
            cluster.close()
        where = scheduler or f"a local cluster of {n_workers} workers"
        hint = f"; {MAIN_GUARD}" if scheduler is None else ""
        raise ParallelRunError(f"could not start or reach the Dask scheduler ({where}): {exc}{hint}") from exc

    run_id = uuid.uuid4().hex
    reported: set = set()
    events: queue.SimpleQueue = queue.SimpleQueue()  # ("task", index) or ("beat", batch index)
    watching = True  # heartbeats arrive (an older scheduler may not pass events on)
    try:
        def on_progress(event):
            _, msg = event
            t = msg.get("task") if isinstance(msg, dict) else None
            if isinstance(t, (list, tuple)) and len(t) == 2 and t[0] == run_id:
                events.put(("task", t[1]))

        def on_beat(event):
            _, msg = event
            if isinstance(msg, dict) and msg.get("run") == run_id:
                events.put(("beat", msg.get("batch")))

        try:
            client.subscribe_topic(PROGRESS_TOPIC, on_progress)
            client.subscribe_topic(HEARTBEAT_TOPIC, on_beat)
        except Exception:  # older schedulers: progress at the end of each batch, no heartbeats
            watching = False
        # one instance: on every worker at once; many (question banks): each where it lands,
        # and its batches follow it there
        data = {k: client.scatter(v, broadcast=len(insts) == 1, hash=False) for k, v in insts.items()}
        futures = {}
        for b in batches:
            f = client.submit(_run_batch_on_worker, data[b.instance], b.key, options, b.tasks, b.index, run_id,
                              b.draw, key=f"commissionopt-batch-{b.index}-{run_id}", pure=False)
            futures[f] = b
        results: list = [None] * total
        pending = set(futures)
        heard: dict = {}  # batch index -> when its last heartbeat (or progress) arrived
        last_word = time.monotonic()  # when anything last arrived from the cluster

        def drain():
            nonlocal last_word
            while True:
                try:
                    kind, value = events.get_nowait()
                except queue.Empty:
                    return
                last_word = time.monotonic()
                if kind == "beat":
                    heard[value] = last_word
                elif value not in reported:
                    reported.add(value)
                    _tick(progress)

        def check_alive():
            now = time.monotonic()
            running = {futures[f].index: futures[f] for f in pending}
            lost = [running[b] for b, t in heard.items() if b in running and now - t > heartbeat_timeout]
            if not lost and now - last_word > heartbeat_timeout:
                lost = sorted(running.values(), key=lambda b: b.index)  # nothing heard at all
            if lost:
                raise ParallelRunError(
                    f"no word from the Dask worker running {'; '.join(describe(b) for b in lost)} for "
                    f"{heartbeat_timeout:g} s (batch {', '.join(str(b.index) for b in lost)}): the worker is frozen "
                    f"or unreachable; the run is stopped rather than left waiting")

        while pending:
            drain()
            done = [f for f in pending if f.done()]
            if not done:
                if watching:
                    check_alive()
                time.sleep(POLL_SECONDS)
                continue
            last_word = time.monotonic()
            pending.difference_update(done)
            for f in done:
                b = futures[f]
                try:
                    batch_results = f.result()
                except CommissionoptError:  # the library's own errors (bad input, ...) keep their type
                    raise
                except Exception as exc:
                    raise ParallelRunError(f"batch {b.index} ({len(b.tasks)} solves) was lost: "
                                           f"{type(exc).__name__}: {exc}") from exc
                for res in batch_results:
                    res["run"]["mode"] = "dask"
                    i = res["run"]["index"]
                    results[i] = res
                    if i not in reported:
                        reported.add(i)
                        _tick(progress)
        return results
    finally:
        try:
            if watching:
                client.unsubscribe_topic(PROGRESS_TOPIC)
                client.unsubscribe_topic(HEARTBEAT_TOPIC)
        except Exception:
            pass
        client.close()
        if cluster is not None:
            cluster.close()


# ---- helpers for callers ------------------------------------------------------------
def engine_builds(results: list[dict]) -> int:
    """How many Engines (model builds) the run needed."""
    return sum(1 for r in results if r.get("run", {}).get("engine_built"))


def largest_gap(results: list[dict]) -> float:
    gaps = [r["summary"].get("mip_gap") for r in results]
    gaps = [g for g in gaps if g is not None]
    return max(gaps) if gaps else 0.0


def as_plan(result: dict):
    """A result dict back as a Plan (with the tables it carries)."""
    from ..results.plan import Plan
    return Plan(summary=result["summary"], tables=result.get("tables", {}), inputs=result.get("inputs", {}),
                violations=result.get("violations", []))
