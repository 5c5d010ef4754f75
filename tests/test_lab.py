"""``make lab`` as a trainer starts it: the commands of the Makefile's ``lab`` recipe, run as they are
(plus a port, a token and no browser) in a copy of the repository, on a machine with an English
locale. The real server then answers: its root is the repository, its default page the index
notebook, its UI language Chinese, and the formgrader works (no "not a subdirectory" warning)."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.courses import EXERCISES, copy_clean_course

pytestmark = pytest.mark.slow  # starts JupyterLab as make lab does

REPO = Path(__file__).resolve().parents[1]
INDEX = "course/00_index.ipynb"
BAD_SETUP = "not a subdirectory of the notebook server root"


def lab_commands(repo: Path) -> list[str]:
    """The shell commands ``make lab`` runs in ``repo`` (the virtualenv taken as built)."""
    run = subprocess.run(
        ["make", "-s", "-n", "-o", ".venv/.installed", "lab"], cwd=repo, capture_output=True, text=True, check=True
    )
    return [line for line in run.stdout.splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str, follow: bool = True) -> tuple[int, dict, str]:
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    repo = tmp / "repo"
    repo.mkdir()
    for name in ("Makefile", "pyproject.toml", "nbgrader_config.py"):
        shutil.copy2(REPO / name, repo / name)
    for name in ("course", "lab"):
        shutil.copytree(REPO / name, repo / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "node_modules"))
    copy_clean_course(EXERCISES, repo / "exercises")
    (repo / ".venv").symlink_to(REPO / ".venv")
    home = tmp / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "LC_", "LANG"))}
    env.update(
        LANG="en_US.UTF-8",
        LC_ALL="en_US.UTF-8",
        LANGUAGE="en_US",
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
    )
    *setup, start = lab_commands(repo)
    for command in setup:
        subprocess.run(command, shell=True, cwd=repo, env=env, check=True, timeout=120)
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp / "lab.log"
    extra = f" --no-browser --ServerApp.port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    with log.open("w") as out:
        server = subprocess.Popen(
            start + extra, shell=True, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        yield {"base": base, "token": token, "log": log, "start": start, "repo": repo}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_the_recipe_roots_the_server_at_the_repository_and_opens_the_index(lab):
    words = shlex.split(lab["start"])
    assert INDEX not in words  # a notebook argument would root the server at course/
    status, _, body = _get(f"{lab['base']}/api/contents?token={lab['token']}")
    assert status == 200
    names = {item["name"] for item in json.loads(body)["content"]}
    assert {"course", "exercises", "Makefile"} <= names
    status, headers, _ = _get(f"{lab['base']}/?token={lab['token']}", follow=False)
    assert status in (301, 302) and headers["Location"].split("?")[0].endswith(f"/lab/tree/{INDEX}")
    status, _, _ = _get(f"{lab['base']}/api/contents/{INDEX}?token={lab['token']}&content=0")
    assert status == 200


def test_the_ui_is_chinese_on_an_english_machine(lab):
    status, _, body = _get(
        f"{lab['base']}/lab/api/settings/@jupyterlab/translation-extension:plugin?token={lab['token']}"
    )
    assert status == 200
    settings = json.loads(body)
    assert settings["schema"]["properties"]["locale"]["default"] == "zh_CN"
    status, _, body = _get(f"{lab['base']}/lab/api/translations/zh_CN?token={lab['token']}")
    assert status == 200 and json.loads(body)["data"].get("jupyterlab")


def test_the_formgrader_works_from_make_lab(lab):
    status, _, body = _get(f"{lab['base']}/formgrader?token={lab['token']}")
    assert status == 200 and BAD_SETUP not in body
    status, _, body = _get(f"{lab['base']}/formgrader/api/assignments?token={lab['token']}")
    assert status == 200
    assert {"ex01_concepts", "ex05_account_plan"} <= {a["name"] for a in json.loads(body)}
    assert BAD_SETUP not in lab["log"].read_text()


def test_the_kernels_of_make_lab_explain_slips_from_their_start(lab):
    """A notebook's kernel loads kamlib.slips when it starts (an answer run before the setup cell
    after a restart is explained in Chinese): an option the server gives its kernels."""
    request = urllib.request.Request(
        f"{lab['base']}/api/kernels?token={lab['token']}", data=b'{"name": "python3"}', method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        kernel = json.loads(response.read())["id"]
    try:
        commands = [_command_line(p) for p in Path("/proc").glob("[0-9]*/cmdline")]
        [argv] = [c for c in commands if any(kernel.encode() in a for a in c) and b"ipykernel_launcher" in c]
        assert b"--ext=kamlib.slips" in argv, argv
    finally:
        delete = urllib.request.Request(f"{lab['base']}/api/kernels/{kernel}?token={lab['token']}", method="DELETE")
        urllib.request.urlopen(delete, timeout=60).close()


def _command_line(path: Path) -> list[bytes]:
    """A process's arguments (none when it has gone)."""
    try:
        return path.read_bytes().split(b"\0")
    except OSError:
        return []
