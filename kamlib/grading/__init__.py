"""Grading for the nbgrader course in ``exercises/``: nbgrader plug-ins and the ``kam`` command.

Submodules are imported on demand (``import kamlib.grading`` imports nothing).

nbgrader plug-ins, wired in by ``exercises/nbgrader_config.py`` so that ``nbgrader`` and
``kam`` grade alike:

* :mod:`~kamlib.grading.feedback` — feedback without hidden tests or mark schemes;
* :mod:`~kamlib.grading.feedback_page` — the feedback page in Chinese: one verdict per question;
* :mod:`~kamlib.grading.preprocessors` — autograding that survives a killed or hung
  kernel, hidden errors and deleted test cells.

Behind ``kam`` (``kamlib.cli``): :mod:`~kamlib.grading.course` (the course root),
:mod:`~kamlib.grading.parallel`, :mod:`~kamlib.grading.tracking` and :mod:`~kamlib.grading.manual` (``kam grade``),
:mod:`~kamlib.grading.feedback_batch` (``kam feedback``), :mod:`~kamlib.grading.report`
(with :mod:`~kamlib.grading.cohort`, :mod:`~kamlib.grading.items`, :mod:`~kamlib.grading.charts`,
:mod:`~kamlib.grading.questions` and :mod:`~kamlib.grading.topics`),
:mod:`~kamlib.grading.export`, :mod:`~kamlib.grading.roster`, :mod:`~kamlib.grading.tables`,
:mod:`~kamlib.grading.failures`, :mod:`~kamlib.grading.backup` and :mod:`~kamlib.grading.restore` (``kam restore``).
"""
