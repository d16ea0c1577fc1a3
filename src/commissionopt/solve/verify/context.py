"""The independent check's context: the instance's parameters read again from its own tables,
and the plan's tables as keyed dicts, shared by the check modules.

Nothing here imports Pyomo or `commissionopt.model`, on purpose: a bug in the model's data
preparation (a wrong coefficient, a dropped transition, a mis-scaled cost) must not be hidden
by reusing it. Every rule the model follows (the evaluation years, transition channels, pace
defaults, duties, who may pay staff, which streams can show overspend) is re-derived here
from docs/formulation.md.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

TERMINAL_YEARS = 10  # years of harm counted after the last modelled year (docs/results.md)
OVERHEADS = "overheads"  # the funding table's service name for buildings, setup, pooling
STAFF = "staff"  # the funding table's service name for a role's staff costs (its role column says which)

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
    draw_cap: dict | None = None  # {(stream, year): £} most reserves the plan may draw (None: no cap)
    years: list = field(default_factory=list)
    H: int = 0  # the last decision year
    E: int = 0  # the last modelled year (years H+1..E are evaluation years)
    r: float = 0.0
    df: dict = field(default_factory=dict)  # money discount factor by year
    dq: dict = field(default_factory=dict)  # outcome discount factor by year
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
                    self.problems.append(f"tables: '{name}' row {k} has a year outside 1..{self.E}")
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



def _given(v) -> float | None:
    """A number cell, or None when empty (an optional limit left out)."""
    if v is None or v is pd.NA or (isinstance(v, str) and not v.strip()):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _read_instance(ctx: _Ctx) -> None:
    """Every instance parameter the checks use, read from the instance's own tables."""
    inst, p = ctx.inst, ctx.p
    meta = getattr(inst, "meta", {}) or {}
    ctx.H = int(inst.horizon)
    tr = _instance_table(inst, "transitions")
    given_end = meta.get("evaluation_years")
    longest = int(max([_num(g) for g in _col(tr, "lag_years", 0)] or [0]))
    ctx.E = max(ctx.H, int(given_end)) if isinstance(given_end, int) and not isinstance(given_end, bool) \
        else max(ctx.H + longest, 2 * ctx.H)
    ctx.years = list(range(1, ctx.E + 1))
    ctx.r = float(inst.discount_rate)
    r_out = meta.get("outcome_discount_rate")
    r_out = ctx.r if r_out is None else float(r_out)
    ctx.df = {y: (1 + ctx.r) ** -y for y in ctx.years}
    ctx.dq = {y: (1 + r_out) ** -y for y in ctx.years}
    p["r_out"] = r_out
    p["levels"] = list(inst.levels)

    nd = _instance_table(inst, "needs")
    p["needs"] = list(zip(nd["cohort"], nd["level"]))
    for col, default in (("population_base", 0.0), ("arrivals_per_year", 0.0), ("arrivals_growth", 0.0),
                         ("statutory_coverage", 0.0), ("future_cost", 0.0)):
        p[col] = {kl: _num(v, default) for kl, v in zip(p["needs"], _col(nd, col, default))}

    # transitions: (source, lag, rate, channel) into each need; channel as given, else
    # persistence when the cohort and level stay the same, escalation otherwise
    p["inflows"] = defaultdict(list)
    p["persistence"] = defaultdict(float)
    for fk, fl, tk, tl, g, rate, ch in zip(tr["from_cohort"], tr["from_level"], tr["to_cohort"], tr["to_level"],
                                           tr["lag_years"], tr["rate"], _col(tr, "channel", "")):
        ch = str(ch or "").strip() or ("persistence" if (fk, fl) == (tk, tl) else "escalation")
        p["inflows"][(tk, tl)].append(((fk, fl), int(g), float(rate), ch))
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
    for col, default in (("people_per_unit", 1.0), ("base_units", 0.0), ("min_units", 0.0), ("max_units", math.inf),
                         ("ramp_units", 0.0), ("marginal_effect", 0.5)):
        p[col] = {s: _num(v, default) for s, v in zip(sv["service"], _col(sv, col, default))}
    p["tags"] = {s: _names(t) for s, t in zip(sv["service"], _col(sv, "tags", ""))}
    p["building_types"] = {s: _names(t) for s, t in zip(sv["service"], _col(sv, "building_types", ""))}
    pace = meta.get("pace") or {}
    p["max_growth"] = {s: (_given(v) if _given(v) is not None else _given(pace.get("max_growth")))
                       for s, v in zip(sv["service"], _col(sv, "max_growth", None))}
    p["max_decline"] = {s: (_given(v) if _given(v) is not None else _given(pace.get("max_decline")))
                        for s, v in zip(sv["service"], _col(sv, "max_decline", None))}
    p["full_effect_units"] = {}
    for s, f in zip(sv["service"], _col(sv, "full_effect_units", None)):
        f = _given(f)
        p["full_effect_units"][s] = f if f is not None else (p["base_units"][s] if p["base_units"][s] > 0 else None)

    mc = _instance_table(inst, "mechanisms")
    p["transaction_rate"] = {m: _num(v) for m, v in zip(mc["mechanism"], mc["transaction_rate"])}
    p["lead_years"] = {m: int(_num(v)) for m, v in zip(mc["mechanism"], mc["lead_years"])}

    op = _instance_table(inst, "options")
    p["options"] = list(zip(op["service"], op["mechanism"]))
    p["options_of"] = defaultdict(list)
    for o in p["options"]:
        p["options_of"][o[0]].append(o)
    p["current"] = {o: _flag(v) for o, v in zip(p["options"], _col(op, "current", False))}
    p["current_of"] = {o[0]: o for o in p["options"] if p["current"][o]}
    for col, default in (("unit_cost", 0.0), ("quality", 1.0), ("effect_escalation", 0.0), ("effect_resolution", 0.0),
                         ("effect_fade", 0.0), ("failure_demand", 0.0), ("setup_cost", 0.0), ("max_share", 1.0),
                         ("real_cost_growth", 0.0)):
        p[col] = {o: _num(v, default) for o, v in zip(p["options"], _col(op, col, default))}
    p["exit_rate"] = {o: _given(v) for o, v in zip(p["options"], _col(op, "exit_rate", None))
                      if p["current"][o] and _given(v) is not None}
    p["effect"] = {"escalation": p["effect_escalation"], "persistence": p["effect_resolution"],
                   "none": {o: 0.0 for o in p["options"]}}
    # people served per unit, unit price by year and weighted gain per unit of each option
    p["spu"] = {o: p["people_per_unit"].get(o[0], 1.0) * (1 - p["failure_demand"][o]) for o in p["options"]}
    base_price = {o: (1 + p["transaction_rate"].get(o[1], 0.0)) * p["unit_cost"][o] for o in p["options"]}
    p["price"] = {(*o, y): base_price[o] * (1 + p["real_cost_growth"][o]) ** y for o in p["options"] for y in ctx.years}
    p["gain"] = {o: p["gain_value"].get(o[0], 0.0) * p["quality"][o] * (1 - p["failure_demand"][o])
                 for o in p["options"]}
    p["tranched"] = {o for o in p["options"]
                     if (p["effect_escalation"][o] > 0 or p["effect_resolution"][o] > 0)
                     and p["full_effect_units"].get(o[0]) is not None and p["marginal_effect"][o[0]] < 1}

    # duties: duties.csv with duty_services.csv; without it, each need's statutory_coverage is a
    # duty any service aimed at that need meets
    p["duties"] = {}
    du, ds = _instance_table(inst, "duties"), _instance_table(inst, "duty_services")
    if len(du):
        for duty, k, l, c in zip(du["duty"], du["cohort"], du["level"], du["coverage"]):
            rows = ds[ds["duty"] == duty] if len(ds) else ds
            p["duties"][duty] = {"need": (k, l), "coverage": _num(c), "services": {
                s: (_num(a, 1.0), _num(lo, 0.0), _num(hi, 1.0)) for s, a, lo, hi in zip(
                    rows["service"], _col(rows, "counts_as", 1.0), _col(rows, "min_share", 0.0), _col(rows, "max_share", 1.0))}}
    else:
        for kl in p["needs"]:
            if p["statutory_coverage"][kl] > 0:
                p["duties"][f"{kl[0]}/{kl[1]}"] = {"need": kl, "coverage": p["statutory_coverage"][kl], "services": {
                    s: (1.0, 0.0, 1.0) for s in p["services_of_need"].get(kl, [])}}

    # the base year before year 1: people in need minus those the current options kept off each
    # kind of move (at full effect up to full_effect_units)
    p["base_source"] = {}
    for kl in p["needs"]:
        for src_rows in p["inflows"].values():
            for src, g, _, ch in src_rows:
                if src != kl or (kl, ch, g) in p["base_source"]:
                    continue
                prevented = 0.0
                for s in p["services_of_need"].get(kl, ()):
                    o = p["current_of"].get(s)
                    if o is None:
                        continue
                    units = p["base_units"][s]
                    beyond = max(0.0, units - p["full_effect_units"][s]) if o in p["tranched"] else 0.0
                    prevented += _effect(p, o, ch, g) * p["spu"][o] * (units - (1 - p["marginal_effect"][s]) * beyond)
                p["base_source"][(kl, ch, g)] = p["population_base"][kl] - prevented

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
    p["closure_lead"] = {b: int(_num(v)) for b, v in zip(p["buildings"], _col(bd, "closure_lead_years", 0))}
    for col in ("hours_available", "fixed_cost", "cost_per_hour", "closure_cost", "capital_receipt",
                "extendable_hours", "extended_cost_per_hour"):
        p["b_" + col] = {b: _num(v) for b, v in zip(p["buildings"], _col(bd, col, 0.0))}

    fd = _instance_table(inst, "funding")
    p["streams"] = list(fd["stream"])
    p["base_amount"] = {f: _num(v) for f, v in zip(p["streams"], fd["base_amount"])}
    growth = {f: _num(v) for f, v in zip(p["streams"], _col(fd, "growth", 0.0))}
    p["amount"] = {(f, y): p["base_amount"][f] * (1 + growth[f]) ** y for f in p["streams"] for y in ctx.years}
    p["subject_to_cut"] = {f: _flag(v) for f, v in zip(p["streams"], _col(fd, "subject_to_cut", True))}
    p["scope"] = {f: _names(v) for f, v in zip(p["streams"], _col(fd, "scope", ""))}
    p["pays_overheads"] = {f: _flag(v) for f, v in zip(p["streams"], _col(fd, "overheads", False))}
    p["poolable"] = {f: _flag(v) for f, v in zip(p["streams"], _col(fd, "poolable", False))}
    p["pooled_scope"] = {f: _names(v) for f, v in zip(p["streams"], _col(fd, "pooled_scope", ""))}
    p["pooling_cost"] = {f: _num(v) for f, v in zip(p["streams"], _col(fd, "pooling_cost", 0.0))}
    p["reserves"] = dict(inst.reserves)
    _payers(p)
    ctx.money_tol = max(1.0, ctx.tol / 100.0 * sum(p["base_amount"].values()))


