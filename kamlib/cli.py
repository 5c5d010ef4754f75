"""``kam``: the trainer's command, run in an nbgrader course root (or with ``--course DIR``).

    kam grade 作业 [--jobs N] [--student 编号 ...] [--force] [--no-sandbox]   并行自动评分（沙箱中）
    kam doctor                                                 检查本机能否在沙箱中评分
    kam feedback 作业 [--student 编号 ...]                     生成反馈（不含隐藏测试）
    kam roster 名单.xlsx|名单.csv                               导入学员名单（学员编号、姓名）
    kam report [作业] [--out 目录]                              HTML 报告 + CSV
    kam export [作业] [--questions] [--out 文件]                成绩表 CSV（Excel 可直接打开）
    kam restore [备份]                                          列出成绩库的备份；给出备份名（或序号）则恢复它

Exit codes: 0 done; 1 some submissions could not be graded (or given feedback);
2 a problem with the command itself (wrong folder, unknown assignment, nothing
submitted, bad arguments), reported in one Chinese sentence without a traceback.
Heavy modules are imported by the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
import time
from pathlib import Path

REPORT_DIR = "reports"

_ARGPARSE_ZH = [
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"argument (\S+): invalid int value: '(.*)'", r"参数 \1 的值“\2”不是整数"),
    (r"argument (\S+): invalid choice: '(.*)' \(choose from (.*)\)", r"参数 \1 的取值“\2”无效，可选：\3"),
    (r"argument (\S+): expected one argument", r"参数 \1 后面需要一个值"),
    (r"argument (\S+): expected at least one argument", r"参数 \1 后面至少需要一个值"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
    (r"argument (\S+): (.*)", r"参数 \1：\2"),
]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse speaking Chinese: headings, help and the common error messages."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示帮助并退出")

    def error(self, message: str):
        for pattern, replacement in _ARGPARSE_ZH:
            message, n = re.subn(f"^{pattern}$", replacement, message)
            if n:
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：参数错误：{message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是正整数") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"“{text}”不是正整数")
    return value


def _absolute_path(text: str) -> Path:
    """A path relative to where kam was started (kam then works in the course root)."""
    return Path(text).expanduser().resolve()


def _add_course(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--course",
        metavar="目录",
        default=argparse.SUPPRESS,
        help="nbgrader 课程根目录（含 nbgrader_config.py），默认为当前目录",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``kam`` argument parser (Chinese help and errors)."""
    parser = _add_course(_Parser(prog="kam", description="重点客户管理培训课程的讲师工具：评分、反馈、报告、导出成绩"))
    sub = parser.add_subparsers(dest="command", metavar="命令", title="命令", required=True, parser_class=_Parser)

    grade = _add_course(
        sub.add_parser(
            "grade",
            help="并行自动评分一份作业的全部提交",
            description="并行自动评分：分数与 nbgrader autograde 完全相同。有提交要评分时先自动备份 gradebook.db。",
        )
    )
    grade.add_argument("assignment", metavar="作业", help="作业名（source/ 下的文件夹名）")
    grade.add_argument("-j", "--jobs", type=_positive_int, metavar="N", help="并行进程数，默认为 CPU 核数")
    grade.add_argument("--student", action="extend", nargs="+", metavar="编号", help="只评这些学员")
    grade.add_argument(
        "--force",
        action="store_true",
        help="重新评已评过的提交（评语保留；答案没改的文字题保留人工评分，答案改了的改回待批改）",
    )
    grade.add_argument("-v", "--verbose", action="store_true", help="显示评分失败的提交的 nbgrader 日志")
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="不用沙箱评分（不推荐：学员代码将能读写讲师的文件和成绩库；报告会标出这些成绩）",
    )

    _add_course(
        sub.add_parser(
            "doctor",
            help="检查本机能否在沙箱中评分",
            description="逐项检查评分沙箱需要的条件（Linux、bubblewrap、用户命名空间、Python 环境），并说明缺什么、怎么补。",
        )
    )

    feedback = _add_course(
        sub.add_parser(
            "feedback",
            help="为已评分的提交生成反馈（不含隐藏测试）",
            description="生成反馈 HTML（feedback/学员/作业/），删去隐藏测试和评分标准；每次都重新生成。",
        )
    )
    feedback.add_argument("assignment", metavar="作业", help="作业名，即 source/ 下的文件夹名（例如 ex01_concepts）")
    feedback.add_argument("--student", action="extend", nargs="+", metavar="编号", help="只为这些学员生成")

    roster = _add_course(
        sub.add_parser(
            "roster",
            help="导入学员名单（学员编号、姓名），未交作业的学员也会出现在报告中",
            description="把名单（.xlsx 的第一个工作表或 .csv；表头在第 1 行，列“学员编号”“姓名”，可选“邮箱”）"
            "导入成绩库：新学员加入，已有学员更新姓名；名单上没有的学员保留不动。",
        )
    )
    roster.add_argument("roster", metavar="名单", type=_absolute_path, help="名单文件（.xlsx 或 .csv）")

    report = _add_course(
        sub.add_parser(
            "report",
            help="生成成绩报告（HTML + CSV）",
            description="评分进展、得分分布与走势、各题分析、常见错误答案、知识点掌握、学员进度和风险学员，"
            "写成 report.html 和每位学员一页的 learners/*.html，另有 report.csv、answers.csv、items.csv。",
        )
    )
    report.add_argument("assignment", metavar="作业", nargs="?", help="只看这一份作业（默认全部）")
    report.add_argument("--out", metavar="目录", type=Path, help=f"输出目录，默认为课程根目录下的 {REPORT_DIR}/")

    export = _add_course(
        sub.add_parser(
            "export",
            help="导出成绩表 CSV（UTF-8 带 BOM，Excel 可直接打开）",
            description="每位学员每份作业一行：提交时间、得分、满分、待批改题数、得分率等；用 Excel 直接打开即可。",
        )
    )
    export.add_argument("assignment", metavar="作业", nargs="?", help="只导出这一份作业（默认全部已收作业）")
    export.add_argument("--questions", action="store_true", help="每道题一列，列出各题得分")
    export.add_argument(
        "--out", metavar="文件", type=Path, help=f"输出文件，默认为课程根目录下的 {REPORT_DIR}/grades.csv"
    )

    restore = _add_course(
        sub.add_parser(
            "restore",
            help="列出成绩库的备份，或用其中一份恢复成绩库",
            description="不带参数：列出 gradebook.db 的全部备份（时间、作业、学员数、成绩数、人工评分数），最新的在前。"
            "给出备份名或序号：先把现在的成绩库也备份一份，再用这份备份替换它。",
        )
    )
    restore.add_argument(
        "backup", metavar="备份", nargs="?", help="备份文件名（gradebook.db.bak-日期-时间）或列表中的序号"
    )
    return parser


