"""The HTML report: one self-contained file, escaped, deterministic, written atomically."""
from __future__ import annotations

import base64
import copy
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from commissionopt import Engine, compare, load_instance
from commissionopt.reports import charts
from commissionopt.reports.html import build_report, decomposition, small_sweep, write_report
from commissionopt.reports.table import fmt
from commissionopt.results.plan import Plan
from commissionopt.runs.compare import Comparison

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"
SECTIONS = ("outcome-vs-cut", "spend-by-level", "need-by-level", "advantage")
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def run():
    inst = load_instance(TINY)
    engine = Engine(inst)
    comparison = compare(inst, 0.25, engine=engine)
    sweep = small_sweep(engine, cuts=(0.0, 0.25, 0.5))
    return inst, comparison, sweep


@pytest.fixture(scope="module")
def report(run):
    inst, comparison, sweep = run
    return build_report(inst, comparison, sweep)


def images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_small_sweep_resolves_each_policy_at_each_cut(run):
    _, _, sweep = run
    assert list(sweep[["policy", "cut"]].itertuples(index=False, name=None)) == [
        (p, c) for p in ("salami", "redesign", "redesign_same_money") for c in (0.0, 0.25, 0.5)]
    assert {"status", "outcome_gain", "outcome_value", "discounted_spend", "overspend",
            "outcome_retained"} <= set(sweep.columns)
    assert set(sweep["status"]) == {"optimal"}
    # salami with no cut is the status quo: all of its outcome retained
    s0 = sweep[(sweep["policy"] == "salami") & (sweep["cut"] == 0.0)].iloc[0]
    assert s0["outcome_retained"] == pytest.approx(1.0, rel=1e-6)
    s = sweep[sweep["policy"] == "salami"].set_index("cut")
    assert s.loc[0.5, "outcome_gain"] <= s.loc[0.25, "outcome_gain"] <= s.loc[0.0, "outcome_gain"] + 1e-6
    # at every cut, the redesign given salami's money (overspend included) does at least as well
    same = sweep[sweep["policy"] == "redesign_same_money"].set_index("cut")
    for c in (0.0, 0.25, 0.5):
        assert same.loc[c, "outcome_gain"] >= s.loc[c, "outcome_gain"] * (1 - same.loc[c, "mip_gap"]) - 1e-6


def test_report_is_one_self_contained_document(report):
    assert report.startswith("<!DOCTYPE html>") and report.rstrip().endswith("</html>")
    assert "http://" not in report and "https://" not in report
    assert not re.search(r"<(script|link|iframe|object|embed)\b", report, re.I)
    assert "@import" not in report and "url(" not in report
    for src in re.findall(r'\bsrc="([^"]*)"', report):
        assert src.startswith("data:image/png;base64,")
    pngs = images(report)
    assert len(pngs) == 4 and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)


def test_report_has_the_four_charts_and_the_comparison(run, report):
    inst, comparison, _ = run
    for anchor in ("inputs", "comparison") + SECTIONS:
        assert f'<section id="{anchor}">' in report
    for anchor in SECTIONS:
        body = report.split(f'<section id="{anchor}">')[1].split("</section>")[0]
        assert "data:image/png;base64," in body and "<figcaption>" in body
    salami = comparison.plans["salami"].summary
    assert salami["overspend"] > 0
    assert fmt("overspend", salami["overspend"]) in report          # e.g. £9,661,501
    assert fmt("discounted_spend", comparison.plans["redesign"].summary["discounted_spend"]) in report
    for name in comparison.plans:
        assert f"<th class=\"num\">{name}" in report
    assert "tiny" in report and "highspy" in report and "a 25% cut (--cut 0.25)" in report
    # no lever attribution was given: the honest decomposition, labelled for what it is
    assert "accounting decomposition, not a lever attribution" in report


def test_the_decomposition_adds_up_to_the_plans_difference(run):
    inst, comparison, _ = run
    dec = decomposition(inst, comparison.plans)
    assert dec["pair"] == ("salami", "redesign_same_money")
    a, b = (comparison.plans[n].summary for n in dec["pair"])
    assert "not split" not in set(dec["spend"]["lever"]) and "not split" not in set(dec["outcome"]["lever"])
    assert dec["spend"]["contribution"].sum() == pytest.approx(b["discounted_spend"] - a["discounted_spend"],
                                                               abs=1e-3)
    assert dec["outcome"]["contribution"].sum() == pytest.approx(b["outcome_gain"] - a["outcome_gain"], abs=1e-6)
    assert {f"direct: {lv}" for lv in inst.levels} <= set(dec["spend"]["lever"])


def test_report_is_deterministic(run, report):
    inst, comparison, sweep = run
    assert build_report(inst, comparison, sweep) == report


