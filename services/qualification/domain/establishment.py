"""The Establishment aggregate: registration, details, inspections and admission (RULES §4,
§4.1, §8). Its membership commands and timed changes are mixins in
``establishment_commands`` and ``establishment_changes`` (one aggregate, one class; split to
keep modules readable).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from services.common.errors import Conflict, InvalidInput, NotFound
from services.qualification import messages as m
from services.qualification.domain.applications import Application
from services.qualification.domain.calendar import add_months, london_date
from services.qualification.domain.categories import CategoryConfig, total_weekly_core_cost
from services.qualification.domain.content import Contact, InspectionJudgement
from services.qualification.domain.establishment_changes import TimedChanges
from services.qualification.domain.establishment_commands import MembershipCommands
from services.qualification.domain.geo import GeoPoint
from services.qualification.domain.membership import CostEntry, Membership, Milestone, _event
from services.qualification.domain.vocabulary import INSPECTION, REMINDER_DAYS, new_id


@dataclass(eq=False)
class Establishment(MembershipCommands, TimedChanges):
    """One school, home or agency office (§4) and its memberships, one per category at a
    time (earlier, removed ones are kept)."""

    id: str
    provider_id: str
    name: str
    address: str
    postcode: str
    location: GeoPoint
    categories: tuple[str, ...]
    contacts: tuple[Contact, ...]
    urn: str | None = None
    capacity: int | None = None
    inspections: list[InspectionJudgement] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    events: list = field(default_factory=list, repr=False)

    @classmethod
    def register(cls, provider_id: str, request: m.EstablishmentCreate) -> Establishment:
        """A new establishment of ``provider_id`` (§4). Nothing is announced: no one is told
        about an establishment before it applies, and every event that leads to a message
        (§8: the membership events, a referral's invitation snapshot) carries its contacts
        itself. Only a later change of contacts is announced (``update``)."""
        return cls(
            id=new_id(),
            provider_id=provider_id,
            name=request.name,
            address=request.address,
            postcode=request.postcode,
            location=GeoPoint(request.location.lat, request.location.lon),
            categories=tuple(request.categories),
            contacts=tuple(
                Contact(c.name, str(c.email), c.phone, c.sms_opt_in) for c in request.contacts
            ),
            urn=request.urn,
            capacity=request.capacity,
        )

    def _contacts_event(self) -> m.EstablishmentContactsChanged:
        return m.EstablishmentContactsChanged(
            establishment_id=self.id,
            provider_id=self.provider_id,
            contacts=[asdict(c) for c in self.contacts],
        )

    def update(self, request: m.EstablishmentUpdate) -> None:
        """§4, §8: change the name, address, capacity or contacts (the location and
        categories stay). New contacts are announced."""
        given = request.model_fields_set
        if not given:
            raise InvalidInput("the change is empty", [{"loc": [], "msg": "nothing to change"}])
        for key in ("name", "address", "capacity"):
            if key in given:
                value = getattr(request, key)
                if value is None and key != "capacity":
                    raise InvalidInput.at([key], "must not be null")
                setattr(self, key, value)
        if "contacts" in given:
            if not request.contacts:
                raise InvalidInput.at(["contacts"], "must list at least one contact")
            contacts = tuple(
                Contact(c.name, str(c.email), c.phone, c.sms_opt_in) for c in request.contacts
            )
            if contacts != self.contacts:
                self.contacts = contacts
                self.events.append(self._contacts_event())

    # -- queries -------------------------------------------------------------------

    def membership(self, category: str, dps_id: str | None = None) -> Membership:
        """The latest membership in ``category`` (of the market ``dps_id`` when given;
        removed included), or NotFound."""
        for ms in reversed(self.memberships):
            if ms.category == category and dps_id in (None, ms.dps_id):
                return ms
        raise NotFound(f"{self.name} has no membership in {category}")

    def current_membership(self, category: str, dps_id: str | None = None) -> Membership | None:
        """The current membership in ``category`` (of the market ``dps_id`` when given,
        §11.1: an establishment may be a member of two markets at once)."""
        return next((ms for ms in self.memberships if ms.category == category and ms.current
                     and dps_id in (None, ms.dps_id)), None)

    def _current(self) -> list[Membership]:
        return [ms for ms in self.memberships if ms.current]

    def latest_judgement(self, *extra: InspectionJudgement | None) -> InspectionJudgement | None:
        """The most recent judgement by date (the last recorded wins a tie), counting
        ``extra`` ones not yet recorded."""
        latest = None
        for j in (*self.inspections, *extra):
            if j is not None and (latest is None or j.date >= latest.date):
                latest = j
        return latest

    def expiring_evidence(self, today: date) -> list[tuple[Membership, str, date]]:
        """§4.5: evidence expiring within 30 days, not yet reminded for that expiry date."""
        horizon = today + timedelta(days=REMINDER_DAYS)
        found = []
        for ms in self._current():
            failures = ms.open_failures
            for criterion, ans in ms.evidence.items():
                exp = ans.expires_on
                if (
                    exp is not None
                    and today < exp <= horizon
                    and criterion not in failures
                    and ms.reminded.get(criterion) != exp
                ):
                    found.append((ms, criterion, exp))
        return found

    def due_reverifications(self, today: date) -> list[Membership]:
        """§4.5: current memberships whose yearly re-verification is due."""
        return [ms for ms in self._current() if ms.reverification_due_on <= today]

    def to_view(self, configs: Mapping[str, CategoryConfig], today: date) -> m.EstablishmentView:
        return m.EstablishmentView(
            id=self.id,
            provider_id=self.provider_id,
            name=self.name,
            urn=self.urn,
            address=self.address,
            postcode=self.postcode,
            location=asdict(self.location),
            categories=list(self.categories),
            capacity=self.capacity,
            contacts=[asdict(c) for c in self.contacts],
            inspections=[asdict(j) for j in self.inspections],
            memberships=[ms.to_view(configs[ms.category], today) for ms in self.memberships],
        )

    # -- commands ------------------------------------------------------------------

    def _keep_judgements(self, *judgements: InspectionJudgement | None) -> None:
        """§4.1: a judgement given as evidence joins the inspection record, once."""
        for judgement in judgements:
            if judgement is not None and judgement not in self.inspections:
                self.inspections.append(judgement)

    def admit(
        self,
        application: Application,
        config: CategoryConfig,
        competency: Decimal,
        scores: Mapping[str, int],
        now: datetime,
        drop_evidence: frozenset[str] = frozenset(),
    ) -> Membership:
        """§4.3: a new membership of the application's market from an admitted application
        (called by ``decide``). ``drop_evidence``: criteria that are not conditions of
        membership under the market's regime (§11.2, s.36(2): insurance), not kept."""
        if self.current_membership(application.category, application.dps_id) is not None:
            raise Conflict(f"{self.name} already has a current {application.category} membership")
        today = london_date(now)
        content = application.content
        ms = Membership(
            id=new_id(),
            category=application.category,
            application_id=application.id,
            admitted_on=today,
            competency=competency,
            scores=dict(scores),
            evidence={c: a for c, a in content.pass_fail.items() if c not in drop_evidence},
            dps_id=application.dps_id,
            costs=[CostEntry(h, a, today, "qualified") for h, a in content.core_costs.items()],
            reverification_due_on=add_months(today, 12),
            cohort_discounts=content.cohort_discounts,
            additional_services=content.additional_services,
            milestones=[Milestone("admitted", now, "lead")],
        )
        inspection = content.pass_fail.get(INSPECTION)
        if inspection:
            self._keep_judgements(inspection.judgement)
        self.memberships.append(ms)
        costs = ms.costs_on(today)
        self.events.append(
            _event(
                m.MembershipAdmitted,
                self,
                ms.category,
                now,
                membership_id=ms.id,
                admitted_on=today,
                location=asdict(self.location),
                competency=competency,
                core_costs=costs,
                total_weekly_core_cost=total_weekly_core_cost(costs, config),
                cohort_discounts=[asdict(t) for t in ms.cohort_discounts],
                reverification_due_on=ms.reverification_due_on,
            )
        )
        return ms

    def _fail(
        self, ms: Membership, criterion: str, reason: str, by: str, now: datetime
    ) -> m.MembershipSuspended | None:
        """§4.5: suspend at once for ``criterion``, unless already suspended for it."""
        if criterion in ms.open_failures:
            return None
        if ms.state != "suspended":
            ms._move("suspended")
        ms.milestones.append(Milestone("suspended", now, by, criterion, reason))
        event = _event(
            m.MembershipSuspended,
            self,
            ms.category,
            now,
            membership_id=ms.id,
            criterion=criterion,
            reason=reason,
            suspended_by=by,
            suspended_on=london_date(now),
        )
        self.events.append(event)
        return event
