"""Input files that are not what they seem: each is bad input (exit 2) named with its
file, row and column, never a traceback, a hang or a read of something elsewhere."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.data.schema import INTEGER, NUMBER, TABLES, plausible_limit

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def tiny(tmp_path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def bad_input(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    text = result.stderr
    for e in expected:
        assert e in text, (e, text)


# --- files that are not files ------------------------------------------------------------

def _cli(*args, timeout=60) -> subprocess.CompletedProcess:
    """The CLI in its own process: a regression here would hang, and a hang must fail, not stall."""
    return subprocess.run([sys.executable, "-m", "commissionopt.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def test_a_fifo_in_place_of_a_table_is_refused_not_waited_on(tiny):
    (tiny / "workforce.csv").unlink()
    os.mkfifo(tiny / "workforce.csv")
    r = _cli("validate", tiny)
    assert r.returncode == 2 and "error: workforce.csv: a regular file, not a FIFO" in r.stderr


def test_a_table_linked_to_a_device_is_refused_unread(tiny):
    (tiny / "workforce.csv").unlink()
    (tiny / "workforce.csv").symlink_to("/dev/zero")
    r = _cli("validate", tiny)
    assert r.returncode == 2 and "error: workforce.csv: a regular file, not a character device" in r.stderr


def test_a_folder_in_place_of_a_table_or_of_instance_yaml(tiny):
    (tiny / "workforce.csv").unlink()
    (tiny / "workforce.csv").mkdir()
    bad_input(invoke("validate", tiny), "error: workforce.csv: a regular file, not a folder")
    (tiny / "instance.yaml").unlink()
    (tiny / "instance.yaml").mkdir()
    bad_input(invoke("validate", tiny), "error: instance.yaml: a regular file, not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_table(tiny):
    (tiny / "workforce.csv").chmod(0)
    bad_input(invoke("validate", tiny), "error: workforce.csv: a readable file (Permission denied)")


def test_a_dangling_symlink_for_an_optional_table_is_not_silently_dropped(tiny):
    (tiny / "option_staff.csv").unlink()
    (tiny / "option_staff.csv").symlink_to(tiny / "gone.csv")
    bad_input(invoke("validate", tiny), "error: option_staff.csv: a file that exists: it is a symlink to")


# --- CSV text -----------------------------------------------------------------------------

def test_a_bare_cr_before_a_byte_that_is_not_utf8(tiny):
    (tiny / "workforce.csv").write_bytes(b"role,fte_base\r\xe9x,1\n")
    bad_input(invoke("validate", tiny), "error: workforce.csv, row 2, column 'role'", "byte 0xE9 is not UTF-8")


def test_a_row_with_an_extra_field_is_named_and_shifts_nothing(tiny):
    text = (tiny / "cohorts.csv").read_text()
    first = text.splitlines()[1]
    (tiny / "cohorts.csv").write_text(text.replace(first, "x," + first, 1))
    r = invoke("validate", tiny)
    bad_input(r, "error: cohorts.csv, row 2", "row 2 has 5 fields, the header 4")
    # no cell was moved into another column: nothing blames age_from, age_to or description
    assert not [e for e in errors(r) if re.search(r"column '(age_from|age_to|description)'", e)], r.stderr


def test_nul_bytes_in_a_cell(tiny):
    text = (tiny / "services.csv").read_text()
    (tiny / "services.csv").write_text(text.replace("early_help", "early\x00help", 1))
    bad_input(invoke("validate", tiny), "services.csv, row 2, column 'service'", "control characters")


# --- YAML ---------------------------------------------------------------------------------

def test_one_yaml_error_in_instance_yaml_is_one_error(tiny):
    text = (tiny / "instance.yaml").read_text()
    (tiny / "instance.yaml").write_text(re.sub(r"horizon_years: (\d+)", r"horizon_years: [\1", text))
    r = invoke("validate", tiny)
    bad_input(r, "error: instance.yaml, row", "valid YAML")
    assert len(errors(r)) == 1, r.stderr  # not nine false 'required key missing' besides


@pytest.mark.parametrize("depth", [25, 330, 5000])
def test_yaml_nested_deep_is_bad_input_not_a_recursion_error(tiny, tmp_path, depth):
    deep = "[" * depth + "]" * depth
    with open(tiny / "instance.yaml", "a") as fh:
        fh.write(f"deep: {deep}\n")
    bad_input(invoke("validate", tiny), "instance.yaml, row", "nested at most 20 deep")
    scenario = tmp_path / "deep.yaml"
    scenario.write_text(f"name: deep\nset: {deep}\n")
    bad_input(invoke("validate", TINY, "--scenario", scenario), "deep.yaml, row 2", "nested at most 20 deep")
    model = tmp_path / "deep_model.yaml"
    model.write_text(f"name: deep\nsolver: {deep}\n")
    bad_input(invoke("solve", TINY, "--model", model), "deep_model.yaml, row 2", "nested at most 20 deep")


def test_yaml_with_too_many_values_is_refused_before_it_is_read_whole(tmp_path):
    scenario = tmp_path / "wide.yaml"
    scenario.write_text("name: wide\n" + "".join(f"key{i}: {i}\n" for i in range(12_000)))
    bad_input(invoke("validate", TINY, "--scenario", scenario), "wide.yaml, row", "at most 20,000 keys and values")


def test_base_year_1e20_is_not_a_year(tiny, tmp_path):
    text = (tiny / "instance.yaml").read_text()
    (tiny / "instance.yaml").write_text(re.sub(r"base_year: \d+", "base_year: 1e20", text))
    bad_input(invoke("validate", tiny), "instance.yaml, row base_year", "a calendar year from 1900 to 2200")
    scenario = tmp_path / "year.yaml"
    scenario.write_text("name: year\nset: {base_year: 1e20}\n")
    bad_input(invoke("validate", TINY, "--scenario", scenario), "year.yaml, row 2, column 'set.base_year'",
              "a calendar year")


# --- magnitudes ---------------------------------------------------------------------------

def _numeric_cells():
    """(table, column) of every numeric column that tiny's files hold."""
    out = []
    for name, spec in TABLES.items():
        path = TINY / spec.file
        if not path.exists():
            continue
        header = path.read_text().splitlines()[0].split(",")
        out += [(name, c.name) for c in spec.columns if c.kind in (NUMBER, INTEGER) and c.name in header]
    return out


