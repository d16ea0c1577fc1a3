"""Outputs: sheet names Excel accepts, nothing replaced without --force, a folder whole or not at all."""
from __future__ import annotations

import errno
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.reports.output import sheet_names

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_sheet_names_are_safe_short_and_unique():
    labels = ["models/a.yaml", "x" * 40, "x" * 40, "X" * 40, "History", "'quoted'", "a[1]:b*?", "", "ok"]
    names = sheet_names(labels)
    assert len(names) == len(labels) == len({n.lower() for n in names})
    for n in names:
        assert 0 < len(n) <= 31 and not set(n) & set("[]:*?/\\") and n[0] != "'" and n[-1] != "'"
    assert names[-1] == "ok" and names[4].lower() != "history"
    assert sheet_names(["comparison"], taken=["Comparison"]) == ["comparison~2"]


def test_compare_workbook_keeps_every_policy_s_rows(tmp_path):
    # two model files whose names share their first 14 characters, given as paths
    models = []
    for name in ("redesign_variant_alpha", "redesign_variant_beta"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"name: {name}\npolicy: optimise\nsolver: {{mip_rel_gap: 0.01}}\n")
        models.append(str(path))
    book = tmp_path / "round.xlsx"
    r = invoke("compare", TINY, "--cut", "0.1", "--model", ",".join(models), "--xlsx", book)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(book, read_only=True)
    assert len(set(s.lower() for s in wb.sheetnames)) == len(wb.sheetnames)
    # one sheet a table, a `policy` column naming each row's policy: nothing overwritten
    for table in ("units", "spend", "need"):
        rows = list(wb[table].iter_rows(values_only=True))
        assert rows[0][0] == "policy" and all(isinstance(h, str) for h in rows[0])
        per_policy = {m: sum(1 for r in rows[1:] if r[0] == m) for m in models}
        assert per_policy[models[0]] == per_policy[models[1]] > 0, table


# --- replacing outputs: never without --force, never a mix --------------------------------

def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _infeasible_tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny_infeasible"
    shutil.copytree(TINY, folder)
    text = (folder / "services.csv").read_text()
    old = "child_protection,children,crisis,child-year,1,100,0,250"
    assert old in text
    (folder / "services.csv").write_text(text.replace(old, "child_protection,children,crisis,child-year,1,80,0,80"))
    return folder


def test_out_refuses_a_folder_with_results_and_force_replaces_it_whole(tmp_path):
    out = tmp_path / "O"
    assert invoke("solve", TINY, "--cut", "0.2", "--out", out).exit_code == 0
    first = _snapshot(out)
    assert "units.csv" in first and "run.json" in first
    bad = _infeasible_tiny(tmp_path)
    r = invoke("solve", bad, "--out", out)
    assert r.exit_code == 1 and str(out) in r.stderr and "--force" in r.stderr
    assert "solving" not in r.stderr  # refused before any work
    assert _snapshot(out) == first  # untouched
    r = invoke("solve", bad, "--out", out, "--force")
    assert r.exit_code == 3, r.output
    # the infeasible run's folder only: no table of the first run left beside it
    assert {k for k in _snapshot(out) if not k.startswith("instance/")} == {"run.json", "summary.json"}
    assert json.loads((out / "summary.json").read_text())["summary"]["status"] == "infeasible"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries


def test_an_empty_folder_is_not_a_result_to_protect(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    r = invoke("solve", TINY, "--cut", "0.1", "--out", out)
    assert r.exit_code == 0, r.output
    assert (out / "summary.json").exists()


@pytest.mark.parametrize("flag", ["--xlsx", "--html"])
def test_compare_refuses_an_existing_file_before_solving(tmp_path, flag):
    target = tmp_path / ("r.xlsx" if flag == "--xlsx" else "r.html")
    target.write_text("keep me")
    r = invoke("compare", TINY, "--cut", "0.1", "--models", "salami", flag, target)
    assert r.exit_code == 1 and str(target) in r.stderr and "--force" in r.stderr
    assert "building the model" not in r.stderr
    assert target.read_text() == "keep me"


def test_compare_out_keeps_model_paths_inside_the_folder(tmp_path):
    model = tmp_path / "elsewhere" / "my_model.yaml"
    model.parent.mkdir()
    model.write_text("name: mine\npolicy: salami\n")
    out = tmp_path / "round"
    r = invoke("compare", TINY, "--cut", "0.1", "--models", f"status_quo,{model}", "--out", out)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["instance", "my_model", "run.json", "status_quo"]
    assert (out / "my_model" / "summary.json").exists()
    assert sorted(p.name for p in model.parent.iterdir()) == ["my_model.yaml"]  # nothing written beside it


# --- the mechanism: kills, concurrent writers, a full disk --------------------------------

SLOW_WRITER = """
import sys, time
from pathlib import Path
from commissionopt.atomic import atomic_folder
from commissionopt.cli import _stop_on_sigterm
out, tag = Path(sys.argv[1]), sys.argv[2]
with _stop_on_sigterm():
    with atomic_folder(out, force=True) as tmp:
        for i in range(40):
            (tmp / f"t{i:02d}.csv").write_text(tag * 100)
            if i == 0:
                print("writing", flush=True)
            time.sleep(0.01)
"""


def _writer(out: Path, tag: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(out), tag], stdout=subprocess.PIPE, text=True)


def _whole(out: Path) -> set:
    """The runs whose files the folder holds (one, if it is whole)."""
    files = _snapshot(out)
    assert len(files) == 40, sorted(files)
    return {content[:1].decode() for content in files.values()}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_write_leaves_the_previous_folder_byte_identical(tmp_path, sig):
    out = tmp_path / "O"
    p = _writer(out, "a")
    assert p.wait(timeout=60) == 0
    before = _snapshot(out)
    rng = random.Random(sig)
    for _ in range(3):
        p = _writer(out, "b")
        assert p.stdout.readline().strip() == "writing"
        time.sleep(rng.uniform(0.0, 0.2))
        p.send_signal(sig)
        p.wait(timeout=60)
        assert _snapshot(out) == before
        leftovers = [q.name for q in tmp_path.iterdir() if q.name != "O"]
        if sig == signal.SIGTERM:
            assert leftovers == []  # unwound: the temporary removed
    p = _writer(out, "c")  # the next write clears what a SIGKILL left
    assert p.wait(timeout=60) == 0
    assert _whole(out) == {"c"} and [q.name for q in tmp_path.iterdir()] == ["O"]


def test_concurrent_writers_never_mix(tmp_path):
    out = tmp_path / "O"
    for _ in range(4):
        writers = [_writer(out, tag) for tag in "xy"]
        assert [w.wait(timeout=60) for w in writers] == [0, 0]
        assert len(_whole(out)) == 1


def test_no_space_left_names_the_file(tmp_path, monkeypatch):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    out = tmp_path / "O"
    r = invoke("solve", TINY, "--cut", "0.1", "--out", out)
    assert r.exit_code == 1
    assert "No space left on device" in r.stderr and str(out / "units.csv") in r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
