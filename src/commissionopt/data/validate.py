"""Reference and meaning checks of a loaded instance: every problem in one pass.

Each check is a small function that reports through a Reporter: errors, or
warnings for values that are legal but suspicious (warnings run only once the
checks find no error). A check's docstring's first line is what
docs/instance-format.md lists. Problems name the file, the row as the analyst sees
it (CSV line or Excel row), the column, the value and what was expected.
"""
from __future__ import annotations

import difflib
import math
import re
import statistics

import pandas as pd

from ..errors import Problem
from .instance import Instance, split_list
from .load import row_numbers
from .meta import META_FILE
from .plausible import check_plausible
from .validate_duties import check_duty_services, warn_duty_met, warn_duty_shape
from .validate_pace import check_channels, check_option_shares, warn_pace
from .validate_ranges import check_ranges
from .schema import LIST, META_KEYS, PACE_KEYS, RESERVE_KEYS, TABLES, TEXT

OPTIONAL_META = {"description", "sources", "evaluation_years", "outcome_discount_rate", "pace"}
META_RANGES = {"horizon_years": (1, 30), "discount_rate": (0.0, 0.15), "outcome_discount_rate": (0.0, 0.15),
               "evaluation_years": (1, 80)}
TOLERANCE = 1e-9
OUTLIER_FACTOR = 10.0


# --- where things are --------------------------------------------------------

def table_file(inst: Instance, table: str) -> str:
    """The file (or workbook sheet) a table came from."""
    source = inst.source
    if source is not None and source.suffix.lower() == ".xlsx":
        from .workbook import sheet_file
        return sheet_file(source, table)
    return TABLES[table].file


def meta_file(inst: Instance) -> str:
    source = inst.source
    if source is not None and source.suffix.lower() == ".xlsx":
        from .workbook import META_SHEET, sheet_file
        return sheet_file(source, META_SHEET)
    return META_FILE


def in_source(inst: Instance, text: str) -> str:
    """A message's file names as the analyst has them: in a workbook, 'sheet services' for services.csv."""
    source = inst.source
    if source is None or source.suffix.lower() != ".xlsx":
        return text
    text = re.sub(r"\b([a-z_]+)\.csv\b", lambda m: f"sheet {m[1]}" if m[1] in TABLES else m[0], text)
    return text.replace(META_FILE, "sheet instance")


