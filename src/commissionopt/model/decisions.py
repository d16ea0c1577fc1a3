"""The structural decisions of a plan: options adopted, buildings open by year, streams pooled.

These are the model's integer columns (`mechanisms.adopt[s, m]`, `buildings.open[b, y]` for the
decision years, `money.pool[f]`); everything else (volumes, staff, money) follows from them by an
LP. A plan's decisions are kept as {kind: {index: 0 or 1}}, keyed by the instance's own names, so
they carry from one model to another built on a changed instance (an evidence draw):

    decisions = {"adopt": {("home_support", "personal_budget"): 1}, "open": {("town_hub", 3): 0},
                 "pool": {"better_care_fund": 0}}

`decision_bounds` turns them into column bounds for a session (the committed plan of an uncertainty
run: decisions fixed, volumes re-optimised); `decision_vars` lists the variables per kind (the
robust model ties its copies' through them). An index the model does not have is left out.
"""
from __future__ import annotations

KINDS = ("adopt", "open", "pool")


def decision_vars(m) -> dict:
    """{kind: the indexed Var holding it} for a model (or a Block holding a full copy)."""
    return {"adopt": m.mechanisms.adopt, "open": m.buildings.open, "pool": m.money.pool}


def decision_bounds(m, decisions: dict, variables: dict | None = None) -> list:
    """[(VarData, value, value)] fixing each decision given that the model has (`variables`:
    {kind: indexed Var} to fix instead of the model's own, e.g. a robust model's shared ones)."""
    out = []
    for kind, var in (variables or decision_vars(m)).items():
        for idx, v in (decisions.get(kind) or {}).items():
            if idx in var:
                value = float(round(v))
                out.append((var[idx], value, value))
    return out


def unknown_decisions(m, decisions: dict) -> list[str]:
    """The decisions given that the model has no variable for (e.g. an option a scenario removed)."""
    out = []
    for kind, var in decision_vars(m).items():
        out += [f"{kind}{list(idx) if isinstance(idx, tuple) else [idx]}"
                for idx in (decisions.get(kind) or {}) if idx not in var]
    return out
