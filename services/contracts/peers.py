"""The contracts service's calls to qualification (DESIGN rule 1: it asks by RPC), behind
one object the handlers are given, so that handlers import no nameko and a fake stands in
for it in their unit tests. Every call runs under a timeout (``call_remote``: 503 naming
the service when it does not answer)."""

from __future__ import annotations

from services.common.errors import NotFound
from services.common.runtime import call_remote
from services.qualification.messages import CategoryView


class Peers:
    def __init__(self, qualification, timeout: float):
        self.qualification = qualification
        self.timeout = timeout

    def category(self, code: str) -> CategoryView | None:
        """The category's configuration in force (§2), or None for an unknown code."""
        try:
            reply = call_remote("qualification",
                                lambda: self.qualification.get_category(code), self.timeout)
        except NotFound:
            return None
        return CategoryView.model_validate(reply)
