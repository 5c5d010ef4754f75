"""The cohort hub of deploy/: JupyterHub with deploy/jupyterhub_config.py, two Unix users, nbgrader's exchange.

On loopback only. The test creates a trainer and a trainee (``useradd``), starts the hub
with deploy/jupyterhub_config.py (its groups, roles and spawner unchanged), then runs the
course's whole round trip through the exchange, each step as the Unix user who would do it
in a hub terminal (``runuser``, with the JUPYTERHUB_* variables a single-user server has):

    trainer: nbgrader generate_assignment, release_assignment
    trainee: nbgrader fetch_assignment, answers, nbgrader submit
    trainer: nbgrader collect, kam grade, kam feedback, nbgrader release_feedback
    trainee: nbgrader fetch_feedback  -> the feedback shows the score, no hidden test

and starts the trainee's single-user server through the hub's REST API.

Needs root (useradd, runuser, a hub spawning as other users), jupyterhub in this Python
environment (``pip install jupyterhub``) and configurable-http-proxy on PATH
(``npm install -g configurable-http-proxy``). Without them the tests are skipped with the
reason — except when the environment variable CI is "true": there a missing piece fails.
Everything the test creates (users and their homes, the hub's processes, a folder in /tmp)
is removed afterwards.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from tests.support.courses import EXERCISES, REPO, copy_clean_course
from tests.support.submissions import Kit, region_lines

pytestmark = pytest.mark.hub

DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
COURSE_ID = "kam_course"
ASSIGNMENT = "ex01_concepts"
STEP_TIMEOUT = 180  # seconds for any one nbgrader / kam command
HUB_TIMEOUT = 30  # seconds for the hub to answer
SPAWN_TIMEOUT = 60  # seconds for a single-user server to become ready


def _missing() -> str | None:
    """Why this machine cannot run the hub test, or None."""
    if sys.platform != "linux":
        return "需要 Linux（useradd、runuser、按 Unix 用户启动服务器）"
    if os.geteuid() != 0:
        return "需要 root：测试要用 useradd 建两个 Unix 用户，并让 JupyterHub 以它们的身份启动服务器"
    for tool in ("useradd", "userdel", "runuser"):
        if shutil.which(tool) is None:
            return f"找不到 {tool}（Debian 的 passwd / util-linux 软件包）"
    if not (BIN / "jupyterhub").exists():
        return f"本环境没有安装 jupyterhub（{BIN / 'pip'} install jupyterhub）"
    if shutil.which("configurable-http-proxy") is None:
        return "PATH 上没有 configurable-http-proxy（npm install -g configurable-http-proxy）"
    return None


@pytest.fixture(scope="module", autouse=True)
def _requirements(skip_or_fail):
    reason = _missing()
    if reason:
        skip_or_fail(f"JupyterHub 测试无法运行：{reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """A running hub, its users and its REST API (admin token of a test-only service)."""

    def __init__(self, base: Path):
        import requests

        self.requests = requests
        self.base = base
        tag = secrets.token_hex(3)
        self.trainer, self.trainee = f"kamtr{tag}", f"kamst{tag}"
        self.users: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.token = secrets.token_hex(32)
        self.password = secrets.token_urlsafe(12)
        self.port, self.hub_port, self.proxy_port = _free_port(), _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"http://127.0.0.1:{self.hub_port}/hub/api"  # what JUPYTERHUB_API_URL is in a server
        # /etc/jupyter of this test: the global nbgrader config of deploy/, as a real hub installs it.
        self.etc = base / "etc-jupyter"
        self.etc.mkdir()
        shutil.copy(DEPLOY / "nbgrader_config.py", self.etc / "nbgrader_config.py")
        self.exchange = base / "exchange"
        self.exchange.mkdir()
        self.exchange.chmod(0o1777)  # like /srv/nbgrader/exchange (deploy/README.md)
        self.state = base / "state"  # the hub's database, cookie secret, pid file, log: root only
        self.state.mkdir(mode=0o700)
        self.log = self.state / "jupyterhub.log"
        self.user_tokens: dict[str, str] = {}

    # ---------------------------------------------------------- users
    def add_user(self, name: str) -> None:
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/bin/bash", name], check=True, capture_output=True, timeout=30
        )
        self.users.append(name)

    def home(self, name: str) -> Path:
        return Path("/home") / name

    def user_env(self, name: str) -> list[str]:
        """The environment of a terminal in ``name``'s single-user server (as ``env`` arguments)."""
        env = {
            "HOME": str(self.home(name)),
            "USER": name,
            "LOGNAME": name,
            "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "PYTHONUTF8": "1",
            "JUPYTER_CONFIG_PATH": str(self.etc),
            "KAM_EXCHANGE_ROOT": str(self.exchange),
            "JUPYTERHUB_USER": name,
            "JUPYTERHUB_API_URL": self.api_url,
        }
        if name in self.user_tokens:
            env["JUPYTERHUB_API_TOKEN"] = self.user_tokens[name]
        return [f"{k}={v}" for k, v in env.items()]

    def run_as(self, name: str, *cmd: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        t0 = time.monotonic()
        done = subprocess.run(
            ["runuser", "-u", name, "--", "env", "-i", *self.user_env(name), *cmd],
            cwd=cwd or self.home(name),
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        assert done.returncode == 0 or not check, (
            f"{name}$ {' '.join(cmd)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
        print(f"{time.monotonic() - t0:5.1f} s  {name}$ {' '.join(cmd)}")
        return done

    # ---------------------------------------------------------- hub
    def write_config(self) -> Path:
        """deploy/jupyterhub_config.py, with only what a loopback test must change."""
        overlay = self.state / "test_jupyterhub_config.py"
        overlay.write_text(
            f"""
c = get_config()
load_subconfig({str(DEPLOY / "jupyterhub_config.py")!r})
# TEST ONLY: DummyAuthenticator accepts any allowed user with this one password. The real
# hub (deploy/jupyterhub_config.py) logs users in with their Unix password (PAM).
c.JupyterHub.authenticator_class = "jupyterhub.auth.DummyAuthenticator"
c.DummyAuthenticator.password = {self.password!r}
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{self.hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.proxy_port}"
c.ConfigurableHTTPProxy.should_start = True
# TEST ONLY: an API token for this test, through a service with admin scopes.
c.JupyterHub.services = [{{"name": "kam-hub-test", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles.append({{
    "name": "kam-hub-test",
    "services": ["kam-hub-test"],
    "scopes": ["admin:users", "admin:servers", "admin:groups", "tokens", "access:servers", "read:roles"],
}})
# Where the real hub has /etc/jupyter/nbgrader_config.py and /srv/nbgrader/exchange.
c.Spawner.environment = {{"JUPYTER_CONFIG_PATH": {str(self.etc)!r}, "KAM_EXCHANGE_ROOT": {str(self.exchange)!r}}}
""",
            encoding="utf-8",
        )
        return overlay

    def start(self) -> None:
        overlay = self.write_config()
        env = dict(os.environ)
        env.update(
            PATH=os.pathsep.join([str(BIN), env.get("PATH", "/usr/bin:/bin")]),
            KAM_TRAINER=self.trainer,
            KAM_TRAINEES=self.trainee,
            KAM_TRAINEES_FILE=str(self.state / "no-roster-file"),
            KAM_HUB_STATE=str(self.state),
            KAM_HUB_URL=self.url,
        )
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "jupyterhub"), "-f", str(overlay)],
                cwd=self.state,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + HUB_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterHub 退出了（{self.proc.returncode}）：\n{self.log_tail()}")
            try:
                if self.requests.get(f"{self.url}/hub/api", timeout=2).ok:
                    return
            except self.requests.ConnectionError:
                pass
            time.sleep(0.3)
        pytest.fail(f"JupyterHub 在 {HUB_TIMEOUT} 秒内没有响应 /hub/api：\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def api(self, method: str, path: str, **kwargs):
        r = self.requests.request(
            method, f"{self.url}/hub/api{path}", timeout=15, headers={"Authorization": f"token {self.token}"}, **kwargs
        )
        assert r.ok, f"{method} {path} -> {r.status_code} {r.text}\n{self.log_tail()}"
        return r.json() if r.content else None

    def new_token(self, name: str) -> None:
        """A token for ``name`` with the owner's permissions (as the one of their server)."""
        self.user_tokens[name] = self.api(
            "POST", f"/users/{name}/tokens", json={"note": "kam hub test", "expires_in": 600}
        )["token"]

    # ---------------------------------------------------------- cleanup
    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the hub stops the servers it started
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def remove_users(self) -> None:
        import pwd

        for name in self.users:
            try:
                uid = pwd.getpwnam(name).pw_uid
            except KeyError:
                continue
            for pid in _pids_of(uid):  # anything still running as a user this test created
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=30)


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def hub():
    base = Path(tempfile.mkdtemp(prefix="kam-hub-", dir="/tmp"))
    base.chmod(0o755)  # the test users read the nbgrader config and write the exchange in here
    h = Hub(base)
    try:
        h.add_user(h.trainer)
        h.add_user(h.trainee)
        h.start()
        yield h
    finally:
        h.stop()
        h.remove_users()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def usable_env(hub, skip_or_fail) -> None:
    """Every user's server and nbgrader run from this environment, so its interpreter must be
    readable by them (not so for a Python inside a private home folder)."""
    probe = subprocess.run(
        ["runuser", "-u", hub.trainee, "--", str(BIN / "python"), "-c", "import nbgrader"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if probe.returncode != 0:
        skip_or_fail(
            f"JupyterHub 测试无法运行：其他用户无法运行本环境的 Python（{Path(sys.executable).resolve()}）："
            f"{probe.stderr.strip()[-200:]}；请用所有用户可读的 Python（如 /usr/bin/python3）建 .venv"
        )


@pytest.fixture(scope="module")
def course(hub, usable_env) -> Path:
    """The trainer's course root: a copy of exercises/ in the trainer's home."""
    root = copy_clean_course(EXERCISES, hub.home(hub.trainer) / COURSE_ID)
    subprocess.run(["chown", "-R", f"{hub.trainer}:{hub.trainer}", str(root)], check=True, timeout=30)
    return root


def page_text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ the hub itself
def test_the_hub_answers_and_has_the_course_groups_and_roles(hub):
    assert "version" in hub.requests.get(f"{hub.url}/hub/api", timeout=5).json()
    groups = {g["name"]: g for g in hub.api("GET", "/groups")}
    assert set(groups[f"formgrade-{COURSE_ID}"]["users"]) == {hub.trainer}
    assert set(groups[f"nbgrader-{COURSE_ID}"]["users"]) == {hub.trainer, hub.trainee}
    assert "kam-trainer" in groups[f"formgrade-{COURSE_ID}"]["roles"]
    assert "kam-trainee" in groups[f"nbgrader-{COURSE_ID}"]["roles"]
    trainee = hub.api("GET", f"/users/{hub.trainee}")
    assert trainee["admin"] is False and trainee["groups"] == [f"nbgrader-{COURSE_ID}"]
    trainer = hub.api("GET", f"/users/{hub.trainer}")
    assert trainer["admin"] is False
    assert set(trainer["groups"]) == {f"formgrade-{COURSE_ID}", f"nbgrader-{COURSE_ID}"}


def test_only_the_roster_logs_in(hub):
    """With the test password, an allowed user gets in and a stranger does not (the
    allow-list is deploy/'s; only the password check is the test's)."""
    s = hub.requests.Session()
    login = f"{hub.url}/hub/login"
    xsrf = s.get(login, timeout=10).cookies.get("_xsrf")
    ok = s.post(
        login,
        data={"username": hub.trainee, "password": hub.password, "_xsrf": xsrf},
        allow_redirects=False,
        timeout=10,
    )
    assert ok.status_code == 302, ok.text
    s2 = hub.requests.Session()
    xsrf = s2.get(login, timeout=10).cookies.get("_xsrf")
    bad = s2.post(
        login, data={"username": "stranger", "password": hub.password, "_xsrf": xsrf}, allow_redirects=False, timeout=10
    )
    assert bad.status_code == 403


# ------------------------------------------------------------------ release → submit → feedback
def test_release_submit_grade_and_feedback_through_the_exchange(hub, course):
    hub.new_token(hub.trainer)
    hub.new_token(hub.trainee)
    tr, st = hub.trainer, hub.trainee

    hub.run_as(tr, "nbgrader", "generate_assignment", ASSIGNMENT, cwd=course)
    hub.run_as(tr, "nbgrader", "release_assignment", ASSIGNMENT, cwd=course)

    # Out of the course group, the trainee may not fetch (the hub decides, not the folder's modes)...
    group = f"/groups/nbgrader-{COURSE_ID}/users"
    hub.api("DELETE", group, json={"users": [st]})
    refused = hub.run_as(st, "nbgrader", "fetch_assignment", ASSIGNMENT, check=False)
    assert refused.returncode != 0 and "You do not have access to this course" in refused.stderr, refused.stderr
    hub.api("POST", group, json={"users": [st]})
    # ...back in it, they may.
    hub.run_as(st, "nbgrader", "fetch_assignment", ASSIGNMENT)
    # nbgrader asked the hub whether the trainee is in the course (JupyterHubAuthPlugin,
    # deploy/nbgrader_config.py): the trainee's token read the trainee's groups.
    assert re.search(rf"200 GET /hub/api/users/{st} \({st}@", hub.log.read_text(errors="replace")), hub.log_tail()
    fetched = hub.home(st) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert fetched.exists()
    # The trainee's Validate has the course's checks and Chinese messages: the hub's global
    # config applies kamlib.grading.run_settings, read as the trainee.
    checked = hub.run_as(st, "nbgrader", "validate", f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb", check=False)
    assert "验证未通过" in checked.stdout and "不检查答案对不对" in checked.stdout, (
        checked.stdout[-2000:] + checked.stderr
    )
    assert checked.stdout.count("这道题还没有作答") >= 1, checked.stdout[-2000:]
    # The trainee's answers: the source's solutions in the learner version, written as the trainee.
    answered = nbformat.writes(Kit(course, ASSIGNMENT).solved())
    subprocess.run(
        ["runuser", "-u", st, "--", "tee", str(fetched)],
        input=answered,
        text=True,
        capture_output=True,
        check=True,
        timeout=30,
    )
    hub.run_as(st, "nbgrader", "submit", ASSIGNMENT)

    hub.run_as(tr, "nbgrader", "collect", ASSIGNMENT, cwd=course)
    assert (course / "submitted" / st / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    graded = hub.run_as(tr, "kam", "grade", ASSIGNMENT, cwd=course)
    assert "成功 1 份，失败 0 份" in graded.stdout
    hub.run_as(tr, "kam", "feedback", ASSIGNMENT, cwd=course)
    hub.run_as(tr, "nbgrader", "release_feedback", ASSIGNMENT, cwd=course)

    hub.run_as(st, "nbgrader", "fetch_feedback", ASSIGNMENT)
    pages = list((hub.home(st) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(pages) == 1, pages
    text = page_text(pages[0])
    # All 14 autograded points; the 6 points of written answers wait for the trainer.
    assert re.search(r"得分\s*14(\.0+)?\s*/\s*20(\.0+)?", text), text[:2000]
    assert "待批改" in text
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    hidden = [line for line in region_lines(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS") if len(line) > 12]
    assert hidden, "the source has hidden tests to look for"
    assert "HIDDEN TESTS" not in text
    leaked = [line for line in hidden if line in text]
    assert not leaked, f"反馈中出现了隐藏测试：{leaked}"


# ------------------------------------------------------------------ the trainee's server
def _start_server(hub, name: str) -> dict:
    """Start ``name``'s server through the hub's API; the headers to reach it."""
    hub.api("POST", f"/users/{name}/server")
    deadline = time.monotonic() + SPAWN_TIMEOUT
    while time.monotonic() < deadline:
        server = hub.api("GET", f"/users/{name}").get("servers", {}).get("")
        if server and server.get("ready"):
            return {"Authorization": f"token {hub.token}"}
        time.sleep(0.5)
    pytest.fail(f"{name} 的服务器在 {SPAWN_TIMEOUT} 秒内没有就绪：\n{hub.log_tail()}")


def _kernel_argv(hub, name: str, headers: dict) -> list[bytes]:
    """The command line of a Python kernel started in ``name``'s server (then shut down)."""
    url = f"{hub.url}/user/{name}/api/kernels"
    kernel = hub.requests.post(url, json={"name": "python3"}, headers=headers, timeout=60).json()["id"]
    try:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmdline.read_bytes().split(b"\0")
            except OSError:
                continue
            if b"ipykernel_launcher" in argv and any(kernel.encode() in a for a in argv):
                return argv
        pytest.fail(f"no process for kernel {kernel} of {name}")
    finally:
        hub.requests.delete(f"{url}/{kernel}", headers=headers, timeout=60)


def _disabled_plugins(hub, name: str, headers: dict) -> set[str]:
    page = hub.requests.get(f"{hub.url}/user/{name}/lab", headers=headers, timeout=10)
    assert page.ok, page.status_code
    config = json.loads(
        re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page.text, re.S).group(1)
    )
    disabled = config["disabledExtensions"]
    return set(disabled) if isinstance(disabled, list) else {k for k, v in disabled.items() if v}


INSTRUCTOR_PLUGINS = {f"@jupyter/nbgrader:{p}" for p in ("formgrader", "create-assignment", "course-list")}


def test_the_trainees_server_starts_as_the_trainee_without_instructor_tools(hub, usable_env):
    st = hub.trainee
    headers = _start_server(hub, st)
    try:
        status = hub.requests.get(f"{hub.url}/user/{st}/api/status", headers=headers, timeout=10)
        assert status.ok, status.text
        # It serves the trainee's home, and its process belongs to the trainee.
        import pwd

        uid = pwd.getpwnam(st).pw_uid
        cmdlines = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in _pids_of(uid)]
        assert any(b"jupyterhub-singleuser" in c for c in cmdlines), cmdlines
        contents = hub.requests.get(f"{hub.url}/user/{st}/api/contents", headers=headers, timeout=10)
        assert contents.ok, contents.text
        # A learner's JupyterLab: no Formgrader (it would open the answer key), Create Assignment
        # or Course List, no news; the Assignments list (the exchange) and Validate stay, Validate
        # in Chinese (the course's button in place of nbgrader's).
        disabled = _disabled_plugins(hub, st, headers)
        assert INSTRUCTOR_PLUGINS <= disabled, sorted(disabled)
        assert "@jupyter/nbgrader:assignment-list" not in disabled
        assert "@jupyter/nbgrader:validate-assignment" in disabled and "@kam-course/validate:plugin" not in disabled
        # Its kernels explain the common slips in Chinese from their start.
        assert b"--ext=kamlib.slips" in _kernel_argv(hub, st, headers)
        for path, code in (("formgrader", 404), ("formgraders", 404), ("assignments/validate", 405)):
            got = hub.requests.get(f"{hub.url}/user/{st}/{path}", headers=headers, timeout=10).status_code
            assert got == code, f"/{path}: {got}"
        listed = hub.requests.get(f"{hub.url}/user/{st}/assignments", headers=headers, timeout=30)
        assert listed.status_code != 404, "the trainee's Assignments list must be served"
        news = hub.requests.get(
            f"{hub.url}/user/{st}/lab/api/settings/@jupyterlab/apputils-extension:notification",
            headers=headers,
            timeout=10,
        ).json()
        assert news["schema"]["properties"]["fetchNews"]["default"] == "false"
    finally:
        hub.requests.delete(f"{hub.url}/hub/api/users/{st}/server", timeout=30, headers=headers)


def test_the_trainers_server_keeps_the_instructor_tools(hub, usable_env):
    tr = hub.trainer
    headers = _start_server(hub, tr)
    try:
        assert not INSTRUCTOR_PLUGINS & _disabled_plugins(hub, tr, headers)
        assert b"--ext=kamlib.slips" not in _kernel_argv(hub, tr, headers)
        got = hub.requests.get(f"{hub.url}/user/{tr}/formgrader", headers=headers, timeout=30).status_code
        assert got != 404, "the trainer's formgrader must be served"
    finally:
        hub.requests.delete(f"{hub.url}/hub/api/users/{tr}/server", timeout=30, headers=headers)
