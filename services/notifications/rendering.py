"""Every message comes from a template (RULES §8).

Just over 400 lines: one context model per message type beside the filters that format
them, so that what a template may print is read in one place.

``render(message_type, context, base_url=...)`` validates ``context`` against the message
type's context model (:data:`CONTEXTS`), then renders ``templates/<message_type>/``:
``subject.txt.j2``, ``body.txt.j2``, ``body.html.j2`` (autoescaped) and, for the types
that go by SMS, ``sms.txt.j2``. Partials starting with ``_`` are shared: ``_*.html.j2`` are
HTML, and a plain-text ``_summary.j2`` used by both bodies is wrapped in
``{% filter forceescape %}`` where HTML includes it (autoescape follows each template's
own name, not the including one's).

Child data minimisation (RULES §5, §8, §13) is structural: every context model, the
winner's award (:class:`AwardWinnerContext`) included, describes the referral by
:class:`ReferralProfile` or :class:`ReferralRef`, which have no field for a name, date of
birth, address or child
reference, and drop unknown fields. Whatever the caller passes, those never reach the
template. A template naming a variable its context lacks fails loudly (pydantic
validation of the context, then Jinja's ``StrictUndefined``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Annotated, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.common.money import round_pence
from services.notifications.domain import SPECS, SmsPolicy
from services.notifications.messages import MessageType

# ---------------------------------------------------------------------------------------
# Context models


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


Text = Annotated[str, Field(min_length=1)]


class ChildProfile(_Model):
    """What an invited provider may know of a child (RULES §5)."""

    age: int = Field(ge=0, le=25)
    gender: str | None = None
    legal_status: Text


class ReferralRef(_Model):
    """Enough to name a referral: no child data at all."""

    id: Text
    authority: Text
    category: Text
    deadline: AwareDatetime


class ReferralProfile(ReferralRef):
    """The anonymised referral (RULES §5): ages, gender, legal status, needs,
    requirements, desired outcomes. Distance is per establishment, in the context."""

    children: list[ChildProfile] = Field(min_length=1)
    needs: list[str] = []
    requirements: list[str] = []
    outcomes: list[str] = []


class _Context(_Model):
    recipient_name: str | None = None

    @property
    def path(self) -> str:
        """Where on the platform the recipient acts on this message."""
        raise NotImplementedError


class _ReferralContext(_Context):
    referral: ReferralRef

    @property
    def path(self) -> str:
        return f"/referrals/{quote(self.referral.id, safe='')}"


class InvitationContext(_ReferralContext):
    """Referral published or widened: an invited establishment's contacts."""

    referral: ReferralProfile
    establishment_name: Text
    distance_miles: int = Field(ge=0)
    widened: bool = False


class ReminderContext(_ReferralContext):
    """24 h before the deadline: an invited establishment that has not bid."""

    referral: ReferralProfile
    establishment_name: Text
    distance_miles: int = Field(ge=0)


class ClarificationContext(_ReferralContext):
    """A clarification answered; the question is already anonymised by referral."""

    referral: ReferralRef
    establishment_name: Text
    question: Text
    answer: Text


class BidReceiptContext(_ReferralContext):
    referral: ReferralRef
    establishment_name: Text
    action: Literal["submitted", "changed", "withdrawn"]
    bid_id: Text
    at: AwareDatetime
    weekly_price: Decimal | None = None  # after the cohort discount; none when withdrawn


class ReferralClosedContext(_ReferralContext):
    """``closed_at`` is when bidding closed: the deadline, or earlier when every invited
    establishment had bid or declined (RULES §5)."""

    referral: ReferralRef
    bid_count: int = Field(ge=0)
    closed_at: AwareDatetime | None = None


class ShortlistEntry(_Model):
    rank: int = Field(ge=1)
    establishment_name: Text
    total: Decimal


class ParentChoiceContext(_ReferralContext):
    """RULES §6.4: the shortlist the parents choose from."""

    referral: ReferralRef
    shortlist: list[ShortlistEntry] = Field(min_length=2)


