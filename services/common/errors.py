"""Domain error base classes shared by every service.

They are plain exceptions (no nameko import) so that ``domain.py`` modules can raise
them. Positional ``args`` are always ``(detail, errors)`` so that nameko can serialise
them across RPC and the gateway can rebuild the same typed error (see
``services.common.rpc_errors``) and map it to a problem+json response.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation. Maps to HTTP ``status``."""

    status = 409
    title = "Conflict"

    def __init__(self, detail: str = "", errors: list[dict] | None = None):
        super().__init__(detail, list(errors or []))

    @property
    def detail(self) -> str:
        return self.args[0]

    @property
    def errors(self) -> list[dict]:
        return self.args[1]


class Conflict(DomainError):
    """The object's state forbids the action (HTTP 409)."""


class InvalidInput(DomainError):
    """Content is invalid (HTTP 422). ``errors`` is ``[{"loc": [...], "msg": "..."}]``."""

    status = 422
    title = "Unprocessable Content"

    @classmethod
    def at(cls, loc: list | tuple | str, msg: str) -> InvalidInput:
        """One error naming its field: ``InvalidInput.at(["core_costs", "premises"], "...")``."""
        loc = [loc] if isinstance(loc, str) else list(loc)
        return cls(f"{'.'.join(str(p) for p in loc)}: {msg}", [{"loc": loc, "msg": msg}])


class NotFound(DomainError):
    """Unknown object, or one the caller may not know exists (HTTP 404, RULES §10)."""

    status = 404
    title = "Not Found"


class Forbidden(DomainError):
    """A known principal acting outside its rights (HTTP 403, RULES §10)."""

    status = 403
    title = "Forbidden"


class Unavailable(DomainError):
    """A service this call needs did not answer (HTTP 503). Raised by a service about the
    services it calls itself, so that the gateway answers 503 as for its own calls;
    ``Unavailable("...", [{"service": "scoring"}])`` names it in the problem body."""

    status = 503
    title = "Service Unavailable"


class TooLarge(DomainError):
    """A body over its limit (an uploaded document over 20 MB)."""

    status = 413


ALL_ERRORS = (DomainError, Conflict, InvalidInput, NotFound, Forbidden, Unavailable, TooLarge)
