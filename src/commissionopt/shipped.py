"""The models and instances that ship with commissionopt, found by name from any directory.

In an installed wheel they are package data (`commissionopt/models`, `commissionopt/instances`);
in a checkout, or an editable install of one, they are the repository's `models/` and
`instances/` folders.
"""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
_CHECKOUT = _HERE.parents[1]


def shipped_dir(kind: str) -> Path | None:
    """The folder of shipped `models` or `instances`, or None when neither place has it."""
    if (_HERE / kind).is_dir():
        return _HERE / kind
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / kind).is_dir():
        return _CHECKOUT / kind
    return None


def model_names() -> list[str]:
    """Names of the shipped model files (models/NAME.yaml)."""
    folder = shipped_dir("models")
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder else []


def model_file(name: str) -> Path | None:
    folder = shipped_dir("models")
    path = folder / f"{name}.yaml" if folder and name and "/" not in name and "\\" not in name else None
    return path if path is not None and path.is_file() else None


def instance_names() -> list[str]:
    """Names of the shipped instances (instances/NAME/instance.yaml)."""
    folder = shipped_dir("instances")
    return sorted(p.parent.name for p in folder.glob("*/instance.yaml")) if folder else []


def instance_path(name: str) -> Path | None:
    """The shipped instance folder called `name`, or None."""
    folder = shipped_dir("instances")
    if folder is None or not name or any(c in name for c in "/\\."):
        return None
    path = folder / name
    return path if (path / "instance.yaml").is_file() else None
