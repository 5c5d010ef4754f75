"""nbgrader configuration of the 重点客户管理 exercises.

This folder is the course root: run ``nbgrader`` (or ``kam``) here. What each setting
does and why is said next to it; exercises/README.md is the trainer's summary.
"""

import os
import sys

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from kamlib.grading.failures import refuse_unreadable_files
from kamlib.grading.feedback_page import FeedbackExporter
from kamlib.grading.nbgrader_adapter import check_submissions_first, stamp_in_process
from kamlib.grading.preprocessors import (
    ExplainGrades,
    SafeOverwriteCells,
    SandboxedExecute,
    SaveAnswers,
    StripExplanations,
    StripHiddenTests,
)
from kamlib.grading.run_settings import apply as apply_run_settings

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))

# A new gradebook is stamped with the schema revision of nbgrader's migrations read in this
# process; nbgrader itself would start the `alembic` command for it (seconds, each new course).
stamp_in_process()
# Before nbgrader reads or copies a submission (also `nbgrader autograde` run by hand and the
# formgrader's autograde button): a named pipe or a device in it would hang or fill the disk,
# and files larger in all than CourseDirectory.max_file_size are copied whole. Such a submission
# fails alone, with the reason in Chinese in the log (`kam grade` checks the same first).
check_submissions_first(refuse_unreadable_files)
# `nbgrader db upgrade` still runs the `alembic` command: find it next to this Python even
# when nbgrader was started as .venv/bin/nbgrader without activating .venv.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

# Kernels started for validating and grading inherit this process's environment:
# UTF-8 mode makes Chinese text read and print the same on every platform.
os.environ.setdefault("PYTHONUTF8", "1")
os.environ.setdefault("PYTHONIOENCODING", "utf-8")

# ---------------------------------------------------------------- course directory
c.CourseDirectory.course_id = "kam_course"
c.CourseDirectory.root = COURSE_ROOT
# One embedded SQLite gradebook in the course root (git-ignored, like release/,
# submitted/, autograded/ and feedback/).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(COURSE_ROOT, "gradebook.db")

# ---------------------------------------------------------------- learner version
# What replaces a solution in the learner version (nbgrader generate_assignment).
c.ClearSolutions.code_stub = {"python": "# 在此作答（写好后删除下面这一行）\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "（在此写下你的答案）"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.enforce_metadata = True
# Mark schemes ("### BEGIN MARK SCHEME" … "### END MARK SCHEME") sit in the read-only
# question cell just above each written answer, not in a task cell: the learner version
# drops them, the autograded version gets the whole cell back from the gradebook, so the
# grader reads the scheme right above the answer in formgrader. nbgrader only allows
# that with enforce_metadata off.
c.ClearMarkScheme.enforce_metadata = False
# The explanation of each autograded answer (metadata["kam"]["explanation"]) is for the
# self-study build and the trainer's feedback, never for the trainer's learner version.
c.GenerateAssignment.preprocessors = [*GenerateAssignment.preprocessors.default(), StripExplanations]

# ---------------------------------------------------------------- Validate and running notebooks
# What Validate checks and says (in Chinese), and the limit per cell: kamlib.grading.run_settings,
# which the hub's deploy/nbgrader_config.py applies too, so a trainee's Validate is the same.
# Every cell may run CELL_TIMEOUT seconds; then the kernel is interrupted and the cell fails with
# a Chinese message quoting it, and the notebook goes on (validate and autograde alike). A
# kernel that ignores the interrupt is noticed 10 s later...
CELL_TIMEOUT = 30  # seconds
apply_run_settings(c, CELL_TIMEOUT)
# ...and handled, like a kernel that dies (os._exit, os.kill), by SandboxedExecute: the
# cell fails, the later cells are marked "not executed" and score 0, the earlier ones
# keep their score, and the rest of the cohort is graded. Stock nbgrader would leave the
# whole submission ungraded.
#
# 学员代码在评分时被当作不可信的代码：SandboxedExecute 让每份提交的内核在沙箱里运行，
# 并且在沙箱之外判定每道题的对错（学员内核只交出答案的值，隐藏测试在评分程序中运行）；
# SaveAnswers 把每道题的答案记入成绩库，供 kam report 统计常见错误答案。
c.Autograde.autograde_preprocessors = [
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    SaveAnswers,
    AssignLatePenalties,
    CheckCellMetadata,
]

# ---------------------------------------------------------------- 评分沙箱
# 沙箱中的学员内核只能看到自己那份提交的副本（放在限定大小的临时目录中）、只读的 Python 环境
# 和 kamlib；看不到 source/（参考答案和隐藏测试）、成绩库、其他学员的文件和讲师的主目录；
# 没有网络（连本机回环地址也连不上），没有讲师的环境变量（例如 Hub 的令牌、数据库密码），
# 不是 root，也没有任何特权。下面是它的资源上限；超出上限只影响这一份提交，其余学员照常评分。
# 用 kam doctor 检查本机能否使用沙箱（需要 Linux 和 bubblewrap）。
c.Sandbox.enabled = True  # 评分时使用沙箱；只有 kam grade --no-sandbox 才会关掉它
c.Sandbox.memory_limit = "2G"  # 每个内核进程最多可用的内存（地址空间）
c.Sandbox.max_processes = 64  # 内核最多可同时有的进程和线程数（防止“进程炸弹”）
c.Sandbox.scratch_size = "256M"  # 内核可写的临时目录的大小上限（防止写满磁盘）
# 以 root 身份评分时，沙箱改用这个普通用户运行（默认 nobody）：
# c.Sandbox.host_user = "nobody"
# Output kept in the autograded notebook: a cell printing a million lines keeps 1000.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# ---------------------------------------------------------------- submissions as received
# Read-only cells edited by a learner are restored from the gradebook (stock nbgrader);
# deleted test and task cells are added back and graded. SafeOverwriteCells also places
# a test cell whose answer cell was deleted too (stock nbgrader fails the submission).
c.OverwriteCells.add_missing_cells = True
c.OverwriteCells.missing_cell_notification = "此单元格（{cell_id}）在提交的笔记本中缺失，已由评分程序恢复。\n\n"
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    SafeOverwriteCells,
    CheckCellMetadata,
]

# ---------------------------------------------------------------- feedback
# nbgrader puts hidden tests into the autograded notebook and so into feedback (its
# issue #917). StripHiddenTests removes them, the mark schemes, and the tracebacks that
# quote them; the printed hints and each question's score stay. ExplainGrades and
# FeedbackExporter make the page Chinese: per question its title, score, one verdict
# and what to review (kam feedback and nbgrader generate_feedback alike).
c.GenerateFeedback.preprocessors = [GetGrades, StripHiddenTests, ExplainGrades, CSSHTMLHeaderPreprocessor]
c.GenerateFeedback.exporter_class = FeedbackExporter
# 反馈中显示参考答案和讲解（默认都不显示）：把作业名加进下面的列表，这份作业的反馈里每道题
# 就会附上参考答案和讲解（讲解写在 source/ 笔记本评分单元格的元数据 kam.explanation 中）。
# 只在这批题目以后不再使用时才打开，例如：c.ExplainGrades.show_answers = ["ex05_account_plan"]
c.ExplainGrades.show_answers = []
