"""Loading a folder instance: a corpus of broken inputs through the CLI, and values read as written."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.data import load_instance
from commissionopt.errors import InputError

from datakit import copy_base, edit


@pytest.fixture
def base(tmp_path) -> Path:
    return copy_base(tmp_path)


def validate(path: Path):
    return CliRunner().invoke(main, ["validate", str(path)])


def test_valid_base_passes(base):
    result = validate(base)
    assert result.exit_code == 0, result.output
    assert "Checks: valid, 0 warning(s)" in result.stdout
    for title in ("money", "workforce", "buildings by type and owner", "Needs database", "spend against funding"):
        assert title in result.stdout


def _missing_column(f):
    edit(f / "transitions.csv", "lag_years,rate\n", "lag_years\n")
    for line in (f / "transitions.csv").read_text().splitlines()[1:]:
        edit(f / "transitions.csv", line, line.rsplit(",", 1)[0])


def _non_utf8(f):
    (f / "cohorts.csv").write_bytes((f / "cohorts.csv").read_bytes().replace(b"People aged", b"\xa385 People aged"))


def _empty(f):
    (f / "outcomes.csv").write_text("")


# name -> (break the base folder, text every message must hold)
CORPUS = {
    "missing column": (_missing_column, "transitions.csv, row 1, column 'rate': required column 'rate' is missing"),
    "unknown column": (lambda f: edit(f / "cohorts.csv", "description\n", "description,colour\n"),
                       "cohorts.csv, row 1, column 'colour': value 'colour': a known column of cohorts "
                       "(allowed: cohort, age_from, age_to, description, area)"),
    "wrong type": (lambda f: edit(f / "needs.csv", "emerging,1200,", "emerging,lots,"),
                   "needs.csv, row 2, column 'population_base': value 'lots': a number (people)"),
    "dangling reference": (lambda f: edit(f / "services.csv", "residential_care,older_85_plus", "residential_care,older_85plus"),
                           "services.csv, row 5, column 'cohort': value 'older_85plus': a cohort listed in cohorts.csv "
                           "(did you mean 'older_85_plus'?)"),
    "negative cost": (lambda f: edit(f / "options.csv", "reablement,in_house,true,200,", "reablement,in_house,true,-200,"),
                      "options.csv, row 5, column 'unit_cost': value '-200': at least 0 (£/unit)"),
    "rate above 1": (lambda f: edit(f / "transitions.csv", "crisis,1,0.8", "crisis,1,1.2"),
                     "transitions.csv, row 7, column 'rate': value '1.2': between 0 and 1 (share/year)"),
    "duplicate key": (lambda f: edit(f / "mechanisms.csv", "spot_purchase,0.05", "in_house,0.05"),
                      "mechanisms.csv, row 4, column 'mechanism': value 'mechanism=in_house': a unique key"),
    "empty file": (_empty, "outcomes.csv, row 1: value '': a header row naming the columns; the file is empty"),
    "non-UTF-8 file": (_non_utf8, "cohorts.csv, row 3, column 'description': value '£85 People aged 85 and over': "
                                  "UTF-8 text: byte 0xA3 is not UTF-8"),
    "duplicate YAML key": (lambda f: edit(f / "instance.yaml", "discount_rate:", "horizon_years: 8\ndiscount_rate:"),
                           "instance.yaml, row 7, column 'horizon_years': value 'horizon_years': each key once: "
                           "duplicate key 'horizon_years' (first on line 6)"),
    "NaN": (lambda f: edit(f / "workforce.csv", "social_worker,60,", "social_worker,NaN,"),
            "workforce.csv, row 3, column 'fte_base': value 'NaN': a finite number (not NaN or infinity)"),
    "level not in instance.yaml": (lambda f: edit(f / "harms.csv", "older_85_plus,crisis,", "older_85_plus,critical,"),
                                   "harms.csv, row 5, column 'level': value 'critical': one of the levels in instance.yaml"),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_broken_instance_exits_2_naming_the_cell(base, name):
    breaker, message = CORPUS[name]
    breaker(base)
    result = validate(base)
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_every_problem_is_reported_in_one_run(base):
    edit(base / "options.csv", "child_protection,in_house,true,3000,", "child_protection,in_house,true,-3000,")
    edit(base / "needs.csv", "older_85_plus,crisis,200,", "older_85_plus,crisis,nan,")
    edit(base / "outcomes.csv", "domain,weight,description", "domain,weight,description,owner")
    edit(base / "harms.csv", "early_years_0_4,high,safety", "early_years_0_5,high,safety")
    result = validate(base)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    for part in ["options.csv, row 4, column 'unit_cost': value '-3000'",
                 "needs.csv, row 5, column 'population_base': value 'nan'",
                 "outcomes.csv, row 1, column 'owner'",
                 "harms.csv, row 3, column 'cohort': value 'early_years_0_5'"]:
        assert any(part in line for line in lines), part


def test_debug_shows_the_traceback(base):
    edit(base / "options.csv", "true,3000,", "true,-3000,")
    result = CliRunner().invoke(main, ["--debug", "validate", str(base)])
    assert isinstance(result.exception, InputError)


def test_text_is_read_as_written(base):
    edit(base / "instance.yaml", "name: tiny_test", "name: NO")
    edit(base / "instance.yaml", "price_year: 2025-26", "price_year: 0123")
    inst = load_instance(base)
    assert inst.meta["name"] == "NO"
    assert inst.meta["price_year"] == "0123"
    localities = list(inst["buildings"]["locality"])
    assert localities == ["0123", "NA"]
    assert inst.meta["reserves"]["flexible_capital_receipts"] is False


def test_blank_lines_and_short_rows_keep_file_line_numbers(base):
    path = base / "options.csv"
    edit(path, "child_protection,in_house", "\n,,,,,,,,\nchild_protection,in_house")
    edit(path, "reablement,block_contract,false,1500,", "reablement,block_contract,false,-1500,")
    path.write_text(path.read_text() + "reablement,spot_purchase\n")  # a short row: the rest is empty
    result = validate(base)
    assert result.exit_code == 2
    assert "options.csv, row 8, column 'unit_cost': value '-1500'" in result.stderr
    assert "options.csv, row 11, column 'unit_cost': value '': number" in result.stderr


def test_commas_only_as_thousands_separators(base):
    edit(base / "funding.csv", "general_fund,20000000,", 'general_fund,"20,000,000",')
    assert load_instance(base)["funding"]["base_amount"][0] == 20_000_000
    edit(base / "funding.csv", '"20,000,000"', '"20,5"')
    with pytest.raises(InputError) as e:
        load_instance(base)
    assert any(p.column == "base_amount" and p.value == "20,5" for p in e.value.problems)


def test_yaml_is_never_executed_and_aliases_are_refused(base, tmp_path):
    marker = tmp_path / "hacked"
    edit(base / "instance.yaml", "name: tiny_test", f"name: !!python/object/apply:os.system ['touch {marker}']")
    with pytest.raises(InputError) as e:
        load_instance(base)
    assert not marker.exists()
    assert any(p.row == "name" for p in e.value.problems)
    edit(base / "instance.yaml", f"name: !!python/object/apply:os.system ['touch {marker}']", "name: tiny")
    edit(base / "instance.yaml", "levels: [universal, emerging, high, crisis]",
         "levels: &l [universal, emerging, high, crisis]\nsources: *l")
    with pytest.raises(InputError) as e:
        load_instance(base)
    assert "anchors and aliases" in str(e.value)


def test_missing_instance_yaml_and_table(base):
    (base / "instance.yaml").unlink()
    (base / "gains.csv").unlink()
    result = validate(base)
    assert result.exit_code == 2
    assert "error: instance.yaml: an instance.yaml in" in result.stderr
    assert "error: gains.csv: table 'gains' is required" in result.stderr


def test_not_an_instance(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = validate(tmp_path / "notes.txt")
    assert result.exit_code == 2
    assert "an instance folder or an .xlsx workbook" in result.stderr
