"""The independent plan check: every constraint and reported total, recomputed from tables.

`verify(instance, plan, cut_by_year)` reads only the instance's own tables (pandas) and
the plan's result tables and summary (docs/results.md) and returns one human-readable
message per violation beyond a tolerance. It uses no Pyomo and nothing from
`commissionopt.model`, on purpose: a bug in the model's data preparation (a wrong
coefficient, a dropped transition, a mis-scaled cost) must not be hidden by reusing it.
Every parameter is read again from the instance here.

Each check is a small function `_check_<family>(ctx) -> list[str]`; messages start with
the constraint family's name (need_flow, statutory_duty, stream_limit, fte_balance, ...)
and name the keys, e.g.
    "stream_limit: general_fund year 3 spends £1,234,567 > available £1,200,000 + reserves £0 + overspend £0"

Tolerances: a quantity is wrong when |actual - expected| > tol * max(1, |expected|)
(people, units, hours, outcome points); money is wrong when the difference exceeds
`money_tol` = max(1, tol/100 * total yearly funding) pounds (£1 or 1e-6 of the money
with the default tol).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

TERMINAL_YEARS = 10  # years of harm counted after the horizon (docs/results.md)
OVERHEADS = "overheads"  # the funding table's service name for staff, buildings, setup, pooling

# the result tables and the columns this check reads (docs/results.md)
RESULT_COLUMNS = {
    "units": ("service", "mechanism", "year", "units", "people_served", "direct_spend"),
    "options": ("service", "mechanism", "current", "adopted", "setup_cost"),
    "need": ("cohort", "level", "year", "need", "served", "unmet"),
    "workforce": ("role", "year", "fte", "hires", "releases", "agency_hours", "hours_needed",
                  "staff_cost", "agency_cost", "redundancy_cost"),
    "buildings": ("building", "year", "open", "hours_used", "extended_hours", "fixed_cost", "hours_cost",
                  "extended_cost", "closure_cost", "capital_receipt"),
    "building_use": ("service", "building", "year", "hours"),
    "funding": ("stream", "service", "year", "amount"),
    "streams": ("stream", "year", "available", "spent", "reserves_drawn", "overspend"),
    "pooling": ("stream", "pooled", "pooling_cost"),
    "spend": ("year", "direct", "staff", "buildings", "setup", "pooling", "total", "discount_factor"),
    "outcomes": ("year", "gain", "harm", "value", "discount_factor"),
    "reserves": ("year", "drawn", "receipts", "available_cumulative"),
}


# ---------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------
def _names(value) -> list[str]:
    """A ';'-separated list cell as names ('' or missing -> [])."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return []
    return [p.strip() for p in str(value).split(";") if p.strip()]


def _flag(value) -> bool:
    """A boolean cell: bool, 0/1 (a solver's 0.9999999 included) or true/false words."""
    if value is None or value is pd.NA:
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y", "1.0"}
    try:
        if isinstance(value, float) and math.isnan(value):
            return False
        return float(value) > 0.5
    except (TypeError, ValueError):
        return bool(value)


def _num(value, default: float = 0.0) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(v) else v


def _matches(scope: list[str], service: str, tags: list[str]) -> bool:
    return "*" in scope or service in scope or any(t in scope for t in tags)


def _gbp(x: float) -> str:
    return f"-£{-x:,.0f}" if x < 0 else f"£{x:,.0f}"


def _q(x: float) -> str:
    """A non-money quantity, short."""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return f"{x:.4g}"


def normalise_cut(cut, years) -> dict[int, float]:
    """A cut as a number for every year: a number, or {year: share} with the last value carried forward."""
    if cut is None:
        return {y: 0.0 for y in years}
    if isinstance(cut, (int, float)):
        return {y: float(cut) for y in years}
    given = {int(k): float(v) for k, v in dict(cut).items()}
    out, last = {}, 0.0
    for y in years:
        last = given.get(y, last)
        out[y] = last
    return out


def _instance_table(inst, name: str) -> pd.DataFrame:
    tables = getattr(inst, "tables", None) or {}
    df = tables.get(name)
    return df if df is not None else pd.DataFrame()


def _col(df: pd.DataFrame, name: str, default):
    """A column as a list, or the default for every row when the table lacks it."""
    if name in df.columns:
        return list(df[name])
    return [default] * len(df)


# ---------------------------------------------------------------------------------------
# the context: instance parameters read once, plan tables as keyed dicts
# ---------------------------------------------------------------------------------------
@dataclass
class _Ctx:
    inst: object
    tables: dict
    summary: dict
    cut: dict
    tol: float
    extra_money: dict = field(default_factory=dict)  # {(stream, year): £} given on top of the cut
    years: list = field(default_factory=list)
    H: int = 0
    r: float = 0.0
    df: dict = field(default_factory=dict)
    money_tol: float = 1.0
    problems: list = field(default_factory=list)  # table-shape problems found while reading
    p: dict = field(default_factory=dict)  # instance parameters
    _cache: dict = field(default_factory=dict)

    # --- comparisons --------------------------------------------------------------------
    def off(self, actual: float, expected: float) -> bool:
        """True when a quantity differs beyond the relative tolerance."""
        return abs(actual - expected) > self.tol * max(1.0, abs(expected))

    def over(self, lhs: float, rhs: float) -> bool:
        """True when lhs > rhs beyond the relative tolerance."""
        return lhs - rhs > self.tol * max(1.0, abs(rhs))

    def money_off(self, actual: float, expected: float) -> bool:
        return abs(actual - expected) > self.money_tol

    def money_over(self, lhs: float, rhs: float) -> bool:
        return lhs - rhs > self.money_tol

    # --- plan tables ----------------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame | None:
        """The plan's table with the columns this check reads, or None (reported once)."""
        if name in self._cache:
            return self._cache[name]
        df = self.tables.get(name)
        out = None
        if df is None:
            self.problems.append(f"tables: the plan has no '{name}' table")
        else:
            missing = [c for c in RESULT_COLUMNS[name] if c not in df.columns]
            if missing:
                self.problems.append(f"tables: '{name}' lacks columns {', '.join(missing)}")
            else:
                out = df
        self._cache[name] = out
        return out

    def keyed(self, name: str, key: tuple[str, ...], value_cols: tuple[str, ...]) -> dict | None:
        """{key tuple: {col: value}} of a plan table; duplicates and stray years reported."""
        ck = ("keyed", name, key, value_cols)
        if ck in self._cache:
            return self._cache[ck]
        df = self.table(name)
        out = None
        if df is not None:
            out = {}
            cols = {c: list(df[c]) for c in key + value_cols}
            for i in range(len(df)):
                k = tuple(int(_num(cols[c][i], -1)) if c == "year" else str(cols[c][i]) for c in key)
                if "year" in key and k[key.index("year")] not in self.years:
                    self.problems.append(f"tables: '{name}' row {k} has a year outside 1..{self.H}")
                    continue
                if k in out:
                    self.problems.append(f"tables: '{name}' has more than one row for {k}")
                    continue
                out[k] = {c: cols[c][i] for c in value_cols}
        self._cache[ck] = out
        return out

    def summary_value(self, key: str, required: bool = True) -> float | None:
        v = self.summary.get(key) if isinstance(self.summary, dict) else None
        if v is None:
            if required:
                self.problems.append(f"summary: no '{key}'")
            return None
        if isinstance(v, bool):
            v = float(v)
        try:
            return float(v)
        except (TypeError, ValueError):
            if required:  # optional keys may be reported in another shape (e.g. by role): not checked
                self.problems.append(f"summary: '{key}' is not a number ({v!r})")
            return None


