"""The tidy table: every figure of a run as one row, for Power BI, pandas or R.

Columns: policy, scenario, cut, table, year, financial_year, measure, unit, value, then the
keys service, mechanism, cohort, level, stream, role, building, key (empty where a key does
not apply). `table` says where a row comes from: `summary` (a plan's summary figures; year
empty, unmet need by level as `unmet_person_years` with its level), a result table's name
(units, need, spend, ...; docs/results.md), or `sweep`. True/false figures are 1/0. Timings
are left out: they are not results, and the table stays the same from one run to the next.

    tidy_plans({"salami": plan, ...}, scenario="pool-bcf", meta=inst.meta, outcome=outcome_unit(inst))
    tidy_sweep(sweep_table)
    write_tidy(frame, "round.csv")        # or .parquet (pip install 'commissionopt[parquet]')

Any frame of figures becomes tidy through `melt`, so a new kind of run adds rows, not a format.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import CommissionoptError
from .labels import column_unit, cut_text, summary_unit, year_label

KEYS = ("service", "mechanism", "cohort", "level", "stream", "role", "building", "key")
COLUMNS = ("policy", "scenario", "cut", "table", "year", "financial_year", "measure", "unit", "value") + KEYS
FORMATS = (".csv", ".parquet")
NOT_FIGURES = {"year"}  # a coordinate, not a measure
PRICE_KEYS = {"stream_limit": "stream", "staff_hours": "role", "building_capacity": "building"}


def melt(df: pd.DataFrame, table: str, policy: str, scenario: str = "", cut: str = "", meta: dict | None = None,
         outcome: str = "weighted outcome points", units: dict | None = None) -> pd.DataFrame:
    """A wide frame of figures as tidy rows: its key columns (KEYS, year) kept, every numeric or
    true/false column a measure. `units` {column: unit} beats the column's own unit."""
    keys = [c for c in KEYS if c in df.columns]
    ids = keys + (["year"] if "year" in df.columns else [])
    values = [c for c in df.columns if c not in ids and c not in NOT_FIGURES
              and (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
    if df.empty or not values:
        return pd.DataFrame(columns=list(COLUMNS))
    data = df[ids + values].copy()
    for c in values:
        data[c] = data[c].astype(float)
    long = data.melt(id_vars=ids, value_vars=values, var_name="__measure", value_name="__value")  # a table may
    long = long.rename(columns={"__measure": "measure", "__value": "value"})                       # have a `value`
    long["unit"] = [(units or {}).get(m) or column_unit(m, outcome) for m in long["measure"]]
    return _frame(long, table, policy, scenario, cut, meta)


def _frame(long: pd.DataFrame, table: str, policy: str, scenario: str, cut: str, meta: dict | None) -> pd.DataFrame:
    long = long.copy()
    long["policy"], long["scenario"], long["cut"], long["table"] = policy, scenario or "", cut, table
    if "year" not in long.columns:
        long["year"] = pd.NA
    long["year"] = pd.array(long["year"], dtype="Int64")
    long["financial_year"] = ["" if pd.isna(y) else year_label(meta or {}, int(y)) for y in long["year"]]
    for k in KEYS:
        if k not in long.columns:
            long[k] = ""
        long[k] = long[k].fillna("").astype(str)
    return long[list(COLUMNS)]


def summary_rows(summary: dict, policy: str, scenario: str = "", cut: str = "", meta: dict | None = None,
                 outcome: str = "weighted outcome points") -> pd.DataFrame:
    """A plan's summary figures (numbers and true/false; timings left out), year empty; the cut
    by year as `budget_cut` rows; unmet need by level as `unmet_person_years` rows with a level."""
    rows = []
    for k, v in summary.items():
        if k.endswith("_seconds"):
            continue
        if isinstance(v, bool) or (isinstance(v, (int, float)) and not isinstance(v, bool)):
            rows.append({"measure": k, "value": float(v), "unit": summary_unit(k, outcome)})
        elif k == "unmet_by_level" and isinstance(v, dict):
            rows += [{"measure": "unmet_person_years", "level": lv, "value": float(x), "unit": "person-years"}
                     for lv, x in v.items() if x is not None]
        elif k == "cut" and isinstance(v, dict):
            rows += [{"measure": "budget_cut", "year": int(y), "value": float(x), "unit": "share"} for y, x in v.items()]
    return _frame(pd.DataFrame(rows, columns=["measure", "value", "unit", "level", "year"]),
                  "summary", policy, scenario, cut, meta)


def tidy_plan(plan, policy: str | None = None, scenario: str = "", meta: dict | None = None,
              outcome: str = "weighted outcome points") -> pd.DataFrame:
    """Every figure of one plan: its summary, then each result table."""
    policy = policy or plan.summary.get("policy", "")
    cut = cut_text(plan.summary.get("cut"))
    parts = [summary_rows(plan.summary, policy, scenario, cut, meta, outcome)]
    for name, df in plan.tables.items():
        if name == "shadow_prices":
            parts.append(_shadow_prices(df, policy, scenario, cut, meta))
        else:
            parts.append(melt(df, name, policy, scenario, cut, meta, outcome))
    return concat(parts)


def _shadow_prices(df: pd.DataFrame, policy: str, scenario: str, cut: str, meta: dict | None) -> pd.DataFrame:
    """One row a price: the constraint family is the measure, its own unit column the unit."""
    if df.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    long = pd.DataFrame({"measure": df["family"], "key": df["key"].astype(str), "year": df["year"],
                         "value": df["value"].astype(float), "unit": df["unit"].astype(str)})
    for family, column in PRICE_KEYS.items():  # the key in its own column: a stream, a role, a building
        rows = long["measure"] == family
        long.loc[rows, column] = long.loc[rows, "key"]
        long.loc[rows, "key"] = ""
    return _frame(long, "shadow_prices", policy, scenario, cut, meta)


def tidy_plans(plans: dict, scenario: str = "", meta: dict | None = None,
               outcome: str = "weighted outcome points") -> pd.DataFrame:
    """Every figure of every plan of a comparison (or any {name: Plan})."""
    return concat([tidy_plan(p, name, scenario, meta, outcome) for name, p in plans.items()])


def tidy_sweep(sweep: pd.DataFrame, scenario: str = "", outcome: str = "weighted outcome points") -> pd.DataFrame:
    """A sweep's rows (policy, cut, figures) as tidy rows, table `sweep`; the cut as the CLI writes it."""
    parts = []
    for (policy, cut), rows in sweep.groupby(["policy", "cut"], sort=False):
        figures = rows.drop(columns=["policy", "cut"])
        units = {c: summary_unit(c, outcome) for c in figures.columns}
        units["outcome_retained"] = "share"
        parts.append(melt(figures.reset_index(drop=True), "sweep", str(policy), scenario,
                          cut_text(float(cut)), None, outcome, units))
    return concat(parts)


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out["year"] = pd.array(out["year"], dtype="Int64")
    out["value"] = out["value"].astype(float)
    return out


def check_tidy_path(path: str | Path) -> Path:
    """The tidy file's name checked before any work: .csv, or .parquet with pyarrow installed."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CommissionoptError(f"{path}: a tidy table is written as .csv or .parquet, not '{suffix or 'no suffix'}'")
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CommissionoptError(f"{path}: writing .parquet needs pyarrow: pip install 'commissionopt[parquet]'") \
                from None
    return path


def write_tidy(frame: pd.DataFrame, path: str | Path, force: bool = False) -> Path:
    """The tidy table as .csv (text cells neutralised) or .parquet, atomically; an existing
    file is replaced only with `force`."""
    from ..atomic import atomic_file
    from .output import write_csv_table
    path = check_tidy_path(path)
    if path.suffix.lower() == ".csv":
        return write_csv_table(frame, path, force)
    with atomic_file(path, force) as tmp:
        frame.to_parquet(tmp, index=False)
    return path