def _effect(p: dict, o, channel: str, lag: int) -> float:
    """An option's effect on a move of this channel and lag: effect x (1 - effect_fade)^(lag - 1)."""
    return p["effect"].get(channel, p["effect"]["none"])[o] * (1 - p["effect_fade"][o]) ** (lag - 1)


def _payers(p: dict) -> None:
    """Who may pay what (docs/formulation.md, Money): services by scope or pooled scope; a role's
    staff by a stream that pays overheads or whose scope covers a service the role works for;
    overspend on the streams subject to the cut, and on a service's own payers where none of them
    is (with no stream subject to the cut at all: the overheads streams, else every stream)."""
    pays = {f: {s for s in p["services"] if _matches(p["scope"][f], s, p["tags"][s])} for f in p["streams"]}
    pooled = {f: {s for s in p["services"] if p["poolable"][f] and s not in pays[f]
                  and _matches(p["pooled_scope"][f], s, p["tags"][s])} for f in p["streams"]}
    p["pays"], p["pays_pooled"] = pays, pooled
    works_for = defaultdict(set)
    for rl, hours in p["staff_hours"].items():
        for o in hours:
            works_for[rl].add(o[0])
    p["staff_payers"] = {rl: {f for f in p["streams"] if p["pays_overheads"][f] or works_for[rl] & pays[f]}
                         for rl in p["roles"]}
    over = {f for f in p["streams"] if p["subject_to_cut"][f]}
    if not over:
        over = {f for f in p["streams"] if p["pays_overheads"][f]} or set(p["streams"])
    for s in p["services"]:
        payers = {f for f in p["streams"] if s in pays[f] or s in pooled[f]}
        if not payers & over:
            over |= payers
    p["overspend_streams"] = over


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


