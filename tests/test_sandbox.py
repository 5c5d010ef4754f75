"""The sandbox on this machine: kam doctor, no grading without it, --no-sandbox said loudly.

The red-team tests (test_redteam_*.py) show what the sandbox keeps out; these show how
a trainer meets it. They use the tiny course of tests/support/tiny_course.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from kamlib.grading import sandbox as sandbox_module
from kamlib.grading.answer_store import read_answers
from kamlib.grading.sandbox import Sandbox, bwrap_args, doctor, launcher_args, parse_size
from tests.support.commands import tool_env
from tests.support.courses import clone_course
from tests.support.tiny_course import RIGHT, submit

BIN = Path(sys.executable).parent


def _kam(course: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "kam"), *args], cwd=course, env=env or tool_env(), capture_output=True, text=True, timeout=300
    )


def _without_bwrap(tmp_path: Path) -> dict:
    """An environment whose PATH has the venv and the basic tools, but no bwrap."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("sh", "env", "uname"):
        found = shutil.which(name)
        if found:
            (tools / name).symlink_to(found)
    return {**tool_env(), "PATH": f"{BIN}{os.pathsep}{tools}"}


def test_doctor_passes_here_and_every_check_holds():
    checks = doctor(Sandbox())
    assert [c.name for c in checks if not c.ok] == []
    names = {c.name for c in checks}
    assert {"bubblewrap", "启动沙箱", "沙箱中无网络", "沙箱中无特权"} <= names


def test_kam_doctor_prints_the_checks(template):
    run = _kam(template, "doctor")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "✔ bubblewrap" in run.stdout and "本机可以在沙箱中评分" in run.stdout
    assert "内存 2G，进程数 64，临时目录 256M" in run.stdout


def test_without_bubblewrap_kam_grades_nothing_and_says_why(template, tmp_path):
    course = clone_course(template, tmp_path / "course")
    submit(course, "alice", answers=RIGHT)
    env = _without_bwrap(tmp_path)
    run = _kam(course, "grade", "ps1", env=env)
    assert run.returncode == 2
    assert "无法在沙箱中运行学员代码" in run.stderr and "bubblewrap" in run.stderr and "kam doctor" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (course / "autograded").exists()
    doctor_run = _kam(course, "doctor", env=env)
    assert doctor_run.returncode == 1 and "✗ bubblewrap" in doctor_run.stdout


