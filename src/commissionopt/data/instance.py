"""The typed, validated data of one local area: what every later stage reads."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .schema import TABLES


def split_list(value: str) -> list[str]:
    """A ';'-separated list field as a list of names ('' -> [])."""
    return [p.strip() for p in str(value).split(";") if p.strip()]


@dataclass
class Instance:
    """Instance data: `meta` from instance.yaml, one typed DataFrame per table.

    Tables keep the instance's own column names; LIST columns stay as written
    (';'-separated text) so that a round trip through CSV or Excel is exact.
    """
    meta: dict
    tables: dict[str, pd.DataFrame]
    source: Path | None = None
    warnings: list = field(default_factory=list)
    changes: list = field(default_factory=list)  # scenario changes applied, in order

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    @property
    def name(self) -> str:
        return str(self.meta.get("name", ""))

    @property
    def levels(self) -> list[str]:
        return list(self.meta["levels"])

    @property
    def horizon(self) -> int:
        return int(self.meta["horizon_years"])

    @property
    def discount_rate(self) -> float:
        return float(self.meta["discount_rate"])

    @property
    def reserves(self) -> dict:
        r = dict(self.meta.get("reserves") or {})
        return {"opening": float(r.get("opening", 0.0)), "minimum": float(r.get("minimum", 0.0)),
                "flexible_capital_receipts": bool(r.get("flexible_capital_receipts", False))}

    def copy(self) -> "Instance":
        import copy as _copy
        return replace(self, meta=_copy.deepcopy(self.meta),
                       tables={k: v.copy() for k, v in self.tables.items()},
                       warnings=list(self.warnings), changes=list(self.changes))

    @property
    def has_duties(self) -> bool:
        """True when duties.csv names the services that may meet each statutory duty."""
        df = self.tables.get("duties")
        return df is not None and not df.empty

    def statutory_coverage(self) -> dict[tuple[str, str], float]:
        """{(cohort, level): share of its need that some duty requires served}: from duties.csv
        (its duties' coverages added, at most 1) or, without it, needs.csv statutory_coverage."""
        if self.has_duties:
            out: dict = {}
            for k, l, c in zip(self["duties"]["cohort"], self["duties"]["level"], self["duties"]["coverage"]):
                out[(k, l)] = min(1.0, out.get((k, l), 0.0) + float(c))
            return out
        n = self["needs"]
        return {(k, l): float(c) for k, l, c in zip(n["cohort"], n["level"], n["statutory_coverage"]) if c > 0}

    def indexed(self, table: str) -> pd.DataFrame:
        """The table indexed by its key columns (for look-ups)."""
        return self.tables[table].set_index(list(TABLES[table].key))
