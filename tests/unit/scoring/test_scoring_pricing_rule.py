"""One pricing rule (issue 13, RULES §4.4, §5, §6.3): the referral service prices a bid and
scoring prices a preview's costs with the same function, children included."""

from __future__ import annotations

from decimal import Decimal

from services.referral.domain import price_bid
from services.referral.messages import BidCreate, CohortTier
from services.scoring.domain.pricing import weekly_price
from services.scoring.handlers.translate import bid_in
from services.scoring.messages import BidMsg, bid_price

TIERS = [CohortTier(min_children=2, percent=5), CohortTier(min_children=3, percent=8)]


def terms(**over) -> BidCreate:
    body = {
        "establishment_id": "e1",
        "core_costs": {"premises": "1000.05", "staffing": "2000.00"},
        "variable_costs": [{"label": "1:1 support", "weekly": "150.50"}],
        "outcomes_statement": "x",
    }
    return BidCreate.model_validate({**body, **over})


def test_three_siblings_pay_three_times_core_less_the_discount_rounded_once():
    discount, weekly = bid_price([Decimal("1000.05"), Decimal("2000")], [Decimal("150.50")],
                                 Decimal(8), 3)
    assert discount == Decimal("720.01")  # 8 % of 9000.15 = 720.012 → 720.01
    assert weekly == Decimal("8430.64")  # 9000.15 − 720.01 + 150.50


def test_the_referral_and_the_preview_price_a_sibling_group_alike():
    referral = price_bid(terms(), 3, TIERS)
    preview = bid_in(BidMsg.model_validate({
        "bid_id": "b", "establishment_id": "e1", "competency": "70", "distance_miles": "3",
        "admitted_at_deadline": True, "submitted_at": "2026-01-01T00:00:00+00:00",
        "costs": {"core_costs": {"premises": "1000.05", "staffing": "2000.00"},
                  "children": 3, "discount_percent": "8",
                  "variable_costs": [{"label": "1:1 support", "weekly": "150.50"}]},
    }))
    assert referral.weekly_price == preview.weekly_price == Decimal("8430.64")
    assert referral.discount == Decimal("720.01")


def test_one_child_is_the_default_of_the_preview():
    assert weekly_price([Decimal("100.05")], [], Decimal(10)) == Decimal("90.04")
