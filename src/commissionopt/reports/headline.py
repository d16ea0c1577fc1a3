"""The key message of a budget round, and the captions of its charts, written from the figures.

    headline(comparison)
    -> "At a 25% cut phased over four years, salami slicing needs £267m more than the budget
        (in discounted pounds) to keep statutory duties and keeps 93% of the status quo's outcome
        gain; the redesign stays within the money and reserves and keeps 123%. Given exactly
        salami's money, the redesign keeps 126%."

Nothing here is fixed text about the result: every claim is a comparison of two figures of
the plans, so a run where the redesign does worse says so. The figures are the summaries'
(the same numbers as Comparison.table()), rounded as shown.
"""
from __future__ import annotations

from ..solve.status import Status
from .labels import cut_words

HAS_PLAN = Status.HAS_PLAN  # a plan to show (time_limit and suboptimal ones flagged)
NO_OVERSPEND = 0.5  # pounds: an overspend below this is solver tolerance, not a need for money


def needs_money(plan) -> bool:
    """True when a plan overspends by more than its solve's overspend tolerance (which finds the
    least overspend only to within max(£10k, 1e-6 of the money)): below it, the money suffices."""
    tol = max(NO_OVERSPEND, plan.summary.get("overspend_tolerance") or 0.0)
    return (plan.summary.get("overspend") or 0.0) > tol
NAMES = {"salami": "salami slicing", "redesign": "the redesign", "status_quo": "the status quo",
         "redesign_same_money": "the redesign on salami's money"}
MONEY_NOTES = {
    "status_quo": "the status quo runs with no cut",
    "redesign_same_money": "redesign_same_money has exactly the money salami used, its overspend included",
}


def name(policy: str) -> str:
    return NAMES.get(policy, policy)


def money(v: float) -> str:
    """Pounds in three significant figures: £267m, £1.23bn, £950k, £12."""
    a = abs(float(v))
    sign = "-" if v < 0 else ""
    for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if a >= size * 0.9995:
            return f"{sign}£{float(f'{a / size:.3g}'):,g}{suffix}"
    return f"{sign}£{a:,.0f}"


def pct(share: float) -> str:
    return f"{share:.0%}"


def has_plan(plan) -> bool:
    return plan is not None and plan.status in HAS_PLAN and plan.summary.get("outcome_gain") is not None


def retained(plan, base) -> float | None:
    """The plan's outcome gain as a share of the status quo's (None without both)."""
    if not (has_plan(plan) and has_plan(base)):
        return None
    b = base.summary["outcome_gain"]
    return plan.summary["outcome_gain"] / b if b else None


def the_cut(comparison) -> object:
    """The cut the cut policies ran at (the status quo always runs with none)."""
    for p in comparison.plans.values():
        if p.summary.get("policy") != "status_quo" and isinstance(p.summary.get("cut"), dict):
            return p.summary["cut"]
    return comparison.cut


def _money_clause(policy: str, plan, first: bool) -> str:
    over = plan.summary.get("overspend") or 0.0
    if needs_money(plan):
        if not first:
            return f"needs {money(over)} more"
        return f"needs {money(over)} more than the budget (in discounted pounds) to keep statutory duties"
    if policy.startswith("redesign"):
        return "stays within the money and reserves"
    return "stays within the budget"


