"""Shared by the data-layer tests: a small valid instance to copy and break."""
from __future__ import annotations

import shutil
from pathlib import Path

BASE = Path(__file__).parent / "broken" / "valid_base"


def copy_base(tmp_path: Path) -> Path:
    folder = tmp_path / "area"
    shutil.copytree(BASE, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file, failing if it is not there (a test must not edit nothing)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
