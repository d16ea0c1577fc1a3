"""Synthetic instances: a realistic English county (or several), of any size, from a seed.

`generate_instance(out_dir, services, years, areas, seed, mechanisms)` writes an
instance folder (every table of `schema.TABLES` with exactly its columns, plus
instance.yaml) that loads and validates. Same arguments, same bytes: one
`numpy.random.default_rng(seed)` stream drawn in a fixed order, and every number
written with a fixed format.

What an area looks like (each of the `areas` copies is a county-sized area, its names
prefixed `a01_`, `a02_`, ... and its rows' `area` column filled; with one area there
is no prefix and `area` is empty):

- 8 cohorts along the life course x 4 need levels (universal, emerging, high, crisis);
  a statutory duty (duties.csv, coverage 1.0) at crisis for children (0-17) and older people
  (65+), met by the services aimed at that crisis need; pace limits of 25% growth and 20%
  decline a year (instance.yaml pace), placements' people leaving at 40% a year at most
  (exit_rate of the current crisis options), a year's consultation before a closure.
- Transitions: persistence and escalation (lag 1), step-down, ageing to the next
  cohort (lag 1, rate 1/span) and long-lag life-course links (a 0-4 emerging need
  feeding 12-17 high need ten years later); rates leaving one (cohort, level) with one
  lag add up to at most 0.97, and over all lags to at most 0.98.
- `services` services per area spread over the 32 (cohort, level) pairs (statutory
  crisis pairs first), each with one current option and `mechanisms - 1` alternatives:
  some with lead times and setup costs, about a quarter that never pay back (dearer,
  worse, high setup).
- Roles: staff hours on in-house options (one main role and business support).
- Buildings in 12 localities (fewer if there are fewer services): council hubs,
  libraries, day and youth centres the council may close for a capital receipt; partner
  schools open after hours and health centres. Housed services use one or two building
  types of their locality (so one or two sites each, whatever the size).
- Funding: a general fund per area (cut, pays overheads), a ring-fenced public health
  grant per area, and one poolable NHS stream (better care fund) shared by all areas.
- Reserves: opening 6%, minimum 4% of the yearly money.

The base year is balanced: arrivals are set so that the base year is the steady state
of the need recursion under base service (`n = a + S n + R (n - prevented)`, S the
persistence and R the other moves, which the services' effects cut), so need stays
steady when nothing changes (older people's arrivals grow a little: demographic
pressure: 0.5-1% a year), and the money is the base-year spend (direct, staff, buildings) plus 1%.

Size (measured, benchmarks/README.md): the model has about
`areas * E * (services * (2.7 mechanisms + 4.7) + 260)` variables, E the modelled years
(the horizon plus the evaluation years after it: max(years + 10, 2 years) here, the
longest lag being 10 years): per option and year a units column and, for an option with
an effect, a column for its units past full effect; per service and year an idle column
(and an above-rule column if statutory). So at 5 mechanisms and 10 years (E = 20) 100k
variables are about 270 services.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from .schema import TABLES

LEVELS = ["universal", "emerging", "high", "crisis"]

# name, age_from, age_to, people in a county-sized area, statutory at crisis, group, description
COHORTS = [
    ("early_years", -0.75, 4, 46000, True, "children", "Pregnancy and children 0-4"),
    ("primary", 5, 11, 66000, True, "children", "Children 5-11"),
    ("secondary", 12, 17, 58000, True, "children", "Young people 12-17"),
    ("young_adults", 18, 25, 70000, False, "adults", "Young adults 18-25, care leavers among them"),
    ("working_age", 26, 64, 390000, False, "adults", "Working-age adults 26-64"),
    ("older", 65, 84, 150000, True, "older", "Older people 65-84"),
    ("oldest", 85, 99, 22000, True, "older", "Oldest old 85 and over"),
    ("families", -0.75, 64, 9000, False, "families", "Families with multiple needs (households)"),
]
COHORT_NAMES = [c[0] for c in COHORTS]
LEGAL_BASIS = {"children": "Children Act 1989 s20 and s31", "older": "Care Act 2014 s18",
               "adults": "Care Act 2014 s18", "families": "Children Act 1989 s17"}
PACE = (0.25, 0.2)  # instance.yaml pace: {max_growth, max_decline}
EXIT_RATE = 0.4  # current options at crisis: people leave placements at about this rate a year
# share of the cohort with need at each level, base year (targets: the steady state moves them a little)
PREVALENCE = {
    "children": [0.6, 0.06, 0.02, 0.006],
    "adults": [0.2, 0.045, 0.012, 0.003],
    "older": [0.3, 0.08, 0.04, 0.02],
    "families": [0.5, 0.25, 0.12, 0.05],
}
OLDEST_PREVALENCE = [0.5, 0.2, 0.12, 0.15]
# yearly cost of supporting one person at each level (£, price year 2025-26)
LEVEL_COST = [120.0, 1500.0, 6000.0, None]
CRISIS_COST = {"early_years": 60000.0, "primary": 65000.0, "secondary": 75000.0, "young_adults": 30000.0,
               "working_age": 45000.0, "older": 32000.0, "oldest": 38000.0, "families": 25000.0}
# share of the need at each level served in the base year (crisis: 1.0 where statutory)
COVERAGE = [0.5, 0.4, 0.6, 0.85]
BASE_EFFECT = [0.06, 0.25, 0.2, 0.08]
# weighted harm per person-year at each level
HARM = [0.02, 0.15, 0.5, 1.2]

DOMAINS = [  # domain, weight, description
    ("safety", 1.2, "Safety and stability"),
    ("health", 1.0, "Physical and mental health"),
    ("education", 0.8, "Learning and development"),
    ("independence", 1.0, "Living independently"),
    ("wellbeing", 0.6, "Wellbeing and connection"),
]
DOMAIN_WEIGHT = {d: w for d, w, _ in DOMAINS}
COHORT_DOMAINS = {
    "early_years": ["safety", "health"], "primary": ["safety", "education"], "secondary": ["safety", "education"],
    "young_adults": ["health", "independence"], "working_age": ["health", "independence"],
    "older": ["independence", "health"], "oldest": ["independence", "wellbeing"], "families": ["safety", "wellbeing"],
}

# mechanism, transaction_rate, lead_years, family, cost multiplier, quality, effect multiplier,
# failure demand, setup (share of a year's direct spend), max_share, uses buildings, description
MECHANISMS = [
    ("in_house", 0.0, 0, "in_house", 1.0, 1.0, 1.0, 0.08, 0.10, 1.0, True, "Delivered by council staff"),
    ("block_contract", 0.02, 1, "block", 0.92, 0.95, 0.95, 0.06, 0.05, 1.0, False, "Block contract with a provider"),
    ("spot_purchase", 0.07, 0, "spot", 1.15, 1.0, 0.9, 0.05, 0.0, 1.0, False, "Placements bought one at a time"),
    ("framework", 0.04, 1, "framework", 1.02, 1.0, 1.0, 0.05, 0.03, 1.0, False, "Framework of approved providers"),
    ("grant_vcs", 0.03, 1, "grant", 0.8, 1.05, 1.1, 0.05, 0.04, 0.7, True, "Grant to the voluntary sector"),
    ("outcomes_based", 0.08, 2, "outcomes_based", 1.1, 1.1, 1.35, 0.03, 0.15, 0.8, False, "Outcomes-based contract"),
    ("personal_budget", 0.04, 0, "personal_budget", 0.9, 1.2, 1.1, 0.02, 0.05, 0.4, False, "Personal budgets"),
    ("pooled_budget", 0.03, 1, "pooled_budget", 0.95, 1.05, 1.15, 0.04, 0.06, 1.0, False, "Pooled budget with a partner"),
    ("co_production", 0.02, 1, "co_production", 0.85, 1.1, 1.2, 0.03, 0.08, 0.5, True, "Co-produced with the community"),
    ("nudge", 0.01, 0, "nudge", 0.2, 0.5, 0.5, 0.0, 0.02, 0.5, False, "Nudge and behaviour change"),
    ("shared_service", 0.03, 2, "shared_service", 0.88, 1.0, 1.0, 0.05, 0.25, 1.0, False, "Service shared with a neighbour"),
]
MECH = {m[0]: m for m in MECHANISMS}
# current mechanism by level: (mechanism, weight)
CURRENT_BY_LEVEL = [
    [("in_house", 0.5), ("grant_vcs", 0.3), ("framework", 0.2)],
    [("in_house", 0.5), ("grant_vcs", 0.3), ("block_contract", 0.2)],
    [("in_house", 0.5), ("block_contract", 0.3), ("framework", 0.2)],
    [("in_house", 0.35), ("spot_purchase", 0.35), ("block_contract", 0.2), ("framework", 0.1)],
]
# share of an in-house unit's cost that is staff time, by level
STAFF_SHARE = [0.7, 0.7, 0.6, 0.45]

# role, cost per FTE (£), hours per FTE, agency £/hour, tags
ROLES = [
    ("children_social_worker", 58000, 1480, 65, "frontline"),
    ("adult_social_worker", 52000, 1480, 55, "frontline"),
    ("family_support_worker", 36000, 1520, 38, "frontline"),
    ("early_years_practitioner", 30000, 1520, 30, "frontline"),
    ("youth_worker", 33000, 1520, 34, "frontline"),
    ("occupational_therapist", 48000, 1480, 52, "frontline"),
    ("care_worker", 27000, 1600, 28, "frontline"),
    ("residential_care_worker", 32000, 1600, 33, "frontline"),
    ("mental_health_practitioner", 47000, 1480, 50, "frontline"),
    ("community_connector", 31000, 1520, 32, "frontline"),
    ("business_support", 28000, 1560, 29, "support"),
]
ROLE = {r[0]: r for r in ROLES}
MAIN_ROLE = {  # cohort -> role at each level
    "early_years": ["early_years_practitioner", "family_support_worker", "family_support_worker", "children_social_worker"],
    "primary": ["family_support_worker", "family_support_worker", "family_support_worker", "children_social_worker"],
    "secondary": ["youth_worker", "youth_worker", "family_support_worker", "residential_care_worker"],
    "young_adults": ["youth_worker", "youth_worker", "mental_health_practitioner", "adult_social_worker"],
    "working_age": ["community_connector", "community_connector", "mental_health_practitioner", "adult_social_worker"],
    "older": ["community_connector", "occupational_therapist", "care_worker", "care_worker"],
    "oldest": ["community_connector", "occupational_therapist", "care_worker", "care_worker"],
    "families": ["family_support_worker", "family_support_worker", "family_support_worker", "children_social_worker"],
}
SUPPORT_SHARE = 0.15  # of an in-house unit's staff hours, done by business support

LOCALITIES = ["north", "south", "east", "west", "central", "coast", "vale", "moor", "forest", "riverside",
              "market", "hill"]
# building type: owner, chance a locality has one, fixed cost range (£/year), closable chance
BUILDING_TYPES = {
    "family_hub": ("council", 1.0, (90e3, 220e3), 0.5),
    "library": ("council", 1.0, (60e3, 180e3), 0.75),
    "day_centre": ("council", 0.6, (150e3, 320e3), 0.75),
    "youth_centre": ("council", 0.5, (50e3, 140e3), 0.75),
    "school": ("school", 1.0, (0.0, 0.0), 0.0),
    "health_centre": ("nhs", 0.6, (0.0, 0.0), 0.0),
}
HOUSING = {  # cohort -> council building types in order of preference, partner type
    "early_years": (["family_hub"], "health_centre"), "primary": (["family_hub"], "school"),
    "secondary": (["youth_centre", "family_hub"], "school"), "young_adults": (["youth_centre", "library"], "health_centre"),
    "working_age": (["library", "family_hub"], "health_centre"), "older": (["day_centre", "library"], "health_centre"),
    "oldest": (["day_centre", "library"], "health_centre"), "families": (["family_hub"], "school"),
}
BUILDING_HOURS = [(1.0, 3.0), (5.0, 15.0), (15.0, 40.0)]  # per unit, by level (crisis is not housed)

# yearly growth of arrivals: demographic pressure on older people, the rest steady
ARRIVALS_GROWTH = {"older": 0.005, "oldest": 0.01}
DISCOUNT_RATE = 0.035
HEADROOM = 0.01
STATUTORY_MARGIN = 0.995  # money above the base-year spend
MAX_RATE_PER_LAG = 0.97
MAX_RATE_TOTAL = 0.98


# --- number formats: fixed, so the same arguments give the same bytes ---------------------
def _num(v: float, decimals: int) -> str:
    s = f"{float(v):.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def money(v: float) -> str:
    """Pounds: whole pounds from £100 up, pence below."""
    return _num(v, 0 if abs(v) >= 100 else 2)


def rate(v: float) -> str:
    return _num(v, 4)


def people(v: float) -> str:
    return _num(v, 2)


def hours(v: float) -> str:
    return _num(v, 2)


# --- the generator -----------------------------------------------------------------------
class _Area:
    """One county-sized area: its tables' rows, built from the shared random stream."""

    def __init__(self, rng: np.random.Generator, index: int, areas: int, services: int, mechanisms: int,
                 years: int, mech: dict):
        self.rng = rng
        self.tag = f"a{index + 1:02d}" if areas > 1 else ""
        self.prefix = f"{self.tag}_" if self.tag else ""
        self.services_n = services
        self.mechanisms = mechanisms
        self.years = years
        self.mech = mech
        self.mech_pool = list(mech)
        self.rows: dict[str, list[dict]] = {name: [] for name in TABLES}
        self.spend = {"direct": 0.0, "staff": 0.0, "buildings": 0.0, "ph": 0.0, "adult_care": 0.0}

    def c(self, cohort: str) -> str:
        return self.prefix + cohort

    # -------------------------------------------------------------------------------
    def build(self) -> None:
        rng = self.rng
        scale = float(rng.uniform(0.8, 1.2))  # this area's size relative to a typical county
        self.pairs = [(k, i) for k in COHORT_NAMES for i in range(4)]
        self.target = {}
        for k, _, _, size, _, group, _ in COHORTS:
            prev = OLDEST_PREVALENCE if k == "oldest" else PREVALENCE[group]
            for i in range(4):
                self.target[(k, i)] = size * scale * prev[i] * float(rng.uniform(0.85, 1.15))
        self.statutory = {(k, 3): st for k, _, _, _, st, _, _ in COHORTS}
        self._transitions()
        self._services()
        self._steady_state()
        self._units_and_options()
        self._workforce()
        self._buildings()
        self._needs_harms()

    # -------------------------------------------------------------------------------
    def _transitions(self) -> None:
        rng = self.rng
        links = []  # (from (k, i), to (k, i), lag, rate)
        persist = [0.55, 0.45, 0.5, 0.6]
        escalate = [0.04, 0.12, 0.10]
        step_down = {1: 0.15, 2: 0.10, 3: 0.08}
        chain = ["early_years", "primary", "secondary", "young_adults", "working_age", "older", "oldest"]
        span = {k: a_to - a_from + 1 for k, a_from, a_to, *_ in COHORTS}
        for k in COHORT_NAMES:
            for i in range(4):
                links.append(((k, i), (k, i), 1, persist[i]))
                if i < 3:
                    links.append(((k, i), (k, i + 1), 1, escalate[i]))
                if i in step_down:
                    links.append(((k, i), (k, i - 1), 1, step_down[i]))
                if k in chain[:-1]:
                    nxt = chain[chain.index(k) + 1]
                    links.append(((k, i), (nxt, i), 1, min(0.2, 1.0 / span[k])))
        links += [
            (("early_years", 1), ("secondary", 2), 10, 0.04),  # early unmet need -> teenage high need
            (("primary", 2), ("young_adults", 2), 7, 0.05),
            (("secondary", 3), ("young_adults", 3), 2, 0.10),  # care leavers
            (("families", 3), ("early_years", 3), 1, 0.05),  # the next generation
            (("families", 2), ("primary", 1), 3, 0.06),
            (("working_age", 2), ("older", 2), 15, 0.02),
            (("older", 1), ("oldest", 2), 5, 0.05),  # frailty
        ]
        noisy = [(f, t, g, r * float(rng.uniform(0.9, 1.1))) for f, t, g, r in links]
        # at most MAX_RATE_PER_LAG out of a (cohort, level) per lag, MAX_RATE_TOTAL over all lags
        per_lag, total = {}, {}
        for f, _, g, r in noisy:
            per_lag[(f, g)] = per_lag.get((f, g), 0.0) + r
            total[f] = total.get(f, 0.0) + r
        out = []
        for f, t, g, r in noisy:
            factor = min(1.0, MAX_RATE_PER_LAG / per_lag[(f, g)], MAX_RATE_TOTAL / total[f])
            out.append((f, t, g, float(f"{r * factor:.4f}")))  # the rate as written
        self.links = out

    # -------------------------------------------------------------------------------
    def _services(self) -> None:
        """Spread the services over the pairs: statutory crisis first, then the rest by weight."""
        rng = self.rng
        order = [p for p in self.pairs if p[1] == 3 and self.statutory.get(p)]
        order += [p for p in self.pairs if p[1] == 3 and not self.statutory.get(p)]
        order += [p for lvl in (2, 1, 0) for p in self.pairs if p[1] == lvl]
        n = self.services_n
        assigned = order[:n]
        if n > len(order):
            weights = np.array([[1.0, 2.0, 2.0, 1.5][i] for _, i in self.pairs])
            extra = rng.choice(len(self.pairs), size=n - len(order), p=weights / weights.sum())
            assigned += [self.pairs[j] for j in extra]
        by_pair: dict = {}
        for p in assigned:
            by_pair.setdefault(p, 0)
            by_pair[p] += 1
        self.services = []  # dicts
        for p in self.pairs:
            count = by_pair.get(p, 0)
            if not count:
                continue
            shares = rng.dirichlet(np.full(count, 2.0)) if count > 1 else np.array([1.0])
            for j in range(count):
                self.services.append(self._service(p, j + 1, float(shares[j])))
        # a duty no service can meet is no duty here (fewer than 5 services)
        self.statutory = {p: st and p in by_pair for p, st in self.statutory.items()}

    def _service(self, pair, j: int, share: float) -> dict:
        rng = self.rng
        k, i = pair
        group = dict((c[0], c[5]) for c in COHORTS)[k]
        ppu, unit = 1.0, "person-year"
        if k == "families":
            unit = "family-year"
        elif i == 0 and rng.random() < 0.3:
            ppu, unit = float(rng.choice([5.0, 10.0])), "group-year"
        person_cost = (CRISIS_COST[k] if i == 3 else LEVEL_COST[i]) * float(rng.lognormal(0.0, 0.25))
        housed = i < 3 and rng.random() < 0.6
        tags = [group]
        if i <= 1:
            tags.append("prevention")
        if i <= 1 and rng.random() < 0.5 and k != "families":
            tags.append("public_health")
        if group in ("adults", "older") and i >= 2:
            tags.append("adult_care")
        if i == 3 and self.statutory.get(pair):
            tags.append("statutory")
        name = f"{self.prefix}{k}_{LEVELS[i]}_{j}"
        s = {"name": name, "pair": pair, "ppu": ppu, "unit": unit, "unit_cost": person_cost * ppu,
             "share": share, "housed": housed, "tags": tags}
        s["options"] = self._options(s)
        return s

    def _options(self, s: dict) -> list[dict]:
        rng = self.rng
        k, i = s["pair"]
        names, weights = zip(*CURRENT_BY_LEVEL[i])
        w = np.array(weights)
        current = names[int(rng.choice(len(names), p=w / w.sum()))]
        rest = [m for m in self.mech_pool if m != current]
        if k not in ("young_adults", "working_age", "older", "oldest"):  # personal budgets are for adults
            rest = [m for m in rest if self.mech[m][3] != "personal_budget"] or rest
        if i >= 2:  # a nudge does not help at high or crisis need
            rest = [m for m in rest if self.mech[m][3] != "nudge"] or rest
        alt_n = min(self.mechanisms - 1, len(rest))
        alts = [rest[j] for j in sorted(rng.choice(len(rest), size=alt_n, replace=False))] if alt_n > 0 else []
        opts = []
        for m in [current] + alts:
            base = self.mech[m]
            _, _, _, family, cost_mult, quality, eff_mult, fd, setup, max_share, uses_b, _ = base
            is_current = m == current
            poor = (not is_current) and rng.random() < 0.25
            noise = float(rng.lognormal(0.0, 0.12))
            total_cost = s["unit_cost"] * (1.0 if is_current else cost_mult * noise)
            q = quality * (1.0 if is_current else float(rng.uniform(0.9, 1.1)))
            effect = BASE_EFFECT[i] * (1.0 if is_current else eff_mult) * float(rng.lognormal(0.0, 0.2))
            fdem = fd * float(rng.uniform(0.5, 1.5))
            if is_current and self.statutory.get(s["pair"]):
                fdem = 0.0  # statutory need is met exactly in the base year: served = population_base
            if poor:  # dearer, worse, slow to set up: it never pays back
                total_cost *= float(rng.uniform(1.25, 1.5))
                q *= float(rng.uniform(0.85, 0.95))
                effect *= 0.5
                setup *= 3.0
            o = {"mechanism": m, "current": is_current, "family": family, "total_cost": total_cost,
                 "quality": min(q, 5.0), "effect_escalation": min(effect, 0.8), "failure_demand": min(fdem, 0.5),
                 "max_share": 1.0 if is_current else min(1.0, max_share * float(rng.uniform(0.8, 1.2))),
                 "setup_frac": 0.0 if is_current else setup * float(rng.uniform(0.7, 1.3)),
                 "setup_fixed": 0.0 if is_current or setup == 0 else float(rng.uniform(5e3, 50e3)),
                 "uses_buildings": uses_b and s["housed"], "poor": poor}
            if family == "in_house":
                staff = STAFF_SHARE[i]
                o["unit_cost"] = total_cost * (1 - staff)
                role = MAIN_ROLE[k][i]
                o["staff"] = []
                for r, part in ((role, 1 - SUPPORT_SHARE), ("business_support", SUPPORT_SHARE)):
                    _, cost_fte, h_fte, _, _ = ROLE[r]
                    o["staff"].append((r, total_cost * staff * part / (cost_fte / h_fte)))
            else:
                o["unit_cost"] = total_cost / (1 + self.mech[m][1])  # price incl. transaction ~ total
                o["staff"] = []
            if o["uses_buildings"]:
                lo, hi = BUILDING_HOURS[i]
                o["building_hours"] = float(rng.uniform(lo, hi)) * s["ppu"] ** 0.5
            opts.append(o)
        return opts

    # -------------------------------------------------------------------------------
    def _steady_state(self) -> None:
        """Coverage and the current options' effects give the recursion's matrix; arrivals
        are backed out of the prevalence targets (never below 2% of them) and the base-year
        need is the exact steady state for those arrivals."""
        idx = {p: j for j, p in enumerate(self.pairs)}
        P = len(self.pairs)
        cover = np.zeros(P)
        ebar = np.zeros(P)
        served_share = {}
        for s in self.services:
            served_share.setdefault(s["pair"], []).append(s)
        self.cover = {}
        for p, svcs in served_share.items():
            c = 1.0 if self.statutory.get(p) else COVERAGE[p[1]] * float(self.rng.uniform(0.8, 1.1))
            self.cover[p] = c
            cover[idx[p]] = c
            cur = [next(o for o in s["options"] if o["current"]) for s in svcs]
            ebar[idx[p]] = sum(s["share"] * o["effect_escalation"] for s, o in zip(svcs, cur))
        # a move to another cohort or level is cut by the services' escalation effects; staying
        # (persistence) is not (the generator gives no effect_resolution)
        R, S = np.zeros((P, P)), np.zeros((P, P))
        for f, t, _, r in self.links:
            (S if f == t else R)[idx[t], idx[f]] += r
        D = 1.0 - cover * ebar
        M = S + R * D[None, :]
        target = np.array([self.target[p] for p in self.pairs])
        arrivals = np.maximum(target - M @ target, 0.02 * target)
        arrivals = np.array([float(people(a)) for a in arrivals])  # as written
        n = np.linalg.solve(np.eye(P) - M, arrivals)
        self.arrivals = dict(zip(self.pairs, arrivals))
        self.n = dict(zip(self.pairs, n))

    def _units_and_options(self) -> None:
        rng = self.rng
        for s in self.services:
            cur = next(o for o in s["options"] if o["current"])
            need = self.n[s["pair"]] * self.cover[s["pair"]] * s["share"]
            base = need / (s["ppu"] * (1 - cur["failure_demand"]))
            statutory = self.statutory.get(s["pair"])
            # statutory: a little under the steady state, rounded down, so that year 1's need
            # (a + R (n - prevented)) is at least the base-year service the status quo keeps
            s["base_units"] = math.floor(base * STATUTORY_MARGIN * 10) / 10 if statutory else round(base, 1)
            s["max_units"] = round(base * (float(rng.uniform(1.4, 1.8)) if statutory else float(rng.uniform(1.2, 2.0))), 1) + 1.0
            s["min_units"] = round(0.5 * s["base_units"], 1) if cur["family"] == "block" and rng.random() < 0.5 else 0.0
            direct = s["base_units"] * cur["unit_cost"] * (1 + self.mech[cur["mechanism"]][1])
            s["direct"] = direct
            self.spend["direct"] += direct
            if "public_health" in s["tags"]:
                self.spend["ph"] += direct
            if "adult_care" in s["tags"]:
                self.spend["adult_care"] += direct
            yearly = max(direct, s["unit_cost"] * 10)  # setup scales with the service's size
            for o in s["options"]:
                o["setup_cost"] = 0.0 if o["current"] else o["setup_frac"] * yearly + o["setup_fixed"]

        # statutory pairs: the base-year need is exactly what their services serve (the duty
        # holds with equality), not the unrounded steady state
        for p in self.pairs:
            if self.statutory.get(p):
                svcs = [s for s in self.services if s["pair"] == p]
                if svcs:
                    self.n[p] = round(sum(s["base_units"] * s["ppu"] for s in svcs), 2)

    def _workforce(self) -> None:
        rng = self.rng
        base_hours = {r[0]: 0.0 for r in ROLES}
        for s in self.services:
            for o in s["options"]:
                if o["current"]:
                    for r, h in o["staff"]:
                        base_hours[r] += h * s["base_units"]
        self.roles = []
        for name, cost_fte, h_fte, agency, tags in ROLES:
            fte = round(base_hours[name] / h_fte * 1.02, 1)
            self.spend["staff"] += fte * cost_fte
            self.roles.append({
                "role": self.prefix + name, "fte_base": fte, "hours_per_fte": h_fte,
                "cost_per_fte": cost_fte * float(rng.uniform(0.95, 1.05)),
                "max_hire": round(max(2.0, 0.12 * fte), 1), "max_release": round(max(1.0, 0.10 * fte), 1),
                "redundancy_cost": float(rng.uniform(15e3, 35e3)), "agency_cost_per_hour": agency * 1.0,
                "max_agency_hours": round(0.05 * base_hours[name] + 500.0, 0), "tags": tags})

    def _buildings(self) -> None:
        rng = self.rng
        # a county has about a dozen localities whatever the number of services: building
        # hours stay those of real buildings (a few thousand a year), shared by more services
        n_loc = max(1, min(len(LOCALITIES), self.services_n))
        self.buildings = []
        sites = {}  # (locality, type) -> building dict
        for loc in LOCALITIES[:n_loc]:
            for btype, (owner, chance, (lo, hi), closable) in BUILDING_TYPES.items():
                if rng.random() >= chance:
                    continue
                b = {"building": f"{self.prefix}{loc}_{btype}", "type": f"{self.prefix}{btype}_{loc}", "owner": owner,
                     "locality": loc, "used": 0.0}
                if owner == "council":
                    b.update(fixed_cost=float(rng.uniform(lo, hi)), cost_per_hour=float(rng.uniform(4, 15)),
                             can_close=bool(rng.random() < closable), closure_cost=float(rng.uniform(15e3, 90e3)),
                             capital_receipt=float(rng.uniform(0.2e6, 2.5e6)),
                             extendable_hours=float(rng.uniform(200, 800)) if rng.random() < 0.4 else 0.0,
                             extended_cost_per_hour=float(rng.uniform(15, 35)))
                elif btype == "school":  # closed to others after 18:00 unless extended
                    b.update(fixed_cost=0.0, cost_per_hour=0.0, can_close=False, closure_cost=0.0, capital_receipt=0.0,
                             extendable_hours=float(rng.uniform(400, 1500)), extended_cost_per_hour=float(rng.uniform(20, 40)),
                             hours_available=0.0)
                else:  # a health centre lets rooms by the hour
                    b.update(fixed_cost=0.0, cost_per_hour=float(rng.uniform(15, 30)), can_close=False, closure_cost=0.0,
                             capital_receipt=0.0, extendable_hours=0.0, extended_cost_per_hour=0.0,
                             hours_available=float(rng.uniform(500, 2000)))
                sites[(loc, btype)] = b
                self.buildings.append(b)
        locs = LOCALITIES[:n_loc]
        for s in self.services:
            if not s["housed"]:
                s["building_types"] = []
                continue
            k = s["pair"][0]
            loc = locs[int(rng.integers(n_loc))]
            council, partner = HOUSING[k]
            first = next((t for t in council if (loc, t) in sites), None)
            if first is None:
                first = "family_hub"  # every locality has one
            types = [sites[(loc, first)]]
            if (loc, partner) in sites and rng.random() < 0.5:
                types.append(sites[(loc, partner)])
            s["building_types"] = [b["type"] for b in types]
            cur = next(o for o in s["options"] if o["current"])
            if cur.get("building_hours"):
                types[0]["used"] += cur["building_hours"] * s["base_units"]
        for b in self.buildings:
            if b["owner"] == "council":
                b["hours_available"] = round(max(1000.0, b["used"] / float(rng.uniform(0.7, 0.9))), -1)
                self.spend["buildings"] += b["fixed_cost"] + b["cost_per_hour"] * b["used"]
        # a housed service none of whose options uses buildings needs no building type
        for s in self.services:
            if s["housed"] and not any(o["uses_buildings"] for o in s["options"]):
                s["building_types"] = []

    def _needs_harms(self) -> None:
        self.harm = {}
        for k in COHORT_NAMES:
            doms = COHORT_DOMAINS[k]
            for i in range(4):
                split = float(self.rng.uniform(0.5, 0.8))
                parts = [split, 1 - split]
                total = HARM[i] * float(self.rng.uniform(0.85, 1.15))
                self.harm[(k, i)] = total
                for d, part in zip(doms, parts):
                    self.rows["harms"].append({"cohort": self.c(k), "level": LEVELS[i], "domain": d,
                                               "harm_per_person_year": rate(total * part / DOMAIN_WEIGHT[d]),
                                               "area": self.tag})

    # --- rows ---------------------------------------------------------------------------
    def fill_rows(self) -> None:
        rows = self.rows
        growth = ARRIVALS_GROWTH
        for k, a_from, a_to, _, _, _, desc in COHORTS:
            rows["cohorts"].append({"cohort": self.c(k), "age_from": _num(a_from, 2), "age_to": _num(a_to, 2),
                                    "description": desc, "area": self.tag})
        for k in COHORT_NAMES:
            for i in range(4):
                p = (k, i)
                cost = CRISIS_COST[k] if i == 3 else LEVEL_COST[i]
                rows["needs"].append({
                    "cohort": self.c(k), "level": LEVELS[i], "population_base": people(self.n[p]),
                    "arrivals_per_year": people(self.arrivals[p]),
                    "arrivals_growth": rate(growth.get(k, 0.0)),
                    "statutory_coverage": "0",
                    "future_cost": money(cost * (2.5 if i == 3 else 1.5)), "area": self.tag})
        by_pair: dict = {}
        for sv in self.services:
            by_pair.setdefault(sv["pair"], []).append(sv["name"])
        for p in self.pairs:  # a duty at each statutory pair, met by the services aimed at it
            if self.statutory.get(p):
                k = p[0]
                duty = f"{self.prefix}{k}_{LEVELS[p[1]]}"
                group = next(c[5] for c in COHORTS if c[0] == k)
                rows["duties"].append({"duty": duty, "cohort": self.c(k), "level": LEVELS[p[1]], "coverage": "1",
                                       "legal_basis": LEGAL_BASIS[group], "area": self.tag,
                                       "description": f"{LEVELS[p[1]].capitalize()} need of {k.replace('_', ' ')}"})
                rows["duty_services"] += [{"duty": duty, "service": name} for name in by_pair.get(p, [])]
        for f, t, g, r in self.links:
            rows["transitions"].append({"from_cohort": self.c(f[0]), "from_level": LEVELS[f[1]],
                                        "to_cohort": self.c(t[0]), "to_level": LEVELS[t[1]],
                                        "lag_years": str(g), "rate": rate(r), "area": self.tag})
        for s in self.services:
            k, i = s["pair"]
            tags = s["tags"] + ([self.tag] if self.tag else [])
            if self.tag and "public_health" in s["tags"]:
                tags.append(f"{self.tag}_public_health")
            rows["services"].append({
                "service": s["name"], "cohort": self.c(k), "level": LEVELS[i], "unit": s["unit"],
                "people_per_unit": _num(s["ppu"], 2), "base_units": _num(s["base_units"], 1),
                "min_units": _num(s["min_units"], 1), "max_units": _num(s["max_units"], 1),
                "building_types": ";".join(s["building_types"]), "tags": ";".join(tags),
                "description": f"{LEVELS[i].capitalize()} support for {k.replace('_', ' ')}", "area": self.tag})
            # gain per unit: a share of the harm of the people it serves (never more than the harm)
            qmax = max(o["quality"] for o in s["options"])
            g_total = float(self.rng.uniform(0.3, 0.8)) * self.harm[(k, i)] * s["ppu"] / qmax
            doms = COHORT_DOMAINS[k]
            for d, part in zip(doms, (0.6, 0.4)):
                rows["gains"].append({"service": s["name"], "domain": d,
                                      "gain_per_unit": _num(g_total * part / DOMAIN_WEIGHT[d], 6)})
            for o in s["options"]:
                rows["options"].append({
                    "service": s["name"], "mechanism": o["mechanism"], "current": "true" if o["current"] else "false",
                    "unit_cost": money(o["unit_cost"]), "quality": rate(o["quality"]), "effect_escalation": rate(o["effect_escalation"]),
                    "failure_demand": rate(o["failure_demand"]), "setup_cost": money(o["setup_cost"]),
                    "max_share": rate(o["max_share"]),
                    "exit_rate": rate(EXIT_RATE) if o["current"] and i == 3 else "",
                    "description": ("current " if o["current"] else "") + o["family"].replace("_", " ")
                    + (" (does not pay back)" if o["poor"] else "")})
                for r, h in o["staff"]:
                    rows["option_staff"].append({"service": s["name"], "mechanism": o["mechanism"],
                                                 "role": self.prefix + r, "hours_per_unit": hours(h)})
                if s["building_types"] and o.get("building_hours"):
                    rows["option_buildings"].append({"service": s["name"], "mechanism": o["mechanism"],
                                                     "hours_per_unit": hours(o["building_hours"])})
        for r in self.roles:
            rows["workforce"].append({
                "role": r["role"], "fte_base": _num(r["fte_base"], 1), "hours_per_fte": str(r["hours_per_fte"]),
                "cost_per_fte": money(r["cost_per_fte"]), "max_hire": _num(r["max_hire"], 1),
                "max_release": _num(r["max_release"], 1), "redundancy_cost": money(r["redundancy_cost"]),
                "agency_cost_per_hour": money(r["agency_cost_per_hour"]),
                "max_agency_hours": _num(r["max_agency_hours"], 0), "tags": r["tags"], "area": self.tag})
        for b in self.buildings:
            rows["buildings"].append({
                "building": b["building"], "type": b["type"], "owner": b["owner"], "locality": b["locality"],
                "hours_available": hours(b["hours_available"]), "fixed_cost": money(b["fixed_cost"]),
                "cost_per_hour": money(b["cost_per_hour"]), "can_close": "true" if b["can_close"] else "false",
                "closure_cost": money(b["closure_cost"]), "capital_receipt": money(b["capital_receipt"]),
                "closure_lead_years": "1" if b["can_close"] else "0",
                "extendable_hours": hours(b["extendable_hours"]),
                "extended_cost_per_hour": money(b["extended_cost_per_hour"]), "area": self.tag})