class AwardWinnerContext(_ReferralContext):
    """The award, the anonymised profile and the link to the full referral: no message
    carries a child's personal data (RULES §8, §13); the winner reads it signed in."""

    referral: ReferralProfile
    establishment_name: Text
    weekly_price: Decimal
    start_date: date | None = None
    placement_id: str | None = None


class AwardFeedbackContext(_ReferralContext):
    """RULES §5 feedback (the §11.3 assessment summary): own total and sub-scores with
    their explanations, rank, compliant bids, the winning total and sub-scores.

    ``awarded=False`` is the feedback of a referral closed without award because no bid
    was compliant (RULES §5 ``→ unsuccessful``): no winning total then. A compliant
    unsuccessful bid may rank first when the parents chose another (RULES §6.4).
    """

    referral: ReferralRef
    establishment_name: Text
    awarded: bool = True
    compliant_bids: int = Field(ge=0)
    winning_total: Decimal | None = None
    total: Decimal | None = None
    sub_scores: dict[str, Decimal] = {}
    explanations: dict[str, str] = {}  # how each own sub-score was computed (§5)
    winning_sub_scores: dict[str, Decimal] = {}  # the winner's; never its prices (§5)
    rank: int | None = Field(default=None, ge=1)
    non_compliant_reason: str | None = None

    @model_validator(mode="after")
    def _scored_or_excluded(self):
        scored = self.total is not None and self.rank is not None
        if scored == bool(self.non_compliant_reason):
            raise ValueError("give either total and rank, or non_compliant_reason (RULES §6.2)")
        if self.awarded and (self.compliant_bids < 1 or self.winning_total is None):
            raise ValueError("an award has at least one compliant bid and a winning total")
        return self


class ReferralCancelledContext(_ReferralContext):  # RULES §5, §8: to every invited one
    referral: ReferralRef
    establishment_name: Text
    reason: Text


class DeadlineExtendedContext(_ReferralContext):  # §5, §8: referral.deadline is the new one
    referral: ReferralRef
    establishment_name: Text
    previous_deadline: AwareDatetime
    widened: bool = False


class DigestLine(_Model):  # one application or membership of the lead's digest
    establishment_name: Text
    category: Text
    due_on: date
    reference: Text  # the application or membership id


class LeadDigestContext(_Context):  # RULES §4.3, §4.5, §8: the lead's digest, no child data
    day: date
    overdue_applications: list[DigestLine] = []
    reverifications_due: list[DigestLine] = []

    @property
    def path(self) -> str:
        return "/applications?overdue=true"


class FailedCriterion(_Model):
    criterion: Text
    reason: Text


class _EstablishmentContext(_Context):
    establishment_id: Text
    establishment_name: Text
    category: Text

    @property
    def path(self) -> str:
        return f"/establishments/{quote(self.establishment_id, safe='')}"


class ApplicationDecidedContext(_EstablishmentContext):
    """RULES §4.3: a rejection carries the reason for each failed criterion."""

    application_id: Text
    decision: Literal["admitted", "rejected"]
    reasons: list[FailedCriterion] = []

    @property
    def path(self) -> str:
        return f"/applications/{quote(self.application_id, safe='')}"


class SuspendedContext(_EstablishmentContext):
    """RULES §4.5: suspended in the category for every authority."""

    reason: Text
    suspended_on: date


class ReinstatedContext(_EstablishmentContext):
    reinstated_on: date


class EvidenceExpiringContext(_EstablishmentContext):
    """RULES §4.5: reminder 30 days before a pass/fail criterion's evidence expires."""

    criterion: Text
    expires_on: date


class MarketInvitationContext(_EstablishmentContext):
    """RULES §11.1: the establishment is invited to join the dynamic market that follows
    the PCR DPS; its application there is pre-filled from the old one."""

    application_id: Text
    market_title: Text

    @property
    def path(self) -> str:
        return f"/applications/{quote(self.application_id, safe='')}"


