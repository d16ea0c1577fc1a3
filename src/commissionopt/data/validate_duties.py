"""Checks of the statutory duties (duties.csv, duty_services.csv): which services may meet a duty.

Without duties.csv a need's `statutory_coverage` is met by any service at its (cohort, level),
as before; with it, only a duty's listed services count, each within its shares.
"""
from __future__ import annotations

from .instance import Instance
from .schema import TABLES

TOLERANCE = 1e-9


def has_duties(inst: Instance) -> bool:
    return not inst["duties"].empty


def check_duty_services(inst: Instance, r) -> None:
    """A duty's services serve the duty's own cohort and level; min_share <= max_share; a duty's min_shares add up to at most 1; every duty has a service."""
    duties = inst["duties"].set_index("duty")
    services = inst["services"].set_index("service")
    ds = inst["duty_services"]
    for i in ds.index:
        duty, service = ds.at[i, "duty"], ds.at[i, "service"]
        if duty not in duties.index or service not in services.index:
            continue  # reported as a reference
        owed = (duties.at[duty, "cohort"], duties.at[duty, "level"])
        serves = (services.at[service, "cohort"], services.at[service, "level"])
        if owed != serves:
            r.row("duty_services", i, "service", service,
                  f"a service aimed at {owed[0]}/{owed[1]}, the duty's cohort and level ({service} serves "
                  f"{serves[0]}/{serves[1]})")
        if ds.at[i, "min_share"] > ds.at[i, "max_share"] + TOLERANCE:
            r.row("duty_services", i, "min_share", ds.at[i, "min_share"],
                  f"at most max_share ({ds.at[i, 'max_share']:g})")
    for duty, group in ds.groupby("duty"):
        total = float(group["min_share"].sum())
        if total > 1 + TOLERANCE:
            r.row("duty_services", group.index[-1], "min_share", round(total, 9),
                  f"min_shares of duty {duty} adding up to at most 1 (they add up to {total:g})")
    listed = set(ds["duty"])
    for i, duty in inst["duties"]["duty"].items():
        if duty not in listed:
            r.row("duties", i, "duty", duty, f"at least one service in {TABLES['duty_services'].file} that meets it")


def warn_duty_shape(inst: Instance, r) -> None:
    """Warning: without duties.csv, any service at a statutory level counts towards its duty; with it, needs.csv statutory_coverage is not used; a statutory-tagged service meets no duty."""
    needs = inst["needs"]
    statutory = needs.index[needs["statutory_coverage"] > 0]
    if not has_duties(inst):
        if len(statutory):
            r.whole("needs", "statutory_coverage", f"{len(statutory)} need(s)",
                    "a duties.csv naming the services that may meet each duty: without it any service at a "
                    "statutory (cohort, level) counts towards the duty (a drug-treatment place for a home-care duty)",
                    severity="warning")
        return
    for i in statutory:
        r.row("needs", i, "statutory_coverage", needs.at[i, "statutory_coverage"],
              "0: duties.csv sets the duties, so this coverage is not used", severity="warning")
    meeting = set(inst["duty_services"]["service"])
    sv = inst["services"]
    for i in sv.index:
        tags = [t.strip() for t in str(sv.at[i, "tags"]).split(";")]
        if "statutory" in tags and sv.at[i, "service"] not in meeting:
            r.row("services", i, "tags", sv.at[i, "tags"],
                  f"a duty in {TABLES['duty_services'].file} for a service tagged statutory", severity="warning")


def warn_duty_met(inst: Instance, r) -> None:
    """Warning: a duty is not met in the base year (its services' people served x counts_as below coverage x population_base)."""
    from .validate import base_served_by_service
    if not has_duties(inst):
        return
    people = base_served_by_service(inst)
    needs = inst["needs"].set_index(["cohort", "level"])["population_base"]
    ds = inst["duty_services"]
    for i in inst["duties"].index:
        d = inst["duties"].loc[i]
        rows = ds[ds["duty"] == d["duty"]]
        met = float(sum(people.get(s, 0.0) * c for s, c in zip(rows["service"], rows["counts_as"])))
        due = float(d["coverage"]) * float(needs.get((d["cohort"], d["level"]), 0.0))
        if met < due - 1e-6 * max(1.0, due):
            r.row("duties", i, "coverage", d["coverage"],
                  f"a duty met in the base year: its services serve {met:,.0f} duty person-years, below "
                  f"{d['coverage']:g} x {needs.get((d['cohort'], d['level']), 0.0):,.0f} = {due:,.0f}",
                  severity="warning")
