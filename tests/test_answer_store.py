"""kamlib.grading.answer_store: answers, failures and kept manual grades beside the gradebook, SQLite here."""

from kamlib.grading.answer_store import (
    AnswerRecord,
    GradingFailure,
    JudgedAnswer,
    clear_failure,
    clear_kept,
    read_answers,
    read_failures,
    read_kept,
    record_answers,
    record_failure,
    record_kept,
)


def _answer(student: str, answer: str, **kw) -> AnswerRecord:
    base = dict(
        assignment="ex01",
        notebook="ex01",
        student=student,
        grade_id="q1_test",
        answer=answer,
        missing=False,
        sandboxed=True,
        recorded_at="2026-01-01T00:00:00+00:00",
    )
    return AnswerRecord(**{**base, **kw})


def test_empty_gradebook_has_no_records(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert read_answers(url) == [] and read_failures(url) == []
    assert not (tmp_path / "gradebook.db").exists()  # reading made no empty gradebook


def test_answers_are_replaced_per_question_and_learner(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    record_answers(url, [_answer("a", "'B'"), _answer("b", "", missing=True, sandboxed=False)])
    record_answers(url, [_answer("a", "'C'"), _answer("a", "x" * 500, grade_id="q2_test")])
    found = read_answers(url, "ex01")
    assert [(r.student, r.grade_id, r.answer[:3], r.missing, r.sandboxed) for r in found] == [
        ("a", "q1_test", "'C'", False, True),
        ("a", "q2_test", "xxx", False, True),
        ("b", "q1_test", "", True, False),
    ]
    assert len(found[1].answer) == 200
    assert read_answers(url, "ex02") == []


def test_failures_are_kept_until_cleared(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    record_failure(url, GradingFailure("ex01", "a", "不是合法的笔记本", "2026-01-01T00:00:00+00:00"))
    record_failure(url, GradingFailure("ex01", "a", "内核退出", "2026-01-02T00:00:00+00:00"))
    assert [(f.student, f.reason) for f in read_failures(url)] == [("a", "内核退出")]
    clear_failure(url, "ex01", "a")
    assert read_failures(url) == []


def test_a_note_of_kept_manual_grades_is_per_submission_and_replaced_whole(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    at = "2026-01-01T00:00:00+00:00"
    assert read_kept(url, "ex01", "a") == {}
    record_kept(url, "ex01", "a", [JudgedAnswer("ex01", "ex01", "a", g, f"d-{g}", at) for g in ("q7", "q8")])
    record_kept(url, "ex01", "b", [JudgedAnswer("ex01", "ex01", "b", "q7", "d-b", at)])
    record_kept(url, "ex01", "a", [JudgedAnswer("ex01", "ex01", "a", "q8", "d-new", at)])  # the newer note only
    assert read_kept(url, "ex01", "a") == {("ex01", "q8"): "d-new"}
    assert read_kept(url, "ex02", "a") == {}
    clear_kept(url, "ex01", "a")
    assert read_kept(url, "ex01", "a") == {} and read_kept(url, "ex01", "b") == {("ex01", "q7"): "d-b"}
    record_kept(url, "ex01", "b", [])  # an empty note is none
    assert read_kept(url, "ex01", "b") == {}


def test_a_grader_that_loses_the_race_to_create_the_table_still_records(tmp_path, monkeypatch):
    """Two graders both find the table missing; the other one creates it first.

    The interleaving PostgreSQL showed under ``kam grade --jobs 2`` beside a stock
    ``nbgrader autograde``: this grader's check ran, then the other grader's CREATE,
    then this grader's CREATE failed. The answers must still be stored.
    """
    import sqlalchemy as sa

    from kamlib.grading import answer_store

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    answers = answer_store._tables()[0]
    real_create = type(answers).create
    raced = []

    def create_after_the_other_grader(self, bind, checkfirst=False):
        if self is answers and not raced:
            raced.append(True)
            assert not sa.inspect(bind).has_table(self.name)  # this grader's check: missing
            other = sa.create_engine(url, poolclass=sa.pool.NullPool)
            with other.begin() as conn:  # the other grader gets there first
                real_create(self, conn)
            other.dispose()
            checkfirst = False  # this grader already checked
        return real_create(self, bind, checkfirst=checkfirst)

    monkeypatch.setattr(type(answers), "create", create_after_the_other_grader)
    record_answers(url, [_answer("a", "'B'")])
    assert raced
    assert [(r.student, r.answer) for r in read_answers(url)] == [("a", "'B'")]
