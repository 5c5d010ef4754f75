"""Run a learner's kernel in a sandbox while it is graded (Linux, bubblewrap).

Why bubblewrap: it needs no daemon and no root (it builds the sandbox from unprivileged
Linux namespaces), it is one Debian/Ubuntu/Fedora package, and every limit below is a
plain kernel mechanism that it or the launcher sets up. A container engine would do the
same with far more weight and set-up on a trainer's machine or a hub.

What the kernel sees and may do:

* its own scratch folder, a copy of the submission, on a size-capped tmpfs (the only
  writable place besides a tiny socket folder; ``/tmp`` points into it);
* the Python environment and kamlib (read-only), the system's libraries (read-only),
  and a few files of ``/etc`` the dynamic linker and fonts need — not the course root,
  ``source/``, the gradebook, other learners' folders or any home directory;
* no network at all (its own empty network namespace: loopback is not the host's);
* a scrubbed environment (only the variables listed in :data:`KERNEL_ENV`);
* no privileges: uid 65534 inside, no capabilities, no new user namespaces, its own
  PID/IPC/UTS namespaces, a new session; when the grader runs as root the whole sandbox
  also runs as an unprivileged host user (:attr:`Sandbox.host_user`);
* limits set by ``sandbox_launch.py`` before the kernel starts: memory (address space),
  processes (threads count too), file size, no core dumps.

The kernel talks to the grader over Unix sockets (jupyter_client's IPC transport) that
it creates in its own socket folder; the grader reaches them through
``/proc/<pid>/root``, so the grader shares no writable folder with the kernel.
Interrupts are sent as messages (the grader cannot signal into the PID namespace).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, Unicode
from traitlets.config import LoggingConfigurable

__all__ = ["Sandbox", "SandboxedKernelManager", "SandboxError", "doctor", "DoctorCheck", "parse_size"]

BWRAP = "bwrap"
LAUNCHER = Path(__file__).with_name("sandbox_launch.py")
INSIDE_HOME = "/home/learner"
INSIDE_WORK = f"{INSIDE_HOME}/work"
INSIDE_SUBMISSION = "/kam/submission"
INSIDE_RUN = "/kam/run"
INSIDE_CONNECTION = "/kam/connection.json"
SANDBOX_UID = 65534
#: Bytes of the sandbox's /dev/shm (shared memory for semaphores and the like; not scratch space).
DEV_SHM_SIZE = 16 * 2**20
#: First on the kernel's module path: stand-ins for what a graded kernel need not load (its debugger).
KERNEL_SITE = Path(__file__).resolve().with_name("kernel_site")

#: Environment of the sandboxed kernel: these values, nothing inherited from the grader.
KERNEL_ENV = {
    "HOME": INSIDE_HOME,
    "USER": "learner",
    "LOGNAME": "learner",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONUTF8": "1",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
    "TMPDIR": "/tmp",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": f"{INSIDE_HOME}/.matplotlib",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
    "PYTHONPATH": str(KERNEL_SITE),
}
#: Environment of bubblewrap itself. Not the grader's: the sandbox's PID 1 is a bubblewrap
#: process whose start-up environment the kernel can read in /proc/1/environ.
BWRAP_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
#: Grader variables a kernel may keep (they change how it behaves, and hold no secret).
PASSED_ENV = ("KAMLIB_STRICT_GLYPHS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ")


class SandboxError(RuntimeError):
    """The sandbox cannot start here; the message (Chinese) says why and what to do."""


def parse_size(text: str | int) -> int:
    """``"2G"``, ``"256M"``, ``"512K"`` or a number of bytes -> bytes."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", str(text), re.IGNORECASE)
    if not match:
        raise ValueError(f"无法理解的大小：{text!r}（例如 2G、256M）")
    factor = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[match[2].upper()]
    return int(float(match[1]) * factor)