def _skip_slow_optional_imports() -> None:
    """Keep jsonschema (imported with nbformat) from importing ``rfc3987_syntax``.

    That optional package builds a parser for the "iri" string format when it is
    imported: about 2 s of CPU at the start of every process that reads a notebook.
    kam never checks that format; jsonschema simply goes without it.
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def main(argv: list[str] | None = None) -> int:
    """Run ``kam``; returns the exit code."""
    args = build_parser().parse_args(argv)
    _skip_slow_optional_imports()
    from kamlib.grading.course import Course, KamError, find_course_root

    out = getattr(args, "out", None)
    out = out.resolve() if out is not None else None  # relative to where kam was started
    cwd = os.getcwd()
    if args.command == "doctor":
        return _doctor(args)
    course = None
    try:
        root = find_course_root(getattr(args, "course", "."))
        os.chdir(root)  # nbgrader reads its config from the working directory too
        course = Course.load(root)
        if args.command != "restore":
            course.require_gradebook()
        return _COMMANDS[args.command](course, args, out)
    except KamError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --out names a folder, or a file that cannot be written
        print(f"错误：{os_error_zh(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        from kamlib.grading.restore import way_back

        db = course.db_path if course is not None else None
        name = db.name if db else "成绩库"
        if db is not None and not _writable(db) and _says_no_permission(exc):
            print(
                f"错误：没有写入成绩库 {name} 的权限（{_first_line(exc)}）：请让运行 kam 的用户可以写入 {db.name} "
                "和它所在的课程文件夹，再运行一次。成绩库本身没有损坏。",
                file=sys.stderr,
            )
            return 2
        print(
            f"错误：读写成绩库 {name} 时出错（{_first_line(exc)}），成绩库可能已损坏。{way_back(db) if db else ''}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("\n已中断。需要时再运行同一条命令即可。", file=sys.stderr)
        return 130
    finally:
        os.chdir(cwd)


def _writable(db: Path) -> bool:
    """Whether SQLite can write ``db``: the file and its folder (for its journal) writable."""
    return os.access(db.parent, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def _says_no_permission(exc: BaseException) -> bool:
    """SQLite's words for a file or folder it may not write (a damaged file says something else)."""
    text = str(exc).lower()
    return any(words in text for words in ("readonly database", "unable to open database", "permission denied"))


