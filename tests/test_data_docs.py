"""The format docs match schema.py, and every shipped instance validates."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.data import load_instance, write_instance
from commissionopt.data.schema import TABLES
from commissionopt.data.template import REGENERATE, format_markdown

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = sorted(p.parent for p in (ROOT / "instances").glob("*/instance.yaml"))


def test_format_doc_is_generated_from_the_schema():
    committed = (ROOT / "docs" / "instance-format.md").read_text(encoding="utf-8")
    assert committed == format_markdown(), f"docs/instance-format.md is stale: {REGENERATE}"


def test_format_doc_names_every_column():
    text = format_markdown()
    for spec in TABLES.values():
        assert f"### {spec.file}" in text
        for col in spec.columns:
            assert f"| {col.name} | {col.kind} | {col.unit} |" in text


@pytest.mark.parametrize("folder", INSTANCES, ids=[p.name for p in INSTANCES])
def test_shipped_instance_validates(folder):
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("folder", INSTANCES, ids=[p.name for p in INSTANCES])
def test_shipped_instance_survives_the_workbook(folder, tmp_path):
    book = tmp_path / f"{folder.name}.xlsx"
    write_instance(load_instance(folder), book)
    a, b = load_instance(folder), load_instance(book)
    assert a.meta == b.meta
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
