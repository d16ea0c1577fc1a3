"""Evidence draws: a Latin hypercube over the draws of ranges.csv, the instance each gives, and
the structural decisions of a plan (what a committed or robust plan carries from one draw to another).

A draw is a quantile (0..1) for each draw name of ranges.csv (a row's `group`, or `row N`: rows of
one group move together). The design is a Latin hypercube: each name's N quantiles fall one in each
of N equal strata, in an order of their own, so that N draws cover every range evenly:

    design = latin_hypercube(draw_names(inst), 200, seed=7)   # a row a draw, a column a name
    drawn = drawn_instance(inst, design.loc[3])                  # draw 3 as an instance

The design depends on the seed, the number of draws and the draw names only (numpy's
default_rng(seed)), never on how the draws are solved: draw i is the same instance on any number
of workers. Nothing here solves or prints.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..data.instance import Instance
from ..data.ranges import apply_values, range_cells, range_values
from ..errors import InputError, Problem


def draw_names(inst: Instance) -> list[str]:
    """The draw names of the instance's ranges.csv, in the order of its rows."""
    if "ranges" not in inst.tables or inst["ranges"].empty:
        return []
    return list(dict.fromkeys(range_cells(inst)["draw"]))


def require_ranges(inst: Instance) -> list[str]:
    """The draw names, or an InputError when nothing in the instance is uncertain."""
    names = draw_names(inst)
    if not names:
        where = str(inst.source or inst.name)
        raise InputError(Problem(f"{where}/ranges.csv", None, None, None,
                                 "a ranges.csv with at least one row (docs/ranges.md): without ranges nothing "
                                 "in the instance is uncertain, so there is nothing to draw"))
    return names


def latin_hypercube(names: list[str], n: int, seed: int) -> pd.DataFrame:
    """n draws (rows, indexed 1..n) of a quantile in [0, 1) for each name (columns): for each
    name, one quantile in each of the n strata [k/n, (k+1)/n), the strata in a random order."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name in names:
        strata = rng.permutation(n)
        columns[name] = (strata + rng.random(n)) / n
    return pd.DataFrame(columns, index=pd.RangeIndex(1, n + 1, name="draw"), columns=list(names))


def drawn_instance(inst: Instance, quantiles: Mapping[str, float]) -> Instance:
    """The instance with each draw name's ranges at its quantile (names the instance no longer has,
    e.g. ranges a scenario removed with the figures they covered, are left out)."""
    present = set(draw_names(inst))
    q = {k: float(v) for k, v in dict(quantiles).items() if k in present}
    return apply_values(inst, range_values(inst, q)) if q else inst


def as_draw(quantiles: Mapping[str, float]) -> tuple:
    """A draw as a Task carries it: ((name, quantile), ...) in the given order."""
    return tuple((str(k), float(v)) for k, v in dict(quantiles).items())


# ---- a plan's structural decisions, from its tables (no Pyomo) ------------------------------
def plan_decisions(plan) -> dict:
    """{kind: {index: 0|1}} of a plan (model/decisions.py): each new option adopted or not, each
    building open or not in each decision year, each poolable stream pooled or not."""
    t, H = plan.tables, int(plan.summary["horizon_years"])
    opts = t["options"][~t["options"]["current"].astype(bool)]
    bd = t["buildings"][t["buildings"]["year"] <= H]
    return {"adopt": {(s, m): int(a) for s, m, a in zip(opts["service"], opts["mechanism"], opts["adopted"])},
            "open": {(b, int(y)): int(round(o)) for b, y, o in zip(bd["building"], bd["year"], bd["open"])},
            "pool": {f: int(p) for f, p in zip(t["pooling"]["stream"], t["pooling"]["pooled"])}}


def plan_choices(plan) -> dict[tuple[str, str], bool]:
    """What a plan uses, for the selection shares: ("option", "service/mechanism") -> used (a
    current option: any units; a new one: adopted), ("closure", building) -> closed by the horizon."""
    t, H = plan.tables, int(plan.summary["horizon_years"])
    out = {("option", f"{s}/{m}"): bool(a) for s, m, a in
           zip(t["options"]["service"], t["options"]["mechanism"], t["options"]["adopted"])}
    bd = t["buildings"][t["buildings"]["year"] == H]
    out.update({("closure", b): bool(round(o) == 0) for b, o in zip(bd["building"], bd["open"])})
    return out
