"""Finance-ready outputs: the headline, units and years, the workbook, the tidy table."""
from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from commissionopt import Comparison, Engine, compare, load_instance
from commissionopt.reports.headline import headline, money, needs_money, sweep_sentence
from commissionopt.reports.html import small_sweep
from commissionopt.reports.labels import (NO_CUT, cut_text, cut_words, financial_year, measure_label,
                                          outcome_unit, show)
from commissionopt.reports.table import comparison_frame
from commissionopt.reports.tidy import COLUMNS, tidy_plans, tidy_sweep, write_tidy
from commissionopt.reports.xlsx import MONEY_FORMAT, SHARE_FORMAT, write_run_workbook

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"
PHASED = {1: 0.05, 2: 0.1, 3: 0.15, 4: 0.2, 5: 0.2}


@pytest.fixture(scope="module")
def tiny():
    return load_instance(TINY)


@pytest.fixture(scope="module")
def engine(tiny):
    return Engine(tiny)


@pytest.fixture(scope="module")
def phased(tiny, engine):
    return compare(tiny, PHASED, engine=engine)


# ---- words and numbers --------------------------------------------------------------------
def test_years_cuts_and_units_in_the_analysts_words(tiny):
    assert financial_year(2025, 1) == "2026-27" and financial_year(2098, 2) == "2100-01"
    assert cut_text({1: 0.0625, 2: 0.125, 3: 0.1875, 4: 0.25, 5: 0.25}) == "1:0.0625,2:0.125,3:0.1875,4:0.25"
    assert cut_text({"1": 0.2, "2": 0.2}) == "0.2" and cut_text({1: 0.0, 2: 0.0}) == NO_CUT
    assert cut_words({1: 0.0625, 2: 0.125, 3: 0.1875, 4: 0.25, 5: 0.25}) == "a 25% cut phased over four years"
    assert cut_words(PHASED) == "a 20% cut phased over four years"
    assert cut_words({1: 0.05, 2: 0.2}) == "a cut rising to 20% by year 2"
    assert cut_words(0.1) == "a 10% cut"
    assert outcome_unit(tiny) == "weighted person-years"  # outcomes.csv's unit (default) for every domain
    mixed = tiny.copy()
    mixed.tables["outcomes"].loc[0, "unit"] = "QALYs"
    assert outcome_unit(mixed) == "weighted outcome points"
    assert measure_label("discounted_spend") == "discounted spend (£)"
    assert measure_label("outcome_gain", "weighted person-years") == "outcome gain over no provision (weighted person-years)"
    assert show("payback_year", 3, tiny.meta) == "2028-29" and show("payback_year", None) == "-"


def test_the_terminal_table_says_no_cut_for_the_status_quo_and_shows_units(tiny, phased):
    shown = comparison_frame(phased, tiny.meta, outcome_unit(tiny))
    assert shown.loc["cut", "status_quo"] == "no cut"
    assert shown.loc["cut", "salami"] == cut_text(PHASED) == "1:0.05,2:0.1,3:0.15,4:0.2"
    assert "outcome value (weighted person-years)" in shown.index
    assert "{" not in shown.to_string()  # no Python dict anywhere


def _pounds(text: str) -> list[float]:
    scale = {"bn": 1e9, "m": 1e6, "k": 1e3, "": 1.0}
    return [float(n.replace(",", "")) * scale[s] for n, s in re.findall(r"£([\d,.]+)(bn|m|k|)", text)]


def _percents(text: str) -> list[float]:
    return [float(p) / 100 for p in re.findall(r"(\d+)%", text)]


def test_the_headlines_numbers_are_the_tables(phased):
    text = headline(phased)
    table = phased.table()
    sq = table.loc["status_quo", "outcome_gain"]
    assert text.startswith("At a 20% cut phased over four years, salami slicing ")
    # every pound figure is the overspend of a policy the headline speaks of (not the status quo's,
    # nor redesign_same_money's: it has salami's money), beyond the solve's overspend tolerance
    said = [k for k in ("salami", "redesign") if needs_money(phased.plans[k])]
    overspends = [table.loc[k, "overspend"] for k in said]
    pounds = _pounds(text)
    assert pounds and len(pounds) == len(overspends)
    for shown, value in zip(pounds, overspends):
        assert shown == pytest.approx(value, rel=5e-3)
        assert money(value) in text
    # every share is an outcome gain over the status quo's, rounded to a whole per cent
    kept = [table.loc[k, "outcome_gain"] / sq for k in ("salami", "redesign", "redesign_same_money")]
    assert _percents(text)[1:] == [round(k, 2) for k in kept]  # the first is the cut's 20%


