"""The budget round: several policies on one accounting, side by side.

Every policy is solved on the same compiled model. `redesign_same_money` is the
redesign given exactly the money salami used, its overspend included, and no more of the
reserves than salami drew, so that the two are compared on equal money.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..data.instance import Instance
from ..results.plan import Plan
from ..solve.highs import SolveOptions
from ..solve.status import Status
from . import arguments
from .engine import Engine

DEFAULT_MODELS = ("status_quo", "salami", "redesign")

# the comparison's figures (summary keys), in the order shown; unmet need by level follows
# unmet_person_years as unmet_<level>. Labels and units: reports/labels.py.
MEASURES = ("status", "discounted_spend", "overspend", "outcome_value", "outcome_gain", "outcome_per_million",
            "unmet_person_years", "crisis_need_final_year", "fte_change", "buildings_closed", "mechanisms_switched",
            "payback_year", "mip_gap")
WHOLE_NUMBERS = ("buildings_closed", "mechanisms_switched", "payback_year")


@dataclass
class Comparison:
    plans: dict[str, Plan]
    cut: object
    inputs: dict = field(default_factory=dict)

    def table(self, levels: list[str] | None = None) -> pd.DataFrame:
        """One row a policy (index `policy`), one column a summary figure under its summary key
        (unmet need by level as `unmet_<level>`, in the order of `levels`, else the plans' own).
        Numbers are numbers: floats, whole numbers as nullable integers (payback_year is <NA>
        when there is none); `status` is text. A policy without a plan has <NA> figures."""
        levels = list(levels) if levels is not None else list(dict.fromkeys(
            lv for p in self.plans.values() for lv in (p.summary.get("unmet_by_level") or {})))
        columns = []
        for key in MEASURES:
            columns.append(key)
            if key == "unmet_person_years":
                columns += [f"unmet_{lv}" for lv in levels]
        rows = []
        for p in self.plans.values():
            s, by_level = p.summary, p.summary.get("unmet_by_level") or {}
            row = {k: s.get(k) for k in MEASURES}
            row.update({f"unmet_{lv}": by_level.get(lv) for lv in levels})
            if p.status not in Status.HAS_PLAN:  # no plan, no figures (not even a gap of 0)
                row = {k: None for k in row}
            row["status"] = p.status
            rows.append(row)
        df = pd.DataFrame(rows, columns=columns, index=pd.Index(list(self.plans), name="policy"))
        for c in columns[1:]:
            df[c] = pd.to_numeric(df[c], errors="coerce")
            df[c] = df[c].astype("Int64") if c in WHOLE_NUMBERS else df[c].astype(float)
        return df


def same_money(plan: Plan) -> dict:
    """{(stream, year): £} of overspend a plan needed: money to give another policy."""
    st = plan.tables["streams"]
    return {(f, int(y)): float(o) for f, y, o in zip(st["stream"], st["year"], st["overspend"]) if o > 0}


def same_reserves(plan: Plan) -> dict:
    """{(stream, year): £} of reserves a plan drew: the most another policy may draw."""
    st = plan.tables["streams"]
    return {(f, int(y)): float(r) for f, y, r in zip(st["stream"], st["year"], st["reserves_drawn"]) if r > 0}


def compare(inst: Instance, cut=0.25, models=DEFAULT_MODELS, options: SolveOptions | None = None,
            engine: Engine | None = None, same_money_redesign: bool = True, progress=None) -> Comparison:
    """Solve each model at `cut` on one engine; add redesign_same_money beside salami.

    `options` as in Engine: a model file's `solver:` wins over them; to force settings on every
    model, pass `engine=Engine(inst, overrides={...})`."""
    inst, cut, models = arguments.instance(inst), arguments.cut(cut), arguments.models(models)
    engine = engine or Engine(inst, options)
    plans: dict[str, Plan] = {}
    for name in models:
        plans[name if isinstance(name, str) else name.name] = engine.run(name, cut)
        if progress:
            progress(name)
    salami = plans.get("salami")
    if same_money_redesign and salami is not None and salami.status in Status.HAS_PLAN:
        plans["redesign_same_money"] = engine.run("redesign", cut, extra_money=same_money(salami),
                                                  draw_cap=same_reserves(salami), name="redesign_same_money")
        if progress:
            progress("redesign_same_money")
    return Comparison(plans=plans, cut=cut, inputs={"instance": inst.name, "models": list(plans)})
