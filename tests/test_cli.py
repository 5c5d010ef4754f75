"""kam's command line: clear Chinese errors, feedback without hidden tests, the grades export."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import pandas as pd
import pytest

from kamlib.cli import main
from tests.support.commands import tool_env
from tests.support.courses import clone_course
from tests.support.tiny_course import HIDDEN_LINES, submit

KAM = str(Path(sys.executable).parent / "kam")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def page_text(path: Path) -> str:
    """What a learner reads in an HTML page (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("command", [["grade", "ps1"], ["feedback", "ps1"], ["report"], ["export"]])
def test_a_folder_without_nbgrader_config_is_refused(capsys, tmp_path, command):
    code, out, err = run(capsys, "--course", tmp_path, *command)
    assert code == 2
    assert "不是 nbgrader 课程根目录" in err and str(tmp_path) in err and "nbgrader_config.py" in err
    assert "Traceback" not in err


def test_the_console_script_reports_errors_without_traceback(tmp_path):
    done = subprocess.run([KAM, "grade", "ps1"], cwd=tmp_path, env=tool_env(), capture_output=True, text=True)
    assert done.returncode == 2
    assert "不是 nbgrader 课程根目录" in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_assignment_lists_the_known_ones(capsys, template):
    code, out, err = run(capsys, "--course", template, "grade", "ps9")
    assert code == 2
    assert "未知作业“ps9”" in err and "ps1、ps2" in err


def test_an_assignment_not_yet_generated_says_how_to_generate_it(capsys, template, tmp_path):
    root = clone_course(template, tmp_path / "course")
    (root / "source" / "ps3").mkdir()
    code, out, err = run(capsys, "--course", root, "grade", "ps3")
    assert code == 2 and "nbgrader generate_assignment --force ps3" in err


def test_an_empty_submitted_folder_is_refused(capsys, template, tmp_path):
    root = clone_course(template, tmp_path / "course")
    (root / "submitted").mkdir()
    code, out, err = run(capsys, "--course", root, "grade", "ps1")
    assert code == 2 and "为空" in err and "submitted" in err
    assert not list(root.glob("gradebook.db.bak-*"))  # refused before touching anything


def test_an_assignment_nobody_submitted_is_refused(capsys, template, tmp_path):
    root = clone_course(template, tmp_path / "course")
    submit(root, "alice", "ps2")
    code, out, err = run(capsys, "--course", root, "grade", "ps1")
    assert code == 2 and "没有学员提交作业“ps1”" in err


def test_a_student_without_submission_is_named(capsys, template, tmp_path):
    root = clone_course(template, tmp_path / "course")
    submit(root, "alice")
    code, out, err = run(capsys, "--course", root, "grade", "ps1", "--student", "zoe")
    assert code == 2 and "zoe" in err and "alice" in err


def test_bad_arguments_get_a_chinese_message(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["grade", "ps1", "--jobs", "0"])
    assert exit_.value.code == 2
    assert "参数错误" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["grade"])
    assert "缺少必需的参数" in capsys.readouterr().err


# ---------------------------------------------------------------- feedback
def test_feedback_holds_scores_and_hints_but_no_hidden_tests(capsys, graded, tmp_path):
    root = clone_course(graded, tmp_path / "course")
    code, out, err = run(capsys, "--course", root, "feedback", "ps1")
    assert code == 0, out + err
    pages = {s: root / "feedback" / s / "ps1" / "ps1.html" for s in ("alice", "bob", "carol")}
    for student, page in pages.items():
        text = page_text(page)
        assert "assert isinstance(answer, int)" in text  # the visible test stays
        for secret in (*HIDDEN_LINES, "BEGIN HIDDEN TESTS", "MARK SCHEME", "提到八成收入即可"):
            assert secret not in text, (student, secret)
    assert "得分：2 / 2" in page_text(pages["alice"]) and "得分：待批改" in page_text(pages["alice"])
    assert "得分：0 / 2" in page_text(pages["bob"])
    assert "alice" in out and "待人工评分" in out  # alice's essay awaits the trainer


def test_feedback_that_still_shows_a_hidden_test_is_deleted(capsys, graded, tmp_path, monkeypatch):
    from kamlib.grading.preprocessors import StripHiddenTests

    monkeypatch.setattr(StripHiddenTests, "preprocess", lambda self, nb, resources: (nb, resources))
    root = clone_course(graded, tmp_path / "course")
    code, out, err = run(capsys, "--course", root, "feedback", "ps1", "--student", "bob")
    assert code == 1
    assert "✗ bob：" in out and "隐藏测试" in out
    assert not list((root / "feedback").rglob("*.html"))


def test_feedback_needs_graded_submissions(capsys, template, tmp_path):
    root = clone_course(template, tmp_path / "course")
    code, out, err = run(capsys, "--course", root, "feedback", "ps1")
    assert code == 2 and "kam grade ps1" in err


# ---------------------------------------------------------------- export
def test_export_writes_utf8_with_bom_and_every_trainee_assignment_pair(capsys, graded, tmp_path):
    out_file = tmp_path / "成绩.csv"
    code, out, err = run(capsys, "--course", graded, "export", "--out", out_file)
    assert code == 0 and str(out_file) in out
    raw = out_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out_file, encoding="utf-8-sig").set_index(["作业", "学员编号"])
    assert list(table.columns[:3]) == ["截止时间", "姓名", "邮箱"]
    assert len(table) == 6  # 2 assignments x 3 trainees
    assert table.loc[("ps1", "alice"), "得分"] == 3.0 and table.loc[("ps1", "alice"), "满分"] == 6.0
    assert table.loc[("ps1", "alice"), "状态"] == "待批改"  # her essay awaits the trainer
    assert table.loc[("ps1", "alice"), "待批改题数"] == 1 and table.loc[("ps1", "alice"), "得分率(%)"] == 100.0
    assert table.loc[("ps1", "bob"), "得分率(%)"] == pytest.approx(16.7)
    assert table.loc[("ps1", "carol"), "状态"] == "已评分"
    assert table.loc[("ps2", "bob"), "状态"] == "未提交" and table.loc[("ps2", "bob"), "得分"] == 0.0
    assert table.loc[("ps2", "bob"), "得分率(%)"] == 0.0


def test_export_defaults_to_the_reports_folder_of_the_course(capsys, graded, tmp_path):
    root = clone_course(graded, tmp_path / "course")
    with chdir(root):
        code, out, err = run(capsys, "export")
    assert code == 0 and (root / "reports" / "grades.csv").is_file()


def test_an_excel_file_name_for_the_csv_table_is_refused_with_the_fix(capsys, graded, tmp_path):
    code, out, err = run(capsys, "--course", graded, "export", "--out", tmp_path / "成绩.xlsx")
    assert code == 2 and "以 .csv 结尾" in err and "成绩.xlsx" in err
    assert not (tmp_path / "成绩.xlsx").exists()


def test_an_unwritable_output_path_is_a_chinese_error_not_a_traceback(capsys, graded, tmp_path):
    folder = tmp_path / "already-a-folder"
    folder.mkdir()
    code, out, err = run(capsys, "--course", graded, "export", "--out", folder)
    assert code == 2
    assert err.startswith("错误：无法读写") and str(folder) in err and "Traceback" not in err