def _column_of_units(ctx: _Ctx, column: str) -> dict:
    """{(s, m, y): value} of an optional column of the units table (absent: 0 everywhere)."""
    key = ("units column", column)
    if key not in ctx._cache:
        df = ctx.table("units")
        out = defaultdict(float)
        if df is not None and column in df.columns:
            for a, b, c, i in zip(df["service"], df["mechanism"], df["year"], df[column]):
                out[(str(a), str(b), int(_num(c)))] = _num(i)
        ctx._cache[key] = out
    return ctx._cache[key]


def _idle(ctx: _Ctx) -> dict:
    """{(s, m, y): idle units}: capacity paid for that serves nobody (optional column)."""
    return _column_of_units(ctx, "idle_units")


def _beyond(ctx: _Ctx) -> dict:
    """{(s, m, y): units past the service's full_effect_units} (optional column)."""
    return _column_of_units(ctx, "units_beyond_full_effect")


def _people(ctx: _Ctx, o, y) -> float:
    return ctx.p["spu"][o] * _units(ctx)[(*o, y)]


def _served(ctx: _Ctx, kl, y) -> float:
    return sum(_people(ctx, o, y) for s in ctx.p["services_of_need"].get(kl, ()) for o in ctx.p["options_of"][s])


def _service_served(ctx: _Ctx, s, y) -> float:
    return sum(_people(ctx, o, y) for o in ctx.p["options_of"].get(s, ()))


