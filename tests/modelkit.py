"""Small instances for the model tests, built in a tmp dir from one minimal valid base.

`Case()` is the base: one cohort (`people`) with two need levels, one service (`help`,
people/emerging, in-house at £100 a unit, no diminishing returns), one funding stream
(`general`, £100,000 a year, pays anything and overheads), horizon 3 years and no evaluation
years after it, discount rate 0, no reserves, no staff, no buildings, no duties, no pace limits. A test changes only what it needs (`case.set`, `case.add`, `case.drop`,
`case.meta`), then `case.load(tmp_path)` writes the CSVs and loads them through the
ordinary loader (validation included), so every test instance is a valid instance.

The run helpers solve through the public engine (`Engine(inst).run(model, cut, verify=False)`)
and read the result tables back as plain lists by year.
"""
from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pandas as pd

from commissionopt.data.load import load_instance
from commissionopt.policies.spec import LEVERS, parse_spec
from commissionopt.runs.engine import Engine

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"
TOL = 1e-6

BASE_META = {
    "name": "case",
    "description": "a hand-sized test instance",
    "price_year": "2025-26",
    "base_year": 2025,
    "horizon_years": 3,
    "discount_rate": 0.0,
    "levels": ["emerging", "crisis"],
    "reserves": {"opening": 0, "minimum": 0, "flexible_capital_receipts": False},
    "evaluation_years": "horizon",  # no years after the horizon unless a test asks (None: the default)
}

BASE_TABLES = {
    "cohorts": [dict(cohort="people", age_from=0, age_to=99)],
    "needs": [
        dict(cohort="people", level="emerging", population_base=100, arrivals_per_year=100,
             arrivals_growth=0, statutory_coverage=0, future_cost=0),
        dict(cohort="people", level="crisis", population_base=10, arrivals_per_year=10,
             arrivals_growth=0, statutory_coverage=0, future_cost=0),
    ],
    # one transition row is required; rate 0 moves nobody
    "transitions": [dict(from_cohort="people", from_level="crisis", to_cohort="people", to_level="crisis",
                         lag_years=1, rate=0)],
    "outcomes": [dict(domain="wellbeing", weight=1)],
    "harms": [
        dict(cohort="people", level="emerging", domain="wellbeing", harm_per_person_year=1),
        dict(cohort="people", level="crisis", domain="wellbeing", harm_per_person_year=4),
    ],
    "services": [dict(service="help", cohort="people", level="emerging", people_per_unit=1, base_units=50,
                      min_units=0, max_units=1000, building_types="", tags="early_help", marginal_effect=1)],
    "gains": [dict(service="help", domain="wellbeing", gain_per_unit=0.5)],
    "mechanisms": [dict(mechanism="in_house", transaction_rate=0, lead_years=0)],
    "options": [dict(service="help", mechanism="in_house", current="true", unit_cost=100, quality=1, effect_escalation=0,
                     failure_demand=0, setup_cost=0, max_share=1)],
    "funding": [dict(stream="general", base_amount=100000, subject_to_cut="true", scope="*", overheads="true",
                     poolable="false", pooled_scope="", pooling_cost=0, partner="council")],
}


def every_move(effect: float) -> dict:
    """An option's effect on every onward move of the people it serves, escalation and persistence
    alike (the meaning `effect` had before the two were told apart)."""
    return {"effect_escalation": effect, "effect_resolution": effect}


def _matches(row: dict, match: dict) -> bool:
    return all(str(row.get(k)) == str(v) for k, v in match.items())


class Case:
    """A test instance as plain dicts; tables are lists of row dicts."""

    def __init__(self):
        self.meta = copy.deepcopy(BASE_META)
        self.tables = copy.deepcopy(BASE_TABLES)

    # ---- editing --------------------------------------------------------------------
    def rows(self, table: str, **match) -> list[dict]:
        return [r for r in self.tables.setdefault(table, []) if _matches(r, match)]

    def set(self, table: str, match: dict, **values) -> "Case":
        """Change columns of the rows matching `match` (at least one must match)."""
        found = self.rows(table, **match)
        assert found, f"no row of {table} matches {match}"
        for r in found:
            r.update(values)
        return self

    def add(self, table: str, **row) -> "Case":
        self.tables.setdefault(table, []).append(row)
        return self

    def drop(self, table: str, **match) -> "Case":
        self.tables[table] = [r for r in self.tables.get(table, []) if not _matches(r, match)]
        return self

    def replace(self, table: str, rows: list[dict]) -> "Case":
        self.tables[table] = [dict(r) for r in rows]
        return self

    # ---- writing and loading ------------------------------------------------------------
    def write(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta)
        if meta.get("evaluation_years") == "horizon":
            meta["evaluation_years"] = meta["horizon_years"]
        if meta.get("evaluation_years") is None:
            meta.pop("evaluation_years", None)
        write_meta(folder / "instance.yaml", meta)
        for name, rows in self.tables.items():
            if not rows:
                continue
            cols: list[str] = []
            for r in rows:
                cols += [c for c in r if c not in cols]
            with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=cols)
                w.writeheader()
                for r in rows:
                    w.writerow({c: _cell(r.get(c, "")) for c in cols})
        return folder

    def load(self, tmp_path: Path, name: str = "case"):
        return load_instance(self.write(Path(tmp_path) / name))


