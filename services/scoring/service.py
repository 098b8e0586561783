"""nameko entrypoints of the stateless scoring service (RULES §6).

Thin: each entrypoint hands its argument to a handler (``handlers/``: ``parse`` with
``messages.py``, a 422 naming the fields; the rules in ``domain/``) and returns the
JSON-ready dump. The entrypoints are our ``rpc`` (a request whose gateway deadline has passed
is dropped, so a request answered 503 is never scored later) and every worker logs with the
caller's ``request_id`` (``RequestContext``). Scoring keeps no state, writes no audit and
emits no events.

**Per-category instances** (DESIGN "Scoring can be run per category"; naming in
``messages.py``). This module defines, at import and without reading the environment,

- ``ScoringService`` (``scoring``): ``ping``, ``resolve_weights`` and ``replay``, hosted by
  every process;
- ``CATEGORY_SERVICES``: one ``scoring_<category>`` class per category (``ScoringSenService``,
  …), each scoring only its own category.

Which of them a process hosts is chosen when it starts, from ``SCORING_CATEGORIES``
(``config.py``), by ``python -m services.scoring.run`` (``run.py``: it also says how ops give
one category its own workers). ``nameko run services.scoring.service`` hosts them all.
"""

from __future__ import annotations

from structlog.contextvars import bind_contextvars

from services.common.runtime import Config, RequestContext, rpc
from services.scoring.config import ScoringConfig
from services.scoring.handlers import (
    replay_evaluation,
    resolve_referral_weights,
    score_referral,
)
from services.scoring.messages import SERVICE_NAME, scoring_service_name


class ScoringContext(RequestContext):
    """``RequestContext`` that also names the container on each worker's log lines: one
    scoring process hosts several services (``scoring``, ``scoring_sen``, …)."""

    def worker_setup(self, worker_ctx):
        super().worker_setup(worker_ctx)
        bind_contextvars(service=self.container.service_name)


class ScoringService:
    """``scoring``: the category-free calls, hosted by every scoring process."""

    name = SERVICE_NAME
    ctx = ScoringContext()
    config = Config(ScoringConfig)  # read at start: a bad SCORING_CATEGORIES stops the process

    @rpc
    def ping(self) -> str:
        return "ok"

    @rpc
    def resolve_weights(self, request: dict) -> dict:
        return resolve_referral_weights(request, self.ctx.principal)

    @rpc
    def replay(self, request: dict) -> dict:
        """A stored evaluation recomputed from its inputs (``dps evaluation replay``)."""
        return replay_evaluation(request, self.ctx.principal)


def category_service(category: str) -> type:
    """The ``scoring_<category>`` service class: scores ``category``'s referrals only."""

    class CategoryScoringService:
        name = scoring_service_name(category)
        category_code = category
        ctx = ScoringContext()
        config = Config(ScoringConfig)

        @rpc
        def ping(self) -> str:
            return "ok"

        @rpc
        def score(self, request: dict) -> dict:
            return score_referral(request, category, self.ctx.principal)

    title = "".join(part.title() for part in category.split("_"))
    CategoryScoringService.__name__ = CategoryScoringService.__qualname__ = f"Scoring{title}Service"
    CategoryScoringService.__module__ = __name__
    return CategoryScoringService


# Every category's service, defined at import (nothing read from the environment): nameko
# finds a service class among a module's top-level names (``module:Class``).
ScoringSenService = category_service("SEN")
ScoringFostercareService = category_service("FOSTERCARE")
ScoringResidentialService = category_service("RESIDENTIAL")
ScoringAltEducationService = category_service("ALT_EDUCATION")
ScoringSupportedAccommodationService = category_service("SUPPORTED_ACCOMMODATION")
CATEGORY_SERVICES: tuple[type, ...] = (
    ScoringSenService,
    ScoringFostercareService,
    ScoringResidentialService,
    ScoringAltEducationService,
    ScoringSupportedAccommodationService,
)
SERVICE_OF_CATEGORY: dict[str, type] = {cls.category_code: cls for cls in CATEGORY_SERVICES}
