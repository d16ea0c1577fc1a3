"""A Plan: the summary, the tidy result tables and the run's inputs. No Pyomo in here."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Plan:
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.summary.get("status", "error")

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]
