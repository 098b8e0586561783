"""The referral service's calls to other services (qualification, scoring), behind one
object the handlers are given (``Peers``), so that handlers import no nameko and a fake
stands in for it in their unit tests (``tests/support/referral_fakes.py``).

Every call runs under ``eventlet.Timeout`` (DESIGN: in-service RPC has none): a service that
does not answer raises ``Unavailable`` naming it (the gateway answers 503). Typed domain
errors pass through. Replies are parsed with the other service's ``messages.py`` models and
translated into referral's own (``EstablishmentSnapshot``, DESIGN rule 1).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from nameko.rpc import RpcProxy, ServiceProxy

from services.common.errors import InvalidInput, NotFound
from services.common.runtime import call_remote
from services.qualification.messages import (
    CategoryView,
    DpsView,
    EligibilityQuery,
    EligibleEstablishment,
    EstablishmentView,
    InsuranceStatus,
    MarketView,
)
from services.referral.messages import EstablishmentSnapshot
from services.scoring.messages import (
    SERVICE_NAME,
    ScoringRequest,
    ScoringResult,
    WeightsMsg,
    scoring_service_name,
)


class ScoringProxies(RpcProxy):
    """``self.scoring(category)``: a proxy of ``scoring_<category>`` (per-category scoring
    instances, ``services.scoring.messages``); ``self.scoring()``: ``scoring``."""

    def __init__(
        self, general: str = SERVICE_NAME, name_for: Callable[[str], str] = scoring_service_name
    ):
        super().__init__(general)
        self.name_for = name_for

    def get_dependency(self, worker_ctx):
        def proxy(category: str | None = None) -> ServiceProxy:
            name = self.name_for(category) if category else self.target_service
            return ServiceProxy(worker_ctx, name, self.rpc_reply_listener, **self.options)

        return proxy


def snapshot(e: EligibleEstablishment) -> EstablishmentSnapshot:
    """What referral keeps of an invited establishment (§5, DESIGN rule 1)."""
    dump = e.model_dump(mode="json")
    return EstablishmentSnapshot.model_validate(
        {
            "establishment_id": e.establishment_id,
            "provider_id": e.provider_id,
            "name": e.name,
            "distance_miles": Decimal(repr(e.distance_miles)),
            "core_costs": dump["core_costs"],
            "cohort_discounts": [
                {"min_children": t.min_children, "percent": t.percent} for t in e.cohort_discounts
            ],
            "competency": e.competency,
            "contacts": dump["contacts"],
            "additional_services": dump.get("additional_services", []),
        }
    )


class Peers:
    """qualification and scoring as the handlers see them (proxies from the service)."""

    def __init__(self, qualification, scoring, timeout: float):
        self.qualification = qualification
        self.scoring = scoring
        self.timeout = timeout

    def _call(self, service: str, call: Callable[[], Any]) -> Any:
        return call_remote(service, call, self.timeout)

    def category(self, code: str) -> CategoryView:
        """The category's settings (§2): its referral weights template, minimum invited and
        minimum tender period. An unknown code is a 422 on ``category``."""
        try:
            reply = self._call("qualification", lambda: self.qualification.get_category(code))
        except NotFound:
            reply = None
        if reply is None:
            raise InvalidInput.at(["category"], f"unknown category {code!r}")
        return CategoryView.model_validate(reply)

    def eligible(self, query: EligibilityQuery) -> list[EstablishmentSnapshot]:
        """§5: every establishment admitted (not suspended) in the category, within the
        radius and not above the authority's own cap: qualification decides."""
        reply = self._call(
            "qualification",
            lambda: self.qualification.eligible_establishments(query.model_dump(mode="json")),
        )
        return [snapshot(EligibleEstablishment.model_validate(e)) for e in reply]

    def standings(self, category: str, establishment_ids: list[str],
                  dps_id: str | None = None) -> dict:
        """§6.2, §6.3 C: qualification's ``{establishment_id: {admitted, competency}}``
        (members of the market ``dps_id`` when given, §11.3)."""
        if dps_id is None:
            return self._call(
                "qualification",
                lambda: self.qualification.standings(category, establishment_ids))
        return self._call(
            "qualification",
            lambda: self.qualification.standings(category, establishment_ids, dps_id))

    def market(self, dps_id: str | None) -> DpsView:
        """§11.1: the market of a call-off (``None``: the default market, ``GET /dps``).
        An unknown one is a 422 on ``dps_id``."""
        if dps_id is None:
            return DpsView.model_validate(
                self._call("qualification", lambda: self.qualification.get_dps()))
        try:
            reply = self._call("qualification", lambda: self.qualification.get_market(dps_id))
        except NotFound:
            reply = None
        if reply is None:
            raise InvalidInput.at(["dps_id"], f"no market {dps_id!r}")
        return MarketView.model_validate(reply)

    def insurance(self, establishment_id: str, category: str,
                  dps_id: str | None) -> InsuranceStatus:
        """§11.2, s.36(2): the winner's current insurance cover, checked at award."""
        query = {"establishment_id": establishment_id, "category": category, "dps_id": dps_id}
        return InsuranceStatus.model_validate(
            self._call("qualification", lambda: self.qualification.insurance_status(query)))

    def establishment(self, establishment_id: str) -> EstablishmentView | None:
        reply = self._call(
            "qualification", lambda: self.qualification.get_establishment(establishment_id)
        )
        return None if reply is None else EstablishmentView.model_validate(reply)

    def resolve_weights(self, request: dict) -> WeightsMsg:
        """§6.1: the referral's weights, resolved by scoring against the template."""
        return WeightsMsg.model_validate(
            self._call("scoring", lambda: self.scoring().resolve_weights(request))
        )

    def score(self, request: ScoringRequest) -> ScoringResult:
        """§6.3, §6.4: the category's scoring instance ranks the bids."""
        reply = self._call(
            "scoring",
            lambda: self.scoring(request.category).score(request.model_dump(mode="json")),
        )
        return ScoringResult.model_validate(reply)
