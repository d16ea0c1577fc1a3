"""For each service, what a plan changed against a baseline plan, and the reason in data terms.

Read from the two plans' tables and the instance only (no solver): the reasons are the
constraints the plan sits on (a statutory duty met exactly, a service at its maximum)
and the data that makes a service worth more or less per pound (its outcome gain and the
escalation it prevents), so an analyst can check each one against the instance.
"""
from __future__ import annotations

import pandas as pd

from ..data.instance import Instance

TOL = 1e-6


def _gain_per_unit(inst: Instance) -> pd.Series:
    w = inst["outcomes"].set_index("domain")["weight"]
    g = inst["gains"].assign(v=lambda d: d["gain_per_unit"] * d["domain"].map(w).fillna(0.0))
    return g.groupby("service")["v"].sum()


def service_changes(inst: Instance, base, plan, year: int | None = None) -> pd.DataFrame:
    """One row a service: units in `year` (default: the final year) under each plan, the
    mechanisms used, and the reason for the change."""
    H = year or int(plan.tables["units"]["year"].max())
    sv = inst["services"].set_index("service")
    cov = inst.statutory_coverage()
    mech = inst["mechanisms"].set_index("mechanism")
    opts = inst["options"].set_index(["service", "mechanism"])
    gain = _gain_per_unit(inst)

    def units(p):
        u = p.tables["units"]
        return u[u["year"] == H].groupby("service")["units"].sum()

    def used(p):
        u = p.tables["units"]
        u = u[(u["year"] == H) & (u["units"] > TOL)]
        return u.groupby("service")["mechanism"].agg(lambda m: ";".join(sorted(m)))

    def duty_binds(p, k, l):
        n = p.tables["need"]
        row = n[(n["cohort"] == k) & (n["level"] == l) & (n["year"] == H)]
        c = float(cov.get((k, l), 0.0))
        return c > 0 and len(row) and abs(float(row["served"].iloc[0]) - c * float(row["need"].iloc[0])) <= 1e-4 * max(
            1.0, float(row["need"].iloc[0]))

    ub, up, mb, mp = units(base), units(plan), used(base), used(plan)
    rows = []
    for s in sv.index:
        k, l = sv.at[s, "cohort"], sv.at[s, "level"]
        a, b = float(ub.get(s, 0.0)), float(up.get(s, 0.0))
        cur = opts.loc[s][opts.loc[s]["current"]].index[0]
        price = (1 + mech.at[cur, "transaction_rate"]) * opts.at[(s, cur), "unit_cost"]
        per_k = gain.get(s, 0.0) * opts.at[(s, cur), "quality"] / price * 1000 if price > 0 else float("inf")
        effect = float(opts.loc[s]["effect_escalation"].max())
        reasons = []
        if duty_binds(plan, k, l):
            reasons.append(f"statutory duty for {k}/{l} binds: served = {cov.get((k, l), 0):.0%} of need")
        if b >= float(sv.at[s, "max_units"]) - 1e-6 * max(1.0, b):
            reasons.append(f"at its maximum of {sv.at[s, 'max_units']:,.0f} units")
        if b > a * (1 + 1e-3) + TOL and effect > 0:
            reasons.append(f"grown: prevents up to {effect:.0%} of onward escalation of the people it serves")
        elif b < a * (1 - 1e-3) - TOL and not reasons:
            what = "withdrawn" if b <= TOL else "cut"
            reasons.append(f"{what}: {per_k:,.3g} outcome points per £1k and {effect:.0%} prevention, "
                           "less than where the money went")
        if mp.get(s, "") != mb.get(s, "") and b > TOL:
            reasons.append(f"mechanisms {mb.get(s, '') or '-'} -> {mp.get(s, '')}")
        rows.append({"service": s, "cohort": k, "level": l, "statutory": float(cov.get((k, l), 0.0)) > 0,
                     "year": H, "units_baseline": a, "units_plan": b, "change": b - a,
                     "change_share": (b - a) / a if a > TOL else None,
                     "mechanisms_baseline": mb.get(s, ""), "mechanisms_plan": mp.get(s, ""),
                     "gain_per_1k": per_k, "max_effect": effect,
                     "reason": "; ".join(reasons) if reasons else ("unchanged" if abs(b - a) <= 1e-3 * max(1.0, a)
                                                                  else "changed with need")})
    return pd.DataFrame(rows).sort_values(["change"], key=lambda c: -c.abs()).reset_index(drop=True)
