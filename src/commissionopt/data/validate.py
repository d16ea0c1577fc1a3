"""Reference and meaning checks of a loaded instance (being written)."""
from __future__ import annotations


def validate_instance(inst) -> list:
    return []