def _read_instance(ctx: _Ctx) -> None:
    """Every instance parameter the checks use, read from the instance's own tables."""
    inst, p = ctx.inst, ctx.p
    ctx.H = int(inst.horizon)
    ctx.years = list(range(1, ctx.H + 1))
    ctx.r = float(inst.discount_rate)
    ctx.df = {y: (1 + ctx.r) ** -y for y in ctx.years}
    p["levels"] = list(inst.levels)

    nd = _instance_table(inst, "needs")
    p["needs"] = list(zip(nd["cohort"], nd["level"]))
    for col, default in (("population_base", 0.0), ("arrivals_per_year", 0.0), ("arrivals_growth", 0.0),
                         ("statutory_coverage", 0.0), ("future_cost", 0.0)):
        p[col] = {kl: _num(v, default) for kl, v in zip(p["needs"], _col(nd, col, default))}

    tr = _instance_table(inst, "transitions")
    p["inflows"] = defaultdict(list)  # (k,l) -> [(source (k,l), lag, rate)]
    p["persistence"] = defaultdict(float)
    for fk, fl, tk, tl, g, rate in zip(tr["from_cohort"], tr["from_level"], tr["to_cohort"], tr["to_level"],
                                       tr["lag_years"], tr["rate"]):
        p["inflows"][(tk, tl)].append(((fk, fl), int(g), float(rate)))
        if (fk, fl) == (tk, tl) and int(g) == 1:
            p["persistence"][(fk, fl)] += float(rate)

    oc = _instance_table(inst, "outcomes")
    weight = {d: _num(w) for d, w in zip(oc["domain"], oc["weight"])}
    hm = _instance_table(inst, "harms")
    p["harm"] = defaultdict(float)
    for k, l, d, h in zip(hm["cohort"], hm["level"], hm["domain"], hm["harm_per_person_year"]):
        p["harm"][(k, l)] += weight.get(d, 0.0) * _num(h)
    gn = _instance_table(inst, "gains")
    p["gain_value"] = defaultdict(float)
    for s, d, g in zip(gn["service"], gn["domain"], gn["gain_per_unit"]):
        p["gain_value"][s] += weight.get(d, 0.0) * _num(g)

    sv = _instance_table(inst, "services")
    p["services"] = list(sv["service"])
    p["service_need"] = {s: (k, l) for s, k, l in zip(sv["service"], sv["cohort"], sv["level"])}
    p["services_of_need"] = defaultdict(list)
    for s, kl in p["service_need"].items():
        p["services_of_need"][kl].append(s)
    for col, default in (("people_per_unit", 1.0), ("base_units", 0.0), ("min_units", 0.0), ("max_units", math.inf)):
        p[col] = {s: _num(v, default) for s, v in zip(sv["service"], _col(sv, col, default))}
    p["tags"] = {s: _names(t) for s, t in zip(sv["service"], _col(sv, "tags", ""))}
    p["building_types"] = {s: _names(t) for s, t in zip(sv["service"], _col(sv, "building_types", ""))}

    mc = _instance_table(inst, "mechanisms")
    p["transaction_rate"] = {m: _num(v) for m, v in zip(mc["mechanism"], mc["transaction_rate"])}
    p["lead_years"] = {m: int(_num(v)) for m, v in zip(mc["mechanism"], mc["lead_years"])}

    op = _instance_table(inst, "options")
    p["options"] = list(zip(op["service"], op["mechanism"]))
    p["options_of"] = defaultdict(list)
    for o in p["options"]:
        p["options_of"][o[0]].append(o)
    p["current"] = {o: _flag(v) for o, v in zip(p["options"], _col(op, "current", False))}
    for col, default in (("unit_cost", 0.0), ("quality", 1.0), ("effect_escalation", 0.0), ("failure_demand", 0.0),
                         ("setup_cost", 0.0), ("max_share", 1.0)):
        p[col] = {o: _num(v, default) for o, v in zip(p["options"], _col(op, col, default))}
    # people served per unit, unit price and weighted gain per unit of each option
    p["spu"] = {o: p["people_per_unit"].get(o[0], 1.0) * (1 - p["failure_demand"][o]) for o in p["options"]}
    p["price"] = {o: (1 + p["transaction_rate"].get(o[1], 0.0)) * p["unit_cost"][o] for o in p["options"]}
    p["gain"] = {o: p["gain_value"].get(o[0], 0.0) * p["quality"][o] * (1 - p["failure_demand"][o])
                 for o in p["options"]}

    # base-year history: people in need minus those the current options prevented
    base_prevented = defaultdict(float)
    for o in p["options"]:
        if p["current"][o]:
            s = o[0]
            base_prevented[p["service_need"].get(s)] += (p["effect_escalation"][o] * p["spu"][o] * p["base_units"].get(s, 0.0))
    p["base_source"] = {kl: p["population_base"][kl] - base_prevented[kl] for kl in p["needs"]}

    osf = _instance_table(inst, "option_staff")
    p["staff_hours"] = defaultdict(dict)  # role -> {option: hours per unit}
    if len(osf):
        for s, m, role, h in zip(osf["service"], osf["mechanism"], osf["role"], osf["hours_per_unit"]):
            p["staff_hours"][role][(s, m)] = p["staff_hours"][role].get((s, m), 0.0) + _num(h)
    ob = _instance_table(inst, "option_buildings")
    p["building_hours"] = {}
    if len(ob):
        p["building_hours"] = {(s, m): _num(h) for s, m, h in zip(ob["service"], ob["mechanism"], ob["hours_per_unit"])}

    wf = _instance_table(inst, "workforce")
    p["roles"] = list(wf["role"]) if len(wf) else []
    for col, default in (("fte_base", 0.0), ("hours_per_fte", 1.0), ("cost_per_fte", 0.0), ("max_hire", 0.0),
                         ("max_release", 0.0), ("redundancy_cost", 0.0), ("agency_cost_per_hour", 0.0),
                         ("max_agency_hours", 0.0)):
        p[col] = {rl: _num(v, default) for rl, v in zip(p["roles"], _col(wf, col, default))}

    bd = _instance_table(inst, "buildings")
    p["buildings"] = list(bd["building"]) if len(bd) else []
    p["building_type"] = dict(zip(p["buildings"], _col(bd, "type", "")))
    p["can_close"] = {b: _flag(v) for b, v in zip(p["buildings"], _col(bd, "can_close", False))}
    for col in ("hours_available", "fixed_cost", "cost_per_hour", "closure_cost", "capital_receipt",
                "extendable_hours", "extended_cost_per_hour"):
        p["b_" + col] = {b: _num(v) for b, v in zip(p["buildings"], _col(bd, col, 0.0))}

    fd = _instance_table(inst, "funding")
    p["streams"] = list(fd["stream"])
    p["base_amount"] = {f: _num(v) for f, v in zip(p["streams"], fd["base_amount"])}
    p["subject_to_cut"] = {f: _flag(v) for f, v in zip(p["streams"], _col(fd, "subject_to_cut", True))}
    p["scope"] = {f: _names(v) for f, v in zip(p["streams"], _col(fd, "scope", ""))}
    p["pays_overheads"] = {f: _flag(v) for f, v in zip(p["streams"], _col(fd, "overheads", False))}
    p["poolable"] = {f: _flag(v) for f, v in zip(p["streams"], _col(fd, "poolable", False))}
    p["pooled_scope"] = {f: _names(v) for f, v in zip(p["streams"], _col(fd, "pooled_scope", ""))}
    p["pooling_cost"] = {f: _num(v) for f, v in zip(p["streams"], _col(fd, "pooling_cost", 0.0))}
    p["reserves"] = dict(inst.reserves)
    ctx.money_tol = max(1.0, ctx.tol / 100.0 * sum(p["base_amount"].values()))


