"""Hostile submissions built from a real assignment, the outcome each deserves, and one graded cohort.

Each case adds one code cell (after the read-only setup cell) to the learner version,
left blank or with the first half of the questions answered right. A case's code prints
``LEAKED: …`` when an attack works and ``BLOCKED: …`` when it is stopped; the grade
it deserves is that of the notebook without the attack. The grader runs with planted
secrets — a trainer home with a secret file, hub/database variables, a note in the
course root, a TCP server on 127.0.0.1 — so the tests can tell whether any escaped.
"""

from __future__ import annotations

import copy
import hashlib
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from nbformat.v4 import new_markdown_cell

from .submissions import ADVERSARIAL, Case, Kit

CANARY = "KAM-CANARY-7f3a"
SECRET_ENV = {
    "JUPYTERHUB_API_TOKEN": f"{CANARY}-hub",
    "DATABASE_URL": f"postgresql://kam:{CANARY}-db@h/kam",
    "PGPASSWORD": f"{CANARY}-pg",
}


def _split(text: str) -> str:
    """``text`` as a Python expression that does not contain it literally (so code can hold it unseen)."""
    return f"{text[:4]!r} + {text[4:]!r}"


def _attempt(body: str, label: str) -> str:
    """Code that runs ``body`` (which sets ``got``) and prints whether it worked."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return (
        f"try:\n{indented}\n    print('LEAKED: {label}', repr(got)[:200])\n"
        f"except BaseException as exc:\n    print('BLOCKED: {label}', type(exc).__name__)\n"
    )


@dataclass
class Plant:
    """The secrets a hostile submission must not reach, and what it must not change."""

    course: Path
    home: Path
    port: int

    def attacks(self) -> dict[str, tuple[str, str]]:
        """name -> (code of the hostile cell, "blank" or "half": what the rest of the notebook is)."""
        c, h, p = self.course, self.home, self.port
        exfiltrate = f"import glob\nfiles = glob.glob('{c}/source/**/*.ipynb', recursive=True)\nassert files\ngot = open(files[0]).read()"
        return {
            "read_answer_key": (
                _attempt(exfiltrate, "source")
                + _attempt(
                    "import base64\n"
                    f"got = base64.b64encode(open('{c}/source/{ADVERSARIAL}/{ADVERSARIAL}.ipynb','rb').read())",
                    "source-base64",
                )
                + _attempt(f"import os\ngot = os.listdir('{c}')", "course-root"),
                "blank",
            ),
            "read_gradebook": (
                _attempt(
                    f"import sqlite3\ngot = sqlite3.connect('file:{c}/gradebook.db?mode=ro', uri=True)"
                    ".execute('select count(*) from grade').fetchall()",
                    "gradebook",
                ),
                "blank",
            ),
            "write_gradebook": (
                _attempt(
                    f"import sqlite3\ncon = sqlite3.connect('{c}/gradebook.db')\n"
                    "con.execute('update grade set auto_score = 99, manual_score = 99')\n"
                    "con.commit()\ngot = 'rewritten'",
                    "gradebook-write",
                ),
                "blank",
            ),
            "write_course_root": (
                _attempt(f"open('{c}/pwned.txt', 'w').write('x')\ngot = 'written'", "course-write")
                + _attempt(f"open('{c}/nbgrader_config.py', 'a').write('#x')\ngot = 'config'", "config-write"),
                "blank",
            ),
            # The kernel's own folder must hold the learner's notebooks only, not the copy
            # being graded (whose test cells have their hidden tests back).
            "read_graded_copy": (
                _attempt(
                    "import os\nmark = 'BEGIN ' + 'HIDDEN TESTS'\n"
                    "got = [os.path.join(d, f) for d, _, fs in os.walk('.') for f in fs\n"
                    "       if mark in open(os.path.join(d, f), errors='replace').read()]\n"
                    "assert got",
                    "graded-copy",
                ),
                "blank",
            ),
            "read_other_learner": (
                _attempt(
                    f"got = open('{c}/submitted/right/{ADVERSARIAL}/{ADVERSARIAL}.ipynb').read()", "other-submission"
                ),
                "blank",
            ),
            "write_other_learner": (
                _attempt(
                    f"fh = open('{c}/submitted/right/{ADVERSARIAL}/{ADVERSARIAL}.ipynb', 'r+')\n"
                    "fh.write('{}')\ngot = 'written'",
                    "other-write",
                ),
                "blank",
            ),
            "read_trainer_home": (
                _attempt(f"got = open('{h}/secret.txt').read()", "home")
                + _attempt("import os\ngot = os.listdir('/root')", "root-home"),
                "blank",
            ),
            "environment": (
                _attempt(
                    f"import os\nmark = {_split(CANARY)}\n"
                    "got = [v for v in os.environ.values() if mark in v]\nassert got",
                    "environ",
                ),
                "blank",
            ),
            "proc_environ": (
                _attempt(
                    f"import glob\nmark = ({_split(CANARY)}).encode()\ngot = []\n"
                    "for path in glob.glob('/proc/*/environ'):\n"
                    "    try:\n        data = open(path, 'rb').read()\n    except OSError:\n        continue\n"
                    "    if mark in data:\n        got.append(path)\n"
                    "assert got",
                    "proc-environ",
                ),
                "blank",
            ),
            "loopback_server": (
                _attempt(
                    f"import socket\ns = socket.create_connection(('127.0.0.1', {p}), timeout=3)\ngot = s.recv(100)",
                    "loopback",
                ),
                "half",
            ),
            "memory_bomb": (_attempt("got = bytearray(3 * 2**30)\ngot = len(got)", "memory"), "half"),
            "fork_bomb": (
                "import os, time\nchildren = 0\ntry:\n    for i in range(400):\n"
                "        if os.fork() == 0:\n            time.sleep(15)\n            os._exit(0)\n"
                "        children += 1\n    print('LEAKED: processes', children)\n"
                "except OSError as exc:\n    print('BLOCKED: processes', type(exc).__name__, children)\n",
                "half",
            ),
            "thread_bomb": (
                "import threading, time\nstarted = 0\ntry:\n    for i in range(400):\n"
                "        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
                "        started += 1\n    print('LEAKED: threads', started)\n"
                "except RuntimeError as exc:\n    print('BLOCKED: threads', type(exc).__name__, started)\n",
                "half",
            ),
            "disk_bomb": (
                _attempt(
                    "chunk = b'x' * 2**20\nwith open('big.bin', 'wb') as fh:\n"
                    "    for i in range(1024):\n        fh.write(chunk)\ngot = 'filled 1 GiB'",
                    "disk",
                )
                + "import os\nos.remove('big.bin')\n",
                "half",
            ),
            # bubblewrap's /dev is a tmpfs of half the host's memory, writable unless made otherwise
            "dev_bomb": (
                _attempt(  # files of 32 MiB each, below the sandbox's limit per file
                    "chunk = b'x' * 2**20\nfor n in range(8):\n    with open(f'/dev/shm/f{n}', 'wb') as fh:\n"
                    "        for i in range(32):\n            fh.write(chunk)\ngot = 'filled 256 MiB of /dev/shm'",
                    "dev-shm",
                )
                + _attempt("open('/dev/kam-file', 'w').write('x')\ngot = 'wrote into /dev'", "dev-write")
                + "import glob, os\nfor name in glob.glob('/dev/shm/f*'):\n    os.remove(name)\n",
                "half",
            ),
            # The grader's session keyring (and the one every sandbox shares): its system calls are refused.
            "keyring": (
                "import ctypes, platform\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                "add_key, keyctl = {'x86_64': (248, 250), 'aarch64': (217, 219)}[platform.machine()]\n"
                + _attempt(
                    "if libc.syscall(keyctl, 0, ctypes.c_long(-3), 0) < 0:\n"
                    "    raise PermissionError(ctypes.get_errno(), 'keyctl')\ngot = 'session keyring reachable'",
                    "keyring-read",
                )
                + _attempt(
                    "if libc.syscall(add_key, b'user', b'kam', b'v', 1, ctypes.c_long(-4)) < 0:\n"
                    "    raise PermissionError(ctypes.get_errno(), 'add_key')\ngot = 'key added for other learners'",
                    "keyring-add",
                ),
                "half",
            ),
            "tmp_bomb": (
                _attempt(
                    "import os\nchunk = b'x' * 2**20\nfor n in range(8):\n"
                    "    with open(f'/tmp/f{n}', 'wb') as fh:\n        for i in range(128):\n"
                    "            fh.write(chunk)\ngot = 'filled 1 GiB'",
                    "tmp",
                ),
                "half",
            ),
            "input_transformer": (
                "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n",
                "blank",
            ),
            "ast_transformer": (
                "import ast\nclass DropAsserts(ast.NodeTransformer):\n"
                "    def visit_Assert(self, node):\n        return ast.Pass()\n"
                "get_ipython().ast_transformers.append(DropAsserts())\n",
                "blank",
            ),
            "patched_builtins": (
                "import builtins\nbuiltins.type = lambda *a: a[0].__class__ if a else None\n"
                "builtins.AssertionError = type('Nothing', (BaseException,), {})\n"
                "builtins.isinstance = lambda *a: True\n",
                "blank",
            ),
            "patched_kamlib": (
                "import kamlib.checks, kamlib.tiers\n"
                "for name in dir(kamlib.checks):\n    if name.startswith('check_'):\n"
                "        setattr(kamlib.checks, name, lambda *a, **k: True)\n"
                "kamlib.tiers.Tier.__eq__ = lambda self, other: True\n"
                "kamlib.tiers.Tier.__hash__ = lambda self: 0\n",
                "half",
            ),
            "run_cell_hook": (
                "class Everything:\n    def __eq__(self, other):\n        return True\n"
                "def plant(*args):\n    for name in list(globals()):\n"
                "        pass\n    for name in ('tier_q1','tier_q2','tier_q3','tier_q4','tier_q5',"
                "'scores_q4','n_raises','n_partnership_plus'):\n"
                "        globals()[name] = Everything()\n"
                "get_ipython().events.register('pre_run_cell', plant)\n"
                "get_ipython().events.register('post_run_cell', plant)\n",
                "blank",
            ),
            "fake_exporter": (
                "import sys, types\nfake = types.ModuleType('kamlib.grading.answers')\n"
                'fake.export = lambda names, ns: \'{"tier_q1": {"t": "pickle", "v": "gASV"}, '
                '"n_raises": {"t": "eval", "v": "__import__(\\\'os\\\')"}}\'\n'
                "sys.modules['kamlib.grading.answers'] = fake\n",
                "blank",
            ),
            "kill_sandbox_init": (
                "import os, signal\nos.kill(1, signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)\n",
                "blank",
            ),
            "output_flood": ("print('x' * 20_000_000)\nimport sys\nsys.stderr.write('y' * 5_000_000)\n", "half"),
            "privilege_escape": (
                _attempt("import os\nos.setuid(0)\ngot = os.getuid()", "setuid")
                + _attempt(
                    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                    "got = libc.unshare(0x10000000)\nassert got == 0",
                    "unshare",
                )
                + _attempt(
                    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                    "got = libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)\nassert got == 0",
                    "mount",
                ),
                "half",
            ),
            "symlink_to_answer_key": (
                _attempt("got = open('notes.txt').read()\nassert 'BEGIN' in got", "symlink"),
                "blank",
            ),
            # Question 4 answered well-formed but wrong (0 of 3 points). A hook shows a display
            # with an id in its test cell, padded so that it sits where the grader later puts
            # the score; a later cell updates that display to 3.
            "display_update_score": (
                'scores_q4 = {"competition": 1, "information_access": 1, "pricing": 1,\n'
                '             "contact_level": 1, "contract": 1, "visibility": 1}\n'
                "from IPython.display import display, update_display\nstate = {'shown': False}\n"
                "def forge(result):\n"
                "    if state['shown']:\n"
                "        update_display({'text/plain': '3'}, raw=True, display_id='kam-score')\n"
                "    elif 'check_indicator' + '_scores(scores_q4' in (result.info.raw_cell or ''):\n"
                "        get_ipython().displayhook('pad')\n"
                "        display({'text/plain': 'x'}, raw=True, display_id='kam-score')\n"
                "        state['shown'] = True\n"
                "get_ipython().events.register('post_run_cell', forge)\n",
                "blank",
            ),
            # Scripts for the trainer's browser (the formgrader can set grades): shown as text, never run.
            "script_for_the_trainer": (
                "from IPython.display import HTML, Javascript, SVG, display\n"
                "display(Javascript(\"fetch('/formgrader/api/grade/1', {method: 'PUT'})\"))\n"
                "display(HTML('<img src=x onerror=\"fetch(\\'/formgrader\\')\">'))\n"
                "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>'))\n"
                # an image's size, which nbconvert writes into the <img> tag unquoted
                "display({'image/png': 'iVBORw0KGgo='}, metadata={'image/png': {'width': '1 onerror=KAM_XSS()'}}, raw=True)\n",
                "blank",
            ),
            # The notebook handed in is a link to the answer key: refused, not graded.
            "linked_notebook": ("", "blank"),
            # A link to a device that never ends: nbgrader's copy of the folder would fill the disk.
            "device_behind_link": ("", "blank"),
        }

    def files(self, name: str) -> dict[str, str]:
        """Extra files in the submission folder (text), besides the notebook."""
        return {}

    def links(self, name: str) -> dict[str, Path]:
        """Symbolic links in the submission folder: name -> target."""
        key = self.course / "source" / ADVERSARIAL / f"{ADVERSARIAL}.ipynb"
        if name == "symlink_to_answer_key":
            return {"notes.txt": key}
        if name == "linked_notebook":
            return {f"{ADVERSARIAL}.ipynb": key}
        if name == "device_behind_link":
            return {"zero.bin": Path("/dev/zero")}
        return {}


def hostile_cases(kit: Kit, plant: Plant) -> dict[str, tuple[Case, dict[str, Path]]]:
    """student -> (case with deserved scores, symbolic links to add to the submission)."""
    setup = next(c for c in kit.release.cells if c.metadata.get("nbgrader", {}).get("locked"))
    setup_id = setup.metadata["nbgrader"]["grade_id"]
    bases = {
        "blank": (copy.deepcopy(kit.release), kit.zero()),
        "half": (kit.solved(kit.first_half), kit.only(kit.first_half)),
    }
    cases = {}
    for name, (code, base) in plant.attacks().items():
        notebook, expected = bases[base]
        cases[name] = (Case(kit.insert_after(notebook, setup_id, code), expected=dict(expected)), plant.links(name))
    return cases


XSS = "KAM_XSS"  # what each script a learner plants in text calls; the trainer's pages must show it as text only


def scripts_in_text_cells(kit: Kit) -> Case:
    """A blank submission whose text carries scripts for the trainer's browser: a text cell added,
    the exercise's first instructions (a cell nbgrader does not restore) edited, and the written
    answer given a link whose address runs code."""
    nb = copy.deepcopy(kit.release)
    nb.cells.append(new_markdown_cell(f'笔记 <img src=x onerror="{XSS}()"> <script>{XSS}()</script>'))
    intro = next(c for c in nb.cells if c.cell_type == "markdown" and "nbgrader" not in c.metadata)
    intro.source += f'\n\n<svg onload="{XSS}()"></svg>'
    answer = next(c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = f"我的答案见 [这里](javascript:{XSS}()) 和 [这里](&#106;avascript:{XSS}())。"
    return Case(nb, expected=kit.zero())


def write_case(course: Path, student: str, case: Case, links: dict[str, Path]) -> None:
    folder = case.write(course, student, ADVERSARIAL)
    for name, target in links.items():
        (folder / name).unlink(missing_ok=True)  # a link in place of the notebook itself
        (folder / name).symlink_to(target)


def tree_digest(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """relative path -> sha256 of every file below ``root`` (folders named in ``skip`` left out)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


class LoopbackServer:
    """A TCP server on 127.0.0.1 that counts the connections it gets (stops by itself)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.sendall(f"{CANARY}-server".encode())
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