@pytest.mark.parametrize("table, column", _numeric_cells())
def test_1e308_in_any_numeric_column_is_bad_input_naming_it(tiny, table, column):
    path = tiny / TABLES[table].file
    lines = path.read_text().splitlines()
    k = lines[0].split(",").index(column)
    cells = next(iter(__import__("csv").reader([lines[1]])))
    cells[k] = "1e308"
    lines[1] = ",".join(f'"{c}"' if "," in c else c for c in cells)
    path.write_text("\n".join(lines) + "\n")
    bad_input(invoke("validate", tiny), f"{TABLES[table].file}, row 2, column '{column}': value")


def test_plausible_limits_follow_the_unit():
    assert plausible_limit("£/year") == plausible_limit("£") == 1e13
    assert plausible_limit("people") == 1e10 and plausible_limit("hours/FTE/year") == 1e9
    assert plausible_limit("outcome units/person-year") == plausible_limit("points/unit") == 1e6
    assert plausible_limit("a unit nobody listed") == 1e15


def test_scenario_values_that_overflow_are_named_at_their_line(tmp_path):
    scenario = tmp_path / "big.yaml"
    scenario.write_text("name: big\nchanges:\n  - table: funding\n    scale: {base_amount: 1e308}\n")
    bad_input(invoke("validate", TINY, "--scenario", scenario), "big.yaml, row 4, column 'changes[1].scale.base_amount'")
    scenario.write_text("name: big\nchanges:\n  - table: needs\n    set: {population_base: 1e8}\n"
                        "  - table: needs\n    scale: {population_base: 500}\n")
    bad_input(invoke("validate", TINY, "--scenario", scenario), "big.yaml, row 6, column 'changes[2].scale.population_base'",
              "below 1e+10 in size")


# --- extends ------------------------------------------------------------------------------

