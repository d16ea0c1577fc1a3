"""Model files (models/*.yaml): the policy, the objective, which levers are free, solver options.

A policy other than `optimise` is a rule that fixes or bounds the levers that are off (see
policies/levers.py). Some rules take parameters, given in the model file's `rule:` mapping
and validated here (unknown keys and bad values are errors that name them). Two rules also
change coefficients, not only bounds (`transforms_data`): their model is the same Pyomo
model built on a copy of the instance with the rule's data changes (`transform`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem

LEVERS = ("reallocate", "early_intervention", "mechanisms", "workforce", "buildings", "pooling", "reserves")
# the historic answers to a cut (the seed's "historic solutions") and the whole-system redesign
RULE_POLICIES = ("salami", "status_quo", "thresholds", "procurement_squeeze", "back_office", "freeze_posts")
POLICIES = ("optimise",) + RULE_POLICIES
OBJECTIVES = ("max_outcome", "min_cost", "max_efficiency")
SOLVER_KEYS = {"mip_rel_gap": float, "time_limit": float, "threads": int, "solver": str, "seed": int}

# rule parameters by policy: {key: (kind, default, what a good value is)}
SHARE = "share"
TAGS = "tags"
RULE_KEYS = {
    "procurement_squeeze": {
        "price_cut": (SHARE, 0.05, "a share from 0 up to (not including) 1: external unit costs renegotiated down by it"),
        "quality_cut": (SHARE, 0.05, "a share from 0 up to (not including) 1: the quality given up with the price"),
    },
    "back_office": {
        "role_tags": (TAGS, ["support", "management"], "a list of workforce tags (the roles cut first)"),
    },
}
TRANSFORMS = ("procurement_squeeze", "freeze_posts")  # policies whose rule changes coefficients


@dataclass
class ModelSpec:
    name: str
    policy: str = "optimise"
    objective: str = "max_outcome"
    levers: dict = field(default_factory=lambda: {k: True for k in LEVERS})
    solver: dict = field(default_factory=dict)
    description: str = ""
    source: str = ""
    rule: dict = field(default_factory=dict)  # the rule's parameters, defaults filled in

    def __post_init__(self):
        self.rule = dict(self.rule)
        for k, (_, default, _) in RULE_KEYS.get(self.policy, {}).items():
            self.rule.setdefault(k, list(default) if isinstance(default, list) else default)

    @property
    def free_levers(self) -> list[str]:
        return [k for k in LEVERS if self.levers.get(k)]

    # ---- rules that change data, not only bounds ---------------------------------------
    @property
    def transforms_data(self) -> bool:
        """True when this policy's model is built on a changed copy of the instance."""
        if self.policy == "procurement_squeeze":
            return self.rule.get("price_cut", 0.0) > 0 or self.rule.get("quality_cut", 0.0) > 0
        if self.policy == "freeze_posts":
            return not self.levers.get("workforce")
        return False

    @property
    def transform_note(self) -> str:
        """The line the transform adds to `Instance.changes` (also how a transformed copy is recognised)."""
        from .levers import transform_note
        return transform_note(self)

    def transform(self, inst):
        """A copy of `inst` with this rule's data changes (the instance itself when there are none,
        or when `inst` is already such a copy)."""
        if not self.transforms_data or self.is_transformed(inst):
            return inst
        from .levers import transform_instance
        return transform_instance(inst, self)

    def is_transformed(self, inst) -> bool:
        return self.transform_note in list(getattr(inst, "changes", ()) or ())


def _rule(raw: object, policy: str, file: str, problems: list) -> dict:
    keys = RULE_KEYS.get(policy, {})
    out = {k: (list(v[1]) if isinstance(v[1], list) else v[1]) for k, v in keys.items()}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        problems.append(Problem(file, None, "rule", raw, f"a mapping of the {policy} rule's parameters"
                                + (f" ({', '.join(keys)})" if keys else " (this policy takes none)")))
        return out
    for k, v in raw.items():
        if k not in keys:
            expect = f"a parameter of the {policy} rule ({', '.join(keys)})" if keys else \
                f"nothing: the {policy} rule takes no parameters"
            problems.append(Problem(file, None, f"rule.{k}", k, expect))
            continue
        kind, _, expect = keys[k]
        if kind == SHARE:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1
            if ok:
                out[k] = float(v)
        else:
            ok = isinstance(v, list) and bool(v) and all(isinstance(t, str) and t.strip() for t in v)
            if ok:
                out[k] = [t.strip() for t in v]
        if not ok:
            problems.append(Problem(file, None, f"rule.{k}", v, expect))
    return out


def _highs_options(raw: object, file: str, problems: list) -> dict:
    """`solver: {highs: {name: value}}`: any HiGHS option, checked by HiGHS itself."""
    if not isinstance(raw, dict):
        problems.append(Problem(file, None, "solver.highs", raw, "a mapping of HiGHS option names to values"))
        return {}
    from ..solve.highs import highs_option_problems
    for name, value, expected in highs_option_problems(raw):
        problems.append(Problem(file, None, f"solver.highs.{name}", value, expected))
    return dict(raw)


def parse_spec(raw: object, file: str = "model") -> ModelSpec:
    """A ModelSpec from a mapping; every unknown key or bad value is an error naming it."""
    problems = []
    if not isinstance(raw, dict):
        raise InputError(Problem(file, None, None, None, "a mapping with name, policy, objective, levers, solver"))
    allowed = {"name", "policy", "objective", "levers", "solver", "description", "rule"}
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
    if policy in RULE_POLICIES:
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
        if k == "highs":
            solver[k] = _highs_options(v, file, problems)
            continue
        if k not in SOLVER_KEYS:
            problems.append(Problem(file, None, f"solver.{k}", k,
                                    f"a known solver option ({', '.join(SOLVER_KEYS)}, or highs: any HiGHS option)"))
            continue
        try:
            solver[k] = SOLVER_KEYS[k](v)
        except (TypeError, ValueError):
            problems.append(Problem(file, None, f"solver.{k}", v, f"a {SOLVER_KEYS[k].__name__}"))
    rule = _rule(raw.get("rule"), policy, file, problems) if policy in POLICIES else {}
    if problems:
        raise InputError(problems)
    return ModelSpec(name=str(raw.get("name", Path(file).stem)), policy=policy, objective=objective, levers=levers,
                     solver=solver, description=str(raw.get("description", "")), source=file, rule=rule)


def load_spec(path: str | Path) -> ModelSpec:
    from ..data.load import read_yaml
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), None, None, None, "a model file that exists (see models/*.yaml)"))
    return parse_spec(read_yaml(path), str(path))


SHIPPED = ("redesign", "min_cost", "max_efficiency") + RULE_POLICIES  # the shipped models/*.yaml


def builtin_spec(name: str) -> ModelSpec:
    """The shipped model file `models/NAME.yaml`, or one of the built-in policies."""
    from ..shipped import model_file, model_names
    here = model_file(name)  # package data in a wheel, models/ in a checkout
    if here is not None:
        return load_spec(here)
    if name in RULE_POLICIES:
        return parse_spec({"name": name, "policy": name}, name)
    if name == "redesign":
        return parse_spec({"name": name}, name)
    known = sorted(set(model_names()) | set(RULE_POLICIES) | {"redesign"})
    raise InputError(Problem(name, None, None, name, f"a model file path or a shipped model name ({', '.join(known)})"))
