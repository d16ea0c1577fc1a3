"""Saved runs: what `solve --out` and `compare --out` write, read back without solving.

A run folder:

    run.json            schema_version, kind (solve | compare), instance and its source, cut,
                        scenario, headline, policies {name: folder}, sweep (file name or null)
    instance/           the instance as it was run (scenarios applied), so that a run can be
                        re-reported and audited without the original files
    summary.json, *.csv a solve's plan: plan_document's shape and every result table, or
    POLICY/...          a compare's plans, one folder each
    sweep.csv           the HTML report's sweep of cuts, when one was run

`explain --out` folders (attribution.csv, subsets.csv) can be read too: their lever
attribution goes into the report's waterfall.

    run = load_run("out/round")                    # a Run: instance, comparison, sweep
    build_report(run.instance, run.comparison, run.sweep)
    diff_runs(load_run("before"), load_run("after"))   # {"summary", "services", "mechanisms", "inputs"}
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.instance import Instance
from ..errors import InputError, Problem
from ..results.plan import Plan
from ..runs.compare import Comparison
from .labels import cut_by_year, cut_text
from .output import SCHEMA_VERSION, folder_names, jsonable, plan_files, plan_from_json

RUN_FILE = "run.json"
INSTANCE_DIR = "instance"
SWEEP_FILE = "sweep.csv"
PLAN_FILE = "summary.json"
ATTRIBUTION_FILES = ("attribution.csv", "subsets.csv")
TOLERANCE = 1e-9  # relative: a change smaller than this is no change


@dataclass
class Run:
    """A saved run read back: its instance, its plans as a Comparison, the sweep if any."""
    path: Path
    kind: str
    instance: Instance
    comparison: Comparison
    sweep: pd.DataFrame | None = None
    attribution: pd.DataFrame | None = None
    doc: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- writing
def instance_files(inst: Instance) -> dict[str, str]:
    """The instance as files (instance.yaml and a CSV a table), text cells neutralised."""
    from ..data.meta import META_FILE, meta_yaml_text
    from ..data.schema import TABLES
    from ..data.write import table_rows

    files = {META_FILE: meta_yaml_text(inst.meta)}
    for name, spec in TABLES.items():
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(table_rows(spec, inst.tables[name]))
        files[spec.file] = buf.getvalue()
    return files


def run_files(kind: str, inst: Instance, plans: dict[str, Plan], headline: str = "", sweep: pd.DataFrame | None = None,
              scenario: str | None = None) -> dict:
    """Every file of a run folder, {relative name: content} for reports.output.write_files.
    kind "solve": one plan, its files at the top; "compare": a folder a policy."""
    files: dict = {f"{INSTANCE_DIR}/{name}": text for name, text in instance_files(inst).items()}
    if kind == "solve":
        (policy, plan), = plans.items()
        folders = {policy: "."}
        files.update(plan_files(plan))
    else:
        with_folder = folder_names(plans)
        folders = dict(zip(plans, with_folder))
        for policy, plan in plans.items():
            files.update({f"{folders[policy]}/{n}": c for n, c in plan_files(plan).items()})
    if sweep is not None:
        files[SWEEP_FILE] = sweep
    first = next(iter(plans.values()))
    cut = next((p.summary.get("cut") for p in plans.values() if p.summary.get("policy") != "status_quo"),
               first.summary.get("cut"))
    doc = {"schema_version": SCHEMA_VERSION, "kind": kind, "instance": inst.name, "source": str(inst.source or ""),
           "cut": cut,
           "cut_text": cut_text(cut), "scenario": scenario, "scenario_changes": list(inst.changes),
           "headline": headline, "policies": folders, "sweep": SWEEP_FILE if sweep is not None else None,
           "tables": list(dict.fromkeys(t for p in plans.values() for t in p.tables))}
    files[RUN_FILE] = json.dumps(jsonable(doc), indent=2)
    return files


# ----------------------------------------------------------------------------- reading
def _bad(path: Path, expected: str) -> InputError:
    return InputError(Problem(str(path), None, None, None, expected))


def read_plan(folder: Path, order: list[str] | None = None) -> Plan:
    """A plan folder (summary.json and its tables) as a Plan, its tables in `order` (the
    order they were written in) and then any others by name."""
    try:
        doc = json.loads((folder / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise _bad(folder / PLAN_FILE, f"a plan's summary.json written by commissionopt ({e})") from None
    files = {p.stem: p for p in sorted(folder.glob("*.csv")) if p.name != SWEEP_FILE}
    names = [t for t in order or [] if t in files] + [t for t in files if t not in (order or [])]
    tables = {t: pd.read_csv(files[t]) for t in names}
    return plan_from_json(doc, tables)


def _attribution(folder: Path) -> pd.DataFrame:
    """explain --out's attribution, framed by its subsets (salami's and the redesign's gains)."""
    table = pd.read_csv(folder / "attribution.csv")
    subsets = pd.read_csv(folder / "subsets.csv")
    ends = subsets.sort_values("size")["outcome_gain"]
    table.attrs.update({"v_empty": float(ends.iloc[0]), "v_all": float(ends.iloc[-1]),
                        "largest_gap": float(pd.to_numeric(subsets["mip_gap"], errors="coerce").max())})
    return table


