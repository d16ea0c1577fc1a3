"""The fuzz campaign's machinery: a seeded generator of hostile inputs, a runner with a
time limit, and the contract every run must keep.

A case copies a shipped instance, applies one mutation of a class (a deleted column, an
absurd cell, a BOM, binary garbage, a FIFO, a YAML bomb, an extends that leaves its
folder, ...) drawn from a seeded random stream, and runs the command line on it. The
contract: exit 0 with a verified plan (or a clean `validate`), or exit 2, 3 or 4 with
messages that name the file (and the row, where the mutation touched one); never exit 1
or a traceback, never 5 (a plan failing the independent check on input that passed
validation), never longer than 60 seconds. Same seed, same cases.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.data.schema import INTEGER, NUMBER, TABLES
from commissionopt.data.validate import OPTIONAL_META

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = ROOT / "instances"
HANG_SECONDS = 60.0

ABSURD = ["1e308", "-1e308", "1e300", "inf", "-inf", "nan", "NaN", "NA", "null", "-1", "-0.5", "0", "1e-300",
          "1e20", "99999999999999999999999", "abc", "1,5", "1,000", "  ", "TRUE", "yes", "0x1F", "1_000",
          "١٢٣", "=1+2", "'=cmd", "@SUM(A1)", "x" * 5000, "é", "\u202e", "\t", "1e6", "1e12", "1e15", "2",
          "0.9999999", "3.5", "-0"]
GARBAGE = [b"\x00", b"\xff\xfe", b"\x1b[31m", b"\r", b"\x00\x00\x00\x00", b"\xe9", b"\xc3\x28", b'"', b",,,,",
           b"\n\n\n", b"\x7f", b"\xef\xbb\xbf"]


# ---- one case ---------------------------------------------------------------------------

@dataclass
class Case:
    """A mutated input and the command to run on it."""
    cls: str
    seed: str
    instance: str = "tiny"
    verb: str = "solve"
    what: str = ""  # what the mutation did, for the failure message
    args: list = field(default_factory=list)  # extra arguments (--scenario, --model, --cut ...)
    names: tuple = ()  # files (or sheets) an error must name, when exit is 2 (any of them)
    row: tuple | None = None  # (file, row): an exit 2 must name this row of this file
    must_fail: bool = False  # the mutation is surely bad input: exit 2 expected
    model: str = "redesign"  # the policy solved (a shipped model's name)
    cut: str = "0.15"
    subprocess: bool = False  # run in a process of its own (special files: a hang must be killable)
    folder: Path | None = None

    @property
    def id(self) -> str:
        return f"{self.cls}-{self.seed}"


@dataclass
class Outcome:
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    traceback: str | None = None


# ---- CSV helpers (text kept as written) -----------------------------------------------------

def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def write_rows(path: Path, rows: list[list[str]], newline: str = "\n") -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def tables_of(folder: Path) -> list[str]:
    return [name for name, spec in TABLES.items() if (folder / spec.file).is_file()]


def _numeric(spec, column: str) -> bool:
    return column in spec.names and spec.column(column).kind in (NUMBER, INTEGER)


# ---- the mutation classes ---------------------------------------------------------------------
# Each takes (case, folder, rng), changes the copy in `folder`, and fills in the case.

def _table(case, folder, rng):
    """A random table of the copy with at least one data row: (spec, path, rows); its file
    is what an error should name."""
    spec = TABLES[rng.choice([t for t in tables_of(folder) if len(read_rows(folder / TABLES[t].file)) > 1])]
    path = folder / spec.file
    case.names = (path.name,)
    return spec, path, read_rows(path)


def column_deleted(case, folder, rng):
    spec, path, rows = _table(case, folder, rng)
    k = rng.randrange(len(rows[0]))
    col = rows[0][k]
    write_rows(path, [r[:k] + r[k + 1:] for r in rows])
    case.what = f"{path.name}: column {col} deleted"
    case.must_fail = col in spec.names and spec.column(col).required


def column_renamed(case, folder, rng):
    spec, path, rows = _table(case, folder, rng)
    k = rng.randrange(len(rows[0]))
    old = rows[0][k]
    new = rng.choice([old.upper(), old + "s", old.replace("_", " "), old[:-1], " " + old + "\t", old + "\u00a0",
                      rows[0][(k + 1) % len(rows[0])]])  # the last: a duplicate header
    rows[0][k] = new
    write_rows(path, rows)
    case.what, case.must_fail = f"{path.name}: column {old!r} renamed {new!r}", new.strip() != old


def cell_empty(case, folder, rng):
    spec, path, rows = _table(case, folder, rng)
    i, k = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
    case.what = f"{path.name} row {i + 1}: {rows[0][k]} emptied (was {rows[i][k]!r})"
    rows[i][k] = ""
    write_rows(path, rows)


SURELY_NOT_A_NUMBER = {"1e308", "-1e308", "1e300", "inf", "-inf", "nan", "abc", "1e20", "99999999999999999999999",
                       "na", "0x1f", "1,5"}


def cell_absurd(case, folder, rng):
    spec, path, rows = _table(case, folder, rng)
    i, k = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
    value, column = rng.choice(ABSURD), rows[0][k]
    case.what = f"{path.name} row {i + 1}: {column} = {value[:40]!r} (was {rows[i][k]!r})"
    rows[i][k] = value
    write_rows(path, rows)
    if _numeric(spec, column) and value.strip().lower() in SURELY_NOT_A_NUMBER:
        case.must_fail, case.row = True, (path.name, i + 1)


def row_extra_field(case, folder, rng):
    spec, path, rows = _table(case, folder, rng)
    i = rng.randrange(1, len(rows))
    at = rng.randrange(len(rows[i]) + 1)
    rows[i].insert(at, rng.choice(["x", "1", "extra", "0"]))
    write_rows(path, rows)
    case.what = f"{path.name} row {i + 1}: an extra field at position {at + 1}"
    case.row, case.must_fail = (path.name, i + 1), True


def row_short(case, folder, rng):
    spec, path, rows = _table(case, folder, rng)
    i = rng.randrange(1, len(rows))
    keep = rng.randrange(len(rows[i]))
    rows[i] = rows[i][:keep]
    write_rows(path, rows)
    case.what = f"{path.name} row {i + 1}: cut to {keep} fields"


def row_duplicated_or_deleted(case, folder, rng):
    spec, path, rows = _table(case, folder, rng)
    i = rng.randrange(1, len(rows))
    if rng.random() < 0.5:
        rows.insert(rng.randrange(1, len(rows) + 1), list(rows[i]))
        case.what, case.must_fail = f"{path.name}: row {i + 1} duplicated", True
    else:
        case.what = f"{path.name}: row {i + 1} deleted ({','.join(rows[i])[:60]})"
        del rows[i]
        case.names = tuple(TABLES[t].file for t in TABLES)  # its references may break anywhere
    write_rows(path, rows)


def reference_dangling(case, folder, rng):
    refs = [(name, c.name) for name in tables_of(folder) for c in TABLES[name].columns
            if c.ref is not None or c.name == "level" or c.name.endswith("_level")]
    name, column = rng.choice(refs)
    path = folder / TABLES[name].file
    rows = read_rows(path)
    if len(rows) < 2 or column not in rows[0]:
        return column_deleted(case, folder, rng)
    i, k = rng.randrange(1, len(rows)), rows[0].index(column)
    new = rng.choice([rows[i][k] + "x", rows[i][k].upper(), "nobody", rows[i][k][:-1], rows[i][k] + " "])
    case.what = f"{path.name} row {i + 1}: {column} {rows[i][k]!r} -> {new!r}"
    case.must_fail = new.strip() != rows[i][k]
    if case.must_fail:
        case.row = (path.name, i + 1)
    rows[i][k] = new
    write_rows(path, rows)
    case.names = (path.name,)


def file_encoding(case, folder, rng):
    """BOM, CRLF, bare CR, Windows-1252 bytes, or binary garbage in one table file."""
    name = rng.choice(tables_of(folder))
    path = folder / TABLES[name].file
    data = path.read_bytes()
    kind = rng.choice(["bom", "crlf", "cr", "cp1252", "garbage", "garbage", "truncate", "empty", "header_only"])
    if kind == "bom":
        data = b"\xef\xbb\xbf" + data
    elif kind == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif kind == "cr":
        data = data.replace(b"\n", b"\r")
    elif kind == "cp1252":
        at = rng.randrange(len(data))
        data = data[:at] + rng.choice([b"\xe9", b"\x96", b"\xa3", b"\x93"]) + data[at:]
        case.must_fail = True
    elif kind == "garbage":
        at = rng.randrange(len(data))
        blob = rng.choice(GARBAGE) if rng.random() < 0.6 else bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        data = data[:at] + blob + data[at + rng.randrange(0, 8):]
    elif kind == "truncate":
        data = data[:rng.randrange(len(data))]
    elif kind == "empty":
        data = b""
        case.must_fail = not TABLES[name].optional
    else:
        data = data.split(b"\n", 1)[0] + b"\n"
        case.must_fail = not TABLES[name].optional
    path.write_bytes(data)
    case.what = f"{path.name}: {kind}"
    case.names = (path.name,)


def special_file(case, folder, rng):
    """A table that is not a regular file: a FIFO, a device, a folder, a missing or dangling link."""
    name = rng.choice(tables_of(folder) + ["instance"])
    path = folder / (TABLES[name].file if name in TABLES else "instance.yaml")
    kind = rng.choice(["fifo", "dev_zero", "folder", "dangling", "deleted", "self_loop", "dev_null"])
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        path.symlink_to("/dev/zero")
    elif kind == "dev_null":
        path.symlink_to("/dev/null")
    elif kind == "folder":
        path.mkdir()
    elif kind == "dangling":
        path.symlink_to(folder / "gone.csv")
    elif kind == "self_loop":
        path.symlink_to(path)
    case.what = f"{path.name}: {kind}"
    case.names = (path.name,) if kind != "deleted" else (path.name,) + tuple(TABLES[t].file for t in TABLES)
    case.must_fail = kind != "deleted" or name == "instance" or not TABLES[name].optional
    case.subprocess = kind == "dev_zero"  # a regression would read until memory runs out: keep it apart


def meta_mutated(case, folder, rng):
    """instance.yaml: a key deleted, a value absurd or of the wrong type, a duplicate key, bad YAML."""
    path = folder / "instance.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    keys = [i for i, line in enumerate(lines) if re.match(r"^[a-z_]+:", line)]
    i = rng.choice(keys)
    key = lines[i].split(":", 1)[0]
    kind = rng.choice(["delete", "absurd", "absurd", "type", "duplicate", "syntax", "tab", "anchor"])
    if kind == "delete":
        del lines[i]
    elif kind == "absurd":
        lines[i] = f"{key}: {rng.choice(['1e20', '-1', '0', '1e308', 'nan', '.inf', '2025.5', 'NO', '0123', '99999', '~', '3000'])}"
    elif kind == "type":
        lines[i] = f"{key}: {rng.choice(['[1, 2]', '{a: 1}', '!!binary aGVsbG8=', '!!python/object:os.system {}', '2025-01-01'])}"
    elif kind == "duplicate":
        lines.insert(i + 1, lines[i])
    elif kind == "syntax":  # a flow or a quote opened and never closed
        lines[i] = f"{key}: " + rng.choice(["[", "{", "'", '"']) + lines[i].split(":", 1)[1].strip()
    elif kind == "tab":
        lines[i] = "\t" + lines[i]
    else:
        lines[i:i] = ["base: &b {x: 1}", "other: *b"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    case.what = f"instance.yaml: {kind} {key}"
    case.names = ("instance.yaml",)
    case.must_fail = kind in ("duplicate", "syntax", "tab", "anchor") or (kind == "delete" and key not in OPTIONAL_META)


def yaml_bomb(case, folder, rng):
    """A billion laughs or deep nesting, in instance.yaml, a scenario or a model file."""
    where = rng.choice(["instance", "scenario", "model"] if case.verb == "solve" else ["instance", "scenario"])
    kind = rng.choice(["laughs", "deep_list", "deep_map", "long_key", "many_keys"])
    depth = rng.choice([25, 100, 330, 1000, 5000])
    if kind == "laughs":
        body = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
            f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    elif kind == "deep_list":
        body = "deep: " + "[" * depth + "]" * depth + "\n"
    elif kind == "deep_map":
        body = "deep: " + "{a: " * depth + "1" + "}" * depth + "\n"
    elif kind == "long_key":
        body = "k" * 200_000 + ": 1\n"
    else:
        body = "".join(f"key{i}: {i}\n" for i in range(12_000))
    case.what = f"{where}: {kind}" + (f" {depth} deep" if kind.startswith("deep") else "")
    case.must_fail = True
    if where == "instance":
        with open(folder / "instance.yaml", "a", encoding="utf-8") as fh:
            fh.write(body)
        case.names = ("instance.yaml",)
    elif where == "scenario":
        (folder / "bomb.yaml").write_text("name: bomb\n" + body, encoding="utf-8")
        case.args += ["--scenario", str(folder / "bomb.yaml")]
        case.names = ("bomb.yaml",)
    else:
        (folder / "bomb_model.yaml").write_text("name: bomb\n" + body, encoding="utf-8")
        case.args += ["--model", str(folder / "bomb_model.yaml")]
        case.names = ("bomb_model.yaml",)


def scenario_random(case, folder, rng):
    """A what-if with an absurd factor or value, a where matching nothing, unknown names."""
    name = rng.choice([t for t in tables_of(folder) if t not in ("option_staff", "option_buildings")])
    spec = TABLES[name]
    numeric = [c.name for c in spec.columns if c.kind in (NUMBER, INTEGER) and c.name not in spec.key]
    rows = read_rows(folder / spec.file)
    key = spec.key[0]
    keys = sorted({r[rows[0].index(key)] for r in rows[1:]}) if key in rows[0] else []
    kind = rng.choice(["scale", "scale", "set", "where_nothing", "unknown", "add", "remove", "budget_cut"])
    column = rng.choice(numeric) if numeric else None
    where = f"where: {{{key}: {rng.choice(keys)}}}" if keys and rng.random() < 0.6 else ""
    if kind == "scale" and column:
        change = f"scale: {{{column}: {rng.choice(['1e308', '1e6', '999', '-1', '0', '1.04', 'nan', '2', '1e-300', '10'])}}}"
    elif kind == "set" and column:
        change = f"set: {{{column}: {rng.choice(ABSURD[:20])!r}}}"
    elif kind == "where_nothing":
        where, change = f"where: {{{key}: no_such_{key}}}", f"set: {{{column or spec.names[-1]}: 1}}"
    elif kind == "unknown":
        change = rng.choice(["set: {no_such_column: 1}", "sett: {a: 1}", "scale: {description: 2}"])
    elif kind == "add":
        change = f"add: [{{{key}: new_{key}}}]"
    elif kind == "remove":
        change = "remove: true"
        where = where or f"where: {{{key}: {keys[0] if keys else 'x'}}}"
    else:
        body = rng.choice(["budget_cut: 1.5", "budget_cut: {0: 0.1}", "budget_cut: {99: 0.1}", "budget_cut: -0.1",
                           "budget_cut: {1: 0.2, 3: 0.4}", "budget_cut: [0.1]", "budget_cut: 0.3"])
        (folder / "what-if.yaml").write_text(f"name: what-if\n{body}\n", encoding="utf-8")
        case.args += ["--scenario", str(folder / "what-if.yaml")]
        case.what, case.names = f"scenario {body}", ("what-if.yaml",)
        return
    lines = [f"  - table: {name}"] + ([f"    {where}"] if where else []) + [f"    {change}"]
    (folder / "what-if.yaml").write_text("name: what-if\nchanges:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    case.args += ["--scenario", str(folder / "what-if.yaml")]
    case.what = f"scenario on {name}: {where} {change}"
    case.names = ("what-if.yaml",)
    case.must_fail = kind in ("where_nothing", "unknown")


def scenario_extends(case, folder, rng):
    """extends: a cycle, a file outside the folder tree, a NUL, a device, a folder, nothing."""
    sub = folder / "what-ifs"
    sub.mkdir()
    target = rng.choice(["cycle", "self", "absolute", "dotdot", "nul", "dev_zero", "folder", "missing", "fifo",
                         "instance_yaml", "csv", "symlink_out"])
    child = sub / "child.yaml"
    extends = {"absolute": "/etc/passwd", "dotdot": "../../../../../../../../etc/passwd", "nul": '"a\\0b.yaml"',
               "dev_zero": "/dev/zero", "folder": ".", "missing": "nowhere.yaml", "self": "child.yaml",
               "cycle": "parent.yaml", "fifo": "pipe.yaml", "instance_yaml": "../instance.yaml",
               "csv": "../services.csv", "symlink_out": "link.yaml"}[target]
    if target == "cycle":
        (sub / "parent.yaml").write_text("name: parent\nextends: child.yaml\n")
    if target == "fifo":
        os.mkfifo(sub / "pipe.yaml")
    if target == "symlink_out":
        (sub / "link.yaml").symlink_to("/etc/hostname")
    child.write_text(f"name: child\nextends: {extends}\n", encoding="utf-8")
    case.args += ["--scenario", str(child)]
    case.what = f"extends: {extends}"
    case.names = ("child.yaml", "parent.yaml", "instance.yaml", "services.csv", "pipe.yaml")
    case.must_fail = True
    case.subprocess = target == "dev_zero"


EXTENSIVE = {"people", "people/year", "units/year", "£/year", "£", "FTE", "FTE/year", "hours/year"}


def magnitudes_scaled(case, folder, rng, units=EXTENSIVE):
    """Every extensive figure (people, units, money, staff, hours) multiplied by one factor:
    the same area at another scale, whose plan should scale with it."""
    factor = rng.choice([10, 1000, 1e4, 1e5])
    for name in tables_of(folder):
        spec = TABLES[name]
        path = folder / spec.file
        rows = read_rows(path)
        for k, column in enumerate(rows[0]):
            if _numeric(spec, column) and spec.column(column).unit in units:
                for r in rows[1:]:
                    if k < len(r) and r[k].strip():
                        r[k] = repr(float(r[k]) * factor)
        write_rows(path, rows)
    meta = folder / "instance.yaml"
    meta.write_text(re.sub(r"(opening|minimum): (\d+)", lambda m: f"{m[1]}: {int(m[2]) * factor:.0f}",
                           meta.read_text()))
    case.what = f"{', '.join(sorted(units))} x {factor:g}"
    case.names = tuple(TABLES[t].file for t in TABLES) + ("instance.yaml",)


def bad_arguments(case, folder, rng):
    """Command-line values out of range or of the wrong kind."""
    flag, value = rng.choice([("--cut", v) for v in ("1.5", "-0.1", "abc", "0:0.1", "1:0.1,1:0.2", "99:0.1", "nan",
                                                     "1e308", "0.2,0.3", ":", "", "1:")] +
                             [("--gap", v) for v in ("-1", "2", "abc", "nan")] +
                             [("--time-limit", v) for v in ("0", "-5", "abc")] +
                             [("--threads", v) for v in ("-3", "0", "1.5", "99999")] +
                             [("--model", v) for v in ("nosuch", "", "../../etc/passwd", "/dev/zero", ".")])
    case.args += [flag, value]
    case.what = f"{flag} {value!r}"
    case.names = (flag, "argument", "passwd", "zero", "nosuch", ".")
    case.must_fail = True


CLASSES = {
    "column.deleted": column_deleted,
    "column.renamed": column_renamed,
    "cell.empty": cell_empty,
    "cell.absurd": cell_absurd,
    "row.extra_field": row_extra_field,
    "row.short": row_short,
    "row.duplicated_or_deleted": row_duplicated_or_deleted,
    "reference.dangling": reference_dangling,
    "file.encoding": file_encoding,
    "file.special": special_file,
    "meta.mutated": meta_mutated,
    "yaml.bomb": yaml_bomb,
    "scenario.random": scenario_random,
    "scenario.extends": scenario_extends,
    "magnitudes.scaled": magnitudes_scaled,
    "cli.arguments": bad_arguments,
}
WEIGHTS = {"cell.absurd": 3, "cell.empty": 2, "reference.dangling": 2, "scenario.random": 2, "file.encoding": 2}


MODELS = ("redesign", "redesign", "salami", "status_quo", "min_cost", "thresholds")
CUTS = ("0", "0.1", "0.15", "0.3", "1:0.05,3:0.2")


def cases(n: int, seed: int) -> list[Case]:
    """n cases, the classes in a fixed weighted rotation, each with its own seeded stream.
    One in eight is on shire_county (validated, not solved: solving it takes minutes)."""
    rotation = [c for c in CLASSES for _ in range(WEIGHTS.get(c, 1))]
    out = []
    for k in range(n):
        cls = rotation[k % len(rotation)]
        rng = random.Random(f"{seed}:{k}")
        big = rng.random() < 0.125 and cls not in ("cli.arguments", "magnitudes.scaled")
        out.append(Case(cls=cls, seed=f"{seed}.{k}", instance="shire_county" if big else "tiny",
                        verb="validate" if big else "solve", model=rng.choice(MODELS), cut=rng.choice(CUTS)))
    return out


def prepare(case: Case, tmp: Path) -> Case:
    """Copy the instance and apply the case's mutation (drawn from its own seed)."""
    folder = tmp / case.instance
    shutil.copytree(INSTANCES / case.instance, folder, ignore=shutil.ignore_patterns("questions", "scenarios"))
    case.folder = folder
    rng = random.Random(case.seed)
    if case.cls in CLASSES:
        CLASSES[case.cls](case, folder, rng)
    return case


