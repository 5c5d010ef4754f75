"""kamlib — the Python side of the 重点客户管理 (key account management) course kit.

Submodules are imported on demand so that ``import kamlib`` stays fast:
``kamlib.data`` (case-study data), ``kamlib.tiers`` (relationship tiers),
``kamlib.roles`` (positions and duties), ``kamlib.priorities`` (Pareto, scores,
allocation), ``kamlib.stakeholders`` (relationship maps), ``kamlib.account_plan``
(a trainee's account plan), ``kamlib.plots`` (charts), ``kamlib.widgets``,
``kamlib.quizzes`` (the lessons' self-checks), ``kamlib.checks`` (the exercises'
checks), ``kamlib.progress``, ``kamlib.slips`` (common slips explained in Chinese),
``kamlib.selfstudy`` and ``kamlib.grading`` (the trainer's ``kam`` command).
"""

__version__ = "0.1.0"