def test_the_headline_follows_the_figures_when_the_redesign_does_worse(phased):
    # the same plans with the names swapped: a run where 'the redesign' keeps less than salami
    plans = dict(phased.plans)
    swapped = Comparison(plans={"status_quo": plans["status_quo"], "salami": plans["redesign"],
                                "redesign": plans["salami"]}, cut=PHASED)
    text = headline(swapped)
    sq = plans["status_quo"].summary["outcome_gain"]
    assert f"keeps {plans['redesign'].summary['outcome_gain'] / sq:.0%}" in text.split(";")[0]
    assert f"keeps {plans['salami'].summary['outcome_gain'] / sq:.0%}" in text.split(";")[1]
    assert "Given exactly salami's money" not in text  # no redesign_same_money in this comparison


def test_the_sweep_caption_is_written_from_the_sweep(engine):
    sweep = small_sweep(engine, cuts=(0.0, 0.3))
    text = sweep_sentence(sweep, 0.3)
    for k in ("salami", "redesign", "redesign_same_money"):
        r = sweep[(sweep["policy"] == k) & (sweep["cut"] == 0.3)].iloc[0]
        assert f"{k} {r['outcome_retained']:.0%}" in text
    flipped = sweep.assign(outcome_retained=1 - sweep["outcome_retained"])
    assert sweep_sentence(flipped, 0.3) != text


# ---- the workbook ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def book(tmp_path_factory, tiny, phased):
    path = tmp_path_factory.mktemp("book") / "round.xlsx"
    changes = pd.DataFrame({"service": ["=cmd|' /C calc'!A0"], "change": [1.5]})  # a hostile text cell
    write_run_workbook(path, phased.plans, tiny, headline(phased), extra={"service_changes": changes})
    return openpyxl.load_workbook(path)


def test_the_workbook_has_inputs_summary_and_one_long_sheet_per_table(book, phased):
    tables = list(phased.plans["salami"].tables)
    assert book.sheetnames == ["Summary", "Inputs", *tables, "service_changes"]  # 16, not 2 + 4 x 13
    units = book["units"]
    header = [c.value for c in units[1]]
    assert header[:5] == ["policy", "service", "mechanism", "year", "financial_year"]
    policies = {r[0] for r in units.iter_rows(min_row=2, values_only=True)}
    assert policies == set(phased.plans)
    n = sum(len(p.tables["units"]) for p in phased.plans.values())
    assert units.max_row == n + 1
    inputs = {r[0]: r[1] for r in book["Inputs"].iter_rows(min_row=2, values_only=True)}
    assert inputs["instance"] == "tiny" and inputs["budget cut"] == "1:0.05,2:0.1,3:0.15,4:0.2"
    assert inputs["outcome unit"] == "weighted person-years" and "versions" in inputs
    assert "salami: model" in inputs


def test_the_workbook_has_formats_units_frozen_headers_and_excel_tables(book):
    for name in book.sheetnames:
        ws = book[name]
        assert len(ws.tables) == 1, name
        table = next(iter(ws.tables.values()))
        assert table.autoFilter is not None and table.autoFilter.ref == table.ref, name  # filter buttons
        assert ws.freeze_panes is not None
    spend = book["spend"]
    header = [c.value for c in spend[1]]
    total = header.index("total (£)") + 1
    assert spend.cell(2, total).number_format == MONEY_FORMAT
    assert isinstance(spend.cell(2, total).value, (int, float))  # numbers stay numbers
    assert spend.freeze_panes == "A2"
    assert next(iter(spend.tables.values())).ref == f"A1:{spend.cell(1, len(header)).column_letter}{spend.max_row}"
    need = book["need"]
    assert "need (people)" in [c.value for c in need[1]]
    summary = book["Summary"]
    rows = {r[1]: r for r in summary.iter_rows(min_row=5, values_only=True)}
    assert rows["cut"][3:] == ("no cut", "1:0.05,2:0.1,3:0.15,4:0.2", "1:0.05,2:0.1,3:0.15,4:0.2",
                               "1:0.05,2:0.1,3:0.15,4:0.2")
    gap_row = next(r for r in summary.iter_rows(min_row=5) if r[1].value == "mip_gap")
    assert gap_row[4].number_format == SHARE_FORMAT
    spend_row = next(r for r in summary.iter_rows(min_row=5) if r[1].value == "discounted_spend")
    assert spend_row[4].number_format == MONEY_FORMAT and spend_row[2].value == "£"
    assert summary["A2"].value.startswith("At a 20% cut phased over four years")
    assert book["service_changes"]["A2"].value.startswith("'=")  # a formula in text is never run


