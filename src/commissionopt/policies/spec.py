"""Model files (models/*.yaml): the policy, the objective, which levers are free, solver options."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem

LEVERS = ("reallocate", "early_intervention", "mechanisms", "workforce", "buildings", "pooling", "reserves")
POLICIES = ("optimise", "salami", "status_quo")
OBJECTIVES = ("max_outcome", "min_cost", "max_efficiency")
SOLVER_KEYS = {"mip_rel_gap": float, "time_limit": float, "threads": int, "solver": str, "seed": int}


@dataclass
class ModelSpec:
    name: str
    policy: str = "optimise"
    objective: str = "max_outcome"
    levers: dict = field(default_factory=lambda: {k: True for k in LEVERS})
    solver: dict = field(default_factory=dict)
    description: str = ""
    source: str = ""

    @property
    def free_levers(self) -> list[str]:
        return [k for k in LEVERS if self.levers.get(k)]


def parse_spec(raw: object, file: str = "model") -> ModelSpec:
    """A ModelSpec from a mapping; every unknown key or bad value is an error naming it."""
    problems = []
    if not isinstance(raw, dict):
        raise InputError(Problem(file, None, None, None, "a mapping with name, policy, objective, levers, solver"))
    allowed = {"name", "policy", "objective", "levers", "solver", "description"}
    for k in raw:
        if k not in allowed:
            problems.append(Problem(file, None, k, k, f"a known key ({', '.join(sorted(allowed))})"))
    policy = raw.get("policy", "optimise")
    if policy not in POLICIES:
        problems.append(Problem(file, None, "policy", policy, f"one of {', '.join(POLICIES)}"))
    objective = raw.get("objective", "max_outcome")
    if objective not in OBJECTIVES:
        problems.append(Problem(file, None, "objective", objective, f"one of {', '.join(OBJECTIVES)}"))
    levers = {k: True for k in LEVERS}
    if policy in ("salami", "status_quo"):
        levers = {k: False for k in LEVERS}
    given = raw.get("levers") or {}
    if not isinstance(given, dict):
        problems.append(Problem(file, None, "levers", given, f"a mapping of lever: true/false ({', '.join(LEVERS)})"))
        given = {}
    for k, v in given.items():
        if k not in LEVERS:
            problems.append(Problem(file, None, f"levers.{k}", k, f"a known lever ({', '.join(LEVERS)})"))
        elif not isinstance(v, bool):
            problems.append(Problem(file, None, f"levers.{k}", v, "true or false"))
        else:
            levers[k] = v
    solver = {}
    for k, v in (raw.get("solver") or {}).items():
        if k not in SOLVER_KEYS:
            problems.append(Problem(file, None, f"solver.{k}", k, f"a known solver option ({', '.join(SOLVER_KEYS)})"))
            continue
        try:
            solver[k] = SOLVER_KEYS[k](v)
        except (TypeError, ValueError):
            problems.append(Problem(file, None, f"solver.{k}", v, f"a {SOLVER_KEYS[k].__name__}"))
    if problems:
        raise InputError(problems)
    return ModelSpec(name=str(raw.get("name", Path(file).stem)), policy=policy, objective=objective, levers=levers,
                     solver=solver, description=str(raw.get("description", "")), source=file)


def load_spec(path: str | Path) -> ModelSpec:
    from ..data.load import read_yaml
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), None, None, None, "a model file that exists (see models/*.yaml)"))
    return parse_spec(read_yaml(path), str(path))


def builtin_spec(name: str) -> ModelSpec:
    """The shipped model file `models/NAME.yaml`, or one of the built-in policies."""
    here = Path(__file__).resolve().parents[3] / "models" / f"{name}.yaml"
    if here.exists():
        return load_spec(here)
    if name in ("salami", "status_quo"):
        return parse_spec({"name": name, "policy": name}, name)
    if name == "redesign":
        return parse_spec({"name": name}, name)
    raise InputError(Problem(name, None, None, name, "a model file path or a shipped model name (redesign, salami, status_quo, min_cost, max_efficiency)"))
