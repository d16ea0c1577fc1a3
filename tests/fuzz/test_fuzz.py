"""The fuzz campaign: seeded hostile inputs must keep the contract (fuzzkit.broken).

`pytest tests/fuzz` runs --fuzz-cases cases (default 300, about three minutes) from
--fuzz-seed; `pytest tests/fuzz --fuzz-cases 3000` is a campaign. A failure names the
case (class and seed), what the mutation did and the command, so it can be rerun alone:
`pytest tests/fuzz -k 'cell.absurd-13.41'`. Below them, the reproducers from the issue
that started the campaign, as fixed cases.
"""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from fuzzkit import EXTENSIVE, INSTANCES, Case, broken, cases, prepare, read_rows, run, write_rows

OUTCOMES: list = []  # (class, exit code, seconds) of every case run, for the summary


def pytest_generate_tests(metafunc):
    if "fuzz_case" in metafunc.fixturenames:
        config = metafunc.config
        generated = cases(config.getoption("fuzz_cases"), config.getoption("fuzz_seed"))
        metafunc.parametrize("fuzz_case", generated, ids=[c.id for c in generated])


# Contract breaks found in the model or the verifier (other engineers' areas): recorded as
# expected failures with the reason, rather than hidden. (class or None, text in stderr, reason)
KNOWN: list = []


def known_defect(case: Case, out) -> str | None:
    for cls, text, reason in KNOWN:
        if cls in (None, case.cls) and text in out.stderr:
            return reason
    return None


def check(case: Case, tmp_path: Path) -> None:
    out = run(prepare(case, tmp_path))
    OUTCOMES.append((case.cls, out.exit_code, out.seconds))
    problem = broken(case, out)
    if problem and known_defect(case, out):
        pytest.xfail(f"{known_defect(case, out)}: {problem.splitlines()[0]}")
    assert problem is None, problem


def test_contract(fuzz_case, tmp_path):
    check(fuzz_case, tmp_path)


# ---- the reproducers, as fixed cases -----------------------------------------------

def _cell(table: str, row: int, column: str, value: str):
    def mutate(case, folder, rng):
        path = folder / f"{table}.csv"
        rows = read_rows(path)
        rows[row - 1][rows[0].index(column)] = value
        write_rows(path, rows)
        case.what, case.names, case.row = f"{table}.csv row {row}: {column} = {value}", (f"{table}.csv",), (
            f"{table}.csv", row)
    return mutate


def _text(file: str, old: str, new: str, names=()):
    def mutate(case, folder, rng):
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert re.search(old, text), (old, file)
        path.write_text(re.sub(old, new, text, count=1), encoding="utf-8")
        case.what, case.names = f"{file}: {old!r} -> {new[:40]!r}", names or (file,)
    return mutate


def _bytes(file: str, data: bytes):
    def mutate(case, folder, rng):
        (folder / file).write_bytes(data)
        case.what, case.names = f"{file}: {data[:40]!r}", (file,)
    return mutate


def _scenario(text: str):
    def mutate(case, folder, rng):
        (folder / "what-if.yaml").write_text(text, encoding="utf-8")
        case.args += ["--scenario", str(folder / "what-if.yaml")]
        case.what, case.names = f"scenario: {text[:60]!r}", ("what-if.yaml",)
    return mutate


def _special(file: str, make):
    def mutate(case, folder, rng):
        (folder / file).unlink()
        make(folder / file)
        case.what, case.names = f"{file}: special", (file,)
    return mutate


def _scaled(factor: float, units):
    from fuzzkit import magnitudes_scaled

    class Fixed:  # magnitudes_scaled draws its factor: give it this one
        def choice(self, options):
            return factor
    return lambda case, folder, rng: magnitudes_scaled(case, folder, Fixed(), units)


def _workbook(change):
    """The instance as a workbook, one XML part changed."""
    def mutate(case, folder, rng):
        from click.testing import CliRunner
        from commissionopt.cli import main
        book = folder.parent / "area.xlsx"
        assert CliRunner().invoke(main, ["convert", str(folder), str(book)]).exit_code == 0
        tmp = book.with_suffix(".tmp")
        with zipfile.ZipFile(book) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename == "xl/worksheets/sheet2.xml":
                    data = change(data.decode()).encode()
                zout.writestr(item, data)
        tmp.replace(book)
        shutil.rmtree(folder)
        case.folder, case.what, case.names = book, "workbook sheet XML changed", ("area.xlsx",)
    return mutate