# ---- the tidy table -------------------------------------------------------------------------
def test_the_tidy_table_round_trips_to_the_summary_and_the_tables(tmp_path, tiny, phased):
    frame = tidy_plans(phased.plans, "base", tiny.meta, outcome_unit(tiny))
    assert list(frame.columns) == list(COLUMNS)
    for name, plan in phased.plans.items():
        rows = frame[(frame["policy"] == name) & (frame["table"] == "summary") & (frame["level"] == "")
                     & frame["year"].isna()]
        back = dict(zip(rows["measure"], rows["value"]))
        figures = {k: float(v) for k, v in plan.summary.items() if isinstance(v, (int, float))
                   and not k.endswith("_seconds")}
        assert back == pytest.approx(figures)
        units = frame[(frame["policy"] == name) & (frame["table"] == "units")]
        wide = units.astype({"year": int}).pivot_table(index=["service", "mechanism", "year"], columns="measure",
                                                       values="value")
        original = plan.tables["units"].set_index(["service", "mechanism", "year"]).sort_index()
        pd.testing.assert_frame_equal(wide[original.columns].sort_index(), original.astype(float),
                                      check_names=False)
    spend = frame[(frame["table"] == "spend") & (frame["measure"] == "total")]
    assert set(spend["unit"]) == {"£"} and set(spend["financial_year"]) >= {"2026-27", "2030-31"}
    assert set(frame.loc[frame["policy"] == "status_quo", "cut"]) == {"no cut"}
    for suffix in (".csv", ".parquet"):
        path = write_tidy(frame, tmp_path / f"round{suffix}")
        back = pd.read_csv(path, keep_default_na=False, na_values=[""]) if suffix == ".csv" else pd.read_parquet(path)
        assert len(back) == len(frame)
        assert back["value"].sum() == pytest.approx(frame["value"].sum())


def test_a_sweep_is_tidy_too(engine):
    sweep = small_sweep(engine, cuts=(0.0, 0.2), models=("salami",))
    frame = tidy_sweep(sweep)
    gains = frame[frame["measure"] == "outcome_gain"].set_index("cut")["value"]
    assert gains.to_dict() == pytest.approx({"no cut": sweep.loc[0, "outcome_gain"], "0.2": sweep.loc[1, "outcome_gain"]})
    assert set(frame.loc[frame["measure"] == "outcome_retained", "unit"]) == {"share"}


def test_a_tidy_file_must_be_csv_or_parquet(tmp_path):
    from commissionopt.errors import CommissionoptError
    with pytest.raises(CommissionoptError, match=r"\.csv or \.parquet"):
        write_tidy(pd.DataFrame(columns=list(COLUMNS)), tmp_path / "round.xlsx")


def test_a_new_kind_of_result_reaches_every_report_as_extra_tables(tmp_path, tiny, phased):
    from commissionopt import report
    bands = pd.DataFrame({"policy": ["salami", "redesign"], "measure": ["outcome_gain"] * 2,
                          "p10": [380.0, 420.0], "p90": [400.5, 455.25], "overspend": [5.2e6, 3.1e6]})
    written = report(tiny, phased, html=tmp_path / "r.html", xlsx=tmp_path / "r.xlsx", tidy=tmp_path / "r.csv",
                     extra={"uncertainty": bands})
    assert set(written) == {"html", "xlsx", "tidy"}
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    section = page.split('<section id="extra-1">')[1].split("</section>")[0]
    assert "<h2>uncertainty</h2>" in section and ">455<" in section and "£5,200,000" in section
    assert "overspend (£)" in section
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["uncertainty"]
    assert [c.value for c in sheet[1]][:3] == ["policy", "measure", "p10"] and sheet.cell(3, 4).value == 455.25
    tidy = pd.read_csv(tmp_path / "r.csv", keep_default_na=False, na_values=[""])
    rows = tidy[tidy["table"] == "uncertainty"]
    assert sorted(rows["measure"].unique()) == ["overspend", "p10", "p90"] and len(rows) == 6
