"""Sample template contexts for every message type (RULES §8), shared by the tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.notifications.messages import MessageType

DEADLINE = datetime(2025, 3, 14, 17, 0, tzinfo=UTC)
BASE_URL = "https://dps.example.gov.uk"

PROFILE = {
    "id": "R-2025-0042",
    "authority": "KCC",
    "category": "SEN",
    "deadline": DEADLINE,
    "children": [{"age": 12, "gender": "female", "legal_status": "Section 20"}],
    "needs": ["Autism spectrum condition", "Speech and language therapy"],
    "requirements": ["Residential 52 weeks", "Within 40 miles"],
    "outcomes": ["Return to full-time education"],
}
CHILD_DATA = {
    "name": "Amelia Hartley-Smith",
    "date_of_birth": date(2012, 7, 9),
    "address": "14 Orchard Lane, Maidstone ME14 2AB",
}
CHILD_REFERENCE = "KCC-CH-778812"


def full_referral(child: dict = CHILD_DATA, child_reference: str = CHILD_REFERENCE) -> dict:
    """The referral as the referral service holds it: profile plus the child's details."""
    return {
        **PROFILE,
        "child_reference": child_reference,
        "children": [{**PROFILE["children"][0], **child}],
    }


def sample_contexts(referral: dict | None = None) -> dict[MessageType, dict]:
    """One context per message type. ``referral`` (default: the full referral with child
    data) is given to every type, as a careless caller might."""
    referral = referral or full_referral()
    establishment = {
        "establishment_id": "E-17",
        "establishment_name": "Oakfield School",
        "category": "SEN",
    }
    return {
        MessageType.REFERRAL_INVITATION: {
            "recipient_name": "Sam Provider",
            "referral": referral,
            "establishment_name": "Oakfield School",
            "distance_miles": 12,
        },
        MessageType.DEADLINE_REMINDER: {
            "referral": referral,
            "establishment_name": "Oakfield School",
            "distance_miles": 12,
        },
        MessageType.LEAD_DIGEST: {
            "day": date(2025, 3, 14),
            "overdue_applications": [{"establishment_name": "Oakfield School",
                                      "category": "SEN", "due_on": date(2025, 3, 10),
                                      "reference": "app-17"}],
            "reverifications_due": [{"establishment_name": "Birch House",
                                     "category": "RESIDENTIAL", "due_on": date(2025, 3, 14),
                                     "reference": "ms-4"}],
        },
        MessageType.REFERRAL_CANCELLED: {
            "referral": referral,
            "establishment_name": "Oakfield School",
            "reason": "the child was placed with family",
        },
        MessageType.DEADLINE_EXTENDED: {
            "referral": referral,
            "establishment_name": "Oakfield School",
            "previous_deadline": datetime(2025, 3, 7, 17, 0, tzinfo=UTC),
            "widened": True,
        },
        MessageType.CLARIFICATION_ANSWERED: {
            "referral": referral,
            "establishment_name": "Oakfield School",
            "question": "Is a 38-week placement acceptable?",
            "answer": "No: the placement must be for 52 weeks.",
        },
        MessageType.BID_RECEIPT: {
            "referral": referral,
            "establishment_name": "Oakfield School",
            "action": "submitted",
            "bid_id": "B-9001",
            "at": datetime(2025, 3, 12, 9, 30, tzinfo=UTC),
            "weekly_price": Decimal("4250.00"),
        },
        MessageType.REFERRAL_CLOSED: {"referral": referral, "bid_count": 4},
        MessageType.PARENT_CHOICE_REQUIRED: {
            "referral": referral,
            "shortlist": [
                {"rank": 1, "establishment_name": "Oakfield School", "total": Decimal("84.0833")},
                {"rank": 2, "establishment_name": "Beech House", "total": Decimal("81")},
            ],
        },
        MessageType.AWARD_WINNER: {
            "referral": referral,
            "establishment_name": "Oakfield School",
            "weekly_price": Decimal("4000.00"),
            "start_date": date(2025, 4, 1),
            "placement_id": "P-311",
        },
        MessageType.AWARD_FEEDBACK: {
            "referral": referral,
            "establishment_name": "Beech House",
            "total": Decimal("81.00"),
            "sub_scores": {"price": Decimal("50"), "competency": Decimal("12")},
            "rank": 2,
            "compliant_bids": 3,
            "winning_total": Decimal("84.0833"),
        },
        MessageType.APPLICATION_DECIDED: {
            **establishment,
            "application_id": "A-55",
            "decision": "rejected",
            "reasons": [{"criterion": "INSURANCE", "reason": "Cover below the minimum"}],
        },
        MessageType.MEMBERSHIP_SUSPENDED: {
            **establishment,
            "reason": "insurance evidence expired",
            "suspended_on": date(2025, 5, 1),
        },
        MessageType.MEMBERSHIP_REINSTATED: {**establishment, "reinstated_on": date(2025, 6, 2)},
        MessageType.MARKET_INVITATION: {
            **establishment,
            "application_id": "A-77",
            "market_title": "Children's placements dynamic market",
        },
        MessageType.EVIDENCE_EXPIRING: {
            **establishment,
            "criterion": "INSURANCE",
            "expires_on": date(2025, 5, 1),
        },
    }
