"""Browser tests (issue 11): ``stack`` comes from tests/conftest.py; the browser fixtures
from tests/support/browser_support.py."""

from tests.support.browser_support import browser, mailbox, visitor  # noqa: F401


def pytest_runtest_logreport(report):
    """Show a browser failure at once (the stack keeps running until the session ends)."""
    if report.failed and report.when == "call":
        import sys

        print(f"\n{report.longreprtext[-4000:]}", file=sys.stderr, flush=True)
