"""The robust redesign's model: one set of structural decisions for K draws of the evidence.

A Block per draw (`draw[k]`) holds a full copy of the formulation, built by build_model's own
add_formulation (each block attaches to the Block it is given) on that draw's instance. Each
copy's structural decisions (model/decisions.py: options adopted, buildings open by year, streams
pooled) are tied by equality rows (`tie_adopt`, `tie_open`, `tie_pool`) to shared ones (`adopt`,
`open`, `pool`): these are the model's only integer columns, the copies' own are continuous
within [0, 1] and follow them. Volumes, staff and money are per draw.

The objective rows are the engine's, each the mean over the draws (money in the first copy's
money scale, so that a draw with other funding still adds up): obj_overspend, obj_idle,
obj_above, obj_outcome, obj_spend, obj_reserves_drawn, obj_terminal_cost; with `cvar` also
obj_cvar, minus the mean outcome gain of the worst `cvar` share of the draws
(Rockafellar-Uryasev: t - 1/(cvar K) sum_k z_k with z_k >= t - gain_k, z_k >= 0).
"""
from __future__ import annotations

import time

import pyomo.environ as pyo

from .build import add_formulation
from .decisions import decision_vars
from .index import build_data


def build_robust(instances: list, cut, cvar: float | None = None, name: str = "robust"):
    """(model, [ModelData per draw]) for the instances of K draws (same structure, other figures)."""
    t0 = time.perf_counter()
    m = pyo.ConcreteModel(name=name)
    K = len(instances)
    m.D = pyo.Set(initialize=range(K), ordered=True)
    m.draw = pyo.Block(m.D)
    mds = []
    for k, inst in enumerate(instances):
        md = build_data(inst)
        blk = m.draw[k]
        add_formulation(blk, md, cut)
        for obj in blk.component_objects(pyo.Objective, descend_into=True):
            obj.deactivate()  # the copy's own objective rows: the model's are the means below
        mds.append(md)
    _tie(m)
    _objectives(m, mds, cvar)
    m.build_seconds = time.perf_counter() - t0
    return m, mds


def _tie(m) -> None:
    """Shared binary decisions, and each copy's tied to them."""
    first = decision_vars(m.draw[0])
    for kind, var in first.items():
        shared = pyo.Var(list(var.keys()), domain=pyo.Binary, initialize=1 if kind == "open" else 0)
        m.add_component(kind, shared)
        rows = [(k, i) for k in m.D for i in var.keys() if i in decision_vars(m.draw[k])[kind]]
        m.add_component(f"tie_{kind}", pyo.Constraint(
            rows, rule=lambda _, k, *i, kind=kind, shared=shared: decision_vars(m.draw[k])[kind][_key(i)] == shared[_key(i)]))
        for k in m.D:
            for v in decision_vars(m.draw[k])[kind].values():
                lb = v.lb  # a building that may not close keeps its floor of 1
                v.domain = pyo.Reals
                v.setlb(0.0 if lb is None else lb)
                v.setub(1.0)


def _key(i: tuple):
    return i[0] if len(i) == 1 else i


def _objectives(m, mds: list, cvar: float | None) -> None:
    K = len(mds)
    scale = [md.money_scale / mds[0].money_scale / K for md in mds]  # money rows in copy 0's scale
    blocks = [m.draw[k] for k in m.D]

    def money(expr_of):
        return sum(w * expr_of(b, md) for w, b, md in zip(scale, blocks, mds))

    def mean(expr_of):
        return sum(expr_of(b, md) for b, md in zip(blocks, mds)) / K

    m.obj_overspend = pyo.Objective(expr=money(lambda b, md: b.outcomes.discounted_overspend))
    m.obj_idle = pyo.Objective(expr=mean(lambda b, md: sum(md.delta[y] * v for (_, y), v in b.mechanisms.idle.items())))
    m.obj_above = pyo.Objective(expr=mean(lambda b, md: sum(md.delta[y] * v for (_, y), v in b.mechanisms.above.items())))
    m.obj_outcome = pyo.Objective(expr=-mean(lambda b, md: b.outcomes.outcome_value))
    m.obj_spend = pyo.Objective(expr=money(lambda b, md: b.outcomes.discounted_spend))
    m.obj_reserves_drawn = pyo.Objective(expr=money(
        lambda b, md: sum(md.delta[y] * v for (_, y), v in b.money.draw.items())))
    m.obj_terminal_cost = pyo.Objective(expr=money(lambda b, md: b.outcomes.terminal_cost))
    if cvar is not None:
        m.tail = pyo.Var(domain=pyo.Reals)
        m.shortfall = pyo.Var(m.D, domain=pyo.NonNegativeReals)
        m.cvar_shortfall = pyo.Constraint(m.D, rule=lambda _, k: m.shortfall[k] >= (
            m.tail - (blocks[k].outcomes.outcome_value - mds[k].outcome_none)))
        m.obj_cvar = pyo.Objective(expr=-(m.tail - sum(m.shortfall[k] for k in m.D) / (cvar * K)))


def shared_decisions(m) -> dict:
    """{kind: the shared indexed Var} of a robust model."""
    return {kind: getattr(m, kind) for kind in ("adopt", "open", "pool")}