class Reporter:
    """Collects problems about one instance, naming rows as the analyst sees them."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.problems: list[Problem] = []

    def row(self, table: str, i: int, column: str | None, value, expected: str, severity: str = "error") -> None:
        df = self.inst.tables[table]
        position = df.index.get_loc(i)
        self.problems.append(Problem(table_file(self.inst, table), row_numbers(df)(position), column,
                                     _shown(value), in_source(self.inst, expected), severity))

    def meta(self, key: str, value, expected: str) -> None:
        self.problems.append(Problem(meta_file(self.inst), key, None, _shown(value), in_source(self.inst, expected)))

    def whole(self, table: str, column: str | None, value, expected: str, severity: str = "error") -> None:
        self.problems.append(Problem(table_file(self.inst, table), None, column, _shown(value),
                                     in_source(self.inst, expected), severity))


def _shown(value):
    """Plain Python values in messages (not numpy scalars)."""
    return value.item() if hasattr(value, "item") else value


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def _nearest(value: str, choices) -> str:
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _levels(inst: Instance) -> list[str] | None:
    levels = inst.meta.get("levels")
    return levels if isinstance(levels, list) and all(isinstance(x, str) for x in levels) else None


# --- instance.yaml -------------------------------------------------------------

def _kind_ok(value, kind: str) -> bool:
    if kind == "text":
        return isinstance(value, str) and value.strip() != ""
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, dict)


KIND_WORDS = {"text": "text", "integer": "a whole number", "number": "a number", "bool": "true or false",
              "list": "a list of names", "mapping": "a mapping of keys"}


def check_meta(inst: Instance, r: Reporter) -> None:
    """instance.yaml: required keys present, no unknown keys, each value of its kind; horizon_years 1-30; discount_rate 0-0.15; at least two unique levels; reserves minimum <= opening."""
    meta = inst.meta
    for key in meta:
        if key not in META_KEYS:
            r.meta(key, key, f"a known key (allowed: {', '.join(META_KEYS)}){_nearest(key, META_KEYS)}")
    for key, (kind, doc) in META_KEYS.items():
        if key not in meta:
            if key not in OPTIONAL_META:
                r.meta(key, None, f"required key '{key}' is missing: {doc}")
        elif not _kind_ok(meta[key], kind):
            r.meta(key, meta[key], f"{KIND_WORDS[kind]}: {doc}")
        elif key in META_RANGES and not META_RANGES[key][0] <= meta[key] <= META_RANGES[key][1]:
            low, high = META_RANGES[key]
            r.meta(key, meta[key], f"between {low:g} and {high:g}: {doc}")
    if _kind_ok(meta.get("levels"), "list"):
        levels = meta["levels"]
        if len(levels) < 2 or len(set(levels)) != len(levels) or not all(isinstance(x, str) and x for x in levels):
            r.meta("levels", ";".join(map(str, levels)), "at least two need levels, each named once, lowest first")
    if _kind_ok(meta.get("reserves"), "mapping"):
        _check_reserves(meta["reserves"], r)
    if _kind_ok(meta.get("pace"), "mapping"):
        _check_pace(meta["pace"], r)
    horizon, last = meta.get("horizon_years"), meta.get("evaluation_years")
    if _kind_ok(horizon, "integer") and _kind_ok(last, "integer") and last < horizon:
        r.meta("evaluation_years", last, f"at least horizon_years ({horizon}): the last year modelled, "
                                         f"decision years included")


def _check_pace(pace: dict, r: Reporter) -> None:
    for key, value in pace.items():
        if key not in PACE_KEYS:
            r.meta(f"pace.{key}", key, f"a known pace key (allowed: {', '.join(PACE_KEYS)}){_nearest(key, PACE_KEYS)}")
        elif not _kind_ok(value, "number"):
            r.meta(f"pace.{key}", value, "a number (a share a year)")
        elif not 0 <= value <= (10.0 if key == "max_growth" else 1.0):
            r.meta(f"pace.{key}", value, "a share a year from 0 to " + ("10" if key == "max_growth" else "1"))


def _check_reserves(reserves: dict, r: Reporter) -> None:
    for key in reserves:
        if key not in RESERVE_KEYS:
            r.meta(f"reserves.{key}", key, f"a known reserves key (allowed: {', '.join(RESERVE_KEYS)})")
    for key, kind in RESERVE_KEYS.items():
        value = reserves.get(key)
        if key not in reserves:
            r.meta(f"reserves.{key}", None, f"required reserves key '{key}' is missing ({KIND_WORDS[kind]})")
        elif not _kind_ok(value, kind):
            r.meta(f"reserves.{key}", value, KIND_WORDS[kind])
        elif kind == "number" and value < 0:
            r.meta(f"reserves.{key}", value, "at least 0 (£)")
    opening, minimum = reserves.get("opening"), reserves.get("minimum")
    if _kind_ok(opening, "number") and _kind_ok(minimum, "number") and minimum > opening:
        r.meta("reserves.minimum", minimum, f"at most the opening reserves ({_money(opening)})")


# --- presence -------------------------------------------------------------------

def check_filled(inst: Instance, r: Reporter) -> None:
    """Required tables have rows; required name and list cells are not empty."""
    for name, spec in TABLES.items():
        df = inst.tables[name]
        if df.empty and not spec.optional:
            r.whole(name, None, None, f"at least one row: {spec.doc}")
        for col in spec.columns:
            if col.required and col.kind in (TEXT, LIST):
                for i in df.index[df[col.name].astype(str).str.strip() == ""]:
                    r.row(name, i, col.name, "", f"a value ({col.doc}); the cell is empty")


# --- references -------------------------------------------------------------------

def check_references(inst: Instance, r: Reporter) -> None:
    """Every column that names another table's key (cohort, service, mechanism, role, domain) names one that exists."""
    for name, spec in TABLES.items():
        df = inst.tables[name]
        for col in spec.columns:
            if col.ref is None:
                continue
            ref_table, ref_col = col.ref
            keys = set(inst.tables[ref_table][ref_col])
            named = df[col.name].astype(str)
            for i in df.index[(named != "") & ~named.isin(keys)]:
                r.row(name, i, col.name, df.at[i, col.name],
                      f"a {ref_col} listed in {TABLES[ref_table].file}{_nearest(df.at[i, col.name], keys)}")


def level_columns(spec) -> list[str]:
    return [c.name for c in spec.columns if c.name == "level" or c.name.endswith("_level")]


