"""What the draws of an uncertainty run say, as tables (pure pandas, no solving).

The input is the run's `results` table: a row per (draw, policy) with its status and figures
(runs/uncertainty.py). A draw's plan is one of three things:
- **a plan** (status optimal, time_limit or suboptimal, and the independent check passed):
  its figures count;
- **infeasible**: an answer (no plan meets the duties in that draw, e.g. salami's statutory
  services cannot grow enough); counted, with no figures;
- **failed** (the independent check failed, the solver found no plan in the time, or an
  error): not an answer; reported, never averaged, and left out of every share.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..solve.status import Status

MEASURES = ("outcome_gain", "overspend", "discounted_spend", "crisis_need_final_year")
QUANTILES = {"p5": 0.05, "p50": 0.5, "p95": 0.95}
CORE, RARE = 0.9, 0.1  # a choice made in at least 90% of the draws is core; in at most 10%, rare
TAIL = 0.1  # the pessimistic end: the worst tenth of the draws
GAIN_TOL = 1e-6  # relative: an outcome gain higher by less than this is not higher


def outcome(status: str, verified) -> str:
    """plan | infeasible | failed, as the module doc defines them."""
    if status in Status.HAS_PLAN and verified is not False:
        return "plan"
    if status == Status.INFEASIBLE:
        return "infeasible"
    return "failed"


def by_policy(results: pd.DataFrame, policy: str) -> pd.DataFrame:
    return results[results["policy"] == policy].set_index("draw")


def beats(a: pd.Series, b: pd.Series) -> bool:
    """Plan a beats plan b in one draw: a has a plan, and b is infeasible, or a's outcome gain is
    higher at no more overspend (within a's overspend tolerance)."""
    if a["outcome"] != "plan":
        return False
    if b["outcome"] == "infeasible":
        return True
    return bool(a["outcome_gain"] > b["outcome_gain"] + GAIN_TOL * max(1.0, abs(b["outcome_gain"]))
                and a["overspend"] <= b["overspend"] + a["overspend_tolerance"])


def within_money(a: pd.Series) -> bool:
    return a["outcome"] == "plan" and a["overspend"] <= a["overspend_tolerance"]


def probabilities(results: pd.DataFrame, policies) -> pd.DataFrame:
    """measure, probability, draws (counted), failed (left out): for each policy other than salami,
    `<policy>_beats_salami` and `<policy>_within_money`; a draw counts where each plan it compares
    is an answer (a plan or infeasible)."""
    rows = []
    salami = by_policy(results, "salami")
    for p in policies:
        if p == "salami":
            continue
        mine = by_policy(results, p)
        pairs = [(mine.loc[d], salami.loc[d]) for d in mine.index if d in salami.index]
        ok = [(a, b) for a, b in pairs if a["outcome"] != "failed" and b["outcome"] != "failed"]
        rows.append(_share(f"{p}_beats_salami", [beats(a, b) for a, b in ok], len(pairs) - len(ok)))
        answered = [mine.loc[d] for d in mine.index if mine.loc[d, "outcome"] != "failed"]
        rows.append(_share(f"{p}_within_money", [within_money(a) for a in answered], len(mine) - len(answered)))
    return pd.DataFrame(rows, columns=["measure", "probability", "draws", "failed"])


def _share(name: str, hits: list[bool], failed: int) -> dict:
    return {"measure": name, "probability": (sum(hits) / len(hits)) if hits else np.nan, "draws": len(hits),
            "failed": failed}


def quantiles(results: pd.DataFrame, policies, measures=MEASURES) -> pd.DataFrame:
    """policy, measure, p5, p50, p95, mean, draws (with a plan), infeasible, failed."""
    rows = []
    for p in policies:
        mine = by_policy(results, p)
        counts = mine["outcome"].value_counts()
        plans = mine[mine["outcome"] == "plan"]
        for m in measures:
            v = plans[m].astype(float).dropna()
            rows.append({"policy": p, "measure": m,
                         **{k: (float(np.quantile(v, q)) if len(v) else np.nan) for k, q in QUANTILES.items()},
                         "mean": float(v.mean()) if len(v) else np.nan, "draws": int(len(v)),
                         "infeasible": int(counts.get("infeasible", 0)), "failed": int(counts.get("failed", 0))})
    return pd.DataFrame(rows, columns=["policy", "measure", *QUANTILES, "mean", "draws", "infeasible", "failed"])


def selection(choices: dict, central: dict, closable: set) -> pd.DataFrame:
    """kind (option | closure), item, current (options), used_centrally, share, draws, class.

    `choices` {draw: plan_choices of the redesign's plan in that draw} (draws with a plan only),
    `central` the central plan's; closures only for buildings that may close."""
    draws = len(choices)
    items = [k for k in central if k[0] == "option" or k[1] in closable]
    rows = []
    for kind, item in items:
        used = sum(1 for c in choices.values() if c.get((kind, item)))
        share = used / draws if draws else np.nan
        rows.append({"kind": kind, "item": item, "used_centrally": bool(central[(kind, item)]), "share": share,
                     "draws": draws, "class": _class(share)})
    df = pd.DataFrame(rows, columns=["kind", "item", "used_centrally", "share", "draws", "class"])
    return df.sort_values(["kind", "share", "item"], ascending=[False, False, True], kind="stable").reset_index(drop=True)


def _class(share: float) -> str:
    if not share == share:  # no draws with a plan
        return ""
    return "core" if share >= CORE else "rare" if share <= RARE else "borderline"


def tornado(results: pd.DataFrame, names: pd.DataFrame, central_lead: float | None) -> pd.DataFrame:
    """draw (name), what (the figures it moves), evidence, then the redesign's lead over salami
    (outcome gain) at the name's low and high with the rest central, each one's change from the
    central lead, and `swing` (the larger change); sorted by swing, largest first. `results`: rows
    with columns draw (the name), end (low | high), policy, outcome, outcome_gain."""
    rows = []
    for _, n in names.iterrows():
        row = {"draw": n["draw"], "what": n["what"], "evidence": n["evidence"]}
        for end in ("low", "high"):
            pair = results[(results["draw"] == n["draw"]) & (results["end"] == end)].set_index("policy")
            lead, status = None, "missing"
            if {"salami", "redesign"} <= set(pair.index):
                a, b = pair.loc["redesign"], pair.loc["salami"]
                status = "plan" if a["outcome"] == b["outcome"] == "plan" else f"redesign {a['outcome']}, salami {b['outcome']}"
                if status == "plan":
                    lead = float(a["outcome_gain"] - b["outcome_gain"])
            row[f"lead_{end}"] = lead
            row[f"change_{end}"] = None if lead is None or central_lead is None else lead - central_lead
            row[f"status_{end}"] = status
        changes = [abs(row[f"change_{e}"]) for e in ("low", "high") if row[f"change_{e}"] is not None]
        row["swing"] = max(changes) if changes else np.nan
        rows.append(row)
    cols = ["draw", "what", "evidence", "lead_low", "lead_high", "change_low", "change_high", "swing",
            "status_low", "status_high"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("lead_low", "lead_high", "change_low", "change_high", "swing"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df.attrs["central_lead"] = central_lead
    return df.sort_values("swing", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def fan(results: pd.DataFrame, base_gain: float | None) -> pd.DataFrame:
    """policy, cut, p5, p50, p95 of outcome retained (outcome gain over the status quo's at central
    evidence), draws (with a plan), infeasible, failed: from rows with columns policy, cut, outcome,
    outcome_gain (the fan's solves)."""
    rows = []
    for (p, c), g in results.groupby(["policy", "cut"], sort=False):
        v = g.loc[g["outcome"] == "plan", "outcome_gain"].astype(float) / base_gain if base_gain else pd.Series(dtype=float)
        counts = g["outcome"].value_counts()
        rows.append({"policy": p, "cut": float(c),
                     **{k: (float(np.quantile(v, q)) if len(v) else np.nan) for k, q in QUANTILES.items()},
                     "draws": int(len(v)), "infeasible": int(counts.get("infeasible", 0)),
                     "failed": int(counts.get("failed", 0))})
    return pd.DataFrame(rows, columns=["policy", "cut", *QUANTILES, "draws", "infeasible", "failed"])


def tail_mean(values: pd.Series, share: float = TAIL) -> float:
    """The mean of the lowest `share` of the values (at least one): the pessimistic end."""
    v = np.sort(values.astype(float).to_numpy())
    if not len(v):
        return np.nan
    return float(v[:max(1, int(np.ceil(share * len(v))))].mean())


def plan_spread(results: pd.DataFrame, policy: str, at_central: dict) -> dict:
    """A plan's outcome gain across the draws: at central evidence (with its overspend there), mean,
    p5, the mean of the worst tenth, mean overspend, and the draws behind them."""
    mine = by_policy(results, policy)
    plans = mine[mine["outcome"] == "plan"]
    g = plans["outcome_gain"].astype(float)
    return {"plan": policy, "gain_at_central": at_central.get("outcome_gain"),
            "overspend_at_central": at_central.get("overspend"), "mean_gain": float(g.mean()) if len(g) else np.nan,
            "p5_gain": float(np.quantile(g, 0.05)) if len(g) else np.nan, "worst_tenth_gain": tail_mean(g),
            "mean_overspend": float(plans["overspend"].astype(float).mean()) if len(g) else np.nan,
            "draws": int(len(g)), "infeasible": int((mine["outcome"] == "infeasible").sum()),
            "failed": int((mine["outcome"] == "failed").sum())}
