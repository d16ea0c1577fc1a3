"""The independent plan check (solve/verify.py) on a hand-built plan of instances/tiny.

The plan is built here with pandas alone, from the instance: current options at base
units (raised to the statutory duty, capped at the need), need from a forward recursion,
constant FTE with agency hours for the excess, every building open, every service paid
from a stream that may pay it, no overspend. verify() must pass it, and must catch each
deliberate corruption with a message naming the right constraint family.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from commissionopt.data.instance import split_list
from commissionopt.data.load import load_instance
from commissionopt.solve.verify import verify

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


@dataclass
class HandPlan:
    tables: dict
    summary: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def tiny():
    """instances/tiny with no evaluation years after its horizon (the hand plan stops at year 5)."""
    inst = load_instance(TINY).copy()
    inst.meta["evaluation_years"] = inst.horizon
    return inst


def build_status_quo_plan(inst, cut: dict | None = None) -> HandPlan:
    """A consistent, status-quo-like plan of `inst`, by hand."""
    H, r = inst.horizon, inst.discount_rate
    years = list(range(1, H + 1))
    cut = cut or {y: 0.0 for y in years}
    disc = {y: (1 + r) ** -y for y in years}
    needs = inst["needs"].set_index(["cohort", "level"])
    services = inst["services"].set_index("service")
    mech = inst["mechanisms"].set_index("mechanism")
    opts = inst["options"]
    current = opts[opts["current"]].set_index("service")
    tr = inst["transitions"]

    def served_per_unit(s):
        return services.at[s, "people_per_unit"] * (1 - current.at[s, "failure_demand"])

    coverage = inst.statutory_coverage()  # duties.csv: one duty a statutory need, met by its one service

    def escalates(t) -> bool:  # a move to another cohort or level: cut by effect_escalation
        return (t["from_cohort"], t["from_level"]) != (t["to_cohort"], t["to_level"])

    # base-year source of each need and kind of move: population minus what the current options
    # kept off escalation (their effects on persistence are 0 in tiny; units at base: full effect)
    base_prevented = {kl: sum(current.at[s, "effect_escalation"] * served_per_unit(s) * services.at[s, "base_units"]
                              for s in services.index if (services.at[s, "cohort"], services.at[s, "level"]) == kl)
                      for kl in needs.index}

    need, units, prevented = {}, {}, {}
    for y in years:
        for kl, row in needs.iterrows():
            n = row["arrivals_per_year"] * (1 + row["arrivals_growth"]) ** y
            for _, t in tr[(tr["to_cohort"] == kl[0]) & (tr["to_level"] == kl[1])].iterrows():
                src, back = (t["from_cohort"], t["from_level"]), y - t["lag_years"]
                cut_off = base_prevented[src] if back <= 0 else prevented[(*src, back)]
                source = needs.at[src, "population_base"] if back <= 0 else need[(*src, back)]
                n += t["rate"] * (source - (cut_off if escalates(t) else 0.0))
            need[(*kl, y)] = n
        for kl, row in needs.iterrows():
            prevented[(*kl, y)] = 0.0
        for s in services.index:
            kl = (services.at[s, "cohort"], services.at[s, "level"])
            spu = served_per_unit(s)
            n = need[(*kl, y)]
            u = min(max(services.at[s, "base_units"], coverage.get(kl, 0.0) * n / spu), n / spu)
            assert u <= services.at[s, "max_units"]
            units[(s, y)] = u
            prevented[(*kl, y)] += current.at[s, "effect_escalation"] * spu * u

    # units table: every option, every year (new options at zero)
    urows = []
    for _, o in opts.iterrows():
        s, m = o["service"], o["mechanism"]
        for y in years:
            u = units[(s, y)] if o["current"] else 0.0
            urows.append(dict(service=s, mechanism=m, year=y, units=u,
                              people_served=services.at[s, "people_per_unit"] * (1 - o["failure_demand"]) * u,
                              direct_spend=(1 + mech.at[m, "transaction_rate"]) * o["unit_cost"] * u))
    units_t = pd.DataFrame(urows)
    options_t = pd.DataFrame(dict(service=opts["service"], mechanism=opts["mechanism"], current=opts["current"],
                                  adopted=opts["current"], setup_cost=0.0))

    # need table
    served_kl = units_t.merge(services[["cohort", "level"]], left_on="service", right_index=True) \
        .groupby(["cohort", "level", "year"])["people_served"].sum()
    nrows = []
    for (k, l, y), n in need.items():
        sv = float(served_kl.get((k, l, y), 0.0))
        nrows.append(dict(cohort=k, level=l, year=y, need=n, served=sv, unmet=n - sv))
    need_t = pd.DataFrame(nrows)

    # workforce: constant FTE, agency for the excess
    wf = inst["workforce"].set_index("role")
    staff = inst["option_staff"].merge(units_t, on=["service", "mechanism"])
    staff["hours"] = staff["hours_per_unit"] * staff["units"]
    hours = staff.groupby(["role", "year"])["hours"].sum()
    wrows = []
    for role, w in wf.iterrows():
        for y in years:
            needed = float(hours.get((role, y), 0.0))
            agency = max(0.0, needed - w["hours_per_fte"] * w["fte_base"])
            assert agency <= w["max_agency_hours"], (role, y, agency)
            wrows.append(dict(role=role, year=y, fte=w["fte_base"], hires=0.0, releases=0.0, agency_hours=agency,
                              hours_needed=needed, staff_cost=w["cost_per_fte"] * w["fte_base"],
                              agency_cost=w["agency_cost_per_hour"] * agency, redundancy_cost=0.0))
    workforce_t = pd.DataFrame(wrows)

    # buildings: all open; each service's hours go to its compatible buildings in table order,
    # using available hours first, then extended hours
    bd = inst["buildings"].set_index("building")
    bh = inst["option_buildings"].merge(units_t, on=["service", "mechanism"])
    bh["hours"] = bh["hours_per_unit"] * bh["units"]
    need_hours = bh.groupby(["service", "year"])["hours"].sum()
    use_rows, used, extended = [], {}, {}
    for (s, y), h in need_hours.items():
        types = split_list(services.at[s, "building_types"])
        for b, row in bd.iterrows():
            if h <= 0:
                break
            if "*" not in types and row["type"] not in types:
                continue
            free = row["hours_available"] - used.get((b, y), 0.0)
            free_ext = row["extendable_hours"] - extended.get((b, y), 0.0)
            take = min(h, free + free_ext)
            if take <= 0:
                continue
            from_ext = max(0.0, take - free)
            used[(b, y)] = used.get((b, y), 0.0) + take
            extended[(b, y)] = extended.get((b, y), 0.0) + from_ext
            use_rows.append(dict(service=s, building=b, year=y, hours=take))
            h -= take
        assert h <= 1e-9, (s, y, h)
    use_t = pd.DataFrame(use_rows, columns=["service", "building", "year", "hours"])
    brows = []
    for b, row in bd.iterrows():
        for y in years:
            hu, ext = used.get((b, y), 0.0), extended.get((b, y), 0.0)
            brows.append(dict(building=b, year=y, open=1, hours_used=hu, extended_hours=ext,
                              fixed_cost=row["fixed_cost"], hours_cost=row["cost_per_hour"] * hu,
                              extended_cost=row["extended_cost_per_hour"] * ext, closure_cost=0.0,
                              capital_receipt=0.0))
    buildings_t = pd.DataFrame(brows)

    # money: each service from the first stream (funding table order, most specific scope first)
    # that may pay it and has money left; overheads from the overheads stream
    fund = inst["funding"].set_index("stream")
    available = {(f, y): row["base_amount"] * (1 - (cut[y] if row["subject_to_cut"] else 0.0))
                 for f, row in fund.iterrows() for y in years}
    left = dict(available)
    direct = units_t.groupby(["service", "year"])["direct_spend"].sum()
    frows = []
    specific_first = sorted(fund.index, key=lambda f: "*" in split_list(fund.at[f, "scope"]))
    for (s, y), amount in direct.items():
        tags = split_list(services.at[s, "tags"])
        for f in specific_first:
            scope = split_list(fund.at[f, "scope"])
            if not ("*" in scope or s in scope or any(t in scope for t in tags)):
                continue
            pay = amount if "*" in scope else min(amount, left[(f, y)])
            if pay > 0:
                frows.append(dict(stream=f, service=s, role="", year=y, amount=pay))
                left[(f, y)] -= pay
                amount -= pay
            if amount <= 0:
                break
        assert amount <= 1e-6, (s, y, amount)
    staff_y = workforce_t.assign(c=workforce_t["staff_cost"] + workforce_t["agency_cost"]
                                 + workforce_t["redundancy_cost"]).groupby("year")["c"].sum()
    build_y = buildings_t.assign(c=buildings_t["fixed_cost"] + buildings_t["hours_cost"]
                                 + buildings_t["extended_cost"]).groupby("year")["c"].sum()
    oh_stream = next(f for f in fund.index if fund.at[f, "overheads"])
    role_cost = workforce_t.assign(c=workforce_t["staff_cost"] + workforce_t["agency_cost"]
                                   + workforce_t["redundancy_cost"]).set_index(["role", "year"])["c"]
    for (role, y), c in role_cost.items():  # each role's staff from the overheads stream
        frows.append(dict(stream=oh_stream, service="staff", role=role, year=y, amount=c))
    for y in years:
        frows.append(dict(stream=oh_stream, service="overheads", role="", year=y, amount=build_y[y]))
    funding_t = pd.DataFrame(frows)
    spent = funding_t.groupby(["stream", "year"])["amount"].sum()
    srows = []
    for f in fund.index:
        for y in years:
            sp = float(spent.get((f, y), 0.0))
            over = max(0.0, sp - available[(f, y)])  # no reserves drawn: what the money lacks is overspend
            assert over == 0.0 or fund.at[f, "subject_to_cut"], (f, y, over)  # only where the cut fell
            srows.append(dict(stream=f, year=y, available=available[(f, y)], spent=sp, reserves_drawn=0.0,
                              overspend=over))
    streams_t = pd.DataFrame(srows)
    poolable = fund[fund["poolable"]]
    pooling_t = pd.DataFrame(dict(stream=poolable.index, pooled=False, pooling_cost=poolable["pooling_cost"].values))
    reserves_t = pd.DataFrame(dict(year=years, drawn=0.0, receipts=0.0,
                                   available_cumulative=inst.reserves["opening"] - inst.reserves["minimum"]))

    direct_y = units_t.groupby("year")["direct_spend"].sum()
    spend_t = pd.DataFrame(dict(year=years, direct=[direct_y[y] for y in years], staff=[staff_y[y] for y in years],
                                buildings=[build_y[y] for y in years], setup=0.0, pooling=0.0))
    spend_t["total"] = spend_t[["direct", "staff", "buildings", "setup", "pooling"]].sum(axis=1)
    spend_t["discount_factor"] = [disc[y] for y in years]

    # outcomes
    w = inst["outcomes"].set_index("domain")["weight"]
    g = inst["gains"].assign(v=lambda d: d["gain_per_unit"] * d["domain"].map(w)).groupby("service")["v"].sum()
    hm = inst["harms"].assign(v=lambda d: d["harm_per_person_year"] * d["domain"].map(w)) \
        .groupby(["cohort", "level"])["v"].sum()
    u = units_t.merge(opts[["service", "mechanism", "quality", "failure_demand"]], on=["service", "mechanism"])
    u["gain"] = u["service"].map(g).fillna(0) * u["quality"] * (1 - u["failure_demand"]) * u["units"]
    gain_y = u.groupby("year")["gain"].sum()
    need_t["harm"] = [hm.get((k, l), 0.0) * n for k, l, n in zip(need_t["cohort"], need_t["level"], need_t["need"])]
    harm_y = need_t.groupby("year")["harm"].sum()
    need_t = need_t.drop(columns="harm")
    outcomes_t = pd.DataFrame(dict(year=years, gain=[gain_y[y] for y in years], harm=[harm_y[y] for y in years]))
    outcomes_t["value"] = outcomes_t["gain"] - outcomes_t["harm"]
    outcomes_t["discount_factor"] = [disc[y] for y in years]

    persistence = {(t["from_cohort"], t["from_level"]): t["rate"] for _, t in tr.iterrows()
                   if (t["from_cohort"], t["from_level"]) == (t["to_cohort"], t["to_level"]) and t["lag_years"] == 1}

    def terminal(nH):
        return sum(nH[kl] * hm.get(kl, 0.0) * disc[H] * sum((persistence.get(kl, 0.0) / (1 + r)) ** t
                                                           for t in range(1, 11)) for kl in nH)

    nH = {(k, l): n for (k, l, y), n in need.items() if y == H}
    value = float((outcomes_t["value"] * outcomes_t["discount_factor"]).sum()) - terminal(nH)
    # nobody served from year 1
    n0 = {}
    for y in years:
        for kl, row in needs.iterrows():
            n = row["arrivals_per_year"] * (1 + row["arrivals_growth"]) ** y
            for _, t in tr[(tr["to_cohort"] == kl[0]) & (tr["to_level"] == kl[1])].iterrows():
                src, back = (t["from_cohort"], t["from_level"]), y - t["lag_years"]
                base = needs.at[src, "population_base"] - (base_prevented[src] if escalates(t) else 0.0)
                n += t["rate"] * (base if back <= 0 else n0[(*src, back)])
            n0[(*kl, y)] = n
    none = -sum(disc[y] * hm.get((k, l), 0.0) * n for (k, l, y), n in n0.items()) \
        - terminal({(k, l): n for (k, l, y), n in n0.items() if y == H})
    ds = float((spend_t["total"] * spend_t["discount_factor"]).sum())
    top = inst.levels[-1]
    overspend = float((streams_t["overspend"] * streams_t["year"].map(disc)).sum())
    summary = dict(status="optimal", policy="status_quo", discounted_spend=ds, overspend=overspend,
                   overspend_nominal=float(streams_t["overspend"].sum()),
                   outcome_value=value, outcome_none=none, outcome_gain=value - none,
                   outcome_per_million=(value - none) / ds * 1e6, terminal_harm=terminal(nH),
                   terminal_cost=disc[H] * sum(needs.at[kl, "future_cost"] * n for kl, n in nH.items()),
                   crisis_need_final_year=sum(n for (k, l), n in nH.items() if l == top))
    tables = dict(units=units_t, options=options_t, need=need_t, workforce=workforce_t, buildings=buildings_t,
                  building_use=use_t, funding=funding_t, streams=streams_t, pooling=pooling_t, spend=spend_t,
                  outcomes=outcomes_t, reserves=reserves_t)
    return HandPlan(tables=tables, summary=summary)


def corrupt(plan: HandPlan) -> HandPlan:
    return HandPlan(tables={k: v.copy() for k, v in plan.tables.items()}, summary=copy.deepcopy(plan.summary))


def families(messages: list[str]) -> set[str]:
    return {m.split(":", 1)[0] for m in messages}


NO_CUT = {y: 0.0 for y in range(1, 6)}  # tiny's horizon is 5 years (checked below)


def test_tiny_horizon(tiny):
    assert tiny.horizon == 5


@pytest.fixture(scope="module")
def good(tiny):
    return build_status_quo_plan(tiny)


def test_hand_built_plan_passes(tiny, good):
    assert verify(tiny, good, NO_CUT) == []


def test_plan_is_not_trivial(good):
    # the hand plan really exercises the checks: agency hours, statutory growth, two streams paying
    t = good.tables
    assert (t["workforce"]["agency_hours"] > 0).any()
    assert t["funding"]["stream"].nunique() == 2
    assert len(t["building_use"]) > 0


def test_units_change_breaks_need_flow(tiny, good):
    bad = corrupt(good)
    u = bad.tables["units"]
    i = u.index[(u["service"] == "early_help") & (u["mechanism"] == "in_house") & (u["year"] == 2)][0]
    u.loc[i, "units"] *= 0.5  # fewer served this year: more escalate into crisis next year
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("need_flow: children/crisis year 3") for m in msgs), msgs
    # early help's effect is on escalation only: emerging need (persistence) is what it was
    assert not any(m.startswith("need_flow: children/emerging") for m in msgs), msgs


def test_need_changed_breaks_need_flow(tiny, good):
    bad = corrupt(good)
    n = bad.tables["need"]
    n.loc[(n["cohort"] == "adults") & (n["level"] == "emerging") & (n["year"] == 4), "need"] += 5
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("need_flow: adults/emerging year 4") for m in msgs), msgs
    assert any(m.startswith("unmet: adults/emerging year 4") for m in msgs), msgs


def test_funding_outside_scope_is_caught(tiny, good):
    bad = corrupt(good)
    f = bad.tables["funding"]
    i = f.index[(f["service"] == "child_protection") & (f["year"] == 2)][0]
    assert f.loc[i, "stream"] == "general_fund"
    f.loc[i, "stream"] = "better_care_fund"  # BCF pays adult care only
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("ring_fence: better_care_fund pays") and "child_protection" in m
               and "outside its scope" in m for m in msgs), msgs
    assert "stream_limit" in families(msgs)  # spent no longer matches, BCF over its money


def test_pooled_scope_needs_pooling(tiny, good):
    bad = corrupt(good)
    f = bad.tables["funding"]
    i = f.index[(f["service"] == "early_help") & (f["year"] == 1)][0]
    f.loc[i, "stream"] = "better_care_fund"  # early_help is in BCF's pooled scope, but BCF is not pooled
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("ring_fence:") and "not pooled" in m for m in msgs), msgs


def test_overheads_from_wrong_stream(tiny, good):
    bad = corrupt(good)
    f = bad.tables["funding"]
    i = f.index[(f["service"] == "overheads") & (f["year"] == 1)][0]
    f.loc[i, "stream"] = "better_care_fund"
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("ring_fence: better_care_fund pays") and "overheads" in m for m in msgs), msgs


def test_fte_balance_broken(tiny, good):
    bad = corrupt(good)
    w = bad.tables["workforce"]
    w.loc[(w["role"] == "social_worker") & (w["year"] == 3), "fte"] += 1
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("fte_balance: social_worker year 3") for m in msgs), msgs


def test_hire_limit(tiny, good):
    bad = corrupt(good)
    w = bad.tables["workforce"]
    sel = (w["role"] == "family_worker") & (w["year"] >= 2)
    w.loc[(w["role"] == "family_worker") & (w["year"] == 2), "hires"] = 3
    w.loc[sel, "fte"] += 3
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("hire_limit: family_worker year 2") for m in msgs), msgs
    assert not any(m.startswith("fte_balance") for m in msgs), msgs


def test_staff_hours_short(tiny, good):
    bad = corrupt(good)
    w = bad.tables["workforce"]
    w.loc[w["role"] == "social_worker", "agency_hours"] = 0.0
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("staff_hours: social_worker") and "needs" in m for m in msgs), msgs


def test_building_reopened(tiny, good):
    bad = corrupt(good)
    b = bad.tables["buildings"]
    # the hub closes in year 2 and opens again in year 3
    b.loc[(b["building"] == "town_family_hub") & (b["year"] == 2), "open"] = 0
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("closure: town_family_hub reopens in year 3") for m in msgs), msgs


def test_building_that_cannot_close(tiny, good):
    bad = corrupt(good)
    b = bad.tables["buildings"]
    b.loc[b["building"] == "riverside_school", "open"] = 0
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("closure: riverside_school may not close") for m in msgs), msgs


def test_building_type_mismatch(tiny, good):
    bad = corrupt(good)
    use = bad.tables["building_use"]
    use.loc[use.index[0], "service"] = "home_support"  # needs no building at all
    msgs = verify(tiny, bad, NO_CUT)
    assert "building_type" in families(msgs), msgs
    assert "building_hours" in families(msgs), msgs


def test_spend_total_changed(tiny, good):
    bad = corrupt(good)
    s = bad.tables["spend"]
    s.loc[s["year"] == 4, "total"] += 50_000
    msgs = verify(tiny, bad, NO_CUT)
    assert msgs == [m for m in msgs if m.startswith("spend: year 4 reports total")] and msgs, msgs


def test_discounted_spend_changed(tiny, good):
    bad = corrupt(good)
    bad.summary["discounted_spend"] *= 1.01
    msgs = verify(tiny, bad, NO_CUT)
    assert families(msgs) == {"discounted_spend"}, msgs


def test_outcome_value_changed(tiny, good):
    bad = corrupt(good)
    bad.summary["outcome_value"] += 5.0
    msgs = verify(tiny, bad, NO_CUT)
    assert families(msgs) == {"outcome_value"}, msgs


def test_outcome_gain_and_none(tiny, good):
    bad = corrupt(good)
    bad.summary["outcome_none"] -= 10.0
    bad.summary["outcome_gain"] += 10.0
    msgs = verify(tiny, bad, NO_CUT)
    assert families(msgs) == {"outcome_none", "outcome_gain"}, msgs


def test_statutory_service_cut_below_duty(tiny, good):
    bad = corrupt(good)
    u = bad.tables["units"]
    sel = (u["service"] == "child_protection") & (u["mechanism"] == "in_house") & (u["year"] == 1)
    u.loc[sel, "units"] *= 0.9
    u.loc[sel, "people_served"] *= 0.9
    u.loc[sel, "direct_spend"] *= 0.9
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("duty_met: duty child_protection (children/crisis) year 1") for m in msgs), msgs


def test_cut_changes_available(tiny, good):
    # the same plan judged under a 50% cut: general fund available halves and its spend is over it
    msgs = verify(tiny, good, {y: 0.5 for y in range(1, 6)})
    assert any(m.startswith("stream_limit: general_fund year 1 reports available") for m in msgs), msgs
    assert any(m.startswith("stream_limit: general_fund year 1 spends") for m in msgs), msgs
    assert not any("better_care_fund" in m for m in msgs), msgs  # not subject to cut


def test_overspend_covers_the_gap(tiny, good):
    bad = corrupt(good)
    s = bad.tables["streams"]
    gf = s["stream"] == "general_fund"
    s.loc[gf, "available"] *= 0.5
    s.loc[gf, "overspend"] = s.loc[gf, "spent"] - s.loc[gf, "available"]
    disc = {y: (1 + tiny.discount_rate) ** -y for y in range(1, 6)}
    bad.summary["overspend"] = float(sum(disc[y] * o for y, o in zip(s.loc[gf, "year"], s.loc[gf, "overspend"])))
    bad.summary["overspend_nominal"] = float(s.loc[gf, "overspend"].sum())
    assert verify(tiny, bad, {y: 0.5 for y in range(1, 6)}) == []


def test_lead_time_and_adoption(tiny, good):
    bad = corrupt(good)
    u = bad.tables["units"]
    sel = (u["service"] == "early_help") & (u["mechanism"] == "grant_vcs") & (u["year"] == 1)
    u.loc[sel, "units"] = 5.0  # grant_vcs has a 1-year lead time, and the option is not adopted
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("lead_time: early_help/grant_vcs") for m in msgs), msgs
    assert any(m.startswith("option_link: early_help/grant_vcs is not adopted") for m in msgs), msgs


def test_reserves_over_drawn(tiny, good):
    bad = corrupt(good)
    s = bad.tables["streams"]
    s.loc[(s["stream"] == "general_fund") & (s["year"] == 2), "reserves_drawn"] = 300_000  # only £200k above minimum
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("reserves: by year 2") for m in msgs), msgs


def test_missing_table_is_reported(tiny, good):
    bad = corrupt(good)
    del bad.tables["workforce"]
    msgs = verify(tiny, bad, NO_CUT)
    assert "tables: the plan has no 'workforce' table" in msgs


def test_verify_does_not_use_the_model():
    # independence: no module of solve/verify imports Pyomo or anything of commissionopt.model
    import ast
    folder = Path(__file__).resolve().parents[1] / "src" / "commissionopt" / "solve" / "verify"
    files = sorted(folder.glob("*.py"))
    assert len(files) >= 5
    imported = set()
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add("." * node.level + (node.module or ""))
    assert not any("pyomo" in m or "model" in m or m.startswith("..") for m in imported), imported


# ---------------------------------------------------------------------------------------
# real solved plans (the lead's pipeline: commissionopt.runs.engine)
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine(tiny):
    mod = pytest.importorskip("commissionopt.runs.engine")
    return mod.Engine(tiny)


@pytest.mark.parametrize("model", ["status_quo", "salami", "redesign", "min_cost", "max_efficiency"])
@pytest.mark.parametrize("cut", [0.0, 0.15])
def test_real_solved_plan_passes(tiny, engine, model, cut):
    plan = engine.run(model, cut, verify=False)
    assert plan.status in ("optimal", "time_limit"), plan.summary
    assert verify(tiny, plan, plan.summary["cut"]) == []


def test_real_plan_corruption_is_caught(tiny, engine):
    plan = engine.run("redesign", 0.15, verify=False)
    bad = corrupt(HandPlan(tables=plan.tables, summary=plan.summary))
    n = bad.tables["need"]
    n.loc[n.index[-1], "need"] *= 1.05
    bad.tables["streams"].loc[0, "available"] += 1000
    msgs = verify(tiny, bad, plan.summary["cut"])
    assert {"need_flow", "stream_limit"} <= families(msgs), msgs


def test_solve_front_door_verifies(tiny):
    mod = pytest.importorskip("commissionopt.runs.engine")
    plan = mod.solve(tiny, "redesign", 0.1)
    assert plan.summary.get("verified") is True, plan.violations


# --- the families of formulation v2 -----------------------------------------------------------

def _units_row(plan, service, mechanism, year):
    u = plan.tables["units"]
    return u.index[(u["service"] == service) & (u["mechanism"] == mechanism) & (u["year"] == year)][0]


def test_pace_growth_caught(tiny, good):
    # tiny's pace: at most 25% more units a year (instance.yaml pace); early help jumps 60% in year 2
    bad = corrupt(good)
    bad.tables["units"].loc[_units_row(bad, "early_help", "in_house", 2), "units"] *= 1.6
    assert any(m.startswith("pace_growth: early_help year 2") for m in verify(tiny, bad, NO_CUT))


def test_exit_rate_caught(tiny, good):
    # residential care's spot placements: at most 35% leave a year; half leave in year 3
    bad = corrupt(good)
    bad.tables["units"].loc[_units_row(bad, "residential_care", "spot_purchase", 3), "units"] *= 0.5
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("exit_rate: residential_care/spot_purchase year 3") for m in msgs), msgs
    assert any(m.startswith("pace_decline: residential_care year 3") for m in msgs), msgs


def test_share_cap_caught(tiny, good):
    # personal budgets may deliver at most 40% of home support's units
    bad = corrupt(good)
    u = bad.tables["units"]
    u.loc[_units_row(bad, "home_support", "personal_budget", 2), "units"] = 100.0
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("share_cap: home_support/personal_budget year 2") for m in msgs), msgs


def test_full_effect_beyond_more_than_delivered_caught(tiny, good):
    bad = corrupt(good)
    u = bad.tables["units"]
    u["units_beyond_full_effect"] = 0.0
    u.loc[_units_row(bad, "early_help", "in_house", 1), "units_beyond_full_effect"] = 1e6
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("full_effect: early_help/in_house year 1") for m in msgs), msgs


def test_staff_paid_by_a_stream_that_may_not_caught(tiny, good):
    # the Better Care Fund pays neither overheads nor any service a social worker works for
    bad = corrupt(good)
    f = bad.tables["funding"]
    f.loc[(f["service"] == "staff") & (f["role"] == "social_worker") & (f["year"] == 1), "stream"] = "better_care_fund"
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("staff_funding: better_care_fund pays") for m in msgs), msgs


def test_overspend_on_a_stream_that_was_not_cut_caught(tiny, good):
    bad = corrupt(good)
    st = bad.tables["streams"]
    st.loc[(st["stream"] == "better_care_fund") & (st["year"] == 2), "overspend"] = 50_000.0
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("overspend: better_care_fund year 2") for m in msgs), msgs


def test_reserves_drawn_in_the_horizon_year_caught(tiny, good):
    bad = corrupt(good)
    st = bad.tables["streams"]
    st.loc[(st["stream"] == "general_fund") & (st["year"] == 5), "reserves_drawn"] = 10_000.0
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("sustainable: general_fund draws £10,000 of reserves in year 5") for m in msgs), msgs


def test_closure_inside_its_consultation_caught(tiny, good):
    # the town family hub may close only after one year of consultation
    bad = corrupt(good)
    b = bad.tables["buildings"]
    b.loc[b["building"] == "town_family_hub", "open"] = 0
    msgs = verify(tiny, bad, NO_CUT)
    assert any(m.startswith("closure_lead: town_family_hub is closed in year 1") for m in msgs), msgs


def test_an_infinite_figure_is_never_verified(tiny, good):
    bad = corrupt(good)
    bad.summary["outcome_gain"] = float("inf")
    bad.tables["outcomes"].loc[0, "gain"] = float("inf")
    msgs = verify(tiny, bad, NO_CUT)
    assert "finite: summary 'outcome_gain' is not a finite number (inf)" in msgs, msgs
    assert any(m.startswith("finite: the 'outcomes' table") for m in msgs), msgs