def headline(comparison) -> str:
    """One or two sentences: what each policy needs beyond the budget and how much of the
    status quo's outcome gain it keeps, at the comparison's cut."""
    plans = comparison.plans
    base = plans.get("status_quo")
    order = [k for k in plans if k not in ("status_quo", "redesign_same_money")]
    order.sort(key=lambda k: (k != "salami", k != "redesign"))  # salami, redesign, then the rest as given
    clauses, said_need = [], False
    for k in order:
        p = plans[k]
        if not has_plan(p):
            clauses.append(f"{name(k)} has no plan that meets every hard constraint ({p.status})")
            continue
        text = f"{name(k)} {_money_clause(k, p, first=not said_need)}"
        said_need = said_need or needs_money(p)
        r = retained(p, base)
        if r is not None:
            text += f" and keeps {pct(r)}" + (" of the status quo's outcome gain" if not any(
                "outcome gain" in c for c in clauses) else "")
        clauses.append(text)
    if not clauses:
        return ""
    words = cut_words(the_cut(comparison))
    opening = "With no cut" if words == "no cut" else f"At {words}"
    text = f"{opening}, " + "; ".join(clauses) + "."
    same = plans.get("redesign_same_money")
    salami = plans.get("salami")
    if has_plan(same):
        r = retained(same, base)
        if r is not None:
            text += f" Given exactly salami's money, the redesign keeps {pct(r)}."
        elif has_plan(salami) and salami.summary["outcome_gain"]:
            ratio = same.summary["outcome_gain"] / salami.summary["outcome_gain"] - 1
            text += f" Given exactly salami's money, the redesign's outcome gain is {pct(abs(ratio))} " \
                    f"{'above' if ratio >= 0 else 'below'} salami's."
    return text


def money_note(plans) -> str:
    """Which policies ran on different money, in a sentence (empty when all ran on the same)."""
    notes = [MONEY_NOTES[k] for k in MONEY_NOTES if k in plans]
    if not notes:
        return ""
    others = [k for k in plans if k not in MONEY_NOTES]
    if others:
        notes.append(f"{', '.join(others)} {'run' if len(others) > 1 else 'runs'} on the budget after the cut")
    return "Policies ran on different money: " + "; ".join(notes) + "."


def sweep_sentence(sweep, chosen: float | None = None) -> str:
    """What the outcome-against-cut chart shows, from its own rows: each policy's share of the
    status quo's outcome gain at the chosen cut (when swept) and at the deepest cut, and the
    first cut from which a policy needs money beyond the budget."""
    if sweep is None or not len(sweep) or "outcome_retained" not in sweep.columns:
        return ""
    ok = sweep[sweep["status"].isin(HAS_PLAN)].copy()
    ok["cut"] = ok["cut"].astype(float)
    policies = list(dict.fromkeys(ok["policy"]))
    if not policies:
        return ""

    def at(cut: float) -> str:
        parts = []
        for k in policies:
            row = ok[(ok["policy"] == k) & ((ok["cut"] - cut).abs() < 1e-9)]
            if len(row) and row["outcome_retained"].notna().all():
                parts.append(f"{k} {pct(float(row['outcome_retained'].iloc[0]))}")
        return ", ".join(parts)

    sentences = []
    cuts = sorted(set(ok["cut"]))
    if chosen is not None and any(abs(c - chosen) < 1e-9 for c in cuts):
        sentences.append(f"At {pct(chosen)} (the dotted line: the level the chosen cut reaches, here applied in "
                         f"every year) the share of the status quo's outcome gain kept is: {at(chosen)}.")
    deepest = cuts[-1]
    if chosen is None or abs(deepest - chosen) > 1e-9:
        sentences.append(f"At the deepest cut swept ({pct(deepest)}): {at(deepest)}.")
    for k in policies:
        if k == "redesign_same_money":  # it is given salami's money: it has no budget of its own
            continue
        d = ok[(ok["policy"] == k) & (ok["overspend"].astype(float) > NO_OVERSPEND)]
        if len(d):
            sentences.append(f"{k} needs money beyond the budget from a {pct(float(d['cut'].min()))} cut.")
        else:
            sentences.append(f"{k} stays within the budget at every cut swept.")
    return " ".join(sentences)


def final_year_sentence(plans, inst_meta: dict, level: str, year_label) -> str:
    """People in need at the last need level in the final year, policy by policy (for the
    need-by-level chart's caption)."""
    parts = []
    year = None
    for k, p in plans.items():
        if not has_plan(p) or "need" not in p.tables:
            continue
        need = p.tables["need"]
        year = int(need["year"].max())
        n = float(need[(need["level"] == level) & (need["year"] == year)]["need"].sum())
        parts.append(f"{k} {n:,.0f}")
    if not parts:
        return ""
    return f"People in need at {level} in {year_label(inst_meta, year)}: " + ", ".join(parts) + "."
