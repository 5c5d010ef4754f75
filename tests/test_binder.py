"""The Binder (self-study) image: replay repo2docker's build in a copy and check the result.

repo2docker builds the image in two steps this module replays:

1. it installs environment.yml into the notebook environment;
2. it copies the repository (what is committed) into the image and runs ``postBuild`` with
   bash, from the repository's folder (``REPO_DIR``), with that environment first on PATH.

The copy is what ``git ls-files --cached --others --exclude-standard`` lists: the tracked
files as they are in the working tree and the new files not yet committed, without .git,
.venv and git-ignored build output (release/, gradebook.db, artefacts).

The environment is a copy of the project's .venv (``cp -a``, about 4 s; console-script
shebangs rewritten to the copy), not a fresh ``python -m venv`` + ``pip install``: a fresh
resolve of the pinned dependencies from the package index took 3 min 15 s here even with
pip's cache warm (one index round trip per package), far over the test's budget. The copy is
then held to environment.yml: every pin (conda line ``name=X.Y`` and ``pip:`` line
``name==X.Y.*``) must be the installed major.minor, and a pinned package the project .venv
does not have yet (the .venv predates a new pin) is ``pip install``-ed into the copy, as
Binder's ``pip:`` step would. So what is checked is an environment with exactly the
environment.yml pins, and the project .venv is never touched.

Then it checks what a self-study learner gets: the five exercises in learner form where the
course index says, nothing anywhere in the copy that holds a solution, a hidden test or a
mark scheme, nbgrader's, the widgets' and the course's Validate lab extensions enabled, kernels
that explain the common slips in Chinese from their start, JupyterLab in Simplified
Chinese (language pack installed, locale zh_CN from postBuild's settings overrides), and
Chinese charts with no missing glyph using kamlib's bundled font alone (no system font, so no
apt.txt is needed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.test_packaging import _environment_pins  # the strict parser of environment.yml
from tests.test_selfstudy import AUTOGRADED, answered, check_outputs

pytestmark = pytest.mark.binder

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MARKER_LINE = re.compile(r"^\s*(?:#+|=+)\s*(?:BEGIN|END) (?:SOLUTION|HIDDEN TESTS|MARK SCHEME)\b", re.M)
LOCALE_PLUGIN = "@jupyterlab/translation-extension:plugin"


@dataclass
class Build:
    repo: Path  # the copy of the repository after postBuild
    env: Path  # the environment (a copy of .venv held to environment.yml)
    environ: dict  # the environment variables Binder's processes would see
    assignments: list  # assignment names found in exercises/source/ before the build
    secrets: dict  # {text that must not appear: where it came from}
    output: str  # postBuild's stdout + stderr
    seconds: float  # how long the replay took


# ------------------------------------------------------------------ the build
def _secrets(assignments: list[str]) -> dict[str, str]:
    """Solution code, model answers, hidden-test statements and mark-scheme lines of the instructor versions."""
    secrets = {}
    for assignment in assignments:
        nb = nbformat.read(ROOT / "exercises" / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
                for line in cell.source.split("\n"):  # a written question's model answer, replaced as a whole
                    if len(line.strip()) > 12:
                        secrets[line.strip()] = f"{assignment}: model answer"
                continue
            region = None
            for line in cell.source.split("\n"):
                match = re.search(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)", line)
                if match:
                    region = match.group(2) if match.group(1) == "BEGIN" else None
                    continue
                text = line.strip()
                if region and len(text) > 12 and not text.startswith(("#", "import ", "from ")):
                    secrets[text] = f"{assignment}: {region.lower()}"
            explanation = cell.metadata.get("kam", {}).get("explanation")
            if explanation:
                secrets[explanation] = f"{assignment}: explanation"
    return secrets


def _copy_repository(dest: Path) -> None:
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode("utf-8")
        .split("\0")
    )
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():  # tracked files deleted in the work tree are gone
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _copy_environment(dest: Path) -> None:
    subprocess.run(["cp", "-a", str(VENV), str(dest)], check=True)
    old = f"#!{VENV}/bin/".encode()
    for script in (dest / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if data.startswith(old):
                script.write_bytes(f"#!{dest}/bin/".encode() + data[len(old) :])


def _hold_to_environment_yml(env: Path, environ: dict) -> None:
    python = str(env / "bin" / "python")
    pins = _environment_pins()
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    ).stdout.strip()
    python_pin = pins.pop("python")
    assert version == python_pin, f"environment.yml pins python={python_pin}, the environment has {version}"
    pins.pop("pip", None)
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True, env=environ
    ).stdout
    installed = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(listed)}
    missing = []
    for name, pin in pins.items():
        have = installed.get(name.replace("_", "-"))
        if have is None:
            missing.append(f"{name}=={pin}.*")
        else:
            assert re.match(rf"{re.escape(pin)}(\D|$)", have), f"environment.yml pins {name}={pin}, .venv has {have}"
    if missing:
        run = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", *missing], capture_output=True, text=True, env=environ
        )
        assert run.returncode == 0, f"pip install {' '.join(missing)} failed:\n{run.stderr[-3000:]}"


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    start = time.monotonic()
    tmp = tmp_path_factory.mktemp("binder")
    repo, env = tmp / "repo", tmp / "env"
    assignments = sorted(p.name for p in (ROOT / "exercises" / "source").iterdir() if p.is_dir())
    _copy_repository(repo)
    _copy_environment(env)
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHON", "KAMLIB", "MPL", "CONDA"))
    }
    environ.update(
        PATH=f"{env / 'bin'}{os.pathsep}{os.environ['PATH']}",
        VIRTUAL_ENV=str(env),
        REPO_DIR=str(repo),
        # Binder's user has empty Jupyter and matplotlib folders; so do these processes.
        JUPYTER_CONFIG_DIR=str(tmp / "home" / ".jupyter"),
        JUPYTER_DATA_DIR=str(tmp / "home" / ".local" / "share" / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(tmp / "home" / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "home" / "lab-user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "home" / "lab-workspaces"),
        MPLCONFIGDIR=str(tmp / "home" / "matplotlib"),
    )
    _hold_to_environment_yml(env, environ)
    # Binder's environment.yml does not install the course's own packages: postBuild must.
    shutil.rmtree(env / "share" / "jupyter" / "labextensions" / "@kam-course")
    run = subprocess.run(["bash", "postBuild"], cwd=repo, env=environ, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"postBuild failed:\n{output[-5000:]}"
    yield Build(repo, env, environ, assignments, _secrets(assignments), output, time.monotonic() - start)
    subprocess.run(["rm", "-rf", str(env)], check=False)  # 0.9 GB; pytest keeps the last three base temps


# ------------------------------------------------------------------ what the learner gets
def test_postbuild_refuses_to_run_in_a_working_checkout(tmp_path):
    """It deletes exercises/source, tests and .git: never where REPO_DIR is not the cwd."""
    environ = {k: v for k, v in os.environ.items() if k != "REPO_DIR"}
    run = subprocess.run(["bash", str(ROOT / "postBuild")], cwd=tmp_path, env=environ, capture_output=True, text=True)
    assert run.returncode == 1 and "REPO_DIR" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_learner_versions_of_all_assignments(build):
    assert len(build.assignments) == 5, build.assignments
    for assignment in build.assignments:
        path = build.repo / "exercises" / "release" / assignment / f"{assignment}.ipynb"
        assert path.is_file(), f"no learner version {path.relative_to(build.repo)}"
        nb = nbformat.read(path, as_version=4)
        stubs = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert stubs, f"{assignment}: no answer cells"
        code = [c for c in stubs if c.cell_type == "code"]
        assert all("raise NotImplementedError()" in c.source for c in code), assignment


def test_validate_works_on_a_learner_version_without_the_instructor_files(build):
    """nbgrader's Validate button (the learner's immediate check) in the image, from the
    folder JupyterLab starts in: an unanswered exercise fails validation with a message."""
    nb = "exercises/release/ex01_concepts/ex01_concepts.ipynb"
    run = subprocess.run(
        [str(build.env / "bin" / "nbgrader"), "validate", nb],
        cwd=build.repo,
        env=build.environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "验证未通过" in run.stdout and "不检查答案对不对" in run.stdout, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr[-3000:]


def test_the_course_index_points_to_the_exercises(build):
    index = nbformat.read(build.repo / "course" / "00_index.ipynb", as_version=4)
    text = "\n".join(c.source for c in index.cells)
    assert "exercises/selfstudy/" in text
    assert (build.repo / "exercises" / "selfstudy").is_dir()


def test_self_study_exercises_say_right_or_wrong_in_a_fresh_kernel(build, tmp_path):
    """Each self-study exercise answered right (✔ on every check) and wrong (✗ and where to
    reread on every check), run top to bottom in a fresh kernel of the image's environment."""
    for assignment in build.assignments:
        assert (build.repo / "exercises" / "selfstudy" / assignment / f"{assignment}.ipynb").is_file()
    environ = {**build.environ, "KAM_PROGRESS_FILE": str(tmp_path / "progress.json")}
    tries = {}
    for assignment in AUTOGRADED:
        folder = build.repo / "exercises" / "selfstudy" / assignment
        for wrong in (False, True):
            path = folder / f"try_{'wrong' if wrong else 'right'}.ipynb"
            nbformat.write(answered(build.repo / "exercises", assignment, wrong), path)
            tries[path] = (assignment, wrong)
    # One Python of the image's environment runs them all, each in a fresh kernel started in its folder.
    run = subprocess.run(
        [str(build.env / "bin" / "python"), "-c", RUN_EACH, *map(str, tries)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for path, (assignment, wrong) in tries.items():
        checks = check_outputs(nbformat.read(path, as_version=4))
        assert len(checks) == 7, (assignment, checks)
        for gid, text in checks:
            if wrong:
                assert "\n✗ 还不对" in text and "复习：" in text and "✔ 正确" not in text, (gid, text)
            else:
                assert "\n✔ 正确" in text and "✗" not in text, (gid, text)
        path.unlink()


# Each notebook named on the command line run top to bottom in a new kernel (its own folder as
# the working directory), errors kept as outputs, and saved in place: what
# `jupyter nbconvert --execute --allow-errors --inplace` does, in one process for all of them.
RUN_EACH = """
import os, sys
import nbformat
from nbclient import NotebookClient
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, allow_errors=True, timeout=300, resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    nbformat.write(nb, path)
"""


def test_no_instructor_material_is_left(build):
    for gone in (
        "exercises/source",
        "exercises/gradebook.db",
        "exercises/autograded",
        "exercises/feedback",
        "exercises/submitted",
        "tests",
        "benchmarks",
        ".git",
    ):
        assert not (build.repo / gone).exists(), f"{gone} is still in the image"


def _leaks(root: Path, secrets: dict[str, str]) -> list[str]:
    """Every file under *root* holding a solution/hidden-test/mark-scheme marker line or a
    line of the instructor versions' solutions, hidden tests or mark schemes."""
    leaks = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        if path.suffix == ".ipynb":  # notebooks: the cell text and metadata, not the JSON escapes
            text = "\n".join(
                c.source + json.dumps(c.metadata, ensure_ascii=False) for c in nbformat.reads(text, as_version=4).cells
            )
        rel = path.relative_to(root)
        leaks += [f"{rel}: marker {m.group(0).strip()!r}" for m in MARKER_LINE.finditer(text)]
        leaks += [f"{rel}: {where} line {s!r}" for s, where in secrets.items() if s in text]
    return leaks


def test_the_leak_scan_finds_the_instructor_versions(build):
    """The scan below has teeth: run on exercises/source it finds every secret it looks for."""
    assert len(build.secrets) > 20, "found too few secrets in the instructor versions to check"
    leaks = "\n".join(_leaks(ROOT / "exercises" / "source", build.secrets))
    for kind in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME"):
        assert kind in leaks, kind
    missing = [s for s in build.secrets if repr(s) not in leaks]
    assert missing == []


def test_nothing_in_the_image_holds_a_solution_hidden_test_or_mark_scheme(build):
    leaks = _leaks(build.repo, build.secrets)
    assert leaks == [], "\n".join(leaks[:40])


# ------------------------------------------------------------------ JupyterLab in the image
def test_nbgrader_widgets_and_validate_lab_extensions_are_enabled(build):
    out = subprocess.run(
        [str(build.env / "bin" / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        check=True,
        env=build.environ,
        cwd=build.repo,
    )
    listing = ANSI.sub("", out.stdout + out.stderr)
    assert str(build.env) in listing, listing
    for ext in ("@jupyter/nbgrader", "@jupyter-widgets/jupyterlab-manager", "@kam-course/validate"):
        line = next((ln for ln in listing.splitlines() if ext in ln), "")
        assert "enabled" in line and "OK" in line, f"{ext} not enabled:\n{listing}"


def test_kernels_explain_slips_from_their_start(build):
    """The learner's server setting of deploy/learner: its kernels load kamlib.slips when they start."""
    config = json.loads((build.env / "etc" / "jupyter" / "jupyter_server_config.json").read_text(encoding="utf-8"))
    assert config["KernelSpecManager"]["kernel_spec_class"] == "kamlib.slips.LearnerKernelSpec"


def test_widget_state_is_saved_in_notebooks(build):
    """A lesson reopened the next day shows its widgets (saved state), not "model not found":
    the course's JupyterLab settings (lab/overrides.json) are installed with the locale."""
    installed = build.env / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "kam-course.json"
    data = json.loads(installed.read_text(encoding="utf-8"))
    assert data["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True
    assert data[LOCALE_PLUGIN]["locale"] == "zh_CN"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.fixture(scope="module")
def lab(build):
    """The server the badge opens (as repo2docker starts it), and a GET helper for its URLs."""
    port, token = _free_port(), "binder-test"
    cmd = [
        str(build.env / "bin" / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={build.repo}",
    ]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    server = subprocess.Popen(
        cmd, cwd=build.repo, env=build.environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> tuple[int, str]:
        sep = "&" if "?" in path else "?"
        try:
            with urllib.request.urlopen(f"{base}{path}{sep}token={token}", timeout=10) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as err:
            return err.code, ""

    try:
        for _ in range(120):
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.25)
        yield get
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def test_jupyterlab_opens_in_simplified_chinese(lab):
    """zh-CN language pack installed and locale zh_CN by default."""
    settings = json.loads(lab(f"/lab/api/settings/{LOCALE_PLUGIN}")[1])
    assert settings["schema"]["properties"]["locale"]["default"] == "zh_CN", settings["schema"]["properties"]
    languages = json.loads(lab("/lab/api/translations/")[1])["data"]
    assert "zh_CN" in languages, sorted(languages)
    bundle = json.loads(lab("/lab/api/translations/zh_CN")[1])["data"]
    assert bundle.get("jupyterlab"), "the zh_CN language pack has no JupyterLab strings"
    assert lab("/lab/tree/course/00_index.ipynb")[0] == 200


def test_a_learner_sees_no_instructor_tools_no_exchange_and_no_news(lab):
    """Binder is for self-study: nbgrader's instructor tools (Formgrader opens source/, the answer
    key), its Assignments and Courses lists (no exchange on Binder) and JupyterLab's news are off;
    Validate, which a learner uses, stays, in Chinese: the course's button replaces nbgrader's."""
    status, page = lab("/lab")
    assert status == 200
    config = json.loads(
        re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    disabled = config["disabledExtensions"]
    disabled = set(disabled) if isinstance(disabled, list) else {k for k, v in disabled.items() if v}
    for plugin in ("formgrader", "create-assignment", "course-list", "assignment-list", "menu"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled, sorted(disabled)
    assert "@jupyter/nbgrader:validate-assignment" in disabled, sorted(disabled)
    assert "@kam-course/validate" in {e["name"] for e in config["federated_extensions"]}
    for path in ("/formgrader", "/formgraders", "/assignments", "/courses"):
        assert lab(path)[0] == 404, f"{path} is served"
    assert lab("/assignments/validate")[0] == 405, "Validate's handler (POST only) should be served"
    news = json.loads(lab("/lab/api/settings/@jupyterlab/apputils-extension:notification")[1])
    assert news["schema"]["properties"]["fetchNews"]["default"] == "false"


CHART = r"""
import sys, warnings
import matplotlib as mpl
from matplotlib import font_manager
# Binder's image has no CJK font: drop every system font, keep matplotlib's own (DejaVu).
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist
                                    if f.fname.startswith(mpl.get_data_path())]
warnings.filterwarnings("error", message=r"Glyph .* missing", category=UserWarning)
import io
import kamlib
from kamlib import plots
from kamlib.data import load_accounts
from kamlib.priorities import pareto
assert plots.use_chinese_font() == "Kam Sans", mpl.rcParams["font.family"]
for fig in (plots.pareto_chart(pareto(load_accounts())), plots.duty_heatmap()):
    fig.savefig(io.BytesIO(), format="png")
print(kamlib.__file__)
"""


def test_chinese_charts_render_with_the_bundled_font_alone(build):
    environ = dict(build.environ, KAMLIB_STRICT_GLYPHS="1")
    run = subprocess.run(
        [str(build.env / "bin" / "python"), "-c", CHART],
        cwd=build.repo / "course",
        env=environ,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().startswith(str(build.repo)), f"kamlib imported from {run.stdout.strip()}"


def test_build_time(build):
    """Printed, not asserted: the replay (copy, environment, postBuild) of this module."""
    print(f"\nBinder replay: {build.seconds:.1f} s\n{build.output}")