def check_levels(inst: Instance, r: Reporter) -> None:
    """Every need level (needs, harms, services, transitions) is one of instance.yaml's levels."""
    levels = _levels(inst)
    if levels is None:
        return
    for name, spec in TABLES.items():
        df = inst.tables[name]
        for col in level_columns(spec):
            named = df[col].astype(str)
            for i in df.index[(named != "") & ~named.isin(levels)]:
                r.row(name, i, col, df.at[i, col],
                      f"one of the levels in instance.yaml ({', '.join(levels)}){_nearest(df.at[i, col], levels)}")


def _pairs(df: pd.DataFrame, a: str, b: str) -> pd.Series:
    return pd.Series(list(zip(df[a], df[b])), index=df.index, dtype=object)


def check_need_pairs(inst: Instance, r: Reporter) -> None:
    """Each (cohort, level) that services, harms and transitions name is a row of needs."""
    needs = set(zip(inst["needs"]["cohort"], inst["needs"]["level"]))
    cohorts, levels = set(inst["cohorts"]["cohort"]), set(_levels(inst) or [])
    for table, cohort, level in [("services", "cohort", "level"), ("harms", "cohort", "level"), ("duties", "cohort", "level"),
                                 ("transitions", "from_cohort", "from_level"), ("transitions", "to_cohort", "to_level")]:
        df = inst[table]
        named = df[cohort].isin(cohorts) & df[level].isin(levels)  # else already reported
        for i in df.index[named & ~_pairs(df, cohort, level).isin(needs)]:
            r.row(table, i, level, f"{df.at[i, cohort]}/{df.at[i, level]}",
                  f"a (cohort, level) listed in {TABLES['needs'].file}")


def check_option_links(inst: Instance, r: Reporter) -> None:
    """option_staff and option_buildings rows name an existing option (service, mechanism); building hours only for services that use buildings."""
    options = set(zip(inst["options"]["service"], inst["options"]["mechanism"]))
    for table in ("option_staff", "option_buildings"):
        df = inst[table]
        for i in df.index[~_pairs(df, "service", "mechanism").isin(options)]:
            r.row(table, i, "mechanism", f"{df.at[i, 'service']}/{df.at[i, 'mechanism']}",
                  f"a (service, mechanism) listed in {TABLES['options'].file}")
    services = inst["services"]
    housed = set(services["service"][services["building_types"].map(split_list).map(bool)])
    df = inst["option_buildings"]
    for i in df.index[~df["service"].isin(housed) & df["service"].isin(set(services["service"]))]:
        r.row("option_buildings", i, "service", df.at[i, "service"],
              "a service with building_types in services.csv (this one uses no building)")


def check_building_types(inst: Instance, r: Reporter) -> None:
    """Each building type a service names exists in buildings ('*' needs at least one building)."""
    types = set(inst["buildings"]["type"])
    services = inst["services"]
    for i, listed in services["building_types"].items():
        for item in split_list(listed):
            if item == "*" and not types:
                r.row("services", i, "building_types", item, "at least one building in buildings.csv")
            elif item != "*" and item not in types:
                r.row("services", i, "building_types", item,
                      f"a type of a building in buildings.csv ({', '.join(sorted(types)) or 'none'}){_nearest(item, types)}")


def check_funding_scopes(inst: Instance, r: Reporter) -> None:
    """Each item of a funding stream's scope and pooled_scope matches a service tag or name ('*' = any)."""
    services = inst["services"]
    names = set(services["service"]) | {t for tags in services["tags"] for t in split_list(tags)}
    funding = inst["funding"]
    for column in ("scope", "pooled_scope"):
        for i, listed in funding[column].items():
            for item in split_list(listed):
                if item != "*" and item not in names:
                    r.row("funding", i, column, item, f"a service tag or service name in services.csv{_nearest(item, names)}")


def _covers(listed: str, service: str, tags: list[str]) -> bool:
    items = split_list(listed)
    return "*" in items or service in items or any(t in items for t in tags)


def check_services_payable(inst: Instance, r: Reporter) -> None:
    """Each service can be paid by at least one funding stream (its scope, or pooled scope once pooled)."""
    funding = inst["funding"]
    for i, service, tags in zip(inst["services"].index, inst["services"]["service"], inst["services"]["tags"]):
        tags = split_list(tags)
        if not any(_covers(scope, service, tags) or (poolable and _covers(pooled, service, tags))
                   for scope, pooled, poolable in zip(funding["scope"], funding["pooled_scope"], funding["poolable"])):
            r.row("services", i, "tags", ";".join(tags) or "(no tags)",
                  f"a tag (or the name '{service}') that some funding stream's scope covers: no stream may pay this service")


