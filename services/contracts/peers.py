"""The contracts service's calls to qualification (DESIGN rule 1: it asks by RPC), behind
one object the handlers are given, so that handlers import no nameko and a fake stands in
for it in their unit tests. Every call runs under a timeout (``call_remote``: 503 naming
the service when it does not answer)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from services.common.errors import NotFound
from services.common.runtime import call_remote


class Peers:
    def __init__(self, qualification, timeout: float):
        self.qualification = qualification
        self.timeout = timeout

    def core_cost_heads(self, code: str) -> tuple[str, ...] | None:
        """The core cost heads of the category's configuration in force (§2, §4.4), or
        None for an unknown category."""
        try:
            reply = call_remote("qualification",
                                lambda: self.qualification.get_category(code), self.timeout)
        except NotFound:
            return None
        view = CostHeads.model_validate(reply)
        return (*view.cost_heads, *view.optional_cost_heads)


class CostHeads(BaseModel):
    """What contracts reads of qualification's ``CategoryView``."""

    model_config = ConfigDict(extra="ignore")
    cost_heads: list[str]
    optional_cost_heads: list[str] = []
