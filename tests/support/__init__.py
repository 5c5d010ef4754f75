"""Helpers the tests and benchmarks/ share, one module per thing they build or run.

- ``commands``: the virtualenv's commands (nbgrader, kam) and their environment
- ``courses``: the course in exercises/, and copying a course root (clean or whole)
- ``run_cache``: what is built once per test run and shared by the pytest-xdist workers
- ``tiny_course``: a two-assignment nbgrader course with fast kernels and known answers
- ``submissions``: right, wrong, broken and adversarial submissions for the course in exercises/
- ``redteam`` and ``redteam_suite``: hostile submissions with planted secrets, and the tests
  run on them by ``kam grade`` and by ``nbgrader autograde``
- ``lessons``: each lesson of course/ executed once per test run, shared by every test that reads it
- ``deck``: the source deck as the tests read it
- ``postgres``: a throw-away PostgreSQL server
- ``browser``: what the browser tests need (Chromium, Playwright)

Modules here say what is missing; whether that skips or fails is decided in one place,
the ``skip_or_fail`` fixture of tests/conftest.py.
"""
