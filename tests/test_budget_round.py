"""The budget round on every shipped instance, at cuts of 10%, 25% and 50% (issue #5's promises).

1. the redesign never spends more than the money and reserves where the duties are affordable at all
   (where salami, which keeps every duty, needs no overspend, or the redesign finds a plan with none);
2. its outcome is at least salami's whenever salami needs no overspend;
3. redesign_same_money (the redesign given exactly salami's money, its overspend included) is never
   worse than salami.
All within the MIP gap (1% here, to keep the run to a few minutes; the plans are verified independently).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from commissionopt import Engine, load_instance
from commissionopt.runs.compare import compare
from commissionopt.solve.highs import SolveOptions

pytestmark = pytest.mark.slow  # three instances at three cuts: the longest tests of the suite

INSTANCES = Path(__file__).resolve().parents[1] / "instances"
GAP = 0.01
MONEY_TOL = 1.0  # pounds: the overspend hold gives 1e-6 model units


@pytest.fixture(scope="module", params=sorted(p.name for p in INSTANCES.iterdir() if (p / "instance.yaml").exists()))
def engine(request):
    return Engine(load_instance(INSTANCES / request.param), SolveOptions(time_limit=600, mip_rel_gap=GAP))


@pytest.mark.parametrize("cut", [0.1, 0.25, 0.5])
def test_redesign_against_salami(engine, cut):
    plans = compare(engine.inst, cut, ("salami", "redesign"), engine=engine).plans
    salami, redesign, same = (plans[k].summary for k in ("salami", "redesign", "redesign_same_money"))
    for s in (salami, redesign, same):
        assert s["status"] == "optimal" and s["verified"] is True, s.get("solver_message")
    slack = max(GAP, redesign["mip_gap"] or 0, same["mip_gap"] or 0)
    salami_affordable = salami["overspend"] <= MONEY_TOL
    if salami_affordable:
        assert redesign["overspend"] <= MONEY_TOL
        assert redesign["outcome_gain"] >= salami["outcome_gain"] * (1 - slack)
    # whatever salami needs, the redesign needs no more (it can always do what salami does)
    assert redesign["overspend"] <= salami["overspend"] * (1 + slack) + MONEY_TOL
    assert same["overspend"] <= MONEY_TOL  # salami's own money suffices for the redesign on that money
    assert same["outcome_gain"] >= salami["outcome_gain"] * (1 - slack)
