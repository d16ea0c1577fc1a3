"""Assemble the model: one Pyomo Block per concern, in the order they depend on each other."""
from __future__ import annotations

import time

import pyomo.environ as pyo

from ..data.instance import Instance
from .buildings import add_buildings
from .demand import add_demand
from .index import ModelData, build_data, cut_by_year, extend_cut
from .mechanisms import add_mechanisms
from .money import add_money
from .outcomes import add_outcomes
from .workforce import add_workforce


def build_model(inst: Instance, cut=None, data: ModelData | None = None) -> tuple[pyo.ConcreteModel, ModelData]:
    """The whole formulation for one instance; `cut` sets the mutable money Params."""
    t0 = time.perf_counter()
    md = data or build_data(inst)
    m = pyo.ConcreteModel(name=inst.name or "commissionopt")
    add_formulation(m, md, cut)
    m.build_seconds = time.perf_counter() - t0
    return m, md


def add_formulation(m, md: ModelData, cut) -> None:
    """Every block of the formulation on `m` (a model, or a Block holding one copy of it)."""
    add_mechanisms(m, md)
    add_demand(m, md)
    add_workforce(m, md)
    add_buildings(m, md)
    add_money(m, md, model_cut(md, cut))
    add_outcomes(m, md)


def set_cut(m: pyo.ConcreteModel, md: ModelData, cut, extra_money: dict | None = None) -> None:
    """Change the budget cut in place (mutable Params): no rebuild.

    `extra_money` {(stream, year): pounds} adds money on top of the cut (e.g. the overspend
    a baseline needed, to give another policy the same money)."""
    c = model_cut(md, cut)
    extra = extra_money or {}
    for f, y in m.money.FY:
        m.money.available[f, y] = (md.amount[(f, y)] * (1 - (c[y] if md.subject_to_cut[f] else 0.0))
                                   + extra.get((f, y), 0.0) / md.money_scale)


def model_cut(md: ModelData, cut) -> dict[int, float]:
    """The cut for every modelled year: given for the decision years (a number, or {year: share}
    with the last value carried forward), held at its year-H value in the evaluation years."""
    if isinstance(cut, dict) and cut and set(cut) >= set(md.years):
        return {y: float(cut[y]) for y in md.years}
    return extend_cut(cut_by_year(cut, md.decision_years), md.years)