# --- values of the plan that several checks share ---------------------------------------
def _units(ctx: _Ctx) -> dict | None:
    """{(s, m, y): units} from the plan (missing rows are 0: no variable inside a lead time)."""
    if "units_of" in ctx._cache:
        return ctx._cache["units_of"]
    rows = ctx.keyed("units", ("service", "mechanism", "year"), ("units", "people_served", "direct_spend"))
    out = None
    if rows is not None:
        out = defaultdict(float)
        for (s, m, y), v in rows.items():
            out[(s, m, y)] = _num(v["units"])
    ctx._cache["units_of"] = out
    return out


def _idle(ctx: _Ctx) -> dict:
    """{(s, m, y): idle units}: capacity a fixed policy pays for that serves nobody (optional column)."""
    if "idle_of" not in ctx._cache:
        df = ctx.table("units")
        idle = defaultdict(float)
        if df is not None and "idle_units" in df.columns:
            for a, b, c, i in zip(df["service"], df["mechanism"], df["year"], df["idle_units"]):
                idle[(str(a), str(b), int(_num(c)))] = _num(i)
        ctx._cache["idle_of"] = idle
    return ctx._cache["idle_of"]


def _people(ctx: _Ctx, o, y) -> float:
    return ctx.p["spu"][o] * _units(ctx)[(*o, y)]


def _served(ctx: _Ctx, kl, y) -> float:
    return sum(_people(ctx, o, y) for s in ctx.p["services_of_need"].get(kl, ()) for o in ctx.p["options_of"][s])


def _prevented(ctx: _Ctx, kl, y) -> float:
    p = ctx.p
    return sum(p["effect_escalation"][o] * _people(ctx, o, y)
               for s in p["services_of_need"].get(kl, ()) for o in p["options_of"][s])


def _need(ctx: _Ctx) -> dict | None:
    """{(k, l, y): need} from the plan's need table."""
    rows = ctx.keyed("need", ("cohort", "level", "year"), ("need", "served", "unmet"))
    if rows is None:
        return None
    return {k: _num(v["need"]) for k, v in rows.items()}


def _arrivals(ctx: _Ctx, kl, y) -> float:
    return ctx.p["arrivals_per_year"][kl] * (1 + ctx.p["arrivals_growth"][kl]) ** y


def _terminal_factor(ctx: _Ctx, kl) -> float:
    """Terminal harm per person in need at H: harm x (1+r)^-H x sum_t ((1+r)^-1 p)^t."""
    q = 1.0 / (1.0 + ctx.r)
    pers = ctx.p["persistence"].get(kl, 0.0)
    return ctx.p["harm"].get(kl, 0.0) * ctx.df[ctx.H] * sum((q * pers) ** t for t in range(1, TERMINAL_YEARS + 1))


def _pooled(ctx: _Ctx) -> dict:
    """{stream: pooled?} from the plan's pooling table (streams that are not poolable: False)."""
    df = ctx.table("pooling")
    out = {f: False for f in ctx.p["streams"]}
    if df is not None:
        for f, v in zip(df["stream"], df["pooled"]):
            if f in out and ctx.p["poolable"].get(f, False):
                out[f] = _flag(v)
    return out


def _adopted(ctx: _Ctx) -> dict | None:
    rows = ctx.keyed("options", ("service", "mechanism"), ("current", "adopted", "setup_cost"))
    if rows is None:
        return None
    return {k: _flag(v["adopted"]) for k, v in rows.items()}


def _building_rows(ctx: _Ctx) -> dict | None:
    return ctx.keyed("buildings", ("building", "year"), RESULT_COLUMNS["buildings"][2:])


def _use(ctx: _Ctx) -> dict | None:
    """{(service, building, year): hours} from building_use."""
    rows = ctx.keyed("building_use", ("service", "building", "year"), ("hours",))
    if rows is None:
        return None
    return {k: _num(v["hours"]) for k, v in rows.items()}


def _closes(ctx: _Ctx, b, y) -> float:
    """1 in the year building b closes (open the year before, closed now), from the plan's open flags."""
    rows = _building_rows(ctx)
    prev = 1.0 if y == 1 else _num(rows.get((b, y - 1), {}).get("open", 1.0), 1.0)
    now = _num(rows.get((b, y), {}).get("open", 1.0), 1.0)
    return max(0.0, round(prev) - round(now))


def _costs(ctx: _Ctx) -> dict | None:
    """Overheads recomputed by kind and year: {kind: {year: £}} (None if a table is missing)."""
    if "costs" in ctx._cache:
        return ctx._cache["costs"]
    p = ctx.p
    wf = ctx.keyed("workforce", ("role", "year"), RESULT_COLUMNS["workforce"][2:])
    bd = _building_rows(ctx)
    use = _use(ctx)
    adopted = _adopted(ctx)
    pooled = _pooled(ctx)
    out = None
    if None not in (wf, bd, use, adopted):
        out = {k: {y: 0.0 for y in ctx.years} for k in ("staff", "buildings", "setup", "pooling", "receipts")}
        for (rl, y), v in wf.items():
            if rl in p["cost_per_fte"]:
                out["staff"][y] += (p["cost_per_fte"][rl] * _num(v["fte"])
                                    + p["agency_cost_per_hour"][rl] * _num(v["agency_hours"])
                                    + p["redundancy_cost"][rl] * _num(v["releases"]))
        used = defaultdict(float)
        for (s, b, y), h in use.items():
            used[(b, y)] += h
        for (b, y), v in bd.items():
            if b not in p["b_fixed_cost"]:
                continue
            closes = _closes(ctx, b, y)
            out["buildings"][y] += (p["b_fixed_cost"][b] * _num(v["open"]) + p["b_cost_per_hour"][b] * used[(b, y)]
                                    + p["b_extended_cost_per_hour"][b] * _num(v["extended_hours"])
                                    + p["b_closure_cost"][b] * closes)
            out["receipts"][y] += p["b_capital_receipt"][b] * closes
        for o in p["options"]:
            if p["current"][o] or not adopted.get(o, False):
                continue
            spread = max(1, p["lead_years"].get(o[1], 0))
            for y in ctx.years:
                if y <= spread:
                    out["setup"][y] += p["setup_cost"][o] / spread
        for y in ctx.years:
            out["pooling"][y] = sum(p["pooling_cost"][f] for f, on in pooled.items() if on)
    ctx._cache["costs"] = out
    return out