class Sandbox(LoggingConfigurable):
    """Sandbox settings (``c.Sandbox.*`` in nbgrader_config.py)."""

    enabled = Bool(True, help="Run learner kernels in the sandbox while grading.").tag(config=True)
    memory_limit = Unicode("2G", help="Address space of each kernel process.").tag(config=True)
    max_processes = Integer(64, help="Processes and threads the kernel may have at once.").tag(config=True)
    scratch_size = Unicode("256M", help="Size of the kernel's writable scratch folder.").tag(config=True)
    host_user = Unicode("nobody", help="Host user the sandbox runs as when the grader is root.").tag(config=True)

    def host_ids(self) -> tuple[int, int] | None:
        """(uid, gid) to switch to when running as root; None when not root."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(self.host_user)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            return SANDBOX_UID, SANDBOX_UID


# --------------------------------------------------------------------------- mounts
def _python_roots() -> list[str]:
    """Read-only folders the kernel needs: the environment, the interpreter, kamlib."""
    import kamlib

    roots = {sys.prefix, sys.base_prefix, str(Path(kamlib.__file__).resolve().parent)}
    roots.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    return sorted(r for r in roots if not r.startswith("/usr/") and r != "/usr")


_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/fonts",
    "/etc/alternatives",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
)


def bwrap_args(sandbox: Sandbox, submission: Path, connection_file: Path) -> list[str]:
    """The bubblewrap command line (without the command) for one kernel."""
    args = [BWRAP]
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _ETC_FILES:
        args += ["--ro-bind-try", path, path]
    # An environment or kamlib under /tmp (a checkout there, a CI runner's venv) is mounted
    # after /tmp exists in the sandbox: there /tmp is a link into the learner's scratch folder.
    roots = _python_roots()
    in_tmp = [r for r in roots if r.startswith("/tmp/")]
    for root in roots:
        if root not in in_tmp:
            args += ["--ro-bind", root, root]
    scratch = str(parse_size(sandbox.scratch_size))
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",  # bubblewrap's /dev is a tmpfs of half the host's memory: /dev/shm gets a small one
        str(DEV_SHM_SIZE),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
        "/dev",  # and nothing else in /dev is writable (its devices still work)
        "--size",
        scratch,
        "--tmpfs",
        INSIDE_HOME,
        "--dir",
        INSIDE_WORK,
        "--dir",
        f"{INSIDE_HOME}/tmp",
        "--symlink",  # relative, so that bubblewrap can mount through it (an absolute one would
        f"{INSIDE_HOME}/tmp".lstrip("/"),  # be resolved outside the sandbox while it is set up)
        "/tmp",
        "--size",
        str(2**20),
        "--tmpfs",
        INSIDE_RUN,
        "--ro-bind",
        str(submission),
        INSIDE_SUBMISSION,
        "--ro-bind",
        str(connection_file),
        INSIDE_CONNECTION,
        *[arg for root in in_tmp for arg in ("--ro-bind", root, root)],
        "--remount-ro",
        "/",  # the sandbox's own root folder too: writable are only the two tmpfs above
        "--chdir",
        INSIDE_WORK,
        "--unshare-user",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--disable-userns",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "kam-sandbox",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
    ]
    env = dict(KERNEL_ENV, PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin")
    env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args


def launcher_args(sandbox: Sandbox) -> list[str]:
    """The in-sandbox launcher: copy the submission, set the limits, exec the kernel."""
    return [
        sys.executable,
        "-I",
        str(LAUNCHER),
        "--copy",
        INSIDE_SUBMISSION,
        INSIDE_WORK,
        "--memory",
        str(parse_size(sandbox.memory_limit)),
        "--processes",
        str(sandbox.max_processes),
        "--file-size",
        str(parse_size(sandbox.scratch_size)),
        "--",
    ]


# --------------------------------------------------------------------------- kernel manager
class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox, reached over IPC sockets.

    ``cwd`` given to ``start_kernel`` (nbgrader: the learner's autograded folder) is
    copied, without symbolic links, into the kernel's scratch folder. When
    :attr:`learner_folder` is set (the learner's submission folder), the notebooks in that
    copy are the learner's own, not nbgrader's autograded ones: those hold the test cells
    as the gradebook has them, hidden tests included.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sandbox = Sandbox(parent=self)
        self._tmp = Path(tempfile.mkdtemp(prefix="kam-sandbox-"))
        self.transport = "ipc"
        self.ip = f"{INSIDE_RUN}/kernel"
        self.connection_file = str(self._tmp / "connection.json")
        self.learner_folder: Path | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        cmd = [INSIDE_CONNECTION if arg == os.path.realpath(self.connection_file) else arg for arg in cmd]
        submission = self._tmp / "submission"
        return (
            bwrap_args(self.sandbox, submission, Path(self.connection_file))
            + ["--info-fd", "{info_fd}"]
            + launcher_args(self.sandbox)
            + cmd
        )

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        if shutil.which(BWRAP) is None:
            raise SandboxError("找不到 bubblewrap（bwrap），无法在沙箱中评分。" + _FIX_BWRAP)
        self._copy_submission(Path(kw.get("cwd") or os.getcwd()))
        ids = self.sandbox.host_ids()
        if ids:
            _chown_tree(self._tmp, *ids)
            kw.update(user=ids[0], group=ids[1], extra_groups=[])
        read_end, write_end = os.pipe()
        kernel_cmd = [str(write_end) if a == "{info_fd}" else a for a in kernel_cmd]
        kw["pass_fds"] = (write_end,)
        kw["cwd"] = str(self._tmp)
        kw["env"] = BWRAP_ENV
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            os.close(write_end)
        try:
            pid = _read_child_pid(read_end)
        finally:
            os.close(read_end)
        if pid is None:
            raise SandboxError("沙箱没有启动（bubblewrap 立即退出了）。请在课程目录运行 kam doctor 查看原因。")
        self.ip = f"/proc/{pid}/root{INSIDE_RUN}/kernel"

    def _copy_submission(self, folder: Path) -> None:
        """Copy the kernel's folder, without links, and without files larger than its scratch
        folder (which nbgrader copied whole, sparse ones too): the copy lives on the host."""
        target = self._tmp / "submission"
        shutil.rmtree(target, ignore_errors=True)
        limit = parse_size(self.sandbox.scratch_size)
        learner = self.learner_folder
        if learner is None:
            shutil.copytree(folder, target, symlinks=True, ignore=_left_out(limit))
            return
        if folder.is_dir():  # nbgrader writes the notebooks there; the other files may be none
            shutil.copytree(folder, target, symlinks=True, ignore=_left_out(limit, notebooks=True))
        else:
            target.mkdir()
        for own in learner.glob("*.ipynb"):
            if own.is_file() and not own.is_symlink():
                shutil.copyfile(own, target / own.name)

    async def _async_interrupt_kernel(self) -> None:
        # Signals cannot reach into the sandbox's PID namespace: ask the kernel by message.
        if self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)

    interrupt_kernel = _async_interrupt_kernel

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        try:
            await super()._async_cleanup_resources(restart)
        finally:
            if not restart:
                shutil.rmtree(self._tmp, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources


def _left_out(limit: int, notebooks: bool = False) -> Callable[[str, list[str]], list[str]]:
    """A ``copytree`` ignore: links, regular files over ``limit`` bytes and (``notebooks``) notebooks."""

    def ignore(folder: str, names: list[str]) -> list[str]:
        left = []
        for name in names:
            path = os.path.join(folder, name)
            if os.path.islink(path) or (notebooks and name.endswith(".ipynb")):
                left.append(name)
            elif os.path.isfile(path) and os.path.getsize(path) > limit:
                left.append(name)
        return left

    return ignore


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def _read_child_pid(fd: int, timeout: float = 30.0) -> int | None:
    """bubblewrap's ``--info-fd`` JSON -> the sandbox's PID (None if it exited first)."""
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        try:
            return int(json.loads(data)["child-pid"])
        except (ValueError, KeyError):
            continue
    return None


_FIX_BWRAP = "请安装 bubblewrap（Debian/Ubuntu：sudo apt install bubblewrap），然后运行 kam doctor 检查。"
_FIX_USERNS = (
    "系统不允许普通用户创建用户命名空间（Ubuntu 24.04 的 AppArmor 默认如此）。"
    "请管理员允许 bwrap 使用用户命名空间，例如 sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0，"
    "或为 /usr/bin/bwrap 添加 AppArmor 配置（见 README 的“评分沙箱”一节）。"
)


# --------------------------------------------------------------------------- doctor
@dataclass(frozen=True)
class DoctorCheck:
    """One line of ``kam doctor``: what was checked, whether it holds, and what to do."""

    name: str
    ok: bool
    detail: str


def _probe(sandbox: Sandbox, code: str, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python -c code args`` in a sandbox like a kernel's (empty submission)."""
    with tempfile.TemporaryDirectory(prefix="kam-doctor-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "submission").mkdir()
        (tmp_path / "connection.json").write_text("{}", encoding="utf-8")
        cmd = bwrap_args(sandbox, tmp_path / "submission", tmp_path / "connection.json")
        cmd += launcher_args(sandbox) + [sys.executable, "-c", code, *args]
        kwargs = {}
        ids = sandbox.host_ids()
        if ids:
            _chown_tree(tmp_path, *ids)
            kwargs = dict(user=ids[0], group=ids[1], extra_groups=[])
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tmp, env=BWRAP_ENV, **kwargs)