def load_run(path: str | Path) -> Run:
    """A run folder written by solve --out or compare --out (or an explain --out folder,
    which carries only an attribution) read back."""
    path = Path(path)
    if all((path / f).is_file() for f in ATTRIBUTION_FILES) and not (path / RUN_FILE).exists():
        return Run(path=path, kind="explain", instance=None, comparison=Comparison(plans={}, cut=None),
                   attribution=_attribution(path))
    try:
        doc = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise _bad(path, "a run folder written by `commissionopt solve --out` or `compare --out` "
                         f"(with {RUN_FILE}), or by `explain --out`") from None
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        raise _bad(path / RUN_FILE, f"schema_version {SCHEMA_VERSION} (written by this version of commissionopt)")
    from ..data.load import load_instance
    inst = load_instance(path / INSTANCE_DIR, validate=False)
    inst.changes = list(doc.get("scenario_changes") or [])
    inst.source = Path(doc["source"]) if doc.get("source") else inst.source  # where it was first read from
    plans = {name: read_plan(path / folder, doc.get("tables")) for name, folder in (doc.get("policies") or {}).items()}
    cut = doc.get("cut")
    cut = cut_by_year(cut) if isinstance(cut, dict) else cut
    sweep = pd.read_csv(path / doc["sweep"]) if doc.get("sweep") else None
    return Run(path=path, kind=doc.get("kind", ""), instance=inst, comparison=Comparison(plans=plans, cut=cut),
               sweep=sweep, doc=doc)


def combine(runs: list[Run]) -> Run:
    """Several runs as one: every plan side by side (a name that repeats gets its folder's
    name), the first run's instance and sweep, the first attribution found."""
    with_plans = [r for r in runs if r.instance is not None]
    if not with_plans:
        raise _bad(runs[0].path if runs else Path("."), "at least one run folder with plans (solve or compare --out)")
    if len(runs) == 1:
        return runs[0]
    plans: dict = {}
    for r in with_plans:
        for name, plan in r.comparison.plans.items():
            key = name if name not in plans else f"{name} ({r.path.name})"
            plans[key] = plan
    first = with_plans[0]
    attribution = next((r.attribution for r in runs if r.attribution is not None), None)
    return Run(path=first.path, kind="combined", instance=first.instance,
               comparison=Comparison(plans=plans, cut=first.comparison.cut),
               sweep=first.sweep, attribution=attribution, doc=first.doc)


# ----------------------------------------------------------------------------- diff
def _pairs(a: Run, b: Run) -> list[tuple[str, Plan, Plan]]:
    common = [k for k in a.comparison.plans if k in b.comparison.plans]
    if common:
        return [(k, a.comparison.plans[k], b.comparison.plans[k]) for k in common]
    if len(a.comparison.plans) == 1 and len(b.comparison.plans) == 1:
        (ka, pa), = a.comparison.plans.items()
        (kb, pb), = b.comparison.plans.items()
        return [(ka if ka == kb else f"{ka} -> {kb}", pa, pb)]
    return []


