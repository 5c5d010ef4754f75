"""kamlib — the Python side of the 重点客户管理 (key account management) course kit.

Submodules are imported on demand so that ``import kamlib`` stays fast:
``kamlib.data`` (case-study data), ``kamlib.tiers`` (relationship tiers),
``kamlib.roles`` (positions and duties), ``kamlib.priorities`` (Pareto, scores,
allocation), ``kamlib.plots`` (charts), ``kamlib.widgets`` and ``kamlib.checks``.
"""

__version__ = "0.1.0"
