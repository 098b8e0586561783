"""Referrals: the mini-competition for a child's placement (RULES §5), what it hands to
scoring (§6) and who may see what of it (§10).

Pure: plain classes, no I/O, no clock (every method takes ``now``). Methods check the
caller's rights (``services.referral.access``, §10), enforce the §5 lifecycle
(``lifecycle.MACHINE``) and append events (``messages``) to ``Referral.events``; the handlers
emit them through the outbox. Principals are dicts ``{role, authority?, provider_id?}`` as
the gateway passes them.

Modules: ``referral`` (the aggregate: create, publish, widen, close, cancel),
``lifecycle`` (its states and transitions), ``parts`` (invitations, bids, questions,
declines), ``views`` (what each party may see), ``bids`` (validation and pricing),
``invitations`` (declines, suspension), ``clarifications``, ``evaluation`` (outcome scores,
scoring), ``award`` (parent choice, award, feedback), ``direct`` (direct placements),
``audit`` (what the §9 trail records).

Decisions where RULES and API.md are silent (each one is tested):

- **Access (§10)** is ``services.referral.access`` (see its docstring): 403 to whoever
  may know the referral, 404 where its existence would leak.
- **Distance shown to providers** is the exact distance rounded *down* to whole miles, so the
  figure a provider sees is in the same §6.3 location band as the distance scored.
- **Deadline.** "After the deadline" starts at the deadline itself: nothing is accepted at
  ``now >= deadline``. Publishing needs ``deadline >= published_at + min tender period``.
- **Publishing** below ``min_invited`` is refused (``Conflict`` carrying ``invited`` and
  ``min_invited`` in ``errors[0]``) unless ``accept_fewer``; with no eligible establishment
  at all it is refused even then.
- **Widening** is free in draft (nobody is invited yet; narrowing too). After publishing,
  until the deadline, the radius must grow and only establishments not yet invited are
  invited and alerted.
- **Bids.** Core costs are weekly **per child**, one for **every** head of the qualified
  offer (0.00 where a head is not needed): an unknown, missing or higher head is refused
  naming ``["core_costs", head]``. The price is the scoring service's rule (§4.4, §6.3):
  the cohort discount (highest qualified tier with ``min_children <= children``) applies to
  the core costs only, rounded half up to pence; see ``PriceBreakdown``. One live bid per
  establishment; once withdrawn, a new one may be submitted before the deadline.
- **Declines.** One per establishment, refused while it has a live bid (withdraw first);
  a declined establishment cannot bid.
- **Suspension (§4.5)** withdraws the establishment's live bids before the deadline and bars
  new ones until reinstatement. Close-early counts a suspended establishment as answered.
- **Sealed bids.** Contents open to the owner once the referral has closed, or the deadline
  has passed while it is still published. A referral cancelled before closing stays sealed.
- **Clarifications** are asked and answered while published and before the deadline; an
  answer can reword the question to anonymise it.
- **Outcome scores** are given while closed, to compliant bids only (§6.2); evaluation needs
  at least one score for every compliant bid unless the outcomes weight O is 0.
- **Compliance and standing at the deadline.** At close the service supplies each live
  bidder's ``Standing`` (admitted? competency?) from the qualification service; scoring uses
  it (§6.2, §6.3 C).
"""

from __future__ import annotations

from services.referral.access import COMMISSIONER, LEAD, LEAD_AUTHORITY, PROVIDER
from services.referral.domain.audit import audit_bid, audit_referral
from services.referral.domain.bids import cohort_discount, price_bid
from services.referral.domain.direct import (
    DIRECT_PLACEMENT_REASONS,
    DirectPlacement,
    require_admitted,
)
from services.referral.domain.evaluation import standings_at_deadline
from services.referral.domain.lifecycle import MACHINE, Status, transition
from services.referral.domain.parts import (
    DECLINE_REASONS,
    DEFAULT_MIN_INVITED,
    DEFAULT_MIN_TENDER_PERIOD_HOURS,
    OTHER,
    SUBMITTED,
    WITHDRAWN,
    Bid,
    Decline,
    Invitation,
    Question,
    whole_miles,
)
from services.referral.domain.referral import Referral

__all__ = [
    "COMMISSIONER",
    "LEAD",
    "LEAD_AUTHORITY",
    "PROVIDER",
    "audit_bid",
    "audit_referral",
    "cohort_discount",
    "price_bid",
    "DIRECT_PLACEMENT_REASONS",
    "DirectPlacement",
    "require_admitted",
    "standings_at_deadline",
    "MACHINE",
    "Status",
    "transition",
    "DECLINE_REASONS",
    "DEFAULT_MIN_INVITED",
    "DEFAULT_MIN_TENDER_PERIOD_HOURS",
    "OTHER",
    "SUBMITTED",
    "WITHDRAWN",
    "Bid",
    "Decline",
    "Invitation",
    "Question",
    "whole_miles",
    "Referral",
]