ENTITY = '<!DOCTYPE worksheet [<!ENTITY e SYSTEM "file:///etc/shadow">]>'
LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY e "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')

FIXED = {
    # wrong answers
    "building-no-hours-no-extension-may-not-close": (_cell("buildings", 3, "extendable_hours", "0"), ["--cut", "0.2"], 0),
    "1e308-in-base_amount": (_cell("funding", 2, "base_amount", "1e308"), [], 2),
    "1e308-in-population": (_cell("needs", 2, "population_base", "1e308"), [], 2),
    "1e308-in-unit_cost": (_cell("options", 2, "unit_cost", "1e308"), [], 2),
    "1e308-in-hours_available": (_cell("buildings", 2, "hours_available", "1e308"), [], 2),
    "1e308-weight": (_cell("outcomes", 2, "weight", "1e308"), [], 2),
    "1e308-harm": (_cell("harms", 2, "harm_per_person_year", "1e308"), [], 2),
    "1e308-gain": (_cell("gains", 2, "gain_per_unit", "1e308"), [], 2),
    "scenario-scale-1e308": (_scenario("name: s\nchanges:\n  - table: funding\n    scale: {base_amount: 1e308}\n"), [], 2),
    # the case (staff and hours left as they were: infeasible now that staff limits bind, never exit 5)
    "people-units-money-x1e6": (_scaled(1e6, {"people", "people/year", "units/year", "£/year", "£"}), [], (0, 3)),
    "the-same-area-x1e5": (_scaled(1e5, EXTENSIVE), [], 0),
    # tracebacks and hangs
    "bare-cr-before-non-utf8": (_bytes("workforce.csv", b"role,fte_base\r\xe9x,1\n"), [], 2),
    "yaml-330-deep": (_text("instance.yaml", r"\Z", "deep: " + "[" * 330 + "]" * 330 + "\n"), [], 2),
    "extends-nul": (_scenario('name: s\nextends: "a\\0b.yaml"\n'), [], 2),
    "extends-etc-shadow": (_scenario("name: s\nextends: /etc/shadow\n"), [], 2),
    "workbook-external-entity": (_workbook(lambda x: ENTITY + x.replace("<v>", "<v>&e;", 1)), [], 2),
    "workbook-expansion-bomb": (_workbook(lambda x: LAUGHS + x.replace("<v>", "<v>&e;", 1)), [], 2),
    "fifo-table": (_special("workforce.csv", lambda p: __import__("os").mkfifo(p)), [], 2),
    "dev-zero-table": (_special("workforce.csv", lambda p: p.symlink_to("/dev/zero")), [], 2),
    "folder-table": (_special("workforce.csv", lambda p: p.mkdir()), [], 2),
    # messages
    "row-with-an-extra-field": (_text("cohorts.csv", r"\nchildren,", "\nx,children,"), [], 2),
    "yaml-error-in-instance-yaml": (_text("instance.yaml", r"horizon_years: (\d+)", r"horizon_years: [\1"), [], 2),
    "dangling-symlink-optional-table": (_special("option_staff.csv", lambda p: p.symlink_to(p.parent / "gone")), [], 2),
    "nul-in-a-cell": (_text("services.csv", "early_help", "early\x00help"), [], 2),
    "base-year-1e20": (_text("instance.yaml", r"base_year: \d+", "base_year: 1e20"), [], 2),
}
OPEN: dict = {}  # fixed cases that still break the contract in another engineer's area: {name: reason}, xfail strict


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=OPEN[n]))
                                  if n in OPEN else n for n in FIXED])
def test_reproducer(name, tmp_path):
    mutate, args, expected = FIXED[name]
    case = Case(cls="fixed", seed=name, args=list(args), subprocess=name == "dev-zero-table")
    case.folder = tmp_path / "tiny"
    shutil.copytree(INSTANCES / "tiny", case.folder)
    mutate(case, case.folder, None)
    expected = expected if isinstance(expected, tuple) else (expected,)
    case.must_fail = expected == (2,)
    out = run(case)
    OUTCOMES.append(("fixed", out.exit_code, out.seconds))
    problem = broken(case, out)
    assert problem is None, problem
    assert out.exit_code in expected, f"{name}: exit {out.exit_code}, expected {expected}\n{out.stderr[-2000:]}"
    if case.must_fail:
        assert "/etc/shadow" not in out.stdout and "root:" not in out.stderr and "aaaaaaaaaaaaaaaaaaaa" not in out.stderr
