"""ranges.csv: its checks (every bad input named by file, row, column and value) and the library
that turns a draw into an instance (value ranges set, scale ranges multiply, groups move together)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.data import load_instance, validate_instance
from commissionopt.data.ranges import apply_values, parse_where, quantile, range_cells, range_values
from commissionopt.data.scenario import apply_scenario
from commissionopt.errors import InputError

from datakit import copy_base

HEADER = "table,where,column,kind,low,central,high,distribution,group,evidence,source\n"
GOOD = HEADER + (
    "options,service=family_hub,effect_escalation,scale,0.5,1,1.2,triangular,effects,C,sources.md 3\n"
    "options,service=reablement,effect_escalation,value,0.1,0.3,0.45,pert,effects,B,SPRU 2010\n"
    "options,service=residential_care;mechanism=spot_purchase,unit_cost,value,40000,45000,52000,uniform,,B,GMCA SS7.0\n"
    "mechanisms,mechanism=block_contract|spot_purchase,transaction_rate,scale,0.6,1,1.5,,,D,assumption\n"
    "needs,cohort=older_85_plus,arrivals_growth,value,0.02,0.04,0.05,,,C,ONS projections\n"
)


@pytest.fixture
def base(tmp_path) -> Path:
    folder = copy_base(tmp_path)
    (folder / "ranges.csv").write_text(GOOD, encoding="utf-8")
    return folder


def problems(folder: Path) -> list[str]:
    return [str(p) for p in validate_instance(load_instance(folder, validate=False)) if p.severity == "error"]


def test_a_good_ranges_table_validates_and_covers_its_cells(base):
    inst = load_instance(base)
    cells = range_cells(inst)
    assert len(inst["ranges"]) == 5
    # family_hub has two options, reablement two, one residential option, two mechanisms, two needs rows
    assert list(cells.groupby("range").size()) == [2, 2, 1, 2, 2]
    assert set(cells["draw"]) == {"effects", "row 4", "row 5", "row 6"}
    row = cells[(cells["table"] == "options") & (cells["key"] == "reablement/block_contract")].iloc[0]
    assert (row["current"], row["kind"], row["low"], row["high"]) == (0.3, "value", 0.1, 0.45)


# name -> (ranges row replacing the good row 2 (family_hub's), the parts of the one error expected)
BAD = {
    "selector matching no row": (
        "options,service=family_hubb,effect_escalation,scale,0.5,1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'where': value 'service=family_hubb'", "matching at least one row of options.csv",
         "'family_hub'"]),
    "selector matching no row together": (
        "options,service=family_hub;mechanism=spot_purchase,effect_escalation,scale,0.5,1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'where'", "no row matches them all"]),
    "selector that is not column=value": (
        "options,family_hub,effect_escalation,scale,0.5,1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'where': value 'family_hub'", "column=value pairs"]),
    "selector naming an unknown column": (
        "options,servce=family_hub,effect_escalation,scale,0.5,1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'where': value 'servce=family_hub'", "did you mean 'service'?"]),
    "a non-numeric column": (
        "options,service=family_hub,description,scale,0.5,1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'column': value 'description'", "a numeric column of options.csv"]),
    "a key column": (
        "transitions,,lag_years,value,1,1,2,,,C,x",
        ["ranges.csv, row 2, column 'column': value 'lag_years'", "not part of its key"]),
    "an unknown table": (
        "option,service=family_hub,effect_escalation,scale,0.5,1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'table': value 'option'", "a table of the instance"]),
    "low above central": (
        "options,service=family_hub,effect_escalation,scale,1.1,1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'central': value 1.0", "low <= central <= high (low 1.1"]),
    "central above high": (
        "needs,cohort=early_years_0_4,future_cost,scale,0.5,1,0.9,,,C,x",
        ["ranges.csv, row 2, column 'central': value 1.0", "low <= central <= high"]),
    "a value central that is not the instance's": (
        "options,service=family_hub,effect_escalation,value,0.1,0.2,0.3,,,C,x",
        ["ranges.csv, row 2, column 'central': value 0.2", "options.csv row 3 (family_hub/block_contract) has 0.25"]),
    "a value range past the column's limit": (
        "options,service=family_hub;mechanism=in_house,effect_escalation,value,0.1,0.2,1.3,,,C,x",
        ["ranges.csv, row 2, column 'high': value 1.3", "within the limits of options.effect_escalation (0 to 1)"]),
    "a scale range centred off 1": (
        "options,service=family_hub,effect_escalation,scale,0.5,1.1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'central': value 1.1", "1 for a scale range"]),
    "a scale factor pushing a figure past its limit": (
        "options,service=family_hub,effect_escalation,scale,0.5,1,5,,,C,x",
        ["ranges.csv, row 2, column 'high': value 5.0", "(family_hub/block_contract) would be 1.25"]),
    "an unknown grade": (
        "options,service=family_hub,effect_escalation,scale,0.5,1,1.2,,,E,x",
        ["ranges.csv, row 2, column 'evidence': value 'E'", "A (UK trial or meta-analysis)"]),
    "an unknown kind": (
        "options,service=family_hub,effect_escalation,factor,0.5,1,1.2,,,C,x",
        ["ranges.csv, row 2, column 'kind': value 'factor'", "value, scale"]),
    "an unknown distribution": (
        "options,service=family_hub,effect_escalation,scale,0.5,1,1.2,normal,,C,x",
        ["ranges.csv, row 2, column 'distribution': value 'normal'", "uniform, triangular, pert"]),
    "a figure ranged twice": (
        "options,mechanism=block_contract,unit_cost,scale,0.5,1,1.2,,,C,x",
        ["ranges.csv, row 4, column 'where'", "each figure ranged once",
         "options.unit_cost[residential_care/block_contract] is also covered by row 2"]),
}


@pytest.mark.parametrize("name", BAD)
def test_each_bad_range_is_named(base, name):
    line, parts = BAD[name]
    text = GOOD.splitlines(keepends=True)
    text[1] = line + "\n"
    if name == "a figure ranged twice":  # the spot option's row 4 becomes the block option's
        text[3] = "options,service=residential_care,unit_cost,value,45000,45000,52000,,,B,x\n"
    (base / "ranges.csv").write_text("".join(text), encoding="utf-8")
    found = problems(base)
    assert any(all(p in msg for p in parts) for msg in found), found


def test_every_bad_range_in_one_run_and_exit_code_2(base):
    lines = {}  # one line per key (table, where, column), so that each stays its own row
    for name, (line, _) in BAD.items():
        if name != "a figure ranged twice":  # bad only beside the row it overlaps
            lines.setdefault(tuple(line.split(",")[:3]), line)
    (base / "ranges.csv").write_text(HEADER + "\n".join(lines.values()) + "\n", encoding="utf-8")
    found = problems(base)
    assert len(lines) >= 10
    for row in range(2, 2 + len(lines)):
        assert any(f"ranges.csv, row {row}," in msg for msg in found), (row, found)
    result = CliRunner().invoke(main, ["validate", str(base)])
    assert result.exit_code == 2
    assert "ranges.csv, row 2, column 'where': value 'service=family_hubb'" in result.output


def test_a_number_that_is_not_a_number(base):
    (base / "ranges.csv").write_text(GOOD.replace(",0.1,0.3,0.45,", ",0.1,0.3,high,"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_instance(base)
    assert "ranges.csv, row 3, column 'high': value 'high': a number" in str(err.value)


def test_parse_where():
    assert parse_where("") == []
    assert parse_where("service=a|b; mechanism=c") == [("service", ["a", "b"]), ("mechanism", ["c"])]
    for bad in ("service", "=a", "service=", "service=a;service=b", "service=a|"):
        with pytest.raises(ValueError):
            parse_where(bad)


@pytest.mark.parametrize("distribution", ["uniform", "triangular", "pert"])
def test_quantiles_run_from_low_to_high(distribution):
    values = [quantile(0.1, 0.15, 0.4, distribution, q / 10) for q in range(11)]
    assert values[0] == pytest.approx(0.1) and values[-1] == pytest.approx(0.4)
    assert all(a < b for a, b in zip(values, values[1:]))


def test_quantile_shapes():
    assert quantile(0, 1, 4, "uniform", 0.5) == pytest.approx(2)
    # triangular: the share of the mass below the mode is (central - low) / (high - low)
    assert quantile(0, 1, 4, "triangular", 0.25) == pytest.approx(1)
    assert quantile(0, 2, 4, "pert", 0.5) == pytest.approx(2)  # symmetric: the median is the mode
    assert quantile(0, 1, 4, "pert", 0.5) < 2  # skewed towards the mode
    assert quantile(3, 3, 3, "pert", 0.7) == 3
    with pytest.raises(ValueError):
        quantile(0, 1, 2, "uniform", 1.5)


def test_apply_values_sets_values_and_multiplies_scales(base):
    inst = load_instance(base)
    drawn = apply_values(inst, {2: 0.5, 3: 0.12, 5: 1.5})
    op = drawn["options"].set_index(["service", "mechanism"])["effect_escalation"]
    assert op[("family_hub", "in_house")] == pytest.approx(0.1)  # 0.2 x 0.5
    assert op[("family_hub", "block_contract")] == pytest.approx(0.125)
    assert op[("reablement", "in_house")] == op[("reablement", "block_contract")] == 0.12
    mech = drawn["mechanisms"].set_index("mechanism")["transaction_rate"]
    assert mech["block_contract"] == pytest.approx(0.045) and mech["spot_purchase"] == pytest.approx(0.075)
    assert mech["in_house"] == 0
    assert drawn["needs"].equals(inst["needs"])  # row 6 not drawn
    assert inst["options"]["effect_escalation"].tolist()[0] == 0.2  # the input is not changed
    assert "options.effect_escalation[reablement/in_house]: 0.3 -> 0.12 (ranges.csv row 3)" in drawn.changes
    assert len(drawn.changes) == 6
    # the drawn figures are no longer uncertain: their ranges go, the others stay, and the instance is valid
    assert drawn["ranges"]["column"].tolist() == ["unit_cost", "arrivals_growth"]
    assert not [p for p in validate_instance(drawn) if p.severity == "error"]


def test_a_group_is_one_draw(base):
    inst = load_instance(base)
    values = range_values(inst, {"effects": 0.0, "row 5": 1.0})
    assert values == {2: 0.5, 3: 0.1, 5: 1.5}  # both rows of the group at their low; row 5 at its high
    with pytest.raises(KeyError):
        range_values(inst, {"efects": 0.5})


def test_a_scenario_removing_ranged_rows_must_remove_their_ranges(base):
    inst = load_instance(base)
    remove = {"changes": [{"table": "options", "where": {"service": "residential_care", "mechanism": "spot_purchase"},
                           "set": {"current": False}},
                          {"table": "options", "where": {"service": "residential_care", "mechanism": "block_contract"},
                           "set": {"current": True}},
                          {"table": "options", "where": {"service": "residential_care", "mechanism": "spot_purchase"},
                           "remove": True}]}
    with pytest.raises(InputError) as err:
        apply_scenario(inst, remove)
    assert "ranges.csv after the scenario, row 4, column 'where'" in str(err.value)
    remove["changes"].append({"table": "ranges", "where": {"column": "unit_cost"}, "remove": True})
    new, _ = apply_scenario(inst, remove)
    assert len(new["ranges"]) == 4