CONTEXTS: Mapping[MessageType, type[_Context]] = {
    MessageType.REFERRAL_INVITATION: InvitationContext,
    MessageType.DEADLINE_REMINDER: ReminderContext,
    MessageType.CLARIFICATION_ANSWERED: ClarificationContext,
    MessageType.BID_RECEIPT: BidReceiptContext,
    MessageType.REFERRAL_CLOSED: ReferralClosedContext,
    MessageType.PARENT_CHOICE_REQUIRED: ParentChoiceContext,
    MessageType.AWARD_WINNER: AwardWinnerContext,
    MessageType.AWARD_FEEDBACK: AwardFeedbackContext,
    MessageType.APPLICATION_DECIDED: ApplicationDecidedContext,
    MessageType.MEMBERSHIP_SUSPENDED: SuspendedContext,
    MessageType.MEMBERSHIP_REINSTATED: ReinstatedContext,
    MessageType.EVIDENCE_EXPIRING: EvidenceExpiringContext,
    MessageType.REFERRAL_CANCELLED: ReferralCancelledContext,
    MessageType.DEADLINE_EXTENDED: DeadlineExtendedContext,
    MessageType.LEAD_DIGEST: LeadDigestContext,
    MessageType.MARKET_INVITATION: MarketInvitationContext,
}

# ---------------------------------------------------------------------------------------
# Formatting

try:
    UK = ZoneInfo("Europe/London")
    UK_LABEL = "UK time"
except ZoneInfoNotFoundError:  # no tz database: say plainly that it is UTC
    UK, UK_LABEL = UTC, "UTC"


def money(amount: Decimal) -> str:
    """``Decimal("4000")`` → ``£4,000.00``."""
    return f"£{round_pence(Decimal(amount)):,.2f}"


def score(points: Decimal) -> str:
    """Scores are exact and rounded only for display, to 2 decimals (RULES §6.3)."""
    return str(Decimal(points).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def long_datetime(moment: datetime) -> str:
    local = moment.astimezone(UK)
    return f"{local:%H:%M} on {long_date(local)} ({UK_LABEL})"


def short_datetime(moment: datetime) -> str:
    local = moment.astimezone(UK)
    return f"{local:%H:%M} {local.day} {local:%b}"


def ages(children: list[ChildProfile]) -> str:
    """``aged 12`` or ``3 children aged 9, 12 and 14``."""
    years = [str(c.age) for c in sorted(children, key=lambda c: c.age)]
    listed = years[0] if len(years) == 1 else f"{', '.join(years[:-1])} and {years[-1]}"
    return f"aged {listed}" if len(years) == 1 else f"{len(years)} children aged {listed}"


def miles(distance: int) -> str:
    return "1 mile" if distance == 1 else f"{distance} miles"


def greeting(name: str | None) -> str:
    return f"Dear {name}," if name else "Hello,"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("services.notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        money=money,
        score=score,
        long_date=long_date,
        long_datetime=long_datetime,
        short_datetime=short_datetime,
        ages=ages,
        miles=miles,
        greeting=greeting,
    )
    return env


# ---------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str | None  # only for the types that may go by SMS (domain.SPECS)


def render(message_type: MessageType, context: Mapping | BaseModel, *, base_url: str) -> Rendered:
    """Render one message. ``base_url`` is the platform's address for links."""
    if isinstance(context, BaseModel):
        context = context.model_dump()
    model = CONTEXTS[message_type].model_validate(context)
    values = {
        **{name: getattr(model, name) for name in type(model).model_fields},
        "link": base_url.rstrip("/") + model.path,
    }
    env = environment()

    def one(part: str) -> str:
        return env.get_template(f"{message_type}/{part}").render(values).strip()

    values["subject"] = " ".join(one("subject.txt.j2").split())  # one header line
    return Rendered(
        subject=values["subject"],
        text=one("body.txt.j2") + "\n",
        html=one("body.html.j2") + "\n",
        sms=one("sms.txt.j2") if SPECS[message_type].sms is not SmsPolicy.NEVER else None,
    )
