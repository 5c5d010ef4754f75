"""Grading for the nbgrader course in ``exercises/``: nbgrader plug-ins and the ``kam`` command.

Submodules are imported on demand (``import kamlib.grading`` imports nothing).

nbgrader plug-ins, wired in by ``exercises/nbgrader_config.py`` so that ``nbgrader`` and
``kam`` grade alike: every preprocessor is in :mod:`~kamlib.grading.preprocessors`
(sandboxed execution, answers recorded, hidden tests out of feedback, the Chinese verdicts),
the feedback page's exporter in :mod:`~kamlib.grading.feedback_page`. They rest on
:mod:`~kamlib.grading.sandbox`, :mod:`~kamlib.grading.answers`, :mod:`~kamlib.grading.verdicts`,
:mod:`~kamlib.grading.hidden_tests` and :mod:`~kamlib.grading.regions` (the one scanner of
hidden-test, solution and mark-scheme regions).

Behind each ``kam`` command (``kamlib.cli``), a module named after it:
:mod:`~kamlib.grading.grade` (with :mod:`~kamlib.grading.manual` and :mod:`~kamlib.grading.backup`),
:mod:`~kamlib.grading.feedback`, :mod:`~kamlib.grading.report` (with :mod:`~kamlib.grading.cohort`,
:mod:`~kamlib.grading.items`, :mod:`~kamlib.grading.charts` drawn through :mod:`~kamlib.grading.drawing`,
:mod:`~kamlib.grading.questions` and :mod:`~kamlib.grading.topics`), :mod:`~kamlib.grading.export`,
:mod:`~kamlib.grading.roster` and :mod:`~kamlib.grading.restore`; shared by them: :mod:`~kamlib.grading.course`
(the course root, its settings read by :mod:`~kamlib.grading.course_config` without nbgrader),
:mod:`~kamlib.grading.tables` (read through :mod:`~kamlib.grading.database`), :mod:`~kamlib.grading.answer_store`
and :mod:`~kamlib.grading.failures`.

Every reach into nbgrader's internals (patched classes, overridden converter hooks, SQL on
nbgrader's tables) is in :mod:`~kamlib.grading.nbgrader_adapter`, with a test per assumption
(tests/test_nbgrader_adapter.py): an nbgrader upgrade starts there.
"""
