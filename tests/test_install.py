"""The package installs outside the checkout: a wheel in a clean environment runs from anywhere."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "src", "models", "instances")


def test_every_package_is_in_the_wheels_list():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT / "src").parts) for p in (ROOT / "src").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject's packages: {sorted(found - listed)}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources (the checkout is left as it is)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(
            ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__", "*.egg-info")}
                                      if (ROOT / name).is_dir() else {}))
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    (path,) = out.glob("commissionopt-*.whl")
    return path


@pytest.mark.slow
def test_the_wheel_carries_the_models_the_instances_the_licence_and_py_typed(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for p in (ROOT / "models").glob("*.yaml"):
        assert f"commissionopt/models/{p.name}" in names
    for p in (ROOT / "instances").rglob("*"):
        if p.is_file() and p.suffix in (".csv", ".yaml", ".md"):
            assert f"commissionopt/instances/{p.relative_to(ROOT / 'instances').as_posix()}" in names
    assert "commissionopt/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)


@pytest.mark.slow
def test_a_wheel_in_a_clean_environment_solves_a_shipped_instance_from_another_directory(wheel, tmp_path):
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    bin_dir = env / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    # the dependencies (pyomo, highspy, pandas, ...) are borrowed from this environment by a .pth
    # line (a plain path: its own .pth files, e.g. this checkout's editable install, are not read)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "borrowed-dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    r = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([str(python), "-c", "import commissionopt; print(commissionopt.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=clean, check=True).stdout
    assert Path(where.strip()).is_relative_to(env) and not Path(where.strip()).is_relative_to(ROOT)
    cli = str(bin_dir / "commissionopt")
    r = subprocess.run([cli, "solve", "tiny", "--model", "min_cost"], capture_output=True, text=True,
                       cwd=elsewhere, env=clean, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("tiny / min_cost / no cut\n") and "discounted spend (£)" in r.stdout
    r = subprocess.run([cli, "--version"], capture_output=True, text=True, cwd=elsewhere, env=clean)
    assert r.stdout.strip() == "commissionopt 0.1.0"
    r = subprocess.run([cli, "validate", "shire_county"], capture_output=True, text=True, cwd=elsewhere, env=clean,
                       timeout=600)
    assert r.returncode == 0 and "Instance shire_county" in r.stdout
    assert sorted(p.name for p in elsewhere.iterdir()) == []  # nothing written where it ran
