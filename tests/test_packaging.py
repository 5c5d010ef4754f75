"""Packaging facts a new user relies on: dependencies, extensions, package data, fast import."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONDA_ONLY = {"python", "pip"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs.extend(extra)
    return {Requirement(r).name.lower(): Requirement(r) for r in reqs}


PIP_PIN = re.compile(r"==(\d+\.\d+)\.\*")


def _environment_pins() -> dict[str, str]:
    """{package: "major.minor"} of environment.yml: conda lines ``name=X.Y`` and the lines
    ``name==X.Y.*`` of its ``pip:`` subsection (packages conda-forge does not have)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins: dict[str, str] = {}

    def add(name: str, version: str) -> None:
        name = name.strip().lower()
        assert name not in pins, f"environment.yml lists {name} twice"
        pins[name] = version.strip()

    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, _, version = dep.partition("=")
            add(name, version)
            continue
        assert isinstance(dep, dict) and list(dep) == ["pip"], f"environment.yml: unexpected entry {dep!r}"
        assert "pip" in pins, "environment.yml: list pip (a conda package) before its pip: subsection"
        for line in dep["pip"]:
            req = Requirement(line)
            pin = PIP_PIN.fullmatch(str(req.specifier))
            assert pin and not req.extras and req.marker is None and req.url is None, (
                f"environment.yml pip: pin {line!r} as name==major.minor.*"
            )
            add(req.name, pin.group(1))
    return pins


def test_environment_yml_lists_the_same_packages_as_pyproject():
    reqs = _pyproject_requirements()
    pins = {k: v for k, v in _environment_pins().items() if k not in CONDA_ONLY}
    assert sorted(pins) == sorted(reqs), "environment.yml and pyproject.toml list different packages"


def test_environment_yml_pins_satisfy_pyproject_ranges():
    reqs = _pyproject_requirements()
    for name, pin in _environment_pins().items():
        if name in CONDA_ONLY:
            continue
        assert re.fullmatch(r"\d+\.\d+", pin), f"{name}: pin major.minor, found {pin!r}"
        assert Version(pin) in reqs[name].specifier or Version(pin + ".99") in reqs[name].specifier, (
            f"environment.yml pins {name}={pin}, outside pyproject's {reqs[name].specifier}"
        )


def test_environment_python_matches_requires_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    python_pin = _environment_pins()["python"]
    assert Version(python_pin) in Requirement(f"python{project['requires-python']}").specifier


def test_import_kamlib_stays_light():
    """`import kamlib` must not pull in pandas or matplotlib (the lessons import it first)."""
    code = "import sys, kamlib; print(','.join(m for m in ('pandas', 'matplotlib', 'ipywidgets') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.slow
def test_nbgrader_lab_extension_is_enabled():
    out = subprocess.run([str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True, check=True)
    listing = ANSI.sub("", out.stdout + out.stderr)
    for ext in ("@jupyter/nbgrader", "@jupyter-widgets/jupyterlab-manager"):
        line = next((ln for ln in listing.splitlines() if ext in ln), "")
        assert "enabled" in line and "OK" in line, f"{ext} not enabled:\n{listing}"
    jl = re.search(r"JupyterLab v(\d+\.\d+)", listing)
    assert jl and Version(jl.group(1)) >= Version("4.4"), "nbgrader 0.9.6 needs JupyterLab >= 4.4"


@pytest.mark.slow
def test_nbgrader_server_extension_is_enabled():
    out = subprocess.run(
        [str(BIN / "jupyter"), "server", "extension", "list"], capture_output=True, text=True, check=True
    )
    listing = ANSI.sub("", out.stdout + out.stderr)
    for ext in ("formgrader", "validate_assignment", "assignment_list"):
        assert re.search(rf"nbgrader\.server_extensions\.{ext}\s+enabled", listing), listing


def test_kam_console_script_is_installed():
    out = subprocess.run([str(BIN / "kam"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "grade" in out.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("kamlib-*.whl")
    return zipfile.ZipFile(whl)


@pytest.mark.slow
def test_wheel_ships_the_data_cards_and_font(wheel):
    names = set(wheel.namelist())
    cards = "\n".join(
        wheel.read(n).decode("utf-8") for n in names if n.startswith("kamlib/data/") and n.endswith(".md")
    )
    csvs = sorted((ROOT / "kamlib" / "data").glob("*.csv"))
    assert csvs
    for csv in csvs:
        assert f"kamlib/data/{csv.name}" in names
        assert csv.name in cards, f"no data card in the wheel describes {csv.name}"
    assert any(n.startswith("kamlib/fonts/") and n.endswith(".ttf") for n in names)


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make lab" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
