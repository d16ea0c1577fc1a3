"""The workbook form: identical to the folder, convert both ways, template, hostile and broken workbooks."""
from __future__ import annotations

import csv
import os
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.data import blank_instance, load_instance, write_instance
from commissionopt.data import workbook as wbmod
from commissionopt.data.schema import TABLES
from commissionopt.errors import InputError

BASE = Path(__file__).parent / "broken" / "valid_base"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def book(tmp_path) -> Path:
    """The valid base instance as a workbook, written by `convert`."""
    out = tmp_path / "area.xlsx"
    result = cli("convert", BASE, out)
    assert result.exit_code == 0, result.output
    return out


def assert_same_instance(a, b) -> None:
    assert a.meta == b.meta
    assert set(a.tables) == set(b.tables) == set(TABLES)
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def edit_book(path: Path, change) -> None:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


def test_workbook_and_folder_load_identically(book):
    assert_same_instance(load_instance(BASE), load_instance(book))


def test_convert_there_and_back_is_identical(book, tmp_path):
    back = tmp_path / "back"
    assert cli("convert", book, back).exit_code == 0
    assert_same_instance(load_instance(BASE), load_instance(back))
    again = tmp_path / "again.xlsx"
    assert cli("convert", back, again).exit_code == 0
    assert_same_instance(load_instance(book), load_instance(again))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_workbook_layout(book):
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["instance", *TABLES]
    ws = wb["cohorts"]
    assert [c.value for c in ws[1]] == TABLES["cohorts"].names
    assert "years" in ws["B1"].comment.text  # each header cell carries its unit and meaning
    meta = {key: value for key, value, _ in wb["instance"].iter_rows(min_row=2, values_only=True)}
    assert meta["levels"] == "universal;emerging;high;crisis"
    assert meta["reserves.opening"] == 2000000 and meta["reserves.flexible_capital_receipts"] is False
    assert wb["buildings"]["D2"].value == "0123" and wb["buildings"]["D3"].value == "NA"


def test_convert_refuses_to_overwrite_without_force(book, tmp_path):
    before = book.read_bytes()
    result = cli("convert", BASE, book)
    assert result.exit_code != 0 and "--force" in result.output
    assert book.read_bytes() == before
    assert cli("convert", BASE, book, "--force").exit_code == 0


FORMULA_LIKE = ["=HYPERLINK(\"http://x\",\"click\")", "+44 1234 567890", "-9 months to 4 years", "@home",
                "'=already quoted", "''", "'plain"]


def test_formula_injection_is_neutralised_and_round_trips(tmp_path):
    inst = load_instance(BASE)
    n = len(inst["cohorts"])
    extra = pd.DataFrame({"cohort": [f"c{i}" for i in range(len(FORMULA_LIKE))], "age_from": -0.5,
                          "age_to": 1.0, "description": FORMULA_LIKE, "area": ""})
    inst.tables["cohorts"] = pd.concat([inst["cohorts"], extra], ignore_index=True)
    folder, book = tmp_path / "folder", tmp_path / "book.xlsx"
    write_instance(inst, folder)
    write_instance(inst, book)
    rows = list(csv.reader((folder / "cohorts.csv").open(encoding="utf-8")))
    assert rows[1 + n][3] == "'=HYPERLINK(\"http://x\",\"click\")" and rows[1][1] == "-0.75"  # numbers stay numbers
    cell = openpyxl.load_workbook(book)["cohorts"].cell(row=2 + n, column=4)
    assert cell.data_type == "s" and cell.quotePrefix and cell.value == FORMULA_LIKE[0]
    assert openpyxl.load_workbook(book)["cohorts"]["B2"].value == -0.75
    for path in (folder, book):
        again = load_instance(path, validate=False)
        assert list(again["cohorts"]["description"][n:]) == FORMULA_LIKE
        pd.testing.assert_frame_equal(again["cohorts"], inst["cohorts"])


def test_template_writes_and_reads_back(tmp_path):
    out = tmp_path / "blank.xlsx"
    result = cli("template", out)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["README", "instance", *TABLES]
    assert wb["cohorts"]["A1"].comment is not None
    inst = load_instance(out, validate=False)  # an empty instance of the right shape
    assert inst.meta == {}
    for name, spec in TABLES.items():
        assert list(inst[name].columns) == spec.names and inst[name].empty
        pd.testing.assert_frame_equal(inst[name], blank_instance()[name])
    result = cli("validate", out)  # clearly a template: it says what to fill in
    assert result.exit_code == 2
    assert "required key 'name' is missing" in result.stderr
    assert "blank.xlsx sheet cohorts: at least one row" in result.stderr
    assert cli("template", out).exit_code != 0  # no overwrite without --force