def check_overheads_payable(inst: Instance, r: Reporter) -> None:
    """A stream with overheads = true exists when there are staff, buildings, setup or pooling costs to pay."""
    if inst["funding"]["overheads"].any():
        return
    costs = [name for name, present in (
        ("workforce", not inst["workforce"].empty), ("buildings", not inst["buildings"].empty),
        ("setup costs", (inst["options"]["setup_cost"] > 0).any()),
        ("pooling costs", (inst["funding"]["pooling_cost"] > 0).any())) if present]
    if costs:
        r.whole("funding", "overheads", "false everywhere",
                f"at least one stream with overheads = true to pay {', '.join(costs)}")


def check_statutory_served(inst: Instance, r: Reporter) -> None:
    """A need with statutory_coverage above 0 has at least one service aimed at it."""
    served = set(zip(inst["services"]["cohort"], inst["services"]["level"]))
    n = inst["needs"]
    for i, cohort, level, cover in zip(n.index, n["cohort"], n["level"], n["statutory_coverage"]):
        if cover > 0 and (cohort, level) not in served:
            r.row("needs", i, "statutory_coverage", cover,
                  f"0, or a service in {TABLES['services'].file} aimed at {cohort}/{level}: no service can meet the duty")


# --- meaning -------------------------------------------------------------------------

def check_current_options(inst: Instance, r: Reporter) -> None:
    """Each service has exactly one current option."""
    options = inst["options"]
    current = options[options["current"]].groupby("service").size()
    for i, service in inst["services"]["service"].items():
        count = int(current.get(service, 0))
        if count != 1:
            r.row("services", i, "service", service,
                  f"exactly one option with current = true in {TABLES['options'].file} (found {count})")


def check_orders(inst: Instance, r: Reporter) -> None:
    """min_units <= base_units <= max_units; age_from <= age_to."""
    s = inst["services"]
    for i in s.index[s["min_units"] > s["base_units"]]:
        r.row("services", i, "base_units", s.at[i, "base_units"], f"at least min_units ({s.at[i, 'min_units']:g})")
    for i in s.index[s["base_units"] > s["max_units"]]:
        r.row("services", i, "base_units", s.at[i, "base_units"], f"at most max_units ({s.at[i, 'max_units']:g})")
    c = inst["cohorts"]
    for i in c.index[c["age_from"] > c["age_to"]]:
        r.row("cohorts", i, "age_from", c.at[i, "age_from"], f"at most age_to ({c.at[i, 'age_to']:g})")


def check_transition_sums(inst: Instance, r: Reporter) -> None:
    """The rates leaving one (cohort, level) with the same lag add up to at most 1."""
    t = inst["transitions"]
    if t.empty:
        return
    rows = row_numbers(t)
    position = pd.Series(range(len(t)), index=t.index)
    for (cohort, level, lag), group in t.groupby(["from_cohort", "from_level", "lag_years"]):
        total = group["rate"].sum()
        if total > 1 + TOLERANCE:
            listed = ", ".join(str(rows(position[i])) for i in group.index)
            r.row("transitions", group.index[0], "rate", round(float(total), 9),
                  f"rates leaving {cohort}/{level} after {lag} year(s) adding up to at most 1 (rows {listed} add up to {total:g})")


# --- warnings: legal but suspicious ------------------------------------------------

def warn_unit_costs(inst: Instance, r: Reporter) -> None:
    """Warning: an option's unit cost is more than 10x, or less than a tenth of, the median of the service's other options."""
    options = inst["options"]
    for _, group in options.groupby("service"):
        costs = group["unit_cost"].tolist()
        for pos, i in enumerate(group.index):
            others = costs[:pos] + costs[pos + 1:]
            median = statistics.median(others) if others else float("nan")
            cost = costs[pos]
            if median > 0 and (cost > OUTLIER_FACTOR * median or cost < median / OUTLIER_FACTOR):
                r.row("options", i, "unit_cost", cost,
                      f"a unit cost within 10x of the median of the service's other options ({_money(median)}); check the unit",
                      severity="warning")


