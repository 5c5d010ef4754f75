"""The test suite (a package, so the helpers in tests/support/ have one import name: ``tests.support``)."""
