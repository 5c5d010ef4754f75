"""Performance numbers (printed, never asserted): run each from the repository root as
``python -m benchmarks.NAME``, so they import the tests' helpers as ``tests.support``."""
