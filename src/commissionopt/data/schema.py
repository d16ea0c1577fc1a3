"""The instance data contract: every table, column, type, unit and meaning.

This is the one source for the validator, the template workbook and
docs/instance-format.md, so the three cannot drift apart. Table and column names
are a public interface: analysts' files depend on them.
"""
from __future__ import annotations

from dataclasses import dataclass

# Column kinds. "list" is a ';'-separated list of names ('*' = any).
TEXT, NUMBER, INTEGER, BOOL, LIST = "text", "number", "integer", "bool", "list"

TRUE_WORDS = {"true", "yes", "1", "y"}
FALSE_WORDS = {"false", "no", "0", "n"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    unit: str
    doc: str
    required: bool = True
    default: object = None
    min: float | None = None
    max: float | None = None
    # (table, column) this column must name a key of; None for free values.
    ref: tuple[str, str] | None = None
    # an older name still read for this column (with a deprecation warning)
    alias: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    doc: str
    columns: tuple[Column, ...]
    # Optional tables may be missing altogether (then they are empty).
    optional: bool = False

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name or c.alias == name:
                return c
        raise KeyError(name)

    def canonical(self, name: str) -> str:
        """The column's current name for a name or its deprecated alias (the name itself if unknown)."""
        try:
            return self.column(name).name
        except KeyError:
            return name

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name, kind, unit, doc, **kw) -> Column:
    return Column(name, kind, unit, doc, **kw)


# Plausible magnitudes, by a column's unit (its first word): a number beyond them is a typo
# or an attack, never data, and would wreck the solver's numerics. Keyed on the unit so that
# every numeric column, one added later too, is covered; an unlisted unit gets PLAUSIBLE_ANY.
PLAUSIBLE = (("£", 1e13), ("people", 1e10), ("FTE", 1e8), ("hours", 1e9), ("units", 1e10),
             ("outcome units", 1e6), ("points", 1e6), ("years", 1e3), ("share", 1e3), ("multiplier", 1e3))
PLAUSIBLE_ANY = 1e15


def plausible_limit(unit: str) -> float:
    """The magnitude a number in `unit` stays below: the longest matching prefix's limit."""
    limits = [(len(p), limit) for p, limit in PLAUSIBLE if unit == p or unit.startswith((p + "/", p + " "))]
    return max(limits)[1] if limits else PLAUSIBLE_ANY


RATE = dict(min=0.0, max=1.0)
NONNEG = dict(min=0.0)
AREA = _c("area", TEXT, "-", "Area the row belongs to, in multi-area instances", required=False, default="")

