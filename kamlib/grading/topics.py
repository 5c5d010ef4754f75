"""The deck sections a graded question assesses: the shared topic ids and their tags.

Every graded cell of an exercise source notebook carries ``metadata["kam"] =
{"topic": "<id>"}``; the report groups questions by these ids (topic mastery).
A cell without a tag counts as :data:`UNTAGGED`.
"""

from __future__ import annotations

from pathlib import Path

TOPICS: dict[str, str] = {
    "concepts": "重点客户管理的概念",
    "concepts.investment": "一种投资管理",
    "concepts.definition": "重点客户管理的定义",
    "roles.account_manager": "客户经理的作用与职责",
    "roles.executive_sponsor": "行政支持者的作用与职责",
    "roles.sales_manager": "销售经理的作用与职责",
    "roles.team": "三个职位的分工与配合",
    "tiers.types": "四种客户关系及其特征",
    "tiers.indicators": "六个指标的打分",
    "tiers.rule": "层级判定与升级",
    "foundations.know": "了解客户与竞争对手",
    "foundations.analyse": "分析",
    "foundations.prioritise": "确定优先顺序",
    "foundations.direction": "明确方向",
    "foundations.proactive": "积极主动",
    "foundations.plan": "制定计划",
    "foundations.team": "团队建设",
    "account_plan": "综合：客户计划",
}
UNTAGGED = "未标注"
# The deck pages of each part (a topic id's first component).
PAGES = {
    "concepts": "第 4–6 页",
    "roles": "第 6–12 页",
    "tiers": "第 13–18 页",
    "foundations": "第 19–21 页",
    "account_plan": "ex05",
}


# Where to reread each topic: (lesson notebook in course/, section heading, deck pages).
REVIEW: dict[str, tuple[str, str, str]] = {
    "concepts": ("01_concepts.ipynb", "1. 重点客户管理是一种销售的方法", "第 5 页"),
    "concepts.investment": ("01_concepts.ipynb", "2. 重点客户管理是一种投资管理", "第 6 页"),
    "concepts.definition": ("01_concepts.ipynb", "3. 定义：逐字读一遍", "第 6 页"),
    "roles.account_manager": ("02_roles.ipynb", "2. 客户经理或团队领导者（account manager）", "第 7–9 页"),
    "roles.executive_sponsor": ("02_roles.ipynb", "3. 行政支持者（executive sponsor）", "第 10–11 页"),
    "roles.sales_manager": ("02_roles.ipynb", "4. 销售经理（sales manager）", "第 12 页"),
    "roles.team": ("02_roles.ipynb", "5. 三个职位放在一起看", "第 6–12 页"),
    "tiers.types": ("03_relationship_tiers.ipynb", "6. 四种类型的客户关系特征：一张对照表", "第 13–17 页"),
    "tiers.indicators": ("03_relationship_tiers.ipynb", "6. 四种类型的客户关系特征：一张对照表", "第 14–17 页"),
    # The rule is the course's own (the deck has none): no deck pages to reread.
    "tiers.rule": ("03_relationship_tiers.ipynb", "7. 怎样判断一个客户在哪一级", ""),
    "foundations.know": ("04_foundations.ipynb", "1. 了解（一）：了解客户", "第 19 页"),
    "foundations.analyse": ("04_foundations.ipynb", "3. 分析", "第 20 页"),
    "foundations.prioritise": ("04_foundations.ipynb", "4. 确定优先顺序", "第 20 页"),
    "foundations.direction": ("04_foundations.ipynb", "5. 明确方向", "第 20 页"),
    "foundations.proactive": ("04_foundations.ipynb", "6. 积极主动", "第 21 页"),
    "foundations.plan": ("04_foundations.ipynb", "7. 制定计划", "第 21 页"),
    "foundations.team": ("04_foundations.ipynb", "8. 团队建设", "第 21 页"),
    "account_plan": ("05_my_accounts.ipynb", "5. 一页客户计划", ""),
}
LESSON_NAMES = {"01": "第一课", "02": "第二课", "03": "第三课", "04": "第四课", "05": "第五课"}


def review_pointer(topic: str | None) -> str:
    """What a learner should reread for ``topic``, in Chinese (empty for an unknown topic).

    >>> review_pointer("roles.sales_manager")
    '复习：第二课“4. 销售经理（sales manager）”一节（课件第 12 页）'
    """
    if topic not in REVIEW:
        return ""
    lesson, section, pages = REVIEW[topic]
    where = f"{LESSON_NAMES[lesson[:2]]}“{section}”一节"
    return f"复习：{where}（课件{pages}）" if pages else f"复习：{where}"


def topic_label(topic: str) -> str:
    """The Chinese label of a topic id (:data:`UNTAGGED` stays as it is)."""
    if topic not in TOPICS:
        return topic
    pages = PAGES[topic.split(".")[0]]
    return f"{TOPICS[topic]}（{pages}）" if not pages.startswith("ex") else TOPICS[topic]


def check_topics(cells) -> None:
    """Raise :class:`~kamlib.grading.course.KamError` naming the notebook, cell and value of the
    first topic tag among the :class:`~kamlib.grading.questions.GradedCell` ``cells`` that is not
    one of :data:`TOPICS`."""
    from .course import KamError

    for cell in cells:
        if cell.topic is not None and cell.topic not in TOPICS:
            raise KamError(
                f"{cell.path} 中单元格 {cell.grade_id} 的知识点标签“{cell.topic}”无效，可用的标签：{'、'.join(TOPICS)}"
            )


def read_topics(root: Path) -> dict[str, dict[str, str]]:
    """Assignment -> {grade_id -> topic id} of the graded cells of ``root``'s source notebooks.

    Cells without a tag are left out; an unknown tag raises (see :func:`check_topics`).
    """
    from .questions import graded_cells

    cells = list(graded_cells(root))
    check_topics(cells)
    found: dict[str, dict[str, str]] = {}
    for cell in cells:
        if cell.topic is not None:
            found.setdefault(cell.assignment, {})[cell.grade_id] = cell.topic
    return found