def _ranges(rows: dict[str, list[dict]]) -> list[dict]:
    """ranges.csv for the generated area, so that uncertainty runs and benchmarks exercise it: each
    service's escalation effects scaled together (0.5 to 1.3, never past an effect of 0.99), each
    mechanism's prices and transaction rate moving together, arrivals together (grade C or D: these
    ranges are plausible, not evidence)."""
    def row(table, where, column, low, high, dist, group, grade):
        return {"table": table, "where": where, "column": column, "kind": "scale", "low": low, "central": "1",
                "high": high, "distribution": dist, "group": group, "evidence": grade,
                "source": "commissionopt.data.generate (plausible ranges, not evidence)"}
    out, effects = [], {}
    for o in rows["options"]:
        effects[o["service"]] = max(effects.get(o["service"], 0.0), float(o["effect_escalation"] or 0))
    for service, top in effects.items():
        if top > 0:
            out.append(row("options", f"service={service}", "effect_escalation", "0.5",
                           _num(min(1.3, 0.99 / top), 3), "triangular", "", "C"))
    for m in rows["mechanisms"]:
        mech = m["mechanism"]
        out.append(row("options", f"mechanism={mech}", "unit_cost", "0.9", "1.15", "uniform", f"price_{mech}", "C"))
        if float(m["transaction_rate"] or 0) > 0:
            out.append(row("mechanisms", f"mechanism={mech}", "transaction_rate", "0.5", "1.5", "uniform",
                           f"price_{mech}", "D"))
    out.append(row("needs", "", "arrivals_per_year", "0.9", "1.1", "pert", "demand", "C"))
    return out