def _prevented(ctx: _Ctx, kl, y, channel: str, lag: int) -> float:
    """People the services aimed at kl kept in year y off moves of this channel and lag."""
    p, beyond = ctx.p, _beyond(ctx)
    total = 0.0
    for s in p["services_of_need"].get(kl, ()):
        for o in p["options_of"][s]:
            e = _effect(p, o, channel, lag)
            if e:
                full = _units(ctx)[(*o, y)] - (1 - p["marginal_effect"][s]) * beyond[(*o, y)]
                total += e * p["spu"][o] * full
    return total


def _need(ctx: _Ctx) -> dict | None:
    """{(k, l, y): need} from the plan's need table."""
    rows = ctx.keyed("need", ("cohort", "level", "year"), ("need", "served", "unmet"))
    if rows is None:
        return None
    return {k: _num(v["need"]) for k, v in rows.items()}


def _arrivals(ctx: _Ctx, kl, y) -> float:
    return ctx.p["arrivals_per_year"][kl] * (1 + ctx.p["arrivals_growth"][kl]) ** y


def _terminal_factor(ctx: _Ctx, kl) -> float:
    """Terminal harm per person in need at E: harm x (1+r_out)^-E x sum_t ((1+r_out)^-1 p)^t."""
    q = 1.0 / (1.0 + ctx.p["r_out"])
    pers = ctx.p["persistence"].get(kl, 0.0)
    return ctx.p["harm"].get(kl, 0.0) * ctx.dq[ctx.E] * sum((q * pers) ** t for t in range(1, TERMINAL_YEARS + 1))


def _open_year(ctx: _Ctx, y: int) -> int:
    """The decision year whose closures hold in year y (after the horizon: the horizon's)."""
    return min(y, ctx.H)


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
        out["role"] = defaultdict(float)  # {(role, year): staff + agency + redundancy}
        for (rl, y), v in wf.items():
            if rl in p["cost_per_fte"]:
                cost = (p["cost_per_fte"][rl] * _num(v["fte"]) + p["agency_cost_per_hour"][rl] * _num(v["agency_hours"])
                        + p["redundancy_cost"][rl] * _num(v["releases"]))
                out["role"][(rl, y)] = cost
                out["staff"][y] += cost
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
