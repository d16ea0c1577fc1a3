"""The library's front door: solve, compare, sweep and Engine check their arguments and
name the one that is wrong (InputError), before any work."""
from __future__ import annotations

from pathlib import Path

import pytest

from commissionopt import Engine, compare, load_instance, solve
from commissionopt.errors import InputError
from commissionopt.policies.spec import parse_spec
from commissionopt.runs.sweep import sweep
from commissionopt.solve.highs import SolveOptions

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


@pytest.fixture(scope="module")
def tiny():
    return load_instance(TINY)


def _names(err: pytest.ExceptionInfo, argument: str) -> None:
    assert f"argument '{argument}" in str(err.value), str(err.value)


@pytest.mark.parametrize("cut", [1.5, -0.1, 1.0, float("nan"), "1.5", "abc", "1:0.1,1:0.2", "0:0.1", "1:", True, [0.1],
                                 {0: 0.1}, {1: 2.0}, {}])
def test_a_cut_outside_a_share_is_refused(tiny, cut):
    with pytest.raises(InputError) as err:
        solve(tiny, cut=cut)
    _names(err, "cut")


def test_the_command_line_s_cut_text_is_accepted(tiny):
    assert solve(tiny, "salami", cut="0.2").summary["cut"] == {y: 0.2 for y in range(1, 6)}
    assert solve(tiny, "salami", cut="1:0.1,3:0.2").summary["cut"] == {1: 0.1, 2: 0.1, 3: 0.2, 4: 0.2, 5: 0.2}
    assert solve(tiny, "salami", cut={"2": 0.1}).summary["cut"] == {1: 0.0, 2: 0.1, 3: 0.1, 4: 0.1, 5: 0.1}


def test_an_instance_or_its_path(tiny):
    by_path = solve(str(TINY), "salami", cut=0.1)
    assert by_path.summary["outcome_value"] == pytest.approx(solve(tiny, "salami", cut=0.1).summary["outcome_value"])
    for bad in (42, None, ["instances/tiny"]):
        with pytest.raises(InputError) as err:
            solve(bad)
        _names(err, "inst")
    with pytest.raises(InputError, match="an instance folder or an .xlsx workbook"):
        solve(str(TINY) + "_missing")


@pytest.mark.parametrize("overrides, argument", [
    ({"mip_rel_gap": -1}, "overrides['mip_rel_gap']"), ({"threads": -3}, "overrides['threads']"),
    ({"threads": 1.5}, "overrides['threads']"), ({"time_limit": 0}, "overrides['time_limit']"),
    ({"time_limit": "fast"}, "overrides['time_limit']"), ({"solver": "gurobi"}, "overrides['solver']"),
    ({"gap": 0.1}, "overrides['gap']"), ({"seed": -1}, "overrides['seed']")])
def test_solver_settings_have_types_and_ranges(tiny, overrides, argument):
    with pytest.raises(InputError) as err:
        solve(tiny, overrides=overrides)
    _names(err, argument)


def test_solver_options_and_model_files_are_checked_too(tiny):
    with pytest.raises(InputError) as err:
        Engine(tiny, SolveOptions(threads=-3))
    _names(err, "options")
    spec = parse_spec({"name": "loose", "solver": {"mip_rel_gap": -1}}, "loose.yaml")
    with pytest.raises(InputError) as err:
        solve(tiny, spec)
    _names(err, "model loose solver['mip_rel_gap']")
    for bad in (5, "", ["salami"]):
        with pytest.raises(InputError) as err:
            solve(tiny, bad)
        _names(err, "model")


def test_compare_takes_one_model_name_as_one_model(tiny):
    result = compare(tiny, 0.1, "salami", same_money_redesign=False)
    assert list(result.plans) == ["salami"]
    result = compare(tiny, "0.1", "status_quo,salami", same_money_redesign=False)
    assert list(result.plans) == ["status_quo", "salami"]
    for models in (5, [], ["salami", "salami"], [None]):
        with pytest.raises(InputError) as err:
            compare(tiny, 0.1, models)
        _names(err, "models")
    with pytest.raises(InputError) as err:
        compare(tiny, 2, "salami")
    _names(err, "cut")


def test_sweep_checks_its_arguments(tiny):
    for kwargs, argument in [({"workers": -1}, "workers"), ({"mip_rel_gap": 2.0}, "mip_rel_gap"),
                             ({"models": 7}, "models"), ({"cuts": [{1: 1.2}]}, "cuts")]:
        with pytest.raises(InputError) as err:
            sweep(tiny, **{"cuts": [0.1], "models": "salami", "workers": 0, **kwargs})
        _names(err, argument)
    table = sweep(tiny, [0.1], "salami", workers=0)
    assert list(table["policy"]) == ["salami"]