_PROBE = r"""
import json, os, socket, sys
facts = {"uid": os.getuid(), "net_ns": os.stat("/proc/self/ns/net").st_ino,
         "interfaces": [name for _, name in socket.if_nameindex()], "imports": True}
if "--imports" in sys.argv:
    try:
        import kamlib.tiers, pandas, ipykernel
    except Exception as exc:
        facts["imports"] = repr(exc)
print(json.dumps(facts))
"""


def doctor(sandbox: Sandbox | None = None, imports: bool = True) -> list[DoctorCheck]:
    """Check that this machine can grade in the sandbox; each failed check says how to fix it.

    ``imports=False`` skips importing the kernel's packages in the sandbox (a second
    faster; ``kam grade`` checks that way before grading, and a kernel that cannot
    start fails its submission with nbgrader's message anyway).
    """
    sandbox = sandbox or Sandbox()
    checks = [
        DoctorCheck(
            "操作系统",
            sys.platform.startswith("linux"),
            "Linux" if sys.platform.startswith("linux") else "评分沙箱只支持 Linux。",
        )
    ]
    path = shutil.which(BWRAP)
    checks.append(DoctorCheck("bubblewrap", path is not None, path or "找不到 bwrap。" + _FIX_BWRAP))
    if not checks[0].ok or path is None:
        return checks
    ids = sandbox.host_ids()
    if ids:
        unreadable = [r for r in _python_roots() if not _reachable(r, *ids)]
        checks.append(
            DoctorCheck(
                "Python 环境对沙箱用户可读",
                not unreadable,
                "可读"
                if not unreadable
                else f"以 root 评分时沙箱以普通用户（uid {ids[0]}）运行，但它读不到：{'、'.join(unreadable)}。"
                "请把 .venv 建在其他用户可以进入的目录（例如用 /usr/bin/python3 创建），或设置 c.Sandbox.host_user。",
            )
        )
        if unreadable:
            return checks
    try:
        run = _probe(sandbox, _PROBE, ["--imports"] if imports else [])
    except subprocess.TimeoutExpired:
        checks.append(DoctorCheck("启动沙箱", False, "沙箱 60 秒内没有启动。"))
        return checks
    if run.returncode != 0 or not run.stdout.strip():
        detail = (run.stderr.strip().splitlines() or ["（无输出）"])[-1]
        hint = _FIX_USERNS if "namespace" in detail.lower() or "permission" in detail.lower() else ""
        checks.append(DoctorCheck("启动沙箱", False, f"bubblewrap 报错：{detail} {hint}".strip()))
        return checks
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    checks.append(DoctorCheck("启动沙箱", True, "可以启动"))
    if imports:
        checks.append(
            DoctorCheck(
                "沙箱中可导入 kamlib、pandas、ipykernel",
                facts["imports"] is True,
                "可以" if facts["imports"] is True else f"导入失败：{facts['imports']}",
            )
        )
    isolated = facts["net_ns"] != os.stat("/proc/self/ns/net").st_ino and set(facts["interfaces"]) <= {"lo"}
    checks.append(
        DoctorCheck(
            "沙箱中无网络",
            isolated,
            "无网络（独立的网络命名空间，只有它自己的回环接口）"
            if isolated
            else "沙箱与本机共用网络，请检查 bubblewrap 是否支持 --unshare-net。",
        )
    )
    checks.append(DoctorCheck("沙箱中无特权", facts["uid"] != 0, f"沙箱内用户 uid {facts['uid']}"))
    return checks


def _reachable(path: str, uid: int, gid: int) -> bool:
    """Whether user ``uid`` can traverse every folder down to ``path`` (x bit on each)."""
    current = Path(path)
    for folder in [*reversed(current.parents), current]:
        try:
            st = folder.stat()
        except OSError:
            return False
        if st.st_uid == uid:
            bit = 0o100
        elif st.st_gid == gid:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True
