"""What the audit trail (RULES §9) records of a referral and its bids.

Audit records never hold child data (§5) nor sealed bid content (§5, §10: the lead and
auditors read the trail): a bid is recorded by its id, establishment, status and the SHA-256
of its terms, which proves what was submitted without showing it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from services.referral.domain.parts import Bid
from services.referral.domain.referral import Referral


def sha256(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def audit_referral(r: Referral) -> dict:
    """The referral's state for the audit trail: no child data (§5)."""
    return {
        "status": str(r.status),
        "authority": r.authority,
        "category": r.category,
        "radius_miles": r.spec.radius_miles,
        "deadline": r.deadline,
        "weights": r.weights.model_dump(),
        "min_invited": r.min_invited,
        "invited": len(r.invitations),
        "live_bids": len(r.live_bidders()),
        "declines": len(r.declines),
        "questions": len(r.questions),
        "parent_choice_bid_id": r.parent_choice_bid_id,
        "awarded_bid_id": r.awarded_bid_id,
        "placement_id": r.placement_id,
        "cancel_reason": r.cancel_reason,
    }


def audit_bid(b: Bid | None) -> dict | None:
    """A bid for the audit trail: sealed (§5), so its terms only as a SHA-256."""
    if b is None:
        return None
    return {
        "bid_id": b.bid_id,
        "establishment_id": b.establishment_id,
        "provider_id": b.provider_id,
        "status": b.status,
        "submitted_at": b.submitted_at,
        "terms_sha256": sha256(b.terms.model_dump(mode="json")),
        "withdrawn_reason": b.withdrawn_reason,
    }