def warn_spend_over_funding(inst: Instance, r: Reporter) -> None:
    """Warning: the base-year spend estimate exceeds the funding available."""
    from .summary import base_year_spend
    spend = base_year_spend(inst)
    funding = float(inst["funding"]["base_amount"].sum())
    if spend["total"] > funding + TOLERANCE:
        r.whole("funding", "base_amount", round(funding, 2),
                f"funding at least the base-year spend estimate {_money(spend['total'])} "
                f"(services {_money(spend['services'])}, transaction costs {_money(spend['transaction'])}, "
                f"staff {_money(spend['staff'])}, council buildings {_money(spend['buildings'])})", severity="warning")


def _weighted(inst: Instance, table: str, value: str, keys: list[str]) -> pd.Series:
    """sum over domains of weight x value, by `keys`."""
    df = inst[table].merge(inst["outcomes"][["domain", "weight"]], on="domain", how="inner")
    return (df[value] * df["weight"]).groupby([df[k] for k in keys]).sum()


def warn_gain_above_harm(inst: Instance, r: Reporter) -> None:
    """Warning: a service's weighted gain per person served exceeds the weighted harm of its own (cohort, level), so more need there would look like a good thing."""
    s = inst["services"]
    gain = _weighted(inst, "gains", "gain_per_unit", ["service"])
    harm = _weighted(inst, "harms", "harm_per_person_year", ["cohort", "level"])
    quality = inst["options"].groupby("service")["quality"].max()
    for i in s.index:
        service, cohort, level = s.at[i, "service"], s.at[i, "cohort"], s.at[i, "level"]
        per_person = gain.get(service, 0.0) * quality.get(service, 1.0) / s.at[i, "people_per_unit"]
        h = harm.get((cohort, level), 0.0)
        if per_person > h + TOLERANCE:
            r.row("services", i, "service", service,
                  f"a weighted gain per person served ({per_person:.4g}, at the best option's quality) no larger than "
                  f"the weighted harm of {cohort}/{level} ({h:.4g}); otherwise more need there looks like a good thing",
                  severity="warning")


def base_served_by_service(inst: Instance) -> pd.Series:
    """People each service serves in the base year: base_units x people_per_unit x (1 - failure_demand) of the current option."""
    s = inst["services"]
    o = inst["options"]
    fd = o[o["current"]].drop_duplicates("service").set_index("service")["failure_demand"]
    people = s["base_units"] * s["people_per_unit"] * (1 - s["service"].map(fd).fillna(0.0))
    return pd.Series(people.to_numpy(), index=s["service"].to_numpy())


def base_served(inst: Instance) -> pd.Series:
    """People served in the base year by (cohort, level)."""
    s = inst["services"]
    people = base_served_by_service(inst).to_numpy()
    return pd.Series(people, index=s.index).groupby([s["cohort"], s["level"]]).sum()


def warn_served(inst: Instance, r: Reporter) -> None:
    """Warning: base-year people served exceed the people in need; a statutory need is served below its coverage."""
    served = base_served(inst)
    n = inst["needs"]
    for i in n.index:
        key = (n.at[i, "cohort"], n.at[i, "level"])
        people, pop, cover = float(served.get(key, 0.0)), n.at[i, "population_base"], n.at[i, "statutory_coverage"]
        if people > pop + TOLERANCE:
            r.row("needs", i, "population_base", pop,
                  f"at least the people its services serve in the base year ({people:,.0f})", severity="warning")
        if cover > 0 and people < cover * pop - TOLERANCE:
            r.row("needs", i, "statutory_coverage", cover,
                  f"statutory need met in the base year: services serve {people:,.0f} people, "
                  f"below {cover:g} x {pop:,.0f}", severity="warning")


CHECKS = [check_meta, check_filled, check_references, check_levels, check_need_pairs, check_option_links,
          check_building_types, check_funding_scopes, check_services_payable, check_overheads_payable,
          check_statutory_served, check_current_options, check_orders, check_transition_sums,
          check_duty_services, check_option_shares, check_channels, check_ranges, check_plausible]
WARNINGS = [warn_unit_costs, warn_spend_over_funding, warn_gain_above_harm, warn_served, warn_duty_shape,
            warn_duty_met, warn_pace]


def validate_instance(inst: Instance) -> list[Problem]:
    """Every reference and meaning problem of a loaded instance (errors and warnings)."""
    r = Reporter(inst)
    for check in CHECKS:
        check(inst, r)
    if not r.problems:  # warnings computed from broken data would only be noise
        for warn in WARNINGS:
            warn(inst, r)
    return r.problems
