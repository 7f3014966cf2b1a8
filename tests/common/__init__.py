"""Helpers shared by the tests: fakes, clocks, servers, request builders and readers.

Test modules import helpers from here, never from a `conftest.py` or from another test module
(tests/test_architecture.py enforces it); conftest files hold fixtures only.
"""