def test_text_from_the_data_is_escaped(run):
    inst, comparison, sweep = run
    hostile = inst.copy()
    hostile.meta["name"] = "<script>alert('x')</script>"
    hostile.meta["description"] = 'a "quoted" <b>bold</b> & more'
    plans = dict(comparison.plans)
    plans["<img src=x onerror=alert(1)>"] = comparison.plans["status_quo"]
    html = build_report(hostile, Comparison(plans=plans, cut=comparison.cut, inputs=comparison.inputs), sweep)
    assert "<script>" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_flagged_and_failed_plans_are_shown(run):
    inst, comparison, sweep = run
    plans = dict(comparison.plans)
    slow = copy.deepcopy(plans["salami"])
    slow.summary["status"] = "time_limit"
    slow.summary["mip_gap"] = 0.034
    plans["salami"] = slow
    plans["broken"] = Plan(summary={"status": "infeasible", "policy": "broken",
                                    "conflicts": ["statutory duty for adults/crisis in year 4 needs £3.1m more"]})
    html = build_report(inst, Comparison(plans=plans, cut=comparison.cut), sweep)
    assert '<span class="flag">time limit</span>' in html
    assert "not proven optimal (MIP gap 3.40%)" in html
    assert '<td class="num flag">time_limit</td>' in html and '<td class="num flag">infeasible</td>' in html
    assert "needs £3.1m more" in html
    assert len(images(html)) == 4  # charts drawn from the plans that have one


def test_attribution_draws_a_waterfall(run):
    inst, comparison, sweep = run
    attribution = pd.DataFrame({"lever": ["early_intervention", "mechanisms", "<buildings>"],
                                "contribution": [60.0, 35.5, -4.0]})
    html = build_report(inst, comparison, sweep, attribution=attribution)
    body = html.split('<section id="advantage">')[1].split("</section>")[0]
    assert "accounting decomposition" not in body
    assert "early_intervention" in body and "&lt;buildings&gt;" in body and "+35.50" in body
    assert len(images(body)) == 1
    assert "+91.50" in body  # the total row
    with pytest.raises(ValueError, match="lever and contribution"):
        build_report(inst, comparison, sweep, attribution=pd.DataFrame({"name": ["x"], "value": [1.0]}))


def test_without_a_sweep_the_section_says_so(run):
    inst, comparison, _ = run
    html = build_report(inst, comparison)
    body = html.split('<section id="outcome-vs-cut">')[1].split("</section>")[0]
    assert "No sweep was run" in body and "data:image" not in body


def test_charts_are_png_without_metadata_and_repeatable(run):
    inst, comparison, sweep = run
    a = charts.need_by_level(comparison.plans, inst.levels)
    assert a == charts.need_by_level(comparison.plans, inst.levels)
    assert a.startswith(b"\x89PNG") and b"matplotlib" not in a.lower() and b"Software" not in a
    w = charts.waterfall(pd.DataFrame({"lever": ["a", "b"], "contribution": [2.0, -1.0]}))
    assert w.startswith(b"\x89PNG")


def test_write_report_is_atomic(tmp_path, report):
    out = tmp_path / "r" / "report.html"
    assert write_report(out, report) == out
    assert out.read_text(encoding="utf-8") == report
    # a failed write leaves the previous report whole and no temporary file behind
    with pytest.raises(TypeError):
        write_report(out, None)
    assert out.read_text(encoding="utf-8") == report
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no headless chromium (/usr/bin/chromium)")
def test_report_renders_in_headless_chromium(tmp_path, report):
    page = write_report(tmp_path / "report.html", report)
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1280,3000", page.as_uri()]
    try:
        subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert shot.exists() and shot.stat().st_size > 50_000  # a page with charts, not a blank one


def test_a_sweep_without_outcome_retained_gets_it_from_the_status_quo(run):
    inst, comparison, sweep = run
    html = build_report(inst, comparison, sweep.drop(columns=["outcome_retained"]))  # runs.sweep's shape
    body = html.split('<section id="outcome-vs-cut">')[1].split("</section>")[0]
    assert "<td class=\"num\">100.0%</td>" in body  # salami with no cut keeps all of the status quo's gain


def test_attribution_with_its_ends_starts_at_salami(run):
    inst, comparison, sweep = run
    att = pd.DataFrame({"lever": ["early_intervention", "mechanisms"], "contribution": [40.0, 20.0]})
    att.attrs.update({"v_empty": 377.9, "v_all": 437.9, "largest_gap": 0.001})
    body = build_report(inst, comparison, sweep, attribution=att).split('<section id="advantage">')[1]
    assert "no lever free (salami slicing)" in body and "MIP gap of at most 0.10%" in body
