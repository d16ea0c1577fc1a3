"""The library's front door: the arguments of `solve`, `compare`, `sweep` and `Engine`
checked before any work, each bad one an InputError that names it.

A cut is a share in [0, 1), {year: share} or the command line's text ("0.2",
"1:0.05,4:0.25"); an instance is an Instance or the path of one; a model is a shipped
model's name, a model file or a ModelSpec (its solver settings checked too); solver
settings have their types and ranges.
"""
from __future__ import annotations

import math
from dataclasses import fields
from numbers import Integral, Real
from pathlib import Path

from ..data.instance import Instance
from ..errors import InputError, Problem
from ..policies.spec import ModelSpec
from ..solve.highs import SolveOptions

SHARE = "a share from 0 up to (not including) 1, e.g. 0.25"
CUT = (f"{SHARE}; {{year: share}} with years from 1, e.g. {{1: 0.05, 4: 0.25}}; "
       "or the command line's text, e.g. '0.2' or '1:0.05,4:0.25'")
SOLVERS = ("choose", "simplex", "ipm", "ipx", "hipo", "pdlp")
# solver setting -> (check, what is expected)
SETTINGS = {
    "time_limit": (lambda v: _number(v) and v > 0, "seconds, a number above 0"),
    "mip_rel_gap": (lambda v: _number(v) and 0 <= v <= 1, "a relative gap from 0 to 1, e.g. 0.01"),
    "threads": (lambda v: _whole(v) and 1 <= v <= 1024, "a whole number of threads from 1"),
    "seed": (lambda v: _whole(v) and 0 <= v <= 2**31 - 1, "a whole number from 0 to 2147483647"),
    "solver": (lambda v: v in SOLVERS, f"one of {', '.join(SOLVERS)}"),
    "output": (lambda v: isinstance(v, bool), "true or false"),
    "highs": (lambda v: isinstance(v, dict) and not _highs_problems(v), "a mapping of HiGHS options to values of their type"),
}


def _highs_problems(options: dict) -> list:
    from ..solve.highs import highs_option_problems
    return highs_option_problems(options)


def _bad(name: str, value, expected: str) -> InputError:
    """An InputError naming the argument (or the command line's option, for '--cut')."""
    shown = value if isinstance(value, (str, int, float, bool, type(None))) else f"{type(value).__name__} {value!r}"
    if isinstance(shown, str) and len(shown) > 200:
        shown = shown[:200] + "..."
    return InputError(Problem(name if name.startswith("--") else f"argument '{name}'", None, None, shown, expected))


def _number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and not math.isnan(v)


def _whole(v) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def _share(v) -> bool:
    return _number(v) and 0 <= v < 1


def instance(value, name: str = "inst") -> Instance:
    """An Instance, or one loaded (and validated) from a folder or workbook path."""
    if isinstance(value, Instance):
        return value
    if isinstance(value, (str, Path)):
        from ..data.load import load_instance
        return load_instance(value)
    raise _bad(name, value, "an Instance (from load_instance) or the path of an instance folder or .xlsx workbook")


def cut(value, name: str = "cut"):
    """None, a share, or {year: share}; text as the command line writes it is parsed."""
    if value is None:
        return None
    if isinstance(value, str):
        return _cut_text(value, name)
    if _number(value):
        if not _share(value):
            raise _bad(name, value, CUT)
        return float(value)
    if isinstance(value, dict):
        out = {}
        for year, share in value.items():
            if not (_whole(year) or (isinstance(year, str) and year.strip().isdigit())) or int(year) < 1:
                raise _bad(f"{name}[{year!r}]", year, "a year from 1 (year 1 is the first after the base year)")
            if not _share(share):
                raise _bad(f"{name}[{year!r}]", share, SHARE)
            if int(year) in out:
                raise _bad(name, year, f"each year once (year {int(year)} is given twice)")
            out[int(year)] = float(share)
        if not out:
            raise _bad(name, "{}", CUT)
        return dict(sorted(out.items()))
    raise _bad(name, value, CUT)