def test_no_sandbox_grades_anyway_says_so_and_marks_the_answers(template, tmp_path):
    course = clone_course(template, tmp_path / "course")
    submit(course, "alice", answers=RIGHT)
    run = _kam(course, "grade", "ps1", "--no-sandbox", env=_without_bwrap(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "本次评分不使用沙箱" in run.stderr
    answers = read_answers(f"sqlite:///{course / 'gradebook.db'}", "ps1")
    assert {a.grade_id: (a.answer, a.sandboxed) for a in answers if a.student == "alice"} == {
        "test_answer": ("42", False),
        "test_share": ("0.8", False),
    }
    report = _kam(course, "report", "--out", str(tmp_path / "reports"))
    assert report.returncode == 0, report.stderr
    standing = (tmp_path / "reports" / "report.html").read_text(encoding="utf-8").split("二、")[0]
    assert "评分时没有使用沙箱的提交" in standing and "alice" in standing.split("评分时没有使用沙箱的提交")[1]


def test_kam_grade_sandboxes_a_course_whose_config_does_not(template, tmp_path):
    course = clone_course(template, tmp_path / "course")  # the tiny course's config is stock nbgrader's
    submit(course, "alice", answers={**RIGHT, "share": "import os\nshare = 0.8 if os.getuid() == 65534 else 0.1"})
    run = _kam(course, "grade", "ps1")
    assert run.returncode == 0, run.stdout + run.stderr
    answers = {a.grade_id: a for a in read_answers(f"sqlite:///{course / 'gradebook.db'}", "ps1")}
    assert answers["test_share"].answer == "0.8" and answers["test_share"].sandboxed


def test_limits_and_mounts_follow_the_settings(tmp_path):
    sandbox = Sandbox(memory_limit="1G", max_processes=16, scratch_size="64M")
    args = bwrap_args(sandbox, tmp_path / "submission", tmp_path / "connection.json")
    tmpfs = {args[i + 1]: args[i - 1] for i, a in enumerate(args) if a == "--tmpfs"}  # folder -> its --size
    assert tmpfs["/home/learner"] == str(64 * 2**20) and tmpfs["/dev/shm"] == str(16 * 2**20)
    assert args[args.index("/dev/shm") + 1 : args.index("/dev/shm") + 3] == ["--remount-ro", "/dev"]
    launcher = launcher_args(sandbox)
    limits = {launcher[i]: launcher[i + 1] for i, a in enumerate(launcher) if a.startswith("--") and a != "--"}
    assert (
        limits["--memory"] == str(2**30) and limits["--processes"] == "16" and limits["--file-size"] == str(64 * 2**20)
    )
    assert "--unshare-net" in args and "--clearenv" in args and "--cap-drop" in args
    mounted = {args[i + 1] for i, a in enumerate(args) if a in ("--ro-bind", "--bind", "--ro-bind-try")}
    assert str(Path.home()) not in mounted and not any("exercises" in m for m in mounted)
    assert parse_size("2G") == 2**31 and parse_size("256M") == 2**28 and parse_size(512) == 512


def test_an_environment_under_tmp_is_mounted_in_the_sandbox(monkeypatch):
    """A virtualenv or kamlib under /tmp (a checkout there, a CI runner's environment) is
    readable in the sandbox, where /tmp itself is a link into the learner's scratch folder."""
    root = Path(tempfile.mkdtemp(dir="/tmp", prefix="kam-env-"))
    try:
        root.chmod(0o755)
        marker = root / "marker.txt"
        marker.write_text("读得到", encoding="utf-8")
        marker.chmod(0o644)
        roots = sandbox_module._python_roots()
        monkeypatch.setattr(sandbox_module, "_python_roots", lambda: [*roots, str(root)])
        code = f"import json; print(json.dumps(open({str(marker)!r}, encoding='utf-8').read()))"
        run = sandbox_module._probe(Sandbox(), code, [])
        assert run.returncode == 0, run.stderr[-2000:]
        assert json.loads(run.stdout.strip().splitlines()[-1]) == "读得到"
    finally:
        shutil.rmtree(root)


def test_the_kernels_copy_leaves_out_links_and_files_larger_than_its_scratch_folder(tmp_path):
    """nbgrader copies a sparse 1 GB file of a submission whole; the sandbox's copy on the host does not."""
    from kamlib.grading.sandbox import _left_out

    (tmp_path / "notes.txt").write_text("笔记", encoding="utf-8")
    (tmp_path / "ex.ipynb").write_text("{}", encoding="utf-8")
    with open(tmp_path / "data.bin", "wb") as sparse:
        sparse.truncate(2**30)
    (tmp_path / "key.ipynb").symlink_to(tmp_path / "ex.ipynb")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert sorted(_left_out(256 * 2**20)(str(tmp_path), names)) == ["data.bin", "key.ipynb"]
    assert sorted(_left_out(256 * 2**20, notebooks=True)(str(tmp_path), names)) == ["data.bin", "ex.ipynb", "key.ipynb"]


def _run_filter(program: bytes, arch: int, nr: int) -> int:
    """What the kernel would decide on system call ``nr`` of ``arch``: a tiny classic-BPF interpreter."""
    import struct

    ops = [struct.unpack("HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = ops[pc]
        if code == 0x20:  # load a word of seccomp_data: nr at 0, arch at 4
            acc, pc = (nr if k == 0 else arch), pc + 1
        elif code in (0x15, 0x35):  # jump if equal / greater or equal
            pc += 1 + (jt if (acc == k if code == 0x15 else acc >= k) else jf)
        else:
            return k


def test_the_sandboxed_kernel_may_not_touch_the_kernel_keyring():
    """The filter sandbox_launch installs: keyring calls and foreign-ABI calls fail with EPERM."""
    launch = _load_launcher()
    allow, eperm = 0x7FFF0000, 0x00050001
    x86 = launch.keyring_filter("x86_64")
    for nr, verdict in ((0, allow), (59, allow), (248, eperm), (249, eperm), (250, eperm), (0x40000000 | 250, eperm)):
        assert _run_filter(x86, 0xC000003E, nr) == verdict, nr
    assert _run_filter(x86, 0x40000003, 0) == eperm  # a 32-bit call (int 0x80) on x86_64
    arm = launch.keyring_filter("aarch64")
    for nr, verdict in ((63, allow), (217, eperm), (219, eperm), (250, allow)):
        assert _run_filter(arm, 0xC00000B7, nr) == verdict, nr
    assert launch.keyring_filter("riscv64") is None


def _load_launcher():
    import importlib.util

    spec = importlib.util.spec_from_file_location("sandbox_launch", sandbox_module.LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