def _write_csv(path: Path, table: str, rows: list[dict]) -> None:
    cols = TABLES[table].names
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])


def generate_instance(out_dir, services: int, years: int, areas: int = 1, seed: int = 0,
                      mechanisms: int = 5) -> Path:
    """Write a synthetic instance folder and return its path.

    `services` is per area; `mechanisms` is the number of options of each service
    (one current and `mechanisms - 1` alternatives, fewer if the mechanism pool runs
    out: the pool has 11 mechanisms, and numbered variants beyond that).
    """
    services, years, areas, mechanisms = int(services), int(years), int(areas), int(mechanisms)
    if services < 1:
        raise ValueError("services must be at least 1")
    if not 1 <= years <= 30:
        raise ValueError("years must be between 1 and 30 (instance.yaml horizon_years)")
    if areas < 1:
        raise ValueError("areas must be at least 1")
    if mechanisms < 1:
        raise ValueError("mechanisms must be at least 1")
    rng = np.random.default_rng(seed)
    pool = [m[0] for m in MECHANISMS]
    variant = 2
    while len(pool) < mechanisms:  # more options than mechanism kinds: numbered variants
        pool += [f"{m[0]}_{variant}" for m in MECHANISMS]
        variant += 1
    # variants share their base mechanism's parameters
    mech = {m: MECH[m] if m in MECH else MECH[m.rsplit("_", 1)[0]] for m in pool}

    built = []
    for a in range(areas):
        area = _Area(rng, a, areas, services, mechanisms, years, mech)
        area.build()
        area.fill_rows()
        built.append(area)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    for area in built:
        for name in TABLES:
            rows[name] += area.rows[name]
    rows["outcomes"] = [{"domain": d, "weight": _num(w, 2), "description": desc} for d, w, desc in DOMAINS]
    used = {r["mechanism"] for r in rows["options"]}
    rows["mechanisms"] = []
    for m in pool:
        if m in used:
            _, tr, lead, family, *_, desc = mech[m]
            rows["mechanisms"].append({"mechanism": m, "transaction_rate": rate(tr), "lead_years": str(lead),
                                       "family": family, "description": desc})

    # money: the base-year spend plus HEADROOM, split over the streams
    funding = []
    nhs_total = 0.0
    total_money = 0.0
    for area in built:
        sp = area.spend
        spend = sp["direct"] + sp["staff"] + sp["buildings"]
        ph = 0.9 * sp["ph"]
        nhs = 0.3 * sp["adult_care"]
        nhs_total += nhs
        gf = spend * (1 + HEADROOM) - ph - nhs
        total_money += spend * (1 + HEADROOM)
        p, tag = area.prefix, area.tag
        funding.append({"stream": f"{p}general_fund", "base_amount": money(gf), "subject_to_cut": "true",
                        "scope": tag or "*", "overheads": "true", "poolable": "false", "pooled_scope": "",
                        "pooling_cost": "0", "partner": "council", "area": tag})
        funding.append({"stream": f"{p}public_health_grant", "base_amount": money(ph), "subject_to_cut": "false",
                        "scope": f"{tag}_public_health" if tag else "public_health", "overheads": "false",
                        "poolable": "false", "pooled_scope": "", "pooling_cost": "0", "partner": "council",
                        "area": tag})
    funding.append({"stream": "better_care_fund", "base_amount": money(nhs_total), "subject_to_cut": "false",
                    "scope": "adult_care", "overheads": "false", "poolable": "true", "pooled_scope": "prevention",
                    "pooling_cost": money(50e3 * areas), "partner": "nhs", "area": ""})
    # drop streams whose scope matches no service (tiny instances): the validator rejects them
    tags = {t for r in rows["services"] for t in r["tags"].split(";")} | {r["service"] for r in rows["services"]}
    rows["funding"] = [f for f in funding if f["scope"] == "*" or f["scope"] in tags]
    for f in rows["funding"]:
        if f["pooled_scope"] and f["pooled_scope"] not in tags:
            f.update(poolable="false", pooled_scope="", pooling_cost="0")

    rows["ranges"] = _ranges(rows)
    for name in TABLES:
        _write_csv(out / TABLES[name].file, name, rows[name])
    name = f"synthetic_s{services}_y{years}_a{areas}_m{mechanisms}_seed{seed}"
    meta = "\n".join([
        f"name: {name}",
        "description: >-",
        f"  Synthetic county-sized area{'s' if areas > 1 else ''} ({areas}) made by commissionopt.data.generate:",
        f"  {services} services per area, {mechanisms} options each, {years} years, seed {seed}.",
        "  Values are plausible for an English county, not real data.",
        "price_year: 2025-26",
        "base_year: 2025",
        f"horizon_years: {years}",
        f"discount_rate: {DISCOUNT_RATE}",
        "levels: [" + ", ".join(LEVELS) + "]",
        f"reserves: {{opening: {money(0.06 * total_money)}, minimum: {money(0.04 * total_money)}, "
        "flexible_capital_receipts: true}",
        f"pace: {{max_growth: {PACE[0]}, max_decline: {PACE[1]}}}",
        "",
    ])
    (out / "instance.yaml").write_text(meta, encoding="utf-8")
    return out