TABLES: dict[str, Table] = {t.name: t for t in [
    Table("cohorts", ("cohort",), "Groups of people along the life course, from pregnancy to old age.", (
        _c("cohort", TEXT, "-", "Name of the cohort, e.g. early_years_0_4"),
        _c("age_from", NUMBER, "years", "Lowest age in the cohort (negative for pregnancy: -0.75 is -9 months)", min=-1.0, max=120.0),
        _c("age_to", NUMBER, "years", "Highest age in the cohort", min=-1.0, max=120.0),
        _c("description", TEXT, "-", "What the cohort is", required=False, default=""),
        AREA,
    )),
    Table("needs", ("cohort", "level"), "People with need, by cohort and need level, in the base year.", (
        _c("cohort", TEXT, "-", "Cohort", ref=("cohorts", "cohort")),
        _c("level", TEXT, "-", "Need level (one of instance.yaml levels)"),
        _c("population_base", NUMBER, "people", "People with this need in the base year", **NONNEG),
        _c("arrivals_per_year", NUMBER, "people/year", "New people arriving at this need each year from outside the modelled transitions (births, moves, new onset)", **NONNEG),
        _c("arrivals_growth", NUMBER, "share/year", "Yearly growth of arrivals (0.04 = 4% a year)", min=-0.5, max=1.0, required=False, default=0.0),
        _c("statutory_coverage", NUMBER, "share", "Share of the need that must by law be served (child protection, looked-after children, eligible adult care)", required=False, default=0.0, **RATE),
        _c("future_cost", NUMBER, "£/person", "Discounted cost of the response a person still in this need at the horizon will go on to need (terminal cost)", required=False, default=0.0, **NONNEG),
        AREA,
    )),
    Table("transitions", ("from_cohort", "from_level", "to_cohort", "to_level", "lag_years"),
          "How need moves: persistence, escalation and life-course links, with a lag.", (
        _c("from_cohort", TEXT, "-", "Cohort the people come from", ref=("cohorts", "cohort")),
        _c("from_level", TEXT, "-", "Need level they come from"),
        _c("to_cohort", TEXT, "-", "Cohort they arrive in", ref=("cohorts", "cohort")),
        _c("to_level", TEXT, "-", "Need level they arrive at"),
        _c("lag_years", INTEGER, "years", "Years between leaving and arriving (1 = next year)", min=1, max=30),
        _c("rate", NUMBER, "share/year", "Share of the source (unmet need, or served need not prevented by the service) that makes this move", **RATE),
        _c("channel", TEXT, "-", "Which effect of a service cuts this move: escalation (effect_escalation), persistence (effect_resolution) or none; empty: persistence when cohort and level stay the same, escalation otherwise (up, down and life-course links)", required=False, default=""),
        AREA,
    )),
    Table("outcomes", ("domain",), "Outcome domains and their political weights.", (
        _c("domain", TEXT, "-", "Outcome domain, e.g. safety, health, education"),
        _c("weight", NUMBER, "points/unit", "Weight of one unit of this domain in the outcome value", **NONNEG),
        _c("description", TEXT, "-", "What the domain measures", required=False, default=""),
        _c("unit", TEXT, "-", "What one unit of the domain is (reports call the outcome value 'weighted <unit>' when every domain shares one)", required=False, default="person-years"),
    )),
    Table("harms", ("cohort", "level", "domain"), "Harm that a person in need suffers per year, served or not.", (
        _c("cohort", TEXT, "-", "Cohort", ref=("cohorts", "cohort")),
        _c("level", TEXT, "-", "Need level"),
        _c("domain", TEXT, "-", "Outcome domain", ref=("outcomes", "domain")),
        _c("harm_per_person_year", NUMBER, "outcome units/person-year", "Harm per person with this need per year", **NONNEG),
        AREA,
    )),
    Table("services", ("service",), "Services, each aimed at one cohort and need level.", (
        _c("service", TEXT, "-", "Service name"),
        _c("cohort", TEXT, "-", "Cohort served", ref=("cohorts", "cohort")),
        _c("level", TEXT, "-", "Need level served"),
        _c("unit", TEXT, "-", "What one unit is, e.g. child-year, family-episode, household-year", required=False, default="person-year"),
        _c("people_per_unit", NUMBER, "people/unit", "People supported by one unit in a year", min=1e-9),
        _c("base_units", NUMBER, "units/year", "Units delivered in the base year", **NONNEG),
        _c("min_units", NUMBER, "units/year", "Least units a year (a contract floor, a duty)", required=False, default=0.0, **NONNEG),
        _c("max_units", NUMBER, "units/year", "Most units a year (market or workforce capacity)", **NONNEG),
        _c("building_types", LIST, "-", "';'-separated building types the service can run in ('*' any, empty = needs no building)", required=False, default=""),
        _c("tags", LIST, "-", "';'-separated tags matched by funding scopes (e.g. adult_care;statutory)", required=False, default=""),
        _c("max_growth", NUMBER, "share/year", "Most the service's units (idle capacity included) can grow in a year, as a share of last year's (empty: instance.yaml pace, else no limit)", required=False, default=None, min=0.0, max=10.0),
        _c("max_decline", NUMBER, "share/year", "Most the service's units (idle capacity included) can fall in a year, as a share of last year's (empty: instance.yaml pace, else no limit)", required=False, default=None, **RATE),
        _c("ramp_units", NUMBER, "units/year", "Units a year that max_growth applies to on top of last year's units, so that a service starting from few or none can grow: units <= (1 + max_growth) x last year's + max_growth x ramp_units", required=False, default=0.0, **NONNEG),
        _c("full_effect_units", NUMBER, "units/year", "Units a year that reach people at the options' full effects; units above it reach harder-to-help people at marginal_effect x the effect (empty: base_units, or no limit when base_units is 0)", required=False, default=None, **NONNEG),
        _c("marginal_effect", NUMBER, "multiplier", "Share of an option's effects that units above full_effect_units achieve (diminishing returns)", required=False, default=0.5, **RATE),
        _c("description", TEXT, "-", "What the service does", required=False, default=""),
        AREA,
    )),
    Table("gains", ("service", "domain"), "Outcome gained per unit of service delivered.", (
        _c("service", TEXT, "-", "Service", ref=("services", "service")),
        _c("domain", TEXT, "-", "Outcome domain", ref=("outcomes", "domain")),
        _c("gain_per_unit", NUMBER, "outcome units/unit", "Outcome gained per unit delivered at quality 1", **NONNEG),
    )),
    Table("duties", ("duty",), "Statutory duties: the share of a (cohort, level)'s need that the law requires to be served, and by which services (duty_services).", (
        _c("duty", TEXT, "-", "Name of the duty, e.g. looked_after_children_12_17"),
        _c("cohort", TEXT, "-", "Cohort the duty is owed to", ref=("cohorts", "cohort")),
        _c("level", TEXT, "-", "Need level the duty is owed at"),
        _c("coverage", NUMBER, "share", "Share of the (cohort, level)'s need the duty's services must serve, in duty person-years", min=1e-9, max=1.0),
        _c("legal_basis", TEXT, "-", "The law that sets the duty, e.g. Children Act 1989 s20", required=False, default=""),
        _c("description", TEXT, "-", "What the duty is", required=False, default=""),
        AREA,
    ), optional=True),
    Table("duty_services", ("duty", "service"), "Services that can lawfully meet a duty, and their share of it.", (
        _c("duty", TEXT, "-", "Duty", ref=("duties", "duty")),
        _c("service", TEXT, "-", "Service that meets the duty (it serves the duty's cohort and level)", ref=("services", "service")),
        _c("counts_as", NUMBER, "duty person-years/person", "Duty person-years one person served counts for (a six-week reablement episode is about 0.12 of a year of care)", required=False, default=1.0, min=1e-9, max=100.0),
        _c("min_share", NUMBER, "share", "Least share of the duty's required person-years this service must serve (children whose needs only residential care meets)", required=False, default=0.0, **RATE),
        _c("max_share", NUMBER, "share", "Most share of the (cohort, level)'s need this service may serve (suitability)", required=False, default=1.0, **RATE),
    ), optional=True),
    Table("mechanisms", ("mechanism",), "Commissioning mechanisms the area can use.", (
        _c("mechanism", TEXT, "-", "Mechanism name, e.g. in_house, block_contract, outcomes_based"),
        _c("transaction_rate", NUMBER, "share of spend", "Transaction cost (procurement, contract management) as a share of direct spend", **RATE),
        _c("lead_years", INTEGER, "years", "Years before a newly adopted mechanism delivers (0 = from year 1)", min=0, max=10),
        _c("family", TEXT, "-", "Mechanism family (in_house, block, spot, framework, grant, outcomes_based, personal_budget, pooled_budget, co_production, nudge, shared_service)", required=False, default=""),
        _c("description", TEXT, "-", "What the mechanism is", required=False, default=""),
    )),
    Table("options", ("service", "mechanism"), "Ways each service can be commissioned, with their own costs and effects.", (
        _c("service", TEXT, "-", "Service", ref=("services", "service")),
        _c("mechanism", TEXT, "-", "Mechanism", ref=("mechanisms", "mechanism")),
        _c("current", BOOL, "-", "true for the option in use in the base year (exactly one per service)", required=False, default=False),
        _c("unit_cost", NUMBER, "£/unit", "Direct cost of a unit (for in-house options, only what is not staff)", **NONNEG),
        _c("quality", NUMBER, "multiplier", "Scales the outcome gain of the service (1 = as in gains.csv)", min=0.0, max=5.0, required=False, default=1.0),
        _c("effect_escalation", NUMBER, "share", "Share of the escalation moves of the people served (transitions of channel escalation: to a higher level, down, or along the life course) that the option prevents", required=False, default=0.0, alias="effect", **RATE),
        _c("effect_resolution", NUMBER, "share", "Share of the same-level persistence of the people served (transitions of channel persistence) that the option resolves", required=False, default=0.0, **RATE),
        _c("effect_fade", NUMBER, "share/year", "How the effects fade with a transition's lag g: effect x (1 - effect_fade)^(g - 1)", required=False, default=0.0, **RATE),
        _c("failure_demand", NUMBER, "share", "Share of units wasted on repeat contact (failure demand)", required=False, default=0.0, **RATE),
        _c("setup_cost", NUMBER, "£", "One-off cost of adopting the option when it is not current", required=False, default=0.0, **NONNEG),
        _c("max_share", NUMBER, "share", "Most of the service's units this option may deliver (e.g. personal-budget uptake of 0.3)", required=False, default=1.0, **RATE),
        _c("exit_rate", NUMBER, "share/year", "For the current option: most of last year's units that can leave it in a year (children leave care at 35-45% a year; a block contract runs to its notice date); empty: no limit", required=False, default=None, **RATE),
        _c("real_cost_growth", NUMBER, "share/year", "Yearly real growth of unit_cost (children's placements +3-8%): unit_cost x (1 + growth)^year", required=False, default=0.0, min=-0.5, max=1.0),
        _c("description", TEXT, "-", "Notes on the option", required=False, default=""),
    )),
    Table("option_staff", ("service", "mechanism", "role"), "Staff hours an in-house option uses per unit.", (
        _c("service", TEXT, "-", "Service", ref=("services", "service")),
        _c("mechanism", TEXT, "-", "Mechanism", ref=("mechanisms", "mechanism")),
        _c("role", TEXT, "-", "Workforce role", ref=("workforce", "role")),
        _c("hours_per_unit", NUMBER, "hours/unit", "Staff hours of the role per unit delivered", **NONNEG),
    ), optional=True),
    Table("option_buildings", ("service", "mechanism"), "Building hours an option uses per unit.", (
        _c("service", TEXT, "-", "Service", ref=("services", "service")),
        _c("mechanism", TEXT, "-", "Mechanism", ref=("mechanisms", "mechanism")),
        _c("hours_per_unit", NUMBER, "hours/unit", "Building hours per unit delivered, in a building of the service's types", **NONNEG),
    ), optional=True),
    Table("funding", ("stream",), "Money: every partner's stream, its ring fence and whether it is cut.", (
        _c("stream", TEXT, "-", "Funding stream, e.g. general_fund, public_health_grant, better_care_fund"),
        _c("base_amount", NUMBER, "£/year", "Money available in the base year before any cut", **NONNEG),
        _c("growth", NUMBER, "share/year", "Yearly change of the stream's money before any cut: base_amount x (1 + growth)^year", required=False, default=0.0, min=-0.5, max=1.0),
        _c("subject_to_cut", BOOL, "-", "true if the council's budget cut applies to this stream", required=False, default=True),
        _c("scope", LIST, "-", "';'-separated service tags (or service names) the stream may pay for ('*' any)"),
        _c("overheads", BOOL, "-", "true if the stream may pay staff, buildings, setup, redundancy and pooling costs", required=False, default=False),
        _c("poolable", BOOL, "-", "true if the stream can be pooled to widen its scope", required=False, default=False),
        _c("pooled_scope", LIST, "-", "';'-separated tags the stream may also pay for once pooled", required=False, default=""),
        _c("pooling_cost", NUMBER, "£/year", "Yearly admin cost of running the pooled budget", required=False, default=0.0, **NONNEG),
        _c("partner", TEXT, "-", "Who holds the money (council, NHS, police, schools, ...)", required=False, default="council"),
        AREA,
    )),
    Table("workforce", ("role",), "Staff by role, with the limits on how fast the workforce can change.", (
        _c("role", TEXT, "-", "Role name"),
        _c("fte_base", NUMBER, "FTE", "Full-time equivalents employed in the base year", **NONNEG),
        _c("hours_per_fte", NUMBER, "hours/FTE/year", "Productive hours per FTE per year", min=1.0),
        _c("cost_per_fte", NUMBER, "£/FTE/year", "Employment cost per FTE (pay and on-costs)", **NONNEG),
        _c("max_hire", NUMBER, "FTE/year", "Most FTE that can be hired in a year", **NONNEG),
        _c("max_release", NUMBER, "FTE/year", "Most FTE that can be released in a year", **NONNEG),
        _c("redundancy_cost", NUMBER, "£/FTE", "One-off cost of releasing one FTE", required=False, default=0.0, **NONNEG),
        _c("agency_cost_per_hour", NUMBER, "£/hour", "Cost of an agency hour (the premium over employed staff)", **NONNEG),
        _c("max_agency_hours", NUMBER, "hours/year", "Most agency hours a year", required=False, default=0.0, **NONNEG),
        _c("tags", LIST, "-", "';'-separated tags (frontline, support, management)", required=False, default=""),
        AREA,
    ), optional=True),
    Table("buildings", ("building",), "Buildings, the council's and partners', with their hours and costs.", (
        _c("building", TEXT, "-", "Building name"),
        _c("type", TEXT, "-", "Building type, matched by services' building_types"),
        _c("owner", TEXT, "-", "Who owns it (council, school, nhs, ...)"),
        _c("locality", TEXT, "-", "Locality or ward", required=False, default=""),
        _c("hours_available", NUMBER, "hours/year", "Hours a year available to services", **NONNEG),
        _c("fixed_cost", NUMBER, "£/year", "Yearly cost of keeping it open", **NONNEG),
        _c("cost_per_hour", NUMBER, "£/hour", "Running cost per hour used", required=False, default=0.0, **NONNEG),
        _c("can_close", BOOL, "-", "true if the building may be closed", required=False, default=False),
        _c("closure_cost", NUMBER, "£", "One-off cost of closing it", required=False, default=0.0, **NONNEG),
        _c("closure_lead_years", INTEGER, "years", "Years of consultation before a closure can take effect: open in every year up to this one", required=False, default=0, min=0, max=30),
        _c("capital_receipt", NUMBER, "£", "Capital receipt from selling it once closed", required=False, default=0.0, **NONNEG),
        _c("extendable_hours", NUMBER, "hours/year", "Extra hours a year it can open (a school site after 18:00)", required=False, default=0.0, **NONNEG),
        _c("extended_cost_per_hour", NUMBER, "£/hour", "Cost of an extended hour", required=False, default=0.0, **NONNEG),
        AREA,
    ), optional=True),
    Table("ranges", ("table", "where", "column"),
          "Uncertain figures: for one column of the rows a selector picks, the values the evidence allows, their "
          "distribution and the grade of the evidence (for evidence scenarios and uncertainty runs; a solve uses the "
          "instance's own values).", (
        _c("table", TEXT, "-", "Table holding the figures, e.g. options"),
        _c("where", TEXT, "-", "Rows of that table the range covers: column=value pairs joined by ';' (all must match; "
                              "a value may list alternatives joined by '|'), e.g. service=falls_prevention;mechanism=block_contract; "
                              "empty: every row", required=False, default=""),
        _c("column", TEXT, "-", "Numeric column of those rows whose figure is uncertain, e.g. effect_escalation"),
        _c("kind", TEXT, "-", "value: low, central and high are the column's own values (central = the instance's value "
                             "in every row covered); scale: they are factors on the instance's values (central = 1)"),
        _c("low", NUMBER, "column unit or factor", "Lowest value (or factor) the evidence allows"),
        _c("central", NUMBER, "column unit or factor", "Central estimate: the instance's value (kind value) or 1 (kind scale)"),
        _c("high", NUMBER, "column unit or factor", "Highest value (or factor) the evidence allows"),
        _c("distribution", TEXT, "-", "uniform, triangular (mode at central) or pert (Beta-PERT, mode at central)",
           required=False, default="triangular"),
        _c("group", TEXT, "-", "Rows with the same group move together: one draw, at the same quantile of each row's "
                              "own range; empty: the row is drawn on its own", required=False, default=""),
        _c("evidence", TEXT, "-", "Grade of the evidence: A (UK trial or meta-analysis), B (quasi-experimental or good "
                                 "administrative data), C (observational or expert judgement), D (assumption)"),
        _c("source", TEXT, "-", "Where the figure and its range come from: a section of the instance's sources.md or a citation"),
    ), optional=True),
]}