def _cell(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_meta(path: Path, meta: dict) -> None:
    lines = []
    for k, v in meta.items():
        if isinstance(v, dict):
            inner = ", ".join(f"{kk}: {_yaml_scalar(vv)}" for kk, vv in v.items())
            lines.append(f"{k}: {{{inner}}}")
        elif isinstance(v, list):
            lines.append(f"{k}: [{', '.join(map(_yaml_scalar, v))}]")
        else:
            lines.append(f"{k}: {_yaml_scalar(v)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a YAML double-quoted scalar
    return str(v)


# ---- copying a whole instance folder with changes ----------------------------------------

def read_folder(folder: Path) -> tuple[dict, dict[str, list[dict]]]:
    """instance.yaml as a mapping and every CSV table of a folder, as rows of text."""
    from commissionopt.data.load import read_yaml
    folder = Path(folder)
    tables = {}
    for p in sorted(folder.glob("*.csv")):
        with open(p, encoding="utf-8-sig", newline="") as fh:
            tables[p.stem] = list(csv.DictReader(fh))
    return dict(read_yaml(folder / "instance.yaml")), tables


def write_folder(folder: Path, meta: dict, tables: dict[str, list[dict]]) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {k: v for k, v in meta.items() if k != "sources"}  # the sources file is not copied
    write_meta(folder / "instance.yaml", meta)
    for name, rows in tables.items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()) if rows else [])
            w.writeheader()
            w.writerows(rows)
    return folder


def money_columns() -> dict[str, list[str]]:
    """{table: [columns]} of every money figure, from the schema (units in £)."""
    from commissionopt.data.schema import TABLES
    return {t.name: [c.name for c in t.columns if "£" in c.unit] for t in TABLES.values()
            if any("£" in c.unit for c in t.columns)}


# ---- running ----------------------------------------------------------------------------

def spec(name: str = "custom", policy: str = "optimise", objective: str = "max_outcome", gap: float = 1e-3,
         **levers):
    """A model file as a ModelSpec: the policy's default levers, changed by `levers`."""
    for k in levers:
        assert k in LEVERS, k
    return parse_spec({"name": name, "policy": policy, "objective": objective, "levers": levers,
                       "solver": {"mip_rel_gap": gap, "time_limit": 60}}, name)


def run(inst, model="redesign", cut=None, engine: Engine | None = None, expect="optimal", **kw):
    """Solve one policy at one cut; asserts the status (optimal unless told otherwise)."""
    eng = engine or Engine(inst)
    plan = eng.run(model, cut, verify=False, **kw)
    if expect is not None:
        assert plan.status == expect, (plan.status, plan.summary.get("solver_message"))
    return plan


def series(df: pd.DataFrame, column: str, **match) -> list[float]:
    """`column` of the rows matching `match`, in year order, as floats."""
    sel = df
    for k, v in match.items():
        sel = sel[sel[k] == v]
    assert len(sel), f"no rows match {match}"
    return [float(v) for v in sel.sort_values("year")[column]]


def value(df: pd.DataFrame, column: str, **match):
    sel = df
    for k, v in match.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, f"{len(sel)} rows match {match}"
    return sel[column].iloc[0]


def approx(expected, rel: float = 1e-4, abs: float = 1e-3):
    """pytest.approx with the model tests' tolerance: hand-worked answers differ from the wrong
    ones by far more, while solver tolerances (the overspend and outcome holds of the
    lexicographic phases, 1e-6 relative) stay well inside it."""
    import pytest
    return pytest.approx(expected, rel=rel, abs=abs)
