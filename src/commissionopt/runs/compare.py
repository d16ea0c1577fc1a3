"""The budget round: several policies on one accounting, side by side.

Every policy is solved on the same compiled model. `redesign_same_money` is the
redesign given exactly the money salami used, its overspend included, so that the
two are compared on equal money.
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

# rows of the comparison table: (summary key, label)
MEASURES = (
    ("status", "status"),
    ("discounted_spend", "discounted spend (£)"),
    ("overspend", "overspend against budget (£, discounted)"),
    ("outcome_value", "outcome value"),
    ("outcome_gain", "outcome gain over no provision"),
    ("outcome_per_million", "outcome gain per £m"),
    ("unmet_person_years", "unmet need (person-years)"),
    ("crisis_need_final_year", "crisis need, final year (people)"),
    ("fte_change", "FTE change by the final year"),
    ("buildings_closed", "buildings closed"),
    ("mechanisms_switched", "mechanisms switched"),
    ("payback_year", "payback year"),
    ("mip_gap", "MIP gap"),
)


@dataclass
class Comparison:
    plans: dict[str, Plan]
    cut: object
    inputs: dict = field(default_factory=dict)

    def table(self, levels: list[str] | None = None) -> pd.DataFrame:
        """One column a policy, one row a measure (unmet need also by level)."""
        rows = {}
        for key, label in MEASURES:
            rows[label] = {name: p.summary.get(key) for name, p in self.plans.items()}
            if key == "unmet_person_years":
                for lv in levels or []:
                    rows[f"  unmet need at {lv}"] = {name: (p.summary.get("unmet_by_level") or {}).get(lv)
                                                     for name, p in self.plans.items()}
        return pd.DataFrame(rows).T


def same_money(plan: Plan) -> dict:
    """{(stream, year): £} of overspend a plan needed: money to give another policy."""
    st = plan.tables["streams"]
    return {(f, int(y)): float(o) for f, y, o in zip(st["stream"], st["year"], st["overspend"]) if o > 0}


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
                                                  name="redesign_same_money")
        if progress:
            progress("redesign_same_money")
    return Comparison(plans=plans, cut=cut, inputs={"instance": inst.name, "models": list(plans)})