def _changed(x, y) -> bool:
    if x is None or y is None or pd.isna(x) or pd.isna(y):
        return not ((x is None or pd.isna(x)) and (y is None or pd.isna(y)))
    return abs(float(y) - float(x)) > TOLERANCE * max(1.0, abs(float(x)), abs(float(y)))


def _figures(summary: dict) -> dict:
    out = {k: v for k, v in summary.items() if not k.endswith("_seconds")
           and isinstance(v, (int, float)) and not isinstance(v, bool)}
    out.update({f"unmet_{lv}": v for lv, v in (summary.get("unmet_by_level") or {}).items()})
    return out


def _final_year(plan: Plan, table: str) -> pd.DataFrame:
    df = plan.tables.get(table)
    if df is None or df.empty:
        return pd.DataFrame()
    return df[df["year"] == df["year"].max()]


def diff_runs(a: Run, b: Run) -> dict[str, pd.DataFrame]:
    """What changed from run A to run B, policy by policy (those in both; or the one plan of
    each): `summary` every figure (a, b, change), `services` final-year units that changed,
    `mechanisms` options whose final-year units or adoption changed, `inputs` scenario
    changes in one run only. Raises InputError when the runs share no policy."""
    pairs = _pairs(a, b)
    if not pairs:
        raise _bad(b.path, f"a run with a policy of {a.path} ({', '.join(a.comparison.plans) or 'none'})")
    summary, services, mechanisms = [], [], []
    for policy, pa, pb in pairs:
        fa, fb = _figures(pa.summary), _figures(pb.summary)
        for k in dict.fromkeys([*fa, *fb]):
            x, y = fa.get(k), fb.get(k)
            summary.append({"policy": policy, "measure": k, "a": x, "b": y,
                            "change": (y - x) if x is not None and y is not None else None,
                            "changed": _changed(x, y)})
        ua, ub = _final_year(pa, "units"), _final_year(pb, "units")
        if len(ua) or len(ub):
            by_service = pd.concat([ua.groupby("service")["units"].sum().rename("a"),
                                    ub.groupby("service")["units"].sum().rename("b")], axis=1)
            for service, r in by_service.iterrows():
                if _changed(r["a"], r["b"]):
                    services.append({"policy": policy, "service": service, "year": int(ua["year"].max()),
                                     "units_a": r["a"], "units_b": r["b"], "change": r["b"] - r["a"]})
            keys = ["service", "mechanism"]
            ma = ua.set_index(keys)["units"].rename("units_a")
            mb = ub.set_index(keys)["units"].rename("units_b")
            oa = pa.tables.get("options", pd.DataFrame(columns=keys + ["adopted"])).set_index(keys)["adopted"]
            ob = pb.tables.get("options", pd.DataFrame(columns=keys + ["adopted"])).set_index(keys)["adopted"]
            both = pd.concat([ma, mb, oa.rename("adopted_a"), ob.rename("adopted_b")], axis=1)
            for (service, mechanism), r in both.iterrows():
                if _changed(r["units_a"], r["units_b"]) or bool(r["adopted_a"]) != bool(r["adopted_b"]):
                    mechanisms.append({"policy": policy, "service": service, "mechanism": mechanism,
                                       "units_a": r["units_a"], "units_b": r["units_b"],
                                       "adopted_a": r["adopted_a"], "adopted_b": r["adopted_b"]})
    ca, cb = list(a.instance.changes if a.instance else []), list(b.instance.changes if b.instance else [])
    inputs = [{"run": "a only", "scenario_change": c} for c in ca if c not in cb] + \
             [{"run": "b only", "scenario_change": c} for c in cb if c not in ca]
    return {"summary": pd.DataFrame(summary, columns=["policy", "measure", "a", "b", "change", "changed"]),
            "services": pd.DataFrame(services, columns=["policy", "service", "year", "units_a", "units_b", "change"]),
            "mechanisms": pd.DataFrame(mechanisms, columns=["policy", "service", "mechanism", "units_a", "units_b",
                                                            "adopted_a", "adopted_b"]),
            "inputs": pd.DataFrame(inputs, columns=["run", "scenario_change"])}