_OS_ERRORS_ZH = {
    errno.EACCES: "没有读写权限",
    errno.EPERM: "没有读写权限",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中有一部分不是文件夹",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOSPC: "磁盘空间已满",
    errno.EROFS: "所在的磁盘是只读的",
    errno.EEXIST: "已经存在",
}


def os_error_zh(exc: OSError) -> str:
    """One Chinese sentence for an OSError: what could not be read or written, and why."""
    why = _OS_ERRORS_ZH.get(exc.errno, f"系统错误 {exc.errno}" if exc.errno else str(exc))
    return f"无法读写 {exc.filename or '文件'}：{why}"


def _is_database_error(exc: BaseException) -> bool:
    import sqlite3

    from sqlalchemy.exc import DatabaseError

    return isinstance(exc, sqlite3.DatabaseError | DatabaseError)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _grade(course, args, out) -> int:
    import tqdm

    from kamlib.grading.grade import grade_assignment

    tqdm.tqdm.monitor_interval = 0  # no monitor thread: the grading workers are forked from this process
    bar = None

    if args.no_sandbox:
        print(
            "⚠⚠ 注意：本次评分不使用沙箱。学员代码将以讲师的身份运行，能读写讲师的文件、成绩库和环境变量，"
            "也能伪造自己的成绩。只应在信任全部提交时这样做；报告会标出这些成绩。",
            file=sys.stderr,
        )

    def start(total: int, jobs: int, backup) -> None:
        nonlocal bar
        print(f"评分作业“{args.assignment}”：{total} 份提交，{jobs} 个并行进程。", file=sys.stderr)
        if backup is not None:
            print(f"成绩库已备份为 {backup.name}（出错时可用 kam restore {backup.name} 恢复）。", file=sys.stderr)
        bar = tqdm.tqdm(total=total, desc="评分", unit="份", file=sys.stderr, disable=None)

    def done(outcome) -> None:
        bar.update(1)

    try:
        run = grade_assignment(
            course,
            args.assignment,
            jobs=args.jobs,
            students=args.student,
            force=args.force,
            quiet=not args.verbose,
            sandbox=not args.no_sandbox,
            on_start=start,
            on_outcome=done,
        )
    finally:
        if bar is not None:
            bar.close()
    strays = course.stray_submissions()
    if strays:
        print(
            f"⚠ 以下提交文件夹的名字不是任何作业的名字（作业名写错了？），没有评分：{'、'.join(strays)}；"
            f"作业有：{'、'.join(course.known_assignments())}。改名后再运行 kam grade 作业名"
        )
    if run.stale:
        print(
            f"⚠ 成绩库中没有以下学员这次提交的成绩（成绩库可能从备份恢复或重建过），已重新评分：{'、'.join(run.stale)}"
        )
    if run.damaged:
        print(
            f"⚠ 以下学员上次的评分结果（autograded/ 中）的 timestamp.txt 不是有效的时间，无法判断是否过期，已重新评分：{'、'.join(run.damaged)}"
        )
    for student in run.no_timestamp:
        print(
            f"⚠ {student}：提交的笔记本比上次评分时新，但提交文件夹里没有 timestamp.txt，nbgrader 无法判断这是新提交，"
            f"所以没有重新评分。要评这份新提交，请运行：kam grade {args.assignment} --student {student} --force"
        )
    for o in run.outcomes:
        if o.status == "failed":
            print(f"✗ {o.student}：{o.reason}")
            if args.verbose and o.log:
                print(o.log, file=sys.stderr)
        for note in o.notes:
            print(f"⚠ {o.student}：{note}")
    graded, failed, skipped = run.count("graded"), run.count("failed"), run.count("skipped")
    line = f"评分完成：成功 {graded} 份，失败 {failed} 份"
    if skipped:
        line += f"，跳过 {skipped} 份（之前已评分；要重新评分请加 --force）"
    timed = [o.seconds for o in run.outcomes if o.status != "skipped" and o.seconds]
    per = f"，每份评分平均需 {sum(timed) / len(timed):.1f} 秒" if timed else ""
    if run.backup:
        print(f"评分前的成绩库备份：{run.backup.name}", file=sys.stderr)
    print(f"{line}；总用时 {run.seconds:.1f} 秒（{run.jobs} 个并行进程{per}）。")
    return 1 if failed else 0


