"""What an analyst recognises about an instance, as pandas tables (nothing printed).

The seed's "resource database" (money, workforce and buildings in one place) and
"needs database" (need by cohort and level), and the base-year spend against the
money available.
"""
from __future__ import annotations

import pandas as pd

from .instance import Instance


def money(inst: Instance) -> pd.DataFrame:
    """Funding streams: who holds them, how much, what they may pay for, whether the cut applies."""
    cols = ["stream", "partner", "base_amount", "subject_to_cut", "scope", "overheads", "poolable", "pooled_scope"]
    return inst["funding"][cols].reset_index(drop=True)


def workforce(inst: Instance) -> pd.DataFrame:
    """Staff by role: FTE, hours and yearly cost."""
    w = inst["workforce"]
    return pd.DataFrame({
        "role": w["role"],
        "fte_base": w["fte_base"],
        "hours": w["fte_base"] * w["hours_per_fte"],
        "cost_per_fte": w["cost_per_fte"],
        "staff_cost": w["fte_base"] * w["cost_per_fte"],
    }).reset_index(drop=True)


def buildings(inst: Instance) -> pd.DataFrame:
    """Buildings by type and owner: how many, their hours and yearly fixed cost."""
    b = inst["buildings"]
    return (b.groupby(["type", "owner"], sort=True)
             .agg(buildings=("building", "size"), hours_available=("hours_available", "sum"),
                  extendable_hours=("extendable_hours", "sum"), fixed_cost=("fixed_cost", "sum"),
                  can_close=("can_close", "sum"))
             .reset_index())


def _by_cohort_and_level(inst: Instance, value: str) -> pd.DataFrame:
    n = inst["needs"]
    table = n.pivot_table(index="cohort", columns="level", values=value, aggfunc="sum", sort=False)
    levels = [lvl for lvl in inst.meta.get("levels") or [] if lvl in table.columns]
    cohorts = [c for c in inst["cohorts"]["cohort"] if c in table.index]
    table = table.reindex(index=cohorts, columns=levels + [c for c in table.columns if c not in levels])
    table.columns.name = None
    return table


def needs(inst: Instance) -> pd.DataFrame:
    """People with need in the base year: a cohort a row, a need level a column (lowest first)."""
    return _by_cohort_and_level(inst, "population_base")


def statutory(inst: Instance) -> pd.DataFrame:
    """Statutory coverage (share that must by law be served) in the same layout as `needs`."""
    cover = inst.statutory_coverage()
    n = inst["needs"]
    shown = inst.copy()
    shown.tables["needs"] = n.assign(statutory_coverage=[cover.get((k, l), 0.0) for k, l in zip(n["cohort"], n["level"])])
    return _by_cohort_and_level(shown, "statutory_coverage")


def base_year_spend(inst: Instance) -> dict[str, float]:
    """Base-year spend estimate (£/year), kept simple on purpose.

    - services: unit_cost x base_units of each service's current option;
    - transaction: the current option's mechanism transaction_rate on that spend;
    - staff: fte_base x cost_per_fte of every role (no agency hours);
    - buildings: fixed_cost of the buildings whose owner is `council` (partners pay
      for their own sites).

    Building hours, setup, closure and redundancy costs are left out.
    """
    s, o, m = inst["services"], inst["options"], inst["mechanisms"]
    current = o[o["current"]].drop_duplicates("service").merge(s[["service", "base_units"]], on="service")
    rate = current["mechanism"].map(m.drop_duplicates("mechanism").set_index("mechanism")["transaction_rate"]).fillna(0.0)
    direct = current["unit_cost"] * current["base_units"]
    w, b = inst["workforce"], inst["buildings"]
    parts = {
        "services": float(direct.sum()),
        "transaction": float((direct * rate).sum()),
        "staff": float((w["fte_base"] * w["cost_per_fte"]).sum()),
        "buildings": float(b.loc[b["owner"].str.strip().str.lower() == "council", "fixed_cost"].sum()),
    }
    parts["total"] = sum(parts.values())
    return parts


def spend_against_funding(inst: Instance) -> pd.DataFrame:
    """Base-year spend estimate against the money available, one line an item."""
    spend = base_year_spend(inst)
    f = inst["funding"]
    funding = float(f["base_amount"].sum())
    rows = [
        ("services (current options)", spend["services"]),
        ("transaction costs", spend["transaction"]),
        ("staff", spend["staff"]),
        ("council buildings (fixed costs)", spend["buildings"]),
        ("base-year spend", spend["total"]),
        ("funding available", funding),
        ("  of which subject to cut", float(f.loc[f["subject_to_cut"], "base_amount"].sum())),
        ("headroom (funding - spend)", funding - spend["total"]),
    ]
    return pd.DataFrame(rows, columns=["item", "amount"])
