"""The synthetic-instance generator: deterministic, valid, balanced, and sized as documented."""
from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from commissionopt.data.generate import generate_instance
from commissionopt.data.load import load_instance
from commissionopt.data.schema import TABLES
from commissionopt.model.build import build_model

ROOT = Path(__file__).resolve().parents[1]


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def rows(folder: Path, table: str) -> list[dict]:
    with open(folder / TABLES[table].file, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return generate_instance(tmp_path_factory.mktemp("gen") / "small", services=40, years=5, seed=3)


@pytest.fixture(scope="module")
def multi(tmp_path_factory) -> Path:
    return generate_instance(tmp_path_factory.mktemp("gen") / "multi", services=12, years=3, areas=2, seed=1)


def test_same_seed_same_bytes(tmp_path):
    a = generate_instance(tmp_path / "a", services=12, years=3, areas=2, seed=7, mechanisms=4)
    b = generate_instance(tmp_path / "b", services=12, years=3, areas=2, seed=7, mechanisms=4)
    fa, fb = files(a), files(b)
    assert sorted(fa) == sorted([t.file for t in TABLES.values()] + ["instance.yaml"])
    assert fa == fb


def test_different_seed_differs(tmp_path):
    a = files(generate_instance(tmp_path / "a", services=12, years=3, seed=1))
    b = files(generate_instance(tmp_path / "b", services=12, years=3, seed=2))
    assert a["options.csv"] != b["options.csv"]
    assert a["needs.csv"] != b["needs.csv"]


def test_exactly_the_schema_columns(small):
    for name, spec in TABLES.items():
        with open(small / spec.file, encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == spec.names, name


@pytest.mark.parametrize("which", ["small", "multi"])
def test_loads_and_validates_cleanly(which, request):
    folder = request.getfixturevalue(which)
    inst = load_instance(folder)  # raises InputError on any error
    assert not inst.warnings, [str(w) for w in inst.warnings]


def test_validate_cli(small):
    from click.testing import CliRunner

    from commissionopt.cli import main
    result = CliRunner().invoke(main, ["validate", str(small)])
    assert result.exit_code == 0, result.output


def test_county_structure(small):
    inst = load_instance(small, validate=False)
    assert len(inst["cohorts"]) == 8
    assert inst.levels == ["universal", "emerging", "high", "crisis"]
    needs = inst["needs"]
    assert len(needs) == 32
    assert (needs["statutory_coverage"] == 0).all()  # duties.csv sets the duties
    statutory = {kl for kl, c in inst.statutory_coverage().items() if c == 1.0}
    assert statutory == {(k, "crisis") for k in ("early_years", "primary", "secondary", "older", "oldest")}
    # each duty is met by the services aimed at its need, and by no other
    sv = inst["services"].set_index("service")
    for duty, k, l in zip(inst["duties"]["duty"], inst["duties"]["cohort"], inst["duties"]["level"]):
        listed = set(inst["duty_services"].loc[inst["duty_services"]["duty"] == duty, "service"])
        assert listed == set(sv.index[(sv["cohort"] == k) & (sv["level"] == l)]), duty
    # every service: one current option and mechanisms - 1 alternatives
    per = inst["options"].groupby("service").agg(n=("mechanism", "size"), current=("current", "sum"))
    assert (per["n"] == 5).all() and (per["current"] == 1).all()
    opts = inst["options"]
    new = opts[~opts["current"]]
    assert (new["setup_cost"] > 0).any()
    lead = dict(zip(inst["mechanisms"]["mechanism"], inst["mechanisms"]["lead_years"]))
    assert any(lead[m] > 0 for m in new["mechanism"])
    assert new["description"].str.contains("does not pay back").any()
    # staff hours only on in-house options
    fam = dict(zip(inst["mechanisms"]["mechanism"], inst["mechanisms"]["family"]))
    assert set(fam[m] for m in inst["option_staff"]["mechanism"]) == {"in_house"}
    f = inst["funding"].set_index("stream")
    assert f.at["general_fund", "subject_to_cut"] and f.at["general_fund", "overheads"]
    assert not f.at["public_health_grant", "subject_to_cut"] and f.at["public_health_grant", "scope"] == "public_health"
    assert f.at["better_care_fund", "poolable"] and f.at["better_care_fund", "partner"] == "nhs"
    assert inst.reserves["opening"] > inst.reserves["minimum"] > 0
    # rates leaving a (cohort, level) add up to at most 1 per lag
    t = inst["transitions"]
    assert (t.groupby(["from_cohort", "from_level", "lag_years"])["rate"].sum() <= 1.0).all()
    assert (t["lag_years"] > 1).any()


def test_multi_area_names(multi):
    inst = load_instance(multi, validate=False)
    services = inst["services"]
    assert len(services) == 24
    assert set(services["area"]) == {"a01", "a02"}
    assert all(s.startswith(a + "_") for s, a in zip(services["service"], services["area"]))
    assert all(c.startswith(a + "_") for c, a in zip(services["cohort"], services["area"]))
    streams = inst["funding"]
    shared = streams[streams["area"] == ""]
    assert list(shared["stream"]) == ["better_care_fund"]  # one NHS stream for both areas
    assert {"a01_general_fund", "a02_general_fund"} <= set(streams["stream"])


def test_base_year_balanced(small):
    """Need is the steady state of the recursion under base service, and the money is the base spend + ~1%."""
    inst = load_instance(small, validate=False)
    needs = inst["needs"]
    pop = dict(zip(zip(needs["cohort"], needs["level"]), needs["population_base"]))
    arrivals = dict(zip(zip(needs["cohort"], needs["level"]), needs["arrivals_per_year"]))
    svc = inst["services"].set_index("service")
    opts = inst["options"]
    cur = opts[opts["current"]].set_index("service")
    prevented = defaultdict(float)
    for s, row in svc.iterrows():
        served = row["base_units"] * row["people_per_unit"] * (1 - cur.at[s, "failure_demand"])
        prevented[(row["cohort"], row["level"])] += cur.at[s, "effect_escalation"] * served
    inflow = defaultdict(float)
    t = inst["transitions"]
    for fk, fl, tk, tl, r in zip(t["from_cohort"], t["from_level"], t["to_cohort"], t["to_level"], t["rate"]):
        escalates = (fk, fl) != (tk, tl)  # effects cut escalation, not persistence
        inflow[(tk, tl)] += r * (pop[(fk, fl)] - (prevented[(fk, fl)] if escalates else 0.0))
    for kl in pop:
        year1 = arrivals[kl] + inflow[kl]
        assert year1 == pytest.approx(pop[kl], rel=0.01, abs=1.0), kl

    mech = inst["mechanisms"].set_index("mechanism")
    direct = sum(svc.at[s, "base_units"] * cur.at[s, "unit_cost"] * (1 + mech.at[cur.at[s, "mechanism"], "transaction_rate"])
                 for s in svc.index)
    wf = inst["workforce"]
    staff = float((wf["fte_base"] * wf["cost_per_fte"]).sum())
    b = inst["buildings"]
    fixed = float(b["fixed_cost"].sum())
    money = float(inst["funding"]["base_amount"].sum())
    assert direct + staff + fixed <= money <= 1.05 * (direct + staff + fixed) + 5e6


def test_status_quo_is_feasible_and_roughly_affordable(multi):
    from commissionopt.runs.engine import Engine
    inst = load_instance(multi, validate=False)
    plan = Engine(inst).run("status_quo", verify=False)
    assert plan.summary["status"] == "optimal"
    # demographic pressure only: overspend a small share of the discounted spend
    assert plan.summary["overspend_nominal"] <= 0.03 * plan.summary["discounted_spend"]


def variables(folder: Path) -> int:
    m, _ = build_model(load_instance(folder, validate=False))
    return m.nvariables()


def test_variables_grow_with_services_and_years(tmp_path):
    # modelled years: the horizon plus the evaluation years after it (the generator's longest lag
    # is 10 years: 3 -> 13 years modelled, 13 -> 23)
    base = variables(generate_instance(tmp_path / "a", services=20, years=3, seed=0))
    more_services = variables(generate_instance(tmp_path / "b", services=40, years=3, seed=0))
    more_years = variables(generate_instance(tmp_path / "c", services=20, years=13, seed=0))
    more_areas = variables(generate_instance(tmp_path / "d", services=20, years=3, areas=2, seed=0))
    assert more_services > 1.5 * base
    assert more_years > 1.6 * base  # 23 / 13 = 1.77 modelled years
    assert more_areas > 1.8 * base
    # the documented rule of thumb: areas * modelled years * (services * (2.7 mechanisms + 4.7) + 260), within 25%
    rule = 1 * 13 * (40 * (2.7 * 5 + 4.7) + 260)
    assert more_services == pytest.approx(rule, rel=0.25)


def test_bad_arguments(tmp_path):
    for kw in ({"services": 0, "years": 3}, {"services": 5, "years": 0}, {"services": 5, "years": 31},
               {"services": 5, "years": 3, "areas": 0}, {"services": 5, "years": 3, "mechanisms": 0}):
        with pytest.raises(ValueError):
            generate_instance(tmp_path / "x", **kw)


def test_many_mechanisms_and_one_service(tmp_path):
    inst = load_instance(generate_instance(tmp_path / "m", services=1, years=2, mechanisms=14, seed=0))
    assert len(inst["options"]) == 14
    inst = load_instance(generate_instance(tmp_path / "one", services=3, years=1, mechanisms=1, seed=0))
    assert inst["options"]["current"].all()


def test_bench_smoke():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--smoke"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| 1k |" in out.stdout and "simplex" in out.stdout


def test_ranges_cover_every_effect_and_draws_move_them(small):
    """The generator writes ranges.csv: every service with an effect has a range row, and drawing it
    at its low and high ends moves that service's effects (runs/draws.py applies the draws)."""
    from commissionopt.runs.draws import draw_names, drawn_instance
    inst = load_instance(small)
    ranges = inst["ranges"]
    op = inst["options"]
    with_effect = set(op.loc[op["effect_escalation"] > 0, "service"])
    ranged = {w.split("=", 1)[1] for w in ranges.loc[ranges["column"] == "effect_escalation", "where"]}
    assert with_effect and with_effect == ranged
    service = sorted(with_effect)[0]
    name = f"row {2 + list(ranges['where']).index(f'service={service}')}"  # its file row (the header is row 1)
    assert name in draw_names(inst)
    low, high = (drawn_instance(inst, {name: q})["options"] for q in (0.0, 1.0))
    at = op["service"] == service
    assert (low.loc[at, "effect_escalation"] <= op.loc[at, "effect_escalation"] * 0.5 + 1e-12).all()
    assert (high.loc[at, "effect_escalation"] >= op.loc[at, "effect_escalation"] - 1e-12).all()
    assert high.loc[at, "effect_escalation"].max() > op.loc[at, "effect_escalation"].max()