def test_extends_stays_inside_the_scenario_s_folder_tree(tmp_path):
    (tmp_path / "mine").mkdir()
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: secret\nchanges: [{table: TOP_SECRET_LINE}]\n")
    scenario = tmp_path / "mine" / "child.yaml"
    for target in (str(secret), "../secret.yaml", "/etc/passwd"):
        scenario.write_text(f"name: child\nextends: {target}\n")
        r = invoke("validate", TINY, "--scenario", scenario)
        bad_input(r, "child.yaml, row 2, column 'extends'", "may not leave the scenario's folder tree", "--allow-outside")
        assert "TOP_SECRET_LINE" not in r.stderr and "root:" not in r.stderr
    scenario.write_text("name: child\nextends: ../secret.yaml\n")
    r = invoke("validate", TINY, "--scenario", scenario, "--allow-outside")
    bad_input(r, "secret.yaml, row 2")  # read, because allowed: its own errors now


def test_a_file_that_is_not_yaml_is_never_echoed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("root:$6$hash:19000:0:99999:7:::\n\tindented: tab\n@@@ weird\n")
    scenario = tmp_path / "a" / "s.yaml"
    scenario.write_text("name: s\nextends: notes.txt\n")
    r = invoke("validate", TINY, "--scenario", scenario)
    assert r.exit_code == 2 and "notes.txt" in r.stderr
    assert "$6$hash" not in r.stderr and "weird" not in r.stderr, r.stderr


def test_extends_with_a_nul_byte(tmp_path):
    scenario = tmp_path / "nul.yaml"
    scenario.write_text('name: nul\nextends: "a\\0b.yaml"\n')
    bad_input(invoke("validate", TINY, "--scenario", scenario), "nul.yaml, row 2, column 'extends'", "NUL")


# --- workbooks ----------------------------------------------------------------------------

@pytest.fixture
def book(tmp_path) -> Path:
    path = tmp_path / "tiny.xlsx"
    assert invoke("convert", TINY, path).exit_code == 0
    return path


def _replace_part(book: Path, part: str, change) -> None:
    """Rewrite one XML part of a workbook (a zip) with `change(text) -> text`."""
    tmp = book.with_suffix(".tmp")
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, change(data.decode()).encode() if item.filename == part else data)
    tmp.replace(book)


def _sheet_part(book: Path, sheet: str) -> str:
    wb = openpyxl.load_workbook(book)
    return f"xl/worksheets/sheet{wb.sheetnames.index(sheet) + 1}.xml"


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE worksheet [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY e "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'])
def test_a_sheet_with_an_entity_is_bad_input_naming_the_sheet(book, doctype):
    part = _sheet_part(book, "cohorts")
    _replace_part(book, part, lambda xml: doctype + xml.replace("<v>", "<v>&e;", 1))
    r = invoke("validate", book)
    bad_input(r, "tiny.xlsx sheet cohorts: a sheet of plain cells that reads")
    assert "root:" not in r.stderr and "aaaaaaaaaaaaaaaaaaaa" not in r.stderr


def test_a_chartsheet_in_place_of_a_table(book):
    from openpyxl.chart import BarChart, Reference
    wb = openpyxl.load_workbook(book)
    index = wb.sheetnames.index("workforce")
    wb.remove(wb["workforce"])
    chart = BarChart()
    chart.add_data(Reference(wb["funding"], min_col=2, min_row=1, max_row=3), titles_from_data=True)
    wb.create_chartsheet("workforce", index).add_chart(chart)
    wb.save(book)
    bad_input(invoke("validate", book), "tiny.xlsx sheet workforce: a worksheet of rows and columns, not a chart sheet")


def test_workbook_messages_name_sheets_not_csv_files(book):
    wb = openpyxl.load_workbook(book)
    ws = wb["option_staff"]
    ws.cell(row=2, column=[c.value for c in ws[1]].index("role") + 1, value="nobody")
    wb.save(book)
    r = invoke("validate", book)
    bad_input(r, "tiny.xlsx sheet option_staff, row 2, column 'role': value 'nobody': a role listed in sheet workforce")
    assert ".csv" not in r.stderr


def test_a_fifo_in_place_of_a_workbook(tmp_path):
    os.mkfifo(tmp_path / "area.xlsx")
    r = _cli("validate", tmp_path / "area.xlsx")
    assert r.returncode == 2 and "a regular file, not a FIFO" in r.stderr