def _doctor(args) -> int:
    """Print each sandbox check; 0 when grading can run sandboxed here, 1 otherwise."""
    from kamlib.grading.course import KamError, find_course_root, load_app
    from kamlib.grading.sandbox import Sandbox, doctor

    config = None
    try:
        root = find_course_root(getattr(args, "course", "."))
        cwd = os.getcwd()
        os.chdir(root)
        try:
            config = load_app(root).config
        finally:
            os.chdir(cwd)
        print(f"课程目录：{root}")
    except KamError:
        print("（当前目录不是课程根目录，按默认的沙箱设置检查。）")
    sandbox = Sandbox(config=config) if config is not None else Sandbox()
    print(f"沙箱设置：内存 {sandbox.memory_limit}，进程数 {sandbox.max_processes}，临时目录 {sandbox.scratch_size}")
    checks = doctor(sandbox)
    for check in checks:
        print(f"{'✔' if check.ok else '✗'} {check.name}：{check.detail}")
    if all(check.ok for check in checks):
        print("本机可以在沙箱中评分。")
        return 0
    print("本机还不能在沙箱中评分：请按上面 ✗ 一行的提示处理。")
    return 1


def _feedback(course, args, out) -> int:
    import tqdm

    from kamlib.grading.feedback import generate_feedback
    from kamlib.grading.tables import read_gradebook

    started = time.monotonic()
    bar = None

    def start(total: int) -> None:
        nonlocal bar
        print(f"生成作业“{args.assignment}”的反馈：{total} 名学员。", file=sys.stderr)
        bar = tqdm.tqdm(total=total, desc="反馈", unit="名", file=sys.stderr, disable=None)

    try:
        outcomes = generate_feedback(
            course, args.assignment, students=args.student, on_start=start, on_outcome=lambda o: bar.update(1)
        )
    finally:
        if bar is not None:
            bar.close()
    failed = [o for o in outcomes if o.reason]
    for o in failed:
        print(f"✗ {o.student}：{o.reason}")
    subs = read_gradebook(course, args.assignment).submissions
    pending = sorted(set(subs.loc[subs["needs_manual_grade"], "student_id"]) & {o.student for o in outcomes if o.files})
    if pending:
        print(f"⚠ 以下学员还有待人工评分的答案，反馈中这些题显示为“待批改”：{'、'.join(pending)}")
    files = sum(len(o.files) for o in outcomes)
    print(
        f"反馈生成完成：{len(outcomes) - len(failed)} 名学员共 {files} 个文件（在 feedback/ 下），"
        f"失败 {len(failed)} 名；用时 {time.monotonic() - started:.1f} 秒。"
        "可用 nbgrader release_feedback 发还学员。"
    )
    return 1 if failed else 0


