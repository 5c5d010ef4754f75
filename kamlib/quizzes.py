"""Self-check questions of the lessons: ipywidgets with immediate feedback.

A :class:`Quiz`'s answer and explanation arrive as one answer key made by
:func:`make_key` (see :mod:`kamlib.answer_key`), so neither sits in plain sight in the
lesson notebook. A right answer is noted in the learner's progress file
(:mod:`kamlib.progress`). Exercise checks, which print and need no widgets, are in
:mod:`kamlib.checks`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping

import ipywidgets as widgets

from kamlib import answer_key, progress

__all__ = ["Quiz", "WithRerunNote", "make_key"]

#: Shown under every lesson widget: a notebook reopened later shows saved widgets that
#: no longer answer until their cell runs again, or an error where one was not saved.
RERUN_NOTE = "第二天重新打开本课时，如果上面显示“Error displaying widget”或点了没有反应，请重新运行这个单元格。"
RERUN_HTML = f"<div style='color:#888;font-size:0.85em'>{html.escape(RERUN_NOTE)}</div>"


class WithRerunNote:
    """Mixin of the lesson widgets: shown with :data:`RERUN_NOTE` as an output of its own below.

    The note is plain HTML, not part of the widget, so a reopened notebook still shows it
    where JupyterLab cannot draw the widget ("Error displaying widget: model not found").
    """

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        display(self._repr_mimebundle_(), raw=True)
        display(HTML(RERUN_HTML))


def _quoted(options: Iterable[object]) -> str:
    return "、".join(f'"{o}"' for o in options)


def make_key(answer: str | Iterable[str], explanation: str, lesson: str, question: str, total: int) -> str:
    """The answer key of one quiz: ``answer`` (a key, or a set of keys for multiple choice),
    the ``explanation`` shown when it is answered right, and where it counts for progress
    (question ``question`` of ``total`` in lesson ``lesson``, e.g. "03_relationship_tiers")."""
    multiple = not isinstance(answer, str)
    keys = sorted(answer) if multiple else [answer]
    return answer_key.encode(
        {
            "answer": keys,
            "multiple": multiple,
            "explanation": explanation,
            "lesson": lesson,
            "question": question,
            "total": total,
        }
    )


class Quiz(WithRerunNote, widgets.VBox):
    """One self-check question with immediate feedback (a ``VBox``).

    ``key`` comes from :func:`make_key`. The options are listed as text; below them,
    single choice shows one toggle button per key, multiple choice one checkbox per key.
    Right: "✔ 正确！" and the explanation. Wrong: "✘ 再想想。提示：" and ``hint`` (the
    answer is not shown). Tests and notebooks can drive it without a browser:
    :meth:`select`, :meth:`submit`, :attr:`feedback`, :attr:`correct`.
    """

    def __init__(self, question: str, options: Mapping[str, str], key: str, hint: str = "") -> None:
        options = dict(options)
        if not options:
            raise ValueError("题目没有选项：options 不能为空。")
        data = answer_key.decode(key)
        self._answer = frozenset(data["answer"])
        self.multiple = bool(data["multiple"])
        unknown = sorted(self._answer - options.keys())
        if not self._answer or unknown:
            raise ValueError(f"答案 {_quoted(unknown) or '（空）'} 不是选项之一；选项为 {_quoted(options)}。")
        self._explanation = str(data.get("explanation", ""))
        self._where = (str(data.get("lesson", "")), str(data.get("question", "")), int(data.get("total") or 0))
        self._hint = hint
        self._listeners: list[Callable[[Quiz], None]] = []
        self.correct: bool | None = None
        self.attempts = 0
        self.feedback = ""

        self.question = widgets.HTML(f"<b>{html.escape(question)}</b>")
        # Option texts go in HTML (it wraps long Chinese lines); the controls carry only
        # the keys, since widget labels are cut off at one line.
        listing = widgets.HTML(
            "".join(f"<div>{html.escape(k)}. {html.escape(text)}</div>" for k, text in options.items())
        )
        if self.multiple:
            self.checkboxes = {
                k: widgets.Checkbox(
                    value=False, description=k, indent=False, layout=widgets.Layout(width="auto", margin="0 12px 0 0")
                )
                for k in options
            }
            prompt = "你的选择（多选，选出所有正确的选项）："
            control: widgets.Widget = widgets.HBox(list(self.checkboxes.values()))
        else:
            self.toggle = widgets.ToggleButtons(
                options=list(options),
                index=None,
                style={"button_width": f"{max(48, 16 * max(map(len, options)) + 24)}px"},
            )
            prompt = "你的选择："
            control = self.toggle
        choices = widgets.VBox([listing, widgets.HBox([widgets.HTML(prompt), control])])
        self.button = widgets.Button(description="提交", button_style="primary", icon="check")
        self.button.on_click(lambda _button: self.submit())
        self.output = widgets.HTML("")
        super().__init__(
            [self.question, choices, self.button, self.output],
            layout=widgets.Layout(border="1px solid #ddd", padding="8px", margin="6px 0"),
        )

    @property
    def selection(self) -> frozenset[str]:
        """The keys currently selected."""
        if self.multiple:
            return frozenset(k for k, box in self.checkboxes.items() if box.value)
        return frozenset() if self.toggle.value is None else frozenset({self.toggle.value})

    def select(self, *keys: str) -> None:
        """Select exactly these option keys (one key for a single-choice question)."""
        if self.multiple:
            unknown = [k for k in keys if k not in self.checkboxes]
            if unknown:
                raise ValueError(f"没有选项 {_quoted(unknown)}；选项为 {_quoted(self.checkboxes)}。")
            for k, box in self.checkboxes.items():
                box.value = k in keys
            return
        allowed = list(self.toggle.options)
        if len(keys) != 1 or keys[0] not in allowed:
            raise ValueError(f"单选题只能选一个选项，且须为 {_quoted(allowed)} 之一。")
        self.toggle.value = keys[0]

    def submit(self) -> bool | None:
        """Check the selection, show the feedback and return whether it is right."""
        chosen = self.selection
        if not chosen:
            self._show_feedback(None, "请先选择" + ("至少一个选项。" if self.multiple else "一个选项。"))
            return None
        self.attempts += 1
        if chosen == self._answer:
            self._show_feedback(True, "✔ 正确！" + self._explanation)
            lesson, question, total = self._where
            if lesson:
                progress.record("lessons", lesson, question, total)
        else:
            self._show_feedback(False, "✘ 再想想。提示：" + self._hint)
        for listener in self._listeners:
            listener(self)
        return self.correct

    def on_submit(self, callback: Callable[[Quiz], None]) -> None:
        """Call ``callback(quiz)`` after every graded submission."""
        self._listeners.append(callback)

    def _show_feedback(self, correct: bool | None, text: str) -> None:
        self.correct = correct
        self.feedback = text
        color = {True: "#1a7f37", False: "#b35900", None: "#555"}[correct]
        self.output.value = f'<div style="color:{color}">{html.escape(text)}</div>'
