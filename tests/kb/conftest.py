"""Report how many requests the schemathesis run sent (tests/kb/test_api_fuzz.py)."""

import sys


def pytest_terminal_summary(terminalreporter):
    module = sys.modules.get("tests.kb.test_api_fuzz")
    count = module.CASES_SENT["count"] if module else 0
    if count:
        terminalreporter.write_line(f"schemathesis: {count} cases sent")