def _cut_text(text: str, name: str):
    """'0.2' (every year) or '1:0.05,2:0.1,4:0.25' (by year, each year once)."""
    def share(part: str) -> float:
        try:
            v = float(part)
        except ValueError:
            raise _bad(name, text, CUT) from None
        if not _share(v):
            raise _bad(name, text, CUT)
        return v

    if ":" not in text:
        return share(text.strip())
    out: dict = {}
    for part in (p for p in text.split(",") if p.strip()):
        year, colon, value = part.partition(":")
        if not colon or not year.strip().isdigit() or int(year) < 1:
            raise _bad(name, text, CUT)
        if int(year) in out:
            raise _bad(name, text, f"each year once (year {int(year)} is given twice)")
        out[int(year)] = share(value)
    if not out:
        raise _bad(name, text, CUT)
    return dict(sorted(out.items()))


def settings(values: dict, name: str) -> dict:
    """Solver settings {field: value} with their types and ranges."""
    if not isinstance(values, dict):
        raise _bad(name, values, f"a mapping of solver settings ({', '.join(SETTINGS)})")
    for key, value in values.items():
        if key not in SETTINGS:
            raise _bad(f"{name}[{key!r}]", key, f"a solver setting ({', '.join(SETTINGS)})")
        check, expected = SETTINGS[key]
        if not check(value):
            raise _bad(f"{name}[{key!r}]", value, expected)
    return dict(values)


def setting(key: str, value, name: str | None = None):
    """One solver setting (None: not given)."""
    if value is not None:
        check, expected = SETTINGS[key]
        if not check(value):
            raise _bad(name or key, value, expected)
    return value


def options(value, name: str = "options") -> SolveOptions | None:
    """None or SolveOptions, every field in range (a mapping of settings is accepted too)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return SolveOptions(**settings(value, name))
    if not isinstance(value, SolveOptions):
        raise _bad(name, value, f"SolveOptions or a mapping of solver settings ({', '.join(SETTINGS)})")
    settings({f.name: getattr(value, f.name) for f in fields(value)}, name)
    return value


def model(value, name: str = "model") -> ModelSpec:
    """A ModelSpec from a spec, a shipped model's name or a model file; its solver settings checked."""
    if not isinstance(value, (ModelSpec, str, Path)):
        raise _bad(name, value, "a shipped model's name (e.g. 'redesign'), a model file path or a ModelSpec")
    if isinstance(value, str) and not value.strip():
        raise _bad(name, value, "a shipped model's name (e.g. 'redesign'), a model file path or a ModelSpec")
    from .engine import as_spec  # (engine calls this module)
    spec = as_spec(value)
    settings(spec.solver, f"{name} {spec.name} solver")
    return spec


def models(value, name: str = "models") -> list:
    """A list of models (see `model`); one string is one model, or the command line's
    comma-separated list. Each policy once."""
    if isinstance(value, str) and not Path(value).is_file():
        value = [m.strip() for m in value.split(",")]
    elif isinstance(value, (str, Path, ModelSpec)):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise _bad(name, value, "a list of models: shipped names, model files or ModelSpecs")
    seen = set()
    for i, m in enumerate(value):
        spec = model(m, f"{name}[{i}]")
        key = m if isinstance(m, str) else spec.name
        if key in seen:
            raise _bad(f"{name}[{i}]", key, "each model once")
        seen.add(key)
    return list(value)


def engine(inst, options_, overrides) -> tuple:
    """Engine's arguments: (instance, options, overrides) checked."""
    return instance(inst), options(options_), settings(dict(overrides or {}), "overrides")


def whole(value, name: str, least: int, what: str, optional: bool = False) -> int | None:
    """A whole number of `what` from `least` (or None, when `optional`)."""
    if (optional and value is None) or (_whole(value) and value >= least):
        return value
    raise _bad(name, value, ("None, or " if optional else "") + f"a whole number{' of ' + what if what else ''} from {least}")


def workers(value, name: str = "workers") -> int | None:
    if value is None or (_whole(value) and value >= 0):
        return value
    raise _bad(name, value, "a whole number of worker processes from 0 (0 or 1: serial), or None: one per core")
