"""Browser tests (issue 11): ``stack`` comes from tests/conftest.py; the browser fixtures
from tests/support/browser_support.py."""

from tests.support.browser_support import browser, mailbox, visitor  # noqa: F401
