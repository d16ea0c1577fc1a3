"""commissionopt: salami slicing against whole-system redesign, on one accounting.

The library's front door. Results are pandas DataFrames; nothing here prints, exits,
changes the host's matplotlib backend or touches its stdout, and solves may run in several
threads at once (each on its own Engine).

    from commissionopt import load_instance, compare, report
    inst = load_instance("instances/tiny")          # or shipped_instance("tiny")
    round_ = compare(inst, cut=0.25)                # Comparison: .plans, .table()
    report(inst, round_, html="round.html", xlsx="round.xlsx", tidy="round.csv")

Names are imported on first use, so `import commissionopt` is quick.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> (module, attribute)
_EXPORTS = {
    "load_instance": ("data.load", "load_instance"),
    "Instance": ("data.instance", "Instance"),
    "apply_scenario": ("data.scenario", "apply_scenario"),
    "apply_scenarios": ("data.scenario", "apply_scenarios"),
    "shipped_instance": ("shipped", "instance_path"),
    "solve": ("runs.engine", "solve"),
    "Engine": ("runs.engine", "Engine"),
    "compare": ("runs.compare", "compare"),
    "Comparison": ("runs.compare", "Comparison"),
    "sweep": ("runs.sweep", "sweep"),
    "explain": ("runs.attribution", "attribute"),
    "answer_questions": ("runs.questions", "answer_questions"),
    "uncertainty": ("runs.uncertainty", "uncertainty"),
    "Uncertainty": ("runs.uncertainty", "Uncertainty"),
    "report": ("reports.report", "report"),
    "headline": ("reports.headline", "headline"),
    "load_run": ("reports.saved", "load_run"),
    "diff_runs": ("reports.saved", "diff_runs"),
    "tidy_plans": ("reports.tidy", "tidy_plans"),
    "Plan": ("results.plan", "Plan"),
    "SolveOptions": ("solve.highs", "SolveOptions"),
    "ModelSpec": ("policies.spec", "ModelSpec"),
    "CommissionoptError": ("errors", "CommissionoptError"),
    "InputError": ("errors", "InputError"),
    "InfeasibleError": ("errors", "InfeasibleError"),
    "NoPlanError": ("errors", "NoPlanError"),
    "PlanCheckError": ("errors", "PlanCheckError"),
    "Problem": ("errors", "Problem"),
}

__all__ = [*_EXPORTS, "__version__"]

# `solve` is both a subpackage (the solver border) and the front door's function. Load the
# (empty) subpackage now and drop the name it binds here, so that `commissionopt.solve` is
# always the function: a later import of commissionopt.solve.* does not bind it again.
from . import solve as _solver_package  # noqa: E402,F401
del solve  # noqa: F821


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'commissionopt' has no attribute {name!r}")
    module, attr = _EXPORTS[name]
    value = getattr(import_module(f".{module}", __name__), attr)
    globals()[name] = value  # the next look-up is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and IDEs see
    from .data.instance import Instance
    from .data.load import load_instance
    from .data.scenario import apply_scenario, apply_scenarios
    from .errors import CommissionoptError, InfeasibleError, InputError, NoPlanError, PlanCheckError, Problem
    from .policies.spec import ModelSpec
    from .reports.headline import headline
    from .reports.report import report
    from .reports.saved import diff_runs, load_run
    from .reports.tidy import tidy_plans
    from .results.plan import Plan
    from .runs.attribution import attribute as explain
    from .runs.compare import Comparison, compare
    from .runs.engine import Engine, solve
    from .runs.questions import answer_questions
    from .runs.sweep import sweep
    from .runs.uncertainty import Uncertainty, uncertainty
    from .shipped import instance_path as shipped_instance
    from .solve.highs import SolveOptions