# ---------------------------------------------------------------------------------------
# 1. demand: need flow, people served, unmet
# ---------------------------------------------------------------------------------------
def _check_need_flow(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    need, units = _need(ctx), _units(ctx)
    if need is None or units is None:
        return out
    for kl in p["needs"]:
        for y in ctx.years:
            if (*kl, y) not in need:
                out.append(f"need_flow: no need row for {kl[0]}/{kl[1]} year {y}")
                continue
            expected = _arrivals(ctx, kl, y)
            complete = True
            for src, g, rate in p["inflows"].get(kl, ()):
                t = y - g
                if t <= 0:
                    expected += rate * p["base_source"].get(src, 0.0)
                elif (*src, t) in need:
                    expected += rate * (need[(*src, t)] - _prevented(ctx, src, t))
                elif src in p["base_source"]:
                    complete = False  # the source row's absence is reported on its own
            if complete and ctx.off(need[(*kl, y)], expected):
                out.append(f"need_flow: {kl[0]}/{kl[1]} year {y} need {_q(need[(*kl, y)])} != "
                           f"arrivals + transitions {_q(expected)}")
    return out


def _check_need_accounting(ctx: _Ctx) -> list[str]:
    """units.people_served, need.served and need.unmet against their definitions."""
    p, out = ctx.p, []
    rows = ctx.keyed("units", ("service", "mechanism", "year"), ("units", "people_served", "direct_spend"))
    if rows is not None:
        for (s, m, y), v in rows.items():
            if (s, m) not in p["spu"]:
                out.append(f"option_link: units for {s}/{m} year {y}, which is not an option of the instance")
                continue
            u = _num(v["units"])
            if u < -ctx.tol:
                out.append(f"service_bounds: {s}/{m} year {y} has negative units {_q(u)}")
            expected = p["spu"][(s, m)] * u
            if ctx.off(_num(v["people_served"]), expected):
                out.append(f"people_served: {s}/{m} year {y} reports {_q(_num(v['people_served']))} people, "
                           f"people_per_unit x (1 - failure_demand) x units = {_q(expected)}")
    need_rows = ctx.keyed("need", ("cohort", "level", "year"), ("need", "served", "unmet"))
    if need_rows is not None and rows is not None:
        for (k, l, y), v in need_rows.items():
            if (k, l) not in p["population_base"]:
                out.append(f"need_flow: need row for {k}/{l}, which is not a need of the instance")
                continue
            served = _served(ctx, (k, l), y)
            n = _num(v["need"])
            if n < -ctx.tol:
                out.append(f"coverage: {k}/{l} year {y} has negative need {_q(n)}")
            if ctx.off(_num(v["served"]), served):
                out.append(f"served: {k}/{l} year {y} reports served {_q(_num(v['served']))}, "
                           f"the units serve {_q(served)}")
            if ctx.off(_num(v["unmet"]), n - served):
                out.append(f"unmet: {k}/{l} year {y} reports unmet {_q(_num(v['unmet']))}, "
                           f"need - served = {_q(n - served)}")
    return out


# ---------------------------------------------------------------------------------------
# 2. coverage and statutory duty
# ---------------------------------------------------------------------------------------
def _check_coverage(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    need, units = _need(ctx), _units(ctx)
    if need is None or units is None:
        return out
    for kl in p["needs"]:
        for y in ctx.years:
            if (*kl, y) not in need:
                continue
            n, served = need[(*kl, y)], _served(ctx, kl, y)
            if ctx.over(served, n):
                out.append(f"coverage: {kl[0]}/{kl[1]} year {y} serves {_q(served)} people > need {_q(n)}")
            cov = p["statutory_coverage"][kl]
            if cov > 0 and ctx.over(cov * n, served):
                out.append(f"statutory_duty: {kl[0]}/{kl[1]} year {y} serves {_q(served)} people < "
                           f"{cov:g} x need {_q(n)} = {_q(cov * n)}")
    return out


# ---------------------------------------------------------------------------------------
# 3. service bounds, max share, lead time, adoption
# ---------------------------------------------------------------------------------------
def _check_service_bounds(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    units = _units(ctx)
    if units is None:
        return out
    for s in p["services"]:
        for y in ctx.years:
            total = sum(units[(*o, y)] for o in p["options_of"][s])
            lo, hi = p["min_units"][s], p["max_units"][s]
            if ctx.over(total, hi):
                out.append(f"service_bounds: {s} year {y} delivers {_q(total)} units > max_units {_q(hi)}")
            if ctx.over(lo, total):
                out.append(f"service_bounds: {s} year {y} delivers {_q(total)} units < min_units {_q(lo)}")
    return out


def _check_max_share(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    need, units = _need(ctx), _units(ctx)
    if need is None or units is None:
        return out
    for o in p["options"]:
        if p["max_share"][o] >= 1:
            continue  # implied by coverage
        kl = p["service_need"].get(o[0])
        for y in ctx.years:
            if (*kl, y) not in need:
                continue
            people, cap = _people(ctx, o, y), p["max_share"][o] * need[(*kl, y)]
            if ctx.over(people, cap):
                out.append(f"max_share: {o[0]}/{o[1]} year {y} serves {_q(people)} people > "
                           f"max_share {p['max_share'][o]:g} x need {_q(need[(*kl, y)])} = {_q(cap)}")
    return out


def _check_lead_time(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    units = _units(ctx)
    if units is None:
        return out
    for o in p["options"]:
        if p["current"][o]:
            continue
        lead = p["lead_years"].get(o[1], 0)
        for y in ctx.years:
            if y <= lead and ctx.over(units[(*o, y)], 0.0):
                out.append(f"lead_time: {o[0]}/{o[1]} delivers {_q(units[(*o, y)])} units in year {y}, "
                           f"inside the {lead}-year lead time of {o[1]}")
    return out


def _check_adoption(ctx: _Ctx) -> list[str]:
    """The options table: one row per option, current as in the instance, no units unless adopted,
    setup_cost = the instance's setup cost for adopted new options (0 otherwise)."""
    p, out = ctx.p, []
    rows = ctx.keyed("options", ("service", "mechanism"), ("current", "adopted", "setup_cost"))
    units = _units(ctx)
    if rows is None:
        return out
    for o in p["options"]:
        if o not in rows:
            out.append(f"option_link: the options table has no row for {o[0]}/{o[1]}")
            continue
        v = rows[o]
        if _flag(v["current"]) != p["current"][o]:
            out.append(f"option_link: {o[0]}/{o[1]} reported current={_flag(v['current'])}, "
                       f"the instance says {p['current'][o]}")
        adopted = _flag(v["adopted"])
        if units is not None and not adopted:
            for y in ctx.years:
                if ctx.over(units[(*o, y)], 0.0):
                    out.append(f"option_link: {o[0]}/{o[1]} is not adopted but delivers {_q(units[(*o, y)])} "
                               f"units in year {y}")
        expected = p["setup_cost"][o] if (adopted and not p["current"][o]) else 0.0
        if ctx.money_off(_num(v["setup_cost"]), expected):
            out.append(f"setup: {o[0]}/{o[1]} reports setup_cost {_gbp(_num(v['setup_cost']))}, "
                       f"expected {_gbp(expected)}")
    for o in rows:
        if o not in p["current"]:
            out.append(f"option_link: the options table lists {o[0]}/{o[1]}, which is not an option of the instance")
    return out


# ---------------------------------------------------------------------------------------
# 4. money
# ---------------------------------------------------------------------------------------
def _check_direct_spend(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    rows = ctx.keyed("units", ("service", "mechanism", "year"), ("units", "people_served", "direct_spend"))
    if rows is None:
        return out
    idle = _idle(ctx)
    for (s, m, y), v in rows.items():
        if (s, m) not in p["price"]:
            continue
        spare = idle.get((s, m, y), 0.0)
        if spare < -ctx.tol or (spare > ctx.tol and not p["current"].get((s, m), False)):
            out.append(f"idle_units: {s}/{m} year {y} has {spare:,.2f} idle units: only a current option "
                       f"may carry paid-for units that serve nobody, never below 0")
        expected = p["price"][(s, m)] * (_num(v["units"]) + spare)
        if ctx.money_off(_num(v["direct_spend"]), expected):
            out.append(f"direct_spend: {s}/{m} year {y} reports {_gbp(_num(v['direct_spend']))}, "
                       f"(1 + transaction_rate) x unit_cost x (units + idle_units) = {_gbp(expected)}")
    return out


def _funding_rows(ctx: _Ctx) -> list[tuple] | None:
    """[(stream, service, year, amount)] of the funding table (years outside 1..H reported)."""
    if "funding_rows" in ctx._cache:
        return ctx._cache["funding_rows"]
    df = ctx.table("funding")
    out = None
    if df is not None:
        out = []
        for f, s, y, a in zip(df["stream"], df["service"], df["year"], df["amount"]):
            y = int(_num(y, -1))
            if y not in ctx.years:
                ctx.problems.append(f"tables: 'funding' row ({f}, {s}, {y}) has a year outside 1..{ctx.H}")
                continue
            out.append((str(f), str(s), y, _num(a)))
    ctx._cache["funding_rows"] = out
    return out


def _check_service_funding(ctx: _Ctx) -> list[str]:
    """Per service and year: the funding rows pay exactly its direct spend."""
    p, out = ctx.p, []
    rows, units = _funding_rows(ctx), _units(ctx)
    if rows is None or units is None:
        return out
    paid = defaultdict(float)
    for f, s, y, a in rows:
        paid[(s, y)] += a
    for s in p["services"]:
        for y in ctx.years:
            idle = _idle(ctx)
            direct = sum(p["price"][o] * (units[(*o, y)] + idle[(*o, y)]) for o in p["options_of"][s])
            if ctx.money_off(paid[(s, y)], direct):
                out.append(f"service_funding: {s} year {y} is funded {_gbp(paid[(s, y)])} but its direct spend "
                           f"is {_gbp(direct)}")
    for (s, y), a in paid.items():
        if s != OVERHEADS and s not in p["service_need"] and ctx.money_over(abs(a), 0.0):
            out.append(f"service_funding: funding rows pay {_gbp(a)} in year {y} to '{s}', which is not a service")
    return out


def _check_ring_fence(ctx: _Ctx) -> list[str]:
    """Each funding row comes from a stream that may pay that service (or overheads)."""
    p, out = ctx.p, []
    rows = _funding_rows(ctx)
    if rows is None:
        return out
    pooled = _pooled(ctx)
    for f, s, y, a in rows:
        if a < -ctx.money_tol:
            out.append(f"ring_fence: {f} pays a negative {_gbp(a)} to {s} in year {y}")
        if not ctx.money_over(abs(a), 0.0):
            continue
        if f not in p["base_amount"]:
            out.append(f"ring_fence: {_gbp(a)} to {s} in year {y} comes from '{f}', which is not a stream")
            continue
        if s == OVERHEADS:
            if not p["pays_overheads"][f]:
                out.append(f"ring_fence: {f} pays {_gbp(a)} of overheads in year {y} but may not pay overheads")
            continue
        if s not in p["service_need"]:
            continue  # reported by service_funding
        if _matches(p["scope"][f], s, p["tags"][s]):
            continue
        if _matches(p["pooled_scope"][f], s, p["tags"][s]) and p["poolable"][f]:
            if not pooled[f]:
                out.append(f"ring_fence: {f} pays {_gbp(a)} to {s} in year {y} through its pooled scope "
                           f"but is not pooled")
            continue
        out.append(f"ring_fence: {f} pays {_gbp(a)} to {s} in year {y}, outside its scope")
    df = ctx.table("pooling")
    if df is not None:
        for f, v in zip(df["stream"], df["pooled"]):
            if _flag(v) and not p["poolable"].get(f, False):
                out.append(f"ring_fence: {f} is reported pooled but is not poolable")
        for f, v, c in zip(df["stream"], df["pooled"], df["pooling_cost"]):
            if f in p["pooling_cost"]:
                full = p["pooling_cost"][f]
                # the column may hold the stream's yearly pooling cost or the cost the plan pays
                if ctx.money_off(_num(c), full) and ctx.money_off(_num(c), full * _flag(v)):
                    out.append(f"pooling: {f} reports pooling_cost {_gbp(_num(c))}, the instance says {_gbp(full)}")
    return out


def _check_overheads_funding(ctx: _Ctx) -> list[str]:
    out = []
    rows, costs = _funding_rows(ctx), _costs(ctx)
    if rows is None or costs is None:
        return out
    paid = defaultdict(float)
    for f, s, y, a in rows:
        if s == OVERHEADS:
            paid[y] += a
    for y in ctx.years:
        expected = sum(costs[k][y] for k in ("staff", "buildings", "setup", "pooling"))
        if ctx.money_off(paid[y], expected):
            out.append(f"overheads_funding: year {y} overheads funded {_gbp(paid[y])} but staff "
                       f"{_gbp(costs['staff'][y])} + buildings {_gbp(costs['buildings'][y])} + setup "
                       f"{_gbp(costs['setup'][y])} + pooling {_gbp(costs['pooling'][y])} = {_gbp(expected)}")
    return out


def _check_stream_limit(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    rows = _funding_rows(ctx)
    st = ctx.keyed("streams", ("stream", "year"), ("available", "spent", "reserves_drawn", "overspend"))
    if rows is None or st is None:
        return out
    spent = defaultdict(float)
    for f, s, y, a in rows:
        spent[(f, y)] += a
    for f in p["streams"]:
        for y in ctx.years:
            if (f, y) not in st:
                out.append(f"stream_limit: the streams table has no row for {f} year {y}")
                continue
            v = st[(f, y)]
            avail = (p["base_amount"][f] * (1 - (ctx.cut.get(y, 0.0) if p["subject_to_cut"][f] else 0.0))
                     + ctx.extra_money.get((f, y), 0.0))
            drawn, over = _num(v["reserves_drawn"]), _num(v["overspend"])
            if ctx.money_off(_num(v["available"]), avail):
                out.append(f"stream_limit: {f} year {y} reports available {_gbp(_num(v['available']))}, "
                           f"base_amount after the cut is {_gbp(avail)}")
            if ctx.money_off(_num(v["spent"]), spent[(f, y)]):
                out.append(f"stream_limit: {f} year {y} reports spent {_gbp(_num(v['spent']))}, "
                           f"its funding rows sum to {_gbp(spent[(f, y)])}")
            if ctx.money_over(spent[(f, y)], avail + drawn + over):
                out.append(f"stream_limit: {f} year {y} spends {_gbp(spent[(f, y)])} > available {_gbp(avail)} "
                           f"+ reserves {_gbp(drawn)} + overspend {_gbp(over)}")
            if drawn < -ctx.money_tol or over < -ctx.money_tol:
                out.append(f"stream_limit: {f} year {y} has negative reserves_drawn {_gbp(drawn)} "
                           f"or overspend {_gbp(over)}")
            if not p["pays_overheads"][f] and ctx.money_over(drawn, 0.0):
                out.append(f"reserves: {f} year {y} draws {_gbp(drawn)} of reserves but is not an overheads stream")
    for (f, y) in st:
        if f not in p["base_amount"]:
            out.append(f"stream_limit: the streams table has a row for '{f}', which is not a stream")
    return out


def _check_reserves(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    st = ctx.keyed("streams", ("stream", "year"), ("available", "spent", "reserves_drawn", "overspend"))
    costs = _costs(ctx)
    if st is None:
        return out
    res = p["reserves"]
    flexible = bool(res.get("flexible_capital_receipts", False))
    cap = max(0.0, res.get("opening", 0.0) - res.get("minimum", 0.0))
    drawn_y = {y: sum(_num(v["reserves_drawn"]) for (f, t), v in st.items() if t == y) for y in ctx.years}
    receipts_y = {y: (costs["receipts"][y] if (costs is not None and flexible) else 0.0) for y in ctx.years}
    cum_drawn = cum_receipts = 0.0
    for y in ctx.years:
        cum_drawn += drawn_y[y]
        cum_receipts += receipts_y[y]
        if ctx.money_over(cum_drawn, cap + cum_receipts):
            extra = f" + capital receipts {_gbp(cum_receipts)}" if flexible else ""
            out.append(f"reserves: by year {y} {_gbp(cum_drawn)} drawn > opening {_gbp(res.get('opening', 0.0))} "
                       f"- minimum {_gbp(res.get('minimum', 0.0))}{extra}")
    rt = ctx.keyed("reserves", ("year",), ("drawn", "receipts", "available_cumulative"))
    if rt is not None:
        for y in ctx.years:
            if (y,) not in rt:
                out.append(f"reserves: the reserves table has no row for year {y}")
                continue
            v = rt[(y,)]
            if ctx.money_off(_num(v["drawn"]), drawn_y[y]):
                out.append(f"reserves: year {y} reports drawn {_gbp(_num(v['drawn']))}, the streams draw "
                           f"{_gbp(drawn_y[y])}")
            if costs is not None and ctx.money_off(_num(v["receipts"]), receipts_y[y]):
                out.append(f"reserves: year {y} reports receipts {_gbp(_num(v['receipts']))}, expected "
                           f"{_gbp(receipts_y[y])}")
        # available_cumulative: what is left to draw after year y (opening - minimum + receipts - drawn)
        cum_drawn = cum_receipts = 0.0
        for y in ctx.years:
            cum_drawn += drawn_y[y]
            cum_receipts += receipts_y[y]
            left = cap + cum_receipts - cum_drawn
            if (y,) in rt and costs is not None and ctx.money_off(_num(rt[(y,)]["available_cumulative"]), left):
                out.append(f"reserves: year {y} reports available_cumulative "
                           f"{_gbp(_num(rt[(y,)]['available_cumulative']))}, opening - minimum + receipts - drawn "
                           f"to date = {_gbp(left)}")
    return out


# ---------------------------------------------------------------------------------------
# 5. workforce
# ---------------------------------------------------------------------------------------
def _check_workforce(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    wf = ctx.keyed("workforce", ("role", "year"), RESULT_COLUMNS["workforce"][2:])
    units = _units(ctx)
    if wf is None or units is None:
        return out
    for rl in set(p["staff_hours"]) - set(p["roles"]):
        if any(ctx.over(h * units[(*o, y)], 0.0) for o, h in p["staff_hours"][rl].items() for y in ctx.years):
            out.append(f"staff_hours: options use hours of role '{rl}', which is not in the workforce table")
    for rl in p["roles"]:
        prev = p["fte_base"][rl]
        for y in ctx.years:
            if (rl, y) not in wf:
                out.append(f"fte_balance: the workforce table has no row for {rl} year {y}")
                prev = None
                continue
            v = wf[(rl, y)]
            fte, hires, rel, agency = (_num(v[c]) for c in ("fte", "hires", "releases", "agency_hours"))
            needed = sum(h * units[(*o, y)] for o, h in p["staff_hours"].get(rl, {}).items())
            if ctx.off(_num(v["hours_needed"]), needed):
                out.append(f"staff_hours: {rl} year {y} reports hours_needed {_q(_num(v['hours_needed']))}, "
                           f"the units need {_q(needed)}")
            have = p["hours_per_fte"][rl] * fte + agency
            if ctx.over(needed, have):
                out.append(f"staff_hours: {rl} year {y} needs {_q(needed)} hours > {_q(p['hours_per_fte'][rl])} x "
                           f"{_q(fte)} FTE + {_q(agency)} agency hours = {_q(have)}")
            if prev is not None and ctx.off(fte, prev + hires - rel):
                out.append(f"fte_balance: {rl} year {y} has {_q(fte)} FTE != {_q(prev)} + hires {_q(hires)} "
                           f"- releases {_q(rel)} = {_q(prev + hires - rel)}")
            for name, val, cap, fam in (("hires", hires, p["max_hire"][rl], "hire_limit"),
                                        ("releases", rel, p["max_release"][rl], "release_limit"),
                                        ("agency hours", agency, p["max_agency_hours"][rl], "agency_limit")):
                if ctx.over(val, cap):
                    out.append(f"{fam}: {rl} year {y} {name} {_q(val)} > {_q(cap)}")
                if val < -ctx.tol:
                    out.append(f"{fam}: {rl} year {y} has negative {name} {_q(val)}")
            if fte < -ctx.tol:
                out.append(f"fte_balance: {rl} year {y} has negative FTE {_q(fte)}")
            for col, expected in (("staff_cost", p["cost_per_fte"][rl] * fte),
                                  ("agency_cost", p["agency_cost_per_hour"][rl] * agency),
                                  ("redundancy_cost", p["redundancy_cost"][rl] * rel)):
                if ctx.money_off(_num(v[col]), expected):
                    out.append(f"workforce_cost: {rl} year {y} reports {col} {_gbp(_num(v[col]))}, "
                               f"expected {_gbp(expected)}")
            prev = fte
    return out


# ---------------------------------------------------------------------------------------
# 6. buildings
# ---------------------------------------------------------------------------------------
def _check_building_hours(ctx: _Ctx) -> list[str]:
    """Per service and year, building_use hours = the hours its options need, in compatible buildings."""
    p, out = ctx.p, []
    use, units = _use(ctx), _units(ctx)
    if use is None or units is None:
        return out
    placed = defaultdict(float)
    for (s, b, y), h in use.items():
        placed[(s, y)] += h
        if h < -ctx.tol:
            out.append(f"building_hours: {s} uses negative hours {_q(h)} in {b} year {y}")
        if not ctx.over(abs(h), 0.0):
            continue
        if b not in p["building_type"]:
            out.append(f"building_hours: {s} uses {_q(h)} hours in '{b}', which is not a building, year {y}")
            continue
        if s not in p["building_types"]:
            out.append(f"building_hours: '{s}' is not a service but uses {_q(h)} hours in {b} year {y}")
            continue
        types = p["building_types"][s]
        if not ("*" in types or p["building_type"][b] in types):
            out.append(f"building_type: {s} uses {_q(h)} hours in {b} (a {p['building_type'][b]}) in year {y}, "
                       f"not among its building types [{';'.join(types)}]")
    for s in p["services"]:
        for y in ctx.years:
            needed = sum(p["building_hours"].get(o, 0.0) * units[(*o, y)] for o in p["options_of"][s])
            if ctx.off(placed[(s, y)], needed):
                out.append(f"building_hours: {s} year {y} is placed for {_q(placed[(s, y)])} building hours, "
                           f"its units need {_q(needed)}")
    return out


def _check_buildings(ctx: _Ctx) -> list[str]:
    """Capacity, extended hours, open flags one-way, buildings that may not close, and the cost columns."""
    p, out = ctx.p, []
    rows, use = _building_rows(ctx), _use(ctx)
    if rows is None:
        return out
    used = defaultdict(float)
    for (s, b, y), h in (use or {}).items():
        used[(b, y)] += h
    for b in p["buildings"]:
        prev_open = 1.0  # open in the base year
        for y in ctx.years:
            if (b, y) not in rows:
                out.append(f"building_open: the buildings table has no row for {b} year {y}")
                continue
            v = rows[(b, y)]
            op, ext = _num(v["open"]), _num(v["extended_hours"])
            if min(abs(op), abs(op - 1)) > ctx.tol:
                out.append(f"building_open: {b} year {y} has open = {op:g}, not 0 or 1")
            if op - prev_open > ctx.tol:
                out.append(f"closure: {b} reopens in year {y} (open {op:g} after {prev_open:g})")
            if not p["can_close"][b] and op < 1 - ctx.tol:
                out.append(f"closure: {b} may not close but is closed in year {y}")
            prev_open = op
            if use is not None and ctx.off(_num(v["hours_used"]), used[(b, y)]):
                out.append(f"building_capacity: {b} year {y} reports hours_used {_q(_num(v['hours_used']))}, "
                           f"building_use sums to {_q(used[(b, y)])}")
            cap = p["b_hours_available"][b] * op + ext
            if use is not None and ctx.over(used[(b, y)], cap):
                out.append(f"building_capacity: {b} year {y} uses {_q(used[(b, y)])} hours > "
                           f"{_q(p['b_hours_available'][b])} x open {op:g} + extended {_q(ext)} = {_q(cap)}")
            if ctx.over(ext, p["b_extendable_hours"][b] * op):
                out.append(f"extended_hours: {b} year {y} extends {_q(ext)} hours > extendable "
                           f"{_q(p['b_extendable_hours'][b])} x open {op:g}")
            if ext < -ctx.tol:
                out.append(f"extended_hours: {b} year {y} has negative extended hours {_q(ext)}")
            closes = _closes(ctx, b, y)
            hours = used[(b, y)] if use is not None else _num(v["hours_used"])
            for col, expected in (("fixed_cost", p["b_fixed_cost"][b] * op),
                                  ("hours_cost", p["b_cost_per_hour"][b] * hours),
                                  ("extended_cost", p["b_extended_cost_per_hour"][b] * ext),
                                  ("closure_cost", p["b_closure_cost"][b] * closes),
                                  ("capital_receipt", p["b_capital_receipt"][b] * closes)):
                if ctx.money_off(_num(v[col]), expected):
                    out.append(f"building_cost: {b} year {y} reports {col} {_gbp(_num(v[col]))}, "
                               f"expected {_gbp(expected)}")
    for (b, y) in rows:
        if b not in p["building_type"]:
            out.append(f"building_open: the buildings table has a row for '{b}', which is not a building")
    return out


# ---------------------------------------------------------------------------------------
# 7. totals: spend, outcomes, summary
# ---------------------------------------------------------------------------------------
def _direct_by_year(ctx: _Ctx) -> dict:
    units = _units(ctx)
    idle = _idle(ctx)
    return {y: sum(ctx.p["price"][o] * (units[(*o, y)] + idle[(*o, y)]) for o in ctx.p["options"]) for y in ctx.years}


def _check_spend(ctx: _Ctx) -> list[str]:
    out = []
    sp = ctx.keyed("spend", ("year",), RESULT_COLUMNS["spend"][1:])
    costs, units = _costs(ctx), _units(ctx)
    if sp is None or costs is None or units is None:
        return out
    direct = _direct_by_year(ctx)
    for y in ctx.years:
        if (y,) not in sp:
            out.append(f"spend: the spend table has no row for year {y}")
            continue
        v = sp[(y,)]
        expected = {"direct": direct[y], "staff": costs["staff"][y], "buildings": costs["buildings"][y],
                    "setup": costs["setup"][y], "pooling": costs["pooling"][y]}
        expected["total"] = sum(expected.values())
        for col, e in expected.items():
            if ctx.money_off(_num(v[col]), e):
                out.append(f"spend: year {y} reports {col} {_gbp(_num(v[col]))}, recomputed {_gbp(e)}")
        if ctx.off(_num(v["discount_factor"]), ctx.df[y]):
            out.append(f"spend: year {y} discount_factor {_num(v['discount_factor']):.6g} != "
                       f"(1+r)^-y = {ctx.df[y]:.6g}")
    return out


def _total_spend(ctx: _Ctx) -> dict | None:
    costs = _costs(ctx)
    if costs is None or _units(ctx) is None:
        return None
    direct = _direct_by_year(ctx)
    return {y: direct[y] + sum(costs[k][y] for k in ("staff", "buildings", "setup", "pooling")) for y in ctx.years}


def _outcome_parts(ctx: _Ctx) -> tuple[dict, dict] | None:
    """Recomputed {year: gain}, {year: harm} from the plan's units and need."""
    p = ctx.p
    need, units = _need(ctx), _units(ctx)
    if need is None or units is None:
        return None
    gain = {y: sum(p["gain"][o] * units[(*o, y)] for o in p["options"]) for y in ctx.years}
    harm = {y: sum(p["harm"].get(kl, 0.0) * need.get((*kl, y), 0.0) for kl in p["needs"]) for y in ctx.years}
    return gain, harm


def _need_with_nobody_served(ctx: _Ctx) -> dict:
    """The need flow with units = 0 from year 1 (base-year history as observed)."""
    p, n0 = ctx.p, {}
    for y in ctx.years:
        for kl in p["needs"]:
            v = _arrivals(ctx, kl, y)
            for src, g, rate in p["inflows"].get(kl, ()):
                t = y - g
                v += rate * (p["base_source"].get(src, 0.0) if t <= 0 else n0.get((*src, t), 0.0))
            n0[(*kl, y)] = v
    return n0


def _outcome_none(ctx: _Ctx) -> float:
    n0 = _need_with_nobody_served(ctx)
    p = ctx.p
    return (-sum(ctx.df[y] * p["harm"].get(kl, 0.0) * n0[(*kl, y)] for kl in p["needs"] for y in ctx.years)
            - sum(_terminal_factor(ctx, kl) * n0[(*kl, ctx.H)] for kl in p["needs"]))


def _check_outcomes(ctx: _Ctx) -> list[str]:
    out = []
    ot = ctx.keyed("outcomes", ("year",), RESULT_COLUMNS["outcomes"][1:])
    parts = _outcome_parts(ctx)
    if ot is None or parts is None:
        return out
    gain, harm = parts
    for y in ctx.years:
        if (y,) not in ot:
            out.append(f"outcomes: the outcomes table has no row for year {y}")
            continue
        v = ot[(y,)]
        for col, e in (("gain", gain[y]), ("harm", harm[y]), ("value", gain[y] - harm[y]),
                       ("discount_factor", ctx.df[y])):
            if ctx.off(_num(v[col]), e):
                out.append(f"outcomes: year {y} reports {col} {_num(v[col]):,.6g}, recomputed {e:,.6g}")
    return out


def _check_summary(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    total = _total_spend(ctx)
    if total is not None:
        ds = sum(ctx.df[y] * total[y] for y in ctx.years)
        got = ctx.summary_value("discounted_spend")
        if got is not None and ctx.money_off(got, ds):
            out.append(f"discounted_spend: summary reports {_gbp(got)}, recomputed {_gbp(ds)}")
        mine_ds = ds
    else:
        mine_ds = None

    st = ctx.keyed("streams", ("stream", "year"), ("available", "spent", "reserves_drawn", "overspend"))
    if st is not None:
        over = sum(ctx.df[y] * _num(v["overspend"]) for (f, y), v in st.items())
        over_total = sum(_num(v["overspend"]) for v in st.values())
        got = ctx.summary_value("overspend")
        if got is not None and ctx.money_off(got, over):
            out.append(f"overspend: summary reports {_gbp(got)} discounted, the streams table gives {_gbp(over)}")
        got = ctx.summary_value("overspend_total", required=False)
        if got is not None and ctx.money_off(got, over_total):
            out.append(f"overspend: summary reports overspend_total {_gbp(got)}, the streams table gives "
                       f"{_gbp(over_total)}")

    parts, need = _outcome_parts(ctx), _need(ctx)
    if parts is None or need is None:
        return out
    gain, harm = parts
    terminal = sum(_terminal_factor(ctx, kl) * need.get((*kl, ctx.H), 0.0) for kl in p["needs"])
    value = sum(ctx.df[y] * (gain[y] - harm[y]) for y in ctx.years) - terminal
    none = _outcome_none(ctx)
    gain_total = value - none
    checks = [("outcome_value", value, True), ("outcome_none", none, True), ("outcome_gain", gain_total, True),
              ("terminal_harm", terminal, False)]
    for key, e, req in checks:
        got = ctx.summary_value(key, required=req)
        if got is not None and ctx.off(got, e):
            out.append(f"{key}: summary reports {got:,.6g}, recomputed {e:,.6g}")
    if gain_total < -ctx.tol * max(1.0, abs(none)):
        out.append(f"outcome_gain: the plan's outcome {value:,.6g} is below the outcome with nobody served "
                   f"{none:,.6g} (serving must never make need worse)")
    tc = ctx.df[ctx.H] * sum(p["future_cost"][kl] * need.get((*kl, ctx.H), 0.0) for kl in p["needs"])
    got = ctx.summary_value("terminal_cost", required=False)
    if got is not None and ctx.money_off(got, tc):
        out.append(f"terminal_cost: summary reports {_gbp(got)}, recomputed {_gbp(tc)}")
    got = ctx.summary_value("outcome_per_million", required=False)
    if got is not None and mine_ds is not None and mine_ds > ctx.money_tol:
        e = gain_total / mine_ds * 1e6
        if ctx.off(got, e):
            out.append(f"outcome_per_million: summary reports {got:,.6g}, recomputed {e:,.6g}")
    units = _units(ctx)
    if units is not None:
        unmet = sum(need.get((*kl, y), 0.0) - _served(ctx, kl, y) for kl in p["needs"] for y in ctx.years)
        got = ctx.summary_value("unmet_person_years", required=False)
        if got is not None and ctx.off(got, unmet):
            out.append(f"unmet_person_years: summary reports {_q(got)}, need - served over the years = {_q(unmet)}")
    wf = ctx.keyed("workforce", ("role", "year"), RESULT_COLUMNS["workforce"][2:])
    got = ctx.summary_value("fte_change", required=False)
    if got is not None and wf is not None:
        e = sum(_num(wf.get((rl, ctx.H), {}).get("fte", 0.0)) - p["fte_base"][rl] for rl in p["roles"])
        if ctx.off(got, e):
            out.append(f"fte_change: summary reports {_q(got)} FTE, the workforce table gives {_q(e)}")
    bd = _building_rows(ctx)
    got = ctx.summary_value("buildings_closed", required=False)
    if got is not None and bd is not None:
        e = sum(1 for b in p["buildings"] if _num(bd.get((b, ctx.H), {}).get("open", 1.0), 1.0) < 0.5)
        if ctx.off(got, e):
            out.append(f"buildings_closed: summary reports {got:g}, the buildings table has {e} closed in year {ctx.H}")
    adopted = _adopted(ctx)
    got = ctx.summary_value("mechanisms_switched", required=False)
    if got is not None and adopted is not None:
        e = sum(1 for o in p["options"] if adopted.get(o, False) and not p["current"][o])
        if ctx.off(got, e):
            out.append(f"mechanisms_switched: summary reports {got:g}, the options table adopts {e} new options")
    top = p["levels"][-1] if p["levels"] else None
    got = ctx.summary_value("crisis_need_final_year", required=False)
    if got is not None and top is not None:
        e = sum(need.get((k, l, ctx.H), 0.0) for k, l in p["needs"] if l == top)
        if ctx.off(got, e):
            out.append(f"crisis_need_final_year: summary reports {_q(got)}, need at '{top}' in year {ctx.H} is {_q(e)}")
    return out


CHECKS = (
    _check_need_flow, _check_need_accounting, _check_coverage,
    _check_service_bounds, _check_max_share, _check_lead_time, _check_adoption,
    _check_direct_spend, _check_service_funding, _check_ring_fence, _check_overheads_funding,
    _check_stream_limit, _check_reserves,
    _check_workforce,
    _check_building_hours, _check_buildings,
    _check_spend, _check_outcomes, _check_summary,
)


def verify(instance, plan, cut_by_year: dict[int, float] | float | None = None, tol: float = 1e-4,
           extra_money: dict | None = None) -> list[str]:
    """Every violation of the plan against the instance, one message each ([] = the plan checks out).

    `plan` is any object with `.tables` (dict of DataFrames, docs/results.md) and `.summary`
    (dict); `cut_by_year` the cut the plan was solved under ({year: share}, a number, or None).
    """
    tables = getattr(plan, "tables", None) or {}
    summary = getattr(plan, "summary", None) or {}
    ctx = _Ctx(inst=instance, tables=tables, summary=summary, cut={}, tol=float(tol), extra_money=dict(extra_money or {}))
    try:
        _read_instance(ctx)
    except Exception as e:  # an instance this check cannot read is itself a failure to verify
        return [f"verify: could not read the instance ({type(e).__name__}: {e})"]
    ctx.cut = normalise_cut(cut_by_year, ctx.years)
    messages: list[str] = []
    for check in CHECKS:
        try:
            messages.extend(check(ctx))
        except Exception as e:  # a check that crashes must not pass the plan silently
            messages.append(f"verify: {check.__name__.removeprefix('_check_')} could not run "
                            f"({type(e).__name__}: {e})")
    # table-shape problems, each once, first
    seen, shape = set(), []
    for m in ctx.problems:
        if m not in seen:
            seen.add(m)
            shape.append(m)
    return shape + messages