# instance.yaml keys
META_KEYS = {
    "name": ("text", "Short name of the instance"),
    "description": ("text", "What area and data the instance describes"),
    "price_year": ("text", "Price year of every money figure, e.g. 2025-26"),
    "base_year": ("integer", "Calendar year of the observed base (year 0)"),
    "horizon_years": ("integer", "Years modelled after the base year (1-30)"),
    "discount_rate": ("number", "Discount rate per year (Green Book: 0.035)"),
    "levels": ("list", "Need levels, lowest first, e.g. [universal, emerging, high, crisis]"),
    "reserves": ("mapping", "opening, minimum (£) and flexible_capital_receipts (true/false)"),
    "sources": ("text", "Optional: file citing the sources (sources.md)"),
    "evaluation_years": ("integer", "Optional: the last year modelled (at least horizon_years). Years after the horizon keep the structure chosen by then (no new adoption, closure or pooling; volumes move within the pace limits) so that effects with long lags and the end of the horizon are valued; default: the horizon plus the longest transition lag, at least twice the horizon"),
    "outcome_discount_rate": ("number", "Optional: discount rate for outcomes (Green Book for health: 0.015); default: discount_rate"),
    "pace": ("mapping", "Optional: max_growth and max_decline (shares a year) for services that leave those cells empty"),
}
RESERVE_KEYS = {"opening": "number", "minimum": "number", "flexible_capital_receipts": "bool"}
PACE_KEYS = {"max_growth": "number", "max_decline": "number"}
MAPPING_KEYS = {"reserves": RESERVE_KEYS, "pace": PACE_KEYS}  # instance.yaml keys holding a mapping