def _report(course, args, out) -> int:
    from kamlib.grading.report import write_report

    files = write_report(course, out or course.root / REPORT_DIR, args.assignment)
    print(
        f"报告已生成：{files.html}\n每位学员一页：{files.html.parent / 'learners'}（{len(files.learners)} 页）\n"
        f"学员汇总：{files.csv}\n逐题答案：{files.answers}\n各题统计：{files.items}"
    )
    return 0


def _export(course, args, out) -> int:
    from kamlib.grading.course import KamError
    from kamlib.grading.export import export_grades

    if out is not None and out.suffix and out.suffix.lower() != ".csv":
        raise KamError(
            f"成绩表是 CSV 文件，输出文件名请以 .csv 结尾（例如 成绩.csv），现在是 {out.name}；Excel 可以直接打开它。"
        )
    path = export_grades(course, out or course.root / REPORT_DIR / "grades.csv", args.assignment, args.questions)
    print(f"成绩表已导出：{path}（UTF-8 带 BOM，可用 Excel 直接打开）")
    return 0


def _roster(course, args, out) -> int:
    from kamlib.grading.roster import import_roster

    result = import_roster(course, args.roster)
    print(
        f"名单已导入：新增 {len(result.added)} 名，更新 {len(result.updated)} 名，未变 {len(result.unchanged)} 名学员。"
    )
    if result.not_in_list:
        print(
            f"⚠ 成绩库中以下学员不在名单上（保留不动）：{'、'.join(result.not_in_list)}。"
            "若是编号输错、又没有交过作业，可在课程目录运行 nbgrader db student remove 学员编号 删除"
        )
    return 0


def _restore(course, args, out) -> int:
    from kamlib.grading.course import KamError
    from kamlib.grading.restore import list_backups, restore_backup, summary

    db = course.db_path
    if db is None:
        raise KamError("本课程的成绩库不是 SQLite 文件（例如 PostgreSQL），kam restore 只能恢复 SQLite 成绩库的备份。")
    if args.backup is None:
        infos = list_backups(db)
        if not infos:
            print(f"成绩库 {db.name} 还没有备份（kam grade 在评分前自动备份）。")
            return 0
        print(f"成绩库 {db} 的备份（最新的在前）：")
        for n, info in enumerate(infos, start=1):
            print(f"{n}. {summary(info)}")
        print("恢复其中一份：kam restore 备份名（或序号）。现在的成绩库会先备份一份，恢复之后也能再换回来。")
        return 0
    info, saved = restore_backup(db, args.backup)
    print(f"已用备份恢复成绩库：{summary(info)}")
    if saved is not None:
        print(f"恢复前的成绩库已备份为 {saved.name}（要换回来：kam restore {saved.name}）。")
    print(
        "之后评过分的提交不在这份备份里：运行 kam grade 作业名 即可补评（已评分而成绩库中没有记录的提交会自动重新评分）。"
    )
    return 0


_COMMANDS = {
    "restore": _restore,
    "grade": _grade,
    "doctor": _doctor,
    "feedback": _feedback,
    "roster": _roster,
    "report": _report,
    "export": _export,
}