def test_filled_template_loads(tmp_path):
    """An analyst fills the template by hand: numbers typed as numbers, codes as text."""
    out = tmp_path / "filled.xlsx"
    cli("template", out)
    folder_inst = load_instance(BASE)

    def fill(wb):
        ws = wb["instance"]
        flat = {"name": "tiny_test", "description": folder_inst.meta["description"], "price_year": "2025-26",
                "base_year": 2025, "horizon_years": 5, "discount_rate": 0.035,
                "levels": "universal;emerging;high;crisis", "reserves.opening": 2000000,
                "reserves.minimum": 500000, "reserves.flexible_capital_receipts": "no",
                "pace.max_growth": 0.25, "pace.max_decline": 0.2}
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, 1).value in flat:
                ws.cell(r, 2).value = flat[ws.cell(r, 1).value]
        for name in TABLES:
            df = folder_inst[name]
            for record in df.itertuples(index=False):
                wb[name].append([None if v == "" else (v.item() if hasattr(v, "item") else v) for v in record])
    edit_book(out, fill)
    assert_same_instance(load_instance(BASE), load_instance(out))


def test_uncalculated_formula_is_an_error(book):
    edit_book(book, lambda wb: wb["options"].cell(row=3, column=4, value="=100*9"))
    result = cli("validate", book)
    assert result.exit_code == 2
    assert ("area.xlsx sheet options, row 3, column 'unit_cost': value '=100*9': "
            "a value: this formula has no calculated value saved") in result.stderr
    assert result.stderr.count("row 3, column 'unit_cost'") == 1  # not reported again as an empty cell


def test_excel_error_value_is_an_error(book):
    def put_error(wb):
        cell = wb["needs"].cell(row=4, column=3, value="#DIV/0!")
        cell.data_type = "e"
    edit_book(book, put_error)
    result = cli("validate", book)
    assert result.exit_code == 2
    assert "area.xlsx sheet needs, row 4, column 'population_base': value '#DIV/0!': a value, not the Excel error" in result.stderr


def test_missing_sheet_is_an_error(book):
    edit_book(book, lambda wb: wb.remove(wb["needs"]))
    result = cli("validate", book)
    assert result.exit_code == 2
    assert "error: area.xlsx: a sheet named 'needs'" in result.stderr


def test_excel_rows_are_reported_past_blank_rows(book):
    def spread(wb):
        ws = wb["options"]
        ws.insert_rows(4, amount=2)  # two blank rows before child_protection
        ws.cell(row=8, column=4, value=-200)  # reablement/in_house now on row 8
    edit_book(book, spread)
    result = cli("validate", book)
    assert result.exit_code == 2
    assert "area.xlsx sheet options, row 8, column 'unit_cost': value '-200'" in result.stderr


def test_unknown_sheet_is_a_warning_and_headerless_data_an_error(book):
    edit_book(book, lambda wb: wb.create_sheet("notes").append(["scratch"]))
    inst = load_instance(book)
    assert any(w.value == "notes" and w.severity == "warning" for w in inst.warnings)
    edit_book(book, lambda wb: wb["outcomes"].cell(row=2, column=9, value="stray"))
    with pytest.raises(InputError) as e:
        load_instance(book)
    assert any(p.row == 2 and p.column == "I" and p.value == "stray" for p in e.value.problems)


def test_zip_bomb_is_refused_before_parsing(book, tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.xlsx"
    shutil.copy(book, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.xml", b"\0" * (64 * 2**20))  # 64 MB of zeros, ~64 kB packed
    assert os.path.getsize(bomb) < 2**20
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("parsed a zip bomb"))
    result = cli("validate", bomb)
    assert result.exit_code == 2
    assert "error: bomb.xlsx: value 'compressed" in result.stderr and "refused unread" in result.stderr


def test_oversized_workbook_is_refused(book, monkeypatch):
    monkeypatch.setattr(wbmod, "MAX_UNPACKED_BYTES", 10_000)
    result = cli("validate", book)
    assert result.exit_code == 2
    assert "a workbook of at most" in result.stderr


def test_not_a_workbook(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("cohort,age_from\n")
    result = cli("validate", fake)
    assert result.exit_code == 2
    assert "fake.xlsx: an Excel .xlsx workbook" in result.stderr