def command(case: Case) -> list[str]:
    args = [case.verb, str(case.folder)]
    if case.verb == "solve":
        given = set(case.args)
        args += ["--format", "json"] + [x for flag, value in (("--cut", case.cut), ("--model", case.model),
                                                                ("--gap", "0.01")) if flag not in given
                                        for x in (flag, value)]
    return args + [str(a) for a in case.args]


# ---- running ----------------------------------------------------------------------------

def run(case: Case, timeout: float = HANG_SECONDS) -> Outcome:
    """The command line on the case: in this process (fast), or in its own when a special
    file could hang it. A run past `timeout` is reported as a hang (exit_code None)."""
    args = command(case)
    t0 = time.monotonic()
    if case.subprocess:
        try:
            p = subprocess.run([sys.executable, "-m", "commissionopt.cli", *args], capture_output=True, text=True,
                               timeout=timeout, errors="replace")
        except subprocess.TimeoutExpired:
            return Outcome(None, "", "", time.monotonic() - t0)
        tb = p.stderr if "Traceback (most recent call last)" in p.stderr else None
        return Outcome(p.returncode, p.stdout, p.stderr, time.monotonic() - t0, tb)
    box: dict = {}

    def go():
        box["result"] = CliRunner().invoke(main, args)

    worker = threading.Thread(target=go, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return Outcome(None, "", "", time.monotonic() - t0)
    r = box["result"]
    tb = None
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        import traceback
        tb = "".join(traceback.format_exception(r.exception))
    return Outcome(r.exit_code, r.stdout, r.stderr, time.monotonic() - t0, tb)


# ---- the contract -----------------------------------------------------------------------

def _finite(summary: dict) -> list[str]:
    return [k for k, v in summary.items()
            if isinstance(v, float) and not math.isfinite(v) and k not in ("payback_year",)]


def broken(case: Case, out: Outcome) -> str | None:
    """Why the outcome breaks the contract, or None if it keeps it."""
    head = f"{case.id}: {case.what}; {' '.join(command(case))}\n"
    if out.exit_code is None:
        return head + f"no answer within {HANG_SECONDS:g} s (a hang)"
    if out.traceback:
        return head + f"exit {out.exit_code} with a traceback:\n{out.traceback[-3000:]}"
    if out.exit_code == 0:
        if case.must_fail:
            return head + "exit 0 on input that is surely bad"
        if case.verb != "solve":
            return None
        try:
            summary = json.loads(out.stdout)["summary"]
        except (ValueError, KeyError) as e:
            return head + f"exit 0 without a plan in JSON ({e}): {out.stdout[:500]}"
        if summary.get("verified") is not True or summary.get("status") not in ("optimal", "time_limit"):
            return head + f"exit 0 with a plan not verified: status {summary.get('status')}, verified {summary.get('verified')}"
        if _finite(summary):
            return head + f"exit 0 with non-finite figures: {_finite(summary)}"
        return None
    if out.exit_code == 2:
        errors = [line for line in out.stderr.splitlines() if line.startswith(("error:", "Error:"))]
        if not errors:
            return head + f"exit 2 without an error line: {out.stderr[-1000:]}"
        if case.names and not any(name in line for line in errors for name in case.names):
            return head + f"exit 2 naming none of {case.names}:\n" + "\n".join(errors[:10])
        if case.row and not any(f"{case.row[0]}, row {case.row[1]}" in line for line in errors):
            return head + f"exit 2 not naming {case.row[0]}, row {case.row[1]}:\n" + "\n".join(errors[:10])
        return None
    if out.exit_code in (3, 4) and not case.must_fail:
        return None if "error:" in out.stderr else head + f"exit {out.exit_code} without a message"
    return head + f"exit {out.exit_code}: {out.stderr[-2000:]}"
